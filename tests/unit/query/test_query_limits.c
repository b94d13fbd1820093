/* Inputs far bigger than the fuzzer's, built here: flat operator chains deeper than any
 * stack (`1 + 1 + ...` with 60,000 operands of every operator), 100,000-key dict
 * literals and 100,000 distinct variable names. They must give the right result (or a
 * clear AW_EINVALID error), never crash; a quadratic cost shows up as a hang of this test. Also regex
 * classes as aw-server-rust defines them: ASCII-only POSIX classes, Unicode \w, \s and \b
 * (docs/query.md, Regexes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtest.h"

#define CHAIN 60000

/* "RETURN = <first> <op> <operand> <op> <operand> ...;" with n operands in all */
static char *chain(const char *first, const char *op, const char *operand, int n)
{
	char step[64];

	snprintf(step, sizeof(step), " %s %s", op, operand);
	return QT_PIECES({"RETURN = ", 1}, {first, 1}, {step, n - 1}, {";", 1});
}

static void expect_chain(const char *first, const char *op, const char *operand, const char *want)
{
	char *prog = chain(first, op, operand, CHAIN);

	qt_expect_raw(NULL, prog, want);
	free(prog);
}

static json_t *eval_ok(const char *prog)
{
	aw_query_error err;
	json_t *v = qt_eval(prog, &err);

	if (!v)
		fail_msg("query failed: %s", err.message);
	return v;
}

static void test_flat_chains(void **state)
{
	(void)state;
	expect_chain("1", "+", "1", "[60000.0]");
	expect_chain("60000", "-", "1", "[1.0]");
	expect_chain("1", "*", "1", "[1.0]");
	expect_chain("1", "/", "1", "[1.0]");
	expect_chain("7", "%", "5", "[2.0]");
	expect_chain("true", "==", "true", "[true]");
	expect_chain("false", "==", "false", "[true]"); /* alternates: true, false, ... */
	expect_chain("2", "*", "(0 + 1)", "[2.0]");
	/* one precedence level, left to right */
	qt_expect_raw(NULL, "RETURN = 1 + 2 * 3 - 1 % 5 == 3;", "[true]");
}

static void test_flat_chains_strings_and_lists(void **state)
{
	char *prog;
	json_t *v;

	(void)state;
	prog = chain("\"ab\"", "+", "\"ab\"", CHAIN);
	v = eval_ok(prog);
	assert_int_equal(json_string_length(v), 2 * CHAIN);
	assert_memory_equal(json_string_value(v) + 2 * CHAIN - 4, "abab", 4);
	json_decref(v);
	free(prog);

	prog = chain("[1]", "+", "[2]", CHAIN);
	v = eval_ok(prog);
	assert_int_equal(json_array_size(v), CHAIN);
	assert_true(json_number_value(json_array_get(v, 0)) == 1);
	assert_true(json_number_value(json_array_get(v, CHAIN - 1)) == 2);
	json_decref(v);
	free(prog);

	/* empty lists and nested values join like single `+` steps */
	qt_expect_raw(NULL, "RETURN = [] + [1] + [] + [[2], \"x\"] + [];", "[[1.0,[2.0],\"x\"]]");
	qt_expect_raw(NULL, "RETURN = \"\" + \"a\" + \"\" + \"b\";", "[\"ab\"]");
	qt_expect_raw(NULL, "a = [1]; b = a + a + a; RETURN = [a, b, a + [] == a];", "[[[1.0],[1.0,1.0,1.0],true]]");
	/* a type error in the middle of a joined run is reported at its operator */
	qt_expect_error(NULL, "RETURN = \"a\" + \"b\" + 1 + \"c\";", "InvalidType(\"Cannot use + on something that is not a string with a string!\") at line 1, column 20", AW_EINVALID);
	qt_expect_error(NULL, "RETURN = [1] + [2] + \"c\";", "InvalidType(\"Cannot use + on something that is not a list with a list!\") at line 1, column 20", AW_EINVALID);
}

static void test_flat_chain_errors(void **state)
{
	aw_query_error e;
	char *prog;

	(void)state;
	/* a number among strings near the end: the error names its operator's position */
	prog = QT_PIECES({"RETURN = \"x\"", 1}, {" + \"x\"", CHAIN - 3}, {"\n+ 1", 1}, {" + \"x\"", 1}, {";", 1});
	e = qt_expect_error(NULL, prog, "InvalidType", AW_EINVALID);
	assert_int_equal(e.line, 2);
	assert_int_equal(e.column, 1);
	free(prog);

	/* a program of more tokens than the parser takes (bounding its memory) */
	prog = chain("1", "+", "1", Q_MAX_TOKENS / 2 + 1);
	qt_expect_error(NULL, prog, "ParsingError(\"the query has more than 1000000 tokens\")", AW_EINVALID);
	free(prog);
	/* == of a bool and a number, division by zero, an undefined variable at the far end */
	prog = chain("1", "==", "1", CHAIN);
	qt_expect_error(NULL, prog, "InvalidType(\"Cannot compare values of different types Bool(true) and Number(1)\")", AW_EINVALID);
	free(prog);
	prog = chain("1", "/", "0", CHAIN);
	qt_expect_error(NULL, prog, "MathError", AW_EINVALID);
	free(prog);
	prog = chain("1", "+", "undefined_name", CHAIN);
	qt_expect_error(NULL, prog, "VariableNotDefined(\"undefined_name\") at line 1, column 14", AW_EINVALID);
	free(prog);
	/* memory limit reached inside a joined run */
	prog = QT_PIECES({"a = \"xxxxxxxxxxxxxxxx\";", 1}, {"a = a + a;", 20}, {"RETURN = a", 1}, {" + a", 18}, {";", 1});
	qt_expect_error(NULL, prog, "ResourceLimit", AW_EINVALID);
	free(prog);
	prog = QT_PIECES({"a = [1];", 1}, {"a = a + a;", 21}, {"RETURN = a", 1}, {" + a", 8}, {";", 1});
	qt_expect_error(NULL, prog, "ResourceLimit(\"list too long\")", AW_EINVALID);
	free(prog);
}

/* Chains inside calls, lists and assignments (the parser's move analysis walks them). */
static void test_flat_chains_nested(void **state)
{
	char *prog = QT_PIECES({"x = 0; x = contains([x", 1}, {" + 1", CHAIN - 1}, {"], 59999); RETURN = [x, [1", 1},
			       {" + 1", CHAIN - 1}, {"]];", 1});

	(void)state;
	qt_expect_raw(NULL, prog, "[[true,[60000.0]]]");
	free(prog);
}

static void test_big_dict(void **state)
{
	aw_buf b = AW_BUF_INIT;
	json_t *v, *d;

	(void)state;
	aw_buf_puts(&b, "d = {");
	for (int i = 0; i < 100000; i++)
		aw_buf_printf(&b, "%s\"k%d\": %d", i ? ", " : "", i, i);
	/* a repeated key replaces the earlier value, whose expression is never evaluated */
	aw_buf_puts(&b, ", \"k7\": undefined_name, \"k7\": 0 - 7};\n"
			"e = {");
	for (int i = 99999; i >= 0; i--)
		aw_buf_printf(&b, "\"k%d\": %s%d%s", i, i == 7 ? "0 - " : "", i, i ? ", " : "");
	aw_buf_puts(&b, "};\nRETURN = [d, d == e, contains(d, \"k99999\"), contains(d, \"k100000\")];");
	v = eval_ok(b.data);
	d = json_array_get(v, 0);
	assert_int_equal(json_object_size(d), 100000);
	assert_true(json_number_value(json_object_get(d, "k99999")) == 99999);
	assert_true(json_number_value(json_object_get(d, "k7")) == -7);
	assert_true(json_is_true(json_array_get(v, 1)));
	assert_true(json_is_true(json_array_get(v, 2)));
	assert_true(json_is_false(json_array_get(v, 3)));
	json_decref(v);
	aw_buf_free(&b);
	/* keys print sorted bytewise, a prefix first */
	qt_expect_raw(NULL, "RETURN = {\"b\": 1, \"a\": 2, \"ab\": 3, \"\": 4, \"B\": 5};",
		      "[{\"\":4.0,\"B\":5.0,\"a\":2.0,\"ab\":3.0,\"b\":1.0}]");
	qt_expect_raw(NULL, "RETURN = [{\"a\": 1, \"b\": 2} == {\"b\": 2, \"a\": 1}, {\"a\": 1} == {\"b\": 1}];",
		      "[[true,false]]");
}

static void test_many_names(void **state)
{
	aw_buf b = AW_BUF_INIT;

	(void)state;
	for (int i = 0; i < 100000; i++)
		aw_buf_printf(&b, "v%d = %d;\n", i, i);
	aw_buf_puts(&b, "RETURN = v0 + v1 + v99999 + v50000;");
	qt_expect_raw(NULL, b.data, "[150000.0]");
	aw_buf_puts(&b, "RETURN = v100000;");
	qt_expect_error(NULL, b.data, "VariableNotDefined(\"v100000\") at line 100001, column 45", AW_EINVALID);
	aw_buf_free(&b);
}

/* ---- regexes: POSIX classes are ASCII-only, everything else Unicode-aware ------------ */

#define W "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}"

static void expect_rewrite(const char *pat, const char *want)
{
	aw_buf b = AW_BUF_INIT;
	bool changed = regex_classes(pat, strlen(pat), &b);

	if (strcmp(b.data ? b.data : "", want))
		fail_msg("%s\n got: %s\nwant: %s", pat, b.data ? b.data : "", want);
	assert_int_equal(changed, strcmp(pat, want) != 0);
	aw_buf_free(&b);
}

static void test_posix_rewrite(void **state)
{
	(void)state;
	expect_rewrite("[[:alpha:]]+", "[A-Za-z]+");
	expect_rewrite("[_[:digit:][:upper:]]", "[_0-9A-Z]");
	expect_rewrite("[^[:space:]]", "[^\\x{9}-\\x{d}\\x{20}]");
	expect_rewrite("[[:^alpha:]]", "(?:[^A-Za-z])");
	expect_rewrite("[x[:^alpha:]]{2}", "(?:[x]|[^A-Za-z]){2}");
	expect_rewrite("[^x[:^alpha:]]", "(?:(?=[A-Za-z])[^x])");
	expect_rewrite("[^[:^alpha:]]", "(?:(?=[A-Za-z])(?s:.))");
	expect_rewrite("[[:alpha:]^]", "[A-Za-z^]");
	expect_rewrite("[[:^alpha:]^]", "(?:[\\^]|[^A-Za-z])");
	expect_rewrite("[]a[:lower:]]", "[]aa-z]");
	expect_rewrite("[\\][:lower:]]", "[\\]a-z]");
	/* not classes, or not POSIX items: unchanged */
	expect_rewrite("\\[[:alpha:]]", "\\[[:alpha:]]");
	expect_rewrite("\\Q[[:alpha:]]\\E", "\\Q[[:alpha:]]\\E");
	expect_rewrite("[\\Q[:alpha:]\\E]", "[\\Q[:alpha:]\\E]");
	expect_rewrite("(?#[[:alpha:]])a", "(?#[[:alpha:]])a");
	expect_rewrite("[[:foo:]]", "[[:foo:]]");
	expect_rewrite("\\b+", "\\b+");
	expect_rewrite("\\c[[:alpha:]]", "\\c[[:alpha:]]"); /* \c[ is ESC, then "[:alpha:]]" */
	expect_rewrite("[[:alpha:]", "[[:alpha:]");
	expect_rewrite("\\d\\D\\p{L}\\\\w", "\\d\\D\\p{L}\\\\w");
	/* Rust's Unicode \w, \s and \b */
	expect_rewrite("\\w+\\S", "[" W "]+[^\\p{White_Space}]");
	expect_rewrite("[\\w-]", "[" W "-]");
	expect_rewrite("[^\\W\\d]", "(?:(?=[" W "])[^\\d])");
	expect_rewrite("\\bx", "(?:(?<=[" W "])(?![" W "])|(?<![" W "])(?=[" W "]))x");
	/* # comments under the x flag, which a group scopes */
	expect_rewrite("(?x)#[[:alpha:]]\n[[:digit:]]", "(?x)#[[:alpha:]]\n[0-9]");
	expect_rewrite("(?x:a)#[[:digit:]]", "(?x:a)#[0-9]");
	expect_rewrite("(?x-x)#[[:digit:]]", "(?x-x)#[0-9]");
}

/* Words a, b, c, ... and which of them each pattern matches, as aw-server-rust's engine
 * decides. */
static void test_classes_match_reference(void **state)
{
	static const char *const words[] = {
		"abc", "ABC", "\xc3\xa9t\xc3\xa9" /* été */, "123", "\xd9\xa1\xd9\xa2" /* Arabic-Indic 12 */,
		"\xe2\x84\xaa" /* Kelvin sign */, "\xc5\xbf" /* long s */, "a_1",
		"\xe0\xa4\x95\xe0\xa4\xbf" /* Devanagari ka + vowel sign i (a mark) */, "\xc2\xb2" /* superscript 2 */,
		"a\xe2\x80\x8d" "b" /* zero width joiner */, "e\xcc\x81" /* e + combining acute */,
		"a\xe1\xa0\x8e" "b" /* U+180E, not White_Space */};
	static const struct {
		const char *re;
		const char *want;
	} cases[] = {
		{"^[[:alpha:]]+$", "ab"},
		{"^[[:alnum:]_]+$", "abdh"},
		{"^[[:^alpha:]]+$", "defgij"},
		{"^[[:digit:]]+$", "d"},
		{"^[[:word:]]+$", "abdh"},
		{"(?i)^[[:upper:]]+$", "abfg"}, /* folding adds the Kelvin sign and long s */
		{"(?i)^[[:^upper:]]+$", "deij"},
		{"^[[:upper:]]+$", "b"},
		{"^\\d+$", "de"},
		{"^\\w+$", "abcdefghikl"},
		{"^[\\w]+$", "abcdefghikl"},
		{"^\\W+$", "j"},
		{"^[^\\W\\d]+$", "abcfgikl"},
		{"^a\\Sb$", "km"},
		{"e\\B", "l"},
		{"\\bt", ""},
		{"(?i)^\\x{c9}T\\x{c9}$", "c"},
		{"(?i)^abc$", "ab"},
	};
	qt_db *d = qt_db_open();
	aw_buf b = AW_BUF_INIT;

	(void)state;
	qt_bucket(d, "b", "h");
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char data[64], ts[32];
		snprintf(data, sizeof(data), "{\"t\":\"%s\",\"i\":\"%c\"}", words[i], (char)('a' + i));
		snprintf(ts, sizeof(ts), "2020-01-01T00:00:%02zuZ", i);
		qt_insert(d, "b", ts, 1, data);
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		aw_query_error err;
		json_t *v, *l;
		aw_buf_reset(&b);
		aw_buf_puts(&b, "RETURN = sort_by_timestamp(filter_keyvals_regex(query_bucket(\"b\"), \"t\", ");
		aw_buf_printf(&b, "\"%s\"));", cases[c].re); /* query strings only unescape \" */
		v = qt_query(d, b.data, &err, NULL);
		if (!v)
			fail_msg("%s: %s", cases[c].re, err.message);
		l = v;
		aw_buf_reset(&b);
		for (size_t i = 0; i < json_array_size(l); i++)
			aw_buf_puts(&b, json_string_value(json_object_get(json_object_get(json_array_get(l, i), "data"), "i")));
		if (strcmp(b.data ? b.data : "", cases[c].want))
			fail_msg("%s matched \"%s\", want \"%s\"", cases[c].re, b.data ? b.data : "", cases[c].want);
		json_decref(v);
	}
	/* a compile error reports the offset in the pattern as written */
	qt_expect_error(d, "RETURN = filter_keyvals_regex(query_bucket(\"b\"), \"t\", \"[[:^alpha:]](\");",
			"RegexCompileError(\"Failed to compile regex string '[[:^alpha:]](': missing closing parenthesis at offset 13\")", AW_EINVALID);
	aw_buf_free(&b);
	qt_db_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_chains),
		cmocka_unit_test(test_flat_chains_strings_and_lists),
		cmocka_unit_test(test_flat_chain_errors),
		cmocka_unit_test(test_flat_chains_nested),
		cmocka_unit_test(test_big_dict),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_posix_rewrite),
		cmocka_unit_test(test_classes_match_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
