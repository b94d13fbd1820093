/*
 * Read-only connections. Each aw_reader is used by one thread at a time; the node keeps
 * one per worker thread. Reads never take the writer's lock: in WAL mode a reader sees
 * the last commit as of its first statement (or of aw_reader_begin for a multi-call
 * snapshot such as an export).
 *
 * Event data is fetched by interned id through a per-reader cache, so a year of events
 * with ~50k distinct data values costs ~50k lookups, not one per event.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

enum {
	RS_BUCKET_KEY, RS_BUCKET_ROW, RS_BUCKETS, RS_COUNT_EVENTS,
	RS_EVENTS_DESC, RS_EVENTS_ASC, RS_EVENT_GET, RS_DATA, RS_SETTING, RS_SETTINGS,
	RS_SEQ, RS_BEGIN, RS_END, RS_STATE, RS_PUTS, RS_TOMBS, RS_EVENTS_KEY, RS_DATA_RANGE,
	RS_BLK_ASC, RS_BLK_DESC, RS_BLK_ID, RS_BLK_PUTS, RS_BLK_UPPER, RS_N
};

typedef struct data_slot {
	int64_t id; /* 0 = empty (interned ids start at 1) */
	const char *json; /* in the cache's arena, NUL-terminated */
	size_t len;
} data_slot;

/* The cached texts, copied into blocks of TEXT_BLOCK bytes (a longer text gets a block
 * of its own): one allocation per block instead of one per text, freed together. */
typedef struct text_block {
	struct text_block *prev;
	size_t used, cap;
	char b[];
} text_block;

#define TEXT_BLOCK (256u << 10)

struct aw_reader {
	sqlite3 *db;
	sqlite3_stmt *st[RS_N];
	data_slot *cache;
	size_t cap, used, bytes;
	text_block *texts;
	bool in_snapshot;
	blk_buf blk; /* decoded sealed days (blocks.c) */
};

#define DATA_CACHE_MAX_BYTES (32u << 20)

#define RANGE_WHERE "bucket = ?1 AND start >= ?2 AND start <= ?3 AND start + duration >= ?4"
#define SQL_EVENTS_KEY \
	"SELECT id, start, duration, data FROM events WHERE " RANGE_WHERE " ORDER BY start ASC, id ASC LIMIT ?5"
#define SQL_DATA "SELECT json FROM datas WHERE id = ?"
#define SQL_DATA_RANGE "SELECT id, json FROM datas WHERE id BETWEEN ? AND ? ORDER BY id"

static int bucket_key(aw_reader *r, const char *bucket_id, int64_t *rowid, int64_t *max_dur);

/* Parse the schema and prepare the statements of a query's reads now, when the reader
 * opens, rather than in the first request each worker thread serves (about a
 * millisecond: the web UI's first views are answered by threads that have not read
 * yet). Reads nothing of the events; failures are left for the real reads to report
 * (and a message one of them set stays unread). */
static void reader_warm(aw_reader *r)
{
	int64_t rowid, max_dur;
	size_t upper;

	(void)bucket_key(r, "", &rowid, &max_dur);
	(void)db_stmt(r->db, &r->st[RS_EVENTS_KEY], SQL_EVENTS_KEY);
	(void)db_stmt(r->db, &r->st[RS_DATA], SQL_DATA);
	(void)db_stmt(r->db, &r->st[RS_DATA_RANGE], SQL_DATA_RANGE);
	/* an empty range of days: the statements are prepared, no block is read */
	(void)blk_count_upper(r->db, &r->st[RS_BLK_UPPER], 0, 0, -BLK_DAY_NS, &upper);
	(void)blk_scan(r->db, &r->st[RS_BLK_ASC], &r->blk, 0, 0, -BLK_DAY_NS, 0, false, NULL, NULL);
}

int aw_reader_open_path(aw_reader **out, const char *path)
{
	aw_reader *r = aw_mem_calloc(1, sizeof(*r));
	int rc;

	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = aw_error_set(AW_ERROR, "cannot open database %s: %s", path,
				  r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		aw_reader_close(r);
		return rc;
	}
	db_configure(r->db, false, 0);
	reader_warm(r);
	*out = r;
	return 0;
}

sqlite3 *reader_db(aw_reader *r)
{
	return r->db;
}

int aw_reader_open(aw_reader **out, aw_store *s)
{
	return aw_reader_open_path(out, s->path);
}

void aw_reader_trim_cache_if_large(aw_reader *r)
{
	if (r->bytes > DATA_CACHE_MAX_BYTES)
		aw_reader_trim_cache(r);
	/* the decoder holds one day; do not keep an unusually large one per worker */
	if (r->blk.cap * sizeof(*r->blk.v) + r->blk.raw_cap > DATA_CACHE_MAX_BYTES / 8)
		blk_buf_free(&r->blk);
}

void aw_reader_trim_cache(aw_reader *r)
{
	while (r->texts) {
		text_block *prev = r->texts->prev;
		free(r->texts);
		r->texts = prev;
	}
	free(r->cache);
	r->cache = NULL;
	r->cap = r->used = r->bytes = 0;
}

void aw_reader_close(aw_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < RS_N; i++)
		sqlite3_finalize(r->st[i]);
	aw_reader_trim_cache(r);
	blk_buf_free(&r->blk);
	sqlite3_close(r->db);
	free(r);
}

int aw_reader_begin(aw_reader *r)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_BEGIN], "BEGIN");

	if (!st || sqlite3_step(st) != SQLITE_DONE)
		return db_error(r->db, "starting read snapshot");
	r->in_snapshot = true;
	return 0;
}

void aw_reader_end(aw_reader *r)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_END], "COMMIT");

	if (st)
		sqlite3_step(st);
	r->in_snapshot = false;
}

char *col_dup(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return xstrndup((const char *)sqlite3_column_text(st, i), (size_t)sqlite3_column_bytes(st, i));
}

#define BUCKET_COLS \
	"name, type, client, hostname, created, data, last_updated, start, \"end\", remote_device, rowid"

static void bucket_from_row(aw_bucket *b, sqlite3_stmt *st)
{
	memset(b, 0, sizeof(*b));
	b->id = col_dup(st, 0);
	b->type = col_dup(st, 1);
	b->client = col_dup(st, 2);
	b->hostname = col_dup(st, 3);
	b->created = sqlite3_column_int64(st, 4);
	b->data = col_dup(st, 5);
	b->last_updated = col_dup(st, 6);
	b->has_range = sqlite3_column_type(st, 7) != SQLITE_NULL;
	b->start = sqlite3_column_int64(st, 7);
	b->end = sqlite3_column_int64(st, 8);
	b->remote_device = col_dup(st, 9);
}

static int count_rows(aw_reader *r, int64_t rowid, aw_ns start, aw_ns end, int64_t max_dur,
		      int64_t *out);

/* Step the cached statement `slot` (prepared from sql on first use), whose one parameter
 * is the text key, to its only row. 0: the row is readable until the caller resets *out.
 * Otherwise the statement is reset and the result is AW_ENOTFOUND (no row; the caller
 * says what was missing) or AW_ERROR (message set, `what` failed). */
static int row_by_name(sqlite3_stmt **out, aw_reader *r, int slot, const char *sql, const char *key,
		       const char *what)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[slot], sql);
	int rc;

	if (!st)
		return AW_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = st;
		return 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? AW_ENOTFOUND : db_error(r->db, what);
}

static int no_bucket(const char *bucket_id)
{
	return aw_error_set(AW_ENOTFOUND, "The requested bucket '%s' does not exist", bucket_id);
}

int aw_reader_buckets(aw_bucket **out, size_t *n, aw_reader *r, unsigned flags)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_BUCKETS],
				      "SELECT " BUCKET_COLS " FROM buckets ORDER BY name");
	aw_bucket *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (!st)
		return AW_ERROR;
	/* Counting while the list is still being stepped keeps both in one read
	 * transaction: the counts belong to the same snapshot as the buckets. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = aw_mem_grow(v, cnt, &cap, sizeof(*v), 16);
		bucket_from_row(&v[cnt++], st);
		if ((flags & AW_READ_COUNTS) &&
		    count_rows(r, sqlite3_column_int64(st, 10), AW_NS_MIN, AW_NS_MAX, AW_NS_MAX,
			       &v[cnt - 1].event_count))
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		/* still on a row: count_rows failed and said why */
		rc = rc == SQLITE_ROW ? AW_ERROR : db_error(r->db, "listing buckets");
		aw_buckets_free(v, cnt);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

int aw_reader_bucket(aw_bucket *out, aw_reader *r, const char *bucket_id)
{
	sqlite3_stmt *st;
	int rc = row_by_name(&st, r, RS_BUCKET_ROW, "SELECT " BUCKET_COLS " FROM buckets WHERE name = ?",
			     bucket_id, "reading bucket");

	if (rc)
		return rc == AW_ENOTFOUND ? no_bucket(bucket_id) : rc;
	bucket_from_row(out, st);
	sqlite3_reset(st);
	return 0;
}

/* rowid and max_duration of a bucket by name. */
static int bucket_key(aw_reader *r, const char *bucket_id, int64_t *rowid, int64_t *max_dur)
{
	sqlite3_stmt *st;
	int rc = row_by_name(&st, r, RS_BUCKET_KEY, "SELECT rowid, max_duration FROM buckets WHERE name = ?",
			     bucket_id, "reading bucket");

	if (rc)
		return rc == AW_ENOTFOUND ? no_bucket(bucket_id) : rc;
	*rowid = sqlite3_column_int64(st, 0);
	*max_dur = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return 0;
}

/* Events overlapping [start, end] satisfy start_col <= end and start_col + duration >=
 * start. Since duration <= max_dur, also start_col >= start - max_dur: that lower bound
 * turns the overlap test into a bounded primary-key range scan. */
static void bind_range(sqlite3_stmt *st, int64_t rowid, aw_ns start, aw_ns end, int64_t max_dur)
{
	sqlite3_bind_int64(st, 1, rowid);
	sqlite3_bind_int64(st, 2, aw_ns_sub_sat(start, max_dur > 0 ? max_dur : 0));
	sqlite3_bind_int64(st, 3, end);
	sqlite3_bind_int64(st, 4, start);
}


static int count_sealed(void *ctx, const blk_event *v, size_t n)
{
	(void)v;
	*(int64_t *)ctx += (int64_t)n;
	return 0;
}

static int count_rows(aw_reader *r, int64_t rowid, aw_ns start, aw_ns end, int64_t max_dur,
		      int64_t *out)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_COUNT_EVENTS],
				      "SELECT count(*) FROM events WHERE " RANGE_WHERE);
	int rc;

	if (!st)
		return AW_ERROR;
	bind_range(st, rowid, start, end, max_dur);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return db_error(r->db, "counting events");
	return blk_scan(r->db, &r->st[RS_BLK_ASC], &r->blk, rowid, aw_ns_sub_sat(start, max_dur > 0 ? max_dur : 0), end,
			start, false, count_sealed, out);
}

int aw_reader_event_count(int64_t *out, aw_reader *r, const char *bucket_id, aw_ns start, aw_ns end)
{
	int64_t rowid = 0, max_dur = 0;
	int rc = bucket_key(r, bucket_id, &rowid, &max_dur);

	if (rc)
		return rc;
	if (start >= end) {
		*out = 0;
		return 0;
	}
	return count_rows(r, rowid, start, end, max_dur, out);
}

/* The orders of aw_reader_event_rows (the SQL's ORDER BY clauses). */
static int cmp_key(const aw_event_row *a, const aw_event_row *b)
{
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

static int cmp_asc(const void *pa, const void *pb)
{
	const aw_event_row *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->duration != b->duration)
		return a->duration > b->duration ? -1 : 1;
	return (a->id < b->id) - (a->id > b->id);
}

static int cmp_desc(const void *pa, const void *pb)
{
	return -cmp_asc(pa, pb);
}

/* Where merge_sealed collects the sealed events: v[base ..] (v[0 .. base) is left free
 * for the merge), at most `limit` of them (0: all) plus the rest of the last day. */
typedef struct sealed_acc {
	aw_event_row *v;
	size_t base, n, cap, limit;
} sealed_acc;

static int take_sealed(void *ctx, const blk_event *e, size_t n)
{
	sealed_acc *a = ctx;

	if (a->base + a->n + n > a->cap) { /* only under a limit: the blocks' counts bound it otherwise */
		a->cap = (a->base + a->n + n) * 2;
		a->v = aw_mem_realloc(a->v, a->cap * sizeof(*a->v));
	}
	for (size_t x = 0; x < n; x++)
		a->v[a->base + a->n++] =
			(aw_event_row){.id = e[x].id, .start = e[x].start, .duration = e[x].duration, .data_id = e[x].data};
	return a->limit && a->n >= a->limit;
}

/* Add the sealed events overlapping [start, end] to the rows read from `events`
 * (*v, already in the requested order and limit) in the same order, then apply the
 * limit to the whole. A day is either rows or one block, never both, so the two lists
 * hold different events. The query engine's path (key order, no limit) is one merge
 * of two sorted lists.
 *
 * Memory: a year of a bucket is ~150k sealed events. They are decoded a day at a time
 * straight into the tail of the one array that is returned, sized from the blocks'
 * counts, and the rows are merged into its front: writing element i + j never passes
 * reading sealed element cnt + j, so no second copy of either list is needed. */
static int merge_sealed(aw_reader *r, aw_event_row **v, size_t *cnt, int64_t rowid, aw_ns start, aw_ns end,
			int64_t max_dur, int64_t limit, unsigned flags)
{
	bool key = flags & AW_EVENTS_KEY_ORDER, asc = key || (flags & AW_EVENTS_ASCENDING);
	int (*cmp)(const void *, const void *) = key ? NULL : asc ? cmp_asc : cmp_desc;
	aw_ns lo = aw_ns_sub_sat(start, max_dur > 0 ? max_dur : 0);
	sealed_acc a = {.base = *cnt, .limit = limit > 0 ? (size_t)limit : 0};
	size_t upper, k, i = 0, j = 0, n = 0, total;
	aw_event_row *all;

	/* With a limit, the days walked in the output's direction stop early: size for the
	 * limit, up to a few days' worth (take_sealed grows past it), and do not count the
	 * whole range, which reads every block's row of it (the newest 100 of years). */
	if (a.limit) {
		upper = a.limit < 4096 ? a.limit : 4096;
	} else {
		if (blk_count_upper(r->db, &r->st[RS_BLK_UPPER], rowid, lo, end, &upper))
			return AW_ERROR;
		if (!upper)
			return 0;
	}
	a.cap = *cnt + upper;
	a.v = aw_mem_malloc(a.cap * sizeof(*a.v));
	aw_mem_advise_huge(a.v, a.cap * sizeof(*a.v));
	/* Days hold disjoint start ranges, so walking days in the output's direction, the
	 * first `limit` events found are the only ones that can make the cut. */
	if (blk_scan(r->db, &r->st[RS_BLK_ASC], &r->blk, rowid, lo, end, start, !asc, take_sealed, &a)) {
		free(a.v);
		return AW_ERROR;
	}
	k = a.n;
	all = a.v;
	if (!k) {
		free(all);
		return 0;
	}
	if (cmp)
		qsort(all + *cnt, k, sizeof(*all), cmp);
	total = *cnt + k;
	if (limit >= 0 && (size_t)limit < total)
		total = (size_t)limit;
	while (n < total) {
		bool take_row;
		if (i == *cnt)
			take_row = false;
		else if (j == k)
			take_row = true;
		else
			take_row = (cmp ? cmp(&(*v)[i], &all[*cnt + j]) : cmp_key(&(*v)[i], &all[*cnt + j])) <= 0;
		if (take_row)
			all[n++] = (*v)[i++];
		else
			all[n++] = all[*cnt + j++];
	}
	/* a limit, or events of the edge days outside the range, left room unused */
	if (a.cap - n > n / 8)
		all = aw_mem_realloc(all, (n ? n : 1) * sizeof(*all));
	free(*v);
	*v = all;
	*cnt = n;
	return 0;
}

int aw_reader_event_rows(aw_event_row **out, size_t *n, aw_reader *r, const char *bucket_id,
			 aw_ns start, aw_ns end, int64_t limit, unsigned flags)
{
	bool asc = flags & AW_EVENTS_ASCENDING;
	sqlite3_stmt *st;
	aw_event_row *v = NULL;
	size_t cnt = 0, cap = 0;
	int64_t rowid = 0, max_dur = 0;
	int rc = bucket_key(r, bucket_id, &rowid, &max_dur);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	if (start > end || limit == 0)
		return 0;
	st = (flags & AW_EVENTS_KEY_ORDER)
		     ? db_stmt(r->db, &r->st[RS_EVENTS_KEY], SQL_EVENTS_KEY)
	     : asc ? db_stmt(r->db, &r->st[RS_EVENTS_ASC],
			      "SELECT id, start, duration, data FROM events WHERE " RANGE_WHERE
			      " ORDER BY start ASC, duration DESC, id DESC LIMIT ?5")
		 : db_stmt(r->db, &r->st[RS_EVENTS_DESC],
			      "SELECT id, start, duration, data FROM events WHERE " RANGE_WHERE
			      " ORDER BY start DESC, duration ASC, id ASC LIMIT ?5");
	if (!st)
		return AW_ERROR;
	bind_range(st, rowid, start, end, max_dur);
	sqlite3_bind_int64(st, 5, limit < 0 ? -1 : limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		aw_event_row *e;
		v = aw_mem_grow(v, cnt, &cap, sizeof(*v), 256);
		e = &v[cnt++];
		e->id = sqlite3_column_int64(st, 0);
		e->start = sqlite3_column_int64(st, 1);
		e->duration = sqlite3_column_int64(st, 2);
		e->data_id = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return db_error(r->db, "reading events");
	}
	if (merge_sealed(r, &v, &cnt, rowid, start, end, max_dur, limit, flags)) {
		free(v);
		return AW_ERROR;
	}
	if (flags & AW_EVENTS_CLIP) {
		for (size_t i = 0; i < cnt; i++) {
			aw_event_row *e = &v[i];
			aw_ns s0 = e->start > start ? e->start : start;
			aw_ns e0 = e->start + e->duration < end ? e->start + e->duration : end;
			e->start = s0;
			e->duration = e0 - s0;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

static inline size_t cache_home(const aw_reader *r, int64_t id)
{
	return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 7) & (r->cap - 1);
}

static data_slot *cache_slot(aw_reader *r, int64_t id)
{
	size_t i;

	if (!r->cap)
		return NULL;
	for (i = cache_home(r, id); r->cache[i].id;
	     i = (i + 1) & (r->cap - 1))
		if (r->cache[i].id == id)
			return &r->cache[i];
	return &r->cache[i];
}

/* Room for `more` entries beyond those cached, at the load factor cache_put keeps. */
static void cache_reserve(aw_reader *r, size_t more)
{
	data_slot *old = r->cache;
	size_t old_cap = r->cap, cap = old_cap ? old_cap : 1024;

	while ((r->used + more) * 10 >= cap * 7)
		cap *= 2;
	if (cap == old_cap)
		return;
	r->cap = cap;
	/* zeros written rather than calloc's: the slots are read before they are written,
	 * and a fresh page read first faults twice */
	r->cache = aw_mem_malloc(r->cap * sizeof(*r->cache));
	aw_mem_advise_huge(r->cache, r->cap * sizeof(*r->cache));
	memset(r->cache, 0, r->cap * sizeof(*r->cache));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].id)
			*cache_slot(r, old[i].id) = old[i];
	free(old);
}

static const char *text_copy(aw_reader *r, const char *s, size_t len)
{
	text_block *t = r->texts;
	char *p;

	if (!t || t->cap - t->used < len + 1) {
		size_t cap = len + 1 > TEXT_BLOCK / 4 ? len + 1 : TEXT_BLOCK - sizeof(*t);
		t = aw_mem_malloc(sizeof(*t) + cap);
		t->used = 0;
		t->cap = cap;
		if (len + 1 > TEXT_BLOCK / 4 && r->texts) {
			/* behind the current block, which keeps filling */
			t->prev = r->texts->prev;
			r->texts->prev = t;
		} else {
			t->prev = r->texts;
			r->texts = t;
		}
	}
	p = t->b + t->used;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	t->used += len + 1;
	return p;
}

/* Cache the text of the current row's column `col` under id, in `slot` (id's free slot
 * as cache_slot found it, or NULL when that look-up came before a cache_reserve). */
static data_slot *cache_put(aw_reader *r, data_slot *slot, int64_t id, sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);

	if (!slot || (r->used + 1) * 10 >= r->cap * 7) {
		cache_reserve(r, 1);
		slot = cache_slot(r, id);
	}
	slot->id = id;
	slot->len = len;
	slot->json = text_copy(r, text ? text : "", len);
	r->used++;
	r->bytes += slot->len + 1 + sizeof(*slot);
	return slot;
}

int aw_reader_data(const char **json, size_t *len, aw_reader *r, int64_t data_id)
{
	data_slot *slot = cache_slot(r, data_id);
	sqlite3_stmt *st;
	int rc;

	if (slot && slot->id == data_id) {
		*json = slot->json;
		*len = slot->len;
		return 0;
	}
	st = db_stmt(r->db, &r->st[RS_DATA], SQL_DATA);
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, data_id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? aw_error_set(AW_ENOTFOUND, "data %lld missing", (long long)data_id)
					 : db_error(r->db, "reading event data");
	}
	slot = cache_put(r, slot, data_id, st, 0);
	sqlite3_reset(st);
	*json = slot->json;
	*len = slot->len;
	return 0;
}

int aw_reader_event_get(aw_event *out, aw_reader *r, const char *bucket_id, int64_t id)
{
	sqlite3_stmt *st;
	int64_t rowid = 0, max_dur = 0, data_id;
	const char *json;
	size_t len;
	int rc = bucket_key(r, bucket_id, &rowid, &max_dur);

	if (rc)
		return rc;
	st = db_stmt(r->db, &r->st[RS_EVENT_GET],
			"SELECT start, duration, data FROM events WHERE id = ? AND bucket = ?");
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, rowid);
	rc = sqlite3_step(st);
	memset(out, 0, sizeof(*out));
	if (rc == SQLITE_ROW) {
		out->start = sqlite3_column_int64(st, 0);
		out->duration = sqlite3_column_int64(st, 1);
		data_id = sqlite3_column_int64(st, 2);
		sqlite3_reset(st);
	} else {
		blk_event e;
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return db_error(r->db, "reading event");
		rc = blk_find_id(r->db, &r->st[RS_BLK_ID], &r->blk, rowid, id, NULL, NULL, &e);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return aw_error_set(AW_ENOTFOUND, "There's no event with id %lld in bucket %s", (long long)id,
					    bucket_id);
		out->start = e.start;
		out->duration = e.duration;
		data_id = e.data;
	}
	out->id = id;
	out->has_id = true;
	if ((rc = aw_reader_data(&json, &len, r, data_id)) != 0)
		return rc;
	out->data = xstrndup(json, len);
	out->data_len = len;
	return 0;
}

/* One text value by key from a key/value table (settings, state). */
static int read_keyed(char **out, aw_reader *r, int slot, const char *sql, const char *key, const char *what)
{
	sqlite3_stmt *st;
	int rc = row_by_name(&st, r, slot, sql, key, "reading a stored value");

	if (rc)
		return rc == AW_ENOTFOUND ? aw_error_set(AW_ENOTFOUND, "no %s '%s'", what, key) : rc;
	*out = col_dup(st, 0);
	sqlite3_reset(st);
	return 0;
}

int aw_reader_setting(char **out, aw_reader *r, const char *key)
{
	return read_keyed(out, r, RS_SETTING, "SELECT value FROM settings WHERE key = ?", key, "setting");
}

int aw_reader_settings(char ***keys, char ***values, size_t *n, aw_reader *r)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_SETTINGS], "SELECT key, value FROM settings ORDER BY key");
	size_t cnt = 0, kcap = 0, vcap = 0;
	char **k = NULL, **v = NULL;
	int rc;

	if (!st)
		return AW_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k = aw_mem_grow(k, cnt, &kcap, sizeof(*k), 16);
		v = aw_mem_grow(v, cnt, &vcap, sizeof(*v), 16);
		k[cnt] = col_dup(st, 0);
		v[cnt] = col_dup(st, 1);
		cnt++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		aw_strings_free(k, cnt);
		aw_strings_free(v, cnt);
		return db_error(r->db, "reading settings");
	}
	*keys = k;
	*values = v;
	*n = cnt;
	return 0;
}

int aw_reader_last_seq(int64_t *out, aw_reader *r)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_SEQ], "SELECT value FROM meta WHERE key = 'seq'");
	int rc;

	if (!st)
		return AW_ERROR;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_error(r->db, "reading change sequence");
}

int aw_reader_state(char **out, aw_reader *r, const char *key)
{
	return read_keyed(out, r, RS_STATE, "SELECT value FROM state WHERE key = ?", key, "state");
}

/* A sealed event of the change feed, with the index of its bucket's name. */
typedef struct sealed_put {
	blk_event e;
	size_t name;
} sealed_put;

static int cmp_put_seq(const void *pa, const void *pb)
{
	const sealed_put *a = pa, *b = pb;

	return (a->e.seq > b->e.seq) - (a->e.seq < b->e.seq);
}

/* The sealed events of local buckets with seq > since, ordered by seq. Blocks keep
 * their max_seq, so a feed from a recent cursor decodes no block. */
static int sealed_puts(aw_reader *r, int64_t since, sealed_put **out, size_t *n, char ***names, size_t *n_names)
{
	sqlite3_stmt *st = db_stmt(r->db, &r->st[RS_BLK_PUTS],
				   "SELECT b.name, k.first_start, k.body FROM blocks k JOIN buckets b ON b.rowid = k.bucket "
				   "WHERE k.max_seq > ?1 AND b.remote_device IS NULL ORDER BY k.bucket");
	size_t cap = 0, ncap = 0;
	int rc;

	*out = NULL;
	*n = *n_names = 0;
	*names = NULL;
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (!*n_names || strcmp((*names)[*n_names - 1], name)) {
			*names = aw_mem_grow(*names, *n_names, &ncap, sizeof(**names), 8);
			(*names)[(*n_names)++] = xstrdup(name);
		}
		r->blk.n = 0;
		if (blk_decode(&r->blk, sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2),
			       sqlite3_column_int64(st, 1))) {
			sqlite3_reset(st);
			return AW_ERROR;
		}
		for (size_t i = 0; i < r->blk.n; i++) {
			if (r->blk.v[i].seq <= since)
				continue;
			*out = aw_mem_grow(*out, *n, &cap, sizeof(**out), 256);
			(*out)[(*n)++] = (sealed_put){.e = r->blk.v[i], .name = *n_names - 1};
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(r->db, "reading changes");
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_put_seq);
	return 0;
}

/* Two seq-ordered streams (current events of local buckets, tombstones) merged by seq.
 * Event rows carry the seq of their last write, so an event written several times since
 * `since` appears once, in its current state, at its latest seq. */
int aw_reader_changes(aw_reader *r, int64_t since, int (*cb)(void *ctx, const aw_change *c), void *ctx)
{
	sqlite3_stmt *puts = db_stmt(r->db, &r->st[RS_PUTS],
					"SELECT e.seq, b.name, e.id, e.start, e.duration, e.data FROM events e "
					"JOIN buckets b ON b.rowid = e.bucket "
					"WHERE e.seq > ?1 AND b.remote_device IS NULL ORDER BY e.seq");
	sqlite3_stmt *tombs;
	sealed_put *sp = NULL;
	char **names = NULL;
	size_t n_sp = 0, n_names = 0, k = 0;
	int prc, trc, rc = 0;

	if (!puts)
		return AW_ERROR;
	sqlite3_bind_int64(puts, 1, since);
	if (sealed_puts(r, since, &sp, &n_sp, &names, &n_names)) {
		sqlite3_reset(puts);
		free(sp);
		aw_strings_free(names, n_names);
		return AW_ERROR;
	}
	tombs = db_stmt(r->db, &r->st[RS_TOMBS],
			   "SELECT seq, bucket, event_id FROM tombstones WHERE seq > ?1 ORDER BY seq");
	if (!tombs) {
		sqlite3_reset(puts);
		free(sp);
		aw_strings_free(names, n_names);
		return AW_ERROR;
	}
	sqlite3_bind_int64(tombs, 1, since);
	prc = sqlite3_step(puts);
	trc = sqlite3_step(tombs);
	while (!rc && (prc == SQLITE_ROW || trc == SQLITE_ROW || k < n_sp)) {
		aw_change c;
		int64_t pseq = prc == SQLITE_ROW ? sqlite3_column_int64(puts, 0) : INT64_MAX;
		int64_t tseq = trc == SQLITE_ROW ? sqlite3_column_int64(tombs, 0) : INT64_MAX;
		int64_t sseq = k < n_sp ? sp[k].e.seq : INT64_MAX;
		bool take_put = prc == SQLITE_ROW && pseq < tseq && pseq < sseq;

		memset(&c, 0, sizeof(c));
		if (k < n_sp && sseq < pseq && sseq < tseq) {
			const char *data;
			size_t len;
			c.seq = sseq;
			c.bucket_id = names[sp[k].name];
			c.kind = AW_CHANGE_PUT;
			c.event_id = sp[k].e.id;
			c.start = sp[k].e.start;
			c.duration = sp[k].e.duration;
			if ((rc = aw_reader_data(&data, &len, r, sp[k].e.data)))
				break;
			c.data = data;
			c.data_len = len;
			rc = cb(ctx, &c);
			k++;
		} else if (take_put) {
			const char *data;
			size_t len;
			c.seq = sqlite3_column_int64(puts, 0);
			c.bucket_id = (const char *)sqlite3_column_text(puts, 1);
			c.kind = AW_CHANGE_PUT;
			c.event_id = sqlite3_column_int64(puts, 2);
			c.start = sqlite3_column_int64(puts, 3);
			c.duration = sqlite3_column_int64(puts, 4);
			if ((rc = aw_reader_data(&data, &len, r, sqlite3_column_int64(puts, 5))))
				break;
			c.data = data;
			c.data_len = len;
			rc = cb(ctx, &c);
			prc = sqlite3_step(puts);
		} else {
			c.seq = sqlite3_column_int64(tombs, 0);
			c.bucket_id = (const char *)sqlite3_column_text(tombs, 1);
			if (sqlite3_column_type(tombs, 2) == SQLITE_NULL) {
				c.kind = AW_CHANGE_BUCKET_DEL;
			} else {
				c.kind = AW_CHANGE_DEL;
				c.event_id = sqlite3_column_int64(tombs, 2);
			}
			rc = cb(ctx, &c);
			trc = sqlite3_step(tombs);
		}
	}
	if (!rc && ((prc != SQLITE_ROW && prc != SQLITE_DONE) || (trc != SQLITE_ROW && trc != SQLITE_DONE)))
		rc = db_error(r->db, "reading changes");
	sqlite3_reset(puts);
	sqlite3_reset(tombs);
	free(sp);
	aw_strings_free(names, n_names);
	return rc;
}

#define PREFETCH_AHEAD 8

/*
 * A range scan of more missing ids than this gives their texts to the caller without
 * entering them in the cache's table (the texts are kept as long as cached ones). Only
 * a long job asks for that many at once, a year's query (21,000 window values, 28,000
 * web values), and the node drops a long job's cache after it (docs/storage.md,
 * "Threads"): its table, 3 MB zeroed for a year, was filled only to be thrown away. A
 * month's ~5,000 values are still cached for the short jobs after it.
 */
#define PREFETCH_UNCACHED_MIN 16384

int aw_reader_data_prefetch(aw_reader *r, const int64_t *ids, size_t n, const char **json, size_t *len)
{
	sqlite3_stmt *st;
	size_t i = 0, k;
	bool keep;
	int rc;

	if (n == 0)
		return 0;
	if (json)
		for (k = 0; k < n; k++)
			json[k] = NULL;
	/* Texts the cache holds already (a short job keeps it for the next: the web UI
	 * asks for the same day again and again) need no SQL: read only the span of the
	 * missing ones. */
	if (r->used) {
		size_t lo = n, hi = 0;
		for (k = 0; k < n; k++) {
			data_slot *slot;
			if (k + PREFETCH_AHEAD < n)
				__builtin_prefetch(&r->cache[cache_home(r, ids[k + PREFETCH_AHEAD])]);
			slot = cache_slot(r, ids[k]);
			if (slot->id != ids[k]) {
				if (lo == n)
					lo = k;
				hi = k;
			} else if (json) {
				json[k] = slot->json;
				len[k] = slot->len;
			}
		}
		if (lo == n)
			return 0;
		ids += lo;
		n = hi - lo + 1;
		if (json) {
			json += lo;
			len += lo;
		}
	}
	/* Sparse ids would make the range scan read mostly unwanted rows. */
	if ((uint64_t)(ids[n - 1] - ids[0]) > (uint64_t)n * 4) {
		for (k = 0; k < n; k++) {
			const char *j;
			size_t l;
			if (json && json[k])
				continue;
			if ((rc = aw_reader_data(&j, &l, r, ids[k])))
				return rc;
			if (json) {
				json[k] = j;
				len[k] = l;
			}
		}
		return 0;
	}
	keep = !json || n <= PREFETCH_UNCACHED_MIN;
	if (keep) {
		cache_reserve(r, n);
		for (k = 0; k < n && k < PREFETCH_AHEAD; k++)
			__builtin_prefetch(&r->cache[cache_home(r, ids[k])], 1);
	}
	st = db_stmt(r->db, &r->st[RS_DATA_RANGE], SQL_DATA_RANGE);
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, ids[0]);
	sqlite3_bind_int64(st, 2, ids[n - 1]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		data_slot *slot;
		while (i < n && ids[i] < id)
			i++;
		if (i == n)
			break;
		if (ids[i] != id)
			continue;
		if (!keep) {
			const char *text = (const char *)sqlite3_column_text(st, 1);
			len[i] = (size_t)sqlite3_column_bytes(st, 1);
			json[i] = text_copy(r, text ? text : "", len[i]);
			r->bytes += len[i] + 1;
			continue;
		}
		/* the slots are scattered over the table: ask for a later id's while SQLite
		 * reads the rows up to it */
		if (i + PREFETCH_AHEAD < n)
			__builtin_prefetch(&r->cache[cache_home(r, ids[i + PREFETCH_AHEAD])], 1);
		slot = cache_slot(r, id);
		if (slot->id != id)
			slot = cache_put(r, slot, id, st, 1);
		if (json) {
			json[i] = slot->json;
			len[i] = slot->len;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_error(r->db, "reading event data");
	/* ids the scan did not find: the look-up reports them */
	if (json)
		for (k = 0; k < n; k++)
			if (!json[k] && (rc = aw_reader_data(&json[k], &len[k], r, ids[k])))
				return rc;
	return 0;
}
