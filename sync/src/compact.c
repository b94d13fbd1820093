/*
 * Compaction: this device's older segments become packs (docs/sync-format.md §7a).
 *
 * A device that publishes every five minutes writes about 100,000 segments a year, and
 * a device that joins would read and apply every one of them. A pack is a run of
 * consecutive generations folded into one file: per bucket its last metadata, per
 * event its last put or its deletion, a bucket deletion dropping what came before it
 * in that bucket. Applying a pack does what applying its segments does, for an
 * importer whose cursor is before the pack or anywhere inside it (puts and deletions
 * are keyed by source event id, so what was applied already is applied again without
 * change). So a pack may replace segments that another device has partly imported, or
 * not at all, and nobody loses, duplicates or re-imports an event.
 *
 * A pack is stored under the name of the last generation it covers; the files it
 * replaces are removed in the same commit as the device's next segment, and the
 * manifest lists the packs. Generations no pack covers are plain segments.
 *
 * Policy, size-tiered like an LSM tree's: when the plain segments after the newest
 * pack reach compact_segments (1,024 by default, three to four days of 5-minute
 * rounds), they are folded into a pack of level 0; whenever the newest
 * AWS_COMPACT_TIER packs share a level, they are merged into one pack of the next
 * level. An event is so rewritten about once per level (two or three times in its
 * life), a device keeps fewer than AWS_COMPACT_TIER packs per level plus the segments
 * since its newest pack, and a joining device reads those instead of every segment.
 * No pack holds more than 16 MiB of plaintext (PACK_LIMIT): packs whose merge would
 * exceed that are marked full and never merged again.
 * `awnode sync compact` packs every plain segment and merges every pack that is not
 * full, as far as that bound allows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

/* Plaintext a pack may hold. A merge holds its inputs, the fold and the new pack in
 * memory at once, about three times this (a year of one device is about 30 MB of
 * plaintext: two full packs). Far below AWS_MAX_WRITE_PLAIN, so the few records a fold
 * writes differently from its inputs (block and header lines) never matter. */
#define PACK_LIMIT ((int64_t)16 * 1024 * 1024)

chain_file *chain_files(const sync_manifest *m, int64_t from, size_t *n)
{
	chain_file *f = NULL;
	size_t cap = 0, k = 0, p = 0;
	int64_t g = from + 1;

	*n = 0;
	while (p < m->n_packs && m->packs[p].last < g)
		p++;
	while (g <= m->last) {
		chain_file *e;
		f = aw_mem_grow(f, k, &cap, sizeof(*f), 16);
		e = &f[k++];
		e->tail = false;
		if (p < m->n_packs && m->packs[p].first <= g) {
			e->first = m->packs[p].first;
			e->last = m->packs[p].last;
			e->pack = true;
			p++;
		} else {
			e->first = e->last = g;
			e->pack = false;
			e->tail = g > m->generation;
		}
		g = e->last + 1;
	}
	*n = k;
	return f;
}

/* ---- folding ------------------------------------------------------------------------ */

typedef struct frec {
	int64_t id; /* first: id_index reads it */
	bool del;   /* the event's last record is its deletion */
	bool dead;  /* dropped: deleted after its bucket's deletion in the same pack */
	aw_ns start, duration;
	const char *data;
	size_t len;
} frec;

typedef struct fbucket {
	const char *bucket;
	bool reset;             /* deleted inside the pack: importers drop it first */
	const aw_bucket *meta;  /* its last metadata, NULL when it ends deleted */
	frec *recs;
	size_t n, cap;
	id_index index;
} fbucket;

typedef struct fold {
	fbucket *b;
	size_t n, cap;
} fold;

static fbucket *fold_bucket(fold *f, const char *id)
{
	fbucket *b;

	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->b[i].bucket, id))
			return &f->b[i];
	f->b = aw_mem_grow(f->b, f->n, &f->cap, sizeof(*f->b), 8);
	b = &f->b[f->n++];
	memset(b, 0, sizeof(*b));
	b->bucket = id;
	return b;
}

static frec *fold_rec(fbucket *b, int64_t id, bool create)
{
	size_t *slot = id_index_slot(&b->index, b->recs, sizeof(*b->recs), b->n, id, create);

	if (!slot || (!*slot && !create))
		return NULL;
	if (*slot)
		return &b->recs[*slot - 1];
	b->recs = id_index_append(b->recs, sizeof(*b->recs), &b->n, &b->cap, 64, slot, id);
	return &b->recs[b->n - 1];
}

/* One block of an input, in order. The fold keeps pointers into the inputs' texts. */
static void fold_block(fold *f, const sync_block *blk)
{
	fbucket *b = fold_bucket(f, blk->bucket);

	if (blk->reset) {
		/* what came before the deletion is gone for every importer */
		b->reset = true;
		b->meta = NULL;
		b->n = 0;
		id_index_clear(&b->index);
	}
	if (!blk->has_meta)
		return;
	b->meta = &blk->meta;
	for (size_t i = 0; i < blk->n_puts; i++) {
		const aw_event *e = &blk->puts[i];
		frec *r = fold_rec(b, e->id, true);
		r->del = r->dead = false;
		r->start = e->start;
		r->duration = e->duration;
		r->data = e->data;
		r->len = e->data_len;
	}
	for (size_t i = 0; i < blk->n_dels; i++) {
		/* after a deletion of the bucket inside the pack, importers drop everything
		 * first, so the event's deletion says nothing more; otherwise an importer
		 * whose cursor is inside the pack may hold the event */
		frec *r = fold_rec(b, blk->dels[i], !b->reset);
		if (!r)
			continue;
		r->del = !b->reset;
		r->dead = b->reset;
	}
}

static void fold_free(fold *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->b[i].recs);
		id_index_free(&f->b[i].index);
	}
	free(f->b);
}

/* The fold's blocks into p (whose puts borrow the inputs' texts). */
static void fold_emit(sync_segment *p, const fold *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const fbucket *b = &f->b[i];
		sync_block *blk;

		if (!b->reset && !b->meta)
			continue;
		blk = segment_block(p, b->bucket);
		blk->reset = b->reset;
		if (!b->meta)
			continue; /* deleted, and not created again */
		blk->has_meta = true;
		meta_copy(&blk->meta, b->meta);
		for (size_t k = 0; k < b->n; k++) {
			const frec *r = &b->recs[k];
			if (r->dead)
				continue;
			if (r->del) {
				block_del(blk, r->id);
				continue;
			}
			blk->puts = aw_mem_grow(blk->puts, blk->n_puts, &blk->cap_puts, sizeof(*blk->puts), 64);
			blk->puts[blk->n_puts++] = (aw_event){.id = r->id, .has_id = true, .start = r->start,
							      .duration = r->duration, .data = (char *)r->data,
							      .data_len = r->len};
		}
	}
}

void segments_fold(sync_segment *out, const sync_segment *const *in, size_t n)
{
	fold f;

	memset(&f, 0, sizeof(f));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < in[i]->n_blocks; k++)
			fold_block(&f, &in[i]->blocks[k]);
	fold_emit(out, &f);
	fold_free(&f);
}

/* ---- the working list ---------------------------------------------------------------- */

/* A pack of the plan: one the manifest lists, or one built by it (fresh, its plaintext
 * held until it is sealed, or dropped when a later merge of the plan takes it in). */
typedef struct item {
	sync_pack p;
	bool fresh;
	aw_buf plain;
} item;

/* A file being folded: read from HEAD, or a fresh pack's plaintext parsed again. */
typedef struct input {
	chain_file f;
	aw_buf text;
	sync_segment seg;
	unsigned char hash[AWS_HASH_BYTES];
} input;

typedef struct plan {
	sync_ctx *c;
	size_t min_group;    /* plain segments that make a pack (2; 1 when every file is sealed again) */
	item *w;
	size_t nw, capw;
	int64_t *consumed;   /* generations whose files (as in HEAD) a pack replaced */
	size_t nc, capc;
} plan;

static void input_free(input *in)
{
	segment_free(&in->seg);
	aw_buf_free(&in->text);
}

static void inputs_free(input *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		input_free(&in[i]);
	free(in);
}

static int load_input(plan *pl, const item *it, const chain_file *f, input *in)
{
	memset(in, 0, sizeof(*in));
	in->f = *f;
	if (!it || !it->fresh)
		return load_chain_file(pl->c, pl->c->y->device_id, f, NULL, &in->text, &in->seg, in->hash);
	aw_buf_append(&in->text, it->plain.data, it->plain.len);
	return segment_parse(&in->seg, in->text.data, in->text.len);
}

static const unsigned char *chain_after(const input *in)
{
	return segment_chain_hash(&in->seg, in->hash);
}

/* Fold inputs in[0..n) (consecutive files of this device's chain) into one pack. */
static int build_pack(plan *pl, const input *in, size_t n, int level, item *out)
{
	sync_segment p;
	const sync_segment **segs;

	for (size_t i = 1; i < n; i++)
		if (!in[i].seg.has_prev || memcmp(in[i].seg.prev, chain_after(&in[i - 1]), AWS_HASH_BYTES))
			return aw_error_set(AW_EINVALID,
					    "this device's own segment %lld does not follow the one before it: its files in "
					    "the sync folder were changed",
					    (long long)in[i].f.first);
	memset(&p, 0, sizeof(p));
	p.device_id = str_dup(pl->c->y->device_id);
	p.hostname = str_dup(pl->c->y->hostname);
	p.generation = in[n - 1].f.last;
	p.is_pack = true;
	p.first = in[0].f.first;
	p.has_prev = in[0].seg.has_prev;
	memcpy(p.prev, in[0].seg.prev, AWS_HASH_BYTES);
	memcpy(p.end, chain_after(&in[n - 1]), AWS_HASH_BYTES);
	p.written_at = aw_time_now();
	segs = aw_mem_calloc(n, sizeof(*segs));
	for (size_t i = 0; i < n; i++)
		segs[i] = &in[i].seg;
	segments_fold(&p, segs, n);
	free(segs);
	memset(out, 0, sizeof(*out));
	segment_encode(&out->plain, &p);
	out->fresh = true;
	out->p.first = p.first;
	out->p.last = p.generation;
	out->p.level = level;
	out->p.bytes = (int64_t)out->plain.len;
	segment_free(&p);
	return 0;
}

static void consume(plan *pl, int64_t gen)
{
	pl->consumed = aw_mem_grow(pl->consumed, pl->nc, &pl->capc, sizeof(*pl->consumed), 64);
	pl->consumed[pl->nc++] = gen;
}

static void append_item(plan *pl, item *it)
{
	pl->w = aw_mem_grow(pl->w, pl->nw, &pl->capw, sizeof(*pl->w), 16);
	pl->w[pl->nw++] = *it;
}

/* Segments in[0..n) become one level-0 pack (n >= 2), or stay as they are (n == 1). */
static int close_group(plan *pl, input *in, size_t n)
{
	item it;
	int rc;

	if (n < pl->min_group || n == 0)
		return 0;
	if ((rc = build_pack(pl, in, n, 0, &it)))
		return rc;
	for (size_t i = 0; i < n; i++)
		consume(pl, in[i].f.last);
	append_item(pl, &it);
	return 0;
}

/* The plain segments from..to become level-0 packs, cut where the next segment would
 * take a pack beyond PACK_LIMIT (a segment alone that large stays a segment). */
static int pack_segments(plan *pl, int64_t from, int64_t to)
{
	input *in = aw_mem_calloc((size_t)(to - from + 1), sizeof(*in));
	size_t n = 0;
	int64_t bytes = 0;
	int rc = 0;

	for (int64_t g = from; g <= to && !rc; g++) {
		chain_file f = {g, g, false, false};
		input next;
		if ((rc = load_input(pl, NULL, &f, &next))) {
			input_free(&next);
			break;
		}
		if (n && bytes + (int64_t)next.text.len > PACK_LIMIT) {
			rc = close_group(pl, in, n);
			for (size_t i = 0; i < n; i++)
				input_free(&in[i]);
			n = 0;
			bytes = 0;
		}
		in[n++] = next;
		bytes += (int64_t)next.text.len;
	}
	if (!rc)
		rc = close_group(pl, in, n);
	for (size_t i = 0; i < n; i++)
		input_free(&in[i]);
	free(in);
	return rc;
}

/* How many of the newest packs to merge next (0: none). A run is consecutive in
 * generations, not full, and within PACK_LIMIT; normally it is AWS_COMPACT_TIER packs
 * of one level, and a run of that many that would exceed the limit is marked full
 * instead. With force, the longest such run of any levels that fits. */
static size_t next_run(plan *pl, bool force, int *level)
{
	size_t k = 0;
	int64_t bytes = 0;
	int top = -1, want = pl->nw ? pl->w[pl->nw - 1].p.level : 0;

	while (k < pl->nw) {
		const sync_pack *p = &pl->w[pl->nw - 1 - k].p;
		if (p->level == AWS_PACK_LEVEL_FULL || (!force && p->level != want))
			break;
		if (k && p->last + 1 != pl->w[pl->nw - k].p.first)
			break;
		if (force && bytes + p->bytes > PACK_LIMIT)
			break;
		bytes += p->bytes;
		top = p->level > top ? p->level : top;
		if (++k == AWS_COMPACT_TIER && !force)
			break;
	}
	*level = top + 1 < AWS_PACK_LEVEL_FULL ? top + 1 : AWS_PACK_LEVEL_FULL - 1;
	if (force)
		return k >= 2 ? k : 0;
	if (k < AWS_COMPACT_TIER)
		return 0;
	if (bytes > PACK_LIMIT) {
		for (size_t i = 0; i < k; i++)
			pl->w[pl->nw - 1 - i].p.level = AWS_PACK_LEVEL_FULL;
		return SIZE_MAX; /* changed: look again */
	}
	return k;
}

/* Merge the newest k packs of the working list into one of `level`. */
static int merge_tail(plan *pl, size_t k, int level)
{
	size_t base = pl->nw - k;
	input *in = aw_mem_calloc(k, sizeof(*in));
	item it;
	int rc = 0;

	for (size_t i = 0; i < k && !rc; i++) {
		item *src = &pl->w[base + i];
		chain_file f = {src->p.first, src->p.last, true, false};
		rc = load_input(pl, src, &f, &in[i]);
	}
	if (!rc)
		rc = build_pack(pl, in, k, level, &it);
	inputs_free(in, k);
	if (rc)
		return rc;
	for (size_t i = 0; i < k; i++) {
		item *src = &pl->w[base + i];
		if (!src->fresh)
			consume(pl, src->p.last);
		aw_buf_free(&src->plain);
	}
	pl->nw = base;
	append_item(pl, &it);
	return 0;
}

/* ---- moving to a new key epoch ---------------------------------------------------------- */

/* What files newer than the one being rewritten do to a bucket: every event id they
 * name (put or deleted), and whether they delete the bucket. */
typedef struct later {
	char **buckets;
	fbucket *b;          /* recs hold the ids; bucket points into buckets[] */
	bool *reset;
	size_t n, cap;
} later;

static size_t later_bucket(later *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->buckets[i], id))
			return i;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->buckets = aw_mem_realloc(l->buckets, l->cap * sizeof(*l->buckets));
		l->b = aw_mem_realloc(l->b, l->cap * sizeof(*l->b));
		l->reset = aw_mem_realloc(l->reset, l->cap * sizeof(*l->reset));
	}
	l->buckets[l->n] = str_dup(id);
	memset(&l->b[l->n], 0, sizeof(l->b[l->n]));
	l->b[l->n].bucket = l->buckets[l->n];
	l->reset[l->n] = false;
	return l->n++;
}

static void later_free(later *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->buckets[i]);
		free(l->b[i].recs);
		id_index_free(&l->b[i].index);
	}
	free(l->buckets);
	free(l->b);
	free(l->reset);
}

/* Remember what s (newer than every file still to rewrite) names. */
static void later_note(later *l, const sync_segment *s)
{
	for (size_t i = 0; i < s->n_blocks; i++) {
		const sync_block *blk = &s->blocks[i];
		size_t bi = later_bucket(l, blk->bucket);
		fbucket *fb = &l->b[bi];
		if (l->reset[bi])
			continue;
		for (size_t j = 0; j < blk->n_puts; j++)
			fold_rec(fb, blk->puts[j].id, true);
		for (size_t j = 0; j < blk->n_dels; j++)
			fold_rec(fb, blk->dels[j], true);
		if (blk->reset)
			l->reset[bi] = true;
	}
}

/* Drop from s what a newer file of the chain replaces (a put or deletion of the same
 * event, a deletion of the bucket), then remember what s names for the older files.
 * Applying the chain gives the same state as before, from any cursor: an importer
 * applies every file after its cursor, so whatever a later file decides about an
 * event is decided again after the dropped record would have been applied. This is
 * what takes events deleted since they were published (`awnode archive` deletes what
 * it archived) out of the files sealed under the new key. */
static void drop_replaced(sync_segment *s, later *l)
{
	size_t k = 0;

	for (size_t i = 0; i < s->n_blocks; i++) {
		sync_block *blk = &s->blocks[i];
		size_t bi = later_bucket(l, blk->bucket), np = 0;
		fbucket *fb = &l->b[bi];
		if (l->reset[bi]) {
			free(blk->bucket);
			blk->bucket = NULL;
			free(blk->puts);
			free(blk->dels);
			aw_bucket_clear(&blk->meta);
			continue;
		}
		for (size_t j = 0; j < blk->n_puts; j++) {
			if (fold_rec(fb, blk->puts[j].id, false))
				continue;
			blk->puts[np++] = blk->puts[j];
		}
		for (size_t j = 0; j < np; j++)
			fold_rec(fb, blk->puts[j].id, true);
		for (size_t j = 0; j < blk->n_dels; j++)
			fold_rec(fb, blk->dels[j], true);
		blk->n_puts = np;
		if (blk->reset)
			l->reset[bi] = true;
		s->blocks[k++] = *blk;
	}
	s->n_blocks = k;
}

/* Every file of the plan (all packs by now) read, trimmed by drop_replaced and kept
 * as fresh plaintext, newest first, so that plan_output seals each again under the
 * current epoch's key at its own name. Packs keep their header (prev, end, first):
 * the chain's hashes are those of the segments as first written, so no hash changes. */
static int reseal(plan *pl, const sync_segment *next)
{
	later l;
	int rc = 0;

	memset(&l, 0, sizeof(l));
	/* the commit's new segment comes after every file: what it puts or deletes (an
	 * archive run's deletions) replaces what they say */
	if (next)
		later_note(&l, next);
	for (size_t i = pl->nw; i-- > 0 && !rc;) {
		item *it = &pl->w[i];
		chain_file f = {it->p.first, it->p.last, true, false};
		input in;
		if ((rc = load_input(pl, it, &f, &in))) {
			input_free(&in);
			break;
		}
		drop_replaced(&in.seg, &l);
		aw_buf_reset(&it->plain);
		segment_encode(&it->plain, &in.seg);
		it->p.bytes = (int64_t)it->plain.len;
		it->fresh = true;
		input_free(&in);
	}
	later_free(&l);
	return rc;
}

static void plan_free(plan *pl)
{
	for (size_t i = 0; i < pl->nw; i++)
		aw_buf_free(&pl->w[i].plain);
	free(pl->w);
	free(pl->consumed);
}

/* The plan's outcome as files of the commit and the manifest's pack list. */
static int plan_output(plan *pl, compaction *out)
{
	const char *dev = pl->c->y->device_id;
	char name[64];
	int rc;

	out->packs = aw_mem_calloc(pl->nw + 1, sizeof(*out->packs));
	out->sealed = aw_mem_calloc(pl->nw + 1, sizeof(*out->sealed));
	out->write_paths = aw_mem_calloc(pl->nw + 1, sizeof(*out->write_paths));
	out->remove_paths = aw_mem_calloc(pl->nc + 1, sizeof(*out->remove_paths));
	for (size_t i = 0; i < pl->nw; i++) {
		item *it = &pl->w[i];
		out->packs[out->n_packs++] = it->p;
		if (!it->fresh)
			continue;
		segment_name(name, sizeof(name), it->p.last);
		/* a pack's content is not named by any hash of the chain: its signature
		 * is what ties it to this device (docs/sync-format.md §4a) */
		segment_sign(&it->plain, pl->c->sign_sk, pl->c->group.group, dev, name);
		if ((rc = seal_epoch(&out->sealed[out->n_write], pl->c->wkey, dev, name, it->plain.data, it->plain.len)))
			return rc;
		out->write_paths[out->n_write++] = aw_mem_printf("devices/%s/%s", dev, name);
	}
	for (size_t i = 0; i < pl->nc; i++) {
		bool rewritten = false;
		/* (a pack written at a consumed segment's name replaces it) */
		for (size_t k = 0; k < pl->nw && !rewritten; k++)
			rewritten = pl->w[k].fresh && pl->w[k].p.last == pl->consumed[i];
		if (rewritten)
			continue;
		segment_name(name, sizeof(name), pl->consumed[i]);
		out->remove_paths[out->n_remove++] = aw_mem_printf("devices/%s/%s", dev, name);
	}
	out->files_replaced = (int64_t)pl->nc;
	return 0;
}

int compact_plan(sync_ctx *c, const sync_manifest *m, const sync_segment *next, compaction *out)
{
	plan pl;
	int64_t after = m->n_packs ? m->packs[m->n_packs - 1].last : 0;
	int64_t plain = m->last - after;
	int64_t limit = c->y->compact_segments; /* defaulted by aw_sync_open */
	int rc = 0;

	memset(out, 0, sizeof(*out));
	memset(&pl, 0, sizeof(pl));
	pl.c = c;
	pl.min_group = c->reseal ? 1 : 2;
	for (size_t i = 0; i < m->n_packs; i++) {
		item it = {.p = m->packs[i]};
		append_item(&pl, &it);
	}
	/* a move to a new key epoch packs every plain segment and seals every pack again */
	if (c->reseal || plain >= limit || (c->compact && plain >= 2))
		rc = pack_segments(&pl, after + 1, m->last);
	if (c->reseal && !rc)
		rc = reseal(&pl, next);
	while (!rc && !c->reseal) {
		int level;
		size_t k = next_run(&pl, c->compact, &level);
		if (k == SIZE_MAX)
			continue;
		if (!k)
			break;
		rc = merge_tail(&pl, k, level);
	}
	if (!rc)
		rc = plan_output(&pl, out);
	plan_free(&pl);
	if (rc)
		compaction_free(out);
	return rc;
}

void compaction_free(compaction *x)
{
	/* sealed[n_write] may hold a seal that failed half way */
	for (size_t i = 0; x->sealed && i <= x->n_write; i++)
		aw_buf_free(&x->sealed[i]);
	for (size_t i = 0; i < x->n_write; i++)
		free(x->write_paths[i]);
	for (size_t i = 0; i < x->n_remove; i++)
		free(x->remove_paths[i]);
	free(x->sealed);
	free(x->write_paths);
	free(x->remove_paths);
	free(x->packs);
	memset(x, 0, sizeof(*x));
}
