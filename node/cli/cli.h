/*
 * The commands of the awnode binary (one file each in node/cli/, dispatched by main.c)
 * and the helpers they share (cli.c). Every command takes its own argv (argv[0] is the
 * command's name) and returns the process exit code: 0 success, 1 failure, 2 usage
 * error, each failure reported as one line on stderr.
 */
#ifndef AW_NODE_CLI_H
#define AW_NODE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "aw/buf.h"

int cmd_serve(int argc, char **argv);   /* serve.c */
int cmd_start(int argc, char **argv);   /* start.c (node/supervisor/) */
int cmd_status(int argc, char **argv);  /* status.c */
int cmd_pause(int argc, char **argv);   /* pause.c */
int cmd_resume(int argc, char **argv);  /* pause.c */
int cmd_redact(int argc, char **argv);  /* redact.c */
int cmd_export(int argc, char **argv);  /* transfer.c */
int cmd_import(int argc, char **argv);  /* transfer.c */
int cmd_sync(int argc, char **argv);    /* sync.c */
int cmd_archive(int argc, char **argv); /* archive.c */
int cmd_query(int argc, char **argv);   /* query.c */
int cmd_doctor(int argc, char **argv);  /* doctor.c */

/* getopt_long over a command's argv (argv[0] is the command's name), from its first
 * option on the first call for that argv. An unknown option, or one without its value,
 * prints "awnode <command>: unknown or incomplete option '<it>' (see --help)" and returns
 * '?'. Returns the option's value, or -1 after the last option (optind then indexes the
 * first operand). */
struct option;
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts);

/* The database a CLI command works on: --dbpath, else the node's default for the mode.
 * Caller frees. */
char *cli_db_path(const char *dbpath, bool testing);

/* The running node's port (port when >= 0, else the config file's for the mode, else
 * the default) and its API key ([auth] api_key, or NULL; caller frees), as `awnode
 * serve` would read them. */
int cli_node_port(int port, bool testing, char **api_key);

/* POST a JSON body (NUL-terminated text) to the node on 127.0.0.1:port (path like
 * "/api/0/import") with the API key, if any; the answer's body is appended to out and its status stored.
 * timeout_s <= 0: none. Returns 0 when an answer arrived (whatever its status), -1 when
 * none did. */
int cli_post_json(int port, const char *api_key, const char *path, const char *body, long timeout_s, aw_buf *out,
		  long *status);

/* The same for any method ("GET", "POST", "DELETE", ...); body may be NULL. */
int cli_node_request(int port, const char *api_key, const char *method, const char *path, const char *body,
		     long timeout_s, aw_buf *out, long *status);

/* One request to the running `awnode start` (pause.c): on success *out is its
 * answer with "ok": true (caller decrefs) and 0 is returned; otherwise one line naming
 * `awnode <cmd>` is printed on stderr (no supervisor, no answer, or its refusal with its
 * message) and 1 is returned. */
struct json_t;
int cli_supervisor_request(const char *cmd, bool testing, const char *request, struct json_t **out);

/* "until 14:30:05" (local time; with the date when a day or more away) for an ISO 8601
 * UTC instant, "until resumed" for NULL. */
void cli_format_until(char *buf, size_t len, const char *iso);

#endif
