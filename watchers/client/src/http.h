/*
 * A minimal non-blocking HTTP/1.1 client for one request per connection
 * ("Connection: close"), enough to talk to a node on the loopback interface: no TLS,
 * no redirects, no proxies. Responses with Content-Length, chunked encoding or
 * close-delimited bodies are understood.
 *
 * Use: awc_http_begin() resolves and starts a non-blocking connect; then, whenever
 * awc_http_pollfd() says the socket is ready (or its deadline passed), call
 * awc_http_step() until it returns AWC_HTTP_DONE or AWC_HTTP_FAILED. awc_http_perform()
 * does all of that blocking. awc_http_reset() frees everything (safe to call twice).
 */
#ifndef AWC_HTTP_H
#define AWC_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

enum { AWC_HTTP_PENDING = 0, AWC_HTTP_DONE = 1, AWC_HTTP_FAILED = -1 };

typedef struct awc_http {
	int state;        /* internal */
	int fd;
	struct addrinfo *ai_list, *ai_cur;
	char *out;        /* the whole request */
	size_t out_len, out_off;
	char *in;         /* raw bytes received */
	size_t in_len, in_cap;
	size_t head_len;  /* bytes of the header block incl. the blank line, 0 until seen */
	long long content_length; /* -1 if none */
	int chunked;
	size_t chunk_pos;         /* chunked: next unparsed byte in `in` */
	long long chunk_left;     /* chunked: bytes left in the current chunk, -1 = need size line */
	int64_t deadline_ms;      /* CLOCK_MONOTONIC */
	/* results */
	int status;               /* HTTP status, 0 if none */
	char *body;               /* decoded body, NUL-terminated (owned) */
	size_t body_len, body_cap;
	char err[200];            /* why it failed */
} awc_http;

int64_t awc_mono_ms(void);

void awc_http_init(awc_http *h);
/* Start a request. `headers` is extra header lines, each ending in "\r\n" (may be NULL).
 * Returns AWC_HTTP_PENDING or AWC_HTTP_FAILED (err set). */
int awc_http_begin(awc_http *h, const char *host, int port, const char *method, const char *target,
		   const char *headers, const char *body, size_t body_len, long timeout_ms);
/* The fd and events to wait for; returns 0 if there is nothing to wait for. */
int awc_http_pollfd(const awc_http *h, struct pollfd *p);
int awc_http_step(awc_http *h);
int awc_http_perform(awc_http *h);
/* Take ownership of the body (NUL-terminated; may be an empty string). */
char *awc_http_take_body(awc_http *h);
void awc_http_reset(awc_http *h);
int awc_http_active(const awc_http *h);

#endif
