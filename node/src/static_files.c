/*
 * Static files: the web UI (built-in, or --webpath DIR such as aw-webui's dist/) at /,
 * and [custom_static] directories at /pages/<name>/.
 *
 * Containment: libwebsockets already resolves "." and ".." segments before we see the
 * path, and we additionally refuse any segment that is "." or ".." or holds a NUL or a
 * backslash, then require realpath() of the file to lie inside realpath() of the root,
 * so neither encoded traversal nor a symlink can escape the root.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "http.h"

static const struct {
	const char *ext;
	const char *type;
} mime[] = {
	{".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"}, {".json", "application/json"},
	{".map", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
	{".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".gif", "image/gif"},
	{".ico", "image/x-icon"}, {".webp", "image/webp"}, {".woff", "font/woff"},
	{".woff2", "font/woff2"}, {".ttf", "font/ttf"}, {".otf", "font/otf"},
	{".eot", "application/vnd.ms-fontobject"}, {".txt", "text/plain; charset=utf-8"},
	{".webmanifest", "application/manifest+json"}, {".wasm", "application/wasm"},
	{".xml", "text/xml; charset=utf-8"},
};

static const char *mime_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(mime) / sizeof(mime[0]); i++)
			if (!strcasecmp(dot, mime[i].ext))
				return mime[i].type;
	return "application/octet-stream";
}

static bool segment_safe(const char *s)
{
	return strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '\\');
}

/* Serve root/<segs[first..]>; index.html for a directory. */
static bool serve_from(request *rq, const char *root, int first)
{
	char path[PATH_MAX], *real_root = NULL, *real = NULL;
	struct stat st;
	size_t n, rlen;
	FILE *f = NULL;
	bool ok = false;

	n = (size_t)snprintf(path, sizeof(path), "%s", root);
	for (int i = first; i < rq->nsegs; i++) {
		if (!segment_safe(rq->segs[i]))
			return false;
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", rq->segs[i]);
		if (n >= sizeof(path))
			return false;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		snprintf(path + n, sizeof(path) - n, "/index.html");
	real_root = realpath(root, NULL);
	real = realpath(path, NULL);
	if (!real_root || !real)
		goto out;
	rlen = strlen(real_root);
	if (strncmp(real, real_root, rlen) || (real[rlen] != '/' && real[rlen] != '\0'))
		goto out;
	if (stat(real, &st) || !S_ISREG(st.st_mode))
		goto out;
	f = fopen(real, "rb");
	if (!f)
		goto out;
	aw_buf_reset(&rq->resp);
	aw_buf_grow(&rq->resp, (size_t)st.st_size);
	rq->resp.len = fread(rq->resp.data, 1, (size_t)st.st_size, f);
	rq->resp.data[rq->resp.len] = '\0';
	rq->status = 200;
	rq->resp_ctype = mime_type(real);
	ok = true;
out:
	if (f)
		fclose(f);
	free(real_root);
	free(real);
	return ok;
}

bool static_serve(request *rq)
{
	aw_config *c = rq->n->cfg;

	if (rq->nsegs >= 2 && !strcmp(rq->segs[0], "pages")) {
		for (size_t i = 0; i < c->n_statics; i++)
			if (!strcmp(c->statics[i].name, rq->segs[1]))
				return serve_from(rq, c->statics[i].path, 2);
		return false;
	}
	return c->webpath && serve_from(rq, c->webpath, 0);
}

bool static_serve_explorer(request *rq)
{
	aw_config *c = rq->n->cfg;

	if (!c->apidocs)
		return false;
	if (rq->nsegs == 1)
		return serve_from(rq, c->apidocs, 1);
	return rq->nsegs == 3 && !strcmp(rq->segs[1], "explorer") && serve_from(rq, c->apidocs, 2);
}
