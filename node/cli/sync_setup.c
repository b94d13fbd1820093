/*
 * `awnode sync init`, `join` and `remote` (docs/sync.md): setting up the sync folder
 * and its key file, and managing the folder's git remotes. They touch only the folder
 * and the key file (never the database); the work is done by aw_sync_create,
 * aw_sync_join_prepare/aw_sync_join_key and aw_sync_remote_*, and what is here checks
 * the folder, asks for the passphrase and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/mem.h"
#include "aw/sync.h"
#include "sync_cli.h"

#define PROG "awnode sync"
#define GROUP_FILE "awsync.json" /* the folder's plaintext group file (docs/sync-format.md) */
#define MIN_PASSPHRASE 8

/* Does the folder hold awsync.json? */
static bool has_group_file(aw_sync *y)
{
	char *path;
	bool yes;

	path = aw_mem_printf("%s/" GROUP_FILE, aw_sync_folder(y));
	yes = access(path, F_OK) == 0;
	free(path);
	return yes;
}

int sync_init(sync_cli *c, aw_sync *y)
{
	unsigned long long ops = c->kdf_ops > 0 ? (unsigned long long)c->kdf_ops : 3;
	size_t mem = (size_t)(c->kdf_mem > 0 ? c->kdf_mem : 64) << 20;
	const char *folder = aw_sync_folder(y);
	char group[40], *pass;
	int rc;

	if (c->npos)
		return usage_error("init takes no arguments (did you mean --remote %s?)", c->pos[0]);
	if (has_group_file(y))
		return fail("%s is already a sync folder (sync group set up); use 'awnode sync status'", folder);
	if (!aw_sync_folder_empty(y))
		return fail("the folder %s exists and is not empty; choose another with --folder", folder);
	if (c->remote) {
		bool has;
		if (aw_sync_probe(&has, y, c->remote))
			return fail("%s", aw_error_last());
		if (has)
			return fail("the remote already holds a sync group: use 'awnode sync join %s'", c->remote);
	}
	if (!(pass = sync_cli_passphrase(c, true, "AWNODE_SYNC_PASSPHRASE", "Sync")))
		return 1;
	if (strlen(pass) < MIN_PASSPHRASE) {
		sync_cli_free_pass(pass);
		return fail("the passphrase is too short (at least 8 characters; it protects all synced data)");
	}
	rc = aw_sync_create(group, y, pass, strlen(pass), ops, mem, c->remote);
	sync_cli_free_pass(pass);
	if (rc == AW_EINVALID)
		return usage_error("%s", aw_error_last());
	if (rc)
		return fail("%s", aw_error_last());
	printf("created sync group %s\n  folder  %s\n  key     %s (keep it secret; the passphrase recreates it)\n", group,
	       folder, aw_sync_key_path(y));
	if (c->remote)
		printf("  remote  origin = %s\n", c->remote);
	printf("Other devices join with 'awnode sync join %s' and the same passphrase.\n",
	       c->remote ? c->remote : "<remote>");
	return 0;
}

int sync_join(sync_cli *c, aw_sync *y)
{
	const char *url = c->npos ? c->pos[0] : NULL;
	char group[40], *pass;
	bool joined;
	int rc;

	if (c->npos > 1)
		return usage_error("join takes one URL or path");
	if (!url && !has_group_file(y))
		return usage_error("join needs the URL or path of the sync group's git remote (or a --folder that "
				   "already holds awsync.json)");
	if (aw_sync_join_prepare(&joined, group, y, url))
		return fail("%s", aw_error_last());
	if (joined) {
		printf("already joined sync group %s (folder %s)\n", group, aw_sync_folder(y));
		return 0;
	}
	if (!(pass = sync_cli_passphrase(c, false, "AWNODE_SYNC_PASSPHRASE", "Sync")))
		return 1;
	rc = aw_sync_join_key(y, pass, strlen(pass));
	sync_cli_free_pass(pass);
	if (rc)
		return fail("%s", aw_error_last());
	printf("joined sync group %s\n  folder  %s\n  key     %s\nRun 'awnode sync pull' to import the other devices.\n",
	       group, aw_sync_folder(y), aw_sync_key_path(y));
	return 0;
}

static int remote_list(sync_cli *c, aw_sync *y)
{
	aw_sync_remote *rem;
	size_t n;

	if (c->npos != 1)
		return usage_error("usage: " PROG " remote list");
	if (aw_sync_remotes(&rem, &n, y))
		return fail("%s", aw_error_last());
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\n", rem[i].name, rem[i].url);
	aw_sync_remotes_free(rem, n);
	return 0;
}

int sync_remote(sync_cli *c, aw_sync *y)
{
	const char *sub = c->npos ? c->pos[0] : "";

	if (!strcmp(sub, "add")) {
		if (c->npos != 3)
			return usage_error("usage: " PROG " remote add NAME URL");
		if (aw_sync_remote_add(y, c->pos[1], c->pos[2]))
			return fail("%s", aw_error_last());
		printf("added remote %s; the next push publishes to it\n", c->pos[1]);
		return 0;
	}
	if (!strcmp(sub, "remove") || !strcmp(sub, "rm")) {
		if (c->npos != 2)
			return usage_error("usage: " PROG " remote remove NAME");
		if (aw_sync_remote_remove(y, c->pos[1]))
			return fail("%s", aw_error_last());
		printf("removed remote %s\n", c->pos[1]);
		return 0;
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return remote_list(c, y);
	return usage_error("remote needs 'add NAME URL', 'remove NAME' or 'list'");
}
