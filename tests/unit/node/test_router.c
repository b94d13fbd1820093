/*
 * The route table as the router matches it (route_find in node/src/router.c): every
 * documented route is reachable by its own path, path parameters match one segment,
 * JSON routes need the JSON Content-Type, and nothing else matches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "routes.h"

/* Split "/api/0/buckets/x" into segments in buf (which it modifies). */
static int split(char *buf, char **segs, int max)
{
	int n = 0;

	for (char *save = NULL, *s = strtok_r(buf, "/", &save); s && n < max; s = strtok_r(NULL, "/", &save))
		segs[n++] = s;
	return n;
}

static const route *find(http_method m, const char *path, const char *ctype)
{
	char buf[512], *segs[32];
	int n;

	strcpy(buf, path);
	n = split(buf, segs, 32);
	return route_find(m, segs, n, ctype);
}

static void test_every_route_matches_itself(void **state)
{
	(void)state;
	assert_true(n_routes > 20);
	for (size_t i = 0; i < n_routes; i++) {
		const route *r = &routes[i];
		char path[512], *o = path;
		const char *ctype = (r->flags & R_JSON) ? "application/json" : (r->flags & R_FORM) ? "multipart/form-data; boundary=x" : NULL;
		const route *got;

		/* {param} becomes a concrete value that is not a fixed segment name */
		for (const char *p = r->path; *p;) {
			if (*p == '{') {
				o += strlen(strcpy(o, "p1"));
				p = strchr(p, '}') + 1;
			} else {
				*o++ = *p++;
			}
		}
		*o = '\0';
		got = find(r->method, path, ctype);
		if (!got)
			fail_msg("%s does not match its own route", r->path);
		/* an earlier route may legitimately take a concrete path ("count" before {id});
		 * it must then at least be the same method */
		assert_int_equal(got->method, r->method);
	}
}

static void test_parameters_and_fixed_segments(void **state)
{
	const route *events, *count, *one;

	(void)state;
	events = find(M_GET, "/api/0/buckets/b1/events", NULL);
	count = find(M_GET, "/api/0/buckets/b1/events/count", NULL);
	one = find(M_GET, "/api/0/buckets/b1/events/42", NULL);
	assert_non_null(events);
	assert_non_null(count);
	assert_non_null(one);
	assert_ptr_not_equal(count, one);
	assert_string_equal(count->path, "/api/0/buckets/{bucket_id}/events/count");
	assert_null(find(M_GET, "/api/0/buckets/b1/events/42/extra", NULL));
	assert_null(find(M_GET, "/api/0/nonexistent", NULL));
	assert_null(find(M_GET, "/api/1/buckets", NULL));
	assert_null(find(M_PUT, "/api/0/buckets/b1", "application/json"));
	assert_null(find(M_DELETE, "/api/0/export", NULL));
}

static void test_json_routes_need_json(void **state)
{
	(void)state;
	assert_non_null(find(M_POST, "/api/0/buckets/b1/events", "application/json"));
	assert_non_null(find(M_POST, "/api/0/buckets/b1/events", "application/json; charset=utf-8"));
	assert_null(find(M_POST, "/api/0/buckets/b1/events", "text/plain"));
	assert_null(find(M_POST, "/api/0/buckets/b1/events", NULL));
	/* import also takes the web UI's multipart form */
	assert_non_null(find(M_POST, "/api/0/import", "multipart/form-data; boundary=abc"));
	assert_null(find(M_POST, "/api/0/import", "application/x-www-form-urlencoded"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_route_matches_itself),
		cmocka_unit_test(test_parameters_and_fixed_segments),
		cmocka_unit_test(test_json_routes_need_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
