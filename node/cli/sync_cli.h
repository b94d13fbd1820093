/*
 * What `awnode sync` (sync.c, sync_setup.c, sync_inspect.c) and `awnode archive`
 * (archive.c) share, implemented in sync_common.c: the command line (one option table
 * for both, each command saying which options apply), the configuration as `awnode
 * serve` reads it, this device's identity, the passphrase, the database and requests
 * to a running node.
 */
#ifndef AW_NODE_CLI_SYNC_CLI_H
#define AW_NODE_CLI_SYNC_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "aw/storage.h"
#include "aw/sync.h"
#include "aw/time.h"

/* The options; a command accepts those of its mask (sync_cmd.opts). */
enum {
	O_TESTING = 1 << 0,
	O_DBPATH = 1 << 1,
	O_FOLDER = 1 << 2,
	O_KEYFILE = 1 << 3,
	O_DEVICE = 1 << 4,
	O_HOST = 1 << 5,
	O_CONFIG = 1 << 6,
	O_PORT = 1 << 7,
	O_PASSFILE = 1 << 8,
	O_REMOTE = 1 << 9,
	O_JSON = 1 << 10,
	O_UNDO = 1 << 11,
	O_KDFOPS = 1 << 12,
	O_KDFMEM = 1 << 13,
	O_SEGMENTS = 1 << 14,
	O_DIR = 1 << 15,
	O_BEFORE = 1 << 16,
	O_OLDER = 1 << 17,
	O_BUCKET = 1 << 18,
	O_FROM = 1 << 19,
	O_TO = 1 << 20,
	O_MISSING = 1 << 21,
	O_COMMON = O_TESTING | O_DBPATH | O_FOLDER | O_KEYFILE | O_DEVICE | O_HOST | O_CONFIG | O_PORT,
};

#define SYNC_CLI_MAX_BUCKETS 64

typedef struct sync_cli {
	const char *prog;   /* "awnode sync" or "awnode archive", prefixes every message */
	const char *cmd;
	bool testing, json, undo, segments, allow_missing, progress;
	const char *dbpath, *folder, *key_file, *device_id, *hostname, *config, *passfile, *remote, *dir;
	long port, kdf_ops, kdf_mem, older_than;
	bool have_before, have_from, have_to;
	aw_ns before, from, to;
	const char *buckets[SYNC_CLI_MAX_BUCKETS];
	size_t n_buckets;
	char **pos;
	int npos;
	/* from the configuration (sync_cli_resolve) */
	long cfg_port;
	char *cfg_folder, *cfg_key, *cfg_ssh, *api_key;
	int cfg_compact; /* [sync] compact_segments (0: the default) */
	/* resolved */
	char *dev, *host, *db;
} sync_cli;

/* The limits of the number options, which differ between the two commands. */
typedef struct sync_cli_limits {
	long kdf_ops_max, kdf_mem_max;
} sync_cli_limits;

/* Parse argv (argv[0] is skipped, as a program name) with getopt into c, accepting the
 * options in `allowed`; one in `known` but not allowed "does not apply" to c->cmd, any
 * other is unknown (c->cmd NULL: every refusal says unknown). Operands are left in
 * c->pos/c->npos. Returns 0 (with *help set after -h/--help), or 2 after printing a
 * usage error. */
int sync_cli_parse(sync_cli *c, int argc, char **argv, unsigned known, unsigned allowed, const sync_cli_limits *lim,
		   bool *help);

/* Read the configuration as `awnode serve` would (port, [auth] api_key, [sync] folder,
 * key_file, ssh_key), resolve the hostname, the database path and this device's id
 * (--device-id, the node's device_id file, or with create a new one written there as
 * the node does on its first start; without create and without that file c->dev stays
 * NULL). 0, or an exit code after printing why. */
int sync_cli_resolve(sync_cli *c, bool create);
/* Free what sync_cli_resolve allocated (the API key is wiped). */
void sync_cli_free(sync_cli *c);

/* Print "prog: message" on stderr; returns code (the exit status). fail() and
 * usage_error() are the shorthands for exit codes 1 and 2, in functions where the
 * command line is `sync_cli *c`. */
int sync_cli_fail(const sync_cli *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define fail(...) sync_cli_fail(c, 1, __VA_ARGS__)
#define usage_error(...) sync_cli_fail(c, 2, __VA_ARGS__)

/* A passphrase: --passphrase-file, $env_name, or a prompt "<label> passphrase: " on the
 * terminal (twice when confirm). NULL after printing why. Caller frees with
 * sync_cli_free_pass, which wipes it. */
char *sync_cli_passphrase(sync_cli *c, bool confirm, const char *env_name, const char *label);
void sync_cli_free_pass(char *p);

/* Open the database, a reader on it and, when y is not NULL, a sync context on them.
 * 0; AW_EBUSY, with nothing printed and nothing open, when a running node holds the
 * database (the caller asks the node instead, or says why not); otherwise the exit
 * code after printing why. Release with sync_cli_close. */
int sync_cli_open_all(sync_cli *c, aw_store **s, aw_reader **r, aw_sync **y);
/* Close what sync_cli_open_all opened (NULL parts are skipped). */
void sync_cli_close(aw_store *s, aw_reader *r, aw_sync *y);
/* A sync context on store s (NULL for folder-only commands); 1 after printing why. */
int sync_cli_open_sync(sync_cli *c, aw_store *s, aw_sync **y);

/* One request to the running node (port from --port or the configuration, with the
 * configured API key). *resp (caller frees) is the body. 0, or AW_ERROR when no
 * answer came (message set). */
int sync_cli_http(sync_cli *c, const char *method, const char *path, const char *body, int *status, char **resp);
/* Print a JSON document (js, freed here) as it is with --json, else parsed, through
 * print. */
void sync_cli_print_json(const sync_cli *c, char *js, void (*print)(json_t *doc));
/* The "message" of a JSON error answer, or NULL. */
const char *sync_cli_json_message(json_t *o);

/* Does the installation's device_id file hold id? And writing it (restore). */
bool sync_cli_device_file_is(const char *id);
int sync_cli_write_device_file(const char *id);

/* The subcommands of `awnode sync` outside sync.c; each returns the exit code. */
int sync_init(sync_cli *c, aw_sync *y);   /* sync_setup.c */
int sync_join(sync_cli *c, aw_sync *y);   /* sync_setup.c */
int sync_remote(sync_cli *c, aw_sync *y); /* sync_setup.c */
int sync_forget(sync_cli *c);             /* sync_inspect.c */
int sync_restore(sync_cli *c);            /* sync_inspect.c */
int sync_inspect(sync_cli *c);            /* sync_inspect.c */

#endif
