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

/* The function as it was written, its last partial word read with memcpy. */
static uint64_t reference(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, k;

	while (n >= 8) {
		memcpy(&k, s, 8);
		h = (h ^ k) * 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	k = 0;
	if (n)
		memcpy(&k, s, n);
	h = (h ^ k) * 0x94D049BB133111EBULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}

/* The last partial word is read in more than one way (depending on the length and on
 * what lies before it): every length at every alignment gives the reference's value. */
static void test_every_length_and_offset(void **state)
{
	unsigned char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; off + n <= sizeof(buf); n++)
			assert_int_equal(aw_hash_bytes(buf + off, n), reference(buf + off, n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_are_frozen),
		cmocka_unit_test(test_every_length_and_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
