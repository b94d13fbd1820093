/*
 * Event routes: list (clipped to the requested window), insert, count, get one, delete
 * one, heartbeat. Query parameters are parsed on the HTTP thread so bad input is
 * answered at once; reads run on the reader pool, writes on the storage writer.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"
#include "aw/json_scan.h"
#include "aw/mem.h"

typedef struct range_args {
	aw_ns start, end;
	int64_t limit;
	int64_t event_id;
} range_args;

static void free_state(void *p)
{
	free(p);
}

static range_args *new_args(request *rq)
{
	range_args *a = aw_mem_calloc(1, sizeof(*a));

	rq->state = a;
	rq->state_free = free_state;
	return a;
}

/* start/end: strict RFC 3339 (Rocket hands the raw strings to the handler, which
 * answers 400). Absent start means 1970-01-01 as in aw-server-rust; absent end, +inf. */
static bool parse_bound(request *rq, const char *name, const char *label, aw_ns *out, aw_ns dflt)
{
	const char *s = rq_query(rq, name);
	int rc;

	if (!s) {
		*out = dflt;
		return true;
	}
	rc = aw_time_parse(out, s, strlen(s), AW_TIME_STRICT);
	if (rc == 0)
		return true;
	if (rc == AW_ERANGE)
		respond_message(rq, 400, "%s", aw_error_last());
	else
		respond_message(rq, 400,
				"Failed to parse %s, datetime needs to be in rfc3339 format: %s", label,
				aw_error_last());
	return false;
}

/* The range of GET .../events and .../events/count into a; false after answering 400. */
static bool parse_range(request *rq, range_args *a)
{
	return parse_bound(rq, "start", "starttime", &a->start, 0) &&
	       parse_bound(rq, "end", "endtime", &a->end, AW_NS_MAX);
}

/* limit: an unsigned integer; anything unparseable means "no limit" (Option<u64>). */
static int64_t parse_limit(request *rq)
{
	const char *s = rq_query(rq, "limit");
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

bool parse_event_id(request *rq, const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || errno || *end) {
		respond_catcher(rq, 422, "event id '%s' is not an integer", s);
		return false;
	}
	*out = v;
	return true;
}

/* Append events as a JSON array in REST field order. */
static int rows_json(aw_buf *b, aw_reader *r, const aw_event_row *rows, size_t n)
{
	const char *data;
	size_t len;
	int rc;

	aw_buf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if ((rc = aw_reader_data(&data, &len, r, rows[i].data_id)))
			return rc;
		if (i)
			aw_buf_putc(b, ',');
		aw_event_to_json(b, rows[i].id, true, rows[i].start, rows[i].duration, data, len);
	}
	aw_buf_putc(b, ']');
	return 0;
}

static void read_events(request *rq, aw_reader *r)
{
	range_args *a = rq->state;
	aw_event_row *rows;
	size_t n;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_event_rows(&rows, &n, r, rq->segs[3], a->start, a->end, a->limit,
				      AW_EVENTS_CLIP);

	if (!rc)
		rc = rows_json(&b, r, rows, n);
	free(rows);
	if (rc) {
		aw_buf_free(&b);
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	respond_json_buf(rq, 200, &b);
}

void api_events_get(request *rq)
{
	range_args *a = new_args(rq);

	if (!parse_range(rq, a))
		return;
	a->limit = parse_limit(rq);
	submit_read(rq, read_events);
}

static void read_count(request *rq, aw_reader *r)
{
	range_args *a = rq->state;
	int64_t count;
	int rc = aw_reader_event_count(&count, r, rq->segs[3], a->start, a->end);
	aw_buf b = AW_BUF_INIT;

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_buf_printf(&b, "%lld", (long long)count);
	respond_json_buf(rq, 200, &b);
}

void api_events_count(request *rq)
{
	range_args *a = new_args(rq);

	/* aw-server-rust ignores start/end here; aw-server-python honours them. Honouring
	 * them when given serves both: without them the answer is aw-server-rust's. */
	if (!parse_range(rq, a))
		return;
	submit_read(rq, read_count);
}

static void read_event(request *rq, aw_reader *r)
{
	range_args *a = rq->state;
	aw_event e;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_event_get(&e, r, rq->segs[3], a->event_id);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_event_to_json(&b, e.id, true, e.start, e.duration, e.data, e.data_len);
	aw_event_clear(&e);
	respond_json_buf(rq, 200, &b);
}

void api_event_get(request *rq)
{
	range_args *a = new_args(rq);

	if (parse_event_id(rq, rq->segs[5], &a->event_id))
		submit_read(rq, read_event);
}

static void after_empty(request *rq)
{
	if (rq->w.status)
		respond_store_error(rq, rq->w.status, rq->w.error);
	else
		respond_empty(rq, 200);
}

void api_event_delete(request *rq)
{
	if (!parse_event_id(rq, rq->segs[5], &rq->w.event_id))
		return;
	rq->w.kind = AW_W_EVENT_DELETE;
	rq->w.bucket_id = rq->segs[3];
	submit_write(rq, after_empty);
}

typedef struct events_state {
	aw_event *events;
	size_t n;
} events_state;

static void free_events_state(void *p)
{
	events_state *s = p;

	aw_events_free(s->events, s->n);
	free(s);
}

static void after_events(request *rq)
{
	aw_buf b = AW_BUF_INIT;

	if (rq->w.status) {
		respond_store_error(rq, rq->w.status, rq->w.error);
		return;
	}
	aw_buf_putc(&b, '[');
	for (size_t i = 0; i < rq->w.n_out_events; i++) {
		aw_event *e = &rq->w.out_events[i];
		if (i)
			aw_buf_putc(&b, ',');
		aw_event_to_json(&b, e->id, true, e->start, e->duration, e->data, e->data_len);
	}
	aw_buf_putc(&b, ']');
	respond_json_buf(rq, 200, &b);
}

static void after_heartbeat(request *rq)
{
	aw_buf b = AW_BUF_INIT;
	aw_event *e = rq->w.out_events;

	if (rq->w.status) {
		respond_store_error(rq, rq->w.status, rq->w.error);
		return;
	}
	aw_event_to_json(&b, e->id, true, e->start, e->duration, e->data, e->data_len);
	respond_json_buf(rq, 200, &b);
}

static events_state *new_events_state(request *rq)
{
	events_state *s = aw_mem_calloc(1, sizeof(*s));

	rq->state = s;
	rq->state_free = free_events_state;
	return s;
}

/* Events from a validated JSON body: a list, or a single object as aw-server-python
 * accepted. Any malformed element fails the request (aw-server-rust's Vec<Event>). */
static int events_from_body(events_state *st, request *rq)
{
	const char *vs, *ve;
	size_t cap = 0;
	aw_jscan s;
	int state = 0, rc;

	aw_jscan_init(&s, rq->body.data, rq->body.len);
	aw_jscan_ws(&s);
	if (*s.p == '{') {
		st->events = aw_mem_calloc(1, sizeof(*st->events));
		rc = aw_event_from_text(st->events, s.p, rq->body.data + rq->body.len);
		st->n = rc ? 0 : 1;
		return rc;
	}
	if (*s.p != '[')
		return aw_error_set(AW_ESHAPE, "expected a list of events");
	while (aw_jscan_element(&s, &state) == 1) {
		aw_jscan_skip(&s, &vs, &ve);
		if (st->n == cap) {
			cap = cap ? cap * 2 : 8;
			st->events = aw_mem_realloc(st->events, cap * sizeof(*st->events));
		}
		if ((rc = aw_event_from_text(&st->events[st->n], vs, ve)))
			return rc;
		st->n++;
	}
	return 0;
}

void api_events_post(request *rq)
{
	events_state *s;
	int rc;

	if (!body_validate(rq))
		return;
	s = new_events_state(rq);
	rc = events_from_body(s, rq);
	if (rc) {
		respond_catcher(rq, model_status(rc), "%s", aw_error_last());
		return;
	}
	if (!s->n) {
		/* aw-server-rust answers [] before looking the bucket up. */
		respond(rq, 200, "application/json", "[]", 2);
		return;
	}
	rq->w.kind = AW_W_EVENTS_INSERT;
	rq->w.bucket_id = rq->segs[3];
	rq->w.events = s->events;
	rq->w.n_events = s->n;
	submit_write(rq, after_events);
}

/* pulsetime: Rust's f64 parsing (decimal, exponent, inf, nan), then round(p * 1e9) with
 * Rust's saturating float-to-int cast (NaN becomes 0). */
static bool parse_pulsetime(request *rq, aw_ns *out)
{
	const char *s = rq_query(rq, "pulsetime");
	char *end;
	double p, ns;

	if (!s) {
		respond_catcher(rq, 422, "the query parameter 'pulsetime' is required");
		return false;
	}
	if (!*s || strpbrk(s, "xX") || strchr(" \t\n", *s)) {
		respond_catcher(rq, 422, "pulsetime '%s' is not a number", s);
		return false;
	}
	p = strtod(s, &end);
	if (*end) {
		respond_catcher(rq, 422, "pulsetime '%s' is not a number", s);
		return false;
	}
	ns = round(p * 1e9);
	if (isnan(ns))
		*out = 0;
	else if (ns >= 9223372036854775807.0)
		*out = AW_NS_MAX;
	else if (ns <= -9223372036854775808.0)
		*out = AW_NS_MIN;
	else
		*out = (aw_ns)ns;
	return true;
}

void api_heartbeat(request *rq)
{
	events_state *s;
	int rc;

	if (!parse_pulsetime(rq, &rq->w.pulsetime) || !body_validate(rq))
		return;
	s = new_events_state(rq);
	s->events = aw_mem_calloc(1, sizeof(*s->events));
	rc = aw_event_from_text(s->events, rq->body.data, rq->body.data + rq->body.len);
	if (rc) {
		respond_catcher(rq, model_status(rc), "%s", aw_error_last());
		return;
	}
	s->n = 1;
	rq->w.kind = AW_W_HEARTBEAT;
	rq->w.bucket_id = rq->segs[3];
	rq->w.events = s->events;
	rq->w.n_events = 1;
	submit_write(rq, after_heartbeat);
}
