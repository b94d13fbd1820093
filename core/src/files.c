/*
 * XDG paths and whole-file I/O (see aw/files.h).
 *
 * Writes go to "<path>.tmp" and are renamed over the target, so a reader (or a crash)
 * sees the old file or the new one, never a mix. AW_FILES_CREATE uses O_EXCL on the
 * final name instead: it is for default files that must never overwrite a user's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/files.h"
#include "aw/mem.h"

static char *fmt_path(const char *a, const char *b, const char *c)
{
	char *out;

	if (asprintf(&out, "%s/%s%s%s", a, b, c ? "/" : "", c ? c : "") < 0)
		abort();
	return out;
}

char *aw_files_dir(int which)
{
	static const char *const env[] = {"XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"};
	static const char *const rel[] = {".local/share", ".config", ".local/state", ".cache"};
	const char *base, *home = getenv("HOME");

	if (which < AW_DIR_DATA || which > AW_DIR_CACHE)
		which = AW_DIR_DATA;
	base = getenv(env[which]);
	if (base && base[0] == '/')
		return fmt_path(base, "awnode", NULL);
	return fmt_path(home && *home ? home : "/tmp", rel[which], "awnode");
}

char *aw_files_config_path(const char *name)
{
	char *dir = aw_files_dir(AW_DIR_CONFIG), *path = fmt_path(dir, name, NULL);

	free(dir);
	return path;
}

int aw_files_mkdir_p(const char *path, int mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return aw_error_set(AW_ERROR, "bad directory path '%s'", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
			return aw_error_set(AW_ERROR, "cannot create %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
		return aw_error_set(AW_ERROR, "cannot create %s: %s", tmp, strerror(errno));
	return 0;
}

int aw_files_open_regular(int *fd, uint64_t *size, const char *path)
{
	struct stat st;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? aw_error_set(AW_ENOTFOUND, "cannot read %s: it does not exist", path)
			       : aw_error_set(AW_ERROR, "cannot read %s: %s", path, strerror(errno));
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return aw_error_set(AW_ERROR, "cannot read %s: not a regular file", path);
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

int aw_files_read(char **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	uint64_t size;
	size_t got = 0;
	char *buf;
	int fd, rc;

	*out = NULL;
	if (len)
		*len = 0;
	if ((rc = aw_files_open_regular(&fd, &size, path)))
		return rc;
	st.st_size = (off_t)size;
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return aw_error_set(AW_ERANGE, "cannot read %s: larger than %zu bytes", path, max);
	}
	buf = aw_mem_malloc((size_t)st.st_size + 1);
	/* A file that grows while we read is cut at the size fstat saw: never more than max. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return aw_error_set(AW_ERROR, "cannot read %s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_dir(const char *dir)
{
	int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

int aw_files_write(const char *path, const void *data, size_t len, int mode, int flags)
{
	char *dir = aw_mem_strdup(path), *slash, *tmp = NULL;
	const char *target;
	int fd, rc = 0;

	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		if (*dir && aw_files_mkdir_p(dir, 0700)) {
			free(dir);
			return AW_ERROR;
		}
	}
	if (flags & AW_FILES_CREATE) {
		target = path;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
		if (fd < 0 && errno == EEXIST) {
			free(dir);
			return 0;
		}
	} else {
		if (asprintf(&tmp, "%s.tmp", path) < 0)
			abort();
		target = tmp;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	}
	if (fd < 0) {
		rc = aw_error_set(AW_ERROR, "cannot write %s: %s", target, strerror(errno));
		goto out;
	}
	/* open()'s mode applies only to a new file; a stale temporary keeps its own */
	if (fchmod(fd, (mode_t)mode)) {
		/* best effort */
	}
	if (write_all(fd, data, len) || ((flags & AW_FILES_DURABLE) && fsync(fd)))
		rc = aw_error_set(AW_ERROR, "cannot write %s: %s", target, strerror(errno));
	close(fd);
	if (!rc && tmp && rename(tmp, path))
		rc = aw_error_set(AW_ERROR, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc)
		unlink(target);
	else if (slash && (flags & AW_FILES_DURABLE))
		fsync_dir(dir);
out:
	free(tmp);
	free(dir);
	return rc;
}
