/*
 * The node's request model shared by the server loop, the pipeline checks and the API
 * handlers.
 *
 * Life of a request: server.c builds a `request` from libwebsockets' parsed headers,
 * collects the body, and calls router_dispatch() on the HTTP thread. A handler either
 * answers at once (respond_*), or hands the work to the reader pool (submit_read) or the
 * storage writer (submit_write). Async work ends in node_done(), which queues the request
 * for the HTTP thread; the HTTP thread runs the request's `after` hook (to turn a write
 * result into a response) and writes the response. A request whose connection closed
 * meanwhile is marked orphaned and freed when its work completes.
 */
#ifndef AW_NODE_HTTP_H
#define AW_NODE_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "aw/buf.h"
#include "aw/config.h"
#include "aw/storage.h"

struct lws;
struct lws_context;
typedef struct workers workers;
typedef struct sync_service sync_service;
typedef struct archive_service archive_service;
typedef struct node node;
typedef struct request request;

typedef enum http_method {
	M_GET, M_POST, M_DELETE, M_OPTIONS, M_PUT, M_PATCH, M_HEAD, M_OTHER
} http_method;

#define MAX_SEGS 16

struct request {
	node *n;
	struct lws *wsi;
	http_method method;
	char *path;
	char *segs[MAX_SEGS];
	int nsegs;
	bool too_many_segs;
	char **qkeys, **qvals;
	int nq;
	char *host, *origin, *auth, *ctype, *accept, *acrm, *acrh;
	/* The strings above (path, segments, query, headers) come from here while it has
	 * room, and from malloc after (server.c, rq_strndup): a typical request makes none
	 * of its ~20 small allocations. */
	char strs[512];
	size_t strs_used;
	aw_buf body;
	bool body_expected;

	int status;                /* 0 until a response is set */
	const char *resp_ctype;    /* NULL: no Content-Type header */
	aw_buf resp;
	aw_buf resp_headers;       /* "name:\0value\0" pairs */
	/* A body written while it is sent (exports), instead of resp: body_len bytes, the
	 * next of them copied into buf by body_read (cap at most) on the HTTP thread. */
	size_t (*body_read)(request *rq, char *buf, size_t cap);
	size_t body_len;
	size_t sent;
	bool headers_sent;
	bool close_conn;

	bool in_flight;
	bool orphaned;
	void (*after)(request *rq);
	void (*read_fn)(request *rq, aw_reader *r);
	aw_write w;
	void *state;
	void (*state_free)(void *state);
	request *next;
};

struct node {
	aw_config *cfg;
	aw_store *store;
	workers *pool;
	sync_service *sync;
	archive_service *archive;
	struct lws_context *ctx;
	pthread_mutex_t done_mu;
	request *done_head, *done_tail;
	request *batch_head, *batch_tail; /* writes of the batch being completed (writer thread) */
	bool loop_alive;
	long inflight;         /* requests handed to workers or the writer (loop thread only) */
	int writers;           /* connections whose latest request was a write (loop thread only) */
	bool hostcheck;
	char **cors_exact;
	size_t n_cors_exact;
	void **cors_re;        /* pcre2_code* */
	size_t n_cors_re;
	/* with AW_WRITE_TRACE set: the loop's share of a write's time (server.c, loop_trace) */
	struct loop_trace *trace;
};

/* server.c */
void node_done(request *rq);          /* any thread: async work finished */
void node_batch_done(void *n);        /* the store's batch_done: hands back the batch's writes */
void request_free(request *rq);
const char *rq_query(request *rq, const char *key);  /* NULL if absent */
const char *rq_seg(request *rq, int i);

/* response helpers (set the response; the server writes it) */
void respond(request *rq, int status, const char *ctype, const char *body, size_t len);
void respond_empty(request *rq, int status);
void respond_json_buf(request *rq, int status, aw_buf *body); /* takes the buffer */
void respond_message(request *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Errors aw-server-rust's framework (Rocket) produces: JSON catcher body with a message. */
void respond_catcher(request *rq, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void respond_header(request *rq, const char *name, const char *value);

/* hand-off */
void submit_read(request *rq, void (*fn)(request *rq, aw_reader *r));
/* rq->w must be filled; `after` turns the result into a response on the HTTP thread */
void submit_write(request *rq, void (*after)(request *rq));
/* The HTTP status for a library's AW_E* code: the one mapping from the libraries' error
 * codes to HTTP (the libraries themselves know no HTTP). 0 is 200; unknown codes 500. */
int http_status_of(int code);
/* Map a storage error code to a response with the write's / reader's message. */
void respond_store_error(request *rq, int code, const char *msg);

/* workers.c */
int workers_start(workers **out, node *n, int count);
void workers_submit(workers *w, request *rq);
void workers_stop(workers *w);

/* router.c */
void router_dispatch(request *rq);

/* pipeline.c: CORS, Host check, API key. Returns true when the request was answered. */
int pipeline_init(node *n);
void pipeline_free(node *n);
bool pipeline_check(request *rq);

/* static_files.c */
bool static_serve(request *rq);
/* The API explorer: /api/ and /api/explorer/<file>. */
bool static_serve_explorer(request *rq);

#endif
