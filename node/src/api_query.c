/*
 * POST /api/0/query/: {"timeperiods": ["<start>/<end>", ...], "query": ["line", ...]}.
 * The request shape is checked here (422 like aw-server-rust; an out-of-range time is
 * 400); the program runs on the reader pool through the query module, whose AW_E*
 * codes become statuses here (query_status).
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "body.h"
#include "aw/mem.h"
#include "aw/query.h"

typedef struct query_state {
	char *program;
	size_t program_len;
	aw_ns *starts, *ends;
	size_t n;
} query_state;

static void free_query_state(void *p)
{
	query_state *s = p;

	free(s->program);
	free(s->starts);
	free(s->ends);
	free(s);
}

/* The query module's codes as HTTP statuses: 400 for anything wrong with the program
 * (parse, type, runtime errors, resource limits), 404 for an unknown bucket, 500 for a
 * storage failure. */
static int query_status(int code)
{
	switch (code) {
	case AW_EINVALID: return 400;
	case AW_ENOTFOUND: return 404;
	default: return 500;
	}
}

static void read_query(request *rq, aw_reader *r)
{
	query_state *s = rq->state;
	aw_query_error err;
	char *out = NULL;
	size_t len = 0;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = aw_query_run(&out, &len, &err, r, s->program, s->program_len, s->starts, s->ends, s->n);
	if (rc) {
		free(out);
		respond_message(rq, query_status(err.code), "%s", err.message);
		return;
	}
	aw_buf b = {out, len, len + 1};
	respond_json_buf(rq, 200, &b);
}

static int parse_period(query_state *s, size_t i, const json_t *p, char *err, size_t errlen)
{
	const char *str, *slash;
	size_t len;
	int rc;

	if (!json_is_string(p)) {
		snprintf(err, errlen, "timeperiods[%zu] must be a string \"<start>/<end>\"", i);
		return 422;
	}
	str = json_string_value(p);
	len = json_string_length(p);
	slash = memchr(str, '/', len);
	if (!slash || memchr(slash + 1, '/', len - (size_t)(slash + 1 - str))) {
		snprintf(err, errlen, "timeperiods[%zu] must be \"<start>/<end>\"", i);
		return 422;
	}
	rc = aw_time_parse(&s->starts[i], str, (size_t)(slash - str), AW_TIME_STRICT);
	if (!rc)
		rc = aw_time_parse(&s->ends[i], slash + 1, len - (size_t)(slash + 1 - str), AW_TIME_STRICT);
	if (rc) {
		snprintf(err, errlen, "timeperiods[%zu]: %s", i, aw_error_last());
		return rc == AW_ERANGE ? 400 : 422;
	}
	return 0;
}

static int parse_query_body(query_state *s, const json_t *v, char *err, size_t errlen)
{
	const json_t *periods = json_object_get(v, "timeperiods"), *lines = json_object_get(v, "query");
	aw_buf prog = AW_BUF_INIT;
	int rc;

	if (!json_is_object(v) || !json_is_array(periods) || !json_is_array(lines)) {
		snprintf(err, errlen, "a query request is {\"timeperiods\": [\"<start>/<end>\", ...], "
				      "\"query\": [\"<line>\", ...]}");
		return 422;
	}
	s->n = json_array_size(periods);
	s->starts = aw_mem_calloc(s->n + 1, sizeof(aw_ns));
	s->ends = aw_mem_calloc(s->n + 1, sizeof(aw_ns));
	for (size_t i = 0; i < s->n; i++)
		if ((rc = parse_period(s, i, json_array_get(periods, i), err, errlen)))
			return rc;
	for (size_t i = 0; i < json_array_size(lines); i++) {
		const json_t *l = json_array_get(lines, i);
		if (!json_is_string(l)) {
			aw_buf_free(&prog);
			snprintf(err, errlen, "query[%zu] must be a string", i);
			return 422;
		}
		if (i)
			aw_buf_putc(&prog, '\n');
		aw_buf_append(&prog, json_string_value(l), json_string_length(l));
	}
	s->program = aw_buf_steal(&prog, &s->program_len);
	return 0;
}

void api_query(request *rq)
{
	query_state *s;
	char err[512];
	json_t *v = body_json(rq);
	int rc;

	if (!v)
		return;
	s = aw_mem_calloc(1, sizeof(*s));
	rq->state = s;
	rq->state_free = free_query_state;
	rc = parse_query_body(s, v, err, sizeof(err));
	json_decref(v);
	if (rc) {
		respond_catcher(rq, rc, "%s", err);
		return;
	}
	submit_read(rq, read_query);
}
