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

/*
 * The idle time for afk_step from a Wayland compositor's idle notifications
 * (ext-idle-notify-v1, org_kde_kwin_idle). These do not tell the time since the last
 * input, as the X server does; they say "no input for R ms" (idled) and "input again"
 * (resumed) for an R the watcher asks for. With R short (afk_notify_resolution), the
 * watcher stamps each notification with the monotonic clock when it arrives and
 * derives the idle time from that:
 *   - after "idled" at t: the last input was at t - R, so idle = now - t + R;
 *   - after "resumed" at t, at the first poll that sees it: idle = now - t (the input
 *     that ended the idle period, so an AFK period ends there, as on X11), unless that
 *     is not below the AFK timeout (later input must have followed): then 0;
 *   - otherwise there was input within the last R: idle = 0.
 * So the AFK decision and the event times are those of the X11 path to within R.
 * The compositor's timer starts when the watcher asks, so idleness before the watcher
 * started counts from its start.
 */
typedef struct afk_notify {
	double resolution; /* R, seconds */
	int idle;          /* between "idled" and the next "resumed" */
	int64_t idled_at, resumed_at; /* monotonic ns of the last of each */
	int resumed_unseen;           /* a "resumed" no afk_notify_idle call has seen */
} afk_notify;

/* R for an AFK timeout: a quarter of it, at most 1 s, at least 50 ms. */
double afk_notify_resolution(double timeout);
void afk_notify_init(afk_notify *n, double resolution);
void afk_notify_idled(afk_notify *n, int64_t mono_ns);
void afk_notify_resumed(afk_notify *n, int64_t mono_ns);
/* The idle seconds to feed afk_step at monotonic time mono_ns. */
double afk_notify_idle(afk_notify *n, int64_t mono_ns, double timeout);

#endif
