/*
 * The node: the HTTP server (REST API, query API, web UI) over one store, with the
 * sync and archive services beside it. `awnode serve` loads the configuration
 * (aw/config.h) and hands it to aw_server_run.
 */
#ifndef AW_SERVER_H
#define AW_SERVER_H

#include "aw/config.h"

/* Open the store at cfg->db_path, start the sync and archive services and the reader
 * threads, and serve until SIGINT or SIGTERM; then stop everything in order. Logs go
 * to stderr and to the log file in cfg->state_dir. Returns 0 after a clean stop, 1
 * when the node could not start or failed (the reason printed on stderr). cfg is
 * borrowed; the caller frees it with aw_config_free afterwards. */
int aw_server_run(aw_config *cfg);

#endif
