/* Helpers shared by the CLI subcommands. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/buf.h"
#include "aw/config.h"
#include "cli.h"

char *cli_db_path(const char *dbpath, bool testing)
{
	char *dir, *path;

	if (dbpath)
		return strdup(dbpath);
	dir = aw_xdg_dir("XDG_DATA_HOME", ".local/share", "awnode");
	aw_mkdir_p(dir, 0700);
	if (asprintf(&path, "%s/%s", dir, testing ? "awnode-testing.db" : "awnode.db") < 0)
		abort();
	free(dir);
	return path;
}

static size_t collect(char *p, size_t size, size_t n, void *ctx)
{
	aw_buf_append(ctx, p, size * n);
	return size * n;
}

int cli_post_json(int port, const char *path, const char *body, size_t len, long timeout_s, aw_buf *out,
		  long *status)
{
	char url[256];
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURLcode rc;

	*status = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (timeout_s > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}
