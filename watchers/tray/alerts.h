/*
 * Time-limit alerts as desktop notifications (internal to awnode-tray).
 *
 * The shared setting `awnode.alerts` (the web UI's Settings edit it; it travels with
 * settings sync) is a list of {"category": ["Media", "Social Media"], "minutes": 60,
 * "enabled": true}: when this device's active time in that category (subcategories
 * included) reaches the limit within the current logical day (the `startOfDay`
 * setting), the tray sends one notification through org.freedesktop.Notifications.
 * Active time is what the Activity page counts: window time while not AFK,
 * categorised with the `classes` setting (ActivityWatch's default categories until
 * that is saved). See docs/watchers.md, "Tray icon".
 */
#ifndef TRAY_ALERTS_H
#define TRAY_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "aw/client.h"

#define TRAY_ALERTS_MAX_SENT 64

typedef struct tray_alerts {
	int64_t day_start;  /* seconds since the epoch of the logical day the marks are for */
	size_t nsent;
	char sent[TRAY_ALERTS_MAX_SENT][160]; /* "<category path>\x1f<minutes>" already notified */
	char hostname[256]; /* the node's, from /api/0/info; "" until known */
} tray_alerts;

/* One notification to show: filled in by tray_alerts_check. */
typedef struct tray_alert_note {
	char summary[256];
	char body[256];
} tray_alert_note;

/* Check the alerts against the node: at most `max` new notes into `notes` (each alert
 * once per logical day). Returns how many, 0 when there are no alerts or the node
 * cannot answer (the next check tries again). */
size_t tray_alerts_check(tray_alerts *a, aw_client *c, tray_alert_note *notes, size_t max);

/* The logical day containing `now` (local time) for a start of day "HH:MM": its start
 * and end as seconds since the epoch. Exposed for the tests. */
void tray_logical_day(int64_t now, const char *start_of_day, int64_t *start, int64_t *end);

#endif
