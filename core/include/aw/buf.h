/*
 * A growable byte buffer used to build response bodies and canonical JSON.
 * Allocation failure aborts the process: every caller would otherwise have to
 * handle OOM on each append, and a node that cannot allocate a few bytes cannot
 * do anything useful anyway.
 */
#ifndef AW_BUF_H
#define AW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/time.h"

typedef struct aw_buf {
	char *data;  /* NUL-terminated after every append (not counted in len) */
	size_t len;
	size_t cap;
} aw_buf;

/* An empty buffer owns nothing; the first append allocates. The buffer owns `data`
 * until aw_buf_steal (then the caller frees it) or aw_buf_free. */
#define AW_BUF_INIT {NULL, 0, 0}

/* Make room for `extra` more bytes (plus the NUL) without changing the contents. */
void aw_buf_grow(aw_buf *b, size_t extra);
/* Append n bytes, a C string, one character, a decimal integer, a printf result. The
 * arguments are copied; none is kept. */
void aw_buf_append(aw_buf *b, const void *p, size_t n);
void aw_buf_puts(aw_buf *b, const char *s);
void aw_buf_putc(aw_buf *b, char c);
void aw_buf_put_i64(aw_buf *b, int64_t v);
void aw_buf_printf(aw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `s` (n bytes) as a JSON string literal with quotes, escaping like serde_json:
 * only '"', '\\' and control characters. */
void aw_buf_json_string(aw_buf *b, const char *s, size_t n);
/* Start the member `key` of a JSON object being written: a ',' unless it is the first
 * (index 0), then the key as a JSON string and ':'. */
void aw_buf_json_member(aw_buf *b, size_t index, const char *key);
/* Append t as a JSON string in aw_time_format's form when `has`, else `null`. */
void aw_buf_json_time(aw_buf *b, bool has, aw_ns t);
/* Give up ownership of the data (caller frees with free()); the buffer is reset. */
char *aw_buf_steal(aw_buf *b, size_t *len);
/* Free the data and reset to AW_BUF_INIT. */
void aw_buf_free(aw_buf *b);
/* Empty the buffer but keep its memory for reuse. */
void aw_buf_reset(aw_buf *b);

#endif
