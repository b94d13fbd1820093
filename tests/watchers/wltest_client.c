/*
 * aw-wltest-client: a tiny Wayland application for the watcher integration tests
 * (tests/integration/test_wayland_sway.py, helpers in tests/watchers/wlenv.py). It opens
 * one xdg_toplevel with the app_id and title given on the command line, attaches a
 * small shm buffer so the compositor maps it, prints "ready", then reads commands from
 * stdin, one per line, answering "ok" after a round trip to the compositor:
 *
 *   title TEXT   set the title to TEXT (the rest of the line, UTF-8)
 *   quit         close the window and exit
 *
 * usage: aw-wltest-client APP_ID TITLE   (WAYLAND_DISPLAY names the compositor)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <wayland-client.h>

#include "xdg-shell-client-protocol.h"

#define W 64
#define H 48

static struct wl_compositor *compositor;
static struct wl_shm *shm;
static struct xdg_wm_base *wm_base;
static struct wl_surface *surface;
static struct wl_buffer *buffer;
static int configured, closed;

static void on_global(void *data, struct wl_registry *reg, uint32_t name, const char *iface, uint32_t version)
{
	if (!strcmp(iface, wl_compositor_interface.name))
		compositor = wl_registry_bind(reg, name, &wl_compositor_interface, 1);
	else if (!strcmp(iface, wl_shm_interface.name))
		shm = wl_registry_bind(reg, name, &wl_shm_interface, 1);
	else if (!strcmp(iface, xdg_wm_base_interface.name))
		wm_base = wl_registry_bind(reg, name, &xdg_wm_base_interface, 1);
}

static void on_global_remove(void *data, struct wl_registry *reg, uint32_t name)
{
}

static const struct wl_registry_listener registry_listener = {on_global, on_global_remove};

/* The compositor pings to see that the client is alive; an unanswered ping would
 * mark the window unresponsive. */
static void on_ping(void *data, struct xdg_wm_base *b, uint32_t serial)
{
	xdg_wm_base_pong(b, serial);
}

static const struct xdg_wm_base_listener wm_base_listener = {on_ping};

/* Every configure is acknowledged and answered with the same buffer: the test needs
 * the window mapped, not drawn at the size the compositor suggests. */
static void on_surface_configure(void *data, struct xdg_surface *xs, uint32_t serial)
{
	xdg_surface_ack_configure(xs, serial);
	wl_surface_attach(surface, buffer, 0, 0);
	wl_surface_damage(surface, 0, 0, W, H);
	wl_surface_commit(surface);
	configured = 1;
}

static const struct xdg_surface_listener surface_listener = {on_surface_configure};

static void on_toplevel_configure(void *data, struct xdg_toplevel *t, int32_t w, int32_t h, struct wl_array *states)
{
}

static void on_toplevel_close(void *data, struct xdg_toplevel *t)
{
	closed = 1;
}

/* bound at version 1: configure_bounds and wm_capabilities (v4, v5) never come */
static const struct xdg_toplevel_listener toplevel_listener = {.configure = on_toplevel_configure,
								.close = on_toplevel_close};

static struct wl_buffer *make_buffer(void)
{
	int fd = memfd_create("aw-wltest-client", MFD_CLOEXEC);
	size_t size = (size_t)W * H * 4;
	struct wl_shm_pool *pool;
	struct wl_buffer *b;
	uint32_t *px;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return NULL;
	px = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (px == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	for (size_t i = 0; i < (size_t)W * H; i++)
		px[i] = 0xff3366cc;
	munmap(px, size);
	pool = wl_shm_create_pool(shm, fd, (int32_t)size);
	b = wl_shm_pool_create_buffer(pool, 0, W, H, W * 4, WL_SHM_FORMAT_ARGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	return b;
}

static void answer(const char *s)
{
	printf("%s\n", s);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct wl_display *d;
	struct wl_registry *reg;
	struct xdg_surface *xs;
	struct xdg_toplevel *top;
	char buf[8192];
	size_t have = 0;
	int rc = 0, quit = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: aw-wltest-client APP_ID TITLE\n");
		return 2;
	}
	d = wl_display_connect(NULL);
	if (!d) {
		fprintf(stderr, "aw-wltest-client: cannot connect to the Wayland display: %s\n", strerror(errno));
		return 1;
	}
	reg = wl_display_get_registry(d);
	wl_registry_add_listener(reg, &registry_listener, NULL);
	wl_display_roundtrip(d);
	if (!compositor || !shm || !wm_base) {
		fprintf(stderr, "aw-wltest-client: the compositor lacks wl_compositor, wl_shm or xdg_wm_base\n");
		return 1;
	}
	xdg_wm_base_add_listener(wm_base, &wm_base_listener, NULL);
	buffer = make_buffer();
	if (!buffer) {
		fprintf(stderr, "aw-wltest-client: cannot create a shm buffer\n");
		return 1;
	}
	surface = wl_compositor_create_surface(compositor);
	xs = xdg_wm_base_get_xdg_surface(wm_base, surface);
	xdg_surface_add_listener(xs, &surface_listener, NULL);
	top = xdg_surface_get_toplevel(xs);
	xdg_toplevel_add_listener(top, &toplevel_listener, NULL);
	xdg_toplevel_set_app_id(top, argv[1]);
	xdg_toplevel_set_title(top, argv[2]);
	wl_surface_commit(surface); /* the initial commit, without a buffer, asks for a configure */
	while (!configured && wl_display_dispatch(d) >= 0)
		;
	wl_display_roundtrip(d);
	answer("ready");

	while (!quit && !closed) {
		struct pollfd fds[2] = {{wl_display_get_fd(d), POLLIN, 0}, {0, POLLIN, 0}};
		char *nl;

		if (wl_display_dispatch_pending(d) < 0 || (wl_display_flush(d) < 0 && errno != EAGAIN)) {
			rc = 1;
			break;
		}
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = 1;
			break;
		}
		if ((fds[0].revents & POLLIN) && wl_display_dispatch(d) < 0) {
			rc = 1;
			break;
		}
		if (!fds[1].revents)
			continue;
		{
			ssize_t n = read(0, buf + have, sizeof(buf) - 1 - have);

			if (n <= 0)
				break; /* stdin closed: the test is over */
			have += (size_t)n;
			buf[have] = '\0';
		}
		while (!quit && (nl = strchr(buf, '\n'))) {
			*nl = '\0';
			if (!strncmp(buf, "title ", 6)) {
				xdg_toplevel_set_title(top, buf + 6);
				wl_display_roundtrip(d);
				answer("ok");
			} else if (!strcmp(buf, "quit")) {
				quit = 1;
			} else {
				answer("error: unknown command");
			}
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: drop it */
	}
	xdg_toplevel_destroy(top);
	xdg_surface_destroy(xs);
	wl_surface_destroy(surface);
	wl_buffer_destroy(buffer);
	xdg_wm_base_destroy(wm_base);
	wl_shm_destroy(shm);
	wl_compositor_destroy(compositor);
	wl_registry_destroy(reg);
	wl_display_roundtrip(d);
	wl_display_disconnect(d);
	return rc;
}
