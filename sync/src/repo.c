/*
 * The sync folder as a git repository (libgit2), docs/sync-format.md §6.
 *
 * Commits are built from objects, not from the index: a push writes its files into the
 * work tree (where imports read them, which is also what a Syncthing-shared folder
 * looks like) and upserts the same bytes as blobs into the HEAD tree. Merges of a
 * remote's branch are three-way tree merges that cannot conflict (every device writes
 * only devices/<its id>/); two paths are then forced back to our version because this
 * device is their only legitimate writer: devices/<own id>/ and awsync.json. The work
 * tree follows HEAD by applying tree diffs (never a checkout of the whole tree), with
 * a marker file so that an interrupted update is redone on the next run. The git index
 * is not maintained (`git status` in the folder is meaningless; `git log` is not).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>

#include "aw/mem.h"
#include "internal.h"

#define PUSH_ATTEMPTS 6
#define LOCK_WAIT_S 120

struct sync_repo {
	git_repository *repo;
	char *folder;
	char *ssh_key;
	int lock_fd;
	int cred_attempts;
	char push_status[256];
	char warning[300];   /* what the last fetch found wrong with the remote's history */
	const int *cancel;
	/* the directory of the last file read from HEAD (repo_read_head): an import reads
	 * every segment of a shard from the same directory, a tree of up to 1000 entries
	 * that libgit2 does not cache (it keeps trees of at most 4 KiB) */
	git_oid dir_commit;
	git_tree *dir_tree;
	char dir_path[256];
	/* HEAD's commit while the folder is locked and this process has not moved it: read
	 * once, not once per file (a stat and a read of the ref each time) */
	git_oid head;
	bool head_known;
	/* where this repository's new objects wait until a ref is about to name them (see
	 * "new objects" below); NULL when it could not be set up: objects are then written
	 * loose, as libgit2 does by default */
	git_odb_backend *pending;
};

void repo_set_cancel(sync_repo *r, const int *flag)
{
	r->cancel = flag;
}

static bool cancelled(sync_repo *r)
{
	return r->cancel && __atomic_load_n(r->cancel, __ATOMIC_RELAXED);
}

static int transfer_cb(const git_indexer_progress *stats, void *payload)
{
	(void)stats;
	if (cancelled(payload)) {
		git_error_set_str(GIT_ERROR_NET, "cancelled (awnode is stopping)");
		return -1;
	}
	return 0;
}

static int push_transfer_cb(unsigned int current, unsigned int total, size_t bytes, void *payload)
{
	(void)current;
	(void)total;
	(void)bytes;
	if (cancelled(payload)) {
		git_error_set_str(GIT_ERROR_NET, "cancelled (awnode is stopping)");
		return -1;
	}
	return 0;
}

int repo_git_error(const char *what)
{
	const git_error *e = git_error_last();

	return aw_error_set(AW_ERROR, "%s: %s", what, e && e->message ? e->message : "unknown git error");
}

int repo_git_init(void)
{
	if (git_libgit2_init() < 0)
		return repo_git_error("libgit2 failed to initialise");
	/* Objects and refs reach the disk before a push is reported done. */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	return 0;
}

/* Remove the files under dir (relative to the open directory `at`), then dir itself
 * when it became empty. Only for .git/logs, which holds plain files and directories. */
static void remove_tree_at(int at, const char *dir)
{
	int fd = openat(at, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR || (unlinkat(fd, e->d_name, 0) && errno == EISDIR))
			remove_tree_at(fd, e->d_name);
	}
	closedir(d);
	unlinkat(at, dir, AT_REMOVEDIR);
}

/* The folder keeps no reflog: an entry per round in two logs took 15 bytes per synced
 * event (more than the trees), and nothing reads them; the history-only-grows check
 * uses the remote-tracking refs (docs/sync-format.md §8). When the setting is turned
 * off, which is once per folder, the logs an earlier version wrote are removed. */
static void no_reflog(git_repository *g)
{
	git_config *cfg = NULL;
	int on = 1, dir;

	if (git_repository_config(&cfg, g))
		return;
	if (git_config_get_bool(&on, cfg, "core.logAllRefUpdates") || on) {
		git_config_set_bool(cfg, "core.logAllRefUpdates", 0);
		dir = open(git_repository_path(g), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir >= 0) {
			remove_tree_at(dir, "logs");
			close(dir);
		}
	}
	git_config_free(cfg);
}

/* New objects go to memory first (see "new objects" below): a backend that takes every
 * write, ahead of the loose and pack backends, which keep answering reads of what is on
 * disk. The odb owns the backend once added. */
static git_odb_backend *pending_backend(git_repository *g)
{
	git_odb_backend *mem = NULL;
	git_odb *odb = NULL;

	if (git_repository_odb(&odb, g) || git_mempack_new(&mem)) {
		git_odb_free(odb);
		return NULL;
	}
	if (git_odb_add_backend(odb, mem, 999)) {
		mem->free(mem);
		mem = NULL;
	}
	git_odb_free(odb);
	return mem;
}

static sync_repo *repo_new(git_repository *g, const char *folder, const char *ssh_key)
{
	sync_repo *r = aw_mem_calloc(1, sizeof(*r));

	/* Reflog entries would otherwise carry the user's git name and e-mail address
	 * (user.name, user.email of the global config): the folder's history names
	 * nobody (docs/sync-format.md §1). */
	git_repository_set_ident(g, "awnode", "awnode@localhost");
	no_reflog(g);
	r->repo = g;
	r->pending = pending_backend(g);
	r->folder = str_dup(folder);
	r->ssh_key = ssh_key ? str_dup(ssh_key) : NULL;
	r->lock_fd = -1;
	return r;
}

int repo_open(sync_repo **out, const char *folder, const char *ssh_key)
{
	git_repository *g;

	*out = NULL;
	if (repo_git_init())
		return AW_ERROR;
	if (git_repository_open_ext(&g, folder, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) {
		git_libgit2_shutdown();
		return aw_error_set(AW_ENOTFOUND, "no sync folder at %s: run 'awnode sync init' or 'awnode sync join'",
				    folder);
	}
	if (git_repository_is_bare(g)) {
		git_repository_free(g);
		git_libgit2_shutdown();
		return aw_error_set(AW_EINVALID, "%s is a bare git repository; the sync folder needs a work tree", folder);
	}
	*out = repo_new(g, folder, ssh_key);
	return 0;
}

int repo_create(sync_repo **out, const char *folder, const char *ssh_key)
{
	git_repository_init_options o;
	git_repository *g;

	*out = NULL;
	if (repo_git_init())
		return AW_ERROR;
	if (aw_files_mkdir_p(folder, 0700)) {
		git_libgit2_shutdown();
		return AW_ERROR;
	}
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	o.initial_head = AWS_BRANCH;
	o.mode = GIT_REPOSITORY_INIT_SHARED_UMASK;
	if (git_repository_init_ext(&g, folder, &o)) {
		int rc = repo_git_error("creating the sync folder's repository");
		git_libgit2_shutdown();
		return rc;
	}
	*out = repo_new(g, folder, ssh_key);
	return 0;
}

void repo_close(sync_repo *r)
{
	if (!r)
		return;
	if (r->lock_fd >= 0)
		close(r->lock_fd);
	git_tree_free(r->dir_tree);
	git_repository_free(r->repo);
	free(r->folder);
	free(r->ssh_key);
	free(r);
	git_libgit2_shutdown();
}

/* ---- ref locks left by a killed process ------------------------------------------------- */

/* libgit2 writes a ref as <ref>.lock (created exclusively, written, fsynced) renamed over
 * the ref. A process killed in between leaves the lock file, and every later write of
 * that ref fails with "failed to lock file": one kill would stop the folder, or a
 * remote, for good. */

/* A remote on a path may be written by another device at the same moment, whose lock
 * lives for the milliseconds of one ref write: only a lock this old is taken as left
 * by a killed push (its mtime is the file server's clock; ten minutes leave room for
 * a clock that differs from ours). */
#define STALE_REMOTE_LOCK_S 600

static void tracking_ref(char *buf, size_t n, const char *name);
static bool valid_remote_name(const char *name);

/* Remove `dir`/`ref`.lock when it is a regular file last modified before `before` (0:
 * whenever it exists). */
static void remove_ref_lock(const char *dir, const char *ref, time_t before)
{
	char *p = aw_mem_printf("%s/%s.lock", dir, ref);
	struct stat st;

	if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) && (!before || st.st_mtime < before))
		unlink(p);
	free(p);
}

/* Under the folder's lock no awnode writes a ref of the folder: any lock file of its
 * refs was left by a killed one. */
static void remove_folder_ref_locks(sync_repo *r)
{
	const char *gitdir = git_repository_path(r->repo);
	remote_info *rem = NULL;
	size_t n = 0;
	char ref[160];

	remove_ref_lock(gitdir, "HEAD", 0);
	remove_ref_lock(gitdir, "packed-refs", 0);
	remove_ref_lock(gitdir, "refs/heads/" AWS_BRANCH, 0);
	if (repo_remotes(r, &rem, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!valid_remote_name(rem[i].name))
				continue;
			tracking_ref(ref, sizeof(ref), rem[i].name);
			remove_ref_lock(gitdir, ref, 0);
		}
		remotes_free(rem, n);
	}
}

int repo_lock(sync_repo *r)
{
	char *path;
	int waited = 0;

	if (r->lock_fd >= 0)
		return 0;
	path = aw_mem_printf("%s/awsync.lock", git_repository_path(r->repo));
	r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (r->lock_fd < 0)
		return aw_error_set(AW_ERROR, "cannot lock the sync folder: %s", strerror(errno));
	while (flock(r->lock_fd, LOCK_EX | LOCK_NB)) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		if (errno != EWOULDBLOCK && errno != EINTR)
			return aw_error_set(AW_ERROR, "cannot lock the sync folder: %s", strerror(errno));
		if (waited++ > LOCK_WAIT_S * 20) {
			close(r->lock_fd);
			r->lock_fd = -1;
			return aw_error_set(AW_EBUSY, "the sync folder %s is busy (another sync has run for %d s)", r->folder,
					    LOCK_WAIT_S);
		}
		nanosleep(&ts, NULL);
	}
	remove_folder_ref_locks(r);
	return 0;
}

/* ---- reading HEAD --------------------------------------------------------------------- */

static int head_tree(sync_repo *r, git_oid *commit, git_tree **tree)
{
	git_commit *c;
	int rc;

	*tree = NULL;
	if (git_reference_name_to_id(commit, r->repo, "HEAD"))
		return AW_ENOTFOUND;
	if (git_commit_lookup(&c, r->repo, commit))
		return repo_git_error("reading HEAD");
	rc = git_commit_tree(tree, c) ? repo_git_error("reading HEAD's tree") : 0;
	git_commit_free(c);
	return rc;
}

bool repo_has_head(sync_repo *r)
{
	git_oid id;

	return git_reference_name_to_id(&id, r->repo, "HEAD") == 0;
}

/* Is object `id` of `odb` a blob within AWS_MAX_FILE? Read from its header, so that
 * nothing larger than the format allows is ever inflated (a few KiB of zlib can claim
 * gigabytes). */
static int blob_header_ok(git_odb *odb, const git_oid *id, const char *path)
{
	git_object_t type;
	size_t size;

	if (git_odb_read_header(&size, &type, odb, id))
		return aw_error_set(AW_EINVALID, "%s: its object is missing or damaged", path);
	if (type != GIT_OBJECT_BLOB)
		return aw_error_set(AW_EINVALID, "%s is not a file", path);
	if (size > AWS_MAX_FILE)
		return aw_error_set(AW_EINVALID, "%s is too large (%zu bytes; the format allows at most %u)", path, size,
				    AWS_MAX_FILE);
	return 0;
}

static int blob_size_ok(git_repository *g, const git_oid *id, const char *path)
{
	git_odb *odb;
	int rc;

	if (git_repository_odb(&odb, g))
		return repo_git_error("opening the object database");
	rc = blob_header_ok(odb, id, path);
	git_odb_free(odb);
	return rc;
}

/* ---- what a tree may hold (docs/sync-format.md §1, §9) -------------------------------------- */

/* Entries per directory beyond anything the format writes (a shard holds 1000
 * segments, a device's seg/ one shard per 1000 pushes); a tree that claims more is
 * refused before it is walked further. The whole walk needs no bound of its own: every
 * entry is an object the remote had to send. */
#define TREE_MAX_ENTRIES 100000

typedef struct tree_check {
	git_repository *g;
	char path[512];  /* of the entry being checked, for the message */
} tree_check;

static int refuse(tree_check *tc, const char *why)
{
	return aw_error_set(AW_EINVALID, "refused: %s%s%s", tc->path[0] ? tc->path : "(top level)",
			    tc->path[0] ? ": " : "", why);
}

/* Check `t` (a directory of kind `kind`) against the layout: only names the format
 * defines, only 100644 files and 040000 directories, files within AWS_MAX_FILE, every
 * object present. Subtrees and blobs identical to the same entry in `old` (a tree
 * already accepted, or NULL) are not walked again, so a round costs what changed. */
static int check_tree(tree_check *tc, git_tree *t, git_tree *old, folder_kind kind)
{
	size_t n = git_tree_entrycount(t), base = strlen(tc->path);
	int rc = 0;

	if (n > TREE_MAX_ENTRIES)
		return refuse(tc, "a directory with too many entries");
	for (size_t i = 0; i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const char *name = git_tree_entry_name(e);
		git_filemode_t mode = git_tree_entry_filemode_raw(e);
		const git_tree_entry *prev = old ? git_tree_entry_byname(old, name) : NULL;
		bool is_tree = mode == GIT_FILEMODE_TREE;
		folder_kind k;

		snprintf(tc->path + base, sizeof(tc->path) - base, "%s%.200s", base ? "/" : "", name);
		if (mode != GIT_FILEMODE_TREE && mode != GIT_FILEMODE_BLOB)
			rc = refuse(tc, mode == GIT_FILEMODE_COMMIT ? "a submodule (gitlink) entry"
					: mode == GIT_FILEMODE_LINK ? "a symbolic link"
								    : "not a plain file (mode 100644) or directory");
		else if ((k = folder_child(kind, name, strlen(name), is_tree)) == AWS_F_BAD)
			rc = refuse(tc, "not a name the sync folder format defines");
		else if (prev && git_oid_equal(git_tree_entry_id(prev), git_tree_entry_id(e)) &&
			 git_tree_entry_filemode_raw(prev) == mode)
			rc = 0; /* unchanged since it was accepted */
		else if (!is_tree)
			rc = blob_size_ok(tc->g, git_tree_entry_id(e), tc->path);
		else {
			git_tree *sub = NULL, *old_sub = NULL;
			if (git_tree_lookup(&sub, tc->g, git_tree_entry_id(e))) {
				rc = refuse(tc, "the directory's object is missing");
			} else {
				if (prev && git_tree_entry_filemode_raw(prev) == GIT_FILEMODE_TREE)
					git_tree_lookup(&old_sub, tc->g, git_tree_entry_id(prev));
				rc = check_tree(tc, sub, old_sub, k);
			}
			git_tree_free(sub);
			git_tree_free(old_sub);
		}
		tc->path[base] = '\0';
	}
	return rc;
}

/* May the work tree and HEAD move from `old` (NULL: nothing) to `t`? Nothing is
 * written before this says yes. */
static int tree_acceptable(git_repository *g, git_tree *t, git_tree *old)
{
	tree_check tc = {.g = g};

	return check_tree(&tc, t, old, AWS_F_ROOT);
}

static int read_blob(git_repository *g, git_tree *tree, const char *path, unsigned char **out, size_t *len)
{
	git_tree_entry *e;
	git_blob *b;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (git_tree_entry_bypath(&e, tree, path))
		return AW_ENOTFOUND;
	if (git_tree_entry_type(e) != GIT_OBJECT_BLOB) {
		git_tree_entry_free(e);
		return aw_error_set(AW_EINVALID, "%s is not a file in the sync folder's history", path);
	}
	if ((rc = blob_size_ok(g, git_tree_entry_id(e), path))) {
		git_tree_entry_free(e);
		return rc;
	}
	if (git_blob_lookup(&b, g, git_tree_entry_id(e))) {
		git_tree_entry_free(e);
		return repo_git_error("reading a file of the sync folder's history");
	}
	*len = (size_t)git_blob_rawsize(b);
	*out = malloc(*len + 1);
	if (!*out) {
		git_blob_free(b);
		git_tree_entry_free(e);
		return aw_error_set(AW_ERROR, "out of memory reading %s (%zu bytes)", path, *len);
	}
	memcpy(*out, git_blob_rawcontent(b), *len);
	(*out)[*len] = '\0';
	git_blob_free(b);
	git_tree_entry_free(e);
	return rc;
}

/* The tree of directory `dir` ("" for the top) of HEAD's commit `head`, kept for the
 * next call: *t is NULL when HEAD has no such directory. */
static int head_dir(sync_repo *r, const git_oid *head, const char *dir, git_tree **t)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	git_tree_entry *e = NULL;
	int rc = 0;

	if (r->dir_tree && git_oid_equal(&r->dir_commit, head) && !strcmp(r->dir_path, dir)) {
		*t = r->dir_tree;
		return 0;
	}
	git_tree_free(r->dir_tree);
	r->dir_tree = *t = NULL;
	if (git_commit_lookup(&c, r->repo, head) || git_commit_tree(&root, c)) {
		rc = repo_git_error("reading HEAD");
		goto out;
	}
	if (!*dir) {
		*t = root;
		root = NULL;
	} else if (git_tree_entry_bypath(&e, root, dir) == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
		   git_tree_lookup(t, r->repo, git_tree_entry_id(e))) {
		rc = repo_git_error("reading a directory of HEAD");
		goto out;
	}
	if (*t && strlen(dir) < sizeof(r->dir_path)) {
		r->dir_tree = *t;
		git_oid_cpy(&r->dir_commit, head);
		snprintf(r->dir_path, sizeof(r->dir_path), "%s", dir);
	}
out:
	git_tree_entry_free(e);
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

int repo_read_head(sync_repo *r, const char *path, unsigned char **out, size_t *len)
{
	const char *slash = strrchr(path, '/');
	char dir[256];
	git_oid head;
	git_tree *t;
	int rc;

	*out = NULL;
	*len = 0;
	if (r->head_known && r->lock_fd >= 0)
		git_oid_cpy(&head, &r->head);
	else if (git_reference_name_to_id(&head, r->repo, "HEAD"))
		return AW_ENOTFOUND;
	git_oid_cpy(&r->head, &head);
	/* a HEAD read before the lock was taken may have moved since */
	r->head_known = r->lock_fd >= 0;
	if (slash && slash - path >= (ptrdiff_t)sizeof(dir))
		return aw_error_set(AW_EINVALID, "%s is not a sync folder file name", path);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	if ((rc = head_dir(r, &head, dir, &t)))
		return rc;
	if (!t)
		return AW_ENOTFOUND;
	return read_blob(r->repo, t, slash ? slash + 1 : path, out, len);
}

/* ---- the work tree ---------------------------------------------------------------------- */

static char *marker_path(sync_repo *r)
{
	return aw_mem_printf("%s/awsync-worktree-pending", git_repository_path(r->repo));
}

static int write_work_file(sync_repo *r, const char *rel, const void *data, size_t len, bool only_if_changed,
			   bool durable)
{
	if (only_if_changed) {
		unsigned char *cur;
		size_t n;
		if (folder_read(r->folder, rel, AWS_MAX_FILE, &cur, &n) == 0) {
			bool same = n == len && !memcmp(cur, data, len);
			free(cur);
			if (same)
				return 0;
		}
	}
	return folder_write(r->folder, rel, data, len, durable);
}

/* Paths come from trees that tree_acceptable() passed; the checks here are a second
 * line for the recovery of a HEAD written by an older version: an entry that is not a
 * plain file at a format path is skipped, never written or deleted. */
static int mirror_cb(const git_diff_delta *d, float progress, void *payload)
{
	sync_repo *r = payload;
	git_blob *b;
	int rc;

	(void)progress;
	switch (d->status) {
	case GIT_DELTA_DELETED:
		if (d->old_file.mode != GIT_FILEMODE_BLOB || !folder_path_ok(d->old_file.path))
			return 0;
		return folder_unlink(r->folder, d->old_file.path) ? -1 : 0;
	case GIT_DELTA_ADDED:
	case GIT_DELTA_MODIFIED:
	case GIT_DELTA_TYPECHANGE:
		if (d->new_file.mode != GIT_FILEMODE_BLOB || !folder_path_ok(d->new_file.path))
			return 0;
		if ((rc = blob_size_ok(r->repo, &d->new_file.id, d->new_file.path)))
			return -1;
		if (git_blob_lookup(&b, r->repo, &d->new_file.id))
			return repo_git_error("updating the work tree");
		rc = write_work_file(r, d->new_file.path, git_blob_rawcontent(b), (size_t)git_blob_rawsize(b),
				     d->status == GIT_DELTA_ADDED, false);
		git_blob_free(b);
		return rc ? -1 : 0;
	default:
		return 0;
	}
}

/* Make the work tree follow a move of HEAD from `from` (NULL: nothing) to `to`. */
static int mirror(sync_repo *r, git_tree *from, git_tree *to)
{
	git_diff *diff;
	git_diff_options o;
	int rc;

	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.flags |= GIT_DIFF_SKIP_BINARY_CHECK;
	aw_error_set(AW_OK, "%s", "");
	if (git_diff_tree_to_tree(&diff, r->repo, from, to, &o))
		return repo_git_error("comparing trees");
	/* the deltas themselves (paths, modes, ids), not git_diff_foreach: that prepares
	 * a patch for every file, with a lookup of its diff attributes (a realpath() of
	 * the folder each), which a join paid for every file of the history */
	rc = 0;
	for (size_t i = 0, n = git_diff_num_deltas(diff); i < n && !rc; i++)
		rc = mirror_cb(git_diff_get_delta(diff, i), 0, r);
	git_diff_free(diff);
	if (rc)
		return aw_error_last()[0] ? AW_ERROR : repo_git_error("updating the work tree");
	return 0;
}

/* Mirror the work tree from `from` to `to`, then remove the marker m that said it was
 * under way: only a completed update takes it away. */
static int mirror_unmark(sync_repo *r, git_tree *from, git_tree *to, const char *m)
{
	int rc = mirror(r, from, to);

	if (!rc)
		unlink(m);
	return rc;
}

int repo_recover(sync_repo *r)
{
	char *m = marker_path(r);
	git_oid c;
	git_tree *t;
	int rc = 0;

	if (access(m, F_OK) == 0 && head_tree(r, &c, &t) == 0) {
		rc = mirror_unmark(r, NULL, t, m);
		git_tree_free(t);
	}
	free(m);
	return rc;
}

/* ---- new objects ------------------------------------------------------------------------ */

/* A round writes about seven objects (the new segment, the manifest when it changed,
 * the trees above them, the commit). Written loose, each cost a new temporary file, a fan-out directory
 * now and then, two fsyncs and a link, and creating files is what a round spent most of
 * its time on. So the folder's new objects wait in memory (r->pending) and, just before
 * a ref is moved to a commit that names them, are written as one pack: two files, whose
 * writer (libgit2's indexer, with GIT_OPT_ENABLE_FSYNC_GITDIR set) fsyncs the pack, its
 * index and their directory before it returns. Only then is the ref written, and fsynced
 * in turn. So a ref never names an object that is not on disk, whenever the machine
 * stops (docs/sync-format.md §8, "Durability"). Objects nothing came to name (a failed
 * round's) are dropped with the repository, as they would have been garbage on disk. */

/* Insert tree `id` into pb (at `path`, "" for a root tree) and, under it, every entry
 * `wants` accepts, with their paths for the delta search. An entry it refuses is not
 * walked: whoever already holds a tree holds what it names. Gitlinks name no object of
 * this repository and are never asked about. */
typedef bool (*object_wanted)(void *ctx, const git_oid *id);

static int pack_tree(git_packbuilder *pb, git_repository *repo, const git_oid *id, const char *path,
		     object_wanted wants, void *ctx, int depth)
{
	git_tree *t = NULL;
	int rc;

	if (depth > AWS_MAX_TREE_DEPTH) {
		git_error_set_str(GIT_ERROR_INVALID, "directories nested deeper than the format allows");
		return GIT_EINVALID;
	}
	if ((rc = git_packbuilder_insert(pb, id, *path ? path : NULL)) || (rc = git_tree_lookup(&t, repo, id)))
		return rc;
	for (size_t i = 0, n = git_tree_entrycount(t); i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		const git_oid *eid = git_tree_entry_id(e);
		char *sub;
		if (git_tree_entry_type(e) == GIT_OBJECT_COMMIT || !wants(ctx, eid))
			continue;
		sub = *path ? aw_mem_printf("%s/%s", path, git_tree_entry_name(e)) : aw_mem_strdup(git_tree_entry_name(e));
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = pack_tree(pb, repo, eid, sub, wants, ctx, depth + 1);
		else
			rc = git_packbuilder_insert(pb, eid, sub);
		free(sub);
	}
	git_tree_free(t);
	return rc;
}

typedef struct pending_pack {
	git_repository *repo;
	git_odb_backend *mem;
	git_packbuilder *pb;
} pending_pack;

static bool is_pending(const pending_pack *p, const git_oid *id)
{
	return p->mem->exists(p->mem, id) != 0;
}

/* A subtree or blob on disk already is not walked: what a stored object names was
 * stored before it. */
static bool pending_wanted(void *ctx, const git_oid *id)
{
	return is_pending(ctx, id);
}

/* A pending commit, its pending tree and its pending parents. */
static int pack_pending_commit(pending_pack *p, const git_oid *id)
{
	git_commit *c = NULL;
	int rc;

	if (!is_pending(p, id))
		return 0;
	if ((rc = git_commit_lookup(&c, p->repo, id)) || (rc = git_packbuilder_insert(p->pb, id, NULL)))
		goto out;
	if (is_pending(p, git_commit_tree_id(c)) &&
	    (rc = pack_tree(p->pb, p->repo, git_commit_tree_id(c), "", pending_wanted, p, 0)))
		goto out;
	for (unsigned i = 0; i < git_commit_parentcount(c) && !rc; i++)
		rc = pack_pending_commit(p, git_commit_parent_id(c, i));
out:
	git_commit_free(c);
	return rc;
}

/* Make `commit` and everything it reaches durable before a ref names it: the pending
 * objects it reaches go to disk as one pack, synced. Nothing to do for a commit already
 * on disk (a fetched one), whose objects are all there too. */
static int store_pending(sync_repo *r, const git_oid *commit)
{
	pending_pack p = {.repo = r->repo, .mem = r->pending};
	git_odb *odb = NULL;
	int rc = 0;

	if (!r->pending || !is_pending(&p, commit))
		return 0;
	if (git_packbuilder_new(&p.pb, r->repo))
		return repo_git_error("storing the new objects");
	git_packbuilder_set_threads(p.pb, 1);
	if (pack_pending_commit(&p, commit) || git_packbuilder_write(p.pb, NULL, 0, NULL, NULL) ||
	    git_repository_odb(&odb, r->repo) || git_odb_refresh(odb))
		rc = repo_git_error("storing the new objects");
	else
		git_mempack_reset(r->pending); /* all on disk now, read from the new pack */
	git_odb_free(odb);
	git_packbuilder_free(p.pb);
	return rc;
}

/* Move refs/heads/main to `to` and the work tree from `from_tree` to its tree. The
 * new tree is checked first (tree_acceptable): a refused tree leaves the branch, the
 * work tree and the marker as they were, so the next round starts clean. */
static int move_head(sync_repo *r, git_tree *from_tree, const git_oid *to, const char *why)
{
	char *m = marker_path(r);
	git_reference *ref;
	git_commit *c = NULL;
	git_tree *t = NULL;
	int fd, rc;

	if (git_commit_lookup(&c, r->repo, to) || git_commit_tree(&t, c)) {
		git_commit_free(c);
		free(m);
		return repo_git_error("reading the merged commit");
	}
	git_commit_free(c);
	if ((rc = tree_acceptable(r->repo, t, from_tree))) {
		git_tree_free(t);
		free(m);
		return rc;
	}
	if ((rc = store_pending(r, to))) {
		git_tree_free(t);
		free(m);
		return rc;
	}
	fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (git_reference_create(&ref, r->repo, "refs/heads/" AWS_BRANCH, to, 1, why)) {
		git_tree_free(t);
		free(m);
		return repo_git_error("updating the branch");
	}
	git_reference_free(ref);
	r->head_known = false;
	rc = mirror_unmark(r, from_tree, t, m);
	git_tree_free(t);
	free(m);
	return rc;
}

/* ---- commits -------------------------------------------------------------------------- */

static int signature(git_signature **sig)
{
	/* Never the user's git identity: a fixed name keeps hostnames and e-mail addresses
	 * out of the history. */
	if (git_signature_new(sig, "awnode", "awnode@localhost", (git_time_t)time(NULL), 0))
		return repo_git_error("creating a commit signature");
	return 0;
}

static int empty_tree(git_repository *g, git_tree **out)
{
	git_treebuilder *tb;
	git_oid id;
	int rc = 0;

	if (git_treebuilder_new(&tb, g, NULL) || git_treebuilder_write(&id, tb) || git_tree_lookup(out, g, &id))
		rc = repo_git_error("creating an empty tree");
	git_treebuilder_free(tb);
	return rc;
}

int repo_commit(sync_repo *r, const repo_file *files, size_t n, const char *message)
{
	git_tree_update *upd = aw_mem_calloc(n ? n : 1, sizeof(*upd));
	git_oid head, tree_id, commit_id;
	git_tree *base = NULL, *tree = NULL;
	git_commit *parent = NULL;
	git_signature *sig = NULL;
	git_reference *ref;
	bool have_head;
	int rc = AW_ERROR;

	for (size_t i = 0; i < n; i++) {
		upd[i].path = files[i].path;
		if (!files[i].data) {
			/* as with the files written below, the work tree changes before the
			 * commit; readers take a device's files from HEAD when git has them,
			 * so a round that stops in between misleads nobody */
			if (folder_unlink(r->folder, files[i].path))
				goto out;
			upd[i].action = GIT_TREE_UPDATE_REMOVE;
			continue;
		}
		if (write_work_file(r, files[i].path, files[i].data, files[i].len, false, false))
			goto out;
		if (git_blob_create_from_buffer(&upd[i].id, r->repo, files[i].data, files[i].len)) {
			repo_git_error("storing a file in git");
			goto out;
		}
		upd[i].action = GIT_TREE_UPDATE_UPSERT;
		upd[i].filemode = GIT_FILEMODE_BLOB;
	}
	have_head = head_tree(r, &head, &base) == 0;
	if (!have_head && empty_tree(r->repo, &base))
		goto out;
	if (have_head && git_commit_lookup(&parent, r->repo, &head)) {
		repo_git_error("reading HEAD");
		goto out;
	}
	if (git_tree_create_updated(&tree_id, r->repo, base, n, upd) || git_tree_lookup(&tree, r->repo, &tree_id)) {
		repo_git_error("building the commit's tree");
		goto out;
	}
	if (signature(&sig))
		goto out;
	r->head_known = false;
	/* the commit, then its objects on disk, then the branch (see "new objects") */
	if (git_commit_create(&commit_id, r->repo, NULL, sig, sig, NULL, message, tree, parent ? 1 : 0,
			      (const git_commit **)&parent)) {
		repo_git_error("committing");
		goto out;
	}
	if (store_pending(r, &commit_id))
		goto out;
	if (git_reference_create(&ref, r->repo, "refs/heads/" AWS_BRANCH, &commit_id, 1, message)) {
		repo_git_error("updating the branch");
		goto out;
	}
	git_reference_free(ref);
	rc = 0;
out:
	git_signature_free(sig);
	git_commit_free(parent);
	git_tree_free(tree);
	git_tree_free(base);
	free(upd);
	return rc;
}

/* ---- remotes ----------------------------------------------------------------------------- */

static int cred_cb(git_credential **out, const char *url, const char *user, unsigned int allowed, void *payload)
{
	sync_repo *r = payload;
	const char *u = user && *user ? user : "git";

	(void)url;
	if (cancelled(r)) {
		git_error_set_str(GIT_ERROR_NET, "cancelled (awnode is stopping)");
		return GIT_EUSER;
	}
	if (++r->cred_attempts > 3) {
		git_error_set_str(GIT_ERROR_NET, "authentication failed (3 attempts)");
		return GIT_EAUTH;
	}
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		if (r->ssh_key)
			return git_credential_ssh_key_new(out, u, NULL, r->ssh_key, getenv("AWNODE_SYNC_SSH_PASSPHRASE"));
		return git_credential_ssh_key_from_agent(out, u);
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		const char *eu = getenv("AWNODE_SYNC_GIT_USERNAME"), *ep = getenv("AWNODE_SYNC_GIT_PASSWORD");
		if (ep)
			return git_credential_userpass_plaintext_new(out, eu ? eu : u, ep);
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, u);
	return GIT_PASSTHROUGH;
}

/* refs/remotes/<name>/main: what this device last saw on remote `name` */
static void tracking_ref(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "refs/remotes/%s/%s", name, AWS_BRANCH);
}

static bool valid_remote_name(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

/* The path a remote URL names when it is on this machine (after file://, or the URL
 * itself when it is a path), or NULL for other transports: a scheme, or an scp-like
 * ssh address (host:path), which has no "://" but a colon before any slash or dot. */
static const char *url_local_path(const char *url)
{
	if (!strncmp(url, "file://", 7))
		return url + 7;
	if (strstr(url, "://") || (strchr(url, ':') && url[0] != '/' && url[0] != '.'))
		return NULL;
	return url;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A remote on this machine whose path names no directory: a USB disk or a share that
 * is not mounted. */
static bool local_path_missing(const char *url)
{
	const char *p = url_local_path(url);

	return p && !is_dir(p);
}

/* An existing local directory becomes an absolute path (the node's working directory
 * is not the user's). URLs stay as they are. */
static char *normalise_url(const char *url)
{
	char *abs;

	if (url_local_path(url) != url)
		return str_dup(url);
	abs = realpath(url, NULL);
	return abs ? abs : str_dup(url);
}

/* The URL of remote `name` (caller frees), or NULL. */
static char *remote_url(sync_repo *r, const char *name)
{
	git_config *cfg;
	git_buf buf = {NULL, 0, 0};
	char key[128], *url = NULL;

	if (git_repository_config_snapshot(&cfg, r->repo))
		return NULL;
	snprintf(key, sizeof(key), "remote.%s.url", name);
	if (git_config_get_string_buf(&buf, cfg, key) == 0)
		url = str_dup(buf.ptr);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return url;
}

/* An in-memory remote for `name`'s URL. libgit2 1.5's git_remote_lookup and
 * git_remote_create match the config with a regex (url.*.insteadof) and leak PCRE2
 * match data on every call, which a node syncing every few minutes cannot afford, so
 * remotes are kept in the config by hand and used anonymously. */
static int open_remote(sync_repo *r, const char *name, git_remote **out)
{
	git_remote_create_options o;
	char *url = remote_url(r, name);
	int rc;

	*out = NULL;
	if (!url)
		return aw_error_set(AW_ENOTFOUND, "no remote named '%s'", name);
	if (local_path_missing(url)) {
		/* libgit2 would call it an "unsupported URL protocol" */
		rc = aw_error_set(AW_ENOTFOUND, "remote '%s': %s is not there (is the disk it is on mounted?)", name,
				  url_local_path(url));
		free(url);
		return rc;
	}
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = r->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	rc = git_remote_create_with_opts(out, url, &o);
	free(url);
	return rc ? repo_git_error("opening the remote") : 0;
}

int repo_remote_add(sync_repo *r, const char *name, const char *url)
{
	git_config *cfg;
	char key[128], fetch[256], *u, *old;
	int rc = 0;

	if (!valid_remote_name(name))
		return aw_error_set(AW_EINVALID, "bad remote name '%s' (letters, digits, '-' and '_')", name);
	if (!url || !*url)
		return aw_error_set(AW_EINVALID, "the remote needs a URL or a path");
	if ((old = remote_url(r, name))) {
		free(old);
		return aw_error_set(AW_EEXISTS, "a remote named '%s' already exists", name);
	}
	if (git_repository_config(&cfg, r->repo))
		return repo_git_error("opening the folder's git config");
	u = normalise_url(url);
	snprintf(key, sizeof(key), "remote.%s.url", name);
	if (git_config_set_string(cfg, key, u))
		rc = repo_git_error("adding the remote");
	snprintf(key, sizeof(key), "remote.%s.fetch", name);
	snprintf(fetch, sizeof(fetch), "+refs/heads/*:refs/remotes/%s/*", name);
	if (!rc && git_config_set_string(cfg, key, fetch))
		rc = repo_git_error("adding the remote");
	free(u);
	git_config_free(cfg);
	return rc;
}

int repo_remote_remove(sync_repo *r, const char *name)
{
	git_config *cfg;
	git_reference *ref;
	char key[128], *old = remote_url(r, name);

	if (!old)
		return aw_error_set(AW_ENOTFOUND, "no remote named '%s'", name);
	free(old);
	if (git_repository_config(&cfg, r->repo))
		return repo_git_error("opening the folder's git config");
	snprintf(key, sizeof(key), "remote.%s.url", name);
	git_config_delete_entry(cfg, key);
	snprintf(key, sizeof(key), "remote.%s.fetch", name);
	git_config_delete_entry(cfg, key);
	git_config_free(cfg);
	tracking_ref(key, sizeof(key), name);
	if (git_reference_lookup(&ref, r->repo, key) == 0) {
		git_reference_delete(ref);
		git_reference_free(ref);
	}
	return 0;
}

static char *mask_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *colon;

	if (!scheme)
		return str_dup(url);
	at = strchr(scheme + 3, '@');
	colon = strchr(scheme + 3, ':');
	if (!at || !colon || colon > at || (strchr(scheme + 3, '/') && strchr(scheme + 3, '/') < at))
		return str_dup(url);
	return aw_mem_printf("%.*s:***%s", (int)(colon - url), url, at);
}

/* The remotes, from the config's remote.<name>.url entries. (Not git_remote_list: in
 * libgit2 1.5 its regex match leaks PCRE2 match data on every call.) */
int repo_remotes(sync_repo *r, remote_info **out, size_t *n)
{
	git_config *cfg;
	git_config_iterator *it;
	git_config_entry *e;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (git_repository_config_snapshot(&cfg, r->repo))
		return repo_git_error("reading the folder's git config");
	if (git_config_iterator_new(&it, cfg)) {
		git_config_free(cfg);
		return repo_git_error("reading the folder's git config");
	}
	while (git_config_next(&e, it) == 0) {
		size_t len = strlen(e->name);
		bool dup = false;
		if (len < 12 || strncmp(e->name, "remote.", 7) || strcmp(e->name + len - 4, ".url"))
			continue;
		for (size_t i = 0; i < *n; i++)
			dup |= strlen((*out)[i].name) == len - 11 && !strncmp((*out)[i].name, e->name + 7, len - 11);
		if (dup)
			continue;
		*out = aw_mem_grow(*out, *n, &cap, sizeof(**out), 4);
		(*out)[*n].name = aw_mem_printf("%.*s", (int)(len - 11), e->name + 7);
		(*out)[*n].url = mask_url(e->value ? e->value : "");
		(*n)++;
	}
	git_config_iterator_free(it);
	git_config_free(cfg);
	return 0;
}

void remotes_free(remote_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].url);
	}
	free(v);
}

bool repo_take_warning(sync_repo *r, char *buf, size_t n)
{
	bool have = r->warning[0] != '\0';

	snprintf(buf, n, "%s", r->warning);
	r->warning[0] = '\0';
	return have;
}

/* Compare what a remote's branch now points at with what this device saw there before
 * (its remote-tracking ref, moved by every fetch and every successful push). A branch
 * that only ever grows is how sync works; one that went back to an ancestor was rolled
 * back, and one that moved to an unrelated commit was replaced. Either is reported,
 * and the merge goes on (the data that went missing is pushed again). */
static void check_history(sync_repo *r, const char *name, const git_oid *before, const git_oid *now)
{
	char a[12], b[12];

	if (git_oid_equal(before, now) || git_graph_descendant_of(r->repo, now, before) == 1)
		return;
	git_oid_tostr(a, sizeof(a), before);
	git_oid_tostr(b, sizeof(b), now);
	if (git_graph_descendant_of(r->repo, before, now) == 1)
		snprintf(r->warning, sizeof(r->warning),
			 "remote '%s' went back in history: its branch is at %s, an older commit than %s which it held "
			 "before (rolled back, or restored from an old copy)",
			 name, b, a);
	else
		snprintf(r->warning, sizeof(r->warning),
			 "remote '%s' replaced its history: its branch moved from %s to %s, which does not contain it",
			 name, a, b);
}

/* ---- what a local remote would send (docs/sync-format.md §9) ---------------------------------- */

/* A remote that is a path on this machine (a USB disk, a NAS mount) is fetched by
 * libgit2's local transport, which builds the pack *in this process* from the remote's
 * objects and reads every object it sends whole: a few KiB of zlib claiming gigabytes
 * would be inflated here before any check of ours could run. So, for such remotes, the
 * objects that would be sent (reachable from the remote's branch, not yet here) are
 * checked from their headers first: every blob within AWS_MAX_FILE, trees no deeper
 * than the layout. Network transports receive the pack from the server and index it
 * as a stream. */

#define PREFLIGHT_MAX_COMMITS 2000000
#define PREFLIGHT_MAX_DEPTH AWS_MAX_TREE_DEPTH

static size_t oid_slot(const git_oid *id, size_t cap)
{
	size_t h;

	memcpy(&h, id->id, sizeof(h));
	return h & (cap - 1);
}

bool oid_set_add(oid_set *s, const git_oid *id)
{
	static const git_oid zero;
	size_t i;

	if (git_oid_equal(id, &zero))
		return false;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		git_oid *nv = calloc(ncap, sizeof(*nv));
		if (!nv)
			return true;
		for (size_t k = 0; k < s->cap; k++) {
			if (git_oid_equal(&s->v[k], &zero))
				continue;
			for (i = oid_slot(&s->v[k], ncap); !git_oid_equal(&nv[i], &zero); i = (i + 1) & (ncap - 1))
				;
			nv[i] = s->v[k];
		}
		free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	for (i = oid_slot(id, s->cap); !git_oid_equal(&s->v[i], &zero); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], id))
			return false;
	s->v[i] = *id;
	s->n++;
	return true;
}

bool oid_set_has(const oid_set *s, const git_oid *id)
{
	static const git_oid zero;

	if (!s->cap || git_oid_equal(id, &zero))
		return false;
	for (size_t i = oid_slot(id, s->cap); !git_oid_equal(&s->v[i], &zero); i = (i + 1) & (s->cap - 1))
		if (git_oid_equal(&s->v[i], id))
			return true;
	return false;
}

/* Is `id` in `odb`, as the odb was opened? The folder is locked, so nothing else adds
 * objects to it while a fetch is checked, and a miss must not rescan the pack
 * directory (libgit2 does that on every miss otherwise: on a join, for every object). */
static bool have(git_odb *odb, const git_oid *id)
{
	return git_odb_exists_ext(odb, id, GIT_ODB_LOOKUP_NO_REFRESH) == 1;
}

typedef struct preflight {
	git_repository *theirs;
	git_odb *their_odb, *our_odb;
	/* a join: the folder holds no object yet, so none is looked up there (each look-up
	 * of a missing object asks the file system for its loose file: 24,000 calls for
	 * 3,000 rounds of history). Checking an object that was here after all only costs
	 * a header read. */
	bool nothing_here;
	oid_set seen;
	char path[512];
} preflight;

static int preflight_tree(preflight *p, const git_oid *id, int depth)
{
	git_tree *t;
	size_t base = strlen(p->path), n;
	int rc = 0;

	if (!oid_set_add(&p->seen, id) || (!p->nothing_here && have(p->our_odb, id)))
		return 0;
	if (depth > PREFLIGHT_MAX_DEPTH)
		return aw_error_set(AW_EINVALID, "refused: %s: directories nested deeper than the format allows", p->path);
	if (git_tree_lookup(&t, p->theirs, id))
		return aw_error_set(AW_EINVALID, "refused: %s: a directory object is missing or damaged",
				    p->path[0] ? p->path : "(top level)");
	n = git_tree_entrycount(t);
	for (size_t i = 0; i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(t, i);
		git_filemode_t mode = git_tree_entry_filemode_raw(e);
		const git_oid *eid = git_tree_entry_id(e);

		/* a gitlink's commit is never sent (the layout check refuses it); most
		 * entries of a shard directory's next version were met in the one before:
		 * skipped before their path is even written */
		if (mode == GIT_FILEMODE_COMMIT || oid_set_has(&p->seen, eid))
			continue;
		snprintf(p->path + base, sizeof(p->path) - base, "%s%.200s", base ? "/" : "", git_tree_entry_name(e));
		if (mode == GIT_FILEMODE_TREE)
			rc = preflight_tree(p, eid, depth + 1);
		else if (!oid_set_add(&p->seen, eid) || (!p->nothing_here && have(p->our_odb, eid)))
			rc = 0;
		else
			rc = blob_header_ok(p->their_odb, eid, p->path);
		p->path[base] = '\0';
	}
	git_tree_free(t);
	return rc;
}

/* The local directory a remote URL names, or NULL (caller frees). */
static char *local_remote_path(const char *url)
{
	const char *p = url_local_path(url);

	if (!p || !is_dir(p))
		return NULL;
	return str_dup(p);
}

static void hide_known(git_revwalk *w, sync_repo *r, git_odb *their_odb, const char *name)
{
	char ref[160];
	git_oid id;

	tracking_ref(ref, sizeof(ref), name);
	if (git_reference_name_to_id(&id, r->repo, "HEAD") == 0 && git_odb_exists(their_odb, &id))
		git_revwalk_hide(w, &id);
	if (git_reference_name_to_id(&id, r->repo, ref) == 0 && git_odb_exists(their_odb, &id))
		git_revwalk_hide(w, &id);
}

/* ---- a join from a local remote: its packs, copied and checked ---------------------------- */

/* A new device joining from a remote on a path would otherwise receive the whole
 * history through libgit2's local transport, which builds one pack in this process:
 * every object inflated, hashed and delta-searched again, without the paths that pair
 * a shard tree with its own earlier versions. The remote's packs are already that
 * history, packed (docs/sync-format.md §8), so a join copies them instead, into a
 * staging directory of the folder's .git, and installs them only when, read from the
 * copies themselves: every index opens, every object's header says a commit, tree or
 * blob within AWS_MAX_FILE (nothing larger is ever inflated later), the packs hold no
 * more objects than COPY_PER_COMMIT per commit of the branch plus twice what the walk
 * met (a remote's garbage is not taken in bulk), and every object the walk met is in
 * them. That walk (preflight_local) visits every commit but only the tip's tree: the
 * tip is what the folder checks out, and the historic trees are never read whole by
 * anything a join does (checking each of them was most of a join's time, and grew
 * with every round of the history). Anything else falls back to the ordinary fetch,
 * which sends only what the branch reaches, after the full walk. The tree check
 * before the branch moves (tree_acceptable) is the same either way; every object read
 * whole is hashed again by libgit2 (strict hash verification), so an index that names
 * an object wrongly fails a read, never passes one. */

#define STAGE_DIR "awsync-join"
#define COPY_SLACK 1000    /* objects the packs may hold beyond the bound below */
/* A round commits its segment (and the manifest now and then), a handful of trees and
 * the commit; a merge
 * fewer; a compaction or a move to a new key epoch a few packs more, rarely. */
#define COPY_PER_COMMIT 16
#define COPY_MAX_PACKS 256 /* a remote maintained as §8 says keeps about log2(objects) */

static bool pack_name_ok(const char *n, const char *ext)
{
	size_t l = strlen(n), el = strlen(ext);

	if (l != 5 + GIT_OID_HEXSZ + el || strncmp(n, "pack-", 5) || strcmp(n + l - el, ext))
		return false;
	for (size_t i = 5; i < 5 + GIT_OID_HEXSZ; i++)
		if (!isxdigit((unsigned char)n[i]) || isupper((unsigned char)n[i]))
			return false;
	return true;
}

/* Copy the regular file `name` of directory `from` to a new file in `to`, durably. */
static int copy_file_at(int from, int to, const char *name)
{
	int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, rc = -1;
	struct stat st;
	off_t done = 0;

	if (in < 0 || fstat(in, &st) || !S_ISREG(st.st_mode))
		goto out;
	if ((out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444)) < 0)
		goto out;
	while (done < st.st_size) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)(st.st_size - done), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* another file system, or none that copies: read and write */
			char buf[65536];
			ssize_t got = pread(in, buf, sizeof(buf), done);
			if (got <= 0 || write(out, buf, (size_t)got) != got)
				goto out;
			n = got;
		}
		done += n;
	}
	rc = fsync(out) ? -1 : 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

typedef struct staged_check {
	git_odb_backend *be;
	size_t objects;
	oid_set *ids; /* every object of the copies */
	bool bad;
} staged_check;

static int staged_object_ok(const git_oid *id, void *payload)
{
	staged_check *sc = payload;
	git_object_t type;
	size_t len;

	sc->objects++;
	oid_set_add(sc->ids, id);
	if (sc->be->read_header(&len, &type, sc->be, id) || len > AWS_MAX_FILE ||
	    (type != GIT_OBJECT_COMMIT && type != GIT_OBJECT_TREE && type != GIT_OBJECT_BLOB)) {
		sc->bad = true;
		return 1;
	}
	return 0;
}

typedef struct staged_pack {
	char name[5 + GIT_OID_HEXSZ + 1]; /* pack-<hex>, without the extension */
	bool installed;                   /* already in the folder (a join tried before) */
} staged_pack;

/* Remove the staging directory of the folder's .git `gitdir` and what it holds. */
static void remove_stage(const char *gitdir)
{
	int fd = open(gitdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		remove_tree_at(fd, STAGE_DIR);
		close(fd);
	}
}

/* Copy, check and install the remote's packs. 0: the folder now holds everything the
 * branch reaches; AW_ENOTFOUND: not done (the caller fetches); anything else failed. */
static int copy_remote_packs(sync_repo *r, git_repository *theirs, const oid_set *reach, size_t commits)
{
	const char *gitdir = git_repository_path(r->repo);
	char *their_dir = aw_mem_printf("%sobjects/pack", git_repository_path(theirs));
	char *stage = aw_mem_printf("%s" STAGE_DIR, gitdir), *ours = aw_mem_printf("%sobjects/pack", gitdir);
	int td = -1, sd = -1, od = -1, rc = AW_ENOTFOUND;
	staged_pack *packs = NULL;
	size_t npacks = 0, cap = 0, objects = 0;
	oid_set in_packs = {0};
	git_odb *odb = NULL, *our_odb = NULL;
	DIR *d = NULL;
	struct dirent *e;

	remove_stage(gitdir); /* what an interrupted join left */
	aw_files_mkdir_p(ours, 0700);
	if (mkdir(stage, 0700) || (sd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (od = open(ours, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (td = open(their_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 || !(d = fdopendir(td)))
		goto out;
	td = -1; /* closed with d */
	while ((e = readdir(d))) {
		char pack[80];
		if (!pack_name_ok(e->d_name, ".idx"))
			continue;
		if (npacks == COPY_MAX_PACKS)
			goto out;
		packs = aw_mem_grow(packs, npacks, &cap, sizeof(*packs), 8);
		snprintf(packs[npacks].name, sizeof(packs[npacks].name), "%.*s", 5 + GIT_OID_HEXSZ, e->d_name);
		snprintf(pack, sizeof(pack), "%s.pack", packs[npacks].name);
		packs[npacks].installed = faccessat(od, e->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
					  faccessat(od, pack, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		if (!packs[npacks].installed && (copy_file_at(dirfd(d), sd, pack) || copy_file_at(dirfd(d), sd, e->d_name)))
			goto out;
		npacks++;
	}
	if (!npacks || git_odb_new(&odb) || git_repository_odb(&our_odb, r->repo))
		goto out;
	/* every object of every copy: a header within bounds, and not too many of them */
	for (size_t i = 0; i < npacks; i++) {
		char *idx;
		staged_check sc = {.ids = &in_packs};
		if (packs[i].installed)
			continue;
		idx = aw_mem_printf("%s/%s.idx", stage, packs[i].name);
		if (git_odb_backend_one_pack(&sc.be, idx)) {
			free(idx);
			goto out;
		}
		free(idx);
		if (git_odb_add_backend(odb, sc.be, 1)) {
			sc.be->free(sc.be);
			goto out;
		}
		if (sc.be->foreach(sc.be, staged_object_ok, &sc) || sc.bad)
			goto out;
		objects += sc.objects;
		if (objects > COPY_PER_COMMIT * commits + 2 * reach->n + COPY_SLACK)
			goto out;
	}
	/* everything the branch reaches is in them (or was here already) */
	for (size_t i = 0; i < reach->cap; i++) {
		static const git_oid zero;
		const git_oid *id = &reach->v[i];
		if (git_oid_equal(id, &zero) || oid_set_has(&in_packs, id) || have(our_odb, id))
			continue;
		goto out;
	}
	/* install: each pack before its index, which is what makes it visible */
	for (size_t i = 0; i < npacks; i++) {
		char n[80];
		if (packs[i].installed)
			continue;
		snprintf(n, sizeof(n), "%s.pack", packs[i].name);
		if (renameat(sd, n, od, n))
			goto fail;
		snprintf(n, sizeof(n), "%s.idx", packs[i].name);
		if (renameat(sd, n, od, n))
			goto fail;
	}
	fsync(od);
	rc = git_odb_refresh(our_odb) ? repo_git_error("reading the copied packs") : 0;
	goto out;
fail:
	rc = aw_error_set(AW_ERROR, "installing the remote's packs: %s", strerror(errno));
out:
	git_odb_free(odb);
	git_odb_free(our_odb);
	free(in_packs.v);
	if (d)
		closedir(d);
	if (td >= 0)
		close(td);
	if (sd >= 0)
		close(sd);
	if (od >= 0)
		close(od);
	remove_stage(gitdir);
	free(packs);
	free(their_dir);
	free(stage);
	free(ours);
	return rc;
}

/* Check what a local remote would send (see above). With `copy` (a join: nothing here
 * yet) the remote's packs are then copied when they pass; *copied says so and *tip is
 * the commit they reach. */
/* Walk the commits w yields (each must be present) and, with `trees`, every tree and
 * blob they reach that is not here (preflight_tree); what it met is added to p->seen
 * and the commits counted in *commits. */
static int preflight_walk(preflight *p, git_revwalk *w, bool trees, size_t *commits)
{
	git_oid c;
	int rc = 0;

	*commits = 0;
	while (!rc && git_revwalk_next(&c, w) == 0) {
		git_commit *cm;
		if (++*commits > PREFLIGHT_MAX_COMMITS)
			return aw_error_set(AW_EINVALID, "refused: the remote's branch has more than %d new commits",
					    PREFLIGHT_MAX_COMMITS);
		if (!p->nothing_here && have(p->our_odb, &c))
			continue;
		if (trees) {
			if (git_commit_lookup(&cm, p->theirs, &c))
				return aw_error_set(AW_EINVALID,
						    "refused: a commit of the remote's branch is missing or damaged");
			p->path[0] = '\0';
			rc = preflight_tree(p, git_commit_tree_id(cm), 0);
			git_commit_free(cm);
		}
		oid_set_add(&p->seen, &c); /* the set is then what the walk met */
	}
	return rc;
}

/* A join's check before it copies the remote's packs: every commit, and the tree of the
 * tip, which is what the folder checks out (copy_remote_packs says why not the others). */
static int preflight_join(preflight *p, git_revwalk *w, const git_oid *tip, size_t *commits)
{
	git_commit *cm;
	int rc = preflight_walk(p, w, false, commits);

	if (rc)
		return rc;
	if (git_commit_lookup(&cm, p->theirs, tip))
		return aw_error_set(AW_EINVALID, "refused: a commit of the remote's branch is missing or damaged");
	p->path[0] = '\0';
	rc = preflight_tree(p, git_commit_tree_id(cm), 0);
	git_commit_free(cm);
	return rc;
}

static int preflight_local(sync_repo *r, const char *name, bool copy, bool *copied, git_oid *tip)
{
	char *url = remote_url(r, name), *path = url ? local_remote_path(url) : NULL;
	preflight p;
	git_revwalk *w = NULL;
	size_t commits = 0;
	int rc = 0;

	*copied = false;
	free(url);
	memset(&p, 0, sizeof(p));
	p.nothing_here = copy;
	if (!path)
		return 0;
	/* anything this cannot open or read is left to the fetch, which reports it */
	if (git_repository_open_ext(&p.theirs, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) ||
	    git_reference_name_to_id(tip, p.theirs, "refs/heads/" AWS_BRANCH) ||
	    git_repository_odb(&p.their_odb, p.theirs) || git_repository_odb(&p.our_odb, r->repo) ||
	    git_revwalk_new(&w, p.theirs) || git_revwalk_push(w, tip))
		goto out;
	hide_known(w, r, p.their_odb, name);
	git_odb_refresh(p.our_odb); /* once: the walk looks up without rescanning */
	if (!copy) {
		rc = preflight_walk(&p, w, true, &commits);
		goto out;
	}
	rc = preflight_join(&p, w, tip, &commits);
	if (!rc) {
		rc = copy_remote_packs(r, p.theirs, &p.seen, commits);
		*copied = rc == 0;
	}
	if (rc == AW_ENOTFOUND) {
		/* not copied: the fetch reads everything the branch reaches, so all of it is
		 * checked first */
		free(p.seen.v);
		memset(&p.seen, 0, sizeof(p.seen));
		git_revwalk_reset(w);
		rc = git_revwalk_push(w, tip) ? 0 : preflight_walk(&p, w, true, &commits);
	}
out:
	git_revwalk_free(w);
	git_odb_free(p.their_odb);
	git_odb_free(p.our_odb);
	git_repository_free(p.theirs);
	free(p.seen.v);
	free(path);
	if (rc) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		return aw_error_set(rc, "remote '%s': %s", name, msg);
	}
	return 0;
}

static int fetch(sync_repo *r, const char *name, git_oid *theirs, bool *have)
{
	git_fetch_options fo;
	git_remote *rem;
	char spec[160], ref[160], *specp = spec, what[200];
	git_strarray specs = {&specp, 1};
	git_oid before;
	bool had, copied;
	int rc;

	*have = false;
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	tracking_ref(ref, sizeof(ref), name);
	had = git_reference_name_to_id(&before, r->repo, ref) == 0;
	/* a join (nothing here yet) from a remote on a path copies its packs */
	if ((rc = preflight_local(r, name, !had && !repo_has_head(r), &copied, theirs)))
		return rc;
	if (copied) {
		git_reference *tr;
		if (git_reference_create(&tr, r->repo, ref, theirs, 1, "awsync: join"))
			return repo_git_error("recording the remote's branch");
		git_reference_free(tr);
		*have = true;
		return 0;
	}
	if ((rc = open_remote(r, name, &rem)))
		return rc;
	snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/%s/%s", AWS_BRANCH, name, AWS_BRANCH);
	fo.callbacks.credentials = cred_cb;
	fo.callbacks.transfer_progress = transfer_cb;
	fo.callbacks.payload = r;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.update_fetchhead = 0;
	r->cred_attempts = 0;
	rc = git_remote_fetch(rem, &specs, &fo, NULL);
	if (rc) {
		char *u = mask_url(git_remote_url(rem) ? git_remote_url(rem) : "");
		snprintf(what, sizeof(what), "fetching from remote '%s' (%s)", name, u);
		free(u);
		git_remote_free(rem);
		return repo_git_error(what);
	}
	git_remote_free(rem);
	*have = git_reference_name_to_id(theirs, r->repo, ref) == 0;
	if (had && *have)
		check_history(r, name, &before, theirs);
	else if (had)
		snprintf(r->warning, sizeof(r->warning),
			 "remote '%s' no longer has the sync branch it held before (deleted, or replaced by an empty "
			 "repository)",
			 name);
	return 0;
}

/* After a push the remote holds HEAD: remember it as what we saw there, so that a
 * later fetch can tell whether the remote went back. */
static void remember_pushed(sync_repo *r, const char *name, const git_oid *head)
{
	git_reference *ref;
	char refname[160];

	tracking_ref(refname, sizeof(refname), name);
	if (git_reference_create(&ref, r->repo, refname, head, 1, "awsync: pushed") == 0)
		git_reference_free(ref);
}

/* Replace (or remove, when `src` lacks it) the entry at a one- or two-level path. */
static int force_path(git_repository *g, git_tree *tree, git_tree *src, const char *dir, const char *name,
		      git_oid *out)
{
	git_tree_entry *se = NULL, *de = NULL;
	git_treebuilder *sub = NULL, *root = NULL;
	git_tree *subtree = NULL;
	char path[512];
	git_oid sub_id;
	int rc = AW_ERROR;

	snprintf(path, sizeof(path), "%s%s%s", dir ? dir : "", dir ? "/" : "", name);
	git_tree_entry_bypath(&se, src, path);
	git_tree_entry_bypath(&de, tree, path);
	if ((!se && !de) || (se && de && git_oid_equal(git_tree_entry_id(se), git_tree_entry_id(de)) &&
			     git_tree_entry_filemode(se) == git_tree_entry_filemode(de))) {
		git_oid_cpy(out, git_tree_id(tree));
		rc = 0;
		goto out;
	}
	if (dir) {
		git_tree_entry *dirent = NULL;
		if (git_tree_entry_bypath(&dirent, tree, dir) == 0 && git_tree_entry_type(dirent) == GIT_OBJECT_TREE)
			git_tree_lookup(&subtree, g, git_tree_entry_id(dirent));
		git_tree_entry_free(dirent);
		if (git_treebuilder_new(&sub, g, subtree))
			goto fail;
		if (se ? git_treebuilder_insert(NULL, sub, name, git_tree_entry_id(se), git_tree_entry_filemode(se))
		       : git_treebuilder_remove(sub, name))
			goto fail;
		if (git_treebuilder_write(&sub_id, sub))
			goto fail;
		if (git_treebuilder_new(&root, g, tree))
			goto fail;
		if (git_treebuilder_insert(NULL, root, dir, &sub_id, GIT_FILEMODE_TREE))
			goto fail;
	} else {
		if (git_treebuilder_new(&root, g, tree))
			goto fail;
		if (se ? git_treebuilder_insert(NULL, root, name, git_tree_entry_id(se), git_tree_entry_filemode(se))
		       : git_treebuilder_remove(root, name))
			goto fail;
	}
	if (git_treebuilder_write(out, root))
		goto fail;
	rc = 0;
	goto out;
fail:
	repo_git_error("restoring this device's files after a merge");
out:
	git_treebuilder_free(sub);
	git_treebuilder_free(root);
	git_tree_free(subtree);
	git_tree_entry_free(se);
	git_tree_entry_free(de);
	return rc;
}

static int first_conflict(git_index *idx, char *buf, size_t n)
{
	git_index_conflict_iterator *it;
	const git_index_entry *a, *o, *t;

	snprintf(buf, n, "?");
	if (git_index_conflict_iterator_new(&it, idx))
		return 0;
	if (git_index_conflict_next(&a, &o, &t, it) == 0)
		snprintf(buf, n, "%s", a ? a->path : o ? o->path : t ? t->path : "?");
	git_index_conflict_iterator_free(it);
	return 0;
}

/* Merge commit `theirs` into HEAD; our own directory and awsync.json stay ours. */
static int merge_into_head(sync_repo *r, const git_oid *theirs, const char *own)
{
	git_oid ours, base, merged, fixed, result;
	git_commit *oc = NULL, *tc = NULL, *bc = NULL;
	git_tree *ot = NULL, *tt = NULL, *bt = NULL, *mt = NULL, *ft = NULL;
	git_index *idx = NULL;
	git_signature *sig = NULL;
	bool ff;
	int rc = AW_ERROR;

	if (git_commit_lookup(&tc, r->repo, theirs) || git_commit_tree(&tt, tc))
		return repo_git_error("reading the fetched commit");
	if (git_reference_name_to_id(&ours, r->repo, "HEAD")) {
		/* nothing local yet (a join): take theirs as it is */
		git_tree_entry *ge = NULL;
		if (git_tree_entry_bypath(&ge, tt, AWS_GROUP_FILE)) {
			rc = aw_error_set(AW_EINVALID, "the remote is not an awnode sync folder (no awsync.json)");
			goto out;
		}
		git_tree_entry_free(ge);
		rc = move_head(r, NULL, theirs, "awsync: join");
		goto out;
	}
	if (git_oid_equal(&ours, theirs)) {
		rc = 0;
		goto out;
	}
	if (git_merge_base(&base, r->repo, &ours, theirs)) {
		rc = aw_error_set(AW_EINVALID, "the remote has no history in common with this folder: it holds another sync group");
		goto out;
	}
	if (git_oid_equal(&base, theirs)) { /* we are ahead */
		rc = 0;
		goto out;
	}
	if (git_commit_lookup(&oc, r->repo, &ours) || git_commit_tree(&ot, oc)) {
		repo_git_error("reading HEAD");
		goto out;
	}
	ff = git_oid_equal(&base, &ours);
	/* the layout check before libgit2's merge, whose own path checks are narrower */
	if (!ff && (rc = tree_acceptable(r->repo, tt, ot)))
		goto out;
	rc = AW_ERROR;
	if (ff) {
		git_oid_cpy(&merged, git_tree_id(tt));
	} else {
		git_merge_options mo;
		char path[512];
		git_merge_options_init(&mo, GIT_MERGE_OPTIONS_VERSION);
		mo.flags = 0; /* no rename detection: paths are identities here */
		if (git_commit_lookup(&bc, r->repo, &base) || git_commit_tree(&bt, bc) ||
		    git_merge_trees(&idx, r->repo, bt, ot, tt, &mo)) {
			repo_git_error("merging the remote");
			goto out;
		}
		if (git_index_has_conflicts(idx)) {
			first_conflict(idx, path, sizeof(path));
			rc = aw_error_set(AW_EINVALID,
					  "merge conflict at %s: two devices wrote the same file (is a device id used twice?)", path);
			goto out;
		}
		if (git_index_write_tree_to(&merged, idx, r->repo)) {
			repo_git_error("writing the merged tree");
			goto out;
		}
	}
	/* This device is the only writer of its directory and never changes awsync.json. */
	if (git_tree_lookup(&mt, r->repo, &merged)) {
		repo_git_error("reading the merged tree");
		goto out;
	}
	if (force_path(r->repo, mt, ot, "devices", own, &fixed))
		goto out;
	git_tree_free(mt);
	mt = NULL;
	if (git_tree_lookup(&mt, r->repo, &fixed)) {
		repo_git_error("reading the merged tree");
		goto out;
	}
	if (force_path(r->repo, mt, ot, NULL, AWS_GROUP_FILE, &fixed))
		goto out;
	if (ff && git_oid_equal(&fixed, git_tree_id(tt))) {
		git_oid_cpy(&result, theirs);
	} else {
		const git_commit *parents[2];
		size_t np = 0;
		if (!ff)
			parents[np++] = oc;
		parents[np++] = tc;
		if (git_tree_lookup(&ft, r->repo, &fixed) || signature(&sig) ||
		    git_commit_create(&result, r->repo, NULL, sig, sig, NULL, ff ? "awsync: keep own files" : "awsync: merge",
				      ft, np, parents)) {
			repo_git_error("committing the merge");
			goto out;
		}
	}
	rc = move_head(r, ot, &result, "awsync: merge");
out:
	git_signature_free(sig);
	git_index_free(idx);
	git_tree_free(ot);
	git_tree_free(tt);
	git_tree_free(bt);
	git_tree_free(mt);
	git_tree_free(ft);
	git_commit_free(oc);
	git_commit_free(tc);
	git_commit_free(bc);
	return rc;
}

int repo_pull(sync_repo *r, const char *name, const char *own_device)
{
	git_oid theirs;
	bool have;
	int rc = fetch(r, name, &theirs, &have);

	if (rc || !have)
		return rc;
	if ((rc = merge_into_head(r, &theirs, own_device))) {
		/* name the remote and the commit: the status shows where the refusal came from */
		char msg[600], id[12];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		git_oid_tostr(id, sizeof(id), &theirs);
		return aw_error_set(rc, "remote '%s' (commit %s): %s", name, id, msg);
	}
	return 0;
}

int repo_remote_has_group(sync_repo *r, const char *name, bool *has)
{
	git_oid theirs;

	return fetch(r, name, &theirs, has);
}

static int push_ref_cb(const char *refname, const char *status, void *data)
{
	sync_repo *r = data;

	if (status)
		snprintf(r->push_status, sizeof(r->push_status), "%s: %s", refname, status);
	return 0;
}

/* ---- a push to a remote on a path ------------------------------------------------------- */

/* libgit2's local transport pushes by building a pack from a walk that first marks the
 * whole tree of the remote's tip as already there, every entry of every shard: a cost
 * that grows with the history, paid every round. What a round has to send is known
 * without that: the commits from HEAD down to what the remote has, and in their trees
 * only the entries the remote lacks (a subtree it has is there whole). So a push to a
 * bare repository on a path writes that pack into the remote itself and then moves its
 * branch, as the transport would: the pack, its index and their directory are fsynced
 * by libgit2's indexer before it returns, and only then is the branch written (locked,
 * compared with the tip this round saw, fsynced). A branch that moved since (another
 * device pushed) or that HEAD does not descend from is answered as the transport
 * answers it, GIT_ENONFASTFORWARD, and the round fetches, merges and pushes again. */

/* What a push attempt came to, besides an error (negative, with aw_error_last() set). */
enum {
	PUSH_DONE = 0,
	PUSH_MOVED = 1,     /* the remote's branch moved, or HEAD does not descend from it */
	PUSH_TRANSPORT = 2, /* not a bare repository on a path: libgit2's transport pushes */
};

typedef struct push_set {
	git_odb *their_odb;
	git_packbuilder *pb;
	oid_set seen;
} push_set;

/* Does the remote lack id (and it is not in the pack yet)? Then it goes into the pack. */
static bool push_wanted(void *ctx, const git_oid *id)
{
	push_set *p = ctx;

	if (oid_set_has(&p->seen, id) || git_odb_exists(p->their_odb, id))
		return false;
	oid_set_add(&p->seen, id);
	return true;
}

/* The pack of what `head` reaches and the remote lacks, written into its objects/pack. */
static int push_pack(sync_repo *r, git_repository *their, const git_oid *head, const git_oid *tip)
{
	push_set p = {0};
	git_revwalk *w = NULL;
	git_oid c;
	char *dir = NULL;
	int rc;

	if ((rc = git_repository_odb(&p.their_odb, their)) || (rc = git_packbuilder_new(&p.pb, r->repo)) ||
	    (rc = git_revwalk_new(&w, r->repo)) || (rc = git_revwalk_push(w, head)) ||
	    (tip && (rc = git_revwalk_hide(w, tip))))
		goto out;
	git_packbuilder_set_threads(p.pb, 1);
	while (!rc && (rc = git_revwalk_next(&c, w)) == 0) {
		git_commit *cm = NULL;
		if (!push_wanted(&p, &c))
			continue;
		if ((rc = git_commit_lookup(&cm, r->repo, &c)) || (rc = git_packbuilder_insert(p.pb, &c, NULL)))
			break;
		if (push_wanted(&p, git_commit_tree_id(cm)))
			rc = pack_tree(p.pb, r->repo, git_commit_tree_id(cm), "", push_wanted, &p, 0);
		git_commit_free(cm);
	}
	if (rc == GIT_ITEROVER)
		rc = 0;
	if (!rc && git_packbuilder_object_count(p.pb)) {
		dir = aw_mem_printf("%sobjects/pack", git_repository_path(their));
		rc = git_packbuilder_write(p.pb, dir, 0, NULL, NULL);
	}
out:
	free(dir);
	git_revwalk_free(w);
	git_packbuilder_free(p.pb);
	git_odb_free(p.their_odb);
	free(p.seen.v);
	return rc;
}

/* Push HEAD to the bare repository at `path`: PUSH_DONE, PUSH_MOVED, PUSH_TRANSPORT
 * (not such a repository; libgit2's transport reports why), or an error. */
static int push_local(sync_repo *r, const char *name, const char *path, const git_oid *head)
{
	git_repository *their = NULL;
	git_reference *ref = NULL;
	git_oid tip;
	bool has_tip;
	int rc;

	if (git_repository_open_ext(&their, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL))
		return PUSH_TRANSPORT;
	if (!git_repository_is_bare(their)) {
		git_repository_free(their);
		return PUSH_TRANSPORT;
	}
	has_tip = git_reference_name_to_id(&tip, their, "refs/heads/" AWS_BRANCH) == 0;
	if (has_tip && git_oid_equal(&tip, head)) {
		git_repository_free(their);
		return PUSH_DONE;
	}
	/* a fast-forward only, from a tip this device has: else fetch and merge first */
	if (has_tip && git_graph_descendant_of(r->repo, head, &tip) != 1) {
		git_repository_free(their);
		return PUSH_MOVED;
	}
	if ((rc = push_pack(r, their, head, has_tip ? &tip : NULL)) == 0) {
		rc = has_tip ? git_reference_create_matching(&ref, their, "refs/heads/" AWS_BRANCH, head, 1, &tip, "push")
			     : git_reference_create(&ref, their, "refs/heads/" AWS_BRANCH, head, 0, "push");
		if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
			rc = PUSH_MOVED; /* another device pushed meanwhile */
	}
	if (rc < 0) {
		char what[160];
		snprintf(what, sizeof(what), "pushing to remote '%s'", name);
		rc = repo_git_error(what);
	}
	git_reference_free(ref);
	git_repository_free(their);
	return rc;
}

/* A push to a remote on a path that was killed while it moved the remote's branch. */
static void remove_remote_ref_lock(sync_repo *r, const char *name)
{
	char *path = repo_remote_local_path(r, name);

	if (path)
		remove_ref_lock(path, "refs/heads/" AWS_BRANCH, time(NULL) - STALE_REMOTE_LOCK_S);
	free(path);
}

/* One push by libgit2's transport: PUSH_DONE, PUSH_MOVED, or an error. */
static int push_transport(sync_repo *r, const char *name, const char *spec_text)
{
	char spec[128], *specp = spec;
	git_strarray specs = {&specp, 1};
	git_push_options po;
	git_remote *rem;
	int rc;

	snprintf(spec, sizeof(spec), "%s", spec_text);
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	if ((rc = open_remote(r, name, &rem)))
		return rc;
	po.callbacks.credentials = cred_cb;
	po.callbacks.push_update_reference = push_ref_cb;
	po.callbacks.push_transfer_progress = push_transfer_cb;
	po.callbacks.payload = r;
	r->cred_attempts = 0;
	r->push_status[0] = '\0';
	rc = git_remote_push(rem, &specs, &po);
	git_remote_free(rem);
	if (rc == GIT_ENONFASTFORWARD || (rc == 0 && r->push_status[0]))
		return PUSH_MOVED; /* (a refused update: the loop's last message says why) */
	if (rc) {
		char what[160];
		snprintf(what, sizeof(what), "pushing to remote '%s'", name);
		return repo_git_error(what);
	}
	return PUSH_DONE;
}

int repo_push(sync_repo *r, const char *name, const char *own_device)
{
	char *path = repo_remote_local_path(r, name);
	git_oid head;
	int rc = 0;

	if (git_reference_name_to_id(&head, r->repo, "HEAD"))
		goto out;
	remove_remote_ref_lock(r, name);
	for (int attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
		r->push_status[0] = '\0';
		if (git_reference_name_to_id(&head, r->repo, "HEAD")) {
			rc = repo_git_error("reading HEAD");
			goto out;
		}
		rc = path ? push_local(r, name, path, &head) : PUSH_TRANSPORT;
		if (rc == PUSH_TRANSPORT)
			rc = push_transport(r, name, "refs/heads/" AWS_BRANCH ":refs/heads/" AWS_BRANCH);
		if (rc == PUSH_DONE) {
			remember_pushed(r, name, &head);
			goto out;
		}
		if (rc < 0)
			goto out;
		if (cancelled(r)) {
			rc = aw_error_set(AW_ESHUTDOWN, "pushing to remote '%s': cancelled (awnode is stopping)", name);
			goto out;
		}
		/* the remote moved since we fetched: fetch, merge and try again */
		if ((rc = repo_pull(r, name, own_device)))
			goto out;
	}
	rc = aw_error_set(AW_EBUSY, "pushing to remote '%s': it kept moving (%d attempts)%s%s", name, PUSH_ATTEMPTS,
			  r->push_status[0] ? "; last answer: " : "", r->push_status);
out:
	free(path);
	return rc;
}

int remote_probe(const char *url, const char *ssh_key, bool *has_group)
{
	git_remote_callbacks cb;
	const git_remote_head **heads;
	git_remote *rem;
	sync_repo tmp;
	size_t n;
	char *u = normalise_url(url);
	int rc = 0;

	*has_group = false;
	git_remote_init_callbacks(&cb, GIT_REMOTE_CALLBACKS_VERSION);
	memset(&tmp, 0, sizeof(tmp));
	tmp.ssh_key = (char *)ssh_key;
	if (repo_git_init()) {
		free(u);
		return AW_ERROR;
	}
	cb.credentials = cred_cb;
	cb.payload = &tmp;
	if (git_remote_create_detached(&rem, u)) {
		rc = repo_git_error("opening the remote");
	} else {
		if (git_remote_connect(rem, GIT_DIRECTION_FETCH, &cb, NULL, NULL) || git_remote_ls(&heads, &n, rem)) {
			char what[300];
			snprintf(what, sizeof(what), "connecting to %s", u);
			rc = repo_git_error(what);
		} else {
			for (size_t i = 0; i < n; i++)
				if (!strcmp(heads[i]->name, "refs/heads/" AWS_BRANCH))
					*has_group = true;
		}
		git_remote_disconnect(rem);
		git_remote_free(rem);
	}
	free(u);
	git_libgit2_shutdown();
	return rc;
}

/* ---- for maintenance (maintain.c) ----------------------------------------------------- */

git_repository *repo_git(sync_repo *r)
{
	return r->repo;
}

char *repo_remote_local_path(sync_repo *r, const char *name)
{
	char *url = remote_url(r, name), *path = url ? local_remote_path(url) : NULL;

	free(url);
	return path;
}
