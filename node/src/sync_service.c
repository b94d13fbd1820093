/*
 * The sync rounds (see sync_service.h), run by a background service (service.h): one
 * round on the timer once sync is set up, and one round for all the requests waiting,
 * each answered with that round's report, so a burst of "sync now" clicks costs one
 * round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "aw/sync.h"
#include "aw/log.h"
#include "aw/time.h"
#include "service.h"
#include "sync_service.h"

#define FIRST_ROUND_DELAY 10
/* A failure that repeats (a remote on a disk that is not plugged in, a device revoked
 * from its group) is logged when it begins or changes, and then at most this often:
 * at one round every 5 minutes it would otherwise add 288 lines a day, for as long as
 * it lasts. */
#define REPEAT_LOG_S (6 * 3600)

struct sync_service {
	node *n;
	aw_sync *y;
	service *svc;
	/* touched by the service's thread only: it runs one round at a time */
	char failing[sizeof(((aw_sync_report *)0)->error)]; /* the failure being repeated, "" when none */
	long long failed_rounds;                              /* rounds failing with it */
	int64_t failing_logged_ms;                            /* monotonic time of its last line */
};

static void log_failure(sync_service *s, const char *error)
{
	int64_t now = aw_time_monotonic_ms();

	if (strcmp(s->failing, error)) {
		snprintf(s->failing, sizeof(s->failing), "%s", error);
		s->failed_rounds = 1;
		s->failing_logged_ms = now;
		aw_log_warn("sync round failed: %s", error);
		return;
	}
	s->failed_rounds++;
	if (now - s->failing_logged_ms < REPEAT_LOG_S * 1000LL)
		return;
	s->failing_logged_ms = now;
	aw_log_warn("sync round failed again (%lld rounds in a row): %s", s->failed_rounds, error);
}

static void log_recovery(sync_service *s)
{
	if (!s->failing[0])
		return;
	aw_log_info("sync round succeeded after %lld failed rounds", s->failed_rounds);
	s->failing[0] = '\0';
	s->failed_rounds = 0;
}

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
	if (rep.settings_applied || rep.settings_refused)
		aw_log_info("sync round: %d setting changes taken from other devices, %d refused", rep.settings_applied,
			    rep.settings_refused);
	if (rep.status) {
		if (rep.status != AW_ESHUTDOWN) /* stopping is no failure */
			log_failure(s, rep.error);
	} else {
		log_recovery(s);
		if (rep.pushed || rep.events_applied)
			aw_log_info("sync round: %lld events exported, %lld applied from %d devices (%d failed) in %.2f s",
				    (long long)rep.events_exported, (long long)rep.events_applied, rep.devices_seen,
				    rep.devices_failed, rep.seconds);
	}
	aw_reader_trim_cache(r);
	answer(requests, &rep);
}

/* One round for the waiting requests, or the timed one once sync is set up. */
static long sync_job_run(void *ud, aw_reader *r, request *requests, unsigned mode)
{
	sync_service *s = ud;
	aw_config *c = s->n->cfg;

	if (requests || (c->sync_enabled && aw_sync_configured(s->y)))
		round_once(s, r, mode ? mode : AW_SYNC_BOTH, requests);
	return c->sync_interval;
}

static void sync_job_refuse(void *ud, request *left)
{
	aw_sync_report rep;

	(void)ud;
	memset(&rep, 0, sizeof(rep));
	rep.status = AW_ESHUTDOWN;
	snprintf(rep.error, sizeof(rep.error), "the node is shutting down");
	answer(left, &rep);
}

static const service_job sync_job = {.name = "sync",
				     .first_delay = FIRST_ROUND_DELAY,
				     .one_at_a_time = false,
				     .run = sync_job_run,
				     .refuse = sync_job_refuse};

int sync_service_start(sync_service **out, node *n)
{
	sync_service *s = aw_mem_calloc(1, sizeof(*s));
	aw_sync_options o = {.device_id = n->cfg->device_id, .hostname = n->cfg->hostname,
			     .folder = n->cfg->sync_folder, .key_path = n->cfg->sync_key_file,
			     .ssh_key = n->cfg->sync_ssh_key, .testing = n->cfg->testing,
			     .compact_segments = n->cfg->sync_compact_segments};
	int rc;

	s->n = n;
	if ((rc = aw_sync_open(&s->y, n->store, &o))) {
		free(s);
		return rc;
	}
	service_start(&s->svc, n, &sync_job, s);
	*out = s;
	return 0;
}

void sync_service_stop(sync_service *s)
{
	if (!s)
		return;
	/* a round in progress stops at its next check instead of finishing */
	aw_sync_cancel(s->y);
	service_stop(s->svc);
	aw_sync_close(s->y);
	free(s);
}

void sync_service_request(sync_service *s, request *rq, unsigned mode)
{
	service_request(s->svc, rq, mode);
}

char *sync_service_status(sync_service *s, aw_reader *r)
{
	return aw_sync_status_json(s->y, r);
}
