/*
 * `awnode status`: what the running `awnode start` supervises (the node and the
 * watchers), each with its state, pid, uptime, restarts and pause, asked over the
 * control socket (see aw/supervisor_ctl.h). --json prints the supervisor's answer as is.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode status [--testing] [--json]\n"
		"\n"
		"Show what `awnode start` runs: the node and the watchers, each with its state\n"
		"(running, paused, restarting, stopped), pid, uptime and restarts; a paused\n"
		"watcher shows until when. --testing asks `awnode start --testing`; --json prints\n"
		"the answer as JSON. Exits with 1 when no awnode start is running.\n");
}

/* "42s", "5m 12s", "3h 05m", "2d 4h" */
static void fmt_uptime(char *buf, size_t len, json_t *seconds)
{
	long s;

	if (!json_is_number(seconds)) {
		snprintf(buf, len, "-");
		return;
	}
	s = (long)json_number_value(seconds);
	if (s < 60)
		snprintf(buf, len, "%lds", s);
	else if (s < 3600)
		snprintf(buf, len, "%ldm %02lds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%ldh %02ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%ldd %ldh", s / 86400, s % 86400 / 3600);
}

static void print_child(json_t *c)
{
	const char *name = json_string_value(json_object_get(c, "name"));
	const char *state = json_string_value(json_object_get(c, "state"));
	json_t *pid = json_object_get(c, "pid");
	char pidbuf[24], up[32], until[64];

	snprintf(pidbuf, sizeof(pidbuf), "%lld", (long long)json_integer_value(pid));
	fmt_uptime(up, sizeof(up), json_object_get(c, "uptime"));
	printf("%-18s %-11s %-8s %-9s %-8lld", name ? name : "?", state ? state : "?", json_is_integer(pid) ? pidbuf : "-",
	       up, (long long)json_integer_value(json_object_get(c, "restarts")));
	if (json_is_true(json_object_get(c, "paused"))) {
		cli_format_until(until, sizeof(until), json_string_value(json_object_get(c, "paused_until")));
		printf(" paused %s", until);
	}
	printf("\n");
}

static void print_status(json_t *answer)
{
	json_t *me = json_object_get(answer, "supervisor"), *kids = json_object_get(answer, "children"), *c;
	char up[32];
	size_t i;

	fmt_uptime(up, sizeof(up), json_object_get(me, "uptime"));
	printf("awnode start%s: pid %lld, up %s\n", json_is_true(json_object_get(me, "testing")) ? " --testing" : "",
	       (long long)json_integer_value(json_object_get(me, "pid")), up);
	printf("%-18s %-11s %-8s %-9s %s\n", "NAME", "STATE", "PID", "UPTIME", "RESTARTS");
	json_array_foreach(kids, i, c)
		print_child(c);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"testing", no_argument, NULL, 't'},
					     {"json", no_argument, NULL, 'j'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool testing = false, as_json = false;
	json_t *answer;
	int ch;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 't': testing = true; break;
		case 'j': as_json = true; break;
		case 'h': usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "awnode status: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (cli_supervisor_request("status", testing, "{\"cmd\":\"status\"}", &answer))
		return 1;
	if (as_json) {
		char *s = json_dumps(answer, JSON_COMPACT);
		printf("%s\n", s ? s : "null");
		free(s);
	} else {
		print_status(answer);
	}
	json_decref(answer);
	return 0;
}
