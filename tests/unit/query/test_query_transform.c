/* The transforms: a port of aw-server-rust's aw-transform unit tests with the same
 * inputs and expected outputs, plus the step-by-step rules of each transform (flood's
 * meet-in-the-middle, filter_period_intersect's sweep, period_union, union_no_overlap's
 * precedence, merge/chunk, categorize's deepest-then-last rule, tag, split_url_events).
 * Pure transforms are tested directly on compact events; classification goes through the
 * language against a temporary database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qtest.h"

#define T0 qt_ts("2000-01-01T00:00:00Z")
#define AT(s) (T0 + SEC(s))

static qdata T;

static int setup_T(void **state)
{
	(void)state;
	data_init(&T, NULL);
	return 0;
}

static int teardown_T(void **state)
{
	(void)state;
	data_free(&T);
	return 0;
}

/* ---- flood ---------------------------------------------------------------------------------- */

static void test_flood_merge(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(3), SEC(1), "{\"test\":1}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 1);
	qt_assert_ev(&T, &v[0], AT(0), SEC(4), "{\"test\":1}");
}

static void test_flood_meet_in_middle(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(3), SEC(1), "{\"test\":2}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(2), "{\"test\":1}");
	qt_assert_ev(&T, &v[1], AT(2), SEC(2), "{\"test\":2}");
	/* odd gaps: the halves are truncated to whole nanoseconds */
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(1) + 3, SEC(1), "{\"test\":2}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(1) + 1, "{\"test\":1}");
	qt_assert_ev(&T, &v[1], AT(1) + 2, SEC(1) + 1, "{\"test\":2}");
	/* gaps of at least pulsetime are left alone */
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(6), SEC(1), "{\"test\":2}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(1), "{\"test\":1}");
	qt_assert_ev(&T, &v[1], AT(6), SEC(1), "{\"test\":2}");
}

static void test_flood_partial_overlap(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(10), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(5), SEC(10), "{\"test\":1}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 1);
	qt_assert_ev(&T, &v[0], AT(0), SEC(15), "{\"test\":1}");
}

static void test_flood_containing(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(10), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(2), SEC(5), "{\"test\":1}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 1);
	qt_assert_ev(&T, &v[0], AT(0), SEC(10), "{\"test\":1}");
}

static void test_flood_containing_diff(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(10), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(2), SEC(5), "{\"test\":2}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(10), "{\"test\":1}");
	qt_assert_ev(&T, &v[1], AT(2), SEC(5), "{\"test\":2}");
}

static void test_flood_same_timestamp(void **state)
{
	qev v[4];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"status\":\"afk\"}");
	v[1] = qt_ev(&T, AT(1), SEC(5), "{\"status\":\"not-afk\"}");
	v[2] = qt_ev(&T, AT(1), SEC(1), "{\"status\":\"not-afk\"}");
	v[3] = qt_ev(&T, AT(6), SEC(1), "{\"status\":\"afk\"}");
	assert_int_equal(flood_events(&T, v, 4, SEC(5)), 3);
	qt_assert_ev(&T, &v[0], AT(0), SEC(1), "{\"status\":\"afk\"}");
	qt_assert_ev(&T, &v[1], AT(1), SEC(5), "{\"status\":\"not-afk\"}");
	qt_assert_ev(&T, &v[2], AT(6), SEC(1), "{\"status\":\"afk\"}");
}

static void test_flood_same_timestamp_duplicates(void **state)
{
	qev v[4];
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"a\":1}");
	v[1] = qt_ev(&T, AT(0), SEC(3), "{\"a\":1}");
	v[2] = qt_ev(&T, AT(0), SEC(2), "{\"a\":1}");
	v[3] = qt_ev(&T, AT(0), SEC(1), "{\"a\":1}");
	v[0].id = 7;
	assert_int_equal(flood_events(&T, v, 4, SEC(5)), 1);
	qt_assert_ev(&T, &v[0], AT(0), SEC(3), "{\"a\":1}");
	assert_int_equal(v[0].id, 7); /* merged events keep the first event's id */
}

static void test_flood_unsorted_and_chained(void **state)
{
	qev v[4];
	(void)state;
	/* input newest first (as query_bucket returns it); a gap then a merge chain */
	v[0] = qt_ev(&T, AT(9), SEC(1), "{\"a\":2}");
	v[1] = qt_ev(&T, AT(4), SEC(1), "{\"a\":1}");
	v[2] = qt_ev(&T, AT(2), SEC(1), "{\"a\":1}");
	v[3] = qt_ev(&T, AT(0), SEC(1), "{\"a\":1}");
	assert_int_equal(flood_events(&T, v, 4, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(7), "{\"a\":1}");
	qt_assert_ev(&T, &v[1], AT(7), SEC(3), "{\"a\":2}");
	/* overlapping events with different data are left as they are */
	v[0] = qt_ev(&T, AT(0), SEC(5), "{\"a\":1}");
	v[1] = qt_ev(&T, AT(3), SEC(5), "{\"a\":2}");
	assert_int_equal(flood_events(&T, v, 2, SEC(5)), 2);
	qt_assert_ev(&T, &v[0], AT(0), SEC(5), "{\"a\":1}");
	qt_assert_ev(&T, &v[1], AT(3), SEC(5), "{\"a\":2}");
	assert_int_equal(flood_events(&T, v, 0, SEC(5)), 0);
}

/* ---- sort ------------------------------------------------------------------------------------ */

static void test_sort_by_timestamp(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(3), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	sort_by_timestamp(v, 2);
	assert_true(v[0].start == AT(0) && v[1].start == AT(3));
}

static void test_sort_by_duration(void **state)
{
	qev v[2];
	(void)state;
	v[0] = qt_ev(&T, AT(3), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(0), SEC(2), "{\"test\":1}");
	sort_by_duration(v, 2);
	assert_true(v[0].dur == SEC(2) && v[1].dur == SEC(1));
}

static void test_sort_stable_large(void **state)
{
	enum { N = 5000 };
	qev *v = malloc(N * sizeof(qev));
	(void)state;
	/* keys with many ties; stability checked through the ids */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < N; i++) {
			int k = pass == 0 ? (i * 7919) % 50 : pass == 1 ? N - i / 3 : i / 3;
			v[i].start = k;
			v[i].dur = k;
			v[i].id = i;
			v[i].data = 0;
			v[i].pad = 0;
		}
		sort_by_timestamp(v, N);
		for (int i = 1; i < N; i++)
			assert_true(v[i - 1].start < v[i].start || (v[i - 1].start == v[i].start && v[i - 1].id < v[i].id));
		for (int i = 0; i < N; i++)
			v[i].id = i;
		sort_by_duration(v, N);
		for (int i = 1; i < N; i++)
			assert_true(v[i - 1].dur > v[i].dur || (v[i - 1].dur == v[i].dur && v[i - 1].id < v[i].id));
	}
	free(v);
}

/* ---- filter_period_intersect ------------------------------------------------------------------ */

static void test_filter_period_intersect(void **state)
{
	qev e[5], f[1], *r;
	size_t n;
	(void)state;
	for (int i = 0; i < 5; i++)
		e[i] = qt_ev(&T, AT(1 + i), SEC(1), "{\"test\":1}");
	f[0] = qt_ev(&T, AT(2.5), SEC(2), "{\"test\":1}");
	r = filter_period_intersect(e, 5, f, 1, &n);
	assert_int_equal(n, 3);
	qt_assert_ev(&T, &r[0], AT(2.5), SEC(0.5), "{\"test\":1}");
	qt_assert_ev(&T, &r[1], AT(3), SEC(1), "{\"test\":1}");
	qt_assert_ev(&T, &r[2], AT(4), SEC(0.5), "{\"test\":1}");
	free(r);

	e[0] = qt_ev(&T, AT(1), SEC(1), "{\"test\":1}");
	f[0] = qt_ev(&T, AT(0), SEC(1.5), "{}");
	r = filter_period_intersect(e, 1, f, 1, &n);
	assert_int_equal(n, 1);
	qt_assert_ev(&T, &r[0], AT(1), SEC(0.5), "{\"test\":1}");
	free(r);
	f[0] = qt_ev(&T, AT(1.5), SEC(1), "{}");
	r = filter_period_intersect(e, 1, f, 1, &n);
	qt_assert_ev(&T, &r[0], AT(1.5), SEC(0.5), "{\"test\":1}");
	free(r);
	f[0] = qt_ev(&T, AT(1.5), SEC(0.1), "{}");
	r = filter_period_intersect(e, 1, f, 1, &n);
	qt_assert_ev(&T, &r[0], AT(1.5), SEC(0.1), "{\"test\":1}");
	free(r);
	f[0] = qt_ev(&T, AT(0), SEC(10), "{}");
	r = filter_period_intersect(e, 1, f, 1, &n);
	qt_assert_ev(&T, &r[0], AT(1), SEC(1), "{\"test\":1}");
	free(r);
	/* empty input on either side */
	r = filter_period_intersect(e, 0, f, 1, &n);
	assert_int_equal(n, 0);
	free(r);
	r = filter_period_intersect(e, 1, f, 0, &n);
	assert_int_equal(n, 0);
	free(r);
}

static void test_filter_period_intersect_sweep(void **state)
{
	qev e[3], f[3], *r;
	size_t n;
	(void)state;
	/* one event spanning several filters yields several pieces; ids and data kept */
	e[0] = qt_ev(&T, AT(0), SEC(10), "{\"x\":1}");
	e[0].id = 42;
	f[0] = qt_ev(&T, AT(1), SEC(1), "{}");
	f[1] = qt_ev(&T, AT(4), SEC(2), "{}");
	f[2] = qt_ev(&T, AT(9), SEC(5), "{}");
	r = filter_period_intersect(e, 1, f, 3, &n);
	assert_int_equal(n, 3);
	qt_assert_ev(&T, &r[0], AT(1), SEC(1), "{\"x\":1}");
	qt_assert_ev(&T, &r[1], AT(4), SEC(2), "{\"x\":1}");
	qt_assert_ev(&T, &r[2], AT(9), SEC(1), "{\"x\":1}");
	assert_int_equal(r[2].id, 42);
	free(r);
	/* overlapping filters do not emit the same time twice */
	f[0] = qt_ev(&T, AT(0), SEC(6), "{}");
	f[1] = qt_ev(&T, AT(4), SEC(4), "{}");
	r = filter_period_intersect(e, 1, f, 2, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(6), "{\"x\":1}");
	qt_assert_ev(&T, &r[1], AT(6), SEC(2), "{\"x\":1}");
	free(r);
	/* zero-duration events are skipped; unsorted inputs are sorted */
	e[0] = qt_ev(&T, AT(5), SEC(2), "{\"x\":2}");
	e[1] = qt_ev(&T, AT(1), 0, "{\"x\":1}");
	e[2] = qt_ev(&T, AT(0), SEC(2), "{\"x\":3}");
	f[0] = qt_ev(&T, AT(6), SEC(10), "{}");
	f[1] = qt_ev(&T, AT(0), SEC(3), "{}");
	r = filter_period_intersect(e, 3, f, 2, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(2), "{\"x\":3}");
	qt_assert_ev(&T, &r[1], AT(6), SEC(1), "{\"x\":2}");
	free(r);
}

/* ---- period_union ------------------------------------------------------------------------------- */

static void test_period_union(void **state)
{
	qev a[2] = {0}, b[2] = {0}, *r;
	size_t n;
	(void)state;
	r = period_union(&T, a, 0, b, 0, &n); /* test_period_union_empty */
	assert_int_equal(n, 0);
	free(r);
	a[0] = qt_ev(&T, AT(1), SEC(1), "{\"test\":1}");
	b[0] = qt_ev(&T, AT(2), SEC(1), "{\"test\":1}");
	r = period_union(&T, a, 1, b, 1, &n); /* test_period_union: touching => one 2 s event */
	assert_int_equal(n, 1);
	qt_assert_ev(&T, &r[0], AT(1), SEC(2), "{}");
	free(r);
	b[0] = qt_ev(&T, AT(3), SEC(1), "{\"test\":1}");
	r = period_union(&T, a, 1, b, 1, &n); /* test_period_union_nop */
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(1), SEC(1), "{}");
	qt_assert_ev(&T, &r[1], AT(3), SEC(1), "{}");
	free(r);
	r = period_union(&T, a, 1, b, 0, &n); /* 2nd empty */
	assert_int_equal(n, 1);
	free(r);
	r = period_union(&T, a, 0, b, 1, &n); /* 1st empty */
	assert_int_equal(n, 1);
	free(r);
	/* overlap and containment; the first event's id of each run is kept */
	a[0] = qt_ev(&T, AT(0), SEC(10), "{\"a\":1}");
	a[0].id = 5;
	a[1] = qt_ev(&T, AT(20), SEC(1), "{\"a\":1}");
	b[0] = qt_ev(&T, AT(2), SEC(3), "{\"b\":1}");
	b[1] = qt_ev(&T, AT(8), SEC(4), "{\"b\":1}");
	r = period_union(&T, a, 2, b, 2, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(12), "{}");
	assert_int_equal(r[0].id, 5);
	qt_assert_ev(&T, &r[1], AT(20), SEC(1), "{}");
	free(r);
}

/* ---- union_no_overlap --------------------------------------------------------------------------- */

static void test_union_no_overlap(void **state)
{
	qev a[1], b[1], *r;
	size_t n;
	(void)state;
	a[0] = qt_ev(&T, AT(0), SEC(3600), "{}");
	b[0] = qt_ev(&T, AT(3600), SEC(3600), "{}");
	r = union_no_overlap(a, 1, b, 1, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(3600), "{}");
	qt_assert_ev(&T, &r[1], AT(3600), SEC(3600), "{}");
	free(r);
	r = union_no_overlap(b, 1, a, 1, &n); /* reverse order, same result */
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(3600), "{}");
	qt_assert_ev(&T, &r[1], AT(3600), SEC(3600), "{}");
	free(r);
}

static void test_union_no_overlap_with_overlap(void **state)
{
	qev a[1], b[1], *r;
	size_t n;
	(void)state;
	a[0] = qt_ev(&T, AT(0), SEC(3600), "{}");
	b[0] = qt_ev(&T, AT(0), SEC(7200), "{}");
	r = union_no_overlap(a, 1, b, 1, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(3600), "{}");
	qt_assert_ev(&T, &r[1], AT(3600), SEC(3600), "{}");
	assert_true(r[1].id == QID_NULL);
	free(r);
	a[0] = qt_ev(&T, AT(3600), SEC(3600), "{}");
	b[0] = qt_ev(&T, AT(0), SEC(7200), "{}");
	r = union_no_overlap(a, 1, b, 1, &n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(3600), "{}");
	qt_assert_ev(&T, &r[1], AT(3600), SEC(3600), "{}");
	free(r);
}

static void test_union_no_overlap_precedence(void **state)
{
	qev a[2], b[1], *r;
	size_t n;
	(void)state;
	/* events1 is never cut; events2 keeps only the uncovered parts, as new events */
	a[0] = qt_ev(&T, AT(2), SEC(2), "{\"a\":1}");
	a[0].id = 1;
	a[1] = qt_ev(&T, AT(6), SEC(1), "{\"a\":2}");
	b[0] = qt_ev(&T, AT(0), SEC(10), "{\"b\":1}");
	b[0].id = 9;
	r = union_no_overlap(a, 2, b, 1, &n);
	assert_int_equal(n, 5);
	qt_assert_ev(&T, &r[0], AT(0), SEC(2), "{\"b\":1}");
	qt_assert_ev(&T, &r[1], AT(2), SEC(2), "{\"a\":1}");
	qt_assert_ev(&T, &r[2], AT(4), SEC(2), "{\"b\":1}");
	qt_assert_ev(&T, &r[3], AT(6), SEC(1), "{\"a\":2}");
	qt_assert_ev(&T, &r[4], AT(7), SEC(3), "{\"b\":1}");
	assert_int_equal(r[1].id, 1);
	assert_true(r[0].id == QID_NULL && r[4].id == QID_NULL);
	free(r);
}

/* ---- merge / chunk ------------------------------------------------------------------------------------ */

static void test_merge_events_by_key(void **state)
{
	qev v[4], *r;
	size_t n;
	const char *keys[1] = {"test"};
	size_t kl[1] = {4};
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(1), SEC(3), "{\"test2\":3}");
	v[2] = qt_ev(&T, AT(2), SEC(7), "{\"test\":6}");
	v[3] = qt_ev(&T, AT(3), SEC(9), "{\"test\":1}");
	v[0].id = 3;
	r = merge_by_keys(&T, v, 4, keys, kl, 1, &n);
	sort_by_timestamp(r, n);
	assert_int_equal(n, 2);
	qt_assert_ev(&T, &r[0], AT(0), SEC(10), "{\"test\":1}");
	qt_assert_ev(&T, &r[1], AT(2), SEC(7), "{\"test\":6}");
	assert_true(r[0].id == QID_NULL);
	free(r);
	r = merge_by_keys(&T, v, 4, keys, kl, 0, &n); /* no keys => [] */
	assert_int_equal(n, 0);
	free(r);
}

static void test_merge_keeps_first_data(void **state)
{
	qev v[3], *r;
	size_t n;
	const char *keys[2] = {"app", "title"};
	size_t kl[2] = {3, 5};
	(void)state;
	v[0] = qt_ev(&T, AT(1), SEC(2), "{\"app\":\"browser\",\"title\":\"page\",\"extra\":{\"nested\":[1,2]}}");
	v[1] = qt_ev(&T, AT(11), SEC(2), "{\"app\":\"browser\",\"title\":\"page\",\"extra\":\"different\"}");
	v[2] = qt_ev(&T, AT(12), SEC(2), "{\"app\":\"browser\",\"extra\":1}");
	r = merge_by_keys(&T, v, 3, keys, kl, 2, &n);
	assert_int_equal(n, 1);
	qt_assert_ev(&T, &r[0], AT(1), SEC(4), "{\"app\":\"browser\",\"title\":\"page\",\"extra\":{\"nested\":[1,2]}}");
	free(r);
}

static void test_chunk_events_by_key(void **state)
{
	qev v[4], *r;
	size_t n;
	(void)state;
	v[0] = qt_ev(&T, AT(1), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(1), SEC(1), "{\"test2\":1}");
	v[2] = qt_ev(&T, AT(1), SEC(1), "{\"test\":1}");
	v[3] = qt_ev(&T, AT(1), SEC(1), "{\"test\":2}");
	r = chunk_by_key(&T, v, 4, "test", 4, &n);
	assert_int_equal(n, 2);
	assert_true(r[0].dur == SEC(2) && r[1].dur == SEC(1));
	free(r);
}

/* ---- filter_keyvals ------------------------------------------------------------------------------------- */

static void test_filter_keyvals(void **state)
{
	qev v[3], *r;
	size_t n, vl[1] = {1};
	const char *vals[1] = {"1"};
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1,\"test2\":1}");
	v[2] = qt_ev(&T, AT(0), SEC(1), "{\"test2\":2}");
	r = filter_keyvals(&T, v, 3, NULL, "test", 4, vals, vl, 1, false, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].data, v[0].data);
	assert_int_equal(r[1].data, v[1].data);
	free(r);
}

static void test_exclude_keyvals(void **state)
{
	qev v[3], *r;
	size_t n, vl[1] = {1};
	const char *vals[1] = {"2"};
	(void)state;
	v[0] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1}");
	v[1] = qt_ev(&T, AT(0), SEC(1), "{\"test\":1,\"test2\":2}");
	v[2] = qt_ev(&T, AT(0), SEC(1), "{\"test\":2}");
	r = filter_keyvals(&T, v, 3, NULL, "test", 4, vals, vl, 1, true, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].data, v[0].data);
	assert_int_equal(r[1].data, v[1].data);
	free(r);
}

/* ---- split_url_events -------------------------------------------------------------------------------------- */

static void test_split_url_events(void **state)
{
	qev v[4], *r;
	size_t n;
	(void)state;
	v[0] = qt_ev(&T, AT(1), SEC(1), "{\"url\":\"http://www.google.com/path?query=1\"}");
	v[1] = qt_ev(&T, AT(1), SEC(1), "{\"url\":\"file:///home/user/document.pdf\"}");
	v[2] = qt_ev(&T, AT(1), SEC(1), "{\"url\":\"about:blank\"}");
	v[3] = qt_ev(&T, AT(1), SEC(1), "{\"url\":\"not a url\",\"x\":1}");
	r = split_url_events(&T, v, 4, NULL, &n);
	assert_int_equal(n, 4);
	qt_assert_ev(&T, &r[0], AT(1), SEC(1),
		     "{\"url\":\"http://www.google.com/path?query=1\",\"$protocol\":\"http\",\"$domain\":\"google.com\","
		     "\"$path\":\"/path\",\"$params\":\"query=1\"}");
	qt_assert_ev(&T, &r[1], AT(1), SEC(1),
		     "{\"url\":\"file:///home/user/document.pdf\",\"$protocol\":\"file\",\"$domain\":\"file\","
		     "\"$path\":\"/home/user/document.pdf\",\"$params\":\"\"}");
	qt_assert_ev(&T, &r[2], AT(1), SEC(1),
		     "{\"url\":\"about:blank\",\"$protocol\":\"about\",\"$domain\":\"about\",\"$path\":\"blank\",\"$params\":\"\"}");
	qt_assert_ev(&T, &r[3], AT(1), SEC(1), "{\"url\":\"not a url\",\"x\":1}");
	free(r);
}

/* ---- classification through the language ----------------------------------------------------------------------- */

static qt_db *cdb;

static int setup_db(void **state)
{
	(void)state;
	cdb = qt_db_open();
	qt_bucket(cdb, "b", "h");
	qt_insert(cdb, "b", "2020-01-01T00:00:00Z", 1, "{\"test\":\"just a test\"}");
	qt_insert(cdb, "b", "2020-01-01T00:00:01Z", 1, "{\"nonono\":\"no match!\"}");
	qt_insert(cdb, "b", "2020-01-01T00:00:02Z", 1, "{\"test\":\"testing lookahead\"}");
	qt_insert(cdb, "b", "2020-01-01T00:00:03Z", 1, "{\"app\":\"terminal\",\"title\":\"just a test\",\"pid\":123}");
	return 0;
}

static int teardown_db(void **state)
{
	(void)state;
	qt_db_close(cdb);
	return 0;
}

/* category (or tags) of each event, oldest first, as compact JSON text */
static char *classify(const char *fn, const char *rules)
{
	char prog[2048], *out;
	aw_query_error err;
	json_t *v, *res = json_array();

	snprintf(prog, sizeof(prog), "return sort_by_timestamp(%s(query_bucket(\"b\"), %s));", fn, rules);
	v = qt_query(cdb, prog, &err, NULL);
	if (!v)
		fail_msg("%s: %s", prog, err.message);
	for (size_t i = 0; i < json_array_size(v); i++)
		json_array_append(res, json_object_get(json_object_get(json_array_get(v, i), "data"),
						     !strcmp(fn, "categorize") ? "$category" : "$tags"));
	out = json_dumps(res, JSON_COMPACT);
	json_decref(v);
	json_decref(res);
	return out;
}

static void expect_classify(const char *fn, const char *rules, const char *want)
{
	char *got = classify(fn, rules);
	if (strcmp(got, want))
		fail_msg("%s %s\n got: %s\nwant: %s", fn, rules, got, want);
	free(got);
}

static void test_rule(void **state)
{
	(void)state;
	expect_classify("tag", "[[\"t\", {\"type\": \"regex\", \"regex\": \"test\"}], [\"n\", {\"type\": \"none\"}]]",
			"[[\"t\"],[],[\"t\"],[\"t\"]]");
}

static void test_rule_lookahead(void **state)
{
	(void)state;
	expect_classify("tag", "[[\"t\", {\"type\": \"regex\", \"regex\": \"testing (?!lookahead)\"}]]", "[[],[],[],[]]");
	expect_classify("tag", "[[\"t\", {\"type\": \"regex\", \"regex\": \"testing (?=lookahead)\"}]]", "[[],[],[\"t\"],[]]");
}

static void test_rule_select_keys(void **state)
{
	(void)state;
	expect_classify("tag",
			"[[\"title\", {\"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [\"title\"]}],"
			" [\"app\", {\"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [\"app\"]}],"
			" [\"missing\", {\"type\": \"regex\", \"regex\": \"test\", \"select_keys\": [\"missing\"]}],"
			" [\"pid\", {\"type\": \"regex\", \"regex\": \"123\", \"select_keys\": [\"pid\"]}]]",
			"[[],[],[],[\"title\"]]");
}

static void test_rule_select_keys_empty_list(void **state)
{
	(void)state;
	qt_expect_error(cdb, "return tag(query_bucket(\"b\"), [[\"t\", {\"type\": \"regex\", \"regex\": \"test\", \"select_keys\": []}]]);",
			"RegexCompileError", AW_EINVALID);
}

static void test_categorize(void **state)
{
	(void)state;
	/* deepest wins */
	expect_classify("categorize",
			"[[[\"Test\"], {\"type\": \"regex\", \"regex\": \"test\"}],"
			" [[\"Test\", \"Subtest\"], {\"type\": \"regex\", \"regex\": \"test\"}],"
			" [[\"Other\"], {\"type\": \"regex\", \"regex\": \"nonmatching\"}]]",
			"[[\"Test\",\"Subtest\"],[\"Uncategorized\"],[\"Test\",\"Subtest\"],[\"Test\",\"Subtest\"]]");
	/* deeper first in the list still wins; among equal depths the last match wins */
	expect_classify("categorize",
			"[[[\"A\", \"B\"], {\"type\": \"regex\", \"regex\": \"just\"}],"
			" [[\"C\"], {\"type\": \"regex\", \"regex\": \"test\"}],"
			" [[\"D\", \"E\"], {\"type\": \"regex\", \"regex\": \"test\"}],"
			" [[], {\"type\": \"regex\", \"regex\": \"match\"}]]",
			"[[\"D\",\"E\"],[\"Uncategorized\"],[\"D\",\"E\"],[\"D\",\"E\"]]");
	/* ignore_case */
	expect_classify("categorize", "[[[\"X\"], {\"type\": \"regex\", \"regex\": \"NO MATCH\", \"ignore_case\": true}]]",
			"[[\"Uncategorized\"],[\"X\"],[\"Uncategorized\"],[\"Uncategorized\"]]");
}

static void test_categorize_uncategorized(void **state)
{
	(void)state;
	expect_classify("categorize", "[[[\"Non-matching\", \"test\"], {\"type\": \"regex\", \"regex\": \"not going to match\"}]]",
			"[[\"Uncategorized\"],[\"Uncategorized\"],[\"Uncategorized\"],[\"Uncategorized\"]]");
	expect_classify("categorize", "[]", "[[\"Uncategorized\"],[\"Uncategorized\"],[\"Uncategorized\"],[\"Uncategorized\"]]");
}

static void test_tag(void **state)
{
	(void)state;
	/* every matching tag, sorted and de-duplicated */
	expect_classify("tag",
			"[[\"zeta\", {\"type\": \"regex\", \"regex\": \"test\"}],"
			" [\"alpha\", {\"type\": \"regex\", \"regex\": \"just\"}],"
			" [\"zeta\", {\"type\": \"regex\", \"regex\": \"lookahead\"}]]",
			"[[\"alpha\",\"zeta\"],[],[\"zeta\"],[\"alpha\",\"zeta\"]]");
}

static void test_find_bucket(void **state)
{
	qt_db *d = qt_db_open();
	(void)state;
	qt_bucket(d, "no match", "testhost");
	qt_bucket(d, "aw-datastore-test_test-host", "testhost");
	qt_expect_raw(d, "return find_bucket(\"aw-datastore-test\", \"testhost\");", "[\"aw-datastore-test_test-host\"]");
	qt_expect_error(d, "return find_bucket(\"aw-datastore-test\", \"unavailablehost\");", "BucketQueryError", AW_ENOTFOUND);
	qt_db_close(d);
}

static void test_filter_keyvals_regex(void **state)
{
	qt_db *d = qt_db_open();
	(void)state;
	qt_bucket(d, "b", "h");
	qt_insert(d, "b", "2000-01-01T00:00:00Z", 1, "{\"key1\":\"value1\"}");
	qt_insert(d, "b", "2000-01-01T00:00:01Z", 1, "{\"key1\":\"value2\"}");
	qt_insert(d, "b", "2000-01-01T00:00:02Z", 1, "{\"key2\":\"value3\"}");
	qt_insert(d, "b", "2000-01-01T00:00:03Z", 1, "{\"key1\":7}"); /* non-string value: dropped */
#define CNT(k, re, n)                                                                                         \
	do {                                                                                                  \
		aw_query_error err;                                                                           \
		json_t *v = qt_query(d, "return filter_keyvals_regex(query_bucket(\"b\"), \"" k "\", \"" re "\");", \
				     &err, NULL);                                                             \
		assert_non_null(v);                                                                           \
		assert_int_equal(json_array_size(v), n);                                                      \
		json_decref(v);                                                                               \
	} while (0)
	CNT("key1", "value", 2);
	CNT("key1", "value1", 1);
	CNT("key2", "value", 1);
	CNT("key2", "value1", 0);
	CNT("key3", "value", 0);
	CNT("key1", "7", 0);
#undef CNT
	qt_db_close(d);
}

static void test_simplify_window_titles(void **state)
{
	qt_db *d = qt_db_open();
	json_t *v;
	aw_query_error err;
	(void)state;
	qt_bucket(d, "b", "h");
	qt_insert(d, "b", "2000-01-01T00:00:00Z", 1, "{\"app\":\"x\",\"title\":\"(2) Facebook\"}");
	qt_insert(d, "b", "2000-01-01T00:00:01Z", 1, "{\"app\":\"code\",\"title\":\"\xe2\x97\x8f test.py - Code\"}");
	qt_insert(d, "b", "2000-01-01T00:00:02Z", 1, "{\"app\":\"cemu\",\"title\":\"Cemu - FPS: 59.2 - x\"}");
	qt_insert(d, "b", "2000-01-01T00:00:03Z", 1, "{\"other\":\"* keep\"}");
	v = qt_query(d, "return sort_by_timestamp(simplify_window_titles(query_bucket(\"b\"), \"title\"));", &err, NULL);
	if (!v)
		fail_msg("%s", err.message);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 0), "data"), "title")), "Facebook");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 1), "data"), "title")), "test.py - Code");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 2), "data"), "title")),
			    "Cemu - FPS: ... - x");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(v, 3), "data"), "other")), "* keep");
	json_decref(v);
	qt_db_close(d);
}

static void test_query_level_transforms(void **state)
{
	qt_db *d = qt_db_open();
	(void)state;
	qt_bucket(d, "w", "h");
	qt_bucket(d, "a", "h");
	qt_insert(d, "w", "2000-01-01T00:00:00Z", 1, "{\"app\":\"a\"}");
	qt_insert(d, "w", "2000-01-01T00:00:03Z", 1, "{\"app\":\"b\"}");
	qt_insert(d, "a", "2000-01-01T00:00:00Z", 10, "{\"status\":\"not-afk\"}");
	/* flood's optional pulsetime (awnode extra); negative is an error */
	qt_expect_raw(d, "return flood(query_bucket(\"w\"), 1);",
		      "[[{\"data\":{\"app\":\"a\"},\"duration\":1.0,\"id\":1,\"timestamp\":\"2000-01-01T00:00:00Z\"},"
		      "{\"data\":{\"app\":\"b\"},\"duration\":1.0,\"id\":2,\"timestamp\":\"2000-01-01T00:00:03Z\"}]]");
	qt_expect_raw(d, "return flood(query_bucket(\"w\"));",
		      "[[{\"data\":{\"app\":\"a\"},\"duration\":2.0,\"id\":1,\"timestamp\":\"2000-01-01T00:00:00Z\"},"
		      "{\"data\":{\"app\":\"b\"},\"duration\":2.0,\"id\":2,\"timestamp\":\"2000-01-01T00:00:02Z\"}]]");
	qt_expect_error(d, "return flood(query_bucket(\"w\"), 0 - 1);", "InvalidFunctionParameters", AW_EINVALID);
	/* concat of any number of event lists; list literals of events are events too */
	qt_expect_raw(d, "return sum_durations(concat(query_bucket(\"w\"), [], query_bucket(\"a\")));", "[12.0]");
	qt_expect_raw(d, "e = query_bucket(\"w\"); return sum_durations(e + e);", "[4.0]");
	qt_expect_raw(d, "return concat();", "[[]]");
	qt_expect_error(d, "return concat([1]);", "InvalidFunctionParameters", AW_EINVALID);
	/* events compare by timestamp, duration and data, not id */
	qt_expect_raw(d, "e = query_bucket(\"w\"); return [e == e, e == sort_by_timestamp(e), e == merge_events_by_keys(e, [\"app\"])];",
		      "[[true,false,true]]");
	qt_expect_raw(d, "e = query_bucket(\"w\"); return [contains(e + [1], 1), e == limit_events(e, 5)];", "[[true,true]]");
	/* period_union strips data */
	qt_expect_raw(d, "return period_union(query_bucket(\"a\"), []);",
		      "[[{\"data\":{},\"duration\":10.0,\"id\":3,\"timestamp\":\"2000-01-01T00:00:00Z\"}]]");
	qt_db_close(d);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_flood_merge),
		cmocka_unit_test(test_flood_meet_in_middle),
		cmocka_unit_test(test_flood_partial_overlap),
		cmocka_unit_test(test_flood_containing),
		cmocka_unit_test(test_flood_containing_diff),
		cmocka_unit_test(test_flood_same_timestamp),
		cmocka_unit_test(test_flood_same_timestamp_duplicates),
		cmocka_unit_test(test_flood_unsorted_and_chained),
		cmocka_unit_test(test_sort_by_timestamp),
		cmocka_unit_test(test_sort_by_duration),
		cmocka_unit_test(test_sort_stable_large),
		cmocka_unit_test(test_filter_period_intersect),
		cmocka_unit_test(test_filter_period_intersect_sweep),
		cmocka_unit_test(test_period_union),
		cmocka_unit_test(test_union_no_overlap),
		cmocka_unit_test(test_union_no_overlap_with_overlap),
		cmocka_unit_test(test_union_no_overlap_precedence),
		cmocka_unit_test(test_merge_events_by_key),
		cmocka_unit_test(test_merge_keeps_first_data),
		cmocka_unit_test(test_chunk_events_by_key),
		cmocka_unit_test(test_filter_keyvals),
		cmocka_unit_test(test_exclude_keyvals),
		cmocka_unit_test(test_split_url_events),
	};
	const struct CMUnitTest lang[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_rule_lookahead),
		cmocka_unit_test(test_rule_select_keys),
		cmocka_unit_test(test_rule_select_keys_empty_list),
		cmocka_unit_test(test_categorize),
		cmocka_unit_test(test_categorize_uncategorized),
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_find_bucket),
		cmocka_unit_test(test_filter_keyvals_regex),
		cmocka_unit_test(test_simplify_window_titles),
		cmocka_unit_test(test_query_level_transforms),
	};
	int rc = cmocka_run_group_tests_name("transforms", pure, setup_T, teardown_T);
	return rc | cmocka_run_group_tests_name("classification", lang, setup_db, teardown_db);
}
