/*
 * The HTTP server: libwebsockets glue, the request lifecycle and response writing.
 *
 * Everything in this file runs on the single libwebsockets service thread except
 * node_done(), which worker and writer threads call to hand a finished request back.
 * Finished requests are queued under done_mu and the loop is woken with
 * lws_cancel_service(); one wake-up drains every request finished since the last,
 * so a committed batch of 100 heartbeats costs one wake-up.
 */
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aw/fifo.h"
#include "aw/json.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "aw/time.h"
#include "http.h"
#include "server.h"

typedef struct conn {
	request *rq;
} conn;

#define WRITE_CHUNK (64 * 1024)
static unsigned char write_scratch[LWS_PRE + WRITE_CHUNK];
static volatile sig_atomic_t interrupted;
static struct lws_context *signal_ctx;

/* ---- request helpers ----------------------------------------------------------- */

const char *rq_seg(request *rq, int i)
{
	return i < rq->nsegs ? rq->segs[i] : NULL;
}

const char *rq_query(request *rq, const char *key)
{
	for (int i = 0; i < rq->nq; i++)
		if (!strcmp(rq->qkeys[i], key))
			return rq->qvals[i];
	return NULL;
}

/* A copy of s[0..n) (NUL-terminated) in the request's string space, or malloc'd once
 * that is full; rq_str_free tells which. */
static char *rq_strndup(request *rq, const char *s, size_t n)
{
	char *p;

	if (n < sizeof(rq->strs) - rq->strs_used) {
		p = rq->strs + rq->strs_used;
		rq->strs_used += n + 1;
	} else {
		p = aw_mem_malloc(n + 1);
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void rq_str_free(request *rq, char *p)
{
	if (p < rq->strs || p >= rq->strs + sizeof(rq->strs))
		free(p);
}

void request_free(request *rq)
{
	if (!rq)
		return;
	rq_str_free(rq, rq->path);
	for (int i = 0; i < rq->nsegs; i++)
		rq_str_free(rq, rq->segs[i]);
	for (int i = 0; i < rq->nq; i++) {
		rq_str_free(rq, rq->qkeys[i]);
		rq_str_free(rq, rq->qvals[i]);
	}
	free(rq->qkeys);
	free(rq->qvals);
	rq_str_free(rq, rq->host);
	rq_str_free(rq, rq->origin);
	rq_str_free(rq, rq->auth);
	rq_str_free(rq, rq->ctype);
	rq_str_free(rq, rq->accept);
	rq_str_free(rq, rq->acrm);
	rq_str_free(rq, rq->acrh);
	aw_buf_free(&rq->body);
	aw_buf_free(&rq->resp);
	aw_buf_free(&rq->resp_headers);
	aw_write_clear(&rq->w);
	if (rq->state_free)
		rq->state_free(rq->state);
	free(rq);
}

static char *hdr_dup(request *rq, enum lws_token_indexes tok)
{
	int len = lws_hdr_total_length(rq->wsi, tok);
	char buf[1024], *s;

	if (len <= 0)
		return NULL;
	if (len < (int)sizeof(buf)) {
		if (lws_hdr_copy(rq->wsi, buf, (int)sizeof(buf), tok) < 0)
			return NULL;
		return rq_strndup(rq, buf, strlen(buf));
	}
	s = aw_mem_malloc((size_t)len + 1);
	if (lws_hdr_copy(rq->wsi, s, len + 1, tok) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

static char *custom_hdr_dup(request *rq, const char *name)
{
	int nlen = (int)strlen(name), len = lws_hdr_custom_length(rq->wsi, name, nlen);
	char *s;

	if (len < 0)
		return NULL;
	s = aw_mem_malloc((size_t)len + 1);
	if (lws_hdr_custom_copy(rq->wsi, s, len + 1, name, nlen) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

/* The path's non-empty segments between slashes, as strtok would split them. */
static void split_path(request *rq)
{
	const char *p = rq->path;
	size_t n;

	for (;;) {
		p += strspn(p, "/");
		if (!*p)
			break;
		if (rq->nsegs == MAX_SEGS) {
			rq->too_many_segs = true;
			break;
		}
		n = strcspn(p, "/");
		rq->segs[rq->nsegs++] = rq_strndup(rq, p, n);
		p += n;
	}
}

static void read_query_args(request *rq)
{
	char buf[8192];
	int cap = 0;

	for (int i = 0;; i++) {
		int n = lws_hdr_copy_fragment(rq->wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i);
		char *eq;
		if (n < 0)
			break;
		if (rq->nq == cap) {
			cap = cap ? cap * 2 : 4;
			rq->qkeys = aw_mem_realloc(rq->qkeys, (size_t)cap * sizeof(char *));
			rq->qvals = aw_mem_realloc(rq->qvals, (size_t)cap * sizeof(char *));
		}
		eq = strchr(buf, '=');
		rq->qkeys[rq->nq] = rq_strndup(rq, buf, eq ? (size_t)(eq - buf) : strlen(buf));
		rq->qvals[rq->nq] = eq ? rq_strndup(rq, eq + 1, strlen(eq + 1)) : rq_strndup(rq, "", 0);
		rq->nq++;
	}
}

static const struct {
	enum lws_token_indexes tok;
	http_method m;
} methods[] = {
	{WSI_TOKEN_GET_URI, M_GET},         {WSI_TOKEN_POST_URI, M_POST},
	{WSI_TOKEN_OPTIONS_URI, M_OPTIONS}, {WSI_TOKEN_PUT_URI, M_PUT},
	{WSI_TOKEN_PATCH_URI, M_PATCH},     {WSI_TOKEN_DELETE_URI, M_DELETE},
	{WSI_TOKEN_HEAD_URI, M_HEAD},
};

static request *request_new(node *n, struct lws *wsi, const char *uri)
{
	request *rq = aw_mem_calloc(1, sizeof(*rq));

	rq->n = n;
	rq->wsi = wsi;
	rq->method = M_OTHER;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			rq->method = methods[i].m;
			break;
		}
	}
	uri = uri ? uri : "/";
	rq->path = rq_strndup(rq, uri, strlen(uri));
	split_path(rq);
	read_query_args(rq);
	rq->host = hdr_dup(rq, WSI_TOKEN_HOST);
	rq->origin = hdr_dup(rq, WSI_TOKEN_ORIGIN);
	rq->auth = hdr_dup(rq, WSI_TOKEN_HTTP_AUTHORIZATION);
	rq->ctype = hdr_dup(rq, WSI_TOKEN_HTTP_CONTENT_TYPE);
	rq->accept = hdr_dup(rq, WSI_TOKEN_HTTP_ACCEPT);
	rq->acrm = custom_hdr_dup(rq, "access-control-request-method:");
	rq->acrh = hdr_dup(rq, WSI_TOKEN_HTTP_AC_REQUEST_HEADERS); /* a header lws knows */
	return rq;
}

/* ---- responses ----------------------------------------------------------------- */

void respond(request *rq, int status, const char *ctype, const char *body, size_t len)
{
	rq->status = status;
	rq->resp_ctype = ctype;
	aw_buf_reset(&rq->resp);
	if (len)
		aw_buf_append(&rq->resp, body, len);
}

void respond_empty(request *rq, int status)
{
	respond(rq, status, NULL, NULL, 0);
}

void respond_json_buf(request *rq, int status, aw_buf *body)
{
	aw_buf_free(&rq->resp);
	rq->resp = *body;
	*body = (aw_buf)AW_BUF_INIT;
	rq->status = status;
	rq->resp_ctype = "application/json";
}

static void message_body(aw_buf *b, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	aw_buf_puts(b, "{\"message\":");
	aw_buf_json_string(b, msg, strlen(msg));
	aw_buf_putc(b, '}');
}

void respond_message(request *rq, int status, const char *fmt, ...)
{
	aw_buf b = AW_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	message_body(&b, fmt, ap);
	va_end(ap);
	respond_json_buf(rq, status, &b);
}

/* Rocket's reason phrase and description for each status awnode's catcher answers with;
 * any other status is answered as a 500. */
static const struct catcher_text {
	int status;
	const char *reason, *desc;
} catcher_texts[] = {
	{400, "Bad Request", "The request could not be understood by the server due to malformed syntax."},
	{401, "Unauthorized", "The request requires user authentication."},
	{403, "Forbidden", "The server refused to authorize the request."},
	{404, "Not Found", "The requested resource could not be found."},
	{411, "Length Required", "The request requires a Content-Length header."},
	{413, "Payload Too Large", "The request is larger than the server is willing or able to process."},
	{422, "Unprocessable Entity",
	 "The request was well-formed but was unable to be followed due to semantic errors."},
	{501, "Not Implemented", "The server does not support the functionality required to fulfill the request."},
	{500, "Internal Server Error", "The server encountered an internal error while processing this request."},
};

static const struct catcher_text *catcher_text(int status)
{
	size_t n = sizeof(catcher_texts) / sizeof(catcher_texts[0]);

	for (size_t i = 0; i < n - 1; i++)
		if (catcher_texts[i].status == status)
			return &catcher_texts[i];
	return &catcher_texts[n - 1];
}

/* Rocket's default catcher shape ({"error": {code, reason, description}}) plus the
 * "message" every awnode error carries (docs/api.md, "Error bodies"). Always JSON: no client depends on
 * Rocket's HTML error page, and every client can read JSON. */
void respond_catcher(request *rq, int status, const char *fmt, ...)
{
	aw_buf b = AW_BUF_INIT;
	const struct catcher_text *t = catcher_text(status);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	aw_buf_printf(&b, "{\"error\":{\"code\":%d,\"reason\":\"%s\",\"description\":\"%s\"},\"message\":",
		      status, t->reason, t->desc);
	aw_buf_json_string(&b, msg, strlen(msg));
	aw_buf_putc(&b, '}');
	respond_json_buf(rq, status, &b);
}

void respond_header(request *rq, const char *name, const char *value)
{
	aw_buf_puts(&rq->resp_headers, name);
	aw_buf_putc(&rq->resp_headers, '\0');
	aw_buf_puts(&rq->resp_headers, value);
	aw_buf_putc(&rq->resp_headers, '\0');
}

int http_status_of(int code)
{
	switch (code) {
	case 0: return 200;
	case AW_ENOTFOUND: return 404;
	case AW_EEXISTS: return 304;
	case AW_EREADONLY: return 403;
	case AW_EINVALID:
	case AW_ERANGE: return 400;
	case AW_ESHAPE: return 422;
	case AW_ESHUTDOWN: return 503;
	default: return 500;
	}
}

void respond_store_error(request *rq, int code, const char *msg)
{
	int status = http_status_of(code);

	if (status == 500)
		aw_log_error("storage error: %s", msg);
	respond_message(rq, status, "%s", msg);
}

/* ---- async hand-off ------------------------------------------------------------- */

/*
 * With AW_WRITE_TRACE set (as for the writer's own trace, storage/src/write_trace.c),
 * the loop logs every few seconds how long a hand-back waited for the loop to wake and
 * how long the loop then took to answer what it drained: the two steps of a write's
 * time after the writer (docs/storage.md, "Where a write's time goes").
 */
#define TRACE_EVERY_NS ((aw_ns)5 * AW_NS_PER_SEC)

struct loop_trace {
	aw_ns woken;           /* when a hand-back woke the loop; under done_mu */
	aw_ns since, waking, answering;
	long drains, answered;
};

static void trace_open(node *n)
{
	if (aw_log_trace_on("AW_WRITE_TRACE"))
		n->trace = aw_mem_calloc(1, sizeof(*n->trace));
}

static void trace_report(struct loop_trace *t, aw_ns now)
{
	double d = (double)t->drains;

	if (t->drains)
		aw_log_info("http loop: %ld wake-ups handing back %.1f requests each in %.1f s; per wake-up, us: "
			    "waking the loop %.0f, answering %.0f",
			    t->drains, (double)t->answered / d, (double)(now - t->since) / 1e9,
			    (double)t->waking / 1e3 / d, (double)t->answering / 1e3 / d);
	t->waking = t->answering = 0;
	t->drains = t->answered = 0;
	t->since = now;
}

/* After a drain that began at `start`, woken then, and answered `count` requests. */
static void trace_drain(struct loop_trace *t, aw_ns woken, aw_ns start, long count)
{
	aw_ns now = aw_time_monotonic();

	if (!t->since)
		t->since = woken;
	t->waking += start - woken;
	t->answering += now - start;
	t->drains++;
	t->answered += count;
	if (now - t->since >= TRACE_EVERY_NS)
		trace_report(t, now);
}

/* Queue the finished requests head..tail (linked by next) for the loop. */
static void hand_back(node *n, request *head, request *tail)
{
	bool wake;

	pthread_mutex_lock(&n->done_mu);
	if (!n->loop_alive) {
		/* The loop is gone (shutdown): nobody will write these responses. */
		pthread_mutex_unlock(&n->done_mu);
		for (request *next; head; head = next) {
			next = head->next;
			request_free(head);
		}
		return;
	}
	wake = !n->done_head;
	if (wake && n->trace)
		n->trace->woken = aw_time_monotonic();
	if (n->done_tail)
		n->done_tail->next = head;
	else
		n->done_head = head;
	n->done_tail = tail;
	pthread_mutex_unlock(&n->done_mu);
	if (wake)
		lws_cancel_service(n->ctx);
}

void node_done(request *rq)
{
	rq->next = NULL;
	hand_back(rq->n, rq, rq);
}

/*
 * A committed batch comes back in one piece: write_done, on the writer thread, only
 * collects the batch's requests, and node_batch_done (the store's batch_done, called
 * after the batch's last done) queues them under one lock. Taken once per request,
 * done_mu had the writer and the loop thread draining the first answers contend for
 * it, a futex call on each side.
 */
static void write_done(aw_write *w, void *ctx)
{
	request *rq = ctx;
	node *n = rq->n;

	(void)w;
	AW_FIFO_PUSH(n->batch_head, n->batch_tail, rq);
}

void node_batch_done(void *ctx)
{
	node *n = ctx;
	request *head = n->batch_head;

	if (!head)
		return;
	hand_back(n, head, n->batch_tail);
	n->batch_head = n->batch_tail = NULL;
}

void submit_write(request *rq, void (*after)(request *rq))
{
	int rc;

	rq->after = after;
	rq->w.done = write_done;
	rq->w.ctx = rq;
	rq->in_flight = true;
	rc = aw_store_submit(rq->n->store, &rq->w);
	if (rc) {
		rq->in_flight = false;
		rq->after = NULL;
		respond_message(rq, 503, "%s", aw_error_last());
	}
}

void submit_read(request *rq, void (*fn)(request *rq, aw_reader *r))
{
	rq->read_fn = fn;
	rq->in_flight = true;
	workers_submit(rq->n->pool, rq);
}

static void write_now(request *rq);

static void drain_done(node *n)
{
	request *rq, *next;
	aw_ns start = 0, woken = 0;
	long count = 0;

	pthread_mutex_lock(&n->done_mu);
	rq = n->done_head;
	n->done_head = n->done_tail = NULL;
	if (n->trace && rq) {
		start = aw_time_monotonic();
		woken = n->trace->woken;
	}
	pthread_mutex_unlock(&n->done_mu);
	for (; rq; rq = next, count++) {
		next = rq->next;
		rq->in_flight = false;
		n->inflight--;
		if (rq->orphaned) {
			request_free(rq);
			continue;
		}
		if (rq->after) {
			void (*after)(request *) = rq->after;
			rq->after = NULL;
			after(rq);
		}
		if (!rq->status)
			respond_message(rq, 500, "internal error: no response");
		write_now(rq);
	}
	if (start)
		trace_drain(n->trace, woken, start, count);
}

/* ---- writing ------------------------------------------------------------------- */

static int finish(struct lws *wsi, conn *c)
{
	bool close_conn = c->rq->close_conn;

	request_free(c->rq);
	c->rq = NULL;
	if (close_conn)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static size_t resp_length(const request *rq)
{
	return rq->body_read ? rq->body_len : rq->resp.len;
}

/* The next n bytes of the body into dst; false when a body_read falls short of the
 * length it announced (the connection must close: the client counts on it). */
static bool resp_copy(request *rq, unsigned char *dst, size_t n)
{
	size_t got;

	if (!rq->body_read) {
		memcpy(dst, rq->resp.data + rq->sent, n);
		return true;
	}
	got = rq->body_read(rq, (char *)dst, n);
	if (got != n)
		aw_log_error("response body ended after %zu of %zu bytes", rq->sent + got, rq->body_len);
	return got == n;
}

/* Status line and headers into [start, end); returns the end of the headers or NULL. */
static unsigned char *build_headers(struct lws *wsi, request *rq, unsigned char *start, unsigned char *end)
{
	unsigned char *p = start;
	char len[24];
	size_t off = 0;

	if (lws_add_http_header_status(wsi, (unsigned)rq->status, &p, end))
		return NULL;
	if (rq->resp_ctype &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, (const unsigned char *)rq->resp_ctype,
					 (int)strlen(rq->resp_ctype), &p, end))
		return NULL;
	snprintf(len, sizeof(len), "%zu", resp_length(rq));
	if (lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, (const unsigned char *)len,
					 (int)strlen(len), &p, end))
		return NULL;
	while (off < rq->resp_headers.len) {
		const char *name = rq->resp_headers.data + off;
		const char *value = name + strlen(name) + 1;
		off = (size_t)(value - rq->resp_headers.data) + strlen(value) + 1;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
						(int)strlen(value), &p, end))
			return NULL;
	}
	if (rq->close_conn &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p, end))
		return NULL;
	if (lws_finalize_http_header(wsi, &p, end))
		return NULL;
	return p;
}

/*
 * Headers and body go out in as few writes as possible: a response that fits the
 * scratch buffer (nearly every API answer) is one send() together with its headers;
 * larger bodies follow in 64 KiB chunks, one per writable callback. The content length
 * is written as a plain header, so libwebsockets does not track the body and the
 * transaction ends when we say so.
 */
static int write_response(struct lws *wsi, conn *c)
{
	request *rq = c->rq;
	unsigned char *start = write_scratch + LWS_PRE, *end = write_scratch + sizeof(write_scratch), *p;
	size_t total = resp_length(rq), remaining, chunk;

	if (!rq->headers_sent) {
		p = build_headers(wsi, rq, start, start + 8192);
		if (!p)
			return -1;
		chunk = total < (size_t)(end - p) ? total : (size_t)(end - p);
		if (chunk && !resp_copy(rq, p, chunk))
			return -1;
		p += chunk;
		if (lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) != (int)(p - start))
			return -1;
		rq->headers_sent = true;
		rq->sent = chunk;
	} else {
		remaining = total - rq->sent;
		chunk = remaining < WRITE_CHUNK ? remaining : WRITE_CHUNK;
		if (!resp_copy(rq, start, chunk))
			return -1;
		if (lws_write(wsi, start, chunk, LWS_WRITE_HTTP_HEADERS) != (int)chunk)
			return -1;
		rq->sent += chunk;
	}
	if (rq->sent < total) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	return finish(wsi, c);
}

/*
 * The response of a request handed back by a worker or the writer, written at once from
 * the wake-up that drained it rather than after one more trip through poll() for a
 * writable callback: on a keep-alive connection with nothing queued, the socket is
 * writable, and a heartbeat's answer is one send(). libwebsockets keeps whatever the
 * kernel does not take and sends it on the next writable callback (and defers
 * lws_http_transaction_completed until then), so this is safe for any size; the
 * writable path still handles bodies larger than the scratch buffer and connections
 * that must close, whose end only a callback's return value can signal.
 */
static void write_now(request *rq)
{
	struct lws *wsi = rq->wsi;
	conn *c = lws_wsi_user(wsi);

	if (!c || c->rq != rq || rq->headers_sent || rq->close_conn || resp_length(rq) > WRITE_CHUNK / 2) {
		lws_callback_on_writable(wsi);
		return;
	}
	if (write_response(wsi, c))
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* ---- the libwebsockets callback ------------------------------------------------------ */

/*
 * The writer lingers for a fuller batch while writes keep coming (writer.c). A
 * connection carries one request at a time, so once every connection that is sending
 * writes has one queued, no more can come and the batch may start. Such a connection is
 * one whose latest request was a write: it carries writer_tag as its opaque user data,
 * which libwebsockets keeps across the connection's requests. Connections a browser
 * keeps open after reading do not count, or every batch would wait for them.
 */
static char writer_tag;

static void note_writer(node *n, struct lws *wsi, bool writes)
{
	if ((lws_get_opaque_user_data(wsi) == &writer_tag) == writes)
		return;
	lws_set_opaque_user_data(wsi, writes ? &writer_tag : NULL);
	n->writers += writes ? 1 : -1;
	aw_store_set_clients(n->store, n->writers);
}

static void respond_now(struct lws *wsi, request *rq)
{
	(void)rq;
	lws_callback_on_writable(wsi);
}

static void dispatch(struct lws *wsi, request *rq)
{
	node *n = rq->n;

	if (interrupted)
		respond_message(rq, 503, "the node is shutting down");
	else
		router_dispatch(rq);
	note_writer(n, wsi, rq->w.done == write_done);
	if (rq->in_flight) {
		n->inflight++;
	} else {
		if (!rq->status)
			respond_message(rq, 500, "internal error: no response");
		respond_now(wsi, rq);
	}
}

/*
 * A client that sent "Expect: 100-continue" waits for an interim "100 Continue" before
 * it sends the body (curl does for bodies over 1 MB, and waits a whole second when none
 * comes); libwebsockets does not answer it. Once the body is known to be wanted (its
 * length is within the limit), say so, as aw-server-rust's HTTP stack does. The
 * connection has written nothing yet, so the interim line goes out at once.
 */
static void continue_if_expected(struct lws *wsi)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	unsigned char *p = write_scratch + LWS_PRE;
	char expect[32];

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_EXPECT) <= 0 ||
	    lws_hdr_copy(wsi, expect, sizeof(expect), WSI_TOKEN_HTTP_EXPECT) < 0 ||
	    strcasecmp(expect, "100-continue"))
		return;
	memcpy(p, line, sizeof(line) - 1);
	lws_write(wsi, p, sizeof(line) - 1, LWS_WRITE_HTTP_HEADERS);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	conn *c = user;
	node *n = lws_context_user(lws_get_context(wsi));
	request *rq;

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		int clen;
		if (c->rq) /* a new request on a connection that still has one: protocol error */
			return -1;
		rq = c->rq = request_new(n, wsi, in);
		clen = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
		if (clen > 0) {
			char num[32], *end = NULL;
			unsigned long long v = 0;
			if (clen < (int)sizeof(num)) {
				lws_hdr_copy(wsi, num, sizeof(num), WSI_TOKEN_HTTP_CONTENT_LENGTH);
				v = strtoull(num, &end, 10);
			}
			if (!end || end == num || *end || num[0] == '-') {
				respond_catcher(rq, 400, "invalid Content-Length header");
				rq->close_conn = true;
				respond_now(wsi, rq);
				return 0;
			}
			if (v > n->cfg->max_body_bytes) {
				respond_catcher(rq, 413, "request body of %llu bytes exceeds the limit of %zu bytes",
						v, n->cfg->max_body_bytes);
				rq->close_conn = true;
				respond_now(wsi, rq);
				return 0;
			}
			if (v > 0) {
				rq->body_expected = true;
				/* one allocation for the whole body, not a doubling per chunk,
				 * filled to its end by the upload (a year's import: 38 MB) */
				aw_buf_grow(&rq->body, (size_t)v);
				aw_mem_advise_huge(rq->body.data, (size_t)v);
				continue_if_expected(wsi);
				return 0;
			}
		}
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
			/* libwebsockets 4.1 does not decode chunked request bodies; waiting would hang
			 * the client, so say what to send instead. */
			respond_catcher(rq, 411, "chunked request bodies are not supported; send Content-Length");
			rq->close_conn = true;
			respond_now(wsi, rq);
			return 0;
		}
		dispatch(wsi, rq);
		return 0;
	}
	case LWS_CALLBACK_HTTP_BODY:
		rq = c->rq;
		if (!rq || rq->status || rq->in_flight)
			return 0;
		if (rq->body.len + len > n->cfg->max_body_bytes) {
			respond_catcher(rq, 413, "request body exceeds the limit of %zu bytes",
					n->cfg->max_body_bytes);
			rq->close_conn = true;
			respond_now(wsi, rq);
			return 0;
		}
		aw_buf_append(&rq->body, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		rq = c->rq;
		if (rq && !rq->status && !rq->in_flight)
			dispatch(wsi, rq);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c->rq || !c->rq->status || c->rq->in_flight)
			return 0;
		return write_response(wsi, c);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c && c->rq) {
			if (c->rq->in_flight) {
				c->rq->orphaned = true;
				c->rq->wsi = NULL;
			} else {
				request_free(c->rq);
			}
			c->rq = NULL;
		}
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		drain_done(n);
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		note_writer(n, wsi, false);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"http", callback, sizeof(conn), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	if (signal_ctx)
		lws_cancel_service(signal_ctx);
}

/* The lws levels server_run enables; _lws_log below drops every other line. */
static int lws_levels = LLL_ERR;

/*
 * libwebsockets as distributions build it keeps its parser's debug lines: lws_parse
 * calls _lws_log for every byte of every request's headers, and the library's
 * _lws_log builds a va_list before it looks at the level (3 % of the node's CPU under
 * heartbeat load). Defined here, in the binary, it interposes the library's, which
 * calls it through the PLT, and a filtered line costs one comparison; enabled lines
 * take the library's own path on.
 */
void _lws_log(int filter, const char *format, ...)
{
	va_list ap;

	if (!(filter & lws_levels))
		return;
	va_start(ap, format);
	_lws_logv(filter, format, ap);
	va_end(ap);
}

static void lws_log_bridge(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	aw_log(level == LLL_ERR ? AW_LOG_WARN : AW_LOG_DEBUG, "lws: %.*s", (int)n, line);
}

int server_run(node *n)
{
	struct lws_context_creation_info info;
	const char *iface = n->cfg->address;
	int rc = 0;

	/* libwebsockets takes an interface name or a numeric address; anything else would make
	 * it wait silently for an interface of that name to appear. */
	{
		unsigned char addr[sizeof(struct in6_addr)];
		if (!strcmp(n->cfg->address, "localhost"))
			iface = "127.0.0.1";
		else if (inet_pton(AF_INET, iface, addr) != 1 && inet_pton(AF_INET6, iface, addr) != 1) {
			fprintf(stderr, "awnode: invalid address '%s': expected an IPv4/IPv6 address or localhost\n",
				iface);
			return -1;
		}
	}
	trace_open(n);
	memset(&info, 0, sizeof(info));
	lws_levels = LLL_ERR | (aw_log_level() >= AW_LOG_DEBUG ? LLL_WARN : 0);
	lws_set_log_level(lws_levels, lws_log_bridge);
	info.port = n->cfg->port;
	info.iface = iface;
	info.protocols = protocols;
	info.user = n;
	info.max_http_header_data = 16384;
	info.keepalive_timeout = 30;
	/* A client gets 2 s to finish sending its request headers (loopback clients need
	 * microseconds); malformed header blocks libwebsockets cannot answer end there. */
	info.timeout_secs_ah_idle = 2;
	info.timeout_secs = 60;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6 * (strchr(n->cfg->address, ':') == NULL);
	info.vhost_name = "awnode";
	info.server_string = "awnode";

	n->ctx = lws_create_context(&info);
	if (!n->ctx) {
		aw_log_error("cannot listen on %s:%d (address in use or not available)", n->cfg->address,
			     n->cfg->port);
		return -1;
	}
	pthread_mutex_lock(&n->done_mu);
	n->loop_alive = true;
	pthread_mutex_unlock(&n->done_mu);

	signal_ctx = n->ctx;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	aw_log_info("awnode %s listening on http://%s:%d (device %s, database %s)", AWNODE_VERSION,
		    n->cfg->address, n->cfg->port, n->cfg->device_id, n->cfg->db_path);

	while (!interrupted && rc >= 0)
		rc = lws_service(n->ctx, 0);

	aw_log_info("shutting down");
	/* Let in-flight requests finish (the writer commits them) before tearing down the
	 * connections they belong to. */
	for (int spins = 0; n->inflight > 0 && spins < 3000 && rc >= 0; spins++)
		rc = lws_service(n->ctx, 10);
	pthread_mutex_lock(&n->done_mu);
	n->loop_alive = false;
	pthread_mutex_unlock(&n->done_mu);
	signal_ctx = NULL;
	lws_context_destroy(n->ctx);
	n->ctx = NULL;
	/* Requests finished after the loop stopped were freed by node_done; any left in the
	 * queue were finished before and never written. */
	for (request *rq = n->done_head, *next; rq; rq = next) {
		next = rq->next;
		request_free(rq);
	}
	n->done_head = n->done_tail = NULL;
	if (n->trace) {
		trace_report(n->trace, aw_time_monotonic());
		free(n->trace);
		n->trace = NULL;
	}
	return 0;
}
