/*
 * aw-wltest-compositor: a Wayland "compositor" with no windows, for
 * tests/integration/test_wayland_sway.py. By default it offers nothing but a wl_seat:
 * it stands in for a compositor without the protocols the watchers need (as GNOME lacks
 * wlr-foreign-toplevel-management), so the test sees the watchers' one line and exit
 * status for that case without a desktop. With --idle-notify it also offers
 * ext-idle-notify-v1, which Debian 12's sway (wlroots 0.15) lacks, so that
 * aw-watcher-afk's path for it runs against a compositor too: each notification goes
 * "idled" its timeout after the last activity, and SIGUSR1 is user activity ("resumed"
 * for the idle ones, every timer restarted).
 *
 * usage: aw-wltest-compositor SOCKET [--idle-notify]   (SOCKET under $XDG_RUNTIME_DIR;
 * runs until SIGTERM or SIGINT)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

#include "ext-idle-notify-v1-server-protocol.h"

typedef struct notification {
	struct wl_resource *resource;
	struct wl_event_source *timer;
	uint32_t timeout_ms;
	int idle;
	struct wl_list link;
} notification;

static struct wl_list notifications;

static void bind_seat(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r = wl_resource_create(client, &wl_seat_interface, (int)version, id);

	if (!r) {
		wl_client_post_no_memory(client);
		return;
	}
	/* no requests are expected: the watchers only pass the seat along */
	wl_resource_set_implementation(r, NULL, NULL, NULL);
	wl_seat_send_capabilities(r, 0);
}

static void destroy_request(struct wl_client *client, struct wl_resource *r)
{
	wl_resource_destroy(r);
}

static int on_timer(void *data)
{
	notification *n = data;

	if (!n->idle) {
		n->idle = 1;
		ext_idle_notification_v1_send_idled(n->resource);
	}
	return 0;
}

static void notification_gone(struct wl_resource *r)
{
	notification *n = wl_resource_get_user_data(r);

	wl_event_source_remove(n->timer);
	wl_list_remove(&n->link);
	free(n);
}

static const struct ext_idle_notification_v1_interface notification_impl = {.destroy = destroy_request};

static void get_idle_notification(struct wl_client *client, struct wl_resource *notifier, uint32_t id,
				  uint32_t timeout, struct wl_resource *seat)
{
	notification *n = calloc(1, sizeof(*n));

	if (!n) {
		wl_client_post_no_memory(client);
		return;
	}
	n->resource = wl_resource_create(client, &ext_idle_notification_v1_interface, 1, id);
	n->timer = wl_event_loop_add_timer(wl_display_get_event_loop(wl_client_get_display(client)), on_timer, n);
	if (!n->resource || !n->timer) {
		wl_client_post_no_memory(client);
		free(n);
		return;
	}
	n->timeout_ms = timeout;
	wl_resource_set_implementation(n->resource, &notification_impl, n, notification_gone);
	wl_list_insert(&notifications, &n->link);
	wl_event_source_timer_update(n->timer, (int)timeout ? (int)timeout : 1);
}

static const struct ext_idle_notifier_v1_interface notifier_impl = {
	.destroy = destroy_request,
	.get_idle_notification = get_idle_notification,
};

static void bind_notifier(struct wl_client *client, void *data, uint32_t version, uint32_t id)
{
	struct wl_resource *r = wl_resource_create(client, &ext_idle_notifier_v1_interface, 1, id);

	if (!r) {
		wl_client_post_no_memory(client);
		return;
	}
	wl_resource_set_implementation(r, &notifier_impl, NULL, NULL);
}

/* User activity: what a key press or pointer motion is to a real compositor. */
static int on_activity(int sig, void *data)
{
	notification *n;

	wl_list_for_each(n, &notifications, link) {
		if (n->idle) {
			n->idle = 0;
			ext_idle_notification_v1_send_resumed(n->resource);
		}
		wl_event_source_timer_update(n->timer, n->timeout_ms ? (int)n->timeout_ms : 1);
	}
	return 0;
}

static int on_stop(int sig, void *data)
{
	wl_display_terminate(data);
	return 0;
}

int main(int argc, char **argv)
{
	struct wl_display *d;
	struct wl_event_loop *loop;
	struct wl_event_source *term, *intr, *usr1;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--idle-notify"))) {
		fprintf(stderr, "usage: aw-wltest-compositor SOCKET [--idle-notify]\n");
		return 2;
	}
	wl_list_init(&notifications);
	d = wl_display_create();
	if (!d || wl_display_add_socket(d, argv[1]) < 0) {
		fprintf(stderr, "aw-wltest-compositor: cannot listen on %s\n", argv[1]);
		return 1;
	}
	loop = wl_display_get_event_loop(d);
	wl_global_create(d, &wl_seat_interface, 1, NULL, bind_seat);
	if (argc == 3)
		wl_global_create(d, &ext_idle_notifier_v1_interface, 1, NULL, bind_notifier);
	term = wl_event_loop_add_signal(loop, SIGTERM, on_stop, d);
	intr = wl_event_loop_add_signal(loop, SIGINT, on_stop, d);
	usr1 = wl_event_loop_add_signal(loop, SIGUSR1, on_activity, d);
	printf("ready\n");
	fflush(stdout);
	wl_display_run(d);
	wl_event_source_remove(term);
	wl_event_source_remove(intr);
	wl_event_source_remove(usr1);
	wl_display_destroy_clients(d);
	wl_display_destroy(d);
	return 0;
}
