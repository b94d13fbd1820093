/* aw-watcher-afk's X11 backend: the X server's idle time from the MIT-SCREEN-SAVER
 * extension (XScreenSaverQueryInfo). Also picks the backend (idle_source.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/screensaver.h>
#include <xcb/xcb.h>

#include "dbsession.h"
#include "idle_source.h"
#include "wcommon.h"

typedef struct xidle {
	xcb_connection_t *conn;
	xcb_window_t root;
} xidle;

static int x11_idle(idle_source *s, double *seconds)
{
	xidle *x = s->impl;
	xcb_screensaver_query_info_reply_t *info;
	xcb_generic_error_t *xerr = NULL;

	info = xcb_screensaver_query_info_reply(x->conn, xcb_screensaver_query_info(x->conn, x->root), &xerr);
	if (!info) {
		if (xcb_connection_has_error(x->conn)) {
			free(xerr);
			return -1;
		}
		watcher_log(AW_CLIENT_LOG_WARN, "cannot query the idle time (X error %d); trying again",
			    xerr ? xerr->error_code : 0);
		free(xerr);
		return 1;
	}
	*seconds = (double)info->ms_since_user_input / 1000.0;
	free(info);
	return 0;
}

static void x11_close(idle_source *s)
{
	xidle *x = s->impl;

	if (x) {
		xcb_disconnect(x->conn);
		free(x);
	}
	s->impl = NULL;
}

/* Connect to the X server and check for the MIT-SCREEN-SAVER extension. */
int aw_idle_source_x11(idle_source *s, char *err, size_t errlen)
{
	const char *display = getenv("DISPLAY");
	const xcb_query_extension_reply_t *ext;
	xcb_screen_iterator_t it;
	int screen_no = 0;
	xidle *x;

	memset(s, 0, sizeof(*s));
	/* X first: without a display there is nothing to watch */
	if (!display || !*display) {
		snprintf(err, errlen, "no X display: DISPLAY is not set%s",
			 getenv("WAYLAND_DISPLAY") ? "" : ", nor WAYLAND_DISPLAY: no desktop session to watch");
		return IDLE_SOURCE_NODISPLAY;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		snprintf(err, errlen, "out of memory");
		return IDLE_SOURCE_NODISPLAY;
	}
	x->conn = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(x->conn)) {
		snprintf(err, errlen, "cannot open X display '%s'", display);
		xcb_disconnect(x->conn);
		free(x);
		return IDLE_SOURCE_NODISPLAY;
	}
	ext = xcb_get_extension_data(x->conn, &xcb_screensaver_id);
	if (!ext || !ext->present) {
		snprintf(err, errlen, "the X server on '%s' has no MIT-SCREEN-SAVER extension: cannot read the idle time",
			 display);
		xcb_disconnect(x->conn);
		free(x);
		return IDLE_SOURCE_NODISPLAY;
	}
	it = xcb_setup_roots_iterator(xcb_get_setup(x->conn));
	for (int i = 0; i < screen_no && it.rem; i++)
		xcb_screen_next(&it);
	x->root = it.data->root;
	s->name = "x11";
	s->impl = x;
	s->idle = x11_idle;
	s->close = x11_close;
	return 0;
}

int aw_idle_source_open(idle_source *s, idle_backend b, double timeout, char *err, size_t errlen)
{
	const char *wl = getenv("WAYLAND_DISPLAY");
	int rc;

	switch (b) {
	case IDLE_BACKEND_X11:
		return aw_idle_source_x11(s, err, errlen);
	case IDLE_BACKEND_WAYLAND:
		return aw_idle_source_wayland(s, timeout, err, errlen);
	case IDLE_BACKEND_GNOME:
		return aw_idle_source_mutter(s, err, errlen);
	case IDLE_BACKEND_AUTO:
		break;
	}
	if (!wl || !*wl)
		return aw_idle_source_x11(s, err, errlen);
	rc = aw_idle_source_wayland(s, timeout, err, errlen);
	if (rc == IDLE_SOURCE_UNSUPPORTED && aw_dbsession_has("org.gnome.Mutter.IdleMonitor"))
		return aw_idle_source_mutter(s, err, errlen);
	return rc;
}

int aw_idle_backend_parse(const char *name, idle_backend *out)
{
	static const char *const names[] = {"auto", "x11", "wayland", "gnome"};

	for (int i = 0; i < 4; i++)
		if (!strcmp(name, names[i])) {
			*out = (idle_backend)i;
			return 0;
		}
	return -1;
}
