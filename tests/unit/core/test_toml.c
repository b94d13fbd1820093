/* Unit tests for core's TOML reader and config files (aw/toml.h, aw/conf.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/conf.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/toml.h"
#include "tmpdir.h"

static const aw_toml_value *get(const aw_toml_doc *d, const char *table, const char *key)
{
	const aw_toml_value *v = aw_toml_get(d, table, key);

	assert_non_null(v);
	return v;
}

static void test_toml_values(void **state)
{
	const char *text = "\xEF\xBB\xBF# comment\n"
			   "timeout = 180\n"
			   "poll_time = 2.5 # inline comment\n"
			   "flag = true\n"
			   "name = \"a \\\"b\\\" \\u00e9\\n\"\n"
			   "lit = 'C:\\path'\n"
			   "big = 1_000\n"
			   "\n"
			   "[aw-watcher-window]\n"
			   "exclude_titles = [\n"
			   "  \"one\", # first\n"
			   "  'two',\n"
			   "]\n"
			   "[\"quoted table\"]\n"
			   "x = -1e3\n";
	aw_toml_doc d;
	const aw_toml_value *v;

	(void)state;
	assert_int_equal(aw_toml_parse(&d, text), 0);
	v = get(&d, "", "timeout");
	assert_int_equal(v->type, AW_TOML_INT);
	assert_int_equal(v->i, 180);
	v = get(&d, "", "poll_time");
	assert_int_equal(v->type, AW_TOML_FLOAT);
	assert_true(v->f == 2.5);
	assert_int_equal(get(&d, "", "flag")->i, 1);
	assert_string_equal(get(&d, "", "name")->s, "a \"b\" \xC3\xA9\n");
	assert_string_equal(get(&d, "", "lit")->s, "C:\\path");
	assert_int_equal(get(&d, "", "big")->i, 1000);
	v = get(&d, "aw-watcher-window", "exclude_titles");
	assert_int_equal(v->type, AW_TOML_ARRAY);
	assert_int_equal(v->n, 2);
	assert_string_equal(v->items[0].s, "one");
	assert_string_equal(v->items[1].s, "two");
	assert_true(get(&d, "quoted table", "x")->f == -1000.0);
	aw_toml_free(&d);
}

static void test_toml_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"a = \n", "line 1: expected a value"},
		{"a = \"open\n", "line 1: unterminated string"},
		{"a = 1\nb = [1, 2\n", "line 3: expected ',' or ']'"},
		{"a = 1\na = 2\n", "line 2: duplicate key"},
		{"x 1\n", "line 1: expected '='"},
		{"a = 1 2\n", "line 1: unexpected text"},
		{"[t\n", "line 1: expected ']'"},
		{"a = 12abc\n", "line 1: invalid number"},
		{"a = \"\\q\"\n", "line 1: unknown escape"},
		{"[[t]]\n", "arrays of tables"},
	};
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aw_toml_doc d;

		assert_int_equal(aw_toml_parse(&d, cases[i].text), AW_EINVALID);
		snprintf(err, sizeof(err), "%s", aw_error_last());
		if (!strstr(err, cases[i].want))
			fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want);
		assert_int_equal(d.n, 0);
	}
}

static void test_node_api_key(void **state)
{
	static const char text[] = "port = 5600\n[auth]\napi_key = \"s3cret\"\n";
	char *dir = test_tmpdir_xdg(), *path = aw_files_config_path("config.toml"), *k;

	(void)state;
	assert_null(aw_conf_node_api_key(0));
	assert_int_equal(aw_files_write(path, text, strlen(text), 0600, 0), 0);
	k = aw_conf_node_api_key(0);
	assert_string_equal(k, "s3cret");
	free(k);
	assert_null(aw_conf_node_api_key(1));
	free(path);
	assert_int_equal(test_tmpdir_remove(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_toml_values),
		cmocka_unit_test(test_toml_errors),
		cmocka_unit_test(test_node_api_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
