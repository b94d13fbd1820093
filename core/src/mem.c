/* Allocation that aborts instead of returning NULL (see aw/mem.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "aw/mem.h"

static void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

void *aw_mem_calloc(size_t count, size_t size)
{
	/* calloc checks count * size for overflow itself and fails; a request for 0 bytes
	 * may legitimately return NULL, so ask for at least one. */
	return must(calloc(count ? count : 1, size ? size : 1));
}

void *aw_mem_malloc(size_t size)
{
	return must(malloc(size ? size : 1));
}

void *aw_mem_realloc(void *p, size_t size)
{
	return must(realloc(p, size ? size : 1));
}

void aw_mem_advise_huge(void *p, size_t n)
{
	enum { HUGE = 2u << 20 };
	uintptr_t a = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1), e = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE - 1);

#ifdef MADV_HUGEPAGE
	/* a refusal (no transparent huge pages here) leaves ordinary pages */
	if (e > a)
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
	(void)a;
	(void)e;
#endif
}

char *aw_mem_strdup(const char *s)
{
	return must(strdup(s));
}

char *aw_mem_strndup(const char *s, size_t n)
{
	return must(strndup(s, n));
}

void *aw_mem_grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : first;
	return aw_mem_realloc(p, *cap * size);
}

char *aw_mem_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}
