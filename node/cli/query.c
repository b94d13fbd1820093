/*
 * `awnode query FILE --start ISO --end ISO [--db PATH | --url URL]`: run a query file
 * (docs/query.md) against a database read-only (aw_query_run_path) or post it to a
 * running node (the client library, plain HTTP: the node never serves TLS itself), and
 * print the JSON result. Exit status: 0, 1 for a query or usage error, 2 for an I/O or
 * connection failure (as docs/query.md states).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/buf.h"
#include "aw/client.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/mem.h"
#include "aw/query.h"
#include "aw/time.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode query FILE --start TIME --end TIME [--db PATH | --url URL] [--testing]\n"
		"\n"
		"Run an ActivityWatch query (the query2 language, see docs/query.md) over the period\n"
		"[start, end] and print the JSON result (one element per period) to stdout.\n"
		"\n"
		"  FILE            query file ('-' reads standard input)\n"
		"  --start TIME    period start: RFC 3339 (2025-03-01T00:00:00Z) or a date (2025-03-01, UTC)\n"
		"  --end TIME      period end, same forms\n"
		"  --db PATH       database file (default $XDG_DATA_HOME/awnode/awnode.db)\n"
		"  --testing       use the testing database (awnode-testing.db) by default\n"
		"  --url URL       post the query to a running node instead, e.g. http://127.0.0.1:5600\n"
		"  -h, --help      show this help\n");
}

/* RFC 3339, or a bare date meaning its midnight UTC. */
static int parse_time_arg(aw_ns *out, const char *s)
{
	size_t n = strlen(s);
	char buf[64];

	if (n == 10 && s[4] == '-' && s[7] == '-') {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
		return aw_time_parse(out, buf, strlen(buf), AW_TIME_RELAXED);
	}
	return aw_time_parse(out, s, n, AW_TIME_RELAXED);
}

/* The whole file, or standard input for "-" (a pipe has no size to bound a read by,
 * hence no aw_files_read). NULL with errno set on failure; caller frees. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	aw_buf b = AW_BUF_INIT;
	char chunk[65536];
	size_t r;

	if (!f)
		return NULL;
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		aw_buf_append(&b, chunk, r);
	if (ferror(f)) {
		if (f != stdin)
			fclose(f);
		aw_buf_free(&b);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	if (!b.data)
		aw_buf_grow(&b, 1);
	return aw_buf_steal(&b, len);
}

/* "http://host[:port][/]" -> host (in buf) and port. A path is refused: the query route
 * is fixed. */
static int parse_url(const char *url, char *host, size_t hostlen, int *port)
{
	const char *h, *end, *colon;
	size_t n;

	if (strncmp(url, "http://", 7))
		return -1;
	h = url + 7;
	end = h + strcspn(h, "/");
	if (*end && strcmp(end, "/"))
		return -1;
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

/* POST body to <url>/api/0/query/. Returns 0 with *status and *resp (caller frees) when
 * the node answered; otherwise -1 with a message in err. The URL may name another
 * machine (a node started with --host), so this is not cli_node_request, which only
 * reaches 127.0.0.1. */
static int post_query(const char *url, const char *body, int *status, char **resp, char *err, size_t errlen)
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
	if (aw_client_new(&c, &o) != AW_OK) {
		snprintf(err, errlen, "cannot create an HTTP client");
		return -1;
	}
	rc = aw_client_request(&r, status, c, "POST", "/api/0/query/", body);
	if (rc != AW_OK) {
		snprintf(err, errlen, "%s: %s", url, aw_error_last());
		aw_client_free(c);
		return -1;
	}
	*resp = aw_mem_strdup(r ? r : "");
	aw_client_free_string(r);
	aw_client_free(c);
	return 0;
}

/* --url: the request body is the program split back into lines, one period. */
static int run_remote(const char *url, const char *prog, size_t plen, aw_ns start, aw_ns end)
{
	char a[AW_TIME_BUFSZ], b[AW_TIME_BUFSZ], period[2 * AW_TIME_BUFSZ + 2], err[512];
	json_t *body = json_object(), *lines = json_array(), *periods = json_array();
	char *text, *resp = NULL;
	int status = 0;
	size_t i = 0;
	int rc = 0;

	aw_time_format(a, start);
	aw_time_format(b, end);
	snprintf(period, sizeof(period), "%s/%s", a, b);
	json_array_append_new(periods, json_string(period));
	while (i <= plen) {
		const char *nl = memchr(prog + i, '\n', plen - i);
		size_t e = nl ? (size_t)(nl - prog) : plen;
		json_array_append_new(lines, json_stringn(prog + i, e - i));
		i = e + 1;
	}
	json_object_set_new(body, "timeperiods", periods);
	json_object_set_new(body, "query", lines);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text) {
		fprintf(stderr, "awnode query: the query file is not valid UTF-8\n");
		return 1;
	}
	if (post_query(url, text, &status, &resp, err, sizeof(err))) {
		fprintf(stderr, "awnode query: %s\n", err);
		rc = 2;
	} else if (status == 200) {
		fputs(resp, stdout);
		fputc('\n', stdout);
	} else {
		json_t *m = json_loads(resp, 0, NULL);
		const char *msg = m ? json_string_value(json_object_get(m, "message")) : NULL;
		fprintf(stderr, "awnode query: HTTP %d: %s\n", status, msg ? msg : resp);
		json_decref(m);
		rc = 1;
	}
	free(resp);
	free(text);
	return rc;
}

/* --db (or the default database): run here, read-only. */
static int run_local(const char *db, bool testing, const char *prog, size_t plen, aw_ns start, aw_ns end)
{
	aw_query_error err;
	/* the query opens the database read-only: a missing one is an error, not a new one */
	char *dbpath = cli_db_path(db, testing), *out = NULL;
	size_t olen;
	int rc;

	rc = aw_query_run_path(&out, &olen, &err, dbpath, prog, plen, &start, &end, 1);
	if (rc) {
		fprintf(stderr, "awnode query: %s\n", err.message);
		/* internal failures, the database's included, are I/O failures */
		rc = rc == AW_ERROR ? 2 : 1;
	} else {
		fwrite(out, 1, olen, stdout);
		fputc('\n', stdout);
	}
	free(out);
	free(dbpath);
	return rc;
}

int cmd_query(int argc, char **argv)
{
	static const struct option opts[] = {
		{"start", required_argument, NULL, 's'}, {"end", required_argument, NULL, 'e'},
		{"db", required_argument, NULL, 'd'},    {"url", required_argument, NULL, 'u'},
		{"testing", no_argument, NULL, 't'},     {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *start_s = NULL, *end_s = NULL, *db = NULL, *url = NULL, *file;
	bool testing = false;
	aw_ns start, end;
	char *prog;
	size_t plen;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 's': start_s = optarg; break;
		case 'e': end_s = optarg; break;
		case 'd': db = optarg; break;
		case 'u': url = optarg; break;
		case 't': testing = true; break;
		case 'h': usage(stdout); return 0;
		default: return 1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "awnode query: expected exactly one query FILE (see awnode query --help)\n");
		return 1;
	}
	file = argv[optind];
	if (!start_s || !end_s) {
		fprintf(stderr, "awnode query: --start and --end are required (see awnode query --help)\n");
		return 1;
	}
	if (parse_time_arg(&start, start_s)) {
		fprintf(stderr, "awnode query: --start: %s\n", aw_error_last());
		return 1;
	}
	if (parse_time_arg(&end, end_s)) {
		fprintf(stderr, "awnode query: --end: %s\n", aw_error_last());
		return 1;
	}
	if (db && url) {
		fprintf(stderr, "awnode query: give either --db or --url, not both\n");
		return 1;
	}
	prog = read_all(file, &plen);
	if (!prog) {
		fprintf(stderr, "awnode query: cannot read %s: %s\n", file, strerror(errno));
		return 2;
	}
	rc = url ? run_remote(url, prog, plen, start, end) : run_local(db, testing, prog, plen, start, end);
	free(prog);
	return rc;
}
