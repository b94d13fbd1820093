/* Unit tests: the on-disk heartbeat queue (watchers/client/src/queue.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* the path of the queue's file `name` */
static const char *queue_file(const char *name)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* Close q, write `text` to its file `name` (opened with fopen's `mode`) as a crash or
 * another program might have, and open the queue again. */
static disk_queue *reopen_tampered(disk_queue *q, const char *name, const char *mode, const char *text)
{
	FILE *f;

	queue_close(q);
	f = fopen(queue_file(name), mode);
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return open_q();
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

/* q holds exactly the records given (then NULL), in this order: pop them all, then close q */
static void expect_rest_and_close(disk_queue *q, ...)
{
	va_list ap;
	const char *want;

	va_start(ap, q);
	while ((want = va_arg(ap, const char *)))
		expect_next(q, want);
	va_end(ap);
	assert_int_equal(queue_length(q), 0);
	queue_close(q);
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
		struct stat st;

		assert_int_equal(stat(queue_file("queue.jsonl"), &st), 0);
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
	expect_rest_and_close(q, "y", "z", NULL);
}

static void test_torn_last_line_is_cut(void **state)
{
	disk_queue *q = open_q();

	(void)state;
	queue_append(q, "whole", 5);
	q = reopen_tampered(q, "queue.jsonl", "a", "{\"torn");
	assert_int_equal(queue_length(q), 1);
	assert_int_equal(queue_append(q, "next", 4), 0);
	expect_rest_and_close(q, "whole", "next", NULL);
}

static void test_bad_offset_restarts_from_zero(void **state)
{
	disk_queue *q = open_q();

	(void)state;
	queue_append(q, "one", 3);
	queue_append(q, "two", 3);
	q = reopen_tampered(q, "queue.pos", "w", "2\n"); /* not at a record boundary */
	assert_int_equal(queue_length(q), 2);
	expect_next(q, "one");
	q = reopen_tampered(q, "queue.pos", "w", "99999\n"); /* past the end: deliver all again rather than lose */
	assert_int_equal(queue_length(q), 2);
	expect_rest_and_close(q, "one", "two", NULL);
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
	free(big);
	expect_rest_and_close(q, "after", NULL);
}

static void test_unwritable_dir(void **state)
{
	disk_queue *q = NULL;

	(void)state;
	/* nobody, not even root, can create directories in /proc */
	assert_int_equal(queue_open(&q, "/proc/awq-no/such"), AW_ERROR);
	assert_non_null(strstr(aw_error_last(), "cannot create"));
}

/* a fresh queue directory for each test */
#define IN_DIR(test) cmocka_unit_test_setup_teardown(test, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		IN_DIR(test_fifo_and_persistence),
		IN_DIR(test_peek_without_pop_repeats),
		IN_DIR(test_torn_last_line_is_cut),
		IN_DIR(test_bad_offset_restarts_from_zero),
		IN_DIR(test_second_opener_is_refused),
		IN_DIR(test_long_record),
		IN_DIR(test_unwritable_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
