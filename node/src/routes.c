/*
 * Every route awnode serves, with the documentation /api/0/openapi.json is built from.
 * Order matters where paths overlap: a literal segment must come before a parameter in
 * the same position (…/events/count before …/events/{event_id}), as Rocket ranks them.
 */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "routes.h"

#define BUCKET_404 "404:no such bucket"

const route routes[] = {
	{M_GET, "/api/0/info", 0, api_info, "Who this node is: hostname, version, testing mode, device id",
	 NULL, NULL, "200:{hostname, version, testing, device_id}"},
	{M_GET, "/api/0/log", 0, api_log, "Recent log lines of this node (never secrets)",
	 "limit:integer:how many of the newest lines (default 100, at most 1000)", NULL,
	 "200:[{time, level, message}], oldest first"},
	{M_GET, "/api/0/openapi.json", 0, api_openapi, "This document", NULL, NULL, "200:OpenAPI 3.0 document"},
	{M_GET, "/api/0/devices", 0, api_devices,
	 "Every device with buckets here, by device id: this device first, the names each used, its buckets",
	 NULL, NULL, "200:{this_device, devices: [{device_id, this_device, hostname, hostnames, buckets, last_seen}]}"},
	{M_GET, "/api/0/buckets", 0, api_buckets_list, "All buckets, keyed by id", NULL, NULL, "200:{id: bucket}"},
	{M_GET, "/api/0/buckets/{bucket_id}", 0, api_bucket_get, "One bucket", NULL, NULL, "200:bucket;" BUCKET_404},
	{M_POST, "/api/0/buckets/{bucket_id}", R_JSON, api_bucket_create,
	 "Create a bucket (hostname \"!local\" means this node)", NULL,
	 "{type, client, hostname, data?, created?, events?}",
	 "200:created;304:already exists;400:malformed JSON;422:missing or mistyped fields"},
	{M_DELETE, "/api/0/buckets/{bucket_id}", 0, api_bucket_delete, "Delete a bucket and its events",
	 "force:string:accepted and ignored (aw-server-python compatibility)", NULL,
	 "200:deleted;403:remote (synced) bucket;" BUCKET_404},
	{M_GET, "/api/0/buckets/{bucket_id}/events", 0, api_events_get,
	 "Events overlapping [start, end], newest first, clipped to the window",
	 "start:string:RFC 3339 start (inclusive);end:string:RFC 3339 end (inclusive);limit:integer:at most this many",
	 NULL, "200:[event];400:bad start or end;" BUCKET_404},
	{M_POST, "/api/0/buckets/{bucket_id}/events", R_JSON, api_events_post,
	 "Insert events (an event with an id replaces that event)", NULL, "[event] or a single event",
	 "200:the inserted events with their ids;400:malformed JSON;403:remote bucket;422:bad event;" BUCKET_404},
	{M_GET, "/api/0/buckets/{bucket_id}/events/count", 0, api_events_count, "Number of events",
	 "start:string:RFC 3339 start (optional);end:string:RFC 3339 end (optional)", NULL,
	 "200:integer;" BUCKET_404},
	{M_GET, "/api/0/buckets/{bucket_id}/events/{event_id}", 0, api_event_get, "One event", NULL, NULL,
	 "200:event;404:no such bucket or event;422:event id not an integer"},
	{M_DELETE, "/api/0/buckets/{bucket_id}/events/{event_id}", 0, api_event_delete,
	 "Delete an event (a missing event is not an error)", NULL, NULL,
	 "200:deleted;403:remote bucket;422:event id not an integer;" BUCKET_404},
	{M_POST, "/api/0/buckets/{bucket_id}/heartbeat", R_JSON, api_heartbeat,
	 "Merge a heartbeat into the last event or insert it",
	 "pulsetime:number:seconds within which equal data merges (required)", "event",
	 "200:the merged or inserted event;403:remote bucket;422:missing pulsetime or bad event;" BUCKET_404},
	{M_GET, "/api/0/buckets/{bucket_id}/export", 0, api_bucket_export, "Export one bucket with its events",
	 NULL, NULL, "200:{buckets: {id: bucket with events}};" BUCKET_404},
	{M_GET, "/api/0/export", 0, api_export_all, "Export every bucket with its events", NULL, NULL,
	 "200:{buckets: {id: bucket with events}}"},
	{M_POST, "/api/0/import", R_JSON | R_FORM, api_import,
	 "Import an export document (JSON body, or multipart part buckets.json); merges without duplicates",
	 NULL, "{buckets: {id: bucket with events}}",
	 "200:imported;400:malformed document;403:remote bucket;422:wrong shape"},
	{M_POST, "/api/0/query", R_JSON, api_query, "Run a query once per time period", NULL,
	 "{timeperiods: [\"start/end\"], query: [\"line;\"]}",
	 "200:[result per period];400:query error with position;404:unknown bucket;422:wrong request shape"},
	{M_GET, "/api/0/settings", 0, api_settings_all, "All settings", NULL, NULL, "200:{key: value}"},
	{M_GET, "/api/0/settings-history", 0, api_settings_history,
	 "Where and when each setting was last changed (which device), and the values it replaced", NULL, NULL,
	 "200:{device_id, settings: {key: {changed_at, device_id, hostname, deleted, local, history}}}"},
	{M_GET, "/api/0/settings/{key}", 0, api_setting_get, "One setting (null when unset)", NULL, NULL,
	 "200:value or null;400:key of 128 bytes or more"},
	{M_POST, "/api/0/settings/{key}", R_JSON, api_setting_set, "Set a setting to any JSON value", NULL,
	 "any JSON value", "201:stored;400:malformed JSON, too long key, or invalid privacy_filters"},
	{M_DELETE, "/api/0/settings/{key}", 0, api_setting_delete, "Delete a setting", NULL, NULL,
	 "200:deleted;400:too long key"},
	{M_GET, "/api/0/sync/status", 0, api_sync_status,
	 "Sync: this device, remotes, last push and pull, every known device and its errors", NULL, NULL,
	 "200:status object (docs/sync.md)"},
	{M_POST, "/api/0/sync/now", 0, api_sync_now, "Run a sync round now and wait for it", NULL,
	 "optional {mode: push|pull|both}", "200:round report (errors inside);400:malformed JSON;422:bad mode"},
	{M_GET, "/api/0/archive", 0, api_archive_list,
	 "What the encrypted archive of old events holds: segments, and per bucket the events and range", NULL, NULL,
	 "200:{dir, key_source, segments, buckets, unindexed_files} (docs/archive.md)"},
	{M_POST, "/api/0/archive", R_JSON, api_archive_run,
	 "Move this device's events that ended before a cut-off into a new encrypted archive segment", NULL,
	 "{before: time} or {older_than_days: n}, optional buckets: [id]",
	 "200:{file, events, deleted, buckets, bytes, seconds, before, error};400:bad body or no archive key;"
	 "403:remote bucket;404:no such bucket"},
	{M_GET, "/api/0/watchers", 0, api_watchers_list,
	 "The watchers awnode start runs, with their state and pauses (docs/watchers.md)", NULL, NULL,
	 "200:{supervised, watchers: [{name, state, pid, paused_until, ...}]} (supervised false and no watchers "
	 "when the node does not run under awnode start)"},
	{M_POST, "/api/0/watchers/{name}/pause", 0, api_watcher_pause,
	 "Stop a watcher (aw-watcher-afk, aw-watcher-window, afk, window) until resumed or for a while", NULL,
	 "optional {duration: seconds (1 to a year) or null for until resumed}",
	 "200:{supervised, watcher, watchers};400:bad body or duration;404:unknown watcher;"
	 "409:not running under awnode start;503:awnode start does not answer"},
	{M_POST, "/api/0/watchers/{name}/resume", 0, api_watcher_resume, "Start a paused watcher again", NULL, NULL,
	 "200:{supervised, watcher, watchers};404:unknown watcher;409:not running under awnode start;"
	 "503:awnode start does not answer"},
	{M_POST, "/api/0/privacy/redact", R_JSON, api_privacy_redact,
	 "Apply one privacy rule to stored events of this device's buckets", NULL,
	 "{pattern, field?, bucket_prefix?, action: drop|redact, replacement?, dry_run?}",
	 "200:{dropped, redacted, dry_run};400:invalid rule"},
};

const size_t n_routes = sizeof(routes) / sizeof(routes[0]);

static const char *method_name(http_method m)
{
	switch (m) {
	case M_GET: return "get";
	case M_POST: return "post";
	case M_DELETE: return "delete";
	default: return "options";
	}
}

/* Append the items of "a:b:c;d:e:f" (fields separated by ':', items by ';'). */
static void split_items(const char *spec, void (*emit)(aw_buf *, const char *, size_t, void *), aw_buf *out,
			void *ctx)
{
	while (spec && *spec) {
		size_t n = strcspn(spec, ";");
		emit(out, spec, n, ctx);
		spec += n + (spec[n] == ';');
	}
}

static void field(const char *item, size_t n, int idx, const char **p, size_t *len)
{
	const char *end = item + n;

	*p = item;
	for (int i = 0; i < idx && *p < end; i++) {
		const char *c = memchr(*p, ':', (size_t)(end - *p));
		*p = c ? c + 1 : end;
	}
	if (idx < 2 || (*p < end && memchr(*p, ':', (size_t)(end - *p)))) {
		const char *c = memchr(*p, ':', (size_t)(end - *p));
		*len = c && idx < 2 ? (size_t)(c - *p) : (size_t)(end - *p);
	} else {
		*len = (size_t)(end - *p);
	}
}

static void emit_query(aw_buf *out, const char *item, size_t n, void *ctx)
{
	bool *first = ctx;
	const char *name, *type, *desc;
	size_t nl, tl, dl;

	field(item, n, 0, &name, &nl);
	field(item, n, 1, &type, &tl);
	field(item, n, 2, &desc, &dl);
	if (!*first)
		aw_buf_putc(out, ',');
	*first = false;
	aw_buf_puts(out, "{\"name\":");
	aw_buf_json_string(out, name, nl);
	aw_buf_puts(out, ",\"in\":\"query\",\"required\":");
	aw_buf_puts(out, dl >= 10 && memmem(desc, dl, "(required)", 10) ? "true" : "false");
	aw_buf_puts(out, ",\"description\":");
	aw_buf_json_string(out, desc, dl);
	aw_buf_puts(out, ",\"schema\":{\"type\":");
	aw_buf_json_string(out, type, tl);
	aw_buf_puts(out, "}}");
}

static void emit_response(aw_buf *out, const char *item, size_t n, void *ctx)
{
	bool *first = ctx;
	const char *code = item, *colon = memchr(item, ':', n);
	size_t cl = colon ? (size_t)(colon - item) : n;

	if (!*first)
		aw_buf_putc(out, ',');
	*first = false;
	aw_buf_json_string(out, code, cl);
	aw_buf_puts(out, ":{\"description\":");
	aw_buf_json_string(out, colon ? colon + 1 : "", colon ? n - cl - 1 : 0);
	aw_buf_putc(out, '}');
}

static void path_params(aw_buf *out, const char *path, bool *first)
{
	for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = strcspn(p + 1, "}");
		if (!*first)
			aw_buf_putc(out, ',');
		*first = false;
		aw_buf_puts(out, "{\"name\":");
		aw_buf_json_string(out, p + 1, n);
		aw_buf_puts(out, ",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}");
	}
}

static void operation(aw_buf *out, const route *r)
{
	bool first = true;

	aw_buf_putc(out, '"');
	aw_buf_puts(out, method_name(r->method));
	aw_buf_puts(out, "\":{\"summary\":");
	aw_buf_json_string(out, r->summary, strlen(r->summary));
	aw_buf_puts(out, ",\"parameters\":[");
	path_params(out, r->path, &first);
	split_items(r->query, emit_query, out, &first);
	aw_buf_putc(out, ']');
	if (r->body) {
		aw_buf_puts(out, ",\"requestBody\":{\"required\":true,\"description\":");
		aw_buf_json_string(out, r->body, strlen(r->body));
		aw_buf_puts(out, ",\"content\":{\"application/json\":{\"schema\":{}}");
		if (r->flags & R_FORM)
			aw_buf_puts(out, ",\"multipart/form-data\":{\"schema\":{\"type\":\"object\",\"properties\":"
					 "{\"buckets.json\":{\"type\":\"string\",\"format\":\"binary\"}}}}");
		aw_buf_puts(out, "}}");
	}
	aw_buf_puts(out, ",\"responses\":{");
	first = true;
	split_items(r->responses, emit_response, out, &first);
	aw_buf_puts(out, "}}");
}

void openapi_document(aw_buf *out, const char *version)
{
	aw_buf_puts(out, "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"awnode API\",\"version\":");
	aw_buf_json_string(out, version, strlen(version));
	aw_buf_puts(out, ",\"description\":\"ActivityWatch-compatible REST API of awnode. Paths also answer "
			 "with a trailing slash.\"},\"paths\":{");
	for (size_t i = 0; i < n_routes; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(routes[j].path, routes[i].path);
		if (seen)
			continue;
		if (i)
			aw_buf_putc(out, ',');
		aw_buf_json_string(out, routes[i].path, strlen(routes[i].path));
		aw_buf_puts(out, ":{");
		for (size_t j = i, n = 0; j < n_routes; j++) {
			if (strcmp(routes[j].path, routes[i].path))
				continue;
			if (n++)
				aw_buf_putc(out, ',');
			operation(out, &routes[j]);
		}
		aw_buf_putc(out, '}');
	}
	aw_buf_puts(out, "}}");
}
