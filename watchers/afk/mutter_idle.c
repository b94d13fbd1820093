/*
 * aw-watcher-afk's backend for GNOME: Mutter, GNOME's compositor, offers no Wayland idle
 * protocol to clients, but tells the time since the last input on the session bus
 * (org.gnome.Mutter.IdleMonitor, object /org/gnome/Mutter/IdleMonitor/Core, method
 * GetIdletime -> milliseconds), the source GNOME's own tools read. One call per poll.
 * See idle_source.h and docs/watchers.md, "KDE Plasma and GNOME" (KWin offers a
 * Wayland idle protocol, so KDE Plasma goes through wlidle.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsession.h"
#include "idle_source.h"
#include "wcommon.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"

typedef struct mutter_src {
	sd_bus *bus;
	char *owner; /* the monitor's unique name at start: a new Mutter means a new session */
} mutter_src;

/* 0 with the idle time, -1 with err set. */
static int get_idletime(mutter_src *src, double *seconds, char *err, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	uint64_t ms = 0;
	int r;

	r = sd_bus_call_method(src->bus, MUTTER_NAME, MUTTER_PATH, MUTTER_NAME, "GetIdletime", &e, &m, "");
	if (r >= 0)
		r = sd_bus_message_read(m, "t", &ms);
	if (r < 0)
		snprintf(err, errlen, "Mutter's idle monitor did not answer: %s", e.message ? e.message : strerror(-r));
	else
		*seconds = (double)ms / 1000.0;
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r < 0 ? -1 : 0;
}

static int mutter_idle(idle_source *s, double *seconds)
{
	mutter_src *src = s->impl;
	char err[300], *owner = aw_dbsession_owner(src->bus, MUTTER_NAME);
	int gone = !owner || strcmp(owner, src->owner);

	free(owner);
	if (gone)
		return -1;
	if (get_idletime(src, seconds, err, sizeof(err))) {
		watcher_log(AW_CLIENT_LOG_WARN, "%s", err);
		return 1;
	}
	return 0;
}

static void mutter_close(idle_source *s)
{
	mutter_src *src = s->impl;

	if (!src)
		return;
	sd_bus_flush_close_unref(src->bus);
	free(src->owner);
	free(src);
	s->impl = NULL;
}

int aw_idle_source_mutter(idle_source *s, char *err, size_t errlen)
{
	mutter_src *src;
	double seconds;

	memset(s, 0, sizeof(*s));
	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return IDLE_SOURCE_NODISPLAY;
	}
	s->name = "gnome (org.gnome.Mutter.IdleMonitor)";
	s->impl = src;
	s->idle = mutter_idle;
	s->close = mutter_close;
	if (aw_dbsession_open(&src->bus, err, errlen)) {
		mutter_close(s);
		return IDLE_SOURCE_NODISPLAY;
	}
	src->owner = aw_dbsession_owner(src->bus, MUTTER_NAME);
	if (!src->owner) {
		snprintf(err, errlen, "Mutter's idle monitor (%s) is not on the D-Bus session bus", MUTTER_NAME);
		mutter_close(s);
		return IDLE_SOURCE_UNSUPPORTED;
	}
	if (get_idletime(src, &seconds, err, errlen)) {
		mutter_close(s);
		return IDLE_SOURCE_UNSUPPORTED;
	}
	return 0;
}
