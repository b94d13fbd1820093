/*
 * Per-thread last-error message. Each thread (HTTP loop, writer, readers) reports its
 * own failures without locking; a message lives until the same thread fails again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aw/error.h"

static _Thread_local char last_error[512];

int aw_error_set(int code, const char *fmt, ...)
{
	char msg[sizeof(last_error)];
	va_list ap;

	/* formatted aside first: an argument may be aw_error_last() itself, as when a
	 * caller adds context ("%s: %s", what, aw_error_last()) */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_error, msg, sizeof(msg));
	return code;
}

const char *aw_error_last(void)
{
	return last_error;
}
