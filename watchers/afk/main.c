/*
 * aw-watcher-afk: reports whether the user is at the computer, from the X server's
 * idle time (MIT-SCREEN-SAVER extension), as `afkstatus` events
 * {"status": "afk" | "not-afk"} in the bucket aw-watcher-afk_<hostname>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/screensaver.h>
#include <xcb/xcb.h>

#include "afk_logic.h"
#include "aw/time.h"
#include "watcher.h"

#define PROG "aw-watcher-afk"

static const char default_config[] =
	"# aw-watcher-afk configuration (awnode). Command-line options override these.\n"
	"# Keys may also go in a [aw-watcher-afk] table ([aw-watcher-afk-testing] with --testing).\n"
	"#timeout = 180      # seconds without input before you count as AFK\n"
	"#poll_time = 5      # seconds between checks\n"
	"#host = \"127.0.0.1\" # the node\n"
	"#port = 5600        # 5666 with --testing\n";

static void usage(FILE *f)
{
	watcher_usage(f, PROG,
		      "Report AFK (away from keyboard) status to an ActivityWatch-compatible node, from\n"
		      "the X server's time since the last keyboard or mouse input.\n",
		      "  --timeout SECONDS    no input for this long counts as AFK (default 180)\n"
		      "  --poll-time SECONDS  time between checks (default 5)\n",
		      21, "Config: $XDG_CONFIG_HOME/awnode/aw-watcher-afk.toml (keys timeout, poll_time, host, port).\n");
}

static int afk_option(void *ud, int ch, const char *arg, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (ch == 't' && parse_seconds(arg, (double *)ud) == 0)
		return WATCHER_RUN;
	die_line("--timeout needs a number of seconds > 0, got '%s'", arg);
	return WATCHER_EXIT_USAGE;
}

static int afk_config(void *ud, const watcher_conf *conf)
{
	return conf_seconds(conf, "timeout", (double *)ud) < 0 ? WATCHER_EXIT_USAGE : WATCHER_RUN;
}

/* Connect to the X server and check for the MIT-SCREEN-SAVER extension; *x is NULL
 * (after one line on stderr) when there is no display to watch. */
static xcb_window_t open_display(xcb_connection_t **x)
{
	const xcb_query_extension_reply_t *ext;
	xcb_screen_iterator_t it;
	int screen_no = 0;

	*x = NULL;
	/* X first: without a display there is nothing to watch */
	if (!getenv("DISPLAY") || !*getenv("DISPLAY")) {
		die_line("no X display: DISPLAY is not set%s; this watcher needs X11",
			 getenv("WAYLAND_DISPLAY") ? " (Wayland-only session)" : "");
		return 0;
	}
	*x = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(*x)) {
		die_line("cannot open X display '%s'", getenv("DISPLAY"));
		xcb_disconnect(*x);
		*x = NULL;
		return 0;
	}
	ext = xcb_get_extension_data(*x, &xcb_screensaver_id);
	if (!ext || !ext->present) {
		die_line("the X server on '%s' has no MIT-SCREEN-SAVER extension: cannot read the idle time",
			 getenv("DISPLAY"));
		xcb_disconnect(*x);
		*x = NULL;
		return 0;
	}
	it = xcb_setup_roots_iterator(xcb_get_setup(*x));
	for (int i = 0; i < screen_no && it.rem; i++)
		xcb_screen_next(&it);
	return it.data->root;
}

/* One poll: read the idle time and send what afk_step makes of it. 0, or -1 when the
 * X connection is lost. */
static int poll_once(watcher *w, afk_state *st, xcb_connection_t *x, xcb_window_t root)
{
	xcb_screensaver_query_info_reply_t *info;
	xcb_generic_error_t *xerr = NULL;
	afk_beat beats[2];
	int64_t gap;
	int n, was_afk = st->afk, was_started = st->started;

	info = xcb_screensaver_query_info_reply(x, xcb_screensaver_query_info(x, root), &xerr);
	if (!info) {
		if (xcb_connection_has_error(x)) {
			watcher_log(AW_CLIENT_LOG_ERROR, "lost the connection to the X server");
			free(xerr);
			return -1;
		}
		watcher_log(AW_CLIENT_LOG_WARN, "cannot query the idle time (X error %d); trying again",
			    xerr ? xerr->error_code : 0);
		free(xerr);
		return 0;
	}
	n = afk_step(st, aw_client_now_ns(), aw_time_monotonic(), boot_ns(), (double)info->ms_since_user_input / 1000.0,
		     beats, &gap);
	free(info);
	if (gap) {
		watcher_log(AW_CLIENT_LOG_INFO, "the clock jumped %.1f s (suspend/resume?): not counted as activity",
			    (double)gap / 1e9);
		aw_client_flush(w->client);
	} else if (was_started && was_afk != st->afk) {
		watcher_log(AW_CLIENT_LOG_INFO, st->afk ? "became AFK" : "no longer AFK");
	}
	for (int i = 0; i < n; i++) {
		aw_event ev = {beats[i].ts, beats[i].duration,
			       beats[i].afk ? "{\"status\":\"afk\"}" : "{\"status\":\"not-afk\"}"};

		if (aw_client_heartbeat(w->client, w->bucket, &ev, beats[i].pulsetime))
			watcher_log(AW_CLIENT_LOG_ERROR, "%s", aw_error_last());
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"timeout", required_argument, NULL, 't'}, {NULL, 0, NULL, 0}};
	static const char *const known[] = {"timeout", "poll_time", "host", "port", "update_time", NULL};
	watcher w = {.prog = PROG, .poll_time = 5};
	double timeout = 180, cli_timeout = 0;
	xcb_connection_t *x;
	xcb_window_t root;
	afk_state st;
	int rc;

	rc = watcher_args(&w, argc, argv, opts, afk_option, &cli_timeout, usage);
	if (rc == WATCHER_RUN)
		rc = watcher_config(&w, default_config, known, afk_config, &timeout);
	if (rc != WATCHER_RUN) {
		watcher_finish(&w);
		return rc;
	}
	if (cli_timeout > 0)
		timeout = cli_timeout;
	root = open_display(&x);
	if (!x) {
		watcher_finish(&w);
		return WATCHER_EXIT_NODISPLAY;
	}
	rc = watcher_connect(&w, "afkstatus");
	if (rc != WATCHER_RUN) {
		xcb_disconnect(x);
		watcher_finish(&w);
		return rc;
	}
	watcher_log(AW_CLIENT_LOG_INFO, "started: timeout %g s, poll %g s, bucket %s, node %s", timeout,
		    w.poll_time, w.bucket, aw_client_base_url(w.client));

	afk_init(&st, timeout, w.poll_time);
	rc = WATCHER_EXIT_OK;
	while (!stopping()) {
		if (poll_once(&w, &st, x, root)) {
			rc = WATCHER_EXIT_FAILURE;
			break;
		}
		watcher_wait(&w);
	}
	xcb_disconnect(x);
	watcher_finish(&w);
	return rc;
}
