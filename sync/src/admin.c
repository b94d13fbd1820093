/*
 * The folder operations of `awnode sync` besides rounds (docs/sync.md): creating and
 * joining a sync group, the folder's git remotes, forgetting a device, restoring this
 * device's buckets and inspecting what the folder holds. The command line
 * (node/cli/sync*.c) reaches them through aw/sync.h; everything here works under the
 * folder's lock, like a round, so that a running node and a command never interleave.
 *
 * Secrets: passphrases are borrowed from the caller (who wipes them); derived keys live
 * on the stack only while needed and are wiped with sodium_memzero on every path.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "aw/mem.h"
#include "internal.h"

const char *aw_sync_folder(const aw_sync *y)
{
	return y->folder;
}

const char *aw_sync_key_path(const aw_sync *y)
{
	return y->key_path;
}

bool aw_sync_valid_device_id(const char *id)
{
	return valid_device_id(id);
}

int aw_sync_probe(bool *has_group, aw_sync *y, const char *url)
{
	return remote_probe(url, y->ssh_key, has_group);
}

/* The folder's repository, opened and locked; a handle for one operation. */
static int open_locked(sync_repo **out, aw_sync *y)
{
	int rc = repo_open(out, y->folder, y->ssh_key);

	if (rc)
		return rc;
	if ((rc = repo_lock(*out))) {
		repo_close(*out);
		*out = NULL;
	}
	return rc;
}

int aw_sync_create(char group_id[40], aw_sync *y, const char *pass, size_t len, unsigned long long ops, size_t mem,
		   const char *remote)
{
	unsigned char key[AWS_KEY_BYTES];
	char *gjson = NULL;
	sync_repo *rp = NULL;
	sync_group g;
	int rc;

	group_id[0] = '\0';
	group_new(&g, ops, mem);
	if (ops < 1 || ops > AWS_KDF_OPS_MAX || mem < AWS_KDF_MEM_MIN || mem > AWS_KDF_MEM_MAX)
		return aw_error_set(AW_EINVALID, "--kdf-ops must be 1-10 and --kdf-mem 8-1024 (MiB)");
	if ((rc = derive_key(key, &g, pass, len)))
		goto out;
	key_check(g.key_check, key);
	gjson = group_json(&g);
	if ((rc = repo_create(&rp, y->folder, y->ssh_key)) || (rc = repo_lock(rp)))
		goto out;
	{
		repo_file f = {AWS_GROUP_FILE, gjson, strlen(gjson)};
		if ((rc = repo_commit(rp, &f, 1, "awsync: init")))
			goto out;
	}
	if ((rc = key_save(y->key_path, &g, key)))
		goto out;
	if (remote && ((rc = repo_remote_add(rp, "origin", remote)) || (rc = repo_push(rp, "origin", y->device_id)))) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s", aw_error_last());
		rc = aw_error_set(rc, "the sync group was created in %s, but publishing it failed: %s", y->folder, msg);
		goto out;
	}
	snprintf(group_id, 40, "%s", g.group);
out:
	sodium_memzero(key, sizeof(key));
	free(gjson);
	repo_close(rp);
	return rc;
}

static bool dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return any;
}

/* A folder that holds nothing but a repository without a commit: what a join that was
 * refused (a remote whose files break the format's rules, a broken connection) leaves
 * behind. Joining again may reuse it. */
static bool only_unborn_repo(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool other = false, git = false, unborn = false;
	sync_repo *rp;

	if (!d)
		return false;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!strcmp(e->d_name, ".git"))
			git = true;
		else
			other = true;
	}
	closedir(d);
	if (other || !git || repo_open(&rp, path, NULL))
		return false;
	unborn = !repo_has_head(rp);
	repo_close(rp);
	return unborn;
}

bool aw_sync_folder_empty(const aw_sync *y)
{
	return !dir_nonempty(y->folder);
}

/* The folder already has awsync.json (a folder shared by a file syncer, or a join whose
 * passphrase was wrong): make it a repository if it is none, and add url as origin
 * unless it has one. */
static int join_existing(bool *joined, char group_id[40], aw_sync *y, const char *url)
{
	sync_keyring *ring = ring_new();
	char *gitdir = aw_mem_printf("%s/.git", y->folder);
	sync_repo *rp = NULL;
	sync_group g;
	int rc;

	if ((rc = group_read(&g, y->folder)))
		goto out;
	snprintf(group_id, 40, "%s", g.group);
	if (ring_load(ring, y->key_path, &g) == 0) {
		*joined = true;
		goto out;
	}
	if ((rc = access(gitdir, F_OK) == 0 ? repo_open(&rp, y->folder, y->ssh_key)
					    : repo_create(&rp, y->folder, y->ssh_key)))
		goto out;
	if (url) {
		remote_info *rem;
		size_t n;
		bool have = false;
		if (repo_remotes(rp, &rem, &n) == 0) {
			for (size_t i = 0; i < n; i++)
				have |= !strcmp(rem[i].name, "origin");
			remotes_free(rem, n);
		}
		if (!have)
			rc = repo_remote_add(rp, "origin", url);
	}
out:
	ring_free(ring);
	free(gitdir);
	repo_close(rp);
	return rc;
}

/* No awsync.json yet: clone the group from url into the folder. */
static int join_clone(char group_id[40], aw_sync *y, const char *url)
{
	bool retry = only_unborn_repo(y->folder), has;
	sync_repo *rp = NULL;
	sync_group g;
	int rc;

	if (dir_nonempty(y->folder) && !retry)
		return aw_error_set(AW_EEXISTS, "the folder %s exists and is not empty; choose another with --folder",
				    y->folder);
	if ((rc = remote_probe(url, y->ssh_key, &has)))
		return rc;
	if (!has)
		return aw_error_set(AW_ENOTFOUND,
				    "%s holds no sync group yet: run 'awnode sync init --remote %s' on the first device", url,
				    url);
	if ((rc = retry ? repo_open(&rp, y->folder, y->ssh_key) : repo_create(&rp, y->folder, y->ssh_key)) ||
	    (rc = repo_lock(rp)))
		goto out;
	if (retry)
		repo_remote_remove(rp, "origin"); /* the URL may have changed; absent is fine */
	if ((rc = repo_remote_add(rp, "origin", url)) || (rc = repo_pull(rp, "origin", y->device_id)) ||
	    (rc = group_read(&g, y->folder)))
		goto out;
	snprintf(group_id, 40, "%s", g.group);
out:
	repo_close(rp);
	return rc;
}

int aw_sync_join_prepare(bool *joined, char group_id[40], aw_sync *y, const char *url)
{
	char *gpath = aw_mem_printf("%s/" AWS_GROUP_FILE, y->folder);
	bool present = access(gpath, F_OK) == 0;
	int rc;

	free(gpath);
	*joined = false;
	group_id[0] = '\0';
	if (present)
		rc = join_existing(joined, group_id, y, url);
	else if (!url)
		rc = aw_error_set(AW_EINVALID, "join needs the URL or path of the sync group's git remote (or a --folder "
					       "that already holds awsync.json)");
	else
		rc = join_clone(group_id, y, url);
	return rc;
}

int aw_sync_join_key(aw_sync *y, const char *pass, size_t len)
{
	unsigned char key[AWS_KEY_BYTES];
	char check[AWS_HASH_HEX];
	sync_group g;
	int rc;

	if ((rc = group_read(&g, y->folder)))
		return rc;
	if ((rc = derive_key(key, &g, pass, len)) == 0) {
		key_check(check, key);
		if (strcmp(check, g.key_check)) {
			/* a revocation set a new passphrase (docs/sync-format.md §4b) */
			sync_keyring *ring = ring_new();
			if (epoch_join(ring, &g, y->folder, pass, len))
				rc = aw_error_set(AW_EINVALID, "wrong passphrase: it does not match the key check of sync group %s",
						  g.group);
			else
				rc = ring_save(y->key_path, &g, ring);
			ring_free(ring);
		} else if (epoch_passphrase_replaced(y->folder, &g)) {
			rc = aw_error_set(AW_EINVALID, "this is the sync group's old passphrase: a device was revoked since and "
						       "the group has a new one; join with that");
		} else {
			rc = key_save(y->key_path, &g, key);
		}
	}
	sodium_memzero(key, sizeof(key));
	return rc;
}

int aw_sync_remote_add(aw_sync *y, const char *name, const char *url)
{
	sync_repo *rp;
	int rc = open_locked(&rp, y);

	if (rc == 0)
		rc = repo_remote_add(rp, name, url);
	repo_close(rp);
	return rc;
}

int aw_sync_remote_remove(aw_sync *y, const char *name)
{
	sync_repo *rp;
	int rc = open_locked(&rp, y);

	if (rc == 0)
		rc = repo_remote_remove(rp, name);
	repo_close(rp);
	return rc;
}

int aw_sync_remotes(aw_sync_remote **out, size_t *n, aw_sync *y)
{
	remote_info *rem = NULL;
	sync_repo *rp;
	int rc = open_locked(&rp, y);

	*out = NULL;
	*n = 0;
	if (rc == 0 && (rc = repo_remotes(rp, &rem, n)) == 0)
		*out = (aw_sync_remote *)rem; /* same layout: see the static assertion below */
	repo_close(rp);
	return rc;
}

_Static_assert(sizeof(aw_sync_remote) == sizeof(remote_info), "aw_sync_remote mirrors remote_info");

void aw_sync_remotes_free(aw_sync_remote *v, size_t n)
{
	remotes_free((remote_info *)v, n);
}

/* The device `name` (a device id, or the hostname of exactly one device) in st. A
 * valid id that is neither this device nor known yet gets an entry, so that a device
 * can be forgotten before its first import. */
static int find_device(device_state **out, sync_ctx *ctx, const char *name)
{
	int rc = state_find_device(out, &ctx->st, name);

	if (rc != AW_ENOTFOUND)
		return rc;
	if (valid_device_id(name) && strcmp(name, ctx->y->device_id))
		*out = state_device(&ctx->st, name, true);
	if (!*out)
		return aw_error_set(AW_ENOTFOUND, "no device '%s' known here (see 'awnode sync status')", name);
	return 0;
}

/* Delete the remote buckets of device d from the store; *removed counts them. */
static int delete_buckets(size_t *removed, sync_ctx *ctx, const device_state *d)
{
	aw_bucket *bk = NULL;
	size_t nb = 0;
	int rc;

	if ((rc = aw_reader_buckets(&bk, &nb, ctx->r, 0)))
		return rc;
	for (size_t i = 0; i < nb && !rc; i++) {
		aw_write w = {.kind = AW_W_BUCKET_DELETE, .bucket_id = bk[i].id, .allow_remote = true};
		if (!bk[i].remote_device || strcmp(bk[i].remote_device, d->device_id))
			continue;
		if ((rc = aw_store_write(ctx->y->store, &w)))
			rc = aw_error_set(rc, "deleting bucket '%s': %s", bk[i].id, w.error);
		else
			(*removed)++;
		aw_write_clear(&w);
	}
	aw_buckets_free(bk, nb);
	return rc;
}

int aw_sync_forget(aw_sync_forgotten *out, aw_sync *y, aw_reader *r, const char *device, bool undo)
{
	sync_ctx ctx;
	aw_sync_report rep;
	device_state *d;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	if ((rc = ctx_open(&ctx, y, r, &rep)))
		return rc;
	if ((rc = find_device(&d, &ctx, device)))
		goto out;
	if (undo) {
		d->forgotten = false;
	} else {
		if ((rc = delete_buckets(&out->removed, &ctx, d)))
			goto out;
		d->forgotten = true;
		d->generation = 0;
		memset(d->head, 0, sizeof(d->head));
		d->events = 0;
		d->segments = 0;
		json_object_clear(d->buckets);
		free(d->error);
		d->error = NULL;
		/* forgetting a device forgets its key too: a device set up again (a new key)
		 * is accepted after forget and forget --undo */
		free(d->signing_key);
		d->signing_key = NULL;
	}
	snprintf(out->device_id, sizeof(out->device_id), "%s", d->device_id);
	snprintf(out->hostname, sizeof(out->hostname), "%s", d->hostname ? d->hostname : "?");
	rc = state_save(&ctx.st, y->store);
out:
	ctx_close(&ctx);
	return rc;
}

int aw_sync_restore(aw_sync_restored *out, aw_sync *y, aw_reader *r)
{
	sync_ctx ctx;
	aw_sync_report rep;
	remote_info *rem = NULL;
	size_t nrem = 0;
	char *mpath;
	bool present;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&rep, 0, sizeof(rep));
	if ((rc = ctx_open(&ctx, y, r, &rep))) {
		/* AW_ENOTFOUND is kept for a device absent from the folder (documented) */
		if (rc == AW_ENOTFOUND) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", aw_error_last());
			rc = aw_error_set(AW_ERROR, "%s", msg);
		}
		return rc;
	}
	/* bring the folder up to date first; a remote that fails is only a warning */
	if (repo_remotes(ctx.repo, &rem, &nrem) == 0)
		for (size_t i = 0; i < nrem; i++)
			if (repo_pull(ctx.repo, rem[i].name, y->device_id)) {
				out->warnings = aw_mem_realloc(out->warnings, (out->n_warnings + 1) * sizeof(char *));
				out->warnings[out->n_warnings++] = str_dup(aw_error_last());
			}
	remotes_free(rem, nrem);
	mpath = aw_mem_printf("%s/devices/%s/" AWS_MANIFEST, y->folder, y->device_id);
	present = access(mpath, F_OK) == 0;
	free(mpath);
	/* the keys of the group's current epoch: a device that joined with the passphrase
	 * holds only epoch 0's (docs/sync-format.md §4b) */
	if (present && (rc = epoch_step(&ctx))) {
		ctx_close(&ctx);
		return rc;
	}
	if (!present)
		rc = aw_error_set(AW_ENOTFOUND, "device %s has nothing in the sync folder; choose one with --device-id",
				  y->device_id);
	else if ((rc = restore_device(&ctx, y->device_id, &out->events, &out->buckets)) == 0)
		out->generation = ctx.st.push_generation;
	ctx_close(&ctx);
	return rc;
}

/* One device's summary: its manifest, and with segments every segment's blocks. */
static json_t *inspect_device(sync_ctx *ctx, const char *dev, bool segments)
{
	json_t *o = json_object(), *bks, *segs;
	sync_manifest m;
	unsigned char h[AWS_HASH_BYTES];

	json_object_set_new(o, "device_id", json_string(dev));
	if (read_manifest(ctx, dev, &m, h)) {
		json_object_set_new(o, "error", json_string(aw_error_last()));
		manifest_free(&m);
		return o;
	}
	if (manifest_find_tail(ctx, dev, &m, 0, NULL)) {
		json_object_set_new(o, "error", json_string(aw_error_last()));
		manifest_free(&m);
		return o;
	}
	json_object_set_new(o, "hostname", json_string(m.hostname));
	/* the newest segment's; the manifest's own is older when segments followed it */
	json_object_set_new(o, "generation", json_integer(m.last));
	json_object_set_new(o, "manifest_generation", json_integer(m.generation));
	json_object_set_new(o, "written_at", json_integer(m.written_at));
	json_object_set_new(o, "software", json_string(m.software));
	bks = json_array();
	for (size_t i = 0; i < m.n_buckets; i++)
		json_array_append_new(bks, json_string(m.buckets[i].id));
	json_object_set_new(o, "buckets", bks);
	json_object_set_new(o, "packs", json_integer((json_int_t)m.n_packs));
	json_object_set_new(o, "version", json_integer(m.version));
	json_object_set_new(o, "signed", json_boolean(m.has_sig));
	if (segments) {
		size_t nf;
		chain_file *f = chain_files(&m, 0, &nf);
		segs = json_array();
		for (size_t k = 0; k < nf; k++) {
			aw_buf text = AW_BUF_INIT;
			sync_segment seg;
			json_t *so = json_object(), *blocks = json_array();
			json_object_set_new(so, "generation", json_integer(f[k].last));
			if (f[k].pack)
				json_object_set_new(so, "pack_first", json_integer(f[k].first));
			if (load_chain_file(ctx, dev, &f[k], m.has_sig ? m.signing_key : NULL, &text, &seg, h)) {
				json_object_set_new(so, "error", json_string(aw_error_last()));
			} else {
				for (size_t i = 0; i < seg.n_blocks; i++)
					json_array_append_new(blocks,
							      json_pack("{s:s, s:b, s:b, s:I, s:I}", "bucket", seg.blocks[i].bucket,
									"reset", seg.blocks[i].reset, "exists", seg.blocks[i].has_meta,
									"puts", (json_int_t)seg.blocks[i].n_puts, "dels",
									(json_int_t)seg.blocks[i].n_dels));
			}
			json_object_set_new(so, "blocks", blocks);
			json_array_append_new(segs, so);
			segment_free(&seg);
			aw_buf_free(&text);
		}
		free(f);
		json_object_set_new(o, "segments", segs);
	}
	manifest_free(&m);
	return o;
}

int aw_sync_inspect_json(char **out, aw_sync *y, const char *device, bool segments)
{
	sync_ctx ctx;
	aw_sync_report rep;
	json_t *all;
	char *dir;
	DIR *dh;
	struct dirent *de;
	int rc;

	*out = NULL;
	memset(&rep, 0, sizeof(rep));
	if ((rc = ctx_open(&ctx, y, NULL, &rep)))
		return rc;
	/* learn the current epoch's keys where this device can (best effort: what it
	 * cannot open is reported per device) */
	epoch_step(&ctx);
	all = json_array();
	if (device) {
		json_array_append_new(all, inspect_device(&ctx, device, segments));
	} else {
		dir = aw_mem_printf("%s/devices", y->folder);
		dh = opendir(dir);
		free(dir);
		while (dh && (de = readdir(dh)))
			if (de->d_name[0] != '.' && valid_device_id(de->d_name))
				json_array_append_new(all, inspect_device(&ctx, de->d_name, segments));
		if (dh)
			closedir(dh);
	}
	*out = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(all);
	ctx_close(&ctx);
	return 0;
}
