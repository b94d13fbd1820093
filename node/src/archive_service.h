/*
 * The node's archive thread: archives on demand (POST /api/0/archive) and, when
 * [archive] older_than_days is set, once a day, never on the HTTP loop or the storage
 * writer. Requests are run one at a time, in arrival order.
 */
#ifndef AW_NODE_ARCHIVE_SERVICE_H
#define AW_NODE_ARCHIVE_SERVICE_H

#include "http.h"

typedef struct archive_service archive_service;

int archive_service_start(archive_service **out, node *n);
/* Answer queued requests with 503, join the thread, free. NULL is a no-op. */
void archive_service_stop(archive_service *s);
/* Queue rq (its body: {"before": time} or {"older_than_days": n}, optional
 * "buckets": [ids]); answered via node_done. */
void archive_service_request(archive_service *s, request *rq);
/* GET /api/0/archive body (any thread, with the caller's reader). Caller frees. */
char *archive_service_list(archive_service *s, aw_reader *r);

#endif
