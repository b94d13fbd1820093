/* Helpers shared by the query engine's unit tests (declared in qtest.h): a scratch
 * database in a temporary directory, running a program and parsing its result with
 * jansson, expecting an error (kind and AW_E* code), and compact events for the
 * transform tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aw/json.h"
#include "qtest.h"
#include "tmpdir.h"

qt_db *qt_db_open(void)
{
	qt_db *db = calloc(1, sizeof(*db));

	assert_non_null(db);
	strcpy(db->dir, "/tmp/awnode-qtest-XXXXXX");
	assert_non_null(mkdtemp(db->dir));
	snprintf(db->path, sizeof(db->path), "%s/t.db", db->dir);
	assert_int_equal(aw_store_open(&db->s, db->path, NULL), 0);
	assert_int_equal(aw_reader_open(&db->r, db->s), 0);
	return db;
}

void qt_db_close(qt_db *db)
{
	if (!db)
		return;
	aw_reader_close(db->r);
	aw_store_close(db->s);
	assert_int_equal(test_rmtree(db->dir), 0);
	free(db);
}

void qt_bucket(qt_db *db, const char *id, const char *hostname)
{
	aw_bucket b = {.id = (char *)id, .type = "t", .client = "c", .hostname = (char *)hostname,
		       .created = 0, .data = "{}"};
	aw_write w = {.kind = AW_W_BUCKET_CREATE, .bucket = &b};

	assert_int_equal(aw_store_write(db->s, &w), 0);
}

aw_ns qt_ts(const char *iso)
{
	aw_ns t;

	assert_int_equal(aw_time_parse(&t, iso, strlen(iso), AW_TIME_RELAXED), 0);
	return t;
}

static char *canon(const char *data, size_t *len)
{
	json_t *v = aw_json_parse(data, strlen(data));
	char *c;

	assert_non_null(v);
	c = aw_json_canonical_dup(v, len);
	json_decref(v);
	return c;
}

int64_t qt_insert(qt_db *db, const char *bucket, const char *ts, double dur, const char *data)
{
	size_t len;
	char *c = canon(data, &len);
	aw_event e = {.start = qt_ts(ts), .duration = SEC(dur), .data = c, .data_len = len};
	aw_write w = {.kind = AW_W_EVENTS_INSERT, .bucket_id = bucket, .events = &e, .n_events = 1};
	int64_t id;

	assert_int_equal(aw_store_write(db->s, &w), 0);
	id = w.out_events[0].id;
	aw_write_clear(&w);
	free(c);
	return id;
}

qt_db *qt_db_with(const char *bucket, const char *hostname, const qt_row *rows)
{
	qt_db *db = qt_db_open();

	qt_bucket(db, bucket, hostname);
	for (; rows->ts; rows++)
		qt_insert(db, bucket, rows->ts, rows->dur, rows->data);
	return db;
}

char *qt_pieces(const qt_piece *p)
{
	aw_buf b = AW_BUF_INIT;

	for (; p->text; p++)
		for (int i = 0; i < p->times; i++)
			aw_buf_puts(&b, p->text);
	return aw_buf_steal(&b, NULL);
}

static json_t *run(aw_reader *r, const char *prog, aw_query_error *err, char **raw)
{
	aw_ns s = qt_ts("1980-01-01T00:00:00Z"), e = qt_ts("2080-01-02T00:00:00Z");
	char *out = NULL;
	size_t len;
	json_t *v, *res;
	int rc = aw_query_run(&out, &len, err, r, prog, strlen(prog), &s, &e, 1);

	if (raw)
		*raw = NULL;
	if (rc) {
		assert_null(out);
		assert_true(err->message[0] != '\0');
		return NULL;
	}
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	v = json_loadb(out, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!v)
		fail_msg("result is not JSON: %s", out);
	if (raw)
		*raw = out;
	else
		free(out);
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 1);
	res = json_incref(json_array_get(v, 0));
	json_decref(v);
	return res;
}

static qt_db *qt_empty_db;

static void close_empty(void)
{
	qt_db_close(qt_empty_db);
	qt_empty_db = NULL;
}

json_t *qt_query(qt_db *db, const char *prog, aw_query_error *err, char **raw)
{
	return run(db->r, prog, err, raw);
}

json_t *qt_eval(const char *prog, aw_query_error *err)
{
	if (!qt_empty_db) {
		qt_empty_db = qt_db_open();
		atexit(close_empty);
	}
	return run(qt_empty_db->r, prog, err, NULL);
}

void qt_expect_raw(qt_db *db, const char *prog, const char *expected)
{
	aw_query_error err;
	char *raw;
	json_t *v;

	if (!db) {
		if (!qt_empty_db) {
			qt_empty_db = qt_db_open();
			atexit(close_empty);
		}
		db = qt_empty_db;
	}
	v = qt_query(db, prog, &err, &raw);
	if (!v)
		fail_msg("query failed: %s\n%s", err.message, prog);
	if (strcmp(raw, expected))
		fail_msg("query: %s\n got: %s\nwant: %s", prog, raw, expected);
	free(raw);
	json_decref(v);
}

aw_query_error qt_expect_error(qt_db *db, const char *prog, const char *kind, int code)
{
	aw_query_error err;
	json_t *v = db ? qt_query(db, prog, &err, NULL) : qt_eval(prog, &err);

	if (v) {
		char *t = json_dumps(v, JSON_ENCODE_ANY);
		fail_msg("expected %s for %s, got %s", kind, prog, t);
	}
	if (strncmp(err.message, kind, strlen(kind)))
		fail_msg("expected %s for %s, got: %s", kind, prog, err.message);
	assert_int_equal(err.code, code);
	return err;
}

qev qt_ev(qdata *T, aw_ns start, aw_ns dur, const char *data)
{
	size_t len;
	char *c = canon(data, &len);
	qev e = {.start = start, .dur = dur, .id = QID_NULL, .data = data_intern(T, c, len)};

	free(c);
	return e;
}

void qt_assert_ev(qdata *T, const qev *e, aw_ns start, aw_ns dur, const char *data, const char *what)
{
	size_t len, dl;
	char *c = canon(data, &len);
	const char *d = data_text(T, e->data, &dl);

	if (e->start != start || e->dur != dur || dl != len || memcmp(d, c, len))
		fail_msg("%s: event mismatch: got start=%lld dur=%lld data=%.*s, want start=%lld dur=%lld data=%s",
			 what, (long long)e->start, (long long)e->dur, (int)dl, d, (long long)start, (long long)dur, c);
	free(c);
}
