/*
 * Helpers shared by the watchers (internal, not installed): logging, their config files
 * (read with core's TOML reader, aw/conf.h), option value checks, UTF-8 repair, the
 * hostname, clocks and stop signals. watcher.h builds a watcher's main from these.
 *
 * Logging is the watchers' own rather than core's aw/log.h: a watcher's lines read
 * "<local time> [LEVEL] <prog>: message" on stderr only (systemd and `awnode start`
 * keep them), and the integration tests look for "<prog>: ..." in that output; core's
 * logger prints UTC stamps and no program name, and also writes a log file.
 */
#ifndef WATCHER_COMMON_H
#define WATCHER_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/client.h"
#include "aw/toml.h"

/* Exit codes shared by the watchers; `awnode start` does not restart a watcher that
 * exits with WATCHER_EXIT_USAGE, WATCHER_EXIT_NODISPLAY, WATCHER_EXIT_RUNNING or
 * WATCHER_EXIT_UNSUPPORTED (docs/watchers.md lists them). */
enum {
	WATCHER_EXIT_OK = 0,
	WATCHER_EXIT_FAILURE = 1,   /* runtime failure (e.g. lost the X connection) */
	WATCHER_EXIT_USAGE = 2,     /* bad option or config value */
	WATCHER_EXIT_NODISPLAY = 3, /* no display (X11 or Wayland) to watch */
	WATCHER_EXIT_RUNNING = 4,   /* another instance holds the queue */
	WATCHER_EXIT_UNSUPPORTED = 5, /* a Wayland compositor without the protocol needed */
};

/* ---- logging: "<local time> [LEVEL] <prog>: <message>" on stderr ------------------
 * Levels are AW_CLIENT_LOG_*; DEBUG only with verbose. */
void watcher_log_init(const char *prog, int verbose);
void watcher_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* aw_client log callback that forwards to watcher_log */
void watcher_client_log(void *ud, int level, const char *msg);
/* One clear line on stderr without decoration: "<prog>: <message>" */
void die_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *watcher_prog(void);

/* ---- a watcher's config file: top-level keys plus the table [<name>] (or
 * [<name>-testing] in testing mode, as ActivityWatch lays its files out) ----------- */
typedef struct watcher_conf {
	aw_toml_doc doc;
	char *path;
	char table[128];
} watcher_conf;

/* Load $XDG_CONFIG_HOME/awnode/<name>.toml, writing `default_text` there first if
 * the file does not exist. Prints one error line and returns -1 (with nothing left to
 * free) if it cannot be read or parsed. */
int conf_load(watcher_conf *c, const char *name, int testing, const char *default_text);
void conf_free(watcher_conf *c);
/* Warn (one line each) about keys not in `known` (NULL-terminated). */
void conf_warn_unknown(const watcher_conf *c, const char *const *known);
/* Typed getters: 0 = key absent (out untouched), 1 = set, -1 = bad value (one error
 * line printed). */
int conf_seconds(const watcher_conf *c, const char *key, double *out);
int conf_port(const watcher_conf *c, const char *key, int *out);
int conf_bool(const watcher_conf *c, const char *key, int *out);
int conf_string(const watcher_conf *c, const char *key, char **out); /* caller frees */
/* array of strings; *out is a NULL-terminated malloc'd vector of malloc'd strings */
int conf_strings(const watcher_conf *c, const char *key, char ***out, size_t *n);

/* Value checks shared by options and config values. Return 0 or -1. */
int parse_seconds(const char *s, double *out);  /* finite, > 0, <= 1e6 */
int parse_port(const char *s, int *out);        /* 1..65535 */

/* ---- text ---------------------------------------------------------------------- */

/* Make `in` (n bytes) valid UTF-8: invalid sequences become U+FFFD, NUL ends the
 * text, other control characters become spaces; cut at a character boundary so the
 * result has at most max_bytes bytes, ending in "…" when cut. Caller frees. */
char *utf8_clean(const char *in, size_t n, size_t max_bytes);
/* ISO-8859-1 to UTF-8 (then cleaned as above). Caller frees. */
char *latin1_to_utf8(const char *in, size_t n, size_t max_bytes);

/* The OS hostname ("unknown" if none or not valid UTF-8, as the node does). */
void host_name(char *buf, size_t len);

/* CLOCK_BOOTTIME in ns: monotonic, and advancing while the machine sleeps (so the AFK
 * watcher can tell a suspend from idleness); the plain monotonic clock is core's
 * aw_time_monotonic. */
int64_t boot_ns(void);

/* Signals: SIGTERM/SIGINT/SIGHUP set the stop flag and interrupt the client. */
void signals_init(aw_client *c);
int stopping(void);

#endif
