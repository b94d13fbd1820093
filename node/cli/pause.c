/*
 * `awnode pause WATCHER [--for DURATION]` and `awnode resume WATCHER`: ask the running
 * `awnode start` (over its control socket, see aw/supervisor_ctl.h) to stop a watcher
 * until resumed or for a while, or to start it again. Also the request helper that
 * `awnode status` (cmd_status.c) shares.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/supervisor_ctl.h"
#include "cli.h"

/* How long the CLI waits for a paused watcher to deliver its queue and exit. */
#define STOP_WAIT_MS 10000
#define START_WAIT_MS 3000
#define REQUEST_TIMEOUT_MS 5000

int cli_supervisor_request(const char *cmd, bool testing, const char *request, json_t **out)
{
	char path[AW_CTL_PATH_MAX], *line = NULL;
	const char *msg;
	json_t *answer;
	int rc;

	*out = NULL;
	if (aw_supervisor_ctl_socket_path(path, sizeof(path), testing, 0)) {
		fprintf(stderr, "awnode %s: %s\n", cmd, aw_error_last());
		return 1;
	}
	rc = aw_supervisor_ctl_request(&line, path, request, REQUEST_TIMEOUT_MS);
	if (rc == AW_ENOTFOUND) {
		fprintf(stderr, "awnode %s: no awnode start%s is running (nothing answers on %s)\n", cmd,
			testing ? " --testing" : "", path);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "awnode %s: awnode start did not answer: %s\n", cmd, aw_error_last());
		return 1;
	}
	answer = json_loads(line, 0, NULL);
	free(line);
	if (!json_is_object(answer)) {
		fprintf(stderr, "awnode %s: awnode start gave an answer that is not JSON\n", cmd);
		json_decref(answer);
		return 1;
	}
	if (!json_is_true(json_object_get(answer, "ok"))) {
		msg = json_string_value(json_object_get(answer, "message"));
		fprintf(stderr, "awnode %s: %s\n", cmd, msg ? msg : "awnode start refused the request");
		json_decref(answer);
		return 1;
	}
	*out = answer;
	return 0;
}

void cli_format_until(char *buf, size_t len, const char *iso)
{
	struct tm tm;
	time_t t, now = time(NULL);
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!iso) {
		snprintf(buf, len, "until resumed");
		return;
	}
	end = strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		snprintf(buf, len, "until %s", iso);
		return;
	}
	t = timegm(&tm);
	localtime_r(&t, &tm);
	/* a pause ending within a day is shown as a time of day, a longer one with its date */
	strftime(buf, len, t - now < 86400 ? "until %H:%M:%S" : "until %Y-%m-%d %H:%M:%S", &tm);
}

static void usage(FILE *f, const char *cmd)
{
	if (!strcmp(cmd, "pause"))
		fprintf(f,
			"usage: awnode pause WATCHER [--for DURATION] [--testing]\n"
			"\n"
			"Stop a watcher run by `awnode start` until `awnode resume WATCHER`, or for\n"
			"DURATION (90s, 15m, 2h, 1h30m, 1d, or plain seconds), after which it starts again\n"
			"by itself. The watcher is stopped with SIGTERM, so it delivers what it recorded.\n"
			"WATCHER: aw-watcher-afk, aw-watcher-window, or afk, window.\n"
			"--testing talks to `awnode start --testing`.\n");
	else
		fprintf(f,
			"usage: awnode resume WATCHER [--testing]\n"
			"\n"
			"Start a watcher paused with `awnode pause` again.\n"
			"WATCHER: aw-watcher-afk, aw-watcher-window, or afk, window.\n"
			"--testing talks to `awnode start --testing`.\n");
}

/* The "watcher" object of an answer (the one the request changed). */
static json_t *answer_watcher(json_t *answer)
{
	return json_object_get(answer, "watcher");
}

/* Poll the supervisor until the watcher's pid is gone (want_running = 0) or there
 * (1), for at most wait_ms; returns the last status of that watcher (caller decrefs) or
 * NULL if the supervisor stopped answering. */
static json_t *wait_for_pid(const char *cmd, bool testing, const char *name, int want_running, int wait_ms)
{
	json_t *last = NULL;

	for (int waited = 0;; waited += 100) {
		json_t *answer, *kids, *w = NULL;
		size_t i;

		if (cli_supervisor_request(cmd, testing, "{\"cmd\":\"status\"}", &answer))
			break;
		kids = json_object_get(answer, "children");
		json_array_foreach(kids, i, w) {
			const char *n = json_string_value(json_object_get(w, "name"));
			if (n && !strcmp(n, name))
				break;
			w = NULL;
		}
		json_decref(last);
		last = w ? json_incref(w) : NULL;
		json_decref(answer);
		if (!last || json_is_integer(json_object_get(last, "pid")) == want_running || waited >= wait_ms)
			break;
		usleep(100 * 1000);
	}
	return last;
}

/* Parse WATCHER, --for and --testing. Returns -1 to go on, else an exit code. */
static int parse(const char *cmd, int argc, char **argv, const char **watcher, long *secs, bool *testing)
{
	static const struct option opts[] = {{"for", required_argument, NULL, 'f'},
					     {"testing", no_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *name;
	int ch;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(cmd, "pause") || aw_supervisor_ctl_parse_duration(secs, optarg)) {
				fprintf(stderr, strcmp(cmd, "pause") ? "awnode %s: --for is for awnode pause\n"
						: "awnode %s: --for needs a duration like 90s, 15m, 2h, 1h30m or seconds, got '%s'\n",
					cmd, optarg);
				return 2;
			}
			break;
		case 't': *testing = true; break;
		case 'h': usage(stdout, cmd); return 0;
		default: return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "awnode %s: %s (see --help)\n", cmd,
			optind >= argc ? "which watcher? (afk or window)" : "one watcher at a time");
		return 2;
	}
	name = aw_supervisor_ctl_watcher_name(argv[optind]);
	if (!name) {
		fprintf(stderr, "awnode %s: unknown watcher '%s' (aw-watcher-afk, aw-watcher-window, afk or window)\n", cmd,
			argv[optind]);
		return 2;
	}
	*watcher = name;
	return -1;
}

static char *request_line(const char *cmd, const char *watcher, long secs)
{
	json_t *req = json_pack("{s:s, s:s}", "cmd", cmd, "watcher", watcher);
	char *line;

	if (secs > 0)
		json_object_set_new(req, "duration", json_integer(secs));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return line;
}

static int cmd_pause_resume(const char *cmd, int argc, char **argv)
{
	const char *watcher = NULL, *short_name;
	char *line, until[64];
	long secs = 0;
	bool testing = false, pausing = !strcmp(cmd, "pause");
	json_t *answer, *w, *now;
	int rc = parse(cmd, argc, argv, &watcher, &secs, &testing);

	if (rc >= 0)
		return rc;
	short_name = watcher + strlen("aw-watcher-");
	line = request_line(cmd, watcher, secs);
	rc = cli_supervisor_request(cmd, testing, line, &answer);
	free(line);
	if (rc)
		return rc;
	w = answer_watcher(answer);
	cli_format_until(until, sizeof(until), json_string_value(json_object_get(w, "paused_until")));
	if (!pausing && !json_is_true(json_object_get(answer, "changed"))) {
		printf("%s was not paused\n", watcher);
		json_decref(answer);
		return 0;
	}
	if (pausing) {
		/* answer once the watcher has delivered its queue and exited */
		now = wait_for_pid(cmd, testing, watcher, 0, STOP_WAIT_MS);
		printf("%s paused %s%s (awnode resume %s%s)\n", watcher, until,
		       now && json_is_integer(json_object_get(now, "pid")) ? ", still stopping" : "", short_name,
		       testing ? " --testing" : "");
	} else {
		now = wait_for_pid(cmd, testing, watcher, 1, START_WAIT_MS);
		if (now && json_is_integer(json_object_get(now, "pid")))
			printf("%s resumed (pid %lld)\n", watcher, (long long)json_integer_value(json_object_get(now, "pid")));
		else
			printf("%s resumed, but it is %s (see awnode status%s)\n", watcher,
			       now ? json_string_value(json_object_get(now, "state")) : "not running",
			       testing ? " --testing" : "");
	}
	json_decref(now);
	json_decref(answer);
	return 0;
}

int cmd_pause(int argc, char **argv)
{
	return cmd_pause_resume("pause", argc, argv);
}

int cmd_resume(int argc, char **argv)
{
	return cmd_pause_resume("resume", argc, argv);
}
