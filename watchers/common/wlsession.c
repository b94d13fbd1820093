/* Wayland connection helpers shared by the watchers: see wlsession.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-client.h>

#include "wcommon.h"
#include "wlsession.h"

/* libwayland's own messages (protocol errors, mostly) as the watcher's log lines,
 * so stderr keeps the watchers' one format. */
__attribute__((format(printf, 1, 0))) static void wl_log_line(const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	watcher_log(AW_CLIENT_LOG_WARN, "libwayland: %s", buf);
}

struct wl_display *aw_wlsession_connect(char *err, size_t errlen)
{
	const char *name = getenv("WAYLAND_DISPLAY"), *runtime = getenv("XDG_RUNTIME_DIR");
	struct wl_display *d;

	wl_log_set_handler_client(wl_log_line);
	/* libwayland would print its own line about this; say it once, our way */
	if ((!name || name[0] != '/') && (!runtime || !*runtime)) {
		snprintf(err, errlen, "cannot connect to the Wayland display '%s': XDG_RUNTIME_DIR is not set",
			 name && *name ? name : "wayland-0");
		return NULL;
	}
	errno = 0;
	d = wl_display_connect(NULL);
	if (!d)
		snprintf(err, errlen, "cannot connect to the Wayland display '%s' (%s)", name && *name ? name : "wayland-0",
			 errno ? strerror(errno) : "no compositor answers");
	return d;
}

static void on_global(void *data, struct wl_registry *reg, uint32_t name, const char *interface, uint32_t version)
{
	aw_wlsession_globals *gl = data;
	aw_wlsession_global *p = realloc(gl->g, (gl->n + 1) * sizeof(*gl->g));

	if (!p)
		return;
	gl->g = p;
	p[gl->n].name = name;
	p[gl->n].version = version;
	p[gl->n].interface = strdup(interface);
	if (p[gl->n].interface)
		gl->n++;
}

static void on_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {on_global, on_global_remove};

int aw_wlsession_list(struct wl_display *d, aw_wlsession_globals *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->registry = wl_display_get_registry(d);
	if (!out->registry || wl_registry_add_listener(out->registry, &registry_listener, out) < 0 ||
	    wl_display_roundtrip(d) < 0) {
		snprintf(err, errlen, "lost the connection to the Wayland compositor while listing its globals");
		aw_wlsession_globals_free(out);
		return -1;
	}
	return 0;
}

const aw_wlsession_global *aw_wlsession_find(const aw_wlsession_globals *gl, const char *interface)
{
	for (size_t i = 0; i < gl->n; i++)
		if (!strcmp(gl->g[i].interface, interface))
			return &gl->g[i];
	return NULL;
}

void aw_wlsession_globals_free(aw_wlsession_globals *gl)
{
	for (size_t i = 0; i < gl->n; i++)
		free(gl->g[i].interface);
	free(gl->g);
	if (gl->registry)
		wl_registry_destroy(gl->registry);
	memset(gl, 0, sizeof(*gl));
}

void aw_wlsession_describe(char *buf, size_t len)
{
	const char *desktop = getenv("XDG_CURRENT_DESKTOP");

	if (desktop && *desktop)
		snprintf(buf, len, "this Wayland compositor (XDG_CURRENT_DESKTOP=%s)", desktop);
	else
		snprintf(buf, len, "this Wayland compositor (WAYLAND_DISPLAY=%s)",
			 getenv("WAYLAND_DISPLAY") ? getenv("WAYLAND_DISPLAY") : "");
}
