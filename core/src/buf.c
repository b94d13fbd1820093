/*
 * Growable byte buffer. Capacity doubles so that appending n bytes one at a time costs
 * O(n); the contents are always NUL-terminated so they can be handed to C string APIs.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/buf.h"
#include "aw/mem.h"
#include "aw/time.h"

void aw_buf_grow(aw_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->data = aw_mem_realloc(b->data, cap);
	b->cap = cap;
}

void aw_buf_append(aw_buf *b, const void *p, size_t n)
{
	aw_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void aw_buf_puts(aw_buf *b, const char *s)
{
	aw_buf_append(b, s, strlen(s));
}

void aw_buf_putc(aw_buf *b, char c)
{
	aw_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void aw_buf_put_i64(aw_buf *b, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	aw_buf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

void aw_buf_printf(aw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	aw_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void aw_buf_json_string(aw_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	aw_buf_grow(b, n + 2);
	aw_buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		aw_buf_append(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
			u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = '\0';
			esc = u;
		}
		aw_buf_puts(b, esc);
	}
	aw_buf_append(b, s + run, n - run);
	aw_buf_putc(b, '"');
}

char *aw_buf_steal(aw_buf *b, size_t *len)
{
	char *p = b->data;

	if (!p)
		p = aw_mem_calloc(1, 1);
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void aw_buf_reset(aw_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void aw_buf_free(aw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void aw_buf_json_member(aw_buf *b, size_t index, const char *key)
{
	if (index)
		aw_buf_putc(b, ',');
	aw_buf_json_string(b, key, strlen(key));
	aw_buf_putc(b, ':');
}

void aw_buf_json_time(aw_buf *b, bool has, aw_ns t)
{
	char ts[AW_TIME_BUFSZ];

	if (!has) {
		aw_buf_puts(b, "null");
		return;
	}
	aw_buf_putc(b, '"');
	aw_buf_append(b, ts, aw_time_format(ts, t));
	aw_buf_putc(b, '"');
}
