/*
 * Small helpers of the sync module: files written atomically, XDG paths, hex, hashes,
 * segment file names.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "internal.h"

char *aws_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

char *aws_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

int aws_read_fd(int fd, const char *what, size_t max, unsigned char **out, size_t *len)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;

	*out = NULL;
	*len = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		return aw_error_set(AW_EINVALID, "cannot read %s: not a regular file", what);
	if ((unsigned long long)st.st_size > max)
		return aw_error_set(AW_EINVALID, "%s is too large (%lld bytes; at most %zu)", what, (long long)st.st_size,
				    max);
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return aw_error_set(AW_ERROR, "out of memory reading %s", what);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		free(buf);
		return aw_error_set(AW_ERROR, "cannot read %s: short read", what);
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int aws_read_file(const char *path, unsigned char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? aw_error_set(AW_ENOTFOUND, "%s does not exist", path)
			       : aw_error_set(AW_ERROR, "cannot read %s: %s", path, strerror(errno));
	rc = aws_read_fd(fd, path, SIZE_MAX - 1, out, len);
	close(fd);
	return rc;
}

int aws_mkdir_p(const char *path, int mode)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return aw_error_set(AW_ERROR, "bad directory path '%s'", path);
	memcpy(tmp, path, n + 1);
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

static int write_file(const char *path, const void *data, size_t len, int mode, bool durable)
{
	char *tmp = aws_fmt("%s.tmp", path), *dir = aws_strdup(path), *slash = strrchr(dir, '/');
	const unsigned char *p = data;
	size_t done = 0;
	int fd, rc = 0;

	if (slash) {
		*slash = '\0';
		if (*dir && aws_mkdir_p(dir, 0700)) {
			rc = AW_ERROR;
			goto out;
		}
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		rc = aw_error_set(AW_ERROR, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode)) {
		/* best effort: the mode given to open() already applies to new files */
	}
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = aw_error_set(AW_ERROR, "cannot write %s: %s", tmp, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (!rc && durable && fsync(fd))
		rc = aw_error_set(AW_ERROR, "cannot write %s: %s", tmp, strerror(errno));
	close(fd);
	if (!rc && rename(tmp, path))
		rc = aw_error_set(AW_ERROR, "cannot rename %s: %s", tmp, strerror(errno));
	if (rc) {
		unlink(tmp);
	} else if (slash && durable) {
		int dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(tmp);
	free(dir);
	return rc;
}

int aws_write_file(const char *path, const void *data, size_t len, int mode)
{
	return write_file(path, data, len, mode, true);
}

int aws_write_file_fast(const char *path, const void *data, size_t len, int mode)
{
	return write_file(path, data, len, mode, false);
}

static char *xdg(const char *env, const char *rel)
{
	const char *v = getenv(env), *home = getenv("HOME");

	if (v && *v == '/')
		return aws_fmt("%s/awnode", v);
	return aws_fmt("%s/%s/awnode", home && *home ? home : ".", rel);
}

char *aws_data_dir(void)
{
	return xdg("XDG_DATA_HOME", ".local/share");
}

char *aws_config_dir(void)
{
	return xdg("XDG_CONFIG_HOME", ".config");
}

bool aws_valid_device_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 64 || !strcmp(id, ".") || !strcmp(id, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

void aws_hex(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int aws_unhex(unsigned char *out, size_t n, const char *hex)
{
	size_t got = 0;

	if (!hex || strlen(hex) != 2 * n || sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) || got != n)
		return AW_EINVALID;
	return 0;
}

void aws_hash(unsigned char out[AWS_HASH_BYTES], const void *data, size_t len)
{
	crypto_generichash(out, AWS_HASH_BYTES, data, len, NULL, 0);
}

void aws_segment_name(char *out, size_t n, int64_t generation)
{
	snprintf(out, n, "seg/%06lld/%012lld.aws", (long long)(generation / 1000), (long long)generation);
}

double aws_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void aws_uuid4(char out[37])
{
	unsigned char r[16];

	randombytes_buf(r, sizeof(r));
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

size_t aws_time_str(char *buf, aw_ns t)
{
	if (!t) {
		strcpy(buf, "-");
		return 1;
	}
	/* whole seconds are enough for status output */
	return aw_time_format(buf, t - t % AW_NS_PER_SEC);
}
