/* The on-disk heartbeat queue: see queue.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/files.h"
#include "queue.h"

struct disk_queue {
	int fd;       /* queue.jsonl */
	int pos_fd;   /* queue.pos */
	int lock_fd;
	off_t head;   /* first undelivered byte */
	off_t size;   /* file size (we are the only writer) */
	off_t peeked; /* end of the record returned by the last peek (after '\n'), 0 = none */
	size_t count;
};

static int write_pos(disk_queue *q)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%020lld\n", (long long)q->head);

	return pwrite(q->pos_fd, buf, (size_t)n, 0) == n ? 0 : -1;
}

/* Count complete records in [from, size); also returns the offset just after the last
 * newline in *last_nl (== from if there is none). */
static int scan(int fd, off_t from, off_t size, size_t *count, off_t *last_nl)
{
	char buf[65536];
	off_t off = from;

	*count = 0;
	*last_nl = from;
	while (off < size) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				(*count)++;
				*last_nl = off + i + 1;
			}
		}
		off += n;
	}
	return 0;
}

int queue_open(disk_queue **out, const char *dir)
{
	disk_queue *q = calloc(1, sizeof(*q));
	char path[4200];
	struct stat st;
	off_t last_nl;
	int rc = AW_ERROR;

	*out = NULL;
	if (!q)
		return aw_error_set(AW_ERROR, "out of memory");
	q->fd = q->pos_fd = q->lock_fd = -1;
	if (aw_files_mkdir_p(dir, 0700)) {
		char why[512];

		/* a copy: aw_error_set must not read the message it overwrites */
		snprintf(why, sizeof(why), "%s", aw_error_last());
		rc = aw_error_set(AW_ERROR, "cannot create queue directory %s: %s", dir, why);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/lock", dir);
	q->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->lock_fd < 0) {
		rc = aw_error_set(AW_ERROR, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(q->lock_fd, LOCK_EX | LOCK_NB)) {
		queue_close(q);
		return aw_error_set(AW_EBUSY, "queue %s is in use by another process (is this watcher already running?)",
				    dir);
	}
	snprintf(path, sizeof(path), "%s/queue.jsonl", dir);
	q->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (q->fd < 0 || fstat(q->fd, &st)) {
		rc = aw_error_set(AW_ERROR, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	q->size = st.st_size;
	snprintf(path, sizeof(path), "%s/queue.pos", dir);
	q->pos_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (q->pos_fd < 0) {
		rc = aw_error_set(AW_ERROR, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	{
		char buf[32] = {0};
		ssize_t n = pread(q->pos_fd, buf, sizeof(buf) - 1, 0);
		long long v = n > 0 ? strtoll(buf, NULL, 10) : 0;

		q->head = v > 0 && v <= q->size ? (off_t)v : 0;
	}
	/* the head must sit at the start of a record */
	if (q->head > 0) {
		char c;

		if (pread(q->fd, &c, 1, q->head - 1) != 1 || c != '\n')
			q->head = 0;
	}
	if (scan(q->fd, q->head, q->size, &q->count, &last_nl)) {
		rc = aw_error_set(AW_ERROR, "cannot read %s/queue.jsonl: %s", dir, strerror(errno));
		goto fail;
	}
	if (last_nl < q->size) { /* torn last record */
		if (ftruncate(q->fd, last_nl)) {
			rc = aw_error_set(AW_ERROR, "cannot repair %s/queue.jsonl: %s", dir, strerror(errno));
			goto fail;
		}
		q->size = last_nl;
	}
	if (q->count == 0 && q->size > 0) {
		if (ftruncate(q->fd, 0) == 0)
			q->size = 0;
		q->head = 0;
	}
	if (write_pos(q)) {
		rc = aw_error_set(AW_ERROR, "cannot write %s/queue.pos: %s", dir, strerror(errno));
		goto fail;
	}
	*out = q;
	return 0;
fail:
	queue_close(q);
	return rc;
}

void queue_close(disk_queue *q)
{
	if (!q)
		return;
	if (q->fd >= 0) {
		fdatasync(q->fd);
		close(q->fd);
	}
	if (q->pos_fd >= 0)
		close(q->pos_fd);
	if (q->lock_fd >= 0)
		close(q->lock_fd); /* releases the lock */
	free(q);
}

int queue_append(disk_queue *q, const char *rec, size_t len)
{
	char *line = malloc(len + 1);
	size_t off = 0;

	if (!line)
		return -1;
	memcpy(line, rec, len);
	line[len] = '\n';
	while (off < len + 1) {
		ssize_t n = write(q->fd, line + off, len + 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(line);
			/* cut off a partial line so the file stays well-formed */
			if (off && ftruncate(q->fd, q->size) == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	free(line);
	q->size += (off_t)(len + 1);
	q->count++;
	return 0;
}

int queue_peek(disk_queue *q, char **rec, size_t *len)
{
	size_t cap = 1024, have = 0;
	char *buf;

	*rec = NULL;
	*len = 0;
	q->peeked = 0;
	if (q->head >= q->size || q->count == 0)
		return 1;
	buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		ssize_t n;
		char *nl;

		if (cap - have < 512) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		n = pread(q->fd, buf + have, cap - have - 1, q->head + (off_t)have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -1 : 1;
		}
		nl = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
		if (nl) {
			*nl = '\0';
			*len = (size_t)(nl - buf);
			*rec = buf;
			q->peeked = q->head + (off_t)*len + 1;
			return 0;
		}
	}
}

int queue_pop(disk_queue *q)
{
	if (!q->peeked)
		return -1;
	q->head = q->peeked;
	q->peeked = 0;
	if (q->count)
		q->count--;
	if (q->head >= q->size) {
		/* everything delivered: start over (truncate first, then the offset, so a crash
		 * in between leaves an offset past the end, which reads as 0) */
		if (ftruncate(q->fd, 0) == 0) {
			q->size = 0;
			q->head = 0;
		}
	}
	return write_pos(q);
}

size_t queue_length(const disk_queue *q)
{
	return q ? q->count : 0;
}
