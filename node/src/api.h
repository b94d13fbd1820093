/* Route handlers (api_*.c), each named for the route it answers. */
#ifndef AW_NODE_API_H
#define AW_NODE_API_H

#include "http.h"

void api_info(request *rq);
void api_buckets_list(request *rq);
void api_devices(request *rq);
void api_settings_history(request *rq);
void api_bucket_get(request *rq);
void api_bucket_create(request *rq);
void api_bucket_delete(request *rq);
void api_events_get(request *rq);
void api_events_post(request *rq);
void api_events_count(request *rq);
void api_event_get(request *rq);
void api_event_delete(request *rq);
void api_heartbeat(request *rq);
void api_bucket_export(request *rq);
void api_export_all(request *rq);
void api_import(request *rq);
void api_query(request *rq);
void api_settings_all(request *rq);
void api_setting_get(request *rq);
void api_setting_set(request *rq);
void api_setting_delete(request *rq);
void api_privacy_redact(request *rq);
void api_log(request *rq);
void api_sync_status(request *rq);
void api_sync_now(request *rq);
void api_archive_list(request *rq);
void api_archive_run(request *rq);
void api_openapi(request *rq);
void api_watchers_list(request *rq);  /* api_watchers.c */
void api_watcher_pause(request *rq);
void api_watcher_resume(request *rq);

/* The path parameter of an event id; false (after answering 422) if not an integer. */
bool parse_event_id(request *rq, const char *s, int64_t *out);

#endif
