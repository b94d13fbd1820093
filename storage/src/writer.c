/*
 * The writer thread: the only code that modifies the database.
 *
 * It takes every queued write at once (up to max_batch), applies them inside one
 * transaction, writes the dirty bucket rows and counters, commits, and only then calls
 * each write's `done`. So a client is answered after its change is durable, and N
 * concurrent heartbeats cost one commit (group commit).
 *
 * Failure model: validation failures (unknown bucket, read-only bucket, bad range) are
 * detected before anything is written and fail only that write. A SQLite failure
 * while applying or committing rolls back the whole batch; every write in it is
 * answered with an error and the in-memory state (bucket cache, counters, intern
 * cache) is reloaded from the database, so memory never runs ahead of disk.
 *
 * Invariants kept here:
 *   - wbucket.start/end equal min(start)/max(start+duration) of the bucket's events
 *     (exact after deletions, unlike aw-server-rust);
 *   - wbucket.max_dur >= every event's duration in the bucket;
 *   - wbucket.last, when has_last, is the event aw-server-rust's cache would hold.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aw/buf.h"
#include "aw/hash.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "aw/privacy.h"
#include "aw/time.h"
#include "internal.h"

#define INTERN_MAX_BYTES (8u << 20)
#define SEAL_CHECK_SECONDS 600
#define SEAL_QUIET_SECONDS 1

/* ---- small helpers ------------------------------------------------------------ */

static int fail_sql(aw_store *s, aw_write *w, const char *what)
{
	db_error(s->db, what);
	w->status = AW_ERROR;
	snprintf(w->error, sizeof(w->error), "%s", aw_error_last());
	return AW_ERROR;
}

__attribute__((format(printf, 3, 4))) static int fail(aw_write *w, int code, const char *fmt, ...)
{
	va_list ap;

	w->status = code;
	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
	return code;
}

/* Step the cached statement `slot` (prepared from sql on first use) with key as its one
 * parameter. Returns SQLITE_ROW (the row is readable until the caller resets *out) or
 * SQLITE_DONE; any failure fails w as `what` and returns AW_ERROR. */
static int step_by_key(aw_store *s, aw_write *w, int slot, const char *sql, int64_t key, const char *what,
		       sqlite3_stmt **out)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->st[slot], sql);
	int rc;

	if (!st)
		return fail_sql(s, w, what);
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = fail_sql(s, w, what);
		sqlite3_reset(st);
		return rc;
	}
	*out = st;
	return rc;
}

/* Run a one-off statement whose one parameter is key (a bucket's rowid, a seq) to
 * completion; a failure fails w as `what`. */
static int exec_by_key(aw_store *s, aw_write *w, const char *sql, int64_t key, const char *what)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail_sql(s, w, what);
	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail_sql(s, w, what);
}

static wbucket *bucket_find(aw_store *s, const char *name)
{
	for (size_t i = 0; i < s->n_buckets; i++)
		if (strcmp(s->buckets[i].name, name) == 0)
			return &s->buckets[i];
	return NULL;
}

static wbucket *bucket_by_rowid(aw_store *s, int64_t rowid)
{
	for (size_t i = 0; i < s->n_buckets; i++)
		if (s->buckets[i].rowid == rowid)
			return &s->buckets[i];
	return NULL;
}

static wbucket *bucket_add(aw_store *s, const char *name, int64_t rowid, const char *remote_device)
{
	wbucket *b;

	s->buckets = aw_mem_grow(s->buckets, s->n_buckets, &s->cap_buckets, sizeof(*s->buckets), 16);
	b = &s->buckets[s->n_buckets++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	b->rowid = rowid;
	b->remote = remote_device != NULL;
	b->remote_device = xstrdup(remote_device);
	b->sealed_max_day = INT64_MIN;
	return b;
}

static void bucket_remove(aw_store *s, wbucket *b)
{
	size_t i = (size_t)(b - s->buckets);

	free(b->name);
	free(b->remote_device);
	memmove(&s->buckets[i], &s->buckets[i + 1], (s->n_buckets - i - 1) * sizeof(*b));
	s->n_buckets--;
}

static void intern_clear(aw_store *s)
{
	for (size_t i = 0; i < s->intern_cap; i++)
		free(s->intern[i].json);
	free(s->intern);
	s->intern = NULL;
	s->intern_cap = s->intern_used = 0;
}

void writer_free_state(aw_store *s)
{
	for (size_t i = 0; i < s->n_buckets; i++) {
		free(s->buckets[i].name);
		free(s->buckets[i].remote_device);
	}
	free(s->buckets);
	s->buckets = NULL;
	s->n_buckets = s->cap_buckets = 0;
	intern_clear(s);
	aw_privacy_free(s->privacy);
	s->privacy = NULL;
}

static int64_t meta_get(aw_store *s, const char *key)
{
	sqlite3_stmt *st;
	int64_t v = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* (Re)load the privacy rules from the settings table. Rules were validated when they
 * were posted; a row that does not parse (edited by hand) loads no rules, logged once. */
int writer_privacy_reload(aw_store *s)
{
	sqlite3_stmt *st;
	aw_privacy *p = NULL;

	aw_privacy_free(s->privacy);
	s->privacy = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM settings WHERE key = 'privacy_filters'", -1, &st,
			       NULL) != SQLITE_OK)
		return db_error(s->db, "loading privacy filters");
	if (sqlite3_step(st) == SQLITE_ROW &&
	    aw_privacy_parse(&p, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
			     false) == 0)
		s->privacy = p;
	sqlite3_finalize(st);
	return 0;
}

int writer_load(aw_store *s)
{
	sqlite3_stmt *st;
	int rc;

	writer_free_state(s);
	if (sqlite3_prepare_v2(s->db,
			       "SELECT rowid, name, remote_device, start, \"end\", max_duration "
			       "FROM buckets", -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "loading buckets");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		wbucket *b = bucket_add(s, (const char *)sqlite3_column_text(st, 1),
					sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 2));
		b->has_range = sqlite3_column_type(st, 3) != SQLITE_NULL;
		b->start = sqlite3_column_int64(st, 3);
		b->end = sqlite3_column_int64(st, 4);
		b->max_dur = sqlite3_column_int64(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(s->db, "loading buckets");
	s->next_id = s->stored_next_id = meta_get(s, "next_event_id");
	s->seq = s->stored_seq = meta_get(s, "seq");
	/* at open this is the migration to sealed days, afterwards a cheap check */
	s->seal_pending = true;
	if (blocks_load(s))
		return AW_ERROR;
	return writer_privacy_reload(s);
}

/* ---- data interning ---------------------------------------------------------- */

static void intern_remember(aw_store *s, uint64_t h, int64_t id, const char *json, size_t len)
{
	size_t i;

	if (s->intern_used * 10 >= s->intern_cap * 7) {
		size_t old_cap = s->intern_cap;
		intern_slot *old = s->intern;

		s->intern_cap = old_cap ? old_cap * 2 : 1024;
		s->intern = aw_mem_calloc(s->intern_cap, sizeof(*s->intern));
		for (i = 0; i < old_cap; i++) {
			size_t j;
			if (!old[i].json)
				continue;
			for (j = old[i].hash & (s->intern_cap - 1); s->intern[j].json;
			     j = (j + 1) & (s->intern_cap - 1))
				;
			s->intern[j] = old[i];
		}
		free(old);
	}
	for (i = h & (s->intern_cap - 1); s->intern[i].json; i = (i + 1) & (s->intern_cap - 1))
		;
	s->intern[i].hash = h;
	s->intern[i].id = id;
	s->intern[i].json = xstrndup(json, len);
	s->intern[i].len = len;
	s->intern_used++;
}

/* Find or create the interned id of a canonical data text. */
static int intern(aw_store *s, aw_write *w, const char *json, size_t len, int64_t *id)
{
	uint64_t h = aw_hash_bytes(json, len);
	sqlite3_stmt *st;
	int rc;

	for (size_t i = s->intern_cap ? h & (s->intern_cap - 1) : 0; s->intern_cap && s->intern[i].json;
	     i = (i + 1) & (s->intern_cap - 1)) {
		if (s->intern[i].hash == h && s->intern[i].len == len &&
		    memcmp(s->intern[i].json, json, len) == 0) {
			*id = s->intern[i].id;
			return 0;
		}
	}
	st = db_stmt(s->db, &s->st[ST_INTERN_FIND], "SELECT id, json FROM datas WHERE hash = ?");
	if (!st)
		return fail_sql(s, w, "interning data");
	sqlite3_bind_int64(st, 1, (int64_t)h);
	*id = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((size_t)sqlite3_column_bytes(st, 1) == len &&
		    memcmp(sqlite3_column_text(st, 1), json, len) == 0) {
			*id = sqlite3_column_int64(st, 0);
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail_sql(s, w, "interning data");
	if (!*id) {
		st = db_stmt(s->db, &s->st[ST_INTERN_ADD], "INSERT INTO datas(hash, json) VALUES (?, ?)");
		if (!st)
			return fail_sql(s, w, "interning data");
		sqlite3_bind_int64(st, 1, (int64_t)h);
		sqlite3_bind_text(st, 2, json, (int)len, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return fail_sql(s, w, "interning data");
		*id = sqlite3_last_insert_rowid(s->db);
	}
	intern_remember(s, h, *id, json, len);
	return 0;
}

/* ---- bucket range bookkeeping ------------------------------------------------- */

static void range_widen(wbucket *b, aw_ns start, aw_ns dur)
{
	aw_ns end = start + dur;

	if (!b->has_range) {
		b->has_range = true;
		b->start = start;
		b->end = end;
	} else {
		if (start < b->start)
			b->start = start;
		if (end > b->end)
			b->end = end;
	}
	if (dur > b->max_dur)
		b->max_dur = dur;
	b->row_dirty = true;
}

static void range_note_removed(wbucket *b, aw_ns start, aw_ns dur)
{
	if (b->has_range && (start == b->start || start + dur == b->end))
		b->range_dirty = true;
}

static int query_i64(aw_store *s, const char *sql, int64_t a, int64_t b, bool *null, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "reading bucket range");
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	*null = rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
	*out = *null ? 0 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s->db, "reading bucket range");
}

/* Exact metadata after a boundary event went away. min and max of `start` come from
 * the primary key in O(log n); the latest end is searched only among events that start
 * within max_dur of the last start, which is exact whenever that end is >= the last
 * start (always, unless negative durations are involved: then scan the bucket). */
static int range_recompute(aw_store *s, wbucket *b)
{
	bool null, bnull;
	int64_t lo, hi, end = AW_NS_MIN, blo, bhi, bend;

	/* sealed days carry their own exact bounds (blocks.c) */
	if (query_i64(s, "SELECT min(first_start) FROM blocks WHERE bucket = ?1 AND ?2 = ?2", b->rowid, 0,
		      &bnull, &blo) ||
	    (!bnull && (query_i64(s, "SELECT max(last_start) FROM blocks WHERE bucket = ?1 AND ?2 = ?2", b->rowid,
				  0, &bnull, &bhi) ||
			query_i64(s, "SELECT max(max_end) FROM blocks WHERE bucket = ?1 AND ?2 = ?2", b->rowid, 0,
				  &bnull, &bend))))
		return AW_ERROR;
	if (query_i64(s, "SELECT min(start) FROM events WHERE bucket = ?1 AND ?2 = ?2", b->rowid, 0,
		      &null, &lo))
		return AW_ERROR;
	b->range_dirty = false;
	b->row_dirty = true;
	if (null && bnull) {
		b->has_range = false;
		return 0;
	}
	if (null) {
		b->has_range = true;
		b->start = blo;
		b->end = bend;
		return 0;
	}
	if (query_i64(s, "SELECT max(start) FROM events WHERE bucket = ?1 AND ?2 = ?2", b->rowid, 0,
		      &null, &hi))
		return AW_ERROR;
	if (!bnull) {
		lo = blo < lo ? blo : lo;
		hi = bhi > hi ? bhi : hi;
		end = bend;
	}
	{
		int64_t rend;
		if (query_i64(s, "SELECT max(start + duration) FROM events WHERE bucket = ?1 AND start >= ?2",
			      b->rowid, aw_ns_sub_sat(hi, b->max_dur), &null, &rend))
			return AW_ERROR;
		if (!null && rend > end)
			end = rend;
	}
	if (end < hi) {
		int64_t rend;
		if (query_i64(s, "SELECT max(start + duration) FROM events WHERE bucket = ?1 AND ?2 = ?2",
			      b->rowid, 0, &null, &rend))
			return AW_ERROR;
		if (!null && rend > end)
			end = rend;
	}
	b->has_range = true;
	b->start = lo;
	b->end = end;
	return 0;
}

static int flush_state(aw_store *s)
{
	sqlite3_stmt *st;

	for (size_t i = 0; i < s->n_buckets; i++) {
		wbucket *b = &s->buckets[i];

		if (b->range_dirty && range_recompute(s, b))
			return AW_ERROR;
		if (!b->row_dirty)
			continue;
		st = db_stmt(s->db, &s->st[ST_BUCKET_ROW],
				"UPDATE buckets SET start = ?, \"end\" = ?, max_duration = ? WHERE rowid = ?");
		if (!st)
			return AW_ERROR;
		if (b->has_range) {
			sqlite3_bind_int64(st, 1, b->start);
			sqlite3_bind_int64(st, 2, b->end);
		}
		sqlite3_bind_int64(st, 3, b->max_dur);
		sqlite3_bind_int64(st, 4, b->rowid);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s->db, "updating bucket metadata");
		b->row_dirty = false;
	}
	st = db_stmt(s->db, &s->st[ST_META_SET], "INSERT OR REPLACE INTO meta VALUES (?, ?)");
	if (!st)
		return AW_ERROR;
	if (s->next_id != s->stored_next_id) {
		sqlite3_bind_text(st, 1, "next_event_id", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, s->next_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s->db, "saving counters");
		sqlite3_reset(st);
	}
	if (s->seq != s->stored_seq) {
		sqlite3_bind_text(st, 1, "seq", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, s->seq);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s->db, "saving counters");
	}
	return 0;
}

/* ---- event primitives ---------------------------------------------------------- */

static int tombstone(aw_store *s, aw_write *w, const char *bucket, int64_t event_id, bool whole)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->st[ST_TOMB],
				      "INSERT INTO tombstones(seq, bucket, event_id) VALUES (?, ?, ?)");

	if (!st)
		return fail_sql(s, w, "recording deletion");
	sqlite3_bind_int64(st, 1, ++s->seq);
	sqlite3_bind_text(st, 2, bucket, -1, SQLITE_STATIC);
	if (!whole)
		sqlite3_bind_int64(st, 3, event_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_sql(s, w, "recording deletion");
	return 0;
}

/* Forget cached "last events" that no longer exist. */
static void last_cache_forget(aw_store *s, int64_t event_id)
{
	for (size_t i = 0; i < s->n_buckets; i++)
		if (s->buckets[i].has_last && s->buckets[i].last.id == event_id)
			s->buckets[i].has_last = false;
}

/* Statements that share a cached slot must share their text too. */
#define EV_BY_ID_SQL "SELECT bucket, start, duration, data FROM events WHERE id = ?"
#define DATA_TEXT_SQL "SELECT json FROM datas WHERE id = ?"

/* Delete the event with this id wherever it is. *found tells whether it existed;
 * `only` restricts the deletion to one bucket. */
static int event_remove(aw_store *s, aw_write *w, int64_t id, wbucket *only, bool *found)
{
	sqlite3_stmt *st;
	int64_t bucket_row;
	aw_ns start, dur;
	wbucket *b;
	bool unsealed;
	int rc = step_by_key(s, w, ST_EV_BY_ID, EV_BY_ID_SQL, id, "looking up event", &st);

	*found = false;
	if (rc == SQLITE_DONE) {
		/* not a row: in a sealed day? Then that day becomes rows again first. */
		if (blocks_unseal_id(s, id, only ? only->rowid : 0, &unsealed))
			return fail_sql(s, w, "unsealing a day");
		if (unsealed)
			rc = step_by_key(s, w, ST_EV_BY_ID, EV_BY_ID_SQL, id, "looking up event", &st);
	}
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : AW_ERROR;
	bucket_row = sqlite3_column_int64(st, 0);
	start = sqlite3_column_int64(st, 1);
	dur = sqlite3_column_int64(st, 2);
	sqlite3_reset(st);
	if (only && only->rowid != bucket_row)
		return 0;
	st = db_stmt(s->db, &s->st[ST_EV_DELETE],
			"DELETE FROM events WHERE bucket = ? AND start = ? AND id = ?");
	if (!st)
		return fail_sql(s, w, "deleting event");
	sqlite3_bind_int64(st, 1, bucket_row);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_sql(s, w, "deleting event");
	*found = true;
	b = bucket_by_rowid(s, bucket_row);
	if (b) {
		range_note_removed(b, start, dur);
		/* The change feed covers this device's own buckets only. */
		if (!b->remote && tombstone(s, w, b->name, id, false))
			return AW_ERROR;
	}
	last_cache_forget(s, id);
	return 0;
}

static int check_event_range(aw_write *w, const aw_event *e)
{
	aw_ns end;

	if (__builtin_add_overflow(e->start, e->duration, &end))
		return fail(w, AW_ERANGE, "%s", "event end (timestamp + duration) is outside the supported range");
	return 0;
}

/* Store one event as a row: the heartbeat and insert path and what an import leaves
 * as rows. A sealed day takes no rows beside its block, so the day is unsealed first;
 * a row of a day old enough to seal asks the writer to seal when idle. */
static int row_insert(aw_store *s, aw_write *w, wbucket *b, aw_ns now, const blk_event *e)
{
	sqlite3_stmt *st;

	if (blocks_unseal_day(s, b, blk_day(e->start)))
		return fail_sql(s, w, "unsealing a day");
	if (!s->seal_pending && e->start < aw_ns_sub_sat(now, BLK_SEAL_AGE))
		s->seal_pending = true;
	st = db_stmt(s->db, &s->st[ST_EV_INSERT],
		     "INSERT INTO events(bucket, start, id, duration, data, seq) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		return fail_sql(s, w, "inserting event");
	sqlite3_bind_int64(st, 1, b->rowid);
	sqlite3_bind_int64(st, 2, e->start);
	sqlite3_bind_int64(st, 3, e->id);
	sqlite3_bind_int64(st, 4, e->duration);
	sqlite3_bind_int64(st, 5, e->data);
	sqlite3_bind_int64(st, 6, e->seq);
	if (sqlite3_step(st) != SQLITE_DONE)
		return fail_sql(s, w, "inserting event");
	return 0;
}

/* Insert one event (a fresh id, or the given id replacing whatever had it). */
static int event_put(aw_store *s, aw_write *w, wbucket *b, const aw_event *e, aw_event_row *row)
{
	int64_t data_id, id;
	bool found;

	if (intern(s, w, e->data, e->data_len, &data_id))
		return AW_ERROR;
	if (e->has_id) {
		if (event_remove(s, w, e->id, NULL, &found))
			return AW_ERROR;
		id = e->id;
		if (id >= s->next_id)
			s->next_id = id + 1;
	} else {
		id = s->next_id++;
	}
	if (row_insert(s, w, b, aw_time_now(),
		       &(blk_event){.start = e->start, .id = id, .duration = e->duration, .data = data_id, .seq = ++s->seq}))
		return AW_ERROR;
	range_widen(b, e->start, e->duration);
	row->id = id;
	row->start = e->start;
	row->duration = e->duration;
	row->data_id = data_id;
	return 0;
}

static void out_event(aw_write *w, size_t i, const aw_event_row *row, const char *data, size_t len)
{
	aw_event *o = &w->out_events[i];

	o->id = row->id;
	o->has_id = true;
	o->start = row->start;
	o->duration = row->duration;
	o->data = xstrndup(data, len);
	o->data_len = len;
}

static void out_alloc(aw_write *w, size_t n)
{
	w->out_events = aw_mem_calloc(n ? n : 1, sizeof(*w->out_events));
	w->n_out_events = n;
}

/* A writable bucket for this write, or a failed status. */
static wbucket *writable_bucket(aw_store *s, aw_write *w, const char *name)
{
	wbucket *b = bucket_find(s, name);

	if (!b) {
		fail(w, AW_ENOTFOUND, "The requested bucket '%s' does not exist", name);
		return NULL;
	}
	if (b->remote && !w->allow_remote) {
		fail(w, AW_EREADONLY,
		     "Bucket '%s' is a remote (synced) bucket and cannot be modified here", name);
		return NULL;
	}
	return b;
}

/* Privacy filters for an event about to be stored in a bucket of this device. Returns
 * KEEP (store *e), DROP, or REDACT with *red a copy of *e whose data the caller frees. */
static int privacy_check(aw_store *s, const wbucket *b, const aw_event *e, aw_event *red)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (b->remote || !s->privacy)
		return AW_PRIVACY_KEEP;
	rc = aw_privacy_apply(s->privacy, b->name, e->data, e->data_len, &data, &len);
	if (rc == AW_PRIVACY_REDACT) {
		*red = *e;
		red->data = data;
		red->data_len = len;
	}
	return rc;
}

/* An explicit id replaces the event holding it in any bucket (reference quirk); that
 * must not become a back door into a remote bucket. */
static int check_id_owner(aw_store *s, aw_write *w, const aw_event *e)
{
	sqlite3_stmt *st;
	wbucket *owner = NULL;
	int rc;

	if (!e->has_id || w->allow_remote)
		return 0;
	rc = step_by_key(s, w, ST_EV_BY_ID, EV_BY_ID_SQL, e->id, "looking up event", &st);
	if (rc == AW_ERROR)
		return rc;
	if (rc == SQLITE_ROW) {
		owner = bucket_by_rowid(s, sqlite3_column_int64(st, 0));
		sqlite3_reset(st);
	} else {
		int64_t bucket_row;
		rc = blocks_id_bucket(s, e->id, &bucket_row);
		if (rc < 0)
			return fail_sql(s, w, "looking up event");
		if (rc == 1)
			owner = bucket_by_rowid(s, bucket_row);
	}
	if (owner && owner->remote)
		return fail(w, AW_EREADONLY, "Event id belongs to remote (synced) bucket '%s'", owner->name);
	return 0;
}

static int check_events(aw_store *s, aw_write *w, const aw_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (check_event_range(w, &ev[i]) || check_id_owner(s, w, &ev[i]))
			return w->status;
	return 0;
}

static int insert_events(aw_store *s, aw_write *w, wbucket *b, const aw_event *ev, size_t n)
{
	aw_event_row row;

	if (check_events(s, w, ev, n))
		return w->status;
	out_alloc(w, n);
	w->n_out_events = 0;
	for (size_t i = 0; i < n; i++) {
		aw_event red;
		int pv = privacy_check(s, b, &ev[i], &red);
		const aw_event *e = pv == AW_PRIVACY_REDACT ? &red : &ev[i];
		int rc;

		if (pv == AW_PRIVACY_DROP)
			continue;
		rc = event_put(s, w, b, e, &row);
		if (!rc)
			out_event(w, w->n_out_events++, &row, e->data, e->data_len);
		if (pv == AW_PRIVACY_REDACT)
			free(red.data);
		if (rc)
			return AW_ERROR;
	}
	/* Like aw-server-rust, an insert invalidates the heartbeat cache: the next heartbeat
	 * merges against the event with the latest start, whichever that now is. */
	b->has_last = false;
	return 0;
}

/* ---- operations ------------------------------------------------------------------ */

/* Bind type, client, hostname and data (the fields another device may change later) to
 * the parameters first .. first + 3. */
static void bind_bucket_fields(sqlite3_stmt *st, int first, const aw_bucket *bk)
{
	sqlite3_bind_text(st, first, bk->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 1, bk->client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 2, bk->hostname, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, first + 3, bk->data ? bk->data : "{}", -1, SQLITE_STATIC);
}

static int create_bucket_row(aw_store *s, aw_write *w, const aw_bucket *bk, const char *remote,
			     wbucket **out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
				    "INSERT INTO buckets(name, type, client, hostname, data, created, "
				    "last_updated, remote_device) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail_sql(s, w, "creating bucket");
	sqlite3_bind_text(st, 1, bk->id, -1, SQLITE_STATIC);
	bind_bucket_fields(st, 2, bk);
	sqlite3_bind_int64(st, 6, bk->created);
	if (bk->last_updated)
		sqlite3_bind_text(st, 7, bk->last_updated, -1, SQLITE_STATIC);
	if (remote)
		sqlite3_bind_text(st, 8, remote, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail_sql(s, w, "creating bucket");
	*out = bucket_add(s, bk->id, sqlite3_last_insert_rowid(s->db), remote);
	return 0;
}

static int op_bucket_create(aw_store *s, aw_write *w)
{
	wbucket *b;

	if (bucket_find(s, w->bucket->id))
		return fail(w, AW_EEXISTS, "Bucket '%s' already exists", w->bucket->id);
	if (check_events(s, w, w->events, w->n_events))
		return w->status;
	if (create_bucket_row(s, w, w->bucket, w->remote_device, &b))
		return AW_ERROR;
	return w->n_events ? insert_events(s, w, b, w->events, w->n_events) : 0;
}

static int datas_wipe_unreferenced(aw_store *s, aw_write *w);

static int op_bucket_delete(aw_store *s, aw_write *w)
{
	wbucket *b = writable_bucket(s, w, w->bucket_id);

	if (!b)
		return w->status;
	if (exec_by_key(s, w, "DELETE FROM events WHERE bucket = ?", b->rowid, "deleting bucket") ||
	    exec_by_key(s, w, "DELETE FROM blocks WHERE bucket = ?", b->rowid, "deleting bucket") ||
	    exec_by_key(s, w, "DELETE FROM buckets WHERE rowid = ?", b->rowid, "deleting bucket"))
		return AW_ERROR;
	if (b->remote) {
		if (exec_by_key(s, w, "DELETE FROM remote_ids WHERE bucket = ?", b->rowid, "deleting bucket"))
			return AW_ERROR;
	} else if (tombstone(s, w, b->name, 0, true)) {
		return AW_ERROR;
	}
	bucket_remove(s, b);
	return datas_wipe_unreferenced(s, w);
}

static int op_events_insert(aw_store *s, aw_write *w)
{
	wbucket *b = writable_bucket(s, w, w->bucket_id);

	return b ? insert_events(s, w, b, w->events, w->n_events) : w->status;
}

static int load_last(aw_store *s, aw_write *w, wbucket *b)
{
	sqlite3_stmt *st;
	int rc;

	/* the last event may be sealed (its successors were deleted): heartbeats merge into
	 * it by the SQL below, so its day becomes rows again */
	if (blocks_last_unseal(s, b))
		return fail_sql(s, w, "unsealing a day");
	rc = step_by_key(s, w, ST_EV_LAST,
			     "SELECT id, start, duration, data FROM events WHERE bucket = ? "
			     "ORDER BY start DESC, duration ASC, id ASC LIMIT 1",
			     b->rowid, "reading last event", &st);

	if (rc == AW_ERROR)
		return rc;
	if (rc == SQLITE_ROW) {
		b->last.id = sqlite3_column_int64(st, 0);
		b->last.start = sqlite3_column_int64(st, 1);
		b->last.duration = sqlite3_column_int64(st, 2);
		b->last.data_id = sqlite3_column_int64(st, 3);
		b->has_last = true;
		sqlite3_reset(st);
	}
	return 0;
}

/* ActivityWatch's merge rule (docs/api.md): merge when the data is equal, the heartbeat does not start before the
 * last event, and it starts no later than last end + pulsetime (inclusive). */
static int heartbeat_dropped(aw_store *s, aw_write *w, wbucket *b, const aw_event *h);
static int heartbeat_store(aw_store *s, aw_write *w, wbucket *b, const aw_event *h);

static int op_heartbeat(aw_store *s, aw_write *w)
{
	wbucket *b = writable_bucket(s, w, w->bucket_id);
	const aw_event *h = w->events;

	aw_event red;
	int pv;

	if (!b)
		return w->status;
	if (check_event_range(w, h))
		return w->status;
	if (!b->has_last && load_last(s, w, b))
		return AW_ERROR;
	out_alloc(w, 1);
	pv = privacy_check(s, b, h, &red);
	if (pv == AW_PRIVACY_DROP)
		return heartbeat_dropped(s, w, b, h);
	if (pv == AW_PRIVACY_REDACT) {
		int rc = heartbeat_store(s, w, b, &red);
		free(red.data);
		return rc;
	}
	return heartbeat_store(s, w, b, h);
}

/* A heartbeat a privacy rule dropped is answered like aw-server-rust's datastore does:
 * with the bucket's last event (or the heartbeat itself, without id, if there is none). */
static int heartbeat_dropped(aw_store *s, aw_write *w, wbucket *b, const aw_event *h)
{
	sqlite3_stmt *st;
	int rc;

	if (!b->has_last) {
		aw_event *o = &w->out_events[0];
		*o = *h;
		o->has_id = false;
		o->data = xstrndup(h->data, h->data_len);
		return 0;
	}
	rc = step_by_key(s, w, ST_DATA_TEXT, DATA_TEXT_SQL, b->last.data_id, "reading event data", &st);
	if (rc != SQLITE_ROW)
		return rc == AW_ERROR ? rc : fail_sql(s, w, "reading event data");
	out_event(w, 0, &b->last, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
	sqlite3_reset(st);
	return 0;
}

static int heartbeat_store(aw_store *s, aw_write *w, wbucket *b, const aw_event *h)
{
	aw_event_row *l, row;
	int64_t data_id;
	aw_ns l_end, h_end, end;
	sqlite3_stmt *st;

	if (intern(s, w, h->data, h->data_len, &data_id))
		return AW_ERROR;
	l = &b->last;
	l_end = l->start + l->duration;
	h_end = h->start + h->duration;
	if (b->has_last && l->data_id == data_id && l->start <= h->start &&
	    (__int128)h->start <= (__int128)l_end + w->pulsetime) {
		end = h_end > l_end ? h_end : l_end;
		if (end - l->start != l->duration) {
			/* sealing leaves the last event's day alone; this costs a comparison */
			if (blocks_unseal_day(s, b, blk_day(l->start)))
				return fail_sql(s, w, "unsealing a day");
			st = db_stmt(s->db, &s->st[ST_EV_UPDATE_DUR],
					"UPDATE events SET duration = ?, seq = ? WHERE bucket = ? AND start = ? AND id = ?");
			if (!st)
				return fail_sql(s, w, "merging heartbeat");
			sqlite3_bind_int64(st, 1, end - l->start);
			sqlite3_bind_int64(st, 2, ++s->seq);
			sqlite3_bind_int64(st, 3, b->rowid);
			sqlite3_bind_int64(st, 4, l->start);
			sqlite3_bind_int64(st, 5, l->id);
			if (sqlite3_step(st) != SQLITE_DONE)
				return fail_sql(s, w, "merging heartbeat");
			l->duration = end - l->start;
			range_widen(b, l->start, l->duration);
		}
		out_event(w, 0, l, h->data, h->data_len);
		return 0;
	}
	if (event_put(s, w, b, h, &row))
		return AW_ERROR;
	b->last = row;
	b->has_last = true;
	out_event(w, 0, &row, h->data, h->data_len);
	return 0;
}

static int op_event_delete(aw_store *s, aw_write *w)
{
	wbucket *b = writable_bucket(s, w, w->bucket_id);
	bool found;

	if (!b)
		return w->status;
	return event_remove(s, w, w->event_id, b, &found);
}

/* Identity of an event for import de-duplication: (start, duration, data). */
typedef struct ident_set {
	aw_event_row *slots;
	size_t cap, n;
} ident_set;

static uint64_t ident_hash(aw_ns start, aw_ns dur, int64_t data)
{
	uint64_t h = (uint64_t)start * 0x9E3779B97F4A7C15ULL;

	h ^= (uint64_t)dur * 0xC2B2AE3D27D4EB4FULL;
	h ^= (uint64_t)data * 0x165667B19E3779F9ULL;
	return h ^ (h >> 29);
}

static void ident_add(ident_set *set, aw_ns start, aw_ns dur, int64_t data)
{
	size_t i;

	for (i = ident_hash(start, dur, data) & (set->cap - 1); set->slots[i].id;
	     i = (i + 1) & (set->cap - 1))
		;
	set->slots[i] = (aw_event_row){.id = 1, .start = start, .duration = dur, .data_id = data};
}

/* Add an identity, doubling the table first when it would be more than half full. */
static void ident_put(ident_set *set, aw_ns start, aw_ns dur, int64_t data)
{
	if ((set->n + 1) * 2 > set->cap) {
		ident_set bigger = {aw_mem_calloc(set->cap * 2, sizeof(*set->slots)), set->cap * 2, set->n};
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i].id)
				ident_add(&bigger, set->slots[i].start, set->slots[i].duration, set->slots[i].data_id);
		free(set->slots);
		*set = bigger;
	}
	ident_add(set, start, dur, data);
	set->n++;
}

static bool ident_has(const ident_set *set, aw_ns start, aw_ns dur, int64_t data)
{
	for (size_t i = ident_hash(start, dur, data) & (set->cap - 1); set->slots[i].id;
	     i = (i + 1) & (set->cap - 1))
		if (set->slots[i].start == start && set->slots[i].duration == dur &&
		    set->slots[i].data_id == data)
			return true;
	return false;
}

/*
 * An import's new events wait in an import_batch until the end of their write, then are
 * stored together: those of closed days go straight into their days' blocks
 * (blocks_import) instead of into rows that the writer would read back, compress and
 * delete when it seals, the others become rows as event_put makes them. Ids, seqs and
 * data ids are given in the events' order, as event_put gives them. An event with its
 * own id joins the batch when no event has that id (a restore from the archive, an
 * export imported into a new database); otherwise it takes event_put's path, which
 * removes the event holding the id first (when that is an earlier event of the same
 * write, the batch is stored first: it may hold it).
 */
typedef struct import_batch {
	blk_event *v;
	size_t n, cap;
} import_batch;

static int import_flush(aw_store *s, aw_write *w, wbucket *b, import_batch *ib);

/* Claim this id for an event of the write if no event has it (*claim 1); -1 when an
 * earlier event of the write has it (the batch may hold it), 0 when a stored event
 * does. The write's places (op_import) answer for the sealed ones. */
static int id_claim(aw_store *s, aw_write *w, int64_t id, int *claim)
{
	sqlite3_stmt *st;
	int rc = step_by_key(s, w, ST_EV_BY_ID, EV_BY_ID_SQL, id, "looking up event", &st);

	if (rc == AW_ERROR)
		return rc;
	sqlite3_reset(st);
	*claim = rc == SQLITE_DONE ? blocks_places_claim(s, id) : 0;
	return 0;
}

static int import_add(aw_store *s, aw_write *w, wbucket *b, const aw_event *e, int64_t data_id, import_batch *ib)
{
	aw_event_row row;
	int64_t id;

	if (e->has_id) {
		int claim;
		if (id_claim(s, w, e->id, &claim))
			return AW_ERROR;
		if (claim < 0 && import_flush(s, w, b, ib))
			return AW_ERROR;
		if (claim <= 0)
			return event_put(s, w, b, e, &row);
		id = e->id;
		if (id >= s->next_id)
			s->next_id = id + 1;
	} else {
		id = s->next_id++;
	}
	ib->v = aw_mem_grow(ib->v, ib->n, &ib->cap, sizeof(*ib->v), 1024);
	ib->v[ib->n++] = (blk_event){
		.start = e->start, .id = id, .duration = e->duration, .data = data_id, .seq = ++s->seq};
	range_widen(b, e->start, e->duration);
	return 0;
}

static int import_flush(aw_store *s, aw_write *w, wbucket *b, import_batch *ib)
{
	aw_ns now = aw_time_now();
	size_t n = ib->n;

	ib->n = 0;
	if (blocks_import(s, b, now, ib->v, &n)) {
		w->status = AW_ERROR;
		snprintf(w->error, sizeof(w->error), "%s", aw_error_last());
		return AW_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		if (row_insert(s, w, b, now, &ib->v[i]))
			return AW_ERROR;
	return 0;
}

static int ident_put_sealed(void *ctx, const blk_event *v, size_t n)
{
	for (size_t k = 0; k < n; k++)
		ident_put(ctx, v[k].start, v[k].duration, v[k].data);
	return 0;
}

/* Merge events into an existing bucket, skipping those identical to an event already
 * stored in the span the import covers, as aw-server-rust does. */
static int import_merge(aw_store *s, aw_write *w, wbucket *b, const aw_import_bucket *ib)
{
	aw_ns lo = AW_NS_MAX, hi = AW_NS_MIN;
	ident_set set = {0};
	import_batch batch = {0};
	sqlite3_stmt *st;
	int64_t data_id;
	int rc;

	if (!ib->n_events)
		return 0;
	for (size_t i = 0; i < ib->n_events; i++) {
		const aw_event *e = &ib->events[i];
		if (e->start < lo)
			lo = e->start;
		if (e->start + e->duration > hi)
			hi = e->start + e->duration;
	}
	if (sqlite3_prepare_v2(s->db,
			       "SELECT start, duration, data FROM events WHERE bucket = ? AND start >= ? "
			       "AND start <= ? AND start + duration >= ?", -1, &st, NULL) != SQLITE_OK)
		return fail_sql(s, w, "reading events to merge");
	sqlite3_bind_int64(st, 1, b->rowid);
	sqlite3_bind_int64(st, 2, aw_ns_sub_sat(lo, b->max_dur));
	sqlite3_bind_int64(st, 3, hi);
	sqlite3_bind_int64(st, 4, lo);
	set.cap = 64;
	set.slots = aw_mem_calloc(set.cap, sizeof(*set.slots));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ident_put(&set, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(set.slots);
		return fail_sql(s, w, "reading events to merge");
	}
	/* and the sealed ones: an import of what is stored unseals nothing */
	if (blocks_scan_writer(s, b->rowid, aw_ns_sub_sat(lo, b->max_dur), hi, lo, ident_put_sealed, &set)) {
		free(set.slots);
		return fail_sql(s, w, "reading events to merge");
	}
	for (size_t i = 0; i < ib->n_events; i++) {
		aw_event red;
		int pv = privacy_check(s, b, &ib->events[i], &red), put_rc;
		const aw_event *e = pv == AW_PRIVACY_REDACT ? &red : &ib->events[i];

		if (pv == AW_PRIVACY_DROP)
			continue;
		put_rc = intern(s, w, e->data, e->data_len, &data_id);
		if (!put_rc && !ident_has(&set, e->start, e->duration, data_id))
			put_rc = import_add(s, w, b, e, data_id, &batch);
		if (pv == AW_PRIVACY_REDACT)
			free(red.data);
		if (put_rc)
			goto sql_failed;
	}
	free(set.slots);
	set.slots = NULL;
	if (import_flush(s, w, b, &batch))
		goto sql_failed;
	free(batch.v);
	b->has_last = false;
	return 0;
sql_failed:
	free(set.slots);
	free(batch.v);
	return AW_ERROR;
}

static int import_events(aw_store *s, aw_write *w)
{
	wbucket *b;
	int rc;

	/* Validate everything before writing anything, so a rejected import changes nothing. */
	for (size_t i = 0; i < w->n_imports; i++) {
		const aw_import_bucket *ib = &w->imports[i];
		b = bucket_find(s, ib->bucket.id);
		if (b && b->remote && !w->allow_remote)
			return fail(w, AW_EREADONLY,
				    "Bucket '%s' is a remote (synced) bucket and cannot be imported into",
				    ib->bucket.id);
		if (check_events(s, w, ib->events, ib->n_events))
			return w->status;
	}
	for (size_t i = 0; i < w->n_imports; i++) {
		const aw_import_bucket *ib = &w->imports[i];
		b = bucket_find(s, ib->bucket.id);
		if (b) {
			if (import_merge(s, w, b, ib))
				return AW_ERROR;
			continue;
		}
		import_batch batch = {0};

		if (create_bucket_row(s, w, &ib->bucket, w->remote_device, &b))
			return AW_ERROR;
		for (size_t j = 0; j < ib->n_events; j++) {
			aw_event red;
			int pv = privacy_check(s, b, &ib->events[j], &red);
			const aw_event *e = pv == AW_PRIVACY_REDACT ? &red : &ib->events[j];
			int64_t data_id;
			rc = 0;
			if (pv != AW_PRIVACY_DROP && !(rc = intern(s, w, e->data, e->data_len, &data_id)))
				rc = import_add(s, w, b, e, data_id, &batch);
			if (pv == AW_PRIVACY_REDACT)
				free(red.data);
			if (rc) {
				free(batch.v);
				return AW_ERROR;
			}
		}
		rc = import_flush(s, w, b, &batch);
		free(batch.v);
		if (rc)
			return AW_ERROR;
	}
	return 0;
}

/* Where the events' own ids are sealed, found in one pass before the owner checks
 * and replacements ask about each (blocks.c, "where an import's ids are sealed"). */
static int import_places_load(aw_store *s, aw_write *w)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	for (size_t i = 0; i < w->n_imports; i++)
		for (size_t j = 0; j < w->imports[i].n_events; j++) {
			const aw_event *e = &w->imports[i].events[j];
			if (!e->has_id)
				continue;
			ids = aw_mem_grow(ids, n, &cap, sizeof(*ids), 1024);
			ids[n++] = e->id;
		}
	rc = blocks_places_load(s, ids, n);
	free(ids);
	if (rc) {
		w->status = AW_ERROR;
		snprintf(w->error, sizeof(w->error), "%s", aw_error_last());
	}
	return rc;
}

static int op_import(aw_store *s, aw_write *w)
{
	int rc = import_places_load(s, w);

	if (!rc)
		rc = import_events(s, w);
	blocks_places_drop(s);
	return rc;
}

static int map_find(aw_store *s, aw_write *w, wbucket *b, int64_t source_id, int64_t *local_id)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->st[ST_MAP_FIND],
				      "SELECT local_id FROM remote_ids WHERE bucket = ? AND source_id = ?");
	int rc;

	if (!st)
		return fail_sql(s, w, "reading remote ids");
	sqlite3_bind_int64(st, 1, b->rowid);
	sqlite3_bind_int64(st, 2, source_id);
	rc = sqlite3_step(st);
	*local_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail_sql(s, w, "reading remote ids");
}

/* The highest source id mapped in bucket b, INT64_MIN when none. */
static int map_max(aw_store *s, aw_write *w, wbucket *b, int64_t *max)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->st[ST_MAP_MAX], "SELECT max(source_id) FROM remote_ids WHERE bucket = ?");
	int rc;

	if (!st)
		return fail_sql(s, w, "reading remote ids");
	sqlite3_bind_int64(st, 1, b->rowid);
	rc = sqlite3_step(st);
	*max = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : INT64_MIN;
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail_sql(s, w, "reading remote ids");
}

static int map_change(aw_store *s, aw_write *w, wbucket *b, int64_t source_id, int64_t local_id, bool add)
{
	sqlite3_stmt *st = add ? db_stmt(s->db, &s->st[ST_MAP_ADD],
					    "INSERT OR REPLACE INTO remote_ids(bucket, source_id, local_id) VALUES (?, ?, ?)")
			       : db_stmt(s->db, &s->st[ST_MAP_DEL],
					    "DELETE FROM remote_ids WHERE bucket = ? AND source_id = ?");

	if (!st)
		return fail_sql(s, w, "writing remote ids");
	sqlite3_bind_int64(st, 1, b->rowid);
	sqlite3_bind_int64(st, 2, source_id);
	if (add)
		sqlite3_bind_int64(st, 3, local_id);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : fail_sql(s, w, "writing remote ids");
}

/*
 * New mappings of a remote apply, written MAP_ROWS to a statement: a first pull maps
 * every event it brings, and one INSERT per event cost a third of that pull's time in
 * statement overhead (the rows arrive in source id order, so the B-tree work is small).
 * Pending pairs must reach the table before anything looks a source id up.
 */
#define MAP_ROWS 128

typedef struct map_pending {
	int64_t (*pair)[2]; /* source id, local id */
	size_t n, cap;
} map_pending;

static int map_flush(aw_store *s, aw_write *w, wbucket *b, map_pending *mp)
{
	size_t i = 0;

	while (mp->n - i >= MAP_ROWS) {
		sqlite3_stmt *st = s->st[ST_MAP_ADD_MANY];
		if (!st) {
			aw_buf sql = AW_BUF_INIT;
			aw_buf_puts(&sql, "INSERT OR REPLACE INTO remote_ids(bucket, source_id, local_id) VALUES ");
			for (int k = 0; k < MAP_ROWS; k++)
				aw_buf_puts(&sql, k ? ",(?1, ?, ?)" : "(?1, ?, ?)");
			st = db_stmt(s->db, &s->st[ST_MAP_ADD_MANY], sql.data);
			aw_buf_free(&sql);
			if (!st)
				return fail_sql(s, w, "writing remote ids");
		} else {
			sqlite3_reset(st);
		}
		sqlite3_bind_int64(st, 1, b->rowid);
		for (int k = 0; k < MAP_ROWS; k++, i++) {
			sqlite3_bind_int64(st, 2 + 2 * k, mp->pair[i][0]);
			sqlite3_bind_int64(st, 3 + 2 * k, mp->pair[i][1]);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			return fail_sql(s, w, "writing remote ids");
	}
	for (; i < mp->n; i++)
		if (map_change(s, w, b, mp->pair[i][0], mp->pair[i][1], true))
			return AW_ERROR;
	mp->n = 0;
	return 0;
}

static void map_add(map_pending *mp, int64_t source_id, int64_t local_id)
{
	mp->pair = aw_mem_grow(mp->pair, mp->n, &mp->cap, sizeof(*mp->pair), 1024);
	mp->pair[mp->n][0] = source_id;
	mp->pair[mp->n][1] = local_id;
	mp->n++;
}

/* Is event `id` stored with e's start, duration and data? Compared by text, not by
 * interning, so that checking creates nothing. A missing event is not the same. */
static int event_stored_as(aw_store *s, aw_write *w, int64_t id, const aw_event *e, bool *same)
{
	sqlite3_stmt *st;
	int rc = step_by_key(s, w, ST_EV_STORED_AS,
			     "SELECT e.start, e.duration, d.json FROM events e JOIN datas d ON d.id = e.data "
			     "WHERE e.id = ?",
			     id, "looking up event", &st);

	*same = false;
	if (rc == AW_ERROR)
		return rc;
	if (rc == SQLITE_ROW) {
		*same = sqlite3_column_int64(st, 0) == e->start && sqlite3_column_int64(st, 1) == e->duration &&
			(size_t)sqlite3_column_bytes(st, 2) == e->data_len &&
			memcmp(sqlite3_column_text(st, 2), e->data, e->data_len) == 0;
		sqlite3_reset(st);
		return 0;
	}
	{
		blk_event be;
		rc = blocks_find_id(s, id, NULL, NULL, &be);
		if (rc < 0)
			return fail_sql(s, w, "looking up event");
		if (rc == 0 || be.start != e->start || be.duration != e->duration)
			return 0;
		rc = step_by_key(s, w, ST_DATA_TEXT, DATA_TEXT_SQL, be.data, "reading event data", &st);
		if (rc == AW_ERROR)
			return rc;
		if (rc == SQLITE_ROW) {
			*same = (size_t)sqlite3_column_bytes(st, 0) == e->data_len &&
				memcmp(sqlite3_column_text(st, 0), e->data, e->data_len) == 0;
			sqlite3_reset(st);
		}
	}
	return 0;
}

static int remote_bucket_fields(aw_store *s, aw_write *w, wbucket *b, const aw_bucket *bk)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
				    "UPDATE buckets SET type = ?, client = ?, hostname = ?, data = ? WHERE rowid = ?",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail_sql(s, w, "updating remote bucket");
	bind_bucket_fields(st, 1, bk);
	sqlite3_bind_int64(st, 5, b->rowid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail_sql(s, w, "updating remote bucket");
}

/* Another device's changes: events are keyed by their source id through remote_ids, so
 * a put of a known source id replaces the local event (a grown heartbeat), an unknown
 * one inserts, and re-applying the same changes writes nothing. */
static int op_remote_apply(aw_store *s, aw_write *w)
{
	aw_remote_apply *ra = w->remote;
	wbucket *b = bucket_find(s, ra->bucket->id);
	aw_event_row row;
	/* A device's new events come with source ids above every one it sent before, and
	 * they are most of what an import brings: a put above the highest id mapped so
	 * far (kept up to date as puts are mapped, so an id sent twice is found) cannot
	 * be mapped, and is not looked up. */
	int64_t local = 0, mapped_max = INT64_MIN, removed = 0, data_id;
	import_batch batch = {0};
	map_pending mp = {0};
	bool found, same;
	int rc = 0;

	if (b && (!b->remote || strcmp(b->remote_device, ra->device_id)))
		return fail(w, AW_EEXISTS, "bucket '%s' already exists and does not belong to that device",
			    ra->bucket->id);
	if (ra->delete_bucket) {
		if (!b)
			return 0;
		w->bucket_id = ra->bucket->id;
		w->allow_remote = true;
		return op_bucket_delete(s, w);
	}
	for (size_t i = 0; i < ra->n_puts; i++)
		if (check_event_range(w, &ra->puts[i]))
			return w->status;
	if (!b) {
		if (create_bucket_row(s, w, ra->bucket, ra->device_id, &b))
			return AW_ERROR;
	} else if (remote_bucket_fields(s, w, b, ra->bucket) || (ra->n_puts && map_max(s, w, b, &mapped_max))) {
		return AW_ERROR;
	}
	/* New events (most of a first pull: a year of another device) are stored as an
	 * import stores them, closed days straight into their blocks (import_batch), not as
	 * rows that sealing would read back. A put of an id already mapped may name an event
	 * still waiting in the batch, so the batch is stored first. */
	for (size_t i = 0; i < ra->n_puts && !rc; i++) {
		aw_event e = ra->puts[i];
		local = 0;
		if (e.id <= mapped_max && ((mp.n && map_flush(s, w, b, &mp)) || map_find(s, w, b, e.id, &local))) {
			rc = AW_ERROR;
		} else if (local) {
			rc = batch.n ? import_flush(s, w, b, &batch) : 0;
			if (!rc)
				rc = event_stored_as(s, w, local, &e, &same);
			if (!rc && !same) {
				e.id = local;
				e.has_id = true;
				rc = event_put(s, w, b, &e, &row);
			}
		} else {
			e.has_id = false;
			rc = intern(s, w, e.data, e.data_len, &data_id);
			if (!rc)
				rc = import_add(s, w, b, &e, data_id, &batch);
			if (!rc)
				map_add(&mp, ra->puts[i].id, batch.v[batch.n - 1].id);
			if (ra->puts[i].id > mapped_max)
				mapped_max = ra->puts[i].id;
		}
	}
	if (!rc)
		rc = import_flush(s, w, b, &batch);
	if (!rc)
		rc = map_flush(s, w, b, &mp);
	free(batch.v);
	free(mp.pair);
	if (rc)
		return AW_ERROR;
	for (size_t i = 0; i < ra->n_dels; i++) {
		if (map_find(s, w, b, ra->dels[i], &local))
			return AW_ERROR;
		if (!local)
			continue;
		if (event_remove(s, w, local, b, &found) || map_change(s, w, b, ra->dels[i], 0, false))
			return AW_ERROR;
		removed += found;
	}
	b->has_last = false;
	/* the origin deleted them (an archive run there, docs/archive.md): their text goes
	 * from this database too, as it does on the origin */
	return removed ? datas_wipe_unreferenced(s, w) : 0;
}

static int op_state_set(aw_store *s, aw_write *w)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db,
				    w->value ? "INSERT OR REPLACE INTO state(key, value) VALUES (?, ?)"
					     : "DELETE FROM state WHERE key = ?",
				    -1, &st, NULL);

	if (rc != SQLITE_OK)
		return fail_sql(s, w, "saving state");
	sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
	if (w->value)
		sqlite3_bind_text(st, 2, w->value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail_sql(s, w, "saving state");
}

static int op_tombstones_prune(aw_store *s, aw_write *w)
{
	return exec_by_key(s, w, "DELETE FROM tombstones WHERE seq <= ?", w->seq_limit, "pruning deletion records");
}

/* Wipe the text of interned data no event refers to any more (after an archive run, a
 * redact or a bucket delete), so that what was moved out or removed does not linger in
 * `datas`. The rows stay, emptied: ids are never reused (readers may still cache an
 * id's old text), and the writer's intern cache forgets everything, because it may
 * map a wiped text to its id. secure_delete (store.c) zeroes the freed bytes. */
static int collect_ids(aw_store *s, aw_write *w, const char *sql, int64_t a, int64_t b, int64_t **out, size_t *n);

static int datas_wipe_unreferenced(aw_store *s, aw_write *w)
{
	int64_t *ids = NULL;
	bool *used = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	int64_t wiped = 0;
	int rc = collect_ids(s, w, "SELECT id FROM datas WHERE json <> '' AND ?1 = ?2 "
				   "AND id NOT IN (SELECT data FROM events)", 0, 0, &ids, &n);

	if (rc || !n)
		return rc;
	/* sealed events refer to data too: never wipe what a block still uses */
	used = aw_mem_calloc(n, sizeof(*used));
	if (blocks_datas_in_use(s, ids, n, used)) {
		rc = fail_sql(s, w, "clearing unused data");
		goto out;
	}
	if (sqlite3_prepare_v2(s->db, "UPDATE datas SET hash = 0, json = '' WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
		rc = fail_sql(s, w, "clearing unused data");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (used[i])
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, ids[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			rc = fail_sql(s, w, "clearing unused data");
			goto out;
		}
		wiped++;
	}
	if (wiped)
		intern_clear(s);
out:
	sqlite3_finalize(st);
	free(used);
	free(ids);
	return rc;
}

/* Delete what an archive segment now holds. The segment was read from a snapshot and
 * verified on disk before this write was queued; an event that changed since (a
 * heartbeat extended it, a client replaced it) is left alone, so nothing that the
 * segment does not hold exactly is ever removed. The index saved with the deletions
 * is what `awnode archive list` shows: both land in one transaction or neither. */
static int op_archive_delete(aw_store *s, aw_write *w)
{
	bool same, found;

	w->out_dropped = 0;
	for (size_t i = 0; i < w->n_imports; i++) {
		const aw_import_bucket *ib = &w->imports[i];
		wbucket *b = bucket_find(s, ib->bucket.id);

		if (!b || b->remote)
			continue;
		for (size_t j = 0; j < ib->n_events; j++) {
			if (event_stored_as(s, w, ib->events[j].id, &ib->events[j], &same))
				return AW_ERROR;
			if (!same)
				continue;
			if (event_remove(s, w, ib->events[j].id, b, &found))
				return AW_ERROR;
			w->out_dropped += found;
		}
	}
	if (datas_wipe_unreferenced(s, w))
		return AW_ERROR;
	return w->key ? op_state_set(s, w) : 0;
}

/* Collect the integers a one-parameter query returns. Caller frees *out. */
static int collect_ids(aw_store *s, aw_write *w, const char *sql, int64_t a, int64_t b, int64_t **out, size_t *n)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail_sql(s, w, "reading events");
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = aw_mem_grow(*out, *n, &cap, sizeof(**out), 64);
		(*out)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail_sql(s, w, "reading events");
}

/* Redact one bucket: the rule is evaluated once per distinct data value, then every
 * event holding that value is deleted (drop) or moved to the redacted value (redact,
 * with a new change sequence so sync publishes it). */
static int redact_bucket(aw_store *s, aw_write *w, wbucket *b, const aw_privacy *rule)
{
	sqlite3_stmt *st;
	int64_t *datas = NULL, *ids = NULL, new_id;
	size_t n_datas = 0, n_ids;
	int rc;

	/* the SQL below sees rows only: the bucket's sealed days become rows again (they are
	 * sealed again when the writer is idle) */
	if (blocks_unseal_bucket(s, b))
		return fail_sql(s, w, "unsealing a bucket");
	rc = collect_ids(s, w, "SELECT DISTINCT data FROM events WHERE bucket = ?1 AND ?2 = ?2", b->rowid, 0,
			     &datas, &n_datas);

	for (size_t i = 0; !rc && i < n_datas; i++) {
		char *text = NULL, *red = NULL;
		size_t len = 0, red_len = 0;
		int pv;
		bool found;

		st = db_stmt(s->db, &s->st[ST_DATA_TEXT], DATA_TEXT_SQL);
		if (!st) {
			rc = fail_sql(s, w, "reading event data");
			break;
		}
		sqlite3_bind_int64(st, 1, datas[i]);
		if (sqlite3_step(st) == SQLITE_ROW) {
			len = (size_t)sqlite3_column_bytes(st, 0);
			text = xstrndup((const char *)sqlite3_column_text(st, 0), len);
		}
		sqlite3_reset(st);
		pv = text ? aw_privacy_apply(rule, b->name, text, len, &red, &red_len) : AW_PRIVACY_KEEP;
		free(text);
		if (pv == AW_PRIVACY_KEEP)
			continue;
		rc = collect_ids(s, w, "SELECT id FROM events WHERE bucket = ?1 AND data = ?2", b->rowid, datas[i],
				 &ids, &n_ids);
		if (!rc && pv == AW_PRIVACY_DROP)
			w->out_dropped += (int64_t)n_ids;
		if (!rc && pv == AW_PRIVACY_REDACT)
			w->out_redacted += (int64_t)n_ids;
		if (!rc && !w->dry_run && pv == AW_PRIVACY_DROP)
			for (size_t j = 0; !rc && j < n_ids; j++)
				rc = event_remove(s, w, ids[j], b, &found);
		if (!rc && !w->dry_run && pv == AW_PRIVACY_REDACT) {
			rc = intern(s, w, red, red_len, &new_id);
			if (!rc && sqlite3_prepare_v2(s->db, "UPDATE events SET data = ?, seq = ? WHERE bucket = ? AND data = ?",
						      -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, new_id);
				sqlite3_bind_int64(st, 2, ++s->seq);
				sqlite3_bind_int64(st, 3, b->rowid);
				sqlite3_bind_int64(st, 4, datas[i]);
				rc = sqlite3_step(st) == SQLITE_DONE ? 0 : fail_sql(s, w, "redacting events");
				sqlite3_finalize(st);
			} else if (!rc) {
				rc = fail_sql(s, w, "redacting events");
			}
		}
		free(red);
		free(ids);
		ids = NULL;
	}
	free(datas);
	b->has_last = false;
	return rc;
}

static int op_redact(aw_store *s, aw_write *w)
{
	aw_privacy *rule;
	int rc = 0;

	if (!w->value || aw_privacy_parse(&rule, w->value, strlen(w->value), true))
		return fail(w, AW_EINVALID, "%s", aw_error_last());
	for (size_t i = 0; !rc && i < s->n_buckets; i++)
		if (!s->buckets[i].remote)
			rc = redact_bucket(s, w, &s->buckets[i], rule);
	aw_privacy_free(rule);
	if (!rc && !w->dry_run)
		rc = datas_wipe_unreferenced(s, w);
	return rc;
}

static int apply(aw_store *s, aw_write *w)
{
	switch (w->kind) {
	case AW_W_BUCKET_CREATE: return op_bucket_create(s, w);
	case AW_W_BUCKET_DELETE: return op_bucket_delete(s, w);
	case AW_W_EVENTS_INSERT: return op_events_insert(s, w);
	case AW_W_HEARTBEAT: return op_heartbeat(s, w);
	case AW_W_EVENT_DELETE: return op_event_delete(s, w);
	case AW_W_IMPORT: return op_import(s, w);
	case AW_W_SETTING_SET: return settings_write(s, w, true);
	case AW_W_SETTING_DELETE: return settings_write(s, w, false);
	case AW_W_SETTINGS_CLAIM: return settings_claim(s, w);
	case AW_W_SYNC_BARRIER: return 0;
	case AW_W_REMOTE_APPLY: return op_remote_apply(s, w);
	case AW_W_STATE_SET: return op_state_set(s, w);
	case AW_W_REDACT: return op_redact(s, w);
	case AW_W_ARCHIVE_DELETE: return op_archive_delete(s, w);
	case AW_W_TOMBSTONES_PRUNE: return op_tombstones_prune(s, w);
	case AW_W_CHECKPOINT: return 0; /* after the commit: see run_batch */
	}
	return fail(w, AW_EINVALID, "%s", "unknown write");
}

/* ---- truncating the WAL after removals (storage.h, "Removed text and the WAL") ------- */

#define CKPT_TRIES 5
#define CKPT_WAIT_MS 200

/* Does this write, once committed, leave removed text in older WAL frames? */
static bool removes_content(const aw_write *w)
{
	if (w->status)
		return false;
	return w->kind == AW_W_ARCHIVE_DELETE || w->kind == AW_W_BUCKET_DELETE ||
	       (w->kind == AW_W_REDACT && !w->dry_run);
}

static bool wal_is_empty(const aw_store *s)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s-wal", s->path);
	return stat(path, &st) != 0 || st.st_size == 0;
}

/* Checkpoint everything and truncate the WAL to zero bytes. Outside any transaction,
 * with every cached statement reset: a statement left on a row would hold this
 * connection's own read mark and the checkpoint could never restart the log. Readers
 * of other connections reading from the WAL make SQLite wait (the busy handler, shortened
 * here so the writer stalls at most about a second) and then report SQLITE_BUSY; a
 * few tries usually find a moment between their snapshots. */
static int wal_truncate(aw_store *s, char *err, size_t errlen)
{
	int rc = SQLITE_BUSY, log = -1, done = -1;

	for (int i = 0; i < ST_COUNT; i++)
		if (s->st[i])
			sqlite3_reset(s->st[i]);
	/* a checkpoint of the checkpointer's in progress would make this one fail at once
	 * (SQLite does not wait for another checkpoint): wait for it to end, and keep the
	 * next from starting meanwhile */
	checkpointer_hold(s);
	sqlite3_busy_timeout(s->db, CKPT_WAIT_MS);
	for (int i = 0; i < CKPT_TRIES; i++) {
		rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
		/* log = -1: not in WAL mode, there is no log to hold old pages */
		if (rc == SQLITE_OK && log <= 0)
			break;
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
	}
	sqlite3_busy_timeout(s->db, AW_BUSY_TIMEOUT_MS);
	checkpointer_release(s);
	if (rc == SQLITE_OK && log <= 0 && wal_is_empty(s))
		return 0;
	snprintf(err, errlen,
		 "the write-ahead log could not be truncated (%s; %d frames, %d copied back): readers held an older "
		 "snapshot, so removed text stays in %s-wal until the next checkpoint",
		 rc == SQLITE_OK ? "not emptied" : sqlite3_errstr(rc), log, done, s->path);
	return AW_EBUSY;
}

/* After the batch's commit (or its rollback), before anyone is told: truncate the WAL
 * when a write removed content or asked for it, and tell those writes how it went. */
static void checkpoint_if_needed(aw_store *s, aw_write *batch)
{
	char err[sizeof(batch->error)];
	bool want = false;
	int rc;

	for (aw_write *w = batch; w && !want; w = w->next)
		want = w->kind == AW_W_CHECKPOINT || removes_content(w);
	if (!want)
		return;
	rc = wal_truncate(s, err, sizeof(err));
	for (aw_write *w = batch; w; w = w->next) {
		if (removes_content(w))
			w->wal_status = rc;
		if (w->kind == AW_W_CHECKPOINT) {
			w->status = rc;
			snprintf(w->error, sizeof(w->error), "%s", rc ? err : "");
		}
	}
}

/* ---- the loop ------------------------------------------------------------------------ */

static bool exec(aw_store *s, int idx, const char *sql)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->st[idx], sql);

	return st && sqlite3_step(st) == SQLITE_DONE;
}

/* ---- sealing closed days (blocks.c) --------------------------------------------------- */

/* One transaction sealing at most BLK_SEAL_CHUNK days, so a write that arrives meanwhile
 * waits for one small chunk only; true when more may remain. When nothing is left to
 * seal, the freed pages leave the file (auto_vacuum=INCREMENTAL, schema.c) and
 * seal_pending is cleared. A failure is logged and leaves the days as rows, which every
 * reader and writer handles. */
static bool seal_chunk(aw_store *s)
{
	int sealed = 0;
	bool ok = exec(s, ST_BEGIN, "BEGIN IMMEDIATE");

	ok = ok && blocks_seal_some(s, aw_time_now(), BLK_SEAL_CHUNK, &sealed) == 0;
	if (ok && sealed < BLK_SEAL_CHUNK)
		ok = sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL) == SQLITE_OK;
	ok = ok && exec(s, ST_COMMIT, "COMMIT");
	if (!ok) {
		aw_log_warn("sealing closed days: %s", sqlite3_errmsg(s->db));
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->seal_pending = false;
		writer_load(s);
		s->seal_pending = false;
		return false;
	}
	if (sealed < BLK_SEAL_CHUNK) {
		s->seal_pending = false;
		/* done: the compression context and a day's scratch wait for the next time */
		blk_buf_free(&s->blk);
	}
	return s->seal_pending;
}

static void seal_all(aw_store *s)
{
	s->seal_pending = true;
	while (seal_chunk(s))
		;
}

/*
 * Import batches (an import's chunk, another device's changes) get a longer log
 * checkpoint interval, and the page cache the store was opened with for them. A write
 * of 8192 imported events dirties most pages of the datas index, whose keys are hashes
 * (new data land all over it): some 1,000 pages of a ten-year database. With SQLite's
 * default interval of 1,000 log pages every such write was checkpointed on its own, so
 * each page was read and written once more per write; at IMPORT_WAL_PAGES a checkpoint
 * copies a page once for many writes, and the log grows to about that many 4 KiB pages.
 * With the default cache of 2 MiB the transaction also spilled pages to the log and
 * read them back before it committed; `awnode import FILE` runs with a cache that holds
 * the ten-year data set's index (the node keeps the default: its import holds the
 * whole document in memory already, and a year's index fits). The first other batch
 * brings both back to the defaults, unless the writer got there first (settle_after_import).
 * `awnode import FILE` of ten years (2,785,651 events): 10.6 s with the defaults, 7.6 s
 * so, 7 MB more peak memory (docs/storage.md).
 */
#define IMPORT_WAL_PAGES 16384
#define DEFAULT_CACHE_KIB 2000 /* SQLite's default, cache_size = -2000 */

static void tune_for_batch(aw_store *s, const aw_write *batch)
{
	bool import = false;
	int cache = s->opts.import_cache_kib > DEFAULT_CACHE_KIB ? s->opts.import_cache_kib : 0;
	char sql[48];

	for (const aw_write *w = batch; w && !import; w = w->next)
		import = w->kind == AW_W_IMPORT || w->kind == AW_W_REMOTE_APPLY;
	if (import == s->import_tuned)
		return;
	s->import_tuned = import;
	checkpointer_set_pages(s, import ? IMPORT_WAL_PAGES : CKPT_DEFAULT_PAGES);
	if (!cache)
		return;
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", import ? cache : DEFAULT_CACHE_KIB);
	/* a failure leaves the cache as it was: slower, not wrong */
	(void)sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static void run_batch(aw_store *s, aw_write *batch)
{
	bool failed = false;
	const char *why = NULL;
	aw_write *w, *next;

	tune_for_batch(s, batch);
	if (!exec(s, ST_BEGIN, "BEGIN IMMEDIATE")) {
		failed = true;
		db_error(s->db, "starting transaction");
	}
	for (w = batch; w && !failed; w = w->next) {
		/* An SQLite failure here leaves the transaction in an unknown state: give up on
		 * the batch. Validation failures (other codes) touched nothing. */
		if (apply(s, w) == AW_ERROR)
			failed = true;
	}
	if (!failed && flush_state(s))
		failed = true;
	write_trace_mark(s, WT_APPLIED, 0);
	if (!failed && !exec(s, ST_COMMIT, "COMMIT")) {
		db_error(s->db, "committing");
		failed = true;
	}
	write_trace_mark(s, WT_COMMITTED, 0);
	if (failed) {
		why = aw_error_last();
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		for (w = batch; w; w = w->next) {
			if (w->status && w->status != AW_ERROR)
				continue;
			aw_write_clear(w);
			w->status = AW_ERROR;
			snprintf(w->error, sizeof(w->error), "write not stored: %s", why);
		}
		writer_load(s);
	} else {
		s->stored_next_id = s->next_id;
		s->stored_seq = s->seq;
	}
	checkpoint_if_needed(s, batch);
	for (w = batch; w; w = w->next)
		if (w->private_flags & AW_WRITE_SEAL_ALL) {
			seal_all(s);
			break;
		}
	for (w = batch; w; w = next) {
		next = w->next; /* done() may free w */
		if (w->done)
			w->done(w, w->ctx);
	}
	if (s->opts.batch_done)
		s->opts.batch_done(s->opts.batch_ctx);
}

/*
 * The log an import leaves behind holds up to IMPORT_WAL_PAGES, which otherwise waited
 * for the next write to cross the default threshold (and, while checkpoints ran inside
 * commits, made the first heartbeat after a year's import wait 36 ms). So once the
 * writer has been idle for IMPORT_SETTLE_NS after an import batch, it restores the
 * defaults and has the log copied: by the checkpointer, or where there is none, itself.
 * PASSIVE: a reader is not waited for, and the pages its snapshot still needs are copied
 * by a later checkpoint. An import's next chunk follows within milliseconds, well inside
 * the wait.
 */
#define IMPORT_SETTLE_NS (100 * 1000000L)

static void settle_after_import(aw_store *s)
{
	tune_for_batch(s, NULL);
	if (s->ckpt_started)
		checkpointer_wake(s);
	else
		(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

static size_t intern_bytes(const aw_store *s)
{
	return s->intern_used * 96;
}

/*
 * Group commit under load. A commit costs an fsync and the writeback of every page it
 * changed, whatever the number of writes it carries, so under a stream of heartbeats
 * from many clients the writer spends most of its time on commits of a few writes each.
 * When the previous batch held more than one write (other clients are active), the
 * writer lingers up to LINGER_NS, or until twice that many writes wait, before it takes
 * the next batch. A lone client never waits: its batches hold one write. Nothing is
 * acknowledged before its commit, so durability does not change; a write waits at most
 * LINGER_NS longer.
 *
 * The wait also ends once as many writes wait as the node has connections sending
 * writes (aw_store_set_clients): with each one's request queued, none can join. Without
 * that end a fixed linger ran to its timeout every time (twice the last batch is more
 * than 32 clients can send), so a longer one only cost throughput; with it the linger
 * ends as the last client's heartbeat arrives, and its timeout, 400 us, only bounds
 * the wait for a client that is slow or idle.
 *
 * Lingering saves CPU but keeps the writer and the HTTP loop taking turns; where a core
 * is free, batches that flow (no linger) carry more. batch_policy.c measures which is
 * faster and sets s->policy.gather.
 */
#define LINGER_NS 400000L

static void linger(aw_store *s, int last_n)
{
	struct timespec until;
	int want = last_n * 2 < s->opts.max_batch ? last_n * 2 : s->opts.max_batch;

	if (s->clients > 0 && want > s->clients)
		want = s->clients;
	if (!s->policy.gather || last_n < 2 || s->queued >= want || s->closing)
		return;
	until = aw_time_monotonic_after(LINGER_NS);
	s->wake_at = want;
	while (s->queued < want && !s->closing)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until))
			break;
	s->wake_at = 1;
}

void *writer_main(void *arg)
{
	aw_store *s = arg;
	aw_write *batch, *last;
	int n = 0;

	bool more = false;

	for (;;) {
		bool seal = false, settle = false;

		pthread_mutex_lock(&s->mu);
		/* Sealing waits for the writer to be idle: SEAL_QUIET_SECONDS without a write
		 * when there may be days to seal (a steady stream of heartbeats never pays for
		 * it), or SEAL_CHECK_SECONDS to notice days that closed as time passed; chunks
		 * follow each other at once while the queue stays empty. An import's log is
		 * settled first, after IMPORT_SETTLE_NS (import_tuned is the writer's own). */
		while (!s->head && !s->closing && !seal && !settle) {
			struct timespec until;
			if (s->seal_pending && more) {
				seal = true;
				break;
			}
			more = false;
			until = aw_time_monotonic_after(
				s->import_tuned ? IMPORT_SETTLE_NS
						: (aw_ns)(s->seal_pending ? SEAL_QUIET_SECONDS : SEAL_CHECK_SECONDS) *
							  AW_NS_PER_SEC);
			if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT && !s->head) {
				if (s->import_tuned)
					settle = true;
				else
					seal = s->seal_pending = true;
			}
		}
		if (settle && !s->head && !s->closing) {
			pthread_mutex_unlock(&s->mu);
			settle_after_import(s);
			continue;
		}
		if (seal && !s->head && !s->closing) {
			pthread_mutex_unlock(&s->mu);
			more = seal_chunk(s);
			continue;
		}
		if (!s->head) {
			pthread_mutex_unlock(&s->mu);
			/* closing: what is left to seal is quick (a year of events takes about a
			 * second), and a CLI run or a short-lived node would otherwise leave its
			 * closed days as rows */
			if (s->seal_pending)
				seal_all(s);
			break;
		}
		write_trace_mark(s, WT_ARRIVED, 0);
		linger(s, n);
		batch = last = s->head;
		for (n = 1; last->next && n < s->opts.max_batch; n++)
			last = last->next;
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		s->queued -= n;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);
		write_trace_mark(s, WT_TAKEN, 0);
		batch_policy_taken(&s->policy, aw_time_monotonic(), n);

		/* An import seals its closed days as it writes them (blocks_import); what it
		 * leaves as rows waits for the quiet second like any write's: an import job's
		 * next write follows within milliseconds, and sealing in between would make it
		 * wait for seal transactions and their commits. */
		run_batch(s, batch);
		write_trace_mark(s, WT_DONE, n);
		checkpointer_finish(s);
		/* Keep the intern cache small between bursts (an import can fill it). */
		if (intern_bytes(s) > INTERN_MAX_BYTES)
			intern_clear(s);
		/* and the decoder's buffer after an unusually large day (it holds one day) */
		if (s->blk.cap * sizeof(*s->blk.v) > INTERN_MAX_BYTES / 2)
			blk_buf_free(&s->blk);
	}
	return NULL;
}
