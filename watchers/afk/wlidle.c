/*
 * aw-watcher-afk's Wayland backend: the compositor's idle notifications,
 * ext-idle-notify-v1 where offered, else org_kde_kwin_idle (KDE's protocol, which
 * wlroots compositors up to 0.16 offer instead; protocol XML in watchers/protocols/).
 *
 * A notification says only "idle" or "resumed", so its arrival time is the data: a
 * thread of its own reads the Wayland socket and stamps each one with the monotonic
 * clock as it comes (the main loop sleeps in the HTTP client's wait and could only
 * date them to the next poll). afk_notify (afk_logic.h) turns the stamps into the idle
 * time the poll feeds to afk_step, as the X server's idle counter on X11.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wayland-client.h>

#include "afk_logic.h"
#include "aw/time.h"
#include "ext-idle-notify-v1-client-protocol.h"
#include "idle_source.h"
#include "org-kde-kwin-idle-client-protocol.h"
#include "wcommon.h"
#include "wlsession.h"

typedef struct wlidle {
	struct wl_display *display;
	struct wl_seat *seat;
	struct ext_idle_notifier_v1 *ext;
	struct ext_idle_notification_v1 *ext_note;
	struct org_kde_kwin_idle *kde;
	struct org_kde_kwin_idle_timeout *kde_timeout;
	double timeout;
	pthread_t thread;
	int thread_started;
	int stop_pipe[2];
	pthread_mutex_t lock; /* guards notes and lost */
	afk_notify notes;
	int lost;
} wlidle;

static void note(wlidle *w, int idle)
{
	int64_t now = aw_time_monotonic();

	pthread_mutex_lock(&w->lock);
	if (idle)
		afk_notify_idled(&w->notes, now);
	else
		afk_notify_resumed(&w->notes, now);
	pthread_mutex_unlock(&w->lock);
	watcher_log(AW_CLIENT_LOG_DEBUG, "compositor: %s", idle ? "idle" : "resumed");
}

static void ext_idled(void *data, struct ext_idle_notification_v1 *n)
{
	note(data, 1);
}

static void ext_resumed(void *data, struct ext_idle_notification_v1 *n)
{
	note(data, 0);
}

static const struct ext_idle_notification_v1_listener ext_listener = {ext_idled, ext_resumed};

static void kde_idle(void *data, struct org_kde_kwin_idle_timeout *t)
{
	note(data, 1);
}

static void kde_resumed(void *data, struct org_kde_kwin_idle_timeout *t)
{
	note(data, 0);
}

static const struct org_kde_kwin_idle_timeout_listener kde_listener = {kde_idle, kde_resumed};

/* The dispatch thread: wait on the Wayland socket (and the stop pipe), dispatch what
 * arrives. Ends when told to, or when the connection breaks (then `lost`). */
static void *dispatch_thread(void *arg)
{
	wlidle *w = arg;
	int broken = 0;

	while (!broken) {
		struct pollfd fds[2] = {{wl_display_get_fd(w->display), POLLIN, 0}, {w->stop_pipe[0], POLLIN, 0}};

		while (wl_display_prepare_read(w->display) != 0)
			if (wl_display_dispatch_pending(w->display) < 0) {
				broken = 1;
				break;
			}
		if (broken)
			break;
		if (wl_display_flush(w->display) < 0 && errno != EAGAIN) {
			wl_display_cancel_read(w->display);
			broken = 1;
			break;
		}
		if (poll(fds, 2, -1) < 0) {
			wl_display_cancel_read(w->display);
			if (errno == EINTR)
				continue;
			broken = 1;
			break;
		}
		if (fds[1].revents) {
			wl_display_cancel_read(w->display);
			return NULL;
		}
		if (wl_display_read_events(w->display) < 0 || wl_display_dispatch_pending(w->display) < 0)
			broken = 1;
	}
	pthread_mutex_lock(&w->lock);
	w->lost = 1;
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int wl_idle_seconds(idle_source *s, double *seconds)
{
	wlidle *w = s->impl;
	int lost;

	pthread_mutex_lock(&w->lock);
	lost = w->lost;
	*seconds = afk_notify_idle(&w->notes, aw_time_monotonic(), w->timeout);
	pthread_mutex_unlock(&w->lock);
	return lost ? -1 : 0;
}

static void wl_idle_close(idle_source *s)
{
	wlidle *w = s->impl;

	if (!w)
		return;
	if (w->thread_started) {
		ssize_t n;

		do
			n = write(w->stop_pipe[1], "x", 1);
		while (n < 0 && errno == EINTR);
		pthread_join(w->thread, NULL);
	}
	if (w->ext_note)
		ext_idle_notification_v1_destroy(w->ext_note);
	if (w->ext)
		ext_idle_notifier_v1_destroy(w->ext);
	if (w->kde_timeout)
		org_kde_kwin_idle_timeout_release(w->kde_timeout);
	if (w->kde)
		org_kde_kwin_idle_destroy(w->kde);
	if (w->seat)
		wl_seat_destroy(w->seat);
	if (w->display) {
		wl_display_flush(w->display);
		wl_display_disconnect(w->display);
	}
	if (w->stop_pipe[0] >= 0) {
		close(w->stop_pipe[0]);
		close(w->stop_pipe[1]);
	}
	pthread_mutex_destroy(&w->lock);
	free(w);
	s->impl = NULL;
}

/* Bind the idle protocol and the seat, ask for notifications R ms after the last
 * input, and start the dispatch thread with every signal blocked (the main thread
 * takes them and stops the watcher). */
int aw_idle_source_wayland(idle_source *s, double timeout, char *err, size_t errlen)
{
	const aw_wlsession_global *g_ext, *g_kde, *g_seat;
	aw_wlsession_globals gl;
	sigset_t all, old;
	uint32_t ms;
	wlidle *w;
	char who[300];

	memset(s, 0, sizeof(*s));
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return IDLE_SOURCE_NODISPLAY;
	}
	w->stop_pipe[0] = w->stop_pipe[1] = -1;
	w->timeout = timeout;
	pthread_mutex_init(&w->lock, NULL);
	afk_notify_init(&w->notes, afk_notify_resolution(timeout));
	s->impl = w;
	s->idle = wl_idle_seconds;
	s->close = wl_idle_close;
	w->display = aw_wlsession_connect(err, errlen);
	if (!w->display || aw_wlsession_list(w->display, &gl, err, errlen)) {
		wl_idle_close(s);
		return IDLE_SOURCE_NODISPLAY;
	}
	g_ext = aw_wlsession_find(&gl, "ext_idle_notifier_v1");
	g_kde = aw_wlsession_find(&gl, "org_kde_kwin_idle");
	g_seat = aw_wlsession_find(&gl, "wl_seat");
	if ((!g_ext && !g_kde) || !g_seat) {
		aw_wlsession_describe(who, sizeof(who));
		if (!g_seat)
			snprintf(err, errlen, "%s offers no seat (wl_seat), so there is no input to watch", who);
		else
			snprintf(err, errlen,
				 "%s offers neither ext-idle-notify-v1 nor org_kde_kwin_idle, so the idle time "
				 "cannot be read",
				 who);
		aw_wlsession_globals_free(&gl);
		wl_idle_close(s);
		return IDLE_SOURCE_UNSUPPORTED;
	}
	w->seat = wl_registry_bind(gl.registry, g_seat->name, &wl_seat_interface, 1);
	ms = (uint32_t)(w->notes.resolution * 1000 + 0.5);
	if (g_ext) {
		s->name = "wayland (ext-idle-notify-v1)";
		w->ext = wl_registry_bind(gl.registry, g_ext->name, &ext_idle_notifier_v1_interface, 1);
		w->ext_note = ext_idle_notifier_v1_get_idle_notification(w->ext, ms, w->seat);
		ext_idle_notification_v1_add_listener(w->ext_note, &ext_listener, w);
	} else {
		s->name = "wayland (org_kde_kwin_idle)";
		w->kde = wl_registry_bind(gl.registry, g_kde->name, &org_kde_kwin_idle_interface, 1);
		w->kde_timeout = org_kde_kwin_idle_get_idle_timeout(w->kde, w->seat, ms);
		org_kde_kwin_idle_timeout_add_listener(w->kde_timeout, &kde_listener, w);
	}
	aw_wlsession_globals_free(&gl);
	if (wl_display_roundtrip(w->display) < 0) {
		snprintf(err, errlen, "lost the connection to the Wayland compositor");
		wl_idle_close(s);
		return IDLE_SOURCE_NODISPLAY;
	}
	if (pipe(w->stop_pipe)) {
		snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
		w->stop_pipe[0] = w->stop_pipe[1] = -1;
		wl_idle_close(s);
		return IDLE_SOURCE_NODISPLAY;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	w->thread_started = pthread_create(&w->thread, NULL, dispatch_thread, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!w->thread_started) {
		snprintf(err, errlen, "cannot start a thread");
		wl_idle_close(s);
		return IDLE_SOURCE_NODISPLAY;
	}
	return 0;
}
