/*
 * Keys and sealed files (docs/sync-format.md §2, §3).
 *
 * The master key is Argon2id(passphrase, salt) with the limits in awsync.json. Two
 * subkeys are derived from it with crypto_kdf (context "awsync01"): 1 encrypts files,
 * 2 computes the key check published in awsync.json (a keyed BLAKE2b of a constant, so
 * it says nothing about the key but whether a candidate key is the right one).
 *
 * A sealed file is "AWSENC1\n", a secretstream header, then the zstd-compressed
 * plaintext in messages of AWS_CHUNK bytes (+17 bytes of tag and MAC each), the last
 * one tagged FINAL. Every message carries the additional data
 * "awsync1\0<device id>\0<file name within the device directory>", so a file that is
 * moved to another name or device, swapped, truncated, extended or edited fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zstd.h>

#include "aw/mem.h"
#include "internal.h"

#define MAGIC "AWSENC1\n"
#define MAGIC2 "AWSENC2\n" /* followed by the epoch id */
#define MAGIC_LEN 8
#define KDF_CTX "awsync01"
#define SUBKEY_FILES 1
#define SUBKEY_CHECK 2
#define ZSTD_LEVEL 3

static int seal_core(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const unsigned char *epoch_id,
		     const char *device, const char *name, const void *plain, size_t len);
static int unseal_core(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], size_t hdr, const char *device,
		       const char *name, const void *file, size_t len, size_t max_plain);

int crypto_init(void)
{
	if (sodium_init() < 0)
		return aw_error_set(AW_ERROR, "libsodium failed to initialise");
	return 0;
}

void group_new(sync_group *g, unsigned long long opslimit, size_t memlimit)
{
	memset(g, 0, sizeof(*g));
	uuid4(g->group);
	randombytes_buf(g->salt, sizeof(g->salt));
	g->opslimit = opslimit;
	g->memlimit = memlimit;
}

int group_parse(sync_group *g, const char *text, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je), *kdf;
	const char *format, *group, *salt, *alg, *check;
	json_int_t version, ops, mem;
	int rc = AW_EINVALID;

	memset(g, 0, sizeof(*g));
	if (!o || !json_is_object(o)) {
		aw_error_set(AW_EINVALID, "awsync.json is not a JSON object (%s)", o ? "wrong type" : je.text);
		goto out;
	}
	format = json_string_value(json_object_get(o, "format"));
	if (!format || strcmp(format, "awsync")) {
		aw_error_set(AW_EINVALID, "awsync.json: not an awnode sync folder (format is not \"awsync\")");
		goto out;
	}
	if (!json_is_integer(json_object_get(o, "version"))) {
		aw_error_set(AW_EINVALID, "awsync.json: no format version");
		goto out;
	}
	version = json_integer_value(json_object_get(o, "version"));
	if (version < 1 || version > AWS_GROUP_VERSION) {
		aw_error_set(AW_EINVALID, "awsync.json: format version %lld is not supported by this awnode (it reads 1 to %d)%s",
			     (long long)version, AWS_GROUP_VERSION, version > AWS_GROUP_VERSION ? ": upgrade awnode" : "");
		goto out;
	}
	group = json_string_value(json_object_get(o, "group"));
	kdf = json_object_get(o, "kdf");
	alg = json_string_value(json_object_get(kdf, "algorithm"));
	salt = json_string_value(json_object_get(kdf, "salt"));
	check = json_string_value(json_object_get(o, "key_check"));
	ops = json_integer_value(json_object_get(kdf, "opslimit"));
	mem = json_integer_value(json_object_get(kdf, "memlimit"));
	if (!group || strlen(group) >= sizeof(g->group) || !valid_device_id(group)) {
		aw_error_set(AW_EINVALID, "awsync.json: missing or malformed group id");
		goto out;
	}
	if (!alg || strcmp(alg, "argon2id13")) {
		aw_error_set(AW_EINVALID, "awsync.json: key derivation must be \"argon2id13\"");
		goto out;
	}
	if (hex_decode(g->salt, sizeof(g->salt), salt)) {
		aw_error_set(AW_EINVALID, "awsync.json: the salt must be %d hex digits", 2 * AWS_SALT_BYTES);
		goto out;
	}
	/* whoever holds the remote writes awsync.json before a device joins, so the bounds
	 * are what a joining device can afford (docs/sync-format.md §2), not what Argon2id
	 * accepts */
	if (ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || (unsigned long long)ops > AWS_KDF_OPS_MAX ||
	    mem < (json_int_t)AWS_KDF_MEM_MIN || (unsigned long long)mem > AWS_KDF_MEM_MAX) {
		aw_error_set(AW_EINVALID, "awsync.json: Argon2id limits out of range (opslimit 1-%llu, memlimit %llu-%llu bytes)",
			     AWS_KDF_OPS_MAX, AWS_KDF_MEM_MIN, AWS_KDF_MEM_MAX);
		goto out;
	}
	if (!check || strlen(check) != 2 * AWS_HASH_BYTES) {
		aw_error_set(AW_EINVALID, "awsync.json: missing or malformed key_check");
		goto out;
	}
	snprintf(g->group, sizeof(g->group), "%s", group);
	snprintf(g->key_check, sizeof(g->key_check), "%s", check);
	g->opslimit = (unsigned long long)ops;
	g->memlimit = (size_t)mem;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int group_read(sync_group *g, const char *folder)
{
	unsigned char *text;
	size_t len;
	int rc = folder_read(folder, AWS_GROUP_FILE, AWS_MAX_GROUP_FILE, &text, &len);

	if (rc)
		return rc;
	rc = group_parse(g, (const char *)text, len);
	free(text);
	return rc;
}

char *group_json(const sync_group *g)
{
	char salt[2 * AWS_SALT_BYTES + 1];

	hex_encode(salt, g->salt, sizeof(g->salt));
	return aw_mem_printf("{\n"
		       "  \"format\": \"awsync\",\n"
		       "  \"version\": %d,\n"
		       "  \"group\": \"%s\",\n"
		       "  \"kdf\": {\"algorithm\": \"argon2id13\", \"salt\": \"%s\", \"opslimit\": %llu, \"memlimit\": %zu},\n"
		       "  \"cipher\": \"xchacha20poly1305-secretstream\",\n"
		       "  \"compression\": \"zstd\",\n"
		       "  \"key_check\": \"%s\"\n"
		       "}\n",
		       AWS_GROUP_VERSION, g->group, salt, g->opslimit, g->memlimit, g->key_check);
}

int derive_key(unsigned char key[AWS_KEY_BYTES], const sync_group *g, const char *pass, size_t len)
{
	if (len == 0)
		return aw_error_set(AW_EINVALID, "the passphrase is empty");
	if (crypto_pwhash(key, AWS_KEY_BYTES, pass, len, g->salt, g->opslimit, g->memlimit,
			  crypto_pwhash_ALG_ARGON2ID13))
		return aw_error_set(AW_ERROR, "deriving the key failed (out of memory for Argon2id's %zu MiB?)",
				    g->memlimit >> 20);
	return 0;
}

void key_check(char out[AWS_HASH_HEX], const unsigned char key[AWS_KEY_BYTES])
{
	unsigned char sub[32], mac[AWS_HASH_BYTES];
	static const char msg[] = "awsync key check v1";

	crypto_kdf_derive_from_key(sub, sizeof(sub), SUBKEY_CHECK, KDF_CTX, key);
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)msg, sizeof(msg) - 1, sub, sizeof(sub));
	hex_encode(out, mac, sizeof(mac));
	sodium_memzero(sub, sizeof(sub));
}

/* The key file (docs/sync-format.md §3): "group", then the keys this device holds: "key"
 * for epoch 0 (the passphrase's master key) while it has it, "epoch <n> <id> <key>" for
 * every later epoch it learnt and has not destroyed, and "archive <seed>" once epoch 0
 * is gone (the archive's key pair, when it comes from the sync key, was derived from
 * epoch 0; docs/archive.md). */
int ring_save(const char *path, const sync_group *g, const sync_keyring *ring)
{
	aw_buf t = AW_BUF_INIT;
	char hex[2 * AWS_KEY_BYTES + 1], id[2 * AWS_EPOCH_ID + 1];
	int rc;

	aw_buf_printf(&t, "# awnode sync key (keep it secret: it reads and writes all synced data)\ngroup %s\n", g->group);
	for (size_t i = 0; i < ring->n; i++) {
		const sync_epoch_key *k = &ring->k[i];
		hex_encode(hex, k->key, AWS_KEY_BYTES);
		if (k->n == 0) {
			aw_buf_printf(&t, "key %s\n", hex);
		} else {
			hex_encode(id, k->id, AWS_EPOCH_ID);
			aw_buf_printf(&t, "epoch %lld %s %s\n", (long long)k->n, id, hex);
		}
	}
	if (ring->has_archive) {
		hex_encode(hex, ring->archive, AWS_KEY_BYTES);
		aw_buf_printf(&t, "archive %s\n", hex);
	}
	rc = aw_files_write(path, t.data, t.len, 0600, AW_FILES_DURABLE);
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(t.data, t.len);
	aw_buf_free(&t);
	return rc;
}

int key_save(const char *path, const sync_group *g, const unsigned char key[AWS_KEY_BYTES])
{
	sync_keyring *ring = ring_new();
	int rc;

	ring_add(ring, 0, NULL, key);
	rc = ring_save(path, g, ring);
	ring_free(ring);
	return rc;
}

sync_keyring *ring_new(void)
{
	sync_keyring *r = sodium_malloc(sizeof(*r));

	if (!r)
		abort();
	memset(r, 0, sizeof(*r));
	return r;
}

void ring_free(sync_keyring *r)
{
	if (r)
		sodium_free(r); /* zeroes it */
}

static bool epoch_line(sync_epoch_key *k, const char *rest)
{
	char id[2 * AWS_EPOCH_ID + 2], key[2 * AWS_KEY_BYTES + 2];
	long long n;
	bool ok = sscanf(rest, "%lld %33s %65s", &n, id, key) == 3 && n > 0 && hex_decode(k->id, AWS_EPOCH_ID, id) == 0 &&
		  hex_decode(k->key, AWS_KEY_BYTES, key) == 0;

	k->n = n;
	sodium_memzero(key, sizeof(key));
	return ok;
}

int ring_load(sync_keyring *ring, const char *path, const sync_group *g)
{
	unsigned char *text;
	size_t len;
	struct stat st;
	char group[64] = "", check[AWS_HASH_HEX];
	bool bad = false;
	int rc;

	memset(ring, 0, sizeof(*ring));
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		return aw_error_set(AW_EINVALID, "the sync key %s is readable by other users (mode %03o): chmod 600 it",
				    path, (unsigned)(st.st_mode & 0777));
	rc = aw_files_read((char **)&text, &len, path, 1 << 20);
	if (rc == AW_ENOTFOUND)
		return aw_error_set(AW_ENOTFOUND, "no sync key at %s: run 'awnode sync init' or 'awnode sync join'", path);
	if (rc)
		return rc;
	for (char *save = NULL, *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sync_epoch_key k;
		memset(&k, 0, sizeof(k));
		if (!strncmp(line, "group ", 6)) {
			snprintf(group, sizeof(group), "%s", line + 6);
		} else if (!strncmp(line, "key ", 4)) {
			bad |= hex_decode(k.key, AWS_KEY_BYTES, line + 4) != 0;
			if (!bad)
				ring_add(ring, 0, NULL, k.key);
		} else if (!strncmp(line, "epoch ", 6)) {
			bad |= !epoch_line(&k, line + 6);
			if (!bad)
				ring_add(ring, k.n, k.id, k.key);
		} else if (!strncmp(line, "archive ", 8)) {
			bad |= hex_decode(ring->archive, AWS_KEY_BYTES, line + 8) != 0;
			ring->has_archive = !bad;
		}
		sodium_memzero(&k, sizeof(k));
	}
	sodium_memzero(text, len);
	free(text);
	if (bad || !ring->n)
		return aw_error_set(AW_EINVALID, "the sync key %s is malformed", path);
	if (g && strcmp(group, g->group))
		return aw_error_set(AW_EINVALID,
				    "the sync key %s belongs to another sync group (%s, the folder is %s): run 'awnode sync join' again",
				    path, group, g->group);
	/* epoch 0 is checked against awsync.json; later epochs against their records
	 * (epoch.c), which are not read here */
	for (size_t i = 0; g && i < ring->n; i++) {
		if (ring->k[i].n)
			continue;
		key_check(check, ring->k[i].key);
		if (strcmp(check, g->key_check))
			return aw_error_set(AW_EINVALID, "the sync key %s does not match the folder's key check", path);
	}
	return 0;
}

void ring_add(sync_keyring *r, int64_t n, const unsigned char id[AWS_EPOCH_ID], const unsigned char key[AWS_KEY_BYTES])
{
	sync_epoch_key *k;

	if (ring_find(r, n ? id : NULL))
		return;
	if (r->n == AWS_RING_MAX) {
		/* the oldest goes: a device that fell this far behind reads only recent epochs */
		memmove(&r->k[0], &r->k[1], (AWS_RING_MAX - 1) * sizeof(r->k[0]));
		r->n--;
	}
	k = &r->k[r->n++];
	k->n = n;
	if (n)
		memcpy(k->id, id, AWS_EPOCH_ID);
	else
		memset(k->id, 0, AWS_EPOCH_ID);
	memcpy(k->key, key, AWS_KEY_BYTES);
}

const sync_epoch_key *ring_find(const sync_keyring *r, const unsigned char id[AWS_EPOCH_ID])
{
	static const unsigned char zero[AWS_EPOCH_ID];

	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->k[i].id, id ? id : zero, AWS_EPOCH_ID) && (id != NULL) == (r->k[i].n != 0))
			return &r->k[i];
	return NULL;
}

const sync_epoch_key *ring_newest(const sync_keyring *r)
{
	const sync_epoch_key *best = NULL;

	for (size_t i = 0; i < r->n; i++)
		if (!best || r->k[i].n > best->n)
			best = &r->k[i];
	return best;
}

void archive_seed_derive(unsigned char seed[AWS_KEY_BYTES], const unsigned char master[AWS_KEY_BYTES])
{
	crypto_kdf_derive_from_key(seed, AWS_KEY_BYTES, 1, AWS_ARCH_KDF_CTX, master);
}

int ring_keep_only(sync_keyring *r, const unsigned char id[AWS_EPOCH_ID])
{
	size_t k = 0;
	bool dropped = false;

	for (size_t i = 0; i < r->n; i++) {
		bool keep = r->k[i].n != 0 && !memcmp(r->k[i].id, id, AWS_EPOCH_ID);
		if (!keep && r->k[i].n == 0 && !r->has_archive) {
			archive_seed_derive(r->archive, r->k[i].key);
			r->has_archive = true;
		}
		if (keep)
			r->k[k++] = r->k[i];
		else
			dropped = true;
	}
	sodium_memzero(&r->k[k], (r->n - k) * sizeof(r->k[0]));
	r->n = k;
	return dropped;
}

int archive_seed_load(unsigned char seed[AWS_KEY_BYTES], const char *path, const sync_group *g)
{
	sync_keyring *ring = ring_new();
	const sync_epoch_key *k;
	int rc = ring_load(ring, path, g);

	if (!rc) {
		if ((k = ring_find(ring, NULL)))
			archive_seed_derive(seed, k->key);
		else if (ring->has_archive)
			memcpy(seed, ring->archive, AWS_KEY_BYTES);
		else
			rc = aw_error_set(AW_ENOTFOUND, "the sync key %s holds no archive key", path);
	}
	ring_free(ring);
	return rc;
}

/* ---- the device key ------------------------------------------------------------------- */

char *device_key_path(const char *key_path)
{
	size_t n = strlen(key_path);

	if (n > 4 && !strcmp(key_path + n - 4, ".key"))
		return aw_mem_printf("%.*s-device.key", (int)(n - 4), key_path);
	return aw_mem_printf("%s-device", key_path);
}

static int device_key_create(const char *path, unsigned char pk[AWS_SIGN_PK], unsigned char sk[AWS_SIGN_SK])
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char hex[2 * crypto_sign_SEEDBYTES + 1], *text;
	int rc;

	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	hex_encode(hex, seed, sizeof(seed));
	text = aw_mem_printf("# awnode sync device key (keep it secret: it signs what this device publishes)\n"
			     "seed %s\n",
			     hex);
	rc = aw_files_write(path, text, strlen(text), 0600, AW_FILES_DURABLE);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(text, strlen(text));
	free(text);
	return rc;
}

int device_key_load(unsigned char pk[AWS_SIGN_PK], unsigned char sk[AWS_SIGN_SK], const char *key_path, bool create)
{
	char *path = device_key_path(key_path);
	unsigned char *text = NULL, seed[crypto_sign_SEEDBYTES];
	size_t len;
	struct stat st;
	bool have = false;
	int rc;

	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		rc = aw_error_set(AW_EINVALID, "the sync device key %s is readable by other users (mode %03o): chmod 600 it",
				  path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	rc = aw_files_read((char **)&text, &len, path, 4096);
	if (rc == AW_ENOTFOUND && create) {
		rc = device_key_create(path, pk, sk);
		goto out;
	}
	if (rc)
		goto out;
	for (char *save = NULL, *line = strtok_r((char *)text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "seed ", 5))
			have = hex_decode(seed, sizeof(seed), line + 5) == 0;
	sodium_memzero(text, len);
	if (!have) {
		rc = aw_error_set(AW_EINVALID, "the sync device key %s is malformed", path);
		goto out;
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
out:
	free(text);
	free(path);
	return rc;
}

/* Ed25519 over the BLAKE2b-512 of "awsync-sig2" 0 group 0 device 0 name 0, then the
 * data: a signature made for one file of one device of one group is worth nothing
 * anywhere else. The data is hashed with BLAKE2b rather than signed as Ed25519ph
 * (SHA-512) because it is about three times faster, and a pack can hold tens of MB. */
static void sign_digest(unsigned char out[crypto_generichash_BYTES_MAX], const char *group, const char *device,
			const char *name, const void *data, size_t len)
{
	static const char tag[] = "awsync-sig2";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES_MAX);
	crypto_generichash_update(&st, (const unsigned char *)tag, sizeof(tag));
	crypto_generichash_update(&st, (const unsigned char *)group, strlen(group) + 1);
	crypto_generichash_update(&st, (const unsigned char *)device, strlen(device) + 1);
	crypto_generichash_update(&st, (const unsigned char *)name, strlen(name) + 1);
	crypto_generichash_update(&st, data, len);
	crypto_generichash_final(&st, out, crypto_generichash_BYTES_MAX);
}

void sign_bytes(unsigned char sig[AWS_SIG_BYTES], const unsigned char sk[AWS_SIGN_SK], const char *group,
		const char *device, const char *name, const void *data, size_t len)
{
	unsigned char d[crypto_generichash_BYTES_MAX];

	sign_digest(d, group, device, name, data, len);
	crypto_sign_detached(sig, NULL, d, sizeof(d), sk);
}

int verify_bytes(const unsigned char sig[AWS_SIG_BYTES], const unsigned char pk[AWS_SIGN_PK], const char *group,
		 const char *device, const char *name, const void *data, size_t len)
{
	unsigned char d[crypto_generichash_BYTES_MAX];

	sign_digest(d, group, device, name, data, len);
	return crypto_sign_verify_detached(sig, d, sizeof(d), pk) == 0 ? 0 : -1;
}

static size_t make_ad(unsigned char *ad, size_t cap, const char *device, const char *name)
{
	int n = snprintf((char *)ad, cap, "awsync1%c%s%c%s", 0, device, 0, name);

	return n < 0 || (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int seal_file(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
	     const void *plain, size_t len)
{
	return seal_core(out, key, NULL, device, name, plain, len);
}

int seal_epoch(aw_buf *out, const sync_epoch_key *k, const char *device, const char *name, const void *plain,
	       size_t len)
{
	return seal_core(out, k->key, k->n ? k->id : NULL, device, name, plain, len);
}

/* Epoch 0 keeps version 1's container ("AWSENC1"), so that devices not yet upgraded
 * read it; later epochs name theirs after the magic. */
static int seal_core(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const unsigned char *epoch_id,
		     const char *device, const char *name, const void *plain, size_t len)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char sub[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES], ad[512];
	size_t adlen = make_ad(ad, sizeof(ad), device, name), bound = ZSTD_compressBound(len), clen, off = 0;
	unsigned char *z = aw_mem_malloc(bound ? bound : 1);

	clen = ZSTD_compress(z, bound, plain, len, ZSTD_LEVEL);
	if (ZSTD_isError(clen)) {
		free(z);
		return aw_error_set(AW_ERROR, "compression failed: %s", ZSTD_getErrorName(clen));
	}
	crypto_kdf_derive_from_key(sub, sizeof(sub), SUBKEY_FILES, KDF_CTX, key);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, sub);
	sodium_memzero(sub, sizeof(sub));
	aw_buf_grow(out, MAGIC_LEN + AWS_EPOCH_ID + sizeof(hdr) + clen +
				 (clen / AWS_CHUNK + 1) * crypto_secretstream_xchacha20poly1305_ABYTES);
	aw_buf_append(out, epoch_id ? MAGIC2 : MAGIC, MAGIC_LEN);
	if (epoch_id)
		aw_buf_append(out, epoch_id, AWS_EPOCH_ID);
	aw_buf_append(out, hdr, sizeof(hdr));
	do {
		size_t m = clen - off > AWS_CHUNK ? AWS_CHUNK : clen - off;
		unsigned char tag = off + m == clen ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
		unsigned long long clen_out;

		aw_buf_grow(out, m + crypto_secretstream_xchacha20poly1305_ABYTES);
		crypto_secretstream_xchacha20poly1305_push(&st, (unsigned char *)out->data + out->len, &clen_out, z + off, m,
							   ad, adlen, tag);
		out->len += (size_t)clen_out;
		off += m;
	} while (off < clen);
	out->data[out->len] = '\0';
	sodium_memzero(&st, sizeof st);
	free(z);
	return 0;
}

int unseal_file(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
	       const void *file, size_t len)
{
	return unseal_file_max(out, key, device, name, file, len, AWS_MAX_PLAIN);
}

/* Buffers sized from a file's own claims fail the read, never the process. */
static int alloc_buf(aw_buf *b, size_t n, const char *name)
{
	char *d = malloc(n);

	if (!d)
		return aw_error_set(AW_ERROR, "%s: out of memory (%zu bytes)", name, n);
	aw_buf_free(b);
	b->data = d;
	b->cap = n;
	b->len = 0;
	return 0;
}

int unseal_file_max(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], const char *device, const char *name,
		   const void *file, size_t len, size_t max_plain)
{
	if (len < MAGIC_LEN || memcmp(file, MAGIC, MAGIC_LEN))
		return aw_error_set(AW_EINVALID, "%s: not an awsync encrypted file (bad magic)", name);
	return unseal_core(out, key, MAGIC_LEN, device, name, file, len, max_plain);
}

int sealed_epoch(const void *file, size_t len, unsigned char id[AWS_EPOCH_ID], bool *epoch0)
{
	if (len >= MAGIC_LEN && !memcmp(file, MAGIC, MAGIC_LEN)) {
		*epoch0 = true;
		memset(id, 0, AWS_EPOCH_ID);
		return 0;
	}
	if (len >= MAGIC_LEN + AWS_EPOCH_ID && !memcmp(file, MAGIC2, MAGIC_LEN)) {
		*epoch0 = false;
		memcpy(id, (const unsigned char *)file + MAGIC_LEN, AWS_EPOCH_ID);
		return 0;
	}
	return aw_error_set(AW_EINVALID, "not an awsync encrypted file (bad magic)");
}

int unseal_ring(aw_buf *out, const sync_keyring *ring, const char *device, const char *name, const void *file,
		size_t len)
{
	unsigned char id[AWS_EPOCH_ID];
	char hex[2 * AWS_EPOCH_ID + 1];
	const sync_epoch_key *k;
	bool e0;

	if (sealed_epoch(file, len, id, &e0))
		return aw_error_set(AW_EINVALID, "%s: not an awsync encrypted file (bad magic)", name);
	if (!(k = ring_find(ring, e0 ? NULL : id))) {
		hex_encode(hex, id, AWS_EPOCH_ID);
		return aw_error_set(AW_ENOTFOUND, "%s: sealed under %s%s, whose key this device does not hold", name,
				    e0 ? "the group's first key" : "key epoch ", e0 ? "" : hex);
	}
	return unseal_core(out, k->key, e0 ? MAGIC_LEN : MAGIC_LEN + AWS_EPOCH_ID, device, name, file, len,
			   AWS_MAX_PLAIN);
}

static int unseal_core(aw_buf *out, const unsigned char key[AWS_KEY_BYTES], size_t hdr, const char *device,
		       const char *name, const void *file, size_t len, size_t max_plain)
{
	const size_t A = crypto_secretstream_xchacha20poly1305_ABYTES, H = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char sub[crypto_secretstream_xchacha20poly1305_KEYBYTES], ad[512];
	const unsigned char *p = file;
	size_t adlen = make_ad(ad, sizeof(ad), device, name), off = hdr + H;
	aw_buf z = AW_BUF_INIT;
	unsigned long long fsize;
	bool final = false;
	int rc = AW_EINVALID;

	if (len < off + A)
		return aw_error_set(AW_EINVALID, "%s: truncated (%zu bytes)", name, len);
	crypto_kdf_derive_from_key(sub, sizeof(sub), SUBKEY_FILES, KDF_CTX, key);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, p + hdr, sub)) {
		sodium_memzero(sub, sizeof(sub));
		sodium_memzero(&st, sizeof st);
		return aw_error_set(AW_EINVALID, "%s: bad encryption header", name);
	}
	sodium_memzero(sub, sizeof(sub));
	if (alloc_buf(&z, len, name)) {
		sodium_memzero(&st, sizeof(st));
		return AW_ERROR;
	}
	while (off < len) {
		size_t m = len - off > AWS_CHUNK + A ? AWS_CHUNK + A : len - off;
		unsigned long long mlen;
		unsigned char tag;

		if (final) {
			aw_error_set(AW_EINVALID, "%s: data after the final chunk (appended to?)", name);
			goto out;
		}
		if (m < A || crypto_secretstream_xchacha20poly1305_pull(&st, (unsigned char *)z.data + z.len, &mlen, &tag,
									  p + off, m, ad, adlen)) {
			aw_error_set(AW_EINVALID,
				     "%s: authentication failed at byte %zu (the file was edited, truncated, moved or renamed, "
				     "or it was encrypted with another key)",
				     name, off);
			goto out;
		}
		z.len += (size_t)mlen;
		off += m;
		final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
	}
	if (!final) {
		aw_error_set(AW_EINVALID, "%s: truncated (the final chunk is missing)", name);
		goto out;
	}
	fsize = ZSTD_getFrameContentSize(z.data, z.len);
	if (fsize == ZSTD_CONTENTSIZE_ERROR || fsize == ZSTD_CONTENTSIZE_UNKNOWN) {
		aw_error_set(AW_EINVALID, "%s: bad compressed content", name);
		goto out;
	}
	if (fsize > max_plain) {
		aw_error_set(AW_EINVALID, "%s: its content would be %llu bytes (at most %zu are read)", name, fsize,
			     max_plain);
		goto out;
	}
	if (alloc_buf(out, (size_t)fsize + 1, name)) {
		rc = AW_ERROR;
		goto out;
	}
	{
		size_t n = ZSTD_decompress(out->data, (size_t)fsize + 1, z.data, z.len);
		if (ZSTD_isError(n) || n != fsize) {
			aw_error_set(AW_EINVALID, "%s: bad compressed content (%s)", name,
				     ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch");
			goto out;
		}
		out->len = n;
		out->data[n] = '\0';
	}
	rc = 0;
out:
	sodium_memzero(&st, sizeof st);
	aw_buf_free(&z);
	return rc;
}
