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

/* aw-server-rust sets no Content-Type on exports (browsers save the attachment). */
static void respond_export(request *rq, aw_buf *b)
{
	respond_json_buf(rq, 200, b);
	rq->resp_ctype = NULL;
}

static void read_export(request *rq, aw_reader *r)
{
	const char *id = rq->nsegs == 5 ? rq->segs[3] : NULL;
	aw_buf b = AW_BUF_INIT;
	char *single = NULL;
	int rc = aw_transfer_export(&b, &single, r, id);

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
