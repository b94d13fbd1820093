/*
 * The node's background service thread (see service.h). The timer is a wall-clock
 * deadline because pthread_cond_timedwait takes one; a wall clock set back only delays a
 * timed run, and a request always wakes the thread at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "aw/error.h"
#include "aw/fifo.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "service.h"

struct service {
	node *n;
	const service_job *job;
	void *ud;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	request *head, *tail; /* queued requests, oldest first */
	unsigned mode;        /* OR of the queued requests' modes */
	bool stopping;
};

static void deadline_in(struct timespec *t, long seconds)
{
	clock_gettime(CLOCK_REALTIME, t);
	t->tv_sec += seconds;
}

/* The requests for the next run (called with mu held): the oldest one or all of them. */
static request *take(service *s, unsigned *mode)
{
	request *rq = s->head;

	*mode = s->mode;
	if (rq && s->job->one_at_a_time) {
		if (!(s->head = rq->next))
			s->tail = NULL;
		rq->next = NULL;
	} else {
		s->head = s->tail = NULL;
	}
	if (!s->head)
		s->mode = 0;
	return rq;
}

static void *service_main(void *arg)
{
	service *s = arg;
	aw_reader *r = NULL;
	struct timespec next;

	if (aw_reader_open(&r, s->n->store)) {
		aw_log_error("%s: %s", s->job->name, aw_error_last());
		return NULL;
	}
	deadline_in(&next, s->job->first_delay);
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		request *requests;
		unsigned mode;
		long again;
		int rc = 0;

		while (!s->stopping && !s->head && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
		if (s->stopping)
			break;
		requests = take(s, &mode);
		pthread_mutex_unlock(&s->mu);
		again = s->job->run(s->ud, r, requests, mode);
		if (!requests)
			deadline_in(&next, again);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	aw_reader_close(r);
	return NULL;
}

int service_start(service **out, node *n, const service_job *job, void *ud)
{
	service *s = aw_mem_calloc(1, sizeof(*s));

	s->n = n;
	s->job = job;
	s->ud = ud;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_create(&s->thread, NULL, service_main, s);
	*out = s;
	return 0;
}

void service_request(service *s, request *rq, unsigned mode)
{
	rq->in_flight = true;
	pthread_mutex_lock(&s->mu);
	AW_FIFO_PUSH(s->head, s->tail, rq);
	s->mode |= mode;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void service_stop(service *s)
{
	request *left;

	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	left = s->head;
	s->head = s->tail = NULL;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (left)
		s->job->refuse(s->ud, left);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
