/*
 * `awnode sync <command>` (docs/sync.md): the entry point, the option table of every
 * command, and the commands that run rounds (push, pull, run) or read the status.
 * Setting up lives in sync_setup.c (init, join, remote), the commands that rebuild or
 * read what the folder holds in sync_inspect.c (forget, restore, inspect), and what
 * this command shares with `awnode archive` in sync_common.c.
 *
 * Commands that change the database (push, pull, run, forget, restore) open it
 * themselves, which takes the database's lock. When a node holds that lock, push, pull
 * and run ask the node instead (POST /api/0/sync/now on 127.0.0.1 at the configured
 * port, with the configured API key); forget and restore refuse. status reads the
 * database directly (a read-only connection works next to a running node). init,
 * join, remote and inspect touch only the folder and the key file.
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage, 3 done but some devices could not be
 * imported (see status).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "aw/sync.h"
#include "cli.h"
#include "sync_cli.h"

#define PROG "awnode sync"

static const char common_help[] =
	"common options:\n"
	"  --testing           use the testing database, folder and key (as 'awnode serve --testing')\n"
	"  --dbpath FILE       database (default $XDG_DATA_HOME/awnode/awnode.db)\n"
	"  --folder DIR        sync folder (default [sync] folder, else $XDG_DATA_HOME/awnode/sync)\n"
	"  --key-file FILE     key file (default [sync] key_file, else $XDG_DATA_HOME/awnode/sync.key)\n"
	"  --device-id ID      this device's id (default: $XDG_DATA_HOME/awnode/device_id)\n"
	"  --hostname NAME     this device's hostname as other devices see it (default: gethostname)\n"
	"  --config FILE       config file to read [sync], port and [auth] from\n"
	"  --port N            port of a running node to ask (default: from the config)\n"
	"  -h, --help          this help\n";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " <command> [options]\n"
		"\n"
		"Encrypted synced copies of this device's buckets in a git folder; other devices'\n"
		"buckets appear here read-only. See docs/sync.md.\n"
		"\n"
		"commands:\n"
		"  init [--remote URL]          create a new sync group (asks for a passphrase)\n"
		"  join [URL|PATH]              join an existing sync group\n"
		"  push                         export this device's changes and push them\n"
		"  pull                         fetch and import the other devices' changes\n"
		"  run                          push and pull (what the node does periodically)\n"
		"  compact                      a round that packs this device's segments first\n"
		"  rotate                       start a new key epoch, then a round\n"
		"  revoke DEVICE                cut DEVICE off: a new key epoch and passphrase, then a round\n"
		"  status [--json]              devices, last push and pull, errors\n"
		"  remote add NAME URL | remote remove NAME | remote list\n"
		"  forget DEVICE [--undo]       remove a device's buckets here and stop importing it\n"
		"  restore [--device-id ID]     rebuild this device's own buckets from the folder\n"
		"  inspect [DEVICE] [--segments] [--json]  decrypt and summarise what the folder holds\n"
		"\n"
		"%s"
		"\n"
		"Run '" PROG " <command> --help' for a command's options. Exit status: 0 done, 1 failed,\n"
		"2 bad usage, 3 done but some devices could not be imported.\n",
		common_help);
}

#define ROUND_JSON_HELP "  --json                print the round's report as JSON (as POST /api/0/sync/now answers)\n"

static const struct {
	const char *name;
	unsigned opts;
	const char *args;
	const char *help;
} commands[] = {
	{"init", O_COMMON | O_PASSFILE | O_REMOTE | O_KDFOPS | O_KDFMEM, "[--remote URL]",
	 "Create a new sync group in the sync folder and its key file.\n"
	 "  --remote URL          git remote to publish to (a path, file://, ssh or https URL)\n"
	 "  --passphrase-file F   read the passphrase from F (else $AWNODE_SYNC_PASSPHRASE, else a prompt)\n"
	 "  --kdf-ops N           Argon2id passes, 1-10 (default 3)\n"
	 "  --kdf-mem MIB         Argon2id memory in MiB, 8-1024 (default 64)\n"
	 "The passphrase needs at least 8 characters.\n"},
	{"join", O_COMMON | O_PASSFILE, "[URL|PATH]",
	 "Join the sync group held by a git remote (cloned into the sync folder), or, without a URL,\n"
	 "the one already in the sync folder (e.g. a folder shared with Syncthing).\n"
	 "  --passphrase-file F   read the passphrase from F (else $AWNODE_SYNC_PASSPHRASE, else a prompt)\n"},
	{"push", O_COMMON | O_JSON, "[--json]",
	 "Export this device's changes as a new segment, commit, and push to every remote.\n"
	 ROUND_JSON_HELP},
	{"pull", O_COMMON | O_JSON, "[--json]",
	 "Fetch and merge every remote, then import the other devices' new segments.\n"
	 ROUND_JSON_HELP},
	{"run", O_COMMON | O_JSON, "[--json]",
	 "One round: fetch, export, push, import (what the node runs every [sync] interval).\n"
	 ROUND_JSON_HELP},
	{"compact", O_COMMON | O_JSON, "[--json]",
	 "One round that first packs this device's segments into as few packs as the format allows\n"
	 "(rounds also do it on their own past [sync] compact_segments segments; docs/sync-format.md).\n"
	 ROUND_JSON_HELP},
	{"rotate", O_COMMON | O_JSON, "[--json]",
	 "Start a new key epoch: a new random key for what the group writes from now on, handed to\n"
	 "the other devices in a signed record. Every device seals its files again under it at its next\n"
	 "round and then destroys the older keys, so a copy of its key file taken afterwards reads\n"
	 "nothing older (docs/sync-format.md). Runs a round afterwards.\n" ROUND_JSON_HELP},
	{"revoke", O_COMMON | O_PASSFILE | O_JSON, "DEVICE",
	 "Cut DEVICE (a device id or hostname) off the group: a new key epoch that it cannot read, and\n"
	 "a new passphrase for the group (its old one is known to DEVICE). Nothing DEVICE publishes is\n"
	 "imported any more. The other devices move to the epoch at their next round without a\n"
	 "passphrase; devices that join later use the new one. Runs a round afterwards.\n"
	 "  --passphrase-file F   read the new passphrase from F (else $AWNODE_SYNC_NEW_PASSPHRASE, else a prompt)\n"
	 ROUND_JSON_HELP},
	{"status", O_COMMON | O_JSON, "[--json]",
	 "Show this device, the remotes, the last push and pull, warnings (a remote that went back\n"
	 "in history, a device that has not published for $AWNODE_SYNC_STALE_AFTER seconds, 7 days by\n"
	 "default), and every other device with its import cursor, events applied, last publication\n"
	 "and last error.\n"
	 "  --json                print the document of GET /api/0/sync/status\n"},
	{"remote", O_COMMON, "add NAME URL | remove NAME | list", "Manage the sync folder's git remotes.\n"},
	{"forget", O_COMMON | O_UNDO, "DEVICE",
	 "Delete the remote buckets of DEVICE (a device id or hostname) from this database and stop\n"
	 "importing it. With --undo, import it again (from its first segment) on the next pull.\n"},
	{"restore", O_COMMON, "",
	 "Rebuild this device's own buckets (writable, event ids kept) from its segments in the folder,\n"
	 "into an empty database. --device-id chooses the device (and is written to the device_id file).\n"},
	{"inspect", O_COMMON | O_SEGMENTS | O_JSON, "[DEVICE]",
	 "Decrypt and summarise the manifests (and with --segments every segment) in the folder.\n"
	 "  --segments            list every segment's buckets and record counts\n"
	 "  --json                machine-readable output\n"},
};

static int command_index(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return (int)i;
	return -1;
}

/* ---- output -------------------------------------------------------------------------------------- */

static int print_report(sync_cli *c, json_t *rep)
{
	const char *err = json_string_value(json_object_get(rep, "error"));
	json_int_t gen = json_integer_value(json_object_get(rep, "generation"));
	json_int_t seg = json_integer_value(json_object_get(rep, "segments_applied"));
	json_int_t failed = json_integer_value(json_object_get(rep, "devices_failed"));

	if (json_is_true(json_object_get(rep, "pushed")))
		printf("pushed generation %lld: %lld events in %lld buckets\n", (long long)gen,
		       (long long)json_integer_value(json_object_get(rep, "events_exported")),
		       (long long)json_integer_value(json_object_get(rep, "buckets_exported")));
	if (json_integer_value(json_object_get(rep, "files_packed")))
		printf("packed %lld files of this device; it now has %lld packs\n",
		       (long long)json_integer_value(json_object_get(rep, "files_packed")),
		       (long long)json_integer_value(json_object_get(rep, "packs")));
	else if (!strcmp(c->cmd, "compact"))
		printf("nothing to pack (%lld packs)\n", (long long)json_integer_value(json_object_get(rep, "packs")));
	if (seg)
		printf("imported %lld segments (%lld events) from %lld devices\n", (long long)seg,
		       (long long)json_integer_value(json_object_get(rep, "events_applied")),
		       (long long)json_integer_value(json_object_get(rep, "devices_seen")));
	if (json_integer_value(json_object_get(rep, "settings_applied")) ||
	    json_integer_value(json_object_get(rep, "settings_refused")))
		printf("settings: %lld changes taken from other devices, %lld refused\n",
		       (long long)json_integer_value(json_object_get(rep, "settings_applied")),
		       (long long)json_integer_value(json_object_get(rep, "settings_refused")));
	if (!json_is_true(json_object_get(rep, "pushed")) && !seg && !err)
		printf("nothing new (generation %lld, %lld other devices)\n", (long long)gen,
		       (long long)json_integer_value(json_object_get(rep, "devices_seen")));
	if (err) {
		fail("%s", err);
		return 1;
	}
	return failed ? 3 : 0;
}

static void print_device_errors(json_t *status)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(status, "devices"), i, d) {
		const char *e = json_string_value(json_object_get(d, "error"));
		const char *h = json_string_value(json_object_get(d, "hostname"));
		if (e)
			fprintf(stderr, PROG ": device %s (%s): %s\n", json_string_value(json_object_get(d, "device_id")),
				h ? h : "?", e);
	}
}

/* "2026-01-05T10:15:00.123456789Z" -> "2026-01-05T10:15:00Z" (into buf) */
static const char *short_time(const char *t, char *buf, size_t n)
{
	const char *dot;

	if (!t)
		return NULL;
	dot = strchr(t, '.');
	if (!dot)
		return t;
	snprintf(buf, n, "%.*sZ", (int)(dot - t), t);
	return buf;
}

static void print_status(json_t *s)
{
	char tb[64];
	const char *problem = json_string_value(json_object_get(s, "problem"));
	json_t *push = json_object_get(s, "push"), *pull = json_object_get(s, "pull"), *d;
	size_t i;
	const char *v;

	printf("sync folder  %s\n", json_string_value(json_object_get(s, "folder")));
	if (problem)
		printf("problem      %s\n", problem);
	json_array_foreach(json_object_get(s, "remotes"), i, d)
		printf("remote       %s  %s\n", json_string_value(json_object_get(d, "name")),
		       json_string_value(json_object_get(d, "url")));
	if (!json_array_size(json_object_get(s, "remotes")))
		printf("remote       (none: the folder is only local, or shared by a file syncer)\n");
	printf("this device  %s  %s\n", json_string_value(json_object_get(s, "device_id")),
	       json_string_value(json_object_get(s, "hostname")));
	if (json_is_integer(json_object_get(s, "key_epoch")))
		printf("key epoch    %lld\n", (long long)json_integer_value(json_object_get(s, "key_epoch")));
	v = short_time(json_string_value(json_object_get(push, "last")), tb, sizeof(tb));
	printf("last push    %s  generation %lld", v ? v : "never", (long long)json_integer_value(json_object_get(push, "generation")));
	if ((v = json_string_value(json_object_get(push, "error"))))
		printf("  ERROR: %s", v);
	putchar('\n');
	v = short_time(json_string_value(json_object_get(pull, "last")), tb, sizeof(tb));
	printf("last pull    %s", v ? v : "never");
	if ((v = json_string_value(json_object_get(pull, "error"))))
		printf("  ERROR: %s", v);
	putchar('\n');
	json_array_foreach(json_object_get(s, "warnings"), i, d)
		printf("WARNING      %s\n", json_string_value(d));
	if (!json_array_size(json_object_get(s, "devices"))) {
		printf("\nno other devices yet\n");
		return;
	}
	printf("\n%-36s  %-16s  %9s  %9s  %-20s  %-20s  %s\n", "DEVICE", "HOSTNAME", "APPLIED", "EVENTS", "LAST PUBLISHED",
	       "LAST IMPORT", "STATUS");
	json_array_foreach(json_object_get(s, "devices"), i, d) {
		char applied[48], pb[64];
		const char *host = json_string_value(json_object_get(d, "hostname"));
		const char *pub = short_time(json_string_value(json_object_get(d, "last_published")), pb, sizeof(pb));
		const char *last = short_time(json_string_value(json_object_get(d, "last_import")), tb, sizeof(tb));
		const char *err = json_string_value(json_object_get(d, "error"));
		const char *state = json_string_value(json_object_get(d, "state"));
		snprintf(applied, sizeof(applied), "%lld/%lld", (long long)json_integer_value(json_object_get(d, "generation")),
			 (long long)json_integer_value(json_object_get(d, "manifest_generation")));
		printf("%-36s  %-16s  %9s  %9lld  %-20s  %-20s  %s%s%s\n", json_string_value(json_object_get(d, "device_id")),
		       host ? host : "?", applied, (long long)json_integer_value(json_object_get(d, "events_applied")),
		       pub ? pub : "-", last ? last : "-", state ? state : "?", err ? ": " : "", err ? err : "");
	}
}

/* ---- rounds and status ------------------------------------------------------------------- */

static int node_round(sync_cli *c, const char *mode)
{
	char body[64], *resp = NULL;
	int status, rc;
	json_t *o, *st;
	json_error_t je;

	snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
	if (sync_cli_http(c, "POST", "/api/0/sync/now", body, &status, &resp))
		return fail("the database %s is in use by a running node, and it could not be asked to sync: %s. Stop the "
			    "node, or pass --port",
			    c->db, aw_error_last());
	o = json_loads(resp, 0, &je);
	if (status == 404 || status == 405) {
		json_decref(o);
		free(resp);
		return fail("the node running on this database has no sync API (POST /api/0/sync/now answered %d): stop it "
			    "and run '" PROG " %s' again",
			    status, c->cmd);
	}
	if (status != 200 || !json_is_object(o)) {
		const char *m = sync_cli_json_message(o);
		rc = fail("the node answered %d: %s", status, m ? m : resp);
		json_decref(o);
		free(resp);
		return rc;
	}
	if (c->json)
		puts(resp);
	free(resp);
	rc = c->json ? (json_string_value(json_object_get(o, "error")) ? 1
			: json_integer_value(json_object_get(o, "devices_failed")) ? 3 : 0)
		     : print_report(c, o);
	json_decref(o);
	if (rc == 3 && sync_cli_http(c, "GET", "/api/0/sync/status", NULL, &status, &resp) == 0) {
		st = json_loads(resp, 0, &je);
		print_device_errors(st);
		json_decref(st);
		free(resp);
	}
	return rc;
}

static int sync_round(sync_cli *c, unsigned mode)
{
	const char *mname = mode & AW_SYNC_COMPACT ? "compact"
			    : mode == AW_SYNC_PUSH ? "push"
			    : mode == AW_SYNC_PULL ? "pull"
						   : "both";
	aw_store *s;
	aw_reader *r;
	aw_sync *y;
	aw_sync_report rep;
	json_t *o;
	char *js;
	int rc;

	if (c->npos)
		return usage_error("%s takes no arguments", c->cmd);
	rc = sync_cli_open_all(c, &s, &r, &y);
	if (rc == AW_EBUSY)
		return node_round(c, mname);
	if (rc)
		return rc;
	aw_sync_run_mode(y, r, mode, &rep);
	js = aw_sync_report_json(&rep);
	o = json_loads(js, 0, NULL);
	if (c->json)
		puts(js);
	free(js);
	rc = c->json ? (rep.status ? 1 : rep.devices_failed ? 3 : 0) : print_report(c, o);
	json_decref(o);
	if (rc == 3) {
		char *st = aw_sync_status_json(y, r);
		json_t *so = json_loads(st, 0, NULL);
		print_device_errors(so);
		json_decref(so);
		free(st);
	}
	sync_cli_close(s, r, y);
	return rc;
}

/* rotate, revoke: the epoch's record is committed under the folder's lock with the
 * database read-only (beside a running node too), then a round moves this device. */
static int sync_epoch(sync_cli *c, bool revoke)
{
	const char *device = NULL;
	char *pass = NULL;
	aw_reader *r = NULL;
	aw_sync *y;
	int64_t epoch;
	int rc;

	if (revoke ? c->npos != 1 : c->npos != 0)
		return usage_error(revoke ? "revoke takes one device id (or hostname)" : "rotate takes no arguments");
	if (access(c->db, F_OK) == 0 && aw_reader_open_path(&r, c->db))
		return fail("%s", aw_error_last());
	if (revoke) {
		device = c->pos[0];
		if (!(pass = sync_cli_passphrase(c, true, "AWNODE_SYNC_NEW_PASSPHRASE", "New sync"))) {
			aw_reader_close(r);
			return 1;
		}
		if (strlen(pass) < 8) {
			sync_cli_free_pass(pass);
			aw_reader_close(r);
			return fail("the new passphrase is too short (at least 8 characters; it protects all synced data)");
		}
	}
	if (sync_cli_open_sync(c, NULL, &y)) {
		sync_cli_free_pass(pass);
		aw_reader_close(r);
		return 1;
	}
	rc = aw_sync_epoch_start(&epoch, y, r, device, pass, pass ? strlen(pass) : 0);
	sync_cli_free_pass(pass);
	aw_sync_close(y);
	aw_reader_close(r);
	if (rc)
		return fail("%s", aw_error_last());
	if (!c->json)
		printf(revoke ? "key epoch %lld started: device %s is revoked; devices that join from now on use the new "
				"passphrase\n"
			      : "key epoch %lld started%s\n",
		       (long long)epoch, revoke ? device : "");
	c->npos = 0;
	return sync_round(c, AW_SYNC_BOTH);
}

static int sync_status(sync_cli *c)
{
	aw_reader *r = NULL;
	aw_sync *y;

	if (c->npos)
		return usage_error("status takes no arguments");
	/* a read-only connection: works next to a running node */
	if (access(c->db, F_OK) == 0 && aw_reader_open_path(&r, c->db))
		return fail("%s", aw_error_last());
	if (sync_cli_open_sync(c, NULL, &y)) {
		aw_reader_close(r);
		return 1;
	}
	sync_cli_print_json(c, aw_sync_status_json(y, r), print_status);
	aw_sync_close(y);
	aw_reader_close(r);
	return 0;
}

/* ---- entry ---------------------------------------------------------------------------------- */

int cmd_sync(int argc, char **argv)
{
	static const sync_cli_limits lim = {10, 1024};
	unsigned known = 0;
	sync_cli c;
	aw_sync *y = NULL;
	bool help;
	int ci, rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	memset(&c, 0, sizeof(c));
	c.prog = PROG;
	ci = command_index(argv[1]);
	if (ci < 0)
		return sync_cli_fail(&c, 2, "unknown command '%s' (see '" PROG " --help')", argv[1]);
	c.cmd = commands[ci].name;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		known |= commands[i].opts;
	/* argv[1], the command, stands where getopt expects the program's name */
	if ((rc = sync_cli_parse(&c, argc - 1, argv + 1, known, commands[ci].opts, &lim, &help)))
		return rc;
	if (help) {
		printf("usage: " PROG " %s %s [options]\n\n%s\n%s", c.cmd, commands[ci].args, commands[ci].help,
		       common_help);
		return 0;
	}
	if (c.npos && c.pos[0][0] == '-' && c.pos[0][1])
		return sync_cli_fail(&c, 2, "unknown option '%s'", c.pos[0]);
	if ((rc = sync_cli_resolve(&c, strcmp(c.cmd, "restore") != 0)))
		goto out;
	if (!c.dev) {
		rc = sync_cli_fail(&c, 2, "no device id: this installation has none yet; pass --device-id (see '" PROG
				   " inspect' for the devices in the folder)");
		goto out;
	}
	if (!strcmp(c.cmd, "push"))
		rc = sync_round(&c, AW_SYNC_PUSH);
	else if (!strcmp(c.cmd, "pull"))
		rc = sync_round(&c, AW_SYNC_PULL);
	else if (!strcmp(c.cmd, "run"))
		rc = sync_round(&c, AW_SYNC_BOTH);
	else if (!strcmp(c.cmd, "compact"))
		rc = sync_round(&c, AW_SYNC_BOTH | AW_SYNC_COMPACT);
	else if (!strcmp(c.cmd, "rotate"))
		rc = sync_epoch(&c, false);
	else if (!strcmp(c.cmd, "revoke"))
		rc = sync_epoch(&c, true);
	else if (!strcmp(c.cmd, "status"))
		rc = sync_status(&c);
	else if (!strcmp(c.cmd, "forget"))
		rc = sync_forget(&c);
	else if (!strcmp(c.cmd, "restore"))
		rc = sync_restore(&c);
	else if (!strcmp(c.cmd, "inspect"))
		rc = sync_inspect(&c);
	else if ((rc = sync_cli_open_sync(&c, NULL, &y)) == 0) {
		if (!strcmp(c.cmd, "init"))
			rc = sync_init(&c, y);
		else if (!strcmp(c.cmd, "join"))
			rc = sync_join(&c, y);
		else
			rc = sync_remote(&c, y);
	}
out:
	aw_sync_close(y);
	sync_cli_free(&c);
	return rc;
}
