/*
 * Canonical JSON: the one textual form awnode stores and compares event data in.
 * Keys sorted by bytes, no whitespace, numbers as serde_json prints them (integers
 * as integers, reals with the shortest round-trip digits and ".0" when integral),
 * strings escaped like serde_json. Two data objects are equal exactly when their
 * canonical texts are equal, which is what makes data interning and heartbeat
 * merges a string comparison.
 */
#ifndef AW_JSON_H
#define AW_JSON_H

#include <jansson.h>
#include "aw/buf.h"

/* Append the canonical form of v to out. */
void aw_json_canonical(aw_buf *out, const json_t *v);

/* Canonical form as a new string; caller frees with free(). *len may be NULL. */
char *aw_json_canonical_dup(const json_t *v, size_t *len);

/* Parse JSON text as awnode does for request bodies (NUL inside strings allowed,
 * nesting depth bounded by jansson). Returns NULL and sets aw_error_last() on error.
 * Caller releases with json_decref. */
json_t *aw_json_parse(const char *text, size_t len);

#endif
