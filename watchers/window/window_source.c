/* Choosing aw-watcher-window's backend (see window_source.h) and the X11 adapter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsession.h"
#include "wcommon.h"
#include "window_source.h"
#include "xwin.h"

char *aw_window_field(const char *v, size_t max)
{
	return v && *v ? utf8_clean(v, strlen(v), max) : strdup("unknown");
}

void aw_window_fields(char **app, char **title, const char *raw_app, const char *raw_title)
{
	*app = aw_window_field(raw_app, APP_MAX);
	*title = aw_window_field(raw_title, TITLE_MAX);
	if (!*app || !*title) {
		free(*app);
		free(*title);
		*app = strdup("unknown");
		*title = strdup("unknown");
	}
}

static int x11_current(window_source *s, char **app, char **title)
{
	return xwin_current(s->impl, app, title);
}

static void x11_close(window_source *s)
{
	xwin_close(s->impl);
	free(s->impl);
	s->impl = NULL;
}

int aw_window_source_x11(window_source *s, char *err, size_t errlen)
{
	xwin *xw = calloc(1, sizeof(*xw));

	memset(s, 0, sizeof(*s));
	if (!xw) {
		snprintf(err, errlen, "out of memory");
		return WINDOW_SOURCE_NODISPLAY;
	}
	if (xwin_open(xw, err, errlen)) {
		free(xw);
		return WINDOW_SOURCE_NODISPLAY;
	}
	s->name = "x11";
	s->impl = xw;
	s->current = x11_current;
	s->close = x11_close;
	return 0;
}

/* A Wayland session (WAYLAND_DISPLAY set) is watched through Wayland even when
 * XWayland gives it a DISPLAY too: through XWayland only X11 clients' windows are
 * visible, so most of the day would be recorded as "unknown". A compositor without
 * wlr-foreign-toplevel-management is asked over D-Bus when it is KWin or GNOME Shell
 * (found by their bus names, which XDG_CURRENT_DESKTOP only suggests); otherwise the
 * caller exits with its own status (docs/watchers.md). --backend forces any one. */
int aw_window_source_open(window_source *s, window_backend b, char *err, size_t errlen)
{
	const char *wl = getenv("WAYLAND_DISPLAY");
	int rc;

	switch (b) {
	case WINDOW_BACKEND_X11:
		return aw_window_source_x11(s, err, errlen);
	case WINDOW_BACKEND_WAYLAND:
		return aw_window_source_wlr(s, err, errlen);
	case WINDOW_BACKEND_KDE:
		return aw_window_source_kwin(s, err, errlen);
	case WINDOW_BACKEND_GNOME:
		return aw_window_source_gnome(s, err, errlen);
	case WINDOW_BACKEND_AUTO:
		break;
	}
	if (!wl || !*wl)
		return aw_window_source_x11(s, err, errlen);
	rc = aw_window_source_wlr(s, err, errlen);
	if (rc != WINDOW_SOURCE_UNSUPPORTED)
		return rc;
	if (aw_dbsession_has("org.kde.KWin"))
		return aw_window_source_kwin(s, err, errlen);
	if (aw_dbsession_has("org.gnome.Shell"))
		return aw_window_source_gnome(s, err, errlen);
	return rc;
}

int aw_window_backend_parse(const char *name, window_backend *out)
{
	static const char *const names[] = {"auto", "x11", "wayland", "kde", "gnome"};

	for (int i = 0; i < 5; i++)
		if (!strcmp(name, names[i])) {
			*out = (window_backend)i;
			return 0;
		}
	return -1;
}
