/*
 * Allocation that never returns NULL. awnode aborts when memory runs out instead of
 * threading an out-of-memory error through every caller: a node that cannot allocate a
 * few bytes can do nothing useful, and a crash is recovered from by the durability of
 * every acknowledged write (docs/storage.md). Release everything with free().
 */
#ifndef AW_MEM_H
#define AW_MEM_H

#include <stddef.h>

/* calloc(count, size); the product is checked for overflow. */
void *aw_mem_calloc(size_t count, size_t size);

/* malloc(size). */
void *aw_mem_malloc(size_t size);

/* realloc(p, size). */
void *aw_mem_realloc(void *p, size_t size);

/* strdup / strndup. */
char *aw_mem_strdup(const char *s);
char *aw_mem_strndup(const char *s, size_t n);

/* Room for element n of the growing array p of `size`-byte elements with *cap
 * allocated: p itself while n < *cap, else p reallocated with *cap doubled (set to
 * `first` the first time). Returns the array, which may have moved. */
void *aw_mem_grow(void *p, size_t n, size_t *cap, size_t size, size_t first);

/* Advise the kernel to back the whole 2 MiB spans of [p, p + n) with huge pages, for a
 * large buffer about to be filled to its end: one page fault per span instead of 512.
 * The node gives memory back after long jobs, so such buffers are faulted in afresh
 * each time, and page faults were a good part of a year's read and of a large upload.
 * Only spans wholly inside the buffer are advised, so this costs no memory; where the
 * system has no transparent huge pages it does nothing. */
void aw_mem_advise_huge(void *p, size_t n);

/* The printf-formatted string (vasprintf); caller frees. */
char *aw_mem_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
