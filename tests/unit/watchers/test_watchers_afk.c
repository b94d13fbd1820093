/* Unit tests: the AFK state machine and the idle time from Wayland idle notifications
 * (watchers/afk/afk_logic.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "afk_logic.h"

#define S 1000000000LL
#define MS 1000000LL
#define T0 (1700000000LL * S) /* wall clock at the first poll */

/* A simulated machine: wall, monotonic and boot clocks, and the last input time (in
 * monotonic terms, as the X server counts idle time). */
typedef struct sim {
	afk_state st;
	int64_t wall, mono, boot, last_input_mono;
	afk_beat b[2];
	int n;
	int64_t gap;
} sim;

static void sim_init(sim *s, double timeout, double poll)
{
	afk_init(&s->st, timeout, poll);
	s->wall = T0;
	s->mono = 1000 * S;
	s->boot = 1000 * S;
	s->last_input_mono = s->mono;
}

static void advance(sim *s, int64_t ns)
{
	s->wall += ns;
	s->mono += ns;
	s->boot += ns;
}

static void suspend(sim *s, int64_t ns)
{
	s->wall += ns;
	s->boot += ns; /* CLOCK_MONOTONIC stands still while asleep */
}

static void input(sim *s)
{
	s->last_input_mono = s->mono;
}

/* one poll at which the X server reports `idle` seconds, with the wall clock `skew` ns off */
static int poll_idle(sim *s, int64_t skew, double idle)
{
	s->n = afk_step(&s->st, s->wall + skew, s->mono, s->boot, idle, s->b, &s->gap);
	return s->n;
}

/* one poll: idle since the last input */
static int poll_(sim *s)
{
	return poll_idle(s, 0, (double)(s->mono - s->last_input_mono) / 1e9);
}

static void expect(const afk_beat *b, int afk, int64_t ts, double dur, double pulsetime)
{
	assert_int_equal(b->afk, afk);
	assert_int_equal(b->ts, ts);
	assert_true(fabs(b->duration - dur) < 1e-6);
	assert_true(fabs(b->pulsetime - pulsetime) < 1e-9);
}

/* sim_init, then the watcher's first poll (its heartbeat is not looked at) */
static void sim_start(sim *s, double timeout, double poll)
{
	sim_init(s, timeout, poll);
	poll_(s);
}

static void test_active_user_stamps_last_input(void **state)
{
	sim s;

	(void)state;
	sim_init(&s, 180, 5);
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 0, T0, 0, 185);
	advance(&s, 2 * S);
	input(&s);
	advance(&s, 3 * S);
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 0, T0 + 2 * S, 0, 185); /* at the input, not at the poll */
}

static void test_become_afk_and_return(void **state)
{
	sim s;
	int64_t input_wall;

	(void)state;
	sim_start(&s, 3, 1);
	for (int i = 0; i < 2; i++) {
		advance(&s, S);
		assert_int_equal(poll_(&s), 1);
		assert_int_equal(s.b[0].afk, 0);
	}
	advance(&s, S); /* idle 3 s = timeout */
	assert_int_equal(poll_(&s), 2);
	expect(&s.b[0], 0, T0, 0, 4);
	expect(&s.b[1], 1, T0 + MS, 3.0, 4); /* from input + 1 ms to now + 1 ms */
	assert_int_equal(s.st.afk, 1);
	advance(&s, S);
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 1, T0 + MS, 4.0, 4); /* the afk event grows */
	advance(&s, 500 * MS);
	input(&s);
	input_wall = s.wall;
	advance(&s, 500 * MS);
	assert_int_equal(poll_(&s), 2);
	expect(&s.b[0], 1, input_wall, 0, 4); /* afk up to the input */
	expect(&s.b[1], 0, input_wall + MS, 0, 4);
	assert_int_equal(s.st.afk, 0);
	/* no input since: the same input again, stamped where the not-afk event starts so
	 * that it merges (not 1 ms before, which would make a second event) */
	advance(&s, S);
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 0, input_wall + MS, 0, 4);
}

static void test_first_poll_when_already_idle(void **state)
{
	sim s;

	(void)state;
	sim_init(&s, 180, 5);
	s.last_input_mono -= 600 * S; /* idle for 10 minutes before we started */
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 1, T0 - 600 * S + MS, 600.0, 185);
	assert_int_equal(s.gap, 0);
}

static void test_suspend_gap_not_counted_as_activity(void **state)
{
	sim s;
	int64_t resume_wall;

	(void)state;
	sim_start(&s, 180, 5);
	advance(&s, 5 * S);
	input(&s); /* active just before going to sleep */
	poll_(&s);
	expect(&s.b[0], 0, T0 + 5 * S, 0, 185);
	advance(&s, 2 * S);
	suspend(&s, 120 * S); /* two minutes asleep: shorter than the 185 s pulsetime */
	advance(&s, 3 * S);
	resume_wall = s.wall - 5 * S; /* earliest possible resume: now - monotonic elapsed */
	/* X says idle 5 s: now - idle would date the input into the sleep */
	assert_int_equal(poll_(&s), 1);
	assert_true(s.gap >= 119 * S);
	assert_int_equal(s.b[0].afk, 0);
	assert_int_equal(s.b[0].ts, resume_wall);
	assert_true(s.b[0].ts > T0 + 10 * S + 100 * S);
	assert_true(s.b[0].pulsetime == 0); /* never merged across the sleep */
	/* later polls without input keep stamping at the resume, not inside the sleep */
	advance(&s, 5 * S);
	assert_int_equal(poll_(&s), 1);
	expect(&s.b[0], 0, resume_wall, 0, 185);
	assert_int_equal(s.gap, 0);
	/* input after the resume */
	advance(&s, S);
	input(&s);
	advance(&s, 4 * S);
	poll_(&s);
	expect(&s.b[0], 0, s.wall - 4 * S, 0, 185);
}

static void test_suspend_while_afk(void **state)
{
	sim s;

	(void)state;
	sim_start(&s, 10, 1);
	for (int i = 0; i < 12; i++) {
		advance(&s, S);
		poll_(&s);
	}
	assert_int_equal(s.st.afk, 1);
	suspend(&s, 3600 * S);
	advance(&s, S);
	assert_int_equal(poll_(&s), 1);
	assert_true(s.gap > 3599 * S);
	/* still afk after the resume, but the event starts after the sleep */
	assert_int_equal(s.b[0].afk, 1);
	assert_int_equal(s.b[0].ts, s.wall - S);
	assert_true(s.b[0].pulsetime == 0);
	assert_true(s.b[0].duration < 2.0);
}

static void test_small_jitter_is_not_a_gap(void **state)
{
	sim s;

	(void)state;
	sim_start(&s, 180, 5);
	advance(&s, 5 * S);
	s.wall += 2 * S; /* NTP step of 2 s < 3 polls */
	poll_(&s);
	assert_int_equal(s.gap, 0);
	/* a stalled process (monotonic advanced too) is not a suspend either */
	advance(&s, 60 * S);
	poll_(&s);
	assert_int_equal(s.gap, 0);
	/* the wall clock going back a lot is a gap */
	s.wall -= 3600 * S;
	advance(&s, 5 * S);
	poll_(&s);
	assert_true(s.gap > 0);
}

static void test_jitter_keeps_the_input_time(void **state)
{
	sim s;

	(void)state;
	sim_init(&s, 180, 5);
	/* the X server reports idle in ms, the wall clock has ns: now - idle wobbles */
	assert_int_equal(poll_idle(&s, 0, 1.000), 1);
	assert_int_equal(s.b[0].ts, T0 - S);
	advance(&s, 5 * S);
	poll_idle(&s, 700000, 6.000); /* 0.7 ms later */
	assert_int_equal(s.b[0].ts, T0 - S);
	advance(&s, 5 * S);
	poll_idle(&s, -900000, 11.000); /* 0.9 ms earlier */
	assert_int_equal(s.b[0].ts, T0 - S);
	/* a real new input moves it */
	advance(&s, 5 * S);
	poll_idle(&s, 0, 0.2);
	assert_int_equal(s.b[0].ts, s.wall - 200 * 1000000LL);
}

static void test_bad_idle_values(void **state)
{
	sim s;

	(void)state;
	sim_init(&s, 180, 5);
	assert_int_equal(poll_idle(&s, 0, NAN), 1);
	assert_int_equal(s.b[0].afk, 0);
	assert_int_equal(s.b[0].ts, s.wall);
	advance(&s, 5 * S);
	assert_int_equal(poll_idle(&s, 0, -5), 1);
	assert_int_equal(s.b[0].ts, s.wall);
}

/* ---- afk_notify: idle time from "idled"/"resumed" notifications (Wayland) ---------- */

static void test_notify_resolution(void **state)
{
	(void)state;
	assert_true(fabs(afk_notify_resolution(180) - 1.0) < 1e-9);
	assert_true(fabs(afk_notify_resolution(2) - 0.5) < 1e-9);
	assert_true(fabs(afk_notify_resolution(0.1) - 0.05) < 1e-9);
}

static void test_notify_idle_time(void **state)
{
	afk_notify n;
	int64_t t = 1000 * S;

	(void)state;
	afk_notify_init(&n, 0.5);
	assert_true(afk_notify_idle(&n, t, 2) == 0); /* no notification yet: active */
	afk_notify_idled(&n, t + 500 * MS);          /* last input at t */
	assert_true(fabs(afk_notify_idle(&n, t + 3 * S, 2) - 3.0) < 1e-9);
	assert_true(fabs(afk_notify_idle(&n, t + 4 * S, 2) - 4.0) < 1e-9);
	afk_notify_resumed(&n, t + 5 * S);
	/* the first poll after "resumed" dates the last input at the resume */
	assert_true(fabs(afk_notify_idle(&n, t + 5 * S + 300 * MS, 2) - 0.3) < 1e-9);
	/* later polls: input within the last 0.5 s, or "idled" would have come */
	assert_true(afk_notify_idle(&n, t + 5 * S + 800 * MS, 2) == 0);
	/* a resume seen only after the AFK timeout: later input followed it */
	afk_notify_idled(&n, t + 6 * S);
	afk_notify_resumed(&n, t + 7 * S);
	assert_true(afk_notify_idle(&n, t + 10 * S, 2) == 0);
}

/* The notifications feed afk_step as the X server's idle counter does: the same
 * not-afk / afk / not-afk layout, to within the resolution. */
static void test_notify_feeds_afk_step(void **state)
{
	afk_notify n;
	afk_state st;
	afk_beat b[2];
	int64_t gap, mono = 1000 * S, wall = T0;
	int k;

	(void)state;
	afk_init(&st, 2, 0.5);
	afk_notify_init(&n, 0.5);
	assert_int_equal(afk_step(&st, wall, mono, mono, afk_notify_idle(&n, mono, 2), b, &gap), 1);
	assert_int_equal(b[0].afk, 0);
	afk_notify_idled(&n, mono + 500 * MS); /* no input after the start */
	for (k = 1; k <= 4; k++)               /* polls at 0.5 .. 2 s */
		afk_step(&st, wall + k * 500 * MS, mono + k * 500 * MS, mono + k * 500 * MS,
			 afk_notify_idle(&n, mono + k * 500 * MS, 2), b, &gap);
	assert_int_equal(st.afk, 1);
	expect(&b[1], 1, T0 + MS, 2.0, 2.5); /* afk from the last input + 1 ms */
	afk_notify_resumed(&n, mono + 2200 * MS);
	assert_int_equal(afk_step(&st, wall + 2500 * MS, mono + 2500 * MS, mono + 2500 * MS,
				  afk_notify_idle(&n, mono + 2500 * MS, 2), b, &gap),
			 2);
	expect(&b[0], 1, T0 + 2200 * MS, 0, 2.5); /* afk up to the input that ended it */
	expect(&b[1], 0, T0 + 2201 * MS, 0, 2.5);
	assert_int_equal(st.afk, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_active_user_stamps_last_input),
		cmocka_unit_test(test_become_afk_and_return),
		cmocka_unit_test(test_first_poll_when_already_idle),
		cmocka_unit_test(test_suspend_gap_not_counted_as_activity),
		cmocka_unit_test(test_suspend_while_afk),
		cmocka_unit_test(test_small_jitter_is_not_a_gap),
		cmocka_unit_test(test_jitter_keeps_the_input_time),
		cmocka_unit_test(test_bad_idle_values),
		cmocka_unit_test(test_notify_resolution),
		cmocka_unit_test(test_notify_idle_time),
		cmocka_unit_test(test_notify_feeds_afk_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
