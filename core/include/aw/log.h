/*
 * Logging to stderr and to a log file under $XDG_STATE_HOME/awnode. Thread-safe; a line
 * is written with one write() per sink. Never pass secrets (API keys, passphrases).
 */
#ifndef AW_LOG_H
#define AW_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum { AW_LOG_ERROR, AW_LOG_WARN, AW_LOG_INFO, AW_LOG_DEBUG };

/* Log lines up to `level` (AW_LOG_*), to stderr and, when path is not NULL, appended to
 * that file (created 0600; a file that cannot be opened leaves stderr only). */
void aw_log_open(const char *path, int level);
/* Close the log file; later lines go to stderr only. */
void aw_log_close(void);
/* The level aw_log_open set (AW_LOG_INFO before). */
int aw_log_level(void);
/* The newest `limit` lines as a JSON list of {time, level, message}, oldest first. */
#include "aw/buf.h"
void aw_log_recent(aw_buf *out, size_t limit);
void aw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line "YYYY-MM-DD HH:MM:SS.mmm [level] prog: message" in local time on stderr
 * only, the format ActivityWatch's watchers log in: for the watchers and for `awnode
 * start`, which log to a terminal or the journal rather than to the node's log. A
 * message too long for 1,400 bytes is cut, keeping the newline. */
void aw_log_stderr_v(const char *prog, const char *level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Whether the environment variable `name` switches a trace on (AW_QUERY_TRACE,
 * AW_WRITE_TRACE): set, not empty and not "0". Every trace reads its variable with
 * this, so that one setting means the same to each part that logs for it. */
int aw_log_trace_on(const char *name);

#define aw_log_error(...) aw_log(AW_LOG_ERROR, __VA_ARGS__)
#define aw_log_warn(...) aw_log(AW_LOG_WARN, __VA_ARGS__)
#define aw_log_info(...) aw_log(AW_LOG_INFO, __VA_ARGS__)
#define aw_log_debug(...) \
	do { if (aw_log_level() >= AW_LOG_DEBUG) aw_log(AW_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
