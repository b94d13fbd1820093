/*
 * ActivityWatch's JSON form of events and buckets: request bodies and export documents
 * into storage models, and models into the JSON clients read (field order as
 * aw-server-rust prints it). See storage/src/model_json.c for the shapes accepted.
 *
 * Parsers return 0, AW_ESHAPE (the JSON has the wrong shape: a missing field, a wrong
 * type, a timestamp that is not RFC 3339) or AW_ERANGE (a value awnode cannot represent),
 * with the reason in aw_error_last().
 */
#ifndef AW_MODEL_JSON_H
#define AW_MODEL_JSON_H

#include <jansson.h>
#include <stdbool.h>

#include "aw/buf.h"
#include "aw/json_scan.h"
#include "aw/storage.h"

/* Fill *e from a JSON event object. On success e owns its data (release with
 * aw_event_clear); on failure *e is empty. */
int aw_event_from_json(aw_event *e, const json_t *v);

/* The same from the text [vs, ve) of an event object that aw_jscan_document already
 * accepted, without building a JSON tree (imports use it). */
int aw_event_from_text(aw_event *e, const char *vs, const char *ve);

/* The same for the event at s->p, a scanner over such text, which it leaves after the
 * event's value whether the event was accepted or not: an import's walk of an events
 * array reads each event once instead of skipping it and then reading its text. */
int aw_event_from_scan(aw_event *e, aw_jscan *s);

/* Events from a JSON array into *out (*n of them; caller frees with aw_events_free).
 * `lenient` drops elements of the wrong shape, as aw-server-rust's lenient lists do for
 * import documents and bucket creation; an out-of-range element fails the whole list
 * either way. */
int aw_events_from_json(aw_event **out, size_t *n, const json_t *arr, bool lenient);

/* Clear n events and free the array. NULL is fine. */
void aw_events_free(aw_event *e, size_t n);

/* A bucket object (bucket create, import) into *out, with its "events" if present. id,
 * when not NULL, overrides the object's "id" (the id in the URL wins). On success out
 * owns everything (release with aw_import_bucket_clear); on failure it is empty. */
int aw_bucket_from_json(aw_import_bucket *out, const json_t *v, const char *id);

/* Free what an import bucket owns (bucket fields and events) and empty it. */
void aw_import_bucket_clear(aw_import_bucket *b);

/* Append an event as {"id","timestamp","duration","data"}; data is its canonical JSON
 * text (data_len bytes); has_id false prints "id": null. */
void aw_event_to_json(aw_buf *b, int64_t id, bool has_id, aw_ns start, aw_ns duration, const char *data,
		      size_t data_len);

/* Append a bucket in aw-server-rust's field order; events_json (events_len bytes) is
 * spliced in as the "events" value, NULL printing null. */
void aw_bucket_to_json(aw_buf *b, const aw_bucket *bk, const char *events_json, size_t events_len);

#endif
