/*
 * awnode: one binary, several commands. `serve` runs the node; `start` supervises the
 * node and the watchers; the others are tools around the same database, folders and
 * running node. Each command lives in its own file in this directory (cli.h lists
 * them); this file only finds the command and prints the overview.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} command;

static const command commands[] = {
	{"serve", cmd_serve, "run the node (REST API, query API, web UI)"},
	{"start", cmd_start, "run the node and the default watchers, supervised"},
	{"status", cmd_status, "show what awnode start runs (state, pid, uptime, pauses)"},
	{"pause", cmd_pause, "stop a watcher until resumed, or for a while (--for 15m)"},
	{"resume", cmd_resume, "start a paused watcher again"},
	{"redact", cmd_redact, "apply a privacy rule to stored events"},
	{"export", cmd_export, "write an export document of one or all buckets"},
	{"import", cmd_import, "import an export document, or ActivityWatch's database"},
	{"sync", cmd_sync, "encrypted sync through a git folder (init, join, push, pull, status, ...)"},
	{"archive", cmd_archive, "move old events into an encrypted archive (list, restore, init)"},
	{"query", cmd_query, "run a query file against the local database or a running node"},
	{"doctor", cmd_doctor, "check this desktop session for what tracking needs, and say what to do"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: awnode <command> [options]\n"
		   "\n"
		   "A fast, private ActivityWatch-compatible activity tracker node.\n"
		   "\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n"
		   "Run 'awnode <command> --help' for the options of a command.\n"
		   "  -h, --help     this help\n"
		   "  --version      print the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("awnode %s\n", AWNODE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "awnode: unknown command '%s' (see awnode --help)\n", argv[1]);
	return 2;
}
