/*
 * Shared by the watchers (internal, not installed): logging, a TOML subset for the
 * config files, option/config value checks, UTF-8 repair, hostname, paths.
 */
#ifndef AWW_COMMON_H
#define AWW_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/client.h"
#include "aw/toml.h"

/* Exit codes shared by the watchers; `awnode start` does not restart a watcher that
 * exits with AWW_EXIT_USAGE, AWW_EXIT_NODISPLAY or AWW_EXIT_RUNNING. */
enum {
	AWW_EXIT_OK = 0,
	AWW_EXIT_FAILURE = 1,   /* runtime failure (e.g. lost the X connection) */
	AWW_EXIT_USAGE = 2,     /* bad option or config value */
	AWW_EXIT_NODISPLAY = 3, /* no X display to watch */
	AWW_EXIT_RUNNING = 4,   /* another instance holds the queue */
};

/* ---- logging: "<prog>: <message>" on stderr (with a timestamp and level) ---------- */
void aww_log_init(const char *prog, int verbose);
void aww_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* aw_client log callback that forwards to aww_log */
void aww_client_log(void *ud, int level, const char *msg);
/* One clear line on stderr without decoration: "<prog>: <message>" */
void aww_die_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *aww_prog(void);

/* ---- config files ---------------------------------------------------------------
 * Read with core's TOML reader (aw/toml.h, aw/conf.h). */

/* ---- a watcher's config file: top-level keys plus the table [<name>] (or
 * [<name>-testing] in testing mode, as ActivityWatch lays its files out) ----------- */
typedef struct aww_conf {
	aw_toml_doc doc;
	char *path;
	char table[128];
} aww_conf;

/* Load $XDG_CONFIG_HOME/awnode/<name>.toml, writing `default_text` there first if
 * the file does not exist. Prints one error line and returns -1 (with nothing left to
 * free) if it cannot be read or parsed. */
int aww_conf_load(aww_conf *c, const char *name, int testing, const char *default_text);
void aww_conf_free(aww_conf *c);
/* Warn (one line each) about keys not in `known` (NULL-terminated). */
void aww_conf_warn_unknown(const aww_conf *c, const char *const *known);
/* Typed getters: 0 = key absent (out untouched), 1 = set, -1 = bad value (one error
 * line printed). */
int aww_conf_seconds(const aww_conf *c, const char *key, double *out);
int aww_conf_port(const aww_conf *c, const char *key, int *out);
int aww_conf_bool(const aww_conf *c, const char *key, int *out);
int aww_conf_string(const aww_conf *c, const char *key, char **out); /* caller frees */
/* array of strings; *out is a NULL-terminated malloc'd vector of malloc'd strings */
int aww_conf_strings(const aww_conf *c, const char *key, char ***out, size_t *n);

/* Value checks shared by options and config values. Return 0 or -1. */
int aww_parse_seconds(const char *s, double *out);  /* finite, > 0, <= 1e6 */
int aww_parse_port(const char *s, int *out);        /* 1..65535 */

/* ---- text ---------------------------------------------------------------------- */

/* Make `in` (n bytes) valid UTF-8: invalid sequences become U+FFFD, NUL ends the
 * text, other control characters become spaces; cut at a character boundary so the
 * result has at most max_bytes bytes, ending in "…" when cut. Caller frees. */
char *aww_utf8_clean(const char *in, size_t n, size_t max_bytes);
/* ISO-8859-1 to UTF-8 (then cleaned as above). Caller frees. */
char *aww_latin1_to_utf8(const char *in, size_t n, size_t max_bytes);

/* The OS hostname ("unknown" if none or not valid UTF-8, as the node does). */
void aww_hostname(char *buf, size_t len);

/* Monotonic / boot-time clocks in ns. */
int64_t aww_mono_ns(void);
int64_t aww_boot_ns(void);

/* Signals: SIGTERM/SIGINT/SIGHUP set the stop flag and interrupt the client. */
void aww_signals_init(aw_client *c);
int aww_stopping(void);

#endif
