/*
 * Request bodies: reading them as JSON and the statuses of what goes wrong, as
 * aw-server-rust answers them: syntactically bad JSON is 400, JSON of the wrong shape
 * is 422, a well-formed value that awnode cannot represent (a timestamp outside
 * 1677-2262, a duration overflowing int64 nanoseconds) is 400. The JSON forms of the
 * models themselves are storage's (aw/model_json.h).
 */
#ifndef AW_NODE_BODY_H
#define AW_NODE_BODY_H

#include <jansson.h>

#include "aw/buf.h"
#include "aw/model_json.h"
#include "aw/storage.h"
#include "http.h"

/* Parse rq->body as JSON. NULL after answering 400 (or 400 for an empty body). */
json_t *body_json(request *rq);

/* Check that rq->body is one valid JSON document (without building it); false after
 * answering 400. The text can then be read with event_from_text. */
bool body_validate(request *rq);

/* Content-Type is application/json (parameters allowed). */
bool ctype_is_json(const char *ctype);

/* The HTTP status for an error of aw/model_json.h's parsers: 422 for JSON of the wrong
 * shape (AW_ESHAPE), 400 for anything else (out of range, malformed). */
int model_status(int code);

#endif
