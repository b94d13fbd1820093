/*
 * Small helpers of the sync module: strings, hex, hashes, device ids, UUIDs, times,
 * segment file names (files and XDG paths come from core's aw/files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "aw/mem.h"
#include "internal.h"

char *str_dup(const char *s)
{
	return aw_mem_strdup(s ? s : "");
}

int read_fd(int fd, const char *what, size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return aw_error_set(AW_EINVALID, "cannot read %s: not a regular file", what);
	if ((unsigned long long)st.st_size > max)
		return aw_error_set(AW_EINVALID, "%s is too large (%lld bytes; at most %zu)", what, (long long)st.st_size,
				    max);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return aw_error_set(AW_ERROR, "out of memory reading %s", what);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		free(buf);
		return aw_error_set(AW_ERROR, "cannot read %s: short read", what);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

bool valid_device_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 64 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

void hex_encode(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int hex_decode(unsigned char *out, size_t n, const char *hex)
{
	size_t got = 0;

	if (!hex || strlen(hex) != 2 * n || sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) || got != n)
		return AW_EINVALID;
	return 0;
}

void blake2b_256(unsigned char out[AWS_HASH_BYTES], const void *data, size_t len)
{
	crypto_generichash(out, AWS_HASH_BYTES, data, len, NULL, 0);
}

void segment_name(char *out, size_t n, int64_t generation)
{
	snprintf(out, n, "seg/%06lld/%012lld.aws", (long long)(generation / 1000), (long long)generation);
}

double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sync_paths(char **folder, char **key, const char *given_folder, const char *given_key, bool testing)
{
	char *data = aw_files_dir(AW_DIR_DATA);

	*folder = given_folder ? str_dup(given_folder) : aw_mem_printf("%s/%s", data, testing ? "sync-testing" : "sync");
	*key = given_key ? str_dup(given_key) : aw_mem_printf("%s/%s", data, testing ? "sync-testing.key" : "sync.key");
	free(data);
}

void uuid4(char out[37])
{
	unsigned char r[16];

	randombytes_buf(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* ---- id index ---------------------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static int64_t rec_id(const void *recs, size_t stride, size_t i)
{
	int64_t id;

	memcpy(&id, (const char *)recs + i * stride, sizeof(id));
	return id;
}

static void id_index_rebuild(id_index *x, const void *recs, size_t stride, size_t n)
{
	size_t cap = x->nslots ? 2 * x->nslots : 64;
	size_t *s = aw_mem_calloc(cap, sizeof(*s));

	for (size_t i = 0; i < n; i++) {
		size_t h = (size_t)mix((uint64_t)rec_id(recs, stride, i)) & (cap - 1);
		while (s[h])
			h = (h + 1) & (cap - 1);
		s[h] = i + 1;
	}
	free(x->slots);
	x->slots = s;
	x->nslots = cap;
}

size_t *id_index_slot(id_index *x, const void *recs, size_t stride, size_t n, int64_t id, bool grow)
{
	size_t h;

	if (grow && (n + 1) * 2 > x->nslots)
		id_index_rebuild(x, recs, stride, n);
	if (!x->nslots)
		return NULL;
	h = (size_t)mix((uint64_t)id) & (x->nslots - 1);
	while (x->slots[h] && rec_id(recs, stride, x->slots[h] - 1) != id)
		h = (h + 1) & (x->nslots - 1);
	return &x->slots[h];
}

void *id_index_append(void *recs, size_t stride, size_t *n, size_t *cap, size_t first_cap, size_t *slot,
		      int64_t id)
{
	char *rec;

	recs = aw_mem_grow(recs, *n, cap, stride, first_cap);
	rec = (char *)recs + *n * stride;
	memset(rec, 0, stride);
	memcpy(rec, &id, sizeof(id));
	*slot = ++*n;
	return recs;
}

void id_index_clear(id_index *x)
{
	if (x->slots)
		memset(x->slots, 0, x->nslots * sizeof(*x->slots));
}

void id_index_free(id_index *x)
{
	free(x->slots);
	x->slots = NULL;
	x->nslots = 0;
}
