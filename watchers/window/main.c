/*
 * aw-watcher-window: reports the active window's application and title as
 * `currentwindow` events {"app", "title"} in the bucket aw-watcher-window_<hostname>,
 * from X11 (EWMH), a wlroots Wayland compositor, KWin or GNOME Shell (window_source.h
 * picks by session).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>

#include "watcher.h"
#include "window_source.h"

#define PROG "aw-watcher-window"

static const char default_config[] =
	"# aw-watcher-window configuration (awnode). Command-line options override these.\n"
	"# Keys may also go in a [aw-watcher-window] table ([aw-watcher-window-testing] with --testing).\n"
	"#poll_time = 1.0        # seconds between checks\n"
	"#exclude_title = false  # true: record every title as \"excluded\"\n"
	"#exclude_titles = []    # regular expressions (PCRE2, case-insensitive); a matching title is\n"
	"#                       # recorded as \"excluded\", e.g. [\"private\", \"^Bank\"]\n"
	"#backend = \"auto\"      # auto (by session), x11, wayland (wlroots), kde, gnome\n"
	"#host = \"127.0.0.1\"     # the node\n"
	"#port = 5600            # 5666 with --testing\n";

static void usage(FILE *f)
{
	watcher_usage(f, PROG,
		      "Report the active window (application and title) to an ActivityWatch-compatible\n"
		      "node. Reads X11 (EWMH _NET_ACTIVE_WINDOW) or, in a Wayland session, a wlroots\n"
		      "compositor's wlr-foreign-toplevel-management (sway, Hyprland, river, labwc),\n"
		      "KWin through a script it loads (KDE Plasma) or GNOME Shell through awnode's\n"
		      "extension awnode-window@awnode.org, both over the D-Bus session bus.\n",
		      "  --poll-time SECONDS       time between checks (default 1)\n"
		      "  --exclude-title           record every title as \"excluded\"\n"
		      "  --exclude-titles REGEX..  record titles matching any REGEX (case-insensitive) as\n"
		      "                            \"excluded\"; takes one or more expressions\n"
		      "  --backend NAME            auto (default: by session), x11, wayland\n"
		      "                            (wlroots), kde (KWin script) or gnome (Shell extension)\n"
		      "  --check                   read the active window once, print it, exit\n",
		      26,
		      "Config: $XDG_CONFIG_HOME/awnode/aw-watcher-window.toml (keys poll_time,\n"
		      "exclude_title, exclude_titles, backend, host, port).\n");
}

typedef struct regex_list {
	pcre2_code **re;
	char **src;
	size_t n;
} regex_list;

static int add_regex(regex_list *l, const char *pattern, const char *where)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *re;
	void *p;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP,
			   &errcode, &erroff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		die_line("%s: invalid regular expression '%s' at offset %zu: %s", where, pattern, (size_t)erroff,
			     (const char *)msg);
		return -1;
	}
	p = realloc(l->re, (l->n + 1) * sizeof(*l->re));
	if (!p) {
		pcre2_code_free(re);
		return -1;
	}
	l->re = p;
	p = realloc(l->src, (l->n + 1) * sizeof(*l->src));
	if (!p) {
		pcre2_code_free(re);
		return -1;
	}
	l->src = p;
	l->re[l->n] = re;
	l->src[l->n] = strdup(pattern);
	l->n++;
	return 0;
}

static void free_regexes(regex_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		pcre2_code_free(l->re[i]);
		free(l->src[i]);
	}
	free(l->re);
	free(l->src);
}

static int title_excluded(const regex_list *l, const char *title, pcre2_match_data *md)
{
	for (size_t i = 0; i < l->n; i++) {
		int r = pcre2_match(l->re[i], (PCRE2_SPTR)title, strlen(title), 0, 0, md, NULL);

		if (r >= 0)
			return 1;
		if (r != PCRE2_ERROR_NOMATCH)
			watcher_log(AW_CLIENT_LOG_DEBUG, "regex '%s' failed on a title (error %d)", l->src[i], r);
	}
	return 0;
}

/* What the window watcher reads from its options and config besides the common ones. */
typedef struct window_opts {
	int exclude_all, cli_exclude_all;
	char **cli_regex; /* borrowed from argv */
	size_t n_cli_regex;
	regex_list rx;
	window_backend backend;
	const char *cli_backend; /* borrowed from argv */
	int check;               /* --check: read the active window once, say so, exit */
} window_opts;

static int window_option(void *ud, int ch, const char *arg, int argc, char **argv)
{
	window_opts *wo = ud;

	if (ch == 'x') {
		wo->cli_exclude_all = 1;
	} else if (ch == 'c') {
		wo->check = 1;
	} else if (ch == 'b') {
		if (aw_window_backend_parse(arg, &wo->backend)) {
			die_line("--backend needs auto, x11, wayland, kde or gnome, got '%s'", arg);
			return WATCHER_EXIT_USAGE;
		}
		wo->cli_backend = arg;
	} else {
		/* --exclude-titles takes one or more expressions (argparse nargs="+") */
		wo->cli_regex[wo->n_cli_regex++] = (char *)arg;
		while (optind < argc && argv[optind][0] != '-')
			wo->cli_regex[wo->n_cli_regex++] = argv[optind++];
	}
	return WATCHER_RUN;
}

/* exclude_title and exclude_titles; the config's expressions are compiled before the
 * command line's (both lists apply). */
static int window_config(void *ud, const watcher_conf *conf)
{
	window_opts *wo = ud;
	char **cfg_regex = NULL, *backend = NULL;
	size_t n_cfg_regex = 0;
	int rc = WATCHER_RUN;

	if (conf_string(conf, "backend", &backend) < 0)
		return WATCHER_EXIT_USAGE;
	if (backend && !wo->cli_backend && aw_window_backend_parse(backend, &wo->backend)) {
		die_line("config %s: backend must be \"auto\", \"x11\", \"wayland\", \"kde\" or \"gnome\", got \"%s\"",
			 conf->path, backend);
		free(backend);
		return WATCHER_EXIT_USAGE;
	}
	free(backend);
	if (conf_bool(conf, "exclude_title", &wo->exclude_all) < 0 ||
	    conf_strings(conf, "exclude_titles", &cfg_regex, &n_cfg_regex) < 0)
		return WATCHER_EXIT_USAGE;
	for (size_t i = 0; i < n_cfg_regex && rc == WATCHER_RUN; i++) {
		char where[4300];

		snprintf(where, sizeof(where), "config %s: exclude_titles", conf->path);
		if (add_regex(&wo->rx, cfg_regex[i], where))
			rc = WATCHER_EXIT_USAGE;
	}
	for (size_t i = 0; i < wo->n_cli_regex && rc == WATCHER_RUN; i++)
		if (add_regex(&wo->rx, wo->cli_regex[i], "--exclude-titles"))
			rc = WATCHER_EXIT_USAGE;
	for (size_t i = 0; cfg_regex && cfg_regex[i]; i++)
		free(cfg_regex[i]);
	free(cfg_regex);
	if (wo->cli_exclude_all)
		wo->exclude_all = 1;
	return rc;
}

/* The active window as a heartbeat, whichever backend it comes from. *last_app /
 * *last_title are the previous poll's, for the debug line on a change; they take
 * ownership of this poll's. 0, or -1 when the display connection is lost. */
static int poll_once(watcher *w, const window_opts *wo, window_source *src, pcre2_match_data *md,
		     double pulsetime, char **last_app, char **last_title)
{
	char *app = NULL, *title = NULL, *data;
	json_t *d;

	if (src->current(src, &app, &title)) {
		watcher_log(AW_CLIENT_LOG_ERROR, "lost the connection to the %s",
			    !strcmp(src->name, "x11")	  ? "X server"
			    : !strcmp(src->name, "kde")	  ? "KWin script"
			    : !strcmp(src->name, "gnome") ? "GNOME Shell extension"
							  : "Wayland compositor");
		return -1;
	}
	if (wo->exclude_all || title_excluded(&wo->rx, title, md)) {
		free(title);
		title = strdup("excluded");
	}
	if (!*last_app || strcmp(app, *last_app) || strcmp(title, *last_title))
		watcher_log(AW_CLIENT_LOG_DEBUG, "active window: app '%s', title '%s'", app, title);
	d = json_pack("{s:s, s:s}", "app", app, "title", title);
	data = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	if (data) {
		aw_event ev = {aw_client_now_ns(), 0.0, data};

		if (aw_client_heartbeat(w->client, w->bucket, &ev, pulsetime))
			watcher_log(AW_CLIENT_LOG_ERROR, "%s", aw_error_last());
		free(data);
	}
	free(*last_app);
	free(*last_title);
	*last_app = app;
	*last_title = title;
	return 0;
}

/* --check (what `awnode doctor` runs): the backend this session gets and what it
 * reads now, one line on stdout; the node is not contacted. */
static int check_source(window_source *src)
{
	char *app = NULL, *title = NULL;
	int rc = src->current(src, &app, &title);

	if (rc)
		printf("%s: %s: lost the connection at the first read\n", PROG, src->name);
	else
		printf("%s: %s: the active window is '%s' ('%s')\n", PROG, src->name, app, title);
	free(app);
	free(title);
	src->close(src);
	return rc ? WATCHER_EXIT_FAILURE : WATCHER_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"exclude-title", no_argument, NULL, 'x'},
					     {"exclude-titles", required_argument, NULL, 'X'},
					     {"backend", required_argument, NULL, 'b'},
					     {"check", no_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	static const char *const known[] = {"poll_time", "exclude_title", "exclude_titles", "backend", "host",
					    "port", "update_time", "strategy_macos", NULL};
	watcher w = {.prog = PROG, .poll_time = 1};
	window_opts wo = {0};
	char err[400], *last_app = NULL, *last_title = NULL;
	pcre2_match_data *md = NULL;
	double pulsetime;
	window_source src;
	int rc;

	wo.cli_regex = calloc((size_t)argc + 1, sizeof(*wo.cli_regex));
	if (!wo.cli_regex)
		return WATCHER_EXIT_FAILURE;
	rc = watcher_args(&w, argc, argv, opts, window_option, &wo, usage);
	if (rc == WATCHER_RUN)
		rc = watcher_config(&w, default_config, known, window_config, &wo);
	if (rc != WATCHER_RUN)
		goto out;
	pulsetime = fmax(1.5 * w.poll_time, w.poll_time + 1.0);

	rc = aw_window_source_open(&src, wo.backend, err, sizeof(err));
	if (rc) {
		die_line("%s", err);
		rc = rc == WINDOW_SOURCE_UNSUPPORTED ? WATCHER_EXIT_UNSUPPORTED : WATCHER_EXIT_NODISPLAY;
		goto out;
	}
	if (wo.check) {
		rc = check_source(&src);
		goto out;
	}
	md = pcre2_match_data_create(8, NULL);
	rc = watcher_connect(&w, "currentwindow");
	if (rc != WATCHER_RUN) {
		src.close(&src);
		goto out;
	}
	watcher_log(AW_CLIENT_LOG_INFO, "started: %s, poll %g s, pulsetime %g s, bucket %s, node %s%s", src.name,
		    w.poll_time, pulsetime, w.bucket, aw_client_base_url(w.client),
		    wo.exclude_all ? ", titles excluded" : "");

	rc = WATCHER_EXIT_OK;
	while (!stopping()) {
		if (poll_once(&w, &wo, &src, md, pulsetime, &last_app, &last_title)) {
			rc = WATCHER_EXIT_FAILURE;
			break;
		}
		watcher_wait(&w);
	}
	src.close(&src);
out:
	watcher_finish(&w);
	free(last_app);
	free(last_title);
	if (md)
		pcre2_match_data_free(md);
	free_regexes(&wo.rx);
	free(wo.cli_regex);
	return rc;
}
