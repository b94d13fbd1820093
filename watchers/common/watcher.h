/*
 * What every watcher's main does the same way (internal, not installed): the options
 * all watchers take (--poll-time --testing --host --port --verbose --help), the config
 * file (poll_time, host, port; command-line options win), the client and the bucket,
 * the poll loop's sleep, and the final drain of the queue. A watcher's main keeps only
 * its own options and config keys (through the callbacks), its data source and its
 * events. See docs/watchers.md for the behaviour.
 *
 * Functions returning int return WATCHER_RUN to go on, or the exit code the main should
 * return (WATCHER_EXIT_*, after one line on stderr saying why).
 */
#ifndef WATCHER_H
#define WATCHER_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "wcommon.h"

enum { WATCHER_RUN = -1 };

typedef struct watcher {
	/* set by the main before watcher_args */
	const char *prog;      /* "aw-watcher-afk": client name, config file, bucket prefix */
	double poll_time;      /* default; then the config's, then --poll-time's */
	/* filled in */
	int testing, verbose;
	char *host;            /* NULL = the client's default; owned */
	int port;              /* 0 = the client's default */
	char hostname[256];
	char bucket[320];      /* "<prog>_<hostname>" */
	aw_client *client;
	int64_t next_poll;     /* CLOCK_MONOTONIC ns of the next poll */
	/* command-line values, applied over the config's */
	double cli_poll;
	const char *cli_host;
	int cli_port;
} watcher;

/* A watcher's own option: return WATCHER_RUN, or an exit code after printing why.
 * `arg` is optarg; an option taking several words may advance optind. */
typedef int (*watcher_option_fn)(void *ud, int ch, const char *arg, int argc, char **argv);
/* A watcher's own config keys, read from `conf` (which is freed afterwards). */
typedef int (*watcher_config_fn)(void *ud, const watcher_conf *conf);

/* The whole --help text of watcher `prog`: the usage line, `about`, the "options:"
 * heading, the watcher's own option lines `options` (--poll-time among them, since its
 * default is each watcher's), the common options with their descriptions starting
 * `width` columns after the indent, and `config` after a blank line. */
void watcher_usage(FILE *f, const char *prog, const char *about, const char *options, int width,
		   const char *config);

/* Parse argv: `own` (terminated by a zeroed entry) plus the common options, which use
 * the getopt codes 'p' 'T' 'H' 'P' 'v' 'h' (own options must use other codes). --help
 * prints usage(stdout) and returns WATCHER_EXIT_OK. */
int watcher_args(watcher *w, int argc, char **argv, const struct option *own, watcher_option_fn own_fn,
		 void *ud, void (*usage)(FILE *));

/* Read <prog>.toml (created from default_text when missing), warn about keys not in
 * `known`, call own_fn (may be NULL), read poll_time, host and port, then apply the
 * command-line values over the config's. */
int watcher_config(watcher *w, const char *default_text, const char *const *known, watcher_config_fn own_fn,
		   void *ud);

/* Create w->client (with the node's API key; no_queue and timeout_ms as in
 * aw_client_options, 0 for the defaults) and install the signal handlers. For a
 * program that only makes synchronous calls, such as the tray; watchers call
 * watcher_connect. */
int watcher_client(watcher *w, int no_queue, long timeout_ms);

/* watcher_client with the disk queue, then register the bucket of type `event_type`. */
int watcher_connect(watcher *w, const char *event_type);

/* Deliver the queue until the next poll time (one poll_time after the last; no
 * catching up after a stall). Call once per loop iteration. */
void watcher_wait(watcher *w);

/* Commit what is pending, try for 3 s to deliver the queue (a second stop signal cuts
 * this short), free the client and say "stopped". Frees what watcher_* allocated;
 * safe after any failure. */
void watcher_finish(watcher *w);

#endif
