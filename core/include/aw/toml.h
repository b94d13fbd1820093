/*
 * The TOML subset of awnode's config files (the node's config.toml and the watchers'
 * <name>.toml): tables ([name], [a.b] or ["quoted"]), `key = value` with bare or quoted
 * keys, and values that are basic or literal strings, integers, floats, booleans or
 * arrays of those (arrays may span lines), with comments. Inline tables, arrays of
 * tables, multi-line strings and dates are refused with a line-numbered error rather
 * than read approximately; a key given twice in one table is an error too.
 */
#ifndef AW_TOML_H
#define AW_TOML_H

#include <stddef.h>

enum { AW_TOML_STRING, AW_TOML_INT, AW_TOML_FLOAT, AW_TOML_BOOL, AW_TOML_ARRAY };

typedef struct aw_toml_value {
	int type;
	char *s;                     /* AW_TOML_STRING */
	long long i;                 /* AW_TOML_INT; AW_TOML_BOOL as 0 or 1 */
	double f;                    /* AW_TOML_FLOAT; also set for AW_TOML_INT */
	struct aw_toml_value *items; /* AW_TOML_ARRAY */
	size_t n;
} aw_toml_value;

typedef struct aw_toml_key {
	char *table; /* "" for the top level; a dotted header's name as written ("a.b") */
	char *key;
	int line;
	aw_toml_value v;
} aw_toml_key;

/* Every key of a document, in the order of the text. */
typedef struct aw_toml_doc {
	aw_toml_key *keys;
	size_t n;
} aw_toml_doc;

/* Parse NUL-terminated text into *doc. Returns 0 (release with aw_toml_free), or
 * AW_EINVALID with "line N: reason" in aw_error_last() and *doc empty. */
int aw_toml_parse(aw_toml_doc *doc, const char *text);

/* Free what aw_toml_parse stored and empty *doc. An empty doc is fine. */
void aw_toml_free(aw_toml_doc *doc);

/* The value of `key` in `table` ("" = top level), or NULL. Borrowed from doc. */
const aw_toml_value *aw_toml_get(const aw_toml_doc *doc, const char *table, const char *key);

/* "a string", "an integer", "a number", "a boolean" or "an array", for messages. */
const char *aw_toml_type_name(int type);

#endif
