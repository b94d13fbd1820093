/*
 * The node's sync thread: runs a sync round (sync/) on a timer once sync is set up, and
 * on demand for POST /api/0/sync/now, never on the HTTP loop or the storage writer.
 */
#ifndef AW_NODE_SYNC_SERVICE_H
#define AW_NODE_SYNC_SERVICE_H

#include "http.h"

typedef struct sync_service sync_service;

int sync_service_start(sync_service **out, node *n);
/* Cancel a round in progress, answer queued requests, join the thread, close. */
void sync_service_stop(sync_service *s);
/* Queue rq for the next round (mode AW_SYNC_PUSH/PULL/BOTH); answered via node_done. */
void sync_service_request(sync_service *s, request *rq, unsigned mode);
/* GET /api/0/sync/status body (any thread). Caller frees. */
char *sync_service_status(sync_service *s, aw_reader *r);

#endif
