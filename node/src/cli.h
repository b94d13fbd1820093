/* Subcommands other than serve (cmd_*.c) and their shared helpers. */
#ifndef AW_NODE_CLI_H
#define AW_NODE_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "aw/buf.h"

int cmd_redact(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* The database a CLI command works on: --dbpath, else the node's default for the mode.
 * Caller frees. */
char *cli_db_path(const char *dbpath, bool testing);

/* POST a JSON body to the node on 127.0.0.1:port (path like "/api/0/import"); the
 * answer's body is appended to out and its status stored. timeout_s <= 0: none.
 * Returns 0 when an answer arrived (whatever its status), -1 when none did. */
int cli_post_json(int port, const char *path, const char *body, size_t len, long timeout_s, aw_buf *out,
		  long *status);

#endif
