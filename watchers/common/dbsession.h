/*
 * The user's D-Bus session bus for the watchers' desktop backends (internal): KDE
 * Plasma's KWin and GNOME Shell tell the active window, and GNOME's Mutter the idle
 * time, over the session bus rather than over Wayland. One place to open the bus and
 * to ask who owns a name, so every backend says the same thing when there is no bus.
 * See docs/watchers.md, "KDE Plasma and GNOME".
 */
#ifndef AW_DBSESSION_H
#define AW_DBSESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

/* Calls to the desktop answer in milliseconds; a hung shell must not hang a watcher. */
#define AW_DBSESSION_TIMEOUT_US (2 * 1000 * 1000)

/* Open the session bus ($DBUS_SESSION_BUS_ADDRESS, else the user's bus), with method
 * calls bounded by AW_DBSESSION_TIMEOUT_US. 0, or -1 with one line in err. The caller
 * frees with sd_bus_flush_close_unref. */
int aw_dbsession_open(sd_bus **out, char *err, size_t errlen);

/* The unique name (":1.42") that owns the well-known `name` now, malloc'd; NULL when
 * nobody owns it or the bus cannot say. */
char *aw_dbsession_owner(sd_bus *bus, const char *name);

/* Whether someone owns `name` on the session bus right now. Opens and closes its own
 * connection; false without a session bus. For choosing a backend. */
bool aw_dbsession_has(const char *name);

#endif
