/*
 * aw-wltest-compositor: a Wayland "compositor" that offers nothing but a wl_seat, for
 * tests/integration/test_wayland_sway.py. It stands in for a compositor without the
 * protocols the watchers need (as GNOME lacks wlr-foreign-toplevel-management), so the
 * test sees the watchers' one line and exit status for that case without a desktop.
 *
 * usage: aw-wltest-compositor SOCKET   (under $XDG_RUNTIME_DIR; prints "ready", runs
 * until SIGTERM or SIGINT)
 */
#include <signal.h>
#include <stdio.h>

#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

static void bind_seat(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r = wl_resource_create(client, &wl_seat_interface, (int)version, id);

	if (!r) {
		wl_client_post_no_memory(client);
		return;
	}
	/* no requests are expected: the watchers only bind the seat before giving up */
	wl_resource_set_implementation(r, NULL, NULL, NULL);
	wl_seat_send_capabilities(r, 0);
}

static int on_signal(int sig, void *data)
{
	wl_display_terminate(data);
	return 0;
}

int main(int argc, char **argv)
{
	struct wl_display *d;
	struct wl_event_source *term, *intr;

	if (argc != 2) {
		fprintf(stderr, "usage: aw-wltest-compositor SOCKET\n");
		return 2;
	}
	d = wl_display_create();
	if (!d || wl_display_add_socket(d, argv[1]) < 0) {
		fprintf(stderr, "aw-wltest-compositor: cannot listen on %s\n", argv[1]);
		return 1;
	}
	wl_global_create(d, &wl_seat_interface, 1, NULL, bind_seat);
	term = wl_event_loop_add_signal(wl_display_get_event_loop(d), SIGTERM, on_signal, d);
	intr = wl_event_loop_add_signal(wl_display_get_event_loop(d), SIGINT, on_signal, d);
	printf("ready\n");
	fflush(stdout);
	wl_display_run(d);
	wl_event_source_remove(term);
	wl_event_source_remove(intr);
	wl_display_destroy_clients(d);
	wl_display_destroy(d);
	return 0;
}
