/*
 * Export: this device's changes since the last push become one new segment
 * (docs/sync-format.md §4, §7).
 *
 * The change feed (aw_reader_changes, this device's own buckets only: remote buckets
 * are never re-exported) gives, in sequence order, the current state of every event
 * written since the cursor, every deletion and every bucket deletion. Records are
 * grouped per bucket; the last record of an event id wins, and a bucket deletion drops
 * what came before it in that bucket. Bucket metadata is compared with what was last
 * exported (a hash per bucket in the state), so a new empty bucket or a changed
 * `data` is published too. The own manifest in HEAD gives the generation and the hash
 * of the previous segment, which the new one names (the hash chain).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aw/mem.h"
#include "internal.h"

typedef struct xrec {
	int64_t id; /* first: id_index reads it */
	bool del;
	bool live;
	aw_ns start, duration;
	char *data;
	size_t len;
} xrec;

typedef struct xblock {
	char *bucket;
	bool reset;
	xrec *recs;
	size_t n, cap;
	id_index index; /* event id -> recs */
} xblock;

typedef struct xport {
	xblock *blocks;
	size_t n, cap;
	int64_t records;
} xport;

/* The record of event id in b, emptied of its data; a new one when it has none. */
static xrec *block_rec(xblock *b, int64_t id)
{
	size_t *slot = id_index_slot(&b->index, b->recs, sizeof(*b->recs), b->n, id, true);

	if (*slot) {
		xrec *r = &b->recs[*slot - 1];
		free(r->data);
		r->data = NULL;
		return r;
	}
	b->recs = id_index_append(b->recs, sizeof(*b->recs), &b->n, &b->cap, 64, slot, id);
	return &b->recs[b->n - 1];
}

static void block_clear(xblock *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->recs[i].data);
	b->n = 0;
	id_index_clear(&b->index);
}

static xblock *xport_block(xport *x, const char *bucket)
{
	/* few buckets, and the feed mostly repeats the previous one */
	for (size_t i = x->n; i-- > 0;)
		if (!strcmp(x->blocks[i].bucket, bucket))
			return &x->blocks[i];
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 8;
		x->blocks = aw_mem_realloc(x->blocks, x->cap * sizeof(*x->blocks));
	}
	memset(&x->blocks[x->n], 0, sizeof(xblock));
	x->blocks[x->n].bucket = str_dup(bucket);
	return &x->blocks[x->n++];
}

static void xport_free(xport *x)
{
	for (size_t i = 0; i < x->n; i++) {
		block_clear(&x->blocks[i]);
		free(x->blocks[i].recs);
		id_index_free(&x->blocks[i].index);
		free(x->blocks[i].bucket);
	}
	free(x->blocks);
}

static int on_change(void *ctx, const aw_change *c)
{
	xport *x = ctx;
	xblock *b = xport_block(x, c->bucket_id);
	xrec *r;

	if (c->kind == AW_CHANGE_BUCKET_DEL) {
		block_clear(b);
		b->reset = true;
		return 0;
	}
	r = block_rec(b, c->event_id);
	r->live = true;
	r->del = c->kind == AW_CHANGE_DEL;
	if (!r->del) {
		r->start = c->start;
		r->duration = c->duration;
		r->data = aw_mem_malloc(c->data_len + 1);
		memcpy(r->data, c->data, c->data_len);
		r->data[c->data_len] = '\0';
		r->len = c->data_len;
	}
	return 0;
}

static void meta_hash(char out[AWS_HASH_HEX], const aw_bucket *b)
{
	char *m = meta_json(b);
	unsigned char h[AWS_HASH_BYTES];

	blake2b_256(h, m, strlen(m));
	hex_encode(out, h, AWS_HASH_BYTES);
	free(m);
}

/* This device's manifest in HEAD (its generation, head hash and packs); a zeroed one
 * (generation 0) when it has published nothing yet. */
static int own_manifest(sync_ctx *c, sync_manifest *m)
{
	unsigned char *file;
	size_t len;
	aw_buf plain = AW_BUF_INIT;
	int rc = device_file(c, c->y->device_id, AWS_MANIFEST, &file, &len);

	memset(m, 0, sizeof(*m));
	if (rc == AW_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = unseal_ring(&plain, c->ring, c->y->device_id, AWS_MANIFEST, file, len);
	free(file);
	if (!rc)
		rc = manifest_parse(m, plain.data, plain.len);
	aw_buf_free(&plain);
	if (rc) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		return aw_error_set(AW_EINVALID, "this device's own manifest in the sync folder is unreadable: %s", msg);
	}
	if (strcmp(m->device_id, c->y->device_id)) {
		manifest_free(m);
		return aw_error_set(AW_EINVALID, "this device's own manifest names another device");
	}
	/* the segments published since the manifest was last written, from the newest
	 * one this device remembers publishing (a round reads one file, not the up to
	 * compact_segments of the tail) */
	if ((rc = manifest_find_tail(c, c->y->device_id, m, c->st.push_generation, c->st.push_head)))
		manifest_free(m);
	return rc;
}

static bool same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Whether the manifest in HEAD must be written again with this round's segment: it
 * says something that changed (the bucket list, settings, packs, hostname), it is not
 * of the current version or not signed by this device's key (set up again), or it is
 * sealed under another key epoch than the files after it will be. Otherwise the round
 * adds its segment alone, signed, after the manifest (docs/sync-format.md §6): a
 * manifest per round was the largest single cost of a round on the remote. */
static bool manifest_outdated(sync_ctx *c, const sync_manifest *own, const aw_bucket *bk, size_t nb,
			      bool changed)
{
	size_t k = 0;

	if (changed || c->reseal || own->version < AWS_MANIFEST_TAIL_VERSION || !own->has_sig ||
	    memcmp(own->signing_key, c->sign_pk, AWS_SIGN_PK))
		return true;
	for (size_t i = 0; i < nb; i++) {
		const aw_bucket *a = &bk[i], *b;
		if (a->remote_device)
			continue;
		if (k == own->n_buckets)
			return true;
		b = &own->buckets[k++];
		if (!same_str(a->id, b->id) || !same_str(a->type, b->type) || !same_str(a->client, b->client) ||
		    !same_str(a->hostname, b->hostname) || a->created != b->created)
			return true;
	}
	return k != own->n_buckets;
}

/* This device's chain is now sealed under the epoch it writes with (a move seals every
 * file again in the same commit, compact.c). */
static void set_push_epoch(sync_ctx *c)
{
	char hex[2 * AWS_EPOCH_ID + 1];

	free(c->st.push_epoch);
	c->st.push_epoch = NULL;
	if (c->wkey->n == 0)
		return;
	hex_encode(hex, c->wkey->id, AWS_EPOCH_ID);
	c->st.push_epoch = str_dup(hex);
}

int export_changes(sync_ctx *c)
{
	aw_sync *y = c->y;
	sync_state *st = &c->st;
	aw_bucket *bk = NULL;
	size_t nb = 0;
	int64_t last = 0, gen;
	unsigned char head[AWS_HASH_BYTES], newhead[AWS_HASH_BYTES];
	xport x;
	sync_segment seg;
	sync_manifest man, own;
	compaction cx;
	json_t *hashes = json_object();
	aw_buf text = AW_BUF_INIT, *sealed = NULL, msealed = AW_BUF_INIT;
	sync_segment *parts = NULL;
	size_t nparts = 0, nfiles = 0;
	repo_file *files = NULL;
	char segname[64], *manpath = NULL, *mjson = NULL, settings_hash[AWS_HASH_HEX];
	json_t *settings = NULL;
	bool hostname_changed, settings_changed;
	int rc;

	memset(&x, 0, sizeof(x));
	memset(&seg, 0, sizeof(seg));
	memset(&man, 0, sizeof(man));
	memset(&cx, 0, sizeof(cx));
	if ((rc = own_manifest(c, &own)))
		goto out;
	if ((rc = ctx_device_key(c)))
		goto out;
	gen = own.last;
	memcpy(head, own.last_hash, AWS_HASH_BYTES);
	if (gen < st->push_generation) {
		rc = aw_error_set(AW_EINVALID,
				  "this device's files in the sync folder are older than what it already published "
				  "(generation %lld < %lld): the folder was replaced or rolled back; join again from a remote "
				  "that has them",
				  (long long)gen, (long long)st->push_generation);
		goto out;
	}

	/* Deletion records up to the cursor went out with earlier pushes (the cursor is
	 * saved only after its segment was committed): nothing needs them any more. */
	if (st->push_seq > 0)
		prune_tombstones(y->store, st->push_seq);

	if ((rc = settings_publishable(c, &settings, settings_hash)))
		goto out;
	settings_changed = strcmp(st->push_settings ? st->push_settings : "", settings_hash) != 0;

	/* one consistent cut: the changes, the sequence they end at, the buckets */
	if ((rc = aw_reader_begin(c->r)))
		goto out;
	rc = aw_reader_last_seq(&last, c->r);
	if (!rc)
		rc = aw_reader_buckets(&bk, &nb, c->r, 0);
	if (!rc)
		rc = aw_reader_changes(c->r, st->push_seq, on_change, &x);
	aw_reader_end(c->r);
	/* the data were copied; a first export would otherwise leave the whole history in
	 * the reader's cache */
	aw_reader_trim_cache(c->r);
	if (rc)
		goto out;

	seg.device_id = y->device_id;
	seg.hostname = y->hostname;
	seg.owns_data = false;
	for (size_t i = 0; i < nb; i++) {
		char h[AWS_HASH_HEX];
		const char *old;
		bool touched = false;
		if (bk[i].remote_device)
			continue;
		meta_hash(h, &bk[i]);
		json_object_set_new(hashes, bk[i].id, json_string(h));
		old = json_string_value(json_object_get(st->push_buckets, bk[i].id));
		for (size_t j = 0; j < x.n; j++)
			touched |= !strcmp(x.blocks[j].bucket, bk[i].id);
		if (!touched && old && !strcmp(old, h))
			continue;
		xport_block(&x, bk[i].id); /* a block even without events: metadata only */
	}
	for (size_t j = 0; j < x.n; j++) {
		xblock *xb = &x.blocks[j];
		const aw_bucket *cur = NULL;
		sync_block *b;
		for (size_t i = 0; i < nb && !cur; i++)
			if (!bk[i].remote_device && !strcmp(bk[i].id, xb->bucket))
				cur = &bk[i];
		if (!cur && !xb->reset)
			continue; /* gone without a deletion record: nothing to say */
		if (seg.n_blocks == seg.cap_blocks) {
			seg.cap_blocks = seg.cap_blocks ? 2 * seg.cap_blocks : 8;
			seg.blocks = aw_mem_realloc(seg.blocks, seg.cap_blocks * sizeof(*seg.blocks));
		}
		b = &seg.blocks[seg.n_blocks++];
		memset(b, 0, sizeof(*b));
		b->bucket = str_dup(xb->bucket);
		b->reset = xb->reset;
		if (!cur)
			continue;
		b->has_meta = true;
		meta_copy(&b->meta, cur);
		for (size_t k = 0; k < xb->n; k++) {
			xrec *r = &xb->recs[k];
			if (!r->live)
				continue;
			if (r->del) {
				block_del(b, r->id);
			} else if (r->len > AWS_MAX_OWN_RECORD) {
				continue; /* larger than a segment may be: never synced (docs/sync-format.md §5) */
			} else {
				aw_event e = {.id = r->id, .has_id = true, .start = r->start, .duration = r->duration,
					      .data = r->data, .data_len = r->len};
				if (b->n_puts == b->cap_puts) {
					b->cap_puts = b->cap_puts ? 2 * b->cap_puts : 64;
					b->puts = aw_mem_realloc(b->puts, b->cap_puts * sizeof(*b->puts));
				}
				b->puts[b->n_puts++] = e; /* data stays owned by x */
			}
		}
	}
	hostname_changed = !st->push_hostname || strcmp(st->push_hostname, y->hostname);
	/* packs replace files up to the current generation and ride on the next one's
	 * commit (compact.c); a compaction with nothing else to say publishes an empty one */
	if (gen > 0 && (rc = compact_plan(c, &own, &seg, &cx))) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		rc = aw_error_set(rc, "compaction: %s", msg);
		goto out;
	}
	if (seg.n_blocks == 0 && !(hostname_changed && gen > 0) && !settings_changed && gen > 0 && !cx.n_write &&
	    !cx.n_remove) {
		/* nothing to publish; remember how far the feed was read */
		st->push_seq = last;
		json_decref(st->push_buckets);
		st->push_buckets = hashes;
		hashes = NULL;
		set_push_epoch(c);
		c->rep->generation = gen;
		c->rep->packs = (int64_t)cx.n_packs;
		rc = 0;
		goto out;
	}

	seg.generation = gen + 1;
	seg.has_prev = gen > 0;
	memcpy(seg.prev, head, AWS_HASH_BYTES);
	seg.written_at = aw_time_now();
	/* one segment per AWS_MAX_WRITE_PLAIN bytes of plaintext, chained as usual, so no
	 * file ever exceeds what readers accept (a first push of years of history) */
	if ((rc = segment_split(&parts, &nparts, &seg, AWS_MAX_WRITE_PLAIN)))
		goto out;
	files = aw_mem_calloc(nparts + 1 + cx.n_write + cx.n_remove, sizeof(*files));
	sealed = aw_mem_calloc(nparts, sizeof(*sealed));
	memcpy(newhead, head, AWS_HASH_BYTES);
	for (size_t i = 0; i < nparts; i++) {
		sync_segment *pt = &parts[i];
		pt->generation = gen + 1 + (int64_t)i;
		pt->has_prev = pt->generation > 1;
		memcpy(pt->prev, newhead, AWS_HASH_BYTES);
		aw_buf_reset(&text);
		segment_encode(&text, pt);
		segment_name(segname, sizeof(segname), pt->generation);
		/* signed, as every segment is since version 3: a segment after the manifest is
		 * named by no signed hash (docs/sync-format.md §4a) */
		segment_sign(&text, c->sign_sk, c->group.group, y->device_id, segname);
		if ((rc = seal_epoch(&sealed[i], c->wkey, y->device_id, segname, text.data, text.len)))
			goto out;
		blake2b_256(newhead, sealed[i].data, sealed[i].len);
		files[i].path = aw_mem_printf("devices/%s/%s", y->device_id, segname);
		files[i].data = sealed[i].data;
		files[i].len = sealed[i].len;
	}
	aw_buf_free(&text);
	seg.generation = gen + (int64_t)nparts;
	if (!manifest_outdated(c, &own, bk, nb,
			       gen == 0 || hostname_changed || settings_changed || cx.n_write || cx.n_remove)) {
		nfiles = nparts;
		goto commit;
	}

	man.device_id = y->device_id;
	man.hostname = y->hostname;
	man.generation = seg.generation;
	memcpy(man.head, newhead, AWS_HASH_BYTES);
	man.written_at = seg.written_at;
	man.software = "awnode " AWNODE_VERSION;
	man.settings = json_object_size(settings) ? settings : NULL; /* borrowed */
	man.packs = gen > 0 ? cx.packs : NULL; /* borrowed */
	man.n_packs = gen > 0 ? cx.n_packs : 0;
	man.buckets = aw_mem_calloc(nb + 1, sizeof(*man.buckets));
	for (size_t i = 0; i < nb; i++)
		if (!bk[i].remote_device)
			man.buckets[man.n_buckets++] = bk[i]; /* shallow: borrowed */
	mjson = manifest_signed_json(&man, c->sign_sk, c->group.group);
	free(man.buckets);
	if ((rc = seal_epoch(&msealed, c->wkey, y->device_id, AWS_MANIFEST, mjson, strlen(mjson))))
		goto out;
	manpath = aw_mem_printf("devices/%s/" AWS_MANIFEST, y->device_id);
	files[nparts].path = manpath;
	files[nparts].data = msealed.data;
	files[nparts].len = msealed.len;
	for (size_t i = 0; i < cx.n_write; i++)
		files[nparts + 1 + i] = (repo_file){cx.write_paths[i], cx.sealed[i].data, cx.sealed[i].len};
	for (size_t i = 0; i < cx.n_remove; i++)
		files[nparts + 1 + cx.n_write + i] = (repo_file){cx.remove_paths[i], NULL, 0};
	nfiles = nparts + 1 + cx.n_write + cx.n_remove;
commit:
	{
		char msg[64];
		snprintf(msg, sizeof(msg), "awsync: push %lld", (long long)seg.generation);
		if ((rc = repo_commit(c->repo, files, nfiles, msg)))
			goto out;
	}
	st->push_seq = last;
	st->push_generation = seg.generation;
	memcpy(st->push_head, newhead, AWS_HASH_BYTES);
	free(st->push_hostname);
	st->push_hostname = str_dup(y->hostname);
	free(st->push_settings);
	st->push_settings = str_dup(settings_hash);
	json_decref(st->push_buckets);
	st->push_buckets = hashes;
	hashes = NULL;
	st->pushes++;
	set_push_epoch(c);
	c->rep->pushed = true;
	c->rep->generation = seg.generation;
	c->rep->events_exported = segment_records(&seg);
	c->rep->buckets_exported = (int64_t)seg.n_blocks;
	c->rep->files_packed = cx.files_replaced;
	c->rep->packs = (int64_t)cx.n_packs;
out:
	compaction_free(&cx);
	manifest_free(&own);
	seg.device_id = NULL;
	seg.hostname = NULL;
	segment_free(&seg);
	xport_free(&x);
	aw_buckets_free(bk, nb);
	json_decref(hashes);
	json_decref(settings);
	aw_buf_free(&text);
	for (size_t i = 0; sealed && i < nparts; i++) {
		aw_buf_free(&sealed[i]);
		free((char *)files[i].path);
	}
	free(sealed);
	free(files);
	segment_parts_free(parts, nparts);
	aw_buf_free(&msealed);
	free(manpath);
	free(mjson);
	return rc;
}
