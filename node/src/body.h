/*
 * Request bodies to models and models to response JSON, with aw-server-rust's status
 * codes: syntactically bad JSON is 400, JSON of the wrong shape is 422, a well-formed
 * value that awnode cannot represent (a timestamp outside 1677-2262, a duration
 * overflowing int64 nanoseconds) is 400.
 */
#ifndef AW_NODE_BODY_H
#define AW_NODE_BODY_H

#include <jansson.h>

#include "aw/buf.h"
#include "aw/storage.h"
#include "http.h"

/* Parse rq->body as JSON. NULL after answering 400 (or 400 for an empty body). */
json_t *body_json(request *rq);

/* Check that rq->body is one valid JSON document (without building it); false after
 * answering 400. The text can then be read with event_from_text. */
bool body_validate(request *rq);

/* Content-Type is application/json (parameters allowed). */
bool ctype_is_json(const char *ctype);

/* Fill *e from a JSON event object. Returns 0, or the HTTP status (400/422) with a
 * message in err. */
int event_from_json(aw_event *e, const json_t *v, char *err, size_t errlen);

/* The same from the text of an event object that aw_jscan_document already validated
 * (no JSON tree is built; used by imports). */
int event_from_text(aw_event *e, const char *vs, const char *ve, char *err, size_t errlen);

/* Events from a JSON array. `lenient` drops malformed elements (aw-server-rust's
 * TryVec for import documents and bucket creation); otherwise the first bad one fails. */
int events_from_json(aw_event **out, size_t *n, const json_t *arr, bool lenient, char *err,
		     size_t errlen);
void events_free(aw_event *e, size_t n);

/* A bucket object (bucket create / import). Returns 0 or 400/422 with err. */
int bucket_from_json(aw_import_bucket *out, const json_t *v, const char *id, char *err, size_t errlen);
void import_bucket_clear(aw_import_bucket *b);

/* Response JSON: an event in REST field order {"id","timestamp","duration","data"}. */
void event_json(aw_buf *b, int64_t id, bool has_id, aw_ns start, aw_ns duration, const char *data,
		size_t data_len);
/* A bucket in aw-server-rust's field order; events_json (may be NULL) is spliced in as
 * the "events" value, NULL printing null. */
void bucket_json(aw_buf *b, const aw_bucket *bk, const char *events_json, size_t events_len);

#endif
