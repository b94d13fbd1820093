/*
 * GET /api/0/sync/status and POST /api/0/sync/now: what sync knows, and a round on
 * demand (body optional: {"mode": "push"|"pull"|"both"}). See docs/sync.md.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "aw/sync.h"
#include "sync_service.h"

static void read_status(request *rq, aw_reader *r)
{
	char *body = sync_service_status(rq->n->sync, r);

	respond(rq, 200, "application/json", body, strlen(body));
	free(body);
}

void api_sync_status(request *rq)
{
	submit_read(rq, read_status);
}

void api_sync_now(request *rq)
{
	unsigned mode = AW_SYNC_BOTH;

	if (rq->body.len) {
		json_t *v = aw_json_parse(rq->body.data, rq->body.len), *m;
		const char *s;
		if (!v) {
			respond_catcher(rq, 400, "%s", aw_error_last());
			return;
		}
		m = json_object_get(v, "mode");
		s = json_string_value(m);
		if (m && (!s || (strcmp(s, "push") && strcmp(s, "pull") && strcmp(s, "both") && strcmp(s, "compact")))) {
			json_decref(v);
			respond_catcher(rq, 422, "mode must be \"push\", \"pull\", \"both\" or \"compact\"");
			return;
		}
		if (s)
			mode = !strcmp(s, "push")      ? AW_SYNC_PUSH
			       : !strcmp(s, "pull")    ? AW_SYNC_PULL
			       : !strcmp(s, "compact") ? AW_SYNC_BOTH | AW_SYNC_COMPACT
						       : AW_SYNC_BOTH;
		json_decref(v);
	}
	sync_service_request(rq->n->sync, rq, mode);
}
