/*
 * A validating, non-allocating JSON scanner for large documents (imports of hundreds of
 * megabytes). It walks the text without building a tree, so the import path can parse
 * one event at a time with jansson and keep memory flat. Validation is at least as
 * strict as jansson's (UTF-8, escapes, surrogates, numbers in range, nesting depth), so a
 * document the scanner accepts never fails later half-way through an import.
 */
#ifndef AW_JSON_SCAN_H
#define AW_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "aw/buf.h"

typedef struct aw_jscan {
	const char *p;
	const char *start;
	const char *end;
	char err[160];
} aw_jscan;

/* Start scanning the len bytes at text, which the scanner borrows (they must outlive
 * it); it allocates nothing and needs no cleanup. Failures leave the reason in s->err. */
void aw_jscan_init(aw_jscan *s, const char *text, size_t len);
/* Skip whitespace. */
void aw_jscan_ws(aw_jscan *s);
/* Validate and skip one value, whose text is [*vstart, *vend). 0 or -1 (err set). */
int aw_jscan_value(aw_jscan *s, const char **vstart, const char **vend);
/* The same for text that aw_jscan_document already accepted: no validation, fast. */
int aw_jscan_skip(aw_jscan *s, const char **vstart, const char **vend);
/* Iterate an object: call with *state = 0 at the '{'. Returns 1 with the key's span
 * (including quotes) and s->p at the member's value, 0 at the closing '}', -1 on error. */
int aw_jscan_member(aw_jscan *s, int *state, const char **kstart, const char **kend);
/* Iterate an array likewise: 1 with s->p at the next element, 0 at ']', -1 on error. */
int aw_jscan_element(aw_jscan *s, int *state);
/* Does the raw key span (with quotes) equal the plain ASCII name? */
bool aw_jscan_key_is(const char *kstart, const char *kend, const char *name);
/* For text aw_jscan_document accepted: append the canonical form of the value [vs, ve)
 * (aw/json.h) without building a tree; decode a string literal (with its quotes). */
void aw_jscan_canonical(aw_buf *out, const char *vs, const char *ve);
void aw_jscan_string(aw_buf *out, const char *p, const char *e);
/* Whole document valid and nothing but whitespace after it? */
int aw_jscan_document(aw_jscan *s);

#endif
