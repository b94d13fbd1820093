/*
 * aw-watcher-window's backend for GNOME (Shell 43 and later): GNOME Shell tells no
 * client which window has the focus, so awnode ships a small Shell extension,
 * awnode-window@awnode.org (watchers/gnome-extension/), that exports one method on
 * the Shell's own session-bus connection:
 *
 *   org.gnome.Shell /org/awnode/Shell/Window org.awnode.Shell.Window.Active() -> (ss)
 *
 * returning the focused window's WM class (app) and title. Each poll calls it once.
 * The answer is believed because it comes from org.gnome.Shell's owner, which only the
 * Shell can be. Without the extension the method does not exist and the watcher says
 * how to install it (docs/watchers.md, "KDE Plasma and GNOME"); `awnode doctor` says
 * the same. See window_source.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsession.h"
#include "window_source.h"

#define SHELL_NAME "org.gnome.Shell"
#define EXT_PATH "/org/awnode/Shell/Window"
#define EXT_IFACE "org.awnode.Shell.Window"
#define EXT_UUID "awnode-window@awnode.org"

typedef struct shell_src {
	sd_bus *bus;
} shell_src;

/* The extension's answer: 0 with the app and title set, or -1 with err set and
 * *missing when the Shell answered that the method does not exist. */
static int ask_shell(shell_src *src, char **app, char **title, int *missing, char *err, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	const char *a = NULL, *t = NULL;
	int r;

	*missing = 0;
	r = sd_bus_call_method(src->bus, SHELL_NAME, EXT_PATH, EXT_IFACE, "Active", &e, &m, "");
	if (r >= 0)
		r = sd_bus_message_read(m, "ss", &a, &t);
	if (r < 0) {
		*missing = sd_bus_error_has_names(&e, SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_OBJECT,
						  SD_BUS_ERROR_UNKNOWN_INTERFACE);
		snprintf(err, errlen, "%s", e.message ? e.message : strerror(-r));
	} else {
		aw_window_fields(app, title, a, t);
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r < 0 ? -1 : 0;
}

static int shell_current(window_source *s, char **app, char **title)
{
	char err[300];
	int missing;

	*app = *title = NULL;
	/* failing: the Shell restarted without the extension, or went away; a new
	 * watcher will say which */
	return ask_shell(s->impl, app, title, &missing, err, sizeof(err)) ? -1 : 0;
}

static void shell_close(window_source *s)
{
	shell_src *src = s->impl;

	if (!src)
		return;
	sd_bus_flush_close_unref(src->bus);
	free(src);
	s->impl = NULL;
}

int aw_window_source_gnome(window_source *s, char *err, size_t errlen)
{
	shell_src *src;
	char *app = NULL, *title = NULL, why[300];
	int missing;

	memset(s, 0, sizeof(*s));
	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return WINDOW_SOURCE_NODISPLAY;
	}
	s->name = "gnome";
	s->impl = src;
	s->current = shell_current;
	s->close = shell_close;
	if (aw_dbsession_open(&src->bus, err, errlen)) {
		shell_close(s);
		return WINDOW_SOURCE_NODISPLAY;
	}
	if (ask_shell(src, &app, &title, &missing, why, sizeof(why))) {
		if (!aw_dbsession_has(SHELL_NAME))
			snprintf(err, errlen, "GNOME Shell (%s) is not on the D-Bus session bus", SHELL_NAME);
		else if (missing)
			snprintf(err, errlen,
				 "GNOME Shell does not tell the active window without awnode's extension %s: install and "
				 "enable it (docs/watchers.md, \"KDE Plasma and GNOME\"; `awnode doctor` checks it)",
				 EXT_UUID);
		else
			snprintf(err, errlen, "GNOME Shell did not answer: %s", why);
		shell_close(s);
		return WINDOW_SOURCE_UNSUPPORTED;
	}
	free(app);
	free(title);
	return 0;
}
