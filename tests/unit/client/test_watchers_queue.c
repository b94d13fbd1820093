/* Unit tests: the on-disk heartbeat queue (watchers/client/src/queue.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "queue.h"
#include "tmpdir.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/awq-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	strcat(dir, "/sub/queue"); /* exercises mkdir -p */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	*strstr(dir, "/sub/queue") = '\0';
	assert_int_equal(test_rmtree(dir), 0);
	return 0;
}

static disk_queue *open_q(void)
{
	disk_queue *q;

	assert_int_equal(queue_open(&q, dir), 0);
	return q;
}

static void expect_next(disk_queue *q, const char *want)
{
	char *rec;
	size_t len;

	assert_int_equal(queue_peek(q, &rec, &len), 0);
	assert_string_equal(rec, want);
	assert_int_equal(len, strlen(want));
	free(rec);
	assert_int_equal(queue_pop(q), 0);
}

static void test_fifo_and_persistence(void **state)
{
	disk_queue *q = open_q();
	char *rec;
	size_t len;

	(void)state;
	assert_int_equal(queue_length(q), 0);
	assert_int_equal(queue_peek(q, &rec, &len), 1);
	assert_int_equal(queue_append(q, "a", 1), 0);
	assert_int_equal(queue_append(q, "bb", 2), 0);
	assert_int_equal(queue_append(q, "ccc", 3), 0);
	assert_int_equal(queue_length(q), 3);
	expect_next(q, "a");
	queue_close(q);

	/* a new process sees what is left, in order */
	q = open_q();
	assert_int_equal(queue_length(q), 2);
	expect_next(q, "bb");
	assert_int_equal(queue_append(q, "dddd", 4), 0);
	expect_next(q, "ccc");
	expect_next(q, "dddd");
	assert_int_equal(queue_length(q), 0);
	assert_int_equal(queue_peek(q, &rec, &len), 1);
	queue_close(q);

	/* drained: the file was truncated */
	{
		char path[400];
		struct stat st;

		snprintf(path, sizeof(path), "%s/queue.jsonl", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
}

static void test_peek_without_pop_repeats(void **state)
{
	disk_queue *q = open_q();
	char *rec;
	size_t len;

	(void)state;
	queue_append(q, "x", 1);
	queue_append(q, "y", 1);
	assert_int_equal(queue_peek(q, &rec, &len), 0);
	assert_string_equal(rec, "x");
	free(rec);
	assert_int_equal(queue_peek(q, &rec, &len), 0);
	assert_string_equal(rec, "x");
	free(rec);
	/* an append between peek and pop does not disturb the pop */
	queue_append(q, "z", 1);
	assert_int_equal(queue_pop(q), 0);
	expect_next(q, "y");
	expect_next(q, "z");
	queue_close(q);
}

static void test_torn_last_line_is_cut(void **state)
{
	disk_queue *q = open_q();
	char path[400];
	int fd;

	(void)state;
	queue_append(q, "whole", 5);
	queue_close(q);
	snprintf(path, sizeof(path), "%s/queue.jsonl", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"torn", 6), 6);
	close(fd);
	q = open_q();
	assert_int_equal(queue_length(q), 1);
	assert_int_equal(queue_append(q, "next", 4), 0);
	expect_next(q, "whole");
	expect_next(q, "next");
	queue_close(q);
}

static void test_bad_offset_restarts_from_zero(void **state)
{
	disk_queue *q = open_q();
	char path[400];
	FILE *f;

	(void)state;
	queue_append(q, "one", 3);
	queue_append(q, "two", 3);
	queue_close(q);
	snprintf(path, sizeof(path), "%s/queue.pos", dir);
	f = fopen(path, "w");
	fprintf(f, "2\n"); /* not at a record boundary */
	fclose(f);
	q = open_q();
	assert_int_equal(queue_length(q), 2);
	expect_next(q, "one");
	queue_close(q);
	f = fopen(path, "w");
	fprintf(f, "99999\n"); /* past the end: deliver everything again rather than lose */
	fclose(f);
	q = open_q();
	assert_int_equal(queue_length(q), 2);
	expect_next(q, "one");
	expect_next(q, "two");
	queue_close(q);
}

static void test_second_opener_is_refused(void **state)
{
	disk_queue *q = open_q(), *q2 = NULL;

	(void)state;
	assert_int_equal(queue_open(&q2, dir), AW_EBUSY);
	assert_null(q2);
	assert_non_null(strstr(aw_error_last(), "in use"));
	queue_close(q);
	assert_int_equal(queue_open(&q2, dir), 0);
	queue_close(q2);
}

static void test_long_record(void **state)
{
	disk_queue *q = open_q();
	size_t n = 300000;
	char *big = malloc(n + 1), *rec;
	size_t len;

	(void)state;
	memset(big, 'q', n);
	big[n] = '\0';
	assert_int_equal(queue_append(q, big, n), 0);
	assert_int_equal(queue_append(q, "after", 5), 0);
	assert_int_equal(queue_peek(q, &rec, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(rec, big, n);
	free(rec);
	queue_pop(q);
	expect_next(q, "after");
	free(big);
	queue_close(q);
}

static void test_unwritable_dir(void **state)
{
	disk_queue *q = NULL;

	(void)state;
	/* nobody, not even root, can create directories in /proc */
	assert_int_equal(queue_open(&q, "/proc/awq-no/such"), AW_ERROR);
	assert_non_null(strstr(aw_error_last(), "cannot create"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifo_and_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_without_pop_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_last_line_is_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_offset_restarts_from_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_opener_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
