/*
 * The built-in functions (aw-server-rust's, plus aw-server-python's nop,
 * query_bucket_eventcount, simplify_window_titles and flood's optional pulsetime) and the
 * argument conversion rules (docs/query.md, "Functions"). Arity is checked by the interpreter before a function runs; each
 * function converts its arguments in order, so the first bad argument is reported.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/mem.h"
#include "internal.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static const qnode *argpos(const qnode *call, size_t i)
{
	return i < call->nkids ? call->kids[i] : call;
}

/* An InvalidFunctionParameters error that shows the offending value v (as value_debug
 * renders it) between the texts before and after. */
static int param_error(qrun *R, const qnode *at, const char *before, qv v, const char *after)
{
	aw_buf m = AW_BUF_INIT;

	aw_buf_puts(&m, before);
	value_debug(R, &m, v, 120);
	aw_buf_puts(&m, after);
	run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "%s", m.data);
	aw_buf_free(&m);
	return -1;
}

static int bad_param(qrun *R, const qnode *at, const char *what, qv got, bool contains)
{
	char before[200];

	snprintf(before, sizeof(before), "Expected function parameter of type %s, %s ", what,
		 contains ? "list contains" : "got");
	return param_error(R, at, before, got, "");
}

static int bad_param_ev(qrun *R, const qnode *at, const char *what, const qev *e)
{
	qv v = value_event(e);

	bad_param(R, at, what, v, true);
	value_unref(v);
	return -1;
}

/* Wrap a malloc'ed event array as a compact list value (takes ownership). */
static qv wrap_events(qev *ev, size_t n)
{
	qlist *l = list_new_events(0);

	if (n) {
		/* adopt the array into the run's memory accounting */
		l->ev = budget_realloc(ev, 0, n * sizeof(qev));
		l->n = n;
	} else {
		free(ev);
	}
	return value_obj(&l->h);
}

/* An events argument: a compact list, or a generic list whose items are all events.
 * This only checks it: a function checks all its arguments, in order, before it takes
 * the events out (events_of, events_take), so that no error path has a copy to free. */
static int arg_events(qrun *R, const qnode *call, qv *args, size_t i)
{
	qv v = args[i];
	qlist *l;

	if (v.k != QV_LIST)
		return bad_param(R, argpos(call, i), "List", v, false);
	l = QLIST(v);
	if (!l->isev)
		for (size_t k = 0; k < l->n; k++)
			if (l->it[k].k != QV_EVENT)
				return bad_param(R, argpos(call, i), "List of Events", l->it[k], true);
	return 0;
}

/* The events of a list that arg_events accepted, to read: a compact list's own array,
 * else a converted copy that *hold then owns (the caller frees it). */
static const qev *events_of(qv v, size_t *n, qev **hold)
{
	qlist *l = QLIST(v);

	*hold = NULL;
	*n = l->n;
	if (l->isev || l->n == 0)
		return l->ev;
	*hold = aw_mem_malloc(l->n * sizeof(qev));
	for (size_t k = 0; k < l->n; k++)
		(*hold)[k] = QEVO(l->it[k])->ev;
	return *hold;
}

static int arg_str(qrun *R, const qnode *call, qv *args, size_t i, qstr **s)
{
	if (args[i].k != QV_STR)
		return bad_param(R, argpos(call, i), "String", args[i], false);
	*s = QSTR(args[i]);
	return 0;
}

/* The common head of functions over (events, key, ...): an events argument 0 and a
 * string argument 1. */
static int arg_events_key(qrun *R, const qnode *call, qv *args, qstr **key)
{
	return arg_events(R, call, args, 0) || arg_str(R, call, args, 1, key) ? -1 : 0;
}

static int arg_num(qrun *R, const qnode *call, qv *args, size_t i, double *d)
{
	if (args[i].k != QV_NUM)
		return bad_param(R, argpos(call, i), "Number", args[i], false);
	*d = args[i].u.n;
	return 0;
}

/* A list of strings (e.g. merge keys, a category path). */
static int arg_strlist(qrun *R, const qnode *at, qv v, const char ***s, size_t **lens, size_t *n)
{
	qlist *l;

	*s = NULL;
	*lens = NULL;
	*n = 0;
	if (v.k != QV_LIST)
		return bad_param(R, at, "List", v, false);
	l = QLIST(v);
	if (l->isev && l->n)
		return bad_param_ev(R, at, "String", &l->ev[0]);
	*s = aw_mem_malloc((l->n ? l->n : 1) * sizeof(char *));
	*lens = aw_mem_malloc((l->n ? l->n : 1) * sizeof(size_t));
	for (size_t k = 0; k < l->n; k++) {
		if (l->it[k].k != QV_STR) {
			free(*s);
			free(*lens);
			*s = NULL;
			*lens = NULL;
			return bad_param(R, at, "String", l->it[k], true);
		}
		(*s)[k] = QSTR(l->it[k])->s;
		(*lens)[k] = QSTR(l->it[k])->len;
	}
	*n = l->n;
	return 0;
}

static int timeinterval(qrun *R, const qnode *at, aw_ns *start, aw_ns *end)
{
	qv v = R->env[Q_SLOT_TIMEINTERVAL];
	const char *s, *slash;
	size_t len;

	if (!R->def[Q_SLOT_TIMEINTERVAL])
		return run_error(R, at, AW_EINVALID, "TimeIntervalError", "TIMEINTERVAL not defined!");
	if (v.k != QV_STR)
		return run_error(R, at, AW_EINVALID, "TimeIntervalError", "TIMEINTERVAL is not of type string!");
	s = QSTR(v)->s;
	len = QSTR(v)->len;
	slash = memchr(s, '/', len);
	if (!slash || memchr(slash + 1, '/', len - (size_t)(slash + 1 - s)) ||
	    aw_time_parse(start, s, (size_t)(slash - s), AW_TIME_STRICT) ||
	    aw_time_parse(end, slash + 1, len - (size_t)(slash + 1 - s), AW_TIME_STRICT))
		return run_error(R, at, AW_EINVALID, "TimeIntervalError", "Failed to parse TIMEINTERVAL: %.*s",
			    (int)(len > 200 ? 200 : len), s);
	return 0;
}

static int load_buckets(qrun *R, const qnode *at)
{
	int rc;

	if (R->have_buckets)
		return 0;
	rc = aw_reader_buckets(&R->buckets, &R->nbuckets, R->r, 0);
	if (rc)
		return run_error(R, at, AW_ERROR, "BucketQueryError", "Failed to query bucket names: %s", aw_error_last());
	R->have_buckets = true;
	return 0;
}

/* Storage can return rows in primary-key order (start, id ascending), which needs no sort
 * in SQLite; aw-server-rust's order (newest first, ties: shorter first, then lower id) is then
 * restored in memory, which is much cheaper. */
#define ROWS_ORDER AW_EVENTS_KEY_ORDER

/* ---- functions --------------------------------------------------------------------------- */

/* print (prints nothing, returns None) and nop (returns 1): only their value matters. */
static int f_constant(qrun *R, const qnode *call, qv *args, int one, qv *out)
{
	(void)R;
	(void)call;
	(void)args;
	*out = one ? value_num(1) : value_none();
	return 0;
}

/* Reading bucket `id` failed with rc: an unknown bucket (also an id with a NUL, which no
 * bucket has) is aw-server-rust's NoSuchBucket, anything else a storage failure. */
static int bucket_error(qrun *R, const qnode *call, const qstr *id, int rc, const char *what)
{
	if (rc == AW_ENOTFOUND)
		return run_error(R, call, AW_ENOTFOUND, "BucketQueryError", "Failed to query bucket: NoSuchBucket(\"%.*s\")",
			    (int)(id->len > 200 ? 200 : id->len), id->s);
	return run_error_storage(R, call, rc, what);
}

/* The head of query_bucket and query_bucket_eventcount: bucket id argument 0 and the
 * period of TIMEINTERVAL. Storage takes ids as C strings, so an id with a NUL is
 * answered here: it names no bucket. */
static int arg_bucket_period(qrun *R, const qnode *call, qv *args, qstr **id, aw_ns *start, aw_ns *end)
{
	if (arg_str(R, call, args, 0, id) || timeinterval(R, call, start, end))
		return -1;
	if (memchr((*id)->s, '\0', (*id)->len))
		return bucket_error(R, call, *id, AW_ENOTFOUND, NULL);
	return 0;
}

static int f_query_bucket(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qstr *id = NULL;
	aw_ns start, end;
	aw_event_row *rows;
	size_t nrows;
	qev *ev;
	int64_t last_sid = 0;
	uint32_t last = 0;
	int rc;

	(void)n;
	if (arg_bucket_period(R, call, args, &id, &start, &end))
		return -1;
	rc = aw_reader_event_rows(&rows, &nrows, R->r, id->s, start, end, -1, AW_EVENTS_CLIP | ROWS_ORDER);
	if (rc)
		return bucket_error(R, call, id, rc, "reading events");
	/* aw_event_row and qev have the same size: convert in place */
	_Static_assert(sizeof(aw_event_row) == sizeof(qev), "row/event layout");
	ev = (qev *)rows;
	for (size_t i = 0; i < nrows; i++) {
		aw_event_row r = rows[i]; /* ev[i] is written over rows[i] */
		if (i + 8 < nrows)
			data_sid_prefetch(R->T, rows[i + 8].data_id);
		/* neighbours often share their data (an AFK bucket's status, a title someone
		 * came back to): the previous row's index saves a look-up */
		if (!i || r.data_id != last_sid)
			last = data_from_sid(R->T, r.data_id);
		last_sid = r.data_id;
		ev[i].start = r.start;
		ev[i].dur = r.duration;
		ev[i].id = r.id;
		ev[i].data = last;
		ev[i].pad = 0;
	}
	storage_order(ev, nrows);
	*out = wrap_events(ev, nrows);
	return 0;
}

static int f_query_bucket_eventcount(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qstr *id = NULL;
	aw_ns start, end;
	int64_t cnt = 0;
	int rc;

	(void)n;
	if (arg_bucket_period(R, call, args, &id, &start, &end))
		return -1;
	rc = aw_reader_event_count(&cnt, R->r, id->s, start, end);
	if (rc)
		return bucket_error(R, call, id, rc, "counting events");
	*out = value_num((double)cnt);
	return 0;
}

static int f_query_bucket_names(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qlist *l;

	(void)args;
	(void)n;
	if (load_buckets(R, call))
		return -1;
	l = list_new_items(R->nbuckets);
	for (size_t i = 0; i < R->nbuckets; i++)
		list_set_item(l, i, value_str(R->buckets[i].id, strlen(R->buckets[i].id)));
	*out = value_obj(&l->h);
	return 0;
}

static int f_find_bucket(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qstr *prefix = NULL, *host = NULL;
	const char *found = NULL;

	if (arg_str(R, call, args, 0, &prefix) || (n > 1 && arg_str(R, call, args, 1, &host)))
		return -1;
	if (load_buckets(R, call))
		return -1;
	for (size_t i = 0; i < R->nbuckets; i++) {
		const aw_bucket *b = &R->buckets[i];
		size_t idl = strlen(b->id);
		if (idl < prefix->len || memcmp(b->id, prefix->s, prefix->len))
			continue;
		if (host && !(b->hostname && strlen(b->hostname) == host->len &&
			      !memcmp(b->hostname, host->s, host->len)))
			continue;
		if (idl == prefix->len) {
			found = b->id;
			break;
		}
		if (!found)
			found = b->id;
	}
	if (!found) {
		if (host)
			return run_error(R, call, AW_ENOTFOUND, "BucketQueryError",
				    "Failed to find bucket matching filter '%.*s' and hostname '%.*s'",
				    (int)(prefix->len > 150 ? 150 : prefix->len), prefix->s,
				    (int)(host->len > 150 ? 150 : host->len), host->s);
		return run_error(R, call, AW_ENOTFOUND, "BucketQueryError", "Failed to find bucket matching filter '%.*s'",
			    (int)(prefix->len > 200 ? 200 : prefix->len), prefix->s);
	}
	*out = value_str(found, strlen(found));
	return 0;
}

static qev *copy_events(const qev *ev, size_t n)
{
	qev *c = aw_mem_malloc((n ? n : 1) * sizeof(qev));

	if (n)
		memcpy(c, ev, n * sizeof(qev));
	return c;
}

/* The events of list argument args[i] as an array the caller may modify and keep: the
 * list's own array when nothing else references the list (a call's result, or a variable
 * moved into the call by `x = f(x, ...)`), else a copy. `ev`/`hold` as from arg_events. */
static qev *writable_events(qv *args, size_t i, const qev *ev, size_t n, qev *hold)
{
	qlist *l = QLIST(args[i]);

	if (hold)
		return hold;
	if (n && l->h.refs == 1 && l->isev && l->ev == ev && l->n == n) {
		qev *a = l->ev;
		budget_release(n * sizeof(qev));
		l->ev = NULL;
		l->n = 0;
		return a;
	}
	return copy_events(ev, n);
}

/* The events of list argument args[i] (accepted by arg_events) to modify and keep:
 * writable_events of events_of. */
static qev *events_take(qv *args, size_t i, size_t *n)
{
	qev *hold;
	const qev *ev = events_of(args[i], n, &hold);

	return writable_events(args, i, ev, *n, hold);
}

/* The events of list argument args[i] (accepted by arg_events): the array to keep and
 * modify when nothing else needs it (*own true: as events_take, without the copy), else
 * the list's own array, only to read. Functions whose result is a subset or a reshaping
 * of their input write into an owned array, and otherwise allocate only their result
 * instead of a copy of the input. */
static qev *events_borrow(qv *args, size_t i, size_t *n, bool *own)
{
	qev *hold;
	const qev *ev = events_of(args[i], n, &hold);
	qlist *l = QLIST(args[i]);

	*own = true;
	if (hold)
		return hold;
	if (*n && l->h.refs == 1 && l->isev && l->ev == ev && l->n == *n)
		return writable_events(args, i, ev, *n, NULL);
	*own = false;
	return (qev *)ev;
}

static int f_flood(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qev *c;
	size_t ne, m;
	aw_ns pulse = 5 * AW_NS_PER_SEC;
	double secs = 0;

	if (arg_events(R, call, args, 0) || (n > 1 && arg_num(R, call, args, 1, &secs)))
		return -1;
	if (n > 1 && (!(secs >= 0) || aw_duration_from_seconds(&pulse, secs)))
		return run_error(R, argpos(call, 1), AW_EINVALID, "InvalidFunctionParameters",
			    "flood pulsetime must be a non-negative number of seconds (at most ~292 years), got %g",
			    secs);
	c = events_take(args, 0, &ne);
	m = flood_events(R->T, c, ne, pulse);
	*out = wrap_events(c, m);
	return 0;
}

static int f_sort(qrun *R, const qnode *call, qv *args, int by_duration, qv *out)
{
	qev *c;
	size_t ne;

	if (arg_events(R, call, args, 0))
		return -1;
	c = events_take(args, 0, &ne);
	if (by_duration)
		sort_by_duration(c, ne);
	else
		sort_by_timestamp(c, ne);
	*out = wrap_events(c, ne);
	return 0;
}

static int f_sum_durations(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	const qev *ev;
	qev *hold;
	size_t ne;
	aw_ns sum = 0;

	(void)n;
	if (arg_events(R, call, args, 0))
		return -1;
	ev = events_of(args[0], &ne, &hold);
	for (size_t i = 0; i < ne; i++) {
		if (__builtin_add_overflow(sum, ev[i].dur, &sum)) {
			free(hold);
			return run_error(R, call, AW_EINVALID, "InvalidFunctionParameters", "sum_durations overflowed");
		}
	}
	free(hold);
	/* chrono's num_milliseconds(): truncated toward zero */
	*out = value_num((double)(sum / 1000000) / 1000.0);
	return 0;
}

static int f_limit_events(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	const qev *ev;
	qev *hold, *c;
	size_t ne, lim;
	double d = 0;

	(void)n;
	if (arg_events(R, call, args, 0) || arg_num(R, call, args, 1, &d))
		return -1;
	ev = events_of(args[0], &ne, &hold);
	/* Rust `as usize`: NaN and negatives saturate to 0, huge values to the maximum */
	if (!(d > 0))
		lim = 0;
	else if (d >= 18446744073709551615.0)
		lim = SIZE_MAX;
	else
		lim = (size_t)d;
	if (lim > ne)
		lim = ne;
	if (hold || (QLIST(args[0])->h.refs == 1 && lim == ne)) {
		c = writable_events(args, 0, ev, ne, hold);
	} else {
		c = copy_events(ev, lim);
	}
	*out = wrap_events(c, lim);
	return 0;
}

static int f_contains(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	(void)n;
	if (args[0].k == QV_LIST) {
		qlist *l = QLIST(args[0]);
		bool found = false;
		for (size_t i = 0; i < l->n && !found; i++) {
			if (l->isev) {
				qv e;
				if (args[1].k != QV_EVENT)
					break;
				e = value_event(&l->ev[i]);
				found = value_equal(R, e, args[1]);
				value_unref(e);
			} else {
				found = value_equal(R, l->it[i], args[1]);
			}
			if (R->rc)
				return -1;
		}
		*out = value_bool(found);
		return 0;
	}
	if (args[0].k == QV_DICT) {
		if (args[1].k != QV_STR)
			return param_error(R, argpos(call, 1), "function contains got second argument ", args[1],
					   ", expected type String");
		*out = value_bool(dict_get(QDICT(args[0]), QSTR(args[1])->s, QSTR(args[1])->len) != NULL);
		return 0;
	}
	return param_error(R, argpos(call, 0), "function contains got first argument ", args[0],
			   ", expected type List or Dict");
}

static int f_merge_events_by_keys(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	const qev *ev;
	qev *hold, *res;
	const char **keys;
	size_t ne, nk, *kl, m;

	(void)n;
	if (arg_events(R, call, args, 0) || arg_strlist(R, argpos(call, 1), args[1], &keys, &kl, &nk))
		return -1;
	ev = events_of(args[0], &ne, &hold);
	res = merge_by_keys(R->T, ev, ne, keys, kl, nk, &m);
	free(keys);
	free(kl);
	free(hold);
	*out = wrap_events(res, m);
	return 0;
}

static int f_chunk_events_by_key(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	const qev *ev;
	qev *hold, *res;
	qstr *key = NULL;
	size_t ne, m;

	(void)n;
	if (arg_events_key(R, call, args, &key))
		return -1;
	ev = events_of(args[0], &ne, &hold);
	res = chunk_by_key(R->T, ev, ne, key->s, key->len, &m);
	free(hold);
	*out = wrap_events(res, m);
	return 0;
}

/* JSON values: None->null, Bool, Number->float, String, List->array; else error. */
static int to_json_value(qrun *R, const qnode *at, qv v, aw_buf *b)
{
	char tmp[AW_FLOAT_BUFSZ];

	if (!count_work(R, 1))
		return -1;
	switch (v.k) {
	case QV_NONE:
		aw_buf_puts(b, "null");
		return 0;
	case QV_BOOL:
		aw_buf_puts(b, v.u.b ? "true" : "false");
		return 0;
	case QV_NUM:
		if (!isfinite(v.u.n))
			return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
				    "%g cannot be compared with event data (JSON has no NaN or infinity)", v.u.n);
		aw_buf_append(b, tmp, aw_float_format(tmp, v.u.n));
		return 0;
	case QV_STR:
		aw_buf_json_string(b, QSTR(v)->s, QSTR(v)->len);
		return 0;
	case QV_LIST: {
		qlist *l = QLIST(v);
		if (l->isev && l->n)
			break;
		aw_buf_putc(b, '[');
		for (size_t i = 0; i < l->n; i++) {
			if (i)
				aw_buf_putc(b, ',');
			if (to_json_value(R, at, l->it[i], b))
				return -1;
			if (b->len > Q_MAX_OUTPUT_BYTES)
				return run_error(R, at, AW_EINVALID, "ResourceLimit", "value too large");
		}
		aw_buf_putc(b, ']');
		return 0;
	}
	default:
		break;
	}
	if (v.k == QV_LIST) /* a compact list, of events */
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
			    "Query2 support for parsing values is limited, does not support parsing Event");
	return param_error(R, at, "Query2 support for parsing values is limited, does not support parsing ", v, "");
}

static int f_filter_keyvals(qrun *R, const qnode *call, qv *args, int exclude, qv *out)
{
	qev *res, *ev;
	bool own;
	qstr *key = NULL;
	size_t ne, m, nv;
	qlist *vl;
	aw_buf texts = AW_BUF_INIT;
	size_t *offs, *lens;
	const char **vals;

	if (arg_events_key(R, call, args, &key))
		return -1;
	if (args[2].k != QV_LIST)
		return bad_param(R, argpos(call, 2), "List", args[2], false);
	vl = QLIST(args[2]);
	nv = vl->n;
	offs = aw_mem_malloc((nv + 1) * sizeof(size_t));
	lens = aw_mem_malloc((nv + 1) * sizeof(size_t));
	vals = aw_mem_malloc((nv + 1) * sizeof(char *));
	for (size_t i = 0; i < nv; i++) {
		qv item = vl->isev ? value_none() : vl->it[i];
		int rc;
		offs[i] = texts.len;
		if (vl->isev) {
			item = value_event(&vl->ev[i]);
			rc = to_json_value(R, argpos(call, 2), item, &texts);
			value_unref(item);
		} else {
			rc = to_json_value(R, argpos(call, 2), item, &texts);
		}
		if (rc) {
			free(offs);
			free(lens);
			free(vals);
			aw_buf_free(&texts);
			return -1;
		}
		lens[i] = texts.len - offs[i];
	}
	for (size_t i = 0; i < nv; i++)
		vals[i] = texts.data + offs[i];
	ev = events_borrow(args, 0, &ne, &own);
	res = filter_keyvals(R->T, ev, ne, own ? ev : NULL, key->s, key->len, vals, lens, nv, exclude, &m);
	free(offs);
	free(lens);
	free(vals);
	aw_buf_free(&texts);
	*out = wrap_events(res, m);
	return 0;
}

static int f_filter_keyvals_regex(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qev *res, *ev;
	bool own;
	qstr *key = NULL, *pat = NULL;
	size_t ne, m;
	qre *re;
	aw_buf msg = AW_BUF_INIT;

	(void)n;
	if (arg_events_key(R, call, args, &key) || arg_str(R, call, args, 2, &pat))
		return -1;
	re = regex_get(R, pat->s, pat->len, false, &msg);
	if (!re) {
		run_error(R, argpos(call, 2), AW_EINVALID, "RegexCompileError", "Failed to compile regex string '%.*s': %s",
		     (int)(pat->len > 200 ? 200 : pat->len), pat->s, msg.data ? msg.data : "");
		aw_buf_free(&msg);
		return -1;
	}
	ev = events_borrow(args, 0, &ne, &own);
	res = filter_regex_events(R, ev, ne, own ? ev : NULL, key->s, key->len, re, &m);
	if (!res) {
		if (own)
			free(ev);
		return -1;
	}
	*out = wrap_events(res, m);
	return 0;
}

/* The functions combining two event lists (arguments 0 and 1, either possibly held
 * as a converted copy that is freed here). */
enum { PAIR_INTERSECT, PAIR_UNION, PAIR_NO_OVERLAP };

static int f_two_event_lists(qrun *R, const qnode *call, qv *args, int op, qv *out)
{
	const qev *a, *b;
	qev *ha = NULL, *hb, *res, *own;
	size_t na, nb, m;
	bool owned;

	if (arg_events(R, call, args, 0) || arg_events(R, call, args, 1))
		return -1;
	if (op == PAIR_INTERSECT) {
		/* `x = filter_period_intersect(x, f)` reuses x's array */
		own = events_borrow(args, 0, &na, &owned);
		b = events_of(args[1], &nb, &hb);
		res = filter_period_intersect(own, na, owned ? own : NULL, b, nb, &m);
		free(hb);
		*out = wrap_events(res, m);
		return 0;
	}
	a = events_of(args[0], &na, &ha);
	b = events_of(args[1], &nb, &hb);
	switch (op) {
	case PAIR_UNION: res = period_union(R->T, a, na, b, nb, &m); break;
	default: res = union_no_overlap(a, na, b, nb, &m); break;
	}
	free(ha);
	free(hb);
	*out = wrap_events(res, m);
	return 0;
}

/* union_exact(events, ...): awnode's exact merge of several devices (docs/query.md). */
static int f_union_exact(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	const qev **lists;
	qev **holds, *res;
	size_t *ns, total = 0, m;

	for (size_t i = 0; i < n; i++) {
		if (arg_events(R, call, args, i))
			return -1;
		total += QLIST(args[i])->n;
	}
	/* the sweep holds a 40-byte item and a heap slot per event, and up to 2n pieces */
	if (!budget_allows(total * (2 * sizeof(qev) + 48)))
		return run_error(R, call, AW_EINVALID, "ResourceLimit", "list too long");
	lists = aw_mem_calloc(n ? n : 1, sizeof(*lists));
	holds = aw_mem_calloc(n ? n : 1, sizeof(*holds));
	ns = aw_mem_calloc(n ? n : 1, sizeof(*ns));
	for (size_t i = 0; i < n; i++)
		lists[i] = events_of(args[i], &ns[i], &holds[i]);
	res = union_exact(lists, ns, n, &m);
	for (size_t i = 0; i < n; i++)
		free(holds[i]);
	free(holds);
	free(ns);
	free(lists);
	*out = wrap_events(res, m);
	return 0;
}

/* set_keyval(events, key, value): the value is converted once, then each distinct data
 * value gets one overlay with the key set. */
typedef struct keyval_set {
	qdata *T;
	const char *key, *val;
	size_t klen, vlen;
	const qfv *field; /* the key and value, shared by every value set */
} keyval_set;

static int64_t keyval_set_data(void *ctx, uint32_t d)
{
	keyval_set *s = ctx;
	size_t nf;

	if (!s->field)
		s->field = data_fields_new(s->T, 1, &s->key, &s->klen, &s->val, &s->vlen, &nf);
	return data_with_shared(s->T, d, s->field, 1);
}

static int f_set_keyval(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qev *res;
	qstr *key = NULL;
	size_t ne, m;
	aw_buf val = AW_BUF_INIT;
	keyval_set s = {.T = R->T};

	(void)n;
	if (arg_events_key(R, call, args, &key) || to_json_value(R, argpos(call, 2), args[2], &val)) {
		aw_buf_free(&val);
		return -1;
	}
	s.key = key->s;
	s.klen = key->len;
	s.val = val.data;
	s.vlen = val.len;
	res = events_take(args, 0, &ne);
	map_data(R->T, res, ne, res, keyval_set_data, &s, &m);
	aw_buf_free(&val);
	*out = wrap_events(res, m);
	return 0;
}

static int f_split_url_events(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qev *res;
	size_t ne, m;

	(void)n;
	if (arg_events(R, call, args, 0))
		return -1;
	res = events_take(args, 0, &ne);
	split_url_events(R->T, res, ne, res, &m);
	*out = wrap_events(res, m);
	return 0;
}

static int f_concat(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	size_t total = 0, at = 0;
	qev *res;

	for (size_t i = 0; i < n; i++) {
		if (arg_events(R, call, args, i))
			return -1;
		total += QLIST(args[i])->n;
	}
	if (!budget_allows(total * sizeof(qev)))
		return run_error(R, call, AW_EINVALID, "ResourceLimit", "list too long");
	res = aw_mem_malloc((total ? total : 1) * sizeof(qev));
	for (size_t i = 0; i < n; i++) {
		const qev *ev;
		qev *hold;
		size_t ne;
		ev = events_of(args[i], &ne, &hold);
		if (ne)
			memcpy(res + at, ev, ne * sizeof(qev));
		at += ne;
		free(hold);
	}
	*out = wrap_events(res, total);
	return 0;
}

/* [[category: [String], rule], ...] or [[tag: String, rule], ...] */
static int parse_rules(qrun *R, const qnode *at, qv v, bool categories, qrule **rules, aw_buf *labels,
		       size_t **loff, size_t **llen, size_t **depth, size_t *nr)
{
	qlist *l;

	*nr = 0;
	if (v.k != QV_LIST)
		return bad_param(R, at, "List", v, false);
	l = QLIST(v);
	if (l->isev && l->n)
		return bad_param_ev(R, at, categories ? "list of (category, rule) tuples" : "list of (tag, rule) tuples",
				    &l->ev[0]);
	*rules = aw_mem_calloc(l->n + 1, sizeof(qrule));
	*loff = aw_mem_calloc(l->n + 1, sizeof(size_t));
	*llen = aw_mem_calloc(l->n + 1, sizeof(size_t));
	*depth = aw_mem_calloc(l->n + 1, sizeof(size_t));
	for (size_t i = 0; i < l->n; i++) {
		qv item = l->it[i], first, second;
		const char *what = categories ? "list of (category, rule) tuples" : "list of (tag, rule) tuples";
		qlist *pair;
		if (item.k != QV_LIST)
			return bad_param(R, at, what, item, false);
		pair = QLIST(item);
		if (pair->n < 2 || pair->isev)
			return bad_param(R, at, what, item, true);
		first = pair->it[0];
		second = pair->it[1];
		(*loff)[i] = labels->len;
		if (categories) {
			const char **parts;
			size_t *plens, np;
			if (arg_strlist(R, at, first, &parts, &plens, &np))
				return -1;
			aw_buf_putc(labels, '[');
			for (size_t k = 0; k < np; k++) {
				if (k)
					aw_buf_putc(labels, ',');
				aw_buf_json_string(labels, parts[k], plens[k]);
			}
			aw_buf_putc(labels, ']');
			(*depth)[i] = np;
			free(parts);
			free(plens);
		} else {
			if (first.k != QV_STR)
				return bad_param(R, at, "String", first, true);
			aw_buf_append(labels, QSTR(first)->s, QSTR(first)->len);
		}
		(*llen)[i] = labels->len - (*loff)[i];
		if (rule_parse(R, at, second, &(*rules)[i]))
			return -1;
		*nr = i + 1;
	}
	return 0;
}

static int f_classify(qrun *R, const qnode *call, qv *args, int categories, qv *out)
{
	qev *res = NULL;
	size_t ne, m = 0, nr = 0, *loff = NULL, *llen = NULL, *depth = NULL;
	qrule *rules = NULL;
	aw_buf labels = AW_BUF_INIT;
	const char **lp = NULL;
	int rc = -1;

	if (arg_events(R, call, args, 0))
		return -1;
	if (parse_rules(R, argpos(call, 1), args[1], categories, &rules, &labels, &loff, &llen, &depth, &nr))
		goto out;
	lp = aw_mem_malloc((nr + 1) * sizeof(char *));
	for (size_t i = 0; i < nr; i++)
		lp[i] = labels.data + loff[i];
	res = events_take(args, 0, &ne);
	if (!(categories ? categorize_events(R, res, ne, res, rules, lp, llen, depth, nr, &m)
			 : tag_events(R, res, ne, res, rules, lp, llen, nr, &m))) {
		free(res);
		goto out;
	}
	*out = wrap_events(res, m);
	rc = 0;
out:
	if (rules)
		for (size_t i = 0; i < nr; i++)
			rule_free(&rules[i]);
	free(rules);
	free(loff);
	free(llen);
	free(depth);
	free(lp);
	aw_buf_free(&labels);
	return rc;
}

static int f_simplify_window_titles(qrun *R, const qnode *call, qv *args, size_t n, qv *out)
{
	qev *res;
	qstr *key = NULL;
	size_t ne, m;

	(void)n;
	if (arg_events_key(R, call, args, &key))
		return -1;
	res = events_take(args, 0, &ne);
	if (!simplify_titles(R, res, ne, res, key->s, key->len, &m)) {
		free(res);
		return -1;
	}
	*out = wrap_events(res, m);
	return 0;
}

const qbuiltin builtin_table[] = {
	{"print", NULL, 0, -1, f_constant, 0},
	{"query_bucket", f_query_bucket, 1, 1, NULL, 0},
	{"query_bucket_names", f_query_bucket_names, 0, 0, NULL, 0},
	{"find_bucket", f_find_bucket, 1, 2, NULL, 0},
	{"flood", f_flood, 1, 2, NULL, 0},
	{"categorize", NULL, 2, 2, f_classify, 1},
	{"tag", NULL, 2, 2, f_classify, 0},
	{"sort_by_duration", NULL, 1, 1, f_sort, 1},
	{"sort_by_timestamp", NULL, 1, 1, f_sort, 0},
	{"sum_durations", f_sum_durations, 1, 1, NULL, 0},
	{"limit_events", f_limit_events, 2, 2, NULL, 0},
	{"contains", f_contains, 2, 2, NULL, 0},
	{"merge_events_by_keys", f_merge_events_by_keys, 2, 2, NULL, 0},
	{"chunk_events_by_key", f_chunk_events_by_key, 2, 2, NULL, 0},
	{"filter_keyvals", NULL, 3, 3, f_filter_keyvals, 0},
	{"exclude_keyvals", NULL, 3, 3, f_filter_keyvals, 1},
	{"filter_keyvals_regex", f_filter_keyvals_regex, 3, 3, NULL, 0},
	{"filter_period_intersect", NULL, 2, 2, f_two_event_lists, PAIR_INTERSECT},
	{"period_union", NULL, 2, 2, f_two_event_lists, PAIR_UNION},
	{"union_no_overlap", NULL, 2, 2, f_two_event_lists, PAIR_NO_OVERLAP},
	{"split_url_events", f_split_url_events, 1, 1, NULL, 0},
	{"concat", f_concat, 0, -1, NULL, 0},
	/* awnode extras from aw-core's query2 */
	{"nop", NULL, 0, 0, f_constant, 1},
	{"query_bucket_eventcount", f_query_bucket_eventcount, 1, 1, NULL, 0},
	{"simplify_window_titles", f_simplify_window_titles, 2, 2, NULL, 0},
	/* awnode's own (docs/query.md, "awnode extensions") */
	{"union_exact", f_union_exact, 1, -1, NULL, 0},
	{"set_keyval", f_set_keyval, 3, 3, NULL, 0},
};
const size_t builtin_count = sizeof(builtin_table) / sizeof(builtin_table[0]);
