/*
 * A small deterministic pseudo-random generator for unit tests that sweep many inputs
 * (Marsaglia's xorshift64): the same seed gives the same sequence everywhere, so a
 * failure names an input that reproduces.
 */
#ifndef AW_TEST_XORSHIFT_H
#define AW_TEST_XORSHIFT_H

#include <stdint.h>

/* The next value of the sequence in *x (which must not be 0). */
static inline uint64_t test_xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#endif
