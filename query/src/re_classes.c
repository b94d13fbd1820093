/*
 * Regex classes as aw-server-rust defines them, for PCRE2 patterns.
 *
 * aw-server-rust's regex engine (Rust's `regex` syntax) is Unicode-aware for `\w`, `\s`,
 * `\d`, `\b` and case-insensitivity, but its POSIX classes (`[[:alpha:]]`, ...) are
 * ASCII-only. PCRE2 with PCRE2_UCP makes POSIX classes Unicode too (this PCRE2 has no
 * option to keep just them ASCII), and its `\w` and `\s` are close to, not equal to,
 * Rust's (no combining marks or Join_Control in `\w`; U+180E in `\s`). So before PCRE2
 * compiles a pattern, these are rewritten into the sets aw-server-rust uses
 * (docs/query.md, Regexes):
 *
 *   [[:alpha:]]     -> [A-Za-z]                   (the 14 POSIX names: ASCII ranges)
 *   \w  \W          -> [W]  [^W]  with W = Alphabetic, M, Nd, Pc, Join_Control
 *   \s  \S          -> [\p{White_Space}]  [^\p{White_Space}]
 *   \b  \B          -> look-arounds on W (a boundary is a change of "is W")
 *   [x[:^alpha:]]   -> (?:[x]|[^A-Za-z])         union with a complement
 *   [^x[:^alpha:]]  -> (?:(?=[A-Za-z])[^x])      complement of that union
 *
 * Writing a negated set as `[^...]` (instead of complement ranges) keeps case folding
 * exact: under (?i) both engines fold the set first and then negate it. `\d` is already
 * the same (Nd) and is left alone.
 *
 * The scanner knows just enough PCRE2 syntax not to mistake other text for a class:
 * escapes, \Q...\E, (?#...) comments, and # comments under the x flag. Anything it does
 * not understand is copied unchanged for PCRE2 to accept or reject.
 */
#include <stdbool.h>
#include <string.h>

#include "internal.h"

typedef struct pclass {
	const char *name;
	const char *set; /* class body text, valid in any PCRE2 mode */
} pclass;

/* The ranges of regex-syntax's ASCII classes. */
static const pclass classes[] = {
	{"alnum", "0-9A-Za-z"},
	{"alpha", "A-Za-z"},
	{"ascii", "\\x{0}-\\x{7f}"},
	{"blank", "\\x{9}\\x{20}"},
	{"cntrl", "\\x{0}-\\x{1f}\\x{7f}"},
	{"digit", "0-9"},
	{"graph", "\\x{21}-\\x{7e}"},
	{"lower", "a-z"},
	{"print", "\\x{20}-\\x{7e}"},
	{"punct", "\\x{21}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{60}\\x{7b}-\\x{7e}"},
	{"space", "\\x{9}-\\x{d}\\x{20}"},
	{"upper", "A-Z"},
	{"word", "0-9A-Za-z_"},
	{"xdigit", "0-9A-Fa-f"},
};

/* Rust's Unicode \w (Unicode's word characters) and \s */
static const pclass word = {"w", "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}"};
static const pclass space = {"s", "\\p{White_Space}"};

typedef struct scan {
	const char *p;
	size_t len, i;
	aw_buf *out;
	bool changed;
} scan;

/* A POSIX class item `[:name:]` or `[:^name:]` at p[i]: its set, or NULL. */
static const pclass *posix_at(const scan *s, size_t i, bool *neg, size_t *end)
{
	size_t k = i + 2, n = 0;

	if (i + 1 >= s->len || s->p[i] != '[' || s->p[i + 1] != ':')
		return NULL;
	*neg = k < s->len && s->p[k] == '^';
	k += *neg;
	while (k + n < s->len && s->p[k + n] >= 'a' && s->p[k + n] <= 'z')
		n++;
	if (k + n + 1 >= s->len || s->p[k + n] != ':' || s->p[k + n + 1] != ']')
		return NULL;
	for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++)
		if (strlen(classes[c].name) == n && !memcmp(classes[c].name, s->p + k, n)) {
			*end = k + n + 2;
			return &classes[c];
		}
	return NULL;
}

/* A class item with a set of its own at p[i] inside brackets: `[:name:]`, `[:^name:]`,
 * \w, \W, \s or \S. */
static const pclass *item_at(const scan *s, size_t i, bool *neg, size_t *end)
{
	char c = i + 1 < s->len && s->p[i] == '\\' ? s->p[i + 1] : 0;

	if (c == 'w' || c == 'W' || c == 's' || c == 'S') {
		*neg = c == 'W' || c == 'S';
		*end = i + 2;
		return c == 'w' || c == 'W' ? &word : &space;
	}
	return posix_at(s, i, neg, end);
}

/* Length of \Q...\E (or to the end) at p[i]. */
static size_t quoted_len(const scan *s, size_t i)
{
	size_t k = i + 2;

	while (k < s->len && !(s->p[k] == '\\' && k + 1 < s->len && s->p[k + 1] == 'E'))
		k++;
	return (k < s->len ? k + 2 : s->len) - i;
}

/* Length of the escape at p[i] ('\\', not the last byte): \Q...\E, \cX (X may be '['),
 * or a backslash and one byte (the rest of \x{..}, \p{..} holds no brackets). */
static size_t escape_len(const scan *s, size_t i)
{
	if (s->p[i + 1] == 'Q')
		return quoted_len(s, i);
	if (s->p[i + 1] == 'c' && i + 2 < s->len)
		return 3;
	return 2;
}

/* The class starting at p[i] ('['). Copies it, rewritten when it has items of item_at.
 * Returns false (nothing written) when it does not end: PCRE2 reports that.
 *
 * Each part of the rewritten union matches exactly one character, so the order of the
 * alternatives does not change what matches. */
static bool copy_class(scan *s)
{
	aw_buf rest = AW_BUF_INIT, negs = AW_BUF_INIT;
	size_t j = s->i + 1;
	bool outer_neg = false, first = true, items = false, ok = false;

	if (j < s->len && s->p[j] == '^') {
		outer_neg = true;
		j++;
	}
	while (j < s->len) {
		const pclass *pc;
		bool neg;
		size_t end, n = 1;
		if (s->p[j] == ']' && !first) {
			ok = true;
			break;
		}
		first = false;
		if ((pc = item_at(s, j, &neg, &end))) {
			items = true;
			if (!neg)
				aw_buf_puts(&rest, pc->set);
			else if (outer_neg)
				aw_buf_printf(&negs, "(?=[%s])", pc->set); /* ¬(.. ∪ ¬A) needs A */
			else
				aw_buf_printf(&negs, "|[^%s]", pc->set);   /* .. ∪ ¬A */
			j = end;
			continue;
		}
		if (s->p[j] == '\\' && j + 1 < s->len)
			n = escape_len(s, j);
		if (!rest.len && s->p[j] == '^')
			aw_buf_putc(&rest, '\\'); /* an item_at item came first: keep '^' literal */
		aw_buf_append(&rest, s->p + j, n);
		j += n;
	}
	if (ok && !items) {
		aw_buf_append(s->out, s->p + s->i, j + 1 - s->i);
	} else if (ok && !negs.len) {
		aw_buf_puts(s->out, outer_neg ? "[^" : "[");
		aw_buf_append(s->out, rest.data, rest.len);
		aw_buf_putc(s->out, ']');
	} else if (ok) {
		/* x ∪ ¬A: "(?:[x]|[^A])"; ¬(x ∪ ¬A): "(?:(?=[A])[^x])" */
		aw_buf_puts(s->out, "(?:");
		if (!outer_neg && rest.len) {
			aw_buf_putc(s->out, '[');
			aw_buf_append(s->out, rest.data, rest.len);
			aw_buf_putc(s->out, ']');
		}
		aw_buf_puts(s->out, negs.data + (!outer_neg && !rest.len)); /* no leading '|' */
		if (outer_neg && rest.len) {
			aw_buf_puts(s->out, "[^");
			aw_buf_append(s->out, rest.data, rest.len);
			aw_buf_putc(s->out, ']');
		} else if (outer_neg) {
			aw_buf_puts(s->out, "(?s:.)");
		}
		aw_buf_putc(s->out, ')');
	}
	aw_buf_free(&rest);
	aw_buf_free(&negs);
	if (!ok)
		return false;
	s->changed |= items;
	s->i = j + 1;
	return true;
}

/* At "(": the x flag inside, given x outside; *is_setting for "(?flags)", which changes
 * the flags of the enclosing group instead of opening one. */
static bool group_x(const scan *s, size_t i, bool x, bool *is_setting)
{
	bool on = true, nx = x;

	*is_setting = false;
	if (i + 1 >= s->len || s->p[i + 1] != '?')
		return x;
	for (size_t k = i + 2; k < s->len; k++) {
		char c = s->p[k];
		if (c == ')' || c == ':') {
			*is_setting = c == ')';
			return nx;
		}
		if (c == '-')
			on = false;
		else if (c == '^')
			nx = false;
		else if (c == 'x')
			nx = on;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			break;
	}
	return x;
}

/* \w \W \s \S \b \B outside brackets (at p[i] == '\\'): written out, true. */
static bool escape_out(scan *s, char c)
{
	const char *w = word.set;
	char q = s->i + 2 < s->len ? s->p[s->i + 2] : 0;

	/* a quantified \b stays as written, so PCRE2 rejects it as it always has ("does not
	 * follow a repeatable item"), where a rewritten group would be accepted */
	if ((c == 'b' || c == 'B') && (q == '*' || q == '+' || q == '?' || q == '{'))
		return false;
	switch (c) {
	case 'w': aw_buf_printf(s->out, "[%s]", w); break;
	case 'W': aw_buf_printf(s->out, "[^%s]", w); break;
	case 's': aw_buf_printf(s->out, "[%s]", space.set); break;
	case 'S': aw_buf_printf(s->out, "[^%s]", space.set); break;
	case 'b': aw_buf_printf(s->out, "(?:(?<=[%s])(?![%s])|(?<![%s])(?=[%s]))", w, w, w, w); break;
	case 'B': aw_buf_printf(s->out, "(?:(?<=[%s])(?=[%s])|(?<![%s])(?![%s]))", w, w, w, w); break;
	default: return false;
	}
	s->i += 2;
	s->changed = true;
	return true;
}

bool regex_classes(const char *pat, size_t len, aw_buf *out)
{
	scan s = {pat, len, 0, out, false};
	aw_buf xs = AW_BUF_INIT; /* the x flag outside each open group */
	bool x = false;

	while (s.i < len) {
		char c = pat[s.i];
		size_t n = 1;
		if (c == '[' && copy_class(&s))
			continue;
		if (c == '\\' && s.i + 1 < len && escape_out(&s, pat[s.i + 1]))
			continue;
		if (c == '\\' && s.i + 1 < len) {
			n = escape_len(&s, s.i);
		} else if (c == '(' && s.i + 2 < len && pat[s.i + 1] == '?' && pat[s.i + 2] == '#') {
			while (s.i + n < len && pat[s.i + n] != ')')
				n++;
			n += s.i + n < len;
		} else if (c == '#' && x) {
			while (s.i + n < len && pat[s.i + n] != '\n')
				n++;
		} else if (c == '(') {
			bool setting, nx = group_x(&s, s.i, x, &setting);
			if (!setting)
				aw_buf_putc(&xs, (char)x);
			x = nx;
		} else if (c == ')' && xs.len) {
			x = xs.data[--xs.len];
		}
		aw_buf_append(out, pat + s.i, n);
		s.i += n;
	}
	aw_buf_free(&xs);
	return s.changed;
}
