/*
 * Per-thread last-error message. Each thread (HTTP loop, writer, readers) reports its
 * own failures without locking; a message lives until the same thread fails again.
 */
#include <stdarg.h>
#include <stdio.h>

#include "aw/error.h"

static _Thread_local char last_error[512];

int aw_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

const char *aw_error_last(void)
{
	return last_error;
}
