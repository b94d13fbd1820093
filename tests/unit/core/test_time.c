/* Unit tests for timestamp parsing/printing, duration conversion and float printing
 * (core/include/aw/time.h), checked against the forms aw-server-rust produces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "aw/error.h"
#include "aw/time.h"
#include "xorshift.h"

static aw_ns parse(const char *s, int mode, int *rc)
{
	aw_ns t = 0;

	*rc = aw_time_parse(&t, s, strlen(s), mode);
	return t;
}

static void assert_round_trip(const char *in, const char *out)
{
	char buf[AW_TIME_BUFSZ];
	int rc;
	aw_ns t = parse(in, AW_TIME_RELAXED, &rc);

	assert_int_equal(rc, 0);
	aw_time_format(buf, t);
	assert_string_equal(buf, out);
}

static void test_format_fraction_digits(void **state)
{
	(void)state;
	assert_round_trip("2018-01-01T01:01:01Z", "2018-01-01T01:01:01Z");
	assert_round_trip("2018-01-01T01:01:01.5Z", "2018-01-01T01:01:01.500Z");
	assert_round_trip("2018-01-01T01:01:01.123456Z", "2018-01-01T01:01:01.123456Z");
	assert_round_trip("2018-01-01T01:01:01.000000001Z", "2018-01-01T01:01:01.000000001Z");
	assert_round_trip("2018-01-01T01:01:01.1234567891234Z", "2018-01-01T01:01:01.123456789Z");
}

/* The whole range of aw_ns, whose years all have four digits. */
static void test_format_range_ends(void **state)
{
	char buf[AW_TIME_BUFSZ];

	(void)state;
	assert_int_equal(aw_time_format(buf, AW_NS_MIN), 30);
	assert_string_equal(buf, "1677-09-21T00:12:43.145224192Z");
	assert_int_equal(aw_time_format(buf, AW_NS_MAX), 30);
	assert_string_equal(buf, "2262-04-11T23:47:16.854775807Z");
	assert_int_equal(aw_time_format(buf, 0), 20);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

static void test_offsets_convert_to_utc(void **state)
{
	(void)state;
	assert_round_trip("2018-01-01T02:01:01+01:00", "2018-01-01T01:01:01Z");
	assert_round_trip("2018-01-01T00:01:01-0100", "2018-01-01T01:01:01Z");
	assert_round_trip("2018-01-01 01:01:01z", "2018-01-01T01:01:01Z");
	assert_round_trip("2018-01-01t01:01:01UTC", "2018-01-01T01:01:01Z");
	assert_round_trip("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z");
}

/* Each case: the text, the mode, and what aw_time_parse answers. */
static const struct parse_case {
	const char *text;
	int mode, rc;
} parse_cases[] = {
	/* strict mode: RFC 3339 offsets only */
	{"2018-01-01T01:01:01+0100", AW_TIME_STRICT, AW_EINVALID},
	{"2018-01-01T01:01:01UTC", AW_TIME_STRICT, AW_EINVALID},
	{"2018-01-01T01:01:01+01:00", AW_TIME_STRICT, 0},
	/* not timestamps at all */
	{"", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-01-01", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-01-01T01:01:01", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-13-01T00:00:00Z", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-02-29T00:00:00Z", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-01-01T24:00:00Z", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-01-01T01:01:01.Z", AW_TIME_RELAXED, AW_EINVALID},
	{"2018-01-01T01:01:01Zjunk", AW_TIME_RELAXED, AW_EINVALID},
	{"99999-01-01T00:00:00Z", AW_TIME_RELAXED, AW_EINVALID},
	{"2020-02-29T00:00:00Z", AW_TIME_RELAXED, 0},
	/* the int64 nanosecond range and just beyond it */
	{"1500-01-01T00:00:00Z", AW_TIME_RELAXED, AW_ERANGE},
	{"3000-01-01T00:00:00Z", AW_TIME_RELAXED, AW_ERANGE},
	{"2262-04-11T23:47:16.854775807Z", AW_TIME_RELAXED, 0},
	{"2262-04-11T23:47:16.854775808Z", AW_TIME_RELAXED, AW_ERANGE},
	{"1677-09-21T00:12:43.145224192Z", AW_TIME_RELAXED, 0},
	{"1677-09-21T00:12:43.145224191Z", AW_TIME_RELAXED, AW_ERANGE},
};

static void test_parse_answers(void **state)
{
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];

		parse(c->text, c->mode, &rc);
		if (rc != c->rc)
			fail_msg("'%s' (%s): %d, want %d", c->text, c->mode == AW_TIME_STRICT ? "strict" : "relaxed", rc,
				 c->rc);
	}
	assert_int_equal(parse("1677-09-21T00:12:43.145224192Z", AW_TIME_RELAXED, &rc), INT64_MIN);
}

static void test_duration_truncates_like_reference(void **state)
{
	aw_ns ns;

	(void)state;
	assert_int_equal(aw_duration_from_seconds(&ns, 1.005), 0);
	assert_int_equal(ns, 1004999999);
	assert_int_equal(aw_duration_from_seconds(&ns, -2.5), 0);
	assert_int_equal(ns, -2500000000LL);
	assert_int_equal(aw_duration_from_seconds(&ns, 1e300), AW_ERANGE);
	assert_int_equal(aw_duration_from_seconds(&ns, 9.3e9), AW_ERANGE);
}

static void assert_float(double v, const char *want)
{
	char buf[AW_FLOAT_BUFSZ];

	aw_float_format(buf, v);
	assert_string_equal(buf, want);
}

static void test_float_format_matches_serde(void **state)
{
	(void)state;
	assert_float(1.0, "1.0");
	assert_float(0.5, "0.5");
	assert_float(2.25, "2.25");
	assert_float(1.004999999, "1.004999999");
	assert_float(1e-9, "1e-9");
	assert_float(0.0001, "0.0001");
	assert_float(0.00001, "0.00001");
	assert_float(0.000001, "1e-6");
	assert_float(123456789.0, "123456789.0");
	assert_float(1e15, "1000000000000000.0");
	assert_float(1e16, "1e16");
	assert_float(1.5e20, "1.5e20");
	assert_float(-3.0, "-3.0");
	assert_float(0.0, "0.0");
	assert_float(0.1 + 0.2, "0.30000000000000004");
}

static void assert_duration_formats_agree(aw_ns v)
{
	char a[AW_FLOAT_BUFSZ], b[AW_FLOAT_BUFSZ];

	aw_duration_format(a, v);
	aw_float_format(b, aw_duration_to_seconds(v));
	if (strcmp(a, b))
		fail_msg("%lld: fast '%s' vs general '%s'", (long long)v, a, b);
}

/* The fast duration printer must agree with the general one everywhere. */
static void test_duration_format_matches_float_format(void **state)
{
	aw_ns samples[] = {0, 1, 999, 9999, 10000, 123456, 1000000, 1500000000, 1004999999, 32616999999LL,
			   60000000000LL, 3600123456789LL, 86400000000000LL, 123456789012345LL, 1234567890123456789LL,
			   -1500000000, -1, 999999999999999LL, 100000000000000000LL, 10000000000000000LL};
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		assert_duration_formats_agree(samples[i]);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = test_xorshift64(&x);
		aw_ns v = (aw_ns)(r % (i % 3 == 0 ? 1000000000000000000ULL : i % 3 == 1 ? 100000000000ULL : 10000000ULL));

		if (i % 5 == 0)
			v -= v % 1000000;
		assert_duration_formats_agree(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fraction_digits),
		cmocka_unit_test(test_format_range_ends),
		cmocka_unit_test(test_offsets_convert_to_utc),
		cmocka_unit_test(test_parse_answers),
		cmocka_unit_test(test_duration_truncates_like_reference),
		cmocka_unit_test(test_float_format_matches_serde),
		cmocka_unit_test(test_duration_format_matches_float_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
