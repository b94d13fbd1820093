/* Request bodies as JSON, and the statuses of their errors (see body.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aw/error.h"
#include "aw/json.h"
#include "body.h"
#include "aw/json_scan.h"

bool ctype_is_json(const char *ctype)
{
	size_t n;

	if (!ctype)
		return false;
	while (*ctype == ' ')
		ctype++;
	n = strcspn(ctype, "; \t");
	return n == 16 && !strncasecmp(ctype, "application/json", 16);
}

json_t *body_json(request *rq)
{
	json_t *v;

	if (!rq->body.len) {
		respond_catcher(rq, 400, "the request body is empty; expected JSON");
		return NULL;
	}
	v = aw_json_parse(rq->body.data, rq->body.len);
	if (!v)
		respond_catcher(rq, 400, "%s", aw_error_last());
	return v;
}

bool body_validate(request *rq)
{
	aw_jscan s;

	if (!rq->body.len) {
		respond_catcher(rq, 400, "the request body is empty; expected JSON");
		return false;
	}
	aw_jscan_init(&s, rq->body.data, rq->body.len);
	if (aw_jscan_document(&s)) {
		respond_catcher(rq, 400, "%s", s.err);
		return false;
	}
	return true;
}

int model_status(int code)
{
	return code == AW_ESHAPE ? 422 : 400;
}
