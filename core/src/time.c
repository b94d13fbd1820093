/*
 * Timestamps and durations in the exact textual forms ActivityWatch clients exchange.
 *
 * Parsing is hand-written rather than strptime-based because the accepted grammar is
 * precise (see aw/time.h) and because out-of-range years must be told apart from
 * malformed strings: the first is a 400 for awnode, the second a 422 like aw-server-rust.
 * All arithmetic is in int64 nanoseconds with explicit overflow checks.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aw/error.h"
#include "aw/time.h"

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t aw_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void aw_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n decimal digits at s[*pos]. */
static bool digits(const char *s, size_t len, size_t *pos, int n, int64_t *out)
{
	int64_t v = 0;
	int i;

	if (*pos + (size_t)n > len)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[*pos + (size_t)i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += (size_t)n;
	*out = v;
	return true;
}

static bool expect(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != c)
		return false;
	(*pos)++;
	return true;
}

/* Parse the offset suffix into seconds east of UTC. */
static bool parse_offset(const char *s, size_t len, size_t pos, int mode, int64_t *off)
{
	int64_t hh, mm;
	int sign;

	if (pos >= len)
		return false;
	if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == len) {
		*off = 0;
		return true;
	}
	if (mode == AW_TIME_RELAXED && len - pos == 3 && memcmp(s + pos, "UTC", 3) == 0) {
		*off = 0;
		return true;
	}
	if (s[pos] != '+' && s[pos] != '-')
		return false;
	sign = s[pos] == '-' ? -1 : 1;
	pos++;
	if (!digits(s, len, &pos, 2, &hh))
		return false;
	if (pos < len && s[pos] == ':')
		pos++;
	else if (mode == AW_TIME_STRICT)
		return false;
	if (!digits(s, len, &pos, 2, &mm) || pos != len)
		return false;
	if (hh > 23 || mm > 59)
		return false;
	*off = sign * (hh * 3600 + mm * 60);
	return true;
}

int aw_time_parse(aw_ns *out, const char *s, size_t len, int mode)
{
	int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, off = 0, days, secs, frac = 0, ns;
	size_t pos = 0;
	int nfrac = 0;

	if (!digits(s, len, &pos, 4, &y) || !expect(s, len, &pos, '-') ||
	    !digits(s, len, &pos, 2, &mo) || !expect(s, len, &pos, '-') ||
	    !digits(s, len, &pos, 2, &d))
		goto invalid;
	if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
		goto invalid;
	pos++;
	if (!digits(s, len, &pos, 2, &h) || !expect(s, len, &pos, ':') ||
	    !digits(s, len, &pos, 2, &mi) || !expect(s, len, &pos, ':') ||
	    !digits(s, len, &pos, 2, &sec))
		goto invalid;
	if (pos < len && s[pos] == '.') {
		pos++;
		while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
			if (nfrac < 9) {
				frac = frac * 10 + (s[pos] - '0');
				nfrac++;
			}
			pos++;
		}
		if (nfrac == 0)
			goto invalid;
		for (int i = nfrac; i < 9; i++)
			frac *= 10;
	}
	if (!parse_offset(s, len, pos, mode, &off))
		goto invalid;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, (unsigned)mo) || h > 23 ||
	    mi > 59 || sec > 59)
		goto invalid;

	days = aw_days_from_civil(y, (unsigned)mo, (unsigned)d);
	secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
	/* In 128 bits: the earliest representable instant has secs * 1e9 below INT64_MIN and
	 * only the fraction brings it back in range. */
	__int128 wide = (__int128)secs * AW_NS_PER_SEC + frac;
	ns = (int64_t)wide;
	if (wide < INT64_MIN || wide > INT64_MAX)
		return aw_error_set(AW_ERANGE,
				    "timestamp '%.*s' is outside the supported range (1677-09-21 to 2262-04-11)",
				    (int)(len > 64 ? 64 : len), s);
	*out = ns;
	return 0;

invalid:
	return aw_error_set(AW_EINVALID, "invalid timestamp '%.*s': expected RFC 3339 like 2024-01-01T12:00:00Z",
			    (int)(len > 64 ? 64 : len), s);
}

/* v in exactly `width` decimal digits, zero-padded (v < 10^width). */
static char *put_digits(char *p, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/*
 * Digits are written by hand, not with snprintf: every event of a heartbeat's answer, an
 * events list and an export passes here, and printf's format parsing was most of the
 * cost. aw_ns spans the years 1677..2262, so the year always has four digits; the
 * fraction keeps as few digit groups (milli, micro, nano) as print it exactly.
 */
static size_t format_common(char *buf, aw_ns t, const char *zone)
{
	int64_t secs = t / AW_NS_PER_SEC, nanos = t % AW_NS_PER_SEC, days, rem, y;
	unsigned m, d;
	size_t zl = strlen(zone);
	char *p = buf;

	if (nanos < 0) {
		nanos += AW_NS_PER_SEC;
		secs -= 1;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days -= 1;
	}
	aw_civil_from_days(days, &y, &m, &d);
	p = put_digits(p, (unsigned)y, 4);
	*p++ = '-';
	p = put_digits(p, m, 2);
	*p++ = '-';
	p = put_digits(p, d, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(rem / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(rem / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(rem % 60), 2);
	if (nanos != 0) {
		*p++ = '.';
		if (nanos % 1000000 == 0)
			p = put_digits(p, (unsigned)(nanos / 1000000), 3);
		else if (nanos % 1000 == 0)
			p = put_digits(p, (unsigned)(nanos / 1000), 6);
		else
			p = put_digits(p, (unsigned)nanos, 9);
	}
	memcpy(p, zone, zl + 1);
	return (size_t)(p - buf) + zl;
}

size_t aw_time_format(char *buf, aw_ns t)
{
	return format_common(buf, t, "Z");
}

size_t aw_time_format_rfc3339(char *buf, aw_ns t)
{
	return format_common(buf, t, "+00:00");
}

int aw_duration_from_seconds(aw_ns *out, double seconds)
{
	double x = seconds * 1e9;

	/* 9223372036854775807 is not representable; the nearest double above it is 2^63. */
	if (!(x > -9223372036854775808.0 && x < 9223372036854775808.0))
		return aw_error_set(AW_ERANGE, "duration %g s is not a finite value within ±292 years",
				    seconds);
	*out = (aw_ns)trunc(x);
	return 0;
}

double aw_duration_to_seconds(aw_ns ns)
{
	return (double)ns / 1e9;
}

/*
 * ns / 1e9 printed as aw_float_format would, without the printf round trips, for the
 * common case: a decimal with at most 15 significant digits maps to a unique double,
 * so its digits (trailing zeros dropped) are exactly the shortest round-trip form. Values
 * below 1e-5 s or with more digits take the general path.
 */
size_t aw_duration_format(char *buf, aw_ns ns)
{
	char digits[24];
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	int nd = 0, tz = 0, frac;
	size_t n = 0;

	/* Below 2^53 ns the division (double)ns / 1e9 is correctly rounded, so it yields the
	 * double nearest the exact decimal; above, it may not, and only the general path
	 * reproduces it. */
	if (u < 10000 || u >= (1ULL << 53))
		return aw_float_format(buf, aw_duration_to_seconds(ns));
	for (uint64_t v = u; v; v /= 10)
		digits[nd++] = (char)('0' + v % 10); /* least significant first */
	while (digits[tz] == '0')
		tz++;
	if (nd - tz > 15)
		return aw_float_format(buf, aw_duration_to_seconds(ns));
	frac = tz >= 9 ? 0 : 9 - tz; /* fraction digits to print */
	if (ns < 0)
		buf[n++] = '-';
	if (nd <= 9) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (int i = nd; i < 9; i++)
			buf[n++] = '0';
		for (int i = nd - 1; i >= 9 - frac; i--)
			buf[n++] = digits[i];
	} else {
		for (int i = nd - 1; i >= 9; i--)
			buf[n++] = digits[i];
		buf[n++] = '.';
		if (frac == 0)
			buf[n++] = '0';
		for (int i = 8; i >= 9 - frac; i--)
			buf[n++] = digits[i];
	}
	buf[n] = '\0';
	return n;
}

/*
 * Shortest round-trip digits via printf: try 1..17 significant digits and keep the
 * first that reads back exactly. Slower than ryu but only a few microseconds, and the
 * layout rules below are ryu's (what serde_json prints), not printf's.
 */
size_t aw_float_format(char *buf, double v)
{
	char tmp[40], dig[20];
	int prec, exp10, ndig = 0, kk, i;
	size_t n = 0;
	char *e;

	if (!isfinite(v)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	if (v == 0) {
		strcpy(buf, signbit(v) ? "-0.0" : "0.0");
		return strlen(buf);
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	e = strchr(tmp, 'e');
	exp10 = atoi(e + 1);
	for (char *p = tmp; p < e; p++)
		if (*p >= '0' && *p <= '9')
			dig[ndig++] = *p;
	while (ndig > 1 && dig[ndig - 1] == '0')
		ndig--;
	dig[ndig] = '\0';
	kk = exp10 + 1; /* 10^(kk-1) <= |v| < 10^kk */

	if (v < 0)
		buf[n++] = '-';
	if (ndig <= kk && kk <= 16) {
		memcpy(buf + n, dig, (size_t)ndig);
		n += (size_t)ndig;
		for (i = ndig; i < kk; i++)
			buf[n++] = '0';
		buf[n++] = '.';
		buf[n++] = '0';
	} else if (0 < kk && kk <= 16) {
		memcpy(buf + n, dig, (size_t)kk);
		n += (size_t)kk;
		buf[n++] = '.';
		memcpy(buf + n, dig + kk, (size_t)(ndig - kk));
		n += (size_t)(ndig - kk);
	} else if (-5 < kk && kk <= 0) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = kk; i < 0; i++)
			buf[n++] = '0';
		memcpy(buf + n, dig, (size_t)ndig);
		n += (size_t)ndig;
	} else {
		buf[n++] = dig[0];
		if (ndig > 1) {
			buf[n++] = '.';
			memcpy(buf + n, dig + 1, (size_t)(ndig - 1));
			n += (size_t)(ndig - 1);
		}
		n += (size_t)snprintf(buf + n, AW_FLOAT_BUFSZ - n, "e%d", kk - 1);
	}
	buf[n] = '\0';
	return n;
}

aw_ns aw_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (aw_ns)ts.tv_sec * AW_NS_PER_SEC + ts.tv_nsec;
}

aw_ns aw_time_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (aw_ns)ts.tv_sec * AW_NS_PER_SEC + ts.tv_nsec;
}

struct timespec aw_time_monotonic_after(aw_ns ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ns / AW_NS_PER_SEC);
	ts.tv_nsec += (long)(ns % AW_NS_PER_SEC);
	if (ts.tv_nsec >= AW_NS_PER_SEC) {
		ts.tv_sec++;
		ts.tv_nsec -= AW_NS_PER_SEC;
	}
	return ts;
}
