/*
 * Sync thread (see sync_service.h). Requests and the timer meet under one mutex: the
 * thread sleeps until the next timed round or a request, runs one round with its own
 * reader, and answers every request that was waiting with that round's report, so a
 * burst of "sync now" clicks costs one round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aw/mem.h"
#include "aw/sync.h"
#include "aw/log.h"
#include "sync_service.h"

#define FIRST_ROUND_DELAY 10

struct sync_service {
	node *n;
	aw_sync *y;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	request *waiting;      /* queued POST /api/0/sync/now, linked by ->next */
	unsigned waiting_mode;
	bool stopping;
};

static void answer(request *head, const aw_sync_report *rep)
{
	for (request *rq = head, *next; rq; rq = next) {
		char *body = aw_sync_report_json(rep);
		next = rq->next;
		respond(rq, rep->status == AW_ESHUTDOWN ? 503 : 200, "application/json", body, strlen(body));
		free(body);
		node_done(rq);
	}
}

static void round_once(sync_service *s, aw_reader *r, unsigned mode, request *requests)
{
	aw_sync_report rep;

	memset(&rep, 0, sizeof(rep));
	aw_sync_run_mode(s->y, r, mode, &rep);
	if (rep.status)
		aw_log_warn("sync round failed: %s", rep.error);
	else if (rep.pushed || rep.events_applied)
		aw_log_info("sync round: %lld events exported, %lld applied from %d devices (%d failed) in %.2f s",
			    (long long)rep.events_exported, (long long)rep.events_applied, rep.devices_seen,
			    rep.devices_failed, rep.seconds);
	aw_reader_trim_cache(r);
	answer(requests, &rep);
}

static void *sync_main(void *arg)
{
	sync_service *s = arg;
	aw_config *c = s->n->cfg;
	aw_reader *r = NULL;
	struct timespec next;

	if (aw_reader_open(&r, s->n->store)) {
		aw_log_error("sync: %s", aw_error_last());
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &next);
	next.tv_sec += FIRST_ROUND_DELAY;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		request *requests;
		unsigned mode;
		int rc = 0;

		while (!s->stopping && !s->waiting && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&s->cv, &s->mu, &next);
		if (s->stopping)
			break;
		requests = s->waiting;
		mode = s->waiting_mode ? s->waiting_mode : AW_SYNC_BOTH;
		s->waiting = NULL;
		s->waiting_mode = 0;
		pthread_mutex_unlock(&s->mu);
		if (requests || (c->sync_enabled && aw_sync_configured(s->y)))
			round_once(s, r, mode, requests);
		if (!requests) {
			clock_gettime(CLOCK_REALTIME, &next);
			next.tv_sec += c->sync_interval;
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	aw_reader_close(r);
	return NULL;
}

int sync_service_start(sync_service **out, node *n)
{
	sync_service *s = aw_mem_calloc(1, sizeof(*s));
	aw_sync_options o = {.device_id = n->cfg->device_id, .hostname = n->cfg->hostname,
			     .folder = n->cfg->sync_folder, .key_path = n->cfg->sync_key_file,
			     .ssh_key = n->cfg->sync_ssh_key, .testing = n->cfg->testing};
	int rc;

	s->n = n;
	if ((rc = aw_sync_open(&s->y, n->store, &o))) {
		free(s);
		return rc;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_create(&s->thread, NULL, sync_main, s);
	*out = s;
	return 0;
}

void sync_service_stop(sync_service *s)
{
	aw_sync_report rep;
	request *left;

	if (!s)
		return;
	aw_sync_cancel(s->y);
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	left = s->waiting;
	s->waiting = NULL;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	memset(&rep, 0, sizeof(rep));
	rep.status = AW_ESHUTDOWN;
	snprintf(rep.error, sizeof(rep.error), "the node is shutting down");
	answer(left, &rep);
	aw_sync_close(s->y);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

void sync_service_request(sync_service *s, request *rq, unsigned mode)
{
	rq->in_flight = true;
	pthread_mutex_lock(&s->mu);
	rq->next = s->waiting;
	s->waiting = rq;
	s->waiting_mode |= mode;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

char *sync_service_status(sync_service *s, aw_reader *r)
{
	return aw_sync_status_json(s->y, r);
}
