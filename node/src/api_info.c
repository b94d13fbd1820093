/* GET /api/0/info: who this node is. Answered on the HTTP thread (no I/O). */
#include <string.h>

#include "api.h"

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
