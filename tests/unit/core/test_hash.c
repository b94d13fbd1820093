/*
 * aw_hash_bytes is frozen: storage keeps its values in datas.hash to find interned
 * event data, so a changed function would silently stop finding existing data. These
 * values were computed by the function that wrote every existing database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aw/hash.h"

static void test_values_are_frozen(void **state)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{"", 0x0a3f46e79293b578ULL},
		{"{}", 0x936e60cc10d78160ULL},
		{"{\"app\":\"firefox\",\"title\":\"Inbox\"}", 0x463a0837c3f36097ULL},
		{"0123456789abcdef", 0x3e4704bd15b1d538ULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(aw_hash_bytes(cases[i].text, strlen(cases[i].text)), cases[i].want);
	assert_int_equal(aw_hash_bytes(NULL, 0), cases[0].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_are_frozen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
