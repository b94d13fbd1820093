/*
 * aw/client.h: a small C client for ActivityWatch-compatible nodes (awnode,
 * aw-server-rust, aw-server-python), for writing watchers in C.
 *
 * What it does
 *   - Synchronous REST calls: info, buckets, events, query, single heartbeats.
 *   - Queued heartbeats, as ActivityWatch's Python client does them: consecutive
 *     heartbeats are pre-merged in memory and only sent when the data changes or the
 *     merged event has grown by the commit interval (10 s by default). Every
 *     committed heartbeat is appended to a queue on disk first and delivered from
 *     there, in order, with back-off retries, so a node that is down or restarting
 *     loses nothing; what is still queued when the process exits is delivered by the
 *     next run with the same client name.
 *
 * Conventions (libgit2 style)
 *   - Every function that can fail returns an int: 0 (AW_OK) or a negative AW_E* code
 *     of aw/error.h, the convention of every awnode library: AW_EINVALID (a bad
 *     argument, e.g. data that is not a JSON object), AW_ECONNECT (the node could not
 *     be reached: refused, timeout, DNS), AW_ENOTFOUND (the node answered 404: unknown
 *     bucket or event), AW_EPROTOCOL (any other unexpected status, or an answer that
 *     is not what was expected), AW_EBUSY (another process uses the same queue: same
 *     client name), AW_EINTR (stopped by aw_client_interrupt()), AW_ERROR (anything
 *     else, e.g. the disk queue cannot be written, out of memory). aw_error_last()
 *     describes the last failure of the calling thread.
 *   - Out-parameters come first. A `char **out_json` receives a NUL-terminated,
 *     heap-allocated string the caller owns and releases with aw_client_free_string()
 *     (plain free() is equivalent). On failure *out_json is set to NULL.
 *   - Input strings are borrowed for the duration of the call only; the library
 *     copies what it keeps. All strings are UTF-8. Event data is passed as the text of
 *     a JSON object, e.g. "{\"app\":\"firefox\",\"title\":\"Inbox\"}".
 *   - Timestamps are nanoseconds since the Unix epoch (UTC); durations are seconds.
 *   - An aw_client is not thread-safe: use one per thread, or lock around it. The
 *     only exception is aw_client_interrupt(), which may be called from a signal
 *     handler or another thread.
 *   - Transport: plain HTTP/1.1 over TCP (no TLS), one request per connection. Nodes
 *     listen on the loopback interface; reach a remote node through a tunnel.
 *
 * Minimal watcher
 *
 *     aw_client_options o;
 *     aw_client *c;
 *     aw_client_options_init(&o);
 *     o.client_name = "my-watcher";
 *     if (aw_client_new(&c, &o)) { fprintf(stderr, "%s\n", aw_error_last()); exit(1); }
 *     aw_client_register_bucket(c, "my-watcher_myhost", "currentsong", "myhost");
 *     while (!stop) {
 *             aw_event ev = { aw_client_now_ns(), 0.0, "{\"title\":\"...\"}" };
 *             aw_client_heartbeat(c, "my-watcher_myhost", &ev, 6.0);
 *             aw_client_run(c, 5000);      // sleeps 5 s while delivering the queue
 *     }
 *     aw_client_flush(c);                  // commit the pre-merged heartbeat
 *     aw_client_clear_interrupt(c);        // the stop signal has done its job
 *     aw_client_drain(c, 2000);            // try to deliver for up to 2 s
 *     aw_client_free(c);                   // whatever is left stays queued on disk
 */
#ifndef AW_CLIENT_H
#define AW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "aw/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels passed to the log callback. */
enum { AW_CLIENT_LOG_ERROR = 0, AW_CLIENT_LOG_WARN = 1, AW_CLIENT_LOG_INFO = 2, AW_CLIENT_LOG_DEBUG = 3 };

typedef void (*aw_client_log_fn)(void *userdata, int level, const char *message);

typedef struct aw_client aw_client;

/* Options for aw_client_new(). Initialise with aw_client_options_init(), then set what
 * you need; unset fields keep their defaults. Strings are copied by aw_client_new(). */
typedef struct aw_client_options {
	unsigned version;          /* set by aw_client_options_init() */
	const char *client_name;   /* required: e.g. "aw-watcher-afk"; names the queue */
	const char *host;          /* node address; default "127.0.0.1" */
	int port;                  /* node port; 0 = 5600, or 5666 when testing */
	int testing;               /* testing mode: port 5666, separate queue, commit interval 5 s */
	double commit_interval;    /* seconds; 0 = 10 (5 in testing mode) */
	const char *queue_dir;     /* NULL = $XDG_CACHE_HOME/awnode/queue/<client_name>[-testing] */
	int no_queue;              /* 1: no disk queue, for clients that only make synchronous
				    * calls; queued heartbeats then fail with AW_EINVALID */
	const char *api_key;       /* sent as "Authorization: Bearer <key>" when set */
	long timeout_ms;           /* per request; 0 = 10000 */
	aw_client_log_fn log;      /* NULL = no log output */
	void *log_userdata;
} aw_client_options;

#define AW_CLIENT_OPTIONS_VERSION 1

/* An event. `data` is the text of a JSON object (NULL means {}). */
typedef struct aw_event {
	int64_t timestamp_ns; /* start, nanoseconds since the Unix epoch (UTC) */
	double duration;      /* seconds, >= 0 */
	const char *data;
} aw_event;

/* Fill `opts` with the defaults. Always returns 0. */
int aw_client_options_init(aw_client_options *opts);

/* Create a client. Opens (creating if needed) and locks the queue directory; fails
 * with AW_EBUSY if another process holds it. Does not contact the node. On failure
 * *out is NULL and aw_error_last() tells why. */
int aw_client_new(aw_client **out, const aw_client_options *opts);

/* Commit pre-merged heartbeats to the disk queue, close everything and free. Nothing
 * is sent; queued heartbeats wait for the next run. NULL is a no-op. */
void aw_client_free(aw_client *c);

/* HTTP status of the last synchronous request (0 if none got an answer). */
int aw_client_last_status(const aw_client *c);

/* "http://host:port", owned by the client. */
const char *aw_client_base_url(const aw_client *c);

void aw_client_free_string(char *s);

/* Current wall-clock time, ns since the Unix epoch. */
int64_t aw_client_now_ns(void);

/* Format `ns` as RFC 3339 UTC ("2024-05-01T10:00:00.123456Z"). `buf` needs >= 40 bytes.
 * Returns 0, or AW_EINVALID if it does not fit. */
int aw_client_format_time(char *buf, size_t len, int64_t ns);

/* ---- Synchronous calls (block up to the request timeout) ---------------------- */

/* GET /api/0/info -> {"hostname","version","testing","device_id"}. */
int aw_client_get_info(char **out_json, aw_client *c);

/* GET /api/0/buckets/ -> {id: bucket}. */
int aw_client_get_buckets(char **out_json, aw_client *c);

/* POST /api/0/buckets/<id>. A bucket that already exists (304) is a success. */
int aw_client_create_bucket(aw_client *c, const char *bucket_id, const char *event_type,
			    const char *hostname);

/* DELETE /api/0/buckets/<id>. */
int aw_client_delete_bucket(aw_client *c, const char *bucket_id);

/* POST /api/0/buckets/<id>/events -> the inserted events with their ids (out_json may
 * be NULL if the answer is not wanted). */
int aw_client_insert_events(char **out_json, aw_client *c, const char *bucket_id,
			    const aw_event *events, size_t n_events);

/* GET /api/0/buckets/<id>/events, newest first. start_ns/end_ns: 0 = unbounded;
 * limit: < 0 = no limit. */
int aw_client_get_events(char **out_json, aw_client *c, const char *bucket_id, int64_t start_ns,
			 int64_t end_ns, long limit);

/* POST /api/0/query/ with `query` (statements separated by ';', newlines allowed) over
 * the given "start/end" periods -> one result per period. */
int aw_client_query(char **out_json, aw_client *c, const char *query,
		    const char *const *timeperiods, size_t n_periods);

/* POST /api/0/buckets/<id>/heartbeat?pulsetime=P now, bypassing the pre-merge and the
 * queue -> the stored event (out_json may be NULL). */
int aw_client_send_heartbeat(char **out_json, aw_client *c, const char *bucket_id,
			     const aw_event *event, double pulsetime);

/* Any request: `path` starts with "/api/"; `body` (JSON) may be NULL. Any answer is a
 * success; *out_status gets the HTTP status and *out_body the body (may be NULL). */
int aw_client_request(char **out_body, int *out_status, aw_client *c, const char *method,
		      const char *path, const char *body);

/* ---- Queued heartbeats ------------------------------------------------------------- */

/* Declare a bucket the queued heartbeats go to. aw_client_run() creates it (or finds
 * that it exists) as soon as the node answers, again after every reconnection and when
 * a heartbeat is answered 404 (e.g. the node restarted on a fresh database), always
 * before delivering queued heartbeats. */
int aw_client_register_bucket(aw_client *c, const char *bucket_id, const char *event_type,
			      const char *hostname);

/* Queue a heartbeat. It is pre-merged into the bucket's pending event when the data is
 * equal and it starts between the pending event's start and its end + pulsetime (the
 * node's merge rule). The pending event is committed to the disk queue when a
 * heartbeat does not merge (data changed, gap, earlier start), and each time it has
 * grown by the commit interval since it was last committed (the same event again,
 * longer: the node merges it). A committed event carries the pulsetime of the
 * heartbeat that started it, so a heartbeat with pulsetime 0 starts an event the node
 * will not merge into an earlier one. Never blocks on the network. */
int aw_client_heartbeat(aw_client *c, const char *bucket_id, const aw_event *event,
			double pulsetime);

/* Commit every pending pre-merged heartbeat to the disk queue now. */
int aw_client_flush(aw_client *c);

/* Deliver queued heartbeats for `timeout_ms` milliseconds (also the way to sleep
 * between polls): returns 0 when the time is up, AW_EINTR early if
 * aw_client_interrupt() was called. Delivery failures are not errors here: they are
 * logged and retried with back-off (1 s doubling up to 10 s). */
int aw_client_run(aw_client *c, long timeout_ms);

/* Like aw_client_run() but returns as soon as the queue is empty (0), or
 * AW_ECONNECT when the time is up with heartbeats still queued. Pending
 * pre-merged heartbeats are not committed: call aw_client_flush() first. */
int aw_client_drain(aw_client *c, long timeout_ms);

/* Make a running or the next aw_client_run()/aw_client_drain() return
 * AW_EINTR. Async-signal-safe. */
void aw_client_interrupt(aw_client *c);

/* Forget an interrupt no aw_client_run()/aw_client_drain() has seen yet, e.g. the
 * stop signal that ended the main loop, before the final aw_client_drain(). */
void aw_client_clear_interrupt(aw_client *c);

/* Committed heartbeats not yet delivered (on disk). */
size_t aw_client_queue_length(const aw_client *c);

#ifdef __cplusplus
}
#endif

#endif
