/*
 * Unit tests: the client library (watchers/client) against a scripted fake HTTP
 * server in a thread: pre-merge, disk queue delivery order, back-off after the node
 * was down, 404/400/500 handling, synchronous calls, chunked answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "aw/client.h"
#include "aw/time.h"
#include "tmpdir.h"

/* The client prints times with core's formatter; they must read back with core's parser. */
static int awc_parse_time(const char *s, int64_t *out)
{
	return aw_time_parse(out, s, strlen(s), AW_TIME_STRICT) ? -1 : 0;
}

#define S 1000000000LL
#define T0 (1714557600LL * S) /* 2024-05-01T10:00:00Z */

/* ---- fake server ---------------------------------------------------------------- */

#define MAXREQ 256

typedef struct fake {
	int lfd, port;
	pthread_t th;
	int running;
	pthread_mutex_t mu;
	/* scripted statuses for the n-th request matching a kind; default 200 */
	int hb_status[MAXREQ], n_hb_status;   /* heartbeat requests, in order */
	int bucket_status;                    /* POST bucket (default 200) */
	int chunked;                          /* answer GETs chunked */
	/* log */
	char *method[MAXREQ], *target[MAXREQ], *body[MAXREQ];
	int n;
	int hb_seen;
} fake;

static int read_request(int fd, char **method, char **target, char **body)
{
	char buf[65536];
	size_t have = 0;
	char *end;
	long cl = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);

		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			char *cls = strcasestr(buf, "Content-Length:");

			if (cls && cls < end)
				cl = strtol(cls + 15, NULL, 10);
			if ((long)(have - (size_t)(end + 4 - buf)) >= cl)
				break;
		}
	}
	{
		char m[16], t[4096];

		if (sscanf(buf, "%15s %4095s", m, t) != 2)
			return -1;
		*method = strdup(m);
		*target = strdup(t);
		*body = strndup(end + 4, (size_t)cl);
	}
	return 0;
}

static void *serve(void *arg)
{
	fake *f = arg;

	for (;;) {
		struct pollfd p = {f->lfd, POLLIN, 0};
		char *m = NULL, *t = NULL, *b = NULL, resp[1024];
		int fd, status = 200, is_hb;
		const char *rbody = "{}";

		pthread_mutex_lock(&f->mu);
		if (!f->running) {
			pthread_mutex_unlock(&f->mu);
			return NULL;
		}
		pthread_mutex_unlock(&f->mu);
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (read_request(fd, &m, &t, &b)) {
			close(fd);
			continue;
		}
		pthread_mutex_lock(&f->mu);
		is_hb = strstr(t, "/heartbeat") != NULL;
		if (is_hb) {
			if (f->hb_seen < f->n_hb_status)
				status = f->hb_status[f->hb_seen];
			f->hb_seen++;
		} else if (!strcmp(m, "POST") && !strstr(t, "/events") && !strstr(t, "/query")) {
			status = f->bucket_status ? f->bucket_status : 200;
		}
		if (!strcmp(t, "/api/0/info"))
			rbody = "{\"hostname\":\"h\",\"version\":\"v\",\"testing\":true,\"device_id\":\"d\"}";
		if (strstr(t, "/nosuch"))
			status = 404, rbody = "{\"message\":\"no\"}";
		if (f->n < MAXREQ) {
			f->method[f->n] = m;
			f->target[f->n] = t;
			f->body[f->n] = b;
			f->n++;
		} else {
			free(m);
			free(t);
			free(b);
		}
		if (status == 304) {
			snprintf(resp, sizeof(resp), "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
		} else if (f->chunked && !strcmp(f->method[f->n - 1], "GET")) {
			size_t l = strlen(rbody), half = l / 2;

			snprintf(resp, sizeof(resp),
				 "HTTP/1.1 %d X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%zx\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
				 status, half, (int)half, rbody, l - half, rbody + half);
		} else {
			snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
				 strlen(rbody), rbody);
		}
		pthread_mutex_unlock(&f->mu);
		if (send(fd, resp, strlen(resp), MSG_NOSIGNAL) < 0) {
			/* ignore */
		}
		close(fd);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void fake_start(fake *f, int port)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	f->lfd = listen_on(port);
	assert_true(f->lfd >= 0);
	getsockname(f->lfd, (struct sockaddr *)&a, &al);
	f->port = ntohs(a.sin_port);
	pthread_mutex_init(&f->mu, NULL);
	f->running = 1;
	assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->running = 0;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->th, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
}

static void fake_free(fake *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->method[i]);
		free(f->target[i]);
		free(f->body[i]);
	}
	memset(f, 0, sizeof(*f));
}

/* a port nothing listens on */
static int closed_port(void)
{
	int fd = listen_on(0), port;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &al);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ---- client helpers ------------------------------------------------------------- */

static char qdir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(qdir, sizeof(qdir), "/tmp/awc-test-XXXXXX");
	assert_non_null(mkdtemp(qdir));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(test_rmtree(qdir), 0);
	return 0;
}

/* options for a client named `name` with its queue in the test's directory */
static aw_client_options qdir_options(const char *name)
{
	aw_client_options o;

	aw_client_options_init(&o);
	o.client_name = name;
	o.queue_dir = qdir;
	return o;
}

/* a client of 127.0.0.1:port that commits every 10 s */
static aw_client *new_client(int port)
{
	aw_client_options o = qdir_options("test-watcher");
	aw_client *c = NULL;

	o.port = port;
	o.commit_interval = 10;
	o.timeout_ms = 2000;
	if (aw_client_new(&c, &o))
		fail_msg("aw_client_new: %s", aw_error_last());
	return c;
}

/* The fixture of the tests that need no node: a fresh queue directory and, in *state,
 * a client of a port nothing listens on. */
static int setup_offline(void **state)
{
	setup(state);
	*state = new_client(closed_port());
	return 0;
}

static int teardown_offline(void **state)
{
	aw_client_free(*state);
	return teardown(state);
}

/* the queue file's records */
static json_t *queue_records(void)
{
	char path[256], line[8192];
	json_t *arr = json_array();
	FILE *f;
	long pos = 0;

	snprintf(path, sizeof(path), "%s/queue.pos", qdir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &pos) != 1)
			pos = 0;
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/queue.jsonl", qdir);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, pos, SEEK_SET);
	while (fgets(line, sizeof(line), f))
		json_array_append_new(arr, json_loads(line, 0, NULL));
	fclose(f);
	return arr;
}

static void hb(aw_client *c, int64_t t, const char *data, double pulsetime)
{
	aw_event ev = {t, 0.0, data};

	assert_int_equal(aw_client_heartbeat(c, "b_host", &ev, pulsetime), AW_OK);
}

static double rec_duration(json_t *recs, size_t i)
{
	return json_number_value(json_object_get(json_object_get(json_array_get(recs, i), "event"), "duration"));
}

static const char *rec_ts(json_t *recs, size_t i)
{
	return json_string_value(json_object_get(json_object_get(json_array_get(recs, i), "event"), "timestamp"));
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_time_format(void **state)
{
	char b[64];
	int64_t t;

	(void)state;
	assert_int_equal(aw_client_format_time(b, sizeof(b), T0), 0);
	assert_string_equal(b, "2024-05-01T10:00:00Z");
	aw_client_format_time(b, sizeof(b), T0 + 123000000);
	assert_string_equal(b, "2024-05-01T10:00:00.123Z");
	aw_client_format_time(b, sizeof(b), T0 + 123456000);
	assert_string_equal(b, "2024-05-01T10:00:00.123456Z");
	aw_client_format_time(b, sizeof(b), T0 + 123456789);
	assert_string_equal(b, "2024-05-01T10:00:00.123456789Z");
	aw_client_format_time(b, sizeof(b), -1);
	assert_string_equal(b, "1969-12-31T23:59:59.999999999Z");
	assert_int_equal(aw_client_format_time(b, 10, T0), AW_EINVALID);
	assert_int_equal(awc_parse_time("2024-05-01T10:00:00.123456789Z", &t), 0);
	assert_int_equal(t, T0 + 123456789);
	assert_int_equal(awc_parse_time("2024-05-01T12:00:00+02:00", &t), 0);
	assert_int_equal(t, T0);
	assert_int_equal(awc_parse_time("2024-05-01 10:00:00", &t), -1);
}

static void test_premerge_commit_rules(void **state)
{
	aw_client *c = *state;
	json_t *recs;

	/* same data every second: nothing committed until the event lasts 10 s */
	for (int i = 0; i < 10; i++)
		hb(c, T0 + i * S, "{\"app\":\"a\"}", 2);
	assert_int_equal(aw_client_queue_length(c), 0);
	hb(c, T0 + 10 * S, "{\"app\":\"a\"}", 2);
	assert_int_equal(aw_client_queue_length(c), 1);
	/* then again only after it has grown by another 10 s, or when the data changes */
	hb(c, T0 + 11 * S, "{\"app\":\"a\"}", 2);
	hb(c, T0 + 12 * S, "{\"app\":\"a\"}", 2);
	hb(c, T0 + 13 * S, "{\"app\":\"a\"}", 2);
	assert_int_equal(aw_client_queue_length(c), 1);
	hb(c, T0 + 14 * S, "{\"app\":\"b\"}", 2);
	assert_int_equal(aw_client_queue_length(c), 2);
	/* a gap longer than the pulsetime: committed although the data is equal */
	hb(c, T0 + 20 * S, "{\"app\":\"b\"}", 2);
	assert_int_equal(aw_client_queue_length(c), 3);
	/* key order does not matter for equality */
	hb(c, T0 + 21 * S, "{\"x\":1,\"y\":2}", 2);
	hb(c, T0 + 22 * S, "{\"y\":2,\"x\":1}", 2);
	assert_int_equal(aw_client_queue_length(c), 4);
	assert_int_equal(aw_client_flush(c), 0);
	assert_int_equal(aw_client_queue_length(c), 5);
	assert_int_equal(aw_client_flush(c), 0); /* nothing pending any more */
	assert_int_equal(aw_client_queue_length(c), 5);
	recs = queue_records();
	assert_int_equal(json_array_size(recs), 5);
	assert_string_equal(rec_ts(recs, 0), "2024-05-01T10:00:00Z");
	assert_true(rec_duration(recs, 0) == 10.0);
	assert_string_equal(rec_ts(recs, 1), "2024-05-01T10:00:00Z"); /* the same event, longer */
	assert_true(rec_duration(recs, 1) == 13.0);
	assert_string_equal(rec_ts(recs, 2), "2024-05-01T10:00:14Z");
	assert_true(rec_duration(recs, 2) == 0.0);
	assert_string_equal(rec_ts(recs, 3), "2024-05-01T10:00:20Z");
	assert_true(rec_duration(recs, 4) == 1.0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 0), "bucket")), "b_host");
	assert_true(json_number_value(json_object_get(json_array_get(recs, 0), "pulsetime")) == 2.0);
	json_decref(recs);
}

static void test_growing_event_commits_once_per_interval(void **state)
{
	aw_client *c = *state;
	json_t *recs;

	/* an afk event: same start, growing duration, one heartbeat per second for 60 s */
	for (int i = 1; i <= 60; i++) {
		aw_event ev = {T0, (double)i, "{\"status\":\"afk\"}"};

		assert_int_equal(aw_client_heartbeat(c, "b_host", &ev, 185), 0);
	}
	assert_int_equal(aw_client_queue_length(c), 6); /* at 10, 20, ... 60 s */
	/* a not-afk event that does not grow (no new input) is not re-sent */
	for (int i = 0; i < 30; i++) {
		aw_event ev = {T0 + 61 * S, 0, "{\"status\":\"not-afk\"}"};

		aw_client_heartbeat(c, "b_host", &ev, 185);
	}
	assert_int_equal(aw_client_queue_length(c), 6); /* the afk event was sent complete */
	aw_client_flush(c);
	recs = queue_records();
	assert_int_equal(json_array_size(recs), 7);
	assert_true(rec_duration(recs, 4) == 50.0);
	assert_true(rec_duration(recs, 5) == 60.0);
	assert_string_equal(rec_ts(recs, 6), "2024-05-01T10:01:01Z");
	json_decref(recs);
}

static void test_pulsetime_of_first_heartbeat_is_kept(void **state)
{
	aw_client *c = *state;
	json_t *recs;

	hb(c, T0, "{\"status\":\"afk\"}", 0);
	hb(c, T0 + S, "{\"status\":\"afk\"}", 185);
	hb(c, T0 + 2 * S, "{\"status\":\"afk\"}", 185);
	aw_client_flush(c);
	recs = queue_records();
	assert_int_equal(json_array_size(recs), 1);
	assert_true(json_number_value(json_object_get(json_array_get(recs, 0), "pulsetime")) == 0.0);
	assert_true(rec_duration(recs, 0) == 2.0);
	json_decref(recs);
}

static void test_free_commits_pending_and_queue_survives(void **state)
{
	aw_client *c = new_client(closed_port());

	(void)state;
	hb(c, T0, "{\"a\":1}", 5);
	hb(c, T0 + S, "{\"a\":1}", 5);
	aw_client_free(c);
	c = new_client(closed_port());
	assert_int_equal(aw_client_queue_length(c), 1);
	aw_client_free(c);
}

static void test_delivery_in_order(void **state)
{
	fake f;
	aw_client *c;
	int hbs = 0;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.bucket_status = 304; /* exists already: fine */
	fake_start(&f, 0);
	c = new_client(f.port);
	assert_int_equal(aw_client_register_bucket(c, "b_host", "currentwindow", "host"), 0);
	hb(c, T0, "{\"n\":1}", 2);
	hb(c, T0 + S, "{\"n\":2}", 2);
	hb(c, T0 + 2 * S, "{\"n\":3}", 2);
	aw_client_flush(c);
	assert_int_equal(aw_client_drain(c, 5000), AW_OK);
	assert_int_equal(aw_client_queue_length(c), 0);
	aw_client_free(c);
	fake_stop(&f);
	assert_string_equal(f.method[0], "POST");
	assert_string_equal(f.target[0], "/api/0/buckets/b_host");
	{
		json_t *b = json_loads(f.body[0], 0, NULL);

		assert_string_equal(json_string_value(json_object_get(b, "type")), "currentwindow");
		assert_string_equal(json_string_value(json_object_get(b, "client")), "test-watcher");
		assert_string_equal(json_string_value(json_object_get(b, "hostname")), "host");
		json_decref(b);
	}
	for (int i = 1; i < f.n; i++) {
		char want[32];
		json_t *e = json_loads(f.body[i], 0, NULL);

		assert_string_equal(f.target[i], "/api/0/buckets/b_host/heartbeat?pulsetime=2");
		snprintf(want, sizeof(want), "%d", ++hbs);
		assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "data"), "n")), hbs);
		json_decref(e);
	}
	assert_int_equal(hbs, 3);
	fake_free(&f);
}

static void test_node_down_then_up(void **state)
{
	fake f;
	aw_client *c;
	int port = closed_port();

	(void)state;
	c = new_client(port);
	aw_client_register_bucket(c, "b_host", "afkstatus", "host");
	for (int i = 0; i < 5; i++)
		hb(c, T0 + i * 10 * S, i % 2 ? "{\"status\":\"afk\"}" : "{\"status\":\"not-afk\"}", 15);
	aw_client_flush(c);
	assert_int_equal(aw_client_drain(c, 300), AW_ECONNECT);
	assert_int_equal(aw_client_queue_length(c), 5);
	aw_client_free(c); /* "the watcher restarts" */
	c = new_client(port);
	aw_client_register_bucket(c, "b_host", "afkstatus", "host");
	assert_int_equal(aw_client_drain(c, 200), AW_ECONNECT);
	memset(&f, 0, sizeof(f));
	fake_start(&f, port); /* the node comes back */
	assert_int_equal(aw_client_drain(c, 8000), AW_OK); /* after the back-off */
	aw_client_free(c);
	fake_stop(&f);
	assert_int_equal(f.n, 6);
	assert_non_null(strstr(f.target[0], "/api/0/buckets/b_host"));
	for (int i = 1; i < 6; i++) {
		json_t *e = json_loads(f.body[i], 0, NULL);
		char want[40];

		snprintf(want, sizeof(want), "2024-05-01T10:0%d:%d0Z", (i - 1) * 10 / 60, (i - 1) % 6);
		assert_string_equal(json_string_value(json_object_get(e, "timestamp")), want);
		json_decref(e);
	}
	fake_free(&f);
}

static void test_404_recreates_bucket_400_drops_500_retries(void **state)
{
	fake f;
	aw_client *c;

	(void)state;
	memset(&f, 0, sizeof(f));
	/* heartbeat 1: 404 (bucket gone) then 200; heartbeat 2: 400 (dropped);
	 * heartbeat 3: 500 then 200 */
	f.hb_status[0] = 404;
	f.hb_status[1] = 200;
	f.hb_status[2] = 400;
	f.hb_status[3] = 500;
	f.hb_status[4] = 200;
	f.n_hb_status = 5;
	fake_start(&f, 0);
	c = new_client(f.port);
	aw_client_register_bucket(c, "b_host", "t", "host");
	hb(c, T0, "{\"n\":1}", 1);
	hb(c, T0 + S, "{\"n\":2}", 1);
	hb(c, T0 + 2 * S, "{\"n\":3}", 1);
	aw_client_flush(c);
	assert_int_equal(aw_client_drain(c, 8000), AW_OK);
	aw_client_free(c);
	fake_stop(&f);
	/* bucket, hb1(404), bucket again, hb1, hb2(400), hb3(500), hb3 */
	assert_int_equal(f.n, 7);
	assert_null(strstr(f.target[0], "heartbeat"));
	assert_non_null(strstr(f.target[1], "heartbeat"));
	assert_null(strstr(f.target[2], "heartbeat"));
	assert_string_equal(f.body[1], f.body[3]);
	assert_string_equal(f.body[5], f.body[6]);
	fake_free(&f);
}

static void test_sync_calls(void **state)
{
	fake f;
	aw_client *c;
	char *out = NULL;
	aw_event evs[2] = {{T0, 1.5, "{\"k\":\"v\"}"}, {T0 + S, 0, NULL}};
	const char *periods[] = {"2024-05-01T00:00:00Z/2024-05-02T00:00:00Z"};

	(void)state;
	memset(&f, 0, sizeof(f));
	f.bucket_status = 304;
	f.chunked = 1;
	fake_start(&f, 0);
	c = new_client(f.port);
	assert_int_equal(aw_client_get_info(&out, c), 0);
	assert_non_null(strstr(out, "\"device_id\":\"d\""));
	aw_client_free_string(out);
	assert_int_equal(aw_client_create_bucket(c, "my bucket/1", "t", "h"), 0);
	assert_int_equal(aw_client_last_status(c), 304);
	assert_int_equal(aw_client_insert_events(NULL, c, "b", evs, 2), 0);
	assert_int_equal(aw_client_get_events(&out, c, "nosuch", 0, 0, -1), AW_ENOTFOUND);
	assert_null(out);
	assert_non_null(strstr(aw_error_last(), "404"));
	assert_int_equal(aw_client_get_events(&out, c, "b", T0, 0, 5), 0);
	free(out);
	assert_int_equal(aw_client_query(&out, c, "a = 1;\nRETURN = a;", periods, 1), 0);
	free(out);
	assert_int_equal(aw_client_send_heartbeat(NULL, c, "b", &evs[0], 1.5), 0);
	assert_int_equal(aw_client_delete_bucket(c, "b"), 0);
	{
		int status = 0;

		assert_int_equal(aw_client_request(&out, &status, c, "GET", "/api/0/nosuch", NULL), 0);
		assert_int_equal(status, 404);
		free(out);
	}
	aw_client_free(c);
	fake_stop(&f);
	assert_string_equal(f.target[1], "/api/0/buckets/my%20bucket%2F1");
	assert_string_equal(f.target[2], "/api/0/buckets/b/events");
	assert_string_equal(f.body[2], "[{\"timestamp\":\"2024-05-01T10:00:00Z\",\"duration\":1.5,\"data\":{\"k\":\"v\"}},"
				       "{\"timestamp\":\"2024-05-01T10:00:01Z\",\"duration\":0.0,\"data\":{}}]");
	assert_string_equal(f.target[4], "/api/0/buckets/b/events?start=2024-05-01T10:00:00Z&limit=5");
	assert_string_equal(f.target[5], "/api/0/query/");
	assert_string_equal(f.body[5], "{\"timeperiods\":[\"2024-05-01T00:00:00Z/2024-05-02T00:00:00Z\"],"
				       "\"query\":[\"a = 1;\",\"RETURN = a;\"]}");
	assert_string_equal(f.target[6], "/api/0/buckets/b/heartbeat?pulsetime=1.5");
	assert_string_equal(f.method[7], "DELETE");
	fake_free(&f);
}

static void test_unreachable_sync_call(void **state)
{
	aw_client *c = *state;
	char *out = (char *)1;

	assert_int_equal(aw_client_get_info(&out, c), AW_ECONNECT);
	assert_null(out);
	assert_non_null(strstr(aw_error_last(), "cannot reach the node"));
}

static void test_bad_arguments(void **state)
{
	aw_client *c = *state, *c2 = NULL;
	aw_client_options o;
	aw_event ev = {0, 0, "[1,2]"};

	assert_int_equal(aw_client_heartbeat(c, "b", &ev, 1), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "not a JSON object"));
	ev.data = "{bad";
	assert_int_equal(aw_client_heartbeat(c, "b", &ev, 1), AW_EINVALID);
	ev.data = "{}";
	ev.duration = -1;
	assert_int_equal(aw_client_heartbeat(c, "b", &ev, 1), AW_EINVALID);
	ev.duration = 0;
	assert_int_equal(aw_client_heartbeat(c, "b", &ev, -1), AW_EINVALID);
	assert_int_equal(aw_client_heartbeat(c, "", &ev, 1), AW_EINVALID);
	/* the queue is locked by c */
	o = qdir_options("x");
	assert_int_equal(aw_client_new(&c2, &o), AW_EBUSY);
	assert_null(c2);
	assert_non_null(strstr(aw_error_last(), "already running"));
	o.client_name = "bad/name";
	assert_int_equal(aw_client_new(&c2, &o), AW_EINVALID);
	o.client_name = "x";
	o.host = "a\r\nb";
	assert_int_equal(aw_client_new(&c2, &o), AW_EINVALID);
	o.version = 99;
	assert_int_equal(aw_client_new(&c2, &o), AW_EINVALID);
}

static void test_interrupt(void **state)
{
	aw_client *c = *state;

	aw_client_interrupt(c);
	assert_int_equal(aw_client_run(c, 10000), AW_EINTR);
	assert_int_equal(aw_client_run(c, 10), AW_OK);
	aw_client_interrupt(c);
	aw_client_clear_interrupt(c);
	assert_int_equal(aw_client_drain(c, 10000), AW_OK); /* empty queue: at once */
}

static void test_default_queue_dir(void **state)
{
	aw_client_options o;
	aw_client *c = NULL;
	char path[300];

	(void)state;
	setenv("XDG_CACHE_HOME", qdir, 1);
	aw_client_options_init(&o);
	o.client_name = "w";
	o.testing = 1;
	assert_int_equal(aw_client_new(&c, &o), 0);
	assert_string_equal(aw_client_base_url(c), "http://127.0.0.1:5666");
	aw_client_free(c);
	snprintf(path, sizeof(path), "%s/awnode/queue/w-testing/queue.jsonl", qdir);
	assert_int_equal(access(path, F_OK), 0);
}

/* a fresh queue directory; a client made by the test */
#define WITH_QDIR(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
/* and a client in *state that reaches no node */
#define OFFLINE(test) cmocka_unit_test_setup_teardown(test, setup_offline, teardown_offline)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_format),
		OFFLINE(test_premerge_commit_rules),
		OFFLINE(test_growing_event_commits_once_per_interval),
		OFFLINE(test_pulsetime_of_first_heartbeat_is_kept),
		WITH_QDIR(test_free_commits_pending_and_queue_survives),
		WITH_QDIR(test_delivery_in_order),
		WITH_QDIR(test_node_down_then_up),
		WITH_QDIR(test_404_recreates_bucket_400_drops_500_retries),
		WITH_QDIR(test_sync_calls),
		OFFLINE(test_unreachable_sync_call),
		OFFLINE(test_bad_arguments),
		OFFLINE(test_interrupt),
		WITH_QDIR(test_default_queue_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
