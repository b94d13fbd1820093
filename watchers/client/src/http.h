/*
 * A minimal non-blocking HTTP/1.1 client for one request per connection
 * ("Connection: close"), enough to talk to a node on the loopback interface: no TLS,
 * no redirects, no proxies. Responses with Content-Length, chunked encoding or
 * close-delimited bodies are understood.
 *
 * Use: http_begin() resolves and starts a non-blocking connect; then, whenever
 * http_pollfd() says the socket is ready (or its deadline passed), call
 * http_step() until it returns HTTP_DONE or HTTP_FAILED. http_perform()
 * does all of that blocking. http_reset() frees everything (safe to call twice).
 */
#ifndef CLIENT_HTTP_H
#define CLIENT_HTTP_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

enum { HTTP_PENDING = 0, HTTP_DONE = 1, HTTP_FAILED = -1 };

typedef struct http_req {
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
} http_req;

void http_init(http_req *h);
/* Start a request. `headers` is extra header lines, each ending in "\r\n" (may be NULL).
 * Returns HTTP_PENDING or HTTP_FAILED (err set). */
int http_begin(http_req *h, const char *host, int port, const char *method, const char *target,
		   const char *headers, const char *body, size_t body_len, long timeout_ms);
/* The fd and events to wait for; returns 0 if there is nothing to wait for. */
int http_pollfd(const http_req *h, struct pollfd *p);
int http_step(http_req *h);
int http_perform(http_req *h);
/* Take ownership of the body (NUL-terminated; may be an empty string). */
char *http_take_body(http_req *h);
void http_reset(http_req *h);
int http_active(const http_req *h);

#endif
