/*
 * Where aw-watcher-window reads the active window from: one interface, four backends.
 * X11 (EWMH, xwin.c), wlroots Wayland compositors (wlr-foreign-toplevel-management,
 * wlr_toplevels.c), KDE Plasma (a KWin script reporting over D-Bus, kwin_script.c) and
 * GNOME (awnode's Shell extension, asked over D-Bus, gnome_shell.c). main.c picks one by session (aw_window_source_open) and polls it;
 * the heartbeat logic above it is the same for both. See docs/watchers.md.
 */
#ifndef WINDOW_SOURCE_H
#define WINDOW_SOURCE_H

#include <stddef.h>

#define TITLE_MAX 2048 /* bytes, longer titles are cut at a character boundary + "…" */
#define APP_MAX 256

typedef enum window_backend {
	WINDOW_BACKEND_AUTO = 0, /* by session: see aw_window_source_open */
	WINDOW_BACKEND_X11,
	WINDOW_BACKEND_WAYLAND,  /* wlr-foreign-toplevel-management */
	WINDOW_BACKEND_KDE,
	WINDOW_BACKEND_GNOME,
} window_backend;

/* What opening a source can end in besides success (0). */
enum {
	WINDOW_SOURCE_NODISPLAY = -1,   /* no display to connect to, or it refused us */
	WINDOW_SOURCE_UNSUPPORTED = -2, /* connected, but the protocol we need is not offered */
};

typedef struct window_source {
	const char *name; /* "x11", "wayland", "kde" or "gnome", for the start line */
	void *impl;
	/* The active window's app and title, valid UTF-8 (cleaned and cut as the X11
	 * path always did), malloc'd; "unknown" for what cannot be known. 0, or -1 when
	 * the display connection is gone. */
	int (*current)(struct window_source *s, char **app, char **title);
	void (*close)(struct window_source *s);
} window_source;

/* For backends: a window's field for the event, cleaned and cut like X11 text, malloc'd;
 * "unknown" for NULL or empty. */
char *aw_window_field(const char *v, size_t max);
/* For backends' current(): *app and *title from the raw app and title, each through
 * aw_window_field; both "unknown" when memory runs out. */
void aw_window_fields(char **app, char **title, const char *raw_app, const char *raw_title);

/* Backends. 0, or WINDOW_SOURCE_* with one line in err. */
int aw_window_source_x11(window_source *s, char *err, size_t errlen);
int aw_window_source_wlr(window_source *s, char *err, size_t errlen);
int aw_window_source_kwin(window_source *s, char *err, size_t errlen);
int aw_window_source_gnome(window_source *s, char *err, size_t errlen);

/* Open the backend `b` asks for (AUTO: by session, see window_source.c). */
int aw_window_source_open(window_source *s, window_backend b, char *err, size_t errlen);
/* "auto", "x11", "wayland", "kde", "gnome" -> backend; -1 if none of these. */
int aw_window_backend_parse(const char *name, window_backend *out);

#endif
