/*
 * The tray icon on D-Bus (internal to awnode-tray): a StatusNotifierItem with its menu
 * as com.canonical.dbusmenu, the protocols KDE Plasma, GNOME's AppIndicator extension,
 * waybar and most panels host. Built on sd-bus (libsystemd), which every systemd-based
 * desktop already has loaded.
 *
 * The item registers with org.kde.StatusNotifierWatcher when one is on the bus, and
 * again whenever a watcher (re)appears, so a panel started after the tray still shows
 * it. Menu clicks are not acted on inside the D-Bus callback (the action makes HTTP
 * calls that may take a while, and the panel waits for the callback's reply): they are
 * queued and handed out by sni_next_action. See docs/watchers.md, "Tray icon".
 */
#ifndef SNI_H
#define SNI_H

#include <stdint.h>

#include "tray_menu.h"
#include "tray_state.h"

typedef struct sni sni;

/* Connect to the session bus, take the name org.kde.StatusNotifierItem-<pid>-1 and
 * export the item and its menu for `st`. Returns 0, or a negative errno with one line
 * in `why` (no session bus, name taken). Caller frees with sni_free. */
int sni_open(sni **out, const tray_state *st, char *why, size_t why_len);

/* Show `st`: rebuild the menu and tell the panel what changed (icon, status, tooltip,
 * layout). Returns 0 or a negative errno. */
int sni_update(sni *s, const tray_state *st);

/* Serve D-Bus until nothing is pending, then wait up to `timeout_us` for more (or for
 * a signal). Returns 0, or a negative errno when the bus connection is lost. */
int sni_run(sni *s, uint64_t timeout_us);

/* The next queued menu action: 1 with *item filled in (a copy of the clicked entry of
 * the menu current at the click), 0 when none. Activating the icon itself queues
 * "Open dashboard". */
int sni_next_action(sni *s, tray_item *item);

/* Show a desktop notification (org.freedesktop.Notifications, app name "awnode"),
 * without waiting for the answer: a desktop without a notification daemon loses it
 * silently. Returns 0 or a negative errno. */
int sni_notify(sni *s, const char *summary, const char *body);

/* Whether a StatusNotifierWatcher accepted the item (for the log). */
int sni_registered(const sni *s);

void sni_free(sni *s);

#endif
