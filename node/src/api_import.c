/*
 * POST /api/0/import: an export document as a JSON body, or as the multipart form part
 * the web UI sends (named "buckets.json", or "buckets"). The import itself is storage's
 * (aw/transfer.h); it runs on the reader pool, since it reads before it writes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "aw/transfer.h"
#include "body.h"

static const char *param(const char *header, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	for (const char *p = header; (p = strcasestr(p, name)); p += nl) {
		if (p != header && p[-1] != ';' && p[-1] != ' ')
			continue;
		p += nl;
		if (*p == '"') {
			const char *e = strchr(++p, '"');
			*len = e ? (size_t)(e - p) : strlen(p);
		} else {
			*len = strcspn(p, "; \t");
		}
		return p;
	}
	return NULL;
}

/* The form part named buckets.json (or buckets) of a multipart/form-data body. */
static bool multipart_find(request *rq, const char **out, size_t *out_len)
{
	const char *bnd, *p, *end = rq->body.data + rq->body.len;
	char delim[256];
	size_t blen, dlen;

	bnd = param(rq->ctype, "boundary=", &blen);
	if (!bnd || blen == 0 || blen > 200 || !rq->body.len)
		return false;
	dlen = (size_t)snprintf(delim, sizeof(delim), "--%.*s", (int)blen, bnd);
	p = memmem(rq->body.data, rq->body.len, delim, dlen);
	while (p) {
		const char *hdr = p + dlen, *content, *next, *name;
		size_t nlen;
		bool match;
		char *headers;

		if (end - hdr >= 2 && hdr[0] == '-' && hdr[1] == '-')
			return false; /* closing delimiter */
		content = memmem(hdr, (size_t)(end - hdr), "\r\n\r\n", 4);
		if (!content)
			return false;
		content += 4;
		next = memmem(content, (size_t)(end - content), delim, dlen);
		if (!next)
			return false;
		headers = strndup(hdr, (size_t)(content - hdr));
		name = param(headers, "name=", &nlen);
		match = name && ((nlen == 12 && !strncmp(name, "buckets.json", 12)) ||
				 (nlen == 7 && !strncmp(name, "buckets", 7)));
		free(headers);
		if (match) {
			size_t clen = (size_t)(next - content);
			if (clen >= 2 && next[-2] == '\r' && next[-1] == '\n')
				clen -= 2;
			*out = content;
			*out_len = clen;
			return true;
		}
		p = next;
	}
	return false;
}

typedef struct import_request {
	const char *doc;
	size_t len;
} import_request;

static void run_import(request *rq, aw_reader *r)
{
	import_request *ir = rq->state;
	int rc = aw_transfer_import(rq->n->store, r, ir->doc, ir->len);

	if (!rc) {
		aw_log_info("imported a document of %zu bytes", ir->len);
		respond_empty(rq, 200);
	} else if (rc == AW_EINVALID || rc == AW_ERANGE || rc == AW_ESHAPE) {
		respond_catcher(rq, model_status(rc), "%s", aw_error_last());
	} else {
		respond_store_error(rq, rc, aw_error_last());
	}
}

void api_import(request *rq)
{
	import_request *ir;
	const char *doc = rq->body.data;
	size_t len = rq->body.len;

	if (!ctype_is_json(rq->ctype) && !multipart_find(rq, &doc, &len)) {
		respond_catcher(rq, 400, "multipart import needs a form part named 'buckets.json'");
		return;
	}
	if (!len) {
		respond_catcher(rq, 400, "the import document is empty");
		return;
	}
	ir = aw_mem_calloc(1, sizeof(*ir));
	ir->doc = doc;
	ir->len = len;
	rq->state = ir;
	rq->state_free = free;
	submit_read(rq, run_import);
}
