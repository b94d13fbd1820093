/*
 * Where aw-watcher-afk reads the time since the last input from: one interface, three
 * backends. X11 (MIT-SCREEN-SAVER, xidle.c), Wayland compositors' idle notifications
 * (ext-idle-notify-v1 or org_kde_kwin_idle, wlidle.c: wlroots and KWin) and GNOME's
 * Mutter over D-Bus (mutter_idle.c). main.c picks one
 * by session (aw_idle_source_open) and feeds what it reads to afk_step, the same
 * state machine for both. See docs/watchers.md.
 */
#ifndef IDLE_SOURCE_H
#define IDLE_SOURCE_H

#include <stddef.h>

typedef enum idle_backend {
	IDLE_BACKEND_AUTO = 0, /* by session: see aw_idle_source_open */
	IDLE_BACKEND_X11,
	IDLE_BACKEND_WAYLAND,
	IDLE_BACKEND_GNOME,
} idle_backend;

/* What opening a source can end in besides success (0). */
enum {
	IDLE_SOURCE_NODISPLAY = -1,   /* no display to connect to, or it refused us */
	IDLE_SOURCE_UNSUPPORTED = -2, /* connected, but no protocol to read idleness with */
};

typedef struct idle_source {
	const char *name; /* "x11", "wayland (org_kde_kwin_idle)", ..., for the start line */
	void *impl;
	/* Seconds since the last input: 0, 1 when it could not be read this time (a
	 * warning is logged; try again), -1 when the display connection is gone. */
	int (*idle)(struct idle_source *s, double *seconds);
	void (*close)(struct idle_source *s);
} idle_source;

/* Backends. 0, or IDLE_SOURCE_* with one line in err. timeout is the AFK timeout
 * (the Wayland backend asks the compositor for notifications finer than it). */
int aw_idle_source_x11(idle_source *s, char *err, size_t errlen);
int aw_idle_source_wayland(idle_source *s, double timeout, char *err, size_t errlen);
int aw_idle_source_mutter(idle_source *s, char *err, size_t errlen);

/* Open the backend `b` asks for (AUTO: Wayland when WAYLAND_DISPLAY is set, as for the
 * window watcher: through XWayland the X server sees only input to X11 windows; and
 * Mutter's monitor when the compositor offers no idle protocol but Mutter is on the
 * session bus, as on GNOME). */
int aw_idle_source_open(idle_source *s, idle_backend b, double timeout, char *err, size_t errlen);
/* "auto", "x11", "wayland", "gnome" -> backend; -1 if none of these. */
int aw_idle_backend_parse(const char *name, idle_backend *out);

#endif
