/*
 * The route table: what the router matches and what /api/0/openapi.json documents, in
 * one place so the two cannot drift apart.
 */
#ifndef AW_NODE_ROUTES_H
#define AW_NODE_ROUTES_H

#include "http.h"

enum {
	R_JSON = 1, /* Content-Type must be application/json */
	R_FORM = 2, /* ... or multipart/form-data (import) */
};

typedef struct route {
	http_method method;
	const char *path;   /* "/api/0/buckets/{bucket_id}/events": {x} is one path parameter */
	int flags;
	void (*handler)(request *rq);
	const char *summary;
	const char *query;  /* query parameters "name:type:description;..." (NULL: none) */
	const char *body;   /* request body description (NULL: none) */
	const char *responses; /* "200:description;404:description" */
} route;

extern const route routes[];
extern const size_t n_routes;

/* The route for a method, a decoded path's segments and a Content-Type (may be NULL),
 * as the router matches it (first in table order), or NULL. A route that needs a JSON
 * or form body does not match another Content-Type, which is how a JSON POST without
 * `Content-Type: application/json` ends in 404, as with aw-server-rust (router.c). */
const route *route_find(http_method method, char *const *segs, int nsegs, const char *ctype);

/* The OpenAPI 3.0 document for the table. */
void openapi_document(aw_buf *out, const char *version);

#endif
