/*
 * Query values: immutable, reference-counted strings, events, lists and dicts.
 *
 * A list is either compact (every element an event, kept as a qev array: what every
 * transform produces and consumes) or generic (an array of values). Both behave the same
 * in the language; conversion happens only when a generic list is passed where events
 * are expected, or when a compact list is mixed with other values.
 *
 * Memory of the running query is accounted per thread so a hostile program (`a = a + a`
 * repeated) fails with an error instead of exhausting the machine.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

/* ---- accounting ------------------------------------------------------------------- */

static _Thread_local size_t live_bytes;
static _Thread_local bool over_budget;

void budget_reset(void)
{
	live_bytes = 0;
	over_budget = false;
}

void budget_release(size_t n)
{
	live_bytes -= n < live_bytes ? n : live_bytes;
}

bool budget_exceeded(void)
{
	return over_budget;
}

bool budget_allows(size_t extra)
{
	return extra <= Q_MAX_LIVE_BYTES && live_bytes + extra <= Q_MAX_LIVE_BYTES;
}

void *budget_alloc(size_t n)
{
	void *p = aw_mem_calloc(1, n ? n : 1);

	live_bytes += n;
	if (live_bytes > Q_MAX_LIVE_BYTES)
		over_budget = true;
	return p;
}

void *budget_realloc(void *p, size_t old, size_t n)
{
	void *q = aw_mem_realloc(p, n ? n : 1);

	live_bytes += n - old;
	if (live_bytes > Q_MAX_LIVE_BYTES)
		over_budget = true;
	return q;
}

void budget_free(void *p, size_t n)
{
	if (!p)
		return;
	live_bytes -= n < live_bytes ? n : live_bytes;
	free(p);
}

/* ---- construction ------------------------------------------------------------------ */

/* A zeroed object of `size` bytes (its header first) with one reference. */
static void *obj_new(size_t size, uint8_t kind, uint16_t depth)
{
	qobj *h = budget_alloc(size);

	h->refs = 1;
	h->kind = kind;
	h->depth = depth;
	return h;
}

qv value_str(const char *s, size_t len)
{
	qstr *o = obj_new(sizeof(qstr) + len + 1, QV_STR, 1);

	o->len = len;
	if (len && s)
		memcpy(o->s, s, len);
	o->s[len] = '\0';
	return value_obj(&o->h);
}

qv value_event(const qev *e)
{
	qevo *o = obj_new(sizeof(qevo), QV_EVENT, 1);

	o->ev = *e;
	return value_obj(&o->h);
}

qlist *list_new_events(size_t n)
{
	qlist *l = obj_new(sizeof(qlist), QV_LIST, 2); /* a list of events: depth 2 */

	l->isev = true;
	l->n = n;
	l->ev = n ? budget_alloc(n * sizeof(qev)) : NULL;
	return l;
}

qlist *list_new_items(size_t n)
{
	qlist *l = obj_new(sizeof(qlist), QV_LIST, 1); /* raised as items are set */

	l->isev = false;
	l->n = n;
	l->it = n ? budget_alloc(n * sizeof(qv)) : NULL;
	return l;
}

static void absorb(qobj *parent, qv v)
{
	if (v.k == QV_NUM && isnan(v.u.n))
		parent->uneq = 1;
	else if (v.k == QV_FUNC)
		parent->uneq = 1;
	else if (value_isobj(v)) {
		if (v.u.o->uneq)
			parent->uneq = 1;
		if (v.u.o->depth + 1 > parent->depth)
			parent->depth = (uint16_t)(v.u.o->depth + 1 > 60000 ? 60000 : v.u.o->depth + 1);
	}
	if (parent->depth < 2)
		parent->depth = 2;
}

void list_set_item(qlist *l, size_t i, qv v)
{
	l->it[i] = v;
	absorb(&l->h, v);
}

void list_shrink_events(qlist *l, size_t n)
{
	if (n < l->n) {
		live_bytes -= (l->n - n) * sizeof(qev) < live_bytes ? (l->n - n) * sizeof(qev) : live_bytes;
		l->n = n;
	}
}

qdict *dict_new(size_t cap)
{
	qdict *d = obj_new(sizeof(qdict), QV_DICT, 1);

	d->cap = cap;
	if (cap) {
		d->keys = budget_alloc(cap * sizeof(qstr *));
		d->vals = budget_alloc(cap * sizeof(qv));
	}
	return d;
}

void dict_put(qdict *d, qstr *key, qv v)
{
	d->keys[d->n] = key;
	d->vals[d->n++] = v;
}

int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int key_cmp(const qstr *a, const qstr *b)
{
	return bytes_cmp(a->s, a->len, b->s, b->len);
}

typedef struct qkv {
	qstr *k;
	qv v;
} qkv;

static int kv_cmp(const void *a, const void *b)
{
	return key_cmp(((const qkv *)a)->k, ((const qkv *)b)->k);
}

qv *dict_get(qdict *d, const char *key, size_t len)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const qstr *k = d->keys[mid];
		int c = bytes_cmp(k->s, k->len, key, len);
		if (!c)
			return &d->vals[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void dict_finish(qdict *d)
{
	if (d->n > 1) {
		qkv *kv = aw_mem_malloc(d->n * sizeof(*kv));
		for (size_t i = 0; i < d->n; i++)
			kv[i] = (qkv){d->keys[i], d->vals[i]};
		qsort(kv, d->n, sizeof(*kv), kv_cmp);
		for (size_t i = 0; i < d->n; i++) {
			d->keys[i] = kv[i].k;
			d->vals[i] = kv[i].v;
		}
		free(kv);
	}
	for (size_t i = 0; i < d->n; i++)
		absorb(&d->h, d->vals[i]);
}

/* ---- list builder ------------------------------------------------------------------- */

void listbuf_init(qlb *b)
{
	memset(b, 0, sizeof(*b));
	b->isev = true;
}

/* Switch a compact builder to values (a generic list joins). */
static void listbuf_to_items(qlb *b)
{
	qv *it = b->cap ? budget_alloc(b->cap * sizeof(qv)) : NULL;

	for (size_t i = 0; i < b->n; i++)
		it[i] = value_event(&b->ev[i]);
	budget_free(b->ev, b->cap * sizeof(qev));
	b->ev = NULL;
	b->it = it;
	b->isev = false;
}

static void listbuf_reserve(qlb *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 16, esz = b->isev ? sizeof(qev) : sizeof(qv);

	if (n <= b->cap)
		return;
	while (cap < n)
		cap *= 2;
	if (!budget_allows((cap - b->cap) * esz))
		cap = n; /* no headroom: exactly what fits */
	if (b->isev)
		b->ev = b->ev ? budget_realloc(b->ev, b->cap * esz, cap * esz) : budget_alloc(cap * esz);
	else
		b->it = b->it ? budget_realloc(b->it, b->cap * esz, cap * esz) : budget_alloc(cap * esz);
	b->cap = cap;
}

bool listbuf_append(qlb *b, qlist *l)
{
	size_t n = b->n + l->n;

	if (!l->n)
		return true;
	/* the whole result as events must fit, as for a single `+` */
	if (n < b->n || !budget_allows(n * sizeof(qev)))
		return false;
	if (!b->n && b->cap == 0)
		b->isev = l->isev; /* an empty start takes the first list's form */
	if (b->isev && !l->isev)
		listbuf_to_items(b);
	listbuf_reserve(b, n);
	if (b->isev)
		memcpy(b->ev + b->n, l->ev, l->n * sizeof(qev));
	else
		for (size_t i = 0; i < l->n; i++)
			b->it[b->n + i] = list_get(l, i);
	b->n = n;
	return true;
}

qv listbuf_finish(qlb *b)
{
	qlist *l;

	/* the buffer, cut to size, becomes the list's array */
	if (b->isev) {
		l = list_new_events(0);
		if (b->n)
			l->ev = budget_realloc(b->ev, b->cap * sizeof(qev), b->n * sizeof(qev));
		else
			budget_free(b->ev, b->cap * sizeof(qev));
	} else {
		l = list_new_items(0);
		if (b->n)
			l->it = budget_realloc(b->it, b->cap * sizeof(qv), b->n * sizeof(qv));
		else
			budget_free(b->it, b->cap * sizeof(qv));
		for (size_t i = 0; i < b->n; i++)
			absorb(&l->h, l->it[i]);
	}
	l->n = b->n;
	listbuf_init(b);
	return value_obj(&l->h);
}

/* Release the elements of a list or list buffer: an array of cap compact events, or of
 * cap item slots whose first n hold references. */
static void elems_free(bool isev, qev *ev, qv *it, size_t n, size_t cap)
{
	if (isev) {
		budget_free(ev, cap * sizeof(qev));
	} else {
		for (size_t i = 0; i < n; i++)
			value_unref(it[i]);
		budget_free(it, cap * sizeof(qv));
	}
}

void listbuf_free(qlb *b)
{
	elems_free(b->isev, b->ev, b->it, b->n, b->cap);
	listbuf_init(b);
}

void value_unref(qv v)
{
	qobj *o;

	if (!value_isobj(v))
		return;
	o = v.u.o;
	if (--o->refs)
		return;
	switch (o->kind) {
	case QV_STR:
		budget_free(o, sizeof(qstr) + ((qstr *)o)->len + 1);
		break;
	case QV_EVENT:
		budget_free(o, sizeof(qevo));
		break;
	case QV_LIST: {
		qlist *l = (qlist *)o;
		elems_free(l->isev, l->ev, l->it, l->n, l->n);
		budget_free(l, sizeof(qlist));
		break;
	}
	case QV_DICT: {
		qdict *d = (qdict *)o;
		for (size_t i = 0; i < d->n; i++) {
			value_unref(value_obj(&d->keys[i]->h));
			value_unref(d->vals[i]);
		}
		budget_free(d->keys, d->cap * sizeof(qstr *));
		budget_free(d->vals, d->cap * sizeof(qv));
		budget_free(d, sizeof(qdict));
		break;
	}
	}
}

qv list_get(qlist *l, size_t i)
{
	if (l->isev)
		return value_event(&l->ev[i]);
	return value_ref(l->it[i]);
}


/* ---- equality ------------------------------------------------------------------------- */

static bool ev_equal(qrun *R, const qev *a, const qev *b)
{
	return a->start == b->start && a->dur == b->dur && data_eq(R->T, a->data, b->data);
}

static bool item_ev(qlist *l, size_t i, const qev **out)
{
	if (l->isev) {
		*out = &l->ev[i];
		return true;
	}
	if (l->it[i].k == QV_EVENT) {
		*out = &QEVO(l->it[i])->ev;
		return true;
	}
	return false;
}

bool value_equal(qrun *R, qv a, qv b)
{
	if (a.k != b.k)
		return false;
	if (R && !count_work(R, 1))
		return false;
	switch (a.k) {
	case QV_NONE:
		return true;
	case QV_BOOL:
		return a.u.b == b.u.b;
	case QV_NUM:
		return a.u.n == b.u.n;
	case QV_FUNC:
		return false;
	case QV_STR:
		return QSTR(a)->len == QSTR(b)->len && !memcmp(QSTR(a)->s, QSTR(b)->s, QSTR(a)->len);
	case QV_EVENT:
		return ev_equal(R, &QEVO(a)->ev, &QEVO(b)->ev);
	default:
		break;
	}
	if (a.u.o == b.u.o && !a.u.o->uneq)
		return true;
	if (a.k == QV_LIST) {
		qlist *x = QLIST(a), *y = QLIST(b);
		if (x->n != y->n)
			return false;
		if (x->isev || y->isev) {
			for (size_t i = 0; i < x->n; i++) {
				const qev *ea, *eb;
				if (!item_ev(x, i, &ea) || !item_ev(y, i, &eb))
					return false;
				if (R && !count_work(R, 1))
					return false;
				if (!ev_equal(R, ea, eb))
					return false;
			}
			return true;
		}
		for (size_t i = 0; i < x->n; i++)
			if (!value_equal(R, x->it[i], y->it[i]))
				return false;
		return true;
	}
	{
		qdict *x = QDICT(a), *y = QDICT(b);
		if (x->n != y->n)
			return false;
		for (size_t i = 0; i < x->n; i++) {
			qv *o = dict_get(y, x->keys[i]->s, x->keys[i]->len);
			if (!o || !value_equal(R, x->vals[i], *o))
				return false;
		}
		return true;
	}
}

/* ---- output ------------------------------------------------------------------------------ */

size_t format_secs(char *buf, aw_ns ns)
{
	/* Fast path: for 1e-5 s <= |s| < 1e6 s the exact decimal ns/1e9 (at most 9 decimals)
	 * is the shortest text that reads back as the double ns/1e9, because neighbouring
	 * doubles are closer together than 1e-9. That is what ryu prints. */
	if ((ns >= 10000 && ns < 1000000000000000LL) || (ns <= -10000 && ns > -1000000000000000LL)) {
		uint64_t a = ns < 0 ? (uint64_t)(-ns) : (uint64_t)ns;
		uint64_t ip = a / 1000000000u, fp = a % 1000000000u;
		char frac[10];
		int nd = 9;
		size_t n;
		for (int i = 8; i >= 0; i--) {
			frac[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		while (nd > 1 && frac[nd - 1] == '0')
			nd--;
		n = (size_t)sprintf(buf, "%s%llu.", ns < 0 ? "-" : "", (unsigned long long)ip);
		memcpy(buf + n, frac, (size_t)nd);
		n += (size_t)nd;
		buf[n] = '\0';
		return n;
	}
	return aw_float_format(buf, aw_duration_to_seconds(ns));
}

/* serde_json's float form; integral values take a fast path (aw_float_format is exact
 * but slow) */
static size_t fmt_num(char *buf, double v)
{
	if (v == v && v != 0 && fabs(v) < 1e15 && v == (double)(long long)v)
		return (size_t)sprintf(buf, "%lld.0", (long long)v);
	return aw_float_format(buf, v);
}

static void ev_json(qrun *R, aw_buf *out, const qev *e)
{
	char tmp[AW_TIME_BUFSZ > AW_FLOAT_BUFSZ ? AW_TIME_BUFSZ : AW_FLOAT_BUFSZ];
	size_t len;
	const char *data = data_text(R->T, e->data, &len);

	aw_buf_append(out, "{\"data\":", 8);
	aw_buf_append(out, data, len);
	aw_buf_append(out, ",\"duration\":", 12);
	aw_buf_append(out, tmp, format_secs(tmp, e->dur));
	if (e->id == QID_NULL)
		aw_buf_append(out, ",\"id\":null", 10);
	else
		aw_buf_printf(out, ",\"id\":%lld", (long long)e->id);
	aw_buf_append(out, ",\"timestamp\":\"", 14);
	aw_buf_append(out, tmp, aw_time_format(tmp, e->start));
	aw_buf_append(out, "\"}", 2);
}

static bool out_ok(qrun *R, aw_buf *out)
{
	if (out->len > Q_MAX_OUTPUT_BYTES) {
		run_error(R, NULL, AW_EINVALID, "ResourceLimit", "the result is larger than %u MiB",
		     (unsigned)(Q_MAX_OUTPUT_BYTES >> 20));
		return false;
	}
	return true;
}

bool value_to_json(qrun *R, aw_buf *out, qv v)
{
	char tmp[AW_FLOAT_BUFSZ];

	if (!count_work(R, 1))
		return false;
	switch (v.k) {
	case QV_NONE:
		aw_buf_append(out, "[]", 2);
		return true;
	case QV_BOOL:
		aw_buf_puts(out, v.u.b ? "true" : "false");
		return true;
	case QV_NUM:
		aw_buf_append(out, tmp, fmt_num(tmp, v.u.n));
		return true;
	case QV_STR:
		aw_buf_json_string(out, QSTR(v)->s, QSTR(v)->len);
		return out_ok(R, out);
	case QV_EVENT:
		ev_json(R, out, &QEVO(v)->ev);
		return out_ok(R, out);
	case QV_FUNC:
		run_error(R, NULL, AW_EINVALID, "InvalidType", "a function (%s) cannot be part of the result",
		     builtin_table[v.u.fn].name);
		return false;
	case QV_LIST: {
		qlist *l = QLIST(v);
		aw_buf_putc(out, '[');
		for (size_t i = 0; i < l->n; i++) {
			if (i)
				aw_buf_putc(out, ',');
			if (l->isev) {
				ev_json(R, out, &l->ev[i]);
				if ((i & 1023) == 1023 && (!out_ok(R, out) || !count_work(R, 1024)))
					return false;
			} else if (!value_to_json(R, out, l->it[i])) {
				return false;
			}
		}
		aw_buf_putc(out, ']');
		return out_ok(R, out);
	}
	case QV_DICT: {
		qdict *d = QDICT(v);
		aw_buf_putc(out, '{');
		for (size_t i = 0; i < d->n; i++) {
			if (i)
				aw_buf_putc(out, ',');
			aw_buf_json_string(out, d->keys[i]->s, d->keys[i]->len);
			aw_buf_putc(out, ':');
			if (!value_to_json(R, out, d->vals[i]))
				return false;
		}
		aw_buf_putc(out, '}');
		return out_ok(R, out);
	}
	}
	return true;
}

/* ---- debug rendering (error messages) -------------------------------------------------- */

/* An event shows as its timestamp, alone or in a compact list. */
static void dbg_event(aw_buf *out, const qev *e)
{
	char tmp[AW_TIME_BUFSZ];

	aw_time_format(tmp, e->start);
	aw_buf_printf(out, "Event(%s)", tmp);
}

static void dbg(qrun *R, aw_buf *out, qv v, size_t maxlen)
{
	if (out->len > maxlen)
		return;
	switch (v.k) {
	case QV_NONE:
		aw_buf_puts(out, "None()");
		break;
	case QV_BOOL:
		aw_buf_puts(out, v.u.b ? "Bool(true)" : "Bool(false)");
		break;
	case QV_NUM:
		if (v.u.n == floor(v.u.n) && fabs(v.u.n) < 1e15)
			aw_buf_printf(out, "Number(%.0f)", v.u.n);
		else
			aw_buf_printf(out, "Number(%.17g)", v.u.n);
		break;
	case QV_STR:
		aw_buf_puts(out, "String(");
		aw_buf_append(out, QSTR(v)->s, QSTR(v)->len > maxlen ? maxlen : QSTR(v)->len);
		aw_buf_putc(out, ')');
		break;
	case QV_EVENT:
		dbg_event(out, &QEVO(v)->ev);
		break;
	case QV_FUNC:
		aw_buf_printf(out, "Function(%s)", builtin_table[v.u.fn].name);
		break;
	case QV_LIST:
	case QV_DICT: {
		/* the elements (a dict's after their keys) while the text is short enough */
		qlist *l = v.k == QV_LIST ? QLIST(v) : NULL;
		qdict *d = l ? NULL : QDICT(v);
		size_t n = l ? l->n : d->n;
		aw_buf_puts(out, l ? "List([" : "Dict({");
		for (size_t i = 0; i < n && out->len <= maxlen; i++) {
			if (i)
				aw_buf_puts(out, ", ");
			if (d) {
				aw_buf_json_string(out, d->keys[i]->s, d->keys[i]->len);
				aw_buf_puts(out, ": ");
				dbg(R, out, d->vals[i], maxlen);
			} else if (l->isev) {
				dbg_event(out, &l->ev[i]);
			} else {
				dbg(R, out, l->it[i], maxlen);
			}
		}
		aw_buf_puts(out, l ? "])" : "})");
		break;
	}
	}
}

void value_debug(qrun *R, aw_buf *out, qv v, size_t maxlen)
{
	size_t start = out->len;

	dbg(R, out, v, start + maxlen);
	if (out->len > start + maxlen) {
		size_t cut = start + maxlen;
		while (cut > start && ((unsigned char)out->data[cut] & 0xC0) == 0x80)
			cut--;
		out->len = cut;
		out->data[cut] = '\0';
		aw_buf_puts(out, "...");
	}
}
