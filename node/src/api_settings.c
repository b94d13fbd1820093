/*
 * Settings: opaque JSON values under string keys, shared with ActivityWatch's web UI
 * (`classes`, `privacy_filters`, ...). Keys must be shorter than 128 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"

static bool key_ok(request *rq)
{
	if (strlen(rq->segs[3]) >= 128) {
		respond_message(rq, 400, "Too long key");
		return false;
	}
	return true;
}

static void read_all(request *rq, aw_reader *r)
{
	char **keys, **values;
	size_t n;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_settings(&keys, &values, &n, r);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			aw_buf_putc(&b, ',');
		aw_buf_json_string(&b, keys[i], strlen(keys[i]));
		aw_buf_putc(&b, ':');
		aw_buf_puts(&b, values[i]);
	}
	aw_buf_putc(&b, '}');
	aw_strings_free(keys, n);
	aw_strings_free(values, n);
	respond_json_buf(rq, 200, &b);
}

void api_settings_all(request *rq)
{
	submit_read(rq, read_all);
}

static void read_one(request *rq, aw_reader *r)
{
	char *value = NULL;
	int rc = aw_reader_setting(&value, r, rq->segs[3]);

	if (rc == AW_ENOTFOUND)
		respond(rq, 200, "application/json", "null", 4);
	else if (rc)
		respond_store_error(rq, rc, aw_error_last());
	else
		respond(rq, 200, "application/json", value, strlen(value));
	free(value);
}

void api_setting_get(request *rq)
{
	if (key_ok(rq))
		submit_read(rq, read_one);
}

static void after_set(request *rq)
{
	if (rq->w.status)
		respond_store_error(rq, rq->w.status, rq->w.error);
	else
		respond_empty(rq, rq->w.kind == AW_W_SETTING_SET ? 201 : 200);
}

void api_setting_set(request *rq)
{
	json_t *v;
	char *text;

	if (!key_ok(rq) || !(v = body_json(rq)))
		return;
	text = aw_json_canonical_dup(v, NULL);
	json_decref(v);
	rq->state = text;
	rq->state_free = free;
	rq->w.kind = AW_W_SETTING_SET;
	rq->w.key = rq->segs[3];
	rq->w.value = text;
	submit_write(rq, after_set);
}

void api_setting_delete(request *rq)
{
	if (!key_ok(rq))
		return;
	rq->w.kind = AW_W_SETTING_DELETE;
	rq->w.key = rq->segs[3];
	submit_write(rq, after_set);
}
