/*
 * The node's configuration (aw/config.h): defaults, then the config file, then flags;
 * testing mode's own file and port; a missing file created with the defaults commented
 * out; bad values refused with a line number. Each test runs in fresh XDG directories.
 */
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

#include "aw/config.h"
#include "aw/files.h"
#include "tmpdir.h"

static int fresh_dirs(void **state)
{
	*state = test_tmpdir_xdg();
	return 0;
}

static int remove_dirs(void **state)
{
	return test_tmpdir_remove(*state);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fresh_dirs, remove_dirs)

static void write_config(const char *name, const char *text)
{
	char *path = aw_files_config_path(name);

	assert_int_equal(aw_files_write(path, text, strlen(text), 0600, 0), 0);
	free(path);
}

static int load(aw_config *c, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = "serve";
	while (args && *args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return aw_config_load(c, argc, argv);
}

static void test_defaults_and_created_file(void **state)
{
	aw_config c;
	char *text = NULL;

	(void)state;
	assert_int_equal(load(&c, NULL), 0);
	assert_string_equal(c.address, "127.0.0.1");
	assert_int_equal(c.port, 5600);
	assert_int_equal(c.max_body_bytes, 64u << 20);
	assert_true(c.sync_enabled);
	assert_int_equal(c.sync_interval, 300);
	assert_null(c.api_key);
	assert_non_null(c.device_id);
	assert_int_equal(strlen(c.device_id), 36);
	assert_non_null(strstr(c.db_path, "/data/awnode/awnode.db"));
	/* the file did not exist: it now holds the defaults, commented out */
	assert_int_equal(aw_files_read(&text, NULL, c.config_path, 1 << 16), 0);
	assert_non_null(strstr(text, "#port = 5600"));
	free(text);
	aw_config_free(&c);
}

static void test_testing_mode_has_its_own_file_and_port(void **state)
{
	static const char *const args[] = {"--testing", NULL};
	aw_config c;

	(void)state;
	write_config("config.toml", "port = 7000\n");
	assert_int_equal(load(&c, args), 0);
	assert_int_equal(c.port, 5666);
	assert_non_null(strstr(c.config_path, "config-testing.toml"));
	assert_non_null(strstr(c.db_path, "awnode-testing.db"));
	aw_config_free(&c);
}

static void test_file_then_flags(void **state)
{
	static const char *const args[] = {"--port", "7001", "--device-id", "dev-1", NULL};
	aw_config c;

	(void)state;
	write_config("config.toml", "address = \"127.0.0.2\"\nport = 7000\ncors = [\"http://a\"]\n"
				    "[auth]\napi_key = \"k\"\n[sync]\nenabled = false\ninterval = 60\n"
				    "[archive]\nolder_than_days = 30\n[storage]\nsynchronous = \"normal\"\n"
				    "[some_future_table]\nx = 1\n");
	assert_int_equal(load(&c, args), 0);
	assert_string_equal(c.address, "127.0.0.2");
	assert_int_equal(c.port, 7001); /* the flag wins over the file */
	assert_int_equal(c.n_cors, 1);
	assert_string_equal(c.cors[0], "http://a");
	assert_string_equal(c.api_key, "k");
	assert_false(c.sync_enabled);
	assert_int_equal(c.sync_interval, 60);
	assert_int_equal(c.archive_older_than_days, 30);
	assert_int_equal(c.sync_normal, 1);
	assert_string_equal(c.device_id, "dev-1");
	aw_config_free(&c);
}

static void test_bad_values_refused(void **state)
{
	static const char *const bad[] = {
		"port = \"5600\"\n", "port = 70000\n", "max_body_bytes = 10\n", "cors = \"x\"\n",
		"[sync]\ninterval = 1\n", "[storage]\nsynchronous = \"off\"\n", "port = 1\nport = 2\n",
		"[auth\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aw_config c;

		write_config("config.toml", bad[i]);
		if (load(&c, NULL) != -1)
			fail_msg("config accepted: %s", bad[i]);
		aw_config_free(&c);
	}
}

static void test_bad_flags_refused(void **state)
{
	static const char *const port[] = {"--port", "x", NULL}, *const extra[] = {"stray", NULL},
				 *const unknown[] = {"--nope", NULL};
	aw_config c;

	(void)state;
	assert_int_equal(load(&c, port), -1);
	aw_config_free(&c);
	assert_int_equal(load(&c, extra), -1);
	aw_config_free(&c);
	assert_int_equal(load(&c, unknown), -1);
	aw_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_defaults_and_created_file),
		TEST(test_testing_mode_has_its_own_file_and_port),
		TEST(test_file_then_flags),
		TEST(test_bad_values_refused),
		TEST(test_bad_flags_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
