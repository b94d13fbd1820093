/*
 * The checks every request passes before routing, in aw-server-rust's precedence.
 * Rocket runs CORS, then the Host check, then the API key
 * check, and each failure rewrites the request, so the last failing check decides the
 * answer: a bad Host wins over a CORS rejection, and either wins over a missing key.
 * We evaluate them in that precedence directly.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "aw/log.h"
#include "aw/mem.h"

/* Normalise an origin "scheme://host[:port]" for comparison: lower-case scheme and
 * host, default ports dropped, trailing slash dropped. */
static char *origin_normalize(const char *o)
{
	char *s = strdup(o), *host, *port;
	size_t n = strlen(s);

	while (n && s[n - 1] == '/')
		s[--n] = '\0';
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	host = strstr(s, "://");
	if (!host)
		return s;
	host += 3;
	port = strrchr(host, ':');
	if (port && ((!strncmp(s, "http:", 5) && !strcmp(port, ":80")) ||
		     (!strncmp(s, "https:", 6) && !strcmp(port, ":443"))))
		*port = '\0';
	return s;
}

static void add_exact(node *n, const char *origin)
{
	n->cors_exact = aw_mem_realloc(n->cors_exact, (n->n_cors_exact + 1) * sizeof(char *));
	n->cors_exact[n->n_cors_exact++] = origin_normalize(origin);
}

static int add_regex(node *n, const char *re)
{
	int err;
	PCRE2_SIZE off;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);

	if (!code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		fprintf(stderr, "awnode: invalid cors_regex '%s' at offset %zu: %s\n", re, (size_t)off, msg);
		return -1;
	}
	n->cors_re = aw_mem_realloc(n->cors_re, (n->n_cors_re + 1) * sizeof(void *));
	n->cors_re[n->n_cors_re++] = code;
	return 0;
}

int pipeline_init(node *n)
{
	aw_config *c = n->cfg;
	char o[128];

	n->hostcheck = !strcmp(c->address, "127.0.0.1") || !strcmp(c->address, "localhost");
	if (!n->hostcheck)
		aw_log_warn("Host header check disabled: listening on %s, not 127.0.0.1/localhost", c->address);
	snprintf(o, sizeof(o), "http://127.0.0.1:%d", c->port);
	add_exact(n, o);
	snprintf(o, sizeof(o), "http://localhost:%d", c->port);
	add_exact(n, o);
	for (size_t i = 0; i < c->n_cors; i++)
		add_exact(n, c->cors[i]);
	if (add_regex(n, "chrome-extension://nglaklhklhcoonedhgnpgddginnjdadi") ||
	    add_regex(n, "moz-extension://.*"))
		return -1;
	for (size_t i = 0; i < c->n_cors_regex; i++)
		if (add_regex(n, c->cors_regex[i]))
			return -1;
	if (c->testing) {
		add_exact(n, "http://127.0.0.1:27180");
		add_exact(n, "http://localhost:27180");
		if (add_regex(n, "chrome-extension://.*"))
			return -1;
	}
	if (c->api_key && !*c->api_key)
		aw_log_warn("[auth] api_key is empty: API key authentication is disabled");
	return 0;
}

void pipeline_free(node *n)
{
	aw_strings_free(n->cors_exact, n->n_cors_exact);
	for (size_t i = 0; i < n->n_cors_re; i++)
		pcre2_code_free(n->cors_re[i]);
	free(n->cors_re);
}

static bool origin_allowed(node *n, const char *origin)
{
	char *norm;
	bool ok = false;

	if (!strcmp(origin, "null"))
		return false;
	norm = origin_normalize(origin);
	for (size_t i = 0; i < n->n_cors_exact && !ok; i++)
		ok = !strcmp(norm, n->cors_exact[i]);
	free(norm);
	for (size_t i = 0; i < n->n_cors_re && !ok; i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(n->cors_re[i], NULL);
		ok = pcre2_match(n->cors_re[i], (PCRE2_SPTR)origin, strlen(origin), 0, 0, md, NULL) >= 0;
		pcre2_match_data_free(md);
	}
	return ok;
}

static bool host_valid(const char *host)
{
	size_t len;

	if (!host)
		return false;
	len = strcspn(host, ":");
	return (len == 9 && !strncmp(host, "127.0.0.1", 9)) || (len == 9 && !strncmp(host, "localhost", 9));
}

/* Constant-time comparison of the Authorization header with "Bearer <key>". */
static bool bearer_ok(const char *auth, const char *key)
{
	size_t klen = strlen(key), alen;
	unsigned char diff = 0;

	if (!auth || strncmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	alen = strlen(auth);
	diff = alen != klen;
	for (size_t i = 0; i < klen; i++)
		diff |= (unsigned char)(key[i] ^ (i < alen ? auth[i] : 0));
	return diff == 0;
}

static bool method_allowed(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "POST") || !strcmp(m, "DELETE");
}

bool pipeline_check(request *rq)
{
	node *n = rq->n;
	const char *key = n->cfg->api_key;

	if (n->hostcheck && !host_valid(rq->host)) {
		respond_message(rq, 400, "Host header is invalid");
		return true;
	}
	if (rq->origin) {
		if (!origin_allowed(n, rq->origin)) {
			respond_catcher(rq, 403, "Origin '%s' is not allowed", rq->origin);
			return true;
		}
		if (rq->method == M_OPTIONS) {
			if (!rq->acrm) {
				respond_catcher(rq, 400, "CORS preflight without Access-Control-Request-Method");
				return true;
			}
			if (!method_allowed(rq->acrm)) {
				respond_catcher(rq, 403, "method '%s' is not allowed by CORS", rq->acrm);
				return true;
			}
			respond_empty(rq, 200);
			respond_header(rq, "access-control-allow-origin:", rq->origin);
			respond_header(rq, "access-control-allow-methods:", "GET, POST, DELETE");
			if (rq->acrh)
				respond_header(rq, "access-control-allow-headers:", rq->acrh);
			return true;
		}
		respond_header(rq, "access-control-allow-origin:", rq->origin);
	}
	if (rq->method == M_OPTIONS) {
		respond_empty(rq, 200);
		return true;
	}
	if (key && *key && !strncmp(rq->path, "/api/", 5) && strcmp(rq->path, "/api/0/info") &&
	    !bearer_ok(rq->auth, key)) {
		respond_message(rq, 401, "Missing or invalid API key. Set 'Authorization: Bearer <key>' header.");
		return true;
	}
	return false;
}
