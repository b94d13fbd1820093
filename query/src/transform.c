/*
 * Event transforms on compact event arrays, step by step as aw-server-rust's
 * aw-transform computes them (docs/query.md, "Functions"). Work that depends only on an
 * event's data (key lookups, value comparisons, URL parsing) is memoised per data index,
 * so a year of events with a few thousand distinct data values costs a few thousand JSON
 * lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

/* ---- once per data value ------------------------------------------------------------------ */

/* The loop of every transform whose answer for an event depends only on its data: fn
 * decides once per distinct data index (memo: answer + 1, 0 = not yet). Data entries
 * made while it runs (fn may add some) are past the memo and decided each time. */
static qev *each_data(qdata *T, const qev *ev, size_t n, qev *out, bool filter, qdata_fn fn, void *ctx,
		      size_t *nout)
{
	size_t nmemo = T->n, m = 0;
	uint32_t *memo = zalloc_table(nmemo, sizeof(uint32_t));
	qev *res = out;

	/* A filter with nowhere to write decides first and then allocates only what it
	 * keeps (window_firefox keeps an eighth of a year's window events): events hold data
	 * made before the call, so every answer is in the memo for the second pass. */
	if (filter && !out) {
		for (size_t i = 0; i < n; i++) {
			uint32_t d = ev[i].data;
			int64_t r;
			if (memo[d]) {
				m += memo[d] - 1;
				continue;
			}
			r = fn(ctx, d);
			if (r < 0) {
				free(memo);
				return NULL;
			}
			memo[d] = r ? 2 : 1;
			m += r != 0;
		}
		res = aw_mem_malloc((m ? m : 1) * sizeof(qev));
		m = 0;
		for (size_t i = 0; i < n; i++)
			if (memo[ev[i].data] > 1)
				res[m++] = ev[i];
		free(memo);
		*nout = m;
		return res;
	}
	if (!res)
		res = aw_mem_malloc((n ? n : 1) * sizeof(qev));
	for (size_t i = 0; i < n; i++) {
		uint32_t d = ev[i].data;
		int64_t r;
		if (d < nmemo && memo[d]) {
			r = memo[d] - 1;
		} else {
			r = fn(ctx, d);
			if (r < 0) {
				free(memo);
				if (res != out)
					free(res);
				return NULL;
			}
			if (d < nmemo)
				memo[d] = (uint32_t)r + 1;
		}
		/* m <= i: writing res[m] never overwrites an input still to be read when out is ev */
		if (!filter) {
			res[m] = ev[i];
			res[m++].data = (uint32_t)r;
		} else if (r) {
			res[m++] = ev[i];
		}
	}
	free(memo);
	*nout = m;
	return res;
}

qev *map_data(qdata *T, const qev *ev, size_t n, qev *out, qdata_fn fn, void *ctx, size_t *nout)
{
	return each_data(T, ev, n, out, false, fn, ctx, nout);
}

qev *filter_data(qdata *T, const qev *ev, size_t n, qev *out, qdata_fn keep, void *ctx, size_t *nout)
{
	return each_data(T, ev, n, out, true, keep, ctx, nout);
}

/* ---- stable sorts ---------------------------------------------------------------------- */

typedef int (*ev_cmp)(const qev *a, const qev *b);

static int cmp_start(const qev *a, const qev *b)
{
	return a->start < b->start ? -1 : a->start > b->start;
}

static int cmp_dur_desc(const qev *a, const qev *b)
{
	return a->dur > b->dur ? -1 : a->dur < b->dur;
}

/* merge_sort and stable_sort are inlined where they are called, each with one
 * comparison function: its comparisons then become a few instructions in the loops
 * instead of a call through a pointer each. A year's flood scans its 240,000 events in
 * storage's order twice, and sort_by_duration sorts 21,000 title groups. */
#define SORT_INLINE static inline __attribute__((always_inline))

SORT_INLINE void merge_sort(qev *v, size_t n, ev_cmp cmp)
{
	qev *tmp, *src = v, *dst;

	if (n < 2)
		return;
	/* insertion-sort runs of 16, then bottom-up merges */
	for (size_t lo = 0; lo < n; lo += 16) {
		size_t hi = lo + 16 < n ? lo + 16 : n;
		for (size_t i = lo + 1; i < hi; i++) {
			qev x = v[i];
			size_t j = i;
			while (j > lo && cmp(&v[j - 1], &x) > 0) {
				v[j] = v[j - 1];
				j--;
			}
			v[j] = x;
		}
	}
	if (n <= 16)
		return;
	tmp = aw_mem_malloc(n * sizeof(qev));
	dst = tmp;
	for (size_t w = 16; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			if (mid >= hi || cmp(&src[mid - 1], &src[mid]) <= 0) {
				memcpy(dst + lo, src + lo, (hi - lo) * sizeof(qev));
				continue;
			}
			while (i < mid && j < hi)
				dst[k++] = cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		qev *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(qev));
	free(tmp);
}

static void reverse(qev *v, size_t n)
{
	for (size_t i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
		qev t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

SORT_INLINE void stable_sort(qev *v, size_t n, ev_cmp cmp)
{
	size_t i;

	for (i = 1; i < n && cmp(&v[i - 1], &v[i]) <= 0; i++)
		;
	if (i >= n)
		return;
	/* Input in the opposite order (e.g. storage's newest-first): reverse, then restore the
	 * original order inside runs of equal keys so the sort stays stable. */
	for (i = 1; i < n && cmp(&v[i - 1], &v[i]) >= 0; i++)
		;
	if (i >= n) {
		reverse(v, n);
		for (size_t a = 0; a < n;) {
			size_t b = a + 1;
			while (b < n && cmp(&v[a], &v[b]) == 0)
				b++;
			reverse(v + a, b - a);
			a = b;
		}
		return;
	}
	merge_sort(v, n, cmp);
}

static int cmp_tie(const qev *a, const qev *b)
{
	if (a->dur != b->dur)
		return a->dur < b->dur ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

void storage_order(qev *ev, size_t n)
{
	reverse(ev, n);
	for (size_t a = 0; a < n;) {
		size_t b = a + 1;
		while (b < n && ev[b].start == ev[a].start)
			b++;
		if (b - a > 1)
			merge_sort(ev + a, b - a, cmp_tie);
		a = b;
	}
}

void sort_by_timestamp(qev *ev, size_t n)
{
	stable_sort(ev, n, cmp_start);
}

void sort_by_duration(qev *ev, size_t n)
{
	stable_sort(ev, n, cmp_dur_desc);
}

/* ---- flood ------------------------------------------------------------------------------- */

size_t flood_events(qdata *T, qev *ev, size_t n, aw_ns pulsetime)
{
	size_t out = 0, i = 0;
	aw_ns gap_prev = 0;
	bool have_gap = false;

	sort_by_timestamp(ev, n);
	while (i < n) {
		qev cur = ev[i++];
		if (have_gap) {
			aw_ns h = gap_prev / 2;
			cur.start = aw_ns_sub_sat(cur.start, h);
			cur.dur = aw_ns_add_sat(cur.dur, h);
			have_gap = false;
		}
		while (i < n) {
			const qev *e2 = &ev[i];
			aw_ns end = event_end(&cur), gap = aw_ns_sub_sat(e2->start, end);
			if (gap < pulsetime && data_eq(T, cur.data, e2->data)) {
				/* merge: start = min, end = max; re-check against the next event */
				aw_ns s = cur.start < e2->start ? cur.start : e2->start;
				aw_ns e2end = event_end(e2), nend = end > e2end ? end : e2end;
				cur.start = s;
				cur.dur = aw_ns_sub_sat(nend, s);
				i++;
				continue;
			}
			if (gap >= 0 && gap < pulsetime) {
				/* different data: meet in the middle */
				cur.dur = aw_ns_add_sat(cur.dur, gap / 2);
				gap_prev = gap;
				have_gap = true;
			}
			break;
		}
		ev[out++] = cur;
	}
	return out;
}

static bool sorted_by_start(const qev *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i - 1].start > v[i].start)
			return false;
	return true;
}

static qev *sorted_copy(const qev *v, size_t n)
{
	qev *c = aw_mem_malloc(n * sizeof(qev));

	memcpy(c, v, n * sizeof(qev));
	sort_by_timestamp(c, n);
	return c;
}

/* ---- filter_period_intersect -------------------------------------------------------------
 *
 * Every piece ends where its event or its filter event ends, and the next step moves past
 * that one; so from events i.. and filters j.. at most (n - i) + (fn - j) more pieces come.
 */

/* The intersection of time-sorted a and f. res NULL: only count the pieces. inplace: *res
 * is a itself, written while it is read (piece m never lands past the event i being read,
 * which is already copied into cur); the first piece that would (an event cut into
 * several) moves the output to a new array, which *res then is. Returns the count. */
static size_t intersect_run(const qev *a, size_t n, const qev *f, size_t fn, qev **res, bool inplace)
{
	size_t i = 0, j = 0, m = 0;
	qev cur = a[0];

	while (i < n && j < fn) {
		aw_ns es = cur.start, ee = event_end(&cur), fs = f[j].start, fe = event_end(&f[j]);
		if (cur.dur <= 0 || ee <= fs) {
			if (++i < n)
				cur = a[i];
			continue;
		}
		if (es >= fe) {
			j++;
			continue;
		}
		{
			aw_ns ps = es > fs ? es : fs, pe = ee < fe ? ee : fe;
			if (res) {
				if (inplace && m > i) {
					qev *moved = aw_mem_malloc((m + (n - i) + (fn - j) + 1) * sizeof(qev));
					memcpy(moved, *res, m * sizeof(qev));
					*res = moved;
					inplace = false;
				}
				(*res)[m] = cur;
				(*res)[m].start = ps;
				(*res)[m].dur = pe - ps;
			}
			m++;
			cur.start = pe;
			cur.dur = ee - pe;
		}
	}
	return m;
}

qev *filter_period_intersect(const qev *ev, size_t n, qev *own, const qev *fv, size_t fn, size_t *nout)
{
	qev *a, *f, *res;
	size_t m;

	*nout = 0;
	if (!n || !fn) {
		free(own);
		return aw_mem_malloc(1);
	}
	/* sort copies only when the inputs are not already in time order (they usually are) */
	a = sorted_by_start(ev, n) ? (qev *)ev : sorted_copy(ev, n);
	f = sorted_by_start(fv, fn) ? (qev *)fv : sorted_copy(fv, fn);
	if (a != ev) {
		free(own);
		own = a; /* the sorted copy is ours to write into */
	}
	if (own) {
		/* in place, usually to the end: the result is at most as long as the input
		 * unless events are cut, and then it moves */
		res = own;
		m = intersect_run(own, n, f, fn, &res, true);
		if (res != own)
			free(own);
	} else {
		/* the input stays: count first, then allocate only the result */
		m = intersect_run(a, n, f, fn, NULL, false);
		res = aw_mem_malloc((m ? m : 1) * sizeof(qev));
		intersect_run(a, n, f, fn, &res, false);
	}
	if (f != fv)
		free(f);
	*nout = m;
	return res;
}

/* ---- period_union ------------------------------------------------------------------------ */

qev *period_union(qdata *T, const qev *a, size_t na, const qev *b, size_t nb, size_t *nout)
{
	size_t n = na + nb, m = 0;
	qev *all = aw_mem_malloc(n * sizeof(qev));
	uint32_t empty;

	if (na)
		memcpy(all, a, na * sizeof(qev));
	if (nb)
		memcpy(all + na, b, nb * sizeof(qev));
	sort_by_timestamp(all, n);
	for (size_t i = 0; i < n; i++) {
		if (m) {
			qev *last = &all[m - 1];
			aw_ns lend = event_end(last), eend = event_end(&all[i]);
			if (all[i].start <= lend) {
				/* overlaps or touches: extend the last interval */
				last->dur = aw_ns_sub_sat(eend > lend ? eend : lend, last->start);
				continue;
			}
		}
		all[m++] = all[i];
	}
	if (m) {
		empty = data_intern(T, "{}", 2);
		for (size_t i = 0; i < m; i++)
			all[i].data = empty;
	}
	*nout = m;
	return all;
}

/* ---- union_no_overlap -------------------------------------------------------------------- */

static bool intersects(const qev *x, const qev *y)
{
	return x->start < event_end(y) && y->start < event_end(x);
}

/* split e at t when e.start < t < e.end: both pieces are new events (id null) */
static bool split_at(const qev *e, aw_ns t, qev *p1, qev *p2)
{
	aw_ns end = event_end(e);

	if (e->start < t && t < end) {
		*p1 = *e;
		p1->id = QID_NULL;
		p1->dur = t - e->start;
		*p2 = *e;
		p2->id = QID_NULL;
		p2->start = t;
		p2->dur = end - t;
		return true;
	}
	return false;
}

/* The next event of b as the new head, if any: false when b is used up. */
static bool next_head(const qev *b, size_t nb, size_t *j, qev *head)
{
	if (*j >= nb)
		return false;
	*head = b[(*j)++];
	return true;
}

qev *union_no_overlap(const qev *a, size_t na, const qev *b, size_t nb, size_t *nout)
{
	size_t cap = na + 2 * nb + 4, m = 0, i = 0, j = 0;
	qev *res = aw_mem_malloc(cap * sizeof(qev)), head;
	bool have = false;

#define EMIT(x)                                                                  \
	do {                                                                     \
		if (m == cap) {                                                  \
			cap *= 2;                                                \
			res = realloc(res, cap * sizeof(qev));                   \
			if (!res)                                                \
				abort();                                         \
		}                                                                \
		res[m++] = (x);                                                  \
	} while (0)

	have = next_head(b, nb, &j, &head);
	while (i < na && have) {
		const qev *e1 = &a[i];
		if (intersects(e1, &head)) {
			qev p1, p2;
			if (e1->start <= head.start) {
				EMIT(*e1);
				i++;
				if (split_at(&head, event_end(e1), &p1, &p2))
					head = p2;
				else
					have = next_head(b, nb, &j, &head);
			} else {
				if (split_at(&head, e1->start, &p1, &p2)) {
					EMIT(p1);
					head = p2;
				} else {
					EMIT(head);
					have = next_head(b, nb, &j, &head);
				}
			}
		} else if (e1->start <= head.start) {
			EMIT(*e1);
			i++;
		} else {
			EMIT(head);
			have = next_head(b, nb, &j, &head);
		}
	}
	while (i < na)
		EMIT(a[i++]);
	if (have)
		EMIT(head);
	while (j < nb)
		EMIT(b[j++]);
#undef EMIT
	*nout = m;
	return res;
}

/* ---- union_exact --------------------------------------------------------------------------
 *
 * A sweep over every input event in start order. `cur` is the event that owns the
 * present moment; the others that have begun and may still be running wait in a heap
 * ordered by the same rank. Rank: the later start wins (the most recent input: a window
 * switch, a return from AFK); equal starts go to the earlier list, then to the earlier
 * event of that list. Because events arrive in start order, a newcomer outranks cur
 * exactly when it starts later, and when cur ends the next owner is the heap's best that
 * is still running (ended ones are dropped as they surface). Every result piece ends
 * either where its owner ends or where a later event begins, so there are at most 2n
 * pieces, none overlapping, and their total is the measure of the inputs' union.
 */

typedef struct sweep_item {
	aw_ns start, end;
	uint32_t list, pos;
	const qev *ev;
} sweep_item;

static bool outranks(const sweep_item *a, const sweep_item *b)
{
	if (a->start != b->start)
		return a->start > b->start;
	if (a->list != b->list)
		return a->list < b->list;
	return a->pos < b->pos;
}

static int cmp_sweep(const void *pa, const void *pb)
{
	const sweep_item *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->list != b->list)
		return a->list < b->list ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

typedef struct sweep {
	sweep_item **heap;
	size_t nheap;
	sweep_item *cur;
	aw_ns from; /* where cur's present piece began */
	qev *res;
	size_t m;
} sweep;

static void heap_push(sweep *w, sweep_item *x)
{
	size_t i = w->nheap++;

	while (i) {
		size_t up = (i - 1) / 2;
		if (!outranks(x, w->heap[up]))
			break;
		w->heap[i] = w->heap[up];
		i = up;
	}
	w->heap[i] = x;
}

static sweep_item *heap_pop(sweep *w)
{
	sweep_item *top = w->heap[0], *last = w->heap[--w->nheap];
	size_t i = 0, n = w->nheap;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && outranks(w->heap[c + 1], w->heap[c]))
			c++;
		if (!outranks(w->heap[c], last))
			break;
		w->heap[i] = w->heap[c];
		i = c;
	}
	if (n)
		w->heap[i] = last;
	return top;
}

/* cur's piece [from, to); a piece that is the whole event keeps its id */
static void sweep_emit(sweep *w, aw_ns to)
{
	qev *p;

	if (to <= w->from)
		return;
	p = &w->res[w->m++];
	*p = *w->cur->ev;
	if (w->from != w->cur->start || to != w->cur->end)
		p->id = QID_NULL;
	p->start = w->from;
	p->dur = to - w->from;
}

/* Move the present to t: while cur ends by t, close its piece and hand the moment on. */
static void sweep_advance(sweep *w, aw_ns t)
{
	while (w->cur && w->cur->end <= t) {
		aw_ns now = w->cur->end;
		sweep_emit(w, now);
		w->cur = NULL;
		while (w->nheap) {
			sweep_item *next = heap_pop(w);
			if (next->end > now) {
				w->cur = next;
				w->from = now;
				break;
			}
		}
	}
}

qev *union_exact(const qev *const *lists, const size_t *ns, size_t nlists, size_t *nout)
{
	size_t total = 0, n = 0;
	sweep_item *items;
	sweep w = {0};

	for (size_t l = 0; l < nlists; l++)
		total += ns[l];
	items = aw_mem_malloc((total ? total : 1) * sizeof(*items));
	for (size_t l = 0; l < nlists; l++)
		for (size_t i = 0; i < ns[l]; i++) {
			const qev *e = &lists[l][i];
			if (e->dur <= 0) /* no measure: nothing to own */
				continue;
			items[n++] = (sweep_item){e->start, event_end(e), (uint32_t)l, (uint32_t)i, e};
		}
	qsort(items, n, sizeof(*items), cmp_sweep);
	w.heap = aw_mem_malloc((n ? n : 1) * sizeof(*w.heap));
	w.res = aw_mem_malloc((2 * n + 1) * sizeof(qev));
	for (size_t i = 0; i < n; i++) {
		sweep_item *x = &items[i];
		sweep_advance(&w, x->start);
		if (!w.cur) {
			w.cur = x;
			w.from = x->start;
		} else if (outranks(x, w.cur)) {
			sweep_emit(&w, x->start);
			heap_push(&w, w.cur);
			w.cur = x;
			w.from = x->start;
		} else {
			heap_push(&w, x);
		}
	}
	sweep_advance(&w, AW_NS_MAX);
	free(w.heap);
	free(items);
	*nout = w.m;
	return w.res;
}

/* ---- group keys (merge_events_by_keys) ------------------------------------------------------- */

typedef struct keyent {
	size_t off, len;  /* the key's bytes in `bytes` */
} keyent;

/* Distinct byte strings, numbered in the order they were first seen. The keys are
 * copied into one buffer (a group key is gone by the time the next one is built). A
 * slot holds the low 32 bits of the key's hash next to its number + 1, so a probe reads
 * an entry and its bytes only when those bits match, and the table grows without them. */
typedef struct keymap {
	uint64_t *slot;   /* (number + 1) << 32 | low 32 bits of the hash; 0 = empty */
	size_t cap, n;
	keyent *ent;
	aw_buf bytes;
} keymap;

static void keymap_grow(keymap *km, size_t nc)
{
	uint64_t *ns = zalloc_table(nc, sizeof(uint64_t));

	for (size_t i = 0; i < km->cap; i++) {
		uint64_t s = km->slot[i];
		if (!s)
			continue;
		size_t q = (size_t)(uint32_t)s & (nc - 1);
		while (ns[q])
			q = (q + 1) & (nc - 1);
		ns[q] = s;
	}
	free(km->slot);
	km->slot = ns;
	km->cap = nc;
	km->ent = aw_mem_realloc(km->ent, nc * sizeof(*km->ent));
}

static uint32_t keymap_get(keymap *km, const char *k, size_t len, bool *created)
{
	uint32_t h = (uint32_t)aw_hash_bytes(k, len);
	size_t j;

	if ((km->n + 1) * 2 >= km->cap)
		keymap_grow(km, km->cap ? km->cap * 2 : 64);
	for (j = (size_t)h & (km->cap - 1); km->slot[j]; j = (j + 1) & (km->cap - 1)) {
		uint64_t s = km->slot[j];
		if ((uint32_t)s == h) {
			uint32_t g = (uint32_t)(s >> 32) - 1;
			const keyent *e = &km->ent[g];
			if (e->len == len && !memcmp(km->bytes.data + e->off, k, len)) {
				*created = false;
				return g;
			}
		}
	}
	km->ent[km->n] = (keyent){km->bytes.len, len};
	aw_buf_append(&km->bytes, k, len);
	km->slot[j] = (uint64_t)(km->n + 1) << 32 | h;
	*created = true;
	return (uint32_t)km->n++;
}

static void keymap_free(keymap *km)
{
	free(km->ent);
	free(km->slot);
	aw_buf_free(&km->bytes);
}

/* The value of one key for every data entry, kept for the whole run: the distinct value
 * texts are numbered once, and a later merge on the same key (the web UI merges title
 * events again by app) reads the number instead of finding and hashing the text again. */
typedef struct keycol {
	char *key;
	size_t klen;
	uint32_t *val;  /* per data index: 0 not looked up yet, 1 no such key, v + 2 value v */
	size_t nval;
	keymap vals;    /* distinct value texts */
	uint8_t *num;   /* per value: the text is a JSON number */
	size_t num_cap;
} keycol;

typedef struct keycols {
	keycol *c;
	size_t n;
} keycols;

static void keycols_free(void *p)
{
	keycols *kc = p;

	for (size_t i = 0; i < kc->n; i++) {
		free(kc->c[i].key);
		free(kc->c[i].val);
		free(kc->c[i].num);
		keymap_free(&kc->c[i].vals);
	}
	free(kc->c);
	free(kc);
}

static keycol *keycol_of(qdata *T, const char *key, size_t klen)
{
	keycols *kc = T->keycols;
	keycol *c;

	if (!kc) {
		kc = aw_mem_calloc(1, sizeof(*kc));
		T->keycols = kc;
		T->keycols_free = keycols_free;
	}
	for (size_t i = 0; i < kc->n; i++)
		if (kc->c[i].klen == klen && !memcmp(kc->c[i].key, key, klen))
			return &kc->c[i];
	kc->c = aw_mem_realloc(kc->c, (kc->n + 1) * sizeof(*kc->c));
	c = &kc->c[kc->n++];
	memset(c, 0, sizeof(*c));
	c->key = aw_mem_malloc(klen + 1);
	memcpy(c->key, key, klen);
	c->key[klen] = '\0';
	c->klen = klen;
	return c;
}

/* 1 when data entry d has no such key, else the value's number + 2. */
static uint32_t keycol_get(qdata *T, keycol *c, uint32_t d)
{
	qfv f;
	bool created;
	uint32_t v;

	if (d >= c->nval) {
		size_t nn = T->n > (size_t)d + 1 ? T->n : (size_t)d + 1;
		c->val = aw_mem_realloc(c->val, nn * sizeof(uint32_t));
		memset(c->val + c->nval, 0, (nn - c->nval) * sizeof(uint32_t));
		c->nval = nn;
	}
	if (c->val[d])
		return c->val[d];
	if (!data_field(T, d, c->key, c->klen, &f))
		return c->val[d] = 1;
	v = keymap_get(&c->vals, f.v, f.vlen, &created);
	if (created) {
		if (v >= c->num_cap) {
			c->num_cap = c->num_cap ? c->num_cap * 2 : 256;
			c->num = aw_mem_realloc(c->num, c->num_cap);
		}
		c->num[v] = f.vtype == QJ_NUM;
	}
	return c->val[d] = v + 2;
}

/* Append a group to groups (*ng of them, room for *cap): its first event gives the
 * timestamp and the whole data, the durations of the others are added to it. */
static qev *group_add(qev *groups, size_t *ng, size_t *cap, const qev *first)
{
	if (*ng >= *cap) {
		*cap *= 2;
		groups = aw_mem_realloc(groups, *cap * sizeof(qev));
	}
	groups[*ng] = *first;
	groups[*ng].id = QID_NULL;
	++*ng;
	return groups;
}

/* A group's key is the key values' texts joined with '.', as aw-server-rust builds it
 * (docs/query.md). Only a number followed by '.' can make two different tuples of values
 * join into the same text ((1.5, 2) and (1, 5.2) both give "1.5.2"): every other JSON
 * value ends where its text says. So a tuple without numbers is told apart by its value
 * numbers alone, and only one with a number is joined into text; the two kinds can never
 * share a text, and a first byte tells them apart in the one map of groups (whose
 * numbers are then the groups' indices). */
qev *merge_by_keys(qdata *T, const qev *ev, size_t n, const char *const *keys,
		      const size_t *klens, size_t nkeys, size_t *nout)
{
	uint32_t *memo = NULL;  /* per data index: 0 unknown, 1 dropped, g+2 group */
	uint32_t *gv = NULL;    /* one key: per value number, g+1 */
	uint32_t *ids = NULL;   /* several keys: the value numbers of one entry */
	size_t gv_n = 0;
	keycol **cols;
	qev *groups;
	size_t ng = 0, cap = 64;
	keymap km = {0};        /* several keys: group keys, numbered as the groups */
	aw_buf key = AW_BUF_INIT;

	*nout = 0;
	if (!nkeys || !n)
		return aw_mem_malloc(1);
	cols = aw_mem_malloc(nkeys * sizeof(*cols));
	for (size_t k = 0; k < nkeys; k++)
		keycol_of(T, keys[k], klens[k]);
	for (size_t k = 0; k < nkeys; k++) /* the array may have moved while keys were added */
		cols[k] = keycol_of(T, keys[k], klens[k]);
	groups = aw_mem_malloc(cap * sizeof(qev));
	if (nkeys == 1) {
		keycol *c = cols[0];
		for (size_t i = 0; i < n; i++) {
			uint32_t v = keycol_get(T, c, ev[i].data), g;
			if (v == 1)
				continue;
			v -= 2;
			if (v >= gv_n) {
				size_t nn = c->vals.n > (size_t)v + 1 ? c->vals.n : (size_t)v + 1;
				nn = nn < 2 * gv_n ? 2 * gv_n : nn;
				gv = aw_mem_realloc(gv, nn * sizeof(uint32_t));
				memset(gv + gv_n, 0, (nn - gv_n) * sizeof(uint32_t));
				gv_n = nn;
			}
			if (gv[v]) {
				g = gv[v] - 1;
				groups[g].dur = aw_ns_add_sat(groups[g].dur, ev[i].dur);
				continue;
			}
			groups = group_add(groups, &ng, &cap, &ev[i]);
			gv[v] = (uint32_t)ng;
		}
		goto done;
	}
	memo = zalloc_table(T->n, sizeof(uint32_t));
	ids = aw_mem_malloc(nkeys * sizeof(uint32_t));
	for (size_t i = 0; i < n; i++) {
		uint32_t d = ev[i].data, g;
		if (!memo[d]) {
			bool created, num = false;
			size_t k;
			for (k = 0; k < nkeys; k++) {
				uint32_t v = keycol_get(T, cols[k], d);
				if (v == 1)
					break;
				ids[k] = v - 2;
				num |= cols[k]->num[v - 2];
			}
			if (k < nkeys) {
				memo[d] = 1;
				continue;
			}
			aw_buf_reset(&key);
			if (!num) {
				aw_buf_putc(&key, 'i');
				aw_buf_append(&key, ids, nkeys * sizeof(uint32_t));
			} else {
				aw_buf_putc(&key, 't');
				for (k = 0; k < nkeys; k++) {
					const keyent *e = &cols[k]->vals.ent[ids[k]];
					if (k)
						aw_buf_putc(&key, '.');
					aw_buf_append(&key, cols[k]->vals.bytes.data + e->off, e->len);
				}
			}
			g = keymap_get(&km, key.data, key.len, &created);
			memo[d] = g + 2;
			if (created) {
				groups = group_add(groups, &ng, &cap, &ev[i]);
				continue;
			}
		}
		if (memo[d] == 1)
			continue;
		g = memo[d] - 2;
		groups[g].dur = aw_ns_add_sat(groups[g].dur, ev[i].dur);
	}
done:
	free(memo);
	free(gv);
	free(ids);
	free(cols);
	keymap_free(&km);
	aw_buf_free(&key);
	*nout = ng;
	return groups;
}

/* ---- chunk_events_by_key ------------------------------------------------------------------- */

qev *chunk_by_key(qdata *T, const qev *ev, size_t n, const char *key, size_t klen, size_t *nout)
{
	qev *res = aw_mem_malloc((n ? n : 1) * sizeof(qev));
	size_t m = 0;
	const char *lastv = NULL;
	size_t lastl = 0;

	for (size_t i = 0; i < n; i++) {
		qfv f;
		const char *v;
		if (!data_field(T, ev[i].data, key, klen, &f))
			continue;
		v = f.v;
		if (m && f.vlen == lastl && !memcmp(v, lastv, lastl)) {
			res[m - 1].dur = aw_ns_add_sat(res[m - 1].dur, ev[i].dur);
			continue;
		}
		res[m++] = ev[i];
		lastv = v;
		lastl = f.vlen;
	}
	*nout = m;
	return res;
}

/* ---- filter_keyvals / exclude_keyvals ------------------------------------------------------------ */

typedef struct keyvals {
	qdata *T;
	const char *key;
	size_t klen;
	const char *const *vals;
	const size_t *vlens;
	size_t nvals;
	bool exclude;
} keyvals;

static int64_t keyvals_keep(void *ctx, uint32_t d)
{
	const keyvals *kv = ctx;
	qfv f;
	bool match = false;

	if (data_field(kv->T, d, kv->key, kv->klen, &f))
		for (size_t k = 0; k < kv->nvals && !match; k++)
			match = kv->vlens[k] == f.vlen && !memcmp(kv->vals[k], f.v, f.vlen);
	return match != kv->exclude;
}

qev *filter_keyvals(qdata *T, const qev *ev, size_t n, qev *out, const char *key, size_t klen,
		       const char *const *vals, const size_t *vlens, size_t nvals, bool exclude,
		       size_t *nout)
{
	keyvals kv = {T, key, klen, vals, vlens, nvals, exclude};

	return filter_data(T, ev, n, out, keyvals_keep, &kv, nout);
}

/* ---- split_url_events ------------------------------------------------------------------------- */

/* The url parts of one URL as the overlay fields every data value carrying it gets
 * ($domain, $params, $path, $protocol: sorted by key), shared by those values; NULL
 * when the URL does not parse. */
typedef struct urlres {
	const qfv *fields;
} urlres;

/* Parsed URLs of a run, by raw JSON text of the url value: each URL is parsed once per
 * run however many data values and split_url_events calls carry it. `split` remembers
 * the answer per data index across calls (index + 1, 0 = not yet), so splitting the
 * split events again (as the web UI's summary query does) costs one look-up per value. */
typedef struct urlcache {
	keymap map;
	urlres *res;
	size_t cap;
	uint32_t *split;
	size_t nsplit;
	aw_buf texts, tmp;
	qurl u;
} urlcache;

static void urlcache_free(void *p)
{
	urlcache *c = p;

	keymap_free(&c->map);
	free(c->res);
	free(c->split);
	aw_buf_free(&c->texts);
	aw_buf_free(&c->tmp);
	url_free(&c->u);
	free(c);
}

static urlcache *url_cache(qdata *T)
{
	urlcache *c = T->urls;

	if (!c) {
		c = aw_mem_calloc(1, sizeof(*c));
		url_init(&c->u);
		T->urls = c;
		T->urls_free = urlcache_free;
	}
	return c;
}

static const urlres *url_lookup(qdata *T, urlcache *c, const qfv *f)
{
	static const char *const keys[4] = {"$protocol", "$domain", "$path", "$params"};
	static const size_t klens[4] = {9, 7, 5, 7};
	bool created;
	uint32_t g;

	g = keymap_get(&c->map, f->v, f->vlen, &created);
	if (created) {
		urlres *r;
		size_t ul;
		const char *us = json_body_unescape(f->v + 1, f->vlen - 2, f->vesc, &c->tmp, &ul);
		if (g >= c->cap) {
			c->cap = c->cap ? c->cap * 2 : 64;
			c->res = aw_mem_realloc(c->res, c->cap * sizeof(urlres));
		}
		r = &c->res[g];
		r->fields = NULL;
		if (url_parse(&c->u, us, ul)) {
			qurl *u = &c->u;
			const char *dom = u->has_host ? u->host.data : u->scheme.data;
			size_t doml = u->has_host ? u->host.len : u->scheme.len, off[4], nf;
			const aw_buf *parts[4] = {&u->scheme, NULL, &u->path, &u->query};
			const char *vals[4];
			size_t vlens[4];
			while (u->has_host && doml >= 4 && !memcmp(dom, "www.", 4)) {
				dom += 4;
				doml -= 4;
			}
			aw_buf_reset(&c->texts);
			for (int k = 0; k < 4; k++) {
				off[k] = c->texts.len;
				if (k == 1)
					aw_buf_json_string(&c->texts, dom ? dom : "", doml);
				else
					aw_buf_json_string(&c->texts, parts[k]->data ? parts[k]->data : "", parts[k]->len);
				vlens[k] = c->texts.len - off[k];
			}
			for (int k = 0; k < 4; k++)
				vals[k] = c->texts.data + off[k];
			r->fields = data_fields_new(T, 4, keys, klens, vals, vlens, &nf);
		}
	}
	return &c->res[g];
}

/* Data d with the parts of its url field added (d itself without a parsable URL). */
static int64_t url_split_data(void *ctx, uint32_t d)
{
	qdata *T = ctx;
	urlcache *c = url_cache(T);
	const urlres *r;
	bool same = true;
	uint32_t res;
	qfv f;

	if (d < c->nsplit && c->split[d])
		return c->split[d] - 1;
	if (!data_field(T, d, "url", 3, &f) || f.vtype != QJ_STR) {
		res = d;
	} else if (!(r = url_lookup(T, c, &f))->fields) {
		res = d;
	} else {
		same = data_may_have_dollar(T, d);
		for (int k = 0; k < 4 && same; k++) {
			const qfv *p = &r->fields[k];
			qfv x;
			if (!data_field(T, d, p->k, p->klen, &x) || x.vlen != p->vlen || memcmp(x.v, p->v, x.vlen)) {
				same = false;
				break;
			}
		}
		/* already split (e.g. split_url_events applied twice): same data */
		res = same ? d : data_with_shared(T, d, r->fields, 4);
	}
	if (T->n > c->nsplit) {
		size_t nc = T->n * 2;
		c->split = aw_mem_realloc(c->split, nc * sizeof(uint32_t));
		memset(c->split + c->nsplit, 0, (nc - c->nsplit) * sizeof(uint32_t));
		c->nsplit = nc;
	}
	c->split[d] = res + 1;
	c->split[res] = res + 1; /* a split value splits to itself */
	return res;
}

qev *split_url_events(qdata *T, const qev *ev, size_t n, qev *out, size_t *nout)
{
	return map_data(T, ev, n, out, url_split_data, T, nout);
}
