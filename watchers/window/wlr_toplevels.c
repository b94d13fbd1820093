/*
 * aw-watcher-window's backend for wlroots compositors (sway, Hyprland, river, labwc):
 * the toplevel list of wlr-foreign-toplevel-management-unstable-v1 (protocol XML in
 * watchers/protocols/), the protocol taskbars use. The compositor tells every client
 * bound to it each toplevel's app_id, title and state; the active window is the one
 * whose state holds "activated". See window_source.h and docs/watchers.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-client.h>

#include "wcommon.h"
#include "window_source.h"
#include "wlr-foreign-toplevel-management-unstable-v1-client-protocol.h"
#include "wlsession.h"

#define MGR_IFACE "zwlr_foreign_toplevel_manager_v1"
#define MGR_VERSION 3 /* the newest the vendored XML describes */

typedef struct toplevel {
	struct zwlr_foreign_toplevel_handle_v1 *handle;
	struct wlr_src *src;
	char *app_id, *title;
	int activated;
	uint64_t activated_seq; /* when it last became activated, to prefer the newest */
	struct toplevel *next;
} toplevel;

typedef struct wlr_src {
	struct wl_display *display;
	struct zwlr_foreign_toplevel_manager_v1 *mgr;
	toplevel *list;
	uint64_t seq;
	int finished;
} wlr_src;

static void set_string(char **dst, const char *v)
{
	char *copy = strdup(v ? v : "");

	if (copy) {
		free(*dst);
		*dst = copy;
	}
}

static void on_title(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *title)
{
	set_string(&((toplevel *)data)->title, title);
}

static void on_app_id(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, const char *app_id)
{
	set_string(&((toplevel *)data)->app_id, app_id);
}

static void on_output_enter(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_output *o)
{
}

static void on_output_leave(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_output *o)
{
}

/* The state array replaces the previous one. Applied at once rather than at "done":
 * the compositor sends a change and its "done" together, and the poll reads them
 * after a round trip, so a half-applied change is never seen. */
static void on_state(void *data, struct zwlr_foreign_toplevel_handle_v1 *h, struct wl_array *state)
{
	toplevel *t = data;
	const uint32_t *s;
	int activated = 0;

	wl_array_for_each(s, state) {
		if (*s == ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_ACTIVATED)
			activated = 1;
	}
	if (activated && !t->activated)
		t->activated_seq = ++t->src->seq;
	t->activated = activated;
}

static void on_done(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
}

static void toplevel_free(toplevel *t)
{
	zwlr_foreign_toplevel_handle_v1_destroy(t->handle);
	free(t->app_id);
	free(t->title);
	free(t);
}

static void on_closed(void *data, struct zwlr_foreign_toplevel_handle_v1 *h)
{
	toplevel *t = data;

	for (toplevel **pp = &t->src->list; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	toplevel_free(t);
}

static void on_parent(void *data, struct zwlr_foreign_toplevel_handle_v1 *h,
		      struct zwlr_foreign_toplevel_handle_v1 *parent)
{
}

static const struct zwlr_foreign_toplevel_handle_v1_listener toplevel_listener = {
	.title = on_title,
	.app_id = on_app_id,
	.output_enter = on_output_enter,
	.output_leave = on_output_leave,
	.state = on_state,
	.done = on_done,
	.closed = on_closed,
	.parent = on_parent,
};

static void on_toplevel(void *data, struct zwlr_foreign_toplevel_manager_v1 *mgr,
			struct zwlr_foreign_toplevel_handle_v1 *handle)
{
	wlr_src *src = data;
	toplevel *t = calloc(1, sizeof(*t));

	if (!t) {
		zwlr_foreign_toplevel_handle_v1_destroy(handle);
		return;
	}
	t->handle = handle;
	t->src = src;
	t->next = src->list;
	src->list = t;
	zwlr_foreign_toplevel_handle_v1_add_listener(handle, &toplevel_listener, t);
}

static void on_finished(void *data, struct zwlr_foreign_toplevel_manager_v1 *mgr)
{
	((wlr_src *)data)->finished = 1;
}

static const struct zwlr_foreign_toplevel_manager_v1_listener manager_listener = {
	.toplevel = on_toplevel,
	.finished = on_finished,
};

/* One round trip brings every change the compositor sent since the last poll. */
static int wlr_current(window_source *s, char **app, char **title)
{
	wlr_src *src = s->impl;
	const toplevel *best = NULL;

	*app = *title = NULL;
	if (wl_display_roundtrip(src->display) < 0 || src->finished)
		return -1;
	for (const toplevel *t = src->list; t; t = t->next)
		if (t->activated && (!best || t->activated_seq > best->activated_seq))
			best = t;
	aw_window_fields(app, title, best ? best->app_id : NULL, best ? best->title : NULL);
	return 0;
}

static void wlr_close(window_source *s)
{
	wlr_src *src = s->impl;

	if (!src)
		return;
	while (src->list) {
		toplevel *t = src->list;

		src->list = t->next;
		toplevel_free(t);
	}
	if (src->mgr)
		zwlr_foreign_toplevel_manager_v1_destroy(src->mgr);
	wl_display_disconnect(src->display);
	free(src);
	s->impl = NULL;
}

int aw_window_source_wlr(window_source *s, char *err, size_t errlen)
{
	aw_wlsession_globals gl;
	const aw_wlsession_global *g;
	wlr_src *src;
	char who[300];

	memset(s, 0, sizeof(*s));
	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return WINDOW_SOURCE_NODISPLAY;
	}
	src->display = aw_wlsession_connect(err, errlen);
	if (!src->display) {
		free(src);
		return WINDOW_SOURCE_NODISPLAY;
	}
	s->name = "wayland";
	s->impl = src;
	s->current = wlr_current;
	s->close = wlr_close;
	if (aw_wlsession_list(src->display, &gl, err, errlen)) {
		wlr_close(s);
		return WINDOW_SOURCE_NODISPLAY;
	}
	g = aw_wlsession_find(&gl, MGR_IFACE);
	if (!g) {
		aw_wlsession_describe(who, sizeof(who));
		snprintf(err, errlen,
			 "%s offers no wlr-foreign-toplevel-management (%s), so the active window cannot be read; "
			 "wlroots compositors (sway, Hyprland, river, labwc) have it; KDE Plasma and GNOME are read over D-Bus "
			 "(--backend kde or gnome)",
			 who, MGR_IFACE);
		aw_wlsession_globals_free(&gl);
		wlr_close(s);
		return WINDOW_SOURCE_UNSUPPORTED;
	}
	src->mgr = wl_registry_bind(gl.registry, g->name, &zwlr_foreign_toplevel_manager_v1_interface,
				    g->version < MGR_VERSION ? g->version : MGR_VERSION);
	aw_wlsession_globals_free(&gl);
	zwlr_foreign_toplevel_manager_v1_add_listener(src->mgr, &manager_listener, src);
	/* the toplevels that exist now, and their state */
	if (wl_display_roundtrip(src->display) < 0 || wl_display_roundtrip(src->display) < 0) {
		snprintf(err, errlen, "lost the connection to the Wayland compositor");
		wlr_close(s);
		return WINDOW_SOURCE_NODISPLAY;
	}
	return 0;
}
