/* Active window via EWMH: see xwin.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wcommon.h"
#include "xwin.h"

#define PROP_MAX_WORDS 1024 /* 4 KiB per property: titles are cut to TITLE_MAX anyway */

static xcb_atom_t intern(xcb_connection_t *c, const char *name)
{
	xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
	xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;

	free(r);
	return a;
}

int xwin_open(xwin *w, char *err, size_t errlen)
{
	const char *display = getenv("DISPLAY");
	int screen_no = 0;
	xcb_screen_iterator_t it;

	memset(w, 0, sizeof(*w));
	if (!display || !*display) {
		snprintf(err, errlen, "no X display: DISPLAY is not set%s",
			 getenv("WAYLAND_DISPLAY") ? "" : ", nor WAYLAND_DISPLAY: no desktop session to watch");
		return -1;
	}
	w->conn = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(w->conn)) {
		snprintf(err, errlen, "cannot open X display '%s'", display);
		xcb_disconnect(w->conn);
		w->conn = NULL;
		return -1;
	}
	it = xcb_setup_roots_iterator(xcb_get_setup(w->conn));
	for (int i = 0; i < screen_no && it.rem; i++)
		xcb_screen_next(&it);
	w->root = it.data->root;
	w->net_active_window = intern(w->conn, "_NET_ACTIVE_WINDOW");
	w->net_wm_name = intern(w->conn, "_NET_WM_NAME");
	w->utf8_string = intern(w->conn, "UTF8_STRING");
	w->compound_text = intern(w->conn, "COMPOUND_TEXT");
	if (xcb_connection_has_error(w->conn)) {
		snprintf(err, errlen, "lost the X connection to '%s'", display);
		xwin_close(w);
		return -1;
	}
	return 0;
}

void xwin_close(xwin *w)
{
	if (w->conn)
		xcb_disconnect(w->conn);
	w->conn = NULL;
}

/* A property's reply, or NULL if absent/error. */
static xcb_get_property_reply_t *get_prop(xwin *w, xcb_window_t win, xcb_atom_t prop)
{
	xcb_get_property_reply_t *r;

	if (prop == XCB_ATOM_NONE)
		return NULL;
	r = xcb_get_property_reply(w->conn, xcb_get_property(w->conn, 0, win, prop, XCB_GET_PROPERTY_TYPE_ANY, 0,
							    PROP_MAX_WORDS),
				   NULL);
	if (r && (r->type == XCB_ATOM_NONE || r->format == 0)) {
		free(r);
		return NULL;
	}
	return r;
}

static xcb_window_t parent_of(xwin *w, xcb_window_t win)
{
	xcb_query_tree_reply_t *t = xcb_query_tree_reply(w->conn, xcb_query_tree(w->conn, win), NULL);
	xcb_window_t p = t ? t->parent : XCB_WINDOW_NONE;

	free(t);
	return p == w->root ? XCB_WINDOW_NONE : p;
}

/* WM_CLASS is "instance\0class\0": the class part names the application. */
static char *window_class(xwin *w, xcb_window_t win)
{
	for (int depth = 0; win != XCB_WINDOW_NONE && depth < 8; depth++) {
		xcb_get_property_reply_t *r = get_prop(w, win, XCB_ATOM_WM_CLASS);

		if (r && r->format == 8) {
			const char *v = xcb_get_property_value(r);
			size_t n = (size_t)xcb_get_property_value_length(r);
			const char *nul = memchr(v, '\0', n);
			char *out = NULL;

			if (nul && (size_t)(nul - v) + 1 < n) {
				const char *cls = nul + 1;
				size_t cl = n - (size_t)(cls - v);

				if (cl && cls[0])
					out = latin1_to_utf8(cls, cl, APP_MAX);
			}
			if (!out && n && v[0])
				out = latin1_to_utf8(v, nul ? (size_t)(nul - v) : n, APP_MAX);
			free(r);
			if (out)
				return out;
		} else {
			free(r);
		}
		win = parent_of(w, win);
	}
	return strdup("unknown");
}

static char *window_title(xwin *w, xcb_window_t win)
{
	xcb_get_property_reply_t *r = get_prop(w, win, w->net_wm_name);
	char *out = NULL;

	if (r && r->format == 8) {
		out = utf8_clean(xcb_get_property_value(r), (size_t)xcb_get_property_value_length(r), TITLE_MAX);
		free(r);
		return out;
	}
	free(r);
	r = get_prop(w, win, XCB_ATOM_WM_NAME);
	if (r && r->format == 8) {
		const char *v = xcb_get_property_value(r);
		size_t n = (size_t)xcb_get_property_value_length(r);

		if (r->type == XCB_ATOM_STRING)
			out = latin1_to_utf8(v, n, TITLE_MAX);
		else /* UTF8_STRING, COMPOUND_TEXT (ASCII part), others */
			out = utf8_clean(v, n, TITLE_MAX);
	}
	free(r);
	return out ? out : strdup("unknown");
}

int xwin_current(xwin *w, char **app, char **title)
{
	xcb_get_property_reply_t *r;
	xcb_window_t active = XCB_WINDOW_NONE;

	*app = *title = NULL;
	r = get_prop(w, w->root, w->net_active_window);
	if (r && r->format == 32 && xcb_get_property_value_length(r) >= 4)
		active = *(xcb_window_t *)xcb_get_property_value(r);
	free(r);
	if (xcb_connection_has_error(w->conn))
		return -1;
	if (active == XCB_WINDOW_NONE) {
		*app = strdup("unknown");
		*title = strdup("unknown");
	} else {
		*app = window_class(w, active);
		*title = window_title(w, active);
	}
	if (xcb_connection_has_error(w->conn)) {
		free(*app);
		free(*title);
		*app = *title = NULL;
		return -1;
	}
	/* errors of requests made without an error pointer arrive as events: drop them */
	for (xcb_generic_event_t *e; (e = xcb_poll_for_event(w->conn));)
		free(e);
	if (!*app || !*title) {
		free(*app);
		free(*title);
		*app = strdup("unknown");
		*title = strdup("unknown");
	}
	return 0;
}
