/*
 * Time in awnode: integer nanoseconds since the Unix epoch, UTC (aw_ns). This header
 * parses the RFC 3339 forms ActivityWatch clients send, prints timestamps exactly as
 * aw-server-rust does (UTC, 'Z', 0/3/6/9 fraction digits) and converts float-second
 * durations the way aw-server-rust does (trunc(seconds * 1e9) in double arithmetic).
 */
#ifndef AW_TIME_H
#define AW_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef int64_t aw_ns;

#define AW_NS_MAX INT64_MAX
#define AW_NS_MIN INT64_MIN
#define AW_NS_PER_SEC 1000000000LL

/* Parsing modes. RELAXED is what JSON bodies accept (chrono's DateTime FromStr):
 * 'T'/'t'/' ' separator; offset 'Z', 'z', 'UTC', '+hh:mm', '+hhmm'. STRICT is what
 * query parameters and query timeperiods accept (chrono's parse_from_rfc3339):
 * offset 'Z', 'z' or '+hh:mm' only. Both take any number of fraction digits and
 * truncate to nanoseconds. */
enum { AW_TIME_RELAXED = 0, AW_TIME_STRICT = 1 };

/* Parse `len` bytes of `s` into *out. Returns 0, AW_EINVALID for a malformed string,
 * or AW_ERANGE for a well-formed time outside the int64 nanosecond range
 * (about 1677-09-21 to 2262-04-11). The message is in aw_error_last(). */
int aw_time_parse(aw_ns *out, const char *s, size_t len, int mode);

/* Format t as "YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]Z" into buf (at least
 * AW_TIME_BUFSZ bytes). Returns the length written (NUL-terminated). */
#define AW_TIME_BUFSZ 40
size_t aw_time_format(char *buf, aw_ns t);

/* Same as aw_time_format but "+00:00" instead of "Z" and always as chrono's
 * to_rfc3339 prints (used for TIMEINTERVAL in queries). */
size_t aw_time_format_rfc3339(char *buf, aw_ns t);

/* Convert float seconds to nanoseconds as aw-server-rust does: trunc(s * 1e9).
 * Returns AW_ERANGE for NaN, infinities and values outside int64. */
int aw_duration_from_seconds(aw_ns *out, double seconds);

/* Nanoseconds as float seconds (ns / 1e9). */
double aw_duration_to_seconds(aw_ns ns);

/* Print ns / 1e9 exactly as aw_float_format(aw_duration_to_seconds(ns)) does, faster.
 * buf needs AW_FLOAT_BUFSZ bytes. */
size_t aw_duration_format(char *buf, aw_ns ns);

/* Print a double the way serde_json/ryu does: shortest round-trip digits, integral
 * values with ".0", exponent form outside [1e-5, 1e16). Non-finite prints "null".
 * buf needs AW_FLOAT_BUFSZ bytes. Returns the length. */
#define AW_FLOAT_BUFSZ 40
size_t aw_float_format(char *buf, double v);

/* a - b and a + b clamped to the int64 range (for range bounds). */
static inline aw_ns aw_ns_sub_sat(aw_ns a, aw_ns b)
{
	aw_ns r;
	return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? AW_NS_MIN : AW_NS_MAX) : r;
}
static inline aw_ns aw_ns_add_sat(aw_ns a, aw_ns b)
{
	aw_ns r;
	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? AW_NS_MAX : AW_NS_MIN) : r;
}

/* Current wall-clock time. */
aw_ns aw_time_now(void);
/* Nanoseconds on CLOCK_MONOTONIC: for timeouts, back-off and uptimes, which must not
 * jump when the wall clock is set (it does not advance while the machine sleeps). */
aw_ns aw_time_monotonic(void);
/* Milliseconds on the same clock. */
static inline int64_t aw_time_monotonic_ms(void)
{
	return aw_time_monotonic() / 1000000;
}
/* The time on the same clock `ns` (>= 0) from now, as pthread_cond_timedwait takes it
 * for a condition variable set to CLOCK_MONOTONIC. */
struct timespec aw_time_monotonic_after(aw_ns ns);

/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t aw_days_from_civil(int64_t y, unsigned m, unsigned d);
void aw_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
