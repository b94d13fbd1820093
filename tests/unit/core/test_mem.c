/*
 * aw_mem_advise_huge: a large buffer advised before it is filled is backed by huge
 * pages over its whole 2 MiB spans, and its bytes are its own. Huge pages depend on the
 * kernel: the test asserts only where transparent huge pages are given on request
 * ("madvise" mode, where nothing else would give them) and a plain madvise of a fresh
 * mapping gets them; elsewhere it is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "aw/mem.h"

#define SPAN (2u << 20)

static bool thp_on_request(void)
{
	char mode[128] = "";
	FILE *fp = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (!fp)
		return false;
	if (!fgets(mode, sizeof(mode), fp))
		mode[0] = '\0';
	fclose(fp);
	return strstr(mode, "[madvise]") != NULL;
}

/* kB of huge pages in the mappings that overlap [p, p + n) */
static long huge_kb(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, e = a + n;
	char line[512];
	bool inside = false;
	long kb = 0, v;
	FILE *fp = fopen("/proc/self/smaps", "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			inside = lo < e && hi > a;
		else if (inside && sscanf(line, "AnonHugePages: %ld kB", &v) == 1)
			kb += v;
	}
	fclose(fp);
	return kb;
}

/* Can this process get huge pages by asking at all (a fresh aligned mapping)? */
static bool kernel_gives_huge_pages(void)
{
	size_t n = 3 * SPAN;
	char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;
	long kb;

	if (m == MAP_FAILED)
		return false;
	a = (char *)(((uintptr_t)m + SPAN - 1) & ~(uintptr_t)(SPAN - 1));
	if (madvise(a, SPAN, MADV_HUGEPAGE)) {
		munmap(m, n);
		return false;
	}
	memset(a, 1, SPAN);
	kb = huge_kb(a, SPAN);
	munmap(m, n);
	return kb > 0;
}

static void test_large_buffer_gets_huge_pages(void **state)
{
	size_t n = 12u << 20;
	unsigned char *p;

	(void)state;
	if (!thp_on_request() || !kernel_gives_huge_pages())
		skip();
	p = aw_mem_malloc(n);
	aw_mem_advise_huge(p, n);
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + 7);
	/* at least four of the five or six spans inside 12 MiB */
	assert_true(huge_kb(p, n) >= 4 * (long)(SPAN >> 10));
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 31 + 7))
			fail_msg("byte %zu changed", i);
	free(p);
}

/* A buffer without a whole span inside, or none at all, is left as it is. */
static void test_small_buffers_are_left_alone(void **state)
{
	char *p = aw_mem_malloc(SPAN);

	(void)state;
	aw_mem_advise_huge(NULL, 0);
	aw_mem_advise_huge(p + 1, SPAN - 1);
	memset(p, 'x', SPAN);
	assert_int_equal(p[SPAN - 1], 'x');
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_buffer_gets_huge_pages),
		cmocka_unit_test(test_small_buffers_are_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
