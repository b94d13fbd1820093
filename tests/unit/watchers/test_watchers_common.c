/* Unit tests: a watcher's config file, value checks, UTF-8 repair (watchers/common). */
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

#include "wcommon.h"
#include "tmpdir.h"




static void test_value_checks(void **state)
{
	double d;
	int p;

	(void)state;
	assert_int_equal(parse_seconds("3", &d), 0);
	assert_true(d == 3);
	assert_int_equal(parse_seconds("0.5", &d), 0);
	assert_int_equal(parse_seconds("0", &d), -1);
	assert_int_equal(parse_seconds("-1", &d), -1);
	assert_int_equal(parse_seconds("abc", &d), -1);
	assert_int_equal(parse_seconds("5s", &d), -1);
	assert_int_equal(parse_seconds("nan", &d), -1);
	assert_int_equal(parse_seconds("inf", &d), -1);
	assert_int_equal(parse_seconds("", &d), -1);
	assert_int_equal(parse_port("5600", &p), 0);
	assert_int_equal(p, 5600);
	assert_int_equal(parse_port("0", &p), -1);
	assert_int_equal(parse_port("65536", &p), -1);
	assert_int_equal(parse_port("56x", &p), -1);
}

static void test_utf8_clean(void **state)
{
	char *s;
	char big[5000];

	(void)state;
	s = utf8_clean("plain", 5, 100);
	assert_string_equal(s, "plain");
	free(s);
	s = utf8_clean("caf\xC3\xA9 \xE2\x82\xAC", 9, 100);
	assert_string_equal(s, "caf\xC3\xA9 \xE2\x82\xAC");
	free(s);
	/* invalid bytes become U+FFFD */
	s = utf8_clean("a\xFF" "b\xC3" "c\xED\xA0\x80" "d\xC0\xAF", 11, 100);
	assert_string_equal(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
			       "d\xEF\xBF\xBD\xEF\xBF\xBD");
	free(s);
	/* NUL ends the text; control characters become spaces */
	s = utf8_clean("tab\there\0gone", 14, 100);
	assert_string_equal(s, "tab here");
	free(s);
	/* long text is cut at a character boundary and ends in an ellipsis */
	for (size_t i = 0; i + 2 < sizeof(big); i += 2)
		big[i] = '\xC3', big[i + 1] = '\xA9';
	s = utf8_clean(big, sizeof(big) - 2, 2048);
	assert_true(strlen(s) <= 2048);
	assert_true(strlen(s) >= 2040);
	assert_memory_equal(s + strlen(s) - 3, "\xE2\x80\xA6", 3);
	assert_int_equal((strlen(s) - 3) % 2, 0); /* whole é's only */
	free(s);
	/* exactly at the limit: untouched */
	memset(big, 'x', 2048);
	s = utf8_clean(big, 2048, 2048);
	assert_int_equal(strlen(s), 2048);
	assert_int_equal(s[2047], 'x');
	free(s);
}

static void test_latin1(void **state)
{
	char *s = latin1_to_utf8("caf\xE9 \xA9", 6, 100);

	(void)state;
	assert_string_equal(s, "caf\xC3\xA9 \xC2\xA9");
	free(s);
}

static char cfgdir[128];

static void write_cfg(const char *name, const char *text)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/awnode/%s", cfgdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_conf_tables_and_getters(void **state)
{
	watcher_conf c;
	double t = 180, p = 5;
	int port = 0, b = 0;
	char *host = NULL, **rx = NULL;
	size_t n = 0;

	(void)state;
	snprintf(cfgdir, sizeof(cfgdir), "/tmp/aww-cfg-XXXXXX");
	assert_non_null(mkdtemp(cfgdir));
	setenv("XDG_CONFIG_HOME", cfgdir, 1);
	/* a missing file is created with the defaults (all commented out) */
	assert_int_equal(conf_load(&c, "w", 0, "#timeout = 180\n"), 0);
	assert_int_equal(c.doc.n, 0);
	conf_free(&c);
	write_cfg("w.toml", "timeout = 30\nhost = \"localhost\"\n[w]\npoll_time = 2\n[w-testing]\ntimeout = 7\n"
			    "exclude = true\nrx = [\"a\", \"b\"]\n");
	assert_int_equal(conf_load(&c, "w", 0, NULL), 0);
	assert_int_equal(conf_seconds(&c, "timeout", &t), 1);
	assert_true(t == 30);
	assert_int_equal(conf_seconds(&c, "poll_time", &p), 1);
	assert_true(p == 2);
	assert_int_equal(conf_string(&c, "host", &host), 1);
	assert_string_equal(host, "localhost");
	assert_int_equal(conf_port(&c, "port", &port), 0);
	conf_free(&c);
	/* testing mode reads [w-testing] (plus top-level keys), not [w] */
	assert_int_equal(conf_load(&c, "w", 1, NULL), 0);
	p = 5;
	assert_int_equal(conf_seconds(&c, "timeout", &t), 1);
	assert_true(t == 7);
	assert_int_equal(conf_seconds(&c, "poll_time", &p), 0);
	assert_int_equal(conf_bool(&c, "exclude", &b), 1);
	assert_int_equal(b, 1);
	assert_int_equal(conf_strings(&c, "rx", &rx, &n), 1);
	assert_int_equal(n, 2);
	assert_string_equal(rx[1], "b");
	assert_null(rx[2]);
	for (size_t i = 0; i < n; i++)
		free(rx[i]);
	free(rx);
	conf_free(&c);
	/* bad values */
	write_cfg("w.toml", "timeout = \"abc\"\nport = 70000\nflag = 1\npoll_time = -1\nrx = \"x\"\n");
	assert_int_equal(conf_load(&c, "w", 0, NULL), 0);
	assert_int_equal(conf_seconds(&c, "timeout", &t), -1);
	assert_int_equal(conf_seconds(&c, "poll_time", &t), -1);
	assert_int_equal(conf_port(&c, "port", &port), -1);
	assert_int_equal(conf_bool(&c, "flag", &b), -1);
	assert_int_equal(conf_strings(&c, "rx", &rx, &n), -1);
	conf_free(&c);
	/* syntax error */
	write_cfg("w.toml", "timeout = = 3\n");
	assert_int_equal(conf_load(&c, "w", 0, NULL), -1);
	conf_free(&c);
	free(host);
	assert_int_equal(test_rmtree(cfgdir), 0);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_checks),
		cmocka_unit_test(test_utf8_clean),
		cmocka_unit_test(test_latin1),
		cmocka_unit_test(test_conf_tables_and_getters),
	};

	watcher_log_init("test", 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
