/*
 * awnode's config files: reading one into a TOML document, and the few node settings
 * other programs need (a watcher or a CLI command talking to the node must send the
 * node's API key). The node's full set of settings is the node's own (aw/config.h);
 * this is only the reading, so that every program reads config.toml the same way.
 */
#ifndef AW_CONF_H
#define AW_CONF_H

#include "aw/toml.h"

/* The largest config file read (a config is a few hundred bytes; this bounds a mistake). */
#define AW_CONF_MAX_BYTES (1u << 20)

/* "config.toml", or "config-testing.toml" for a testing node: the node's file name. */
const char *aw_conf_node_file(int testing);

/* Read and parse the config file at `path`. Returns 0 (release *doc with
 * aw_toml_free), AW_ENOTFOUND if there is no such file (*doc empty), or AW_EINVALID /
 * AW_ERANGE / AW_ERROR with "config <path>: <reason>" in aw_error_last(). */
int aw_conf_read(aw_toml_doc *doc, const char *path);

/* The node's API key ([auth] api_key of the node's config file for the mode), or NULL
 * when none is set or the file cannot be read. Caller frees with free(). */
char *aw_conf_node_api_key(int testing);

#endif
