/*
 * TOML subset parser (see toml.h). A recursive-descent reader over one buffer; values
 * are copied out so the caller can free the text. Errors name the line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

typedef struct parser {
	const char *p;
	int line;
	char *err;
	size_t errlen;
} parser;

static int perr(parser *ps, const char *msg)
{
	snprintf(ps->err, ps->errlen, "line %d: %s", ps->line, msg);
	return -1;
}

static void skip_ws(parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

/* Skip whitespace, newlines and comments (inside arrays). */
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
		if (*ps->p != '\n')
			return;
		ps->line++;
		ps->p++;
	}
}

static void put_utf8(char **o, unsigned long cp)
{
	char *q = *o;

	if (cp < 0x80) {
		*q++ = (char)cp;
	} else if (cp < 0x800) {
		*q++ = (char)(0xC0 | cp >> 6);
		*q++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*q++ = (char)(0xE0 | cp >> 12);
		*q++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*q++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*q++ = (char)(0xF0 | cp >> 18);
		*q++ = (char)(0x80 | (cp >> 12 & 0x3F));
		*q++ = (char)(0x80 | (cp >> 6 & 0x3F));
		*q++ = (char)(0x80 | (cp & 0x3F));
	}
	*o = q;
}

static int parse_string(parser *ps, char **out)
{
	char quote = *ps->p++;
	const char *start = ps->p;
	char *buf, *o;

	while (*ps->p && *ps->p != quote && *ps->p != '\n') {
		if (quote == '"' && *ps->p == '\\' && ps->p[1])
			ps->p++;
		ps->p++;
	}
	if (*ps->p != quote)
		return perr(ps, "unterminated string");
	buf = o = malloc((size_t)(ps->p - start) * 2 + 1);
	if (!buf)
		abort();
	for (const char *s = start; s < ps->p; s++) {
		if (quote == '\'' || *s != '\\') {
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
			int n = *s == 'u' ? 4 : 8;
			char hex[9] = {0};
			if ((int)strnlen(s + 1, (size_t)n) < n) {
				free(buf);
				return perr(ps, "bad unicode escape");
			}
			memcpy(hex, s + 1, (size_t)n);
			put_utf8(&o, strtoul(hex, NULL, 16));
			s += n;
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

static int parse_value(parser *ps, toml_value *v, int depth);

static int parse_array(parser *ps, toml_value *v, int depth)
{
	size_t cap = 0;

	ps->p++;
	v->type = TOML_ARRAY;
	for (;;) {
		skip_ws_nl(ps);
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (v->n_items == cap) {
			cap = cap ? cap * 2 : 4;
			v->items = realloc(v->items, cap * sizeof(*v->items));
			if (!v->items)
				abort();
		}
		memset(&v->items[v->n_items], 0, sizeof(*v->items));
		if (parse_value(ps, &v->items[v->n_items], depth + 1))
			return -1;
		v->n_items++;
		skip_ws_nl(ps);
		if (*ps->p == ',')
			ps->p++;
		else if (*ps->p != ']')
			return perr(ps, "expected ',' or ']' in array");
	}
}

static int parse_value(parser *ps, toml_value *v, int depth)
{
	char word[64];
	size_t n = 0;
	char *end;

	if (depth > 8)
		return perr(ps, "arrays nested too deeply");
	if (*ps->p == '"' || *ps->p == '\'') {
		v->type = TOML_STRING;
		return parse_string(ps, &v->str);
	}
	if (*ps->p == '[')
		return parse_array(ps, v, depth);
	if (*ps->p == '{')
		return perr(ps, "inline tables are not supported here");
	while (*ps->p && !strchr(" \t\r\n,]#", *ps->p) && n < sizeof(word) - 1)
		if (*ps->p++ != '_')
			word[n++] = ps->p[-1];
	word[n] = '\0';
	if (!strcmp(word, "true") || !strcmp(word, "false")) {
		v->type = TOML_BOOL;
		v->b = word[0] == 't';
		return 0;
	}
	if (!n)
		return perr(ps, "expected a value");
	errno = 0;
	v->i = strtoll(word, &end, 10);
	if (!*end && !errno) {
		v->type = TOML_INT;
		return 0;
	}
	v->f = strtod(word, &end);
	if (!*end) {
		v->type = TOML_FLOAT;
		return 0;
	}
	return perr(ps, "invalid value (strings need quotes)");
}

static int parse_key(parser *ps, char **out)
{
	const char *s = ps->p;

	if (*ps->p == '"' || *ps->p == '\'')
		return parse_string(ps, out);
	while (isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '-' || *ps->p == '.')
		ps->p++;
	if (ps->p == s)
		return perr(ps, "expected a key");
	*out = strndup(s, (size_t)(ps->p - s));
	return 0;
}

static void value_free(toml_value *v)
{
	free(v->str);
	for (size_t i = 0; i < v->n_items; i++)
		value_free(&v->items[i]);
	free(v->items);
}

void toml_free(toml_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].table);
		free(kv[i].key);
		value_free(&kv[i].value);
	}
	free(kv);
}

int toml_parse(const char *text, toml_kv **out, size_t *n, char *err, size_t errlen)
{
	parser ps = {text, 1, err, errlen};
	toml_kv *kv = NULL;
	size_t cnt = 0, cap = 0;
	char *table = strdup("");

	for (;;) {
		skip_ws_nl(&ps);
		if (!*ps.p)
			break;
		if (*ps.p == '[') {
			const char *s = ++ps.p;
			while (*ps.p && *ps.p != ']' && *ps.p != '\n')
				ps.p++;
			if (*ps.p != ']') {
				perr(&ps, "unterminated table header");
				goto fail;
			}
			free(table);
			table = strndup(s, (size_t)(ps.p - s));
			ps.p++;
		} else {
			if (cnt == cap) {
				cap = cap ? cap * 2 : 16;
				kv = realloc(kv, cap * sizeof(*kv));
				if (!kv)
					abort();
			}
			memset(&kv[cnt], 0, sizeof(*kv));
			kv[cnt].line = ps.line;
			kv[cnt].table = strdup(table);
			cnt++;
			if (parse_key(&ps, &kv[cnt - 1].key))
				goto fail;
			skip_ws(&ps);
			if (*ps.p != '=') {
				perr(&ps, "expected '=' after key");
				goto fail;
			}
			ps.p++;
			skip_ws(&ps);
			if (parse_value(&ps, &kv[cnt - 1].value, 0))
				goto fail;
		}
		skip_ws(&ps);
		if (*ps.p == '#')
			continue;
		if (*ps.p && *ps.p != '\n' && *ps.p != '\r') {
			perr(&ps, "unexpected text after value");
			goto fail;
		}
	}
	free(table);
	*out = kv;
	*n = cnt;
	return 0;
fail:
	free(table);
	toml_free(kv, cnt);
	return -1;
}
