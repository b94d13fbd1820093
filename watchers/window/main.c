/*
 * aw-watcher-window: reports the active X window's application and title as
 * `currentwindow` events {"app", "title"} in the bucket aw-watcher-window_<hostname>.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>

#include "aw/conf.h"
#include "wcommon.h"
#include "xwin.h"

#define PROG "aw-watcher-window"

static const char default_config[] =
	"# aw-watcher-window configuration (awnode). Command-line options override these.\n"
	"# Keys may also go in a [aw-watcher-window] table ([aw-watcher-window-testing] with --testing).\n"
	"#poll_time = 1.0        # seconds between checks\n"
	"#exclude_title = false  # true: record every title as \"excluded\"\n"
	"#exclude_titles = []    # regular expressions (PCRE2, case-insensitive); a matching title is\n"
	"#                       # recorded as \"excluded\", e.g. [\"private\", \"^Bank\"]\n"
	"#host = \"127.0.0.1\"     # the node\n"
	"#port = 5600            # 5666 with --testing\n";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"\n"
		"Report the active window (application and title) to an ActivityWatch-compatible\n"
		"node. Needs an X11 display (EWMH _NET_ACTIVE_WINDOW).\n"
		"\n"
		"options:\n"
		"  --poll-time SECONDS       time between checks (default 1)\n"
		"  --exclude-title           record every title as \"excluded\"\n"
		"  --exclude-titles REGEX..  record titles matching any REGEX (case-insensitive) as\n"
		"                            \"excluded\"; takes one or more expressions\n"
		"  --testing                 talk to a node in testing mode (port 5666)\n"
		"  --host HOST               the node's address (default 127.0.0.1)\n"
		"  --port PORT               the node's port (default 5600, 5666 with --testing)\n"
		"  --verbose                 debug logging\n"
		"  -h, --help                this help\n"
		"\n"
		"Config: $XDG_CONFIG_HOME/awnode/aw-watcher-window.toml (keys poll_time,\n"
		"exclude_title, exclude_titles, host, port).\n");
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
		aww_die_line("%s: invalid regular expression '%s' at offset %zu: %s", where, pattern, (size_t)erroff,
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
			aww_log(AW_CLIENT_LOG_DEBUG, "regex '%s' failed on a title (error %d)", l->src[i], r);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"poll-time", required_argument, NULL, 'p'}, {"exclude-title", no_argument, NULL, 'x'},
		{"exclude-titles", required_argument, NULL, 'X'}, {"testing", no_argument, NULL, 'T'},
		{"host", required_argument, NULL, 'H'},      {"port", required_argument, NULL, 'P'},
		{"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static const char *const known[] = {"poll_time", "exclude_title", "exclude_titles", "host", "port",
					    "update_time", "strategy_macos", NULL};
	double poll_time = 1, cli_poll = 0, pulsetime;
	int testing = 0, verbose = 0, port = 0, cli_port = 0, exclude_all = 0, cli_exclude_all = 0, ch;
	int rc = AWW_EXIT_OK;
	char *host = NULL, *cli_host = NULL, *api_key = NULL, hostname[256], bucket[320], err[400];
	char **cli_regex = NULL, **cfg_regex = NULL, *last_app = NULL, *last_title = NULL;
	size_t n_cli_regex = 0, n_cfg_regex = 0;
	regex_list rx = {NULL, NULL, 0};
	pcre2_match_data *md = NULL;
	aww_conf conf;
	aw_client_options o;
	aw_client *c = NULL;
	xwin xw;
	int64_t next_poll;

	aww_log_init(PROG, 0);
	cli_regex = calloc((size_t)argc + 1, sizeof(*cli_regex));
	if (!cli_regex)
		return AWW_EXIT_FAILURE;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (aww_parse_seconds(optarg, &cli_poll)) {
				aww_die_line("--poll-time needs a number of seconds > 0, got '%s'", optarg);
				free(cli_regex);
				return AWW_EXIT_USAGE;
			}
			break;
		case 'x': cli_exclude_all = 1; break;
		case 'X':
			/* --exclude-titles takes one or more expressions (argparse nargs="+") */
			cli_regex[n_cli_regex++] = optarg;
			while (optind < argc && argv[optind][0] != '-')
				cli_regex[n_cli_regex++] = argv[optind++];
			break;
		case 'T': testing = 1; break;
		case 'H': cli_host = optarg; break;
		case 'P':
			if (aww_parse_port(optarg, &cli_port)) {
				aww_die_line("--port needs a number from 1 to 65535, got '%s'", optarg);
				free(cli_regex);
				return AWW_EXIT_USAGE;
			}
			break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); free(cli_regex); return AWW_EXIT_OK;
		default:
			aww_die_line("unknown or incomplete option '%s' (see " PROG " --help)", argv[optind - 1]);
			free(cli_regex);
			return AWW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		aww_die_line("unexpected argument '%s' (see " PROG " --help)", argv[optind]);
		free(cli_regex);
		return AWW_EXIT_USAGE;
	}
	aww_log_init(PROG, verbose);

	rc = AWW_EXIT_USAGE;
	if (aww_conf_load(&conf, PROG, testing, default_config)) {
		free(cli_regex);
		return AWW_EXIT_USAGE;
	}
	aww_conf_warn_unknown(&conf, known);
	if (aww_conf_seconds(&conf, "poll_time", &poll_time) < 0 || aww_conf_bool(&conf, "exclude_title", &exclude_all) < 0 ||
	    aww_conf_strings(&conf, "exclude_titles", &cfg_regex, &n_cfg_regex) < 0 ||
	    aww_conf_string(&conf, "host", &host) < 0 || aww_conf_port(&conf, "port", &port) < 0)
		goto out_conf;
	for (size_t i = 0; i < n_cfg_regex; i++) {
		char where[4300];

		snprintf(where, sizeof(where), "config %s: exclude_titles", conf.path);
		if (add_regex(&rx, cfg_regex[i], where))
			goto out_conf;
	}
	for (size_t i = 0; i < n_cli_regex; i++)
		if (add_regex(&rx, cli_regex[i], "--exclude-titles"))
			goto out_conf;
	if (cli_poll > 0)
		poll_time = cli_poll;
	if (cli_exclude_all)
		exclude_all = 1;
	if (cli_port)
		port = cli_port;
	if (cli_host) {
		free(host);
		host = strdup(cli_host);
	}
	aww_conf_free(&conf);
	pulsetime = fmax(1.5 * poll_time, poll_time + 1.0);

	if (xwin_open(&xw, err, sizeof(err))) {
		aww_die_line("%s", err);
		rc = AWW_EXIT_NODISPLAY;
		goto out;
	}
	md = pcre2_match_data_create(8, NULL);
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
		rc = rc == AW_CLIENT_ELOCKED ? AWW_EXIT_RUNNING : (rc == AW_CLIENT_EINVAL ? AWW_EXIT_USAGE : AWW_EXIT_FAILURE);
		xwin_close(&xw);
		goto out;
	}
	aww_signals_init(c);
	if (aw_client_register_bucket(c, bucket, "currentwindow", hostname)) {
		aww_die_line("%s", aw_client_error_message(c));
		aw_client_free(c);
		xwin_close(&xw);
		rc = AWW_EXIT_FAILURE;
		goto out;
	}
	aww_log(AW_CLIENT_LOG_INFO, "started: poll %g s, pulsetime %g s, bucket %s, node %s%s", poll_time, pulsetime,
		bucket, aw_client_base_url(c), exclude_all ? ", titles excluded" : "");

	rc = AWW_EXIT_OK;
	next_poll = aww_mono_ns();
	while (!aww_stopping()) {
		char *app = NULL, *title = NULL, *data;
		int64_t now;

		if (xwin_current(&xw, &app, &title)) {
			aww_log(AW_CLIENT_LOG_ERROR, "lost the connection to the X server");
			rc = AWW_EXIT_FAILURE;
			break;
		}
		if (exclude_all || title_excluded(&rx, title, md)) {
			free(title);
			title = strdup("excluded");
		}
		if (!last_app || strcmp(app, last_app) || strcmp(title, last_title))
			aww_log(AW_CLIENT_LOG_DEBUG, "active window: app '%s', title '%s'", app, title);
		{
			json_t *d = json_pack("{s:s, s:s}", "app", app, "title", title);

			data = d ? json_dumps(d, JSON_COMPACT) : NULL;
			json_decref(d);
		}
		if (data) {
			aw_event ev = {aw_client_now_ns(), 0.0, data};

			if (aw_client_heartbeat(c, bucket, &ev, pulsetime))
				aww_log(AW_CLIENT_LOG_ERROR, "%s", aw_client_error_message(c));
			free(data);
		}
		free(last_app);
		free(last_title);
		last_app = app;
		last_title = title;

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
	xwin_close(&xw);
	aww_log(AW_CLIENT_LOG_INFO, "stopped");
	goto out;
out_conf:
	aww_conf_free(&conf);
out:
	free(last_app);
	free(last_title);
	if (md)
		pcre2_match_data_free(md);
	free_regexes(&rx);
	for (size_t i = 0; cfg_regex && cfg_regex[i]; i++)
		free(cfg_regex[i]);
	free(cfg_regex);
	free(cli_regex);
	free(host);
	return rc;
}
