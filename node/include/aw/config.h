/*
 * The node's configuration: defaults, then config.toml, then command-line flags, in that
 * order of precedence. Paths follow XDG (see docs/user-guide.md).
 */
#ifndef AW_CONFIG_H
#define AW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct aw_static_dir {
	char *name;  /* served at /pages/<name>/ */
	char *path;
} aw_static_dir;

typedef struct aw_config {
	bool testing;
	bool verbose;
	char *address;          /* "127.0.0.1" */
	int port;               /* 5600, or 5666 in testing mode */
	char **cors;            /* extra exact origins */
	size_t n_cors;
	char **cors_regex;      /* extra origin regexes */
	size_t n_cors_regex;
	char *api_key;          /* NULL or "" = disabled */
	aw_static_dir *statics; /* [custom_static] and --custom-static */
	size_t n_statics;
	size_t max_body_bytes;  /* requests above get 413; default 64 MiB */
	int sync_normal;        /* [storage] synchronous = "normal" */
	char *config_path;      /* the file read (or created) */
	char *data_dir;         /* $XDG_DATA_HOME/awnode */
	char *state_dir;        /* $XDG_STATE_HOME/awnode (logs) */
	char *db_path;          /* awnode.db / awnode-testing.db, or --dbpath */
	char *webpath;          /* --webpath, or the built-in web UI directory */
	char *apidocs;          /* the API explorer's directory (build/apidocs), or NULL */
	char *device_id;        /* from the device_id file or --device-id */
	char *hostname;
	int reader_threads;
	bool sync_enabled;      /* [sync] enabled (default true; rounds run once set up) */
	int sync_interval;      /* [sync] interval in seconds (default 300, at least 10) */
	int sync_compact_segments; /* [sync] compact_segments: segments that make a pack (0: 1024) */
	int archive_older_than_days; /* [archive] older_than_days: archive daily (0 = off) */
	char *sync_folder;      /* [sync] folder, key_file, ssh_key (NULL: defaults) */
	char *sync_key_file;
	char *sync_ssh_key;
} aw_config;

/* Parse the serve command line (argv[0] is "serve"), read the config file and fill c.
 * Returns 0, 1 when --help was printed, or -1 after printing one error line. */
int aw_config_load(aw_config *c, int argc, char **argv);
void aw_config_free(aw_config *c);

#endif
