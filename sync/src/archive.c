/*
 * The encrypted archive of old events (see aw/archive.h for the shape, docs/archive.md
 * for usage, docs/sync-format.md §7 for the file format).
 *
 * Parts, in the order a run uses them: locating the directory and archive.json; keys
 * (a passphrase or the sync key -> a seed -> an X25519 key pair, of which only the
 * public half is ever written down); writing a segment (collect in one snapshot,
 * encode with the sync segment encoder, seal_file, fsync, read back and compare, commit
 * into the sync folder when it lives there); deleting what the segment verifiably
 * holds together with the index; and reading segments back for restore.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "aw/archive.h"
#include "aw/mem.h"
#include "internal.h"

#define ARCH_MAGIC "AWARCH1\n"
#define ARCH_MAGIC_LEN 8
#define ARCH_SEALED_KEY (crypto_box_SEALBYTES + AWS_KEY_BYTES)
#define ARCH_HEADER (ARCH_MAGIC_LEN + ARCH_SEALED_KEY)
#define ARCH_META "archive.json"
#define ARCH_STATE_KEY "archive"
#define ARCH_KDF_CTX AWS_ARCH_KDF_CTX
#define ARCH_VERSION 1
#define ARCH_SEGMENT_BYTES_ENV "AWNODE_TEST_ARCHIVE_SEGMENT_BYTES"

/* Everything secret the archive holds, in one block: one sodium_mlock keeps it out of
 * swap (best effort), one sodium_munlock wipes it when the archive is closed, and the
 * scratch fields are wiped after every use. */
typedef struct arch_secrets {
	unsigned char sk[crypto_box_SECRETKEYBYTES]; /* valid when unlocked */
	unsigned char master[AWS_KEY_BYTES];         /* scratch: Argon2id output or sync key */
	unsigned char seed[crypto_box_SEEDBYTES];    /* scratch: master -> key pair */
	unsigned char fkey[AWS_KEY_BYTES];           /* scratch: a segment's file key */
} arch_secrets;

struct aw_archive {
	char *dev, *host, *dir, *sync_folder, *sync_key;
	bool in_sync;          /* dir is inside the sync folder: commit what we write */
	bool has_meta;         /* archive.json was read */
	bool testing;
	char key_source[16];   /* "passphrase" or "sync" */
	sync_group kdf;         /* salt and limits (passphrase source) */
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	arch_secrets sec;
	bool unlocked;
};

/* ---- directory and archive.json ------------------------------------------------------------ */

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool sync_is_set_up(const aw_archive *a)
{
	char *g = aw_mem_printf("%s/" AWS_GROUP_FILE, a->sync_folder);
	bool ok = file_exists(g) && file_exists(a->sync_key);

	free(g);
	return ok;
}

static int meta_read(aw_archive *a)
{
	char *path = aw_mem_printf("%s/" ARCH_META, a->dir);
	unsigned char *text;
	size_t len;
	json_t *o, *kdf;
	const char *src, *pk;
	int rc = aw_files_read((char **)&text, &len, path, SIZE_MAX - 1);

	free(path);
	if (rc == AW_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	o = json_loadb((const char *)text, len, 0, NULL);
	free(text);
	src = json_string_value(json_object_get(o, "key_source"));
	pk = json_string_value(json_object_get(o, "public_key"));
	if (!json_is_object(o) || strcmp(json_string_value(json_object_get(o, "format")) ?: "", "awarchive") ||
	    json_integer_value(json_object_get(o, "version")) != ARCH_VERSION || !src ||
	    (strcmp(src, "passphrase") && strcmp(src, "sync")) || !pk || hex_decode(a->pk, sizeof(a->pk), pk)) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "%s/" ARCH_META " is not an awnode archive description of version %d",
				    a->dir, ARCH_VERSION);
	}
	snprintf(a->key_source, sizeof(a->key_source), "%s", src);
	kdf = json_object_get(o, "kdf");
	if (!strcmp(src, "passphrase")) {
		const char *salt = json_string_value(json_object_get(kdf, "salt"));
		a->kdf.opslimit = (unsigned long long)json_integer_value(json_object_get(kdf, "opslimit"));
		a->kdf.memlimit = (size_t)json_integer_value(json_object_get(kdf, "memlimit"));
		if (!salt || hex_decode(a->kdf.salt, sizeof(a->kdf.salt), salt) || a->kdf.opslimit < 1 ||
		    a->kdf.opslimit > 64 || a->kdf.memlimit < (8u << 20) || a->kdf.memlimit > (4ull << 30)) {
			json_decref(o);
			return aw_error_set(AW_EINVALID, "%s/" ARCH_META ": bad key derivation parameters", a->dir);
		}
	}
	json_decref(o);
	a->has_meta = true;
	return 0;
}

/* Write a file of the archive: fsynced; in the sync folder also committed, under the
 * folder's lock, so that the next push carries it. */
static int archive_write(aw_archive *a, const char *name, const void *data, size_t len, const char *why)
{
	char *path = aw_mem_printf("%s/%s", a->dir, name);
	int rc = aw_files_write(path, data, len, 0644, AW_FILES_DURABLE);

	free(path);
	if (rc || !a->in_sync)
		return rc;
	{
		sync_repo *repo;
		char *rel = aw_mem_printf("devices/%s/archive/%s", a->dev, name), *msg = aw_mem_printf("archive: %s", why);
		repo_file f = {rel, data, len};
		if ((rc = repo_open(&repo, a->sync_folder, NULL)) == 0) {
			if ((rc = repo_lock(repo)) == 0)
				rc = repo_commit(repo, &f, 1, msg);
			repo_close(repo);
		}
		free(rel);
		free(msg);
	}
	return rc;
}

static int meta_write(aw_archive *a)
{
	char pk[2 * crypto_box_PUBLICKEYBYTES + 1], salt[2 * AWS_SALT_BYTES + 1];
	char *text;
	int rc;

	hex_encode(pk, a->pk, sizeof(a->pk));
	if (!strcmp(a->key_source, "passphrase")) {
		hex_encode(salt, a->kdf.salt, sizeof(a->kdf.salt));
		text = aw_mem_printf("{\n  \"format\": \"awarchive\",\n  \"version\": %d,\n  \"device_id\": \"%s\",\n"
			       "  \"key_source\": \"passphrase\",\n  \"public_key\": \"%s\",\n"
			       "  \"kdf\": {\"algorithm\": \"argon2id13\", \"salt\": \"%s\", \"opslimit\": %llu, "
			       "\"memlimit\": %zu},\n  \"cipher\": \"x25519-sealed-key + xchacha20poly1305-secretstream\",\n"
			       "  \"compression\": \"zstd\"\n}\n",
			       ARCH_VERSION, a->dev, pk, salt, a->kdf.opslimit, a->kdf.memlimit);
	} else {
		text = aw_mem_printf("{\n  \"format\": \"awarchive\",\n  \"version\": %d,\n  \"device_id\": \"%s\",\n"
			       "  \"key_source\": \"sync\",\n  \"public_key\": \"%s\",\n"
			       "  \"cipher\": \"x25519-sealed-key + xchacha20poly1305-secretstream\",\n"
			       "  \"compression\": \"zstd\"\n}\n",
			       ARCH_VERSION, a->dev, pk);
	}
	if ((rc = aw_files_mkdir_p(a->dir, 0700)) == 0)
		rc = archive_write(a, ARCH_META, text, strlen(text), "key description");
	free(text);
	if (rc == 0)
		a->has_meta = true;
	return rc;
}

int aw_archive_open(aw_archive **out, const aw_archive_options *o)
{
	aw_archive *a;
	char *data, *local, *meta;
	int rc;

	*out = NULL;
	if (!o || !o->device_id || !o->hostname)
		return aw_error_set(AW_EINVALID, "the archive needs this device's id and hostname");
	if ((rc = crypto_init()))
		return rc;
	a = aw_mem_calloc(1, sizeof(*a));
	(void)sodium_mlock(&a->sec, sizeof(a->sec)); /* best effort: RLIMIT_MEMLOCK may say no */
	a->testing = o->testing;
	data = aw_files_dir(AW_DIR_DATA);
	a->dev = str_dup(o->device_id);
	a->host = str_dup(o->hostname);
	sync_paths(&a->sync_folder, &a->sync_key, o->sync_folder, o->sync_key, o->testing);
	local = aw_mem_printf("%s/%s/%s", data, o->testing ? "archive-testing" : "archive", a->dev);
	meta = aw_mem_printf("%s/" ARCH_META, local);
	if (o->dir) {
		a->dir = str_dup(o->dir);
	} else if (!file_exists(meta) && sync_is_set_up(a)) {
		/* A local archive, once it exists, stays where it is; otherwise sync's folder is
		 * the better home because every push then backs the archive up. */
		a->dir = aw_mem_printf("%s/devices/%s/archive", a->sync_folder, a->dev);
		a->in_sync = true;
	} else {
		a->dir = str_dup(local);
	}
	free(meta);
	free(local);
	free(data);
	if ((rc = meta_read(a))) {
		aw_archive_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void aw_archive_close(aw_archive *a)
{
	if (!a)
		return;
	sodium_munlock(&a->sec, sizeof(a->sec)); /* zeroes it too */
	free(a->dev);
	free(a->host);
	free(a->dir);
	free(a->sync_folder);
	free(a->sync_key);
	free(a);
}

const char *aw_archive_dir(const aw_archive *a)
{
	return a->dir;
}

bool aw_archive_has_key(const aw_archive *a)
{
	return a->has_meta;
}

bool aw_archive_needs_passphrase(const aw_archive *a)
{
	return a->has_meta && !strcmp(a->key_source, "passphrase");
}

/* ---- keys ------------------------------------------------------------------------------------- */

/* a->sec.master -> the archive's key pair (pk, a->sec.sk); the master key and the
 * seed are wiped. The KDF context keeps it apart from every key sync derives from the
 * same master key. With the sync key as the source, a->sec.master holds the seed
 * itself (archive_seed_load), which the sync key file keeps after its epoch 0 key is
 * destroyed (docs/sync-format.md §4b). */
static void keypair_from_master(aw_archive *a, unsigned char pk[crypto_box_PUBLICKEYBYTES])
{
	if (!strcmp(a->key_source, "sync"))
		memcpy(a->sec.seed, a->sec.master, sizeof(a->sec.seed));
	else
		crypto_kdf_derive_from_key(a->sec.seed, sizeof(a->sec.seed), 1, ARCH_KDF_CTX, a->sec.master);
	sodium_memzero(a->sec.master, sizeof(a->sec.master));
	crypto_box_seed_keypair(pk, a->sec.sk, a->sec.seed);
	sodium_memzero(a->sec.seed, sizeof(a->sec.seed));
}

static int sync_archive_seed(aw_archive *a, unsigned char key[AWS_KEY_BYTES])
{
	sync_group g;
	int rc = group_read(&g, a->sync_folder);

	if (rc == AW_ENOTFOUND)
		return aw_error_set(AW_EINVALID, "the archive has no key: run 'awnode archive init' (or set up sync)");
	return rc ? rc : archive_seed_load(key, a->sync_key, &g);
}

int aw_archive_init(aw_archive *a, const char *passphrase, size_t len, unsigned long long ops, size_t mem)
{
	int rc;

	if (a->has_meta)
		return aw_error_set(AW_EEXISTS, "the archive at %s already has a key (%s)", a->dir, a->key_source);
	/* archive.json publishes the public key and the salt: anyone with the file can
	 * test guesses offline, so a short passphrase is refused as `sync init` refuses it */
	if (!passphrase || len < AW_ARCHIVE_MIN_PASSPHRASE)
		return aw_error_set(AW_EINVALID,
				    "the passphrase is too short (at least %d characters; it protects the whole archive)",
				    AW_ARCHIVE_MIN_PASSPHRASE);
	group_new(&a->kdf, ops ? ops : crypto_pwhash_OPSLIMIT_MODERATE, mem ? mem : crypto_pwhash_MEMLIMIT_MODERATE);
	rc = derive_key(a->sec.master, &a->kdf, passphrase, len);
	if (rc) {
		sodium_memzero(a->sec.master, sizeof(a->sec.master));
		return rc;
	}
	keypair_from_master(a, a->pk);
	a->unlocked = true;
	snprintf(a->key_source, sizeof(a->key_source), "passphrase");
	return meta_write(a);
}

/* The master key of the archive's key source into a->sec.master (wiped on failure). */
static int load_master(aw_archive *a, const char *passphrase, size_t len)
{
	int rc;

	if (!strcmp(a->key_source, "sync"))
		rc = sync_archive_seed(a, a->sec.master);
	else
		rc = derive_key(a->sec.master, &a->kdf, passphrase ? passphrase : "", passphrase ? len : 0);
	if (rc)
		sodium_memzero(a->sec.master, sizeof(a->sec.master));
	return rc;
}

/* First use without `archive init`: the key pair comes from the sync key. */
static int ensure_meta(aw_archive *a)
{
	int rc;

	if (a->has_meta)
		return 0;
	snprintf(a->key_source, sizeof(a->key_source), "sync");
	if ((rc = load_master(a, NULL, 0)))
		return rc;
	keypair_from_master(a, a->pk);
	a->unlocked = true;
	return meta_write(a);
}

int aw_archive_unlock(aw_archive *a, const char *passphrase, size_t len)
{
	unsigned char pk[crypto_box_PUBLICKEYBYTES];
	int rc;

	if (!a->has_meta)
		return aw_error_set(AW_ENOTFOUND, "there is no archive at %s (nothing was archived yet)", a->dir);
	if ((rc = load_master(a, passphrase, len)))
		return rc;
	keypair_from_master(a, pk);
	if (sodium_memcmp(pk, a->pk, sizeof(pk))) {
		sodium_memzero(a->sec.sk, sizeof(a->sec.sk));
		return aw_error_set(AW_EINVALID, !strcmp(a->key_source, "sync")
							 ? "the sync key does not open this archive (it was made with another sync group's key)"
							 : "wrong archive passphrase");
	}
	a->unlocked = true;
	return 0;
}

/* ---- segment files ------------------------------------------------------------------------------ */

static bool segment_name_ok(const char *n, int64_t *seq)
{
	char *end;
	long long v;

	if (strncmp(n, "seg-", 4) || strlen(n) != 4 + 12 + 4 || strcmp(n + 16, ".awa"))
		return false;
	v = strtoll(n + 4, &end, 10);
	if (end != n + 16 || v < 1)
		return false;
	*seq = v;
	return true;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Segment file names in the directory, sorted (= by sequence). */
static char **segment_files(const char *dir, size_t *n)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cap = 0;
	int64_t seq;

	*n = 0;
	if (!dh)
		return NULL;
	while ((de = readdir(dh))) {
		if (!segment_name_ok(de->d_name, &seq))
			continue;
		v = aw_mem_grow(v, *n, &cap, sizeof(*v), 16);
		v[(*n)++] = str_dup(de->d_name);
	}
	closedir(dh);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* magic | crypto_box_seal(file key) | sealed container of the plaintext */
static int segment_seal(aw_buf *out, const aw_archive *a, const char *name, const unsigned char fkey[AWS_KEY_BYTES],
			const aw_buf *plain)
{
	unsigned char sealed[ARCH_SEALED_KEY];

	if (crypto_box_seal(sealed, fkey, AWS_KEY_BYTES, a->pk))
		return aw_error_set(AW_ERROR, "sealing the file key failed");
	aw_buf_append(out, ARCH_MAGIC, ARCH_MAGIC_LEN);
	aw_buf_append(out, sealed, sizeof(sealed));
	{
		aw_buf body = AW_BUF_INIT;
		int rc = seal_file(&body, fkey, a->dev, name, plain->data, plain->len);
		if (rc == 0)
			aw_buf_append(out, body.data, body.len);
		aw_buf_free(&body);
		return rc;
	}
}

#define ARCH_MAX_OLD_PLAIN (1024u * 1024u * 1024u)

/* Open a segment with its file key in a->sec.fkey: the one the writing run still
 * holds (key_known), or else unsealed here with the secret key and wiped after use. */
static int segment_open(aw_buf *plain, aw_archive *a, const char *name, bool key_known, const unsigned char *file,
			size_t len)
{
	int rc;

	if (len < ARCH_HEADER || memcmp(file, ARCH_MAGIC, ARCH_MAGIC_LEN))
		return aw_error_set(AW_EINVALID, "%s: not an awnode archive segment (bad magic or truncated)", name);
	if (!key_known &&
	    crypto_box_seal_open(a->sec.fkey, file + ARCH_MAGIC_LEN, ARCH_SEALED_KEY, a->pk, a->sec.sk))
		return aw_error_set(AW_EINVALID,
				    "%s: its file key does not open with this archive's key (the file was edited or "
				    "belongs to another archive)",
				    name);
	/* Segments written before runs were cut to AWS_MAX_WRITE_PLAIN may hold up to the
	 * 1 GiB the first version allowed; they are this device's own files, and must
	 * stay restorable. */
	rc = unseal_file_max(plain, a->sec.fkey, a->dev, name, file + ARCH_HEADER, len - ARCH_HEADER,
			    ARCH_MAX_OLD_PLAIN);
	if (!key_known)
		sodium_memzero(a->sec.fkey, sizeof(a->sec.fkey));
	return rc;
}

/* ---- archiving ------------------------------------------------------------------------------------ */

static bool wanted(const char *id, const char *const *names, size_t n)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], id))
			return true;
	return false;
}

static void copy_meta(aw_bucket *d, const aw_bucket *b)
{
	memset(d, 0, sizeof(*d));
	d->id = str_dup(b->id);
	d->type = str_dup(b->type ? b->type : "");
	d->client = str_dup(b->client ? b->client : "");
	d->hostname = str_dup(b->hostname ? b->hostname : "");
	d->created = b->created;
	d->data = str_dup(b->data ? b->data : "{}");
}

/* ---- cutting a run into segments ---------------------------------------------------------------- */

/* One run's events as segments whose encoded plaintext stays within `limit` bytes
 * (every part holds at least one event, so a single event larger than the limit gets a
 * part of its own; write_verified refuses what would exceed AWS_MAX_FILE). The sizes
 * counted are exactly those segment_encode writes, plus `slack` for the header's
 * numbers and the E line. */
typedef struct parts {
	sync_segment *v;
	size_t n, cap;
	size_t limit, used; /* encoded bytes of the last part so far */
	int64_t events, buckets;
	const char *dev, *host;
} parts;

#define PART_SLACK 96

static size_t digits(int64_t v)
{
	return (size_t)snprintf(NULL, 0, "%lld", (long long)v);
}

/* Bytes of the segment header (without the numbers, which PART_SLACK covers). */
static size_t header_bytes(const parts *ps)
{
	sync_segment empty = {.device_id = (char *)ps->dev, .hostname = (char *)ps->host};
	aw_buf b = AW_BUF_INIT;
	size_t n;

	segment_encode(&b, &empty);
	n = b.len;
	aw_buf_free(&b);
	return n + PART_SLACK;
}

/* Bytes of a bucket's "B" line, with the metadata as the block will hold it. */
static size_t block_bytes(const aw_bucket *meta)
{
	aw_buf b = AW_BUF_INIT;
	aw_bucket copy;
	char *m;
	size_t n;

	copy_meta(&copy, meta);
	m = meta_json(&copy);
	aw_buf_json_string(&b, meta->id, strlen(meta->id));
	n = strlen("B {\"bucket\":") + b.len + strlen(",\"meta\":") + strlen(m) + strlen(",\"reset\":false}\n");
	aw_buf_free(&b);
	aw_bucket_clear(&copy);
	free(m);
	return n;
}

/* Bytes of an event's "P" line. */
static size_t put_bytes(const aw_event *e)
{
	return 2 + digits(e->id) + 1 + digits(e->start) + 1 + digits(e->duration) + 1 + e->data_len + 1;
}

static sync_segment *parts_new(parts *ps)
{
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 4;
		ps->v = aw_mem_realloc(ps->v, ps->cap * sizeof(*ps->v));
	}
	memset(&ps->v[ps->n], 0, sizeof(ps->v[ps->n]));
	ps->v[ps->n].owns_data = true;
	ps->used = header_bytes(ps);
	return &ps->v[ps->n++];
}

/* Add one event of a bucket, opening a new part when it would not fit in the last. */
static void parts_put(parts *ps, const aw_bucket *meta, const aw_event *e)
{
	sync_segment *seg = ps->n ? &ps->v[ps->n - 1] : parts_new(ps);
	sync_block *blk = seg->n_blocks ? &seg->blocks[seg->n_blocks - 1] : NULL;
	bool same = blk && !strcmp(blk->bucket, meta->id);
	size_t need = put_bytes(e) + (same ? 0 : block_bytes(meta));

	if (ps->used + need > ps->limit && segment_records(seg) > 0) {
		seg = parts_new(ps);
		same = false;
		need = put_bytes(e) + block_bytes(meta);
	}
	if (!same) {
		blk = segment_block(seg, meta->id);
		blk->has_meta = true;
		copy_meta(&blk->meta, meta);
	}
	block_put(blk, e);
	ps->used += need;
	ps->events++;
}

static void parts_free(parts *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		segment_free(&ps->v[i]);
	free(ps->v);
	memset(ps, 0, sizeof(*ps));
}

/* The plaintext bytes one segment may hold: AWS_MAX_WRITE_PLAIN, or in testing mode a
 * smaller size from $AWNODE_TEST_ARCHIVE_SEGMENT_BYTES, so that tests can make a run
 * cut itself without a 48 MiB data set. */
static size_t segment_limit(const aw_archive *a)
{
	const char *v = a->testing ? getenv(ARCH_SEGMENT_BYTES_ENV) : NULL;
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return AWS_MAX_WRITE_PLAIN;
	n = strtoull(v, &end, 10);
	return *end || n < 1024 || n > AWS_MAX_WRITE_PLAIN ? AWS_MAX_WRITE_PLAIN : (size_t)n;
}

/* Read, in one snapshot, the events of the chosen buckets that end at or before the
 * cut-off into parts. */
static int collect(parts *ps, aw_reader *r, aw_ns before, const char *const *names, size_t n_names,
		   aw_archive_progress progress, void *pctx)
{
	aw_bucket *bs = NULL;
	size_t nb = 0;
	int rc;

	if ((rc = aw_reader_begin(r)))
		return rc;
	if ((rc = aw_reader_buckets(&bs, &nb, r, 0)))
		goto out;
	for (size_t i = 0; i < n_names; i++) {
		size_t j;
		for (j = 0; j < nb && strcmp(bs[j].id, names[i]); j++)
			;
		if (j == nb) {
			rc = aw_error_set(AW_ENOTFOUND, "there is no bucket '%s'", names[i]);
			goto out;
		}
		if (bs[j].remote_device) {
			rc = aw_error_set(AW_EREADONLY, "bucket '%s' is another device's (remote) bucket: that device archives it",
					  names[i]);
			goto out;
		}
	}
	for (size_t i = 0; i < nb && !rc; i++) {
		aw_event_row *rows = NULL;
		size_t n = 0;
		int64_t before_bucket = ps->events;

		if (bs[i].remote_device || !wanted(bs[i].id, names, n_names))
			continue;
		if (progress)
			progress(pctx, bs[i].id, (int64_t)i, (int64_t)nb);
		rc = aw_reader_event_rows(&rows, &n, r, bs[i].id, AW_NS_MIN, before, -1, AW_EVENTS_ASCENDING);
		for (size_t k = 0; k < n && !rc; k++) {
			aw_event e = {.id = rows[k].id, .has_id = true, .start = rows[k].start, .duration = rows[k].duration};
			const char *d;
			size_t dl;
			if (aw_ns_add_sat(rows[k].start, rows[k].duration) > before)
				continue;
			if ((rc = aw_reader_data(&d, &dl, r, rows[k].data_id)))
				break;
			e.data = (char *)d;
			e.data_len = dl;
			parts_put(ps, &bs[i], &e);
		}
		ps->buckets += ps->events > before_bucket;
		free(rows);
		aw_reader_trim_cache_if_large(r);
	}
out:
	aw_buckets_free(bs, nb);
	aw_reader_end(r);
	return rc;
}

/* The index entry of a new segment, appended to the index read from the database. */
static char *index_with(aw_reader *r, const sync_segment *seg, const char *name, aw_ns before, int64_t bytes)
{
	char *old = NULL, t[AW_TIME_BUFSZ];
	json_t *idx = NULL, *segs, *e = json_object(), *bk = json_object();
	char *text;

	if (aw_reader_state(&old, r, ARCH_STATE_KEY) == 0)
		idx = json_loads(old, 0, NULL);
	free(old);
	if (!json_is_object(idx)) {
		json_decref(idx);
		idx = json_object();
	}
	segs = json_object_get(idx, "segments");
	if (!json_is_array(segs)) {
		segs = json_array();
		json_object_set_new(idx, "segments", segs);
	}
	json_object_set_new(e, "file", json_string(name));
	aw_time_format(t, seg->written_at);
	json_object_set_new(e, "created", json_string(t));
	aw_time_format(t, before);
	json_object_set_new(e, "before", json_string(t));
	json_object_set_new(e, "events", json_integer(segment_records(seg)));
	json_object_set_new(e, "bytes", json_integer(bytes));
	for (size_t i = 0; i < seg->n_blocks; i++) {
		const sync_block *b = &seg->blocks[i];
		aw_ns lo = AW_NS_MAX, hi = AW_NS_MIN;
		json_t *o = json_object();
		for (size_t j = 0; j < b->n_puts; j++) {
			if (b->puts[j].start < lo)
				lo = b->puts[j].start;
			if (aw_ns_add_sat(b->puts[j].start, b->puts[j].duration) > hi)
				hi = aw_ns_add_sat(b->puts[j].start, b->puts[j].duration);
		}
		json_object_set_new(o, "events", json_integer((json_int_t)b->n_puts));
		aw_time_format(t, lo);
		json_object_set_new(o, "start", json_string(t));
		aw_time_format(t, hi);
		json_object_set_new(o, "end", json_string(t));
		json_object_set_new(bk, b->bucket, o);
	}
	json_object_set_new(e, "buckets", bk);
	json_array_append_new(segs, e);
	text = json_dumps(idx, JSON_COMPACT);
	json_decref(idx);
	return text;
}

/* The number of the next segment: one past the highest in the directory. */
static int64_t next_seq(const char *dir)
{
	size_t n;
	char **v = segment_files(dir, &n);
	int64_t last = 0;

	if (n)
		segment_name_ok(v[n - 1], &last);
	strings_free(v, n);
	return last + 1;
}

/* Write, fsync, read back and compare. The comparison is of the decrypted plaintext
 * with the bytes we encoded: every event, byte for byte, as the file now holds it. */
static int write_verified(aw_archive *a, const char *name, const aw_buf *plain, int64_t *bytes)
{
	unsigned char *back = NULL;
	aw_buf file = AW_BUF_INIT, check = AW_BUF_INIT;
	char *path = aw_mem_printf("%s/%s", a->dir, name);
	size_t blen;
	int rc;

	randombytes_buf(a->sec.fkey, sizeof(a->sec.fkey));
	if ((rc = segment_seal(&file, a, name, a->sec.fkey, plain)))
		goto out;
	if (file.len > AWS_MAX_FILE) {
		rc = aw_error_set(AW_ERROR, "%s would be %zu bytes, more than the %u a segment may have; nothing was deleted",
				  name, file.len, AWS_MAX_FILE);
		goto out;
	}
	if ((rc = archive_write(a, name, file.data, file.len, name)))
		goto out;
	if ((rc = aw_files_read((char **)&back, &blen, path, SIZE_MAX - 1)))
		goto out;
	if ((rc = segment_open(&check, a, name, true, back, blen)))
		goto out;
	if (check.len != plain->len || memcmp(check.data, plain->data, plain->len)) {
		rc = aw_error_set(AW_ERROR, "%s: the file read back differs from what was written; nothing was deleted", name);
		goto out;
	}
	*bytes = (int64_t)blen;
out:
	sodium_memzero(a->sec.fkey, sizeof(a->sec.fkey));
	free(back);
	free(path);
	aw_buf_free(&file);
	sodium_memzero(check.data, check.len);
	aw_buf_free(&check);
	return rc;
}

/* Delete what a verified segment holds, together with its index entry. The writer
 * truncates the WAL after the commit (aw/storage.h, "Removed text and the WAL");
 * *wal says how that went. */
static int delete_archived(aw_store *s, const sync_segment *seg, const char *index, int64_t *deleted, int *wal)
{
	aw_import_bucket *ib = aw_mem_calloc(seg->n_blocks ? seg->n_blocks : 1, sizeof(*ib));
	aw_write w;
	int rc;

	for (size_t i = 0; i < seg->n_blocks; i++) {
		ib[i].bucket.id = seg->blocks[i].bucket;
		ib[i].events = seg->blocks[i].puts;
		ib[i].n_events = seg->blocks[i].n_puts;
	}
	w = (aw_write){.kind = AW_W_ARCHIVE_DELETE,
		       .imports = ib,
		       .n_imports = seg->n_blocks,
		       .key = ARCH_STATE_KEY,
		       .value = index};
	rc = aw_store_write(s, &w);
	if (rc)
		aw_error_set(rc, "deleting the archived events failed (the archive file stays; restore skips what is live): %s",
			     w.error);
	*deleted = w.out_dropped;
	*wal = w.wal_status;
	aw_write_clear(&w);
	free(ib);
	return rc;
}

/* Write, verify and delete one part as segment seq. */
static int archive_part(aw_archive *a, aw_store *s, aw_reader *r, sync_segment *seg, int64_t seq, aw_ns before,
			aw_archive_report *rep, int *wal)
{
	char name[64], *index;
	aw_buf plain = AW_BUF_INIT;
	int64_t bytes = 0, deleted = 0;
	int rc;

	snprintf(name, sizeof(name), "seg-%012lld.awa", (long long)seq);
	seg->device_id = str_dup(a->dev);
	seg->hostname = str_dup(a->host);
	seg->generation = seq;
	seg->written_at = aw_time_now();
	segment_encode(&plain, seg);
	rc = write_verified(a, name, &plain, &bytes);
	sodium_memzero(plain.data, plain.len);
	aw_buf_free(&plain);
	if (rc)
		return rc;
	if (!rep->segments)
		snprintf(rep->file, sizeof(rep->file), "%s", name);
	rep->segments++;
	rep->bytes += bytes;
	index = index_with(r, seg, name, before, bytes);
	rc = delete_archived(s, seg, index, &deleted, wal);
	free(index);
	rep->deleted += deleted;
	return rc;
}

#define WAL_RETRIES 10
#define WAL_RETRY_NS (100 * 1000 * 1000)

/* The deletions committed, but a reader's snapshot kept the writer from truncating the
 * WAL: try again for a moment (each try waits up to a second on the writer), and say
 * so if it still fails, because the archived text is then still readable there. */
static int wal_settle(aw_store *s, int wal)
{
	struct timespec pause = {0, WAL_RETRY_NS};

	for (int i = 0; wal && i < WAL_RETRIES; i++) {
		nanosleep(&pause, NULL);
		wal = aw_store_checkpoint_truncate(s);
	}
	if (wal)
		return aw_error_set(AW_EBUSY,
				    "the events were archived and deleted, but the database's write-ahead log could not be "
				    "truncated, so their old text stays in it until the next checkpoint (a long read held "
				    "it; run the archive again, or restart the node)");
	return 0;
}

int aw_archive_run(aw_archive *a, aw_store *s, aw_reader *r, aw_ns before, const char *const *buckets,
		   size_t n_buckets, aw_archive_progress progress, void *pctx, aw_archive_report *rep)
{
	parts ps;
	double t0 = mono_seconds();
	int64_t seq;
	int rc, wal = 0;

	memset(rep, 0, sizeof(*rep));
	memset(&ps, 0, sizeof(ps));
	rep->before = before;
	ps.dev = a->dev;
	ps.host = a->host;
	ps.limit = segment_limit(a);
	if ((rc = ensure_meta(a)) || (rc = aw_files_mkdir_p(a->dir, 0700)))
		goto out;
	if ((rc = collect(&ps, r, before, buckets, n_buckets, progress, pctx)))
		goto out;
	rep->events = ps.events;
	rep->buckets = ps.buckets;
	seq = next_seq(a->dir);
	for (size_t i = 0; i < ps.n && !rc; i++) {
		if (progress)
			progress(pctx, "writing, verifying and deleting the segments", (int64_t)i, (int64_t)ps.n);
		rc = archive_part(a, s, r, &ps.v[i], seq + (int64_t)i, before, rep, &wal);
		/* what is written is no longer needed in memory */
		segment_free(&ps.v[i]);
	}
	if (rc || !rep->segments)
		goto out;
	{
		/* Until sync first exports, the deletion records serve nobody (a first export
		 * publishes the current events from the start), and a year of them would be
		 * half of what is left of the database. */
		sync_state st;
		if (state_load(&st, r) == 0) {
			if (st.push_seq == 0)
				prune_tombstones(s, INT64_MAX);
			/* Sync published these events before: the next round starts a key epoch,
			 * seals this device's files again without them and destroys the keys
			 * that open the older files (docs/sync-format.md §4b). */
			else
				epoch_request_rotation(s);
			state_free(&st);
		}
	}
	rc = wal_settle(s, wal);
out:
	if (rc) {
		rep->status = rc;
		snprintf(rep->error, sizeof(rep->error), "%s", aw_error_last());
	}
	rep->seconds = mono_seconds() - t0;
	parts_free(&ps);
	return rc;
}

char *aw_archive_report_json(const aw_archive_report *rep)
{
	json_t *o = json_object();
	char t[AW_TIME_BUFSZ], *s;

	aw_time_format(t, rep->before);
	json_object_set_new(o, "before", json_string(t));
	json_object_set_new(o, "file", rep->file[0] ? json_string(rep->file) : json_null());
	json_object_set_new(o, "segments", json_integer(rep->segments));
	{
		/* one run's segments have consecutive numbers */
		json_t *files = json_array();
		int64_t first = 0;
		if (rep->segments && segment_name_ok(rep->file, &first))
			for (int64_t i = 0; i < rep->segments; i++) {
				char name[64];
				snprintf(name, sizeof(name), "seg-%012lld.awa", (long long)(first + i));
				json_array_append_new(files, json_string(name));
			}
		json_object_set_new(o, "files", files);
	}
	json_object_set_new(o, "events", json_integer(rep->events));
	json_object_set_new(o, "deleted", json_integer(rep->deleted));
	json_object_set_new(o, "buckets", json_integer(rep->buckets));
	json_object_set_new(o, "bytes", json_integer(rep->bytes));
	json_object_set_new(o, "seconds", json_real(rep->seconds));
	json_object_set_new(o, "error", rep->status ? json_string(rep->error) : json_null());
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- listing -------------------------------------------------------------------------------------- */

static void totals_add(json_t *tot, const char *bucket, json_t *b)
{
	json_t *t = json_object_get(tot, bucket);
	const char *s = json_string_value(json_object_get(b, "start")), *e = json_string_value(json_object_get(b, "end"));

	if (!t) {
		json_object_set_new(tot, bucket, json_pack("{s:I,s:s,s:s,s:i}", "events",
							   json_integer_value(json_object_get(b, "events")), "start",
							   s ? s : "", "end", e ? e : "", "segments", 1));
		return;
	}
	json_object_set_new(t, "events", json_integer(json_integer_value(json_object_get(t, "events")) +
						      json_integer_value(json_object_get(b, "events"))));
	json_object_set_new(t, "segments", json_integer(json_integer_value(json_object_get(t, "segments")) + 1));
	/* ISO 8601 UTC strings of one format compare as the times they name */
	if (s && strcmp(s, json_string_value(json_object_get(t, "start"))) < 0)
		json_object_set_new(t, "start", json_string(s));
	if (e && strcmp(e, json_string_value(json_object_get(t, "end"))) > 0)
		json_object_set_new(t, "end", json_string(e));
}

char *aw_archive_list_json(aw_archive *a, aw_reader *r)
{
	char *old = NULL, *s;
	json_t *idx = NULL, *out = json_object(), *segs, *tot = json_object(), *unindexed = json_array();
	size_t n, i;
	char **files = segment_files(a->dir, &n);

	if (r && aw_reader_state(&old, r, ARCH_STATE_KEY) == 0)
		idx = json_loads(old, 0, NULL);
	free(old);
	segs = json_object_get(idx, "segments");
	segs = json_is_array(segs) ? json_incref(segs) : json_array();
	for (i = 0; i < json_array_size(segs); i++) {
		json_t *e = json_array_get(segs, i), *bk = json_object_get(e, "buckets"), *v;
		const char *k, *f = json_string_value(json_object_get(e, "file"));
		json_object_set_new(e, "present", json_boolean(f && bsearch(&f, files, n, sizeof(*files), cmp_str)));
		json_object_foreach (bk, k, v)
			totals_add(tot, k, v);
	}
	for (i = 0; i < n; i++) {
		bool known = false;
		for (size_t j = 0; j < json_array_size(segs) && !known; j++)
			known = !strcmp(json_string_value(json_object_get(json_array_get(segs, j), "file")) ?: "", files[i]);
		if (!known)
			json_array_append_new(unindexed, json_string(files[i]));
	}
	json_object_set_new(out, "dir", json_string(a->dir));
	json_object_set_new(out, "in_sync_folder", json_boolean(a->in_sync));
	json_object_set_new(out, "key_source", a->has_meta ? json_string(a->key_source) : json_null());
	json_object_set_new(out, "segments", segs);
	json_object_set_new(out, "buckets", tot);
	json_object_set_new(out, "unindexed_files", unindexed);
	s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(out);
	json_decref(idx);
	strings_free(files, n);
	return s;
}

/* ---- reading back (restore) ------------------------------------------------------------------------ */

typedef struct found_event {
	aw_event ev;      /* data owned */
	size_t bucket;    /* index into the bucket list */
	size_t order;     /* position in reading order: later copies win */
} found_event;

typedef struct reading {
	found_event *ev;
	size_t n, cap;
	aw_import_bucket *b;
	size_t nb;
} reading;

static size_t reading_bucket(reading *rd, const sync_block *blk)
{
	for (size_t i = 0; i < rd->nb; i++)
		if (!strcmp(rd->b[i].bucket.id, blk->bucket))
			return i;
	rd->b = aw_mem_realloc(rd->b, (rd->nb + 1) * sizeof(*rd->b));
	memset(&rd->b[rd->nb], 0, sizeof(*rd->b));
	if (blk->has_meta) {
		copy_meta(&rd->b[rd->nb].bucket, &blk->meta);
		free(rd->b[rd->nb].bucket.id);
		rd->b[rd->nb].has_created = true;
	}
	rd->b[rd->nb].bucket.id = str_dup(blk->bucket);
	if (!rd->b[rd->nb].bucket.data)
		rd->b[rd->nb].bucket.data = str_dup("{}");
	return rd->nb++;
}

static void reading_add(reading *rd, size_t bucket, const aw_event *e)
{
	found_event *f;

	if (rd->n == rd->cap) {
		rd->cap = rd->cap ? 2 * rd->cap : 1024;
		rd->ev = aw_mem_realloc(rd->ev, rd->cap * sizeof(*rd->ev));
	}
	f = &rd->ev[rd->n];
	f->ev = *e;
	f->ev.data = aw_mem_malloc(e->data_len + 1);
	memcpy(f->ev.data, e->data, e->data_len);
	f->ev.data[e->data_len] = '\0';
	f->bucket = bucket;
	f->order = rd->n++;
}

static int by_id_latest_first(const void *x, const void *y)
{
	const found_event *a = x, *b = y;

	if (a->ev.id != b->ev.id)
		return a->ev.id < b->ev.id ? -1 : 1;
	return a->order > b->order ? -1 : a->order < b->order;
}

static int by_start(const void *x, const void *y)
{
	const aw_event *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int read_segment(reading *rd, aw_archive *a, const char *name, aw_ns from, aw_ns to, const char *const *names,
			size_t n_names)
{
	char *path = aw_mem_printf("%s/%s", a->dir, name);
	unsigned char *file;
	size_t len;
	aw_buf plain = AW_BUF_INIT;
	sync_segment seg;
	int rc = aw_files_read((char **)&file, &len, path, SIZE_MAX - 1);

	free(path);
	if (rc)
		return rc;
	rc = segment_open(&plain, a, name, false, file, len);
	free(file);
	if (!rc && (rc = segment_parse(&seg, plain.data, plain.len)) == 0) {
		if (strcmp(seg.device_id, a->dev)) {
			rc = aw_error_set(AW_EINVALID, "%s belongs to device %s, not this one", name, seg.device_id);
		} else {
			for (size_t i = 0; i < seg.n_blocks; i++) {
				const sync_block *blk = &seg.blocks[i];
				size_t bi;
				if (!wanted(blk->bucket, names, n_names))
					continue;
				bi = reading_bucket(rd, blk);
				for (size_t j = 0; j < blk->n_puts; j++) {
					const aw_event *e = &blk->puts[j];
					if (e->start <= to && aw_ns_add_sat(e->start, e->duration) >= from)
						reading_add(rd, bi, e);
				}
			}
		}
		segment_free(&seg);
	} else if (!strstr(aw_error_last(), name)) {
		/* the parser's messages do not name the file */
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		rc = aw_error_set(AW_EINVALID, "%s: %s", name, msg);
	}
	sodium_memzero(plain.data, plain.len);
	aw_buf_free(&plain);
	return rc;
}

/* The segment files the database's index lists (valid names only), sorted. */
static char **indexed_files(aw_reader *r, size_t *n)
{
	char *text = NULL, **v = NULL;
	json_t *idx = NULL, *e;
	size_t i;
	int64_t seq;

	*n = 0;
	if (r && aw_reader_state(&text, r, ARCH_STATE_KEY) == 0)
		idx = json_loads(text, 0, NULL);
	free(text);
	json_array_foreach (json_object_get(idx, "segments"), i, e) {
		const char *f = json_string_value(json_object_get(e, "file"));
		if (!f || !segment_name_ok(f, &seq))
			continue;
		v = aw_mem_realloc(v, (*n + 1) * sizeof(*v));
		v[(*n)++] = str_dup(f);
	}
	json_decref(idx);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void strings_push(char ***v, size_t *n, char *s)
{
	*v = aw_mem_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

/* Indexed segments that are not in the directory: "<file>: ..." lines into *skipped.
 * Without allow_missing one line naming them all becomes the error. */
static int check_missing(aw_archive *a, const aw_archive_selection *sel, char **files, size_t nf, char ***skipped,
			 size_t *n_skipped)
{
	size_t ni, missing = 0;
	char **listed = indexed_files(sel->index, &ni);
	aw_buf names = AW_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; i < ni; i++) {
		if (nf && bsearch(&listed[i], files, nf, sizeof(*files), cmp_str))
			continue;
		aw_buf_printf(&names, "%s%s", missing++ ? ", " : "", listed[i]);
		strings_push(skipped, n_skipped, aw_mem_printf("%s: listed in the archive index but missing from %s", listed[i],
							 a->dir));
	}
	if (missing && !sel->allow_missing)
		rc = aw_error_set(AW_ENOTFOUND,
				  "%zu of the %zu segments the archive index lists %s missing from %s (%s); "
				  "--allow-missing restores the rest",
				  missing, ni, missing == 1 ? "is" : "are", a->dir, names.data);
	aw_buf_free(&names);
	strings_free(listed, ni);
	return rc;
}

/* Keep one copy per event id (the latest archived), then order each bucket by start. */
static void reading_finish(reading *rd, aw_import_bucket **out, size_t *n)
{
	if (rd->n)
		qsort(rd->ev, rd->n, sizeof(*rd->ev), by_id_latest_first);
	for (size_t i = 0; i < rd->n; i++)
		if (!i || rd->ev[i].ev.id != rd->ev[i - 1].ev.id)
			rd->b[rd->ev[i].bucket].n_events++;
	for (size_t i = 0; i < rd->nb; i++) {
		rd->b[i].events = aw_mem_malloc((rd->b[i].n_events ? rd->b[i].n_events : 1) * sizeof(aw_event));
		rd->b[i].n_events = 0;
	}
	for (size_t i = 0; i < rd->n; i++) {
		aw_import_bucket *b = &rd->b[rd->ev[i].bucket];
		if (i && rd->ev[i].ev.id == rd->ev[i - 1].ev.id)
			free(rd->ev[i].ev.data);
		else
			b->events[b->n_events++] = rd->ev[i].ev;
	}
	for (size_t i = 0; i < rd->nb; i++)
		if (rd->b[i].n_events > 1)
			qsort(rd->b[i].events, rd->b[i].n_events, sizeof(aw_event), by_start);
	free(rd->ev);
	*out = rd->b;
	*n = rd->nb;
}

int aw_archive_read(aw_import_bucket **out, size_t *n, aw_archive *a, const aw_archive_selection *sel,
		    char ***skipped, size_t *n_skipped)
{
	reading rd = {0};
	size_t nf;
	char **files;
	int rc;

	*out = NULL;
	*n = 0;
	*skipped = NULL;
	*n_skipped = 0;
	if (!a->unlocked)
		return aw_error_set(AW_EINVALID, "the archive is locked (no key)");
	files = segment_files(a->dir, &nf);
	rc = check_missing(a, sel, files, nf, skipped, n_skipped);
	for (size_t i = 0; i < nf && !rc; i++) {
		if (sel->progress)
			sel->progress(sel->pctx, files[i], (int64_t)i, (int64_t)nf);
		/* a segment that fails adds nothing: it is decrypted and parsed whole first */
		rc = read_segment(&rd, a, files[i], sel->from, sel->to, sel->buckets, sel->n_buckets);
		if (rc && sel->allow_missing) {
			strings_push(skipped, n_skipped, str_dup(aw_error_last()));
			rc = 0;
		}
	}
	strings_free(files, nf);
	if (!rc) {
		reading_finish(&rd, out, n);
		return 0;
	}
	for (size_t i = 0; i < rd.n; i++)
		free(rd.ev[i].ev.data);
	free(rd.ev);
	aw_archive_buckets_free(rd.b, rd.nb);
	strings_free(*skipped, *n_skipped);
	*skipped = NULL;
	*n_skipped = 0;
	return rc;
}

void aw_archive_buckets_free(aw_import_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < b[i].n_events; j++)
			free(b[i].events[j].data);
		free(b[i].events);
		aw_bucket_clear(&b[i].bucket);
	}
	free(b);
}
