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
 * aw-server-rust does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/json.h"
#include "aw/json_scan.h"
#include "aw/mem.h"
#include "aw/model_json.h"
#include "aw/transfer.h"

static int bucket_events_json(aw_buf *b, aw_reader *r, const char *id)
{
	aw_event_row *rows;
	const char *data;
	size_t n, len;
	int rc = aw_reader_event_rows(&rows, &n, r, id, AW_NS_MIN, AW_NS_MAX, -1, 0);

	if (rc)
		return rc;
	aw_buf_putc(b, '[');
	for (size_t i = 0; i < n && !rc; i++) {
		rc = aw_reader_data(&data, &len, r, rows[i].data_id);
		if (rc)
			break;
		if (i)
			aw_buf_putc(b, ',');
		aw_event_to_json(b, rows[i].id, true, rows[i].start, rows[i].duration, data, len);
	}
	aw_buf_putc(b, ']');
	free(rows);
	return rc;
}

static int export_bucket(aw_buf *out, aw_reader *r, const aw_bucket *bk)
{
	aw_buf events = AW_BUF_INIT;
	int rc = bucket_events_json(&events, r, bk->id);

	if (!rc) {
		aw_buf_json_string(out, bk->id, strlen(bk->id));
		aw_buf_putc(out, ':');
		aw_bucket_to_json(out, bk, events.data, events.len);
	}
	aw_buf_free(&events);
	return rc;
}

int aw_transfer_export(aw_buf *out, char **single_id, aw_reader *r, const char *bucket_id)
{
	aw_bucket *bks = NULL;
	size_t n = 0;
	int rc;

	if ((rc = aw_reader_begin(r)))
		return rc;
	if (bucket_id) {
		bks = aw_mem_calloc(1, sizeof(*bks));
		rc = aw_reader_bucket(bks, r, bucket_id);
		n = rc ? 0 : 1;
	} else {
		rc = aw_reader_buckets(&bks, &n, r, 0);
	}
	aw_buf_puts(out, "{\"buckets\":{");
	for (size_t i = 0; i < n && !rc; i++) {
		if (i)
			aw_buf_putc(out, ',');
		rc = export_bucket(out, r, &bks[i]);
	}
	aw_buf_puts(out, "}}");
	aw_reader_end(r);
	if (single_id)
		*single_id = n == 1 ? strdup(bks[0].id) : NULL;
	aw_buckets_free(bks, n);
	return rc;
}


#define CHUNK 8192

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

typedef struct import_job {
	const char *doc;
	size_t len;
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

/* Parse one bucket object's fields (all but "events") and locate its events array. */
static int scan_bucket(aw_jscan *s, bucket_span *b)
{
	const char *ks, *ke, *vs, *ve;
	json_t *obj = json_object();
	int state = 0, rc;

	while ((rc = aw_jscan_member(s, &state, &ks, &ke)) == 1) {
		if (aw_jscan_value(s, &vs, &ve))
			break;
		if (aw_jscan_key_is(ks, ke, "events")) {
			if (*vs == '[') {
				b->events = vs;
				b->events_end = ve;
			} else if (*vs != 'n') {
				json_decref(obj);
				return aw_error_set(AW_ESHAPE, "bucket 'events' must be a list");
			}
			continue;
		}
		json_t *k = aw_json_parse(ks, (size_t)(ke - ks)), *v = aw_json_parse(vs, (size_t)(ve - vs));
		if (k && v)
			json_object_setn_nocheck(obj, json_string_value(k), json_string_length(k), v);
		json_decref(k);
		json_decref(v);
	}
	if (rc < 0) {
		json_decref(obj);
		return aw_error_set(AW_EINVALID, "%s", s->err);
	}
	rc = aw_bucket_from_json(&b->meta, obj, NULL);
	json_decref(obj);
	return rc;
}

/* Out-of-range times are refused for the whole document (AW_ERANGE) before anything is
 * written, while merely malformed events are dropped later, as aw-server-rust does. */
static int check_event_ranges(const bucket_span *b)
{
	aw_jscan s;
	int state = 0;

	aw_jscan_init(&s, b->events, (size_t)(b->events_end - b->events));
	while (aw_jscan_element(&s, &state) == 1) {
		const char *vs, *ve;
		aw_event e;
		int rc;

		aw_jscan_skip(&s, &vs, &ve);
		rc = aw_event_from_text(&e, vs, ve);
		aw_event_clear(&e);
		if (rc == AW_ERANGE)
			return rc;
		if (rc == 0 && e.start > AW_NS_MAX - (e.duration > 0 ? e.duration : 0))
			return aw_error_set(AW_ERANGE, "event end (timestamp + duration) is outside the supported range");
	}
	return 0;
}

/* Pass 1: validate the document, collect every bucket's fields and events span. */
static int scan_document(import_job *j)
{
	aw_jscan s;
	const char *ks, *ke, *vs, *ve;
	int state = 0, bstate = 0, rc;
	bool found = false;
	size_t cap = 0;

	aw_jscan_init(&s, j->doc, j->len);
	if (aw_jscan_document(&s))
		return aw_error_set(AW_EINVALID, "%s", s.err);
	aw_jscan_init(&s, j->doc, j->len);
	aw_jscan_ws(&s);
	if (*s.p != '{')
		goto shape;
	while ((rc = aw_jscan_member(&s, &state, &ks, &ke)) == 1) {
		if (!aw_jscan_key_is(ks, ke, "buckets")) {
			aw_jscan_value(&s, &vs, &ve);
			continue;
		}
		if (*s.p != '{')
			goto shape;
		found = true;
		while ((rc = aw_jscan_member(&s, &bstate, &ks, &ke)) == 1) {
			if (*s.p != '{')
				return aw_error_set(AW_ESHAPE, "bucket %.*s must be an object", (int)(ke - ks), ks);
			j->buckets = aw_mem_grow(j->buckets, j->n, &cap, sizeof(*j->buckets), 8);
			memset(&j->buckets[j->n], 0, sizeof(*j->buckets));
			rc = scan_bucket(&s, &j->buckets[j->n]);
			if (rc)
				return rc;
			j->n++;
			if (j->buckets[j->n - 1].events && (rc = check_event_ranges(&j->buckets[j->n - 1])))
				return rc;
		}
	}
	if (found)
		return 0;
shape:
	return aw_error_set(AW_ESHAPE, "an import document is {\"buckets\": {\"<id>\": bucket, ...}}");
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

/* Pass 2: events bucket by bucket, in chunks, two writes in flight at most. */
static int import_events(import_job *j, aw_store *store, chunk **failed)
{
	int cur = 0, rc;

	for (size_t i = 0; i < j->n; i++) {
		bucket_span *b = &j->buckets[i];
		aw_jscan s;
		int state = 0;
		bool any = false;

		if (b->events)
			aw_jscan_init(&s, b->events, (size_t)(b->events_end - b->events));
		while (b->events && (rc = aw_jscan_element(&s, &state)) == 1) {
			const char *vs, *ve;
			chunk *c = &j->chunks[cur];
			aw_jscan_skip(&s, &vs, &ve);
			c->ib.events = aw_mem_grow(c->ib.events, c->ib.n_events, &c->cap, sizeof(aw_event), 1024);
			/* Malformed events are dropped, as aw-server-rust's lenient list does. */
			if (aw_event_from_text(&c->ib.events[c->ib.n_events], vs, ve) == 0)
				c->ib.n_events++;
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
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	return j;
}

int aw_transfer_import(aw_store *store, aw_reader *r, const char *doc, size_t len)
{
	import_job *j = job_new(doc, len);
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

