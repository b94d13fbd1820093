/*
 * Routing: a table of (method, path pattern, requirements, handler), matched after the
 * pipeline checks. Paths arrive percent-decoded with empty segments dropped, so
 * trailing and doubled slashes never matter (as in Rocket). Like Rocket, a route whose
 * Content-Type requirement fails does not match, so a JSON POST without
 * `Content-Type: application/json` ends in 404; a path that matches no route under
 * /api is 404, anything else is looked up as a static file.
 */
#include <string.h>
#include <strings.h>

#include "api.h"
#include "body.h"
#include "http.h"
#include "routes.h"

/* Match the request's segments against "/a/{param}/b". */
static bool path_matches(const route *r, char *const *segs, int nsegs)
{
	const char *p = r->path;
	int i = 0;

	while (*p == '/') {
		size_t n;
		p++;
		n = strcspn(p, "/");
		if (i >= nsegs)
			return false;
		if (*p != '{' && (strlen(segs[i]) != n || strncmp(p, segs[i], n)))
			return false;
		p += n;
		i++;
	}
	return i == nsegs;
}

static bool ctype_is_form(const char *ctype)
{
	return ctype && !strncasecmp(ctype, "multipart/form-data", 19);
}

static bool content_ok(const route *r, const char *ctype)
{
	if (!(r->flags & (R_JSON | R_FORM)))
		return true;
	if ((r->flags & R_JSON) && ctype_is_json(ctype))
		return true;
	return (r->flags & R_FORM) && ctype_is_form(ctype);
}

const route *route_find(http_method method, char *const *segs, int nsegs, const char *ctype)
{
	for (size_t i = 0; i < n_routes; i++) {
		const route *r = &routes[i];
		if (r->method == method && path_matches(r, segs, nsegs) && content_ok(r, ctype))
			return r;
	}
	return NULL;
}

/* Path parameters are raw bytes after percent-decoding; anything that is not UTF-8
 * could never be echoed back in JSON, so it is refused up front. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80 ? 0 : (*s >> 5) == 6 ? 1 : (*s >> 4) == 14 ? 2 : (*s >> 3) == 30 ? 3 : -1;
		if (n < 0)
			return false;
		s++;
		while (n--) {
			if ((*s & 0xC0) != 0x80)
				return false;
			s++;
		}
	}
	return true;
}

void router_dispatch(request *rq)
{
	bool is_api = rq->nsegs > 0 && !strcmp(rq->segs[0], "api");
	const route *r;

	if (pipeline_check(rq))
		return;
	if (!is_api) {
		if ((rq->method == M_GET || rq->method == M_HEAD) && static_serve(rq))
			return;
		respond_catcher(rq, 404, "no such page: %s", rq->path);
		return;
	}
	if (rq->method == M_GET && (rq->nsegs == 1 || !strcmp(rq->segs[1], "explorer"))) {
		if (!static_serve_explorer(rq))
			respond_catcher(rq, 404, "the API explorer is not installed (it needs npm at build time)");
		return;
	}
	if (rq->too_many_segs) {
		respond_catcher(rq, 404, "no such route: %s", rq->path);
		return;
	}
	for (int i = 0; i < rq->nsegs; i++) {
		if (!utf8_valid((const unsigned char *)rq->segs[i])) {
			respond_message(rq, 400, "path segment %d is not valid UTF-8", i + 1);
			return;
		}
	}
	r = route_find(rq->method, rq->segs, rq->nsegs, rq->ctype);
	if (r) {
		r->handler(rq);
		return;
	}
	respond_catcher(rq, 404, "no route for %s %s%s", rq->method == M_GET ? "GET" :
			rq->method == M_POST ? "POST" : rq->method == M_DELETE ? "DELETE" : "this method",
			rq->path,
			rq->method == M_POST && !ctype_is_json(rq->ctype) ? " (JSON requests need Content-Type: application/json)" : "");
}
