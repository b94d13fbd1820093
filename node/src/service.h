/*
 * A background service of the node (the sync and archive threads): a thread with its
 * own reader that sleeps until its timer fires or a request is queued, and runs one job
 * at a time, never on the HTTP loop or the storage writer. Requests and the timer meet
 * under one mutex.
 */
#ifndef AW_NODE_SERVICE_H
#define AW_NODE_SERVICE_H

#include "http.h"

typedef struct service service;

/* What a service runs. Both callbacks run on the service thread (refuse: on the thread
 * that stops the service) and must answer, through node_done, every request they get. */
typedef struct service_job {
	const char *name;   /* in log lines */
	int first_delay;    /* seconds from the start to the first timed run */
	/* true: each request gets its own run, oldest first (archive); false: one run answers
	 * every request waiting (sync: a burst of "sync now" costs one round) */
	bool one_at_a_time;
	/* Run for `requests` (linked by ->next; `mode` is the OR of their modes), or for the
	 * timer when requests is NULL. Returns the seconds from now to the next timed run,
	 * which counts only after a timed run (requests do not move the timer). */
	long (*run)(void *ud, aw_reader *r, request *requests, unsigned mode);
	/* Answer requests still queued when the node stops (503). */
	void (*refuse)(void *ud, request *requests);
} service_job;

/* Start the thread. `job` must outlive the service; `ud` is passed to its callbacks. */
int service_start(service **out, node *n, const service_job *job, void *ud);
/* Queue rq (mode is OR-ed into the next run's); answered via node_done. */
void service_request(service *s, request *rq, unsigned mode);
/* Stop the thread after the job in progress, refuse what is still queued, free. NULL is
 * a no-op. */
void service_stop(service *s);

#endif
