/*
 * The control channel's client side and shared rules: see include/aw/supervisor_ctl.h.
 * The socket's path and its private directory, the socket address (with the long-path
 * workaround), one request/answer exchange with deadlines, and the names and pause
 * lengths both ends accept.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/files.h"
#include "aw/supervisor_ctl.h"
#include "aw/time.h"

/* An answer longer than this is not ours. */
#define MAX_RESPONSE (256 * 1024)

/* The directory that holds the socket: $XDG_RUNTIME_DIR/awnode, else a "run" directory
 * in the node's data directory (core's XDG rules, as the node finds its database). */
static int socket_dir(char *out, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *data = NULL;
	int n;

	if (rt && rt[0] == '/') {
		n = snprintf(out, len, "%s/awnode", rt);
	} else {
		data = aw_files_dir(AW_DIR_DATA);
		n = snprintf(out, len, "%s/run", data);
		free(data);
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Make the directory private: created 0700; one that exists must be ours (a socket in
 * somebody else's directory could be replaced under us) and is tightened to 0700. */
static int make_private_dir(const char *dir)
{
	struct stat st;

	if (aw_files_mkdir_p(dir, 0700))
		return AW_ERROR; /* the message names the directory */
	if (stat(dir, &st))
		return aw_error_set(AW_ERROR, "cannot create %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return aw_error_set(AW_ERROR, "%s is not a directory owned by this user", dir);
	if ((st.st_mode & 077) && chmod(dir, 0700))
		return aw_error_set(AW_ERROR, "cannot make %s private: %s", dir, strerror(errno));
	return 0;
}

int aw_supervisor_ctl_socket_path(char *out, size_t len, int testing, int create_dir)
{
	char dir[AW_CTL_PATH_MAX];
	int n;

	if (socket_dir(dir, sizeof(dir)))
		return aw_error_set(AW_ERROR, "the control socket's directory name is too long");
	n = snprintf(out, len, "%s/%s", dir, testing ? "supervisor-testing.sock" : "supervisor.sock");
	if (n < 0 || (size_t)n >= len)
		return aw_error_set(AW_ERROR, "the control socket path %s/... is too long", dir);
	return create_dir ? make_private_dir(dir) : 0;
}

/* Wait until fd is ready for `events` or the deadline passes (returns -1, errno set). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {fd, events, 0};

	for (;;) {
		int64_t left = deadline - aw_time_monotonic_ms();
		int r;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else if (wait_fd(fd, POLLOUT, deadline)) {
			return -1;
		}
	}
	return 0;
}

/* Read up to the first newline; returns the line (heap) or NULL with errno set. */
static char *recv_line(int fd, int64_t deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		char *nl;
		ssize_t n;

		if (len + 1 >= cap) {
			char *bigger = cap >= MAX_RESPONSE ? NULL : realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				errno = EMSGSIZE;
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			nl = memchr(buf, '\n', len);
			if (nl) {
				*nl = '\0';
				return buf;
			}
		} else if (n == 0) {
			errno = ECONNRESET;
			break;
		} else if ((errno != EAGAIN && errno != EINTR) || wait_fd(fd, POLLIN, deadline)) {
			break;
		}
	}
	free(buf);
	return NULL;
}

/* errno is what callers report (bind, connect), so it survives the message. */
static int sockaddr_error(const char *path)
{
	int e = errno;

	aw_error_set(AW_ERROR, "socket address for %s: %s", path, strerror(e));
	errno = e;
	return AW_ERROR;
}

int aw_supervisor_ctl_sockaddr(struct sockaddr_un *sa, int *dir_fd, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[AW_CTL_PATH_MAX];
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*dir_fd = -1;
	if (strlen(path) < sizeof(sa->sun_path)) {
		memcpy(sa->sun_path, path, strlen(path) + 1);
		return 0;
	}
	if (!slash || (size_t)(slash - path) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return sockaddr_error(path);
	}
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	*dir_fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dir_fd < 0)
		return sockaddr_error(path);
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dir_fd, slash + 1);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path)) {
		close(*dir_fd);
		*dir_fd = -1;
		errno = ENAMETOOLONG;
		return sockaddr_error(path);
	}
	return 0;
}

/* Connect without blocking; returns the socket, or -1 with errno from connect(). */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd, dir_fd, rc, saved;

	if (aw_supervisor_ctl_sockaddr(&sa, &dir_fd, path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	rc = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	saved = errno;
	if (dir_fd >= 0)
		close(dir_fd);
	if (rc == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	errno = saved;
	return -1;
}

int aw_supervisor_ctl_request(char **out_response, const char *path, const char *request_line, int timeout_ms)
{
	int64_t deadline = aw_time_monotonic_ms() + timeout_ms;
	size_t len = strlen(request_line);
	char *line = malloc(len + 2);
	int fd, rc = 0;

	*out_response = NULL;
	if (!line)
		return aw_error_set(AW_ERROR, "out of memory");
	memcpy(line, request_line, len);
	memcpy(line + len, "\n", 2);
	fd = connect_unix(path);
	if (fd < 0) {
		int e = errno;

		free(line);
		/* no socket file, or one nobody listens on (left by a killed supervisor) */
		return aw_error_set(e == ENOENT || e == ECONNREFUSED || e == ENOTDIR ? AW_ENOTFOUND : AW_ERROR,
				    "cannot connect to %s: %s", path, strerror(e));
	}
	if (send_all(fd, line, len + 1, deadline))
		rc = aw_error_set(AW_ERROR, "cannot send to %s: %s", path, strerror(errno));
	else if (!(*out_response = recv_line(fd, deadline)))
		rc = aw_error_set(AW_ERROR, "no answer from %s: %s", path,
				  errno == ETIMEDOUT ? "timed out" : strerror(errno));
	close(fd);
	free(line);
	return rc;
}

const char *aw_supervisor_ctl_watcher_name(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "afk") || !strcmp(name, "aw-watcher-afk"))
		return "aw-watcher-afk";
	if (!strcmp(name, "window") || !strcmp(name, "aw-watcher-window"))
		return "aw-watcher-window";
	return NULL;
}

static long unit_seconds(char u)
{
	switch (u) {
	case 'd': return 86400;
	case 'h': return 3600;
	case 'm': return 60;
	case 's': return 1;
	default: return 0;
	}
}

static int parse_duration(long *out, const char *s)
{
	long total = 0, last_unit = 0;
	int parts = 0;

	if (!s || !*s)
		return -1;
	while (*s) {
		long v = 0, unit;

		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			if (v > AW_CTL_MAX_PAUSE_S)
				return -1;
			v = v * 10 + (*s++ - '0');
		}
		parts++;
		if (!*s) {
			/* a bare number is seconds, but only on its own ("45", not "1h30") */
			if (parts > 1)
				return -1;
			unit = 1;
		} else {
			unit = unit_seconds(*s++);
			if (!unit || (last_unit && unit >= last_unit))
				return -1;
		}
		last_unit = unit;
		if (v > AW_CTL_MAX_PAUSE_S / unit)
			return -1;
		total += v * unit;
		if (total > AW_CTL_MAX_PAUSE_S)
			return -1;
	}
	if (total < 1)
		return -1;
	*out = total;
	return 0;
}

int aw_supervisor_ctl_parse_duration(long *out, const char *s)
{
	if (parse_duration(out, s))
		return aw_error_set(AW_EINVALID,
				    "invalid pause length '%.40s': use e.g. 90s, 15m, 2h, 1h30m, 1d (at most %ld days)",
				    s ? s : "", AW_CTL_MAX_PAUSE_S / 86400);
	return 0;
}
