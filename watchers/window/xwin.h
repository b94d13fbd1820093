/* The active X window's application and title, read through EWMH with xcb. */
#ifndef XWIN_H
#define XWIN_H

#include <stddef.h>
#include <xcb/xcb.h>

#include "window_source.h" /* TITLE_MAX, APP_MAX */

typedef struct xwin {
	xcb_connection_t *conn;
	xcb_window_t root;
	xcb_atom_t net_active_window, net_wm_name, utf8_string, compound_text;
} xwin;

/* 0, or -1 with one line in err (no display, cannot connect). */
int xwin_open(xwin *w, char *err, size_t errlen);
void xwin_close(xwin *w);
/* The active window's app (WM_CLASS class part) and title (_NET_WM_NAME, else
 * WM_NAME), both valid UTF-8, malloc'd. "unknown" where there is no active window or
 * the property is missing. 0, or -1 if the X connection is gone. */
int xwin_current(xwin *w, char **app, char **title);

#endif
