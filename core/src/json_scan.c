/*
 * Validating JSON scanner (see json_scan.h). Recursion is bounded by MAX_DEPTH, the
 * same limit jansson applies, so hostile nesting cannot exhaust the stack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "aw/time.h"
#include "aw/json_scan.h"
#include "internal.h"

#define MAX_DEPTH 2048

static int fail(aw_jscan *s, const char *what)
{
	snprintf(s->err, sizeof(s->err), "invalid JSON at byte %zu: %s", (size_t)(s->p - s->start), what);
	return -1;
}

void aw_jscan_init(aw_jscan *s, const char *text, size_t len)
{
	s->p = s->start = text;
	s->end = text + len;
	s->err[0] = '\0';
}

void aw_jscan_ws(aw_jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int hex4(aw_jscan *s, unsigned *out)
{
	unsigned v = 0;

	if (s->end - s->p < 4)
		return fail(s, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = s->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return fail(s, "bad \\u escape");
	}
	s->p += 4;
	*out = v;
	return 0;
}

/* One UTF-8 sequence starting at s->p (first byte >= 0x80). */
static int utf8_seq(aw_jscan *s)
{
	const unsigned char *p = (const unsigned char *)s->p;
	size_t left = (size_t)(s->end - s->p);
	unsigned c = p[0], cp;
	int n;

	if (c >= 0xC2 && c <= 0xDF)
		n = 1, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 2, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 3, cp = c & 0x07;
	else
		return fail(s, "invalid UTF-8");
	if (left < (size_t)n + 1)
		return fail(s, "truncated UTF-8");
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return fail(s, "invalid UTF-8");
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return fail(s, "invalid UTF-8");
	s->p += n + 1;
	return 0;
}

/* Bytes that end the fast path inside a string: quote, backslash, control characters
 * and every non-ASCII byte (validated as UTF-8 on the slow path). */
static const unsigned char string_special[256] = {
	[0 ... 0x1F] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xFF] = 1,
};

static int string(aw_jscan *s, bool is_key)
{
	unsigned u, lo;

	s->p++; /* opening quote */
	while (s->p < s->end) {
		unsigned char c;
		while (s->p < s->end && !string_special[(unsigned char)*s->p])
			s->p++;
		if (s->p >= s->end)
			break;
		c = (unsigned char)*s->p;
		if (c == '"') {
			s->p++;
			return 0;
		}
		if (c < 0x20)
			return fail(s, "control character in string");
		if (c >= 0x80) {
			if (utf8_seq(s))
				return -1;
			continue;
		}
		if (c != '\\') {
			s->p++;
			continue;
		}
		if (++s->p >= s->end)
			break;
		c = (unsigned char)*s->p++;
		if (strchr("\"\\/bfnrt", c) && c)
			continue;
		if (c != 'u')
			return fail(s, "bad escape");
		if (hex4(s, &u))
			return -1;
		if (u == 0 && is_key)
			return fail(s, "NUL in object key");
		if (u >= 0xDC00 && u <= 0xDFFF)
			return fail(s, "lone low surrogate");
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u')
				return fail(s, "lone high surrogate");
			s->p += 2;
			if (hex4(s, &lo))
				return -1;
			if (lo < 0xDC00 || lo > 0xDFFF)
				return fail(s, "bad surrogate pair");
		}
	}
	return fail(s, "unterminated string");
}

static bool digit(aw_jscan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int number(aw_jscan *s)
{
	const char *b = s->p;
	bool real = false;
	char buf[64], *endp;

	if (*s->p == '-')
		s->p++;
	if (!digit(s))
		return fail(s, "bad number");
	if (*s->p == '0')
		s->p++;
	else
		while (digit(s))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		real = true;
		if (!digit(s))
			return fail(s, "bad number");
		while (digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		real = true;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digit(s))
			return fail(s, "bad number");
		while (digit(s))
			s->p++;
	}
	/* Range checks as jansson does them: integers must fit int64, reals must be finite.
	 * Short numbers cannot overflow, so the conversion is skipped for them. */
	if (!real && s->p - b <= 18)
		return 0;
	if (real && s->p - b <= 24 && !memchr(b, 'e', (size_t)(s->p - b)) && !memchr(b, 'E', (size_t)(s->p - b)))
		return 0;
	if ((size_t)(s->p - b) >= sizeof(buf))
		return real ? 0 : fail(s, "integer too big");
	memcpy(buf, b, (size_t)(s->p - b));
	buf[s->p - b] = '\0';
	errno = 0;
	if (real) {
		double d = strtod(buf, &endp);
		if (errno == ERANGE && (d > 1 || d < -1))
			return fail(s, "real number overflow");
	} else {
		strtoll(buf, &endp, 10);
		if (errno == ERANGE)
			return fail(s, "integer too big");
	}
	return 0;
}

static int literal(aw_jscan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return fail(s, "unexpected token");
	s->p += n;
	return 0;
}

/* An object member's key and the ':' after it, with the blanks around both; s->p ends
 * at the value and *kend (if not NULL) just after the key's closing quote. */
static int member_key(aw_jscan *s, const char **kend)
{
	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a string key");
	if (string(s, true))
		return -1;
	if (kend)
		*kend = s->p;
	aw_jscan_ws(s);
	if (s->p >= s->end || *s->p != ':')
		return fail(s, "expected ':'");
	s->p++;
	aw_jscan_ws(s);
	return 0;
}

static int value(aw_jscan *s, int depth);

static int container(aw_jscan *s, int depth, char close)
{
	bool first = true;

	if (depth >= MAX_DEPTH)
		return fail(s, "nesting too deep");
	s->p++;
	for (;;) {
		aw_jscan_ws(s);
		if (s->p >= s->end)
			return fail(s, "unexpected end");
		if (*s->p == close) {
			s->p++;
			return 0;
		}
		if (!first) {
			if (*s->p != ',')
				return fail(s, "expected ','");
			s->p++;
			aw_jscan_ws(s);
		}
		first = false;
		if (close == '}' && member_key(s, NULL))
			return -1;
		if (value(s, depth + 1))
			return -1;
	}
}

static int value(aw_jscan *s, int depth)
{
	if (s->p >= s->end)
		return fail(s, "unexpected end");
	switch (*s->p) {
	case '{': return container(s, depth, '}');
	case '[': return container(s, depth, ']');
	case '"': return string(s, false);
	case 't': return literal(s, "true");
	case 'f': return literal(s, "false");
	case 'n': return literal(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		return fail(s, "unexpected character");
	}
}

/* Skip a value in text already validated by aw_jscan_document: only strings and brackets
 * need attention. */
int aw_jscan_skip(aw_jscan *s, const char **vstart, const char **vend)
{
	int depth = 0;

	aw_jscan_ws(s);
	*vstart = s->p;
	do {
		char c = *s->p;
		if (c == '"') {
			for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
				if (*s->p == '\\')
					s->p++;
			s->p++;
		} else if (c == '{' || c == '[') {
			depth++;
			s->p++;
		} else if (c == '}' || c == ']') {
			depth--;
			s->p++;
		} else if (depth == 0) {
			while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
				s->p++;
		} else {
			s->p++;
		}
	} while (depth > 0 && s->p < s->end);
	*vend = s->p;
	return 0;
}

int aw_jscan_value(aw_jscan *s, const char **vstart, const char **vend)
{
	aw_jscan_ws(s);
	*vstart = s->p;
	if (value(s, 0))
		return -1;
	*vend = s->p;
	return 0;
}

int aw_jscan_document(aw_jscan *s)
{
	const char *a, *b;

	if (aw_jscan_value(s, &a, &b))
		return -1;
	aw_jscan_ws(s);
	return s->p == s->end ? 0 : fail(s, "text after the JSON value");
}

static int next_item(aw_jscan *s, int *state, char open, char close)
{
	aw_jscan_ws(s);
	if (*state == 0) {
		if (s->p >= s->end || *s->p != open)
			return fail(s, open == '{' ? "expected an object" : "expected an array");
		s->p++;
		aw_jscan_ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return 0;
		}
		*state = 1;
		return 1;
	}
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	if (s->p >= s->end || *s->p != ',')
		return fail(s, "expected ','");
	s->p++;
	aw_jscan_ws(s);
	return 1;
}

int aw_jscan_member(aw_jscan *s, int *state, const char **kstart, const char **kend)
{
	int rc = next_item(s, state, '{', '}');

	if (rc <= 0)
		return rc;
	*kstart = s->p;
	return member_key(s, kend) ? -1 : 1;
}

int aw_jscan_element(aw_jscan *s, int *state)
{
	return next_item(s, state, '[', ']');
}

bool aw_jscan_key_is(const char *kstart, const char *kend, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(kend - kstart) == n + 2 && !memcmp(kstart + 1, name, n);
}

/* ---- canonical JSON straight from validated text ----------------------------------- */

/* Decode a validated string literal [p, e) (with quotes) into UTF-8 bytes. */
static void unescape(aw_buf *out, const char *p, const char *e)
{
	p++;
	e--;
	while (p < e) {
		const char *bs = memchr(p, '\\', (size_t)(e - p));
		unsigned u, lo;
		aw_jscan tmp;

		if (!bs) {
			aw_buf_append(out, p, (size_t)(e - p));
			return;
		}
		aw_buf_append(out, p, (size_t)(bs - p));
		p = bs + 1;
		switch (*p++) {
		case 'b': aw_buf_putc(out, '\b'); break;
		case 'f': aw_buf_putc(out, '\f'); break;
		case 'n': aw_buf_putc(out, '\n'); break;
		case 'r': aw_buf_putc(out, '\r'); break;
		case 't': aw_buf_putc(out, '\t'); break;
		case 'u':
			aw_jscan_init(&tmp, p, (size_t)(e - p));
			hex4(&tmp, &u);
			p += 4;
			if (u >= 0xD800 && u <= 0xDBFF) {
				aw_jscan_init(&tmp, p + 2, (size_t)(e - p - 2));
				hex4(&tmp, &lo);
				p += 6;
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (u < 0x80) {
				aw_buf_putc(out, (char)u);
			} else if (u < 0x800) {
				aw_buf_putc(out, (char)(0xC0 | u >> 6));
				aw_buf_putc(out, (char)(0x80 | (u & 0x3F)));
			} else if (u < 0x10000) {
				aw_buf_putc(out, (char)(0xE0 | u >> 12));
				aw_buf_putc(out, (char)(0x80 | (u >> 6 & 0x3F)));
				aw_buf_putc(out, (char)(0x80 | (u & 0x3F)));
			} else {
				aw_buf_putc(out, (char)(0xF0 | u >> 18));
				aw_buf_putc(out, (char)(0x80 | (u >> 12 & 0x3F)));
				aw_buf_putc(out, (char)(0x80 | (u >> 6 & 0x3F)));
				aw_buf_putc(out, (char)(0x80 | (u & 0x3F)));
			}
			break;
		default: aw_buf_putc(out, p[-1]); break; /* \" \\ \/ */
		}
	}
}

void aw_jscan_string(aw_buf *out, const char *p, const char *e)
{
	unescape(out, p, e);
}

static void canonical_string(aw_buf *out, const char *p, const char *e)
{
	aw_buf tmp = AW_BUF_INIT;

	/* Validated input without backslashes has nothing serde would escape. */
	if (!memchr(p, '\\', (size_t)(e - p))) {
		aw_buf_append(out, p, (size_t)(e - p));
		return;
	}
	unescape(&tmp, p, e);
	aw_buf_json_string(out, tmp.data ? tmp.data : "", tmp.len);
	aw_buf_free(&tmp);
}

typedef struct member {
	const char *key;   /* decoded key bytes */
	size_t key_len;
	const char *vs, *ve;
	char *owned;
} member;

static int member_cmp(const void *a, const void *b)
{
	const member *x = a, *y = b;

	return canonical_key_cmp(x->key, x->key_len, y->key, y->key_len);
}

static void canonical_value(aw_buf *out, aw_jscan *s);

static void canonical_object(aw_buf *out, aw_jscan *s)
{
	member stack[16], *m = stack;
	size_t n = 0, cap = 16;
	const char *ks, *ke;
	int state = 0;

	while (aw_jscan_member(s, &state, &ks, &ke) == 1) {
		if (n == cap) {
			cap *= 2;
			if (m == stack) {
				m = aw_mem_malloc(cap * sizeof(*m));
				memcpy(m, stack, sizeof(stack));
			} else if (!(m = realloc(m, cap * sizeof(*m)))) {
				abort();
			}
		}
		m[n].owned = NULL;
		if (memchr(ks, '\\', (size_t)(ke - ks))) {
			aw_buf k = AW_BUF_INIT;
			unescape(&k, ks, ke);
			m[n].owned = aw_buf_steal(&k, &m[n].key_len);
			m[n].key = m[n].owned;
		} else {
			m[n].key = ks + 1;
			m[n].key_len = (size_t)(ke - ks - 2);
		}
		aw_jscan_skip(s, &m[n].vs, &m[n].ve);
		n++;
	}
	/* Duplicate keys: the last one wins, as in jansson and serde. A stable sort keeps
	 * input order among equal keys, so we emit the last of each run. */
	for (size_t i = 1; i < n; i++) {
		member t = m[i];
		size_t j = i;
		while (j > 0 && member_cmp(&m[j - 1], &t) > 0) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = t;
	}
	aw_buf_putc(out, '{');
	for (size_t i = 0, first = 1; i < n; i++) {
		aw_jscan sub;
		if (i + 1 < n && member_cmp(&m[i], &m[i + 1]) == 0)
			continue;
		if (!first)
			aw_buf_putc(out, ',');
		first = 0;
		aw_buf_json_string(out, m[i].key, m[i].key_len);
		aw_buf_putc(out, ':');
		aw_jscan_init(&sub, m[i].vs, (size_t)(m[i].ve - m[i].vs));
		canonical_value(out, &sub);
	}
	aw_buf_putc(out, '}');
	for (size_t i = 0; i < n; i++)
		free(m[i].owned);
	if (m != stack)
		free(m);
}

static void canonical_value(aw_buf *out, aw_jscan *s)
{
	const char *vs, *ve;
	char num[AW_FLOAT_BUFSZ], tmp[512];
	int state = 0, first = 1;

	aw_jscan_ws(s);
	switch (*s->p) {
	case '{':
		canonical_object(out, s);
		return;
	case '[':
		aw_buf_putc(out, '[');
		while (aw_jscan_element(s, &state) == 1) {
			if (!first)
				aw_buf_putc(out, ',');
			first = 0;
			canonical_value(out, s);
		}
		aw_buf_putc(out, ']');
		return;
	case '"':
		aw_jscan_skip(s, &vs, &ve);
		canonical_string(out, vs, ve);
		return;
	default:
		aw_jscan_skip(s, &vs, &ve);
		if (*vs == 't' || *vs == 'f' || *vs == 'n') {
			aw_buf_append(out, vs, (size_t)(ve - vs));
		} else if (!memchr(vs, '.', (size_t)(ve - vs)) && !memchr(vs, 'e', (size_t)(ve - vs)) &&
			   !memchr(vs, 'E', (size_t)(ve - vs))) {
			/* an integer: printed as itself, but "-0" is 0 */
			if (ve - vs == 2 && vs[0] == '-' && vs[1] == '0')
				aw_buf_putc(out, '0');
			else
				aw_buf_append(out, vs, (size_t)(ve - vs));
		} else {
			size_t n = (size_t)(ve - vs) < sizeof(tmp) - 1 ? (size_t)(ve - vs) : sizeof(tmp) - 1;
			memcpy(tmp, vs, n);
			tmp[n] = '\0';
			aw_buf_append(out, num, aw_float_format(num, strtod(tmp, NULL)));
		}
	}
}

void aw_jscan_canonical(aw_buf *out, const char *vs, const char *ve)
{
	aw_jscan s;

	aw_jscan_init(&s, vs, (size_t)(ve - vs));
	canonical_value(out, &s);
}
