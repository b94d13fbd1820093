/*
 * A probe preloaded into the node by tests/integration/test_durability.py: it logs
 * every write to and every sync of a SQLite write-ahead log (a file whose name ends in
 * "-wal") with CLOCK_MONOTONIC start and end times, and can slow the syncs down. With
 * it a test can tell whether an acknowledgment waited for the log's fdatasync, which is
 * what makes a write survive a power cut; a kill -9 cannot tell, since the kernel keeps
 * what the process wrote.
 *
 *   AWTEST_WAL_LOG=PATH            append "W|S <start ns> <end ns>" lines to PATH
 *   AWTEST_WAL_SYNC_DELAY_US=N     sleep N microseconds before each sync of a WAL
 *
 * Only the libc entry points SQLite's unix VFS calls are wrapped: pwrite, pwrite64,
 * fdatasync and fsync. Each line is one write(2) to an O_APPEND file, so lines from
 * several threads do not mix.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int is_wal(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 4)
		return 0;
	path[n] = '\0';
	return !strcmp(path + n - 4, "-wal");
}

static void log_line(char kind, long long start, long long end)
{
	static int fd = -2;
	char line[96];
	int n;

	if (fd == -2) {
		const char *p = getenv("AWTEST_WAL_LOG");
		fd = p ? open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
	}
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%c %lld %lld\n", kind, start, end);
	if (write(fd, line, (size_t)n) != n)
		return;
}

static void delay_sync(void)
{
	const char *e = getenv("AWTEST_WAL_SYNC_DELAY_US");
	long us = e ? atol(e) : 0;
	struct timespec ts;

	if (us <= 0)
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

typedef int (*sync_fn)(int);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);

#define REAL(name, type) \
	static type real; \
	if (!real) \
		real = (type)dlsym(RTLD_NEXT, name)

static int synced(sync_fn real, int fd)
{
	long long start;
	int rc;

	if (!is_wal(fd))
		return real(fd);
	start = now_ns();
	delay_sync();
	rc = real(fd);
	log_line('S', start, now_ns());
	return rc;
}

int fdatasync(int fd)
{
	REAL("fdatasync", sync_fn);
	return synced(real, fd);
}

int fsync(int fd)
{
	REAL("fsync", sync_fn);
	return synced(real, fd);
}

static ssize_t written(pwrite_fn real, int fd, const void *buf, size_t n, off_t off)
{
	long long start = now_ns();
	ssize_t rc = real(fd, buf, n, off);

	if (is_wal(fd))
		log_line('W', start, now_ns());
	return rc;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite", pwrite_fn);
	return written(real, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL("pwrite64", pwrite_fn);
	return written(real, fd, buf, n, off);
}
