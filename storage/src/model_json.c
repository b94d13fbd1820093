/*
 * ActivityWatch's JSON form of events and buckets (docs/api.md), both ways: parsing
 * request bodies and export documents into the storage models, and printing models in
 * the field order clients see. Shapes follow aw-models: an event needs `timestamp` and
 * `data` (an object), `duration` defaults to 0, `id` may be null; a bucket needs `type`,
 * `client` and `hostname`. Unknown fields are ignored.
 *
 * Errors: AW_ESHAPE for JSON of the wrong shape, AW_ERANGE for a well-formed value
 * awnode cannot represent (a time outside 1677-2262, a duration overflowing int64
 * nanoseconds); the node answers them 422 and 400, as aw-server-rust does.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/json.h"
#include "aw/json_scan.h"
#include "aw/mem.h"
#include "aw/model_json.h"
#include "aw/time.h"

/* A value whose time or duration cannot be represented: the message is already set. */
static int out_of_range(int rc)
{
	return rc == AW_ERANGE ? AW_ERANGE : AW_ESHAPE;
}

int aw_event_from_json(aw_event *e, const json_t *v)
{
	const json_t *ts, *dur, *data, *id;
	double secs;
	int rc;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(v))
		return aw_error_set(AW_ESHAPE, "an event must be a JSON object");
	ts = json_object_get(v, "timestamp");
	data = json_object_get(v, "data");
	dur = json_object_get(v, "duration");
	id = json_object_get(v, "id");
	if (!ts)
		return aw_error_set(AW_ESHAPE, "event is missing 'timestamp'");
	if (!json_is_string(ts))
		return aw_error_set(AW_ESHAPE, "event 'timestamp' must be a string");
	if (!data)
		return aw_error_set(AW_ESHAPE, "event is missing 'data'");
	if (!json_is_object(data))
		return aw_error_set(AW_ESHAPE, "event 'data' must be an object");
	if (dur && !json_is_null(dur) && !json_is_number(dur))
		return aw_error_set(AW_ESHAPE, "event 'duration' must be a number");
	if (id && !json_is_null(id) && !json_is_integer(id))
		return aw_error_set(AW_ESHAPE, "event 'id' must be an integer or null");
	rc = aw_time_parse(&e->start, json_string_value(ts), json_string_length(ts), AW_TIME_RELAXED);
	if (rc)
		return out_of_range(rc);
	secs = dur && json_is_number(dur) ? json_number_value(dur) : 0;
	if (aw_duration_from_seconds(&e->duration, secs))
		return AW_ERANGE;
	if (id && json_is_integer(id)) {
		e->has_id = true;
		e->id = json_integer_value(id);
	}
	e->data = aw_json_canonical_dup(data, &e->data_len);
	return 0;
}

void aw_events_free(aw_event *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aw_event_clear(&e[i]);
	free(e);
}

int aw_events_from_json(aw_event **out, size_t *n, const json_t *arr, bool lenient)
{
	size_t cnt = 0, total = json_array_size(arr);
	aw_event *v = aw_mem_calloc(total ? total : 1, sizeof(*v));
	int rc;

	for (size_t i = 0; i < total; i++) {
		rc = aw_event_from_json(&v[cnt], json_array_get(arr, i));
		if (rc == 0) {
			cnt++;
		} else if (!lenient || rc == AW_ERANGE) {
			/* A lenient list drops malformed events as aw-server-rust's TryVec does, but
			 * an out-of-range time crashed aw-server-rust: awnode refuses it (AW_ERANGE). */
			aw_events_free(v, cnt);
			return rc;
		}
	}
	*out = v;
	*n = cnt;
	return 0;
}

static int req_string(const json_t *o, const char *key, char **out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return aw_error_set(AW_ESHAPE, "bucket is missing '%s'", key);
	if (!json_is_string(v))
		return aw_error_set(AW_ESHAPE, "bucket '%s' must be a string", key);
	*out = strndup(json_string_value(v), json_string_length(v));
	return 0;
}

void aw_import_bucket_clear(aw_import_bucket *b)
{
	aw_bucket_clear(&b->bucket);
	aw_events_free(b->events, b->n_events);
	memset(b, 0, sizeof(*b));
}

int aw_bucket_from_json(aw_import_bucket *out, const json_t *v, const char *id)
{
	aw_bucket *b = &out->bucket;
	const json_t *created, *data, *events, *last, *jid;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(v))
		return aw_error_set(AW_ESHAPE, "a bucket must be a JSON object");
	if ((rc = req_string(v, "type", &b->type)) ||
	    (rc = req_string(v, "client", &b->client)) ||
	    (rc = req_string(v, "hostname", &b->hostname)))
		goto fail;
	jid = json_object_get(v, "id");
	if (id)
		b->id = strdup(id);
	else if (json_is_string(jid))
		b->id = strndup(json_string_value(jid), json_string_length(jid));
	else if (jid && !json_is_null(jid)) {
		rc = aw_error_set(AW_ESHAPE, "bucket 'id' must be a string");
		goto fail;
	} else
		b->id = strdup("");
	created = json_object_get(v, "created");
	if (created && !json_is_null(created)) {
		if (!json_is_string(created)) {
			rc = aw_error_set(AW_ESHAPE, "bucket 'created' must be a timestamp string");
			goto fail;
		}
		rc = aw_time_parse(&b->created, json_string_value(created), json_string_length(created),
				   AW_TIME_RELAXED);
		if (rc) {
			rc = out_of_range(rc);
			goto fail;
		}
		out->has_created = true;
	} else {
		b->created = aw_time_now();
	}
	data = json_object_get(v, "data");
	if (data && !json_is_null(data) && !json_is_object(data)) {
		rc = aw_error_set(AW_ESHAPE, "bucket 'data' must be an object");
		goto fail;
	}
	b->data = data && json_is_object(data) ? aw_json_canonical_dup(data, NULL) : strdup("{}");
	last = json_object_get(v, "last_updated");
	if (last && !json_is_null(last))
		b->last_updated = aw_json_canonical_dup(last, NULL);
	events = json_object_get(v, "events");
	if (events && !json_is_null(events)) {
		if (!json_is_array(events)) {
			rc = aw_error_set(AW_ESHAPE, "bucket 'events' must be a list");
			goto fail;
		}
		rc = aw_events_from_json(&out->events, &out->n_events, events, true);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	aw_import_bucket_clear(out);
	return rc;
}

void aw_event_to_json(aw_buf *b, int64_t id, bool has_id, aw_ns start, aw_ns duration, const char *data,
		size_t data_len)
{
	char ts[AW_TIME_BUFSZ], num[AW_FLOAT_BUFSZ];
	size_t tl = aw_time_format(ts, start), nl = aw_duration_format(num, duration);

	aw_buf_grow(b, data_len + 96);
	aw_buf_puts(b, "{\"id\":");
	if (has_id)
		aw_buf_put_i64(b, id);
	else
		aw_buf_puts(b, "null");
	aw_buf_puts(b, ",\"timestamp\":\"");
	aw_buf_append(b, ts, tl);
	aw_buf_puts(b, "\",\"duration\":");
	aw_buf_append(b, num, nl);
	aw_buf_puts(b, ",\"data\":");
	aw_buf_append(b, data, data_len);
	aw_buf_putc(b, '}');
}

static void json_str_or_null(aw_buf *b, const char *s)
{
	if (s)
		aw_buf_json_string(b, s, strlen(s));
	else
		aw_buf_puts(b, "null");
}


void aw_bucket_to_json(aw_buf *b, const aw_bucket *bk, const char *events_json, size_t events_len)
{
	aw_buf_puts(b, "{\"id\":");
	json_str_or_null(b, bk->id);
	aw_buf_puts(b, ",\"type\":");
	json_str_or_null(b, bk->type);
	aw_buf_puts(b, ",\"client\":");
	json_str_or_null(b, bk->client);
	aw_buf_puts(b, ",\"hostname\":");
	json_str_or_null(b, bk->hostname);
	aw_buf_puts(b, ",\"created\":");
	aw_buf_json_time(b, true, bk->created);
	aw_buf_puts(b, ",\"data\":");
	aw_buf_puts(b, bk->data ? bk->data : "{}");
	aw_buf_puts(b, ",\"metadata\":{\"start\":");
	aw_buf_json_time(b, bk->has_range, bk->start);
	aw_buf_puts(b, ",\"end\":");
	aw_buf_json_time(b, bk->has_range, bk->end);
	aw_buf_puts(b, "},\"events\":");
	if (events_json)
		aw_buf_append(b, events_json, events_len);
	else
		aw_buf_puts(b, "null");
	aw_buf_puts(b, ",\"last_updated\":");
	aw_buf_puts(b, bk->last_updated ? bk->last_updated : "null");
	aw_buf_putc(b, '}');
}

/* The event object at s->p (text aw_jscan_document accepted), leaving s->p after its
 * closing brace when it is an object; on any other value s->p has not moved. */
static int event_scan(aw_event *e, aw_jscan *s)
{
	const char *ks, *ke, *ts = NULL, *ts_end = NULL, *dur = NULL, *data = NULL,
				*data_end = NULL, *id = NULL, *id_end = NULL, *a, *b;
	aw_buf tmp = AW_BUF_INIT;
	int state = 0, rc;
	double secs = 0;

	memset(e, 0, sizeof(*e));
	aw_jscan_ws(s);
	if (s->p >= s->end || *s->p != '{')
		return aw_error_set(AW_ESHAPE, "an event must be a JSON object");
	while (aw_jscan_member(s, &state, &ks, &ke) == 1) {
		aw_jscan_skip(s, &a, &b);
		if (aw_jscan_key_is(ks, ke, "timestamp"))
			ts = a, ts_end = b;
		else if (aw_jscan_key_is(ks, ke, "duration"))
			dur = a;
		else if (aw_jscan_key_is(ks, ke, "data"))
			data = a, data_end = b;
		else if (aw_jscan_key_is(ks, ke, "id"))
			id = a, id_end = b;
	}
	if (!ts)
		return aw_error_set(AW_ESHAPE, "event is missing 'timestamp'");
	if (*ts != '"')
		return aw_error_set(AW_ESHAPE, "event 'timestamp' must be a string");
	if (!data)
		return aw_error_set(AW_ESHAPE, "event is missing 'data'");
	if (*data != '{')
		return aw_error_set(AW_ESHAPE, "event 'data' must be an object");
	if (dur && *dur != 'n' && *dur != '-' && (*dur < '0' || *dur > '9'))
		return aw_error_set(AW_ESHAPE, "event 'duration' must be a number");
	if (id && *id != 'n' && (memchr(id, '.', (size_t)(id_end - id)) || memchr(id, 'e', (size_t)(id_end - id)) ||
				 memchr(id, 'E', (size_t)(id_end - id)) || (*id != '-' && (*id < '0' || *id > '9'))))
		return aw_error_set(AW_ESHAPE, "event 'id' must be an integer or null");
	aw_jscan_string(&tmp, ts, ts_end);
	rc = aw_time_parse(&e->start, tmp.data ? tmp.data : "", tmp.len, AW_TIME_RELAXED);
	aw_buf_free(&tmp);
	if (rc)
		return out_of_range(rc);
	if (dur && *dur != 'n')
		secs = strtod(dur, NULL);
	if (aw_duration_from_seconds(&e->duration, secs))
		return AW_ERANGE;
	if (id && *id != 'n') {
		e->has_id = true;
		e->id = strtoll(id, NULL, 10);
	}
	aw_jscan_canonical(&tmp, data, data_end);
	e->data = aw_buf_steal(&tmp, &e->data_len);
	return 0;
}

int aw_event_from_text(aw_event *e, const char *vs, const char *ve)
{
	aw_jscan s;

	aw_jscan_init(&s, vs, (size_t)(ve - vs));
	return event_scan(e, &s);
}

int aw_event_from_scan(aw_event *e, aw_jscan *s)
{
	const char *p = s->p, *vs, *ve;
	int rc = event_scan(e, s);

	/* A refused event may have stopped anywhere in its value: skip it whole from its start. */
	if (rc) {
		s->p = p;
		aw_jscan_skip(s, &vs, &ve);
	}
	return rc;
}
