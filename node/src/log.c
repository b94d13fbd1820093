/*
 * Log sink: each line goes to stderr and, once aw_log_open succeeded, to the log file.
 * Lines are formatted into one buffer and written with a single write() so concurrent
 * threads never interleave within a line.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int log_fd = -1;
static int log_level = AW_LOG_INFO;

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
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level > log_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ [%s] ", ts.tv_nsec / 1000000,
		      names[level]);
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported; the results are ignored. */
	ssize_t ignored = write(STDERR_FILENO, line, (size_t)n);
	if (log_fd >= 0)
		ignored = write(log_fd, line, (size_t)n);
	(void)ignored;
}
