/*
 * Pausing watchers, and the control requests that ask for it (status, pause, resume).
 *
 * A paused watcher is stopped with SIGTERM, so it commits its last heartbeat and
 * delivers its queue, and is not restarted until it is resumed or its pause runs out
 * (the supervisor's loop watches the deadline). Timed pauses are written to a small file
 * beside the control socket, so restarting `awnode start` keeps them until they expire;
 * "until resumed" pauses are not kept (a forgotten one would silently stop recording for
 * good).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aw/buf.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/supervisor_ctl.h"
#include "aw/time.h"
#include "supervisor_int.h"

/* ---- time formatting ------------------------------------------------------------ */

/* "until 14:30:05" or "until resumed", for the log */
static void fmt_until(char *buf, size_t len, int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char hms[16];

	if (!wall_ms) {
		snprintf(buf, len, "until resumed");
		return;
	}
	localtime_r(&t, &tm);
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	snprintf(buf, len, "until %s", hms);
}

/* ---- saved timed pauses ---------------------------------------------------------- */

static int state_path(const supervisor *sv, char *buf, size_t len)
{
	int n;

	if (!sv->sock_path[0])
		return -1;
	n = snprintf(buf, len, "%s.pauses", sv->sock_path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Write "<watcher> <until ms>" lines for the timed pauses (core's atomic write, so a
 * crash leaves the old or the new list). An empty list removes the file. */
static void save_pauses(const supervisor *sv)
{
	char path[sizeof(sv->sock_path) + 16];
	aw_buf b = AW_BUF_INIT;

	if (state_path(sv, path, sizeof(path)))
		return;
	for (size_t i = 0; i < sv->nk; i++)
		if (sv->kids[i].paused && sv->kids[i].paused_until)
			aw_buf_printf(&b, "%s %lld\n", sv->kids[i].name, (long long)sv->kids[i].paused_until);
	if (!b.len)
		unlink(path);
	else if (aw_files_write(path, b.data, b.len, 0600, 0))
		supervisor_log("WARNING", "cannot save the pauses: %s", aw_error_last());
	aw_buf_free(&b);
}

static child *find_watcher(supervisor *sv, const char *full_name)
{
	for (size_t i = 0; i < sv->nk; i++)
		if (!sv->kids[i].is_node && !sv->kids[i].is_tray && !strcmp(sv->kids[i].name, full_name))
			return &sv->kids[i];
	return NULL;
}

void pause_restore(supervisor *sv)
{
	char path[sizeof(sv->sock_path) + 16], name[64], until[32];
	long long ms;
	FILE *f;

	if (state_path(sv, path, sizeof(path)) || !(f = fopen(path, "r")))
		return;
	while (fscanf(f, "%63s %lld", name, &ms) == 2) {
		child *c = find_watcher(sv, name);

		if (!c || ms <= supervisor_wall_ms())
			continue;
		c->paused = 1;
		c->paused_until = ms;
		fmt_until(until, sizeof(until), ms);
		supervisor_log("INFO", "%s stays paused %s (paused before awnode start was restarted)", c->name, until);
	}
	fclose(f);
	save_pauses(sv); /* drop what has expired */
}

/* ---- pause and resume ------------------------------------------------------------- */

static void pause_child(supervisor *sv, child *c, int64_t until_ms)
{
	char until[32];

	c->paused = 1;
	c->paused_until = until_ms;
	c->restart_at_ms = 0;
	if (c->pid > 0 && !c->stopping_for_pause) {
		/* SIGTERM: the watcher commits what it holds and delivers its queue first */
		kill(c->pid, SIGTERM);
		c->stopping_for_pause = 1;
		c->kill_at_ms = aw_time_monotonic_ms() + PAUSE_KILL_MS;
	}
	fmt_until(until, sizeof(until), until_ms);
	supervisor_log("INFO", "pausing %s %s", c->name, until);
	save_pauses(sv);
}

static void resume_child(supervisor *sv, child *c, const char *why)
{
	c->paused = 0;
	c->paused_until = 0;
	supervisor_log("INFO", "%s: %s", c->name, why);
	save_pauses(sv);
	if (c->pid || c->disabled || !sv->watchers_started)
		return; /* still stopping (restarted when it exits), given up, or not yet due */
	c->backoff_ms = 0;
	supervisor_spawn(sv, c);
}

void pause_child_exited(supervisor *sv, child *c)
{
	(void)sv;
	c->stopping_for_pause = 0;
	c->kill_at_ms = 0;
	if (!c->paused && !c->disabled) {
		c->backoff_ms = 0;
		c->restart_at_ms = aw_time_monotonic_ms(); /* resumed while it was stopping */
	}
}

void pause_tick(supervisor *sv, int64_t *wait_ms)
{
	int64_t wall = supervisor_wall_ms(), mono = aw_time_monotonic_ms();

	for (size_t i = 0; i < sv->nk; i++) {
		child *c = &sv->kids[i];

		if (c->paused && c->paused_until) {
			if (wall >= c->paused_until)
				resume_child(sv, c, "the pause is over; resuming");
			else if (c->paused_until - wall < *wait_ms)
				*wait_ms = c->paused_until - wall;
		}
		if (c->stopping_for_pause && c->pid > 0 && c->kill_at_ms) {
			if (mono >= c->kill_at_ms) {
				supervisor_log("WARNING", "%s did not stop for the pause in time; killing it", c->name);
				kill(c->pid, SIGKILL);
				c->kill_at_ms = 0;
			} else if (c->kill_at_ms - mono < *wait_ms) {
				*wait_ms = c->kill_at_ms - mono;
			}
		}
	}
}

/* ---- answers ------------------------------------------------------------------------ */

static const char *child_state(const supervisor *sv, const child *c)
{
	if (c->external)
		return "external";
	if (c->paused)
		return "paused";
	if (c->pid > 0)
		return "running";
	if (c->restart_at_ms)
		return "restarting";
	if (!c->is_node && !c->disabled && !sv->watchers_started)
		return "starting";
	return "stopped";
}

static json_t *child_json(const supervisor *sv, const child *c)
{
	json_t *o = json_object();
	char iso[AW_TIME_BUFSZ];

	json_object_set_new(o, "name", json_string(c->is_node ? "node" : c->name));
	json_object_set_new(o, "kind", json_string(c->is_node ? "node" : c->is_tray ? "tray" : "watcher"));
	json_object_set_new(o, "state", json_string(child_state(sv, c)));
	json_object_set_new(o, "pid", c->pid > 0 ? json_integer(c->pid) : json_null());
	json_object_set_new(o, "uptime", c->pid > 0 ? json_integer((aw_time_monotonic_ms() - c->started_ms) / 1000) : json_null());
	json_object_set_new(o, "restarts", json_integer(c->restarts));
	json_object_set_new(o, "paused", json_boolean(c->paused));
	if (c->paused && c->paused_until) {
		/* whole seconds: aw_time_format then prints no fraction */
		aw_time_format(iso, c->paused_until / 1000 * AW_NS_PER_SEC);
		json_object_set_new(o, "paused_until", json_string(iso));
	} else {
		json_object_set_new(o, "paused_until", json_null());
	}
	return o;
}

/* {"ok":true,"supervisor":{...},"children":[...]}, plus for a pause or resume "watcher"
 * (the one it named) and "changed" (false: resuming one that was not paused). */
static char *status_answer(const supervisor *sv, const child *named, int changed)
{
	json_t *o = json_object(), *kids = json_array(), *me = json_object();
	char *s;

	json_object_set_new(me, "pid", json_integer(getpid()));
	json_object_set_new(me, "testing", json_boolean(sv->testing));
	json_object_set_new(me, "uptime", json_integer((aw_time_monotonic_ms() - sv->started_ms) / 1000));
	json_object_set_new(o, "ok", json_true());
	json_object_set_new(o, "supervisor", me);
	for (size_t i = 0; i < sv->nk; i++)
		json_array_append_new(kids, child_json(sv, &sv->kids[i]));
	json_object_set_new(o, "children", kids);
	if (named) {
		json_object_set_new(o, "watcher", child_json(sv, named));
		json_object_set_new(o, "changed", json_boolean(changed));
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static char *error_answer(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *error_answer(const char *code, const char *fmt, ...)
{
	char msg[512];
	json_t *o;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", code, "message", msg);
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/* The watcher a request names, or NULL after writing the error answer to *err. */
static child *requested_watcher(supervisor *sv, json_t *req, char **err)
{
	const char *name = json_string_value(json_object_get(req, "watcher"));
	const char *full = aw_supervisor_ctl_watcher_name(name);
	child *c;

	if (!full) {
		*err = error_answer("unknown_watcher", "unknown watcher '%s' (aw-watcher-afk, aw-watcher-window, afk or window)",
				    name ? name : "");
		return NULL;
	}
	c = find_watcher(sv, full);
	if (!c)
		*err = error_answer("unknown_watcher",
				    "%s is not run by this awnode start (no usable X display, --no-watchers, or not installed)",
				    full);
	return c;
}

/* The pause's end (wall ms, 0 = until resumed) from "duration": seconds, a duration
 * string like "15m", or null/absent; -1 if it is anything else. */
static int64_t requested_until(json_t *req)
{
	json_t *d = json_object_get(req, "duration");
	long secs;

	if (!d || json_is_null(d))
		return 0;
	if (json_is_number(d)) {
		double v = json_number_value(d);
		if (!isfinite(v) || v < 1 || v > AW_CTL_MAX_PAUSE_S)
			return -1;
		return supervisor_wall_ms() + (int64_t)(v * 1000.0);
	}
	if (json_is_string(d) && !aw_supervisor_ctl_parse_duration(&secs, json_string_value(d)))
		return supervisor_wall_ms() + (int64_t)secs * 1000;
	return -1;
}

/* Pause or resume the watcher c a request names (found by requested_watcher first, so
 * an unknown watcher is reported before a bad duration). */
static char *handle_pause(supervisor *sv, child *c, json_t *req)
{
	int64_t until = requested_until(req);

	if (until < 0)
		return error_answer("bad_duration", "duration must be a number of seconds from 1 to %ld, or null",
				    AW_CTL_MAX_PAUSE_S);
	pause_child(sv, c, until);
	return status_answer(sv, c, 1);
}

static char *handle_resume(supervisor *sv, child *c)
{
	int was_paused = c->paused;

	if (was_paused)
		resume_child(sv, c, "resuming (requested over the control socket)");
	return status_answer(sv, c, was_paused);
}

char *control_answer(supervisor *sv, const char *line)
{
	json_t *req = json_loads(line, 0, NULL);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	char *answer;

	if (!json_is_object(req))
		answer = error_answer("bad_request", "a request is one JSON object on one line");
	else if (!cmd)
		answer = error_answer("bad_request", "the request has no \"cmd\"");
	else if (!strcmp(cmd, "status"))
		answer = status_answer(sv, NULL, 0);
	else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		char *err = NULL;
		child *c = requested_watcher(sv, req, &err);

		answer = !c ? err : !strcmp(cmd, "pause") ? handle_pause(sv, c, req) : handle_resume(sv, c);
	} else
		answer = error_answer("unknown_command", "unknown command '%s' (status, pause, resume)", cmd);
	json_decref(req);
	return answer;
}
