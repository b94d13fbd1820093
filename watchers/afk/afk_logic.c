/* The AFK state machine, and the idle time from Wayland idle notifications: see afk_logic.h. */
#include <math.h>
#include <string.h>

#include "afk_logic.h"

#define MS 1000000LL
#define JITTER (50 * MS)

void afk_init(afk_state *s, double timeout, double poll)
{
	memset(s, 0, sizeof(*s));
	s->timeout = timeout;
	s->poll = poll;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static afk_beat beat(int afk, int64_t ts, int64_t end, double pulsetime)
{
	afk_beat b;

	b.afk = afk;
	b.ts = ts;
	b.duration = end > ts ? (double)(end - ts) / 1e9 : 0.0;
	b.pulsetime = pulsetime;
	return b;
}

int afk_step(afk_state *s, int64_t wall, int64_t mono, int64_t boot, double idle, afk_beat out[2], int64_t *gap_ns)
{
	int64_t idle_ns, last_input, at_input, after_input, threshold;
	double pt = s->timeout + s->poll;
	int fresh = !s->started, n = 0, now_afk;

	*gap_ns = 0;
	if (!(idle >= 0) || !isfinite(idle))
		idle = 0;
	if (idle > 1e9)
		idle = 1e9;
	idle_ns = (int64_t)llround(idle * 1e9);
	last_input = wall - idle_ns;
	threshold = (int64_t)llround(3 * s->poll * 1e9);
	if (s->started) {
		int64_t dm = mono - s->prev_mono;
		int64_t jump_wall = (wall - s->prev_wall) - dm;
		int64_t jump_boot = (boot - s->prev_boot) - dm;
		int64_t jump = max64(jump_wall < 0 ? -jump_wall : jump_wall, jump_boot);

		if (jump > threshold) {
			*gap_ns = jump;
			s->floor = wall - (dm > 0 ? dm : 0); /* the earliest the machine can have resumed */
			fresh = 1;
		}
	}
	if (!fresh && last_input < s->prev_input + JITTER)
		last_input = s->prev_input; /* the same input seen again, or clock jitter */
	s->prev_input = last_input;
	s->started = 1;
	s->prev_wall = wall;
	s->prev_mono = mono;
	s->prev_boot = boot;

	at_input = max64(last_input, s->floor);
	after_input = max64(last_input + MS, s->floor);
	now_afk = idle >= s->timeout;
	if (fresh) {
		double p = *gap_ns ? 0.0 : pt;

		s->afk = now_afk;
		if (now_afk)
			out[n++] = beat(1, after_input, wall + MS, p);
		else
			out[n++] = beat(0, at_input, at_input, p);
		return n;
	}
	if (s->afk && !now_afk) {
		out[n++] = beat(1, at_input, at_input, pt);
		out[n++] = beat(0, after_input, after_input, pt);
		s->afk = 0;
		/* the not-afk event starts 1 ms after the input: the next poll's heartbeat for
		 * that same input must not be stamped before it, or it would not merge and the
		 * node would get a second, zero-length not-afk event */
		s->prev_input = after_input;
	} else if (!s->afk && now_afk) {
		out[n++] = beat(0, at_input, at_input, pt);
		out[n++] = beat(1, after_input, wall + MS, pt);
		s->afk = 1;
	} else if (s->afk) {
		out[n++] = beat(1, after_input, wall + MS, pt);
	} else {
		out[n++] = beat(0, at_input, at_input, pt);
	}
	return n;
}

double afk_notify_resolution(double timeout)
{
	return fmax(0.05, fmin(1.0, timeout / 4));
}

void afk_notify_init(afk_notify *n, double resolution)
{
	memset(n, 0, sizeof(*n));
	n->resolution = resolution;
}

void afk_notify_idled(afk_notify *n, int64_t mono)
{
	n->idle = 1;
	n->idled_at = mono;
}

void afk_notify_resumed(afk_notify *n, int64_t mono)
{
	n->idle = 0;
	n->resumed_at = mono;
	n->resumed_unseen = 1;
}

double afk_notify_idle(afk_notify *n, int64_t mono, double timeout)
{
	int resumed = n->resumed_unseen;
	double since;

	n->resumed_unseen = 0;
	if (n->idle) {
		since = (double)(mono - n->idled_at) / 1e9;
		return (since > 0 ? since : 0) + n->resolution;
	}
	if (resumed) {
		since = (double)(mono - n->resumed_at) / 1e9;
		if (since > 0 && since < timeout)
			return since;
	}
	return 0;
}
