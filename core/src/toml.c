/*
 * The TOML subset awnode's config files use (see aw/toml.h). One pass over the text:
 * a recursive-descent reader whose values are copied out, so the caller may free the
 * text at once. Errors name the line; what the subset does not cover is an error,
 * never a silent misread (a config key read wrongly is worse than one refused).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/toml.h"

typedef struct {
	const char *p;
	int line;
} parser;

static int perr(parser *ps, const char *msg)
{
	aw_error_set(AW_EINVALID, "line %d: %s", ps->line, msg);
	return -1;
}

static void skip_ws(parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/* whitespace, newlines and comments (inside arrays) */
static void skip_ws_nl(parser *ps)
{
	for (;;) {
		skip_ws(ps);
		if (*ps->p == '#') {
			while (*ps->p && *ps->p != '\n')
				ps->p++;
		}
		if (*ps->p == '\r' && ps->p[1] == '\n')
			ps->p++;
		if (*ps->p == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		return;
	}
}

/* end of line: optional comment then newline or end */
static int expect_eol(parser *ps)
{
	skip_ws(ps);
	if (*ps->p == '#')
		while (*ps->p && *ps->p != '\n')
			ps->p++;
	if (*ps->p == '\r')
		ps->p++;
	if (*ps->p == '\n') {
		ps->p++;
		ps->line++;
		return 0;
	}
	if (!*ps->p)
		return 0;
	return perr(ps, "unexpected text after the value");
}

static void put_utf8(char **o, unsigned long cp)
{
	unsigned char *u = (unsigned char *)*o;

	if (cp < 0x80) {
		*u++ = (unsigned char)cp;
	} else if (cp < 0x800) {
		*u++ = (unsigned char)(0xC0 | (cp >> 6));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*u++ = (unsigned char)(0xE0 | (cp >> 12));
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	} else {
		*u++ = (unsigned char)(0xF0 | (cp >> 18));
		*u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		*u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		*u++ = (unsigned char)(0x80 | (cp & 0x3F));
	}
	*o = (char *)u;
}

static int parse_string(parser *ps, char **out)
{
	char q = *ps->p++;
	const char *start = ps->p;
	char *buf, *o;

	/* the decoded string is never longer than the raw one */
	while (*ps->p && *ps->p != q && *ps->p != '\n') {
		if (q == '"' && *ps->p == '\\' && ps->p[1])
			ps->p++;
		ps->p++;
	}
	if (*ps->p != q)
		return perr(ps, "unterminated string");
	buf = malloc((size_t)(ps->p - start) + 1);
	if (!buf)
		return perr(ps, "out of memory");
	o = buf;
	for (const char *s = start; s < ps->p; s++) {
		if (q == '\'' || *s != '\\') {
			*o++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': *o++ = '\n'; break;
		case 't': *o++ = '\t'; break;
		case 'r': *o++ = '\r'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case 'u':
		case 'U': {
			int len = *s == 'u' ? 4 : 8;
			char hex[9];
			unsigned long cp;
			char *e;

			if ((size_t)(ps->p - s - 1) < (size_t)len) {
				free(buf);
				return perr(ps, "bad \\u escape");
			}
			memcpy(hex, s + 1, (size_t)len);
			hex[len] = '\0';
			cp = strtoul(hex, &e, 16);
			if (*e || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0) {
				free(buf);
				return perr(ps, "bad \\u escape");
			}
			/* a 4-byte character needs at most as many bytes as its 6-10 char escape */
			put_utf8(&o, cp);
			s += len;
			break;
		}
		default:
			free(buf);
			return perr(ps, "unknown escape in string");
		}
	}
	*o = '\0';
	ps->p++;
	*out = buf;
	return 0;
}

static void value_free(aw_toml_value *v)
{
	free(v->s);
	for (size_t i = 0; i < v->n; i++)
		value_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int parse_value(parser *ps, aw_toml_value *v, int depth)
{
	memset(v, 0, sizeof(*v));
	if (*ps->p == '"' || *ps->p == '\'') {
		if (ps->p[0] == ps->p[1] && ps->p[1] == ps->p[2])
			return perr(ps, "multi-line strings are not supported");
		v->type = AW_TOML_STRING;
		return parse_string(ps, &v->s);
	}
	if (*ps->p == '[') {
		if (depth > 8)
			return perr(ps, "arrays nested too deeply");
		v->type = AW_TOML_ARRAY;
		ps->p++;
		for (;;) {
			aw_toml_value *ni;

			skip_ws_nl(ps);
			if (*ps->p == ']') {
				ps->p++;
				return 0;
			}
			ni = realloc(v->items, (v->n + 1) * sizeof(*ni));
			if (!ni)
				return perr(ps, "out of memory");
			v->items = ni;
			if (parse_value(ps, &v->items[v->n], depth + 1)) {
				return -1;
			}
			v->n++;
			skip_ws_nl(ps);
			if (*ps->p == ',') {
				ps->p++;
				continue;
			}
			if (*ps->p == ']') {
				ps->p++;
				return 0;
			}
			return perr(ps, "expected ',' or ']' in array");
		}
	}
	if (!strncmp(ps->p, "true", 4) || !strncmp(ps->p, "false", 5)) {
		v->type = AW_TOML_BOOL;
		v->i = *ps->p == 't';
		ps->p += v->i ? 4 : 5;
		return 0;
	}
	{
		char buf[64];
		size_t n = 0;
		char *e;
		int is_float = 0;

		while ((ps->p[n] >= '0' && ps->p[n] <= '9') || strchr("+-._eE", ps->p[n]) ||
		       (n && strchr("infa", ps->p[n]))) {
			if (!ps->p[n])
				break;
			n++;
		}
		if (n == 0 || n >= sizeof(buf))
			return perr(ps, "expected a value (string in quotes, number, true/false or [array])");
		for (size_t i = 0, j = 0; i < n; i++) /* drop digit separators */
			if (ps->p[i] != '_')
				buf[j++] = ps->p[i], buf[j] = '\0';
		is_float = strpbrk(buf, ".eEn") != NULL;
		errno = 0;
		if (is_float) {
			v->type = AW_TOML_FLOAT;
			v->f = strtod(buf, &e);
		} else {
			v->type = AW_TOML_INT;
			v->i = strtoll(buf, &e, 10);
			v->f = (double)v->i;
		}
		if (*e || errno)
			return perr(ps, "invalid number");
		ps->p += n;
		return 0;
	}
}

static int parse_key(parser *ps, char *out, size_t outlen)
{
	size_t n = 0;

	if (*ps->p == '"' || *ps->p == '\'') {
		char *s;

		if (parse_string(ps, &s))
			return -1;
		if (strlen(s) >= outlen) {
			free(s);
			return perr(ps, "key too long");
		}
		strcpy(out, s);
		free(s);
		return 0;
	}
	while ((ps->p[n] >= 'A' && ps->p[n] <= 'Z') || (ps->p[n] >= 'a' && ps->p[n] <= 'z') ||
	       (ps->p[n] >= '0' && ps->p[n] <= '9') || ps->p[n] == '_' || ps->p[n] == '-' || ps->p[n] == '.') {
		if (n + 1 >= outlen)
			return perr(ps, "key too long");
		out[n] = ps->p[n];
		n++;
	}
	if (!n)
		return perr(ps, "expected a key");
	out[n] = '\0';
	ps->p += n;
	return 0;
}

/* A key (or table name) followed by `after` (']' or '='), blanks allowed around it. */
static int key_then(parser *ps, char *out, size_t outlen, char after, const char *missing)
{
	if (parse_key(ps, out, outlen))
		return -1;
	skip_ws(ps);
	if (*ps->p != after)
		return perr(ps, missing);
	ps->p++;
	skip_ws(ps);
	return 0;
}

int aw_toml_parse(aw_toml_doc *doc, const char *text)
{
	parser ps = {text, 1};
	char table[256] = "";

	memset(doc, 0, sizeof(*doc));
	if (!strncmp(ps.p, "\xEF\xBB\xBF", 3))
		ps.p += 3;
	for (;;) {
		char key[256];
		aw_toml_key *nk;

		skip_ws_nl(&ps);
		if (!*ps.p)
			return 0;
		if (*ps.p == '[') {
			ps.p++;
			if (*ps.p == '[') {
				perr(&ps, "arrays of tables are not supported");
				goto fail;
			}
			skip_ws(&ps);
			if (key_then(&ps, table, sizeof(table), ']', "expected ']' after the table name") ||
			    expect_eol(&ps))
				goto fail;
			continue;
		}
		if (key_then(&ps, key, sizeof(key), '=', "expected '=' after the key"))
			goto fail;
		nk = realloc(doc->keys, (doc->n + 1) * sizeof(*nk));
		if (!nk) {
			perr(&ps, "out of memory");
			goto fail;
		}
		doc->keys = nk;
		nk = &doc->keys[doc->n];
		memset(nk, 0, sizeof(*nk));
		nk->line = ps.line;
		nk->table = strdup(table);
		nk->key = strdup(key);
		doc->n++;
		if (!nk->table || !nk->key) {
			perr(&ps, "out of memory");
			goto fail;
		}
		for (size_t i = 0; i + 1 < doc->n; i++) {
			if (!strcmp(doc->keys[i].table, table) && !strcmp(doc->keys[i].key, key)) {
				perr(&ps, "duplicate key");
				goto fail;
			}
		}
		if (parse_value(&ps, &nk->v, 0))
			goto fail;
		if (expect_eol(&ps))
			goto fail;
	}
fail:
	aw_toml_free(doc);
	return AW_EINVALID;
}

void aw_toml_free(aw_toml_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++) {
		free(doc->keys[i].table);
		free(doc->keys[i].key);
		value_free(&doc->keys[i].v);
	}
	free(doc->keys);
	memset(doc, 0, sizeof(*doc));
}

const char *aw_toml_type_name(int type)
{
	switch (type) {
	case AW_TOML_STRING: return "a string";
	case AW_TOML_INT: return "an integer";
	case AW_TOML_FLOAT: return "a number";
	case AW_TOML_BOOL: return "a boolean";
	default: return "an array";
	}
}

const aw_toml_value *aw_toml_get(const aw_toml_doc *doc, const char *table, const char *key)
{
	for (size_t i = 0; i < doc->n; i++)
		if (!strcmp(doc->keys[i].table, table) && !strcmp(doc->keys[i].key, key))
			return &doc->keys[i].v;
	return NULL;
}
