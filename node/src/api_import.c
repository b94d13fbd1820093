/*
 * POST /api/0/import: an export document as a JSON body, or as the multipart form part
 * the web UI sends (named "buckets.json", or "buckets"). New buckets are created with
 * their events; events for existing buckets are merged, skipping those identical to a
 * stored event, as aw-server-rust does.
 *
 * A year of data is a 40 MB document, so the import never builds one JSON tree. It runs
 * on the reader pool in two passes over the text: the first validates the whole document
 * and every bucket's fields (so a rejected import writes nothing), the second parses one
 * event at a time and hands the writer chunks of CHUNK events, parsing the next chunk
 * while the writer stores the previous one.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"
#include "aw/json_scan.h"
#include "aw/log.h"

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
		import_bucket_clear(&j->buckets[i].meta);
	free(j->buckets);
	for (int i = 0; i < 2; i++) {
		events_free(j->chunks[i].ib.events, j->chunks[i].ib.n_events);
		aw_write_clear(&j->chunks[i].w);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	free(j);
}

static const char *param(const char *header, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const char *p = header; (p = strcasestr(p, name)); p += nl) {
		if (p != header && p[-1] != ';' && p[-1] != ' ')
			continue;
		p += nl;
		if (*p == '"') {
			const char *e = strchr(++p, '"');
			*len = e ? (size_t)(e - p) : strlen(p);
		} else {
			*len = strcspn(p, "; \t");
		}
		return p;
	}
	return NULL;
}

/* The form part named buckets.json (or buckets) of a multipart/form-data body. */
static bool multipart_find(request *rq, const char **out, size_t *out_len)
{
	const char *bnd, *p, *end = rq->body.data + rq->body.len;
	char delim[256];
	size_t blen, dlen;

	bnd = param(rq->ctype, "boundary=", &blen);
	if (!bnd || blen == 0 || blen > 200 || !rq->body.len)
		return false;
	dlen = (size_t)snprintf(delim, sizeof(delim), "--%.*s", (int)blen, bnd);
	p = memmem(rq->body.data, rq->body.len, delim, dlen);
	while (p) {
		const char *hdr = p + dlen, *content, *next, *name;
		size_t nlen;
		bool match;
		char *headers;

		if (end - hdr >= 2 && hdr[0] == '-' && hdr[1] == '-')
			return false; /* closing delimiter */
		content = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
		if (!content)
			return false;
		content += 4;
		next = memmem(content, (size_t)(end - content), delim, dlen);
		if (!next)
			return false;
		headers = strndup(hdr, (size_t)(content - hdr));
		name = param(headers, "name=", &nlen);
		match = name && ((nlen == 12 && !strncmp(name, "buckets.json", 12)) ||
				 (nlen == 7 && !strncmp(name, "buckets", 7)));
		free(headers);
		if (match) {
			size_t clen = (size_t)(next - content);
			if (clen >= 2 && next[-2] == '\r' && next[-1] == '\n')
				clen -= 2;
			*out = content;
			*out_len = clen;
			return true;
		}
		p = next;
	}
	return false;
}

/* Parse one bucket object's fields (all but "events") and locate its events array. */
static int scan_bucket(aw_jscan *s, bucket_span *b, char *err, size_t errlen)
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
				snprintf(err, errlen, "bucket 'events' must be a list");
				return 422;
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
		snprintf(err, errlen, "%s", s->err);
		return 400;
	}
	rc = bucket_from_json(&b->meta, obj, NULL, err, errlen);
	json_decref(obj);
	return rc;
}

/* Out-of-range times are refused for the whole document (400) before anything is
 * written, while merely malformed events are dropped later, as aw-server-rust does. */
static int check_event_ranges(const bucket_span *b, char *err, size_t errlen)
{
	aw_jscan s;
	int state = 0;

	aw_jscan_init(&s, b->events, (size_t)(b->events_end - b->events));
	while (aw_jscan_element(&s, &state) == 1) {
		const char *vs, *ve;
		aw_event e;
		int rc;

		aw_jscan_skip(&s, &vs, &ve);
		rc = event_from_text(&e, vs, ve, err, errlen);
		aw_event_clear(&e);
		if (rc == 400)
			return 400;
		if (rc == 0 && e.start > AW_NS_MAX - (e.duration > 0 ? e.duration : 0)) {
			snprintf(err, errlen, "event end (timestamp + duration) is outside the supported range");
			return 400;
		}
	}
	return 0;
}

/* Pass 1: validate the document, collect every bucket's fields and events span. */
static int scan_document(import_job *j, char *err, size_t errlen)
{
	aw_jscan s;
	const char *ks, *ke, *vs, *ve;
	int state = 0, bstate = 0, rc;
	bool found = false;
	size_t cap = 0;

	aw_jscan_init(&s, j->doc, j->len);
	if (aw_jscan_document(&s)) {
		snprintf(err, errlen, "%s", s.err);
		return 400;
	}
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
			if (*s.p != '{') {
				snprintf(err, errlen, "bucket %.*s must be an object", (int)(ke - ks), ks);
				return 422;
			}
			if (j->n == cap) {
				cap = cap ? cap * 2 : 8;
				j->buckets = realloc(j->buckets, cap * sizeof(*j->buckets));
				if (!j->buckets)
					abort();
			}
			memset(&j->buckets[j->n], 0, sizeof(*j->buckets));
			rc = scan_bucket(&s, &j->buckets[j->n], err, errlen);
			if (rc)
				return rc;
			j->n++;
			if (j->buckets[j->n - 1].events && (rc = check_event_ranges(&j->buckets[j->n - 1], err, errlen)))
				return rc;
		}
	}
	if (found)
		return 0;
shape:
	snprintf(err, errlen, "an import document is {\"buckets\": {\"<id>\": bucket, ...}}");
	return 422;
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
	events_free(c->ib.events, c->ib.n_events);
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
			char err[256];

			aw_jscan_skip(&s, &vs, &ve);
			if (c->ib.n_events == c->cap) {
				c->cap = c->cap ? c->cap * 2 : 1024;
				c->ib.events = realloc(c->ib.events, c->cap * sizeof(aw_event));
				if (!c->ib.events)
					abort();
			}
			/* Malformed events are dropped, as aw-server-rust's lenient list does. */
			if (event_from_text(&c->ib.events[c->ib.n_events], vs, ve, err, sizeof(err)) == 0)
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
	import_job *j = calloc(1, sizeof(*j));

	if (!j)
		abort();
	j->doc = doc;
	j->len = len;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	return j;
}

int import_document(aw_store *store, aw_reader *r, const char *doc, size_t len, char *err, size_t errlen)
{
	import_job *j = job_new(doc, len);
	chunk *failed = NULL;
	int rc = scan_document(j, err, errlen);

	if (rc)
		goto out;
	/* Refuse before writing anything if any target is a remote (read-only) bucket. */
	for (size_t i = 0; i < j->n; i++) {
		aw_bucket existing;
		if (aw_reader_bucket(&existing, r, j->buckets[i].meta.bucket.id) == 0) {
			bool remote = existing.remote_device != NULL;
			aw_bucket_clear(&existing);
			if (remote) {
				snprintf(err, errlen, "Bucket '%s' is a remote (synced) bucket and cannot be imported into",
					 j->buckets[i].meta.bucket.id);
				rc = 403;
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
	if (rc) {
		snprintf(err, errlen, "%s", failed ? failed->w.error : aw_error_last());
		rc = rc == AW_EREADONLY ? 403 : rc == AW_ESHUTDOWN ? 503 : 500;
	}
out:
	free_job(j);
	return rc;
}

typedef struct import_request {
	const char *doc;
	size_t len;
} import_request;

static void run_import(request *rq, aw_reader *r)
{
	import_request *ir = rq->state;
	char err[512];
	int status = import_document(rq->n->store, r, ir->doc, ir->len, err, sizeof(err));

	if (!status) {
		aw_log_info("imported a document of %zu bytes", ir->len);
		respond_empty(rq, 200);
	}
	else if (status == 400 || status == 422)
		respond_catcher(rq, status, "%s", err);
	else
		respond_message(rq, status, "%s", err);
}

void api_import(request *rq)
{
	import_request *ir;
	const char *doc = rq->body.data;
	size_t len = rq->body.len;

	if (!ctype_is_json(rq->ctype) && !multipart_find(rq, &doc, &len)) {
		respond_catcher(rq, 400, "multipart import needs a form part named 'buckets.json'");
		return;
	}
	if (!len) {
		respond_catcher(rq, 400, "the import document is empty");
		return;
	}
	ir = calloc(1, sizeof(*ir));
	if (!ir)
		abort();
	ir->doc = doc;
	ir->len = len;
	rq->state = ir;
	rq->state_free = free;
	submit_read(rq, run_import);
}
