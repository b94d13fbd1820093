/*
 * Regexes (PCRE2) and the classification transforms: categorize, tag,
 * filter_keyvals_regex, simplify_window_titles.
 *
 * Patterns are compiled once per process (an LRU cache of 512 like aw-server-rust),
 * JIT-compiled when available, and matched with a backtracking limit: a runaway match
 * counts as "no match" like aw-server-rust's regex engine, and a run that keeps hitting
 * the limit is stopped with an error instead of burning CPU.
 *
 * Classification is memoised twice: per distinct data value (the result) and per
 * distinct string value (which rules match it), so the title "Inbox - Gmail" is matched
 * against each rule once however many events and data values carry it.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

#define RE_CACHE_MAX 512
#define RE_MATCH_LIMIT 1000000
#define RE_LIMIT_HITS_MAX 50

struct qre {
	char *pat;      /* full pattern (with "(?i)" prefix when ignoring case) */
	size_t len;
	pcre2_code *code;
	bool jit;       /* JIT-compiled: matched with pcre2_jit_match */
	unsigned refs;  /* runs holding it */
	qre *prev, *next;
};

static pthread_mutex_t re_lock = PTHREAD_MUTEX_INITIALIZER;
static qre *re_head, *re_tail;
static size_t re_count;

static void lru_unlink(qre *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		re_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		re_tail = r->prev;
	r->prev = r->next = NULL;
}

static void lru_push_front(qre *r)
{
	r->prev = NULL;
	r->next = re_head;
	if (re_head)
		re_head->prev = r;
	re_head = r;
	if (!re_tail)
		re_tail = r;
}

static void re_destroy(qre *r)
{
	pcre2_code_free(r->code);
	free(r->pat);
	free(r);
}

static void run_hold(qrun *R, qre *re)
{
	R->res = aw_mem_grow(R->res, R->nres, &R->capres, sizeof(*R->res), 16);
	R->res[R->nres++] = re;
}

#define RE_OPTIONS (PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY)

/* Compile with the classes rewritten to aw-server-rust's sets (re_classes.c). A pattern
 * that fails is compiled once more as written, so the error message and offset refer to
 * the user's text. */
static pcre2_code *compile(const char *pat, size_t len, int *errcode, PCRE2_SIZE *erroff)
{
	aw_buf b = AW_BUF_INIT;
	pcre2_code *code;

	if (!regex_classes(pat, len, &b)) {
		aw_buf_free(&b);
		return pcre2_compile((PCRE2_SPTR)pat, len, RE_OPTIONS, errcode, erroff, NULL);
	}
	code = pcre2_compile((PCRE2_SPTR)b.data, b.len, RE_OPTIONS, errcode, erroff, NULL);
	aw_buf_free(&b);
	if (!code)
		code = pcre2_compile((PCRE2_SPTR)pat, len, RE_OPTIONS, errcode, erroff, NULL);
	return code;
}

qre *regex_get(qrun *R, const char *pat, size_t len, bool icase, aw_buf *msg)
{
	size_t flen = len + (icase ? 4 : 0);
	char *full = aw_mem_malloc(flen + 1);
	qre *r;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;

	if (icase)
		memcpy(full, "(?i)", 4);
	memcpy(full + (icase ? 4 : 0), pat, len);
	full[flen] = '\0';

	pthread_mutex_lock(&re_lock);
	for (r = re_head; r; r = r->next)
		if (r->len == flen && !memcmp(r->pat, full, flen))
			break;
	if (r) {
		lru_unlink(r);
		lru_push_front(r);
		r->refs++;
		pthread_mutex_unlock(&re_lock);
		free(full);
		run_hold(R, r);
		return r;
	}
	pthread_mutex_unlock(&re_lock);

	code = compile(full, flen, &errcode, &erroff);
	if (!code) {
		PCRE2_UCHAR buf[256];
		pcre2_get_error_message(errcode, buf, sizeof(buf));
		aw_buf_printf(msg, "%s at offset %zu", (const char *)buf,
			      (size_t)erroff >= (icase ? 4u : 0u) ? (size_t)erroff - (icase ? 4u : 0u) : 0);
		free(full);
		return NULL;
	}
	r = aw_mem_calloc(1, sizeof(*r));
	r->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0; /* else the interpreter */
	r->pat = full;
	r->len = flen;
	r->code = code;
	r->refs = 1;

	pthread_mutex_lock(&re_lock);
	lru_push_front(r);
	re_count++;
	/* evict unreferenced entries beyond the cache size, oldest first */
	for (qre *v = re_tail; v && re_count > RE_CACHE_MAX;) {
		qre *prev = v->prev;
		if (!v->refs && v != r) {
			lru_unlink(v);
			re_count--;
			re_destroy(v);
		}
		v = prev;
	}
	pthread_mutex_unlock(&re_lock);
	run_hold(R, r);
	return r;
}

static _Thread_local unsigned limit_hits;

void regex_run_init(qrun *R)
{
	R->mctx = pcre2_match_context_create(NULL);
	R->mdata = pcre2_match_data_create(1, NULL);
	if (!R->mctx || !R->mdata)
		abort();
	pcre2_set_match_limit(R->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(R->mctx, 10000);
	pcre2_set_heap_limit(R->mctx, 20000); /* KiB */
	limit_hits = 0;
	R->jstack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (R->jstack)
		pcre2_jit_stack_assign(R->mctx, NULL, R->jstack);
}

void regex_release_all(qrun *R)
{
	pthread_mutex_lock(&re_lock);
	for (size_t i = 0; i < R->nres; i++)
		R->res[i]->refs--;
	/* trim the cache if it grew past its size while entries were held */
	for (qre *v = re_tail; v && re_count > RE_CACHE_MAX;) {
		qre *prev = v->prev;
		if (!v->refs) {
			lru_unlink(v);
			re_count--;
			re_destroy(v);
		}
		v = prev;
	}
	pthread_mutex_unlock(&re_lock);
	free(R->res);
	R->res = NULL;
	R->nres = R->capres = 0;
	if (R->mdata)
		pcre2_match_data_free(R->mdata);
	if (R->mctx)
		pcre2_match_context_free(R->mctx);
	if (R->jstack)
		pcre2_jit_stack_free(R->jstack);
	R->mdata = R->mctx = R->jstack = NULL;
}

bool utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
		} else if ((s[i] & 0xE0) == 0xC0) {
			if (s[i] < 0xC2 || i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
				return false;
			i += 2;
		} else if ((s[i] & 0xF0) == 0xE0) {
			if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
			    (s[i] == 0xE0 && s[i + 1] < 0xA0) || (s[i] == 0xED && s[i + 1] >= 0xA0))
				return false;
			i += 3;
		} else if ((s[i] & 0xF8) == 0xF0 && s[i] <= 0xF4) {
			if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
			    (s[i + 3] & 0xC0) != 0x80 || (s[i] == 0xF0 && s[i + 1] < 0x90) ||
			    (s[i] == 0xF4 && s[i + 1] >= 0x90))
				return false;
			i += 4;
		} else {
			return false;
		}
	}
	return true;
}

static int match_result(qrun *R, qre *re, int rc)
{
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
	    rc == PCRE2_ERROR_JIT_STACKLIMIT) {
		if (++limit_hits > RE_LIMIT_HITS_MAX) {
			run_error(R, NULL, AW_EINVALID, "RegexRuntimeError",
			     "the pattern '%.*s' exceeded the backtracking limit on more than %d values",
			     (int)(re->len > 120 ? 120 : re->len), re->pat, RE_LIMIT_HITS_MAX);
			return -1;
		}
	}
	return 0; /* runtime errors (e.g. invalid UTF-8) count as no match, like aw-server-rust */
}

int regex_match_valid(qrun *R, qre *re, const char *s, size_t len)
{
	if (re->jit)
		return match_result(R, re, pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, 0, 0, R->mdata, R->mctx));
	return match_result(R, re, pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, R->mdata, R->mctx));
}

int regex_match(qrun *R, qre *re, const char *s, size_t len)
{
	if (!utf8_valid(s, len))
		return 0; /* like a matching error in aw-server-rust: no match */
	return regex_match_valid(R, re, s, len);
}

bool regex_replace(qrun *R, qre *re, const char *s, size_t len, const char *rep, bool global, aw_buf *out)
{
	PCRE2_SIZE olen = len * 2 + strlen(rep) * 4 + 64;
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		aw_buf_reset(out);
		aw_buf_grow(out, olen + 1);
		rc = pcre2_substitute(re->code, (PCRE2_SPTR)s, len, 0,
				      (global ? PCRE2_SUBSTITUTE_GLOBAL : 0) | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
				      R->mdata, R->mctx, (PCRE2_SPTR)rep, PCRE2_ZERO_TERMINATED,
				      (PCRE2_UCHAR *)out->data, &olen);
		if (rc != PCRE2_ERROR_NOMEMORY)
			break;
	}
	if (rc < 0)
		return false;
	out->len = olen;
	out->data[olen] = '\0';
	return true;
}

/* ---- rules ------------------------------------------------------------------------------- */

void rule_free(qrule *r)
{
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->klens);
	memset(r, 0, sizeof(*r));
}

int rule_parse(qrun *R, const qnode *at, qv v, qrule *out)
{
	qdict *d;
	qv *t, *re, *ic, *sk;
	bool icase = false;
	qre *compiled;
	aw_buf msg = AW_BUF_INIT;

	memset(out, 0, sizeof(*out));
	if (v.k != QV_DICT) {
		aw_buf dbg = AW_BUF_INIT;
		value_debug(R, &dbg, v, 120);
		run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "Expected rule dict, got %s", dbg.data);
		aw_buf_free(&dbg);
		return -1;
	}
	d = QDICT(v);
	if (!(t = dict_get(d, "type", 4)))
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "rule does not have a type");
	if (t->k != QV_STR)
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "rule type is not a string");
	if (QSTR(*t)->len == 4 && !memcmp(QSTR(*t)->s, "none", 4))
		return 0;
	if (!(QSTR(*t)->len == 5 && !memcmp(QSTR(*t)->s, "regex", 5)))
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "Unknown rule type '%.*s'",
			    (int)(QSTR(*t)->len > 100 ? 100 : QSTR(*t)->len), QSTR(*t)->s);
	if (!(re = dict_get(d, "regex", 5)))
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters", "regex rule is missing the 'regex' field");
	if (re->k != QV_STR)
		return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
			    "the regex field of the regex rule is not a string");
	if ((ic = dict_get(d, "ignore_case", 11))) {
		if (ic->k != QV_BOOL)
			return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
				    "the ignore_case field of the regex rule is not a bool");
		icase = ic->u.b;
	}
	if ((sk = dict_get(d, "select_keys", 11))) {
		qlist *l;
		if (sk->k != QV_LIST || (QLIST(*sk)->isev && QLIST(*sk)->n))
			return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
				    "the select_keys field of the regex rule is not a list of strings");
		l = QLIST(*sk);
		for (size_t i = 0; i < l->n; i++)
			if (l->it[i].k != QV_STR)
				return run_error(R, at, AW_EINVALID, "InvalidFunctionParameters",
					    "the select_keys field of the regex rule is not a list of strings");
		if (l->n == 0)
			return run_error(R, at, AW_EINVALID, "RegexCompileError",
				    "Failed to compile regex string '%.*s': select_keys must not be empty",
				    (int)(QSTR(*re)->len > 200 ? 200 : QSTR(*re)->len), QSTR(*re)->s);
		out->keys = aw_mem_calloc(l->n, sizeof(char *));
		out->klens = aw_mem_calloc(l->n, sizeof(size_t));
		for (size_t i = 0; i < l->n; i++) {
			out->keys[i] = aw_mem_malloc(QSTR(l->it[i])->len + 1);
			memcpy(out->keys[i], QSTR(l->it[i])->s, QSTR(l->it[i])->len + 1);
			out->klens[i] = QSTR(l->it[i])->len;
		}
		out->nkeys = l->n;
	}
	compiled = regex_get(R, QSTR(*re)->s, QSTR(*re)->len, icase, &msg);
	if (!compiled) {
		run_error(R, at, AW_EINVALID, "RegexCompileError", "Failed to compile regex string '%.*s': %s",
		     (int)(QSTR(*re)->len > 200 ? 200 : QSTR(*re)->len), QSTR(*re)->s, msg.data ? msg.data : "");
		aw_buf_free(&msg);
		rule_free(out);
		return -1;
	}
	out->type = 1;
	out->re = compiled;
	return 0;
}

/* ---- string memo: which rules match a string value --------------------------------------- */

typedef struct smemo {
	size_t cap, n, words;
	const char **raw;  /* raw (escaped) string body, stable: points into data texts */
	uint32_t *len;
	uint8_t *esc;     /* bit 0: escaped; bit 1: validity known; bit 2: valid UTF-8 */
	uint64_t *hash;
	uint32_t *slot;    /* index + 1 */
	uint64_t *bits;    /* per string: words "known" + words "match" */
	const struct litf *const *lf; /* per rule: its literal filter, or NULL */
	struct bigrams {   /* the pair sets of the last strings filtered (by k & 3) */
		size_t k;
		bool set, ascii;
		uint64_t raw[16], fold[16];
	} bc[4];
} smemo;

/* ---- literal filter ---------------------------------------------------------------------
 * Most rules are plain words joined by '|' ("GitHub|Stack Overflow|vim"): such a rule
 * matches a string exactly when one of its words is a substring of it (UTF-8 is
 * self-synchronising, so bytes say what code points say), and a word can only be a
 * substring if every pair of adjacent bytes in it occurs in the string. Each string's
 * pairs go into a 1024-bit set once; a rule none of whose words has all its pairs there
 * cannot match, and its regex is not run. Any other answer runs the regex as before,
 * so results are those of the regexes. Under ignore_case the check folds ASCII letters
 * and is used only when the rule's words and the string are ASCII (PCRE2 folds some
 * non-ASCII characters, the Kelvin sign, long s, onto ASCII letters). */

typedef struct litf {
	bool icase;
	size_t nlit;
	uint32_t *off;  /* word i's pairs are bg[off[i] .. off[i + 1]) */
	uint16_t *bg;
} litf;

static inline unsigned bigram(unsigned char a, unsigned char b)
{
	return (((unsigned)a << 8 | b) * 2654435761u) >> 22; /* 0..1023 */
}

static inline unsigned char fold_ascii(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* The filter of a rule whose pattern (after an optional leading "(?i)") is words of two
 * bytes or more joined by '|', with no other syntax; NULL for any other pattern. */
static litf *litf_new(const char *pat, size_t len)
{
	bool icase = len >= 4 && !memcmp(pat, "(?i)", 4);
	size_t nlit = 1, npairs = 0, w = 0;
	litf *f;

	if (icase) {
		pat += 4;
		len -= 4;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pat[i];
		if (!c || strchr("\\[](){}.*+?^$#", c) || (icase && c >= 0x80))
			return NULL;
		if (c == '|')
			nlit++;
	}
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || pat[i] == '|') {
			if (i - start < 2)
				return NULL; /* an empty or one-byte word: no pair to look for */
			npairs += i - start - 1;
			start = i + 1;
		}
	f = aw_mem_calloc(1, sizeof(*f));
	f->icase = icase;
	f->nlit = nlit;
	f->off = aw_mem_malloc((nlit + 1) * sizeof(uint32_t));
	f->bg = aw_mem_malloc(npairs * sizeof(uint16_t));
	npairs = 0;
	for (size_t i = 0, start = 0; i <= len; i++)
		if (i == len || pat[i] == '|') {
			f->off[w++] = (uint32_t)npairs;
			for (size_t j = start; j + 1 < i; j++) {
				unsigned char a = (unsigned char)pat[j], b = (unsigned char)pat[j + 1];
				f->bg[npairs++] = (uint16_t)(icase ? bigram(fold_ascii(a), fold_ascii(b)) : bigram(a, b));
			}
			start = i + 1;
		}
	f->off[nlit] = (uint32_t)npairs;
	return f;
}

static void litf_free(litf *f)
{
	if (!f)
		return;
	free(f->off);
	free(f->bg);
	free(f);
}

/* True when the rule of f surely does not match string k (s, valid UTF-8). */
static bool litf_misses(smemo *m, size_t k, const litf *f, const char *s, size_t len)
{
	struct bigrams *b = &m->bc[k & 3];
	const uint64_t *set;

	if (!b->set || b->k != k) {
		/* both sets in one pass: most rule lists mix ignore_case and plain rules */
		memset(b->raw, 0, sizeof(b->raw));
		memset(b->fold, 0, sizeof(b->fold));
		b->k = k;
		b->set = true;
		b->ascii = true;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s[i] >= 0x80)
				b->ascii = false;
		for (size_t i = 0; i + 1 < len; i++) {
			unsigned char x = (unsigned char)s[i], y = (unsigned char)s[i + 1];
			unsigned r = bigram(x, y), l = bigram(fold_ascii(x), fold_ascii(y));
			b->raw[r >> 6] |= 1ull << (r & 63);
			b->fold[l >> 6] |= 1ull << (l & 63);
		}
	}
	if (f->icase && !b->ascii)
		return false;
	set = f->icase ? b->fold : b->raw;
	for (size_t i = 0; i < f->nlit; i++) {
		bool all = true;
		for (uint32_t j = f->off[i]; j < f->off[i + 1] && all; j++)
			all = (set[f->bg[j] >> 6] >> (f->bg[j] & 63)) & 1;
		if (all)
			return false;
	}
	return true;
}

static void smemo_init(smemo *m, size_t nrules)
{
	memset(m, 0, sizeof(*m));
	m->words = (nrules + 63) / 64;
	if (!m->words)
		m->words = 1;
}

static void smemo_free(smemo *m)
{
	free(m->raw);
	free(m->len);
	free(m->esc);
	free(m->hash);
	free(m->slot);
	free(m->bits);
}

static size_t smemo_get(smemo *m, const char *raw, uint32_t len, bool esc)
{
	uint64_t h = aw_hash_bytes(raw, len);
	size_t j;

	if ((m->n + 1) * 2 >= m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 256;
		slots_grow(&m->slot, &m->cap, m->hash, nc);
		m->raw = aw_mem_realloc(m->raw, nc * sizeof(*m->raw));
		m->len = aw_mem_realloc(m->len, nc * sizeof(*m->len));
		m->esc = aw_mem_realloc(m->esc, nc * sizeof(*m->esc));
		m->hash = aw_mem_realloc(m->hash, nc * sizeof(*m->hash));
		m->bits = aw_mem_realloc(m->bits, nc * 2 * m->words * sizeof(uint64_t));
	}
	for (j = (size_t)h & (m->cap - 1); m->slot[j]; j = (j + 1) & (m->cap - 1)) {
		size_t k = m->slot[j] - 1;
		if (m->hash[k] == h && m->len[k] == len && !memcmp(m->raw[k], raw, len))
			return k;
	}
	m->raw[m->n] = raw;
	m->len[m->n] = len;
	m->esc[m->n] = esc;
	m->hash[m->n] = h;
	memset(&m->bits[m->n * 2 * m->words], 0, 2 * m->words * sizeof(uint64_t));
	m->slot[j] = (uint32_t)m->n + 1;
	return m->n++;
}

/* 1/0 whether rule r matches string k of the memo; -1 on a run error */
static int smemo_match(qrun *R, smemo *m, size_t k, size_t r, qre *re)
{
	uint64_t *known = &m->bits[k * 2 * m->words], *match = known + m->words, bit = 1ull << (r % 64);
	size_t w = r / 64;
	int rc;

	if (known[w] & bit)
		return (match[w] & bit) != 0;
	{
		size_t sl;
		const char *s = json_body_unescape(m->raw[k], m->len[k], m->esc[k] & 1, &R->scratch, &sl);
		if (!(m->esc[k] & 2))
			m->esc[k] |= (uint8_t)(2 | (utf8_valid(s, sl) ? 4 : 0));
		if (!(m->esc[k] & 4))
			rc = 0;
		else if (m->lf && m->lf[r] && litf_misses(m, k, m->lf[r], s, sl))
			rc = 0;
		else
			rc = regex_match_valid(R, re, s, sl);
	}
	if (rc < 0)
		return -1;
	known[w] |= bit;
	if (rc)
		match[w] |= bit;
	return rc;
}

/* The string values of one data entry, resolved to string-memo slots once. */
typedef struct dstrs {
	const char **field; /* value text pointer: identifies the field */
	size_t *slot;
	size_t n, cap;
} dstrs;

static void gather(qrun *R, smemo *m, uint32_t d, dstrs *g)
{
	qfv *fv;
	size_t nf = data_fields(R->T, d, &fv);

	g->n = 0;
	if (nf > g->cap) {
		g->cap = nf * 2;
		g->field = aw_mem_realloc(g->field, g->cap * sizeof(*g->field));
		g->slot = aw_mem_realloc(g->slot, g->cap * sizeof(*g->slot));
	}
	for (size_t i = 0; i < nf; i++) {
		if (fv[i].vtype != QJ_STR)
			continue;
		g->field[g->n] = fv[i].v;
		g->slot[g->n++] = smemo_get(m, fv[i].v + 1, fv[i].vlen - 2, fv[i].vesc);
	}
}

/* Does rule r match data d (whose strings are g)? Top-level strings, or only select_keys. */
static int rule_matches(qrun *R, smemo *m, const qrule *rule, size_t r, uint32_t d, const dstrs *g)
{
	int rc;

	if (rule->type != 1)
		return 0;
	if (rule->keys) {
		for (size_t i = 0; i < rule->nkeys; i++) {
			qfv f;
			if (!data_field(R->T, d, rule->keys[i], rule->klens[i], &f) || f.vtype != QJ_STR)
				continue;
			for (size_t k = 0; k < g->n; k++)
				if (g->field[k] == f.v && (rc = smemo_match(R, m, g->slot[k], r, rule->re)))
					return rc;
		}
		return 0;
	}
	for (size_t k = 0; k < g->n; k++)
		if ((rc = smemo_match(R, m, g->slot[k], r, rule->re)))
			return rc;
	return 0;
}

typedef struct ranked {
	size_t depth, index;
} ranked;

static int rank_cmp(const void *a, const void *b)
{
	const ranked *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1;
	return x->index > y->index ? -1 : x->index < y->index;
}

typedef struct tagref {
	const char *s;
	size_t len;
} tagref;

static int tag_cmp(const void *a, const void *b)
{
	const tagref *x = a, *y = b;

	return bytes_cmp(x->s, x->len, y->s, y->len);
}

/* What categorize and tag share over one run: the rules and their labels (category
 * JSON texts or tags), the string fields of the data value being classified (g) and
 * the memoised rule matches of every string (sm). map_data classifies each distinct
 * data value once. */
typedef struct classifier {
	qrun *R;
	qrule *rules;
	const char *const *labels;
	const size_t *lablens;
	size_t nrules;
	ranked *order;  /* categorize: the rules to try, deepest (then last) first */
	size_t norder;
	const qfv **catf; /* categorize: per rule (and [nrules]: none) its $category field,
	                   * shared by every value it categorises; NULL until first needed */
	tagref *hit;    /* tag: the matching tags of one value */
	aw_buf val;     /* tag: their JSON array */
	smemo sm;
	dstrs g;
	litf **lf;      /* per rule (sm.lf) */
} classifier;

static void classifier_init(classifier *c, qrun *R, qrule *rules, const char *const *labels,
			    const size_t *lablens, size_t nrules)
{
	memset(c, 0, sizeof(*c));
	c->R = R;
	c->rules = rules;
	c->labels = labels;
	c->lablens = lablens;
	c->nrules = nrules;
	smemo_init(&c->sm, nrules);
	c->lf = aw_mem_calloc(nrules + 1, sizeof(*c->lf));
	for (size_t r = 0; r < nrules; r++)
		if (rules[r].type == 1)
			c->lf[r] = litf_new(rules[r].re->pat, rules[r].re->len);
	c->sm.lf = (const litf *const *)c->lf;
}

static void classifier_free(classifier *c)
{
	for (size_t r = 0; r < c->nrules; r++)
		litf_free(c->lf[r]);
	free(c->lf);
	free(c->order);
	free(c->catf);
	free(c->hit);
	aw_buf_free(&c->val);
	free(c->g.field);
	free(c->g.slot);
	smemo_free(&c->sm);
}

/* 1 when rule r matches data d (gathered into c->g), 0 when not, -1 on an error. */
static int classifier_match(classifier *c, size_t r, uint32_t d)
{
	return rule_matches(c->R, &c->sm, &c->rules[r], r, d, &c->g);
}

static int64_t categorize_data(void *ctx, uint32_t d)
{
	static const char *const key[1] = {"$category"};
	static const size_t klen[1] = {9};
	classifier *c = ctx;
	const char *val = "[\"Uncategorized\"]";
	size_t vlen = 17, which = c->nrules, nf;

	gather(c->R, &c->sm, d, &c->g);
	for (size_t k = 0; k < c->norder; k++) {
		size_t r = c->order[k].index;
		int rc = classifier_match(c, r, d);
		if (rc < 0)
			return -1;
		if (rc) {
			val = c->labels[r];
			vlen = c->lablens[r];
			which = r;
			break;
		}
	}
	if (!c->catf[which])
		c->catf[which] = data_fields_new(c->R->T, 1, key, klen, &val, &vlen, &nf);
	return data_with_shared(c->R->T, d, c->catf[which], 1);
}

qev *categorize_events(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *cats,
		   const size_t *catlens, const size_t *depth, size_t nrules, size_t *nout)
{
	classifier c;
	qev *res;

	classifier_init(&c, R, rules, cats, catlens, nrules);
	/* Reference: start from ["Uncategorized"] and let every matching rule whose path is at
	 * least as deep replace it: the deepest match wins, the last among equals. Evaluating
	 * rules by (depth desc, index desc) and stopping at the first match is equivalent. */
	c.order = aw_mem_malloc((nrules ? nrules : 1) * sizeof(ranked));
	c.catf = aw_mem_calloc(nrules + 1, sizeof(*c.catf));
	for (size_t i = 0; i < nrules; i++)
		if (depth[i] > 0 && rules[i].type == 1)
			c.order[c.norder++] = (ranked){depth[i], i};
	qsort(c.order, c.norder, sizeof(ranked), rank_cmp);
	res = map_data(R->T, ev, n, out, categorize_data, &c, nout);
	classifier_free(&c);
	return res;
}

static int64_t tag_data(void *ctx, uint32_t d)
{
	static const char *const key[1] = {"$tags"};
	static const size_t klen[1] = {5};
	classifier *c = ctx;
	size_t nh = 0;
	const char *vp;
	size_t vl;

	gather(c->R, &c->sm, d, &c->g);
	for (size_t r = 0; r < c->nrules; r++) {
		int rc = classifier_match(c, r, d);
		if (rc < 0)
			return -1;
		if (rc)
			c->hit[nh++] = (tagref){c->labels[r], c->lablens[r]};
	}
	/* every matching tag once, sorted */
	qsort(c->hit, nh, sizeof(tagref), tag_cmp);
	aw_buf_reset(&c->val);
	aw_buf_putc(&c->val, '[');
	for (size_t k = 0, w = 0; k < nh; k++) {
		if (k && !tag_cmp(&c->hit[k - 1], &c->hit[k]))
			continue;
		if (w++)
			aw_buf_putc(&c->val, ',');
		aw_buf_json_string(&c->val, c->hit[k].s, c->hit[k].len);
	}
	aw_buf_putc(&c->val, ']');
	vp = c->val.data;
	vl = c->val.len;
	return data_with(c->R->T, d, 1, key, klen, &vp, &vl);
}

qev *tag_events(qrun *R, const qev *ev, size_t n, qev *out, qrule *rules, const char *const *tags,
	    const size_t *taglens, size_t nrules, size_t *nout)
{
	classifier c;
	qev *res;

	classifier_init(&c, R, rules, tags, taglens, nrules);
	c.hit = aw_mem_malloc((nrules ? nrules : 1) * sizeof(tagref));
	res = map_data(R->T, ev, n, out, tag_data, &c, nout);
	classifier_free(&c);
	return res;
}

/* The string value of field key of data d, unescaped into buf; NULL when d has no such
 * string field. */
static const char *data_string(qdata *T, uint32_t d, const char *key, size_t klen, aw_buf *buf, size_t *len)
{
	qfv f;

	if (!data_field(T, d, key, klen, &f) || f.vtype != QJ_STR)
		return NULL;
	return json_body_unescape(f.v + 1, f.vlen - 2, f.vesc, buf, len);
}

typedef struct regex_filter {
	qrun *R;
	const char *key;
	size_t klen;
	qre *re;
} regex_filter;

static int64_t regex_keep(void *ctx, uint32_t d)
{
	regex_filter *f = ctx;
	size_t sl;
	const char *s = data_string(f->R->T, d, f->key, f->klen, &f->R->scratch, &sl);

	return s ? regex_match(f->R, f->re, s, sl) : 0;
}

qev *filter_regex_events(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen, qre *re,
		     size_t *nout)
{
	regex_filter f = {R, key, klen, re};

	return filter_data(R->T, ev, n, out, regex_keep, &f, nout);
}

typedef struct simplifier {
	qrun *R;
	const char *key;
	size_t klen;
	bool is_title;
	qre *parens, *fps, *dot;
	aw_buf a, b, js, tmp;
} simplifier;

static int64_t simplify_data(void *ctx, uint32_t d)
{
	simplifier *s = ctx;
	qdata *T = s->R->T;
	qfv app;
	size_t sl;
	const char *str = data_string(T, d, s->key, s->klen, &s->tmp, &sl);
	const char *vp;
	size_t vl;
	bool ok;

	if (!str || !s->parens || !s->fps || !s->dot)
		return d;
	ok = regex_replace(s->R, s->parens, str, sl, "", false, &s->a);
	if (ok && s->is_title && data_field(T, d, "app", 3, &app))
		ok = regex_replace(s->R, s->fps, s->a.data, s->a.len, "FPS: ...", true, &s->b) &&
		     regex_replace(s->R, s->dot, s->b.data, s->b.len, "", false, &s->a);
	if (!ok || (s->a.len == sl && !memcmp(s->a.data, str, sl)))
		return d;
	aw_buf_reset(&s->js);
	aw_buf_json_string(&s->js, s->a.data, s->a.len);
	vp = s->js.data;
	vl = s->js.len;
	return data_with(T, d, 1, &s->key, &s->klen, &vp, &vl);
}

/* aw-core's simplify_string: drop a "(N) " prefix; for window titles also replace FPS
 * counters with "FPS: ..." and drop a leading "●"/"*" modification marker. */
qev *simplify_titles(qrun *R, const qev *ev, size_t n, qev *out, const char *key, size_t klen, size_t *nout)
{
	static const char P_PARENS[] = "^\\([0-9]+\\)\\s*", P_FPS[] = "FPS:\\s+[0-9\\.]+",
			  P_DOT[] = "^(\xe2\x97\x8f|\\*)\\s*";
	simplifier s = {.R = R, .key = key, .klen = klen, .is_title = klen == 5 && !memcmp(key, "title", 5),
			.a = AW_BUF_INIT, .b = AW_BUF_INIT, .js = AW_BUF_INIT, .tmp = AW_BUF_INIT};
	aw_buf msg = AW_BUF_INIT;
	qev *res;

	s.parens = regex_get(R, P_PARENS, sizeof(P_PARENS) - 1, false, &msg);
	s.fps = regex_get(R, P_FPS, sizeof(P_FPS) - 1, false, &msg);
	s.dot = regex_get(R, P_DOT, sizeof(P_DOT) - 1, false, &msg);
	aw_buf_free(&msg);
	res = map_data(R->T, ev, n, out, simplify_data, &s, nout);
	aw_buf_free(&s.a);
	aw_buf_free(&s.b);
	aw_buf_free(&s.js);
	aw_buf_free(&s.tmp);
	return res;
}
