/*
 * `awnode export`, `awnode import FILE` and `awnode import activitywatch [PATH]`.
 *
 * Export reads through a read-only connection, so it works while a node runs. Import of
 * an export document goes through the running node's API when there is one (the node
 * owns the database), else it opens the database itself. Import from ActivityWatch reads
 * an aw-server-rust `sqlite.db` (schema versions 1-5) or an aw-server `peewee-sqlite.v2.db`
 * read-only and writes exact nanosecond times straight into storage, so it needs the
 * node stopped (it says so); both use the import de-duplication, so running them twice
 * changes nothing.
 */
#include <errno.h>
#include <unistd.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "aw/json.h"
#include "aw/storage.h"
#include "cli.h"

#define AW_CHUNK 8192

/* ---- export ----------------------------------------------------------------------- */

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bucket", required_argument, NULL, 'b'}, {"output", required_argument, NULL, 'o'},
		{"testing", no_argument, NULL, 't'},      {"dbpath", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *bucket = NULL, *output = NULL, *dbpath = NULL;
	bool testing = false;
	aw_reader *r;
	aw_buf doc = AW_BUF_INIT;
	FILE *f = stdout;
	char *db;
	int ch, rc;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "b:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'b': bucket = optarg; break;
		case 'o': output = optarg; break;
		case 't': testing = true; break;
		case 'd': dbpath = optarg; break;
		case 'h':
			printf("usage: awnode export [--bucket ID] [-o FILE] [--testing] [--dbpath PATH]\n\n"
			       "Write an ActivityWatch export document of one or all buckets (stdout by default).\n");
			return 0;
		default:
			fprintf(stderr, "awnode export: unknown or incomplete option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	db = cli_db_path(dbpath, testing);
	rc = access(db, R_OK) == 0 ? aw_reader_open_path(&r, db) : aw_error_set(AW_ENOTFOUND, "no database at %s", db);
	free(db);
	if (rc) {
		fprintf(stderr, "awnode export: %s\n", aw_error_last());
		return 1;
	}
	rc = export_document(&doc, r, bucket, NULL);
	aw_reader_close(r);
	if (rc) {
		fprintf(stderr, "awnode export: %s\n", aw_error_last());
		aw_buf_free(&doc);
		return 1;
	}
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "awnode export: cannot write %s: %s\n", output, strerror(errno));
		aw_buf_free(&doc);
		return 1;
	}
	rc = fwrite(doc.data, 1, doc.len, f) != doc.len || fputc('\n', f) == EOF;
	if (output)
		rc |= fclose(f) != 0;
	aw_buf_free(&doc);
	if (rc) {
		fprintf(stderr, "awnode export: write failed\n");
		return 1;
	}
	return 0;
}

/* ---- import of an export document ------------------------------------------------------ */

static int import_via_node(int port, bool testing, const char *doc)
{
	aw_buf out = AW_BUF_INIT;
	long status;
	char *key;
	int rc;

	port = cli_node_port(port, testing, &key);
	rc = cli_post_json(port, key, "/api/0/import", doc, 0, &out, &status);
	free(key);

	if (rc || status != 200)
		fprintf(stderr, "awnode import: the database is in use and the node at 127.0.0.1:%d %s%s\n", port,
			rc ? "did not answer" : "refused it: ", rc ? "" : out.data ? out.data : "");
	aw_buf_free(&out);
	return !rc && status == 200 ? 0 : 1;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		if (f)
			fclose(f);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		abort();
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int import_file(const char *path, const char *dbpath, bool testing, int port)
{
	size_t len = 0;
	char *doc = read_file(path, &len), *db, err[512];
	aw_store *s;
	aw_reader *r;
	int rc;

	if (!doc) {
		fprintf(stderr, "awnode import: cannot read %s: %s\n", path, strerror(errno ? errno : EINVAL));
		return 1;
	}
	db = cli_db_path(dbpath, testing);
	rc = aw_store_open(&s, db, NULL);
	free(db);
	if (rc == AW_EBUSY) {
		rc = import_via_node(port, testing, doc);
		free(doc);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "awnode import: %s\n", aw_error_last());
		free(doc);
		return 1;
	}
	rc = aw_reader_open(&r, s);
	if (!rc) {
		rc = import_document(s, r, doc, len, err, sizeof(err));
		aw_reader_close(r);
		if (rc)
			fprintf(stderr, "awnode import: %s: %s\n", path, err);
	} else {
		fprintf(stderr, "awnode import: %s\n", aw_error_last());
	}
	aw_store_close(s);
	free(doc);
	return rc ? 1 : 0;
}

/* ---- import from ActivityWatch's own databases ------------------------------------------- */

typedef struct aw_source {
	sqlite3 *db;
	bool python; /* aw-server (peewee) instead of aw-server-rust */
	bool has_bucket_data;
} aw_source;

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

static int source_open(aw_source *src, const char *path)
{
	char uri[4200];
	int rc;

	memset(src, 0, sizeof(*src));
	if (access(path, R_OK))
		return fprintf(stderr, "awnode import: cannot read %s: %s\n", path, strerror(errno)), -1;
	snprintf(uri, sizeof(uri), "file:%s?mode=ro", path);
	rc = sqlite3_open_v2(uri, &src->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	if (rc == SQLITE_OK && sqlite3_exec(src->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		rc = SQLITE_NOTADB;
	if (rc != SQLITE_OK) {
		fprintf(stderr, "awnode import: %s is not a readable SQLite database (%s)\n", path,
			src->db ? sqlite3_errmsg(src->db) : sqlite3_errstr(rc));
		return -1;
	}
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
	fprintf(stderr, "awnode import: %s is not an ActivityWatch database (no buckets/events or "
			"bucketmodel/eventmodel tables)\n", path);
	return -1;
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
		fprintf(stderr, "awnode import: bucket '%s': %s\n", ib->bucket.id, w.error);
	*total += ib->n_events;
	for (size_t i = 0; i < ib->n_events; i++)
		aw_event_clear(&ib->events[i]);
	ib->n_events = 0;
	return rc;
}

static int import_bucket_events(aw_source *src, aw_store *s, int64_t key, aw_import_bucket *ib, size_t *total,
				size_t *skipped)
{
	sqlite3_stmt *st;
	const char *sql = src->python ? "SELECT timestamp, duration, datastr FROM eventmodel WHERE bucket_id = ? ORDER BY timestamp"
				      : "SELECT starttime, endtime - starttime, data FROM events WHERE bucketrow = ? ORDER BY starttime";
	int rc = 0;

	if (sqlite3_prepare_v2(src->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fprintf(stderr, "awnode import: %s\n", sqlite3_errmsg(src->db)), -1;
	sqlite3_bind_int64(st, 1, key);
	ib->events = calloc(AW_CHUNK, sizeof(aw_event));
	if (!ib->events)
		abort();
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

static int import_activitywatch(const char *path, const char *dbpath, bool testing)
{
	aw_source src;
	aw_store *s;
	sqlite3_stmt *st;
	char *db, sql[256];
	size_t buckets = 0, events = 0, skipped = 0;
	int rc;

	if (source_open(&src, path)) {
		sqlite3_close(src.db);
		return 1;
	}
	db = cli_db_path(dbpath, testing);
	rc = aw_store_open(&s, db, NULL);
	free(db);
	if (rc) {
		fprintf(stderr, "awnode import: %s%s\n", aw_error_last(),
			rc == AW_EBUSY ? "; stop the node first (awnode serve), then run the import again" : "");
		sqlite3_close(src.db);
		return 1;
	}
	snprintf(sql, sizeof(sql), "SELECT %s, %s, type, client, hostname, created, %s FROM %s",
		 src.python ? "key" : "id", src.python ? "id" : "name",
		 src.has_bucket_data ? (src.python ? "datastr" : "data") : "'{}'",
		 src.python ? "bucketmodel" : "buckets");
	rc = sqlite3_prepare_v2(src.db, sql, -1, &st, NULL) != SQLITE_OK;
	if (rc)
		fprintf(stderr, "awnode import: %s: %s\n", path, sqlite3_errmsg(src.db));
	while (!rc && sqlite3_step(st) == SQLITE_ROW) {
		aw_import_bucket ib;
		size_t before = events;

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
		events = 0;
		rc = import_bucket_events(&src, s, sqlite3_column_int64(st, 0), &ib, &events, &skipped);
		events += before;
		buckets++;
		aw_bucket_clear(&ib.bucket);
	}
	sqlite3_finalize(st);
	aw_store_close(s);
	sqlite3_close(src.db);
	if (!rc)
		printf("imported %zu buckets, %zu events from %s (already present events were skipped)%s\n", buckets,
		       events, path, skipped ? "; some rows had unreadable timestamps and were skipped" : "");
	return rc ? 1 : 0;
}

static char *default_aw_db(void)
{
	static const char *const candidates[] = {"activitywatch/aw-server-rust/sqlite.db",
						 "activitywatch/aw-server/peewee-sqlite.v2.db"};
	const char *base = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *path;

	for (size_t i = 0; i < 2; i++) {
		if (base && *base == '/') {
			if (asprintf(&path, "%s/%s", base, candidates[i]) < 0)
				abort();
		} else if (asprintf(&path, "%s/.local/share/%s", home ? home : "", candidates[i]) < 0) {
			abort();
		}
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"testing", no_argument, NULL, 't'}, {"dbpath", required_argument, NULL, 'd'},
		{"port", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *dbpath = NULL;
	bool testing = false;
	int port = -1, ch, rc;
	char *path;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': testing = true; break;
		case 'd': dbpath = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 'h':
			printf("usage: awnode import FILE [--testing] [--dbpath PATH] [--port N]\n"
			       "       awnode import activitywatch [PATH] [--testing] [--dbpath PATH]\n\n"
			       "Import an export document (through the running node if there is one), or\n"
			       "ActivityWatch's own database: aw-server-rust's sqlite.db or aw-server's\n"
			       "peewee-sqlite.v2.db (found under $XDG_DATA_HOME/activitywatch when PATH is\n"
			       "not given; read-only; stop awnode first). Re-running changes nothing.\n");
			return 0;
		default:
			fprintf(stderr, "awnode import: unknown or incomplete option '%s' (see --help)\n", argv[optind - 1]);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "awnode import: give a FILE, or 'activitywatch [PATH]' (see --help)\n");
		return 2;
	}
	if (strcmp(argv[optind], "activitywatch"))
		return import_file(argv[optind], dbpath, testing, port);
	path = optind + 1 < argc ? strdup(argv[optind + 1]) : default_aw_db();
	if (!path) {
		fprintf(stderr, "awnode import: no ActivityWatch database found under $XDG_DATA_HOME/activitywatch; give its PATH\n");
		return 1;
	}
	rc = import_activitywatch(path, dbpath, testing);
	free(path);
	return rc;
}
