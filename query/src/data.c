/*
 * The data table of a query run: one entry per distinct event data object.
 *
 * Events refer to their data by index. Three kinds of entries:
 *   - stored: keyed by the storage's interned data id; the canonical JSON text is borrowed
 *     from the reader's cache and fetched only when something needs it;
 *   - text: created from a canonical JSON text (e.g. `{}` by period_union), interned by
 *     that text;
 *   - overlay: a root entry plus a few replaced/added top-level fields (what categorize,
 *     tag, split_url_events and simplify_window_titles produce), one per distinct input.
 *     Their JSON text is only built when something needs the whole text (the result, or
 *     an equality test); field lookups never need it.
 *
 * Equality of data: the same index is equal; two stored entries with different ids are
 * different (storage interns by canonical text), as are two text entries (interned by
 * text here); any other pair is compared by canonical text.
 *
 * Top-level fields of a text are located once (spans into the text) and reused by every
 * function that reads a key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/mem.h"
#include "internal.h"

static const char EMPTY_OBJ[] = "{}";

uint32_t qsid_refused[1];

void data_init(qdata *T, aw_reader *r)
{
	memset(T, 0, sizeof(*T));
	T->r = r;
}

void data_free(qdata *T)
{
	for (size_t i = 0; i < T->n; i++)
		if (T->e[i].owned)
			free((char *)T->e[i].json);
	while (T->arena) {
		void *prev = *(void **)T->arena;
		free(T->arena);
		T->arena = prev;
	}
	free(T->e);
	for (size_t p = 0; p < T->sidpg_n; p++)
		if (T->sidpg[p] != qsid_refused)
			free(T->sidpg[p]);
	free(T->sidpg);
	free(T->sid);
	free(T->tx);
	free(T->fv);
	if (T->urls)
		T->urls_free(T->urls);
	if (T->keycols)
		T->keycols_free(T->keycols);
	memset(T, 0, sizeof(*T));
}

/* Blocks of 64 KiB (a larger request gets a block of its own, linked behind the current
 * one so the current block keeps filling). */
void *data_arena_alloc(qdata *T, size_t n)
{
	enum { BLOCK = 64 << 10, HEAD = sizeof(void *) };
	char *b;

	n = (n + 7) & ~(size_t)7;
	if (n > BLOCK / 4) {
		b = aw_mem_malloc(HEAD + n);
		if (T->arena) {
			*(void **)b = *(void **)T->arena;
			*(void **)T->arena = b;
		} else {
			*(void **)b = NULL;
			T->arena = b;
			T->arena_used = T->arena_cap = HEAD;
		}
		return b + HEAD;
	}
	if (!T->arena || T->arena_used + n > T->arena_cap) {
		b = aw_mem_malloc(BLOCK);
		*(void **)b = T->arena;
		T->arena = b;
		T->arena_used = HEAD;
		T->arena_cap = BLOCK;
	}
	b = (char *)T->arena + T->arena_used;
	T->arena_used += n;
	return b;
}

static uint32_t new_entry(qdata *T)
{
	T->e = aw_mem_grow(T->e, T->n, &T->cap, sizeof(*T->e), 256);
	memset(&T->e[T->n], 0, sizeof(T->e[0]));
	return (uint32_t)T->n++;
}

void slots_grow(uint32_t **slot, size_t *cap, const uint64_t *hashes, size_t nc)
{
	uint32_t *ns = zalloc_table(nc, sizeof(uint32_t));

	for (size_t i = 0; i < *cap; i++) {
		uint32_t e = (*slot)[i];
		if (!e)
			continue;
		size_t q = (size_t)hashes[e - 1] & (nc - 1);
		while (ns[q])
			q = (q + 1) & (nc - 1);
		ns[q] = e;
	}
	free(*slot);
	*slot = ns;
	*cap = nc;
}

/* ---- stored entries ------------------------------------------------------------------- */

static void sid_grow(qdata *T)
{
	size_t oc = T->sid_cap, nc = oc ? oc * 2 : 1024;
	struct qsid *old = T->sid;

	T->sid = zalloc_table(nc, sizeof(*T->sid));
	T->sid_cap = nc;
	for (size_t i = 0; i < oc; i++) {
		if (!old[i].sid)
			continue;
		size_t j = sid_hash(old[i].sid) & (nc - 1);
		while (T->sid[j].sid)
			j = (j + 1) & (nc - 1);
		T->sid[j] = old[i];
	}
	free(old);
}

/*
 * The page slot of sid, or NULL when sid belongs to the table. A year's 50,000 values
 * take 13 pages (200 KB) where the table took 2 MB, zeroed as it grew and probed at
 * scattered places: query_bucket looks up every row it reads, and rows of one time
 * range carry ids of one range. A page is added only while the pages hold at most
 * four slots per entry (plus a start of four pages), so ids spread thinly over a large
 * range cost no more than the table would; a refused page stays refused, so every id
 * has one place for the run.
 */
static uint32_t *sid_page(qdata *T, int64_t sid)
{
	size_t p = (size_t)((uint64_t)sid >> QSID_SHIFT);

	if (sid <= 0 || sid >= QSID_MAX)
		return NULL;
	if (p >= T->sidpg_n) {
		size_t nn = p + 1 > T->sidpg_n * 2 ? p + 1 : T->sidpg_n * 2;
		T->sidpg = aw_mem_realloc(T->sidpg, nn * sizeof(*T->sidpg));
		memset(T->sidpg + T->sidpg_n, 0, (nn - T->sidpg_n) * sizeof(*T->sidpg));
		T->sidpg_n = nn;
	}
	if (!T->sidpg[p]) {
		if ((T->sidpg_used + 1) * QSID_PAGE > 4 * (T->n + QSID_PAGE)) {
			T->sidpg[p] = qsid_refused;
		} else {
			T->sidpg[p] = zalloc_table(QSID_PAGE, sizeof(uint32_t));
			T->sidpg_used++;
		}
	}
	if (T->sidpg[p] == qsid_refused)
		return NULL;
	return &T->sidpg[p][(size_t)sid & (QSID_PAGE - 1)];
}

uint32_t data_from_sid(qdata *T, int64_t sid)
{
	uint32_t *slot = sid_page(T, sid);
	size_t j;
	uint32_t i;

	if (slot) {
		if (*slot)
			return *slot - 1;
		i = new_entry(T);
		T->e[i].ref = sid;
		T->e[i].kind = QD_STORED;
		*slot = i + 1;
		return i;
	}
	if ((T->sid_n + 1) * 4 >= T->sid_cap * 3)
		sid_grow(T);
	for (j = sid_hash(sid) & (T->sid_cap - 1); T->sid[j].sid; j = (j + 1) & (T->sid_cap - 1))
		if (T->sid[j].sid == sid)
			return T->sid[j].i;
	i = new_entry(T);
	T->e[i].ref = sid;
	T->e[i].kind = QD_STORED;
	T->sid[j].sid = sid;
	T->sid[j].i = i;
	T->sid_n++;
	return i;
}

/* ---- interning of text entries ------------------------------------------------------------ */

static void tx_grow(qdata *T)
{
	size_t oc = T->tx_cap, nc = oc ? oc * 2 : 256;
	uint32_t *old = T->tx;

	T->tx = zalloc_table(nc, sizeof(*T->tx));
	T->tx_cap = nc;
	for (size_t i = 0; i < oc; i++) {
		if (!old[i])
			continue;
		const qdent *d = &T->e[old[i] - 1];
		size_t j = (size_t)aw_hash_bytes(d->json, d->len) & (nc - 1);
		while (T->tx[j])
			j = (j + 1) & (nc - 1);
		T->tx[j] = old[i];
	}
	free(old);
}

/* Find the text entry whose text is k; else the free slot in *slot. */
static int64_t tx_find(qdata *T, const char *k, size_t kl, size_t *slot)
{
	size_t j;

	if ((T->tx_n + 1) * 4 >= T->tx_cap * 3)
		tx_grow(T);
	for (j = (size_t)aw_hash_bytes(k, kl) & (T->tx_cap - 1); T->tx[j]; j = (j + 1) & (T->tx_cap - 1)) {
		const qdent *d = &T->e[T->tx[j] - 1];
		if (d->len == kl && !memcmp(d->json, k, kl))
			return T->tx[j] - 1;
	}
	*slot = j;
	return -1;
}

uint32_t data_intern(qdata *T, const char *json, size_t len)
{
	size_t slot;
	int64_t f = tx_find(T, json, len, &slot);
	uint32_t i;
	char *copy;

	if (f >= 0)
		return (uint32_t)f;
	copy = aw_mem_malloc(len + 1);
	memcpy(copy, json, len);
	copy[len] = '\0';
	i = new_entry(T);
	T->e[i].json = copy;
	T->e[i].len = (uint32_t)len;
	T->e[i].owned = 1;
	T->e[i].kind = QD_TEXT;
	T->tx[slot] = i + 1;
	T->tx_n++;
	return i;
}

/* ---- text access ----------------------------------------------------------------------- */

static void materialize(qdata *T, uint32_t i);

#ifdef AW_READER_DATA_PREFETCH
typedef struct sid_ix {
	int64_t sid;
	uint32_t i;
} sid_ix;

static int cmp_sid_ix(const void *a, const void *b)
{
	int64_t x = ((const sid_ix *)a)->sid, y = ((const sid_ix *)b)->sid;

	return x < y ? -1 : x > y;
}

/* Entries are added in the order query_bucket meets their data, and storage numbers a
 * data value when it first stores an event with it: over a long range of an imported or
 * watched bucket, that is already id order (a year's 21,000 window values and 28,000
 * web values are), and a sort would still compare n log n times and allocate its own
 * copy. */
static bool sorted_by_sid(const sid_ix *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i].sid < v[i - 1].sid)
			return false;
	return true;
}

/* The first time a stored entry's text is needed, fetch the texts of every stored entry
 * added since the last time in one storage call: whatever needs one of them (a key
 * lookup, the result) almost always needs them all. The entries get their texts
 * straight from that call, without a cache look-up each. */
static void prefetch(qdata *T)
{
	size_t n = 0;
	sid_ix *v;
	int64_t *ids;
	const char **json;
	size_t *len;

	if (T->pf_from >= T->n)
		return;
	v = aw_mem_malloc((T->n - T->pf_from) * sizeof(*v));
	for (size_t i = T->pf_from; i < T->n; i++)
		if (T->e[i].kind == QD_STORED && !T->e[i].json)
			v[n++] = (sid_ix){T->e[i].ref, (uint32_t)i};
	T->pf_from = T->n;
	if (n > 1) {
		if (!sorted_by_sid(v, n))
			qsort(v, n, sizeof(*v), cmp_sid_ix);
		ids = aw_mem_malloc(n * (sizeof(*ids) + sizeof(*json) + sizeof(*len)));
		json = (const char **)(ids + n);
		len = (size_t *)(json + n);
		for (size_t k = 0; k < n; k++)
			ids[k] = v[k].sid;
		/* Storage reads a set of ids in one range scan only when it is dense (at least
		 * one wanted row in four), else with a look-up per id. A month's values are a
		 * dense run of new ids plus older ones scattered over the year: each dense run
		 * is asked for on its own, so it gets its range scan and only the scattered ids
		 * are looked up one by one. */
		for (size_t a = 0; a < n;) {
			size_t b = a + 1;
			while (b < n && (uint64_t)(ids[b] - ids[a]) <= (uint64_t)(b - a + 1) * 4)
				b++;
			/* on a failure the entries stay unloaded: data_load's look-up reports it */
			if (!aw_reader_data_prefetch(T->r, ids + a, b - a, json + a, len + a))
				for (size_t k = a; k < b; k++) {
					qdent *d = &T->e[v[k].i];
					d->json = json[k];
					d->len = (uint32_t)len[k];
				}
			a = b;
		}
		free(ids);
	}
	free(v);
}
#endif

int data_load(qdata *T, uint32_t i)
{
	qdent *d = &T->e[i];
	const char *json;
	size_t len;
	int rc;

	if (d->json)
		return 0;
	if (d->kind == QD_OVERLAY) {
		materialize(T, i);
		return 0;
	}
#ifdef AW_READER_DATA_PREFETCH
	prefetch(T);
#endif
	rc = aw_reader_data(&json, &len, T->r, T->e[i].ref);
	if (rc) {
		if (!T->err) {
			T->err = rc;
			snprintf(T->errmsg, sizeof(T->errmsg), "%s", aw_error_last());
		}
		d->json = EMPTY_OBJ;
		d->len = 2;
		return rc;
	}
	d->json = json;
	d->len = (uint32_t)len;
	return 0;
}

const char *data_text(qdata *T, uint32_t i, size_t *len)
{
	data_load(T, i);
	*len = T->e[i].len;
	return T->e[i].json;
}

bool data_eq(qdata *T, uint32_t a, uint32_t b)
{
	const qdent *x, *y;

	if (a == b)
		return true;
	x = &T->e[a];
	y = &T->e[b];
	if (x->kind == y->kind && x->kind != QD_OVERLAY)
		return false; /* storage interns by canonical text, and so do text entries here */
	data_load(T, a);
	data_load(T, b);
	x = &T->e[a];
	y = &T->e[b];
	return x->len == y->len && !memcmp(x->json, y->json, x->len);
}

/* ---- scanning canonical JSON ------------------------------------------------------------ */

static size_t skip_ws(const char *s, size_t n, size_t p)
{
	while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r'))
		p++;
	return p;
}

/* s[p] == '"'; returns index after the closing quote, sets *esc. */
static size_t skip_string(const char *s, size_t n, size_t p, bool *esc)
{
	const char *q = p + 1 < n ? memchr(s + p + 1, '"', n - p - 1) : NULL;

	*esc = false;
	if (!q)
		return n;
	if (!memchr(s + p + 1, '\\', (size_t)(q - (s + p + 1))))
		return (size_t)(q - s) + 1;
	for (p++; p < n; p++) {
		if (s[p] == '\\') {
			*esc = true;
			p++;
		} else if (s[p] == '"') {
			return p + 1;
		}
	}
	return n;
}

static uint8_t json_type(char c)
{
	switch (c) {
	case '"': return QJ_STR;
	case '{': return QJ_OBJ;
	case '[': return QJ_ARR;
	case 't': return QJ_TRUE;
	case 'f': return QJ_FALSE;
	case 'n': return QJ_NULL;
	default: return QJ_NUM;
	}
}

static size_t skip_value(const char *s, size_t n, size_t p, uint8_t *type, bool *esc)
{
	size_t depth = 0;
	bool e;

	*esc = false;
	if (p >= n) {
		*type = QJ_NULL;
		return n;
	}
	*type = json_type(s[p]);
	switch (s[p]) {
	case '"':
		return skip_string(s, n, p, esc);
	case '{':
	case '[':
		for (; p < n; p++) {
			if (s[p] == '"') {
				p = skip_string(s, n, p, &e) - 1;
			} else if (s[p] == '{' || s[p] == '[') {
				depth++;
			} else if (s[p] == '}' || s[p] == ']') {
				if (--depth == 0)
					return p + 1;
			}
		}
		return n;
	default:
		break;
	}
	while (p < n && s[p] != ',' && s[p] != '}' && s[p] != ']' && s[p] != ' ')
		p++;
	return p;
}

/* Locate the top-level fields of a text entry. */
static const qdent *parse_text(qdata *T, uint32_t i)
{
	qdent *d = &T->e[i];
	const char *s;
	size_t n, p;
	qfield stack[16], *f = stack, *heap = NULL;
	size_t cap = 16;
	uint32_t nf = 0;

	if (d->parsed)
		return d;
	data_load(T, i);
	d = &T->e[i];
	s = d->json;
	n = d->len;
	p = skip_ws(s, n, 0);
	if (p < n && s[p] == '{') {
		p = skip_ws(s, n, p + 1);
		while (p < n && s[p] == '"') {
			bool kesc, vesc;
			size_t ks = p + 1, kend = skip_string(s, n, p, &kesc), vs, ve;
			uint8_t vt;
			if (kend > n || kend < ks + 1)
				break;
			p = skip_ws(s, n, kend);
			if (p >= n || s[p] != ':')
				break;
			vs = skip_ws(s, n, p + 1);
			ve = skip_value(s, n, vs, &vt, &vesc);
			if (nf == cap) {
				cap *= 2;
				heap = aw_mem_realloc(heap, cap * sizeof(*f));
				if (f == stack)
					memcpy(heap, stack, sizeof(stack));
				f = heap;
			}
			if (s[ks] == '$' || s[ks] == '\\')
				d->dollar = 1; /* an escaped key might decode to '$' */
			f[nf].koff = (uint32_t)ks;
			f[nf].klen = (uint32_t)(kend - 1 - ks);
			f[nf].kesc = kesc;
			f[nf].voff = (uint32_t)vs;
			f[nf].vlen = (uint32_t)(ve - vs);
			f[nf].vtype = vt;
			f[nf].vesc = vesc;
			nf++;
			p = skip_ws(s, n, ve);
			if (p < n && s[p] == ',')
				p = skip_ws(s, n, p + 1);
			else
				break;
		}
	}
	d->x = NULL;
	if (nf) {
		d->x = data_arena_alloc(T, nf * sizeof(*f));
		memcpy(d->x, f, nf * sizeof(*f));
	}
	free(heap);
	d->n = nf;
	d->parsed = 1;
	return d;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(aw_buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		aw_buf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		aw_buf_append(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		aw_buf_append(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		aw_buf_append(b, u, 4);
	}
}

static long read_u4(const char *s, size_t n, size_t p)
{
	long v = 0;

	if (p + 4 > n)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval((unsigned char)s[p + k]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

const char *json_body_unescape(const char *raw, size_t len, bool esc, aw_buf *buf, size_t *outlen)
{
	if (!esc) {
		*outlen = len;
		return raw;
	}
	aw_buf_reset(buf);
	for (size_t p = 0; p < len; p++) {
		char c = raw[p];
		if (c != '\\' || p + 1 >= len) {
			aw_buf_putc(buf, c);
			continue;
		}
		c = raw[++p];
		switch (c) {
		case 'n': aw_buf_putc(buf, '\n'); break;
		case 't': aw_buf_putc(buf, '\t'); break;
		case 'r': aw_buf_putc(buf, '\r'); break;
		case 'b': aw_buf_putc(buf, '\b'); break;
		case 'f': aw_buf_putc(buf, '\f'); break;
		case 'u': {
			long cp = read_u4(raw, len, p + 1);
			if (cp < 0) {
				aw_buf_putc(buf, 'u');
				break;
			}
			p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && p + 2 < len && raw[p + 1] == '\\' && raw[p + 2] == 'u') {
				long lo = read_u4(raw, len, p + 3);
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
			}
			if (cp >= 0xD800 && cp < 0xE000)
				cp = 0xFFFD;
			put_utf8(buf, (uint32_t)cp);
			break;
		}
		default: aw_buf_putc(buf, c); break;
		}
	}
	if (!buf->data)
		aw_buf_grow(buf, 1);
	*outlen = buf->len;
	return buf->data;
}

/* Compare a text field's (escaped) key with an unescaped key, by unescaped bytes. */
static int key_cmp_field(const qdent *d, const qfield *f, const char *key, size_t klen, aw_buf *tmp)
{
	size_t fl;
	const char *fk = json_body_unescape(d->json + f->koff, f->klen, f->kesc, tmp, &fl);

	return bytes_cmp(fk, fl, key, klen);
}

static void fv_from_text(const qdent *d, const qfield *f, qfv *out)
{
	out->k = d->json + f->koff;
	out->klen = f->klen;
	out->kesc = f->kesc;
	out->v = d->json + f->voff;
	out->vlen = f->vlen;
	out->vtype = f->vtype;
	out->vesc = f->vesc;
}

static bool text_field(qdata *T, uint32_t i, const char *key, size_t klen, qfv *out)
{
	const qdent *d = parse_text(T, i);

	for (uint32_t k = 0; k < d->n; k++) {
		const qfield *f = &QD_F(d)[k];
		bool hit;
		if (!f->kesc) {
			hit = f->klen == klen && !memcmp(d->json + f->koff, key, klen);
		} else {
			aw_buf tmp = AW_BUF_INIT;
			hit = !key_cmp_field(d, f, key, klen, &tmp);
			aw_buf_free(&tmp);
		}
		if (hit) {
			fv_from_text(d, f, out);
			return true;
		}
	}
	return false;
}

bool data_field(qdata *T, uint32_t i, const char *key, size_t klen, qfv *out)
{
	const qdent *d = &T->e[i];

	if (d->kind == QD_OVERLAY) {
		for (uint32_t k = 0; k < d->n; k++)
			if (QD_OV(d)[k].klen == klen && !memcmp(QD_OV(d)[k].k, key, klen)) {
				*out = QD_OV(d)[k];
				return true;
			}
		return text_field(T, (uint32_t)d->ref, key, klen, out);
	}
	return text_field(T, i, key, klen, out);
}

bool data_may_have_dollar(qdata *T, uint32_t i)
{
	if (T->e[i].kind == QD_OVERLAY)
		return true;
	return parse_text(T, i)->dollar;
}

size_t data_fields(qdata *T, uint32_t i, qfv **out)
{
	const qdent *d = &T->e[i], *r;
	bool ovl = d->kind == QD_OVERLAY;
	uint32_t root = ovl ? (uint32_t)d->ref : i, nov = ovl ? d->n : 0;
	size_t n = 0, need;
	aw_buf tmp = AW_BUF_INIT;

	r = parse_text(T, root);
	d = &T->e[i];
	need = (size_t)r->n + nov;
	if (need > T->fv_cap) {
		T->fv_cap = need * 2;
		T->fv = aw_mem_realloc(T->fv, T->fv_cap * sizeof(qfv));
	}
	for (uint32_t k = 0; k < nov; k++)
		T->fv[n++] = QD_OV(d)[k];
	for (uint32_t k = 0; k < r->n; k++) {
		bool over = false;
		for (uint32_t o = 0; o < nov && !over; o++)
			over = !key_cmp_field(r, &QD_F(r)[k], QD_OV(d)[o].k, QD_OV(d)[o].klen, &tmp);
		if (!over)
			fv_from_text(r, &QD_F(r)[k], &T->fv[n++]);
	}
	aw_buf_free(&tmp);
	*out = T->fv;
	return n;
}

/* ---- overlays ------------------------------------------------------------------------------ */

/* Build the canonical text of overlay entry i: the root's fields merged with the overlay's
 * (sorted by unescaped key; overlay values win). */
static void materialize(qdata *T, uint32_t i)
{
	const qdent *d = &T->e[i], *r;
	aw_buf out = AW_BUF_INIT, tmp = AW_BUF_INIT;
	size_t a = 0, b = 0;
	bool first = true;
	char *text;
	uint32_t root = (uint32_t)d->ref, nov = d->n;

	r = parse_text(T, root);
	d = &T->e[i];
	aw_buf_putc(&out, '{');
	while (a < r->n || b < nov) {
		const qfv *ov = &QD_OV(d)[b];
		int c;
		if (a >= r->n)
			c = 1;
		else if (b >= nov)
			c = -1;
		else
			c = key_cmp_field(r, &QD_F(r)[a], ov->k, ov->klen, &tmp);
		if (!first)
			aw_buf_putc(&out, ',');
		first = false;
		if (c < 0) {
			const qfield *f = &QD_F(r)[a++];
			aw_buf_putc(&out, '"');
			aw_buf_append(&out, r->json + f->koff, f->klen);
			aw_buf_append(&out, "\":", 2);
			aw_buf_append(&out, r->json + f->voff, f->vlen);
		} else {
			if (c == 0)
				a++;
			aw_buf_json_string(&out, ov->k, ov->klen);
			aw_buf_putc(&out, ':');
			aw_buf_append(&out, ov->v, ov->vlen);
			b++;
		}
	}
	aw_buf_putc(&out, '}');
	aw_buf_free(&tmp);
	T->e[i].len = (uint32_t)out.len;
	text = aw_buf_steal(&out, NULL);
	T->e[i].json = text;
	T->e[i].owned = 1;
}

/* The sorted field array (in the arena) of the n new fields over a base overlay's bnov
 * fields bov (the new ones win); *nout gets its length. */
static qfv *fields_build(qdata *T, size_t n, const char *const *keys, const size_t *klens,
			 const char *const *vals, const size_t *vlens, const qfv *bov, uint32_t bnov,
			 size_t *nout)
{
	size_t ord[32], *o = ord, total, nov = 0, bytes = 0;
	struct {
		const char *k, *v;
		size_t kl, vl;
	} fl[32], *f = fl;
	qfv *ov;
	char *p;

	total = n + bnov;
	if (total > 32) {
		f = aw_mem_malloc(total * sizeof(*f));
		o = aw_mem_malloc(total * sizeof(size_t));
	}
	for (size_t k = 0; k < n; k++) {
		size_t j;
		for (j = 0; j < nov; j++)
			if (f[j].kl == klens[k] && !memcmp(f[j].k, keys[k], klens[k]))
				break;
		f[j].k = keys[k];
		f[j].kl = klens[k];
		f[j].v = vals[k];
		f[j].vl = vlens[k];
		if (j == nov)
			nov++;
	}
	for (uint32_t k = 0; k < bnov; k++) {
		const qfv *b = &bov[k];
		size_t j;
		for (j = 0; j < nov; j++)
			if (f[j].kl == b->klen && !memcmp(f[j].k, b->k, f[j].kl))
				break;
		if (j < nov)
			continue; /* replaced */
		f[nov].k = b->k;
		f[nov].kl = b->klen;
		f[nov].v = b->v;
		f[nov].vl = b->vlen;
		nov++;
	}
	for (size_t k = 0; k < nov; k++) {
		o[k] = k;
		bytes += f[k].kl + f[k].vl;
	}
	for (size_t k = 1; k < nov; k++)
		for (size_t j = k; j > 0 && bytes_cmp(f[o[j - 1]].k, f[o[j - 1]].kl, f[o[j]].k, f[o[j]].kl) > 0; j--) {
			size_t t = o[j];
			o[j] = o[j - 1];
			o[j - 1] = t;
		}
	/* one block: the qfv array, then the key and value bytes it points to (the values
	 * may point into the base overlay's block, which is why they are copied) */
	ov = data_arena_alloc(T, nov * sizeof(qfv) + bytes + 1);
	p = (char *)(ov + nov);
	for (size_t k = 0; k < nov; k++) {
		const char *kk = f[o[k]].k, *vv = f[o[k]].v;
		size_t kl = f[o[k]].kl, vl = f[o[k]].vl;
		memcpy(p, kk, kl);
		ov[k].k = p;
		ov[k].klen = (uint32_t)kl;
		ov[k].kesc = 0;
		p += kl;
		memcpy(p, vv, vl);
		ov[k].v = p;
		ov[k].vlen = (uint32_t)vl;
		ov[k].vtype = vl ? json_type(p[0]) : QJ_NULL;
		ov[k].vesc = ov[k].vtype == QJ_STR && memchr(p, '\\', vl) != NULL;
		p += vl;
	}
	if (f != fl) {
		free(f);
		free(o);
	}
	*nout = nov;
	return ov;
}

static uint32_t overlay_entry(qdata *T, uint32_t root, const qfv *ov, size_t nov)
{
	uint32_t i = new_entry(T);

	T->e[i].kind = QD_OVERLAY;
	T->e[i].ref = root;
	T->e[i].n = (uint32_t)nov;
	T->e[i].x = (void *)ov;
	return i;
}

qfv *data_fields_new(qdata *T, size_t n, const char *const *keys, const size_t *klens,
		     const char *const *vals, const size_t *vlens, size_t *nout)
{
	return fields_build(T, n, keys, klens, vals, vlens, NULL, 0, nout);
}

uint32_t data_with_shared(qdata *T, uint32_t base, const qfv *ov, size_t n)
{
	const qdent *d = &T->e[base];
	const char **kv;
	size_t *lens;
	uint32_t i;

	if (d->kind != QD_OVERLAY)
		return overlay_entry(T, base, ov, n);
	/* flattened onto the root, so overlays never stack: the general path */
	kv = aw_mem_malloc((2 * n + 1) * sizeof(char *));
	lens = aw_mem_malloc((2 * n + 1) * sizeof(size_t));
	for (size_t k = 0; k < n; k++) {
		kv[k] = ov[k].k;
		lens[k] = ov[k].klen;
		kv[n + k] = ov[k].v;
		lens[n + k] = ov[k].vlen;
	}
	i = data_with(T, base, n, kv, lens, kv + n, lens + n);
	free(kv);
	free(lens);
	return i;
}

uint32_t data_with(qdata *T, uint32_t base, size_t n, const char *const *keys, const size_t *klens,
		 const char *const *vals, const size_t *vlens)
{
	const qdent *d = &T->e[base];
	bool ovl = d->kind == QD_OVERLAY;
	uint32_t root = ovl ? (uint32_t)d->ref : base;
	size_t nov;
	const qfv *ov = fields_build(T, n, keys, klens, vals, vlens, ovl ? QD_OV(d) : NULL, ovl ? d->n : 0, &nov);

	return overlay_entry(T, root, ov, nov);
}
