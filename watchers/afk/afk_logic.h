/*
 * The AFK state machine of aw-watcher-afk, free of X and the network so it can be
 * unit-tested. Each poll feeds the clocks and the seconds since the last input; it
 * returns the heartbeats to send (0-2), exactly as ActivityWatch's watcher does:
 *   - not-afk heartbeats are stamped at the last input, so a not-afk event runs from
 *     the first to the last input of an active period;
 *   - on becoming AFK: not-afk at the last input, then afk from last input + 1 ms
 *     lasting the idle time; while AFK the afk event grows with each poll;
 *   - on returning: afk up to the new last input, then not-afk from there + 1 ms.
 * Pulsetime is timeout + poll time. "now - idle" jitters by a millisecond or so from
 * poll to poll (two clocks, the X server's in ms); a last-input time within 50 ms
 * after the previous one is taken to be the same input, and it never goes back, so the
 * heartbeats of one period stay mergeable.
 *
 * Suspend/resume: when the wall clock (or CLOCK_BOOTTIME) advanced more than
 * 3 poll intervals beyond the monotonic clock since the previous poll, the machine
 * was asleep. The X server's idle counter does not count the sleep, so "now - idle"
 * would date the last input into the sleep. Instead the next heartbeat starts at the
 * earliest possible resume time (never earlier), carries pulsetime 0 so the node does
 * not merge it into the event before the sleep, and the caller flushes the client's
 * pre-merge. The sleep itself is recorded as nothing (no event), as for a machine that
 * is off. The first poll reports the current state only.
 */
#ifndef AW_AFK_LOGIC_H
#define AW_AFK_LOGIC_H

#include <stdint.h>

typedef struct afk_state {
	double timeout, poll; /* seconds */
	int started;
	int afk;
	int64_t prev_wall, prev_mono, prev_boot; /* ns */
	int64_t floor;        /* no heartbeat starts before this (ns since epoch) */
	int64_t prev_input;   /* the last input time reported before (ns since epoch) */
	int after_gap;        /* the next heartbeat is the first after a gap */
} afk_state;

typedef struct afk_beat {
	int afk;
	int64_t ts;      /* ns since epoch */
	double duration; /* seconds */
	double pulsetime;
} afk_beat;

void afk_init(afk_state *s, double timeout, double poll);
/* Feed one poll. Returns the number of beats written to out (0-2); *gap_ns gets the
 * length of a detected suspend gap (0 if none). */
int afk_step(afk_state *s, int64_t wall_ns, int64_t mono_ns, int64_t boot_ns, double idle_seconds,
	     afk_beat out[2], int64_t *gap_ns);

#endif
