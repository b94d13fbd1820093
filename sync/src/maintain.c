/*
 * Keeping the sync folder's repository, and a remote on a local path, packed
 * (docs/sync-format.md §8, "Git").
 *
 * Every round leaves a few loose objects in the folder (the new segment, the manifest,
 * the trees above them, the commit) and, on a remote that is a path, one small pack per
 * push; nobody runs `git gc` on either. Repacking everything whenever they pile up costs
 * time in proportion to the whole history, so after a year of 5-minute rounds each
 * repack would take seconds. Instead the packs are kept in a geometric progression, as
 * `git repack --geometric=2` does: loose objects and the smallest packs are merged into
 * one new pack until every pack left is at least twice the size of the next smaller
 * one. An object is then rewritten about log2(objects) times over its life, a round
 * rarely merges more than a few hundred objects, and there are never more than about
 * log2(objects) packs. When a merge would take in every pack of the folder it is a
 * full repack of what is reachable, which also drops unreachable objects; on a remote
 * it stays a merge, which keeps them.
 *
 * What may be removed afterwards is what a snapshot taken before the merge held, and
 * only when the new pack holds it: a remote on a shared disk may receive another
 * device's push during the merge, and that push's objects must survive.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/odb_backend.h>

#include "aw/mem.h"
#include "internal.h"

/* Loose objects worth packing: like git gc --auto's 6,700 it keeps a repack from
 * happening every round, but lower, as ours are small and a round makes about eight. */
#define LOOSE_LIMIT 256
/* More packs than this and the smallest are merged even without loose objects (a
 * remote on a path receives one pack per push and no loose objects). A long history's
 * progression alone has up to log2(objects) packs, more than 12 after a few thousand
 * rounds; were 12 the limit there, a merge would follow every second push. So the limit
 * is the larger of 12 and log2(objects) + PACK_SLACK: the pushes' small packs gather
 * for a few rounds and are then merged at once (the same objects are merged, as many
 * times, in fewer rounds). */
#define PACK_LIMIT 12
#define PACK_SLACK 4

static bool hex2(const char *s)
{
	return strlen(s) == 2 && isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1]);
}

static size_t loose_in(const char *gitdir, int first, int count)
{
	size_t n = 0;

	for (int i = first; i < first + count; i++) {
		char *path = aw_mem_printf("%sobjects/%02x", gitdir, i);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strlen(e->d_name) == GIT_OID_HEXSZ - 2)
				n++;
		if (d)
			closedir(d);
		free(path);
	}
	return n;
}

/* Loose objects: those in fan-out directories 00..0f times 16, cheap enough for every
 * round; near LOOSE_LIMIT that sample can miss by a hundred either way (ids are random,
 * and 300 objects put about 19 in 16 directories, give or take 4), so from half the
 * limit on every directory is counted and the decision is made on the true number. */
static size_t loose_estimate(const char *gitdir)
{
	size_t n = loose_in(gitdir, 0, 16) * 16;

	return n < LOOSE_LIMIT / 2 ? n : n / 16 + loose_in(gitdir, 16, 240);
}

/* A loose object file and the id its path names. */
typedef struct loose_object {
	char *path;
	git_oid id;
} loose_object;

/* A pack by its index file, with the number of objects the index lists. */
typedef struct pack_entry {
	char *idx;
	size_t objects;
	bool keep;          /* marked .keep: never merged or removed */
} pack_entry;

/* What a repository held before a repack began. */
typedef struct repack_snapshot {
	loose_object *loose;
	size_t nloose, cap_loose;
	pack_entry *packs;  /* sorted by size, smallest first, .keep packs included */
	size_t npacks, cap_packs;
} repack_snapshot;

/* Objects in a version-2 pack index: the last entry of its fan-out table. 0 for an
 * index that cannot be read, which sorts it first and merges it (libgit2 reads it or
 * fails the merge, and nothing is removed then). */
static size_t idx_objects(const char *idx)
{
	unsigned char head[8 + 256 * 4];
	FILE *f = fopen(idx, "rb");
	size_t got = f ? fread(head, 1, sizeof(head), f) : 0;
	const unsigned char *last = head + 8 + 255 * 4;

	if (f)
		fclose(f);
	if (got != sizeof(head) || memcmp(head, "\377tOc", 4))
		return 0;
	return (size_t)last[0] << 24 | (size_t)last[1] << 16 | (size_t)last[2] << 8 | last[3];
}

static void snapshot_loose(repack_snapshot *sn, const char *gitdir)
{
	char *objs = aw_mem_printf("%sobjects", gitdir);
	DIR *d = opendir(objs), *sub;
	struct dirent *e, *f;

	while (d && (e = readdir(d))) {
		char *dir, hex[GIT_OID_HEXSZ + 1];
		if (!hex2(e->d_name))
			continue;
		dir = aw_mem_printf("%s/%s", objs, e->d_name);
		sub = opendir(dir);
		while (sub && (f = readdir(sub))) {
			if (strlen(f->d_name) != GIT_OID_HEXSZ - 2)
				continue;
			/* both lengths are checked: the fan-out directory's 2 and the rest's 38 */
			memcpy(hex, e->d_name, 2);
			memcpy(hex + 2, f->d_name, GIT_OID_HEXSZ - 2);
			hex[GIT_OID_HEXSZ] = '\0';
			sn->loose = aw_mem_grow(sn->loose, sn->nloose, &sn->cap_loose, sizeof(*sn->loose), 64);
			if (git_oid_fromstr(&sn->loose[sn->nloose].id, hex))
				continue;
			sn->loose[sn->nloose++].path = aw_mem_printf("%s/%s", dir, f->d_name);
		}
		if (sub)
			closedir(sub);
		free(dir);
	}
	if (d)
		closedir(d);
	free(objs);
}

/* The pack limit of a repository holding `objects` objects in its packs. */
static size_t pack_limit(size_t objects)
{
	size_t log2 = 0;

	while (objects >>= 1)
		log2++;
	return log2 + PACK_SLACK > PACK_LIMIT ? log2 + PACK_SLACK : PACK_LIMIT;
}

static int by_objects(const void *a, const void *b)
{
	const pack_entry *x = a, *y = b;

	return (x->objects > y->objects) - (x->objects < y->objects);
}

/* A killed write of a pack (a push, a fetch, a repack) leaves a temporary file, or an
 * index that was renamed into place before its pack: garbage that nothing names, as
 * large as what was being written, and every later kill adds one. The same names are
 * what another device's push into a remote looks like while it runs, so only files
 * older than this are taken as left by a kill (the file server's clock; a push that
 * writes for a day is not one this format makes). */
#define STALE_PACK_WRITE_S (24 * 3600)

static bool is_pack_temp(const char *name)
{
	return !strncmp(name, "pack_git2_", 10) || !strncmp(name, "tmp_pack_", 9) || !strncmp(name, "tmp_idx_", 8);
}

static bool is_stale(const char *dir, const char *name)
{
	char *path = aw_mem_printf("%s/%s", dir, name);
	struct stat st;
	bool stale = lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < time(NULL) - STALE_PACK_WRITE_S;

	free(path);
	return stale;
}

static void remove_in(const char *dir, const char *stem, const char *ext)
{
	char *path = aw_mem_printf("%s/%s%s", dir, stem, ext);

	unlink(path);
	free(path);
}

static void snapshot_packs(repack_snapshot *sn, const char *gitdir)
{
	char *pdir = aw_mem_printf("%sobjects/pack", gitdir);
	DIR *d = opendir(pdir);
	struct dirent *e;
	struct stat st;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		pack_entry *p;
		char *keep, *pack;
		bool whole;
		if (is_pack_temp(e->d_name)) {
			if (is_stale(pdir, e->d_name))
				remove_in(pdir, e->d_name, "");
			continue;
		}
		if (strncmp(e->d_name, "pack-", 5) || l < 9 || strcmp(e->d_name + l - 4, ".idx"))
			continue;
		/* libgit2's indexer renames the index into place before the pack: an index
		 * alone is a write in progress (another device's push), or one that a kill
		 * stopped there. Neither is a pack yet: it is not merged, and removed once
		 * stale (its reverse index first, the index last, as a pack is dropped). */
		pack = aw_mem_printf("%s/%.*s.pack", pdir, (int)l - 4, e->d_name);
		whole = stat(pack, &st) == 0;
		free(pack);
		if (!whole) {
			if (is_stale(pdir, e->d_name)) {
				char *stem = aw_mem_printf("%.*s", (int)l - 4, e->d_name);
				remove_in(pdir, stem, ".rev");
				remove_in(pdir, stem, ".idx");
				free(stem);
			}
			continue;
		}
		sn->packs = aw_mem_grow(sn->packs, sn->npacks, &sn->cap_packs, sizeof(*sn->packs), 8);
		p = &sn->packs[sn->npacks++];
		p->idx = aw_mem_printf("%s/%s", pdir, e->d_name);
		p->objects = idx_objects(p->idx);
		keep = aw_mem_printf("%.*s.keep", (int)strlen(p->idx) - 4, p->idx);
		p->keep = stat(keep, &st) == 0;
		free(keep);
	}
	if (d)
		closedir(d);
	free(pdir);
	if (sn->npacks)
		qsort(sn->packs, sn->npacks, sizeof(*sn->packs), by_objects);
}

static void snapshot_free(repack_snapshot *sn)
{
	for (size_t i = 0; i < sn->nloose; i++)
		free(sn->loose[i].path);
	for (size_t i = 0; i < sn->npacks; i++)
		free(sn->packs[i].idx);
	free(sn->loose);
	free(sn->packs);
}

/* How many of the smallest packs to merge with the loose objects so that the packs left
 * form a geometric progression (each at least twice the next smaller one, the merged
 * pack included). Packs marked .keep are never merged and end the run. */
static size_t merge_count(const repack_snapshot *sn)
{
	size_t split = 0, acc = sn->nloose, n = 0;

	while (n < sn->npacks && !sn->packs[n].keep)
		n++;
	/* the tail that already is a progression stays; everything below it is merged */
	for (size_t i = n; i-- > 1;) {
		if (sn->packs[i].objects < 2 * sn->packs[i - 1].objects) {
			split = i;
			break;
		}
	}
	for (size_t i = 0; i < split; i++)
		acc += sn->packs[i].objects;
	while (split < n && sn->packs[split].objects < 2 * acc)
		acc += sn->packs[split++].objects;
	return split;
}

static int in_new_pack(const git_oid *id, void *payload)
{
	git_odb_backend *fresh = payload;

	/* a non-zero return stops the walk: this old pack holds something the new lacks */
	return fresh->exists(fresh, id) ? 0 : 1;
}

/* Remove an old pack (index, pack, reverse index) whose objects are all in fresh (any
 * old pack when fresh is NULL). */
static void drop_pack_if_covered(const char *idx, git_odb_backend *fresh)
{
	git_odb_backend *old = NULL;
	size_t stem = strlen(idx) - 4;
	bool covered;

	if (git_odb_backend_one_pack(&old, idx))
		return;
	covered = !fresh || old->foreach(old, in_new_pack, fresh) == 0;
	old->free(old);
	if (!covered)
		return;
	static const char *const ext[] = {".pack", ".rev", ".idx"}; /* the index last */
	for (size_t i = 0; i < 3; i++) {
		char *p = aw_mem_printf("%.*s%s", (int)stem, idx, ext[i]);
		unlink(p);
		free(p);
	}
}

/* The objects of an incremental merge: the snapshot's loose objects and those of the
 * packs being merged. git's delta search pairs objects by the path they were found at,
 * and without paths the versions of one shard tree (a round rewrites the same few
 * trees) were not stored as deltas of each other: a year's folder grew to 280 bytes
 * per event instead of 80. So the commits of the set are walked for the paths of its
 * trees and blobs, descending only into trees of the set (a subtree outside it is
 * unchanged history, already packed with its own). */
typedef struct merge_set {
	git_repository *repo;
	git_odb *odb;
	git_packbuilder *pb;
	const repack_snapshot *sn;
	git_odb_backend **packs;    /* the packs being merged, opened */
	size_t npacks;
	git_oid *loose;             /* the loose objects' ids, sorted */
	oid_set seen;               /* trees walked, blobs inserted */
	oid_set outside;            /* entries found not in the set */
	bool all;                   /* a full repack: every object counts as in the set */
} merge_set;

static int oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

static bool in_set(const merge_set *m, const git_oid *id)
{
	if (m->all)
		return true;
	if (bsearch(id, m->loose, m->sn->nloose, sizeof(git_oid), oid_cmp))
		return true;
	for (size_t i = 0; i < m->npacks; i++)
		if (m->packs[i]->exists(m->packs[i], id))
			return true;
	return false;
}

/* Marks a tree walked or a blob inserted; false when it already was. */
static bool first_visit(merge_set *m, const git_oid *id)
{
	return oid_set_add(&m->seen, id);
}

/* Insert the set's objects under `tree` (at `path`, "" for a root) with their paths. */
static int insert_tree_paths(merge_set *m, const git_oid *tree_id, const char *path, int depth)
{
	git_tree *tree = NULL;
	int rc = 0;

	/* Deeper than the layout nests is not a history this format writes (an attacker's
	 * tree, unreachable or older than a clean tip), and a walk without a bound could
	 * exhaust the stack. An incremental merge stops descending: what lies below is in
	 * the set and goes in with the rest, without paths. A full repack must place every
	 * reachable object itself before the old packs go, so it is given up. */
	if (depth > AWS_MAX_TREE_DEPTH)
		return m->all ? -1 : 0;
	if (!first_visit(m, tree_id))
		return 0;
	if (git_packbuilder_insert(m->pb, tree_id, *path ? path : NULL) || git_tree_lookup(&tree, m->repo, tree_id))
		return -1;
	for (size_t i = 0, n = git_tree_entrycount(tree); i < n && !rc; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(tree, i);
		const git_oid *id = git_tree_entry_id(e);
		char *sub;
		/* the versions of a shard tree in one merge share most of their 1000 entries:
		 * each is looked up in the set's packs once, not once per version */
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE && oid_set_has(&m->seen, id))
			continue; /* a blob inserted before */
		if (oid_set_has(&m->outside, id))
			continue;
		if (!in_set(m, id)) {
			oid_set_add(&m->outside, id);
			continue; /* unchanged since an older pack: so is everything under it */
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_TREE && !first_visit(m, id))
			continue;
		sub = *path ? aw_mem_printf("%s/%s", path, git_tree_entry_name(e)) : aw_mem_strdup(git_tree_entry_name(e));
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
			rc = insert_tree_paths(m, id, sub, depth + 1);
		else
			rc = git_packbuilder_insert(m->pb, id, sub);
		free(sub);
	}
	git_tree_free(tree);
	return rc;
}

static int insert_commit_paths(const git_oid *id, void *payload)
{
	merge_set *m = payload;
	git_object_t type;
	size_t len;
	git_commit *c = NULL;
	int rc;

	if (git_odb_read_header(&len, &type, m->odb, id))
		return -1;
	if (type != GIT_OBJECT_COMMIT)
		return 0;
	if (git_commit_lookup(&c, m->repo, id))
		return -1;
	rc = git_packbuilder_insert(m->pb, id, NULL);
	if (!rc && in_set(m, git_commit_tree_id(c)))
		rc = insert_tree_paths(m, git_commit_tree_id(c), "", 0);
	git_commit_free(c);
	return rc;
}

/* What no commit of the set reaches (a push in flight, garbage) goes in without a
 * path: it must be packed before its loose file or old pack can go. */
static int insert_rest(const git_oid *id, void *payload)
{
	return git_packbuilder_insert(((merge_set *)payload)->pb, id, NULL);
}

static void merge_set_free(merge_set *m)
{
	for (size_t i = 0; i < m->npacks; i++)
		m->packs[i]->free(m->packs[i]);
	free(m->packs);
	free(m->loose);
	free(m->seen.v);
	free(m->outside.v);
	git_odb_free(m->odb);
}

/* The commits of the set with their trees' paths first, then whatever they leave. */
static int fill_incremental(git_packbuilder *pb, git_repository *repo, const repack_snapshot *sn, size_t merge)
{
	merge_set m = {.repo = repo, .pb = pb, .sn = sn};
	int rc = git_repository_odb(&m.odb, repo) ? -1 : 0;

	m.loose = aw_mem_calloc(sn->nloose + 1, sizeof(git_oid));
	for (size_t i = 0; i < sn->nloose; i++)
		git_oid_cpy(&m.loose[i], &sn->loose[i].id);
	qsort(m.loose, sn->nloose, sizeof(git_oid), oid_cmp);
	m.packs = aw_mem_calloc(merge + 1, sizeof(*m.packs));
	/* counted only once opened: merge_set_free frees what is counted (an index
	 * whose pack is gone, as a push killed between the two renames leaves it in a
	 * remote, fails here; the repack is given up, and costs only disk space) */
	while (!rc && m.npacks < merge) {
		if (git_odb_backend_one_pack(&m.packs[m.npacks], sn->packs[m.npacks].idx))
			rc = -1;
		else
			m.npacks++;
	}
	for (size_t i = 0; !rc && i < sn->nloose; i++)
		rc = insert_commit_paths(&m.loose[i], &m);
	for (size_t i = 0; !rc && i < m.npacks; i++)
		rc = m.packs[i]->foreach(m.packs[i], insert_commit_paths, &m);
	for (size_t i = 0; !rc && i < sn->nloose; i++)
		rc = insert_rest(&m.loose[i], &m);
	for (size_t i = 0; !rc && i < m.npacks; i++)
		rc = m.packs[i]->foreach(m.packs[i], insert_rest, &m);
	merge_set_free(&m);
	return rc ? -1 : 0;
}

/* A full repack: every commit reachable from a ref, its trees and blobs with their
 * paths. (libgit2's own walk gives trees no path, so that all trees of a long history
 * are sorted by size alone and a shard tree's neighbours in the delta window are other
 * shards' trees of the same size: at 10,000 rounds its pack was 8 times the size of
 * this one.) */
static int fill_full(git_packbuilder *pb, git_repository *repo)
{
	merge_set m = {.repo = repo, .pb = pb, .all = true};
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = git_revwalk_new(&walk, repo) || git_revwalk_push_glob(walk, "refs/*") ? -1 : 0;

	while (!rc && (rc = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		if (git_commit_lookup(&c, repo, &id) || git_packbuilder_insert(pb, &id, NULL))
			rc = -1;
		else
			rc = insert_tree_paths(&m, git_commit_tree_id(c), "", 0);
		git_commit_free(c);
	}
	git_revwalk_free(walk);
	free(m.seen.v);
	free(m.outside.v);
	return rc == GIT_ITEROVER ? 0 : -1;
}

/* The objects of the merge: everything reachable from a ref for a full repack, else
 * the snapshot's loose objects and the first `merge` packs' objects. */
static int fill_pack(git_packbuilder *pb, git_repository *repo, const repack_snapshot *sn, size_t merge, bool full)
{
	return full ? fill_full(pb, repo) : fill_incremental(pb, repo, sn, merge);
}

/* Merge the loose objects and the `merge` smallest packs of the snapshot into one new
 * pack, then remove what the new pack covers. `full` (the folder only: it holds the
 * lock, so nothing else writes objects into it, and its unreachable objects are
 * garbage) packs everything reachable instead, and every loose object and old pack of
 * the snapshot goes. */
static int repack(git_repository *repo, const repack_snapshot *sn, size_t merge, bool full, const char *what)
{
	const char *gitdir = git_repository_path(repo);
	git_packbuilder *pb = NULL;
	git_odb_backend *fresh = NULL;
	char *idx = NULL;
	int rc = 0;

	if (git_packbuilder_new(&pb, repo)) {
		rc = repo_git_error(what);
		goto out;
	}
	git_packbuilder_set_threads(pb, 1);
	if (fill_pack(pb, repo, sn, merge, full) || git_packbuilder_write(pb, NULL, 0, NULL, NULL) ||
	    !git_packbuilder_name(pb)) {
		rc = repo_git_error(what);
		goto out;
	}
	idx = aw_mem_printf("%sobjects/pack/pack-%s.idx", gitdir, git_packbuilder_name(pb));
	if (git_odb_backend_one_pack(&fresh, idx)) {
		rc = repo_git_error(what);
		goto out;
	}
	for (size_t i = 0; i < sn->nloose; i++)
		if (full || fresh->exists(fresh, &sn->loose[i].id))
			unlink(sn->loose[i].path);
	for (size_t i = 0; i < sn->nloose; i++) {
		char *dir = aw_mem_strdup(sn->loose[i].path);
		*strrchr(dir, '/') = '\0';
		rmdir(dir); /* only when it became empty */
		free(dir);
	}
	for (size_t i = 0; i < (full ? sn->npacks : merge); i++)
		if (!sn->packs[i].keep && strcmp(sn->packs[i].idx, idx))
			drop_pack_if_covered(sn->packs[i].idx, full ? NULL : fresh);
out:
	if (fresh)
		fresh->free(fresh);
	free(idx);
	git_packbuilder_free(pb);
	return rc;
}

/* One maintenance pass over a repository: nothing while the loose objects are few and
 * the packs a progression; otherwise the geometric merge, or a full repack when it would
 * take in every pack. Deciding costs 16 directory reads and one per pack index. */
static int maintain(git_repository *repo, bool force, bool is_folder, const char *what)
{
	const char *gitdir = git_repository_path(repo);
	repack_snapshot sn;
	size_t merge, movable = 0, objects = 0;
	bool full;
	int rc;

	memset(&sn, 0, sizeof(sn));
	snapshot_packs(&sn, gitdir);
	for (size_t i = 0; i < sn.npacks; i++) {
		movable += !sn.packs[i].keep;
		objects += sn.packs[i].objects;
	}
	if (!force) {
		size_t loose = loose_estimate(gitdir);
		sn.nloose = loose; /* for merge_count only: sn.loose stays empty */
		merge = merge_count(&sn);
		sn.nloose = 0;
		if (loose < LOOSE_LIMIT && (movable <= pack_limit(objects) || merge == 0)) {
			snapshot_free(&sn);
			return 0;
		}
	}
	snapshot_loose(&sn, gitdir);
	merge = merge_count(&sn);
	/* A full repack packs what the refs reach and drops the rest, which only the
	 * folder may do. A remote keeps objects no ref names (another device's push in
	 * flight, anything its holder left), so merging every pack there stays an
	 * incremental merge that packs them too: were they left loose, every later push
	 * would find them over the limit and repack the whole history again. */
	full = is_folder && (force || merge >= movable);
	rc = full || merge || sn.nloose ? repack(repo, &sn, merge, full, what) : 0;
	snapshot_free(&sn);
	return rc;
}

int repo_maintain(sync_repo *r, bool force)
{
	if (!repo_has_head(r))
		return 0;
	return maintain(repo_git(r), force, true, "repacking the sync folder");
}

int repo_maintain_remote(sync_repo *r, const char *name)
{
	char *path = repo_remote_local_path(r, name);
	git_repository *their = NULL;
	char what[160];
	int rc;

	/* a git host maintains its own repositories; a path on a disk has nobody else */
	if (!path)
		return 0;
	if (git_repository_open_ext(&their, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) {
		free(path);
		return 0; /* the push just reached it: a failure here is not this round's business */
	}
	snprintf(what, sizeof(what), "repacking remote '%s'", name);
	rc = maintain(their, false, false, what);
	git_repository_free(their);
	free(path);
	return rc;
}
