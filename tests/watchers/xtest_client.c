/*
 * aw-xtest-client: a tiny X client the watcher integration tests drive through stdin,
 * standing in for applications and a window manager (no WM runs under the test Xvfb).
 * One command per line; each is answered "ok" (after an X round trip, so the change is
 * visible to other clients) or "error <why>" on stdout:
 *
 *   create NAME               create (and map) a window called NAME in this session
 *   class NAME HEX            set WM_CLASS to the bytes HEX (e.g. "inst\0Class\0")
 *   netname NAME HEX          set _NET_WM_NAME (UTF8_STRING) to the bytes HEX
 *   wmname NAME HEX           set WM_NAME (STRING, Latin-1) to the bytes HEX
 *   unset NAME PROPERTY       delete a property (_NET_WM_NAME, WM_NAME, WM_CLASS)
 *   activate NAME             set _NET_ACTIVE_WINDOW on the root window to NAME
 *   activate-none             set _NET_ACTIVE_WINDOW to 0 (no active window)
 *   activate-bogus            set _NET_ACTIVE_WINDOW to a window id that does not exist
 *   unset-active              delete _NET_ACTIVE_WINDOW from the root window
 *   destroy NAME              destroy the window
 *   quit
 * HEX may be "-" for an empty value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/xcb.h>

#define MAXWIN 64

static xcb_connection_t *conn;
static xcb_screen_t *screen;
static struct {
	char name[64];
	xcb_window_t id;
} wins[MAXWIN];
static int nwins;

static xcb_atom_t atom(const char *name)
{
	xcb_intern_atom_reply_t *r = xcb_intern_atom_reply(conn, xcb_intern_atom(conn, 0, (uint16_t)strlen(name), name), NULL);
	xcb_atom_t a = r ? r->atom : XCB_ATOM_NONE;

	free(r);
	return a;
}

static xcb_window_t find(const char *name)
{
	for (int i = 0; i < nwins; i++)
		if (!strcmp(wins[i].name, name))
			return wins[i].id;
	return XCB_WINDOW_NONE;
}

static int unhex(const char *hex, char *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);

	*len = 0;
	if (!strcmp(hex, "-"))
		return 0;
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;

		if (sscanf(hex + i, "%2x", &v) != 1)
			return -1;
		out[(*len)++] = (char)v;
	}
	return 0;
}

static int sync_ok(void)
{
	xcb_get_input_focus_reply_t *r = xcb_get_input_focus_reply(conn, xcb_get_input_focus(conn), NULL);

	free(r);
	for (xcb_generic_event_t *e; (e = xcb_poll_for_event(conn));) {
		if (e->response_type == 0) {
			printf("error X error %d\n", ((xcb_generic_error_t *)e)->error_code);
			free(e);
			fflush(stdout);
			return -1;
		}
		free(e);
	}
	printf("ok\n");
	fflush(stdout);
	return 0;
}

static void set_active(xcb_window_t w)
{
	xcb_change_property(conn, XCB_PROP_MODE_REPLACE, screen->root, atom("_NET_ACTIVE_WINDOW"), XCB_ATOM_WINDOW, 32,
			    1, &w);
}

int main(void)
{
	static char line[1 << 20], buf[1 << 19];
	int screen_no;

	conn = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(conn)) {
		fprintf(stderr, "aw-xtest-client: cannot open display\n");
		return 1;
	}
	{
		xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(conn));

		for (int i = 0; i < screen_no; i++)
			xcb_screen_next(&it);
		screen = it.data;
	}
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		static char arg[sizeof(line)];
		char cmd[32] = "", name[64] = "";
		size_t len;
		xcb_window_t w;

		line[strcspn(line, "\r\n")] = '\0';
		arg[0] = '\0';
		if (sscanf(line, "%31s %63s %s", cmd, name, arg) < 1)
			continue;
		if (!strcmp(cmd, "quit"))
			break;
		if (!strcmp(cmd, "create")) {
			if (nwins >= MAXWIN || find(name)) {
				printf("error bad name\n");
				fflush(stdout);
				continue;
			}
			w = xcb_generate_id(conn);
			xcb_create_window(conn, XCB_COPY_FROM_PARENT, w, screen->root, 0, 0, 100, 100, 0,
					  XCB_WINDOW_CLASS_INPUT_OUTPUT, screen->root_visual, 0, NULL);
			xcb_map_window(conn, w);
			snprintf(wins[nwins].name, sizeof(wins[nwins].name), "%s", name);
			wins[nwins++].id = w;
			sync_ok();
			continue;
		}
		if (!strcmp(cmd, "activate-none")) {
			set_active(XCB_WINDOW_NONE);
			sync_ok();
			continue;
		}
		if (!strcmp(cmd, "activate-bogus")) {
			set_active(0x3fffff0);
			sync_ok();
			continue;
		}
		if (!strcmp(cmd, "unset-active")) {
			xcb_delete_property(conn, screen->root, atom("_NET_ACTIVE_WINDOW"));
			sync_ok();
			continue;
		}
		w = find(name);
		if (w == XCB_WINDOW_NONE) {
			printf("error no window '%s'\n", name);
			fflush(stdout);
			continue;
		}
		if (!strcmp(cmd, "activate")) {
			set_active(w);
		} else if (!strcmp(cmd, "destroy")) {
			xcb_destroy_window(conn, w);
		} else if (!strcmp(cmd, "unset")) {
			xcb_delete_property(conn, w, atom(arg));
		} else if (!strcmp(cmd, "class") || !strcmp(cmd, "netname") || !strcmp(cmd, "wmname")) {
			xcb_atom_t prop, type;

			if (unhex(arg, buf, sizeof(buf), &len)) {
				printf("error bad hex\n");
				fflush(stdout);
				continue;
			}
			if (!strcmp(cmd, "class"))
				prop = XCB_ATOM_WM_CLASS, type = XCB_ATOM_STRING;
			else if (!strcmp(cmd, "netname"))
				prop = atom("_NET_WM_NAME"), type = atom("UTF8_STRING");
			else
				prop = XCB_ATOM_WM_NAME, type = XCB_ATOM_STRING;
			xcb_change_property(conn, XCB_PROP_MODE_REPLACE, w, prop, type, 8, (uint32_t)len, buf);
		} else {
			printf("error unknown command '%s'\n", cmd);
			fflush(stdout);
			continue;
		}
		sync_ok();
	}
	xcb_disconnect(conn);
	return 0;
}
