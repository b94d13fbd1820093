/*
 * aw-watcher-window's backend for KDE Plasma (KWin 5.27 and 6): KWin offers no Wayland
 * protocol that tells a client which window is active, but it runs scripts, and a
 * script can call out over D-Bus. So the watcher
 *
 *   1. exports a tiny object on its own session-bus connection
 *      (/org/awnode/KWin, org.awnode.KWinWatcher.Active(app, title));
 *   2. writes a KWin script addressed to its own unique bus name into a private file
 *      and asks KWin to load and start it (org.kde.KWin /Scripting);
 *   3. the script calls Active whenever the active window or its caption changes, and
 *      once at start for the window active then;
 *   4. each poll handles the calls that arrived and reports the latest.
 *
 * Only calls sent by the connection that owns org.kde.KWin are believed: another
 * program of the same user could otherwise feed the watcher made-up titles. When KWin
 * goes away (its name loses its owner) the poll reports the connection lost; the
 * watcher exits and its supervisor starts a new one, which loads the script into the
 * new KWin. At close the script is unloaded and its file removed.
 * See window_source.h and docs/watchers.md, "KDE Plasma and GNOME".
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbsession.h"
#include "window_source.h"

#define KWIN_NAME "org.kde.KWin"
#define OBJ_PATH "/org/awnode/KWin"
#define OBJ_IFACE "org.awnode.KWinWatcher"
#define FIRST_REPORT_WAIT_US (3 * 1000 * 1000)

/* The script KWin runs; %s is the watcher's unique bus name. KWin 6 renamed
 * clientActivated/activeClient to windowActivated/activeWindow: both are tried. The
 * caption handler follows only the active window, so closed windows are not kept. */
static const char script_fmt[] =
	"// awnode: reports the active window to aw-watcher-window (docs/watchers.md)\n"
	"(function () {\n"
	"  var svc = \"%s\", path = \"" OBJ_PATH "\", iface = \"" OBJ_IFACE "\";\n"
	"  var followed = null;\n"
	"  function report(w) {\n"
	"    if (w) callDBus(svc, path, iface, \"Active\", String(w.resourceClass || \"\"), String(w.caption || \"\"));\n"
	"    else callDBus(svc, path, iface, \"Active\", \"\", \"\");\n"
	"  }\n"
	"  function onCaption() { report(followed); }\n"
	"  function follow(w) {\n"
	"    if (followed) { try { followed.captionChanged.disconnect(onCaption); } catch (e) {} }\n"
	"    followed = w || null;\n"
	"    if (followed) followed.captionChanged.connect(onCaption);\n"
	"    report(followed);\n"
	"  }\n"
	"  var activated = workspace.windowActivated || workspace.clientActivated;\n"
	"  activated.connect(follow);\n"
	"  follow(workspace.activeWindow !== undefined ? workspace.activeWindow : workspace.activeClient);\n"
	"})();\n";

typedef struct kwin_src {
	sd_bus *bus;
	sd_bus_slot *object;
	char *kwin;           /* unique name of org.kde.KWin's owner when we started */
	char *app, *title;    /* the latest report; NULL before the first */
	char plugin[64];      /* the name the script is loaded under */
	char path[512];       /* the script's file */
	int loaded;
} kwin_src;

static int on_active(sd_bus_message *m, void *data, sd_bus_error *e)
{
	kwin_src *src = data;
	const char *sender = sd_bus_message_get_sender(m), *app, *title;
	char *a, *t;
	int r;

	(void)e;
	if (!sender || strcmp(sender, src->kwin))
		return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED, "only KWin reports windows here");
	if ((r = sd_bus_message_read(m, "ss", &app, &title)) < 0)
		return r;
	a = strdup(app);
	t = strdup(title);
	if (a && t) {
		free(src->app);
		free(src->title);
		src->app = a;
		src->title = t;
	} else {
		free(a);
		free(t);
	}
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable watcher_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Active", "ss", "", on_active, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

/* Handle every message that has arrived; <0 if the connection broke. */
static int drain(kwin_src *src)
{
	int r;

	while ((r = sd_bus_process(src->bus, NULL)) > 0)
		;
	return r;
}

static int kwin_current(window_source *s, char **app, char **title)
{
	kwin_src *src = s->impl;
	char *owner;
	int gone;

	*app = *title = NULL;
	if (drain(src) < 0)
		return -1;
	/* a KWin that restarted has forgotten the script: start over in a new watcher */
	owner = aw_dbsession_owner(src->bus, KWIN_NAME);
	gone = !owner || strcmp(owner, src->kwin);
	free(owner);
	if (gone)
		return -1;
	aw_window_fields(app, title, src->app, src->title);
	return 0;
}

static void kwin_close(window_source *s)
{
	kwin_src *src = s->impl;

	if (!src)
		return;
	if (src->loaded)
		sd_bus_call_method(src->bus, KWIN_NAME, "/Scripting", "org.kde.kwin.Scripting", "unloadScript", NULL,
				   NULL, "s", src->plugin);
	if (src->path[0])
		unlink(src->path);
	sd_bus_slot_unref(src->object);
	sd_bus_flush_close_unref(src->bus);
	free(src->kwin);
	free(src->app);
	free(src->title);
	free(src);
	s->impl = NULL;
}

/* The script, in a file only this user can read: $XDG_RUNTIME_DIR when there is one
 * (per user, mode 0700), else /tmp with a random name. */
static int write_script(kwin_src *src, const char *unique, char *err, size_t errlen)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	int fd, n, ok;
	FILE *f;

	snprintf(src->path, sizeof(src->path), "%s/awnode-kwin-XXXXXX.js", dir && *dir ? dir : "/tmp");
	fd = mkstemps(src->path, 3);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write the KWin script in %s: %s", dir && *dir ? dir : "/tmp",
			 strerror(errno));
		src->path[0] = 0;
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(err, errlen, "cannot write the KWin script: %s", strerror(errno));
		return -1;
	}
	n = fprintf(f, script_fmt, unique);
	ok = fclose(f) == 0 && n > 0;
	if (!ok)
		snprintf(err, errlen, "cannot write the KWin script %s", src->path);
	return ok ? 0 : -1;
}

static int kwin_call(kwin_src *src, const char *method, sd_bus_message **reply, char *err, size_t errlen,
		     const char *types, ...)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(src->bus, &m, KWIN_NAME, "/Scripting", "org.kde.kwin.Scripting", method);
	if (r >= 0 && types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
	}
	if (r >= 0)
		r = sd_bus_call(src->bus, m, 0, &e, reply);
	if (r < 0)
		snprintf(err, errlen, "KWin refused to %s awnode's script: %s", method,
			 e.message ? e.message : strerror(-r));
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	return r < 0 ? -1 : 0;
}

static int load_script(kwin_src *src, char *err, size_t errlen)
{
	sd_bus_message *reply = NULL;
	int32_t id = -1;

	if (kwin_call(src, "loadScript", &reply, err, errlen, "ss", src->path, src->plugin))
		return -1;
	sd_bus_message_read(reply, "i", &id);
	sd_bus_message_unref(reply);
	if (id < 0) {
		snprintf(err, errlen, "KWin did not load awnode's script (%s)", src->path);
		return -1;
	}
	src->loaded = 1;
	return kwin_call(src, "start", NULL, err, errlen, NULL);
}

/* Wait (bounded) for the script's first report, so the first heartbeat names the
 * window active at start rather than "unknown". A KWin that never reports is not an
 * error: the polls say "unknown" until it does. */
static void await_first_report(kwin_src *src)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long long waited;

		if (drain(src) < 0 || src->app)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		waited = (t.tv_sec - t0.tv_sec) * 1000000LL + (t.tv_nsec - t0.tv_nsec) / 1000;
		if (waited >= FIRST_REPORT_WAIT_US)
			return;
		sd_bus_wait(src->bus, (uint64_t)(FIRST_REPORT_WAIT_US - waited));
	}
}

int aw_window_source_kwin(window_source *s, char *err, size_t errlen)
{
	kwin_src *src;
	const char *unique = NULL;

	memset(s, 0, sizeof(*s));
	src = calloc(1, sizeof(*src));
	if (!src) {
		snprintf(err, errlen, "out of memory");
		return WINDOW_SOURCE_NODISPLAY;
	}
	s->name = "kde";
	s->impl = src;
	s->current = kwin_current;
	s->close = kwin_close;
	if (aw_dbsession_open(&src->bus, err, errlen)) {
		kwin_close(s);
		return WINDOW_SOURCE_NODISPLAY;
	}
	src->kwin = aw_dbsession_owner(src->bus, KWIN_NAME);
	if (!src->kwin) {
		snprintf(err, errlen, "KWin (%s) is not on the D-Bus session bus, so the active window cannot be read",
			 KWIN_NAME);
		kwin_close(s);
		return WINDOW_SOURCE_UNSUPPORTED;
	}
	snprintf(src->plugin, sizeof(src->plugin), "awnode-window-%ld", (long)getpid());
	if (sd_bus_get_unique_name(src->bus, &unique) < 0 ||
	    sd_bus_add_object_vtable(src->bus, &src->object, OBJ_PATH, OBJ_IFACE, watcher_vtable, src) < 0) {
		snprintf(err, errlen, "cannot export the watcher's object on the session bus");
		kwin_close(s);
		return WINDOW_SOURCE_NODISPLAY;
	}
	if (write_script(src, unique, err, errlen) || load_script(src, err, errlen)) {
		kwin_close(s);
		return WINDOW_SOURCE_UNSUPPORTED;
	}
	await_first_report(src);
	return 0;
}
