/*
 * Lexer and parser for the query language (tokens and grammar: docs/query.md).
 *
 * The lexer follows plex's longest-match rules, including the quirks: `RETURN` is an
 * identifier, `\"` is the only string escape, a string is the *longest* match of
 * "([^"]|\\")*", and an unrecognised character silently ends the token stream.
 * The parser is recursive descent over aw-server-rust's LALR grammar: one precedence
 * level for every binary operator, left-associative, right operands restricted to
 * calls/dicts/lists/atoms. Nesting is bounded (Q_MAX_NEST) so hostile input cannot
 * exhaust the stack; a flat chain `a + b + c ...` is parsed in a loop, and its left spine
 * (as deep as the chain is long) is only ever walked in loops (here and in interp.c).
 * Identifiers are interned to environment slots here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

enum {
	T_EOF, T_IF, T_ELIF, T_ELSE, T_RETURN, T_BOOL, T_STR, T_NUM, T_IDENT,
	T_EQEQ, T_ASSIGN, T_AMP, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_LBRACE, T_RBRACE, T_COMMA, T_COLON, T_SEMI
};

static const char *const tok_names[] = {
	"end of query", "'if'", "'elif'", "'else'", "'return'", "boolean", "string", "number",
	"identifier", "'=='", "'='", "'&'", "'+'", "'-'", "'*'", "'/'", "'%'", "'('", "')'", "'['",
	"']'", "'{'", "'}'", "','", "':'", "';'"
};

typedef struct tok {
	int t;
	int line, col;
	size_t off, len;    /* source text of the token */
	double num;
	int b;
	char *s;            /* T_STR: processed body (malloc) */
	size_t slen;
} tok;

typedef struct lexer {
	const char *src;
	size_t len, pos;
	int line, col;
	tok *toks;
	size_t n, cap;
	bool too_long;      /* more than Q_MAX_TOKENS tokens: lexing stopped */
	/* where lexing stopped early (unrecognised character / unterminated string) */
	bool stopped;
	int stop_line, stop_col;
	char stop_desc[64];
} lexer;

static void adv(lexer *L, size_t n)
{
	while (n--) {
		unsigned char c = (unsigned char)L->src[L->pos++];
		if (c == '\n') {
			L->line++;
			L->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			L->col++;
		}
	}
}

static tok *push_tok(lexer *L, int t)
{
	tok *k;

	L->toks = aw_mem_grow(L->toks, L->n, &L->cap, sizeof(*L->toks), 64);
	k = &L->toks[L->n++];
	memset(k, 0, sizeof(*k));
	k->t = t;
	k->line = L->line;
	k->col = L->col;
	k->off = L->pos;
	return k;
}

static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }

static void describe_char(char *buf, size_t n, const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];
	size_t l = 1;

	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, n, "character U+%04X", c);
		return;
	}
	if (c >= 0x80) {
		l = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
		if (l > avail)
			l = avail;
		for (size_t i = 1; i < l; i++)
			if (((unsigned char)s[i] & 0xC0) != 0x80)
				l = 1;
		if (l == 1) {
			snprintf(buf, n, "byte 0x%02X", c);
			return;
		}
	}
	snprintf(buf, n, "character '%.*s'", (int)l, s);
}

/* Length of the longest match of "([^"]|\\")*" at src[p] (src[p] == '"'), or 0. */
static size_t string_match(const char *s, size_t len, size_t p)
{
	size_t best = 0;

	for (size_t i = p + 1; i < len; i++) {
		if (s[i] != '"')
			continue;
		best = i - p + 1;
		if (!(i - 1 > p && s[i - 1] == '\\'))
			break; /* an unescaped quote cannot be inside the body */
	}
	return best;
}

/* Stop reading at the current position (the reason in L->stop_desc): the tokens end
 * there, which the parser reports if it needed more. */
static void lex_stop(lexer *L)
{
	L->stopped = true;
	L->stop_line = L->line;
	L->stop_col = L->col;
	push_tok(L, T_EOF);
}

/* The one-character tokens, in the order of their T_ values from T_AMP to T_SEMI. */
static const char single_toks[] = "&+-*/%()[]{},:;";
_Static_assert(sizeof(single_toks) - 1 == T_SEMI - T_AMP + 1, "one character for each of T_AMP..T_SEMI");

static void lex(lexer *L)
{
	const char *s = L->src;

	for (;;) {
		size_t p = L->pos, n;
		unsigned char c;
		tok *k;

		if (p >= L->len || L->n >= Q_MAX_TOKENS) {
			L->too_long = p < L->len;
			push_tok(L, T_EOF);
			return;
		}
		c = (unsigned char)s[p];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			adv(L, 1);
			continue;
		}
		if (c == '#') {
			n = 0;
			while (p + n < L->len && s[p + n] != '\n')
				n++;
			adv(L, n);
			continue;
		}
		if (is_alpha(c)) {
			n = 1;
			while (p + n < L->len && (is_alpha((unsigned char)s[p + n]) || is_digit((unsigned char)s[p + n])))
				n++;
			k = push_tok(L, T_IDENT);
#define KW(str, tt) (n == sizeof(str) - 1 && !memcmp(s + p, str, n)) ? (k->t = (tt), 1)
			if (KW("if", T_IF) : KW("elif", T_ELIF) : KW("else", T_ELSE) : KW("return", T_RETURN) : 0) {
			} else if (KW("true", T_BOOL) : KW("True", T_BOOL) : 0) {
				k->b = 1;
			} else if (KW("false", T_BOOL) : KW("False", T_BOOL) : 0) {
				k->b = 0;
			}
#undef KW
			k->len = n;
			adv(L, n);
			continue;
		}
		if (is_digit(c)) {
			char tmp[64], *big = NULL;
			n = 1;
			while (p + n < L->len && is_digit((unsigned char)s[p + n]))
				n++;
			if (p + n < L->len && s[p + n] == '.') {
				n++;
				while (p + n < L->len && is_digit((unsigned char)s[p + n]))
					n++;
			}
			k = push_tok(L, T_NUM);
			k->len = n;
			if (n < sizeof(tmp)) {
				memcpy(tmp, s + p, n);
				tmp[n] = '\0';
				k->num = strtod(tmp, NULL);
			} else {
				big = aw_mem_malloc(n + 1);
				memcpy(big, s + p, n);
				big[n] = '\0';
				k->num = strtod(big, NULL);
				free(big);
			}
			adv(L, n);
			continue;
		}
		if (c == '"') {
			size_t m = string_match(s, L->len, p), o = 0;
			if (!m) {
				snprintf(L->stop_desc, sizeof(L->stop_desc), "an unterminated string");
				lex_stop(L);
				return;
			}
			k = push_tok(L, T_STR);
			k->len = m;
			k->s = aw_mem_malloc(m);
			for (size_t i = p + 1; i < p + m - 1; i++) {
				if (s[i] == '\\' && i + 1 < p + m - 1 && s[i + 1] == '"') {
					k->s[o++] = '"';
					i++;
				} else {
					k->s[o++] = s[i];
				}
			}
			k->slen = o;
			adv(L, m);
			continue;
		}
		{
			const char *one = c ? strchr(single_toks, c) : NULL;
			int t = -1;
			n = 1;
			if (c == '=' && p + 1 < L->len && s[p + 1] == '=') {
				t = T_EQEQ;
				n = 2;
			} else if (c == '=') {
				t = T_ASSIGN;
			} else if (one) {
				t = T_AMP + (int)(one - single_toks);
			}
			if (t < 0) {
				describe_char(L->stop_desc, sizeof(L->stop_desc), s + p, L->len - p);
				lex_stop(L);
				return;
			}
			k = push_tok(L, t);
			k->len = n;
			adv(L, n);
		}
	}
}

/* ---- arena ------------------------------------------------------------------------ */

static void *arena(qprog *P, size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > P->avail) {
		size_t sz = n > 16384 ? n : 16384;
		void **nb = aw_mem_realloc(P->blocks, (P->nblocks + 1) * sizeof(*nb));
		P->blocks = nb;
		P->cur = aw_mem_calloc(1, sz);
		P->blocks[P->nblocks++] = P->cur;
		P->avail = sz;
	}
	p = P->cur;
	P->cur += n;
	P->avail -= n;
	return p;
}

/* ---- string index ---------------------------------------------------------------------
 * Identifiers and dict literal keys are looked up by hash, so programs with very many
 * distinct names or keys parse in linear time. */

static size_t strix_pos(const qstrix *x, const char *const *strs, const size_t *lens, const char *s,
			size_t len)
{
	size_t m = x->cap - 1, j = (size_t)aw_hash_bytes(s, len) & m;

	for (; x->t[j]; j = (j + 1) & m) {
		uint32_t i = x->t[j] - 1;
		if (lens[i] == len && !memcmp(strs[i], s, len))
			break;
	}
	return j;
}

/* Index of s among the indexed entries, or -1. */
static long strix_find(const qstrix *x, const char *const *strs, const size_t *lens, const char *s,
		       size_t len)
{
	size_t j;

	if (!x->cap)
		return -1;
	j = strix_pos(x, strs, lens, s, len);
	return x->t[j] ? (long)x->t[j] - 1 : -1;
}

/* Index entry i (stored at strs[i], lens[i]; entries 0..i-1 are indexed already). */
static void strix_add(qstrix *x, const char *const *strs, const size_t *lens, size_t i)
{
	if ((i + 1) * 2 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		while ((i + 1) * 2 > cap)
			cap *= 2;
		free(x->t);
		x->t = aw_mem_calloc(cap, sizeof(*x->t));
		x->cap = cap;
		for (size_t k = 0; k < i; k++)
			x->t[strix_pos(x, strs, lens, strs[k], lens[k])] = (uint32_t)k + 1;
	}
	x->t[strix_pos(x, strs, lens, strs[i], lens[i])] = (uint32_t)i + 1;
}

int program_slot(qprog *P, const char *name, size_t len)
{
	long found = strix_find(&P->slot_ix, (const char *const *)P->names, P->name_lens, name, len);

	if (found >= 0)
		return (int)found;
	if (P->nslots == P->cap_slots) {
		P->cap_slots = P->cap_slots ? P->cap_slots * 2 : 64;
		P->names = aw_mem_realloc(P->names, P->cap_slots * sizeof(*P->names));
		P->name_lens = aw_mem_realloc(P->name_lens, P->cap_slots * sizeof(*P->name_lens));
	}
	P->names[P->nslots] = arena(P, len + 1);
	memcpy(P->names[P->nslots], name, len);
	P->name_lens[P->nslots] = len;
	strix_add(&P->slot_ix, (const char *const *)P->names, P->name_lens, P->nslots);
	return (int)P->nslots++;
}

void program_free(qprog *P)
{
	if (!P)
		return;
	for (size_t i = 0; i < P->nstrs; i++)
		value_unref(P->strs[i]);
	free(P->strs);
	for (size_t i = 0; i < P->nblocks; i++)
		free(P->blocks[i]);
	free(P->blocks);
	free(P->names);
	free(P->name_lens);
	free(P->slot_ix.t);
	free(P);
}

/* ---- parser ------------------------------------------------------------------------- */

typedef struct parser {
	lexer *L;
	size_t i;
	qprog *P;
	aw_query_error *err;
	int depth;
	bool failed;
	qv *strs;          /* literal strings to release with the program */
	size_t nstrs, capstrs;
} parser;

static tok *cur(parser *p) { return &p->L->toks[p->i]; }
static tok *peek(parser *p, size_t k)
{
	size_t j = p->i + k;
	return &p->L->toks[j < p->L->n ? j : p->L->n - 1];
}

static void tok_desc(parser *p, tok *k, char *buf, size_t n)
{
	switch (k->t) {
	case T_EOF:
		if (p->L->stopped)
			snprintf(buf, n, "end of query (reading stopped at %s)", p->L->stop_desc);
		else
			snprintf(buf, n, "end of query");
		break;
	case T_IDENT:
	case T_NUM:
		snprintf(buf, n, "%s '%.*s'", tok_names[k->t], (int)(k->len > 40 ? 40 : k->len), p->L->src + k->off);
		break;
	case T_BOOL:
		snprintf(buf, n, "'%.*s'", (int)k->len, p->L->src + k->off);
		break;
	case T_STR:
		snprintf(buf, n, "string \"%.*s%s\"", (int)(k->slen > 30 ? 30 : k->slen), k->s,
			 k->slen > 30 ? "..." : "");
		break;
	default:
		snprintf(buf, n, "%s", tok_names[k->t]);
	}
}

/* Fill err with `ParsingError("<detail>") at line L, column C` (the detail escaped as
 * Rust's Debug prints a string) and AW_EINVALID. */
static void parse_error(aw_query_error *err, int line, int col, const char *detail)
{
	aw_buf b = AW_BUF_INIT;

	aw_buf_puts(&b, "ParsingError(\"");
	for (const char *c = detail; *c; c++) {
		if (*c == '"' || *c == '\\')
			aw_buf_putc(&b, '\\');
		aw_buf_putc(&b, *c);
	}
	aw_buf_printf(&b, "\") at line %d, column %d", line, col);
	snprintf(err->message, sizeof(err->message), "%s", b.data);
	aw_buf_free(&b);
	err->code = AW_EINVALID;
	err->line = line;
	err->column = col;
}

static void *perr(parser *p, tok *at, const char *expected)
{
	char found[160], detail[300];
	int line = at->line, col = at->col;

	if (p->failed)
		return NULL;
	p->failed = true;
	tok_desc(p, at, found, sizeof(found));
	if (at->t == T_EOF && p->L->stopped) {
		line = p->L->stop_line;
		col = p->L->stop_col;
	}
	snprintf(detail, sizeof(detail), "expected %s, found %s", expected, found);
	parse_error(p->err, line, col, detail);
	return NULL;
}

static qnode *mknode(parser *p, int kind, tok *at)
{
	qnode *n = arena(p->P, sizeof(qnode));

	n->kind = (uint8_t)kind;
	n->line = at->line;
	n->col = at->col;
	return n;
}

typedef struct nvec {
	qnode **v;
	size_t n, cap;
} nvec;

static void nvec_push(nvec *v, qnode *n)
{
	v->v = aw_mem_grow(v->v, v->n, &v->cap, sizeof(*v->v), 8);
	v->v[v->n++] = n;
}

static void set_kids(parser *p, qnode *n, nvec *v)
{
	n->nkids = (uint32_t)v->n;
	if (v->n) {
		n->kids = arena(p->P, v->n * sizeof(qnode *));
		memcpy(n->kids, v->v, v->n * sizeof(qnode *));
	}
	free(v->v);
	v->v = NULL;
	v->n = v->cap = 0;
}

static qnode *p_binop(parser *p);
static qnode *p_statements(parser *p, bool in_block);

static bool enter(parser *p)
{
	if (++p->depth > Q_MAX_NEST) {
		if (!p->failed) {
			tok *k = cur(p);
			char detail[64];
			p->failed = true;
			snprintf(detail, sizeof(detail), "nesting deeper than %d levels", Q_MAX_NEST);
			parse_error(p->err, k->line, k->col, detail);
		}
		return false;
	}
	return true;
}

static qv keep_str(parser *p, const char *s, size_t n)
{
	qv v = value_str(s, n);

	p->strs = aw_mem_grow(p->strs, p->nstrs, &p->capstrs, sizeof(*p->strs), 16);
	p->strs[p->nstrs++] = v;
	return v;
}

/* "(" binop { "," binop } ")" after the opening token was consumed; close = closing token */
static bool p_list_items(parser *p, int close, nvec *items)
{
	if (cur(p)->t == close) {
		p->i++;
		return true;
	}
	for (;;) {
		qnode *e = p_binop(p);
		if (!e)
			return false;
		nvec_push(items, e);
		if (cur(p)->t == T_COMMA) {
			p->i++;
			continue;
		}
		if (cur(p)->t == close) {
			p->i++;
			return true;
		}
		perr(p, cur(p), close == T_RPAREN ? "',' or ')'" : "',' or ']'");
		return false;
	}
}

/* Keys of a dict literal being parsed, in first-appearance order, with their index. */
typedef struct dkeys {
	qstr **keys;
	const char **s;
	size_t *len;
	size_t n, cap;
	qstrix ix;
} dkeys;

static void dkeys_free(dkeys *d)
{
	free(d->keys);
	free(d->s);
	free(d->len);
	free(d->ix.t);
}

/* Add key k with value v, or replace the value of an equal earlier key: aw-server-rust
 * builds a HashMap at parse time, so the earlier expression is never evaluated. */
static void dkeys_put(parser *p, dkeys *d, nvec *vals, tok *k, qnode *v)
{
	long j = strix_find(&d->ix, d->s, d->len, k->s, k->slen);

	if (j >= 0) {
		vals->v[j] = v;
		return;
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->keys = aw_mem_realloc(d->keys, d->cap * sizeof(*d->keys));
		d->s = aw_mem_realloc(d->s, d->cap * sizeof(*d->s));
		d->len = aw_mem_realloc(d->len, d->cap * sizeof(*d->len));
	}
	d->keys[d->n] = QSTR(keep_str(p, k->s, k->slen));
	d->s[d->n] = d->keys[d->n]->s;
	d->len[d->n] = k->slen;
	strix_add(&d->ix, d->s, d->len, d->n);
	d->n++;
	nvec_push(vals, v);
}

/* object := "{" [ STRING ":" binop { "," STRING ":" binop } ] "}" (at the "{") */
static qnode *p_dict(parser *p, tok *at)
{
	qnode *n = mknode(p, N_DICT, at);
	dkeys d = {0};
	nvec vals = {0};

	p->i++;
	if (cur(p)->t == T_RBRACE) {
		p->i++;
		return n;
	}
	for (;;) {
		tok *kk = cur(p);
		qnode *v;
		if (kk->t != T_STR) {
			perr(p, kk, "a string key");
			goto fail;
		}
		p->i++;
		if (cur(p)->t != T_COLON) {
			perr(p, cur(p), "':'");
			goto fail;
		}
		p->i++;
		if (!(v = p_binop(p)))
			goto fail;
		dkeys_put(p, &d, &vals, kk, v);
		if (cur(p)->t == T_COMMA) {
			p->i++;
			continue;
		}
		if (cur(p)->t == T_RBRACE) {
			p->i++;
			break;
		}
		perr(p, cur(p), "',' or '}'");
		goto fail;
	}
	n->keys = arena(p->P, d.n * sizeof(qstr *));
	memcpy(n->keys, d.keys, d.n * sizeof(qstr *));
	dkeys_free(&d);
	set_kids(p, n, &vals);
	return n;
fail:
	dkeys_free(&d);
	free(vals.v);
	return NULL;
}

/* func := IDENT "(" [args] ")" | object; object := "{" ... "}" | list; list := "[" ... "]" | atom */
static qnode *p_operand(parser *p)
{
	tok *k = cur(p);
	qnode *n = NULL;
	nvec items = {0};

	if (!enter(p))
		return NULL;
	switch (k->t) {
	case T_IDENT:
		if (peek(p, 1)->t == T_LPAREN) {
			n = mknode(p, N_CALL, k);
			n->slot = program_slot(p->P, p->L->src + k->off, k->len);
			p->i += 2;
			if (!p_list_items(p, T_RPAREN, &items)) {
				free(items.v);
				n = NULL;
				break;
			}
			set_kids(p, n, &items);
		} else {
			n = mknode(p, N_VAR, k);
			n->slot = program_slot(p->P, p->L->src + k->off, k->len);
			p->i++;
		}
		break;
	case T_LBRACE:
		n = p_dict(p, k);
		break;
	case T_LBRACK:
		n = mknode(p, N_LIST, k);
		p->i++;
		if (!p_list_items(p, T_RBRACK, &items)) {
			free(items.v);
			n = NULL;
			break;
		}
		set_kids(p, n, &items);
		break;
	case T_BOOL:
		n = mknode(p, N_BOOL, k);
		n->num = k->b;
		p->i++;
		break;
	case T_NUM:
		n = mknode(p, N_NUM, k);
		n->num = k->num;
		p->i++;
		break;
	case T_STR:
		n = mknode(p, N_STR, k);
		n->str = keep_str(p, k->s, k->slen);
		p->i++;
		break;
	case T_LPAREN:
		p->i++;
		n = p_binop(p);
		if (n && cur(p)->t != T_RPAREN) {
			perr(p, cur(p), "an operator or ')'");
			n = NULL;
		} else if (n) {
			p->i++;
		}
		break;
	default:
		perr(p, k, "an expression");
		break;
	}
	p->depth--;
	return n;
}

static int binop_of(int t)
{
	switch (t) {
	case T_PLUS: return OP_ADD;
	case T_MINUS: return OP_SUB;
	case T_STAR: return OP_MUL;
	case T_SLASH: return OP_DIV;
	case T_PERCENT: return OP_MOD;
	case T_EQEQ: return OP_EQ;
	default: return -1;
	}
}

static qnode *p_binop(parser *p)
{
	qnode *lhs = p_operand(p);
	int op;

	while (lhs && (op = binop_of(cur(p)->t)) >= 0) {
		qnode *n = mknode(p, N_BIN, cur(p)), *rhs;
		p->i++;
		if (!(rhs = p_operand(p)))
			return NULL;
		n->op = (uint8_t)op;
		n->nkids = 2;
		n->kids = arena(p->P, 2 * sizeof(qnode *));
		n->kids[0] = lhs;
		n->kids[1] = rhs;
		lhs = n;
	}
	return lhs;
}

static bool uses_slot(const qnode *n, int slot)
{
	return (n->kind == N_VAR || n->kind == N_CALL || n->kind == N_ASSIGN) && n->slot == slot;
}

/* Occurrences of slot as a variable or a called name in the subtree, counted up to 2.
 * Only the left spine of a binary chain can be deeper than the parser's nesting limit
 * (`1 + 1 + ...` nests one level per operator), so it is walked in a loop. */
static int count_slot(const qnode *n, int slot)
{
	int c = 0;

	for (; n && c < 2; n = n->kind == N_BIN ? n->kids[0] : NULL) {
		c += uses_slot(n, slot);
		for (uint32_t i = n->kind == N_BIN ? 1 : 0; i < n->nkids && c < 2; i++)
			if (n->kids[i])
				c += count_slot(n->kids[i], slot);
	}
	return c;
}

/* `x = f(..., x, ...)` where x appears nowhere else in the call: the interpreter moves x's
 * value into the call instead of sharing it, so the function may reuse its memory (the
 * old value is dropped by the assignment anyway). op = 1 marks it, num = argument index. */
static void mark_move(qnode *assign)
{
	qnode *call = assign->kids[0];

	if (call->kind != N_CALL || count_slot(call, assign->slot) != 1)
		return;
	for (uint32_t i = 0; i < call->nkids; i++)
		if (call->kids[i]->kind == N_VAR && call->kids[i]->slot == assign->slot) {
			assign->op = 1;
			assign->num = i;
			return;
		}
}

/* assign := IDENT "=" binop | binop */
static qnode *p_assign(parser *p)
{
	tok *k = cur(p);

	if (k->t == T_IDENT && peek(p, 1)->t == T_ASSIGN) {
		qnode *n = mknode(p, N_ASSIGN, k), *v;
		n->slot = program_slot(p->P, p->L->src + k->off, k->len);
		p->i += 2;
		if (!(v = p_binop(p)))
			return NULL;
		n->nkids = 1;
		n->kids = arena(p->P, sizeof(qnode *));
		n->kids[0] = v;
		mark_move(n);
		return n;
	}
	return p_binop(p);
}

static qnode *p_block(parser *p)
{
	qnode *b;

	if (cur(p)->t != T_LBRACE)
		return perr(p, cur(p), "'{'");
	p->i++;
	if (!(b = p_statements(p, true)))
		return NULL;
	if (cur(p)->t != T_RBRACE)
		return perr(p, cur(p), "a statement or '}'");
	p->i++;
	return b;
}

static qnode *p_if(parser *p)
{
	qnode *n = mknode(p, N_IF, cur(p));
	nvec kids = {0};

	if (!enter(p))
		return NULL;
	p->i++; /* if */
	for (;;) {
		qnode *cond, *blk;
		tok *ct = cur(p);
		if (!(cond = p_binop(p)))
			goto fail;
		if (cur(p)->t != T_LBRACE) {
			perr(p, cur(p), "an operator or '{'");
			goto fail;
		}
		(void)ct;
		if (!(blk = p_block(p)))
			goto fail;
		nvec_push(&kids, cond);
		nvec_push(&kids, blk);
		if (cur(p)->t == T_ELIF) {
			p->i++;
			continue;
		}
		if (cur(p)->t == T_ELSE) {
			qnode *t = mknode(p, N_BOOL, cur(p));
			t->num = 1;
			p->i++;
			if (!(blk = p_block(p)))
				goto fail;
			nvec_push(&kids, t);
			nvec_push(&kids, blk);
		}
		break;
	}
	set_kids(p, n, &kids);
	p->depth--;
	return n;
fail:
	free(kids.v);
	return NULL;
}

/* statements := ε | statements statement | statements ";" */
static qnode *p_statements(parser *p, bool in_block)
{
	qnode *blk = mknode(p, N_BLOCK, cur(p));
	nvec st = {0};

	for (;;) {
		tok *k = cur(p);
		qnode *s;
		if (k->t == T_SEMI) {
			p->i++;
			continue;
		}
		if (k->t == T_EOF || (in_block && k->t == T_RBRACE))
			break;
		if (k->t == T_IF) {
			if (!(s = p_if(p)))
				goto fail;
		} else if (k->t == T_RETURN) {
			qnode *v;
			s = mknode(p, N_RETURN, k);
			p->i++;
			if (!(v = p_assign(p)))
				goto fail;
			s->nkids = 1;
			s->kids = arena(p->P, sizeof(qnode *));
			s->kids[0] = v;
			if (cur(p)->t != T_SEMI) {
				perr(p, cur(p), "an operator or ';'");
				goto fail;
			}
			p->i++;
		} else {
			if (!(s = p_assign(p)))
				goto fail;
			if (cur(p)->t != T_SEMI) {
				perr(p, cur(p), s->kind == N_VAR && cur(p)->t == T_IDENT
							 ? "an operator, '(' or ';'"
							 : "an operator or ';'");
				goto fail;
			}
			p->i++;
		}
		nvec_push(&st, s);
	}
	set_kids(p, blk, &st);
	return blk;
fail:
	free(st.v);
	return NULL;
}

static void prog_add_release(qprog *P, parser *p);

static void lexer_free(lexer *L)
{
	for (size_t i = 0; i < L->n; i++)
		free(L->toks[i].s);
	free(L->toks);
}

/* Tokens and syntax tree take up to ~150 bytes per token (64 per token, about as much
 * for its node, growth slack): bounding the tokens bounds what a request body can make
 * the parser allocate. */
static qprog *too_long(lexer *L, qprog *P, aw_query_error *err)
{
	tok *k = &L->toks[L->n - 1];
	char detail[64];

	snprintf(detail, sizeof(detail), "the query has more than %d tokens", Q_MAX_TOKENS);
	parse_error(err, k->line, k->col, detail);
	lexer_free(L);
	program_free(P);
	return NULL;
}

qprog *parse_program(const char *src, size_t len, aw_query_error *err)
{
	lexer L;
	parser p;
	qprog *P = aw_mem_calloc(1, sizeof(*P));

	memset(&L, 0, sizeof(L));
	L.src = src;
	L.len = len;
	L.line = L.col = 1;
	lex(&L);
	if (L.too_long)
		return too_long(&L, P, err);

	memset(&p, 0, sizeof(p));
	p.L = &L;
	p.P = P;
	p.err = err;
	/* built-ins take the first slots, then TIMEINTERVAL and RETURN */
	for (size_t i = 0; i < builtin_count; i++)
		program_slot(P, builtin_table[i].name, strlen(builtin_table[i].name));
	program_slot(P, "TIMEINTERVAL", 12);
	program_slot(P, "RETURN", 6);

	P->root = p_statements(&p, false);
	if (P->root && cur(&p)->t != T_EOF) {
		perr(&p, cur(&p), "a statement");
		P->root = NULL;
	}
	prog_add_release(P, &p);
	lexer_free(&L);
	if (!P->root) {
		program_free(P);
		return NULL;
	}
	return P;
}

static void prog_add_release(qprog *P, parser *p)
{
	P->strs = p->strs;
	P->nstrs = p->nstrs;
}
