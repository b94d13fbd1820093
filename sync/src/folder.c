/*
 * The sync folder's files, reached only through the folder (docs/sync-format.md §1, §9).
 *
 * Whoever holds a remote, or a file syncer that fills the folder, chooses its paths,
 * file types and sizes. Two rules keep them inside:
 *
 *   1. A path is accepted only when it is one of the names the format defines
 *      (folder_path_ok): awsync.json, and under devices/<device id>/ the manifest,
 *      numbered segments and the archive's files. Every component is a plain name,
 *      never empty, ".", "..", or anything starting with a dot (".git", ".GIT",
 *      ".git " on file systems that fold case or trim spaces).
 *   2. Files are opened one component at a time, relative to the folder's directory
 *      descriptor, with O_NOFOLLOW, so a symbolic link planted anywhere below the
 *      folder ends the walk instead of leading out of it. Reads refuse anything that
 *      is not a regular file or is larger than the caller's bound, before allocating.
 *
 * The folder itself (its absolute path from the configuration) is trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAX_COMPONENTS 8

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool folder_name_ok(const char *name, size_t n)
{
	if (n == 0 || n > 255 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == '\0' || name[i] == '\\')
			return false;
	return true;
}

bool folder_device_ok(const char *name, size_t n)
{
	char id[65];

	if (n == 0 || n >= sizeof(id) || !folder_name_ok(name, n))
		return false;
	memcpy(id, name, n);
	id[n] = '\0';
	return valid_device_id(id);
}

folder_kind folder_child(folder_kind parent, const char *name, size_t n, bool is_tree)
{
	if (!folder_name_ok(name, n))
		return AWS_F_BAD;
	switch (parent) {
	case AWS_F_ROOT:
		if (!is_tree && n == strlen(AWS_GROUP_FILE) && !memcmp(name, AWS_GROUP_FILE, n))
			return AWS_F_FILE;
		if (is_tree && n == 7 && !memcmp(name, "devices", 7))
			return AWS_F_DEVICES;
		return AWS_F_BAD;
	case AWS_F_DEVICES:
		return is_tree && folder_device_ok(name, n) ? AWS_F_DEVICE : AWS_F_BAD;
	case AWS_F_DEVICE:
		if (!is_tree && n == strlen(AWS_MANIFEST) && !memcmp(name, AWS_MANIFEST, n))
			return AWS_F_FILE;
		if (is_tree && n == 3 && !memcmp(name, "seg", 3))
			return AWS_F_SEG;
		if (is_tree && n == 7 && !memcmp(name, "archive", 7))
			return AWS_F_ARCHIVE;
		if (is_tree && n == 6 && !memcmp(name, "epochs", 6))
			return AWS_F_EPOCHS;
		return AWS_F_BAD;
	case AWS_F_EPOCHS: /* <epoch, 12 digits>.json */
		return !is_tree && n == 17 && all_digits(name, 12) && !memcmp(name + 12, ".json", 5) ? AWS_F_FILE
												       : AWS_F_BAD;
	case AWS_F_SEG: /* seg/<generation / 1000, 6 digits> */
		return is_tree && n == 6 && all_digits(name, 6) ? AWS_F_SHARD : AWS_F_BAD;
	case AWS_F_SHARD: /* <generation, 12 digits>.aws */
		return !is_tree && n == 16 && all_digits(name, 12) && !memcmp(name + 12, ".aws", 4) ? AWS_F_FILE
												      : AWS_F_BAD;
	case AWS_F_ARCHIVE: /* archive.json, seg-<12 digits>.awa */
		if (!is_tree && n == 12 && !memcmp(name, "archive.json", 12))
			return AWS_F_FILE;
		return !is_tree && n == 20 && !memcmp(name, "seg-", 4) && all_digits(name + 4, 12) &&
				       !memcmp(name + 16, ".awa", 4)
			       ? AWS_F_FILE
			       : AWS_F_BAD;
	default:
		return AWS_F_BAD;
	}
}

bool folder_path_ok(const char *rel)
{
	folder_kind k = AWS_F_ROOT;
	const char *p = rel;

	if (!rel || !*rel)
		return false;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		k = folder_child(k, p, n, slash != NULL);
		if (k == AWS_F_BAD)
			return false;
		if (!slash)
			return k == AWS_F_FILE;
		p = slash + 1;
	}
}

/* Split rel into components (in buf); NULL-terminated in parts. */
static int split(char *buf, size_t bufsz, const char *rel, char **parts, size_t *n)
{
	size_t len = strlen(rel);

	*n = 0;
	if (len == 0 || len >= bufsz)
		return aw_error_set(AW_EINVALID, "bad path in the sync folder");
	memcpy(buf, rel, len + 1);
	for (char *tok = buf, *save = NULL; (tok = strtok_r(tok, "/", &save)); tok = NULL) {
		if (*n == MAX_COMPONENTS || !folder_name_ok(tok, strlen(tok)))
			return aw_error_set(AW_EINVALID, "bad path in the sync folder: %s", rel);
		parts[(*n)++] = tok;
	}
	return *n ? 0 : aw_error_set(AW_EINVALID, "bad path in the sync folder");
}

/* Open the directory that holds the last component of rel, creating missing ones when
 * `create`. Returns a descriptor, or a negative AW_E* code with the message set
 * (AW_ENOTFOUND when a component does not exist and create is false). */
static int open_parent(const char *folder, char **parts, size_t n, bool create, const char *rel)
{
	int dfd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return aw_error_set(errno == ENOENT ? AW_ENOTFOUND : AW_ERROR, "cannot open the sync folder %s: %s",
				    folder, strerror(errno));
	for (size_t i = 0; i + 1 < n; i++) {
		int next = openat(dfd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(dfd, parts[i], 0700) && errno != EEXIST) {
				int rc = aw_error_set(AW_ERROR, "cannot create %s/%s: %s", folder, rel, strerror(errno));
				close(dfd);
				return rc;
			}
			next = openat(dfd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;
			close(dfd);
			if (e == ENOENT)
				return aw_error_set(AW_ENOTFOUND, "%s does not exist in the sync folder", rel);
			if (e == ELOOP || e == ENOTDIR)
				return aw_error_set(AW_EINVALID,
						    "%s: a part of the path is a symbolic link or not a directory", rel);
			return aw_error_set(AW_ERROR, "cannot open %s/%s: %s", folder, rel, strerror(e));
		}
		close(dfd);
		dfd = next;
	}
	return dfd;
}

int folder_read(const char *folder, const char *rel, size_t max, unsigned char **out, size_t *len)
{
	char buf[512], *parts[MAX_COMPONENTS];
	size_t n;
	int dfd, fd, rc;

	*out = NULL;
	*len = 0;
	if (split(buf, sizeof(buf), rel, parts, &n))
		return AW_EINVALID;
	if ((dfd = open_parent(folder, parts, n, false, rel)) < 0)
		return dfd;
	fd = openat(dfd, parts[n - 1], O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	rc = errno;
	close(dfd);
	if (fd < 0)
		return rc == ENOENT ? aw_error_set(AW_ENOTFOUND, "%s does not exist in the sync folder", rel)
		       : rc == ELOOP ? aw_error_set(AW_EINVALID, "%s is a symbolic link", rel)
				     : aw_error_set(AW_ERROR, "cannot read %s/%s: %s", folder, rel, strerror(rc));
	rc = read_fd(fd, rel, max, out, len);
	close(fd);
	return rc;
}

int folder_write(const char *folder, const char *rel, const void *data, size_t len, bool durable)
{
	char buf[512], *parts[MAX_COMPONENTS], tmp[300];
	const unsigned char *p = data;
	size_t n, done = 0;
	int dfd, fd, rc = 0;

	if (!folder_path_ok(rel))
		return aw_error_set(AW_EINVALID, "refusing to write %s: not a sync folder file name", rel);
	if (split(buf, sizeof(buf), rel, parts, &n))
		return AW_EINVALID;
	if ((dfd = open_parent(folder, parts, n, true, rel)) < 0)
		return dfd;
	snprintf(tmp, sizeof(tmp), "%s.tmp", parts[n - 1]);
	/* a leftover (or planted) temporary name is removed, never followed */
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = aw_error_set(AW_ERROR, "cannot write %s/%s.tmp: %s", folder, rel, strerror(errno));
		close(dfd);
		return rc;
	}
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = aw_error_set(AW_ERROR, "cannot write %s/%s: %s", folder, rel, strerror(errno));
			break;
		}
		done += (size_t)w;
	}
	if (!rc && durable && fsync(fd))
		rc = aw_error_set(AW_ERROR, "cannot write %s/%s: %s", folder, rel, strerror(errno));
	close(fd);
	/* renameat replaces a planted symbolic link itself, never its target */
	if (!rc && renameat(dfd, tmp, dfd, parts[n - 1]))
		rc = aw_error_set(AW_ERROR, "cannot rename %s/%s: %s", folder, rel, strerror(errno));
	if (rc)
		unlinkat(dfd, tmp, 0);
	else if (durable)
		fsync(dfd);
	close(dfd);
	return rc;
}

int folder_unlink(const char *folder, const char *rel)
{
	char buf[512], *parts[MAX_COMPONENTS];
	size_t n;
	int dfd;

	if (!folder_path_ok(rel))
		return aw_error_set(AW_EINVALID, "refusing to delete %s: not a sync folder file name", rel);
	if (split(buf, sizeof(buf), rel, parts, &n))
		return AW_EINVALID;
	if ((dfd = open_parent(folder, parts, n, false, rel)) < 0)
		return dfd == AW_ENOTFOUND ? 0 : dfd;
	if (unlinkat(dfd, parts[n - 1], 0) && errno != ENOENT) {
		int e = errno;
		close(dfd);
		return aw_error_set(AW_ERROR, "cannot delete %s/%s: %s", folder, rel, strerror(e));
	}
	close(dfd);
	return 0;
}
