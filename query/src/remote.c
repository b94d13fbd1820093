/*
 * `awnode query --url`: one POST to a running node through the node client library
 * (watchers/client), plain HTTP as the node speaks it. Only http:// URLs: the node never
 * serves TLS itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/client.h"
#include "remote.h"

/* "http://host[:port][/]" -> host (in buf) and port. */
static int parse_url(const char *url, char *host, size_t hostlen, int *port)
{
	const char *h, *end, *colon;
	size_t n;

	if (strncmp(url, "http://", 7))
		return -1;
	h = url + 7;
	end = h + strcspn(h, "/");
	if (*end && strcmp(end, "/"))
		return -1; /* a path: the query route is fixed */
	colon = memchr(h, ':', (size_t)(end - h));
	n = (size_t)((colon ? colon : end) - h);
	if (!n || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = 80;
	if (colon) {
		char *pe;
		long p = strtol(colon + 1, &pe, 10);
		if (pe != end || p < 1 || p > 65535)
			return -1;
		*port = (int)p;
	}
	return 0;
}

int awq_post_query(const char *url, const char *body, int *status, char **resp, char *err, size_t errlen)
{
	aw_client_options o;
	aw_client *c;
	char host[256], *r = NULL;
	int port, rc;

	*resp = NULL;
	if (parse_url(url, host, sizeof(host), &port)) {
		snprintf(err, errlen, "--url must look like http://127.0.0.1:5600 (got '%s')", url);
		return -1;
	}
	aw_client_options_init(&o);
	o.client_name = "awnode-query";
	o.no_queue = 1;
	o.host = host;
	o.port = port;
	o.timeout_ms = 600000;
	if (aw_client_new(&c, &o) != AW_CLIENT_OK) {
		snprintf(err, errlen, "cannot create an HTTP client");
		return -1;
	}
	rc = aw_client_request(&r, status, c, "POST", "/api/0/query/", body);
	if (rc != AW_CLIENT_OK) {
		snprintf(err, errlen, "%s: %s", url, aw_client_error_message(c));
		aw_client_free(c);
		return -1;
	}
	*resp = r ? strdup(r) : strdup("");
	aw_client_free_string(r);
	aw_client_free(c);
	return 0;
}
