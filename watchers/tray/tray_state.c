/*
 * The tray's picture of the node: parsing the node's answers and summing them up.
 * See tray_state.h.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "aw/time.h"
#include "tray_state.h"

static void copy_str(char *dst, size_t len, json_t *v)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";

	snprintf(dst, len, "%s", s);
}

int tray_state_parse_watchers(tray_state *st, const char *body)
{
	int sync = st->sync_configured;
	json_t *root, *list, *w;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->sync_configured = sync;
	root = body ? json_loads(body, 0, NULL) : NULL;
	if (!json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	st->node_up = 1;
	st->supervised = json_is_true(json_object_get(root, "supervised"));
	st->supervisor_pid = (long)json_integer_value(json_object_get(json_object_get(root, "supervisor"), "pid"));
	list = json_object_get(root, "watchers");
	json_array_foreach(list, i, w) {
		tray_watcher *t;

		if (st->nwatchers == TRAY_MAX_WATCHERS)
			break;
		/* the supervisor lists its other children too (this tray among them) */
		if (json_is_string(json_object_get(w, "kind")) &&
		    strcmp(json_string_value(json_object_get(w, "kind")), "watcher"))
			continue;
		t = &st->watchers[st->nwatchers++];
		copy_str(t->name, sizeof(t->name), json_object_get(w, "name"));
		copy_str(t->state, sizeof(t->state), json_object_get(w, "state"));
		copy_str(t->paused_until, sizeof(t->paused_until), json_object_get(w, "paused_until"));
		t->paused = json_is_true(json_object_get(w, "paused"));
	}
	json_decref(root);
	return 0;
}

void tray_state_parse_sync(tray_state *st, const char *body)
{
	json_t *root = body ? json_loads(body, 0, NULL) : NULL;

	st->sync_configured = json_is_true(json_object_get(root, "configured"));
	json_decref(root);
}

int tray_state_equal(const tray_state *a, const tray_state *b)
{
	if (a->node_up != b->node_up || a->supervised != b->supervised || a->sync_configured != b->sync_configured ||
	    a->nwatchers != b->nwatchers || a->supervisor_pid != b->supervisor_pid)
		return 0;
	for (size_t i = 0; i < a->nwatchers; i++) {
		const tray_watcher *x = &a->watchers[i], *y = &b->watchers[i];

		if (strcmp(x->name, y->name) || strcmp(x->state, y->state) || x->paused != y->paused ||
		    strcmp(x->paused_until, y->paused_until))
			return 0;
	}
	return 1;
}

const char *tray_watcher_title(const char *name)
{
	if (!strcmp(name, "aw-watcher-window"))
		return "Window watcher";
	if (!strcmp(name, "aw-watcher-afk"))
		return "AFK watcher";
	return name;
}

/* "2026-05-01T12:30:05Z" as local "HH:MM", or "" if it does not parse. A pause ends
 * within a day at most in practice (the menu offers 15 minutes and 1 hour), so the
 * date is left out. */
static void local_hhmm(char *buf, size_t len, const char *iso)
{
	struct tm tm;
	aw_ns ns;
	time_t t;

	buf[0] = '\0';
	if (aw_time_parse(&ns, iso, strlen(iso), AW_TIME_RELAXED))
		return;
	t = (time_t)(ns / AW_NS_PER_SEC);
	if (localtime_r(&t, &tm))
		strftime(buf, len, "%H:%M", &tm);
}

void tray_watcher_line(char *buf, size_t len, const tray_watcher *w)
{
	const char *title = tray_watcher_title(w->name);
	char hhmm[16];

	if (w->paused && w->paused_until[0]) {
		local_hhmm(hhmm, sizeof(hhmm), w->paused_until);
		snprintf(buf, len, "%s: paused until %s", title, hhmm[0] ? hhmm : w->paused_until);
	} else if (w->paused) {
		snprintf(buf, len, "%s: paused until resumed", title);
	} else if (!strcmp(w->state, "running")) {
		snprintf(buf, len, "%s: recording", title);
	} else {
		snprintf(buf, len, "%s: %s", title, w->state[0] ? w->state : "unknown");
	}
}

static size_t count_paused(const tray_state *st)
{
	size_t n = 0;

	for (size_t i = 0; i < st->nwatchers; i++)
		n += st->watchers[i].paused != 0;
	return n;
}

/* A watcher that should run but does not: crashed and waiting, or given up on. */
static int watcher_in_trouble(const tray_watcher *w)
{
	return !w->paused && (!strcmp(w->state, "restarting") || !strcmp(w->state, "stopped"));
}

const char *tray_state_summary(const tray_state *st)
{
	size_t paused = count_paused(st);

	if (!st->node_up)
		return "Node not answering";
	if (!st->supervised)
		return "Not run by awnode start";
	for (size_t i = 0; i < st->nwatchers; i++)
		if (watcher_in_trouble(&st->watchers[i]))
			return "A watcher is not running";
	if (st->nwatchers == 0)
		return "No watchers running";
	if (paused == st->nwatchers)
		return "Paused";
	return paused ? "Some watchers paused" : "Recording";
}

int tray_state_icon(const tray_state *st)
{
	if (!st->node_up)
		return 2;
	for (size_t i = 0; i < st->nwatchers; i++)
		if (watcher_in_trouble(&st->watchers[i]))
			return 2;
	return st->nwatchers > 0 && count_paused(st) < st->nwatchers ? 0 : 1;
}
