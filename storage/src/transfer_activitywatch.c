/*
 * Importing ActivityWatch's own databases: aw-server-rust's sqlite.db (tables buckets,
 * events; times as integer nanoseconds) and aw-server's peewee-sqlite.v2.db (tables
 * bucketmodel, eventmodel; times as text), opened read-only. Events go to the writer in
 * chunks of AW_CHUNK through the same import write as export documents, so importing the
 * same database twice adds nothing (identical events are skipped).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/json.h"
#include "aw/mem.h"
#include "aw/privacy.h"
#include "aw/transfer.h"

/* Events per write: bounds memory whatever the size of the source. */
#define AW_CHUNK 8192

typedef struct source {
	sqlite3 *db;
	bool python; /* aw-server (peewee) instead of aw-server-rust */
	bool has_bucket_data;
} source;

static bool has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	bool yes = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		yes = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	return yes;
}

static bool has_column(sqlite3 *db, const char *table, const char *col)
{
	char sql[128];
	sqlite3_stmt *st;
	bool yes = false;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	while (!yes && sqlite3_step(st) == SQLITE_ROW)
		yes = !strcmp((const char *)sqlite3_column_text(st, 1), col);
	sqlite3_finalize(st);
	return yes;
}

static int source_open(source *src, const char *path)
{
	char uri[4200];
	int rc;

	memset(src, 0, sizeof(*src));
	if (access(path, R_OK))
		return aw_error_set(AW_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
	snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
	rc = sqlite3_open_v2(uri, &src->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc == SQLITE_OK && sqlite3_exec(src->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		rc = SQLITE_NOTADB;
	if (rc != SQLITE_OK)
		return aw_error_set(AW_EINVALID, "%s is not a readable SQLite database (%s)", path,
				    src->db ? sqlite3_errmsg(src->db) : sqlite3_errstr(rc));
	if (has_table(src->db, "buckets") && has_table(src->db, "events") &&
	    has_column(src->db, "events", "bucketrow")) {
		src->has_bucket_data = has_column(src->db, "buckets", "data");
		return 0;
	}
	if (has_table(src->db, "bucketmodel") && has_table(src->db, "eventmodel")) {
		src->python = true;
		src->has_bucket_data = has_column(src->db, "bucketmodel", "datastr");
		return 0;
	}
	return aw_error_set(AW_EINVALID, "%s is not an ActivityWatch database (no buckets/events or "
				"bucketmodel/eventmodel tables)", path);
}

/* Timestamps as both servers store them: "YYYY-MM-DD HH:MM:SS[.f][+00:00]" (rusqlite,
 * peewee) or RFC 3339; a value without offset is UTC. */
static int parse_db_time(const char *s, aw_ns *out)
{
	char buf[64];
	size_t n = strlen(s);

	if (n >= sizeof(buf) - 2)
		return -1;
	memcpy(buf, s, n + 1);
	if (n > 10 && buf[10] == ' ')
		buf[10] = 'T';
	if (n >= 19 && !strpbrk(buf + 19, "Zz+-"))
		strcat(buf, "Z");
	return aw_time_parse(out, buf, strlen(buf), AW_TIME_RELAXED);
}

static char *canonical_or_empty(const char *text)
{
	json_t *v = text ? aw_json_parse(text, strlen(text)) : NULL;
	char *out;

	if (!json_is_object(v)) {
		json_decref(v);
		return strdup("{}");
	}
	out = aw_json_canonical_dup(v, NULL);
	json_decref(v);
	return out;
}

static int write_chunk(aw_store *s, aw_import_bucket *ib, size_t *total)
{
	aw_write w = {.kind = AW_W_IMPORT, .imports = ib, .n_imports = 1};
	int rc = aw_store_write(s, &w);

	if (rc)
		aw_error_set(rc, "bucket '%s': %s", ib->bucket.id, w.error);
	*total += ib->n_events;
	for (size_t i = 0; i < ib->n_events; i++)
		aw_event_clear(&ib->events[i]);
	ib->n_events = 0;
	return rc;
}

static int import_bucket_events(source *src, aw_store *s, int64_t key, aw_import_bucket *ib, size_t *total,
				size_t *skipped)
{
	sqlite3_stmt *st;
	const char *sql = src->python ? "SELECT timestamp, duration, datastr FROM eventmodel WHERE bucket_id = ? ORDER BY timestamp"
				      : "SELECT starttime, endtime - starttime, data FROM events WHERE bucketrow = ? ORDER BY starttime";
	int rc = 0;

	if (sqlite3_prepare_v2(src->db, sql, -1, &st, NULL) != SQLITE_OK)
		return aw_error_set(AW_ERROR, "%s", sqlite3_errmsg(src->db));
	sqlite3_bind_int64(st, 1, key);
	ib->events = aw_mem_calloc(AW_CHUNK, sizeof(aw_event));
	/* A bucket with no events is still created by the first (empty) chunk. */
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		aw_event *e = &ib->events[ib->n_events];
		memset(e, 0, sizeof(*e));
		if (src->python) {
			const char *ts = (const char *)sqlite3_column_text(st, 0);
			if (!ts || parse_db_time(ts, &e->start) ||
			    aw_duration_from_seconds(&e->duration, sqlite3_column_double(st, 1))) {
				(*skipped)++;
				continue;
			}
		} else {
			e->start = sqlite3_column_int64(st, 0);
			e->duration = sqlite3_column_int64(st, 1);
		}
		e->data = canonical_or_empty((const char *)sqlite3_column_text(st, 2));
		e->data_len = strlen(e->data);
		if (++ib->n_events == AW_CHUNK)
			rc = write_chunk(s, ib, total);
	}
	sqlite3_finalize(st);
	if (!rc && (ib->n_events || !*total))
		rc = write_chunk(s, ib, total);
	free(ib->events);
	ib->events = NULL;
	return rc;
}

static char *col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return strdup(t ? t : "");
}

/* The setting key as the settings API would take it (one path segment, < 128 bytes), and
 * its value as the API would store it (canonical JSON; a privacy rule set it accepts).
 * NULL when the row could not have been posted to awnode. Caller frees. */
static char *setting_value(const char *key, const char *text)
{
	json_t *v;
	char *canon = NULL;
	aw_privacy *p;

	if (!*key || strlen(key) >= 128 || strchr(key, '/') || !text)
		return NULL;
	if (!(v = aw_json_parse(text, strlen(text))))
		return NULL;
	canon = aw_json_canonical_dup(v, NULL);
	json_decref(v);
	if (!strcmp(key, "privacy_filters")) {
		if (aw_privacy_parse(&p, canon, strlen(canon), false)) {
			free(canon);
			return NULL;
		}
		aw_privacy_free(p);
	}
	return canon;
}

/* Is `key` set in the store already (read through r)? */
static int setting_is_set(bool *yes, aw_reader *r, const char *key)
{
	char *old = NULL;
	int rc = aw_reader_setting(&old, r, key);

	free(old);
	*yes = rc == 0;
	return rc == AW_ENOTFOUND ? 0 : rc;
}

/* aw-server-rust keeps settings in key_value as "settings.<key>" rows of JSON text
 * (aw-server keeps its settings in a file, so a peewee database has none). Without
 * AW_TRANSFER_OVERWRITE_SETTINGS one reader tells which keys the store already has. */
static int import_settings(source *src, aw_store *s, unsigned flags, aw_transfer_stats *stats)
{
	aw_reader *r = NULL;
	sqlite3_stmt *st;
	int rc = 0;

	if (src->python || !has_table(src->db, "key_value"))
		return 0;
	if (sqlite3_prepare_v2(src->db, "SELECT substr(key, 10), value FROM key_value WHERE key LIKE 'settings.%' "
			       "ORDER BY key", -1, &st, NULL) != SQLITE_OK)
		return aw_error_set(AW_EINVALID, "key_value: %s", sqlite3_errmsg(src->db));
	if (!(flags & AW_TRANSFER_OVERWRITE_SETTINGS))
		rc = aw_reader_open(&r, s);
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(st, 0);
		char *value = setting_value(key ? key : "", (const char *)sqlite3_column_text(st, 1));
		bool exists = false;

		if (!value) {
			stats->settings_bad++;
			continue;
		}
		if (r && (rc = setting_is_set(&exists, r, key)) == 0 && exists) {
			stats->settings_kept++;
		} else if (!rc) {
			aw_write w = {.kind = AW_W_SETTING_SET, .key = key, .value = value};
			rc = aw_store_write(s, &w);
			if (rc)
				aw_error_set(rc, "setting %s: %s", key, w.error);
			else
				stats->settings++;
			aw_write_clear(&w);
		}
		free(value);
	}
	aw_reader_close(r);
	sqlite3_finalize(st);
	return rc;
}

int aw_transfer_import_activitywatch(aw_transfer_stats *stats, aw_store *s, const char *path, unsigned flags)
{
	source src;
	sqlite3_stmt *st;
	char sql[256];
	int rc;

	memset(stats, 0, sizeof(*stats));
	if ((rc = source_open(&src, path))) {
		sqlite3_close(src.db);
		return rc;
	}
	snprintf(sql, sizeof(sql), "SELECT %s, %s, type, client, hostname, created, %s FROM %s",
		 src.python ? "key" : "id", src.python ? "id" : "name",
		 src.has_bucket_data ? (src.python ? "datastr" : "data") : "'{}'",
		 src.python ? "bucketmodel" : "buckets");
	if (sqlite3_prepare_v2(src.db, sql, -1, &st, NULL) != SQLITE_OK) {
		rc = aw_error_set(AW_ERROR, "%s: %s", path, sqlite3_errmsg(src.db));
		sqlite3_close(src.db);
		return rc;
	}
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		aw_import_bucket ib;
		size_t events = 0;

		memset(&ib, 0, sizeof(ib));
		ib.bucket.id = col(st, 1);
		ib.bucket.type = col(st, 2);
		ib.bucket.client = col(st, 3);
		ib.bucket.hostname = col(st, 4);
		ib.bucket.data = canonical_or_empty((const char *)sqlite3_column_text(st, 6));
		ib.has_created = sqlite3_column_text(st, 5) &&
				 parse_db_time((const char *)sqlite3_column_text(st, 5), &ib.bucket.created) == 0;
		if (!ib.has_created)
			ib.bucket.created = aw_time_now();
		rc = import_bucket_events(&src, s, sqlite3_column_int64(st, 0), &ib, &events, &stats->skipped);
		stats->events += events;
		stats->buckets++;
		aw_bucket_clear(&ib.bucket);
	}
	sqlite3_finalize(st);
	if (!rc)
		rc = import_settings(&src, s, flags, stats);
	sqlite3_close(src.db);
	return rc;
}
