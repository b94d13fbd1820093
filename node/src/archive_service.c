/*
 * The archive runs (see archive_service.h), run by a background service (service.h)
 * one request at a time. A request's body is parsed on the service thread, so a
 * malformed one is answered from there too. Every run opens the archive afresh: its
 * directory depends on whether sync has been set up meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive_service.h"
#include "aw/archive.h"
#include "aw/json.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "service.h"

#define FIRST_RUN_DELAY 10
#define DAY 86400
#define MAX_NAMES 64

struct archive_service {
	node *n;
	service *svc;
};

static int open_archive(aw_archive **a, const aw_config *c)
{
	aw_archive_options o = {.device_id = c->device_id, .hostname = c->hostname, .sync_folder = c->sync_folder,
				.sync_key = c->sync_key_file, .testing = c->testing};

	return aw_archive_open(a, &o);
}

static int run(archive_service *s, aw_reader *r, aw_ns before, const char *const *names, size_t n,
	       aw_archive_report *rep)
{
	aw_archive *a;
	int rc = open_archive(&a, s->n->cfg);

	memset(rep, 0, sizeof(*rep));
	if (rc) {
		rep->status = rc;
		snprintf(rep->error, sizeof(rep->error), "%s", aw_error_last());
		return rc;
	}
	rc = aw_archive_run(a, s->n->store, r, before, names, n, NULL, NULL, rep);
	aw_archive_close(a);
	aw_reader_trim_cache(r);
	if (rc)
		aw_log_warn("archive: %s", rep->error);
	else if (rep->events)
		aw_log_info("archive: %lld events of %lld buckets moved into %lld segment(s) from %s on (%lld bytes, "
			    "%.2f s)",
			    (long long)rep->events, (long long)rep->buckets, (long long)rep->segments, rep->file,
			    (long long)rep->bytes, rep->seconds);
	return rc;
}

/* Parse the body into a cut-off and bucket names (borrowed from *doc). */
static int parse_body(request *rq, json_t **doc, aw_ns *before, const char **names, size_t *n)
{
	json_t *b, *d, *bk, *v;
	size_t i;

	*doc = NULL;
	*n = 0;
	if (!rq->body.len)
		return aw_error_set(AW_EINVALID, "give \"before\" (a time) or \"older_than_days\" (a number)");
	if (!(*doc = aw_json_parse(rq->body.data, rq->body.len)))
		return AW_EINVALID;
	if (!json_is_object(*doc))
		return aw_error_set(AW_EINVALID, "the body must be a JSON object");
	b = json_object_get(*doc, "before");
	d = json_object_get(*doc, "older_than_days");
	if (!b == !d)
		return aw_error_set(AW_EINVALID, "give either \"before\" (a time) or \"older_than_days\" (a number)");
	if (b && (!json_is_string(b) ||
		  aw_time_parse(before, json_string_value(b), json_string_length(b), AW_TIME_RELAXED)))
		return aw_error_set(AW_EINVALID, "\"before\" must be an ISO 8601 time");
	if (d) {
		if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > 100000)
			return aw_error_set(AW_EINVALID, "\"older_than_days\" must be an integer from 0 to 100000");
		*before = aw_time_now() - (aw_ns)json_integer_value(d) * DAY * AW_NS_PER_SEC;
	}
	bk = json_object_get(*doc, "buckets");
	if (bk && !json_is_array(bk))
		return aw_error_set(AW_EINVALID, "\"buckets\" must be a list of bucket ids");
	json_array_foreach (bk, i, v) {
		if (!json_is_string(v) || *n == MAX_NAMES)
			return aw_error_set(AW_EINVALID, "\"buckets\" must be a list of at most %d bucket ids", MAX_NAMES);
		names[(*n)++] = json_string_value(v);
	}
	return 0;
}

static void answer_one(archive_service *s, aw_reader *r, request *rq)
{
	const char *names[MAX_NAMES];
	aw_archive_report rep;
	json_t *doc;
	aw_ns before = 0;
	size_t n;
	char *body;

	if (parse_body(rq, &doc, &before, names, &n)) {
		respond_catcher(rq, 400, "%s", aw_error_last());
	} else if (run(s, r, before, names, n, &rep) && rep.status != AW_ERROR && !rep.segments) {
		/* refused before anything was written: a plain error */
		respond_catcher(rq, http_status_of(rep.status), "%s", rep.error);
	} else {
		/* the report, also when the run failed after writing (its "error" says what
		 * is left undone, e.g. a WAL that could not be truncated) */
		body = aw_archive_report_json(&rep);
		respond(rq, rep.status ? 500 : 200, "application/json", body, strlen(body));
		free(body);
	}
	json_decref(doc);
	node_done(rq);
}

/* A request's run, or the daily one: without a key the run fails at once and run()
 * logs why ("run 'awnode archive init'"). */
static long archive_job_run(void *ud, aw_reader *r, request *rq, unsigned mode)
{
	archive_service *s = ud;
	int days = s->n->cfg->archive_older_than_days;
	aw_archive_report rep;

	(void)mode;
	if (rq)
		answer_one(s, r, rq);
	else if (days > 0)
		run(s, r, aw_time_now() - (aw_ns)days * DAY * AW_NS_PER_SEC, NULL, 0, &rep);
	return DAY;
}

static void archive_job_refuse(void *ud, request *left)
{
	(void)ud;
	for (request *rq = left, *next; rq; rq = next) {
		next = rq->next;
		respond_catcher(rq, 503, "the node is shutting down");
		node_done(rq);
	}
}

static const service_job archive_job = {.name = "archive",
					.first_delay = FIRST_RUN_DELAY,
					.one_at_a_time = true,
					.run = archive_job_run,
					.refuse = archive_job_refuse};

int archive_service_start(archive_service **out, node *n)
{
	archive_service *s = aw_mem_calloc(1, sizeof(*s));

	s->n = n;
	service_start(&s->svc, n, &archive_job, s);
	*out = s;
	return 0;
}

void archive_service_stop(archive_service *s)
{
	if (!s)
		return;
	service_stop(s->svc);
	free(s);
}

void archive_service_request(archive_service *s, request *rq)
{
	service_request(s->svc, rq, 0);
}

char *archive_service_list(archive_service *s, aw_reader *r)
{
	aw_archive *a;
	char *js;

	if (open_archive(&a, s->n->cfg))
		return NULL;
	js = aw_archive_list_json(a, r);
	aw_archive_close(a);
	return js;
}
