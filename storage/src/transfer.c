/*
 * Export documents, ActivityWatch's format for moving buckets between servers
 * (docs/api.md): {"buckets": {"<id>": {<bucket fields>, "events": [<event>, ...]}}}.
 *
 * Exports read one consistent snapshot (every bucket and event as of one commit).
 *
 * A year of data is a 40 MB document, so an import never builds one JSON tree. It runs
 * in two passes over the text: the first validates the whole document and every
 * bucket's fields (so a rejected import writes nothing), the second parses one event at
 * a time and hands the writer chunks of CHUNK events, parsing the next chunk while the
 * writer stores the previous one. New buckets are created with their events; events for
 * existing buckets are merged, skipping those identical to a stored event, as
 * aw-server-rust does. A document in a file is mapped, not read, and given back to the
 * kernel as both passes go ("import" below).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/files.h"
#include "aw/json.h"
#include "aw/json_scan.h"
#include "aw/mem.h"
#include "aw/model_json.h"
#include "aw/time.h"
#include "aw/transfer.h"
#include "internal.h"

/* ---- export ----------------------------------------------------------------------------
 *
 * Memory. A year's document is ~40 MB, so it is never built whole for the node: the
 * cursor (aw_export) reads everything it needs in one snapshot (the buckets, every
 * event row, and each distinct data text once) and then writes the document a piece at a
 * time into whatever buffer its reader gives, with its exact length known up front (the
 * node's Content-Length). That holds the rows (32 bytes an event) and the distinct texts
 * (a small fraction of the document: a year of window events repeats its titles), about
 * a third of the document, instead of the document and its events arrays twice over.
 * The pieces are the ones aw_transfer_export appends, so both give the same bytes.
 */

typedef struct xtext {
	int64_t data_id;   /* 0: free slot (data ids start at 1) */
	size_t off, len;   /* in aw_export.texts */
} xtext;

typedef struct xbucket {
	char *key;         /* "<id>": as a JSON string, with its colon */
	char *head, *tail; /* the bucket's JSON before and after its "events" value */
	aw_event_row *rows;
	size_t n;
} xbucket;

struct aw_export {
	xbucket *b;
	size_t nb;
	xtext *map;        /* data id -> text, open addressing, a power of two */
	size_t map_cap, map_used;
	aw_buf texts;
	size_t len;        /* of the whole document */
	/* the read position: piece `step` of bucket `bi` (event `ri`), and the bytes of the
	 * current piece not yet handed out */
	size_t bi, ri;
	int step;
	aw_buf piece;
	size_t piece_off;
	bool measuring;    /* xmeasure's walk: keep the rows */
};

static char *xdup(const char *s, size_t n)
{
	char *p = aw_mem_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static xtext *xtext_slot(aw_export *x, int64_t data_id)
{
	size_t mask = x->map_cap - 1, i = (size_t)((uint64_t)data_id * 0x9E3779B97F4A7C15ull >> 20) & mask;

	while (x->map[i].data_id && x->map[i].data_id != data_id)
		i = (i + 1) & mask;
	return &x->map[i];
}

static void xtext_grow(aw_export *x)
{
	xtext *old = x->map;
	size_t n = x->map_cap;

	x->map_cap = n ? n * 2 : 1024;
	x->map = aw_mem_calloc(x->map_cap, sizeof(*x->map));
	for (size_t i = 0; i < n; i++)
		if (old[i].data_id)
			*xtext_slot(x, old[i].data_id) = old[i];
	free(old);
}

/* Copy each distinct data text of the rows out of the reader's cache (whose pointers
 * die with a trim of the cache on the reader's thread). */
static int xtexts_add(aw_export *x, aw_reader *r, const aw_event_row *rows, size_t n)
{
	const char *data;
	size_t len;
	xtext *t;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if ((x->map_used + 1) * 2 > x->map_cap)
			xtext_grow(x);
		t = xtext_slot(x, rows[i].data_id);
		if (t->data_id)
			continue;
		if ((rc = aw_reader_data(&data, &len, r, rows[i].data_id)))
			return rc;
		t->data_id = rows[i].data_id;
		t->off = x->texts.len;
		t->len = len;
		aw_buf_append(&x->texts, data, len);
		x->map_used++;
	}
	return 0;
}

/* The bucket's JSON around its events value: aw_bucket_to_json printed with two
 * different one-byte stand-ins for the events differs exactly there. */
static void xbucket_split(xbucket *xb, const aw_bucket *bk)
{
	aw_buf a = AW_BUF_INIT, b = AW_BUF_INIT;
	size_t i = 0;

	aw_buf_json_string(&a, bk->id, strlen(bk->id));
	aw_buf_putc(&a, ':');
	xb->key = xdup(a.data, a.len);
	aw_buf_reset(&a);
	aw_bucket_to_json(&a, bk, "\001", 1);
	aw_bucket_to_json(&b, bk, "\002", 1);
	while (a.data[i] == b.data[i])
		i++;
	xb->head = xdup(a.data, i);
	xb->tail = xdup(a.data + i + 1, a.len - i - 1);
	aw_buf_free(&a);
	aw_buf_free(&b);
}

enum { X_OPEN, X_KEY, X_HEAD, X_EVENT, X_TAIL, X_CLOSE, X_END };

/* The next piece of the document into x->piece; false at the end. The document is
 * {"buckets":{ then, per bucket, [","] key head "[" events joined by "," "]" tail, then }}. */
static bool xnext(aw_export *x)
{
	aw_buf *p = &x->piece;
	xbucket *xb;

	aw_buf_reset(p);
	x->piece_off = 0;
	for (;;) {
		xb = x->bi < x->nb ? &x->b[x->bi] : NULL;
		switch (x->step) {
		case X_OPEN:
			aw_buf_puts(p, "{\"buckets\":{");
			x->step = xb ? X_KEY : X_CLOSE;
			return true;
		case X_KEY:
			if (x->bi)
				aw_buf_putc(p, ',');
			aw_buf_puts(p, xb->key);
			x->step = X_HEAD;
			return true;
		case X_HEAD:
			aw_buf_puts(p, xb->head);
			aw_buf_putc(p, '[');
			x->ri = 0;
			x->step = X_EVENT;
			return true;
		case X_EVENT:
			if (x->ri < xb->n) {
				const aw_event_row *e = &xb->rows[x->ri];
				const xtext *t = xtext_slot(x, e->data_id);
				if (x->ri++)
					aw_buf_putc(p, ',');
				aw_event_to_json(p, e->id, true, e->start, e->duration, x->texts.data + t->off, t->len);
				return true;
			}
			x->step = X_TAIL;
			continue;
		case X_TAIL:
			aw_buf_putc(p, ']');
			aw_buf_puts(p, xb->tail);
			if (!x->measuring) { /* handed out: give the rows back as the document goes */
				free(xb->rows);
				xb->rows = NULL;
			}
			x->bi++;
			x->step = x->bi < x->nb ? X_KEY : X_CLOSE;
			return true;
		case X_CLOSE:
			aw_buf_puts(p, "}}");
			x->step = X_END;
			return true;
		default:
			return false;
		}
	}
}

size_t aw_export_read(aw_export *x, char *buf, size_t cap)
{
	size_t n = 0, k;

	while (n < cap) {
		if (x->piece_off == x->piece.len && !xnext(x))
			break;
		k = x->piece.len - x->piece_off;
		if (k > cap - n)
			k = cap - n;
		memcpy(buf + n, x->piece.data + x->piece_off, k);
		x->piece_off += k;
		n += k;
	}
	return n;
}

size_t aw_export_length(const aw_export *x)
{
	return x->len;
}

void aw_export_close(aw_export *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->nb; i++) {
		free(x->b[i].key);
		free(x->b[i].head);
		free(x->b[i].tail);
		free(x->b[i].rows);
	}
	free(x->b);
	free(x->map);
	aw_buf_free(&x->texts);
	aw_buf_free(&x->piece);
	free(x);
}

/* The document's length: every piece printed once into a scratch buffer. */
static size_t xmeasure(aw_export *x)
{
	size_t len = 0;

	x->measuring = true;
	while (xnext(x))
		len += x->piece.len;
	x->measuring = false;
	x->bi = x->ri = 0;
	x->step = X_OPEN;
	return len;
}

static int xload(aw_export *x, aw_reader *r, aw_bucket *bks, size_t n)
{
	int rc = 0;

	x->b = aw_mem_calloc(n ? n : 1, sizeof(*x->b));
	x->nb = n;
	for (size_t i = 0; i < n && !rc; i++) {
		xbucket_split(&x->b[i], &bks[i]);
		rc = aw_reader_event_rows(&x->b[i].rows, &x->b[i].n, r, bks[i].id, AW_NS_MIN, AW_NS_MAX, -1, 0);
		if (!rc)
			rc = xtexts_add(x, r, x->b[i].rows, x->b[i].n);
	}
	return rc;
}

int aw_export_open(aw_export **out, char **single_id, aw_reader *r, const char *bucket_id)
{
	aw_export *x = aw_mem_calloc(1, sizeof(*x));
	aw_bucket *bks = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (single_id)
		*single_id = NULL;
	if ((rc = aw_reader_begin(r))) {
		free(x);
		return rc;
	}
	if (bucket_id) {
		bks = aw_mem_calloc(1, sizeof(*bks));
		rc = aw_reader_bucket(bks, r, bucket_id);
		n = rc ? 0 : 1;
	} else {
		rc = aw_reader_buckets(&bks, &n, r, 0);
	}
	if (!rc)
		rc = xload(x, r, bks, n);
	aw_reader_end(r);
	if (!rc && single_id && n == 1)
		*single_id = strdup(bks[0].id);
	aw_buckets_free(bks, n);
	if (rc) {
		aw_export_close(x);
		return rc;
	}
	x->len = xmeasure(x);
	*out = x;
	return 0;
}

int aw_transfer_export(aw_buf *out, char **single_id, aw_reader *r, const char *bucket_id)
{
	aw_export *x;
	int rc = aw_export_open(&x, single_id, r, bucket_id);

	if (rc)
		return rc;
	aw_buf_grow(out, x->len);
	out->len += aw_export_read(x, out->data + out->len, x->len);
	out->data[out->len] = '\0';
	aw_export_close(x);
	return 0;
}

/* ---- import ----------------------------------------------------------------------------
 *
 * Memory. A ten-year export is ~380 MB of text. aw_transfer_import_file maps the file
 * read-only instead of reading it into one buffer, and gives back every range both
 * passes have gone past, RELEASE_STEP bytes at a time (madvise MADV_DONTNEED: the pages
 * leave the process; touched again, they come back from the page cache). So however
 * large the document, the import holds a few megabytes of its text, two chunks of parsed
 * events and the buckets' fields. The second pass also tells the kernel it will not read
 * those pages again (posix_fadvise DONTNEED), so a one-time read of a large file does not
 * push more useful pages out of the page cache.
 *
 * Why a mapping rather than a reader over a sliding buffer: the scanner (aw/json_scan.h)
 * and the event and bucket parsers take one contiguous span of text, and the second pass
 * goes back to the events arrays the first pass found. A sliding buffer would have to
 * restart the scanner at every boundary a value straddles, or grow to the largest value
 * and remember file offsets for the second pass; the mapping gives the same contiguous
 * text without a copy (reading the file into a private buffer cost a tenth of the
 * import's time), and the kernel reads ahead of a sequential walk. Its price: a file
 * truncated in place by another process during the import makes the import fault
 * (SIGBUS), as any program reading a mapped file would; replacing the file (a new
 * export, an editor's save) is harmless, the mapping keeps the old one.
 *
 * A document given in memory (the HTTP endpoint's body) goes through the same passes
 * with nothing to release.
 */

#define CHUNK 8192
#define RELEASE_STEP ((size_t)4 << 20) /* a multiple of every page size */

typedef struct bucket_span {
	aw_import_bucket meta;   /* fields without events */
	const char *events;      /* the events array's text, or NULL */
	const char *events_end;
} bucket_span;

typedef struct chunk {
	aw_write w;
	aw_import_bucket ib;
	size_t cap;
	bool in_flight;
	bool done;
} chunk;

/* A reason to refuse the document found by pass 1, kept until the text is known to be
 * JSON (see scan_document). */
typedef struct refusal {
	int rc;
	char why[256];
} refusal;

typedef struct import_job {
	const char *doc;
	size_t len;
	char *map;        /* doc when it is a mapped file, else NULL */
	int fd;           /* that file, or -1 */
	size_t released;  /* map[0, released) given back in the current pass */
	refusal refused;  /* pass 1: the first refusal that is not bad JSON */
	bucket_span *buckets;
	size_t n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	chunk chunks[2];
} import_job;

static void free_job(void *p)
{
	import_job *j = p;

	for (size_t i = 0; i < j->n; i++)
		aw_import_bucket_clear(&j->buckets[i].meta);
	free(j->buckets);
	for (int i = 0; i < 2; i++) {
		aw_events_free(j->chunks[i].ib.events, j->chunks[i].ib.n_events);
		aw_write_clear(&j->chunks[i].w);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

/* Give back the mapped pages wholly before p, once RELEASE_STEP bytes have gathered.
 * drop_cache (pass 2): the file's pages will not be read again either. */
static void release_before(import_job *j, const char *p, bool drop_cache)
{
	size_t upto;

	if (!j->map)
		return;
	upto = (size_t)(p - j->doc) / RELEASE_STEP * RELEASE_STEP;
	if (upto <= j->released)
		return;
	/* Both are advice: declined, they leave the pages resident a while longer, no more. */
	(void)madvise(j->map + j->released, upto - j->released, MADV_DONTNEED);
	if (drop_cache)
		(void)posix_fadvise(j->fd, (off_t)j->released, (off_t)(upto - j->released), POSIX_FADV_DONTNEED);
	j->released = upto;
}

/* Keep the first refusal (code and the message aw_error_last() holds for it). */
static void refuse(refusal *r, int rc)
{
	if (!r->rc) {
		r->rc = rc;
		snprintf(r->why, sizeof(r->why), "%s", aw_error_last());
	}
}

static int bad_json(const aw_jscan *s)
{
	return aw_error_set(AW_EINVALID, "%s", s->err);
}

static bool at(const aw_jscan *s, char c)
{
	return s->p < s->end && *s->p == c;
}

/* Validate one value pass 1 collects nothing from. A container is validated item by
 * item, so even a huge value of the wrong shape is given back as the walk passes. */
static int validate_value(import_job *j, aw_jscan *s)
{
	const char *ks, *ke, *vs, *ve;
	int state = 0, rc;
	bool object;

	aw_jscan_ws(s);
	if (!at(s, '{') && !at(s, '['))
		return aw_jscan_value(s, &vs, &ve) ? bad_json(s) : 0;
	object = at(s, '{');
	while ((rc = object ? aw_jscan_member(s, &state, &ks, &ke) : aw_jscan_element(s, &state)) == 1) {
		if (aw_jscan_value(s, &vs, &ve))
			return bad_json(s);
		release_before(j, s->p, false);
	}
	return rc < 0 ? bad_json(s) : 0;
}

/* The first pass's common case, without building the event: true when the event's
 * times certainly fit, read as aw_event_from_text reads them (the last "timestamp" and
 * "duration" members, the same parsers). Anything else (an escape in the timestamp, a
 * member of the wrong type, a time that does not parse) answers false and the event
 * goes through aw_event_from_text, which decides. Building every event's canonical data
 * here only to drop it was two thirds of the first pass. */
static bool times_fit(const char *vs, const char *ve)
{
	const char *ks, *ke, *a, *b, *ts = NULL, *ts_end = NULL, *dur = NULL;
	aw_jscan s;
	aw_ns start, duration;
	int state = 0;

	aw_jscan_init(&s, vs, (size_t)(ve - vs));
	while (aw_jscan_member(&s, &state, &ks, &ke) == 1) {
		aw_jscan_skip(&s, &a, &b);
		if (aw_jscan_key_is(ks, ke, "timestamp"))
			ts = a, ts_end = b;
		else if (aw_jscan_key_is(ks, ke, "duration"))
			dur = a;
	}
	if (!ts || *ts != '"' || memchr(ts, '\\', (size_t)(ts_end - ts)))
		return false;
	if (aw_time_parse(&start, ts + 1, (size_t)(ts_end - ts - 2), AW_TIME_RELAXED))
		return false;
	if (!dur || *dur == 'n')
		duration = 0;
	else if ((*dur != '-' && (*dur < '0' || *dur > '9')) || aw_duration_from_seconds(&duration, strtod(dur, NULL)))
		return false;
	return start <= AW_NS_MAX - (duration > 0 ? duration : 0);
}

/* Refuse out-of-range times for the whole document (AW_ERANGE) before anything is
 * written; merely malformed events are dropped later, as aw-server-rust does. */
static void check_event_range(refusal *r, const char *vs, const char *ve)
{
	aw_event e;
	int rc;
	bool end_out;

	if (times_fit(vs, ve))
		return;
	rc = aw_event_from_text(&e, vs, ve);
	end_out = rc == 0 && e.start > AW_NS_MAX - (e.duration > 0 ? e.duration : 0);
	aw_event_clear(&e);
	if (rc == AW_ERANGE)
		refuse(r, rc);
	else if (end_out)
		refuse(r, aw_error_set(AW_ERANGE, "event end (timestamp + duration) is outside the supported range"));
}

/* Validate a bucket object, parse its fields (all but "events") and locate its events
 * array, checking every event's times. Called while nothing is refused yet; this
 * bucket's refusal goes to j->refused, in the order the whole bucket decides it: a wrong
 * 'events', then the fields, then the times. */
static int scan_bucket(import_job *j, aw_jscan *s, bucket_span *b)
{
	const char *ks, *ke, *vs, *ve;
	json_t *obj = json_object();
	refusal events = {0}, times = {0};
	int state = 0, rc;

	while ((rc = aw_jscan_member(s, &state, &ks, &ke)) == 1) {
		if (!aw_jscan_key_is(ks, ke, "events")) {
			if (aw_jscan_value(s, &vs, &ve)) {
				rc = -1;
				break;
			}
			json_t *k = aw_json_parse(ks, (size_t)(ke - ks)), *v = aw_json_parse(vs, (size_t)(ve - vs));
			if (k && v)
				json_object_setn_nocheck(obj, json_string_value(k), json_string_length(k), v);
			json_decref(k);
			json_decref(v);
			continue;
		}
		if (!at(s, '[')) {
			if (!at(s, 'n'))
				refuse(&events, aw_error_set(AW_ESHAPE, "bucket 'events' must be a list"));
			if ((rc = validate_value(j, s)))
				goto out;
			continue;
		}
		/* A later "events" member replaces an earlier one, and so do its times. */
		int estate = 0;
		memset(&times, 0, sizeof(times));
		b->events = s->p;
		while ((rc = aw_jscan_element(s, &estate)) == 1) {
			if (aw_jscan_value(s, &vs, &ve)) {
				rc = -1;
				break;
			}
			if (!events.rc && !times.rc)
				check_event_range(&times, vs, ve);
			release_before(j, s->p, false);
		}
		if (rc < 0)
			break;
		b->events_end = s->p;
	}
	if (rc < 0) {
		rc = bad_json(s);
		goto out;
	}
	if (events.rc)
		j->refused = events;
	else if ((rc = aw_bucket_from_json(&b->meta, obj, NULL)))
		refuse(&j->refused, rc);
	else if (times.rc)
		j->refused = times;
	rc = 0;
out:
	json_decref(obj);
	return rc;
}

/* Pass 1: validate the whole document and collect every bucket's fields and events span,
 * so that a refused import writes nothing. Bad JSON anywhere is reported as such
 * (AW_EINVALID) even after an earlier part showed the document is no export document
 * or holds a time out of range: the walk keeps the first such refusal and goes on
 * validating to the end, with nothing more to collect. Each value is validated by the
 * scanner with its full nesting limit from where it starts; the few levels above it
 * are the document's fixed shape. */
static int scan_document(import_job *j)
{
	aw_jscan s;
	const char *ks, *ke;
	int state = 0, rc = 0;
	bool found = false;
	size_t cap = 0;

	aw_jscan_init(&s, j->doc, j->len);
	aw_jscan_ws(&s);
	if (!at(&s, '{')) {
		if ((rc = validate_value(j, &s)))
			return rc;
		goto end;
	}
	while ((rc = aw_jscan_member(&s, &state, &ks, &ke)) == 1) {
		int bstate = 0;

		if (!aw_jscan_key_is(ks, ke, "buckets") || !at(&s, '{')) {
			if (aw_jscan_key_is(ks, ke, "buckets"))
				refuse(&j->refused, aw_error_set(AW_ESHAPE, "an import document is {\"buckets\": {\"<id>\": bucket, ...}}"));
			if ((rc = validate_value(j, &s)))
				return rc;
			continue;
		}
		found = true;
		while ((rc = aw_jscan_member(&s, &bstate, &ks, &ke)) == 1) {
			if (!at(&s, '{'))
				refuse(&j->refused, aw_error_set(AW_ESHAPE, "bucket %.*s must be an object", (int)(ke - ks), ks));
			if (j->refused.rc) {
				if ((rc = validate_value(j, &s)))
					return rc;
				continue;
			}
			j->buckets = aw_mem_grow(j->buckets, j->n, &cap, sizeof(*j->buckets), 8);
			memset(&j->buckets[j->n], 0, sizeof(*j->buckets));
			rc = scan_bucket(j, &s, &j->buckets[j->n]);
			j->n++; /* even refused: free_job clears what its fields hold */
			if (rc)
				return rc;
		}
		if (rc < 0)
			return bad_json(&s);
	}
	if (rc < 0)
		return bad_json(&s);
end:
	aw_jscan_ws(&s);
	if (s.p != s.end)
		return aw_error_set(AW_EINVALID, "invalid JSON at byte %zu: text after the JSON value",
				    (size_t)(s.p - s.start));
	if (j->refused.rc)
		return aw_error_set(j->refused.rc, "%s", j->refused.why);
	if (!found)
		return aw_error_set(AW_ESHAPE, "an import document is {\"buckets\": {\"<id>\": bucket, ...}}");
	return 0;
}

static void chunk_done(aw_write *w, void *ctx)
{
	import_job *j = ctx;
	chunk *c = (chunk *)w; /* w is the first member */

	pthread_mutex_lock(&j->mu);
	c->done = true;
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

/* Wait for a chunk's write; returns its status and frees its events. */
static int chunk_wait(import_job *j, chunk *c)
{
	int rc;

	if (!c->in_flight)
		return 0;
	pthread_mutex_lock(&j->mu);
	while (!c->done)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
	c->in_flight = false;
	rc = c->w.status;
	aw_events_free(c->ib.events, c->ib.n_events);
	c->ib.events = NULL;
	c->ib.n_events = c->cap = 0;
	return rc;
}

static int chunk_submit(import_job *j, chunk *c, aw_store *store, const aw_bucket *meta, bool has_created)
{
	memset(&c->w, 0, sizeof(c->w));
	c->ib.bucket = *meta; /* borrowed: the job owns the strings */
	c->ib.has_created = has_created;
	c->w.kind = AW_W_IMPORT;
	c->w.imports = &c->ib;
	c->w.n_imports = 1;
	c->w.done = chunk_done;
	c->w.ctx = j;
	c->done = false;
	c->in_flight = true;
	if (aw_store_submit(store, &c->w)) {
		c->in_flight = false;
		c->w.status = AW_ESHUTDOWN;
		snprintf(c->w.error, sizeof(c->w.error), "%s", aw_error_last());
		return AW_ESHUTDOWN;
	}
	return 0;
}

/* Pass 2: events bucket by bucket, in chunks, two writes in flight at most. The text
 * of the events parsed is given back as the walk goes (the events own their data). */
static int import_events(import_job *j, aw_store *store, chunk **failed)
{
	int cur = 0, rc;

	j->released = 0;
	for (size_t i = 0; i < j->n; i++) {
		bucket_span *b = &j->buckets[i];
		aw_jscan s;
		int state = 0;
		bool any = false;

		if (b->events)
			aw_jscan_init(&s, b->events, (size_t)(b->events_end - b->events));
		while (b->events && (rc = aw_jscan_element(&s, &state)) == 1) {
			chunk *c = &j->chunks[cur];
			c->ib.events = aw_mem_grow(c->ib.events, c->ib.n_events, &c->cap, sizeof(aw_event), 1024);
			/* Malformed events are dropped, as aw-server-rust's lenient list does. */
			if (aw_event_from_scan(&c->ib.events[c->ib.n_events], &s) == 0)
				c->ib.n_events++;
			release_before(j, s.p, true);
			if (c->ib.n_events >= CHUNK) {
				if (chunk_submit(j, c, store, &b->meta.bucket, b->meta.has_created))
					return *failed = c, AW_ESHUTDOWN;
				any = true;
				cur ^= 1;
				if ((rc = chunk_wait(j, &j->chunks[cur])))
					return *failed = &j->chunks[cur], rc;
			}
		}
		if (j->chunks[cur].ib.n_events || !any) {
			chunk *c = &j->chunks[cur];
			if (chunk_submit(j, c, store, &b->meta.bucket, b->meta.has_created))
				return *failed = c, AW_ESHUTDOWN;
			cur ^= 1;
			if ((rc = chunk_wait(j, &j->chunks[cur])))
				return *failed = &j->chunks[cur], rc;
		}
		/* the next bucket's chunks must not reuse this bucket's fields while in flight */
		if ((rc = chunk_wait(j, &j->chunks[cur ^ 1])))
			return *failed = &j->chunks[cur ^ 1], rc;
	}
	return 0;
}

static import_job *job_new(const char *doc, size_t len)
{
	import_job *j = aw_mem_calloc(1, sizeof(*j));

	j->doc = doc;
	j->len = len;
	j->fd = -1;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	return j;
}

/* Both passes over j's document, then free j. */
static int run_job(import_job *j, aw_store *store, aw_reader *r)
{
	chunk *failed = NULL;
	int rc = scan_document(j);

	if (rc)
		goto out;
	/* Refuse before writing anything if any target is a remote (read-only) bucket. */
	for (size_t i = 0; i < j->n; i++) {
		aw_bucket existing;
		if (aw_reader_bucket(&existing, r, j->buckets[i].meta.bucket.id) == 0) {
			bool remote = existing.remote_device != NULL;
			aw_bucket_clear(&existing);
			if (remote) {
				rc = aw_error_set(AW_EREADONLY,
						  "Bucket '%s' is a remote (synced) bucket and cannot be imported into",
						  j->buckets[i].meta.bucket.id);
				goto out;
			}
		}
	}
	rc = import_events(j, store, &failed);
	for (int i = 0; i < 2; i++) {
		int wrc = chunk_wait(j, &j->chunks[i]);
		if (!rc && wrc) {
			rc = wrc;
			failed = &j->chunks[i];
		}
	}
	if (rc && failed)
		aw_error_set(rc, "%s", failed->w.error);
out:
	free_job(j);
	return rc;
}

int aw_transfer_import(aw_store *store, aw_reader *r, const char *doc, size_t len)
{
	return run_job(job_new(doc, len), store, r);
}

int aw_transfer_import_file(aw_store *store, aw_reader *r, const char *path)
{
	import_job *j;
	void *map;
	uint64_t size;
	size_t len;
	int fd, rc;

	if ((rc = aw_files_open_regular(&fd, &size, path)))
		return rc;
	if (size > SIZE_MAX) {
		close(fd);
		return aw_error_set(AW_ERANGE, "cannot read %s: too large to map", path);
	}
	len = (size_t)size;
	if (len == 0) { /* nothing to map: refused as any empty document */
		close(fd);
		return aw_transfer_import(store, r, "", 0);
	}
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = aw_error_set(AW_ERROR, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	(void)madvise(map, len, MADV_SEQUENTIAL);
	j = job_new(map, len);
	j->map = map;
	j->fd = fd;
	rc = run_job(j, store, r);
	munmap(map, len);
	close(fd);
	if (rc == 0) {
		/* Run without a node, nothing else would seal the imported closed days before
		 * the store closes: seal them all now (docs/storage.md, "Sealed days"). */
		aw_write w;
		memset(&w, 0, sizeof(w));
		w.kind = AW_W_SYNC_BARRIER;
		w.private_flags = AW_WRITE_SEAL_ALL;
		rc = aw_store_write(store, &w);
	}
	return rc;
}
