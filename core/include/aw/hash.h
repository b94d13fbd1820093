/*
 * A fast 64-bit hash of bytes (8 bytes per step, multiply-xorshift mixing), for hash
 * tables and interning: good spread, no cryptographic strength. Its values are stored
 * (storage's datas.hash column), so it must never change without a migration there.
 */
#ifndef AW_HASH_H
#define AW_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The hash of n bytes at p (p may be NULL when n is 0). */
uint64_t aw_hash_bytes(const void *p, size_t n);

#endif
