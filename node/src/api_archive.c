/*
 * GET /api/0/archive and POST /api/0/archive: what the encrypted archive holds, and
 * an archiving run on demand (docs/archive.md). Restoring needs the archive's secret,
 * which the node never holds: `awnode archive restore` decrypts and imports.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "archive_service.h"

static void read_list(request *rq, aw_reader *r)
{
	char *body = archive_service_list(rq->n->archive, r);

	if (!body) {
		respond_catcher(rq, 500, "%s", aw_error_last());
		return;
	}
	respond(rq, 200, "application/json", body, strlen(body));
	free(body);
}

void api_archive_list(request *rq)
{
	submit_read(rq, read_list);
}

void api_archive_run(request *rq)
{
	archive_service_request(rq->n->archive, rq);
}
