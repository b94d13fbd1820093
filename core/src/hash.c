/* The 64-bit hash of aw/hash.h. The constants are splitmix64's; the values are stored
 * on disk, so this function is frozen (see the header). */
#include <string.h>

#include "aw/hash.h"

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
	k = 0;
	if (n)
		memcpy(&k, s, n);
	h = (h ^ k) * 0x94D049BB133111EBULL;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ULL;
	return h ^ (h >> 32);
}
