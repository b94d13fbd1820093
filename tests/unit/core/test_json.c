/* Unit tests for canonical JSON (core/include/aw/json.h): sorted keys, serde's
 * number and string forms, NUL inside strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aw/json.h"

static void assert_canonical(const char *in, const char *want)
{
	json_t *v = aw_json_parse(in, strlen(in));
	char *out;

	assert_non_null(v);
	out = aw_json_canonical_dup(v, NULL);
	assert_string_equal(out, want);
	free(out);
	json_decref(v);
}

static void test_keys_sorted_by_bytes(void **state)
{
	(void)state;
	assert_canonical("{\"title\": \"x\", \"app\": \"y\", \"B\": 1, \"a\": {\"z\": 1, \"y\": [2, 1]}}",
			 "{\"B\":1,\"a\":{\"y\":[2,1],\"z\":1},\"app\":\"y\",\"title\":\"x\"}");
	assert_canonical("{\"ab\": 1, \"a\": 2}", "{\"a\":2,\"ab\":1}");
}

static void test_numbers_keep_their_kind(void **state)
{
	(void)state;
	assert_canonical("[1, 1.0, 1.5, -0, 1e2, 0.1]", "[1,1.0,1.5,0,100.0,0.1]");
}

static void test_string_escapes_like_serde(void **state)
{
	(void)state;
	assert_canonical("[\"a\\\"b\\\\c\\/d\\n\\u0001\\u00e9\"]", "[\"a\\\"b\\\\c/d\\n\\u0001\xc3\xa9\"]");
	assert_canonical("[\"nul\\u0000inside\"]", "[\"nul\\u0000inside\"]");
}

static void test_rejects_invalid(void **state)
{
	const char *bad[] = {"{", "[1,]", "NaN", "{\"a\": \xff}", "\"\\ud800\""};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(aw_json_parse(bad[i], strlen(bad[i])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_sorted_by_bytes),
		cmocka_unit_test(test_numbers_keep_their_kind),
		cmocka_unit_test(test_string_escapes_like_serde),
		cmocka_unit_test(test_rejects_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
