/*
 * aw_client: REST calls, heartbeat pre-merge, and delivery of the disk queue.
 * See include/aw/client.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aw/client.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/time.h"
#include "http.h"
#include "queue.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 10000

typedef struct reg_bucket {
	char *id, *type, *hostname;
	int ensured;
} reg_bucket;

typedef struct pending {
	char *bucket;
	int64_t ts;       /* ns */
	int64_t dur;      /* ns */
	json_t *data;
	double pulsetime; /* of the heartbeat that started this event */
	int64_t committed_end; /* end of the event as last committed (ns) */
	int sent;         /* committed at least once */
} pending;

enum { INF_NONE = 0, INF_BUCKET, INF_HEARTBEAT };

struct aw_client {
	char *name, *host, *api_key, *queue_dir;
	char base_url[300];
	char *auth_header;
	int port, testing;
	double commit_interval;
	long timeout_ms;
	aw_client_log_fn log;
	void *log_ud;
	int last_status;

	reg_bucket *buckets;
	size_t n_buckets;
	pending *pend;
	size_t n_pend;

	disk_queue *queue;
	http_req req;
	int inflight;
	size_t inflight_bucket;
	int retried_404;
	int reachable;     /* -1 unknown, 0 failing, 1 ok */
	long backoff_ms;
	int64_t backoff_until;
	int wake[2];
};

/* ---- small helpers -------------------------------------------------------------- */

static void clog_(aw_client *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void clog_(aw_client *c, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_ud, level, msg);
}

int64_t aw_client_now_ns(void)
{
	return aw_time_now();
}

/* Core's formatter prints exactly what the node prints (0, 3, 6 or 9 fraction digits);
 * this only adds the bounds check the public signature promises. */
int aw_client_format_time(char *buf, size_t len, int64_t ns)
{
	char tmp[AW_TIME_BUFSZ];
	size_t n = aw_time_format(tmp, ns);

	if (n >= len)
		return AW_EINVALID;
	memcpy(buf, tmp, n + 1);
	return AW_OK;
}

/* Percent-encode one path segment. Caller frees. */
static char *pct_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		    *p == '_' || *p == '.' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static void fmt_pulsetime(char *buf, size_t len, double p)
{
	snprintf(buf, len, "%.15g", p);
	if (strtod(buf, NULL) != p)
		snprintf(buf, len, "%.17g", p);
}

static int64_t dur_to_ns(double d)
{
	if (!(d > 0) || !isfinite(d))
		return 0;
	if (d > 9.2e9)
		d = 9.2e9;
	return (int64_t)llround(d * 1e9);
}

/* {"timestamp","duration","data"}; steals nothing. */
static json_t *event_json(int64_t ts, int64_t dur_ns, json_t *data)
{
	char tbuf[64];

	if (aw_client_format_time(tbuf, sizeof(tbuf), ts))
		return NULL;
	return json_pack("{s:s, s:f, s:O}", "timestamp", tbuf, "duration", (double)dur_ns / 1e9, "data", data);
}

static json_t *parse_data(const char *data)
{
	json_error_t jerr;
	json_t *d;

	if (!data)
		return json_object();
	d = json_loads(data, JSON_REJECT_DUPLICATES, &jerr);
	if (!d || !json_is_object(d)) {
		json_decref(d);
		aw_error_set(AW_EINVALID, "event data is not a JSON object%s%s", d ? "" : ": ", d ? "" : jerr.text);
		return NULL;
	}
	return d;
}

static int check_event(const aw_event *ev)
{
	if (!ev)
		return aw_error_set(AW_EINVALID, "no event");
	if (!isfinite(ev->duration) || ev->duration < 0)
		return aw_error_set(AW_EINVALID, "event duration must be a finite number >= 0");
	return AW_OK;
}

/* A heartbeat's data as JSON, after checking its pulsetime; NULL (error set) if either
 * is invalid. Caller releases with json_decref. */
static json_t *heartbeat_data(const aw_event *ev, double pulsetime)
{
	if (!(pulsetime >= 0) || !isfinite(pulsetime)) {
		aw_error_set(AW_EINVALID, "pulsetime must be a finite number >= 0");
		return NULL;
	}
	return parse_data(ev->data);
}

/* ---- lifecycle ------------------------------------------------------------------ */

int aw_client_options_init(aw_client_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = AW_CLIENT_OPTIONS_VERSION;
	return AW_OK;
}

static int valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static int no_ctl(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int aw_client_new(aw_client **out, const aw_client_options *o)
{
	aw_client *c;
	int rc;

	*out = NULL;
	if (!o || o->version != AW_CLIENT_OPTIONS_VERSION)
		return aw_error_set(AW_EINVALID, "aw_client_options not initialised with aw_client_options_init()");
	if (!valid_name(o->client_name))
		return aw_error_set(AW_EINVALID, "client name must be 1-100 characters of A-Z a-z 0-9 . _ -");
	if (o->port < 0 || o->port > 65535)
		return aw_error_set(AW_EINVALID, "port must be from 1 to 65535");
	if ((o->host && (!*o->host || strlen(o->host) > 253 || strpbrk(o->host, " /\\@") || !no_ctl(o->host))) ||
	    !no_ctl(o->api_key))
		return aw_error_set(AW_EINVALID, "invalid host or API key");
	if (o->commit_interval < 0 || !isfinite(o->commit_interval))
		return aw_error_set(AW_EINVALID, "commit interval must be >= 0");
	c = calloc(1, sizeof(*c));
	if (!c)
		return aw_error_set(AW_ERROR, "out of memory");
	c->wake[0] = c->wake[1] = -1;
	http_init(&c->req);
	c->name = strdup(o->client_name);
	c->host = strdup(o->host ? o->host : "127.0.0.1");
	c->api_key = o->api_key && *o->api_key ? strdup(o->api_key) : NULL;
	c->testing = o->testing ? 1 : 0;
	c->port = o->port ? o->port : (c->testing ? 5666 : 5600);
	c->commit_interval = o->commit_interval > 0 ? o->commit_interval : (c->testing ? 5.0 : 10.0);
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	c->log = o->log;
	c->log_ud = o->log_userdata;
	c->reachable = -1;
	if (strchr(c->host, ':'))
		snprintf(c->base_url, sizeof(c->base_url), "http://[%s]:%d", c->host, c->port);
	else
		snprintf(c->base_url, sizeof(c->base_url), "http://%s:%d", c->host, c->port);
	if (c->api_key && asprintf(&c->auth_header, "Authorization: Bearer %s\r\n", c->api_key) < 0)
		c->auth_header = NULL;
	if (o->no_queue) {
		c->queue_dir = strdup("");
	} else if (o->queue_dir && *o->queue_dir) {
		c->queue_dir = strdup(o->queue_dir);
	} else {
		/* the cache directory every awnode program agrees on (core's XDG rules) */
		char *cache = aw_files_dir(AW_DIR_CACHE);

		if (asprintf(&c->queue_dir, "%s/queue/%s%s", cache, c->name, c->testing ? "-testing" : "") < 0)
			c->queue_dir = NULL;
		free(cache);
	}
	if (!c->name || !c->host || !c->queue_dir || (c->api_key && !c->auth_header)) {
		aw_error_set(AW_ERROR, "out of memory");
		aw_client_free(c);
		return AW_ERROR;
	}
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC)) {
		aw_error_set(AW_ERROR, "pipe: %s", strerror(errno));
		c->wake[0] = c->wake[1] = -1;
		aw_client_free(c);
		return AW_ERROR;
	}
	rc = o->no_queue ? 0 : queue_open(&c->queue, c->queue_dir);
	if (rc) {
		/* the queue's message stands (aw_client_free sets none) */
		aw_client_free(c);
		return rc == AW_EBUSY ? AW_EBUSY : AW_ERROR;
	}
	if (queue_length(c->queue))
		clog_(c, AW_CLIENT_LOG_INFO, "%zu heartbeats queued by an earlier run will be delivered",
		      queue_length(c->queue));
	*out = c;
	return AW_OK;
}

void aw_client_free(aw_client *c)
{
	if (!c)
		return;
	if (c->queue)
		aw_client_flush(c);
	http_reset(&c->req);
	queue_close(c->queue);
	for (size_t i = 0; i < c->n_buckets; i++) {
		free(c->buckets[i].id);
		free(c->buckets[i].type);
		free(c->buckets[i].hostname);
	}
	free(c->buckets);
	for (size_t i = 0; i < c->n_pend; i++) {
		free(c->pend[i].bucket);
		json_decref(c->pend[i].data);
	}
	free(c->pend);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	free(c->name);
	free(c->host);
	free(c->api_key);
	free(c->auth_header);
	free(c->queue_dir);
	free(c);
}

int aw_client_last_status(const aw_client *c)
{
	return c->last_status;
}

const char *aw_client_base_url(const aw_client *c)
{
	return c->base_url;
}

void aw_client_free_string(char *s)
{
	free(s);
}

size_t aw_client_queue_length(const aw_client *c)
{
	return queue_length(c->queue);
}

void aw_client_interrupt(aw_client *c)
{
	int saved = errno;

	if (c && c->wake[1] >= 0) {
		ssize_t n = write(c->wake[1], "x", 1);
		(void)n;
	}
	errno = saved;
}

/* ---- synchronous requests --------------------------------------------------------- */

/* Blocking request. Returns OK with *status and *body set whenever the node answered. */
static int do_request(aw_client *c, const char *method, const char *path, const char *body, int *status,
		      char **resp)
{
	http_req h;
	int r;

	*status = 0;
	if (resp)
		*resp = NULL;
	c->last_status = 0;
	http_init(&h);
	r = http_begin(&h, c->host, c->port, method, path, c->auth_header, body, body ? strlen(body) : 0,
			   c->timeout_ms);
	if (r != HTTP_FAILED)
		r = http_perform(&h);
	if (r != HTTP_DONE) {
		aw_error_set(AW_ECONNECT, "cannot reach the node at %s: %s", c->base_url, h.err);
		http_reset(&h);
		return AW_ECONNECT;
	}
	*status = c->last_status = h.status;
	if (resp)
		*resp = http_take_body(&h);
	http_reset(&h);
	return AW_OK;
}

/* A request whose success is 2xx (plus 304 when ok304); body returned in *out. */
static int simple_request(char **out, aw_client *c, const char *method, const char *path, const char *body,
			  int ok304)
{
	int status, rc;
	char *resp = NULL;

	if (out)
		*out = NULL;
	rc = do_request(c, method, path, body, &status, &resp);
	if (rc)
		return rc;
	if ((status >= 200 && status < 300) || (ok304 && status == 304)) {
		if (out)
			*out = resp;
		else
			free(resp);
		return AW_OK;
	}
	rc = aw_error_set(status == 404 ? AW_ENOTFOUND : AW_EPROTOCOL, "%s %s: HTTP %d %.300s", method, path,
			  status, resp ? resp : "");
	free(resp);
	return rc;
}

int aw_client_request(char **out_body, int *out_status, aw_client *c, const char *method, const char *path,
		      const char *body)
{
	if (out_body)
		*out_body = NULL;
	if (!method || !path || path[0] != '/' || !no_ctl(path) || strchr(path, ' ') || !no_ctl(method))
		return aw_error_set(AW_EINVALID, "invalid method or path");
	return do_request(c, method, path, body, out_status, out_body);
}

int aw_client_get_info(char **out_json, aw_client *c)
{
	return simple_request(out_json, c, "GET", "/api/0/info", NULL, 0);
}

int aw_client_get_buckets(char **out_json, aw_client *c)
{
	return simple_request(out_json, c, "GET", "/api/0/buckets/", NULL, 0);
}

static char *bucket_path(const char *id, const char *suffix)
{
	char *enc, *p = NULL;

	if (!id || !*id) {
		aw_error_set(AW_EINVALID, "empty bucket id");
		return NULL;
	}
	enc = pct_encode(id);
	if (!enc || asprintf(&p, "/api/0/buckets/%s%s", enc, suffix) < 0)
		p = NULL;
	free(enc);
	if (!p)
		aw_error_set(AW_ERROR, "out of memory");
	return p;
}

static char *bucket_body(const char *id, const char *type, const char *hostname, const char *client)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "client", client, "type", type, "hostname", hostname);
	char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;

	json_decref(b);
	return s;
}

/* POST body to path and free both; AW_EINVALID when either is NULL (a bucket id
 * or body that could not be encoded). */
static int post_and_free(char **out, aw_client *c, char *path, char *body)
{
	int rc = path && body ? simple_request(out, c, "POST", path, body, 0) : AW_EINVALID;

	free(path);
	free(body);
	return rc;
}

int aw_client_create_bucket(aw_client *c, const char *bucket_id, const char *event_type, const char *hostname)
{
	char *path, *body;
	int rc;

	if (!event_type || !hostname)
		return aw_error_set(AW_EINVALID, "bucket type and hostname are required");
	path = bucket_path(bucket_id, "");
	if (!path)
		return AW_EINVALID;
	body = bucket_body(bucket_id, event_type, hostname, c->name);
	if (!body) {
		free(path);
		return aw_error_set(AW_EINVALID, "bucket id, type or hostname is not valid UTF-8");
	}
	rc = simple_request(NULL, c, "POST", path, body, 1);
	free(path);
	free(body);
	return rc;
}

int aw_client_delete_bucket(aw_client *c, const char *bucket_id)
{
	char *path = bucket_path(bucket_id, "");
	int rc;

	if (!path)
		return AW_EINVALID;
	rc = simple_request(NULL, c, "DELETE", path, NULL, 0);
	free(path);
	return rc;
}

int aw_client_insert_events(char **out_json, aw_client *c, const char *bucket_id, const aw_event *events,
			    size_t n_events)
{
	json_t *arr = json_array();
	char *body;
	int rc;

	if (out_json)
		*out_json = NULL;
	if (!arr)
		return AW_ERROR;
	for (size_t i = 0; i < n_events; i++) {
		json_t *d, *e;

		if ((rc = check_event(&events[i]))) {
			json_decref(arr);
			return rc;
		}
		d = parse_data(events[i].data);
		if (!d) {
			json_decref(arr);
			return AW_EINVALID;
		}
		e = event_json(events[i].timestamp_ns, dur_to_ns(events[i].duration), d);
		json_decref(d);
		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return aw_error_set(AW_EINVALID, "cannot encode event %zu", i);
		}
	}
	body = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return post_and_free(out_json, c, bucket_path(bucket_id, "/events"), body);
}

int aw_client_get_events(char **out_json, aw_client *c, const char *bucket_id, int64_t start_ns, int64_t end_ns,
			 long limit)
{
	char q[200] = "", t[64], *path;
	size_t n = 0;
	int rc;

	if (out_json)
		*out_json = NULL;
	if (start_ns && !aw_client_format_time(t, sizeof(t), start_ns))
		n += (size_t)snprintf(q + n, sizeof(q) - n, "%sstart=%s", n ? "&" : "?", t);
	if (end_ns && !aw_client_format_time(t, sizeof(t), end_ns))
		n += (size_t)snprintf(q + n, sizeof(q) - n, "%send=%s", n ? "&" : "?", t);
	if (limit >= 0)
		snprintf(q + n, sizeof(q) - n, "%slimit=%ld", n ? "&" : "?", limit);
	path = bucket_path(bucket_id, "/events");
	if (!path)
		return AW_EINVALID;
	{
		char *full = NULL;

		if (asprintf(&full, "%s%s", path, q) < 0)
			full = NULL;
		free(path);
		if (!full)
			return AW_ERROR;
		rc = simple_request(out_json, c, "GET", full, NULL, 0);
		free(full);
	}
	return rc;
}

int aw_client_query(char **out_json, aw_client *c, const char *query, const char *const *timeperiods,
		    size_t n_periods)
{
	json_t *req, *tp = json_array(), *ql = json_array();
	char *body, *copy, *save = NULL;
	int rc;

	if (out_json)
		*out_json = NULL;
	if (!query || !tp || !ql) {
		json_decref(tp);
		json_decref(ql);
		return aw_error_set(AW_EINVALID, "no query");
	}
	for (size_t i = 0; i < n_periods; i++)
		json_array_append_new(tp, json_string(timeperiods[i]));
	copy = strdup(query);
	for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save))
		json_array_append_new(ql, json_string(line));
	free(copy);
	req = json_pack("{s:o, s:o}", "timeperiods", tp, "query", ql);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!body)
		return aw_error_set(AW_EINVALID, "cannot encode the query (not UTF-8?)");
	rc = simple_request(out_json, c, "POST", "/api/0/query/", body, 0);
	free(body);
	return rc;
}

int aw_client_send_heartbeat(char **out_json, aw_client *c, const char *bucket_id, const aw_event *ev,
			     double pulsetime)
{
	char pt[40], *path, *suffix = NULL, *body;
	json_t *d, *e;
	int rc;

	if (out_json)
		*out_json = NULL;
	if ((rc = check_event(ev)))
		return rc;
	d = heartbeat_data(ev, pulsetime);
	if (!d)
		return AW_EINVALID;
	e = event_json(ev->timestamp_ns, dur_to_ns(ev->duration), d);
	json_decref(d);
	body = e ? json_dumps(e, JSON_COMPACT) : NULL;
	json_decref(e);
	fmt_pulsetime(pt, sizeof(pt), pulsetime);
	if (!body || asprintf(&suffix, "/heartbeat?pulsetime=%s", pt) < 0) {
		free(body);
		return aw_error_set(AW_EINVALID, "cannot encode the heartbeat");
	}
	path = bucket_path(bucket_id, suffix);
	free(suffix);
	return post_and_free(out_json, c, path, body);
}

/* ---- queued heartbeats ------------------------------------------------------------- */

int aw_client_register_bucket(aw_client *c, const char *bucket_id, const char *event_type, const char *hostname)
{
	reg_bucket *nb;
	char *body;

	if (!bucket_id || !*bucket_id || !event_type || !hostname)
		return aw_error_set(AW_EINVALID, "bucket id, type and hostname are required");
	body = bucket_body(bucket_id, event_type, hostname, c->name);
	if (!body)
		return aw_error_set(AW_EINVALID, "bucket id, type or hostname is not valid UTF-8");
	free(body);
	for (size_t i = 0; i < c->n_buckets; i++)
		if (!strcmp(c->buckets[i].id, bucket_id))
			return AW_OK;
	nb = realloc(c->buckets, (c->n_buckets + 1) * sizeof(*nb));
	if (!nb)
		return AW_ERROR;
	c->buckets = nb;
	nb[c->n_buckets].id = strdup(bucket_id);
	nb[c->n_buckets].type = strdup(event_type);
	nb[c->n_buckets].hostname = strdup(hostname);
	nb[c->n_buckets].ensured = 0;
	c->n_buckets++;
	return AW_OK;
}

static int commit(aw_client *c, const char *bucket, int64_t ts, int64_t dur, json_t *data, double pulsetime)
{
	json_t *e = event_json(ts, dur, data), *rec;
	char *line;
	int rc = AW_OK;

	if (!e)
		return AW_EINVALID;
	rec = json_pack("{s:s, s:f, s:o}", "bucket", bucket, "pulsetime", pulsetime, "event", e);
	line = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (!line)
		return aw_error_set(AW_EINVALID, "cannot encode a heartbeat");
	if (queue_append(c->queue, line, strlen(line))) {
		aw_error_set(AW_ERROR, "cannot write to the queue in %s: %s", c->queue_dir, strerror(errno));
		clog_(c, AW_CLIENT_LOG_ERROR, "%s; a heartbeat is lost", aw_error_last());
		rc = AW_ERROR;
	} else {
		clog_(c, AW_CLIENT_LOG_DEBUG, "queued %s", line);
	}
	free(line);
	return rc;
}

/* Commit what the node has not seen of a pending event, and forget it. */
static int commit_pending(aw_client *c, pending *p)
{
	int rc = AW_OK;

	if (!p->sent || p->ts + p->dur > p->committed_end)
		rc = commit(c, p->bucket, p->ts, p->dur, p->data, p->pulsetime);
	json_decref(p->data);
	p->data = NULL;
	return rc;
}

int aw_client_heartbeat(aw_client *c, const char *bucket_id, const aw_event *ev, double pulsetime)
{
	pending *p = NULL;
	json_t *d;
	int64_t hts, hend, pend_end;
	int rc;

	if (!c->queue)
		return aw_error_set(AW_EINVALID, "this client has no queue (no_queue was set)");
	if ((rc = check_event(ev)))
		return rc;
	if (!bucket_id || !*bucket_id)
		return aw_error_set(AW_EINVALID, "empty bucket id");
	d = heartbeat_data(ev, pulsetime);
	if (!d)
		return AW_EINVALID;
	for (size_t i = 0; i < c->n_pend; i++)
		if (!strcmp(c->pend[i].bucket, bucket_id))
			p = &c->pend[i];
	hts = ev->timestamp_ns;
	hend = hts + dur_to_ns(ev->duration);
	if (!p) {
		pending *np = realloc(c->pend, (c->n_pend + 1) * sizeof(*np));

		if (!np) {
			json_decref(d);
			return AW_ERROR;
		}
		c->pend = np;
		p = &np[c->n_pend];
		p->bucket = strdup(bucket_id);
		if (!p->bucket) {
			json_decref(d);
			return AW_ERROR;
		}
		c->n_pend++;
		p->data = NULL;
	}
	if (p->data) {
		pend_end = p->ts + p->dur;
		/* the node's merge rule (same data, not earlier, within pulsetime of the end) */
		if (json_equal(p->data, d) && hts >= p->ts && hts <= pend_end + dur_to_ns(pulsetime)) {
			int64_t end = hend > pend_end ? hend : pend_end;

			json_decref(d);
			p->dur = end - p->ts;
			/* send again once the event has grown by the commit interval */
			if ((double)(end - p->committed_end) / 1e9 >= c->commit_interval) {
				rc = commit(c, bucket_id, p->ts, p->dur, p->data, p->pulsetime);
				p->committed_end = end;
				p->sent = 1;
			}
			return rc;
		}
		rc = commit_pending(c, p);
	}
	p->ts = hts;
	p->dur = hend - hts;
	p->data = d;
	p->pulsetime = pulsetime;
	p->committed_end = hts;
	p->sent = 0;
	return rc;
}

int aw_client_flush(aw_client *c)
{
	int rc = AW_OK;

	for (size_t i = 0; i < c->n_pend; i++)
		if (c->pend[i].data && commit_pending(c, &c->pend[i]))
			rc = AW_ERROR;
	return rc;
}

/* ---- delivery ------------------------------------------------------------------- */

static void backoff(aw_client *c)
{
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->backoff_until = aw_time_monotonic_ms() + c->backoff_ms;
}

static void unensure_all(aw_client *c)
{
	for (size_t i = 0; i < c->n_buckets; i++)
		c->buckets[i].ensured = 0;
}

static void connection_failed(aw_client *c, const char *why)
{
	unensure_all(c);
	backoff(c);
	if (c->reachable != 0)
		clog_(c, AW_CLIENT_LOG_WARN,
		      "cannot reach the node at %s (%s); %zu heartbeats kept in the queue, retrying with back-off",
		      c->base_url, why, queue_length(c->queue));
	else
		clog_(c, AW_CLIENT_LOG_DEBUG, "still cannot reach the node at %s (%s); retry in %ld ms", c->base_url,
		      why, c->backoff_ms);
	c->reachable = 0;
}

static void reached(aw_client *c)
{
	if (c->reachable == 0)
		clog_(c, AW_CLIENT_LOG_INFO, "the node at %s is reachable again; delivering %zu queued heartbeats",
		      c->base_url, queue_length(c->queue));
	c->reachable = 1;
	c->backoff_ms = 0;
	c->backoff_until = 0;
}

/* Start a queued-delivery POST (path and body are freed; either may be NULL after an
 * allocation failure). Returns 1 with `kind` in flight, or 0 after a failure that counts
 * as the node being unreachable. */
static int start_post(aw_client *c, int kind, char *path, char *body)
{
	int r = path && body ? http_begin(&c->req, c->host, c->port, "POST", path, c->auth_header, body,
					  strlen(body), c->timeout_ms)
			     : HTTP_FAILED;

	free(path);
	free(body);
	if (r == HTTP_FAILED) {
		connection_failed(c, c->req.err[0] ? c->req.err : "out of memory");
		http_reset(&c->req);
		return 0;
	}
	c->inflight = kind;
	return 1;
}

/* Start the next request if there is one and no back-off is running.
 * Returns 1 if a request is in flight afterwards. */
static int start_next(aw_client *c)
{
	if (c->inflight)
		return 1;
	if (aw_time_monotonic_ms() < c->backoff_until)
		return 0;
	/* buckets first (also with an empty queue, so they exist from the start) */
	for (size_t i = 0; i < c->n_buckets; i++) {
		reg_bucket *b = &c->buckets[i];

		if (b->ensured)
			continue;
		c->inflight_bucket = i;
		return start_post(c, INF_BUCKET, bucket_path(b->id, ""),
				  bucket_body(b->id, b->type, b->hostname, c->name));
	}
	for (;;) {
		char *rec = NULL, *path = NULL, *suffix = NULL, *body = NULL, pt[40];
		size_t len;
		json_t *j, *ev;
		const char *bucket;
		double pulsetime;
		int r = queue_peek(c->queue, &rec, &len);

		if (r == 1)
			return 0;
		if (r < 0) {
			clog_(c, AW_CLIENT_LOG_ERROR, "cannot read the queue in %s: %s", c->queue_dir, strerror(errno));
			backoff(c);
			return 0;
		}
		j = json_loadb(rec, len, 0, NULL);
		bucket = json_string_value(json_object_get(j, "bucket"));
		pulsetime = json_number_value(json_object_get(j, "pulsetime"));
		ev = json_object_get(j, "event");
		if (!bucket || !json_is_object(ev) || !(pulsetime >= 0)) {
			clog_(c, AW_CLIENT_LOG_ERROR, "dropping an unreadable queue record: %.200s", rec);
			free(rec);
			json_decref(j);
			queue_pop(c->queue);
			continue;
		}
		free(rec);
		fmt_pulsetime(pt, sizeof(pt), pulsetime);
		body = json_dumps(ev, JSON_COMPACT);
		if (asprintf(&suffix, "/heartbeat?pulsetime=%s", pt) >= 0)
			path = bucket_path(bucket, suffix);
		json_decref(j);
		free(suffix);
		return start_post(c, INF_HEARTBEAT, path, body);
	}
}

static void finished(aw_client *c, int r)
{
	int kind = c->inflight, status = c->req.status;
	const char *body = c->req.body ? c->req.body : "";

	c->inflight = INF_NONE;
	if (r != HTTP_DONE) {
		connection_failed(c, c->req.err);
		http_reset(&c->req);
		return;
	}
	if (status == 401 || status == 403) {
		clog_(c, AW_CLIENT_LOG_ERROR, "the node at %s refused the request (HTTP %d %.200s): check the API key",
		      c->base_url, status, body);
		backoff(c);
	} else if (status >= 500 || status == 429 || status == 408) {
		clog_(c, AW_CLIENT_LOG_WARN, "the node at %s answered HTTP %d %.200s; retrying", c->base_url, status,
		      body);
		backoff(c);
	} else if (kind == INF_BUCKET) {
		reg_bucket *b = &c->buckets[c->inflight_bucket];

		reached(c);
		if (!(status >= 200 && status < 300) && status != 304)
			clog_(c, AW_CLIENT_LOG_ERROR, "creating bucket %s failed: HTTP %d %.200s", b->id, status, body);
		b->ensured = 1;
	} else if (status >= 200 && status < 300) {
		reached(c);
		c->retried_404 = 0;
		queue_pop(c->queue);
	} else if (status == 404 && !c->retried_404 && c->n_buckets) {
		/* the bucket is gone (new database?): create it again, then retry once */
		reached(c);
		c->retried_404 = 1;
		unensure_all(c);
	} else {
		reached(c);
		c->retried_404 = 0;
		clog_(c, AW_CLIENT_LOG_ERROR, "the node rejected a queued heartbeat (HTTP %d %.200s); dropping it", status,
		      body);
		queue_pop(c->queue);
	}
	http_reset(&c->req);
}

/* Is there something to send once the back-off is over? */
static int work_waiting(const aw_client *c)
{
	if (queue_length(c->queue))
		return 1;
	for (size_t i = 0; i < c->n_buckets; i++)
		if (!c->buckets[i].ensured)
			return 1;
	return 0;
}

static int drain_wake(aw_client *c)
{
	char buf[64];
	int got = 0;

	while (read(c->wake[0], buf, sizeof(buf)) > 0)
		got = 1;
	return got;
}

static int loop(aw_client *c, long timeout_ms, int until_empty)
{
	int64_t deadline = aw_time_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		struct pollfd pfd[2];
		int nfd = 1, active;
		int64_t now, wait;

		if (drain_wake(c))
			return AW_EINTR;
		active = start_next(c);
		if (active) {
			int r = http_step(&c->req);

			if (r != HTTP_PENDING) {
				finished(c, r);
				continue;
			}
		}
		if (until_empty && !c->inflight && queue_length(c->queue) == 0)
			return AW_OK;
		now = aw_time_monotonic_ms();
		if (now >= deadline)
			return until_empty ? AW_ECONNECT : AW_OK;
		wait = deadline - now;
		if (c->inflight) {
			if (c->req.deadline_ms - now < wait)
				wait = c->req.deadline_ms - now;
		} else if (work_waiting(c) && c->backoff_until > now && c->backoff_until - now < wait) {
			wait = c->backoff_until - now;
		}
		if (wait < 0)
			wait = 0;
		pfd[0].fd = c->wake[0];
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		if (c->inflight && http_pollfd(&c->req, &pfd[1]))
			nfd = 2;
		if (poll(pfd, (nfds_t)nfd, (int)wait) < 0 && errno != EINTR)
			return aw_error_set(AW_ERROR, "poll: %s", strerror(errno));
	}
}

void aw_client_clear_interrupt(aw_client *c)
{
	drain_wake(c);
}

int aw_client_run(aw_client *c, long timeout_ms)
{
	return loop(c, timeout_ms, 0);
}

int aw_client_drain(aw_client *c, long timeout_ms)
{
	int rc = loop(c, timeout_ms, 1);

	if (rc == AW_ECONNECT)
		aw_error_set(AW_ECONNECT, "%zu heartbeats still queued for %s", queue_length(c->queue), c->base_url);
	return rc;
}
