/* The query language: a port of every case of aw-server-rust's query-language tests,
 * the lexer/grammar quirks, result serialisation, the built-ins' argument rules (all in
 * docs/query.md), awnode's extras, and error kinds, codes and positions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtest.h"

static qt_db *db;  /* bucket "testid" with two events {"key":"value"} (reference's populated store) */

static int setup(void **state)
{
	(void)state;
	db = QT_DB_WITH("testid", "testhost", {"2018-01-01T01:01:01Z", 0, "{\"key\":\"value\"}"},
			{"2018-01-01T01:01:02Z", 0, "{\"key\":\"value\"}"});
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	qt_db_close(db);
	return 0;
}

static json_t *ok(const char *prog)
{
	aw_query_error err;
	json_t *v = qt_query(db, prog, &err, NULL);

	if (!v)
		fail_msg("query failed: %s\n%s", err.message, prog);
	return v;
}

/* prog returns a list of lists whose lengths must be want[0..n); returns the result. */
static json_t *expect_lengths(qt_db *d, const char *prog, const size_t *want, size_t n)
{
	aw_query_error err;
	json_t *v = qt_query(d, prog, &err, NULL);

	if (!v)
		fail_msg("query failed: %s\n%s", err.message, prog);
	assert_int_equal(json_array_size(v), n);
	for (size_t i = 0; i < n; i++)
		if (json_array_size(json_array_get(v, i)) != want[i])
			fail_msg("%s: list %zu has %zu items, want %zu", prog, i, json_array_size(json_array_get(v, i)), want[i]);
	return v;
}

/* A program and what it must give, run against the database of setup: the whole result
 * text (OK), or an AW_EINVALID error whose message starts with the text (ERR). */
typedef struct qcase {
	const char *prog, *want;
	int code;
} qcase;
#define OK(prog, want) {prog, want, 0}
#define ERR(prog, kind) {prog, kind, AW_EINVALID}

/* ---- aw-server-rust's query-language cases --------------------------------------------------- */

/* Programs and their results or errors, from aw-server-rust's language tests (bool to
 * math) and awnode's grammar quirks and extras. */
static void test_programs(void **state)
{
	static const qcase cases[] = {
		/* bool */
		OK("True;False;a=True;return True;", "[true]"),
		OK("return false;", "[false]"),
		OK("return true;", "[true]"),
		/* number */
		OK("1;1.;return 1.1;", "[1.1]"),
		OK("return 1;", "[1.0]"),
		OK("return 1.;", "[1.0]"),
		OK("return 0.5;", "[0.5]"),
		OK("return 100000000000000000000;", "[1e20]"),
		/* equals */
		OK("return 1==1;", "[true]"),
		OK("return  2==1;", "[false]"),
		OK("return  \"a\"==\"a\";", "[true]"),
		OK("return  \"a\"==\"b\";", "[false]"),
		OK("return  True==True;", "[true]"),
		OK("return  False==True;", "[false]"),
		ERR("return  True==1;", "InvalidType(\"Cannot compare values of different types"),
		/* lists and dicts compare structurally; None == None is false */
		OK("return [1, [2, \"x\"]] == [1, [2, \"x\"]];", "[true]"),
		OK("return {\"a\": [1]} == {\"a\": [1]};", "[true]"),
		OK("return {\"a\": 1} == {\"a\": 2};", "[false]"),
		OK("return print() == print();", "[false]"),
		OK("return [print()] == [print()];", "[true]"),
		/* return */
		OK("return 1;", "[1.0]"),
		OK("RETURN=1;", "[1.0]"),
		OK("return 1+1;", "[2.0]"),
		/* return does not stop execution; the last assignment wins */
		OK("return 1; return 2;", "[2.0]"),
		OK("return 1; RETURN = 3;", "[3.0]"),
		/* `return a = 1` returns None and assigns a */
		OK("return a = 1;", "[[]]"),
		OK("return a = 1; return a;", "[1.0]"),
		/* if */
		OK("\n n=1;\n if True { n=2; }\n return n;", "[2.0]"),
		OK("\n n=1;\n if False { n=2; }\n return n;", "[1.0]"),
		OK("\n a=True; n=1;\n if a { n=2; }\n return n;", "[2.0]"),
		OK("\n a=False; n=1;\n if a { n=2; }\n return n;", "[1.0]"),
		OK("\n a=False; n=1;\n if a { }\n else { n=3; }\n return n;", "[3.0]"),
		OK("\n a=False; b=True; n=1;\n if a { n=2; }\n elif b { n=3; }\n return n;", "[3.0]"),
		OK("\n a=False; b=True; n=1;\n if a { n=2; }\n elif a { n=3; }\n else { n=4; }\n return n;", "[4.0]"),
		OK("\n a=True; n=1;\n if a { if a { n = 2; } }\n return n;", "[2.0]"),
		/* first true branch only; conditions may be expressions */
		OK("n=0; if 1 == 1 { n = 1; } elif True { n = 2; } return n;", "[1.0]"),
		OK("n=0; if 1 == 2 { n = 1; } elif 2 == 2 { n = 2; } else { n = 3; } return n;", "[2.0]"),
		/* non-bool condition */
		ERR("if 1 { }", "InvalidType"),
		OK("return 0;", "[0.0]"),
		/* function */
		OK("return print(1);", "[[]]"),
		OK("return print(1, 2);", "[[]]"),
		/* arguments are evaluated before the function is looked up */
		ERR("return nope(undefined);", "VariableNotDefined(\"undefined\")"),
		/* string */
		OK("a=\"test \\\" with escaped quote\"; return a;", "[\"test \\\" with escaped quote\"]"),
		/* only \" is an escape: \n stays a backslash and an n */
		OK("return \"a\\nb\";", "[\"a\\\\nb\"]"),
		/* strings may span lines */
		OK("return \"a\nb\";", "[\"a\\nb\"]"),
		/* the string token is the longest match of "([^\"]|\\\\\")*" */
		OK("x = \"C:\\\\\"; return x;", "[\"C:\\\\\\\\\"]"),
		ERR("return [\"C:\\\\\", \"x\"];", "ParsingError"),
		/* unicode passes through */
		OK("return \"h\xc3\xa9llo\";", "[\"h\xc3\xa9llo\"]"),
		/* empty query */
		ERR("a = 1;", "EmptyQuery"),
		ERR("# just a comment", "EmptyQuery"),
		OK("return print();", "[[]]"),
		/* list */
		OK("return [];", "[[]]"),
		OK("return [1];", "[[1.0]]"),
		OK("return [1+1];", "[[2.0]]"),
		OK("return [1,1];", "[[1.0,1.0]]"),
		OK("return [1,1+2];", "[[1.0,3.0]]"),
		OK("return [1,1+1,1+2+3,4/2,[1+2]];", "[[1.0,2.0,6.0,2.0,[3.0]]]"),
		/* comment */
		OK("return 1;# testing 123", "[1.0]"),
		OK("# first\nreturn 2; # second\n# third", "[2.0]"),
		/* dict */
		OK("return {};", "[{}]"),
		OK("return {\"test\": 2};", "[{\"test\":2.0}]"),
		OK("return {\"test\": 2, \"test2\": \"teststr\"};", "[{\"test\":2.0,\"test2\":\"teststr\"}]"),
		OK("return {\"test\": {\"test\": \"test\"}};", "[{\"test\":{\"test\":\"test\"}}]"),
		/* keys come out sorted; a repeated key keeps the last value (and the first is never run) */
		OK("return {\"b\": 1, \"a\": 2, \"B\": 3};", "[{\"B\":3.0,\"a\":2.0,\"b\":1.0}]"),
		OK("return {\"a\": undefined, \"a\": 1};", "[{\"a\":1.0}]"),
		/* concat */
		OK("return [1]+[2];", "[[1.0,2.0]]"),
		OK("return \"a\"+\"b\";", "[\"ab\"]"),
		ERR("return \"a\"+1;", "InvalidType"),
		ERR("return [1]+1;", "InvalidType"),
		ERR("return True+True;", "InvalidType"),
		/* contains */
		OK("a = [\"b\", \"a\"]; return contains(a, \"a\");", "[true]"),
		OK("a = [\"b\", \"a\"]; return contains(a, \"c\");", "[false]"),
		OK("a = {\"a\": 1}; return contains(a, \"a\");", "[true]"),
		OK("a = {\"b\": 1}; return contains(a, \"a\");", "[false]"),
		OK("return contains([[1, 2]], [1, 2]);", "[true]"),
		OK("return contains([1], \"1\");", "[false]"),
		ERR("return contains(1, 1);", "InvalidFunctionParameters"),
		ERR("return contains({}, 1);", "InvalidFunctionParameters"),
		/* math */
		OK("return 1+1;", "[2.0]"),
		OK("return 1-1;", "[0.0]"),
		OK("return 3*5;", "[15.0]"),
		OK("return 4/2;", "[2.0]"),
		ERR("return 1/0;", "MathError(\"Tried to divide by zero!\")"),
		OK("return 2.5%1;", "[0.5]"),
		OK("return 1+1+0+1;", "[3.0]"),
		/* one precedence level, left-associative */
		OK("return 1 + 2 * 3;", "[9.0]"),
		OK("return 1 + (2 * 3);", "[7.0]"),
		OK("return 10 - 2 - 3;", "[5.0]"),
		/* a == b + c is (a == b) + c */
		ERR("return 1 == 1 + 1;", "InvalidType"),
		/* % by zero is NaN, serialised as null */
		OK("return 1 % 0;", "[null]"),
		ERR("return \"a\" - 1;", "InvalidType"),
		/* grammar */
		/* extra semicolons, expression statements, whitespace before '(' */
		OK(";;1;;True;\"x\";[];{};return print (1);;", "[[]]"),
		/* keywords are lowercase only; RETURN is an identifier, and/or/None are undefined names */
		ERR("return None;", "VariableNotDefined(\"None\")"),
		ERR("return a and b;", "ParsingError"),
		/* identifiers that start with a keyword */
		OK("iffy = 1; returned = 2; return iffy + returned;", "[3.0]"),
		/* an unknown character ends the token stream silently */
		OK("return 1; @junk", "[1.0]"),
		OK("return 1; ' anything \" goes", "[1.0]"),
		/* no unary minus, no leading dot */
		ERR("return -1;", "ParsingError"),
		ERR("return .5;", "ParsingError"),
		/* no trailing commas, dict keys must be strings */
		ERR("return [1,];", "ParsingError"),
		ERR("return {a: 1};", "ParsingError"),
		/* no chained assignment; '&' is a token the grammar never accepts */
		ERR("a = b = 1;", "ParsingError"),
		ERR("return 1 & 2;", "ParsingError"),
		/* the if-chain needs no ';' but simple statements do */
		OK("n = 1; if True { n = 2; } return n;", "[2.0]"),
		ERR("n = 1\nreturn n;", "ParsingError"),
		/* a dict can be an operand on the right: if {...} == x { } */
		OK("n = 0; if {\"a\": 1} == {\"a\": 1} { n = 1; } return n;", "[1.0]"),
		/* built-ins are shadowable variables */
		OK("flood = 7; return flood;", "[7.0]"),
		OK("f = sum_durations; return f([]);", "[0.0]"),
		ERR("sum_durations = 1; return sum_durations([]);", "InvalidType(\"sum_durations\")"),
		ERR("return flood;", "InvalidType"),
		/* extras */
		OK("return nop();", "[1.0]"),
		ERR("return nop(1);", "InvalidFunctionParameters"),
		OK("return query_bucket_eventcount(\"testid\");", "[2.0]"),
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].code)
			qt_expect_error(db, cases[i].prog, cases[i].want, cases[i].code);
		else
			qt_expect_raw(db, cases[i].prog, cases[i].want);
	}
}

static void test_all_functions(void **state)
{
	json_t *v;

	(void)state;
	v = ok("return query_bucket(\"testid\");");
	assert_int_equal(json_array_size(v), 2);
	json_decref(v);
	v = ok("\n"
	       "events = query_bucket(find_bucket(\"testid\"));\n"
	       "events = flood(events);\n"
	       "events = sort_by_duration(events);\n"
	       "events = limit_events(events, 10000);\n"
	       "events = sort_by_timestamp(events);\n"
	       "events = concat(events, query_bucket(\"testid\"));\n"
	       "events = categorize(events, [[[\"test\"], { \"type\": \"regex\", \"regex\": \"value$\" }], [[\"test\", \"testing\"], { \"type\": \"regex\", \"regex\": \"value$\" }]]);\n"
	       "events = tag(events, [[\"testtag\", { \"type\": \"regex\", \"regex\": \"test$\" }], [\"another testtag\", { \"type\": \"regex\", \"regex\": \"test-pat$\" }]]);\n"
	       "total_duration = sum_durations(events);\n"
	       "bucketnames = query_bucket_names();\n"
	       "print(\"test\", \"test2\");\n"
	       "url_events = split_url_events (events);\n"
	       "filtered_events = filter_period_intersect(events, events);\n"
	       "filtered_events = filter_keyvals(events, \"$category\", [[\"Uncategorized\"]]);\n"
	       "filtered_events = filter_keyvals_regex(events, \"key\", \"regex\");\n"
	       "chunked_events = chunk_events_by_key(events, \"key\");\n"
	       "merged_events = merge_events_by_keys(events, [\"key\"]);\n"
	       "events2 = period_union(events, events);\n"
	       "events3 = union_no_overlap(events, events);\n"
	       "events4 = exclude_keyvals(events, \"key\", [\"value\"]);\n"
	       "b = contains(bucketnames, \"testid\");\n"
	       "return  merged_events;");
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 1);
	/* merged: both "testid" copies (4 events with the same key) in one group */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 0), "data"), "key")),
			    "value");
	json_decref(v);
}

static void test_categorize(void **state)
{
	json_t *v, *cat;

	(void)state;
	v = ok("events = query_bucket(\"testid\");\n"
	       "events = categorize(events, [[[\"Test\", \"Subtest\"], { \"type\": \"regex\", \"regex\": \"^value$\" }]]);\n"
	       "return events;");
	cat = json_object_get(json_object_get(json_array_get(v, 0), "data"), "$category");
	assert_int_equal(json_array_size(cat), 2);
	assert_string_equal(json_string_value(json_array_get(cat, 0)), "Test");
	assert_string_equal(json_string_value(json_array_get(cat, 1)), "Subtest");
	json_decref(v);
}

static void test_tag(void **state)
{
	json_t *v;

	(void)state;
	v = ok("events = query_bucket(\"testid\");\n"
	       "events = tag(events, [[\"testtag\", { \"type\": \"regex\", \"regex\": \"value$\" }], [\"another testtag\", { \"type\": \"regex\", \"regex\": \"value$\" }]]);\n"
	       "return  events;");
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_array_get(v, 0), "data"), "$tags")), 2);
	json_decref(v);
}

static void test_tag_select_keys(void **state)
{
	qt_db *d = QT_DB_WITH("testid", "testhost",
		{"2020-01-01T00:00:00Z", 0, "{\"app\":\"terminal\",\"title\":\"just a test\",\"pid\":123}"});
	json_t *v, *tags;

	(void)state;
	v = qt_query(d,
		     "events = query_bucket(\"testid\");\n"
		     "events = tag(events, [[\"title-match\", { \"type\": \"regex\", \"regex\": \"test$\", \"select_keys\": [\"title\"] }], "
		     "[\"app-match\", { \"type\": \"regex\", \"regex\": \"test$\", \"select_keys\": [\"app\"] }], "
		     "[\"pid-match\", { \"type\": \"regex\", \"regex\": \"123\", \"select_keys\": [\"pid\"] }], "
		     "[\"missing-match\", { \"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [\"missing\"] }]]);\n"
		     "return  events;",
		     &(aw_query_error){0}, NULL);
	assert_non_null(v);
	tags = json_object_get(json_object_get(json_array_get(v, 0), "data"), "$tags");
	assert_int_equal(json_array_size(tags), 1);
	assert_string_equal(json_string_value(json_array_get(tags, 0)), "title-match");
	json_decref(v);
	qt_db_close(d);
}

static void test_rule_parsing(void **state)
{
	static const struct {
		const char *rule;
		const char *kind;
	} cases[] = {
		{"[\"test\", false]", "InvalidFunctionParameters"},                 /* rule is not a dict */
		{"[[\"testtag\", { }]]", "InvalidFunctionParameters"},             /* no type */
		{"[[\"testtag\", { \"type\": false }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"rgex\" }]]", "InvalidFunctionParameters(\"Unknown rule type 'rgex'\")"},
		{"[[\"testtag\", { \"type\": \"none\" }]]", NULL},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": true }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"regex\" }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"ignore_case\": false }]]", NULL},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"ignore_case\": \"\" }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"select_keys\": \"title\" }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [1] }]]", "InvalidFunctionParameters"},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [\"title\"] }]]", NULL},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [] }]]", "RegexCompileError"},
		{"[[\"testtag\", { \"type\": \"regex\", \"regex\": \"!#¤%&/(=\" }]]", "RegexCompileError"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char prog[512];
		snprintf(prog, sizeof(prog), "events = [];\nevents = tag(events, %s);\nreturn events;", cases[i].rule);
		if (cases[i].kind) {
			aw_query_error e = qt_expect_error(db, prog, cases[i].kind, AW_EINVALID);
			assert_int_equal(e.line, 2);
		} else {
			json_decref(ok(prog));
		}
	}
}

/* ---- grammar and lexer quirks ---------------------------------------------------------------- */

/* Errors and where they are reported: the kind the message starts with, the line and
 * column (0: not checked) and a text the message contains (NULL: not checked). */
static void test_error_positions(void **state)
{
	static const struct {
		const char *prog, *kind;
		int line, column;
		const char *detail;
	} cases[] = {
		{"return no_such_function(1);", "VariableNotDefined(\"no_such_function\")", 1, 8, NULL},
		{"invalid_type=1; return invalid_type(1);", "InvalidType(\"invalid_type\")", 0, 24, NULL},
		/* parse errors */
		{"a = 1\nb = 2;", "ParsingError", 2, 1, "expected an operator or ';', found identifier 'b'"},
		{"a = 1\nb = 2;", "ParsingError", 0, 0, "at line 2, column 1"},
		{"return (1;", "ParsingError", 0, 10, NULL},
		{"x = [1, 2;\n", "ParsingError", 0, 0, "expected ',' or ']'"},
		{"if True { return 1;", "ParsingError", 0, 0, "found end of query"},
		{"return 1 +\n  @;", "ParsingError", 2, 3, "reading stopped at character '@'"},
		{"x = \"unterminated;", "ParsingError", 0, 0, "unterminated string"},
		/* columns count characters, not bytes */
		{"a = \"\xc3\xa9\xc3\xa9\" b;", "ParsingError", 0, 10, NULL},
		/* runtime errors */
		{"a = 1;\nb = [1, 2];\nreturn a + b;", "InvalidType", 3, 10, NULL},
		{"x = 1;\n  return limit_events([], \"3\");", "InvalidFunctionParameters", 2, 27,
		 "Expected function parameter of type Number, got String(3)"},
		{"return flood();", "InvalidFunctionParameters", 0, 0, "Expected 1 or 2 parameters in function, got 0"},
		{"return sort_by_duration([], []);", "InvalidFunctionParameters", 0, 0, "Expected 1 parameters in function, got 2"},
		{"return sum_durations([1]);", "InvalidFunctionParameters", 0, 0, "List of Events, list contains Number(1)"},
	};
	aw_query_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e = qt_expect_error(NULL, cases[i].prog, cases[i].kind, AW_EINVALID);
		if ((cases[i].line && e.line != cases[i].line) || (cases[i].column && e.column != cases[i].column) ||
		    (cases[i].detail && !strstr(e.message, cases[i].detail)))
			fail_msg("%s: got %s (line %d, column %d)", cases[i].prog, e.message, e.line, e.column);
	}
	/* whole messages */
	e = qt_expect_error(NULL, "", "EmptyQuery", AW_EINVALID);
	assert_string_equal(e.message, "EmptyQuery");
	e = qt_expect_error(NULL, "return no_such_function(1);", "VariableNotDefined", AW_EINVALID);
	assert_string_equal(e.message, "VariableNotDefined(\"no_such_function\") at line 1, column 8");
	assert_int_equal(aw_query_check(&e, "return 1;", 9), 0);
	assert_int_equal(aw_query_check(&e, "return", 6), AW_EINVALID);
}

static void test_limits(void **state)
{
	static const struct {
		qt_piece prog[5];
		const char *kind;
	} cases[] = {
		/* deep syntactic nesting is an error, not a crash */
		{{{"return ", 1}, {"[", 5000}, {"]", 5000}, {";", 1}}, "ParsingError(\"nesting deeper"},
		{{{"(", 100000}}, "ParsingError"},
		/* deep values built over many statements */
		{{{"a = 1;", 1}, {"a = [a];", 400}, {"return a;", 1}}, "ResourceLimit"},
		/* memory bombs */
		{{{"a = [1];", 1}, {"a = a + a;", 64}, {"return 1;", 1}}, "ResourceLimit"},
		{{{"a = \"xxxxxxxxxxxxxxxx\";", 1}, {"a = a + a;", 64}, {"return 1;", 1}}, "ResourceLimit"},
		/* exponential sharing: cheap to build, bounded to compare and to print */
		{{{"a = [1]; b = [1];", 1}, {"a = [a, a]; b = [b, b];", 60}, {"return a == b;", 1}}, "ResourceLimit"},
		{{{"a = [1];", 1}, {"a = [a, a];", 60}, {"return a;", 1}}, "ResourceLimit"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *prog = qt_pieces(cases[i].prog);
		qt_expect_error(NULL, prog, cases[i].kind, AW_EINVALID);
		free(prog);
	}
}

/* ---- results and TIMEINTERVAL -------------------------------------------------------------------- */

static void test_serialisation(void **state)
{
	qt_db *d = QT_DB_WITH("id", "h",
		{"2018-01-01T01:01:01Z", 1.0, "{}"});

	(void)state;
	/* as aw-server-rust's API test of the query route: sorted keys, float duration */
	qt_expect_raw(d, "return query_bucket(\"id\");",
		      "[[{\"data\":{},\"duration\":1.0,\"id\":1,\"timestamp\":\"2018-01-01T01:01:01Z\"}]]");
	qt_insert(d, "id", "2018-01-01T01:01:02.5Z", 0.001, "{\"z\":1,\"a\":[1.5,\"x\"]}");
	qt_expect_raw(d, "return query_bucket(\"id\");",
		      "[[{\"data\":{\"a\":[1.5,\"x\"],\"z\":1},\"duration\":0.001,\"id\":2,\"timestamp\":\"2018-01-01T01:01:02.500Z\"},"
		      "{\"data\":{},\"duration\":1.0,\"id\":1,\"timestamp\":\"2018-01-01T01:01:01Z\"}]]");
	/* merged events have no id */
	qt_expect_raw(d, "return merge_events_by_keys(query_bucket(\"id\"), [\"a\"]);",
		      "[[{\"data\":{\"a\":[1.5,\"x\"],\"z\":1},\"duration\":0.001,\"id\":null,\"timestamp\":\"2018-01-01T01:01:02.500Z\"}]]");
	qt_expect_raw(NULL, "return {\"n\": print(), \"b\": [True, False], \"s\": \"\\\\\"};",
		      "[{\"b\":[true,false],\"n\":[],\"s\":\"\\\\\\\\\"}]");
	qt_db_close(d);
}

static void test_timeinterval(void **state)
{
	aw_ns s[2], e[2];
	char *out;
	size_t len;
	aw_query_error err;

	(void)state;
	qt_expect_raw(NULL, "return TIMEINTERVAL;", "[\"1980-01-01T00:00:00+00:00/2080-01-02T00:00:00+00:00\"]");
	/* reassigning TIMEINTERVAL changes what query_bucket reads */
	json_t *v = ok("TIMEINTERVAL = \"2018-01-01T01:01:01.5Z/2018-01-01T01:01:03Z\"; return query_bucket(\"testid\");");
	assert_int_equal(json_array_size(v), 1);
	json_decref(v);
	qt_expect_error(db, "TIMEINTERVAL = 1; return query_bucket(\"testid\");",
			"TimeIntervalError(\"TIMEINTERVAL is not of type string!\")", AW_EINVALID);
	qt_expect_error(db, "TIMEINTERVAL = \"2018-01-01/2019-01-01\"; return query_bucket(\"testid\");",
			"TimeIntervalError", AW_EINVALID);
	/* several periods: one result each */
	s[0] = qt_ts("2018-01-01T00:00:00Z");
	e[0] = qt_ts("2018-01-01T01:01:01.5Z");
	s[1] = qt_ts("2018-01-01T01:01:01.5Z");
	e[1] = qt_ts("2018-01-02T00:00:00Z");
	assert_int_equal(aw_query_run(&out, &len, &err, db->r, "return [TIMEINTERVAL, sum_durations(query_bucket(\"testid\")), query_bucket_eventcount(\"testid\")];",
				      strlen("return [TIMEINTERVAL, sum_durations(query_bucket(\"testid\")), query_bucket_eventcount(\"testid\")];"),
				      s, e, 2),
			 0);
	assert_string_equal(out, "[[\"2018-01-01T00:00:00+00:00/2018-01-01T01:01:01.500+00:00\",0.0,1.0],"
				 "[\"2018-01-01T01:01:01.500+00:00/2018-01-02T00:00:00+00:00\",0.0,1.0]]");
	free(out);
	/* zero periods: an empty array */
	assert_int_equal(aw_query_run(&out, &len, &err, db->r, "return 1;", 9, s, e, 0), 0);
	assert_string_equal(out, "[]");
	free(out);
}

/* ---- buckets ---------------------------------------------------------------------------------- */

static void test_buckets(void **state)
{
	qt_db *d = qt_db_open();
	aw_query_error e;

	(void)state;
	qt_bucket(d, "aw-watcher-window_host1", "host1");
	qt_bucket(d, "aw-watcher-window_host2", "host2");
	qt_bucket(d, "aw-watcher-window", "host2");
	qt_expect_raw(d, "return find_bucket(\"aw-watcher-window\");", "[\"aw-watcher-window\"]");
	qt_expect_raw(d, "return find_bucket(\"aw-watcher-window_\");", "[\"aw-watcher-window_host1\"]");
	qt_expect_raw(d, "return find_bucket(\"aw-watcher-window_\", \"host2\");", "[\"aw-watcher-window_host2\"]");
	qt_expect_raw(d, "return find_bucket(\"aw-watcher-window\", \"host1\");", "[\"aw-watcher-window_host1\"]");
	e = qt_expect_error(d, "return find_bucket(\"aw-watcher-afk\");",
			    "BucketQueryError(\"Failed to find bucket matching filter 'aw-watcher-afk'\")", AW_ENOTFOUND);
	e = qt_expect_error(d, "return find_bucket(\"aw\", \"nohost\");",
			    "BucketQueryError(\"Failed to find bucket matching filter 'aw' and hostname 'nohost'\")", AW_ENOTFOUND);
	qt_expect_raw(d, "return query_bucket_names();",
		      "[[\"aw-watcher-window\",\"aw-watcher-window_host1\",\"aw-watcher-window_host2\"]]");
	e = qt_expect_error(d, "\n  return query_bucket(\"missing\");", "BucketQueryError", AW_ENOTFOUND);
	assert_non_null(strstr(e.message, "NoSuchBucket(\\\"missing\\\")"));
	assert_int_equal(e.line, 2);
	qt_expect_error(d, "return query_bucket_eventcount(\"missing\");", "BucketQueryError", AW_ENOTFOUND);
	qt_expect_raw(d, "return query_bucket_eventcount(\"aw-watcher-window\");", "[0.0]");
	qt_expect_error(d, "return query_bucket(1);", "InvalidFunctionParameters", AW_EINVALID);
	qt_db_close(d);
}

static void test_sum_and_limit(void **state)
{
	qt_db *d = QT_DB_WITH("b", "h",
		{"2020-01-01T00:00:00Z", 1.0019, "{}"},
		{"2020-01-01T00:00:10Z", 2.0009, "{}"});

	(void)state;
	/* total 3.0028 s truncated to whole milliseconds */
	qt_expect_raw(d, "return sum_durations(query_bucket(\"b\"));", "[3.002]");
	qt_expect_raw(d, "return sum_durations([]);", "[0.0]");
	qt_expect_raw(d, "return limit_events(query_bucket(\"b\"), 0 - 1);", "[[]]");
	qt_expect_raw(d, "return limit_events(query_bucket(\"b\"), 0.9);", "[[]]");
	json_decref(expect_lengths(d, "return [limit_events(query_bucket(\"b\"), 1.5), limit_events(query_bucket(\"b\"), 1000000000000000000000000000000)];",
				   (const size_t[]){1, 2}, 2));
	qt_db_close(d);
}

static void test_filter_keyvals_types(void **state)
{
	qt_db *d = QT_DB_WITH("b", "h",
		{"2020-01-01T00:00:00Z", 1, "{\"n\":1}"},
		{"2020-01-01T00:00:01Z", 1, "{\"n\":1.0}"},
		{"2020-01-01T00:00:02Z", 1, "{\"n\":\"1\"}"},
		{"2020-01-01T00:00:03Z", 1, "{\"n\":[1.0,\"a\"]}"},
		{"2020-01-01T00:00:04Z", 1, "{\"n\":null}"},
		{"2020-01-01T00:00:05Z", 1, "{\"n\":true}"},
		{"2020-01-01T00:00:06Z", 1, "{\"m\":1}"});
	json_t *v;

	(void)state;
	/* numbers from the query are floats: integer data 1 never matches; exclude keeps events
	 * lacking the key */
	v = expect_lengths(d, "return [filter_keyvals(query_bucket(\"b\"), \"n\", [1]), "
			   "filter_keyvals(query_bucket(\"b\"), \"n\", [\"1\"]), "
			   "filter_keyvals(query_bucket(\"b\"), \"n\", [[1, \"a\"]]), "
			   "filter_keyvals(query_bucket(\"b\"), \"n\", [print(), True]), "
			   "exclude_keyvals(query_bucket(\"b\"), \"n\", [1, \"1\"])];",
			   (const size_t[]){1, 1, 1, 2, 5}, 5);
	assert_true(json_is_real(json_object_get(json_object_get(json_array_get(json_array_get(v, 0), 0), "data"), "n")));
	json_decref(v);
	qt_expect_error(d, "return filter_keyvals(query_bucket(\"b\"), \"n\", [{}]);", "InvalidFunctionParameters", AW_EINVALID);
	qt_expect_error(d, "return filter_keyvals(query_bucket(\"b\"), \"n\", 1);", "InvalidFunctionParameters", AW_EINVALID);
	qt_expect_error(d, "return filter_keyvals(1, \"n\", []);", "InvalidFunctionParameters", AW_EINVALID);
	qt_db_close(d);
}

static void test_regex_engine(void **state)
{
	qt_db *d = QT_DB_WITH("b", "h",
		{"2020-01-01T00:00:00Z", 1, "{\"title\":\"testing lookahead\"}"},
		{"2020-01-01T00:00:01Z", 1, "{\"title\":\"TESTING other\\n\"}"},
		{"2020-01-01T00:00:02Z", 1, "{\"title\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}"});

	(void)state;
	json_decref(expect_lengths(d, "e = query_bucket(\"b\"); return [\n"
				   "filter_keyvals_regex(e, \"title\", \"testing (?!lookahead)\"),\n"
				   "filter_keyvals_regex(e, \"title\", \"(?i)testing (?!lookahead)\"),\n"
				   /* $ is end of text only (the data ends with a newline) */
				   "filter_keyvals_regex(e, \"title\", \"other$\"),\n"
				   /* catastrophic backtracking: no match, no hang */
				   "filter_keyvals_regex(e, \"title\", \"^(a+)+$\"),\n"
				   "filter_keyvals_regex(e, \"title\", \"(?<=testing )look\")];",
				   (const size_t[]){0, 1, 0, 0, 1}, 5));
	qt_expect_error(d, "return filter_keyvals_regex(query_bucket(\"b\"), \"title\", \"(\");", "RegexCompileError", AW_EINVALID);
	/* a run that keeps hitting the backtracking limit is stopped */
	for (int i = 0; i < 60; i++) {
		char title[128], data[160];
		snprintf(title, sizeof(title), "%.*sb%d", 40, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", i);
		snprintf(data, sizeof(data), "{\"title\":\"%s\"}", title);
		qt_insert(d, "b", "2020-01-02T00:00:00Z", 1, data);
	}
	qt_expect_error(d, "return filter_keyvals_regex(query_bucket(\"b\"), \"title\", \"^(a|aa)+$\");", "RegexRuntimeError", AW_EINVALID);
	qt_db_close(d);
}

/* `x = f(x, ...)` moves x into the call so f may reuse its memory; results must be the
 * same as with sharing, and other references to the old value must stay intact. */
static void test_move_and_reuse(void **state)
{
	qt_db *d = QT_DB_WITH("w", "h",
		{"2020-01-01T00:00:00Z", 1, "{\"app\":\"a\",\"title\":\"x\"}"},
		{"2020-01-01T00:00:03Z", 2, "{\"app\":\"b\",\"title\":\"y\"}"},
		{"2020-01-01T00:00:09Z", 1, "{\"app\":\"a\",\"title\":\"z\"}"});

	(void)state;
	/* the old value is still referenced by `keep`: it must not change */
	qt_expect_raw(d, "e = query_bucket(\"w\"); keep = e; e = sort_by_duration(e); e = flood(e);\n"
			 "e = categorize(e, [[[\"A\"], {\"type\": \"regex\", \"regex\": \"^a$\"}]]);\n"
			 "return [sum_durations(keep), limit_events(keep, 1), e];",
		      "[[4.0,[{\"data\":{\"app\":\"a\",\"title\":\"z\"},\"duration\":1.0,\"id\":3,\"timestamp\":\"2020-01-01T00:00:09Z\"}],"
		      "[{\"data\":{\"$category\":[\"A\"],\"app\":\"a\",\"title\":\"x\"},\"duration\":2.0,\"id\":1,\"timestamp\":\"2020-01-01T00:00:00Z\"},"
		      "{\"data\":{\"$category\":[\"Uncategorized\"],\"app\":\"b\",\"title\":\"y\"},\"duration\":5.0,\"id\":2,\"timestamp\":\"2020-01-01T00:00:02Z\"},"
		      "{\"data\":{\"$category\":[\"A\"],\"app\":\"a\",\"title\":\"z\"},\"duration\":3.0,\"id\":3,\"timestamp\":\"2020-01-01T00:00:07Z\"}]]]");
	/* a variable used twice in the call is shared, not moved */
	qt_expect_raw(d, "e = query_bucket(\"w\"); e = concat(e, e); return sum_durations(e);", "[8.0]");
	qt_expect_raw(d, "e = query_bucket(\"w\"); e = filter_period_intersect(e, e); return sum_durations(e);", "[4.0]");
	/* moved into a call that fails: the error is reported normally */
	qt_expect_error(d, "e = query_bucket(\"w\"); e = limit_events(e, \"x\");", "InvalidFunctionParameters", AW_EINVALID);
	/* x = x(x) must not move x away before the call looks x up */
	qt_expect_error(d, "x = 1; x = x(x);", "InvalidType(\"x\")", AW_EINVALID);
	/* in-place filters on a moved list */
	qt_expect_raw(d, "e = query_bucket(\"w\"); e = filter_keyvals(e, \"app\", [\"a\"]); e = split_url_events(e); return sum_durations(e);",
		      "[2.0]");
	qt_db_close(d);
}

/* Per-value work remembered across calls and fields shared between values must give the
 * results of doing it afresh: split twice, split data that already has the fields (one
 * of them different), set_keyval and categorize over overlays, filters over a kept list. */
static void test_shared_fields(void **state)
{
	qt_db *d = QT_DB_WITH("b", "h",
		{"2020-01-01T00:00:00Z", 1, "{\"url\":\"https://www.a.org/x?q=1\",\"title\":\"A\"}"},
		{"2020-01-01T00:00:02Z", 1, "{\"url\":\"https://www.a.org/x?q=1\",\"title\":\"B\"}"},
		{"2020-01-01T00:00:04Z", 1, "{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"url\":\"https://www.a.org/x?q=1\"}"},
		{"2020-01-01T00:00:06Z", 1, "{\"$domain\":\"old\",\"url\":\"https://www.a.org/x?q=1\"}"},
		{"2020-01-01T00:00:08Z", 1, "{\"url\":\"not a url\"}"});
#define SPLIT_WANT \
		"[{\"data\":{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"title\":\"A\",\"url\":\"https://www.a.org/x?q=1\"},\"duration\":1.0,\"id\":1,\"timestamp\":\"2020-01-01T00:00:00Z\"}," \
		"{\"data\":{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"title\":\"B\",\"url\":\"https://www.a.org/x?q=1\"},\"duration\":1.0,\"id\":2,\"timestamp\":\"2020-01-01T00:00:02Z\"}," \
		"{\"data\":{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"url\":\"https://www.a.org/x?q=1\"},\"duration\":1.0,\"id\":3,\"timestamp\":\"2020-01-01T00:00:04Z\"}," \
		"{\"data\":{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"url\":\"https://www.a.org/x?q=1\"},\"duration\":1.0,\"id\":4,\"timestamp\":\"2020-01-01T00:00:06Z\"}," \
		"{\"data\":{\"url\":\"not a url\"},\"duration\":1.0,\"id\":5,\"timestamp\":\"2020-01-01T00:00:08Z\"}]"

	(void)state;
	qt_expect_raw(d, "return sort_by_timestamp(split_url_events(query_bucket(\"b\")));", "[" SPLIT_WANT "]");
	qt_expect_raw(d, "e = split_url_events(query_bucket(\"b\")); e = split_url_events(sort_by_timestamp(e)); return e;",
		      "[" SPLIT_WANT "]");
#undef SPLIT_WANT
	/* the old data 4 and the split one are equal values now: merged into one group */
	qt_expect_raw(d, "e = split_url_events(query_bucket(\"b\")); return merge_events_by_keys(e, [\"$domain\"]);",
		      "[[{\"data\":{\"$domain\":\"a.org\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"url\":\"https://www.a.org/x?q=1\"},"
		      "\"duration\":4.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:06Z\"}]]");
	/* set_keyval over split values (overlays) and over stored ones, then categorize */
	qt_expect_raw(d, "e = set_keyval(split_url_events(query_bucket(\"b\")), \"$domain\", \"z\");"
			 " e = categorize(e, [[[\"Z\"], {\"type\": \"regex\", \"regex\": \"^z$\", \"select_keys\": [\"$domain\"]}]]);"
			 " return [limit_events(sort_by_timestamp(e), 1), sum_durations(filter_keyvals(e, \"$category\", [[\"Z\"]]))];",
		      "[[[{\"data\":{\"$category\":[\"Z\"],\"$domain\":\"z\",\"$params\":\"q=1\",\"$path\":\"/x\",\"$protocol\":\"https\",\"title\":\"A\",\"url\":\"https://www.a.org/x?q=1\"},"
		      "\"duration\":1.0,\"id\":1,\"timestamp\":\"2020-01-01T00:00:00Z\"}],5.0]]");
	/* filters over a list that stays referenced: the kept list is unchanged */
	qt_expect_raw(d, "e = query_bucket(\"b\"); f = filter_keyvals(e, \"title\", [\"A\"]);"
			 " g = filter_keyvals_regex(e, \"url\", \"^not\"); h = filter_period_intersect(e, f);"
			 " return [sum_durations(e), sum_durations(f), sum_durations(g), sum_durations(h)];",
		      "[[5.0,1.0,1.0,1.0]]");
	qt_db_close(d);
}

/* categorize and tag over rules of every kind (literal alternations, classes, ignore_case,
 * select_keys, an empty alternative, none): the results of the memoised matching. */
static void test_rule_prefilter(void **state)
{
	qt_db *d = QT_DB_WITH("w", "h",
		{"2020-01-01T00:00:00Z", 1, "{\"app\":\"spotify\",\"title\":\"song\"}"},
		{"2020-01-01T00:00:01Z", 1, "{\"app\":\"code\",\"title\":\"qux.c - work\"}"},
		{"2020-01-01T00:00:02Z", 1, "{\"app\":\"term\",\"title\":\"vim notes\"}"},
		{"2020-01-01T00:00:03Z", 1, "{\"app\":\"term\",\"title\":\"nothing here\"}"},
		{"2020-01-01T00:00:04Z", 1, "{\"app\":\"Foo\",\"title\":\"B\\u00e4r (\\\"x\\\")\"}"},
		{"2020-01-01T00:00:05Z", 1, "{\"app\":\"x\",\"title\":\"\\u212aATE notes\"}"},
		{"2020-01-01T00:00:06Z", 1, "{\"app\":\"y\",\"title\":\"Caf\\u00e9 au lait\"}"});
	const char *rules =
		"[[[\"Music\"], {\"type\": \"regex\", \"regex\": \"Spotify|Deezer\", \"ignore_case\": true}],"
		" [[\"Work\"], {\"type\": \"regex\", \"regex\": \"vim|emacs\"}],"
		" [[\"Work\", \"C\"], {\"type\": \"regex\", \"regex\": \"\\\\bqux\\\\.c\\\\b\"}],"
		" [[\"Work\", \"Title\"], {\"type\": \"regex\", \"regex\": \"work\", \"select_keys\": [\"title\"]}],"
		" [[\"Bar\"], {\"type\": \"regex\", \"regex\": \"(?i)bär\"}],"
		" [[\"Foo\"], {\"type\": \"regex\", \"regex\": \"foo\", \"select_keys\": [\"title\"]}],"
		" [[\"Never\"], {\"type\": \"none\"}]]";
	aw_buf q = AW_BUF_INIT;

	(void)state;
	aw_buf_printf(&q, "e = sort_by_timestamp(categorize(query_bucket(\"w\"), %s));"
			  " return merge_events_by_keys(e, [\"$category\"]);", rules);
	qt_expect_raw(d, q.data,
		      "[[{\"data\":{\"$category\":[\"Music\"],\"app\":\"spotify\",\"title\":\"song\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:00Z\"},{"
		      "\"data\":{\"$category\":[\"Work\",\"Title\"],\"app\":\"code\",\"title\":\"qux.c - work\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:01Z\"},{"
		      "\"data\":{\"$category\":[\"Work\"],\"app\":\"term\",\"title\":\"vim notes\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:02Z\"},{"
		      "\"data\":{\"$category\":[\"Uncategorized\"],\"app\":\"term\",\"title\":\"nothing here\"},\"duration\":3.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:03Z\"},{"
		      "\"data\":{\"$category\":[\"Bar\"],\"app\":\"Foo\",\"title\":\"B\xc3\xa4" "r (\\\"x\\\")\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:04Z\"}]]");
	aw_buf_reset(&q);
	aw_buf_printf(&q, "e = tag(query_bucket(\"w\"), [[\"m\", {\"type\": \"regex\", \"regex\": \"Spotify|song\", \"ignore_case\": true}],"
			  " [\"o\", {\"type\": \"regex\", \"regex\": \"o\"}], [\"e\", {\"type\": \"regex\", \"regex\": \"zzz|\"}],"
			  " [\"q\", {\"type\": \"regex\", \"regex\": \"q.x\"}]]);"
			  " return merge_events_by_keys(sort_by_timestamp(e), [\"$tags\"]);");
	qt_expect_raw(d, q.data,
		      "[[{\"data\":{\"$tags\":[\"e\",\"m\",\"o\"],\"app\":\"spotify\",\"title\":\"song\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:00Z\"},{"
		      "\"data\":{\"$tags\":[\"e\",\"o\",\"q\"],\"app\":\"code\",\"title\":\"qux.c - work\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:01Z\"},{"
		      "\"data\":{\"$tags\":[\"e\",\"o\"],\"app\":\"term\",\"title\":\"vim notes\"},\"duration\":4.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:02Z\"},{"
		      "\"data\":{\"$tags\":[\"e\"],\"app\":\"y\",\"title\":\"Caf\xc3\xa9" " au lait\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:06Z\"}]]");
	/* ignore_case over a non-ASCII string (the Kelvin sign folds to k), non-ASCII words,
	 * a one-letter word */
	qt_expect_raw(d, "e = sort_by_timestamp(categorize(query_bucket(\"w\"), [[[\"K\", \"deep\"], {\"type\": \"regex\","
			 " \"regex\": \"kate|zz\", \"ignore_case\": true}], [[\"Cafe\"], {\"type\": \"regex\", \"regex\": \"Caf\u00e9|B\u00e4r\"}],"
			 " [[\"One\"], {\"type\": \"regex\", \"regex\": \"q|notes\"}]])); return merge_events_by_keys(e, [\"$category\"]);",
		      "[[{\"data\":{\"$category\":[\"Uncategorized\"],\"app\":\"spotify\",\"title\":\"song\"},\"duration\":2.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:00Z\"},{"
		      "\"data\":{\"$category\":[\"One\"],\"app\":\"code\",\"title\":\"qux.c - work\"},\"duration\":2.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:01Z\"},{"
		      "\"data\":{\"$category\":[\"Cafe\"],\"app\":\"Foo\",\"title\":\"B\xc3\xa4" "r (\\\"x\\\")\"},\"duration\":2.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:04Z\"},{"
		      "\"data\":{\"$category\":[\"K\",\"deep\"],\"app\":\"x\",\"title\":\"\xe2\x84\xaa" "ATE notes\"},\"duration\":1.0,\"id\":null,\"timestamp\":\"2020-01-01T00:00:05Z\"}]]");
	aw_buf_free(&q);
	qt_db_close(d);
}

static void test_fuzz_regressions(void **state)
{
	/* inputs that once crashed or misbehaved (kept as regression cases) */
	static const char *const progs[] = {
		"",
		"\"",
		"\"\\",
		"\"\\\"",
		"return \"\\\"\";",
		"if",
		"if {",
		"if True {",
		"else { }",
		"return {\"a\":",
		"return [[[[[[[[",
		"x = (((((((1",
		"return 1 == == 2;",
		"return\0 1;",
		"return 99999999999999999999999999999999999999999999999999999999999999999999999999999999"
		"999999999999999999999999999999999999999999999999999999999999999999999999999999999999;",
		"return 1.7976931348623157e308;",
		"return sum_durations(flood(query_bucket(\"testid\"), 1e400));",
		"return flood(query_bucket(\"testid\"), 9999999999999999999999);",
		"return union_no_overlap(query_bucket(\"testid\"), [print()]);",
		"return categorize(query_bucket(\"testid\"), [[[\"a\"], {\"type\": \"regex\", \"regex\": \"(\"}]]);",
		"return categorize(query_bucket(\"testid\"), [[[1], {\"type\": \"none\"}]]);",
		"return tag(query_bucket(\"testid\"), [[1, {\"type\": \"none\"}], []]);",
		"return merge_events_by_keys(query_bucket(\"testid\"), [[]]);",
		"return contains(query_bucket(\"testid\"), query_bucket(\"testid\"));",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		aw_query_error err;
		size_t len = i == 13 ? 10 : strlen(progs[i]);
		char *out = NULL;
		size_t olen;
		aw_ns s = qt_ts("1980-01-01T00:00:00Z"), e = qt_ts("2080-01-02T00:00:00Z");
		int rc = aw_query_run(&out, &olen, &err, db->r, progs[i], len, &s, &e, 1);
		if (rc) {
			assert_null(out);
			assert_true(err.code == AW_EINVALID || err.code == AW_ENOTFOUND);
			assert_true(err.message[0] != '\0');
		} else {
			assert_non_null(out);
			free(out);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs),
		cmocka_unit_test(test_all_functions),
		cmocka_unit_test(test_categorize),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_tag_select_keys),
		cmocka_unit_test(test_rule_parsing),
		cmocka_unit_test(test_error_positions),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_serialisation),
		cmocka_unit_test(test_timeinterval),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_sum_and_limit),
		cmocka_unit_test(test_filter_keyvals_types),
		cmocka_unit_test(test_regex_engine),
		cmocka_unit_test(test_move_and_reuse),
		cmocka_unit_test(test_shared_fields),
		cmocka_unit_test(test_rule_prefilter),
		cmocka_unit_test(test_fuzz_regressions),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
