/*
 * Import of other devices and restore of this one (docs/sync-format.md §7, §8).
 *
 * For every directory devices/<id>/ of another device: read and authenticate its
 * manifest; refuse a manifest older than one already seen (replay) or a different one
 * with the same generation; then read and authenticate every segment after the last
 * one applied, checking the hash chain from the last applied segment to the
 * manifest's head. Only when all of them verify are they applied, in order, as
 * AW_W_REMOTE_APPLY writes (idempotent: events are keyed by their source id). Any
 * failure is recorded for that device and the next device is processed.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aw/json.h"
#include "aw/mem.h"
#include "internal.h"

/* Decrypted segments kept between verification and application; beyond this they are
 * read and decrypted a second time when applied. */
#define KEEP_BYTES (256u * 1024u * 1024u)

/* A file of a device directory: from the HEAD commit when git has it (content-addressed,
 * immune to edits of the work tree), else from the work tree (a folder that a file
 * syncer fills). */
int device_file(sync_ctx *c, const char *device, const char *name, unsigned char **out, size_t *len)
{
	char *rel = aw_mem_printf("devices/%s/%s", device, name);
	int rc = c->repo ? repo_read_head(c->repo, rel, out, len) : AW_ENOTFOUND;

	/* the work tree is read as carefully as git's objects: no symbolic link is
	 * followed and nothing larger than the format allows is read */
	if (rc == AW_ENOTFOUND)
		rc = folder_read(c->y->folder, rel, AWS_MAX_FILE, out, len);
	free(rel);
	return rc;
}

int read_manifest(sync_ctx *c, const char *device, sync_manifest *m, unsigned char hash[AWS_HASH_BYTES])
{
	unsigned char *file;
	size_t len;
	aw_buf plain = AW_BUF_INIT;
	int rc = device_file(c, device, AWS_MANIFEST, &file, &len);

	memset(m, 0, sizeof(*m));
	if (rc == AW_ENOTFOUND)
		return aw_error_set(AW_ENOTFOUND, "no manifest (the device has not pushed yet, or its copy is incomplete)");
	if (rc)
		return rc;
	blake2b_256(hash, file, len);
	rc = unseal_ring(&plain, c->ring, device, AWS_MANIFEST, file, len);
	free(file);
	if (!rc)
		rc = manifest_parse(m, plain.data, plain.len);
	if (!rc && m->has_sig && (rc = manifest_verify(m, plain.data, plain.len, c->group.group)))
		manifest_free(m);
	aw_buf_free(&plain);
	if (!rc && strcmp(m->device_id, device)) {
		rc = aw_error_set(AW_EINVALID, "manifest: it names device %s", m->device_id);
		manifest_free(m);
	}
	return rc;
}

int load_segment(sync_ctx *c, const char *device, int64_t gen, const unsigned char *signer, aw_buf *text,
		 sync_segment *seg, unsigned char hash[AWS_HASH_BYTES])
{
	char name[64];
	unsigned char *file;
	size_t len;
	int rc;

	segment_name(name, sizeof(name), gen);
	rc = device_file(c, device, name, &file, &len);
	memset(seg, 0, sizeof(*seg));
	if (rc == AW_ENOTFOUND)
		return aw_error_set(AW_ENOTFOUND, "segment %lld is missing (the copy is incomplete, or it was deleted)",
				    (long long)gen);
	if (rc)
		return rc;
	blake2b_256(hash, file, len);
	rc = unseal_ring(text, c->ring, device, name, file, len);
	free(file);
	if (rc)
		return rc;
	if (signer) {
		unsigned char sig[AWS_SIG_BYTES];
		size_t n;
		if (segment_signature(text->data, text->len, sig, &n) ||
		    verify_bytes(sig, signer, c->group.group, device, name, text->data, n))
			return aw_error_set(AW_EINVALID, "%s: not signed by the device's key", name);
	}
	if ((rc = segment_parse(seg, text->data, text->len))) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		return aw_error_set(AW_EINVALID, "%s: %s", name, msg);
	}
	if (strcmp(seg->device_id, device) || seg->generation != gen)
		return aw_error_set(AW_EINVALID, "%s: it claims to be segment %lld of device %s", name,
				    (long long)seg->generation, seg->device_id);
	return 0;
}

int load_chain_file(sync_ctx *c, const char *device, const chain_file *f, const unsigned char *signer,
		    aw_buf *text, sync_segment *seg, unsigned char hash[AWS_HASH_BYTES])
{
	int rc = load_segment(c, device, f->last, f->pack || f->tail ? signer : NULL, text, seg, hash);

	if (rc)
		return rc;
	if (f->tail && !signer)
		return aw_error_set(AW_EINVALID, "segment %lld follows the manifest without a key to check it by",
				    (long long)f->last); /* (a tail needs a signed manifest: manifest_parse) */
	if (f->pack && (!seg->is_pack || seg->first != f->first))
		return aw_error_set(AW_EINVALID, "segment %lld is not the pack of generations %lld to %lld the manifest names",
				    (long long)f->last, (long long)f->first, (long long)f->last);
	if (!f->pack && seg->is_pack)
		return aw_error_set(AW_EINVALID, "segment %lld is a pack the manifest does not name", (long long)f->last);
	return 0;
}

/* Reads the tail's files from where the device's manifest is: from HEAD when git has
 * it, else from the work tree. Not file by file as device_file does: a round killed
 * after writing its segment to the work tree but before its commit leaves the file
 * there, and in HEAD the chain ends before it (the next round writes that generation
 * again, differently). */
typedef struct tail_reader {
	sync_ctx *c;
	const char *device;
	bool git;
} tail_reader;

static void tail_reader_init(tail_reader *t, sync_ctx *c, const char *device)
{
	char *rel = aw_mem_printf("devices/%s/" AWS_MANIFEST, device);
	unsigned char *file = NULL;
	size_t len;

	t->c = c;
	t->device = device;
	t->git = c->repo && repo_read_head(c->repo, rel, &file, &len) == 0;
	free(file);
	free(rel);
}

static int tail_read(tail_reader *t, int64_t gen, unsigned char **out, size_t *len)
{
	char name[64], *rel;
	int rc;

	segment_name(name, sizeof(name), gen);
	rel = aw_mem_printf("devices/%s/%s", t->device, name);
	rc = t->git ? repo_read_head(t->c->repo, rel, out, len) : folder_read(t->c->y->folder, rel, AWS_MAX_FILE, out, len);
	free(rel);
	return rc;
}

int manifest_find_tail(sync_ctx *c, const char *device, sync_manifest *m, int64_t after,
		       const unsigned char *after_hash)
{
	tail_reader t;
	unsigned char *file, h[AWS_HASH_BYTES];
	size_t len;
	int rc = 0;

	if (m->version < AWS_MANIFEST_TAIL_VERSION)
		return 0;
	tail_reader_init(&t, c, device);
	if (after_hash && after > m->generation) {
		/* known to end there: only if that file is still the one it was */
		if (tail_read(&t, after, &file, &len) == 0) {
			blake2b_256(h, file, len);
			free(file);
			if (!memcmp(h, after_hash, AWS_HASH_BYTES)) {
				m->last = after;
				memcpy(m->last_hash, h, AWS_HASH_BYTES);
			}
		}
		if (m->last != after)
			after = m->generation;
	}
	for (int64_t g = (after > m->generation ? after : m->generation) + 1;; g++) {
		if ((rc = tail_read(&t, g, &file, &len)))
			break;
		blake2b_256(m->last_hash, file, len);
		m->last = g;
		free(file);
	}
	return rc == AW_ENOTFOUND ? 0 : rc;
}

/* ---- writes, submitted together and waited for once ----------------------------------- */

typedef struct pending {
	aw_write w;
	aw_remote_apply ra;
	aw_bucket bucket;
	struct pending *next;
} pending;

typedef struct batch {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int outstanding;
	pending *head;
} batch;

static void batch_done(aw_write *w, void *ctx)
{
	batch *b = ctx;

	(void)w;
	pthread_mutex_lock(&b->mu);
	b->outstanding--;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* Wait for everything submitted; the first failure's message, if any, is set. */
static int batch_wait(batch *b)
{
	int rc = 0;

	pthread_mutex_lock(&b->mu);
	while (b->outstanding > 0)
		pthread_cond_wait(&b->cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
	while (b->head) {
		pending *p = b->head;
		b->head = p->next;
		if (!rc && p->w.status) {
			rc = aw_error_set(p->w.status, "applying bucket '%s': %s", p->bucket.id, p->w.error);
		}
		aw_write_clear(&p->w);
		aw_bucket_clear(&p->bucket);
		free(p);
	}
	return rc;
}

static int submit(sync_ctx *c, batch *b, pending *p)
{
	int rc;

	p->w.kind = AW_W_REMOTE_APPLY;
	p->w.remote = &p->ra;
	p->w.allow_remote = true;
	p->w.done = batch_done;
	p->w.ctx = b;
	p->ra.bucket = &p->bucket;
	p->next = b->head;
	b->head = p;
	pthread_mutex_lock(&b->mu);
	b->outstanding++;
	pthread_mutex_unlock(&b->mu);
	rc = aw_store_submit(c->y->store, &p->w);
	if (rc) {
		pthread_mutex_lock(&b->mu);
		b->outstanding--;
		pthread_mutex_unlock(&b->mu);
		p->w.status = rc;
		snprintf(p->w.error, sizeof(p->w.error), "the store is closing");
	}
	return rc;
}

/* ---- naming ------------------------------------------------------------------------------- */

static bool name_claimed(sync_ctx *c, const char *name, const char *device)
{
	for (size_t i = 0; i < c->st.n_devices; i++) {
		const char *k;
		json_t *v;
		if (!strcmp(c->st.devices[i].device_id, device))
			continue;
		json_object_foreach(c->st.devices[i].buckets, k, v) {
			if (!strcmp(json_string_value(v), name))
				return true;
		}
	}
	return false;
}

/* The local id of a remote bucket: its own id, or "<id>-synced-from-<hostname>" when
 * that is taken locally (then with the device id's first 8 characters appended). */
static char *choose_name(sync_ctx *c, const char *device, const char *hostname, const char *origin)
{
	char *cand[3];
	char *pick = NULL;

	cand[0] = str_dup(origin);
	cand[1] = aw_mem_printf("%s-synced-from-%s", origin, hostname);
	cand[2] = aw_mem_printf("%s-synced-from-%s-%.8s", origin, hostname, device);
	for (int i = 0; i < 3 && !pick; i++) {
		aw_bucket b;
		int rc = aw_reader_bucket(&b, c->r, cand[i]);
		if (rc == AW_ENOTFOUND) {
			if (!name_claimed(c, cand[i], device))
				pick = cand[i];
		} else if (rc == 0) {
			if (b.remote_device && !strcmp(b.remote_device, device))
				pick = cand[i];
			aw_bucket_clear(&b);
		}
	}
	for (int i = 0; i < 3; i++)
		if (cand[i] != pick)
			free(cand[i]);
	return pick;
}

/* The bucket's data with its origin recorded. */
static char *remote_data(const char *data, const char *hostname, const char *device)
{
	json_t *o = aw_json_parse(data, strlen(data));
	char *s;

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "$aw.sync.origin", json_string(hostname));
	json_object_set_new(o, "$aw.sync.device_id", json_string(device));
	s = aw_json_canonical_dup(o, NULL);
	json_decref(o);
	return s;
}

static void copy_bucket(aw_bucket *d, const aw_bucket *m, const char *local, const char *hostname, const char *device)
{
	memset(d, 0, sizeof(*d));
	d->id = str_dup(local);
	d->type = str_dup(m->type);
	d->client = str_dup(m->client);
	d->hostname = str_dup(m->hostname);
	d->created = m->created;
	d->data = remote_data(m->data ? m->data : "{}", hostname, device);
	d->last_updated = m->last_updated ? str_dup(m->last_updated) : NULL;
}

/* Queue the writes of one segment. */
static int apply_segment(sync_ctx *c, device_state *d, const sync_segment *seg, batch *b)
{
	for (size_t i = 0; i < seg->n_blocks; i++) {
		const sync_block *blk = &seg->blocks[i];
		const char *local = json_string_value(json_object_get(d->buckets, blk->bucket));
		pending *p;

		if (blk->reset && local) {
			p = aw_mem_calloc(1, sizeof(*p));
			p->bucket.id = str_dup(local);
			p->ra.device_id = d->device_id;
			p->ra.delete_bucket = true;
			if (submit(c, b, p))
				return AW_ESHUTDOWN;
			json_object_del(d->buckets, blk->bucket);
			local = NULL;
		}
		if (!blk->has_meta)
			continue;
		if (!local) {
			char *name;
			/* the reader must see buckets created by writes still queued */
			if (batch_wait(b))
				return AW_ERROR;
			name = choose_name(c, d->device_id, seg->hostname, blk->bucket);
			if (!name)
				return aw_error_set(AW_EEXISTS, "no free local id for bucket '%s'", blk->bucket);
			json_object_set_new(d->buckets, blk->bucket, json_string(name));
			free(name);
			local = json_string_value(json_object_get(d->buckets, blk->bucket));
		}
		p = aw_mem_calloc(1, sizeof(*p));
		copy_bucket(&p->bucket, &blk->meta, local, seg->hostname, d->device_id);
		p->ra.device_id = d->device_id;
		p->ra.puts = blk->puts;
		p->ra.n_puts = blk->n_puts;
		p->ra.dels = blk->dels;
		p->ra.n_dels = blk->n_dels;
		if (submit(c, b, p))
			return AW_ESHUTDOWN;
	}
	return 0;
}

static void set_error(device_state *d, const char *msg)
{
	free(d->error);
	d->error = str_dup(msg);
	d->error_time = aw_time_now();
}

typedef struct loaded {
	aw_buf text;
	sync_segment seg;
	unsigned char hash[AWS_HASH_BYTES];
	bool kept;
} loaded;

static void loaded_free(loaded *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		segment_free(&v[i].seg);
		aw_buf_free(&v[i].text);
	}
	free(v);
}

/* Verify the files that cover generations from+1 .. m->last (chain_files):
 * authenticity, order and the hash chain from `prev` (NULL: from the first segment)
 * through the manifest's head to the newest segment of its tail, each of which carries
 * the device's signature. A pack that covers `from` itself (the device packed
 * generations this one had partly imported) is not checked against `prev`, which names
 * a segment inside it: it is authenticated by the key, and applying it again changes
 * nothing (docs/sync-format.md §7a). *newest_at: when the newest file was written. */
static int verify_range(sync_ctx *c, const char *device, const sync_manifest *m, int64_t from,
			const unsigned char *prev, chain_file **files, size_t *nfiles, loaded **out, aw_ns *newest_at)
{
	size_t n = 0, kept = 0;
	chain_file *f = chain_files(m, from, &n);
	loaded *v = aw_mem_calloc(n + 1, sizeof(*v));
	unsigned char last[AWS_HASH_BYTES];
	bool have_last = prev != NULL;
	int rc = 0;

	if (prev)
		memcpy(last, prev, AWS_HASH_BYTES);
	for (size_t i = 0; i < n && !rc; i++) {
		loaded *l = &v[i];
		if ((rc = load_chain_file(c, device, &f[i], m->has_sig ? m->signing_key : NULL, &l->text, &l->seg,
					  l->hash)))
			break;
		if (f[i].first > from &&
		    (l->seg.has_prev != have_last || (have_last && memcmp(l->seg.prev, last, AWS_HASH_BYTES)))) {
			rc = aw_error_set(AW_EINVALID,
					  "segment %lld does not follow segment %lld (hash chain broken: replaced, reordered or "
					  "written twice)",
					  (long long)f[i].first, (long long)(f[i].first - 1));
			break;
		}
		memcpy(last, segment_chain_hash(&l->seg, l->hash), AWS_HASH_BYTES);
		have_last = true;
		*newest_at = l->seg.written_at;
		if (f[i].last == m->generation && memcmp(last, m->head, AWS_HASH_BYTES)) {
			rc = aw_error_set(AW_EINVALID, "segment %lld is not the one the manifest names (hash mismatch)",
					  (long long)m->generation);
			break;
		}
		if (kept + l->text.len <= KEEP_BYTES) {
			kept += l->text.len;
			l->kept = true;
		} else {
			segment_free(&l->seg);
			aw_buf_free(&l->text);
		}
	}
	if (!rc && n && memcmp(last, m->last_hash, AWS_HASH_BYTES))
		rc = aw_error_set(AW_EINVALID, "segment %lld changed while it was being imported", (long long)m->last);
	if (rc) {
		loaded_free(v, n);
		v = NULL;
		free(f);
		f = NULL;
		n = 0;
	}
	*files = f;
	*nfiles = n;
	*out = v;
	return rc;
}

/* Files verified but not kept in memory are read again when applied. */
static int reload(sync_ctx *c, const char *device, const chain_file *f, loaded *l)
{
	unsigned char h[AWS_HASH_BYTES];
	unsigned char want[AWS_HASH_BYTES];
	int rc;

	memcpy(want, l->hash, AWS_HASH_BYTES);
	/* the same bytes as verified (the hash below), signature and all */
	if ((rc = load_chain_file(c, device, f, NULL, &l->text, &l->seg, h)))
		return rc;
	if (memcmp(h, want, AWS_HASH_BYTES))
		return aw_error_set(AW_EINVALID, "segment %lld changed while it was being imported", (long long)f->last);
	return 0;
}

static void manifest_buckets(device_state *d, const sync_manifest *m)
{
	json_array_clear(d->manifest_buckets);
	for (size_t i = 0; i < m->n_buckets; i++)
		json_array_append_new(d->manifest_buckets, json_string(m->buckets[i].id));
}

/* The manifest's signing key against the one pinned for the device: the first signed
 * manifest imported pins it; after that, a manifest signed with another key, or not
 * signed at all, is refused (another member writing in this device's name, or a
 * downgrade to version 1). */
static int check_signer(device_state *d, const sync_manifest *m)
{
	char hex[2 * AWS_SIGN_PK + 1];

	if (!m->has_sig) {
		if (d->signing_key)
			return aw_error_set(AW_EINVALID,
					    "the manifest is not signed, but this device signed before: refused (a version-1 "
					    "manifest put back, or written by another member in its name)");
		return 0;
	}
	hex_encode(hex, m->signing_key, AWS_SIGN_PK);
	if (d->signing_key && strcmp(d->signing_key, hex))
		return aw_error_set(AW_EINVALID,
				    "the manifest is signed with another key than this device's (written by another member "
				    "in its name, or the device was set up again: then 'awnode sync forget' it and 'forget "
				    "--undo' to accept its new key)");
	return 0;
}

/* Whether the folder holds the segment after the last one imported from d: a tail
 * that grew without a new manifest (docs/sync-format.md §6). */
static bool next_segment_exists(sync_ctx *c, const device_state *d)
{
	tail_reader t;
	unsigned char *file;
	size_t len;

	tail_reader_init(&t, c, d->device_id);
	if (tail_read(&t, d->generation + 1, &file, &len))
		return false;
	free(file);
	return true;
}

/* *waiting: the device's manifest is still sealed under a key epoch this device
 * destroyed on moving to the current one; it has not had a round since the epoch
 * began, and moves (sealing its files again) at its next. Not a failure: nothing is
 * read and 0 is returned. */
static int import_device(sync_ctx *c, device_state *d, bool *waiting)
{
	unsigned char *file = NULL, mhash[AWS_HASH_BYTES];
	size_t flen = 0, n;
	sync_manifest m;
	loaded *v = NULL;
	chain_file *files = NULL;
	batch b = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL};
	int64_t records = 0;
	size_t nv = 0;
	json_t *saved = NULL;
	aw_ns newest_at = 0;
	int rc;

	memset(&m, 0, sizeof(m));
	d->last_check = aw_time_now();
	/* unchanged manifest, nothing pending, no error: nothing to do (no decryption) */
	*waiting = false;
	if (device_file(c, d->device_id, AWS_MANIFEST, &file, &flen) == 0) {
		unsigned char id[AWS_EPOCH_ID];
		bool e0;
		*waiting = c->epoch > 0 && sealed_epoch(file, flen, id, &e0) == 0 && !ring_find(c->ring, e0 ? NULL : id);
		blake2b_256(mhash, file, flen);
		free(file);
		if (*waiting)
			return 0;
		if (!d->error && d->manifest_generation && d->generation >= d->manifest_generation &&
		    !memcmp(mhash, d->manifest_hash, AWS_HASH_BYTES) && !next_segment_exists(c, d))
			return 0;
	}
	if ((rc = read_manifest(c, d->device_id, &m, mhash)))
		goto out;
	if ((rc = check_signer(d, &m)))
		goto out;
	if (m.generation < d->manifest_generation) {
		rc = aw_error_set(AW_EINVALID,
				  "manifest generation %lld is older than generation %lld seen before: an old manifest was put "
				  "back (replayed); nothing imported until the device publishes a newer one",
				  (long long)m.generation, (long long)d->manifest_generation);
		goto out;
	}
	if (m.generation == d->manifest_generation && memcmp(mhash, d->manifest_hash, AWS_HASH_BYTES)) {
		rc = aw_error_set(AW_EINVALID,
				  "the manifest changed without a new generation (%lld): it was replaced, or two devices write "
				  "under this device id",
				  (long long)m.generation);
		goto out;
	}
	if (m.generation == d->generation && memcmp(m.head, d->head, AWS_HASH_BYTES)) {
		rc = aw_error_set(AW_EINVALID, "the manifest's newest segment is not the one imported before");
		goto out;
	}
	if ((rc = manifest_find_tail(c, d->device_id, &m, d->generation, NULL)))
		goto out;
	/* m.last <= d->generation: nothing is new. Below it, segments imported before are
	 * missing from the folder's tail (held back or deleted); nothing is lost */
	if (m.last > d->generation) {
		if ((rc = verify_range(c, d->device_id, &m, d->generation, d->generation ? d->head : NULL, &files, &n,
				       &v, &newest_at)))
			goto out;
		nv = n;
		saved = json_deep_copy(d->buckets);
		for (size_t i = 0; i < n && !rc; i++) {
			loaded *l = &v[i];
			if (!l->kept && (rc = reload(c, d->device_id, &files[i], l)))
				break;
			rc = apply_segment(c, d, &l->seg, &b);
			records += segment_records(&l->seg);
			if (!l->kept) {
				int wrc = batch_wait(&b);
				rc = rc ? rc : wrc;
				segment_free(&l->seg);
				aw_buf_free(&l->text);
			}
		}
		{
			int wrc = batch_wait(&b);
			rc = rc ? rc : wrc;
		}
		if (rc) {
			/* the cursor stays, so the names chosen must too: the next round replays */
			json_decref(d->buckets);
			d->buckets = saved;
			saved = NULL;
			goto out;
		}
		d->events += records;
		d->segments += (int64_t)n;
		d->last_import = aw_time_now();
		c->rep->segments_applied += (int64_t)n;
		c->rep->events_applied += records;
		d->generation = m.last;
		memcpy(d->head, m.last_hash, AWS_HASH_BYTES);
	}
	/* after the events, with the same manifest: a device that fails above applies
	 * neither, and retries both next round (applying a setting twice changes nothing) */
	if ((rc = settings_apply(c, &m)))
		goto out;
	d->manifest_generation = m.generation;
	memcpy(d->manifest_hash, mhash, AWS_HASH_BYTES);
	if (m.has_sig && !d->signing_key) {
		char hex[2 * AWS_SIGN_PK + 1];
		hex_encode(hex, m.signing_key, AWS_SIGN_PK);
		d->signing_key = str_dup(hex);
	}
	/* the manifest is rewritten only when what it says changes: the newest segment
	 * says when the device last published */
	if (m.written_at > newest_at)
		newest_at = m.written_at;
	if (newest_at > d->last_published)
		d->last_published = newest_at;
	free(d->hostname);
	d->hostname = str_dup(m.hostname);
	manifest_buckets(d, &m);
	free(d->error);
	d->error = NULL;
	d->error_time = 0;
out:
	batch_wait(&b);
	json_decref(saved);
	if (v)
		loaded_free(v, nv);
	free(files);
	if (rc && !d->hostname && m.hostname)
		d->hostname = str_dup(m.hostname);
	manifest_free(&m);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A device's status that is no failure (revoked, waiting to move): kept, and saved when
 * it changed. */
static void set_status(sync_ctx *c, device_state *d, const char *msg)
{
	if (d->error && !strcmp(d->error, msg))
		return;
	set_error(d, msg);
	state_save(&c->st, c->y->store);
}

int import_all(sync_ctx *c)
{
	char *dir = aw_mem_printf("%s/devices", c->y->folder);
	DIR *dh = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	free(dir);
	if (!dh)
		return 0; /* no device has pushed yet */
	while ((de = readdir(dh))) {
		if (!folder_device_ok(de->d_name, strlen(de->d_name)) || !strcmp(de->d_name, c->y->device_id))
			continue;
		names = aw_mem_grow(names, n, &cap, sizeof(*names), 8);
		names[n++] = str_dup(de->d_name);
	}
	closedir(dh);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		device_state *d = state_device(&c->st, names[i], true);
		int64_t gen_before = d->generation;
		bool had_error = d->error != NULL, waiting;
		char msg[600];
		int drc;

		if (d->forgotten)
			continue;
		if (sync_cancelled(c->y))
			break;
		c->rep->devices_seen++;
		if (d->revoked_epoch) {
			snprintf(msg, sizeof(msg), "revoked at key epoch %lld: nothing it publishes is imported",
				 (long long)d->revoked_epoch);
			set_status(c, d, msg);
			continue;
		}
		drc = import_device(c, d, &waiting);
		if (waiting) {
			snprintf(msg, sizeof(msg), "waiting for its next round: it still writes under an older key epoch than %lld",
				 (long long)c->epoch);
			set_status(c, d, msg);
			continue;
		}
		if (drc) {
			snprintf(msg, sizeof(msg), "%s", aw_error_last());
			set_error(d, msg);
			c->rep->devices_failed++;
		}
		if (drc || had_error || d->generation != gen_before) {
			int src = state_save(&c->st, c->y->store);
			if (src && !rc)
				rc = src;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- restore ------------------------------------------------------------------------------- */

typedef struct rev {
	int64_t id; /* first: id_index reads it */
	aw_ns start, duration;
	char *data;
	size_t len;
	bool live;
} rev;

typedef struct rbucket {
	char *id;
	aw_bucket meta;
	bool exists;
	rev *evs;
	size_t n, cap;
	id_index index; /* event id -> evs */
} rbucket;

/* The record of event id in b; with create a new one when it has none, else NULL. */
static rev *rbucket_ev(rbucket *b, int64_t id, bool create)
{
	size_t *slot = id_index_slot(&b->index, b->evs, sizeof(*b->evs), b->n, id, create);

	if (!slot)
		return NULL;
	if (*slot)
		return &b->evs[*slot - 1];
	if (!create)
		return NULL;
	b->evs = id_index_append(b->evs, sizeof(*b->evs), &b->n, &b->cap, 256, slot, id);
	return &b->evs[b->n - 1];
}

static void rbucket_reset(rbucket *b)
{
	b->n = 0;
	b->exists = false;
	id_index_clear(&b->index);
	aw_bucket_clear(&b->meta);
}

int restore_device(sync_ctx *c, const char *device, int64_t *out_events, size_t *out_buckets)
{
	sync_manifest m;
	unsigned char mhash[AWS_HASH_BYTES];
	loaded *v = NULL;
	chain_file *files = NULL;
	size_t nfiles = 0;
	rbucket *bs = NULL;
	size_t nbs = 0, ni = 0;
	aw_import_bucket *imp = NULL;
	aw_bucket *existing = NULL;
	size_t nexisting = 0;
	aw_write w;
	int64_t last = 0, total = 0;
	aw_ns newest_at = 0;
	int rc;

	*out_events = 0;
	*out_buckets = 0;
	memset(&w, 0, sizeof(w));
	if ((rc = aw_reader_buckets(&existing, &nexisting, c->r, 0)))
		return rc;
	aw_buckets_free(existing, nexisting);
	if (nexisting)
		return aw_error_set(AW_EEXISTS,
				    "restore needs an empty database, and this one has %zu bucket%s: stop the node, move the "
				    "database away, run restore, then start the node",
				    nexisting, nexisting == 1 ? "" : "s");
	if ((rc = read_manifest(c, device, &m, mhash))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		return aw_error_set(rc, "device %s: %s", device, msg);
	}
	if ((rc = manifest_find_tail(c, device, &m, 0, NULL)) ||
	    (rc = verify_range(c, device, &m, 0, NULL, &files, &nfiles, &v, &newest_at)))
		goto out;
	/* packs and segments alike, in order: a pack is its generations folded */
	for (size_t fi = 0; fi < nfiles && !rc; fi++) {
		loaded *l = &v[fi];
		if (!l->kept)
			rc = reload(c, device, &files[fi], l);
		for (size_t i = 0; !rc && i < l->seg.n_blocks; i++) {
			const sync_block *blk = &l->seg.blocks[i];
			rbucket *b = NULL;
			for (size_t k = 0; k < nbs && !b; k++)
				if (!strcmp(bs[k].id, blk->bucket))
					b = &bs[k];
			if (!b) {
				bs = aw_mem_realloc(bs, (nbs + 1) * sizeof(*bs));
				b = &bs[nbs++];
				memset(b, 0, sizeof(*b));
				b->id = str_dup(blk->bucket);
			}
			if (blk->reset)
				rbucket_reset(b);
			if (!blk->has_meta)
				continue;
			aw_bucket_clear(&b->meta);
			b->meta = blk->meta;
			b->meta.id = str_dup(blk->meta.id);
			b->meta.type = str_dup(blk->meta.type);
			b->meta.client = str_dup(blk->meta.client);
			b->meta.hostname = str_dup(blk->meta.hostname);
			b->meta.data = str_dup(blk->meta.data);
			b->meta.last_updated = blk->meta.last_updated ? str_dup(blk->meta.last_updated) : NULL;
			b->exists = true;
			for (size_t k = 0; k < blk->n_puts; k++) {
				rev *e = rbucket_ev(b, blk->puts[k].id, true);
				e->start = blk->puts[k].start;
				e->duration = blk->puts[k].duration;
				e->data = blk->puts[k].data; /* into l->text, alive until the end */
				e->len = blk->puts[k].data_len;
				e->live = true;
			}
			for (size_t k = 0; k < blk->n_dels; k++) {
				rev *e = rbucket_ev(b, blk->dels[k], false);
				if (e)
					e->live = false;
			}
		}
		if (!l->kept)
			l->kept = true; /* its text is referenced now: keep it */
	}
	if (rc)
		goto out;
	imp = aw_mem_calloc(nbs + 1, sizeof(*imp));
	for (size_t k = 0; k < nbs; k++) {
		rbucket *b = &bs[k];
		aw_import_bucket *ib;
		size_t live = 0;
		if (!b->exists)
			continue;
		ib = &imp[ni++];
		ib->bucket = b->meta;
		ib->has_created = true;
		ib->events = aw_mem_calloc(b->n + 1, sizeof(aw_event));
		for (size_t j = 0; j < b->n; j++) {
			if (!b->evs[j].live)
				continue;
			ib->events[live].id = b->evs[j].id;
			ib->events[live].has_id = true;
			ib->events[live].start = b->evs[j].start;
			ib->events[live].duration = b->evs[j].duration;
			ib->events[live].data = b->evs[j].data;
			ib->events[live].data_len = b->evs[j].len;
			live++;
		}
		ib->n_events = live;
		total += (int64_t)live;
	}
	w.kind = AW_W_IMPORT;
	w.imports = imp;
	w.n_imports = ni;
	rc = aw_store_write(c->y->store, &w);
	if (rc) {
		rc = aw_error_set(rc, "restoring into the database: %s", w.error);
		goto out;
	}
	/* the device's own settings come back too, as they were published */
	if ((rc = settings_apply(c, &m)))
		goto out;
	{
		json_t *own = NULL;
		char hash[AWS_HASH_HEX];
		if ((rc = settings_publishable(c, &own, hash)))
			goto out;
		json_decref(own);
		free(c->st.push_settings);
		c->st.push_settings = str_dup(hash);
	}
	if ((rc = aw_reader_last_seq(&last, c->r)))
		goto out;
	/* continue publishing after the restored history, as this device */
	c->st.push_seq = last;
	c->st.push_generation = m.last;
	memcpy(c->st.push_head, m.last_hash, AWS_HASH_BYTES);
	free(c->st.push_hostname);
	c->st.push_hostname = str_dup(m.hostname);
	json_object_clear(c->st.push_buckets);
	for (size_t k = 0; k < ni; k++) {
		char *meta = meta_json(&imp[k].bucket), hex[AWS_HASH_HEX];
		unsigned char h[AWS_HASH_BYTES];
		blake2b_256(h, meta, strlen(meta));
		hex_encode(hex, h, AWS_HASH_BYTES);
		json_object_set_new(c->st.push_buckets, imp[k].bucket.id, json_string(hex));
		free(meta);
	}
	c->st.last_push = aw_time_now();
	rc = state_save(&c->st, c->y->store);
	*out_events = total;
	*out_buckets = ni;
out:
	aw_write_clear(&w);
	if (imp)
		for (size_t k = 0; k < ni; k++)
			free(imp[k].events);
	free(imp);
	for (size_t k = 0; k < nbs; k++) {
		free(bs[k].id);
		free(bs[k].evs);
		id_index_free(&bs[k].index);
		aw_bucket_clear(&bs[k].meta);
	}
	free(bs);
	if (v)
		loaded_free(v, nfiles);
	free(files);
	manifest_free(&m);
	return rc;
}
