/*
 * aw-watcher-afk: reports whether the user is at the computer, from the X server's
 * idle time (MIT-SCREEN-SAVER extension), as `afkstatus` events
 * {"status": "afk" | "not-afk"} in the bucket aw-watcher-afk_<hostname>.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/screensaver.h>
#include <xcb/xcb.h>

#include "afk_logic.h"
#include "aw/conf.h"
#include "wcommon.h"

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
	fprintf(f,
		"usage: " PROG " [options]\n"
		"\n"
		"Report AFK (away from keyboard) status to an ActivityWatch-compatible node, from\n"
		"the X server's time since the last keyboard or mouse input.\n"
		"\n"
		"options:\n"
		"  --timeout SECONDS    no input for this long counts as AFK (default 180)\n"
		"  --poll-time SECONDS  time between checks (default 5)\n"
		"  --testing            talk to a node in testing mode (port 5666)\n"
		"  --host HOST          the node's address (default 127.0.0.1)\n"
		"  --port PORT          the node's port (default 5600, 5666 with --testing)\n"
		"  --verbose            debug logging\n"
		"  -h, --help           this help\n"
		"\n"
		"Config: $XDG_CONFIG_HOME/awnode/aw-watcher-afk.toml (keys timeout, poll_time, host, port).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"timeout", required_argument, NULL, 't'}, {"poll-time", required_argument, NULL, 'p'},
		{"testing", no_argument, NULL, 'T'},       {"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'P'},    {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
	static const char *const known[] = {"timeout", "poll_time", "host", "port", "update_time", NULL};
	double timeout = 180, poll_time = 5, cli_timeout = 0, cli_poll = 0;
	int testing = 0, verbose = 0, port = 0, cli_port = 0, ch, rc = AWW_EXIT_OK, screen_no = 0;
	char *host = NULL, *cli_host = NULL, *api_key = NULL, hostname[256], bucket[320];
	aww_conf conf;
	aw_client_options o;
	aw_client *c = NULL;
	xcb_connection_t *x;
	xcb_window_t root;
	const xcb_query_extension_reply_t *ext;
	afk_state st;
	int64_t next_poll;

	aww_log_init(PROG, 0);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (aww_parse_seconds(optarg, &cli_timeout)) {
				aww_die_line("--timeout needs a number of seconds > 0, got '%s'", optarg);
				return AWW_EXIT_USAGE;
			}
			break;
		case 'p':
			if (aww_parse_seconds(optarg, &cli_poll)) {
				aww_die_line("--poll-time needs a number of seconds > 0, got '%s'", optarg);
				return AWW_EXIT_USAGE;
			}
			break;
		case 'T': testing = 1; break;
		case 'H': cli_host = optarg; break;
		case 'P':
			if (aww_parse_port(optarg, &cli_port)) {
				aww_die_line("--port needs a number from 1 to 65535, got '%s'", optarg);
				return AWW_EXIT_USAGE;
			}
			break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return AWW_EXIT_OK;
		default:
			aww_die_line("unknown or incomplete option '%s' (see " PROG " --help)", argv[optind - 1]);
			return AWW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		aww_die_line("unexpected argument '%s' (see " PROG " --help)", argv[optind]);
		return AWW_EXIT_USAGE;
	}
	aww_log_init(PROG, verbose);

	if (aww_conf_load(&conf, PROG, testing, default_config))
		return AWW_EXIT_USAGE;
	aww_conf_warn_unknown(&conf, known);
	if (aww_conf_seconds(&conf, "timeout", &timeout) < 0 || aww_conf_seconds(&conf, "poll_time", &poll_time) < 0 ||
	    aww_conf_string(&conf, "host", &host) < 0 || aww_conf_port(&conf, "port", &port) < 0) {
		aww_conf_free(&conf);
		free(host);
		return AWW_EXIT_USAGE;
	}
	aww_conf_free(&conf);
	if (cli_timeout > 0)
		timeout = cli_timeout;
	if (cli_poll > 0)
		poll_time = cli_poll;
	if (cli_port)
		port = cli_port;
	if (cli_host) {
		free(host);
		host = strdup(cli_host);
	}

	/* X first: without a display there is nothing to watch */
	if (!getenv("DISPLAY") || !*getenv("DISPLAY")) {
		aww_die_line("no X display: DISPLAY is not set%s; this watcher needs X11",
			     getenv("WAYLAND_DISPLAY") ? " (Wayland-only session)" : "");
		free(host);
		return AWW_EXIT_NODISPLAY;
	}
	x = xcb_connect(NULL, &screen_no);
	if (xcb_connection_has_error(x)) {
		aww_die_line("cannot open X display '%s'", getenv("DISPLAY"));
		xcb_disconnect(x);
		free(host);
		return AWW_EXIT_NODISPLAY;
	}
	ext = xcb_get_extension_data(x, &xcb_screensaver_id);
	if (!ext || !ext->present) {
		aww_die_line("the X server on '%s' has no MIT-SCREEN-SAVER extension: cannot read the idle time",
			     getenv("DISPLAY"));
		xcb_disconnect(x);
		free(host);
		return AWW_EXIT_NODISPLAY;
	}
	{
		xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(x));

		for (int i = 0; i < screen_no && it.rem; i++)
			xcb_screen_next(&it);
		root = it.data->root;
	}

	aww_hostname(hostname, sizeof(hostname));
	snprintf(bucket, sizeof(bucket), "%s_%s", PROG, hostname);
	api_key = aw_conf_node_api_key(testing);
	aw_client_options_init(&o);
	o.client_name = PROG;
	o.testing = testing;
	o.host = host;
	o.port = port;
	o.api_key = api_key;
	o.log = aww_client_log;
	rc = aw_client_new(&c, &o);
	free(api_key);
	if (rc) {
		aww_die_line("%s", aw_client_error_message(NULL));
		xcb_disconnect(x);
		free(host);
		return rc == AW_CLIENT_ELOCKED ? AWW_EXIT_RUNNING : (rc == AW_CLIENT_EINVAL ? AWW_EXIT_USAGE : AWW_EXIT_FAILURE);
	}
	free(host);
	aww_signals_init(c);
	if (aw_client_register_bucket(c, bucket, "afkstatus", hostname)) {
		aww_die_line("%s", aw_client_error_message(c));
		aw_client_free(c);
		xcb_disconnect(x);
		return AWW_EXIT_FAILURE;
	}
	aww_log(AW_CLIENT_LOG_INFO, "started: timeout %g s, poll %g s, bucket %s, node %s", timeout, poll_time, bucket,
		aw_client_base_url(c));

	afk_init(&st, timeout, poll_time);
	rc = AWW_EXIT_OK;
	next_poll = aww_mono_ns();
	while (!aww_stopping()) {
		xcb_screensaver_query_info_reply_t *info;
		xcb_generic_error_t *xerr = NULL;
		afk_beat beats[2];
		int64_t gap, now;
		int n, was_afk = st.afk, was_started = st.started;

		info = xcb_screensaver_query_info_reply(x, xcb_screensaver_query_info(x, root), &xerr);
		if (!info) {
			if (xcb_connection_has_error(x)) {
				aww_log(AW_CLIENT_LOG_ERROR, "lost the connection to the X server");
				rc = AWW_EXIT_FAILURE;
				free(xerr);
				break;
			}
			aww_log(AW_CLIENT_LOG_WARN, "cannot query the idle time (X error %d); trying again",
				xerr ? xerr->error_code : 0);
			free(xerr);
		} else {
			n = afk_step(&st, aw_client_now_ns(), aww_mono_ns(), aww_boot_ns(),
				     (double)info->ms_since_user_input / 1000.0, beats, &gap);
			free(info);
			if (gap) {
				aww_log(AW_CLIENT_LOG_INFO, "the clock jumped %.1f s (suspend/resume?): not counted as activity",
					(double)gap / 1e9);
				aw_client_flush(c);
			} else if (was_started && was_afk != st.afk) {
				aww_log(AW_CLIENT_LOG_INFO, st.afk ? "became AFK" : "no longer AFK");
			}
			for (int i = 0; i < n; i++) {
				aw_event ev = {beats[i].ts, beats[i].duration,
					       beats[i].afk ? "{\"status\":\"afk\"}" : "{\"status\":\"not-afk\"}"};

				if (aw_client_heartbeat(c, bucket, &ev, beats[i].pulsetime))
					aww_log(AW_CLIENT_LOG_ERROR, "%s", aw_client_error_message(c));
			}
		}
		next_poll += (int64_t)(poll_time * 1e9);
		now = aww_mono_ns();
		if (next_poll < now)
			next_poll = now + (int64_t)(poll_time * 1e9);
		aw_client_run(c, (long)((next_poll - now) / 1000000));
	}
	aw_client_flush(c);
	aw_client_clear_interrupt(c); /* a second signal interrupts the drain */
	if (aw_client_drain(c, 3000) != AW_CLIENT_OK && aw_client_queue_length(c))
		aww_log(AW_CLIENT_LOG_WARN, "%zu heartbeats stay queued on disk for the next start",
			aw_client_queue_length(c));
	aw_client_free(c);
	xcb_disconnect(x);
	aww_log(AW_CLIENT_LOG_INFO, "stopped");
	return rc;
}
