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

#include "aw/storage.h"
#include "aw/time.h"

typedef struct aw_query_error {
	int status;        /* HTTP status to answer: 400 for parse/type/runtime errors, 404 unknown
	                    * bucket, 500 internal (storage failure) */
	char message[512]; /* e.g. "VariableNotDefined(\"foo\") at line 1, column 8" */
	int line, column;  /* 1-based position, 0 if not applicable */
} aw_query_error;

/* Run `program` once per timeperiod against the reader's database and write the JSON
 * response body (an array with one result per period, serialised as aw-server-rust does:
 * sorted keys, numbers as floats like `1.0`, None as `[]`) into *out (caller frees with
 * free()). Returns 0, or a negative AW_E* code with *err filled (AW_EINVALID for query
 * errors, AW_ENOTFOUND for an unknown bucket, AW_ERROR for internal failures). */
int aw_query_run(char **out, size_t *out_len, aw_reader *r, const char *program, size_t program_len,
		 const aw_ns *period_starts, const aw_ns *period_ends, size_t n_periods,
		 aw_query_error *err);

/* Parse only (no database): 0 if `program` is syntactically valid, else AW_EINVALID with
 * *err filled. */
int aw_query_check(const char *program, size_t program_len, aw_query_error *err);

/* The `awnode query FILE --start ISO --end ISO [--db PATH | --url URL]` subcommand; argv[0]
 * is "query". Prints the JSON result to stdout; on error one line to stderr and a non-zero
 * exit status (1 query/usage error, 2 I/O or connection failure). */
int aw_query_cli_main(int argc, char **argv);

#endif
