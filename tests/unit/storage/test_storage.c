/* Unit tests for the storage module against a real SQLite file: schema migrations,
 * data interning, ActivityWatch's heartbeat merge rules (docs/api.md), range reads with
 * clipping, exact bucket metadata, the change sequence and tombstones, and that
 * removed text does not outlive its removal in the WAL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "aw/storage.h"
#include "aw/transfer.h"
#include "tmpdir.h"
/* the sealed-day codec and the seal-now flag (storage/src/blocks.c) */
#include "../../../storage/src/internal.h"

#define S(x) ((aw_ns)(x) * AW_NS_PER_SEC)
#define T0 S(1514768461) /* 2018-01-01T01:01:01Z */

typedef struct fixture {
	char *dir;
	char path[96];
	aw_store *s;
	aw_reader *r;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	assert_int_equal(aw_store_open(&f->s, f->path, NULL), 0);
	assert_int_equal(aw_reader_open(&f->r, f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	int rc;

	aw_reader_close(f->r);
	aw_store_close(f->s);
	rc = test_tmpdir_remove(f->dir);
	free(f);
	return rc;
}

static void create_bucket(fixture *f, const char *id)
{
	aw_bucket b = {.id = (char *)id, .type = "t", .client = "c", .hostname = "h", .created = T0, .data = "{}"};
	aw_write w = {.kind = AW_W_BUCKET_CREATE, .bucket = &b};

	assert_int_equal(aw_store_write(f->s, &w), 0);
}

static aw_event ev(aw_ns start, aw_ns dur, const char *data)
{
	aw_event e = {.start = start, .duration = dur, .data = (char *)data, .data_len = strlen(data)};
	return e;
}

static aw_event heartbeat(fixture *f, const char *bucket, aw_event e, aw_ns pulse)
{
	aw_write w = {.kind = AW_W_HEARTBEAT, .bucket_id = bucket, .events = &e, .n_events = 1, .pulsetime = pulse};
	aw_event out;

	assert_int_equal(aw_store_write(f->s, &w), 0);
	out = w.out_events[0];
	out.data = NULL;
	aw_write_clear(&w);
	return out;
}

static int64_t insert(fixture *f, const char *bucket, aw_event e)
{
	aw_write w = {.kind = AW_W_EVENTS_INSERT, .bucket_id = bucket, .events = &e, .n_events = 1};
	int64_t id;

	assert_int_equal(aw_store_write(f->s, &w), 0);
	id = w.out_events[0].id;
	aw_write_clear(&w);
	return id;
}

static void delete_event(fixture *f, const char *bucket, int64_t id)
{
	aw_write w = {.kind = AW_W_EVENT_DELETE, .bucket_id = bucket, .event_id = id};

	assert_int_equal(aw_store_write(f->s, &w), 0);
}

static size_t rows(fixture *f, const char *bucket, aw_ns start, aw_ns end, unsigned flags, aw_event_row **out)
{
	size_t n;

	assert_int_equal(aw_reader_event_rows(out, &n, f->r, bucket, start, end, -1, flags), 0);
	return n;
}

static int64_t sql_int(fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* ---- schema ---------------------------------------------------------------------- */

static void test_fresh_schema_version_and_reopen(void **state)
{
	fixture *f = *state;

	create_bucket(f, "b");
	insert(f, "b", ev(T0, S(1), "{}"));
	assert_int_equal(sql_int(f, "PRAGMA user_version"), aw_store_schema_version());
	aw_reader_close(f->r);
	aw_store_close(f->s);
	assert_int_equal(aw_store_open(&f->s, f->path, NULL), 0);
	assert_int_equal(aw_reader_open(&f->r, f->s), 0);
	int64_t count;
	assert_int_equal(aw_reader_event_count(&count, f->r, "b", 0, AW_NS_MAX), 0);
	assert_int_equal(count, 1);
}

static void test_newer_schema_is_refused(void **state)
{
	fixture *f = *state;
	sqlite3 *db;
	aw_store *s2;

	aw_reader_close(f->r);
	aw_store_close(f->s);
	f->r = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(aw_store_open(&s2, f->path, NULL), AW_ERROR);
	assert_non_null(strstr(aw_error_last(), "newer"));
	/* reopen something valid for teardown */
	unlink(f->path);
	assert_int_equal(aw_store_open(&f->s, f->path, NULL), 0);
}

/* ---- interning ------------------------------------------------------------------- */

static void test_identical_data_is_stored_once(void **state)
{
	fixture *f = *state;

	create_bucket(f, "b");
	for (int i = 0; i < 50; i++)
		insert(f, "b", ev(T0 + S(i * 10), S(1), i % 2 ? "{\"app\":\"a\"}" : "{\"app\":\"b\"}"));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM datas"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 50);
}

/* ---- heartbeats ------------------------------------------------------------------- */

static void test_heartbeat_pulsetime_merges_and_keeps_id(void **state)
{
	fixture *f = *state;
	aw_event a, b;

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0, S(1), "{}"), S(2));
	b = heartbeat(f, "b", ev(T0 + S(2), S(1), "{}"), S(2));
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.start, T0);
	assert_int_equal(b.duration, S(3));
}

static void test_heartbeat_zero_pulse_separate(void **state)
{
	fixture *f = *state;
	aw_event a, b;

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0, S(1), "{}"), 0);
	b = heartbeat(f, "b", ev(T0 + S(2), S(1), "{}"), 0);
	assert_int_not_equal(a.id, b.id);
}

static void test_heartbeat_long_pulse(void **state)
{
	fixture *f = *state;
	aw_event b;

	create_bucket(f, "p120");
	heartbeat(f, "p120", ev(T0, S(1), "{}"), S(120));
	b = heartbeat(f, "p120", ev(T0 + S(120), 0, "{}"), S(120));
	assert_int_equal(b.duration, S(120));
	create_bucket(f, "p60");
	heartbeat(f, "p60", ev(T0, S(1), "{}"), S(60));
	b = heartbeat(f, "p60", ev(T0 + S(120), 0, "{}"), S(60));
	assert_int_equal(b.start, T0 + S(120));
}

static void test_heartbeat_boundary_inclusive_and_data(void **state)
{
	fixture *f = *state;
	aw_event a, b, c;

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0, S(1), "{\"x\":1}"), S(5));
	b = heartbeat(f, "b", ev(T0 + S(6), 0, "{\"x\":1}"), S(5)); /* == end + pulse: merges */
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.duration, S(6));
	c = heartbeat(f, "b", ev(T0 + S(7), 0, "{\"x\":1.0}"), S(5)); /* 1 != 1.0 */
	assert_int_not_equal(c.id, a.id);
}

static void test_heartbeat_before_last_start_is_new_event(void **state)
{
	fixture *f = *state;
	aw_event a, b;

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0 + S(10), S(1), "{}"), S(60));
	b = heartbeat(f, "b", ev(T0, S(1), "{}"), S(60));
	assert_int_not_equal(a.id, b.id);
}

static void test_heartbeat_same_timestamp_merges(void **state)
{
	fixture *f = *state;
	aw_event a, b;

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0, S(2), "{}"), 0);
	b = heartbeat(f, "b", ev(T0, S(1), "{}"), 0);
	assert_int_equal(a.id, b.id);
	assert_int_equal(b.duration, S(2));
}

static void test_heartbeat_consecutive_merges(void **state)
{
	fixture *f = *state;
	aw_event e;
	aw_event_row *r;

	create_bucket(f, "b");
	for (int i = 0; i < 5; i++)
		e = heartbeat(f, "b", ev(T0 + S(i), 0, "{}"), S(10));
	assert_int_equal(e.duration, S(4));
	assert_int_equal(rows(f, "b", 0, AW_NS_MAX, 0, &r), 1);
	assert_int_equal(r[0].duration, S(4));
	assert_int_equal(r[0].id, e.id);
	free(r);
}

/* The cache never goes stale (a deliberate deviation, docs/api.md). */
static void test_heartbeat_after_deleting_cached_event(void **state)
{
	fixture *f = *state;
	aw_event a, b;
	aw_write w = {.kind = AW_W_BUCKET_DELETE, .bucket_id = "b"};

	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0, S(1), "{}"), S(10));
	delete_event(f, "b", a.id);
	b = heartbeat(f, "b", ev(T0 + S(2), S(1), "{}"), S(10));
	assert_int_not_equal(a.id, b.id);
	assert_int_equal(b.start, T0 + S(2));
	/* delete and re-create the bucket: the next heartbeat starts fresh */
	assert_int_equal(aw_store_write(f->s, &w), 0);
	create_bucket(f, "b");
	a = heartbeat(f, "b", ev(T0 + S(3), S(1), "{}"), S(10));
	assert_int_equal(a.start, T0 + S(3));
	assert_int_equal(a.duration, S(1));
}

/* ---- reads --------------------------------------------------------------------------- */

static void test_range_read_clips_and_orders(void **state)
{
	fixture *f = *state;
	aw_event_row *r;

	create_bucket(f, "b");
	insert(f, "b", ev(T0, S(10), "{}"));
	insert(f, "b", ev(T0 + S(10), S(10), "{}"));
	insert(f, "b", ev(T0 + S(20), S(10), "{}"));
	assert_int_equal(rows(f, "b", T0 + S(5), T0 + S(25), AW_EVENTS_CLIP, &r), 3);
	assert_int_equal(r[0].start, T0 + S(20));
	assert_int_equal(r[0].duration, S(5));
	assert_int_equal(r[1].start, T0 + S(10));
	assert_int_equal(r[1].duration, S(10));
	assert_int_equal(r[2].start, T0 + S(5));
	assert_int_equal(r[2].duration, S(5));
	free(r);
	/* inclusive bounds: both events touching T0+10 come back, clipped to zero length */
	assert_int_equal(rows(f, "b", T0 + S(10), T0 + S(10), AW_EVENTS_CLIP, &r), 2);
	assert_int_equal(r[0].duration, 0);
	assert_int_equal(r[1].duration, 0);
	free(r);
	/* a long event covering a short window is found (max_duration bound) */
	insert(f, "b", ev(T0 - S(1000), S(2000), "{\"long\":1}"));
	assert_int_equal(rows(f, "b", T0 + S(900), T0 + S(901), AW_EVENTS_CLIP, &r), 1);
	assert_int_equal(r[0].duration, S(1));
	free(r);
	assert_int_equal(rows(f, "b", T0 + S(5), T0, 0, &r), 0);
	free(r);
}

static void test_metadata_exact_after_delete(void **state)
{
	fixture *f = *state;
	aw_bucket b;
	int64_t first, last;

	create_bucket(f, "b");
	first = insert(f, "b", ev(T0, S(1), "{}"));
	insert(f, "b", ev(T0 + S(5), S(1), "{}"));
	last = insert(f, "b", ev(T0 + S(10), S(5), "{}"));
	delete_event(f, "b", last);
	delete_event(f, "b", first);
	assert_int_equal(aw_reader_bucket(&b, f->r, "b"), 0);
	assert_true(b.has_range);
	assert_int_equal(b.start, T0 + S(5));
	assert_int_equal(b.end, T0 + S(6));
	aw_bucket_clear(&b);
}

static void test_change_sequence_and_tombstones(void **state)
{
	fixture *f = *state;
	int64_t seq0, seq1, id;

	create_bucket(f, "b");
	assert_int_equal(aw_reader_last_seq(&seq0, f->r), 0);
	id = heartbeat(f, "b", ev(T0, S(1), "{}"), S(5)).id;
	heartbeat(f, "b", ev(T0 + S(2), S(1), "{}"), S(5));
	assert_int_equal(aw_reader_last_seq(&seq1, f->r), 0);
	assert_int_equal(seq1, seq0 + 2); /* insert, then the growth of the same event */
	assert_int_equal(sql_int(f, "SELECT seq FROM events"), seq1);
	delete_event(f, "b", id);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM tombstones WHERE event_id IS NOT NULL"), 1);
	assert_int_equal(sql_int(f, "SELECT max(seq) FROM tombstones"), seq1 + 1);
	/* ids are never reused after deletion */
	assert_true(insert(f, "b", ev(T0, S(1), "{}")) > id);
}

static void test_explicit_id_replaces_in_any_bucket(void **state)
{
	fixture *f = *state;
	aw_event e = ev(T0 + S(100), S(1), "{\"moved\":true}");
	int64_t id, count;

	create_bucket(f, "a");
	create_bucket(f, "b");
	id = insert(f, "a", ev(T0, S(1), "{}"));
	e.id = id;
	e.has_id = true;
	assert_int_equal(insert(f, "b", e), id);
	assert_int_equal(aw_reader_event_count(&count, f->r, "a", 0, AW_NS_MAX), 0);
	assert_int_equal(count, 0);
	assert_int_equal(aw_reader_event_count(&count, f->r, "b", 0, AW_NS_MAX), 0);
	assert_int_equal(count, 1);
}

static void test_import_merge_is_idempotent(void **state)
{
	fixture *f = *state;
	aw_event evs[2] = {ev(T0, S(1), "{\"a\":1}"), ev(T0 + S(2), S(1), "{\"a\":2}")};
	aw_import_bucket ib = {.bucket = {.id = "imp", .type = "t", .client = "c", .hostname = "h",
					  .created = T0, .data = "{}"},
			       .events = evs, .n_events = 2};
	aw_write w = {.kind = AW_W_IMPORT, .imports = &ib, .n_imports = 1};
	int64_t count;

	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_reader_event_count(&count, f->r, "imp", 0, AW_NS_MAX), 0);
	assert_int_equal(count, 2);
}

static void test_remote_bucket_is_read_only(void **state)
{
	fixture *f = *state;
	aw_bucket b = {.id = "r", .type = "t", .client = "c", .hostname = "other", .created = T0, .data = "{}"};
	aw_write w = {.kind = AW_W_BUCKET_CREATE, .bucket = &b, .remote_device = "dev-2"};
	aw_event e = ev(T0, S(1), "{}");
	aw_write ins = {.kind = AW_W_EVENTS_INSERT, .bucket_id = "r", .events = &e, .n_events = 1};
	aw_write del = {.kind = AW_W_BUCKET_DELETE, .bucket_id = "r"};

	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_store_write(f->s, &ins), AW_EREADONLY);
	assert_int_equal(aw_store_write(f->s, &del), AW_EREADONLY);
	ins.allow_remote = true;
	assert_int_equal(aw_store_write(f->s, &ins), 0);
	aw_write_clear(&ins);
}

/* ---- sync support -------------------------------------------------------------------- */

static int collect(void *ctx, const aw_change *c)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	snprintf(buf + n, 1024 - n, "%s%c:%s:%lld", n ? " " : "",
		 c->kind == AW_CHANGE_PUT ? 'P' : c->kind == AW_CHANGE_DEL ? 'D' : 'B', c->bucket_id,
		 (long long)c->event_id);
	return 0;
}

static void test_change_feed(void **state)
{
	fixture *f = *state;
	char buf[1024] = "";
	int64_t since, a, b;
	aw_write del = {.kind = AW_W_BUCKET_DELETE, .bucket_id = "gone"};

	create_bucket(f, "x");
	a = insert(f, "x", ev(T0, S(1), "{}"));
	assert_int_equal(aw_reader_last_seq(&since, f->r), 0);
	b = insert(f, "x", ev(T0 + S(5), S(1), "{}"));
	heartbeat(f, "x", ev(T0 + S(10), S(1), "{}"), 0); /* new event c */
	delete_event(f, "x", a);
	create_bucket(f, "gone");
	insert(f, "gone", ev(T0, S(1), "{}"));
	assert_int_equal(aw_store_write(f->s, &del), 0);
	assert_int_equal(aw_reader_changes(f->r, since, collect, buf), 0);
	char want[256];
	snprintf(want, sizeof(want), "P:x:%lld P:x:%lld D:x:%lld B:gone:0", (long long)b, (long long)b + 1, (long long)a);
	assert_string_equal(buf, want);
}

static void test_remote_apply_is_idempotent_and_excluded_from_feed(void **state)
{
	fixture *f = *state;
	aw_bucket bk = {.id = "aw-watcher-window_other", .type = "currentwindow", .client = "c",
			.hostname = "other", .created = T0, .data = "{}"};
	aw_event puts[2] = {ev(T0, S(1), "{\"a\":1}"), ev(T0 + S(2), S(1), "{\"a\":2}")};
	int64_t dels[1] = {7};
	aw_remote_apply ra = {.device_id = "dev-2", .bucket = &bk, .puts = puts, .n_puts = 2};
	aw_write w = {.kind = AW_W_REMOTE_APPLY, .remote = &ra};
	aw_event_row *r;
	int64_t seq0, seq1;
	char buf[1024] = "";
	aw_bucket got;

	puts[0].id = 7, puts[0].has_id = true;
	puts[1].id = 8, puts[1].has_id = true;
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_reader_last_seq(&seq0, f->r), 0);
	assert_int_equal(aw_store_write(f->s, &w), 0); /* again: nothing changes */
	assert_int_equal(aw_reader_last_seq(&seq1, f->r), 0);
	assert_int_equal(seq0, seq1);
	assert_int_equal(rows(f, bk.id, 0, AW_NS_MAX, 0, &r), 2);
	free(r);
	assert_int_equal(aw_reader_bucket(&got, f->r, bk.id), 0);
	assert_string_equal(got.remote_device, "dev-2");
	aw_bucket_clear(&got);
	/* a grown event replaces in place */
	puts[1].duration = S(5);
	ra.n_puts = 1;
	ra.puts = &puts[1];
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(rows(f, bk.id, 0, AW_NS_MAX, 0, &r), 2);
	assert_int_equal(r[0].duration, S(5));
	free(r);
	/* delete by source id */
	ra.n_puts = 0;
	ra.dels = dels;
	ra.n_dels = 1;
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(rows(f, bk.id, 0, AW_NS_MAX, 0, &r), 1);
	free(r);
	/* remote changes never show in this device's change feed */
	assert_int_equal(aw_reader_changes(f->r, 0, collect, buf), 0);
	assert_string_equal(buf, "");
	/* another device cannot take the id; a local bucket cannot be overwritten */
	ra.device_id = "dev-3";
	assert_int_equal(aw_store_write(f->s, &w), AW_EEXISTS);
	create_bucket(f, "mine");
	bk.id = "mine";
	ra.device_id = "dev-2";
	assert_int_equal(aw_store_write(f->s, &w), AW_EEXISTS);
}

/* A first pull's apply: hundreds of new events over closed days and today, written
 * the way an import writes them (closed days straight into blocks), with a source id
 * that comes twice (a grown heartbeat) and one deleted in the same apply. */
static void test_remote_apply_of_many_events(void **state)
{
	fixture *f = *state;
	enum { N = 300 };
	aw_bucket bk = {.id = "aw-watcher-window_far", .type = "currentwindow", .client = "c",
			.hostname = "far", .created = T0, .data = "{}"};
	static aw_event puts[N + 1];
	static char data[N][32];
	int64_t dels[1] = {1000 + 5}, seq0, seq1;
	aw_remote_apply ra = {.device_id = "dev-9", .bucket = &bk, .puts = puts, .n_puts = N + 1,
			      .dels = dels, .n_dels = 1};
	aw_write w = {.kind = AW_W_REMOTE_APPLY, .remote = &ra};
	aw_event_row *r;
	aw_ns now = aw_time_now();
	size_t n;

	for (int i = 0; i < N; i++) {
		/* the first 250 over ten closed days, the rest within the last hour */
		aw_ns start = i < 250 ? T0 + S(86400) * (i / 25) + S(60) * (i % 25) : now - S(3600) + S(10) * (i - 250);
		snprintf(data[i], sizeof(data[i]), "{\"n\":%d}", i % 40);
		puts[i] = ev(start, S(5), data[i]);
		puts[i].id = 1000 + i;
		puts[i].has_id = true;
	}
	puts[N] = puts[3]; /* source id 1003 again, grown */
	puts[N].duration = S(50);
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM remote_ids"), N - 1);
	assert_int_equal(sql_int(f, "SELECT count(DISTINCT local_id) FROM remote_ids"), N - 1);
	assert_true(sql_int(f, "SELECT count(*) FROM blocks") >= 9); /* sealed as they came */
	n = rows(f, bk.id, 0, AW_NS_MAX, 0, &r);
	assert_int_equal(n, N - 1);
	for (size_t i = 0; i < n; i++) {
		if (r[i].start == puts[3].start)
			assert_int_equal(r[i].duration, S(50));
		assert_true(r[i].start != puts[5].start);
		for (size_t k = 0; k < i; k++)
			assert_true(r[i].id != r[k].id);
	}
	free(r);
	/* the same puts again (past the deleted one, whose id is free to come back): nothing
	 * changes */
	assert_int_equal(aw_reader_last_seq(&seq0, f->r), 0);
	ra.puts = puts + 6;
	ra.n_puts = N + 1 - 6;
	ra.n_dels = 0;
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_reader_last_seq(&seq1, f->r), 0);
	assert_int_equal(seq0, seq1);
	assert_int_equal(rows(f, bk.id, 0, AW_NS_MAX, 0, &r), N - 1);
	free(r);
}

static void test_private_state(void **state)
{
	fixture *f = *state;
	aw_write w = {.kind = AW_W_STATE_SET, .key = "sync.cursor", .value = "42"};
	char *v = NULL;

	assert_int_equal(aw_reader_state(&v, f->r, "sync.cursor"), AW_ENOTFOUND);
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_reader_state(&v, f->r, "sync.cursor"), 0);
	assert_string_equal(v, "42");
	free(v);
	w.value = NULL;
	assert_int_equal(aw_store_write(f->s, &w), 0);
	assert_int_equal(aw_reader_state(&v, f->r, "sync.cursor"), AW_ENOTFOUND);
}

/* ---- settings: origins, last writer wins, history (docs/storage.md, "Settings") ---- */

static int setting_write(fixture *f, const char *key, const char *value, const char *dev, aw_ns hlc, bool *applied)
{
	aw_write w = {.kind = value ? AW_W_SETTING_SET : AW_W_SETTING_DELETE, .key = key, .value = value,
		      .origin_device = dev, .origin_hostname = "h", .origin_hlc = hlc};
	int rc = aw_store_write(f->s, &w);

	if (applied)
		*applied = w.out_applied;
	return rc;
}

static char *setting(fixture *f, const char *key)
{
	char *v = NULL;

	return aw_reader_setting(&v, f->r, key) ? NULL : v;
}

static void assert_setting(fixture *f, const char *key, const char *want)
{
	char *v = setting(f, key);

	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void test_settings_last_writer_wins(void **state)
{
	fixture *f = *state;
	aw_ns now = aw_time_now();
	aw_setting_meta *m;
	size_t n;
	bool applied;

	/* a change from elsewhere wins over a value nobody stamped */
	assert_int_equal(setting_write(f, "k", "\"remote\"", "dev-b", 5, &applied), 0);
	assert_true(applied);
	/* older, or equal with a smaller device id: ignored (and not an error) */
	assert_int_equal(setting_write(f, "k", "\"older\"", "dev-c", 4, &applied), 0);
	assert_false(applied);
	assert_int_equal(setting_write(f, "k", "\"tie-lower\"", "dev-a", 5, &applied), 0);
	assert_false(applied);
	assert_setting(f, "k", "\"remote\"");
	/* equal reading, larger device id: wins; so every device picks the same */
	assert_int_equal(setting_write(f, "k", "\"tie-higher\"", "dev-c", 5, &applied), 0);
	assert_true(applied);
	/* a local change orders after everything seen, even a reading ahead of the clock */
	assert_int_equal(setting_write(f, "k2", "1.0", "dev-b", now + S(3600), &applied), 0);
	assert_int_equal(setting_write(f, "k", "\"mine\"", "dev-self", 0, &applied), 0);
	assert_true(applied);
	assert_int_equal(aw_reader_settings_meta(&m, &n, f->r), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].key, "k");
	assert_true(m[0].hlc > now + S(3600));
	assert_string_equal(m[0].device, "dev-self");
	aw_setting_metas_free(m, n);
	/* replaced values are kept, newest first, and so are changes that lost on arrival
	 * (once: the same change comes again with every later manifest of its device) */
	assert_int_equal(setting_write(f, "k", "\"older\"", "dev-c", 4, &applied), 0);
	assert_int_equal(aw_reader_settings_history(&m, &n, f->r), 0);
	assert_int_equal(n, 4);
	assert_string_equal(m[0].value, "\"tie-higher\"");
	assert_string_equal(m[1].value, "\"remote\"");
	assert_string_equal(m[2].value, "\"tie-lower\"");
	assert_string_equal(m[3].value, "\"older\"");
	assert_string_equal(m[3].device, "dev-c");
	assert_true(m[0].replaced_at > 0);
	aw_setting_metas_free(m, n);
	/* a deletion is a change too: it travels and wins like a value */
	assert_int_equal(setting_write(f, "k", NULL, "dev-z", now + S(7200), &applied), 0);
	assert_true(applied);
	assert_setting(f, "k", NULL);
	assert_int_equal(setting_write(f, "k", "\"late\"", "dev-b", now + S(7000), &applied), 0);
	assert_false(applied);
	assert_setting(f, "k", NULL);
}

static void test_settings_refused_and_local(void **state)
{
	fixture *f = *state;
	aw_ns now = aw_time_now();
	aw_setting_meta *m;
	size_t n;
	bool applied;

	assert_int_equal(setting_write(f, "privacy_filters", "[]", "dev-self", 0, NULL), 0);
	/* rules that do not parse would switch filtering off: refused */
	assert_int_equal(setting_write(f, "privacy_filters", "[{\"pattern\":\"(\"}]", "dev-b", now, &applied),
			 AW_EINVALID);
	assert_setting(f, "privacy_filters", "[]");
	/* more than a day ahead of this clock, or from no device: refused */
	assert_int_equal(setting_write(f, "x", "1.0", "dev-b", now + S(2 * 86400), NULL), AW_EINVALID);
	assert_int_equal(setting_write(f, "x", "1.0", NULL, now, NULL), AW_EINVALID);
	assert_setting(f, "x", NULL);
	/* the theme, and what the local list names, stay as they are here */
	assert_int_equal(setting_write(f, "theme", "\"dark\"", "dev-self", 0, NULL), 0);
	assert_int_equal(setting_write(f, "theme", "\"light\"", "dev-b", now + S(60), &applied), 0);
	assert_false(applied);
	assert_int_equal(setting_write(f, AW_SETTINGS_LOCAL_KEY, "[\"startOfDay\"]", "dev-self", 0, NULL), 0);
	assert_int_equal(setting_write(f, "startOfDay", "\"04:00\"", "dev-b", now + S(60), &applied), 0);
	assert_false(applied);
	assert_int_equal(setting_write(f, AW_SETTINGS_LOCAL_KEY, "[]", "dev-b", now + S(60), &applied), 0);
	assert_false(applied);
	/* the list replaced the default: the theme travels now */
	assert_int_equal(setting_write(f, "theme", "\"light\"", "dev-b", now + S(120), &applied), 0);
	assert_true(applied);
	assert_int_equal(aw_reader_settings_meta(&m, &n, f->r), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m[i].local, !strcmp(m[i].key, AW_SETTINGS_LOCAL_KEY));
	aw_setting_metas_free(m, n);
}

static void test_settings_history_is_bounded_and_claim_stamps(void **state)
{
	fixture *f = *state;
	aw_write claim = {.kind = AW_W_SETTINGS_CLAIM, .origin_device = "dev-self", .origin_hostname = "me"};
	aw_setting_meta *m;
	size_t n;
	char v[16];

	for (int i = 0; i < 30; i++) {
		snprintf(v, sizeof(v), "%d.0", i);
		assert_int_equal(setting_write(f, "k", v, NULL, 0, NULL), 0);
	}
	assert_int_equal(aw_reader_settings_history(&m, &n, f->r), 0);
	assert_int_equal(n, 20);
	assert_string_equal(m[0].value, "28.0");
	aw_setting_metas_free(m, n);
	/* changes that named no device become this device's when sync claims them */
	assert_int_equal(aw_store_write(f->s, &claim), 0);
	assert_int_equal(aw_reader_settings_meta(&m, &n, f->r), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].device, "dev-self");
	assert_string_equal(m[0].hostname, "me");
	assert_true(m[0].hlc > 1);
	aw_setting_metas_free(m, n);
}

/* Does the file hold these bytes? (A missing file holds nothing.) */
static bool file_has(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, n, nl = strlen(needle);
	char *buf = malloc(cap);
	bool found = false;

	while (fp && (n = fread(buf + len, 1, cap - len, fp)) > 0)
		if ((len += n) == cap)
			buf = realloc(buf, cap *= 2);
	for (size_t i = 0; i + nl <= len && !found; i++)
		found = !memcmp(buf + i, needle, nl);
	if (fp)
		fclose(fp);
	free(buf);
	return found;
}

static long file_size(const char *path)
{
	FILE *fp = fopen(path, "rb");
	long n = -1;

	if (fp && fseek(fp, 0, SEEK_END) == 0)
		n = ftell(fp);
	if (fp)
		fclose(fp);
	return n;
}

/* storage.h, "Removed text and the WAL": a removing write truncates the WAL before it
 * completes; a reader inside an older snapshot makes that fail visibly (wal_status),
 * and an explicit checkpoint once the reader is done finishes the job. */
static void test_removals_truncate_the_wal(void **state)
{
	fixture *f = *state;
	char wal[128];
	aw_bucket *bs;
	size_t nb;
	aw_write del = {.kind = AW_W_BUCKET_DELETE, .bucket_id = "gone"};

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	create_bucket(f, "gone");
	insert(f, "gone", ev(T0, S(1), "{\"title\":\"salary review of Jane Roe\"}"));
	create_bucket(f, "busy");
	insert(f, "busy", ev(T0, S(1), "{\"title\":\"tender offer for Initech\"}"));
	assert_true(file_has(wal, "salary review of Jane Roe"));
	assert_int_equal(aw_store_write(f->s, &del), 0);
	assert_int_equal(del.wal_status, 0);
	assert_int_equal(file_size(wal), 0);
	assert_false(file_has(wal, "salary review of Jane Roe"));
	assert_false(file_has(f->path, "salary review of Jane Roe"));
	assert_true(file_has(f->path, "tender offer for Initech"));

	/* a reader in a snapshot that reads from the WAL keeps the log in use */
	insert(f, "busy", ev(T0 + S(10), S(1), "{\"title\":\"merger with Initrode\"}"));
	assert_int_equal(aw_reader_begin(f->r), 0);
	assert_int_equal(aw_reader_buckets(&bs, &nb, f->r, 0), 0);
	aw_buckets_free(bs, nb);
	del.bucket_id = "busy";
	assert_int_equal(aw_store_write(f->s, &del), 0);
	assert_int_equal(del.wal_status, AW_EBUSY);
	assert_int_equal(aw_store_checkpoint_truncate(f->s), AW_EBUSY);
	assert_true(file_has(wal, "merger with Initrode"));
	aw_reader_end(f->r);
	assert_int_equal(aw_store_checkpoint_truncate(f->s), 0);
	assert_int_equal(file_size(wal), 0);
	assert_false(file_has(f->path, "merger with Initrode"));
	assert_false(file_has(f->path, "tender offer for Initech"));
}

/* The export cursor hands out exactly the document aw_transfer_export builds, in pieces
 * of any size, and knows its length before the first byte. */
static void test_export_cursor_reads_the_document_in_pieces(void **state)
{
	fixture *f = *state;
	aw_buf whole = AW_BUF_INIT, pieces = AW_BUF_INIT;
	aw_export *x;
	char buf[7], *single = NULL;
	size_t n;

	create_bucket(f, "one");
	create_bucket(f, "two");
	insert(f, "one", ev(T0, S(1), "{\"a\":1}"));
	insert(f, "one", ev(T0 + S(2), S(1), "{\"a\":2}"));
	insert(f, "one", ev(T0 + S(4), S(3), "{\"a\":1}"));
	insert(f, "two", ev(T0, S(1), "{\"a\":2}"));
	assert_int_equal(aw_transfer_export(&whole, NULL, f->r, NULL), 0);
	assert_int_equal(aw_export_open(&x, &single, f->r, NULL), 0);
	assert_null(single);
	assert_int_equal(aw_export_length(x), whole.len);
	while ((n = aw_export_read(x, buf, sizeof(buf))) > 0)
		aw_buf_append(&pieces, buf, n);
	aw_export_close(x);
	assert_int_equal(pieces.len, whole.len);
	assert_memory_equal(pieces.data, whole.data, whole.len);
	assert_non_null(strstr(whole.data, "\"events\":[{\"id\":"));

	assert_int_equal(aw_export_open(&x, &single, f->r, "two"), 0);
	assert_string_equal(single, "two");
	free(single);
	aw_export_close(x);
	assert_int_equal(aw_export_open(&x, NULL, f->r, "none"), AW_ENOTFOUND);
	assert_null(x);
	aw_buf_free(&whole);
	aw_buf_free(&pieces);
}

/* ---- sealed days (blocks.c) ---------------------------------------------------------- */

static void test_block_day_is_a_floor(void **state)
{
	(void)state;
	assert_int_equal(blk_day(0), 0);
	assert_int_equal(blk_day(BLK_DAY_NS - 1), 0);
	assert_int_equal(blk_day(BLK_DAY_NS), 1);
	assert_int_equal(blk_day(-1), -1);
	assert_int_equal(blk_day(-BLK_DAY_NS), -1);
	assert_int_equal(blk_day(-BLK_DAY_NS - 1), -2);
	assert_true(blk_day_lo(blk_day(AW_NS_MIN)) == AW_NS_MIN);
	assert_true(blk_day_hi(blk_day(AW_NS_MAX)) == AW_NS_MAX);
	assert_true(blk_day_lo(blk_day(T0)) <= T0 && T0 <= blk_day_hi(blk_day(T0)));
	assert_true(blk_day_hi(5) + 1 == blk_day_lo(6));
}

static void codec_round_trip(const blk_event *v, size_t n)
{
	blk_buf enc = {0}, b = {0};
	void *body, *again;
	size_t len, again_len;

	assert_int_equal(blk_encode(&enc, v, n, &body, &len), 0);
	/* the encoder keeps its context from day to day: the next frame is the same */
	assert_int_equal(blk_encode(&enc, v, n, &again, &again_len), 0);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, body, len);
	free(again);
	blk_buf_free(&enc);
	b.n = 1; /* decoding appends */
	b.cap = 1;
	b.v = calloc(1, sizeof(*b.v));
	assert_int_equal(blk_decode(&b, body, len, v[0].start), 0);
	assert_int_equal(b.n, n + 1);
	assert_memory_equal(b.v + 1, v, n * sizeof(*v));
	/* a damaged body is refused, not misread */
	((unsigned char *)body)[len / 2] ^= 0x5a;
	b.n = 0;
	assert_int_not_equal(blk_decode(&b, body, len, v[0].start), 0);
	assert_int_not_equal(blk_decode(&b, body, len / 2, v[0].start), 0);
	free(body);
	blk_buf_free(&b);
}

static void test_block_codec_round_trips_any_values(void **state)
{
	blk_event v[64];
	size_t n = 0;

	(void)state;
	/* back to back, ms units (the common case) */
	for (int i = 0; i < 20; i++, n++)
		v[n] = (blk_event){.start = T0 + i * S(60) + (i ? 7000000 : 0), .id = 100 + i, .duration = S(60) - 7000000,
				   .data = 1 + i % 3, .seq = 500 + i};
	codec_round_trip(v, n);
	/* equal starts, ids going down and up, negative and huge durations, large data ids
	 * and seq, nanosecond starts */
	n = 0;
	v[n++] = (blk_event){T0, 9, 0, 1, 1};
	v[n++] = (blk_event){T0, 10, -S(5), INT64_MAX, INT64_MAX};
	v[n++] = (blk_event){T0 + 1, 3, AW_NS_MAX - T0 - 1, 7, 2};
	v[n++] = (blk_event){T0 + 3, INT64_MAX, AW_NS_MIN, 7, 0};
	v[n++] = (blk_event){T0 + S(3600), 1, 123456789, 2, 9};
	codec_round_trip(v, n);
	n = 0;
	v[n++] = (blk_event){-S(86400) * 3 + 5, 1, S(2), 1, 1};
	v[n++] = (blk_event){-S(86400) * 3 + S(100), 2, -S(1000), 1, 2};
	codec_round_trip(v, n);
}

/* midnight UTC: the sealed-day tests count days */
#define TD S(1514764800) /* 2018-01-01T00:00:00Z */

static void seal_now(fixture *f)
{
	aw_write w = {.kind = AW_W_SYNC_BARRIER, .private_flags = AW_WRITE_SEAL_ALL};

	assert_int_equal(aw_store_write(f->s, &w), 0);
}

typedef struct model_ev {
	int64_t id;
	aw_ns start, dur;
	char data[32];
} model_ev;

static int model_cmp_asc(const void *pa, const void *pb)
{
	const model_ev *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->dur != b->dur)
		return a->dur > b->dur ? -1 : 1;
	return (a->id < b->id) - (a->id > b->id);
}

static int model_cmp_desc(const void *pa, const void *pb)
{
	return -model_cmp_asc(pa, pb);
}

static int model_cmp_key(const void *pa, const void *pb)
{
	const model_ev *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/* The reader against a model of its contract: overlap, order, limit, clip, count. */
static void check_reads(fixture *f, const model_ev *all, size_t n_all)
{
	static const aw_ns windows[][2] = {
		{AW_NS_MIN, AW_NS_MAX}, {TD + S(86400), TD + S(86400 * 3)}, {TD + S(86400 * 2) - S(30), TD + S(86400 * 2) + S(30)},
		{TD + S(86400 * 4) + S(3600), TD + S(86400 * 6)}, {TD + S(500), TD + S(500)},
	};
	static const unsigned flagsets[] = {0, AW_EVENTS_ASCENDING, AW_EVENTS_KEY_ORDER, AW_EVENTS_CLIP,
					    AW_EVENTS_CLIP | AW_EVENTS_KEY_ORDER};
	static const int64_t limits[] = {-1, 1, 3, 40};
	model_ev *m = calloc(n_all, sizeof(*m));

	for (size_t wi = 0; wi < sizeof(windows) / sizeof(windows[0]); wi++) {
		aw_ns lo = windows[wi][0], hi = windows[wi][1];
		size_t n = 0;
		int64_t count;

		for (size_t i = 0; i < n_all; i++)
			if (all[i].start <= hi && aw_ns_add_sat(all[i].start, all[i].dur) >= lo)
				m[n++] = all[i];
		assert_int_equal(aw_reader_event_count(&count, f->r, "b", lo, hi), 0);
		assert_int_equal(count, lo < hi ? (int64_t)n : 0);
		for (size_t fi = 0; fi < sizeof(flagsets) / sizeof(flagsets[0]); fi++) {
			unsigned fl = flagsets[fi];
			qsort(m, n, sizeof(*m),
			      fl & AW_EVENTS_KEY_ORDER ? model_cmp_key : fl & AW_EVENTS_ASCENDING ? model_cmp_asc : model_cmp_desc);
			for (size_t li = 0; li < sizeof(limits) / sizeof(limits[0]); li++) {
				aw_event_row *rows;
				size_t got, want = limits[li] < 0 || (size_t)limits[li] > n ? n : (size_t)limits[li];
				assert_int_equal(aw_reader_event_rows(&rows, &got, f->r, "b", lo, hi, limits[li], fl), 0);
				assert_int_equal(got, want);
				for (size_t i = 0; i < got; i++) {
					aw_ns s0 = m[i].start, e0 = m[i].start + m[i].dur;
					const char *json;
					size_t len;
					if (fl & AW_EVENTS_CLIP) {
						s0 = s0 > lo ? s0 : lo;
						e0 = e0 < hi ? e0 : hi;
					}
					assert_int_equal(rows[i].id, m[i].id);
					assert_true(rows[i].start == s0 && rows[i].duration == e0 - s0);
					assert_int_equal(aw_reader_data(&json, &len, f->r, rows[i].data_id), 0);
					assert_int_equal(len, strlen(m[i].data));
					assert_memory_equal(json, m[i].data, len);
				}
				free(rows);
			}
		}
	}
	for (size_t i = 0; i < n_all; i++) {
		aw_event e;
		assert_int_equal(aw_reader_event_get(&e, f->r, "b", all[i].id), 0);
		assert_true(e.start == all[i].start && e.duration == all[i].dur);
		assert_string_equal(e.data, all[i].data);
		aw_event_clear(&e);
	}
	free(m);
}

static void test_sealed_days_read_as_rows(void **state)
{
	fixture *f = *state;
	model_ev all[80];
	size_t n = 0;
	aw_bucket b;

	create_bucket(f, "b");
	for (int d = 0; d < 6; d++) {
		for (int k = 0; k < 10; k++, n++) {
			model_ev *e = &all[n];
			e->start = TD + S(86400) * d + S(600) * k + (k % 3 == 0 ? 0 : 1234);
			e->dur = k == 4 ? -S(2) : k == 5 ? 0 : S(30) * (k % 4);
			snprintf(e->data, sizeof(e->data), "{\"k\":%d}", (d * 10 + k) % 7);
			if (k == 7) /* same start as the previous event */
				e->start = all[n - 1].start;
			e->id = insert(f, "b", ev(e->start, e->dur, e->data));
		}
		/* one across midnight */
		all[n].start = TD + S(86400) * (d + 1) - S(10);
		all[n].dur = S(40);
		snprintf(all[n].data, sizeof(all[n].data), "{\"mid\":%d}", d);
		all[n].id = insert(f, "b", ev(all[n].start, all[n].dur, all[n].data));
		n++;
	}
	check_reads(f, all, n);
	seal_now(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blocks"), 5);
	assert_int_equal(sql_int(f, "SELECT sum(n) FROM blocks"), 55);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 11);
	check_reads(f, all, n);
	assert_int_equal(aw_reader_bucket(&b, f->r, "b"), 0);
	assert_true(b.start == TD && b.end == TD + S(86400) * 6 + S(30));
	aw_bucket_clear(&b);
	/* bucket metadata stays exact when a sealed boundary event goes */
	delete_event(f, "b", all[0].id);
	assert_int_equal(aw_reader_bucket(&b, f->r, "b"), 0);
	assert_true(b.start == all[1].start);
	aw_bucket_clear(&b);
	memmove(all, all + 1, (n - 1) * sizeof(*all));
	n--;
	seal_now(f);
	check_reads(f, all, n);
	/* reopening keeps it all */
	aw_reader_close(f->r);
	aw_store_close(f->s);
	assert_int_equal(aw_store_open(&f->s, f->path, NULL), 0);
	assert_int_equal(aw_reader_open(&f->r, f->s), 0);
	check_reads(f, all, n);
}

static int count_changes(void *ctx, const aw_change *c)
{
	int64_t *v = ctx;

	assert_true(c->seq > v[1]);
	v[1] = c->seq;
	v[0]++;
	return 0;
}

static void test_change_feed_reads_sealed_days(void **state)
{
	fixture *f = *state;
	int64_t seq_mid, v[2] = {0, 0}, id0;

	create_bucket(f, "b");
	id0 = insert(f, "b", ev(TD, S(1), "{}"));
	for (int d = 1; d < 4; d++)
		insert(f, "b", ev(TD + S(86400) * d, S(1), "{}"));
	assert_int_equal(aw_reader_last_seq(&seq_mid, f->r), 0);
	insert(f, "b", ev(TD + S(86400) + S(5), S(1), "{\"late\":1}"));
	seal_now(f);
	assert_true(sql_int(f, "SELECT count(*) FROM blocks") == 3);
	assert_int_equal(aw_reader_changes(f->r, 0, count_changes, v), 0);
	assert_int_equal(v[0], 5);
	v[0] = v[1] = 0;
	assert_int_equal(aw_reader_changes(f->r, seq_mid, count_changes, v), 0);
	assert_int_equal(v[0], 1);
	/* a deletion in a sealed day: one tombstone, and the day is sealed again */
	delete_event(f, "b", id0);
	v[0] = v[1] = 0;
	assert_int_equal(aw_reader_changes(f->r, seq_mid, count_changes, v), 0);
	assert_int_equal(v[0], 2);
	seal_now(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blocks"), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events"), 1);
}

static void test_heartbeat_with_an_old_timestamp_keeps_its_row(void **state)
{
	fixture *f = *state;
	aw_event a, b2;
	int64_t count;

	create_bucket(f, "b");
	insert(f, "b", ev(TD + S(86400) * 5, S(1), "{\"x\":1}"));
	/* the cached last event is now on day 1, not the bucket's last day */
	a = heartbeat(f, "b", ev(TD + S(86400), S(1), "{\"x\":2}"), S(10));
	seal_now(f);
	b2 = heartbeat(f, "b", ev(TD + S(86400) + S(5), S(1), "{\"x\":2}"), S(10));
	assert_int_equal(a.id, b2.id);
	assert_true(b2.duration == S(6));
	assert_int_equal(aw_reader_event_count(&count, f->r, "b", AW_NS_MIN, AW_NS_MAX), 0);
	assert_int_equal(count, 2);
	aw_event e;
	assert_int_equal(aw_reader_event_get(&e, f->r, "b", a.id), 0);
	assert_true(e.duration == S(6));
	aw_event_clear(&e);
}

static aw_event with_id(aw_event e, int64_t id)
{
	e.id = id;
	e.has_id = true;
	return e;
}

static int import_one(fixture *f, const char *bucket, aw_event *evs, size_t n)
{
	aw_import_bucket ib = {.bucket = {.id = (char *)bucket, .type = "t", .client = "c", .hostname = "h",
					  .created = T0, .data = "{}"},
			       .events = evs, .n_events = n};
	aw_write w = {.kind = AW_W_IMPORT, .imports = &ib, .n_imports = 1};
	int rc = aw_store_write(f->s, &w);

	aw_write_clear(&w);
	return rc;
}

static void expect_event(fixture *f, const char *bucket, int64_t id, aw_ns start, const char *data)
{
	aw_event e;

	assert_int_equal(aw_reader_event_get(&e, f->r, bucket, id), 0);
	assert_true(e.start == start);
	assert_string_equal(e.data, data);
	aw_event_clear(&e);
}

/* Events that carry their own ids (a restore from the archive, an ActivityWatch export)
 * imported among sealed days: a free id is stored under that id straight into its day's
 * block, an id held by a sealed event of another bucket moves it (the reference's
 * quirk), an id given twice keeps the later event, and an id sealed in a remote bucket
 * refuses the import whole. */
static void test_import_with_ids_among_sealed_days(void **state)
{
	fixture *f = *state;
	aw_bucket rb = {.id = "r", .type = "t", .client = "c", .hostname = "other", .created = T0, .data = "{}"};
	aw_write cr = {.kind = AW_W_BUCKET_CREATE, .bucket = &rb, .remote_device = "dev-2"};
	aw_event r0[] = {ev(TD + S(300), S(1), "{\"r\":0}"), ev(TD + S(86400) * 9, S(1), "{}")};
	aw_write rins = {.kind = AW_W_EVENTS_INSERT, .bucket_id = "r", .events = r0, .n_events = 2, .allow_remote = true};
	int64_t a_ids[4], rid, count;

	create_bucket(f, "a");
	for (int d = 0; d < 4; d++)
		a_ids[d] = insert(f, "a", ev(TD + S(86400) * d + S(60), S(5), "{\"a\":1}"));
	insert(f, "a", ev(TD + S(86400) * 9, S(5), "{\"a\":\"last\"}"));
	assert_int_equal(aw_store_write(f->s, &cr), 0);
	assert_int_equal(aw_store_write(f->s, &rins), 0);
	rid = rins.out_events[0].id;
	aw_write_clear(&rins);
	seal_now(f);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM blocks"), 5);

	aw_event evs[] = {
		with_id(ev(TD + S(86400) * 2 + S(120), S(7), "{\"free\":1}"), 5000),
		with_id(ev(TD + S(86400) + S(600), S(3), "{\"moved\":1}"), a_ids[1]),
		with_id(ev(TD + S(86400) * 3 + S(60), S(2), "{\"twice\":\"first\"}"), 6000),
		with_id(ev(TD + S(86400) * 3 + S(90), S(2), "{\"twice\":\"second\"}"), 6000),
	};
	assert_int_equal(import_one(f, "imp", evs, 4), 0);
	expect_event(f, "imp", 5000, TD + S(86400) * 2 + S(120), "{\"free\":1}");
	expect_event(f, "imp", a_ids[1], TD + S(86400) + S(600), "{\"moved\":1}");
	expect_event(f, "imp", 6000, TD + S(86400) * 3 + S(90), "{\"twice\":\"second\"}");
	assert_int_equal(aw_reader_event_count(&count, f->r, "imp", AW_NS_MIN, AW_NS_MAX), 0);
	assert_int_equal(count, 3);
	assert_int_equal(aw_reader_event_count(&count, f->r, "a", AW_NS_MIN, AW_NS_MAX), 0);
	assert_int_equal(count, 4);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM events WHERE id = 5000"), 0); /* sealed at once */
	/* a fresh id comes after every id given */
	assert_true(insert(f, "a", ev(TD + S(86400) * 9 + S(60), S(1), "{}")) > 6000);

	/* the remote bucket's sealed event cannot be taken over by id */
	aw_event steal = with_id(ev(TD + S(60), S(1), "{\"stolen\":1}"), rid);
	aw_event fine = with_id(ev(TD + S(70), S(1), "{}"), 7000);
	aw_event both[] = {fine, steal};
	assert_int_equal(import_one(f, "imp", both, 2), AW_EREADONLY);
	expect_event(f, "r", rid, TD + S(300), "{\"r\":0}");
	assert_int_equal(aw_reader_event_count(&count, f->r, "imp", AW_NS_MIN, AW_NS_MAX), 0);
	assert_int_equal(count, 3);
	seal_now(f);
	expect_event(f, "imp", 6000, TD + S(86400) * 3 + S(90), "{\"twice\":\"second\"}");
}

/* The log's frames (mxFrame, in the first copy of the wal-index header) and how many of
 * them the database has (nBackfill, in the checkpoint information after the two header
 * copies): the wal-index layout of SQLite's documentation (walformat.html), native
 * byte order. */
static void wal_frames(const char *db, uint32_t *frames, uint32_t *copied)
{
	char shm[160];
	unsigned char h[100];
	FILE *fp;

	snprintf(shm, sizeof(shm), "%s-shm", db);
	fp = fopen(shm, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(h, 1, sizeof(h), fp), sizeof(h));
	fclose(fp);
	memcpy(frames, h + 16, 4);
	memcpy(copied, h + 96, 4);
}

/* docs/storage.md, "Imports": an import leaves its log to the writer, which copies it
 * into the database once idle, so the next ordinary write does not pay for it. Recent
 * events, so that no day is sealed meanwhile and the log stays as the import left it. */
static void test_import_log_is_checkpointed_when_idle(void **state)
{
	fixture *f = *state;
	enum { N = 3000 };
	aw_event *evs = calloc(N, sizeof(*evs));
	char data[N][32];
	aw_ns now = aw_time_now();
	uint32_t frames = 0, copied = 0;

	for (int i = 0; i < N; i++) {
		snprintf(data[i], sizeof(data[i]), "{\"title\":\"page %d\"}", i);
		evs[i] = ev(now - S(N - i), S(1), data[i]);
	}
	assert_int_equal(import_one(f, "imp", evs, N), 0);
	wal_frames(f->path, &frames, &copied);
	assert_true(frames > 0);
	assert_true(copied < frames); /* an import's log waits for the writer */
	for (int i = 0; i < 300 && copied < frames; i++) {
		usleep(10000);
		wal_frames(f->path, &frames, &copied);
	}
	assert_int_equal(copied, frames);
	free(evs);
}

/* docs/storage.md, "Threads": ordinary commits never copy the log themselves, and the
 * checkpointer copies it once it passes 1,000 pages. Without the checkpointer (or with
 * its wake-up lost) the log would only grow. */
static void test_checkpointer_copies_a_long_log(void **state)
{
	fixture *f = *state;
	char big[4000];
	uint32_t frames = 0, copied = 0, most = 0;
	aw_ns now = aw_time_now();

	create_bucket(f, "long");
	for (int i = 0; i < 1400 && most < 1000; i++) {
		/* a distinct text of about one page: one new page of the datas table each */
		int n = snprintf(big, sizeof(big), "{\"title\":\"%d ", i);
		memset(big + n, 'a' + i % 26, sizeof(big) - n - 3);
		memcpy(big + sizeof(big) - 3, "\"}", 3);
		insert(f, "long", ev(now - S(2000 - i), S(1), big));
		wal_frames(f->path, &frames, &copied);
		if (frames > most)
			most = frames;
	}
	assert_true(most >= 1000);
	/* copied, or copied and started over by a later commit's write */
	for (int i = 0; i < 300 && copied < frames && frames >= most; i++) {
		usleep(10000);
		wal_frames(f->path, &frames, &copied);
	}
	assert_true(copied == frames || frames < most);

	/* a removal while the checkpointer copies a log still truncates it */
	for (int i = 0; i < 1200; i++) {
		int n = snprintf(big, sizeof(big), "{\"again\":\"%d ", i);
		memset(big + n, 'a' + i % 26, sizeof(big) - n - 3);
		memcpy(big + sizeof(big) - 3, "\"}", 3);
		insert(f, "long", ev(now - S(1000 - i), S(1), big));
	}
	aw_write del = {.kind = AW_W_BUCKET_DELETE, .bucket_id = "long"};
	assert_int_equal(aw_store_write(f->s, &del), 0);
	assert_int_equal(del.wal_status, 0);
	snprintf(big, sizeof(big), "%s-wal", f->path);
	assert_int_equal(file_size(big), 0);
}

/* Commit event i of a stream into bucket (one small new data text each) and return the
 * log's length afterwards; counts a start over of the log in *restarts. */
static uint32_t stream_commit(fixture *f, const char *bucket, int i, aw_ns now, uint32_t last, int *restarts)
{
	char data[96];
	uint32_t frames, copied;

	snprintf(data, sizeof(data), "{\"title\":\"%s %d\"}", bucket, i);
	insert(f, bucket, ev(now - S(30000 - i), S(1), data));
	wal_frames(f->path, &frames, &copied);
	if (frames < last)
		++*restarts;
	return frames;
}

/*
 * Under a steady stream of commits the log still starts over, again and again: the
 * checkpointer copies it once past 1,000 pages, and the writer copies what commits added
 * meanwhile between two batches (checkpointer.c). A hand-off that got stuck (the
 * checkpointer never woken again) would let the log grow without end.
 */
static void test_log_starts_over_under_a_stream_of_commits(void **state)
{
	fixture *f = *state;
	uint32_t last = 0, most = 0;
	int restarts = 0;
	aw_ns now = aw_time_now();

	create_bucket(f, "stream");
	for (int i = 0; i < 20000 && restarts < 3; i++) {
		last = stream_commit(f, "stream", i, now, last, &restarts);
		if (last > most)
			most = last;
	}
	assert_true(restarts >= 3);
	/* the threshold, what the commits of one checkpoint add, and the writer's finish */
	assert_true(most < 2000);
}

/*
 * A reader's snapshot holds checkpoints back: the log cannot start over while the
 * reader needs its frames, and the writer's copy between batches (checkpointer.c) is
 * too small for what piles up meanwhile. Once the reader is done, the checkpointer is
 * woken again and the log starts over.
 */
static void test_log_starts_over_after_a_reader_lets_go(void **state)
{
	fixture *f = *state;
	uint32_t last = 0;
	int restarts = 0, i = 0;
	aw_bucket *bs;
	size_t nb;
	aw_ns now = aw_time_now();

	create_bucket(f, "held");
	insert(f, "held", ev(now - S(40000), S(1), "{\"title\":\"before the reader\"}"));
	assert_int_equal(aw_reader_begin(f->r), 0);
	assert_int_equal(aw_reader_buckets(&bs, &nb, f->r, 0), 0);
	aw_buckets_free(bs, nb);
	for (; i < 20000 && last < 1500; i++)
		last = stream_commit(f, "held", i, now, last, &restarts);
	assert_true(last >= 1500);
	assert_int_equal(restarts, 0); /* no start over under the snapshot */
	aw_reader_end(f->r);
	for (; i < 20000 && restarts < 2; i++)
		last = stream_commit(f, "held", i, now, last, &restarts);
	assert_true(restarts >= 2);
}

/* ---- batch_policy.c: gathering or flowing, measured ---- */

/*
 * A simulated machine for the batch policy: a batch taken while gathering holds 32
 * writes, one taken while flowing 13 (what 32 heartbeat clients gave), and each lasts
 * as long as the given rate of writes a second allows. Runs `seconds` of simulated
 * load and returns the share of the time spent gathering.
 */
typedef struct sim_machine {
	double gather_rate, flow_rate;
	aw_ns now;
	aw_ns stall_every, stall; /* a batch every stall_every takes stall longer */
	aw_ns next_stall;
} sim_machine;

static double sim_run(batch_policy *p, sim_machine *m, double seconds)
{
	aw_ns end = m->now + (aw_ns)(seconds * 1e9), gathering = 0;
	aw_ns start = m->now;

	while (m->now < end) {
		bool g = p->gather;
		int n = g ? 32 : 13;
		aw_ns len = (aw_ns)(n * 1e9 / (g ? m->gather_rate : m->flow_rate));
		if (m->stall_every && m->now >= m->next_stall) {
			len += m->stall;
			m->next_stall = m->now + m->stall_every;
		}
		m->now += len;
		if (g)
			gathering += len;
		batch_policy_taken(p, m->now, n);
	}
	return (double)gathering / (double)(m->now - start);
}

/* Where a core is free, batches flow: after the first seconds, only the probes gather,
 * and since each loses clearly, one epoch in 41 (2.4 %). */
static void test_batches_flow_where_flowing_carries_more(void **state)
{
	batch_policy p;
	sim_machine m = {39000, 50000, S(1), 0, 0, 0};

	(void)state;
	batch_policy_init(&p);
	sim_run(&p, &m, 3);
	assert_true(sim_run(&p, &m, 20) < 0.03);
	assert_false(p.gather);
}

/* A stall now and then (a checkpoint's copy, another process's burst) makes one epoch
 * slow; a probe right after it must not take the slower way for the better one. A
 * stall of 45 ms every 430 ms slows one epoch in four or five, and now and then the
 * one before a probe. */
static void test_batches_flow_through_stalls(void **state)
{
	batch_policy p;
	sim_machine m = {39000, 50000, S(1), 430000000, 45000000, 0};

	(void)state;
	batch_policy_init(&p);
	sim_run(&p, &m, 1);
	assert_true(sim_run(&p, &m, 30) < 0.08);
	assert_int_equal(p.switches, 0);
}

/* With the cores busy, gathering carries more, and the writer finds it at its first
 * probe. */
static void test_batches_gather_where_gathering_carries_more(void **state)
{
	batch_policy p;
	sim_machine m = {39000, 32000, S(1), 0, 0, 0};

	(void)state;
	batch_policy_init(&p);
	assert_true(sim_run(&p, &m, 1) > 0.5);
	assert_true(sim_run(&p, &m, 10) > 0.92);
	assert_true(p.gather || p.probing);
}

/* The machine changes under load (another process takes a core, then lets it go):
 * the way follows within five seconds, each time, however rarely it was probing. */
static void test_batches_follow_a_machine_that_changes(void **state)
{
	batch_policy p;
	sim_machine m = {39000, 50000, S(1), 0, 0, 0};

	(void)state;
	batch_policy_init(&p);
	sim_run(&p, &m, 5);
	m.flow_rate = 32000;
	sim_run(&p, &m, 5);
	assert_true(sim_run(&p, &m, 5) > 0.92);
	m.flow_rate = 50000;
	sim_run(&p, &m, 5);
	assert_true(sim_run(&p, &m, 5) < 0.08);
}

/* A lone client's batches hold one write: nothing is measured and nothing probed, so
 * the writer never gathers (lingers) for it. Nor do contended batches whose epochs are
 * stretched by idle time (a burst, then seconds of quiet) decide anything. */
static void test_batches_of_a_lone_client_never_probe(void **state)
{
	batch_policy p;
	aw_ns now = S(1);
	int i;

	(void)state;
	batch_policy_init(&p);
	for (i = 0; i < 20000; i++) {
		now += 300000;
		batch_policy_taken(&p, now, 1);
		assert_false(p.gather);
	}
	assert_int_equal(p.gathered, 0);
	for (i = 0; i < 200; i++) {
		now += (i % 4) ? 250000 : S(1);
		batch_policy_taken(&p, now, 20);
		assert_false(p.gather);
	}
	assert_int_equal(p.switches, 0);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_fresh_schema_version_and_reopen),
		TEST(test_newer_schema_is_refused),
		TEST(test_identical_data_is_stored_once),
		TEST(test_heartbeat_pulsetime_merges_and_keeps_id),
		TEST(test_heartbeat_zero_pulse_separate),
		TEST(test_heartbeat_long_pulse),
		TEST(test_heartbeat_boundary_inclusive_and_data),
		TEST(test_heartbeat_before_last_start_is_new_event),
		TEST(test_heartbeat_same_timestamp_merges),
		TEST(test_heartbeat_consecutive_merges),
		TEST(test_heartbeat_after_deleting_cached_event),
		TEST(test_range_read_clips_and_orders),
		TEST(test_metadata_exact_after_delete),
		TEST(test_change_sequence_and_tombstones),
		TEST(test_explicit_id_replaces_in_any_bucket),
		TEST(test_import_merge_is_idempotent),
		TEST(test_import_with_ids_among_sealed_days),
		TEST(test_import_log_is_checkpointed_when_idle),
		TEST(test_checkpointer_copies_a_long_log),
		TEST(test_log_starts_over_under_a_stream_of_commits),
		TEST(test_log_starts_over_after_a_reader_lets_go),
		TEST(test_remote_bucket_is_read_only),
		TEST(test_change_feed),
		TEST(test_remote_apply_is_idempotent_and_excluded_from_feed),
		TEST(test_remote_apply_of_many_events),
		TEST(test_private_state),
		TEST(test_settings_last_writer_wins),
		TEST(test_settings_refused_and_local),
		TEST(test_settings_history_is_bounded_and_claim_stamps),
		TEST(test_removals_truncate_the_wal),
		TEST(test_export_cursor_reads_the_document_in_pieces),
		TEST(test_block_day_is_a_floor),
		TEST(test_block_codec_round_trips_any_values),
		TEST(test_sealed_days_read_as_rows),
		TEST(test_change_feed_reads_sealed_days),
		TEST(test_heartbeat_with_an_old_timestamp_keeps_its_row),
		cmocka_unit_test(test_batches_flow_where_flowing_carries_more),
		cmocka_unit_test(test_batches_flow_through_stalls),
		cmocka_unit_test(test_batches_gather_where_gathering_carries_more),
		cmocka_unit_test(test_batches_follow_a_machine_that_changes),
		cmocka_unit_test(test_batches_of_a_lone_client_never_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
