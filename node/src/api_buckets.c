/*
 * Bucket routes: list, get, create, delete. Reads go to the reader pool, writes to the
 * storage writer; the HTTP thread only parses and formats. A delete is answered after
 * the writer has also truncated the WAL, so the bucket's text is gone from the files.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"
#include "aw/log.h"
#include "aw/mem.h"

static void read_buckets_list(request *rq, aw_reader *r)
{
	aw_bucket *bks;
	size_t n;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_buckets(&bks, &n, r, 0);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		aw_buf_json_member(&b, i, bks[i].id);
		aw_bucket_to_json(&b, &bks[i], NULL, 0);
	}
	aw_buf_putc(&b, '}');
	aw_buckets_free(bks, n);
	respond_json_buf(rq, 200, &b);
}

void api_buckets_list(request *rq)
{
	submit_read(rq, read_buckets_list);
}

static void read_bucket(request *rq, aw_reader *r)
{
	aw_bucket bk;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_bucket(&bk, r, rq->segs[3]);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_bucket_to_json(&b, &bk, NULL, 0);
	aw_bucket_clear(&bk);
	respond_json_buf(rq, 200, &b);
}

void api_bucket_get(request *rq)
{
	submit_read(rq, read_bucket);
}

static void free_import_bucket(void *p)
{
	aw_import_bucket_clear(p);
	free(p);
}

static void after_create(request *rq)
{
	if (rq->w.status == AW_EEXISTS)
		/* aw-server-rust's handler body is dropped on the wire for 304 anyway. */
		respond_empty(rq, 304);
	else if (rq->w.status)
		respond_store_error(rq, rq->w.status, rq->w.error);
	else {
		aw_log_info("created bucket '%s'", rq->w.bucket->id);
		respond_empty(rq, 200);
	}
}

/* hostname "!local" means "this node": substitute our hostname and record our device id
 * in the bucket's data, as aw-server-rust does. */
static void apply_local_hostname(request *rq, aw_bucket *b)
{
	json_t *data;

	if (strcmp(b->hostname, "!local"))
		return;
	free(b->hostname);
	b->hostname = strdup(rq->n->cfg->hostname);
	data = aw_json_parse(b->data, strlen(b->data));
	if (!data)
		return;
	json_object_set_new(data, "device_id", json_string(rq->n->cfg->device_id));
	free(b->data);
	b->data = aw_json_canonical_dup(data, NULL);
	json_decref(data);
}

void api_bucket_create(request *rq)
{
	aw_import_bucket *ib = aw_mem_calloc(1, sizeof(*ib));
	json_t *v = body_json(rq);
	int rc;

	if (!v) {
		free(ib);
		return;
	}
	rc = aw_bucket_from_json(ib, v, rq->segs[3]);
	json_decref(v);
	if (rc) {
		free(ib);
		respond_catcher(rq, model_status(rc), "%s", aw_error_last());
		return;
	}
	apply_local_hostname(rq, &ib->bucket);
	rq->state = ib;
	rq->state_free = free_import_bucket;
	rq->w.kind = AW_W_BUCKET_CREATE;
	rq->w.bucket = &ib->bucket;
	rq->w.events = ib->events;
	rq->w.n_events = ib->n_events;
	submit_write(rq, after_create);
}

static void after_bucket_delete(request *rq)
{
	if (rq->w.status) {
		respond_store_error(rq, rq->w.status, rq->w.error);
		return;
	}
	aw_log_info("deleted bucket '%s'", rq->w.bucket_id);
	if (rq->w.wal_status)
		/* deleted, but a long read kept the writer from truncating the WAL
		 * (docs/storage.md): the next removal or the node's stop clears it */
		aw_log_warn("bucket '%s': its events' text stays in the write-ahead log until the next checkpoint",
			    rq->w.bucket_id);
	respond_empty(rq, 200);
}

void api_bucket_delete(request *rq)
{
	/* ?force=1 (required by aw-server-python outside testing mode) is accepted and
	 * ignored, as aw-server-rust does. */
	rq->w.kind = AW_W_BUCKET_DELETE;
	rq->w.bucket_id = rq->segs[3];
	submit_write(rq, after_bucket_delete);
}
