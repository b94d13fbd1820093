/* Subcommands other than serve (cmd_*.c) and their shared helpers. */
#ifndef AW_NODE_CLI_H
#define AW_NODE_CLI_H

#include <stdbool.h>

int cmd_redact(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);

/* The database a CLI command works on: --dbpath, else the node's default for the mode.
 * Caller frees. */
char *cli_db_path(const char *dbpath, bool testing);

#endif
