/* Minimal non-blocking HTTP/1.1 client: see http.h. */
#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aw/time.h"
#include "http.h"

enum { ST_IDLE = 0, ST_CONNECTING, ST_SENDING, ST_RECEIVING, ST_DONE, ST_FAILED };

#define MAX_RESPONSE (256u * 1024 * 1024)
#define MAX_HEAD (64u * 1024)

void http_init(http_req *h)
{
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

static void close_fd(http_req *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

void http_reset(http_req *h)
{
	close_fd(h);
	if (h->ai_list)
		freeaddrinfo(h->ai_list);
	free(h->out);
	free(h->in);
	free(h->body);
	http_init(h);
}

int http_active(const http_req *h)
{
	return h->state == ST_CONNECTING || h->state == ST_SENDING || h->state == ST_RECEIVING;
}

__attribute__((format(printf, 2, 3))) static int fail(http_req *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	close_fd(h);
	h->state = ST_FAILED;
	return HTTP_FAILED;
}

/* Start a non-blocking connect to h->ai_cur or the next address that accepts one. */
static int start_connect(http_req *h)
{
	int saved = 0;

	for (; h->ai_cur; h->ai_cur = h->ai_cur->ai_next) {
		struct addrinfo *a = h->ai_cur;
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);

		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			h->fd = fd;
			h->state = ST_CONNECTING;
			return HTTP_PENDING;
		}
		saved = errno;
		close(fd);
	}
	return fail(h, "%s", strerror(saved ? saved : ECONNREFUSED));
}

int http_begin(http_req *h, const char *host, int port, const char *method, const char *target,
		   const char *headers, const char *body, size_t body_len, long timeout_ms)
{
	struct addrinfo hints;
	char portstr[16];
	int rc, n;
	size_t cap;

	http_reset(h);
	h->content_length = -1;
	h->chunk_left = -1;
	h->deadline_ms = aw_time_monotonic_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	cap = strlen(method) + strlen(target) + strlen(host) + (headers ? strlen(headers) : 0) + body_len + 256;
	h->out = malloc(cap);
	if (!h->out)
		return fail(h, "out of memory");
	n = snprintf(h->out, cap,
		     "%s %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: aw-client-c\r\nAccept: application/json\r\n"
		     "Connection: close\r\n%s",
		     method, target, host, port, headers ? headers : "");
	if (n < 0 || (size_t)n >= cap)
		return fail(h, "request too long");
	if (body)
		n += snprintf(h->out + n, cap - (size_t)n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body_len);
	else if (!strcmp(method, "POST") || !strcmp(method, "PUT"))
		n += snprintf(h->out + n, cap - (size_t)n, "Content-Length: 0\r\n\r\n");
	else
		n += snprintf(h->out + n, cap - (size_t)n, "\r\n");
	if ((size_t)n + body_len >= cap)
		return fail(h, "request too long");
	if (body)
		memcpy(h->out + n, body, body_len);
	h->out_len = (size_t)n + body_len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &h->ai_list);
	if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {
		hints.ai_flags = 0; /* e.g. no non-loopback address configured */
		rc = getaddrinfo(host, portstr, &hints, &h->ai_list);
	}
	if (rc) {
		h->ai_list = NULL;
		return fail(h, "cannot resolve host: %s", gai_strerror(rc));
	}
	h->ai_cur = h->ai_list;
	return start_connect(h);
}

int http_pollfd(const http_req *h, struct pollfd *p)
{
	if (!http_active(h) || h->fd < 0)
		return 0;
	p->fd = h->fd;
	p->events = (short)(h->state == ST_RECEIVING ? POLLIN : POLLOUT);
	p->revents = 0;
	return 1;
}

static int body_append(http_req *h, const char *p, size_t n)
{
	if (h->body_len + n + 1 > h->body_cap) {
		size_t cap = h->body_cap ? h->body_cap : 1024;
		char *nb;

		while (cap < h->body_len + n + 1)
			cap *= 2;
		nb = realloc(h->body, cap);
		if (!nb)
			return -1;
		h->body = nb;
		h->body_cap = cap;
	}
	memcpy(h->body + h->body_len, p, n);
	h->body_len += n;
	h->body[h->body_len] = '\0';
	return 0;
}

/* Parse the header block once it is complete. 0 = ok, -1 = malformed. */
static int parse_head(http_req *h)
{
	char *end = memmem(h->in, h->in_len, "\r\n\r\n", 4), *line, *next;
	int major, minor, status;

	if (!end)
		return 1; /* not yet */
	h->head_len = (size_t)(end - h->in) + 4;
	if (sscanf(h->in, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || status < 100 || status > 999)
		return -1;
	h->status = status;
	line = memchr(h->in, '\n', h->head_len);
	for (; line && line < end; line = next) {
		line++;
		next = memchr(line, '\n', (size_t)(end + 2 - line));
		if (!next)
			break;
		if (!strncasecmp(line, "Content-Length:", 15)) {
			char *e;
			long long v = strtoll(line + 15, &e, 10);

			if (v < 0)
				return -1;
			h->content_length = v;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
			char *s = line + 18;

			while (*s == ' ' || *s == '\t')
				s++;
			if (!strncasecmp(s, "chunked", 7))
				h->chunked = 1;
		}
	}
	if (status == 204 || status == 304 || status < 200)
		h->content_length = 0, h->chunked = 0;
	h->chunk_pos = h->head_len;
	return 0;
}

/* Consume what arrived of a chunked body. 1 = complete, 0 = need more, -1 = bad. */
static int parse_chunks(http_req *h)
{
	for (;;) {
		if (h->chunk_left < 0) {
			char *nl = memchr(h->in + h->chunk_pos, '\n', h->in_len - h->chunk_pos), *e;
			long long sz;

			if (!nl)
				return 0;
			sz = strtoll(h->in + h->chunk_pos, &e, 16);
			if (e == h->in + h->chunk_pos || sz < 0)
				return -1;
			h->chunk_pos = (size_t)(nl - h->in) + 1;
			if (sz == 0)
				return 1; /* trailers ignored */
			h->chunk_left = sz;
		}
		{
			size_t avail = h->in_len - h->chunk_pos;
			size_t take = (size_t)h->chunk_left < avail ? (size_t)h->chunk_left : avail;

			if (take && body_append(h, h->in + h->chunk_pos, take))
				return -1;
			h->chunk_pos += take;
			h->chunk_left -= (long long)take;
			if (h->chunk_left > 0)
				return 0;
			/* skip the CRLF after the chunk data */
			if (h->in_len - h->chunk_pos < 2)
				return 0;
			h->chunk_pos += 2;
			h->chunk_left = -1;
		}
	}
}

/* Is the response complete? 1 yes, 0 no, -1 malformed. `eof`: the peer closed. */
static int response_complete(http_req *h, int eof)
{
	if (!h->head_len) {
		int r = parse_head(h);

		if (r < 0)
			return -1;
		if (r > 0)
			return eof ? -1 : 0;
	}
	if (h->chunked) {
		int r = parse_chunks(h);

		return r == 0 && eof ? -1 : r;
	}
	if (h->content_length >= 0) {
		if ((long long)(h->in_len - h->head_len) >= h->content_length) {
			h->body_len = 0;
			if (body_append(h, h->in + h->head_len, (size_t)h->content_length))
				return -1;
			return 1;
		}
		return eof ? -1 : 0;
	}
	if (eof) {
		h->body_len = 0;
		if (body_append(h, h->in + h->head_len, h->in_len - h->head_len))
			return -1;
		return 1;
	}
	return 0;
}

int http_step(http_req *h)
{
	if (h->state == ST_DONE)
		return HTTP_DONE;
	if (h->state == ST_FAILED || h->state == ST_IDLE)
		return HTTP_FAILED;
	if (aw_time_monotonic_ms() >= h->deadline_ms)
		return fail(h, "timed out");

	if (h->state == ST_CONNECTING) {
		struct pollfd p = {h->fd, POLLOUT, 0};
		int err = 0;
		socklen_t len = sizeof(err);

		if (poll(&p, 1, 0) <= 0)
			return HTTP_PENDING;
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
			close_fd(h);
			h->ai_cur = h->ai_cur ? h->ai_cur->ai_next : NULL;
			if (h->ai_cur && start_connect(h) == HTTP_PENDING)
				return HTTP_PENDING;
			return fail(h, "%s", strerror(err ? err : ECONNREFUSED));
		}
		h->state = ST_SENDING;
	}
	if (h->state == ST_SENDING) {
		while (h->out_off < h->out_len) {
			ssize_t n = send(h->fd, h->out + h->out_off, h->out_len - h->out_off, MSG_NOSIGNAL);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return HTTP_PENDING;
				if (errno == EINTR)
					continue;
				return fail(h, "send failed: %s", strerror(errno));
			}
			h->out_off += (size_t)n;
		}
		h->state = ST_RECEIVING;
	}
	for (;;) {
		ssize_t n;
		int r;

		if (h->in_cap - h->in_len < 4096) {
			size_t cap = h->in_cap ? h->in_cap * 2 : 8192;
			char *ni;

			if (cap > MAX_RESPONSE)
				return fail(h, "response too large");
			ni = realloc(h->in, cap);
			if (!ni)
				return fail(h, "out of memory");
			h->in = ni;
			h->in_cap = cap;
		}
		n = recv(h->fd, h->in + h->in_len, h->in_cap - h->in_len - 1, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return HTTP_PENDING;
			if (errno == EINTR)
				continue;
			if (h->head_len == 0 && h->in_len == 0)
				return fail(h, "connection reset: %s", strerror(errno));
			n = 0; /* treat a reset after data as EOF */
		}
		h->in_len += (size_t)n;
		h->in[h->in_len] = '\0';
		if (!h->head_len && h->in_len > MAX_HEAD && !memmem(h->in, h->in_len, "\r\n\r\n", 4))
			return fail(h, "response header too large");
		r = response_complete(h, n == 0);
		if (r < 0)
			return fail(h, "%s", h->in_len ? "malformed HTTP response" : "connection closed without an answer");
		if (r > 0) {
			close_fd(h);
			if (!h->body && body_append(h, "", 0))
				return fail(h, "out of memory");
			h->state = ST_DONE;
			return HTTP_DONE;
		}
		if (n == 0)
			return fail(h, "connection closed early");
	}
}

int http_perform(http_req *h)
{
	for (;;) {
		struct pollfd p;
		int r = http_step(h);
		int64_t left;

		if (r != HTTP_PENDING)
			return r;
		if (!http_pollfd(h, &p))
			return HTTP_FAILED;
		left = h->deadline_ms - aw_time_monotonic_ms();
		if (left < 0)
			left = 0;
		if (poll(&p, 1, (int)(left > 60000 ? 60000 : left)) < 0 && errno != EINTR)
			return fail(h, "poll failed: %s", strerror(errno));
	}
}

char *http_take_body(http_req *h)
{
	char *b = h->body;

	h->body = NULL;
	h->body_len = h->body_cap = 0;
	return b;
}
