/*
 * Export and import of ActivityWatch export documents:
 *   {"buckets": {"<id>": {<bucket fields>, "events": [<event>, ...]}}}
 * Exports read one consistent snapshot (every bucket and event as of one commit).
 * Imports are in api_import.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* aw-server-rust sets no Content-Type on exports (browsers save the attachment). */
static void respond_export(request *rq, aw_buf *b)
{
	respond_json_buf(rq, 200, b);
	rq->resp_ctype = NULL;
}

int export_document(aw_buf *out, aw_reader *r, const char *bucket_id, char **single_id)
{
	aw_bucket *bks = NULL;
	size_t n = 0;
	int rc;

	if ((rc = aw_reader_begin(r)))
		return rc;
	if (bucket_id) {
		bks = calloc(1, sizeof(*bks));
		if (!bks)
			abort();
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

static void read_export(request *rq, aw_reader *r)
{
	const char *id = rq->nsegs == 5 ? rq->segs[3] : NULL;
	aw_buf b = AW_BUF_INIT;
	char *single = NULL;
	int rc = export_document(&b, r, id, &single);

	if (rc) {
		free(single);
		aw_buf_free(&b);
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	/* one bucket (also in a full export) names the file, as in aw-server-rust */
	set_disposition(rq, single);
	free(single);
	respond_export(rq, &b);
}

void api_bucket_export(request *rq)
{
	submit_read(rq, read_export);
}

void api_export_all(request *rq)
{
	submit_read(rq, read_export);
}
