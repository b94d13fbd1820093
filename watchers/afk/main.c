/*
 * aw-watcher-afk: reports whether the user is at the computer, from the time since the
 * last input (the X server's MIT-SCREEN-SAVER idle time, or a Wayland compositor's
 * idle notifications: idle_source.h), as `afkstatus` events
 * {"status": "afk" | "not-afk"} in the bucket aw-watcher-afk_<hostname>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afk_logic.h"
#include "aw/time.h"
#include "idle_source.h"
#include "watcher.h"

#define PROG "aw-watcher-afk"

static const char default_config[] =
	"# aw-watcher-afk configuration (awnode). Command-line options override these.\n"
	"# Keys may also go in a [aw-watcher-afk] table ([aw-watcher-afk-testing] with --testing).\n"
	"#timeout = 180      # seconds without input before you count as AFK\n"
	"#poll_time = 5      # seconds between checks\n"
	"#backend = \"auto\"  # auto (by session), x11, wayland, gnome\n"
	"#host = \"127.0.0.1\" # the node\n"
	"#port = 5600        # 5666 with --testing\n";

static void usage(FILE *f)
{
	watcher_usage(f, PROG,
		      "Report AFK (away from keyboard) status to an ActivityWatch-compatible node, from\n"
		      "the time since the last keyboard or mouse input: the X server's, or in a Wayland\n"
		      "session the compositor's idle notifications (ext-idle-notify-v1, org_kde_kwin_idle;\n"
		      "KDE Plasma offers them) or, on GNOME, Mutter's idle monitor over D-Bus.\n",
		      "  --timeout SECONDS    no input for this long counts as AFK (default 180)\n"
		      "  --poll-time SECONDS  time between checks (default 5)\n"
		      "  --backend NAME       auto (default: by session), x11, wayland or gnome\n"
		      "  --check              open the idle source, print which, exit\n",
		      21,
		      "Config: $XDG_CONFIG_HOME/awnode/aw-watcher-afk.toml (keys timeout, poll_time, backend,\n"
		      "host, port).\n");
}

/* What the AFK watcher reads from its options and config besides the common ones. */
typedef struct afk_opts {
	double timeout, cli_timeout;
	idle_backend backend;
	const char *cli_backend; /* borrowed from argv */
	int check;               /* --check: open the idle source, say which, exit */
} afk_opts;

static int afk_option(void *ud, int ch, const char *arg, int argc, char **argv)
{
	afk_opts *ao = ud;

	(void)argc;
	(void)argv;
	if (ch == 'c') {
		ao->check = 1;
		return WATCHER_RUN;
	}
	if (ch == 'b') {
		if (aw_idle_backend_parse(arg, &ao->backend) == 0) {
			ao->cli_backend = arg;
			return WATCHER_RUN;
		}
		die_line("--backend needs auto, x11, wayland or gnome, got '%s'", arg);
		return WATCHER_EXIT_USAGE;
	}
	if (ch == 't' && parse_seconds(arg, &ao->cli_timeout) == 0)
		return WATCHER_RUN;
	die_line("--timeout needs a number of seconds > 0, got '%s'", arg);
	return WATCHER_EXIT_USAGE;
}

static int afk_config(void *ud, const watcher_conf *conf)
{
	afk_opts *ao = ud;
	char *backend = NULL;
	int bad;

	if (conf_seconds(conf, "timeout", &ao->timeout) < 0 || conf_string(conf, "backend", &backend) < 0)
		return WATCHER_EXIT_USAGE;
	bad = backend && !ao->cli_backend && aw_idle_backend_parse(backend, &ao->backend);
	if (bad)
		die_line("config %s: backend must be \"auto\", \"x11\", \"wayland\" or \"gnome\", got \"%s\"",
			 conf->path, backend);
	free(backend);
	return bad ? WATCHER_EXIT_USAGE : WATCHER_RUN;
}

/* One poll: read the idle time, whichever backend it comes from, and send what
 * afk_step makes of it. 0, or -1 when the display connection is lost. */
static int poll_once(watcher *w, afk_state *st, idle_source *src)
{
	afk_beat beats[2];
	double idle = 0;
	int64_t gap;
	int n, r, was_afk = st->afk, was_started = st->started;

	r = src->idle(src, &idle);
	if (r < 0) {
		watcher_log(AW_CLIENT_LOG_ERROR, "lost the connection to the %s",
			    !strcmp(src->name, "x11")		? "X server"
			    : !strncmp(src->name, "gnome", 5) ? "GNOME idle monitor"
								: "Wayland compositor");
		return -1;
	}
	if (r > 0)
		return 0;
	n = afk_step(st, aw_client_now_ns(), aw_time_monotonic(), boot_ns(), idle, beats, &gap);
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
	static const struct option opts[] = {{"timeout", required_argument, NULL, 't'},
					     {"backend", required_argument, NULL, 'b'},
					     {"check", no_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	static const char *const known[] = {"timeout", "poll_time", "backend", "host", "port", "update_time", NULL};
	watcher w = {.prog = PROG, .poll_time = 5};
	afk_opts ao = {.timeout = 180};
	idle_source src;
	char err[600];
	afk_state st;
	int rc;

	rc = watcher_args(&w, argc, argv, opts, afk_option, &ao, usage);
	if (rc == WATCHER_RUN)
		rc = watcher_config(&w, default_config, known, afk_config, &ao);
	if (rc != WATCHER_RUN) {
		watcher_finish(&w);
		return rc;
	}
	if (ao.cli_timeout > 0)
		ao.timeout = ao.cli_timeout;
	rc = aw_idle_source_open(&src, ao.backend, ao.timeout, err, sizeof(err));
	if (rc) {
		die_line("%s", err);
		watcher_finish(&w);
		return rc == IDLE_SOURCE_UNSUPPORTED ? WATCHER_EXIT_UNSUPPORTED : WATCHER_EXIT_NODISPLAY;
	}
	if (ao.check) {
		/* what `awnode doctor` runs; the node is not contacted */
		printf("%s: %s: reads the idle time\n", PROG, src.name);
		src.close(&src);
		watcher_finish(&w);
		return WATCHER_EXIT_OK;
	}
	rc = watcher_connect(&w, "afkstatus");
	if (rc != WATCHER_RUN) {
		src.close(&src);
		watcher_finish(&w);
		return rc;
	}
	watcher_log(AW_CLIENT_LOG_INFO, "started: timeout %g s, poll %g s, %s, bucket %s, node %s", ao.timeout,
		    w.poll_time, src.name, w.bucket, aw_client_base_url(w.client));

	afk_init(&st, ao.timeout, w.poll_time);
	rc = WATCHER_EXIT_OK;
	while (!stopping()) {
		if (poll_once(&w, &st, &src)) {
			rc = WATCHER_EXIT_FAILURE;
			break;
		}
		watcher_wait(&w);
	}
	src.close(&src);
	watcher_finish(&w);
	return rc;
}
