/*
 * Export and import of ActivityWatch export documents:
 *   {"buckets": {"<id>": {<bucket fields>, "events": [<event>, ...]}}}
 * Exports read one consistent snapshot (every bucket and event as of one commit).
 * Imports accept the document as a JSON body or as the multipart part the web UI sends
 * (named "buckets.json", or "buckets"), and merge into existing buckets without
 * duplicating identical events (reference §3.5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"

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
		event_json(b, rows[i].id, true, rows[i].start, rows[i].duration, data, len);
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
		bucket_json(out, bk, events.data, events.len);
	}
	aw_buf_free(&events);
	return rc;
}

static void set_disposition(request *rq, const char *single_id)
{
	char *v;

	if (single_id) {
		if (asprintf(&v, "attachment; filename=aw-bucket-export_%s.json", single_id) < 0)
			abort();
	} else {
		v = strdup("attachment; filename=aw-buckets-export.json");
	}
	/* Header values cannot carry CR/LF; a bucket id never legitimately has them. */
	for (char *p = v; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = '_';
	respond_header(rq, "content-disposition:", v);
	free(v);
}

/* The reference sets no Content-Type on exports (browsers save the attachment). */
static void respond_export(request *rq, aw_buf *b)
{
	respond_json_buf(rq, 200, b);
	rq->resp_ctype = NULL;
}

static void read_bucket_export(request *rq, aw_reader *r)
{
	aw_bucket bk;
	aw_buf b = AW_BUF_INIT;
	int rc;

	if (aw_reader_begin(r)) {
		respond_store_error(rq, AW_ERROR, aw_error_last());
		return;
	}
	rc = aw_reader_bucket(&bk, r, rq->segs[3]);
	if (!rc) {
		aw_buf_puts(&b, "{\"buckets\":{");
		rc = export_bucket(&b, r, &bk);
		aw_buf_puts(&b, "}}");
		aw_bucket_clear(&bk);
	}
	aw_reader_end(r);
	if (rc) {
		aw_buf_free(&b);
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	set_disposition(rq, rq->segs[3]);
	respond_export(rq, &b);
}

void api_bucket_export(request *rq)
{
	submit_read(rq, read_bucket_export);
}

static void read_export_all(request *rq, aw_reader *r)
{
	aw_bucket *bks = NULL;
	size_t n = 0;
	aw_buf b = AW_BUF_INIT;
	int rc;

	if (aw_reader_begin(r)) {
		respond_store_error(rq, AW_ERROR, aw_error_last());
		return;
	}
	rc = aw_reader_buckets(&bks, &n, r, 0);
	aw_buf_puts(&b, "{\"buckets\":{");
	for (size_t i = 0; i < n && !rc; i++) {
		if (i)
			aw_buf_putc(&b, ',');
		rc = export_bucket(&b, r, &bks[i]);
	}
	aw_buf_puts(&b, "}}");
	aw_reader_end(r);
	if (rc) {
		aw_buckets_free(bks, n);
		aw_buf_free(&b);
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	set_disposition(rq, n == 1 ? bks[0].id : NULL);
	aw_buckets_free(bks, n);
	respond_export(rq, &b);
}

void api_export_all(request *rq)
{
	submit_read(rq, read_export_all);
}

/* ---- import ------------------------------------------------------------------ */

typedef struct import_state {
	aw_import_bucket *buckets;
	size_t n;
} import_state;

static void free_import_state(void *p)
{
	import_state *s = p;

	for (size_t i = 0; i < s->n; i++)
		import_bucket_clear(&s->buckets[i]);
	free(s->buckets);
	free(s);
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

/* Find the form part named buckets.json (or buckets) in a multipart/form-data body. */
static bool multipart_find(request *rq, const char **out, size_t *out_len)
{
	const char *bnd, *p, *end = rq->body.data + rq->body.len;
	char delim[256];
	size_t blen, dlen;

	bnd = param(rq->ctype, "boundary=", &blen);
	if (!bnd || blen == 0 || blen > 200)
		return false;
	dlen = (size_t)snprintf(delim, sizeof(delim), "--%.*s", (int)blen, bnd);
	p = memmem(rq->body.data, rq->body.len, delim, dlen);
	while (p) {
		const char *hdr = p + dlen, *content, *next, *name;
		size_t nlen;

		if (end - hdr >= 2 && hdr[0] == '-' && hdr[1] == '-')
			return false; /* closing delimiter */
		content = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
		if (!content)
			return false;
		content += 4;
		next = memmem(content, (size_t)(end - content), delim, dlen);
		if (!next)
			return false;
		{
			char *headers = strndup(hdr, (size_t)(content - hdr));
			name = param(headers, "name=", &nlen);
			bool match = name && ((nlen == 12 && !strncmp(name, "buckets.json", 12)) ||
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
		}
		p = next;
	}
	return false;
}

static void after_import(request *rq)
{
	if (rq->w.status)
		respond_store_error(rq, rq->w.status,
				    rq->w.status == AW_ERROR ? rq->w.error : rq->w.error);
	else
		respond_empty(rq, 200);
}

void api_import(request *rq)
{
	const char *doc = rq->body.data;
	size_t doc_len = rq->body.len;
	json_t *v, *buckets, *b;
	import_state *s;
	const char *key;
	char err[512];
	int rc;

	if (!ctype_is_json(rq->ctype) && !multipart_find(rq, &doc, &doc_len)) {
		respond_catcher(rq, 400, "multipart import needs a form part named 'buckets.json'");
		return;
	}
	if (!doc_len) {
		respond_catcher(rq, 400, "the import document is empty");
		return;
	}
	v = aw_json_parse(doc, doc_len);
	if (!v) {
		respond_catcher(rq, 400, "%s", aw_error_last());
		return;
	}
	buckets = json_object_get(v, "buckets");
	if (!json_is_object(v) || !json_is_object(buckets)) {
		json_decref(v);
		respond_catcher(rq, 422, "an import document is {\"buckets\": {\"<id>\": bucket, ...}}");
		return;
	}
	s = calloc(1, sizeof(*s));
	s->buckets = calloc(json_object_size(buckets) + 1, sizeof(*s->buckets));
	if (!s || !s->buckets)
		abort();
	rq->state = s;
	rq->state_free = free_import_state;
	json_object_foreach(buckets, key, b) {
		/* The map key is ignored: the bucket's own "id" names it (missing = ""). */
		rc = bucket_from_json(&s->buckets[s->n], b, NULL, err, sizeof(err));
		if (rc) {
			json_decref(v);
			respond_catcher(rq, rc, "bucket '%s': %s", key, err);
			return;
		}
		s->n++;
	}
	json_decref(v);
	rq->w.kind = AW_W_IMPORT;
	rq->w.imports = s->buckets;
	rq->w.n_imports = s->n;
	submit_write(rq, after_import);
}
