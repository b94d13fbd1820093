/*
 * The reader pool: a few threads, each with its own read-only SQLite connection, that
 * run the read side of requests (event lists, counts, exports, settings) so the HTTP
 * loop never waits on SQLite. Jobs are served in arrival order.
 *
 * A job goes to the worker that became idle last. Each worker keeps caches that its
 * jobs fill: its connection's page cache, its reader's data texts, its arena's pages.
 * The web UI asks for the same days again and again (every view of today, a refresh, the
 * next chart of the same range), one request after another; handed round the pool in
 * turn, as a condition variable's waiters are woken, each of those requests found a
 * worker that had not read that range yet, and the first views after a start paid the
 * cold reads once per worker (a day's summary query: 2.8 ms on the second request
 * against 1.4 ms on a warm worker). Idle workers therefore wait on a stack, each on its
 * own condition variable; jobs that find none idle wait in one queue, which a worker
 * drains before it goes back on the stack.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "aw/fifo.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "aw/time.h"
#include "http.h"

typedef struct worker {
	struct workers *pool;
	pthread_cond_t cv;     /* on CLOCK_MONOTONIC */
	request *job;          /* handed over while the worker waited on the idle stack */
	struct worker *idle_next;
	pthread_t thread;
	/* memory to give back once idle for RELEASE_AFTER_MS (release_memory) */
	bool release_due, release_heavy;
} worker;

struct workers {
	node *n;
	pthread_mutex_t mu;
	request *head, *tail;  /* jobs that found no idle worker */
	worker *idle;          /* the idle stack: the worker that became idle last on top */
	bool stopping;
	int count;
	worker *all;
};

/*
 * Memory between jobs. Each worker thread allocates from its own glibc arena, and an
 * arena keeps the pages of what a job freed (queries take even their large arrays from
 * it, docs/query.md): after a year's query on one worker and the next on another, both
 * would hold a query's peak (~40 MB each) for good, and the node's footprint would be
 * the sum of every worker's largest job. So a job that ran HEAVY_JOB_MS or more, or that
 * left more than LIGHT_JOB_FREE free in the arenas, gives the free pages of every arena
 * back (malloc_trim, a few milliseconds after a year's query). It drops its reader's
 * data cache first: a year's query leaves ~5 MB of data texts there, a copy on each
 * worker, and refilling it is one range scan (no measurable change in a looping year
 * query). Short jobs keep the cache warm (it is only bounded at 32 MiB for them).
 * malloc_trim returns the free chunks of every arena, but not the free space at the
 * top of a thread's arena: that goes back only beyond the query's trim threshold (16
 * MiB, query/src/interp.c), so a worker may keep up to that much after a job (2 to 5
 * MB after a year's summary query).
 *
 * The worker does this back on the idle stack, and only once it has been idle for
 * RELEASE_AFTER_MS, unless the node's resident memory is above RSS_KEEP_MAX (as after
 * a year's summary query): then at once, so what jobs leave held stays bounded. Done
 * after every job before the worker was idle again, it sent the next request, which
 * the web UI sends right after (the next view, the next chart, the same range
 * refreshed), to another worker, whose caches had not read that range; and memory given
 * back at once was faulted in again by the next query. An idle node still holds
 * nothing a second after its last request.
 */
#define HEAVY_JOB_MS 20
#define LIGHT_JOB_FREE (4u << 20)
#define RELEASE_AFTER_MS 1000
#define RSS_KEEP_MAX (32ul << 20)

static long elapsed_ms(struct timespec t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

/* Under AddressSanitizer the heap is the sanitizer's, and glibc's arenas hold nothing
 * of ours. glibc then sets its allocator up lazily, on the first mallinfo2 or
 * malloc_trim, without a lock against another thread doing the same: two workers
 * finishing together crashed there. So sanitized builds leave glibc's heap alone. */
#if defined(__SANITIZE_ADDRESS__)
#define GLIBC_HEAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GLIBC_HEAP 0
#endif
#endif
#ifndef GLIBC_HEAP
#define GLIBC_HEAP 1
#endif

static void release_memory(aw_reader *r, bool heavy)
{
	if (heavy) {
		if (r)
			aw_reader_trim_cache(r);
		if (GLIBC_HEAP)
			malloc_trim(0);
		return;
	}
	if (r)
		aw_reader_trim_cache_if_large(r);
	if (GLIBC_HEAP && mallinfo2().fordblks > LIGHT_JOB_FREE)
		malloc_trim(0);
}

/*
 * Queries and exports yield to the threads that take writes. On a machine whose cores
 * are all busy (a year's summary query in a loop beside a stream of heartbeats, on two
 * cores) the scheduler gives every runnable thread an equal share, and a heartbeat
 * waits whole time slices behind a query. A worker runs at nice WORKER_NICE (weight
 * 335 against 1024 for the HTTP and writer threads), so a query takes longer only
 * while the cores are contended, and still gets a quarter of a core against a busy
 * thread at nice 0. Linux lets a thread lower its own priority; where it cannot, the
 * worker runs as it is.
 */
#define WORKER_NICE 5

static void worker_yield_to_writes(void)
{
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
}

/* Is the node's resident memory above RSS_KEEP_MAX (or unknown)? */
static bool holds_much(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size, resident = 0;
	bool ok;

	if (!f)
		return true;
	ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
	fclose(f);
	return !ok || resident * (unsigned long)sysconf(_SC_PAGESIZE) > RSS_KEEP_MAX;
}

/* While waiting on the idle stack: give the memory back at once when much is free,
 * else once no job came for RELEASE_AFTER_MS. The worker stays on the stack while it
 * does (with the lock released), so a job handed over meanwhile waits for that to end,
 * and still finds this worker's caches. */
static void wait_for_job(workers *w, worker *me, aw_reader *r)
{
	struct timespec until = aw_time_monotonic_after((aw_ns)RELEASE_AFTER_MS * 1000000);
	bool now = false;

	if (me->release_due) {
		pthread_mutex_unlock(&w->mu);
		now = holds_much();
		pthread_mutex_lock(&w->mu);
	}
	while (!me->job && !w->stopping) {
		if (!me->release_due) {
			pthread_cond_wait(&me->cv, &w->mu);
			continue;
		}
		if (!now && pthread_cond_timedwait(&me->cv, &w->mu, &until) != ETIMEDOUT)
			continue;
		me->release_due = now = false;
		pthread_mutex_unlock(&w->mu);
		release_memory(r, me->release_heavy);
		pthread_mutex_lock(&w->mu);
		me->release_heavy = false;
	}
}

/* The next job of worker `me`, waiting on the idle stack when the queue is empty; NULL
 * once the pool stops. Called with the pool's lock held. */
static request *next_job(workers *w, worker *me, aw_reader *r)
{
	request *rq = w->head;

	if (rq) {
		w->head = rq->next;
		if (!w->head)
			w->tail = NULL;
		return rq;
	}
	if (w->stopping)
		return NULL;
	me->idle_next = w->idle;
	w->idle = me;
	wait_for_job(w, me, r);
	rq = me->job;
	me->job = NULL;
	/* a job was handed over only after this worker left the stack; when the pool stops
	 * the stack is dropped whole */
	return rq;
}

static void *worker_main(void *arg)
{
	worker *me = arg;
	workers *w = me->pool;
	aw_reader *r = NULL;
	request *rq;
	struct timespec t0;
	bool heavy;

	worker_yield_to_writes();
	if (aw_reader_open(&r, w->n->store))
		aw_log_error("reader: %s", aw_error_last());
	for (;;) {
		pthread_mutex_lock(&w->mu);
		rq = next_job(w, me, r);
		pthread_mutex_unlock(&w->mu);
		if (!rq)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (r)
			rq->read_fn(rq, r);
		else
			respond_message(rq, 500, "database is not readable");
		heavy = elapsed_ms(t0) >= HEAVY_JOB_MS;
		node_done(rq);
		/* read by the same thread only: the pool's lock is not needed */
		me->release_due = true;
		me->release_heavy |= heavy;
	}
	aw_reader_close(r);
	return NULL;
}

int workers_start(workers **out, node *n, int count)
{
	workers *w = aw_mem_calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	w->n = n;
	w->count = count;
	pthread_mutex_init(&w->mu, NULL);
	w->all = aw_mem_calloc((size_t)count, sizeof(worker));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (int i = 0; i < count; i++) {
		w->all[i].pool = w;
		pthread_cond_init(&w->all[i].cv, &ca);
		pthread_create(&w->all[i].thread, NULL, worker_main, &w->all[i]);
	}
	pthread_condattr_destroy(&ca);
	*out = w;
	return 0;
}

void workers_submit(workers *w, request *rq)
{
	worker *k;

	pthread_mutex_lock(&w->mu);
	k = w->idle;
	if (k) {
		w->idle = k->idle_next;
		k->job = rq;
		pthread_cond_signal(&k->cv);
	} else {
		AW_FIFO_PUSH(w->head, w->tail, rq);
	}
	pthread_mutex_unlock(&w->mu);
}

void workers_stop(workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	w->idle = NULL;
	for (int i = 0; i < w->count; i++)
		pthread_cond_signal(&w->all[i].cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->count; i++) {
		pthread_join(w->all[i].thread, NULL);
		pthread_cond_destroy(&w->all[i].cv);
	}
	free(w->all);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
