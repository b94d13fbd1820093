/*
 * awnode query engine: ActivityWatch's query language ("query2") and its transforms.
 *
 * A program (the request's query lines joined with '\n') is parsed once and run once per
 * timeperiod against a read connection. Events stay in compact arrays (integer times and
 * an interned data id) from SQLite to the transforms; event data JSON is decoded only
 * where a function needs a field, and per-data work (categorize, tag, regex filters,
 * merge keys, URL splitting) is done once per distinct data value. See docs/query.md.
 */
#ifndef AW_QUERY_H
#define AW_QUERY_H

#include <stddef.h>

#include "aw/time.h"

/* The storage module's read connection (aw/storage.h). Only a pointer passes through
 * here, so this header does not include aw/storage.h: a program that also uses the
 * client library (aw/client.h, with its own aw_event) can include both. */
typedef struct aw_reader aw_reader;

/* Why a query failed. aw_query_run and friends return the same code and set the
 * thread's last error (aw_error_last()) to the same message. */
typedef struct aw_query_error {
	int code;          /* AW_EINVALID for parse/type/runtime errors and resource limits,
	                    * AW_ENOTFOUND for an unknown bucket, AW_ERROR for an internal
	                    * (storage) failure; see aw/error.h */
	char message[512]; /* e.g. "VariableNotDefined(\"foo\") at line 1, column 8" */
	int line, column;  /* 1-based position, 0 if not applicable */
} aw_query_error;

/* Run `program` once per timeperiod against the reader's database and write the JSON
 * response body (an array with one result per period, serialised as aw-server-rust does:
 * sorted keys, numbers as floats like `1.0`, None as `[]`) into *out (caller frees with
 * free()). Returns 0, or a negative AW_E* code (the one in err->code) with *err filled. */
int aw_query_run(char **out, size_t *out_len, aw_query_error *err, aw_reader *r, const char *program,
		 size_t program_len, const aw_ns *period_starts, const aw_ns *period_ends, size_t n_periods);

/* The same on a database file opened read-only for this run (for command-line tools;
 * safe while a node writes to it). A database that cannot be opened is AW_ERROR. */
int aw_query_run_path(char **out, size_t *out_len, aw_query_error *err, const char *db_path,
		      const char *program, size_t program_len, const aw_ns *period_starts,
		      const aw_ns *period_ends, size_t n_periods);

/* Parse only (no database): 0 if `program` is syntactically valid, else AW_EINVALID with
 * *err filled. */
int aw_query_check(aw_query_error *err, const char *program, size_t program_len);

#endif
