/*
 * Connecting the watchers to a Wayland compositor (internal): one place for the
 * connection and its error lines, so both watchers say the same thing when
 * WAYLAND_DISPLAY names nothing or the compositor lacks what they need.
 * See docs/watchers.md, "Wayland".
 */
#ifndef AW_WLSESSION_H
#define AW_WLSESSION_H

#include <stddef.h>
#include <stdint.h>

struct wl_display;
struct wl_registry;

/* Connect to $WAYLAND_DISPLAY. NULL with one line in err if that fails. */
struct wl_display *aw_wlsession_connect(char *err, size_t errlen);

/* Names of the globals the compositor offers, with their versions, collected by one
 * round trip, so a backend can check what it needs before binding. */
typedef struct aw_wlsession_global {
	uint32_t name, version;
	char *interface;
} aw_wlsession_global;

typedef struct aw_wlsession_globals {
	struct wl_registry *registry;
	aw_wlsession_global *g;
	size_t n;
} aw_wlsession_globals;

/* 0, or -1 with one line in err (the connection broke). */
int aw_wlsession_list(struct wl_display *d, aw_wlsession_globals *out, char *err, size_t errlen);
/* The global named `interface`, or NULL. */
const aw_wlsession_global *aw_wlsession_find(const aw_wlsession_globals *gl, const char *interface);
/* Frees the list (and destroys the registry proxy). */
void aw_wlsession_globals_free(aw_wlsession_globals *gl);

/* "this Wayland compositor (XDG_CURRENT_DESKTOP=GNOME)": the start of the one line a
 * watcher prints when the compositor lacks its protocol. */
void aw_wlsession_describe(char *buf, size_t len);

#endif
