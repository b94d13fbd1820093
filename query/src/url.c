/*
 * The WHATWG URL standard's basic URL parser (no base URL, no state override), enough
 * to produce what split_url_events needs exactly as aw-server-rust's `url` crate does:
 * scheme, serialised host (domain lower-cased, IPv4 normalised, IPv6 compressed in
 * brackets, non-ASCII labels as punycode), serialised path (dot segments resolved,
 * percent-encoded like rust-url) and query. Inputs the standard rejects return false.
 *
 * Not implemented: the full Unicode IDNA mapping table for internationalised domain names
 * (only ASCII case folding and the ideographic full stops are applied before punycode)
 * and validation of existing "xn--" labels.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

void url_init(qurl *u)
{
	memset(u, 0, sizeof(*u));
}

void url_free(qurl *u)
{
	aw_buf_free(&u->scheme);
	aw_buf_free(&u->host);
	aw_buf_free(&u->path);
	aw_buf_free(&u->query);
}

/* aw_buf_putc without the call: the parser appends byte by byte */
static inline void bput(aw_buf *b, char c)
{
	if (b->len + 2 > b->cap)
		aw_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }
static int hexv(int c) { return is_digit(c) ? c - '0' : lower(c) - 'a' + 10; }

static int special_port(const char *s, size_t n)
{
#define IS(x) (n == sizeof(x) - 1 && !memcmp(s, x, n))
	if (IS("http") || IS("ws"))
		return 80;
	if (IS("https") || IS("wss"))
		return 443;
	if (IS("ftp"))
		return 21;
	if (IS("file"))
		return 0;
#undef IS
	return -1;
}

enum { ENC_C0, ENC_PATH, ENC_QUERY, ENC_SQUERY };

static void pct_put(aw_buf *b, unsigned char c, int set)
{
	static const char hex[] = "0123456789ABCDEF";
	bool enc = c < 0x20 || c > 0x7E;

	if (!enc && set != ENC_C0) {
		enc = c == ' ' || c == '"' || c == '#' || c == '<' || c == '>';
		if (set == ENC_PATH)
			enc = enc || c == '?' || c == '`' || c == '{' || c == '}';
		if (set == ENC_SQUERY)
			enc = enc || c == '\'';
	}
	if (enc) {
		char t[3] = {'%', hex[c >> 4], hex[c & 15]};
		aw_buf_append(b, t, 3);
	} else {
		bput(b, (char)c);
	}
}

/* ---- hosts --------------------------------------------------------------------------------- */

static bool ipv6_parse(const char *s, size_t n, aw_buf *out)
{
	unsigned addr[8] = {0};
	int piece = 0, compress = -1;
	size_t p = 0;

	if (p < n && s[p] == ':') {
		if (p + 1 >= n || s[p + 1] != ':')
			return false;
		p += 2;
		compress = ++piece;
	}
	while (p < n) {
		unsigned value = 0, length = 0;
		if (piece == 8)
			return false;
		if (s[p] == ':') {
			if (compress >= 0)
				return false;
			p++;
			compress = ++piece;
			continue;
		}
		while (length < 4 && p < n && is_hex((unsigned char)s[p])) {
			value = value * 16 + (unsigned)hexv((unsigned char)s[p]);
			p++;
			length++;
		}
		if (p < n && s[p] == '.') {
			int seen = 0;
			if (!length)
				return false;
			p -= length;
			if (piece > 6)
				return false;
			while (p < n) {
				int v4 = -1;
				if (seen > 0) {
					if (s[p] == '.' && seen < 4)
						p++;
					else
						return false;
				}
				if (p >= n || !is_digit((unsigned char)s[p]))
					return false;
				while (p < n && is_digit((unsigned char)s[p])) {
					int d = s[p] - '0';
					if (v4 < 0)
						v4 = d;
					else if (v4 == 0)
						return false;
					else
						v4 = v4 * 10 + d;
					if (v4 > 255)
						return false;
					p++;
				}
				addr[piece] = addr[piece] * 0x100 + (unsigned)v4;
				seen++;
				if (seen == 2 || seen == 4)
					piece++;
			}
			if (seen != 4)
				return false;
			break;
		} else if (p < n && s[p] == ':') {
			p++;
			if (p >= n)
				return false;
		} else if (p < n) {
			return false;
		}
		addr[piece++] = value;
	}
	if (compress >= 0) {
		int swaps = piece - compress;
		piece = 7;
		while (piece != 0 && swaps > 0) {
			unsigned t = addr[piece];
			addr[piece] = addr[compress + swaps - 1];
			addr[compress + swaps - 1] = t;
			piece--;
			swaps--;
		}
	} else if (piece != 8) {
		return false;
	}
	/* serialise: compress the first longest run of >= 2 zero pieces */
	{
		int best = -1, bestlen = 1;
		bool ignore0 = false;
		for (int i = 0; i < 8;) {
			int j = i;
			while (j < 8 && addr[j] == 0)
				j++;
			if (j - i > bestlen) {
				best = i;
				bestlen = j - i;
			}
			i = j > i ? j : i + 1;
		}
		bput(out, '[');
		for (int i = 0; i < 8; i++) {
			if (ignore0 && addr[i] == 0)
				continue;
			ignore0 = false;
			if (i == best) {
				aw_buf_puts(out, i == 0 ? "::" : ":");
				ignore0 = true;
				continue;
			}
			aw_buf_printf(out, "%x", addr[i]);
			if (i != 7)
				bput(out, ':');
		}
		bput(out, ']');
	}
	return true;
}

/* IPv4 number: -1 failure; sets *big when >= 2^32 */
static bool ipv4_number(const char *s, size_t n, uint64_t *out)
{
	int r = 10;

	if (!n)
		return false;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		r = 16;
		s += 2;
		n -= 2;
	} else if (n >= 2 && s[0] == '0') {
		r = 8;
		s++;
		n--;
	}
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;
		if (r == 16 && is_hex(c))
			d = hexv(c);
		else if (is_digit(c) && c - '0' < r)
			d = c - '0';
		else
			return false;
		if (*out > (1ull << 40))
			*out = 1ull << 40; /* saturate: already too big */
		else
			*out = *out * (uint64_t)r + (uint64_t)d;
	}
	return true;
}

static bool ends_in_number(const char *s, size_t n)
{
	size_t start;
	uint64_t v;

	if (n && s[n - 1] == '.') {
		if (memchr(s, '.', n - 1) == NULL)
			return false;
		n--;
	}
	start = n;
	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == n)
		return false;
	{
		bool digits = true;
		for (size_t i = start; i < n; i++)
			if (!is_digit((unsigned char)s[i]))
				digits = false;
		if (digits)
			return true;
	}
	return ipv4_number(s + start, n - start, &v);
}

static bool ipv4_parse(const char *s, size_t n, aw_buf *out)
{
	uint64_t nums[4], v;
	size_t np = 0, p = 0;

	if (n && s[n - 1] == '.' && memchr(s, '.', n - 1))
		n--;
	while (p <= n) {
		size_t q = p;
		while (q < n && s[q] != '.')
			q++;
		if (np == 4)
			return false;
		if (!ipv4_number(s + p, q - p, &nums[np]))
			return false;
		np++;
		p = q + 1;
	}
	for (size_t i = 0; i + 1 < np; i++)
		if (nums[i] > 255)
			return false;
	if (nums[np - 1] >= (1ull << (8 * (5 - np))))
		return false;
	v = nums[np - 1];
	for (size_t i = 0; i + 1 < np; i++)
		v += nums[i] << (8 * (3 - i));
	aw_buf_printf(out, "%u.%u.%u.%u", (unsigned)(v >> 24) & 255, (unsigned)(v >> 16) & 255,
		      (unsigned)(v >> 8) & 255, (unsigned)v & 255);
	return true;
}

static bool utf8_decode(const unsigned char *s, size_t n, uint32_t **cps, size_t *ncp)
{
	uint32_t *v = aw_mem_malloc((n + 1) * sizeof(uint32_t));
	size_t k = 0;

	for (size_t i = 0; i < n;) {
		uint32_t c = s[i];
		int len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		if (!len || i + (size_t)len > n) {
			free(v);
			return false;
		}
		if (len > 1) {
			c &= (uint32_t)(0xFF >> (len + 1));
			for (int j = 1; j < len; j++) {
				if ((s[i + (size_t)j] & 0xC0) != 0x80) {
					free(v);
					return false;
				}
				c = (c << 6) | (s[i + (size_t)j] & 0x3F);
			}
			if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
			    c > 0x10FFFF || (c >= 0xD800 && c < 0xE000)) {
				free(v);
				return false;
			}
		}
		v[k++] = c;
		i += (size_t)len;
	}
	*cps = v;
	*ncp = k;
	return true;
}

/* RFC 3492 punycode encoding of one label */
static bool punycode(const uint32_t *in, size_t n, aw_buf *out)
{
	uint32_t nn = 128, delta = 0, bias = 72, h, b = 0;

	for (size_t i = 0; i < n; i++)
		if (in[i] < 0x80) {
			bput(out, (char)in[i]);
			b++;
		}
	h = b;
	if (b)
		bput(out, '-');
	while (h < n) {
		uint32_t m = 0xFFFFFFFF;
		for (size_t i = 0; i < n; i++)
			if (in[i] >= nn && in[i] < m)
				m = in[i];
		if ((uint64_t)(m - nn) * (h + 1) + delta > 0xFFFFFFFFull)
			return false;
		delta += (m - nn) * (h + 1);
		nn = m;
		for (size_t i = 0; i < n; i++) {
			if (in[i] < nn && ++delta == 0)
				return false;
			if (in[i] == nn) {
				uint32_t q = delta;
				for (uint32_t k = 36;; k += 36) {
					uint32_t t = k <= bias ? 1 : k >= bias + 26 ? 26 : k - bias, d;
					if (q < t)
						break;
					d = t + (q - t) % (36 - t);
					bput(out, (char)(d < 26 ? 'a' + d : '0' + d - 26));
					q = (q - t) / (36 - t);
				}
				bput(out, (char)(q < 26 ? 'a' + q : '0' + q - 26));
				/* adapt */
				{
					uint32_t dl = h == b ? delta / 700 : delta / 2, k2 = 0;
					dl += dl / (h + 1);
					while (dl > ((36 - 1) * 26) / 2) {
						dl /= 36 - 1;
						k2 += 36;
					}
					bias = k2 + (36 * dl) / (dl + 38);
				}
				delta = 0;
				h++;
			}
		}
		delta++;
		nn++;
	}
	return true;
}

static bool forbidden_host(unsigned char c)
{
	return c == 0 || c == '\t' || c == '\n' || c == '\r' || c == ' ' || c == '#' || c == '/' || c == ':' ||
	       c == '<' || c == '>' || c == '?' || c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' ||
	       c == '|';
}

static bool host_parse(const char *s, size_t n, bool special, aw_buf *out)
{
	aw_buf dec = AW_BUF_INIT, ascii = AW_BUF_INIT;
	bool ok = false, nonascii = false;

	if (n && s[0] == '[') {
		if (s[n - 1] != ']')
			return false;
		return ipv6_parse(s + 1, n - 2, out);
	}
	if (!special) {
		for (size_t i = 0; i < n; i++)
			if (forbidden_host((unsigned char)s[i]))
				return false;
		for (size_t i = 0; i < n; i++)
			pct_put(out, (unsigned char)s[i], ENC_C0);
		return true;
	}
	/* percent-decode */
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && is_hex((unsigned char)s[i + 1]) && is_hex((unsigned char)s[i + 2])) {
			bput(&dec, (char)(hexv((unsigned char)s[i + 1]) * 16 + hexv((unsigned char)s[i + 2])));
			i += 2;
		} else {
			bput(&dec, s[i]);
		}
		if ((unsigned char)dec.data[dec.len - 1] >= 0x80)
			nonascii = true;
	}
	if (!dec.len)
		goto out;
	if (!nonascii) {
		for (size_t i = 0; i < dec.len; i++)
			bput(&ascii, (char)lower((unsigned char)dec.data[i]));
	} else {
		uint32_t *cp;
		size_t ncp, start = 0;
		if (!utf8_decode((const unsigned char *)dec.data, dec.len, &cp, &ncp))
			goto out;
		for (size_t i = 0; i <= ncp; i++) {
			bool dot = i == ncp || cp[i] == '.' || cp[i] == 0x3002 || cp[i] == 0xFF0E || cp[i] == 0xFF61;
			if (!dot)
				continue;
			bool lab_ascii = true;
			for (size_t k = start; k < i; k++) {
				if (cp[k] < 0x80)
					cp[k] = (uint32_t)lower((int)cp[k]);
				else
					lab_ascii = false;
			}
			if (start)
				bput(&ascii, '.');
			if (lab_ascii) {
				for (size_t k = start; k < i; k++)
					bput(&ascii, (char)cp[k]);
			} else {
				aw_buf_puts(&ascii, "xn--");
				if (!punycode(cp + start, i - start, &ascii)) {
					free(cp);
					goto out;
				}
			}
			start = i + 1;
		}
		free(cp);
	}
	if (!ascii.len)
		goto out;
	for (size_t i = 0; i < ascii.len; i++) {
		unsigned char c = (unsigned char)ascii.data[i];
		if (forbidden_host(c) || c < 0x20 || c == '%' || c == 0x7F)
			goto out;
	}
	if (ends_in_number(ascii.data, ascii.len)) {
		ok = ipv4_parse(ascii.data, ascii.len, out);
		goto out;
	}
	aw_buf_append(out, ascii.data, ascii.len);
	ok = true;
out:
	aw_buf_free(&dec);
	aw_buf_free(&ascii);
	return ok;
}

/* ---- the state machine --------------------------------------------------------------------- */

enum {
	S_SCHEME_START, S_SCHEME, S_SPECIAL_AUTH_SLASHES, S_SPECIAL_AUTH_IGNORE, S_PATH_OR_AUTH,
	S_AUTHORITY, S_HOST, S_PORT, S_FILE, S_FILE_SLASH, S_FILE_HOST, S_PATH_START, S_PATH,
	S_OPAQUE, S_QUERY, S_FRAGMENT
};

typedef struct segs {
	aw_buf bytes;          /* segment bytes back to back */
	size_t *off, *len;
	size_t n, cap;
} segs;

static void seg_push(segs *s, const char *p, size_t n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->off = aw_mem_realloc(s->off, s->cap * sizeof(size_t));
		s->len = aw_mem_realloc(s->len, s->cap * sizeof(size_t));
	}
	s->off[s->n] = s->bytes.len;
	s->len[s->n] = n;
	aw_buf_append(&s->bytes, p, n);
	s->n++;
}

static bool ieq(const char *a, size_t n, const char *b)
{
	if (n != strlen(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != b[i])
			return false;
	return true;
}

static bool is_single_dot(const char *s, size_t n)
{
	return ieq(s, n, ".") || ieq(s, n, "%2e");
}

static bool is_double_dot(const char *s, size_t n)
{
	return ieq(s, n, "..") || ieq(s, n, ".%2e") || ieq(s, n, "%2e.") || ieq(s, n, "%2e%2e");
}

static bool is_drive(const char *s, size_t n, bool normalized)
{
	return n == 2 && is_alpha((unsigned char)s[0]) && (s[1] == ':' || (!normalized && s[1] == '|'));
}

static void shorten(segs *p, bool file)
{
	if (file && p->n == 1 && is_drive(p->bytes.data + p->off[0], p->len[0], true))
		return;
	if (p->n) {
		p->n--;
		p->bytes.len = p->off[p->n];
	}
}

bool url_parse(qurl *u, const char *in, size_t len)
{
	aw_buf src = AW_BUF_INIT, buf = AW_BUF_INIT;
	segs path = {AW_BUF_INIT, NULL, NULL, 0, 0};
	const char *s;
	size_t n, p;
	int state = S_SCHEME_START;
	bool special = false, file = false, at_seen = false, brackets = false, ok = false;
	bool opaque = false, has_query = false;

	aw_buf_reset(&u->scheme);
	aw_buf_reset(&u->host);
	aw_buf_reset(&u->path);
	aw_buf_reset(&u->query);
	u->has_host = false;

	/* strip leading/trailing C0 controls and spaces; remove tabs and newlines */
	while (len && (unsigned char)in[0] <= 0x20) {
		in++;
		len--;
	}
	while (len && (unsigned char)in[len - 1] <= 0x20)
		len--;
	if (memchr(in, '\t', len) || memchr(in, '\n', len) || memchr(in, '\r', len)) {
		for (size_t i = 0; i < len; i++)
			if (in[i] != '\t' && in[i] != '\n' && in[i] != '\r')
				bput(&src, in[i]);
		s = src.data ? src.data : "";
		n = src.len;
	} else {
		s = len ? in : "";
		n = len;
	}

	for (p = 0;; p++) {
		int c = p < n ? (unsigned char)s[p] : -1; /* -1 = EOF */
		switch (state) {
		case S_SCHEME_START:
			if (c >= 0 && is_alpha(c)) {
				bput(&buf, (char)lower(c));
				state = S_SCHEME;
			} else {
				goto done; /* no scheme and no base: failure */
			}
			break;
		case S_SCHEME:
			if (c >= 0 && (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) {
				bput(&buf, (char)lower(c));
			} else if (c == ':') {
				aw_buf_append(&u->scheme, buf.data, buf.len);
				special = special_port(buf.data, buf.len) >= 0;
				file = special && buf.len == 4 && !memcmp(buf.data, "file", 4);
				aw_buf_reset(&buf);
				if (file) {
					state = S_FILE;
				} else if (special) {
					state = S_SPECIAL_AUTH_SLASHES;
				} else if (p + 1 < n && s[p + 1] == '/') {
					state = S_PATH_OR_AUTH;
					p++;
				} else {
					opaque = true;
					state = S_OPAQUE;
				}
			} else {
				goto done;
			}
			break;
		case S_SPECIAL_AUTH_SLASHES:
			if (c == '/' && p + 1 < n && s[p + 1] == '/') {
				state = S_SPECIAL_AUTH_IGNORE;
				p++;
			} else {
				state = S_SPECIAL_AUTH_IGNORE;
				p--;
			}
			break;
		case S_SPECIAL_AUTH_IGNORE:
			if (c != '/' && c != '\\') {
				state = S_AUTHORITY;
				p--;
			}
			break;
		case S_PATH_OR_AUTH:
			if (c == '/') {
				state = S_AUTHORITY;
			} else {
				state = S_PATH;
				p--;
			}
			break;
		case S_AUTHORITY:
			if (c == '@') {
				at_seen = true;
				aw_buf_reset(&buf); /* credentials are not needed */
			} else if (c < 0 || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
				if (at_seen && buf.len == 0)
					goto done;
				p -= buf.len + 1;
				aw_buf_reset(&buf);
				state = S_HOST;
			} else {
				bput(&buf, (char)c);
			}
			break;
		case S_HOST:
			if (c == ':' && !brackets) {
				if (!buf.len)
					goto done;
				if (!host_parse(buf.data, buf.len, special, &u->host))
					goto done;
				aw_buf_reset(&buf);
				state = S_PORT;
			} else if (c < 0 || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
				p--;
				if (special && !buf.len)
					goto done;
				if (buf.len && !host_parse(buf.data, buf.len, special, &u->host))
					goto done;
				aw_buf_reset(&buf);
				state = S_PATH_START;
			} else {
				if (c == '[')
					brackets = true;
				if (c == ']')
					brackets = false;
				bput(&buf, (char)c);
			}
			break;
		case S_PORT:
			if (c >= 0 && is_digit(c)) {
				bput(&buf, (char)c);
				if (buf.len > 5) {
					/* leading zeros are fine; only the value matters */
					size_t z = 0;
					while (z < buf.len - 1 && buf.data[z] == '0')
						z++;
					if (buf.len - z > 5)
						goto done;
				}
			} else if (c < 0 || c == '/' || c == '?' || c == '#' || (special && c == '\\')) {
				if (buf.len) {
					long port = strtol(buf.data, NULL, 10);
					if (port > 65535)
						goto done;
				}
				aw_buf_reset(&buf);
				state = S_PATH_START;
				p--;
			} else {
				goto done;
			}
			break;
		case S_FILE:
			aw_buf_reset(&u->host);
			if (c == '/' || c == '\\') {
				state = S_FILE_SLASH;
			} else {
				state = S_PATH;
				p--;
			}
			break;
		case S_FILE_SLASH:
			if (c == '/' || c == '\\') {
				state = S_FILE_HOST;
			} else {
				state = S_PATH;
				p--;
			}
			break;
		case S_FILE_HOST:
			if (c < 0 || c == '/' || c == '\\' || c == '?' || c == '#') {
				p--;
				if (is_drive(buf.data, buf.len, false)) {
					state = S_PATH; /* buffer is kept and becomes the first segment */
				} else if (!buf.len) {
					state = S_PATH_START;
				} else {
					if (!host_parse(buf.data, buf.len, true, &u->host))
						goto done;
					if (u->host.len == 9 && !memcmp(u->host.data, "localhost", 9))
						aw_buf_reset(&u->host);
					aw_buf_reset(&buf);
					state = S_PATH_START;
				}
			} else {
				bput(&buf, (char)c);
			}
			break;
		case S_PATH_START:
			if (special) {
				state = S_PATH;
				if (c != '/' && c != '\\')
					p--;
			} else if (c == '?') {
				has_query = true;
				state = S_QUERY;
			} else if (c == '#') {
				state = S_FRAGMENT;
			} else if (c >= 0) {
				state = S_PATH;
				if (c != '/')
					p--;
			}
			break;
		case S_PATH:
			if (c < 0 || c == '/' || (special && c == '\\') || c == '?' || c == '#') {
				bool slash = c == '/' || (special && c == '\\');
				if (is_double_dot(buf.data, buf.len)) {
					shorten(&path, file);
					if (!slash)
						seg_push(&path, "", 0);
				} else if (is_single_dot(buf.data, buf.len)) {
					if (!slash)
						seg_push(&path, "", 0);
				} else {
					if (file && path.n == 0 && is_drive(buf.data, buf.len, false))
						buf.data[1] = ':';
					seg_push(&path, buf.data ? buf.data : "", buf.len);
				}
				aw_buf_reset(&buf);
				if (c == '?') {
					has_query = true;
					state = S_QUERY;
				} else if (c == '#') {
					state = S_FRAGMENT;
				}
			} else {
				pct_put(&buf, (unsigned char)c, ENC_PATH);
			}
			break;
		case S_OPAQUE:
			if (c == '?') {
				has_query = true;
				state = S_QUERY;
			} else if (c == '#') {
				state = S_FRAGMENT;
			} else if (c >= 0) {
				pct_put(&u->path, (unsigned char)c, ENC_C0);
			}
			break;
		case S_QUERY:
			if (c < 0 || c == '#') {
				for (size_t i = 0; i < buf.len; i++)
					pct_put(&u->query, (unsigned char)buf.data[i], special ? ENC_SQUERY : ENC_QUERY);
				aw_buf_reset(&buf);
				if (c == '#')
					state = S_FRAGMENT;
			} else {
				bput(&buf, (char)c);
			}
			break;
		case S_FRAGMENT:
			break;
		}
		if (c < 0 && p >= n)
			break; /* EOF consumed (states that step back see EOF again) */
	}
	if (!opaque)
		for (size_t i = 0; i < path.n; i++) {
			bput(&u->path, '/');
			aw_buf_append(&u->path, path.bytes.data + path.off[i], path.len[i]);
		}
	(void)has_query;
	u->has_host = u->host.len > 0;
	ok = true;
done:
	aw_buf_free(&path.bytes);
	free(path.off);
	free(path.len);
	aw_buf_free(&buf);
	aw_buf_free(&src);
	return ok;
}
