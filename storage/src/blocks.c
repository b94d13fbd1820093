/*
 * Sealed days: the events of one bucket's closed day packed into one compressed row of
 * `blocks` (docs/storage.md, "Sealed days").
 *
 * A year of window and AFK events is ~280k rows; as rows of `events` plus the unique
 * index on id they cost ~57 bytes each on disk. Closed days never change in normal
 * use (heartbeats extend the last event, clients insert into the present), so each
 * closed day of a bucket becomes one row: the day's events column by column as
 * varints, compressed with zstd. The recent tail stays as rows, where writes go.
 *
 * Invariants:
 *   - for a (bucket, day) the events are either all rows of `events` or all in the one
 *     row of `blocks`, never both; day = floor(start / 86400 s);
 *   - an event keeps its id, start, duration, data id and seq through sealing and
 *     unsealing: neither is a change (no new seq, no tombstone);
 *   - a block's first_start/last_start/max_end/min_id/max_id/max_seq describe its
 *     events exactly (the readers and the change feed select blocks by them);
 *   - ids stay unique across rows and blocks: every write that gives an event an id
 *     that may exist (replace by id) first removes that id wherever it is.
 * Any write touching an event of a sealed day unseals the day (writes it back as rows)
 * in the same transaction and then runs the ordinary SQL; the writer seals again when
 * idle (blocks_seal_some).
 *
 * Body format (before zstd): varint format (1), varint n, varint unit, then n zigzag
 * gaps / unit (start minus the previous event's end, the first from first_start), n
 * zigzag durations / unit, n zigzag id deltas, n data ids, n zigzag seq deltas. `unit` is the largest common
 * divisor of the start offsets and durations (watchers send milli- or microseconds,
 * so that drops 3 to 6 decimal digits per number before compression).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "aw/mem.h"
#include "internal.h"

#define BLK_FORMAT 1
/* Measured on a generated year (1,092 days of three buckets): level 9 gave the smallest
 * bodies (2.08 MB; 19 gave 2.09 MB, 3 gave 2.10 MB: a day is a few kilobytes, too small
 * for the slow levels' larger search to find more) and sealed the year ~0.5 s faster. */
#define BLK_ZSTD_LEVEL 9
#define BLK_MAX_RAW ((size_t)256 << 20)

int64_t blk_day(aw_ns t)
{
	int64_t d = t / BLK_DAY_NS;

	return (t % BLK_DAY_NS < 0) ? d - 1 : d;
}

static aw_ns clamp128(__int128 v)
{
	return v < (__int128)AW_NS_MIN ? AW_NS_MIN : v > (__int128)AW_NS_MAX ? AW_NS_MAX : (aw_ns)v;
}

aw_ns blk_day_lo(int64_t day)
{
	return clamp128((__int128)day * BLK_DAY_NS);
}

aw_ns blk_day_hi(int64_t day)
{
	return clamp128((__int128)day * BLK_DAY_NS + BLK_DAY_NS - 1);
}

/* ---- varints ------------------------------------------------------------------------ */

static uint8_t *put_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint64_t zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Read one varint; false when the text ends inside it or it is too long. */
static inline bool get_uv(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (int shift = 0; p < end && shift < 70; shift += 7) {
		uint8_t c = *p++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*pp = p;
			*out = v;
			return true;
		}
	}
	return false;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* ---- encode / decode ------------------------------------------------------------- */

int blk_encode(blk_buf *b, const blk_event *v, size_t n, void **body, size_t *len)
{
	uint8_t *raw, *p;
	uint64_t unit = 0;
	int64_t prev;
	size_t bound, clen;
	void *out;
	bool huge = false;

	/* the decoder's scratch holds the varints: v is never in it */
	if (20 + n * 50 > b->raw_cap) {
		free(b->raw);
		b->raw_cap = 20 + n * 50;
		b->raw = aw_mem_malloc(b->raw_cap);
	}
	raw = p = b->raw;
	/* one context for every day sealed: creating one costs more than a day's compression */
	if (!b->cctx) {
		b->cctx = ZSTD_createCCtx();
		/* the checksum (4 bytes) makes a damaged block an error instead of wrong events */
		if (b->cctx && (ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, BLK_ZSTD_LEVEL)) ||
				ZSTD_isError(ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 1)))) {
			ZSTD_freeCCtx(b->cctx);
			b->cctx = NULL;
		}
		if (!b->cctx)
			return aw_error_set(AW_ERROR, "%s", "compressing a sealed day: no compression context");
	}

	for (size_t i = 0; i < n; i++) {
		uint64_t d = v[i].duration < 0 ? -(uint64_t)v[i].duration : (uint64_t)v[i].duration;
		unit = gcd(unit, (uint64_t)v[i].start - (uint64_t)v[0].start);
		unit = gcd(unit, d);
		huge |= d >= ((uint64_t)1 << 61);
	}
	/* with a huge duration a gap may wrap around: keep every number whole */
	if (unit == 0 || unit > ((uint64_t)1 << 40) || huge)
		unit = 1;
	p = put_uv(p, BLK_FORMAT);
	p = put_uv(p, n);
	p = put_uv(p, unit);
	/* the gap from the previous event's end: 0 for back-to-back window events */
	for (size_t i = 0; i < n; i++) {
		uint64_t prev_end = i ? (uint64_t)v[i - 1].start + (uint64_t)v[i - 1].duration : (uint64_t)v[0].start;
		p = put_uv(p, zz((int64_t)((uint64_t)v[i].start - prev_end) / (int64_t)unit));
	}
	for (size_t i = 0; i < n; i++)
		p = put_uv(p, zz(v[i].duration / (int64_t)unit));
	prev = 0;
	for (size_t i = 0; i < n; i++) {
		p = put_uv(p, zz((int64_t)((uint64_t)v[i].id - (uint64_t)prev)));
		prev = v[i].id;
	}
	for (size_t i = 0; i < n; i++)
		p = put_uv(p, (uint64_t)v[i].data);
	prev = 0;
	for (size_t i = 0; i < n; i++) {
		p = put_uv(p, zz((int64_t)((uint64_t)v[i].seq - (uint64_t)prev)));
		prev = v[i].seq;
	}
	bound = ZSTD_compressBound((size_t)(p - raw));
	out = aw_mem_malloc(bound);
	clen = ZSTD_compress2(b->cctx, out, bound, raw, (size_t)(p - raw));
	if (ZSTD_isError(clen)) {
		/* a failed frame leaves the context mid-frame: start the next one afresh */
		ZSTD_CCtx_reset(b->cctx, ZSTD_reset_session_only);
		free(out);
		return aw_error_set(AW_ERROR, "compressing a sealed day: %s", ZSTD_getErrorName(clen));
	}
	*body = out;
	*len = clen;
	return 0;
}

void blk_buf_free(blk_buf *b)
{
	free(b->v);
	free(b->raw);
	ZSTD_freeDCtx(b->dctx);
	ZSTD_freeCCtx(b->cctx);
	memset(b, 0, sizeof(*b));
}

static int corrupt(void)
{
	return aw_error_set(AW_ERROR, "%s", "a sealed day of the database is corrupt");
}

int blk_decode(blk_buf *b, const void *body, size_t len, aw_ns first_start)
{
	unsigned long long raw_len = ZSTD_getFrameContentSize(body, len);
	const uint8_t *p, *end;
	uint64_t fmt, n, unit, u;
	blk_event *v;
	int64_t prev;
	size_t got;

	if (raw_len == ZSTD_CONTENTSIZE_ERROR || raw_len == ZSTD_CONTENTSIZE_UNKNOWN || raw_len > BLK_MAX_RAW)
		return corrupt();
	if (raw_len > b->raw_cap) {
		free(b->raw);
		b->raw_cap = raw_len + raw_len / 2 + 64;
		b->raw = aw_mem_malloc(b->raw_cap);
	}
	if (!b->dctx)
		b->dctx = ZSTD_createDCtx();
	got = ZSTD_decompressDCtx(b->dctx, b->raw, b->raw_cap, body, len);
	if (ZSTD_isError(got) || got != raw_len)
		return corrupt();
	p = b->raw;
	end = p + got;
	if (!get_uv(&p, end, &fmt) || fmt != BLK_FORMAT || !get_uv(&p, end, &n) || !get_uv(&p, end, &unit) ||
	    unit == 0 || n > got)
		return corrupt();
	while (b->n + n > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1024;
		b->v = aw_mem_realloc(b->v, b->cap * sizeof(*b->v));
	}
	v = b->v + b->n;
	for (uint64_t i = 0; i < n; i++) {
		if (!get_uv(&p, end, &u))
			return corrupt();
		v[i].start = (int64_t)((uint64_t)unzz(u) * unit); /* the gap, for now */
	}
	for (uint64_t i = 0; i < n; i++) {
		if (!get_uv(&p, end, &u))
			return corrupt();
		v[i].duration = (int64_t)((uint64_t)unzz(u) * unit);
	}
	prev = first_start;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t prev_end = i ? (uint64_t)v[i - 1].start + (uint64_t)v[i - 1].duration : (uint64_t)prev;
		v[i].start = (int64_t)(prev_end + (uint64_t)v[i].start);
	}
	prev = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!get_uv(&p, end, &u))
			return corrupt();
		prev = (int64_t)((uint64_t)prev + (uint64_t)unzz(u));
		v[i].id = prev;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (!get_uv(&p, end, &u))
			return corrupt();
		v[i].data = (int64_t)u;
	}
	prev = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!get_uv(&p, end, &u))
			return corrupt();
		prev = (int64_t)((uint64_t)prev + (uint64_t)unzz(u));
		v[i].seq = prev;
	}
	if (p != end)
		return corrupt();
	b->n += n;
	return 0;
}

/* ---- reading blocks (readers and the writer) --------------------------------------- */

int blk_scan(sqlite3 *db, sqlite3_stmt **slots, blk_buf *b, int64_t bucket, aw_ns lo, aw_ns hi, aw_ns min_end,
	     bool desc, blk_each_fn each, void *ctx)
{
	sqlite3_stmt *st = desc ? db_stmt(db, &slots[1],
					  "SELECT first_start, body FROM blocks WHERE bucket = ?1 AND day >= ?2 "
					  "AND day <= ?3 ORDER BY day DESC")
				: db_stmt(db, &slots[0],
					  "SELECT first_start, body FROM blocks WHERE bucket = ?1 AND day >= ?2 "
					  "AND day <= ?3 ORDER BY day ASC");
	int rc, stop = 0;

	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, bucket);
	sqlite3_bind_int64(st, 2, blk_day(lo));
	sqlite3_bind_int64(st, 3, blk_day(hi));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t k = 0;
		/* one day at a time: b holds a day, never the whole range */
		b->n = 0;
		if (blk_decode(b, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			       sqlite3_column_int64(st, 0))) {
			sqlite3_reset(st);
			return AW_ERROR;
		}
		/* the range test of the SQL readers (reader.c, RANGE_WHERE) */
		for (size_t i = 0; i < b->n; i++)
			if (b->v[i].start >= lo && b->v[i].start <= hi &&
			    aw_ns_add_sat(b->v[i].start, b->v[i].duration) >= min_end)
				b->v[k++] = b->v[i];
		b->n = k;
		if (k && (stop = each(ctx, b->v, k)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop < 0)
		return AW_ERROR;
	return stop || rc == SQLITE_DONE ? 0 : db_error(db, "reading sealed events");
}

int blk_count_upper(sqlite3 *db, sqlite3_stmt **slot, int64_t bucket, aw_ns lo, aw_ns hi, size_t *out)
{
	sqlite3_stmt *st = db_stmt(db, slot,
				   "SELECT coalesce(sum(n), 0) FROM blocks WHERE bucket = ?1 AND day >= ?2 AND day <= ?3");
	int rc;

	*out = 0;
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, bucket);
	sqlite3_bind_int64(st, 2, blk_day(lo));
	sqlite3_bind_int64(st, 3, blk_day(hi));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		*out = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : db_error(db, "counting sealed events");
}

int blk_find_id(sqlite3 *db, sqlite3_stmt **slot, blk_buf *b, int64_t bucket, int64_t id, int64_t *bucket_out,
		int64_t *day_out, blk_event *out)
{
	sqlite3_stmt *st = db_stmt(db, slot,
				   "SELECT bucket, day, first_start, body FROM blocks WHERE min_id <= ?1 AND max_id >= ?1 "
				   "AND (?2 = 0 OR bucket = ?2)");
	int rc;

	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, bucket);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b->n = 0;
		if (blk_decode(b, sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
			       sqlite3_column_int64(st, 2))) {
			sqlite3_reset(st);
			return AW_ERROR;
		}
		for (size_t i = 0; i < b->n; i++) {
			if (b->v[i].id != id)
				continue;
			*out = b->v[i];
			if (bucket_out)
				*bucket_out = sqlite3_column_int64(st, 0);
			if (day_out)
				*day_out = sqlite3_column_int64(st, 1);
			sqlite3_reset(st);
			return 1;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, "looking up a sealed event");
}

/* ---- writer: unsealing ------------------------------------------------------------- */

enum {
	BS_UNSEAL_GET, BS_UNSEAL_INS, BS_UNSEAL_DEL, BS_FIND_ID, BS_SCAN_ASC, BS_SCAN_DESC, BS_NEXT_ROW,
	BS_DAY_ROWS, BS_DAY_DEL, BS_INSERT, BS_MAX_START, BS_MAX_DAY, BS_N
};
_Static_assert(BS_N <= BS_COUNT, "blocks statement slots");

static void places_note_unseal(aw_store *s);

/* Decode the bucket's block of that day into s->blk: 1, 0 when the day has none (s->blk
 * empty), AW_ERROR (failing as `what`). */
static int read_day(aw_store *s, int64_t bucket, int64_t day, const char *what)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->bst[BS_UNSEAL_GET],
				   "SELECT first_start, body FROM blocks WHERE bucket = ? AND day = ?");
	blk_buf *b = &s->blk;
	int rc;

	b->n = 0;
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, bucket);
	sqlite3_bind_int64(st, 2, day);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : db_error(s->db, what);
	}
	rc = blk_decode(b, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return rc ? AW_ERROR : 1;
}

static int unseal_day(aw_store *s, int64_t bucket, int64_t day)
{
	sqlite3_stmt *st;
	blk_buf *b = &s->blk;
	int rc = read_day(s, bucket, day, "unsealing a day");

	if (rc <= 0)
		return rc;
	st = db_stmt(s->db, &s->bst[BS_UNSEAL_INS],
		     "INSERT INTO events(bucket, start, id, duration, data, seq) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		return AW_ERROR;
	for (size_t i = 0; i < b->n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, bucket);
		sqlite3_bind_int64(st, 2, b->v[i].start);
		sqlite3_bind_int64(st, 3, b->v[i].id);
		sqlite3_bind_int64(st, 4, b->v[i].duration);
		sqlite3_bind_int64(st, 5, b->v[i].data);
		sqlite3_bind_int64(st, 6, b->v[i].seq);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_error(s->db, "unsealing a day");
	}
	sqlite3_reset(st);
	/* secure_delete zeroes the block's old bytes in the file */
	st = db_stmt(s->db, &s->bst[BS_UNSEAL_DEL], "DELETE FROM blocks WHERE bucket = ? AND day = ?");
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, bucket);
	sqlite3_bind_int64(st, 2, day);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s->db, "unsealing a day");
	s->seal_pending = true;
	places_note_unseal(s);
	return 0;
}

int blocks_unseal_day(aw_store *s, wbucket *b, int64_t day)
{
	if (day > b->sealed_max_day)
		return 0;
	return unseal_day(s, b->rowid, day);
}

int blocks_unseal_bucket(aw_store *s, wbucket *b)
{
	sqlite3_stmt *st;
	int64_t *days = NULL;
	size_t n = 0, cap = 0;
	int rc;

	if (b->sealed_max_day == INT64_MIN)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT day FROM blocks WHERE bucket = ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "unsealing a bucket");
	sqlite3_bind_int64(st, 1, b->rowid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		days = aw_mem_grow(days, n, &cap, sizeof(*days), 64);
		days[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE ? 0 : db_error(s->db, "unsealing a bucket");
	for (size_t i = 0; !rc && i < n; i++)
		rc = unseal_day(s, b->rowid, days[i]);
	free(days);
	return rc;
}

/* ---- writer: where an import's ids are sealed --------------------------------------- */

/*
 * An import whose events carry ids asks, for each, whether that id is stored and where
 * (the owner check, then the replacement). Answered by blk_find_id, every question is a
 * pass over the blocks whose id range holds it, and those ranges overlap: each day of
 * each bucket spans the ids given that day, and an import's days span whole id ranges.
 * A year's restore asked 185,000 of them (28 s). blocks_places_load answers them all in
 * one pass instead, and blocks_find_id then looks up the answer.
 *
 * The answers are taken when the write starts. What the write itself does later cannot
 * make one wrong: unsealing a day moves its events to rows, where callers look first;
 * an id found in a block that is no longer there is looked up the slow way; and the ids
 * a write puts into blocks (blocks_import) are either fresh (above every id stored) or
 * were claimed (blocks_places_claim), after which the blocks are asked about them again.
 */
typedef struct blk_place {
	int64_t id;
	int64_t bucket, day; /* where it is sealed, when found */
	bool found;
	bool claimed;        /* given to an event of the write: ask blk_find_id */
} blk_place;

typedef struct blk_places {
	blk_place *v;
	size_t n;
	bool unsealed; /* a day was unsealed since: a found id may have left its block */
} blk_places;

static void places_note_unseal(aw_store *s)
{
	if (s->places)
		s->places->unsealed = true;
}

static int cmp_place(const void *a, const void *b)
{
	const blk_place *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static blk_place *place_of(const blk_places *p, int64_t id)
{
	blk_place key = {.id = id};

	return p->n ? bsearch(&key, p->v, p->n, sizeof(*p->v), cmp_place) : NULL;
}

/* The first place with id >= lo (p->n if none). */
static size_t place_lower_bound(const blk_places *p, int64_t lo)
{
	size_t a = 0, b = p->n;

	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (p->v[m].id < lo)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int places_scan(aw_store *s, blk_places *p)
{
	sqlite3_stmt *st;
	blk_buf *b = &s->blk;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT bucket, day, first_start, min_id, max_id, body FROM blocks "
			       "WHERE max_id >= ?1 AND min_id <= ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "looking up sealed events");
	sqlite3_bind_int64(st, 1, p->v[0].id);
	sqlite3_bind_int64(st, 2, p->v[p->n - 1].id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t k = place_lower_bound(p, sqlite3_column_int64(st, 3));
		/* most blocks hold none of the ids: skip them undecoded */
		if (k == p->n || p->v[k].id > sqlite3_column_int64(st, 4))
			continue;
		b->n = 0;
		if (blk_decode(b, sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5),
			       sqlite3_column_int64(st, 2))) {
			sqlite3_finalize(st);
			return AW_ERROR;
		}
		for (size_t i = 0; i < b->n; i++) {
			blk_place *pl = place_of(p, b->v[i].id);
			if (!pl)
				continue;
			pl->found = true;
			pl->bucket = sqlite3_column_int64(st, 0);
			pl->day = sqlite3_column_int64(st, 1);
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(s->db, "looking up sealed events");
}

int blocks_places_load(aw_store *s, const int64_t *ids, size_t n)
{
	blk_places *p;
	size_t k = 0;

	blocks_places_drop(s);
	if (!n)
		return 0;
	p = aw_mem_calloc(1, sizeof(*p));
	p->v = aw_mem_calloc(n, sizeof(*p->v));
	for (size_t i = 0; i < n; i++)
		p->v[i].id = ids[i];
	qsort(p->v, n, sizeof(*p->v), cmp_place);
	for (size_t i = 0; i < n; i++)
		if (!k || p->v[i].id != p->v[k - 1].id)
			p->v[k++] = p->v[i];
	p->n = k;
	if (places_scan(s, p)) {
		free(p->v);
		free(p);
		return AW_ERROR;
	}
	s->places = p;
	return 0;
}

int blocks_places_claim(aw_store *s, int64_t id)
{
	blk_place *pl = s->places ? place_of(s->places, id) : NULL;

	if (!pl || pl->found)
		return 0;
	if (pl->claimed)
		return -1;
	pl->claimed = true;
	return 1;
}

void blocks_places_drop(aw_store *s)
{
	if (!s->places)
		return;
	free(s->places->v);
	free(s->places);
	s->places = NULL;
}

/* The event with this id in the bucket's block of that day: 1, 0 (not there), AW_ERROR. */
static int find_in_day(aw_store *s, int64_t bucket, int64_t day, int64_t id, blk_event *out)
{
	blk_buf *b = &s->blk;
	int rc = read_day(s, bucket, day, "looking up a sealed event");

	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].id == id) {
			*out = b->v[i];
			return 1;
		}
	return 0;
}

int blocks_id_bucket(aw_store *s, int64_t id, int64_t *bucket)
{
	const blk_place *pl = s->places ? place_of(s->places, id) : NULL;
	blk_event e;

	/* exact while no day was unsealed since they were loaded (claimed ids: see above) */
	if (pl && !pl->claimed && !s->places->unsealed) {
		if (pl->found)
			*bucket = pl->bucket;
		return pl->found;
	}
	return blocks_find_id(s, id, bucket, NULL, &e);
}

int blocks_find_id(aw_store *s, int64_t id, int64_t *bucket, int64_t *day, blk_event *out)
{
	const blk_place *pl = s->places ? place_of(s->places, id) : NULL;

	if (pl && !pl->claimed) {
		int rc;
		if (!pl->found)
			return 0;
		rc = find_in_day(s, pl->bucket, pl->day, id, out);
		if (rc) {
			if (bucket)
				*bucket = pl->bucket;
			if (day)
				*day = pl->day;
			return rc;
		}
		/* its day was unsealed since: ask the blocks */
	}
	return blk_find_id(s->db, &s->bst[BS_FIND_ID], &s->blk, 0, id, bucket, day, out);
}

int blocks_unseal_id(aw_store *s, int64_t id, int64_t only_bucket, bool *unsealed)
{
	blk_event e;
	int64_t bucket, day;
	int rc = blocks_find_id(s, id, &bucket, &day, &e);

	*unsealed = false;
	if (rc <= 0)
		return rc;
	if (only_bucket && bucket != only_bucket)
		return 0;
	*unsealed = true;
	return unseal_day(s, bucket, day);
}

int blocks_scan_writer(aw_store *s, int64_t bucket, aw_ns lo, aw_ns hi, aw_ns min_end, blk_each_fn each, void *ctx)
{
	return blk_scan(s->db, &s->bst[BS_SCAN_ASC], &s->blk, bucket, lo, hi, min_end, false, each, ctx);
}

/* ---- writer: sealing --------------------------------------------------------------- */

/* Write v[0 .. n) (the whole day, in (start, id) order) as the day's block, replacing
 * the block it may have. */
static int write_block(aw_store *s, wbucket *wb, int64_t day, const blk_event *v, size_t n)
{
	sqlite3_stmt *st;
	int64_t max_end = AW_NS_MIN, min_id = INT64_MAX, max_id = INT64_MIN, max_seq = INT64_MIN;
	void *body = NULL;
	size_t len = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (aw_ns_add_sat(v[i].start, v[i].duration) > max_end)
			max_end = aw_ns_add_sat(v[i].start, v[i].duration);
		if (v[i].id < min_id)
			min_id = v[i].id;
		if (v[i].id > max_id)
			max_id = v[i].id;
		if (v[i].seq > max_seq)
			max_seq = v[i].seq;
	}
	if ((rc = blk_encode(&s->blk, v, n, &body, &len)))
		return rc;
	/* REPLACE: an import adding to a day sealed by its previous write (secure_delete
	 * zeroes the old body) */
	st = db_stmt(s->db, &s->bst[BS_INSERT],
		     "INSERT OR REPLACE INTO blocks(bucket, day, n, first_start, last_start, max_end, min_id, max_id, "
		     "max_seq, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st) {
		free(body);
		return AW_ERROR;
	}
	sqlite3_bind_int64(st, 1, wb->rowid);
	sqlite3_bind_int64(st, 2, day);
	sqlite3_bind_int64(st, 3, (int64_t)n);
	sqlite3_bind_int64(st, 4, v[0].start);
	sqlite3_bind_int64(st, 5, v[n - 1].start);
	sqlite3_bind_int64(st, 6, max_end);
	sqlite3_bind_int64(st, 7, min_id);
	sqlite3_bind_int64(st, 8, max_id);
	sqlite3_bind_int64(st, 9, max_seq);
	sqlite3_bind_blob(st, 10, body, (int)len, free);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s->db, "sealing a day");
	if (day > wb->sealed_max_day)
		wb->sealed_max_day = day;
	return 0;
}

/* Pack one day's rows into a block and delete them. */
static int seal_day(aw_store *s, wbucket *wb, int64_t day)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->bst[BS_DAY_ROWS],
				   "SELECT start, id, duration, data, seq FROM events WHERE bucket = ?1 "
				   "AND start >= ?2 AND start <= ?3 ORDER BY start, id");
	blk_buf *b = &s->blk;
	blk_event *v;
	int rc;

	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, wb->rowid);
	sqlite3_bind_int64(st, 2, blk_day_lo(day));
	sqlite3_bind_int64(st, 3, blk_day_hi(day));
	b->n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 1024;
			b->v = aw_mem_realloc(b->v, b->cap * sizeof(*b->v));
		}
		v = &b->v[b->n++];
		v->start = sqlite3_column_int64(st, 0);
		v->id = sqlite3_column_int64(st, 1);
		v->duration = sqlite3_column_int64(st, 2);
		v->data = sqlite3_column_int64(st, 3);
		v->seq = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return db_error(s->db, "sealing a day");
	if (!b->n)
		return 0;
	if ((rc = write_block(s, wb, day, b->v, b->n)))
		return rc;
	st = db_stmt(s->db, &s->bst[BS_DAY_DEL], "DELETE FROM events WHERE bucket = ?1 AND start >= ?2 AND start <= ?3");
	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, wb->rowid);
	sqlite3_bind_int64(st, 2, blk_day_lo(day));
	sqlite3_bind_int64(st, 3, blk_day_hi(day));
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_error(s->db, "sealing a day");
	return 0;
}

/* One int64 (NULL: *null) from a cached statement with one parameter. */
static int one_i64(aw_store *s, int slot, const char *sql, int64_t a, int64_t b, bool *null, int64_t *out)
{
	sqlite3_stmt *st = db_stmt(s->db, &s->bst[slot], sql);
	int rc;

	if (!st)
		return AW_ERROR;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	*null = rc != SQLITE_ROW || sqlite3_column_type(st, 0) == SQLITE_NULL;
	*out = *null ? 0 : sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s->db, "finding days to seal");
}

#define MAX_START_SQL "SELECT max(start) FROM events WHERE bucket = ?1 AND ?2 = ?2"
#define NEXT_ROW_SQL "SELECT start FROM events WHERE bucket = ?1 AND start >= ?2 ORDER BY start LIMIT 1"
#define MAX_DAY_SQL "SELECT max(day) FROM blocks WHERE bucket = ?1 AND ?2 = ?2"

int blocks_last_unseal(aw_store *s, wbucket *b)
{
	bool null;
	int64_t bday, hi;

	if (b->sealed_max_day == INT64_MIN)
		return 0;
	if (one_i64(s, BS_MAX_DAY, MAX_DAY_SQL, b->rowid, 0, &null, &bday))
		return AW_ERROR;
	if (null)
		return 0;
	if (one_i64(s, BS_MAX_START, MAX_START_SQL, b->rowid, 0, &null, &hi))
		return AW_ERROR;
	return null || blk_day(hi) < bday ? unseal_day(s, b->rowid, bday) : 0;
}

/*
 * A day is closed when it ended more than BLK_SEAL_AGE before the bucket's present:
 * now, or the bucket's last day when that is later (data imported from a clock ahead of
 * this one, or a generated history reaching into the future: its days behind the last
 * one take no writes either). Never the last day (heartbeats merge into its last
 * event), nor that of the cached last event (a heartbeat with an old timestamp makes
 * that an event before the last day, and the merge updates its row), nor the days
 * around the wall clock's present, where watchers write whatever the bucket holds.
 */
typedef struct closed_rule {
	int64_t last_day, now_lo, now_hi;
	aw_ns cutoff;
} closed_rule;

static void closed_rule_init(closed_rule *c, aw_ns now, int64_t last_day)
{
	aw_ns ref = blk_day_lo(last_day) > now ? blk_day_lo(last_day) : now;

	c->last_day = last_day;
	c->cutoff = aw_ns_sub_sat(ref, BLK_SEAL_AGE);
	c->now_lo = blk_day(aw_ns_sub_sat(now, BLK_SEAL_AGE));
	c->now_hi = blk_day(aw_ns_add_sat(now, BLK_SEAL_AGE));
}

/* 1 closed, 0 not yet (nor any later day: days are walked in order), -1 not this one */
static int closed_day(const closed_rule *c, const wbucket *b, int64_t day)
{
	if (day >= c->last_day || blk_day_hi(day) >= c->cutoff)
		return 0;
	if ((b->has_last && blk_day(b->last.start) == day) || (day >= c->now_lo && day <= c->now_hi))
		return -1;
	return 1;
}

/* The bucket's last day: of its last row or its last block (INT64_MIN: neither). */
static int last_day_of(aw_store *s, wbucket *b, int64_t *out)
{
	bool null;
	int64_t hi, bday;

	*out = INT64_MIN;
	if (one_i64(s, BS_MAX_START, MAX_START_SQL, b->rowid, 0, &null, &hi))
		return AW_ERROR;
	if (!null)
		*out = blk_day(hi);
	if (one_i64(s, BS_MAX_DAY, MAX_DAY_SQL, b->rowid, 0, &null, &bday))
		return AW_ERROR;
	if (!null && bday > *out)
		*out = bday;
	return 0;
}

int blocks_seal_some(aw_store *s, aw_ns now, int max_days, int *sealed)
{
	*sealed = 0;
	for (size_t i = 0; i < s->n_buckets && *sealed < max_days; i++) {
		wbucket *b = &s->buckets[i];
		bool null;
		int64_t first, last_day;
		closed_rule rule;

		if (last_day_of(s, b, &last_day))
			return AW_ERROR;
		if (last_day == INT64_MIN)
			continue;
		closed_rule_init(&rule, now, last_day);
		for (aw_ns from = AW_NS_MIN; *sealed < max_days;) {
			int64_t day;
			int closed;
			if (one_i64(s, BS_NEXT_ROW, NEXT_ROW_SQL, b->rowid, from, &null, &first))
				return AW_ERROR;
			if (null)
				break;
			day = blk_day(first);
			if ((closed = closed_day(&rule, b, day)) == 0)
				break;
			if (closed > 0) {
				if (seal_day(s, b, day))
					return AW_ERROR;
				++*sealed;
			}
			if (blk_day_hi(day) == AW_NS_MAX)
				break;
			from = blk_day_hi(day) + 1;
		}
	}
	return 0;
}

static int cmp_start_id(const void *pa, const void *pb)
{
	const blk_event *a = pa, *b = pb;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

int blocks_import(aw_store *s, wbucket *wb, aw_ns now, blk_event *v, size_t *n)
{
	blk_buf *b = &s->blk;
	closed_rule rule;
	int64_t last_day;
	size_t kept = 0, j;

	if (!*n)
		return 0;
	qsort(v, *n, sizeof(*v), cmp_start_id);
	if (last_day_of(s, wb, &last_day))
		return AW_ERROR;
	if (blk_day(v[*n - 1].start) > last_day)
		last_day = blk_day(v[*n - 1].start);
	closed_rule_init(&rule, now, last_day);
	for (size_t i = 0; i < *n; i = j) {
		int64_t day = blk_day(v[i].start), first;
		bool null;
		int closed = closed_day(&rule, wb, day);

		for (j = i + 1; j < *n && blk_day(v[j].start) == day;)
			j++;
		/* a day with rows stays rows: the writer seals it later, whole */
		if (closed > 0) {
			if (one_i64(s, BS_NEXT_ROW, NEXT_ROW_SQL, wb->rowid, blk_day_lo(day), &null, &first))
				return AW_ERROR;
			if (!null && blk_day(first) == day)
				closed = 0;
		}
		if (closed <= 0) {
			memmove(v + kept, v + i, (j - i) * sizeof(*v));
			kept += j - i;
			continue;
		}
		if (day <= wb->sealed_max_day) { /* the day may have a block: add to it */
			int rc = read_day(s, wb->rowid, day, "sealing a day");
			if (rc < 0)
				return AW_ERROR;
			if (b->n) {
				while (b->n + (j - i) > b->cap) {
					b->cap = b->cap ? b->cap * 2 : 1024;
					b->v = aw_mem_realloc(b->v, b->cap * sizeof(*b->v));
				}
				memcpy(b->v + b->n, v + i, (j - i) * sizeof(*v));
				b->n += j - i;
				qsort(b->v, b->n, sizeof(*b->v), cmp_start_id);
				if (write_block(s, wb, day, b->v, b->n))
					return AW_ERROR;
				continue;
			}
		}
		if (write_block(s, wb, day, v + i, j - i))
			return AW_ERROR;
	}
	*n = kept;
	return 0;
}

int blocks_load(aw_store *s)
{
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < s->n_buckets; i++)
		s->buckets[i].sealed_max_day = INT64_MIN;
	if (sqlite3_prepare_v2(s->db, "SELECT bucket, max(day) FROM blocks GROUP BY bucket", -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "loading sealed days");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (size_t i = 0; i < s->n_buckets; i++)
			if (s->buckets[i].rowid == sqlite3_column_int64(st, 0))
				s->buckets[i].sealed_max_day = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(s->db, "loading sealed days");
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int blocks_datas_in_use(aw_store *s, int64_t *ids, size_t n, bool *used)
{
	sqlite3_stmt *st;
	blk_buf *b = &s->blk;
	int rc;

	qsort(ids, n, sizeof(*ids), cmp_i64);
	memset(used, 0, n * sizeof(*used));
	if (sqlite3_prepare_v2(s->db, "SELECT first_start, body FROM blocks", -1, &st, NULL) != SQLITE_OK)
		return db_error(s->db, "reading sealed days");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b->n = 0;
		if (blk_decode(b, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
			       sqlite3_column_int64(st, 0))) {
			sqlite3_finalize(st);
			return AW_ERROR;
		}
		for (size_t i = 0; i < b->n; i++) {
			int64_t *hit = bsearch(&b->v[i].data, ids, n, sizeof(*ids), cmp_i64);
			if (hit)
				used[hit - ids] = true;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(s->db, "reading sealed days");
}

void blocks_free(aw_store *s)
{
	blocks_places_drop(s);
	for (int i = 0; i < BS_COUNT; i++) {
		sqlite3_finalize(s->bst[i]);
		s->bst[i] = NULL;
	}
	blk_buf_free(&s->blk);
}
