/*
 * The validating JSON scanner (aw/json_scan.h) that imports of hundreds of megabytes
 * walk instead of building a tree: it must refuse whatever jansson refuses (so an import
 * it accepted never fails half-way) and iterate objects and arrays in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aw/json.h"
#include "aw/json_scan.h"

static int scan(const char *text)
{
	aw_jscan s;

	aw_jscan_init(&s, text, strlen(text));
	return aw_jscan_document(&s);
}

static void test_accepts_what_jansson_accepts(void **state)
{
	static const char *const good[] = {
		"{}", "[]", " {\"a\" : [1, -2.5e3, true, false, null, \"x\"]} ", "\"\\u00e9\\ud83d\\ude00\"",
		"{\"nul\":\"a\\u0000b\"}", "9223372036854775807", "-9223372036854775808", "[[[[[]]]]]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *v = aw_json_parse(good[i], strlen(good[i]));
		if (!v)
			fail_msg("jansson refuses %s", good[i]);
		json_decref(v);
		if (scan(good[i]))
			fail_msg("scanner refuses %s", good[i]);
	}
}

static void test_refuses_what_jansson_refuses(void **state)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", ".5", "+1", "1e", "\"\\x\"",
		"\"\\ud800\"", "\"\\udc00x\"", "\"a\nb\"", "\"\xff\"", "\"\xc0\xaf\"", "tru", "nul",
		"{} x", "[1] [2]", "99999999999999999999", "1e400", "{1:2}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *v = aw_json_parse(bad[i], strlen(bad[i]));
		json_decref(v);
		if (v)
			fail_msg("jansson accepts %s: the case is wrong", bad[i]);
		if (scan(bad[i]) == 0)
			fail_msg("scanner accepts %s", bad[i]);
	}
}

static void test_nesting_is_bounded(void **state)
{
	static char deep[5001], shallow[201];

	(void)state;
	/* balanced, so only the depth can be what is refused (jansson's limit is 2048) */
	memset(deep, '[', 2500);
	memset(deep + 2500, ']', 2500);
	assert_null(aw_json_parse(deep, strlen(deep)));
	assert_int_not_equal(scan(deep), 0);
	memset(shallow, '[', 100);
	memset(shallow + 100, ']', 100);
	assert_int_equal(scan(shallow), 0);
}

static void test_member_and_element_iteration(void **state)
{
	const char *doc = "{\"buckets\": {\"b1\": {\"events\": [1, {\"x\": 2}, []]}}, \"other\": 3}";
	const char *ks, *ke, *vs, *ve;
	int st = 0, n = 0, found = 0;
	aw_jscan s;

	(void)state;
	assert_int_equal(scan(doc), 0);
	aw_jscan_init(&s, doc, strlen(doc));
	aw_jscan_ws(&s);
	while (aw_jscan_member(&s, &st, &ks, &ke) == 1) {
		if (aw_jscan_key_is(ks, ke, "other")) {
			assert_int_equal(aw_jscan_value(&s, &vs, &ve), 0);
			assert_int_equal(ve - vs, 1);
			found++;
		} else {
			assert_true(aw_jscan_key_is(ks, ke, "buckets"));
			assert_int_equal(aw_jscan_value(&s, &vs, &ve), 0);
			assert_int_equal(*vs, '{');
			{
				aw_jscan in;
				int ist = 0, est = 0;

				aw_jscan_init(&in, vs, (size_t)(ve - vs));
				assert_int_equal(aw_jscan_member(&in, &ist, &ks, &ke), 1);
				assert_true(aw_jscan_key_is(ks, ke, "b1"));
				assert_int_equal(aw_jscan_member(&in, &(int){0}, &ks, &ke), 1);
				assert_true(aw_jscan_key_is(ks, ke, "events"));
				while (aw_jscan_element(&in, &est) == 1) {
					aw_jscan_skip(&in, &vs, &ve);
					n++;
				}
			}
			found++;
		}
	}
	assert_int_equal(found, 2);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_what_jansson_accepts),
		cmocka_unit_test(test_refuses_what_jansson_refuses),
		cmocka_unit_test(test_nesting_is_bounded),
		cmocka_unit_test(test_member_and_element_iteration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
