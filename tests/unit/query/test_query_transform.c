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

/* ---- tables of cases ----------------------------------------------------------------------- */

/* A JSON text written as it reads: J({"test": 1}) is "{\"test\": 1}". */
#define J(...) #__VA_ARGS__

/* An event of a case: start (after T0) and duration in ns, data, id (0 = none). A list
 * of them ends at the first without data. */
typedef struct tev {
	aw_ns at, dur;
	const char *data;
	int64_t id;
} tev;

#define E(at, dur, data) {SEC(at), SEC(dur), data, 0}
#define EI(at, dur, data, id) {SEC(at), SEC(dur), data, id}
#define MAXEV 6

enum {
	OP_FLOOD,      /* a, pulsetime 5 s */
	OP_SORT_TS,    /* a */
	OP_SORT_DUR,   /* a */
	OP_INTERSECT,  /* filter_period_intersect(a, b) */
	OP_UNION,      /* period_union(a, b) */
	OP_NO_OVERLAP, /* union_no_overlap(a, b) */
	OP_MERGE,      /* merge_by_keys(a, keys), the result sorted by timestamp */
	OP_CHUNK,      /* chunk_by_key(a, keys[0]) */
	OP_FILTER,     /* filter_keyvals(a, keys[0], [keys[1]]) */
	OP_EXCLUDE,    /* exclude_keyvals(a, keys[0], [keys[1]]) */
	OP_SPLIT_URL,  /* split_url_events(a) */
};

/* One case: the transform, its inputs and the events it must give (ids included). */
typedef struct tcase {
	const char *what;
	int op;
	tev a[MAXEV], b[MAXEV];
	const char *keys[2];
	tev want[MAXEV];
} tcase;

static size_t make_events(qev *v, const tev *t)
{
	size_t n = 0;

	for (; n < MAXEV && t[n].data; n++) {
		v[n] = qt_ev(&T, T0 + t[n].at, t[n].dur, t[n].data);
		v[n].id = t[n].id ? t[n].id : QID_NULL;
	}
	return n;
}

static void run_case(const tcase *c)
{
	qev a[MAXEV], b[MAXEV], *r;
	size_t na = make_events(a, c->a), nb = make_events(b, c->b), n, nk = 0, nw = 0;
	size_t kl[2] = {c->keys[0] ? strlen(c->keys[0]) : 0, c->keys[1] ? strlen(c->keys[1]) : 0};

	while (nk < 2 && c->keys[nk])
		nk++;
	while (nw < MAXEV && c->want[nw].data)
		nw++;
	switch (c->op) {
	case OP_FLOOD: n = flood_events(&T, a, na, SEC(5)); r = a; break;
	case OP_SORT_TS: sort_by_timestamp(a, na); n = na; r = a; break;
	case OP_SORT_DUR: sort_by_duration(a, na); n = na; r = a; break;
	case OP_INTERSECT: {
		/* given up (reused in place, moving when an event is cut) and kept: the same */
		qev *own = malloc((na ? na : 1) * sizeof(qev)), *r2;
		size_t n2;
		memcpy(own, a, na * sizeof(qev));
		r2 = filter_period_intersect(own, na, own, b, nb, &n2);
		r = filter_period_intersect(a, na, NULL, b, nb, &n);
		if (n2 != n || (n && memcmp(r, r2, n * sizeof(qev))))
			fail_msg("%s: in place differs", c->what);
		free(r2);
		break;
	}
	case OP_UNION: r = period_union(&T, a, na, b, nb, &n); break;
	case OP_NO_OVERLAP: r = union_no_overlap(a, na, b, nb, &n); break;
	case OP_MERGE:
		r = merge_by_keys(&T, a, na, c->keys, kl, nk, &n);
		sort_by_timestamp(r, n);
		break;
	case OP_CHUNK: r = chunk_by_key(&T, a, na, c->keys[0], kl[0], &n); break;
	case OP_FILTER:
	case OP_EXCLUDE:
		r = filter_keyvals(&T, a, na, NULL, c->keys[0], kl[0], &c->keys[1], &kl[1], 1, c->op == OP_EXCLUDE, &n);
		break;
	default: r = split_url_events(&T, a, na, NULL, &n); break;
	}
	if (n != nw)
		fail_msg("%s: %zu events, want %zu", c->what, n, nw);
	for (size_t i = 0; i < n; i++) {
		int64_t id = c->want[i].id ? c->want[i].id : QID_NULL;
		qt_assert_ev(&T, &r[i], T0 + c->want[i].at, c->want[i].dur, c->want[i].data, c->what);
		if (r[i].id != id)
			fail_msg("%s: event %zu has id %lld, want %lld", c->what, i, (long long)r[i].id, (long long)id);
	}
	if (r != a)
		free(r);
}

static void run_cases(const tcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_case(&c[i]);
}

#define RUN_CASES(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))

/* ---- flood ---------------------------------------------------------------------------------- */

static void test_flood(void **state)
{
	static const tcase cases[] = {
		{"merge", OP_FLOOD, {E(0, 1, J({"test": 1})), E(3, 1, J({"test": 1}))}, {{0}}, {0},
		 {E(0, 4, J({"test": 1}))}},
		{"meet in the middle", OP_FLOOD, {E(0, 1, J({"test": 1})), E(3, 1, J({"test": 2}))}, {{0}}, {0},
		 {E(0, 2, J({"test": 1})), E(2, 2, J({"test": 2}))}},
		/* odd gaps: the halves are truncated to whole nanoseconds */
		{"odd gap", OP_FLOOD, {E(0, 1, J({"test": 1})), {SEC(1) + 3, SEC(1), J({"test": 2}), 0}}, {{0}}, {0},
		 {{0, SEC(1) + 1, J({"test": 1}), 0}, {SEC(1) + 2, SEC(1) + 1, J({"test": 2}), 0}}},
		/* gaps of at least pulsetime are left alone */
		{"gap", OP_FLOOD, {E(0, 1, J({"test": 1})), E(6, 1, J({"test": 2}))}, {{0}}, {0},
		 {E(0, 1, J({"test": 1})), E(6, 1, J({"test": 2}))}},
		{"partial overlap", OP_FLOOD, {E(0, 10, J({"test": 1})), E(5, 10, J({"test": 1}))}, {{0}}, {0},
		 {E(0, 15, J({"test": 1}))}},
		{"containing", OP_FLOOD, {E(0, 10, J({"test": 1})), E(2, 5, J({"test": 1}))}, {{0}}, {0},
		 {E(0, 10, J({"test": 1}))}},
		{"containing, other data", OP_FLOOD, {E(0, 10, J({"test": 1})), E(2, 5, J({"test": 2}))}, {{0}}, {0},
		 {E(0, 10, J({"test": 1})), E(2, 5, J({"test": 2}))}},
		{"same timestamp", OP_FLOOD,
		 {E(0, 1, J({"status": "afk"})), E(1, 5, J({"status": "not-afk"})), E(1, 1, J({"status": "not-afk"})),
		  E(6, 1, J({"status": "afk"}))},
		 {{0}}, {0},
		 {E(0, 1, J({"status": "afk"})), E(1, 5, J({"status": "not-afk"})), E(6, 1, J({"status": "afk"}))}},
		/* merged events keep the first event's id */
		{"same timestamp, duplicates", OP_FLOOD,
		 {EI(0, 1, J({"a": 1}), 7), E(0, 3, J({"a": 1})), E(0, 2, J({"a": 1})), E(0, 1, J({"a": 1}))}, {{0}}, {0},
		 {EI(0, 3, J({"a": 1}), 7)}},
		/* input newest first (as query_bucket returns it); a gap then a merge chain */
		{"unsorted and chained", OP_FLOOD,
		 {E(9, 1, J({"a": 2})), E(4, 1, J({"a": 1})), E(2, 1, J({"a": 1})), E(0, 1, J({"a": 1}))}, {{0}}, {0},
		 {E(0, 7, J({"a": 1})), E(7, 3, J({"a": 2}))}},
		/* overlapping events with different data are left as they are */
		{"overlap, other data", OP_FLOOD, {E(0, 5, J({"a": 1})), E(3, 5, J({"a": 2}))}, {{0}}, {0},
		 {E(0, 5, J({"a": 1})), E(3, 5, J({"a": 2}))}},
		{"empty", OP_FLOOD, {{0}}, {{0}}, {0}, {{0}}},
	};

	(void)state;
	RUN_CASES(cases);
}

/* ---- sort ------------------------------------------------------------------------------------ */

static void test_sort(void **state)
{
	static const tcase cases[] = {
		{"by timestamp", OP_SORT_TS, {E(3, 1, J({"test": 1})), E(0, 1, J({"test": 1}))}, {{0}}, {0},
		 {E(0, 1, J({"test": 1})), E(3, 1, J({"test": 1}))}},
		{"by duration", OP_SORT_DUR, {E(3, 1, J({"test": 1})), E(0, 2, J({"test": 1}))}, {{0}}, {0},
		 {E(0, 2, J({"test": 1})), E(3, 1, J({"test": 1}))}},
	};

	(void)state;
	RUN_CASES(cases);
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
	static const tcase cases[] = {
		{"five events", OP_INTERSECT,
		 {E(1, 1, J({"test": 1})), E(2, 1, J({"test": 1})), E(3, 1, J({"test": 1})), E(4, 1, J({"test": 1})),
		  E(5, 1, J({"test": 1}))},
		 {E(2.5, 2, J({"test": 1}))}, {0},
		 {E(2.5, 0.5, J({"test": 1})), E(3, 1, J({"test": 1})), E(4, 0.5, J({"test": 1}))}},
		{"filter over the start", OP_INTERSECT, {E(1, 1, J({"test": 1}))}, {E(0, 1.5, J({}))}, {0},
		 {E(1, 0.5, J({"test": 1}))}},
		{"filter over the end", OP_INTERSECT, {E(1, 1, J({"test": 1}))}, {E(1.5, 1, J({}))}, {0},
		 {E(1.5, 0.5, J({"test": 1}))}},
		{"filter inside", OP_INTERSECT, {E(1, 1, J({"test": 1}))}, {E(1.5, 0.1, J({}))}, {0},
		 {E(1.5, 0.1, J({"test": 1}))}},
		{"filter around", OP_INTERSECT, {E(1, 1, J({"test": 1}))}, {E(0, 10, J({}))}, {0},
		 {E(1, 1, J({"test": 1}))}},
		/* empty input on either side */
		{"no events", OP_INTERSECT, {{0}}, {E(0, 10, J({}))}, {0}, {{0}}},
		{"no filters", OP_INTERSECT, {E(1, 1, J({"test": 1}))}, {{0}}, {0}, {{0}}},
		/* one event spanning several filters yields several pieces; ids and data kept */
		{"sweep", OP_INTERSECT, {EI(0, 10, J({"x": 1}), 42)},
		 {E(1, 1, J({})), E(4, 2, J({})), E(9, 5, J({}))}, {0},
		 {EI(1, 1, J({"x": 1}), 42), EI(4, 2, J({"x": 1}), 42), EI(9, 1, J({"x": 1}), 42)}},
		/* an event cut into pieces before the later events are read (in place, the
		 * output has to move) */
		{"cut early, more after", OP_INTERSECT,
		 {EI(0, 10, J({"x": 1}), 42), EI(11, 1, J({"x": 2}), 43), EI(12, 1, J({"x": 3}), 44)},
		 {E(1, 1, J({})), E(4, 2, J({})), E(9, 5, J({}))}, {0},
		 {EI(1, 1, J({"x": 1}), 42), EI(4, 2, J({"x": 1}), 42), EI(9, 1, J({"x": 1}), 42),
		  EI(11, 1, J({"x": 2}), 43), EI(12, 1, J({"x": 3}), 44)}},
		/* overlapping filters do not emit the same time twice */
		{"overlapping filters", OP_INTERSECT, {EI(0, 10, J({"x": 1}), 42)}, {E(0, 6, J({})), E(4, 4, J({}))}, {0},
		 {EI(0, 6, J({"x": 1}), 42), EI(6, 2, J({"x": 1}), 42)}},
		/* zero-duration events are skipped; unsorted inputs are sorted */
		{"unsorted", OP_INTERSECT, {E(5, 2, J({"x": 2})), E(1, 0, J({"x": 1})), E(0, 2, J({"x": 3}))},
		 {E(6, 10, J({})), E(0, 3, J({}))}, {0},
		 {E(0, 2, J({"x": 3})), E(6, 1, J({"x": 2}))}},
	};

	(void)state;
	RUN_CASES(cases);
}

/* ---- period_union ------------------------------------------------------------------------------- */

static void test_period_union(void **state)
{
	static const tcase cases[] = {
		{"empty", OP_UNION, {{0}}, {{0}}, {0}, {{0}}},
		/* touching => one 2 s event */
		{"touching", OP_UNION, {E(1, 1, J({"test": 1}))}, {E(2, 1, J({"test": 1}))}, {0}, {E(1, 2, J({}))}},
		{"apart", OP_UNION, {E(1, 1, J({"test": 1}))}, {E(3, 1, J({"test": 1}))}, {0},
		 {E(1, 1, J({})), E(3, 1, J({}))}},
		{"2nd empty", OP_UNION, {E(1, 1, J({"test": 1}))}, {{0}}, {0}, {E(1, 1, J({}))}},
		{"1st empty", OP_UNION, {{0}}, {E(3, 1, J({"test": 1}))}, {0}, {E(3, 1, J({}))}},
		/* overlap and containment; the first event's id of each run is kept */
		{"overlap", OP_UNION, {EI(0, 10, J({"a": 1}), 5), E(20, 1, J({"a": 1}))},
		 {E(2, 3, J({"b": 1})), E(8, 4, J({"b": 1}))}, {0},
		 {EI(0, 12, J({}), 5), E(20, 1, J({}))}},
	};

	(void)state;
	RUN_CASES(cases);
}

/* ---- union_no_overlap --------------------------------------------------------------------------- */

static void test_union_no_overlap(void **state)
{
	static const tcase cases[] = {
		{"touching", OP_NO_OVERLAP, {E(0, 3600, J({}))}, {E(3600, 3600, J({}))}, {0},
		 {E(0, 3600, J({})), E(3600, 3600, J({}))}},
		/* reverse order, same result */
		{"touching, reversed", OP_NO_OVERLAP, {E(3600, 3600, J({}))}, {E(0, 3600, J({}))}, {0},
		 {E(0, 3600, J({})), E(3600, 3600, J({}))}},
		{"overlap at the start", OP_NO_OVERLAP, {E(0, 3600, J({}))}, {E(0, 7200, J({}))}, {0},
		 {E(0, 3600, J({})), E(3600, 3600, J({}))}},
		{"overlap at the end", OP_NO_OVERLAP, {E(3600, 3600, J({}))}, {E(0, 7200, J({}))}, {0},
		 {E(0, 3600, J({})), E(3600, 3600, J({}))}},
		/* events1 is never cut; events2 keeps only the uncovered parts, as new events */
		{"precedence", OP_NO_OVERLAP, {EI(2, 2, J({"a": 1}), 1), E(6, 1, J({"a": 2}))}, {EI(0, 10, J({"b": 1}), 9)}, {0},
		 {E(0, 2, J({"b": 1})), EI(2, 2, J({"a": 1}), 1), E(4, 2, J({"b": 1})), E(6, 1, J({"a": 2})),
		  E(7, 3, J({"b": 1}))}},
	};

	(void)state;
	RUN_CASES(cases);
}

/* ---- merge / chunk / filter_keyvals / split_url_events ------------------------------------------- */

static void test_by_keys(void **state)
{
	static const tcase cases[] = {
		{"merge by key", OP_MERGE,
		 {EI(0, 1, J({"test": 1}), 3), E(1, 3, J({"test2": 3})), E(2, 7, J({"test": 6})), E(3, 9, J({"test": 1}))},
		 {{0}}, {"test"},
		 {E(0, 10, J({"test": 1})), E(2, 7, J({"test": 6}))}},
		/* no keys => [] */
		{"merge by no keys", OP_MERGE, {E(0, 1, J({"test": 1}))}, {{0}}, {NULL}, {{0}}},
		/* the group's first event gives the whole data */
		{"merge keeps the first data", OP_MERGE,
		 {E(1, 2, J({"app": "browser", "title": "page", "extra": {"nested": [1, 2]}})),
		  E(11, 2, J({"app": "browser", "title": "page", "extra": "different"})),
		  E(12, 2, J({"app": "browser", "extra": 1}))},
		 {{0}}, {"app", "title"},
		 {E(1, 4, J({"app": "browser", "title": "page", "extra": {"nested": [1, 2]}}))}},
		/* the group key is the values' texts joined with '.' as aw-server-rust builds it:
		 * (1.5, 2) and (1, 5.2) both give 1.5.2, while strings keep their quotes apart */
		{"merge joins the values with '.'", OP_MERGE,
		 {E(0, 1, J({"a": 1.5, "b": 2})), E(1, 2, J({"a": 1, "b": 5.2})), E(2, 4, J({"a": "1.5", "b": "2"})),
		  E(3, 8, J({"a": "1", "b": "5.2"})), E(4, 16, J({"a": "x", "b": "y"})),
		  E(5, 32, J({"a": "x", "b": "y", "c": 1}))},
		 {{0}}, {"a", "b"},
		 {E(0, 3, J({"a": 1.5, "b": 2})), E(2, 4, J({"a": "1.5", "b": "2"})), E(3, 8, J({"a": "1", "b": "5.2"})),
		  E(4, 48, J({"a": "x", "b": "y"}))}},
		{"chunk", OP_CHUNK,
		 {E(1, 1, J({"test": 1})), E(1, 1, J({"test2": 1})), E(1, 1, J({"test": 1})), E(1, 1, J({"test": 2}))},
		 {{0}}, {"test"},
		 {E(1, 2, J({"test": 1})), E(1, 1, J({"test": 2}))}},
		{"filter_keyvals", OP_FILTER,
		 {E(0, 1, J({"test": 1})), E(0, 1, J({"test": 1, "test2": 1})), E(0, 1, J({"test2": 2}))}, {{0}},
		 {"test", "1"},
		 {E(0, 1, J({"test": 1})), E(0, 1, J({"test": 1, "test2": 1}))}},
		{"exclude_keyvals", OP_EXCLUDE,
		 {E(0, 1, J({"test": 1})), E(0, 1, J({"test": 1, "test2": 2})), E(0, 1, J({"test": 2}))}, {{0}},
		 {"test", "2"},
		 {E(0, 1, J({"test": 1})), E(0, 1, J({"test": 1, "test2": 2}))}},
		{"split_url_events", OP_SPLIT_URL,
		 {E(1, 1, J({"url": "http://www.google.com/path?query=1"})),
		  E(1, 1, J({"url": "file:///home/user/document.pdf"})), E(1, 1, J({"url": "about:blank"})),
		  E(1, 1, J({"url": "not a url", "x": 1}))},
		 {{0}}, {0},
		 {E(1, 1, J({"url": "http://www.google.com/path?query=1", "$protocol": "http", "$domain": "google.com",
			     "$path": "/path", "$params": "query=1"})),
		  E(1, 1, J({"url": "file:///home/user/document.pdf", "$protocol": "file", "$domain": "file",
			     "$path": "/home/user/document.pdf", "$params": ""})),
		  E(1, 1, J({"url": "about:blank", "$protocol": "about", "$domain": "about", "$path": "blank", "$params": ""})),
		  E(1, 1, J({"url": "not a url", "x": 1}))}},
	};

	(void)state;
	RUN_CASES(cases);
}

/* ---- classification through the language ----------------------------------------------------------------------- */

static qt_db *cdb;

static int setup_db(void **state)
{
	(void)state;
	cdb = QT_DB_WITH("b", "h",
			 {"2020-01-01T00:00:00Z", 1, J({"test": "just a test"})},
			 {"2020-01-01T00:00:01Z", 1, J({"nonono": "no match!"})},
			 {"2020-01-01T00:00:02Z", 1, J({"test": "testing lookahead"})},
			 {"2020-01-01T00:00:03Z", 1, J({"app": "terminal", "title": "just a test", "pid": 123})});
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

/* Each case: categorize or tag the four events of setup_db with the rules; want is the
 * category (tags) of each, oldest first. */
static void test_classify(void **state)
{
	static const struct {
		const char *fn, *rules, *want;
	} cases[] = {
		{"tag", J([["t", {"type": "regex", "regex": "test"}], ["n", {"type": "none"}]]), J([["t"],[],["t"],["t"]])},
		{"tag", J([["t", {"type": "regex", "regex": "testing (?!lookahead)"}]]), J([[],[],[],[]])},
		{"tag", J([["t", {"type": "regex", "regex": "testing (?=lookahead)"}]]), J([[],[],["t"],[]])},
		{"tag",
		 J([["title", {"type": "regex", "regex": "test", "select_keys": ["title"]}],
		    ["app", {"type": "regex", "regex": "test", "select_keys": ["app"]}],
		    ["missing", {"type": "regex", "regex": "test", "select_keys": ["missing"]}],
		    ["pid", {"type": "regex", "regex": "123", "select_keys": ["pid"]}]]),
		 J([[],[],[],["title"]])},
		/* every matching tag, sorted and de-duplicated */
		{"tag",
		 J([["zeta", {"type": "regex", "regex": "test"}], ["alpha", {"type": "regex", "regex": "just"}],
		    ["zeta", {"type": "regex", "regex": "lookahead"}]]),
		 J([["alpha","zeta"],[],["zeta"],["alpha","zeta"]])},
		/* deepest wins */
		{"categorize",
		 J([[["Test"], {"type": "regex", "regex": "test"}], [["Test", "Subtest"], {"type": "regex", "regex": "test"}],
		    [["Other"], {"type": "regex", "regex": "nonmatching"}]]),
		 J([["Test","Subtest"],["Uncategorized"],["Test","Subtest"],["Test","Subtest"]])},
		/* deeper first in the list still wins; among equal depths the last match wins */
		{"categorize",
		 J([[["A", "B"], {"type": "regex", "regex": "just"}], [["C"], {"type": "regex", "regex": "test"}],
		    [["D", "E"], {"type": "regex", "regex": "test"}], [[], {"type": "regex", "regex": "match"}]]),
		 J([["D","E"],["Uncategorized"],["D","E"],["D","E"]])},
		/* ignore_case */
		{"categorize", J([[["X"], {"type": "regex", "regex": "NO MATCH", "ignore_case": true}]]),
		 J([["Uncategorized"],["X"],["Uncategorized"],["Uncategorized"]])},
		{"categorize", J([[["Non-matching", "test"], {"type": "regex", "regex": "not going to match"}]]),
		 J([["Uncategorized"],["Uncategorized"],["Uncategorized"],["Uncategorized"]])},
		{"categorize", J([]), J([["Uncategorized"],["Uncategorized"],["Uncategorized"],["Uncategorized"]])},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = classify(cases[i].fn, cases[i].rules);
		if (strcmp(got, cases[i].want))
			fail_msg("%s %s\n got: %s\nwant: %s", cases[i].fn, cases[i].rules, got, cases[i].want);
		free(got);
	}
	qt_expect_error(cdb, "return tag(query_bucket(\"b\"), [[\"t\", {\"type\": \"regex\", \"regex\": \"test\", \"select_keys\": []}]]);",
			"RegexCompileError", AW_EINVALID);
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
	/* key, regex, how many events match */
	static const struct {
		const char *key, *re;
		size_t n;
	} cases[] = {
		{"key1", "value", 2}, {"key1", "value1", 1}, {"key2", "value", 1},
		{"key2", "value1", 0}, {"key3", "value", 0}, {"key1", "7", 0},
	};
	qt_db *d = QT_DB_WITH("b", "h",
		{"2000-01-01T00:00:00Z", 1, J({"key1": "value1"})},
		{"2000-01-01T00:00:01Z", 1, J({"key1": "value2"})},
		{"2000-01-01T00:00:02Z", 1, J({"key2": "value3"})},
		/* a non-string value: dropped */
		{"2000-01-01T00:00:03Z", 1, J({"key1": 7})});

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char prog[200];
		aw_query_error err;
		json_t *v;
		snprintf(prog, sizeof(prog), "return filter_keyvals_regex(query_bucket(\"b\"), \"%s\", \"%s\");",
			 cases[i].key, cases[i].re);
		v = qt_query(d, prog, &err, NULL);
		if (!v || json_array_size(v) != cases[i].n)
			fail_msg("%s: %s", prog, v ? "wrong number of events" : err.message);
		json_decref(v);
	}
	qt_db_close(d);
}

static void test_simplify_window_titles(void **state)
{
	qt_db *d = QT_DB_WITH("b", "h",
		{"2000-01-01T00:00:00Z", 1, J({"app": "x", "title": "(2) Facebook"})},
		/* not J(): the title's C escapes must reach the JSON text as bytes */
		{"2000-01-01T00:00:01Z", 1, "{\"app\":\"code\",\"title\":\"\xe2\x97\x8f test.py - Code\"}"},
		{"2000-01-01T00:00:02Z", 1, J({"app": "cemu", "title": "Cemu - FPS: 59.2 - x"})},
		{"2000-01-01T00:00:03Z", 1, J({"other": "* keep"})});
	json_t *v;
	aw_query_error err;
	(void)state;
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
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_sort_stable_large),
		cmocka_unit_test(test_filter_period_intersect),
		cmocka_unit_test(test_period_union),
		cmocka_unit_test(test_union_no_overlap),
		cmocka_unit_test(test_by_keys),
	};
	const struct CMUnitTest lang[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_find_bucket),
		cmocka_unit_test(test_filter_keyvals_regex),
		cmocka_unit_test(test_simplify_window_titles),
		cmocka_unit_test(test_query_level_transforms),
	};
	int rc = cmocka_run_group_tests_name("transforms", pure, setup_T, teardown_T);
	return rc | cmocka_run_group_tests_name("classification", lang, setup_db, teardown_db);
}
