/*
 * libFuzzer target for the sync folder's parsers (docs/sync-format.md): everything a
 * remote's holder can put in the folder reaches these, so none may crash, leak, hang or
 * trip a sanitizer on any bytes. Built by tests/fuzz/run.sh (clang, -DAW_FUZZ=ON,
 * -fsanitize=fuzzer,address,undefined); seeds in tests/fuzz/corpus-sync/.
 *
 * Every input is read as each of:
 *   - a sealed file (unseal_file under a fixed key; only a seed sealed with that key and
 *     the fixed device and name authenticates, mutations must be refused);
 *   - the compressed payload of a sealed file a key holder wrote (sealed here with the
 *     fixed key, so unseal_file's zstd side sees arbitrary frames);
 *   - segment text (segment_parse), manifest JSON (manifest_parse) and
 *     awsync.json (group_parse): what parses must encode and parse back the same;
 *   - the plaintext of a new sealed file (seal_file): it must unseal_file byte for byte, and
 *     not under another name, nor once a byte is flipped or the end cut off.
 * Parse results are always freed, whether the parse succeeded or not: the parsers zero
 * their output first, so a failed parse may leave parts that the caller frees.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "internal.h"

#define DEVICE "3f2b9c1e-5d4a-4e8b-9f0c-7a6b5c4d3e2f"
#define NAME "seg/000000/000000000001.aws"
#define OTHER_NAME "seg/000000/000000000002.aws"

/* The key the seed in corpus-sync/sealed-segment.aws was sealed with: bytes 0..31. */
static unsigned char key[AWS_KEY_BYTES];

/* A violated invariant is a finding: abort so that libFuzzer keeps the input. */
static void require(bool ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "sync_fuzz: %s (last error: %s)\n", what, aw_error_last());
	abort();
}

static char *copy(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	if (!p)
		abort();
	memcpy(p, data, size);
	return p;
}

static void fuzz_unseal(const uint8_t *data, size_t size)
{
	aw_buf out = AW_BUF_INIT;
	int rc = unseal_file(&out, key, DEVICE, NAME, data, size);

	require(rc == 0 || rc == AW_EINVALID, "unseal_file: an error other than AW_EINVALID");
	if (rc == 0)
		require(out.data && out.data[out.len] == '\0' && out.len <= AWS_MAX_PLAIN,
			"unseal_file: output not NUL-terminated or beyond AWS_MAX_PLAIN");
	aw_buf_free(&out);
}

/* A sealed file whose zstd payload is `z`, as any holder of the key could write it
 * (docs/sync-format.md §3: subkey 1 of context "awsync01", additional data
 * "awsync1\0<device>\0<name>", the last message tagged FINAL). */
static void seal_raw(aw_buf *out, const uint8_t *z, size_t len)
{
	static const char ad[] = "awsync1\0" DEVICE "\0" NAME;
	const size_t A = crypto_secretstream_xchacha20poly1305_ABYTES;
	unsigned char sub[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned long long clen;

	crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "awsync01", key);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, sub);
	aw_buf_append(out, "AWSENC1\n", 8);
	aw_buf_append(out, hdr, sizeof(hdr));
	aw_buf_grow(out, len + A);
	crypto_secretstream_xchacha20poly1305_push(&st, (unsigned char *)out->data + out->len, &clen, z, len,
						   (const unsigned char *)ad, sizeof(ad) - 1,
						   crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	out->len += (size_t)clen;
}

static void fuzz_unseal_payload(const uint8_t *data, size_t size)
{
	aw_buf file = AW_BUF_INIT, out = AW_BUF_INIT;
	int rc;

	seal_raw(&file, data, size);
	rc = unseal_file(&out, key, DEVICE, NAME, file.data, file.len);
	require(rc == 0 || rc == AW_EINVALID, "unseal_file of a key holder's file: an error other than AW_EINVALID");
	if (rc == 0) {
		unsigned long long n = ZSTD_getFrameContentSize(data, size);
		require(n == out.len && out.data[out.len] == '\0',
			"unseal_file: output length differs from the frame's content size");
	}
	aw_buf_free(&out);
	aw_buf_free(&file);
}

static void same_segment(const sync_segment *a, const sync_segment *b)
{
	require(!strcmp(a->device_id, b->device_id) && !strcmp(a->hostname, b->hostname) &&
			a->generation == b->generation && a->has_prev == b->has_prev &&
			!memcmp(a->prev, b->prev, AWS_HASH_BYTES) && a->written_at == b->written_at &&
			a->n_blocks == b->n_blocks && segment_records(a) == segment_records(b),
		"segment: encoding a parsed segment and parsing it again changed it");
}

/* What parses must encode to text that parses to the same segment, and encoding that
 * again must give the same bytes (the encoder's output is canonical). */
static void segment_round_trip(const sync_segment *s)
{
	aw_buf t1 = AW_BUF_INIT, t2 = AW_BUF_INIT;
	sync_segment again;
	char *text;
	size_t len;

	segment_encode(&t1, s);
	len = t1.len;
	text = copy((const uint8_t *)t1.data, len);
	require(segment_parse(&again, text, len) == 0, "segment: the encoding of a parsed segment does not parse");
	same_segment(s, &again);
	segment_encode(&t2, &again);
	require(t1.len == t2.len && !memcmp(t1.data, t2.data, t1.len), "segment: encoding is not stable");
	segment_free(&again);
	free(text);
	aw_buf_free(&t1);
	aw_buf_free(&t2);
}

static void fuzz_segment(const uint8_t *data, size_t size)
{
	char *text = copy(data, size);
	sync_segment s;
	int rc = segment_parse(&s, text, size);

	require(rc == 0 || rc == AW_EINVALID, "segment_parse: an error other than AW_EINVALID");
	if (rc == 0) {
		require(s.device_id && s.hostname, "segment_parse: success without a header");
		segment_round_trip(&s);
	}
	segment_free(&s);
	free(text);
}

static void fuzz_manifest(const uint8_t *data, size_t size)
{
	sync_manifest m, again;
	char *j1, *j2;
	int rc = manifest_parse(&m, (const char *)data, size);

	require(rc == 0 || rc == AW_EINVALID, "manifest_parse: an error other than AW_EINVALID");
	if (rc == 0) {
		j1 = manifest_json(&m);
		require(manifest_parse(&again, j1, strlen(j1)) == 0, "manifest: its own JSON does not parse");
		j2 = manifest_json(&again);
		require(!strcmp(j1, j2) && m.n_buckets == again.n_buckets, "manifest: JSON round trip changed it");
		manifest_free(&again);
		free(j1);
		free(j2);
	}
	manifest_free(&m);
}

static void fuzz_group(const uint8_t *data, size_t size)
{
	sync_group g, again;
	char *json;
	int rc = group_parse(&g, (const char *)data, size);

	require(rc == 0 || rc == AW_EINVALID, "group_parse: an error other than AW_EINVALID");
	if (rc != 0)
		return;
	json = group_json(&g);
	require(group_parse(&again, json, strlen(json)) == 0, "awsync.json: its own JSON does not parse");
	require(!strcmp(g.group, again.group) && !memcmp(g.salt, again.salt, sizeof(g.salt)) &&
			g.opslimit == again.opslimit && g.memlimit == again.memlimit &&
			!strcmp(g.key_check, again.key_check),
		"awsync.json: JSON round trip changed it");
	free(json);
}

/* The plaintext to seal_file: the input, and when its first byte asks for it, followed by
 * pseudo-random (incompressible) bytes seeded by the input, so that the compressed data
 * spans several AWS_CHUNK messages. */
static void make_plain(aw_buf *plain, const uint8_t *data, size_t size)
{
	unsigned char seed[randombytes_SEEDBYTES];
	size_t extra = size && (data[0] & 0xf0) == 0xa0 ? (size_t)(data[0] & 0x0f) * AWS_CHUNK / 4 + 1 : 0;

	aw_buf_append(plain, data, size);
	if (!extra)
		return;
	crypto_generichash(seed, sizeof(seed), data, size, NULL, 0);
	aw_buf_grow(plain, extra);
	randombytes_buf_deterministic(plain->data + plain->len, extra, seed);
	plain->len += extra;
}

static void require_refused(const aw_buf *file, size_t len, const char *name, const char *what)
{
	aw_buf out = AW_BUF_INIT;

	require(unseal_file(&out, key, DEVICE, name, file->data, len) == AW_EINVALID, what);
	aw_buf_free(&out);
}

static void fuzz_seal_round_trip(const uint8_t *data, size_t size)
{
	aw_buf plain = AW_BUF_INIT, file = AW_BUF_INIT, out = AW_BUF_INIT;
	size_t at;

	make_plain(&plain, data, size);
	require(seal_file(&file, key, DEVICE, NAME, plain.data, plain.len) == 0, "seal_file failed");
	require(unseal_file(&out, key, DEVICE, NAME, file.data, file.len) == 0, "unseal_file refused what seal_file wrote");
	require(out.len == plain.len && !memcmp(out.data, plain.data, plain.len) && out.data[out.len] == '\0',
		"unseal_file(seal_file(x)) differs from x");
	require_refused(&file, file.len, OTHER_NAME, "unseal_file accepted a file under another name");
	require_refused(&file, file.len - 1, NAME, "unseal_file accepted a truncated file");
	at = size >= 2 ? ((size_t)data[size - 1] << 8 | data[size - 2]) % file.len : file.len - 1;
	file.data[at] ^= 0x01;
	require_refused(&file, file.len, NAME, "unseal_file accepted a file with a flipped bit");
	aw_buf_free(&plain);
	aw_buf_free(&file);
	aw_buf_free(&out);
}

/* An epoch record (docs/sync-format.md §4b) is plaintext from whoever holds the remote:
 * it parses or is refused, never anything else; and a file that claims a later epoch's
 * container opens only with that epoch's key. */
static void fuzz_epoch(const uint8_t *data, size_t size)
{
	static sync_keyring ring;
	sync_group g;
	aw_buf file = AW_BUF_INIT, out = AW_BUF_INIT;
	int rc;

	memset(&g, 0, sizeof(g));
	snprintf(g.group, sizeof(g.group), "%s", DEVICE);
	rc = epoch_record_check(&g, DEVICE, 1, (const char *)data, size);
	require(rc == 0 || rc == AW_EINVALID, "epoch_record_check: an error other than AW_EINVALID");
	if (!ring.n)
		ring_add(&ring, 1, key, key);
	aw_buf_append(&file, "AWSENC2\n", 8);
	aw_buf_append(&file, key, AWS_EPOCH_ID);
	aw_buf_append(&file, data, size);
	rc = unseal_ring(&out, &ring, DEVICE, NAME, file.data, file.len);
	require(rc == AW_EINVALID || rc == AW_ERROR, "unseal_ring accepted a file nobody sealed");
	aw_buf_free(&file);
	aw_buf_free(&out);
}

/* libFuzzer's entry points (called by its main, declared nowhere else) */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (crypto_init())
		abort();
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_unseal(data, size);
	fuzz_unseal_payload(data, size);
	fuzz_segment(data, size);
	fuzz_manifest(data, size);
	fuzz_group(data, size);
	fuzz_seal_round_trip(data, size);
	fuzz_epoch(data, size);
	return 0;
}
