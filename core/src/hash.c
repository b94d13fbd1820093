/* The 64-bit hash of aw/hash.h. The constants are splitmix64's; the values are stored
 * on disk, so this function is frozen (see the header). */
#include <string.h>

#include "aw/hash.h"

/* The last n < 8 bytes as memcpy(&k, s, n) gives them. memcpy with a variable size
 * became byte stores to the stack and an 8-byte load of them, which waits for the
 * stores (most keys hashed per query value end in a partial word). When the text
 * started at least 8 bytes earlier, one load of the 8 bytes ending with it, shifted,
 * is the same word; otherwise the bytes are put together in a register. */
static inline uint64_t tail(const unsigned char *s, size_t n, const unsigned char *start)
{
	uint64_t k = 0;

	if (!n)
		return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (s - start >= 8) {
		memcpy(&k, s + n - 8, 8);
		return k >> (8 * (8 - n));
	}
	for (size_t i = 0; i < n; i++)
		k |= (uint64_t)s[i] << (8 * i);
#else
	(void)start;
	memcpy(&k, s, n);
#endif
	return k;
}

uint64_t aw_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, k;

	while (n >= 8) {
		memcpy(&k, s, 8);
		h = (h ^ k) * 0xBF58476D1CE4E5B9ULL;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	k = tail(s, n, p);
	h = (h ^ k) * 0x94D049BB133111EBULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}
