/*
 * Log sink: each line goes to stderr and, once aw_log_open succeeded, to the log file.
 * Lines are formatted into one buffer and written with a single write() so concurrent
 * threads never interleave within a line.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aw/log.h"

static int log_fd = -1;
static int log_level = AW_LOG_INFO;

/* The newest lines, for GET /api/0/log: a ring of RING entries under ring_mu. */
#define RING 1000
static struct {
	char *line; /* "time\0LEVEL\0message" */
} ring[RING];
static size_t ring_next, ring_count;
static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;

static void ring_add(const char *time, const char *level, const char *msg)
{
	size_t tl = strlen(time) + 1, ll = strlen(level) + 1, ml = strlen(msg) + 1;
	char *e = malloc(tl + ll + ml);

	if (!e)
		return;
	memcpy(e, time, tl);
	memcpy(e + tl, level, ll);
	memcpy(e + tl + ll, msg, ml);
	pthread_mutex_lock(&ring_mu);
	free(ring[ring_next].line);
	ring[ring_next].line = e;
	ring_next = (ring_next + 1) % RING;
	if (ring_count < RING)
		ring_count++;
	pthread_mutex_unlock(&ring_mu);
}

void aw_log_recent(aw_buf *out, size_t limit)
{
	size_t n, start;

	pthread_mutex_lock(&ring_mu);
	n = limit < ring_count ? limit : ring_count;
	start = (ring_next + RING - n) % RING;
	aw_buf_putc(out, '[');
	for (size_t i = 0; i < n; i++) {
		const char *t = ring[(start + i) % RING].line, *l = t + strlen(t) + 1, *m = l + strlen(l) + 1;
		if (i)
			aw_buf_putc(out, ',');
		aw_buf_puts(out, "{\"time\":");
		aw_buf_json_string(out, t, strlen(t));
		aw_buf_puts(out, ",\"level\":");
		aw_buf_json_string(out, l, strlen(l));
		aw_buf_puts(out, ",\"message\":");
		aw_buf_json_string(out, m, strlen(m));
		aw_buf_putc(out, '}');
	}
	aw_buf_putc(out, ']');
	pthread_mutex_unlock(&ring_mu);
}

void aw_log_open(const char *path, int level)
{
	log_level = level;
	if (path)
		log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

void aw_log_close(void)
{
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
}

int aw_log_level(void)
{
	return log_level;
}

void aw_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
	char line[2048], stamp[40];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, msg_at;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - (size_t)n, ".%03ldZ", ts.tv_nsec / 1000000);
	n = snprintf(line, sizeof(line), "%s [%s] ", stamp, names[level]);
	msg_at = n;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n] = '\0';
	ring_add(stamp, names[level], line + msg_at);
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported; the results are ignored. */
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	if (log_fd >= 0)
		ignored = write(log_fd, line, (size_t)n);
	(void)ignored;
}

int aw_log_trace_on(const char *name)
{
	const char *e = getenv(name);

	return e && *e && strcmp(e, "0");
}

void aw_log_stderr_v(const char *prog, const char *level, const char *fmt, va_list ap)
{
	char msg[1200], line[1400], ts[40];
	struct timespec now;
	struct tm tm;
	int n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld [%s] %s: %s\n", ts, now.tv_nsec / 1000000, level, prog, msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1, line[n - 1] = '\n';
	/* a failed write to stderr has nowhere to be reported */
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	(void)ignored;
}
