/*
 * What `awnode sync` and `awnode archive` share: the parsed command line and config,
 * this device's identity, the passphrase prompt, the database and the HTTP exchange
 * with a running node (cli.c).
 */
#ifndef AW_SYNC_CLI_COMMON_H
#define AW_SYNC_CLI_COMMON_H

#include <stdbool.h>

#include <jansson.h>

#include "aw/storage.h"

typedef struct cli {
	const char *cmd;
	unsigned seen;
	bool testing, json, undo, segments;
	const char *dbpath, *folder, *key_file, *device_id, *hostname, *config, *passfile, *remote;
	long port, kdf_ops, kdf_mem;
	char **pos;
	int npos;
	/* from the config file */
	long cfg_port;
	char *cfg_folder, *cfg_key, *cfg_ssh, *api_key;
	/* resolved */
	char *dev, *host, *db;
} cli;

/* Read the config file (port, [auth] api_key, [sync] folder/key_file/ssh_key) and
 * resolve the hostname and the database path. */
void aws_cli_resolve(cli *c);
/* This device's id into c->dev (--device-id, the node's device_id file, or a new one
 * when create). 0, or an exit code after printing why. */
int aws_cli_resolve_device(cli *c, bool create);
/* Ask on the terminal without echo; NULL without a terminal. Caller frees. */
char *aws_cli_prompt(const char *what);
/* A passphrase: --passphrase-file, $env_name, or a prompt "<label> passphrase: " on
 * the terminal (twice when confirm). NULL after printing why. Caller frees with
 * aws_cli_free_pass. */
char *aws_cli_passphrase(cli *c, bool confirm, const char *prog, const char *env_name, const char *label);
/* Print "prog: message" on stderr; returns code (the exit status). */
int aws_cli_fail(const char *prog, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wipe and free a passphrase. */
void aws_cli_free_pass(char *p);
/* One request to the node on 127.0.0.1 (port from --port, the config, or the default),
 * with the configured API key. *resp (caller frees) is the body. */
int aws_cli_http(cli *c, const char *method, const char *path, const char *body, int *status, char **resp);
/* Open the database and a reader; AW_EBUSY means a node holds it. */
int aws_cli_open_db(cli *c, aw_store **s, aw_reader **r);
/* The "message" of a JSON error answer, or NULL. */
const char *aws_cli_json_message(json_t *o);
/* A number option in [lo, hi]; 2 after printing the problem. */
int aws_cli_parse_long(const char *opt, const char *v, long lo, long hi, long *out);

#endif
