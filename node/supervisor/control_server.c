/*
 * The supervisor's end of the control channel (see aw/supervisor_ctl.h): a listening
 * Unix socket, mode 0600, and a few connections, each one request line in and one
 * response line out. Everything is non-blocking and driven by the supervisor's poll()
 * loop, so a client that connects and says nothing cannot stall the supervision.
 *
 * One supervisor per socket: a lock file beside the socket (flock, released by the
 * kernel even when the supervisor is killed) decides who owns it, and a socket file that
 * nobody answers on is what a killed supervisor left behind: it is replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/supervisor_ctl.h"
#include "aw/time.h"
#include "supervisor_int.h"

#define CONTROL_MAX_CLIENTS (CONTROL_MAX_FDS - 1)
#define CONTROL_CLIENT_MS 2000   /* to send the request and take the answer */
#define CONTROL_MAX_REQUEST 4096 /* requests are one short JSON object */

typedef struct control_client {
	int fd;           /* -1: free slot */
	int64_t deadline; /* monotonic ms */
	char in[CONTROL_MAX_REQUEST];
	size_t in_len;
	char *out;        /* the answer, once the request is complete */
	size_t out_len, out_off;
} control_client;

struct control_server {
	int listen_fd;
	int lock_fd;
	char path[AW_CTL_PATH_MAX];
	control_client clients[CONTROL_MAX_CLIENTS];
};

static void client_close(control_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->in_len = c->out_len = c->out_off = 0;
}

/* Someone accepts connections on path (a live supervisor, not a stale file). */
static int socket_answers(const char *path)
{
	struct sockaddr_un sa;
	int fd, dir_fd, ok;

	if (aw_supervisor_ctl_sockaddr(&sa, &dir_fd, path))
		return 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	if (dir_fd >= 0)
		close(dir_fd);
	return ok;
}

/* Take the lock beside the socket; AW_EBUSY if another supervisor holds it. */
static int take_lock(control_server *s)
{
	char lock[sizeof(s->path) + 8];

	snprintf(lock, sizeof(lock), "%s.lock", s->path);
	s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return aw_error_set(AW_ERROR, "cannot open %s: %s", lock, strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return aw_error_set(AW_EBUSY, "another awnode start holds %s", lock);
	return aw_error_set(AW_ERROR, "cannot lock %s: %s", lock, strerror(errno));
}

static int bind_socket(control_server *s)
{
	struct sockaddr_un sa;
	mode_t old;
	int rc, dir_fd;

	if (aw_supervisor_ctl_sockaddr(&sa, &dir_fd, s->path))
		return aw_error_set(AW_ERROR, "cannot reach the directory of %s: %s", s->path, strerror(errno));
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0) {
		int e = errno;

		if (dir_fd >= 0)
			close(dir_fd);
		return aw_error_set(AW_ERROR, "socket: %s", strerror(e));
	}
	/* created 0600 from the start: no moment where another user could connect */
	old = umask(077);
	rc = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (dir_fd >= 0)
		close(dir_fd);
	if (rc || chmod(s->path, 0600) || listen(s->listen_fd, CONTROL_MAX_CLIENTS))
		return aw_error_set(AW_ERROR, "cannot listen on %s: %s", s->path, strerror(errno));
	return 0;
}

int control_server_open(control_server **out, const char *path)
{
	control_server *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return aw_error_set(AW_ERROR, "out of memory");
	s->listen_fd = -1;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	snprintf(s->path, sizeof(s->path), "%s", path);
	rc = take_lock(s);
	if (rc == 0 && socket_answers(path)) /* one that predates the lock file, or whose lock was removed */
		rc = aw_error_set(AW_EBUSY, "another awnode start answers on %s", path);
	if (rc == 0) {
		/* what is left is a stale socket from a supervisor that was killed */
		if (unlink(path) && errno != ENOENT)
			rc = aw_error_set(AW_ERROR, "cannot remove the stale socket %s: %s", path, strerror(errno));
		else
			rc = bind_socket(s);
	}
	if (rc) {
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		if (s->lock_fd >= 0)
			close(s->lock_fd);
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int control_server_fds(control_server *s, struct pollfd *fds)
{
	int n = 0;

	if (!s)
		return 0;
	fds[n++] = (struct pollfd){s->listen_fd, POLLIN, 0};
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		control_client *c = &s->clients[i];
		if (c->fd >= 0)
			fds[n++] = (struct pollfd){c->fd, c->out ? POLLOUT : POLLIN, 0};
	}
	return n;
}

int64_t control_server_timeout(control_server *s, int64_t wait_ms)
{
	int64_t now = aw_time_monotonic_ms();

	for (size_t i = 0; s && i < CONTROL_MAX_CLIENTS; i++) {
		control_client *c = &s->clients[i];
		if (c->fd >= 0 && c->deadline - now < wait_ms)
			wait_ms = c->deadline > now ? c->deadline - now : 0;
	}
	return wait_ms;
}

/* Only this user (or root) may steer the supervisor. The socket's mode already says
 * so; the check also covers a directory that was made less private later. */
static int peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return 0;
	return cred.uid == geteuid() || cred.uid == 0;
}

static void accept_clients(control_server *s)
{
	int fd;

	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		control_client *slot = NULL;

		for (size_t i = 0; i < CONTROL_MAX_CLIENTS && !slot; i++)
			if (s->clients[i].fd < 0)
				slot = &s->clients[i];
		if (!slot || !peer_allowed(fd)) {
			close(fd); /* busy, or not this user: the client sees the connection close */
			continue;
		}
		slot->fd = fd;
		slot->deadline = aw_time_monotonic_ms() + CONTROL_CLIENT_MS;
	}
}

/* Send what is left of the answer; closes the connection when it is all out. */
static void client_write(control_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return; /* poll() says when it can go on */
		break;
	}
	client_close(c);
}

static void set_answer(control_client *c, char *line)
{
	size_t len = line ? strlen(line) : 0;
	char *out = line ? realloc(line, len + 2) : NULL;

	if (!out) {
		free(line);
		client_close(c);
		return;
	}
	out[len] = '\n';
	out[len + 1] = '\0';
	c->out = out;
	c->out_len = len + 1;
	client_write(c);
}

static void client_read(control_client *c, supervisor *sv)
{
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
		char *nl;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			client_close(c); /* gone before it finished its request */
			return;
		}
		c->in_len += (size_t)n;
		c->in[c->in_len] = '\0';
		nl = memchr(c->in, '\n', c->in_len);
		if (nl) {
			*nl = '\0';
			set_answer(c, control_answer(sv, c->in));
			return;
		}
		if (c->in_len >= sizeof(c->in) - 1) {
			set_answer(c, strdup("{\"ok\":false,\"error\":\"bad_request\",\"message\":\"request too long\"}"));
			return;
		}
	}
}

void control_server_service(control_server *s, const struct pollfd *fds, int n, supervisor *sv)
{
	int64_t now = aw_time_monotonic_ms();

	if (!s)
		return;
	for (int i = 0; i < n; i++) {
		control_client *c = NULL;

		if (!fds[i].revents)
			continue;
		if (fds[i].fd == s->listen_fd) {
			accept_clients(s);
			continue;
		}
		for (size_t j = 0; j < CONTROL_MAX_CLIENTS && !c; j++)
			if (s->clients[j].fd == fds[i].fd)
				c = &s->clients[j];
		if (!c)
			continue;
		if (c->out)
			client_write(c);
		else
			client_read(c, sv);
	}
	for (size_t j = 0; j < CONTROL_MAX_CLIENTS; j++)
		if (s->clients[j].fd >= 0 && now >= s->clients[j].deadline)
			client_close(&s->clients[j]);
}

void control_server_close(control_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		client_close(&s->clients[i]);
	close(s->listen_fd);
	unlink(s->path);
	/* The lock file stays: unlinking it while another supervisor has it open would
	 * let a third lock a new file and both own the socket. */
	close(s->lock_fd);
	free(s);
}
