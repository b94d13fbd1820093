/*
 * The interpreter (evaluation rules in docs/query.md) and aw_query_run.
 *
 * The environment is an array indexed by slots interned at parse time; slot i < the
 * number of built-ins starts bound to built-in i, so built-ins are ordinary variables
 * that a program may shadow. `return e` and `RETURN = e` both store into the RETURN
 * slot and execution continues. Errors carry a kind (aw-server-rust's QueryError variant
 * names), a detail and the position of the node that failed.
 */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aw/error.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "internal.h"


/* ---- errors ------------------------------------------------------------------------- */

static void debug_escape(aw_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': aw_buf_puts(b, "\\\""); break;
		case '\\': aw_buf_puts(b, "\\\\"); break;
		case '\n': aw_buf_puts(b, "\\n"); break;
		case '\r': aw_buf_puts(b, "\\r"); break;
		case '\t': aw_buf_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				aw_buf_printf(b, "\\u{%x}", c);
			else
				aw_buf_putc(b, (char)c);
		}
	}
}

static void set_error(qrun *R, const qnode *at, int code, const char *kind, const char *detail)
{
	aw_query_error *e = R->err;
	aw_buf b = AW_BUF_INIT;
	size_t dl = detail ? strlen(detail) : 0, cut = dl;

	if (R->rc)
		return; /* keep the first error */
	R->rc = code;
	e->code = code;
	e->line = at ? at->line : 0;
	e->column = at ? at->col : 0;
	aw_buf_puts(&b, kind);
	if (detail) {
		if (cut > 380) {
			cut = 380;
			while (cut > 0 && ((unsigned char)detail[cut] & 0xC0) == 0x80)
				cut--;
		}
		aw_buf_puts(&b, "(\"");
		debug_escape(&b, detail, cut);
		if (cut < dl)
			aw_buf_puts(&b, "...");
		aw_buf_puts(&b, "\")");
	}
	if (at)
		aw_buf_printf(&b, " at line %d, column %d", at->line, at->col);
	if (b.len >= sizeof(e->message)) {
		size_t c = sizeof(e->message) - 4;
		while (c > 0 && ((unsigned char)b.data[c] & 0xC0) == 0x80)
			c--;
		memcpy(e->message, b.data, c);
		memcpy(e->message + c, "...", 4);
	} else {
		memcpy(e->message, b.data, b.len + 1);
	}
	aw_buf_free(&b);
}

int run_error(qrun *R, const qnode *at, int code, const char *kind, const char *fmt, ...)
{
	char detail[600];
	va_list ap;

	if (!fmt) {
		set_error(R, at, code, kind, NULL);
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	set_error(R, at, code, kind, detail);
	return -1;
}

int run_error_storage(qrun *R, const qnode *at, int code, const char *what)
{
	if (code == AW_ENOTFOUND)
		return run_error(R, at, AW_ENOTFOUND, "BucketQueryError", "%s: %s", what, aw_error_last());
	return run_error(R, at, AW_ERROR, "InternalError", "%s: %s", what, aw_error_last());
}

bool count_work(qrun *R, uint64_t steps)
{
	R->work += steps;
	if (R->work > Q_MAX_WORK) {
		if (!R->rc)
			run_error(R, NULL, AW_EINVALID, "ResourceLimit", "the query needs more than %llu steps",
			     (unsigned long long)Q_MAX_WORK);
		return false;
	}
	return true;
}

static int check_budget(qrun *R, const qnode *at)
{
	if (budget_exceeded())
		return run_error(R, at, AW_EINVALID, "ResourceLimit", "the query needs more than %u MiB of memory",
			    (unsigned)(Q_MAX_LIVE_BYTES >> 20));
	if (R->T->err)
		return run_error(R, at, AW_ERROR, "InternalError", "reading event data: %s", R->T->errmsg);
	return 0;
}

/* ---- evaluation ---------------------------------------------------------------------- */

static int eval(qrun *R, const qnode *n, qv *out);

static int depth_check(qrun *R, const qnode *at, qv v)
{
	if (value_isobj(v) && v.u.o->depth > Q_MAX_VALUE_DEPTH) {
		value_unref(v);
		return run_error(R, at, AW_EINVALID, "ResourceLimit", "value nested deeper than %d levels", Q_MAX_VALUE_DEPTH);
	}
	return 0;
}

static int add_values(qrun *R, const qnode *at, qv a, qv b, qv *out)
{
	const char *msg = NULL;

	switch (a.k) {
	case QV_NUM:
		if (b.k == QV_NUM) {
			*out = value_num(a.u.n + b.u.n);
			return 0;
		}
		msg = "Cannot use + on something that is not a number with a number!";
		break;
	case QV_STR:
		if (b.k == QV_STR) {
			qstr *x = QSTR(a), *y = QSTR(b);
			if (!budget_allows(x->len + y->len))
				return run_error(R, at, AW_EINVALID, "ResourceLimit", "string longer than %u MiB",
					    (unsigned)(Q_MAX_LIVE_BYTES >> 20));
			*out = value_str(NULL, x->len + y->len);
			memcpy(QSTR(*out)->s, x->s, x->len);
			memcpy(QSTR(*out)->s + x->len, y->s, y->len);
			return 0;
		}
		msg = "Cannot use + on something that is not a string with a string!";
		break;
	case QV_LIST:
		if (b.k == QV_LIST) {
			qlist *x = QLIST(a), *y = QLIST(b), *l;
			size_t n = x->n + y->n;
			if (!x->n || !y->n) {
				*out = value_ref(!x->n ? b : a);
				return 0;
			}
			if (!budget_allows(n * sizeof(qev)) || n < x->n)
				return run_error(R, at, AW_EINVALID, "ResourceLimit", "list too long");
			if (x->isev && y->isev) {
				l = list_new_events(n);
				memcpy(l->ev, x->ev, x->n * sizeof(qev));
				memcpy(l->ev + x->n, y->ev, y->n * sizeof(qev));
			} else {
				l = list_new_items(n);
				for (size_t i = 0; i < x->n; i++)
					list_set_item(l, i, list_get(x, i));
				for (size_t i = 0; i < y->n; i++)
					list_set_item(l, x->n + i, list_get(y, i));
			}
			*out = value_obj(&l->h);
			return 0;
		}
		msg = "Cannot use + on something that is not a list with a list!";
		break;
	default:
		msg = "Cannot use + on something that is not a number, list or string!";
	}
	return run_error(R, at, AW_EINVALID, "InvalidType", "%s", msg);
}

/* aw-server-rust's query_eq: same-type comparison only; None == None is false. */
int query_eq(qrun *R, const qnode *at, qv a, qv b, bool *res)
{
	if (a.k == QV_NONE && b.k == QV_NONE) {
		*res = false;
		return 0;
	}
	if (a.k != b.k || a.k == QV_FUNC) {
		aw_buf x = AW_BUF_INIT, y = AW_BUF_INIT;
		value_debug(R, &x, a, 120);
		value_debug(R, &y, b, 120);
		run_error(R, at, AW_EINVALID, "InvalidType", "Cannot compare values of different types %s and %s",
		     x.data ? x.data : "", y.data ? y.data : "");
		aw_buf_free(&x);
		aw_buf_free(&y);
		return -1;
	}
	*res = value_equal(R, a, b);
	return R->rc ? -1 : 0;
}

static int binop(qrun *R, const qnode *n, qv a, qv b, qv *out)
{
	static const char *const opname[] = {"+", "-", "*", "/", "%", "=="};
	bool eq;

	switch (n->op) {
	case OP_ADD:
		return add_values(R, n, a, b, out);
	case OP_EQ:
		if (query_eq(R, n, a, b, &eq))
			return -1;
		*out = value_bool(eq);
		return 0;
	default:
		break;
	}
	if (a.k != QV_NUM || b.k != QV_NUM)
		return run_error(R, n, AW_EINVALID, "InvalidType", "Cannot use %s on something that is not a number!",
			    opname[n->op]);
	switch (n->op) {
	case OP_SUB: *out = value_num(a.u.n - b.u.n); break;
	case OP_MUL: *out = value_num(a.u.n * b.u.n); break;
	case OP_DIV:
		if (b.u.n == 0.0)
			return run_error(R, n, AW_EINVALID, "MathError", "Tried to divide by zero!");
		*out = value_num(a.u.n / b.u.n);
		break;
	case OP_MOD: *out = value_num(fmod(a.u.n, b.u.n)); break;
	}
	return 0;
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* AW_QUERY_TRACE=1 prints each built-in call's time and result size to stderr (read
 * once, in process_setup). */
static int trace_on;

static int trace_enabled(void)
{
	return trace_on;
}

/* The thread's CPU time: on a busy machine the wall time of a call also counts the time
 * the thread waited for a processor. */
static double thread_cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int call(qrun *R, const qnode *n, qv *out, int move_arg)
{
	double t0 = 0, c0 = 0;
	qv stack[8], *args = stack, f;
	size_t na = n->nkids, i;
	int rc = -1;
	const qbuiltin *b;

	if (na > 8)
		args = aw_mem_malloc(na * sizeof(qv));
	for (i = 0; i < na; i++) {
		const qnode *k = n->kids[i];
		if ((int)i == move_arg && R->def[k->slot]) {
			/* moved: the assignment that follows replaces the variable anyway */
			args[i] = R->env[k->slot];
			R->env[k->slot] = value_none();
			R->def[k->slot] = 0;
			continue;
		}
		if (eval(R, k, &args[i]))
			goto out;
	}
	if (!R->def[n->slot]) {
		run_error(R, n, AW_EINVALID, "VariableNotDefined", "%s", R->P->names[n->slot]);
		goto out;
	}
	f = R->env[n->slot];
	if (f.k != QV_FUNC) {
		run_error(R, n, AW_EINVALID, "InvalidType", "%s", R->P->names[n->slot]);
		goto out;
	}
	b = &builtin_table[f.u.fn];
	if ((int)na < b->min || (b->max >= 0 && (int)na > b->max)) {
		if (b->min == b->max)
			run_error(R, n, AW_EINVALID, "InvalidFunctionParameters", "Expected %d parameters in function, got %zu",
			     b->min, na);
		else if (b->max < 0) /* only awnode's own variadic functions need a minimum */
			run_error(R, n, AW_EINVALID, "InvalidFunctionParameters",
			     "Expected at least %d parameters in function %s, got %zu", b->min, b->name, na);
		else
			run_error(R, n, AW_EINVALID, "InvalidFunctionParameters",
			     "Expected %d or %d parameters in function, got %zu", b->min, b->max, na);
		goto out;
	}
	*out = value_none();
	if (trace_enabled()) {
		t0 = mono_ms();
		c0 = thread_cpu_ms();
	}
	rc = b->fn ? b->fn(R, n, args, na, out) : b->variant_fn(R, n, args, b->variant, out);
	if (trace_enabled())
		fprintf(stderr, "aw_query: %-24s line %3d: %8.3f ms -> %zu (cpu %.3f ms)\n", b->name, n->line,
			mono_ms() - t0, !rc && out->k == QV_LIST ? QLIST(*out)->n : (size_t)0, thread_cpu_ms() - c0);
	if (!rc && (check_budget(R, n) || depth_check(R, n, *out))) {
		rc = -1;
	}
	if (rc && !R->rc)
		run_error(R, n, AW_ERROR, "InternalError", "function %s failed", b->name);
out:
	while (i > 0)
		value_unref(args[--i]);
	if (args != stack)
		free(args);
	return rc;
}

/* ---- binary chains ------------------------------------------------------------------------
 * `a + b + c ...` parses into a left spine of N_BIN nodes as deep as the chain is long
 * (the nesting limit counts brackets only), so a chain is evaluated in a loop over its
 * spine, never by recursion. Its right operands nest at most Q_MAX_NEST deep.
 *
 * A `+` of strings or lists copies both sides, so a chain of n such operands would copy
 * O(n^2) bytes. While consecutive `+` keep joining strings (or lists), the chain appends
 * into one growing buffer instead; the value is the same as step by step. */

typedef struct chain {
	qv acc;        /* the value so far, unless a buffer is active */
	int mode;      /* 0: acc; 'S': sb holds a string; 'L': lb holds a list */
	char *sb;
	size_t slen, scap;
	qlb lb;
} chain;

/* Make acc the value so far. */
static void chain_settle(chain *c)
{
	if (c->mode == 'S') {
		c->acc = value_str(c->sb, c->slen);
		budget_free(c->sb, c->scap);
		c->sb = NULL;
		c->slen = c->scap = 0;
	} else if (c->mode == 'L') {
		c->acc = listbuf_finish(&c->lb);
	}
	c->mode = 0;
}

static void chain_free(chain *c)
{
	chain_settle(c);
	value_unref(c->acc);
	c->acc = value_none();
}

static bool str_append(chain *c, const char *s, size_t n)
{
	size_t need = c->slen + n, cap = c->scap ? c->scap : 64;

	if (need < c->slen || !budget_allows(need))
		return false;
	while (cap < need)
		cap *= 2;
	if (!budget_allows(cap - c->scap))
		cap = need; /* no headroom: exactly what fits, like a single `+` */
	if (cap != c->scap) {
		c->sb = c->sb ? budget_realloc(c->sb, c->scap, cap) : budget_alloc(cap);
		c->scap = cap;
	}
	memcpy(c->sb + c->slen, s, n);
	c->slen = need;
	return true;
}

static int too_long(qrun *R, const qnode *op, int k)
{
	if (k == QV_STR)
		return run_error(R, op, AW_EINVALID, "ResourceLimit", "string longer than %u MiB",
			    (unsigned)(Q_MAX_LIVE_BYTES >> 20));
	return run_error(R, op, AW_EINVALID, "ResourceLimit", "list too long");
}

/* Append a string or list value to the active buffer. */
static bool buf_append(chain *c, qv v)
{
	if (c->mode == 'S')
		return str_append(c, QSTR(v)->s, QSTR(v)->len);
	return listbuf_append(&c->lb, QLIST(v));
}

/* `acc + b` for two strings or two lists through the buffer; 1 = not such a pair. */
static int chain_append(qrun *R, chain *c, const qnode *op, qv b)
{
	int k = c->mode ? (c->mode == 'S' ? QV_STR : QV_LIST) : c->acc.k;

	if (op->op != OP_ADD || k != b.k || (k != QV_STR && k != QV_LIST))
		return 1;
	if (!c->mode) {
		bool ok;
		c->mode = k == QV_STR ? 'S' : 'L';
		if (c->mode == 'L')
			listbuf_init(&c->lb);
		ok = buf_append(c, c->acc);
		value_unref(c->acc); /* on failure the partial buffer is freed by chain_free */
		c->acc = value_none();
		if (!ok)
			return too_long(R, op, k);
	}
	if (!buf_append(c, b))
		return too_long(R, op, k);
	return 0;
}

/* One step `acc op b` (b is consumed). */
static int chain_step(qrun *R, chain *c, const qnode *op, qv b)
{
	qv r = value_none();
	int rc = chain_append(R, c, op, b);

	if (rc <= 0) {
		value_unref(b);
		return rc ? rc : check_budget(R, op);
	}
	chain_settle(c);
	rc = binop(R, op, c->acc, b, &r);
	value_unref(b);
	if (rc)
		return -1;
	value_unref(c->acc);
	c->acc = r;
	return check_budget(R, op);
}

static int eval_chain(qrun *R, const qnode *n, qv *out)
{
	const qnode *local[32], **spine = local, *k;
	size_t depth = 0, cap = 32;
	chain c = {.acc = value_none()};
	int rc = 0;

	for (k = n; k->kind == N_BIN; k = k->kids[0]) {
		if (depth == cap) {
			const qnode **bigger = aw_mem_malloc(2 * cap * sizeof(*spine));
			memcpy(bigger, spine, depth * sizeof(*spine));
			if (spine != local)
				free(spine);
			spine = bigger;
			cap *= 2;
		}
		spine[depth++] = k;
	}
	rc = eval(R, k, &c.acc);
	while (!rc && depth > 0) {
		const qnode *op = spine[--depth];
		qv b;
		rc = eval(R, op->kids[1], &b);
		if (!rc)
			rc = chain_step(R, &c, op, b);
	}
	if (spine != local)
		free(spine);
	if (rc) {
		chain_free(&c);
		return -1;
	}
	chain_settle(&c);
	*out = c.acc;
	return 0;
}

static int eval(qrun *R, const qnode *n, qv *out)
{
	qv a;
	int rc;

	*out = value_none();
	switch (n->kind) {
	case N_NUM:
		*out = value_num(n->num);
		return 0;
	case N_BOOL:
		*out = value_bool(n->num != 0);
		return 0;
	case N_STR:
		*out = value_ref(n->str);
		return 0;
	case N_VAR:
		if (!R->def[n->slot])
			return run_error(R, n, AW_EINVALID, "VariableNotDefined", "%s", R->P->names[n->slot]);
		*out = value_ref(R->env[n->slot]);
		return 0;
	case N_LIST:
	case N_DICT: {
		/* the elements in order; an error drops what was built */
		qlist *l = n->kind == N_LIST ? list_new_items(n->nkids) : NULL;
		qdict *d = l ? NULL : dict_new(n->nkids);
		qobj *o = l ? &l->h : &d->h;
		for (uint32_t i = 0; i < n->nkids; i++) {
			if (eval(R, n->kids[i], &a)) {
				value_unref(value_obj(o));
				return -1;
			}
			if (l) {
				list_set_item(l, i, a);
			} else {
				n->keys[i]->h.refs++;
				dict_put(d, n->keys[i], a);
			}
		}
		if (d)
			dict_finish(d);
		*out = value_obj(o);
		if (depth_check(R, n, *out)) {
			*out = value_none();
			return -1;
		}
		return 0;
	}
	case N_CALL:
		return call(R, n, out, -1);
	case N_BIN:
		return eval_chain(R, n, out);
	case N_ASSIGN:
		if (n->op == 1 ? call(R, n->kids[0], &a, (int)n->num) : eval(R, n->kids[0], &a))
			return -1;
		if (R->def[n->slot])
			value_unref(R->env[n->slot]);
		R->env[n->slot] = a;
		R->def[n->slot] = 1;
		return 0;
	case N_RETURN:
		if (eval(R, n->kids[0], &a))
			return -1;
		if (R->def[Q_SLOT_RETURN])
			value_unref(R->env[Q_SLOT_RETURN]);
		R->env[Q_SLOT_RETURN] = a;
		R->def[Q_SLOT_RETURN] = 1;
		return 0;
	case N_IF:
		for (uint32_t i = 0; i + 1 < n->nkids; i += 2) {
			bool yes;
			if (eval(R, n->kids[i], &a))
				return -1;
			rc = query_eq(R, n->kids[i], a, value_bool(true), &yes);
			value_unref(a);
			if (rc)
				return -1;
			if (yes)
				return eval(R, n->kids[i + 1], out);
		}
		return 0;
	case N_BLOCK:
		for (uint32_t i = 0; i < n->nkids; i++) {
			if (eval(R, n->kids[i], &a))
				return -1;
			value_unref(a);
		}
		return 0;
	}
	return 0;
}

/* ---- running ------------------------------------------------------------------------- */

static void env_clear(qrun *R)
{
	for (size_t i = 0; i < R->P->nslots; i++)
		if (R->def[i])
			value_unref(R->env[i]);
	memset(R->def, 0, R->P->nslots);
}

static void env_init(qrun *R, aw_ns start, aw_ns end)
{
	char a[AW_TIME_BUFSZ], b[AW_TIME_BUFSZ], ti[2 * AW_TIME_BUFSZ + 2];
	int n;

	for (size_t i = 0; i < builtin_count; i++) {
		R->env[i] = value_func((int)i);
		R->def[i] = 1;
	}
	aw_time_format_rfc3339(a, start);
	aw_time_format_rfc3339(b, end);
	n = snprintf(ti, sizeof(ti), "%s/%s", a, b);
	R->env[Q_SLOT_TIMEINTERVAL] = value_str(ti, (size_t)n);
	R->def[Q_SLOT_TIMEINTERVAL] = 1;
	R->start = start;
	R->end = end;
}

int aw_query_check(aw_query_error *err, const char *program, size_t program_len)
{
	qprog *P;

	memset(err, 0, sizeof(*err));
	budget_reset();
	P = parse_program(program, program_len, err);
	if (!P)
		return aw_error_set(AW_EINVALID, "%s", err->message);
	program_free(P);
	return 0;
}

/* Event arrays of a year of data are several MB each and short-lived: a year's summary
 * query allocates and drops dozens of them. Served by mmap, each one is faulted in page
 * by page and unmapped when dropped, and the next one faults again: a tenth or more of
 * that query's time. So they come from the (per-thread) arenas, which hand a dropped
 * array's pages to the next one, and only free space of more than TRIM at an arena's
 * top goes back on its own; the node gives the rest back after a job that used much
 * memory (docs/query.md, "How it is fast"). Fixed values rather than glibc's sliding
 * threshold, so that where a block comes from does not depend on what ran before. */
#define MMAP_THRESHOLD (32u << 20) /* glibc's largest */
#define TRIM_THRESHOLD (16u << 20)

static void process_setup(void)
{
	trace_on = aw_log_trace_on("AW_QUERY_TRACE");
	mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}

int aw_query_run(char **out, size_t *out_len, aw_query_error *err, aw_reader *r, const char *program,
		 size_t program_len, const aw_ns *period_starts, const aw_ns *period_ends, size_t n_periods)
{
	qrun R;
	qdata T;
	aw_buf res = AW_BUF_INIT;
	bool snap;
	int rc = 0;

	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, process_setup);
	*out = NULL;
	*out_len = 0;
	memset(err, 0, sizeof(*err));
	budget_reset();
	memset(&R, 0, sizeof(R));
	R.err = err;
	R.r = r;
	R.P = parse_program(program, program_len, err);
	if (!R.P)
		return aw_error_set(AW_EINVALID, "%s", err->message);
	data_init(&T, r);
	R.T = &T;
	R.env = aw_mem_calloc(R.P->nslots, sizeof(qv));
	R.def = aw_mem_calloc(R.P->nslots, 1);
	regex_run_init(&R);
	snap = aw_reader_begin(r) == 0;

	aw_buf_putc(&res, '[');
	for (size_t p = 0; p < n_periods && !rc; p++) {
		env_init(&R, period_starts[p], period_ends[p]);
		if (eval(&R, R.P->root, &(qv){0}) || check_budget(&R, NULL)) {
			rc = -1;
		} else if (!R.def[Q_SLOT_RETURN]) {
			run_error(&R, NULL, AW_EINVALID, "EmptyQuery", NULL);
			rc = -1;
		} else {
			if (p)
				aw_buf_putc(&res, ',');
			if (!value_to_json(&R, &res, R.env[Q_SLOT_RETURN]))
				rc = -1;
			else if (T.err)
				rc = run_error(&R, NULL, AW_ERROR, "InternalError", "reading event data: %s", T.errmsg);
		}
		env_clear(&R);
	}
	aw_buf_putc(&res, ']');

	if (snap)
		aw_reader_end(r);
	regex_release_all(&R);
	aw_buf_free(&R.scratch);
	if (R.buckets)
		aw_buckets_free(R.buckets, R.nbuckets);
	free(R.env);
	free(R.def);
	data_free(&T);
	program_free(R.P);
	if (rc) {
		aw_buf_free(&res);
		if (!R.rc) {
			err->code = AW_ERROR;
			snprintf(err->message, sizeof(err->message), "InternalError");
		}
		return aw_error_set(err->code, "%s", err->message);
	}
	*out = aw_buf_steal(&res, out_len);
	return 0;
}

int aw_query_run_path(char **out, size_t *out_len, aw_query_error *err, const char *db_path,
		      const char *program, size_t program_len, const aw_ns *period_starts,
		      const aw_ns *period_ends, size_t n_periods)
{
	aw_reader *r;
	int rc;

	*out = NULL;
	*out_len = 0;
	memset(err, 0, sizeof(*err));
	if (aw_reader_open_path(&r, db_path)) {
		err->code = AW_ERROR;
		snprintf(err->message, sizeof(err->message), "%s", aw_error_last());
		return AW_ERROR;
	}
	rc = aw_query_run(out, out_len, err, r, program, program_len, period_starts, period_ends, n_periods);
	aw_reader_close(r);
	return rc;
}
