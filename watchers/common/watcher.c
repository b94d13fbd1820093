/*
 * The parts of a watcher's main that are the same for every watcher: see watcher.h.
 * Messages and exit codes are the ones the watchers have always printed; the
 * integration tests in tests/integration/test_watchers*.py check them.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/conf.h"
#include "aw/time.h"
#include "watcher.h"

static const struct option common_options[] = {
	{"poll-time", required_argument, NULL, 'p'}, {"testing", no_argument, NULL, 'T'},
	{"host", required_argument, NULL, 'H'},      {"port", required_argument, NULL, 'P'},
	{"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
};
#define N_COMMON (sizeof(common_options) / sizeof(common_options[0]))

void watcher_usage(FILE *f, const char *prog, const char *about, const char *options, int width,
		   const char *config)
{
	static const char *const lines[][2] = {
		{"--testing", "talk to a node in testing mode (port 5666)"},
		{"--host HOST", "the node's address (default 127.0.0.1)"},
		{"--port PORT", "the node's port (default 5600, 5666 with --testing)"},
		{"--verbose", "debug logging"},
		{"-h, --help", "this help"},
	};

	fprintf(f, "usage: %s [options]\n\n%s\noptions:\n%s", prog, about, options);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fprintf(f, "  %-*s%s\n", width, lines[i][0], lines[i][1]);
	fprintf(f, "\n%s", config);
}

int watcher_args(watcher *w, int argc, char **argv, const struct option *own, watcher_option_fn own_fn,
		 void *ud, void (*usage)(FILE *))
{
	struct option opts[32];
	size_t n = 0;
	int ch, rc = WATCHER_RUN;

	watcher_log_init(w->prog, 0);
	for (; own && own[n].name && n < 32 - N_COMMON - 1; n++)
		opts[n] = own[n];
	memcpy(opts + n, common_options, sizeof(common_options));
	memset(&opts[n + N_COMMON], 0, sizeof(opts[0]));
	opterr = 0;
	while (rc == WATCHER_RUN && (ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			if (parse_seconds(optarg, &w->cli_poll)) {
				die_line("--poll-time needs a number of seconds > 0, got '%s'", optarg);
				rc = WATCHER_EXIT_USAGE;
			}
			break;
		case 'T': w->testing = 1; break;
		case 'H': w->cli_host = optarg; break;
		case 'P':
			if (parse_port(optarg, &w->cli_port)) {
				die_line("--port needs a number from 1 to 65535, got '%s'", optarg);
				rc = WATCHER_EXIT_USAGE;
			}
			break;
		case 'v': w->verbose = 1; break;
		case 'h': usage(stdout); rc = WATCHER_EXIT_OK; break;
		case '?':
		case ':':
			die_line("unknown or incomplete option '%s' (see %s --help)", argv[optind - 1], w->prog);
			rc = WATCHER_EXIT_USAGE;
			break;
		default:
			rc = own_fn(ud, ch, optarg, argc, argv);
			break;
		}
	}
	if (rc == WATCHER_RUN && optind < argc) {
		die_line("unexpected argument '%s' (see %s --help)", argv[optind], w->prog);
		rc = WATCHER_EXIT_USAGE;
	}
	if (rc == WATCHER_RUN)
		watcher_log_init(w->prog, w->verbose);
	return rc;
}

int watcher_config(watcher *w, const char *default_text, const char *const *known, watcher_config_fn own_fn,
		   void *ud)
{
	watcher_conf conf;
	int bad;

	if (conf_load(&conf, w->prog, w->testing, default_text))
		return WATCHER_EXIT_USAGE;
	conf_warn_unknown(&conf, known);
	bad = (own_fn && own_fn(ud, &conf) != WATCHER_RUN) || conf_seconds(&conf, "poll_time", &w->poll_time) < 0 ||
	      conf_string(&conf, "host", &w->host) < 0 || conf_port(&conf, "port", &w->port) < 0;
	conf_free(&conf);
	if (bad)
		return WATCHER_EXIT_USAGE;
	if (w->cli_poll > 0)
		w->poll_time = w->cli_poll;
	if (w->cli_port)
		w->port = w->cli_port;
	if (w->cli_host) {
		free(w->host);
		w->host = strdup(w->cli_host);
	}
	return WATCHER_RUN;
}

int watcher_client(watcher *w, int no_queue, long timeout_ms)
{
	aw_client_options o;
	char *api_key;
	int rc;

	api_key = aw_conf_node_api_key(w->testing);
	aw_client_options_init(&o);
	o.client_name = w->prog;
	o.testing = w->testing;
	o.host = w->host;
	o.port = w->port;
	o.api_key = api_key;
	o.no_queue = no_queue;
	o.timeout_ms = timeout_ms;
	o.log = watcher_client_log;
	rc = aw_client_new(&w->client, &o);
	free(api_key);
	if (rc) {
		die_line("%s", aw_error_last());
		return rc == AW_EBUSY ? WATCHER_EXIT_RUNNING
		       : rc == AW_EINVALID ? WATCHER_EXIT_USAGE
						: WATCHER_EXIT_FAILURE;
	}
	signals_init(w->client);
	return WATCHER_RUN;
}

int watcher_connect(watcher *w, const char *event_type)
{
	int rc;

	host_name(w->hostname, sizeof(w->hostname));
	snprintf(w->bucket, sizeof(w->bucket), "%s_%s", w->prog, w->hostname);
	if ((rc = watcher_client(w, 0, 0)) != WATCHER_RUN)
		return rc;
	if (aw_client_register_bucket(w->client, w->bucket, event_type, w->hostname)) {
		die_line("%s", aw_error_last());
		aw_client_free(w->client);
		w->client = NULL;
		return WATCHER_EXIT_FAILURE;
	}
	w->next_poll = aw_time_monotonic();
	return WATCHER_RUN;
}

void watcher_wait(watcher *w)
{
	int64_t now, step = (int64_t)(w->poll_time * 1e9);

	w->next_poll += step;
	now = aw_time_monotonic();
	if (w->next_poll < now)
		w->next_poll = now + step;
	aw_client_run(w->client, (long)((w->next_poll - now) / 1000000));
}

void watcher_finish(watcher *w)
{
	if (w->client) {
		aw_client_flush(w->client);
		aw_client_clear_interrupt(w->client); /* a second signal interrupts the drain */
		if (aw_client_drain(w->client, 3000) != AW_OK && aw_client_queue_length(w->client))
			watcher_log(AW_CLIENT_LOG_WARN, "%zu heartbeats stay queued on disk for the next start",
				    aw_client_queue_length(w->client));
		aw_client_free(w->client);
		w->client = NULL;
		watcher_log(AW_CLIENT_LOG_INFO, "stopped");
	}
	free(w->host);
	w->host = NULL;
}
