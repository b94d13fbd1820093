/*
 * How the writer batches a stream of writes from several clients: by gathering or by
 * flowing, whichever carries more writes a second on this machine at this moment.
 *
 * - Gathering: before taking a batch, the writer lingers until every client's write
 *   waits (writer.c, linger). One commit, with its sync and its page writes, serves a
 *   round of all clients: the least CPU per write. But the writer is idle while the HTTP
 *   loop answers the last batch and reads the next, and the loop is idle while the
 *   writer commits: the two take turns.
 * - Flowing: the writer takes whatever waits. The writes that arrive during a commit
 *   form the next batch, so the loop answers and reads one group of clients while the
 *   writer commits another: more commits, each with fewer writes, but the two threads
 *   work at once.
 *
 * Which is faster depends on whether a core is free for the overlap. With 32 clients
 * on two cores shared with the load generator, flowing carried about 49,500 heartbeats
 * a second against 39,000 for gathering; with one of the cores kept busy by another
 * process, gathering carried 39,000 against 32,000 (docs/storage.md, "Gathering or
 * flowing"). A fixed choice loses a fifth either way, so the writer measures: it counts
 * writes over epochs of EPOCH_NS of contended work, and every PROBE_EVERY epochs tries
 * the other way for one epoch, keeping it when it carried more than MARGIN better.
 * After a probe that lost by more than twice that, the next comes twice as late, up to
 * PROBE_EVERY_MAX epochs: a machine that changes is followed within about 4 s.
 *
 * Only contended epochs count: an epoch whose batches held fewer than two writes on
 * average (a lone client), or one stretched past twice its length by idle time, says
 * nothing about the two ways (the rate is then the clients', not the writer's), so it
 * is dropped, and a probe in it is undone. A lone client so never probes: its batches
 * hold one write and the writer never lingers for them anyway. Single batches of one
 * write do happen under load (a client answered first sends its next write alone) and
 * must not end an epoch.
 *
 * The policy is the writer thread's own (no locking) and reads the clock once per
 * batch (a batch takes hundreds of microseconds; a clock read, tens of nanoseconds).
 */
#include <string.h>

#include "internal.h"

#define EPOCH_NS ((aw_ns)100 * 1000000)
#define PROBE_EVERY 20
#define PROBE_EVERY_MAX 40
#define MARGIN 0.03

void batch_policy_init(batch_policy *p)
{
	memset(p, 0, sizeof(*p));
	/* Flowing first: its latency is the lower one. The first probe comes after two
	 * epochs, so a machine where gathering is better finds out within a third of a
	 * second of load. */
	p->gather = false;
	p->probe_every = PROBE_EVERY;
	p->settled = PROBE_EVERY - 2;
}

static void epoch_drop(batch_policy *p)
{
	if (p->probing) {
		p->probing = false;
		p->gather = !p->gather;
	}
	p->epoch_start = 0;
}

static void epoch_close(batch_policy *p, double rate)
{
	if (!p->probing) {
		/* a running mean, so that one noisy epoch does not decide a probe alone */
		p->rate = p->rate > 0 ? (p->rate + rate) / 2 : rate;
		if (++p->settled >= p->probe_every) {
			p->settled = 0;
			p->probing = true;
			p->gather = !p->gather;
		}
		return;
	}
	p->probing = false;
	if (rate > p->rate * (1 + MARGIN)) {
		p->rate = rate;
		p->switches++;
		p->probe_every = PROBE_EVERY;
	} else {
		p->gather = !p->gather;
		/* A probe that lost clearly is repeated half as often (down to one in
		 * PROBE_EVERY_MAX epochs): on a steady machine the probes are the policy's
		 * only cost. A close call keeps the pace. */
		if (rate < p->rate * (1 - 2 * MARGIN))
			p->probe_every = p->probe_every * 2 > PROBE_EVERY_MAX ? PROBE_EVERY_MAX : p->probe_every * 2;
		else
			p->probe_every = PROBE_EVERY;
	}
}

void batch_policy_taken(batch_policy *p, aw_ns now, int n)
{
	aw_ns len;

	if (p->gather) {
		p->gathered++;
		p->gathered_writes += n;
	} else {
		p->flowed++;
		p->flowed_writes += n;
	}
	if (!p->epoch_start) {
		/* this batch's writes were gathered before the epoch began: not counted */
		p->epoch_start = now;
		p->epoch_writes = p->epoch_batches = 0;
		return;
	}
	p->epoch_writes += n;
	p->epoch_batches++;
	len = now - p->epoch_start;
	if (len < EPOCH_NS)
		return;
	if (len > 2 * EPOCH_NS || p->epoch_writes < 2 * p->epoch_batches) {
		epoch_drop(p);
		return;
	}
	epoch_close(p, (double)p->epoch_writes * 1e9 / (double)len);
	p->epoch_start = now;
	p->epoch_writes = p->epoch_batches = 0;
}
