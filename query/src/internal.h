/*
 * Private interfaces of the query engine, shared by its .c files (the public API is
 * aw/query.h; the `awnode query` command is node/cli/query.c). Errors follow core's
 * convention: negative AW_E* codes (aw/error.h), the message in aw_query_error.
 *
 *   parser.c            lexer and parser: text -> AST (qnode), identifiers interned to
 *                       environment slots
 *   value.c             refcounted values (qv), equality, JSON output, debug rendering
 *   data.c              the data table: every distinct event data object of a run, by index
 *   interp.c            evaluation, errors, aw_query_run, aw_query_run_path
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
#include <string.h>

#include "aw/buf.h"
#include "aw/hash.h"
#include "aw/mem.h"
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

static inline aw_ns event_end(const qev *e)
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
	void *x;           /* qfield[] (stored/text, once parsed) or qfv[] + bytes (overlay), in
	                    * the table's arena; an overlay's qfv[] may be shared by many entries */
	int64_t ref;       /* storage data id (stored) or root entry index (overlay) */
	uint8_t kind;      /* QD_* */
	uint8_t owned;     /* json is ours, else borrowed from the reader cache */
	uint8_t parsed;
	uint8_t dollar;    /* parsed text with a key starting with '$' (a transform's field) */
} qdent;

#define QD_F(d) ((qfield *)(d)->x)
#define QD_OV(d) ((qfv *)(d)->x)

typedef struct qdata {
	aw_reader *r;
	qdent *e;
	size_t n, cap;
	/* storage id -> index. Storage numbers data values 1, 2, 3, ..., so the ids a run
	 * meets come in dense ranges: pages of QSID_PAGE slots (index + 1, 0 = none) indexed
	 * directly by id, while they stay dense (data.c, sid_page). Ids of pages refused
	 * for being too sparse, and ids out of the pages' range, go to an open-addressing
	 * table (sid 0 = empty; id and index side by side: one cache line per look-up). */
	uint32_t **sidpg;
	size_t sidpg_n, sidpg_used;
	struct qsid { int64_t sid; uint32_t i; } *sid;
	size_t sid_cap, sid_n;
	/* created text or overlay signature -> index+1 */
	uint32_t *tx;
	size_t tx_cap, tx_n;
	qfv *fv;           /* scratch for data_fields */
	/* arena of the entries' field arrays (freed with the table): one bump allocation
	 * each instead of a malloc per distinct data value */
	void *arena;       /* current block; each block starts with a link to the previous one */
	size_t arena_used, arena_cap;
	size_t pf_from;    /* entries before this index were considered for prefetching */
	void *urls;        /* split_url_events' URL cache (transform.c) */
	void (*urls_free)(void *);
	void *keycols;     /* merge_events_by_keys' values per key (transform.c) */
	void (*keycols_free)(void *);
	size_t fv_cap;
	int err;           /* sticky storage error (AW_E*) */
	char errmsg[200];
} qdata;

/* n zeroed elements of size sz, for tables that are probed (read) before they are
 * written: calloc's fresh pages would fault twice each (mapped as the shared zero page
 * on the first read, copied on the first write); writing the zeros faults them once. */
static inline void *zalloc_table(size_t n, size_t sz)
{
	size_t bytes = n * sz;
	void *p = aw_mem_malloc(bytes ? bytes : 1);

	memset(p, 0, bytes);
	return p;
}

/* Open-addressing tables hold entry index + 1 per slot (0 = empty), probed linearly
 * from hash & (cap - 1), cap a power of two. Replace *slot by a table of nc slots with
 * the same entries, re-placed by hashes[index]; *cap becomes nc. */
void slots_grow(uint32_t **slot, size_t *cap, const uint64_t *hashes, size_t nc);
/* Home slot of a storage id in the table's id index. */
static inline size_t sid_hash(int64_t sid)
{
	return (size_t)(((uint64_t)sid * 0x9E3779B97F4A7C15ULL) >> 17);
}

#define QSID_SHIFT 12
#define QSID_PAGE ((size_t)1 << QSID_SHIFT)
/* ids from here on are always in the table, so the array of pages stays within 128 KB */
#define QSID_MAX ((int64_t)1 << 26)

/* The page of a range of ids refused for being too sparse: its ids stay in the table
 * (data.c, sid_page). */
extern uint32_t qsid_refused[1];

/* Ask for sid's slot ahead of data_from_sid (a look-up per event read otherwise waits
 * for memory when the slot is in the table: its slots are scattered over megabytes). */
static inline void data_sid_prefetch(const qdata *T, int64_t sid)
{
	size_t p = (size_t)((uint64_t)sid >> QSID_SHIFT);

	if (sid > 0 && p < T->sidpg_n && T->sidpg[p] && T->sidpg[p] != qsid_refused)
		__builtin_prefetch(&T->sidpg[p][(size_t)sid & (QSID_PAGE - 1)]);
	else if (T->sid_cap)
		__builtin_prefetch(&T->sid[sid_hash(sid) & (T->sid_cap - 1)]);
}

void data_init(qdata *T, aw_reader *r);
void data_free(qdata *T);
uint32_t data_from_sid(qdata *T, int64_t sid);
/* Intern a canonical JSON object text (copied). */
uint32_t data_intern(qdata *T, const char *json, size_t len);
/* Ensure the text is available; returns 0 or AW_E* (T->err set, text becomes "{}"). */
int data_load(qdata *T, uint32_t i);
const char *data_text(qdata *T, uint32_t i, size_t *len);
/* A top-level field by (unescaped) key. */
bool data_field(qdata *T, uint32_t i, const char *key, size_t klen, qfv *out);
/* Whether entry i may have a key starting with '$' (false: it has none of the fields the
 * transforms add, so they need not look for them). */
bool data_may_have_dollar(qdata *T, uint32_t i);
/* All top-level fields (any order) in a scratch array valid until the next call. */
size_t data_fields(qdata *T, uint32_t i, qfv **out);
bool data_eq(qdata *T, uint32_t a, uint32_t b);
/* Entry `base` with the given (unescaped) top-level keys set to the given canonical JSON
 * value texts (replacing existing keys). Returns the (interned) overlay entry. */
uint32_t data_with(qdata *T, uint32_t base, size_t n, const char *const *keys, const size_t *klens,
		 const char *const *vals, const size_t *vlens);
/* The same fields as a qfv array to share between entries (data_with_shared): sorted by
 * key, keys distinct, everything in the table's arena so it lives as long as the table. */
qfv *data_fields_new(qdata *T, size_t n, const char *const *keys, const size_t *klens,
		     const char *const *vals, const size_t *vlens, size_t *nout);
/* data_with for fields from data_fields_new: when base is not an overlay, the new entry
 * points at ov instead of copying it (a few bytes per distinct input instead of the
 * fields' text each time). */
uint32_t data_with_shared(qdata *T, uint32_t base, const qfv *ov, size_t n);
/* n bytes (8-aligned) that live as long as the table. */
void *data_arena_alloc(qdata *T, size_t n);
/* Decode a JSON string body (without quotes) into buf; returns pointer to the
 * unescaped bytes (buf->data or the raw text when there are no escapes). */
const char *json_body_unescape(const char *raw, size_t len, bool esc, aw_buf *buf, size_t *outlen);

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

/* Keys are distinct and, once dict_finish ran, sorted (bytewise, shorter first on a
 * common prefix): the order the result prints them in, and what dict_get searches. */
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

static inline qv value_none(void) { qv v; v.k = QV_NONE; v.u.n = 0; return v; }
static inline qv value_bool(bool b) { qv v; v.k = QV_BOOL; v.u.n = 0; v.u.b = b; return v; }
static inline qv value_num(double n) { qv v; v.k = QV_NUM; v.u.n = n; return v; }
static inline qv value_func(int fn) { qv v; v.k = QV_FUNC; v.u.n = 0; v.u.fn = fn; return v; }
static inline qv value_obj(qobj *o) { qv v; v.k = o->kind; v.u.o = o; return v; }
static inline bool value_isobj(qv v) { return v.k == QV_STR || v.k == QV_EVENT || v.k == QV_LIST || v.k == QV_DICT; }

/* Live-memory accounting of the current thread's run (0 = unlimited outside a run). */
void *budget_alloc(size_t n);                 /* zeroed; aborts on OOM */
void *budget_realloc(void *p, size_t old, size_t n);
void budget_free(void *p, size_t n);
bool budget_exceeded(void);
bool budget_allows(size_t extra);      /* would `extra` more bytes stay within budget? */
void budget_reset(void);
void budget_release(size_t n);           /* memory handed over outside the accounting */

qv value_str(const char *s, size_t len);
qv value_event(const qev *e);
qlist *list_new_events(size_t n);               /* compact list with n uninitialised events */
qlist *list_new_items(size_t n);            /* generic list with n NONE items */
void list_set_item(qlist *l, size_t i, qv v); /* takes ownership; updates depth/uneq */
void list_shrink_events(qlist *l, size_t n);    /* truncate a compact list to n */
qdict *dict_new(size_t cap);
/* Append a key (takes ownership of the key reference and of v). The key must not be in
 * the dict yet: dict literals are deduplicated by the parser. */
void dict_put(qdict *d, qstr *key, qv v);
qv *dict_get(qdict *d, const char *key, size_t len); /* only after dict_finish */
void dict_finish(qdict *d);              /* sort the keys, compute depth/uneq */
/* Bytewise order, the shorter first on a common prefix: the order of dict keys, of data
 * object keys and of tags. */
int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* A list being built by appending whole lists (a chain `a + b + c ...`), in amortised
 * linear time instead of one copy per `+`. Memory is accounted like list memory. */
typedef struct qlb {
	qev *ev;        /* while every appended list was compact */
	qv *it;         /* otherwise (owned references) */
	size_t n, cap;
	bool isev;
} qlb;
void listbuf_init(qlb *b);
/* Append l's elements. False (nothing appended) when the result would not fit in the
 * memory budget. */
bool listbuf_append(qlb *b, qlist *l);
/* The built list (new reference); b is empty afterwards. */
qv listbuf_finish(qlb *b);
void listbuf_free(qlb *b);

static inline qv value_ref(qv v)
{
	if (value_isobj(v))
		v.u.o->refs++;
	return v;
}
void value_unref(qv v);

/* Element i of a list as a value (new reference). */
qv list_get(qlist *l, size_t i);
/* Language equality (PartialEq of aw-server-rust; top-level None==None handled by caller). */
typedef struct qrun qrun;
bool value_equal(qrun *R, qv a, qv b);
/* Write aw-server-rust's JSON form of v. Returns false on a function value or output limit. */
bool value_to_json(qrun *R, aw_buf *out, qv v);
/* Short Rust-Debug-like rendering for error messages. */
void value_debug(qrun *R, aw_buf *out, qv v, size_t maxlen);

/* Print seconds (from ns) exactly like serde_json prints ns/1e9 as f64. */
size_t format_secs(char *buf, aw_ns ns);

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

/* Parse; on error fills err (code AW_EINVALID) and returns NULL. */
qprog *parse_program(const char *src, size_t len, aw_query_error *err);
void program_free(qprog *p);
int program_slot(qprog *p, const char *name, size_t len); /* intern */

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

/* Error reporting: fill R->err with "<Kind>(<detail>) at line L, column C" and `code`
 * (AW_EINVALID, AW_ENOTFOUND or AW_ERROR); the first error of a run wins. Returns -1
 * for convenient `return run_error(...)`. */
int run_error(qrun *R, const qnode *at, int code, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* A storage failure (code from the storage module): an unknown bucket is a
 * BucketQueryError (AW_ENOTFOUND), anything else an InternalError (AW_ERROR). */
int run_error_storage(qrun *R, const qnode *at, int code, const char *what);
bool count_work(qrun *R, uint64_t steps); /* false (and error set) past the work limit */
/* The language's `==` (aw-server-rust's query_eq): values of different types are an
 * InvalidType error, None == None is false. *res gets the answer; returns 0 or -1. */
int query_eq(qrun *R, const qnode *at, qv a, qv b, bool *res);

/* ---- built-ins ---------------------------------------------------------------------- */

typedef int (*qbuiltin_fn)(qrun *R, const qnode *call, qv *args, size_t n, qv *out);
/* For functions that are one implementation with a switch (sort_by_duration and
 * sort_by_timestamp, categorize and tag, ...): called with the entry's `variant`. */
typedef int (*qbuiltin_variant_fn)(qrun *R, const qnode *call, qv *args, int variant, qv *out);
typedef struct qbuiltin {
	const char *name;
	qbuiltin_fn fn;                 /* NULL: variant_fn */
	int min, max;                   /* arity; max -1 = any */
	qbuiltin_variant_fn variant_fn;
	int variant;
} qbuiltin;
extern const qbuiltin builtin_table[];
extern const size_t builtin_count;
#define Q_SLOT_TIMEINTERVAL ((int)builtin_count)
#define Q_SLOT_RETURN ((int)builtin_count + 1)

/* ---- transforms (transform.c) --------------------------------------------------------
 * Inputs are never modified; outputs are freshly malloc'ed (caller frees). */

/* What a transform decides for one data index: a data index (map_data) or 1 keep, 0 drop
 * (filter_data); -1 for an error, which the function has reported. */
typedef int64_t (*qdata_fn)(void *ctx, uint32_t d);
/* The events with their data replaced by fn's answer, fn called once per distinct data
 * value; or (filter_data) the events whose data keep answers 1 for. The result is `out`
 * when non-NULL (it may be ev: written in input order) else new; NULL on an error (a new
 * result is freed). */
qev *map_data(qdata *T, const qev *ev, size_t n, qev *out, qdata_fn fn, void *ctx, size_t *nout);
qev *filter_data(qdata *T, const qev *ev, size_t n, qev *out, qdata_fn keep, void *ctx, size_t *nout);

void sort_by_timestamp(qev *ev, size_t n);  /* in place, stable */
/* rows in (start, id) ascending order -> newest first, ties shorter first then lower id */
void storage_order(qev *ev, size_t n);
void sort_by_duration(qev *ev, size_t n);   /* in place, stable, descending */
size_t flood_events(qdata *T, qev *ev, size_t n, aw_ns pulsetime); /* in place on a copy */
/* own: NULL, or ev itself when the caller gives it up (it is then reused or freed) */
qev *filter_period_intersect(const qev *ev, size_t n, qev *own, const qev *fv, size_t fn, size_t *nout);
qev *period_union(qdata *T, const qev *a, size_t na, const qev *b, size_t nb, size_t *nout);
qev *union_no_overlap(const qev *a, size_t na, const qev *b, size_t nb, size_t *nout);
/* Every moment any of the nlists lists covers, owned by exactly one event (the latest
 * started; ties: earlier list, then earlier position): pieces in time order, never
 * overlapping; zero-length events dropped; inputs need not be sorted. */
qev *union_exact(const qev *const *lists, const size_t *ns, size_t nlists, size_t *nout);
/* keys: unescaped key strings */
qev *merge_by_keys(qdata *T, const qev *ev, size_t n, const char *const *keys,
		      const size_t *klens, size_t nkeys, size_t *nout);
qev *chunk_by_key(qdata *T, const qev *ev, size_t n, const char *key, size_t klen, size_t *nout);
/* vals: canonical JSON texts; exclude = exclude_keyvals */
/* Functions taking `out` write their result there when it is non-NULL (it may be `ev`
 * itself: results are written in input order, never ahead of the input). */
qev *filter_keyvals(qdata *T, const qev *ev, size_t n, qev *out, const char *key, size_t klen,
		       const char *const *vals, const size_t *vlens, size_t nvals, bool exclude,
		       size_t *nout);
qev *split_url_events(qdata *T, const qev *ev, size_t n, qev *out, size_t *nout);

/* ---- classify.c ------------------------------------------------------------------------- */

/* Compile (or fetch from the process-wide cache) a regex; the run keeps a reference
 * until it ends. NULL with *msg set on a compile error. */
qre *regex_get(qrun *R, const char *pat, size_t len, bool icase, aw_buf *msg);
/* 1 match, 0 no match (also for match-limit and other runtime errors, and invalid
 * UTF-8), -1 when the run keeps hitting the backtracking limit (error set). */
int regex_match(qrun *R, qre *re, const char *s, size_t len);
/* Same for a subject already known to be valid UTF-8. */
int regex_match_valid(qrun *R, qre *re, const char *s, size_t len);
bool utf8_valid(const char *s, size_t n);
/* Replace the first (or every) match of re in s by rep; returns new length in out. */
bool regex_replace(qrun *R, qre *re, const char *s, size_t len, const char *rep, bool global,
		     aw_buf *out);
void regex_release_all(qrun *R);
/* Append pat to out with its classes ([[:alpha:]], \w, \s, \b, ...) written as the sets
 * aw-server-rust uses (re_classes.c). True when something was rewritten. */
bool regex_classes(const char *pat, size_t len, aw_buf *out);
void regex_run_init(qrun *R);

typedef struct qrule {
	int type;           /* 0 none, 1 regex */
	qre *re;
	char **keys;        /* select_keys (unescaped), NULL = all top-level strings */
	size_t *klens;
	size_t nkeys;
} qrule;

/* Parse a rule dict (categorize/tag rules, docs/query.md). Returns 0 or -1 with error set at `at`. */
int rule_parse(qrun *R, const qnode *at, qv v, qrule *out);
void rule_free(qrule *r);
/* categorize: cats[i] = JSON text of the category array; depth[i] = path length */
qev *categorize_events(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *cats,
		   const size_t *catlens, const size_t *depth, size_t nrules, size_t *nout);
qev *tag_events(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *tags,
	    const size_t *taglens, size_t nrules, size_t *nout);
qev *filter_regex_events(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen, qre *re,
		     size_t *nout);
qev *simplify_titles(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen,
			size_t *nout);

/* ---- url.c -------------------------------------------------------------------------------- */

typedef struct qurl {
	aw_buf scheme, host, path, query;
	bool has_host;  /* a non-empty host */
} qurl;
void url_init(qurl *u);
void url_free(qurl *u);
/* WHATWG "basic URL parser" without a base; false on failure. */
bool url_parse(qurl *u, const char *s, size_t len);

#endif
