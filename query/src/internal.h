/*
 * Private interfaces of the query engine.
 *
 *   parser.c            lexer and parser: text -> AST (qnode), identifiers interned to
 *                       environment slots
 *   value.c             refcounted values (qv), equality, JSON output, debug rendering
 *   data.c              the data table: every distinct event data object of a run, by index
 *   interp.c            evaluation, errors, aw_query_run
 *   builtins.c          the function table and argument conversion
 *   transform.c         flood, filter_period_intersect, period_union, ... on qev arrays
 *   classify.c          PCRE2 regex cache, rules, categorize, tag
 *   re_classes.c        regex classes (POSIX, \w, \s, \b) as aw-server-rust defines them
 *   url.c               WHATWG URL parsing for split_url_events
 *
 * Values are immutable once built and shared by reference counting; aw-server-rust's
 * "deep copy on every variable reference" is therefore implicit. Nothing is mutated in
 * place, so sharing is unobservable.
 */
#ifndef AW_QUERY_INTERNAL_H
#define AW_QUERY_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/buf.h"
#include "aw/query.h"
#include "aw/storage.h"
#include "aw/time.h"

/* ---- limits ------------------------------------------------------------------- */

#define Q_MAX_NEST 200              /* syntactic nesting depth (parens, lists, calls, ifs) */
#define Q_MAX_TOKENS 1000000        /* tokens of a program (bounds parser memory, ~150 MB) */
#define Q_MAX_VALUE_DEPTH 256       /* nesting depth of list/dict values */
#define Q_MAX_LIVE_BYTES (256u << 20) /* live value memory of one run */
#define Q_MAX_OUTPUT_BYTES (256u << 20)
#define Q_MAX_WORK 50000000ull     /* element steps of deep comparisons / conversions */

/* ---- events ---------------------------------------------------------------------- */

#define QID_NULL INT64_MIN

typedef struct qev {
	aw_ns start;
	aw_ns dur;
	int64_t id;     /* QID_NULL = no id (serialised as null) */
	uint32_t data;  /* index into the run's data table */
	uint32_t pad;
} qev;

static inline aw_ns qev_end(const qev *e)
{
	return aw_ns_add_sat(e->start, e->dur);
}

/* ---- data table ---------------------------------------------------------------- */

enum { QJ_STR = 's', QJ_NUM = 'n', QJ_OBJ = 'o', QJ_ARR = 'a', QJ_TRUE = 't', QJ_FALSE = 'f', QJ_NULL = 'z' };

typedef struct qfield {
	uint32_t koff, klen;  /* key body (escaped, without quotes) */
	uint32_t voff, vlen;  /* value text */
	uint8_t kesc;         /* key contains a backslash escape */
	uint8_t vtype;        /* QJ_* */
	uint8_t vesc;         /* string value contains a backslash escape */
} qfield;

/* A top-level field of a data object: key and value text (canonical JSON). For text
 * entries the key is the escaped body (kesc says whether it has escapes); overlay keys
 * are raw bytes (kesc 0). */
typedef struct qfv {
	const char *k;
	const char *v;
	uint32_t klen, vlen;
	uint8_t kesc, vtype, vesc;
} qfv;

enum { QD_STORED = 1, QD_TEXT, QD_OVERLAY };

typedef struct qdent {
	const char *json;  /* canonical JSON text of an object; NULL until fetched/built */
	uint32_t len;
	uint32_t n;        /* parsed fields (stored/text) or overlay fields */
	void *x;           /* qfield[] (stored/text, once parsed) or qfv[] + bytes (overlay) */
	int64_t ref;       /* storage data id (stored) or root entry index (overlay) */
	uint8_t kind;      /* QD_* */
	uint8_t owned;     /* json is ours, else borrowed from the reader cache */
	uint8_t parsed;
} qdent;

#define QD_F(d) ((qfield *)(d)->x)
#define QD_OV(d) ((qfv *)(d)->x)

typedef struct qdata {
	aw_reader *r;
	qdent *e;
	size_t n, cap;
	/* storage id -> index (open addressing, key 0 = empty) */
	int64_t *sid_k;
	uint32_t *sid_v;
	size_t sid_cap, sid_n;
	/* created text or overlay signature -> index+1 */
	uint32_t *tx;
	size_t tx_cap, tx_n;
	qfv *fv;           /* scratch for qd_fields */
	size_t pf_from;    /* entries before this index were considered for prefetching */
	void *urls;        /* split_url_events' URL cache (transform.c) */
	void (*urls_free)(void *);
	size_t fv_cap;
	int err;           /* sticky storage error (AW_E*) */
	char errmsg[200];
} qdata;

uint64_t q_hash(const void *p, size_t n);
void qd_init(qdata *T, aw_reader *r);
void qd_free(qdata *T);
uint32_t qd_from_sid(qdata *T, int64_t sid);
/* Intern a canonical JSON object text (copied). */
uint32_t qd_intern(qdata *T, const char *json, size_t len);
/* Ensure the text is available; returns 0 or AW_E* (T->err set, text becomes "{}"). */
int qd_load(qdata *T, uint32_t i);
const char *qd_text(qdata *T, uint32_t i, size_t *len);
/* A top-level field by (unescaped) key. */
bool qd_field(qdata *T, uint32_t i, const char *key, size_t klen, qfv *out);
/* All top-level fields (any order) in a scratch array valid until the next call. */
size_t qd_fields(qdata *T, uint32_t i, qfv **out);
bool qd_eq(qdata *T, uint32_t a, uint32_t b);
/* Entry `base` with the given (unescaped) top-level keys set to the given canonical JSON
 * value texts (replacing existing keys). Returns the (interned) overlay entry. */
uint32_t qd_with(qdata *T, uint32_t base, size_t n, const char *const *keys, const size_t *klens,
		 const char *const *vals, const size_t *vlens);
/* Decode a JSON string body (without quotes) into buf; returns pointer to the
 * unescaped bytes (buf->data or the raw text when there are no escapes). */
const char *qj_unescape(const char *raw, size_t len, bool esc, aw_buf *buf, size_t *outlen);

/* ---- values ---------------------------------------------------------------------- */

enum { QV_NONE, QV_BOOL, QV_NUM, QV_STR, QV_EVENT, QV_LIST, QV_DICT, QV_FUNC };

typedef struct qobj {
	uint32_t refs;
	uint8_t kind;
	uint8_t uneq;   /* contains NaN or a function: may compare unequal to itself */
	uint16_t depth; /* nesting depth (1 for leaves) */
} qobj;

typedef struct qv {
	uint8_t k;
	union {
		int b;
		double n;
		qobj *o;
		int fn;
	} u;
} qv;

typedef struct qstr {
	qobj h;
	size_t len;
	char s[];
} qstr;

typedef struct qevo {
	qobj h;
	qev ev;
} qevo;

typedef struct qlist {
	qobj h;
	size_t n;
	bool isev;      /* compact: every element is an event, stored in ev[] */
	qev *ev;
	qv *it;
} qlist;

/* Keys are distinct and, once qdict_finish ran, sorted (bytewise, shorter first on a
 * common prefix): the order the result prints them in, and what qdict_get searches. */
typedef struct qdict {
	qobj h;
	size_t n, cap;
	qstr **keys;
	qv *vals;
} qdict;

#define QSTR(v) ((qstr *)(v).u.o)
#define QLIST(v) ((qlist *)(v).u.o)
#define QDICT(v) ((qdict *)(v).u.o)
#define QEVO(v) ((qevo *)(v).u.o)

static inline qv qv_none(void) { qv v; v.k = QV_NONE; v.u.n = 0; return v; }
static inline qv qv_bool(bool b) { qv v; v.k = QV_BOOL; v.u.n = 0; v.u.b = b; return v; }
static inline qv qv_num(double n) { qv v; v.k = QV_NUM; v.u.n = n; return v; }
static inline qv qv_func(int fn) { qv v; v.k = QV_FUNC; v.u.n = 0; v.u.fn = fn; return v; }
static inline qv qv_obj(qobj *o) { qv v; v.k = o->kind; v.u.o = o; return v; }
static inline bool qv_isobj(qv v) { return v.k == QV_STR || v.k == QV_EVENT || v.k == QV_LIST || v.k == QV_DICT; }

/* Live-memory accounting of the current thread's run (0 = unlimited outside a run). */
void *q_alloc(size_t n);                 /* zeroed; aborts on OOM */
void *q_realloc(void *p, size_t old, size_t n);
void q_free(void *p, size_t n);
bool q_over_budget(void);
bool q_budget_allows(size_t extra);      /* would `extra` more bytes stay within budget? */
void q_acct_reset(void);
void q_acct_release(size_t n);           /* memory handed over outside the accounting */

qv qv_str(const char *s, size_t len);
qv qv_event(const qev *e);
qlist *ql_new_ev(size_t n);               /* compact list with n uninitialised events */
qlist *ql_new_items(size_t n);            /* generic list with n NONE items */
void ql_set_item(qlist *l, size_t i, qv v); /* takes ownership; updates depth/uneq */
void ql_shrink_ev(qlist *l, size_t n);    /* truncate a compact list to n */
qdict *qdict_new(size_t cap);
/* Append a key (takes ownership of the key reference and of v). The key must not be in
 * the dict yet: dict literals are deduplicated by the parser. */
void qdict_put(qdict *d, qstr *key, qv v);
qv *qdict_get(qdict *d, const char *key, size_t len); /* only after qdict_finish */
void qdict_finish(qdict *d);              /* sort the keys, compute depth/uneq */

/* A list being built by appending whole lists (a chain `a + b + c ...`), in amortised
 * linear time instead of one copy per `+`. Memory is accounted like list memory. */
typedef struct qlb {
	qev *ev;        /* while every appended list was compact */
	qv *it;         /* otherwise (owned references) */
	size_t n, cap;
	bool isev;
} qlb;
void qlb_init(qlb *b);
/* Append l's elements. False (nothing appended) when the result would not fit in the
 * memory budget. */
bool qlb_append(qlb *b, qlist *l);
/* The built list (new reference); b is empty afterwards. */
qv qlb_finish(qlb *b);
void qlb_free(qlb *b);

static inline qv qv_ref(qv v)
{
	if (qv_isobj(v))
		v.u.o->refs++;
	return v;
}
void qv_unref(qv v);

/* Element i of a list as a value (new reference). */
qv ql_get(qlist *l, size_t i);
/* Language equality (PartialEq of aw-server-rust; top-level None==None handled by caller). */
typedef struct qrun qrun;
bool qv_equal(qrun *R, qv a, qv b);
/* Write aw-server-rust's JSON form of v. Returns false on a function value or output limit. */
bool qv_to_json(qrun *R, aw_buf *out, qv v);
/* Short Rust-Debug-like rendering for error messages. */
void qv_debug(qrun *R, aw_buf *out, qv v, size_t maxlen);

/* Print seconds (from ns) exactly like serde_json prints ns/1e9 as f64. */
size_t q_fmt_secs(char *buf, aw_ns ns);

/* ---- AST --------------------------------------------------------------------------- */

enum {
	N_NUM, N_STR, N_BOOL, N_VAR, N_LIST, N_DICT, N_CALL, N_BIN, N_ASSIGN, N_RETURN, N_IF, N_BLOCK
};
enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_EQ };

typedef struct qnode qnode;
struct qnode {
	uint8_t kind;
	uint8_t op;
	int line, col;
	int slot;        /* N_VAR, N_CALL (function name), N_ASSIGN (target) */
	double num;      /* N_NUM; N_BOOL uses num != 0 */
	qv str;          /* N_STR literal (owned by the program) */
	qnode **kids;
	uint32_t nkids;
	qstr **keys;     /* N_DICT: keys[i] for kids[i] */
};

/* Open-addressing index over an array of strings kept elsewhere: entry index + 1 per
 * position, 0 = empty; capacity a power of two, at most half full. */
typedef struct qstrix {
	uint32_t *t;
	size_t cap;
} qstrix;

typedef struct qprog {
	qnode *root;            /* N_BLOCK */
	char **names;           /* slot -> identifier */
	size_t *name_lens;
	size_t nslots, cap_slots;
	qstrix slot_ix;         /* identifier -> slot */
	qv *strs;               /* string literals (released with the program) */
	size_t nstrs;
	/* arena */
	void **blocks;
	size_t nblocks;
	char *cur;
	size_t avail;
} qprog;

/* Parse; on error fills err (status 400) and returns NULL. */
qprog *q_parse(const char *src, size_t len, aw_query_error *err);
void q_prog_free(qprog *p);
int q_prog_slot(qprog *p, const char *name, size_t len); /* intern */

/* ---- interpreter ------------------------------------------------------------------- */

typedef struct qre qre;

struct qrun {
	aw_reader *r;
	qdata *T;
	qprog *P;
	qv *env;
	uint8_t *def;
	aw_query_error *err;
	int rc;                 /* AW_E* of the error */
	uint64_t work;
	aw_ns start, end;       /* current period */
	/* buckets, loaded on first need */
	aw_bucket *buckets;
	size_t nbuckets;
	bool have_buckets;
	/* regexes referenced by this run (released at the end) */
	qre **res;
	size_t nres, capres;
	void *mctx, *mdata, *jstack; /* pcre2 match context / data / JIT stack */
	aw_buf scratch;
};

/* Error reporting: fill R->err with "<Kind>(<detail>) at line L, column C".
 * Returns -1 for convenient `return qerr(...)`. */
int qerr(qrun *R, const qnode *at, int status, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int qerr_internal(qrun *R, const qnode *at, int code, const char *what);
bool q_work(qrun *R, uint64_t steps); /* false (and error set) past the work limit */

/* ---- built-ins ---------------------------------------------------------------------- */

typedef int (*qbuiltin_fn)(qrun *R, const qnode *call, qv *args, size_t n, qv *out);
typedef struct qbuiltin {
	const char *name;
	qbuiltin_fn fn;
	int min, max;  /* arity; max -1 = any */
} qbuiltin;
extern const qbuiltin q_builtins[];
extern const size_t q_nbuiltins;
#define Q_SLOT_TIMEINTERVAL ((int)q_nbuiltins)
#define Q_SLOT_RETURN ((int)q_nbuiltins + 1)

/* ---- transforms (transform.c) --------------------------------------------------------
 * Inputs are never modified; outputs are freshly malloc'ed (caller frees). */

void qt_sort_by_timestamp(qev *ev, size_t n);  /* in place, stable */
/* rows in (start, id) ascending order -> newest first, ties shorter first then lower id */
void qt_storage_order(qev *ev, size_t n);
void qt_sort_by_duration(qev *ev, size_t n);   /* in place, stable, descending */
size_t qt_flood(qdata *T, qev *ev, size_t n, aw_ns pulsetime); /* in place on a copy */
qev *qt_filter_period_intersect(const qev *ev, size_t n, const qev *fv, size_t fn, size_t *nout);
qev *qt_period_union(qdata *T, const qev *a, size_t na, const qev *b, size_t nb, size_t *nout);
qev *qt_union_no_overlap(const qev *a, size_t na, const qev *b, size_t nb, size_t *nout);
/* keys: unescaped key strings */
qev *qt_merge_by_keys(qdata *T, const qev *ev, size_t n, const char *const *keys,
		      const size_t *klens, size_t nkeys, size_t *nout);
qev *qt_chunk_by_key(qdata *T, const qev *ev, size_t n, const char *key, size_t klen, size_t *nout);
/* vals: canonical JSON texts; exclude = exclude_keyvals */
/* Functions taking `out` write their result there when it is non-NULL (it may be `ev`
 * itself: results are written in input order, never ahead of the input). */
qev *qt_filter_keyvals(qdata *T, const qev *ev, size_t n, qev *out, const char *key, size_t klen,
		       const char *const *vals, const size_t *vlens, size_t nvals, bool exclude,
		       size_t *nout);
qev *qt_split_url(qdata *T, const qev *ev, size_t n, qev *out, size_t *nout);

/* ---- classify.c ------------------------------------------------------------------------- */

/* Compile (or fetch from the process-wide cache) a regex; the run keeps a reference
 * until it ends. NULL with *msg set on a compile error. */
qre *q_regex(qrun *R, const char *pat, size_t len, bool icase, aw_buf *msg);
/* 1 match, 0 no match (also for match-limit and other runtime errors, and invalid
 * UTF-8), -1 when the run keeps hitting the backtracking limit (error set). */
int q_regex_match(qrun *R, qre *re, const char *s, size_t len);
/* Same for a subject already known to be valid UTF-8. */
int q_regex_match_valid(qrun *R, qre *re, const char *s, size_t len);
bool q_utf8_valid(const char *s, size_t n);
/* Replace the first (or every) match of re in s by rep; returns new length in out. */
bool q_regex_replace(qrun *R, qre *re, const char *s, size_t len, const char *rep, bool global,
		     aw_buf *out);
void q_regex_release_all(qrun *R);
/* Append pat to out with its classes ([[:alpha:]], \w, \s, \b, ...) written as the sets
 * aw-server-rust uses (re_classes.c). True when something was rewritten. */
bool q_regex_classes(const char *pat, size_t len, aw_buf *out);
void q_regex_run_init(qrun *R);

typedef struct qrule {
	int type;           /* 0 none, 1 regex */
	qre *re;
	char **keys;        /* select_keys (unescaped), NULL = all top-level strings */
	size_t *klens;
	size_t nkeys;
} qrule;

/* Parse a rule dict (categorize/tag rules, docs/query.md). Returns 0 or -1 with error set at `at`. */
int q_rule_parse(qrun *R, const qnode *at, qv v, qrule *out);
void q_rule_free(qrule *r);
/* categorize: cats[i] = JSON text of the category array; depth[i] = path length */
qev *qc_categorize(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *cats,
		   const size_t *catlens, const size_t *depth, size_t nrules, size_t *nout);
qev *qc_tag(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *tags,
	    const size_t *taglens, size_t nrules, size_t *nout);
qev *qc_filter_regex(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen, qre *re,
		     size_t *nout);
qev *qc_simplify_titles(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen,
			size_t *nout);

/* ---- url.c -------------------------------------------------------------------------------- */

typedef struct qurl {
	aw_buf scheme, host, path, query;
	bool has_host;  /* a non-empty host */
} qurl;
void qurl_init(qurl *u);
void qurl_free(qurl *u);
/* WHATWG "basic URL parser" without a base; false on failure. */
bool qurl_parse(qurl *u, const char *s, size_t len);

#endif
