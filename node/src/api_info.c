/* About the node itself: /api/0/info, /api/0/log, /api/0/openapi.json. Answered on the
 * HTTP thread (no storage I/O). */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/log.h"
#include "routes.h"

void api_info(request *rq)
{
	aw_config *c = rq->n->cfg;
	aw_buf b = AW_BUF_INIT;

	aw_buf_puts(&b, "{\"hostname\":");
	aw_buf_json_string(&b, c->hostname, strlen(c->hostname));
	aw_buf_puts(&b, ",\"version\":\"v" AWNODE_VERSION " (awnode)\",\"testing\":");
	aw_buf_puts(&b, c->testing ? "true" : "false");
	aw_buf_puts(&b, ",\"device_id\":");
	aw_buf_json_string(&b, c->device_id, strlen(c->device_id));
	aw_buf_putc(&b, '}');
	respond_json_buf(rq, 200, &b);
}

void api_log(request *rq)
{
	const char *l = rq_query(rq, "limit");
	long limit = l ? strtol(l, NULL, 10) : 100;
	aw_buf b = AW_BUF_INIT;

	if (limit <= 0 || limit > 1000)
		limit = limit <= 0 ? 100 : 1000;
	aw_log_recent(&b, (size_t)limit);
	respond_json_buf(rq, 200, &b);
}

void api_openapi(request *rq)
{
	aw_buf b = AW_BUF_INIT;

	openapi_document(&b, AWNODE_VERSION);
	respond_json_buf(rq, 200, &b);
}
