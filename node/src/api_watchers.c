/*
 * GET /api/0/watchers, POST /api/0/watchers/{name}/pause and .../resume: the web UI's
 * view of `awnode start`. The node learns the supervisor's control socket from
 * AW_CTL_SOCKET_ENV (set only for a node that `awnode start` runs); without it the node
 * is "not supervised". The exchange with the supervisor (connect, one line each way,
 * 1 s at most) runs on the worker pool, never on the HTTP thread. See docs/api.md.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/error.h"
#include "aw/json.h"
#include "aw/mem.h"
#include "aw/supervisor_ctl.h"
#include "aw/log.h"

#define CTL_TIMEOUT_MS 1000

/* The request line for the supervisor, carried to the worker in rq->state. */
typedef struct ctl_call {
	char *line;
	char *path;
	bool is_list; /* GET: answer {"supervised", "watchers"} even when it fails */
} ctl_call;

static void ctl_call_free(void *p)
{
	ctl_call *c = p;

	free(c->line);
	free(c->path);
	free(c);
}

static const char *socket_path(void)
{
	const char *p = getenv(AW_CTL_SOCKET_ENV);

	return p && *p ? p : NULL;
}

/* {"supervised": true, "supervisor": {...}, "watchers": [the watcher children]} plus
 * "watcher" when the answer names one. */
static void respond_watchers(request *rq, json_t *answer)
{
	json_t *out = json_object(), *list = json_array(), *kids = json_object_get(answer, "children"), *c;
	size_t i;
	char *text;

	json_array_foreach(kids, i, c) {
		const char *kind = json_string_value(json_object_get(c, "kind"));
		if (kind && !strcmp(kind, "watcher"))
			json_array_append(list, c);
	}
	json_object_set_new(out, "supervised", json_true());
	json_object_set(out, "supervisor", json_object_get(answer, "supervisor"));
	json_object_set_new(out, "watchers", list);
	if (json_object_get(answer, "watcher"))
		json_object_set(out, "watcher", json_object_get(answer, "watcher"));
	text = json_dumps(out, JSON_COMPACT);
	respond(rq, 200, "application/json", text, strlen(text));
	free(text);
	json_decref(out);
}

static void respond_unreachable(request *rq, const ctl_call *call, const char *why)
{
	aw_log_warn("watchers: cannot reach awnode start: %s", why);
	if (call->is_list) {
		aw_buf b = AW_BUF_INIT;
		aw_buf_puts(&b, "{\"supervised\":false,\"watchers\":[],\"message\":");
		aw_buf_json_string(&b, why, strlen(why));
		aw_buf_putc(&b, '}');
		respond_json_buf(rq, 200, &b);
		return;
	}
	respond_message(rq, 503, "cannot reach awnode start: %s", why);
}

/* Worker: one exchange with the supervisor, then the HTTP answer. */
static void exchange(request *rq, aw_reader *r)
{
	const ctl_call *call = rq->state;
	char *line = NULL;
	const char *code, *msg;
	json_t *answer;

	(void)r;
	if (aw_supervisor_ctl_request(&line, call->path, call->line, CTL_TIMEOUT_MS)) {
		respond_unreachable(rq, call, aw_error_last());
		return;
	}
	answer = json_loads(line, 0, NULL);
	free(line);
	if (!json_is_object(answer)) {
		respond_unreachable(rq, call, "its answer is not JSON");
	} else if (json_is_true(json_object_get(answer, "ok"))) {
		respond_watchers(rq, answer);
	} else {
		code = json_string_value(json_object_get(answer, "error"));
		msg = json_string_value(json_object_get(answer, "message"));
		respond_message(rq, code && !strcmp(code, "unknown_watcher") ? 404
				    : code && !strcmp(code, "bad_duration") ? 400
									    : 500,
				"%s", msg ? msg : "awnode start refused the request");
	}
	json_decref(answer);
}

static void ask_supervisor(request *rq, const char *path, json_t *req, bool is_list)
{
	ctl_call *call = aw_mem_calloc(1, sizeof(*call));

	call->line = json_dumps(req, JSON_COMPACT);
	call->path = aw_mem_strdup(path);
	call->is_list = is_list;
	if (!call->line)
		abort();
	rq->state = call;
	rq->state_free = ctl_call_free;
	submit_read(rq, exchange);
}

void api_watchers_list(request *rq)
{
	const char *path = socket_path();
	json_t *req;

	if (!path) {
		static const char body[] = "{\"supervised\":false,\"watchers\":[]}";
		respond(rq, 200, "application/json", body, sizeof(body) - 1);
		return;
	}
	req = json_pack("{s:s}", "cmd", "status");
	ask_supervisor(rq, path, req, true);
	json_decref(req);
}

/* The watcher named in the path, or NULL after answering 404. */
static const char *path_watcher(request *rq)
{
	const char *seg = rq_seg(rq, 3), *name = aw_supervisor_ctl_watcher_name(seg);

	if (!name)
		respond_message(rq, 404, "unknown watcher '%s' (aw-watcher-afk, aw-watcher-window, afk or window)",
				seg ? seg : "");
	return name;
}

/* The optional body {"duration": seconds or null}: sets *duration (NULL = until
 * resumed, a new reference otherwise); false after answering 400. */
static bool body_duration(request *rq, json_t **duration)
{
	json_t *v, *d;
	double s;

	*duration = NULL;
	if (!rq->body.len)
		return true;
	v = aw_json_parse(rq->body.data, rq->body.len);
	if (!v) {
		respond_message(rq, 400, "malformed JSON: %s", aw_error_last());
		return false;
	}
	d = json_is_object(v) ? json_object_get(v, "duration") : NULL;
	if (!json_is_object(v) && !json_is_null(v)) {
		json_decref(v);
		respond_message(rq, 400, "the body must be a JSON object like {\"duration\": 900}");
		return false;
	}
	s = json_is_number(d) ? json_number_value(d) : 0;
	if (d && !json_is_null(d) && (!json_is_number(d) || !isfinite(s) || s < 1 || s > AW_CTL_MAX_PAUSE_S)) {
		json_decref(v);
		respond_message(rq, 400, "duration must be a number of seconds from 1 to %ld, or null (until resumed)",
				AW_CTL_MAX_PAUSE_S);
		return false;
	}
	if (d && !json_is_null(d))
		*duration = json_incref(d);
	json_decref(v);
	return true;
}

static void pause_or_resume(request *rq, const char *cmd)
{
	const char *name = path_watcher(rq), *path;
	json_t *duration = NULL, *req;

	if (!name || (!strcmp(cmd, "pause") && !body_duration(rq, &duration)))
		return;
	path = socket_path();
	if (!path) {
		json_decref(duration);
		respond_message(rq, 409, "this node is not running under awnode start, so there is no watcher to %s", cmd);
		return;
	}
	req = json_pack("{s:s, s:s}", "cmd", cmd, "watcher", name);
	if (duration)
		json_object_set_new(req, "duration", duration);
	ask_supervisor(rq, path, req, false);
	json_decref(req);
}

void api_watcher_pause(request *rq)
{
	pause_or_resume(rq, "pause");
}

void api_watcher_resume(request *rq)
{
	pause_or_resume(rq, "resume");
}
