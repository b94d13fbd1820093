/*
 * GET /api/0/export and /api/0/buckets/<id>/export: the export document (built by
 * storage, aw/transfer.h) as an attachment named as aw-server-rust names it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/transfer.h"
#include "body.h"

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

static size_t export_read(request *rq, char *buf, size_t cap)
{
	return aw_export_read(rq->state, buf, cap);
}

static void export_close(void *x)
{
	aw_export_close(x);
}

/* The document is written while it is sent (aw_export): a year's export is ~40 MB of
 * text the node never holds whole. aw-server-rust sets no Content-Type on exports
 * (browsers save the attachment). */
static void read_export(request *rq, aw_reader *r)
{
	const char *id = rq->nsegs == 5 ? rq->segs[3] : NULL;
	aw_export *x;
	char *single = NULL;
	int rc = aw_export_open(&x, &single, r, id);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	/* one bucket (also in a full export) names the file, as in aw-server-rust */
	set_disposition(rq, single);
	free(single);
	rq->state = x;
	rq->state_free = export_close;
	rq->body_read = export_read;
	rq->body_len = aw_export_length(x);
	rq->status = 200;
	rq->resp_ctype = NULL;
}

void api_bucket_export(request *rq)
{
	submit_read(rq, read_export);
}

void api_export_all(request *rq)
{
	submit_read(rq, read_export);
}
