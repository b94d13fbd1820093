/* Shared helpers for the query engine's unit tests: a temporary database with buckets
 * and events, running a program and getting its result back as jansson values, and
 * building compact events for the transform tests. */
#ifndef QTEST_H
#define QTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "aw/query.h"
#include "aw/storage.h"
#include "internal.h"

#define SEC(x) ((aw_ns)((x) * 1e9))

typedef struct qt_db {
	char dir[64];
	char path[96];
	aw_store *s;
	aw_reader *r;
} qt_db;

qt_db *qt_db_open(void);
void qt_db_close(qt_db *db);
void qt_bucket(qt_db *db, const char *id, const char *hostname);
/* insert one event; data is any JSON object text (canonicalised) */
int64_t qt_insert(qt_db *db, const char *bucket, const char *ts, double dur, const char *data);
/* An event to insert: timestamp, duration in seconds, data. */
typedef struct qt_row {
	const char *ts;
	double dur;
	const char *data;
} qt_row;
/* A scratch database with one bucket holding the rows, up to the first without ts;
 * QT_DB_WITH takes the rows as arguments. */
qt_db *qt_db_with(const char *bucket, const char *hostname, const qt_row *rows);
#define QT_DB_WITH(bucket, hostname, ...) qt_db_with(bucket, hostname, (const qt_row[]){__VA_ARGS__, {NULL, 0, NULL}})

/* Run a program over 1980-01-01T00:00:00Z/2080-01-02T00:00:00Z. Returns the result of
 * the single period (new reference) or NULL with *err filled. raw (optional) gets the
 * whole response text (caller frees). */
json_t *qt_query(qt_db *db, const char *prog, aw_query_error *err, char **raw);
/* Same without a database (programs that touch no bucket). */
json_t *qt_eval(const char *prog, aw_query_error *err);
/* The whole response text must equal `expected` (db NULL = an empty database). */
void qt_expect_raw(qt_db *db, const char *prog, const char *expected);
/* Expect an error whose message starts with `kind` and whose code is `code` (AW_E*);
 * returns the error. */
aw_query_error qt_expect_error(qt_db *db, const char *prog, const char *kind, int code);

/* A program made of repeated pieces, for the limit tests: each text `times` times in
 * turn, up to the first piece without text. Returns malloc'ed text. */
typedef struct qt_piece {
	const char *text;
	int times;
} qt_piece;
char *qt_pieces(const qt_piece *p);
#define QT_PIECES(...) qt_pieces((const qt_piece[]){__VA_ARGS__, {NULL, 0}})

/* transform tests */
aw_ns qt_ts(const char *iso);
qev qt_ev(qdata *T, aw_ns start, aw_ns dur, const char *data);
/* Event e must have this start, duration and data (any JSON text, canonicalised); a
 * failure names `what`. */
void qt_assert_ev(qdata *T, const qev *e, aw_ns start, aw_ns dur, const char *data, const char *what);

#endif
