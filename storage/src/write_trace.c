/*
 * Where the writer's time goes, for benchmarks: with AW_WRITE_TRACE set in the
 * environment, the writer stamps the end of each step of a batch (waiting for a write,
 * lingering for more, applying them, committing, completing them; internal.h,
 * write_step) and this file logs the mean of each over all batches every few seconds
 * and at close, with a second line on how the batches were taken (the counts
 * batch_policy.c keeps for it, which each report starts again from zero).
 * tests/bench/node_bench.sh prints those lines after its heartbeat run;
 * docs/storage.md ("Where a write's time goes") reads them.
 *
 * The clock is read five times per batch, and only with the variable set: a batch of
 * heartbeats takes hundreds of microseconds, the clock tens of nanoseconds.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/log.h"
#include "aw/mem.h"
#include "aw/time.h"
#include "internal.h"

#define REPORT_EVERY_NS ((aw_ns)5 * AW_NS_PER_SEC)

struct write_trace {
	aw_ns last;            /* the previous step's stamp; 0 before the first */
	aw_ns since;           /* the first stamp of this report's window */
	aw_ns sum[WT_STEPS];   /* time that ended at each step */
	long batches, writes;
};

void write_trace_open(aw_store *s)
{
	if (aw_log_trace_on("AW_WRITE_TRACE"))
		s->trace = aw_mem_calloc(1, sizeof(*s->trace));
}

static void report(aw_store *s, struct write_trace *t, aw_ns now)
{
	double b = (double)t->batches;
	batch_policy *p = &s->policy;

	if (!t->batches)
		return;
	aw_log_info("writer: %ld batches of %.1f writes in %.1f s; per batch, us: waiting for a write %.0f, "
		    "lingering %.0f, applying %.0f, committing %.0f, completing %.0f",
		    t->batches, (double)t->writes / b, (double)(now - t->since) / 1e9,
		    (double)t->sum[WT_ARRIVED] / 1e3 / b, (double)t->sum[WT_TAKEN] / 1e3 / b,
		    (double)t->sum[WT_APPLIED] / 1e3 / b, (double)t->sum[WT_COMMITTED] / 1e3 / b,
		    (double)t->sum[WT_DONE] / 1e3 / b);
	/* batch_policy.c: how the batches were taken, since the last report */
	aw_log_info("batching: %ld batches gathered of %.1f writes, %ld flowed of %.1f; switched way %ld times, "
		    "now %s",
		    p->gathered, p->gathered ? (double)p->gathered_writes / (double)p->gathered : 0.0, p->flowed,
		    p->flowed ? (double)p->flowed_writes / (double)p->flowed : 0.0, p->switches,
		    p->gather ? "gathering" : "flowing");
	p->gathered = p->flowed = p->switches = p->gathered_writes = p->flowed_writes = 0;
	memset(t->sum, 0, sizeof(t->sum));
	t->batches = t->writes = 0;
	t->since = now;
}

void write_trace_mark(aw_store *s, write_step step, int writes)
{
	struct write_trace *t = s->trace;
	aw_ns now;

	if (!t)
		return;
	now = aw_time_monotonic();
	if (!t->last) {
		/* the first write after start: nothing was waited for yet */
		t->last = t->since = now;
		return;
	}
	t->sum[step] += now - t->last;
	t->last = now;
	if (step != WT_DONE)
		return;
	t->batches++;
	t->writes += writes;
	if (now - t->since >= REPORT_EVERY_NS)
		report(s, t, now);
}

void write_trace_close(aw_store *s)
{
	if (!s->trace)
		return;
	report(s, s->trace, aw_time_monotonic());
	free(s->trace);
	s->trace = NULL;
}
