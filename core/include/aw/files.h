/*
 * Files and directories: where awnode keeps things (XDG base directories), creating
 * directories, and whole-file reads and writes. Every awnode program (node, CLI
 * commands, watchers) finds its files through these, so they agree on the paths.
 */
#ifndef AW_FILES_H
#define AW_FILES_H

#include <stddef.h>
#include <stdint.h>

/* The XDG base directories awnode uses, each with "awnode" appended. */
enum {
	AW_DIR_DATA,   /* $XDG_DATA_HOME, default ~/.local/share: database, device id, sync */
	AW_DIR_CONFIG, /* $XDG_CONFIG_HOME, default ~/.config: config.toml, watcher configs */
	AW_DIR_STATE,  /* $XDG_STATE_HOME, default ~/.local/state: logs */
	AW_DIR_CACHE,  /* $XDG_CACHE_HOME, default ~/.cache: the watchers' queues */
};

/* "<base>/awnode" for one of AW_DIR_*. A variable that is unset or not absolute is
 * ignored, as the XDG specification asks; without HOME the base is under /tmp.
 * Never NULL; caller frees with free(). Nothing is created. */
char *aw_files_dir(int which);

/* aw_files_dir(AW_DIR_CONFIG) + "/" + name. Caller frees with free(). */
char *aw_files_config_path(const char *name);

/* Create `path` and its missing parents with `mode` (existing ones are left as they
 * are). Returns 0, or AW_ERROR with the failing component in aw_error_last(). */
int aw_files_mkdir_p(const char *path, int mode);

/* Read the whole regular file at `path` into *out (NUL-terminated; *len excludes the
 * NUL; len may be NULL). Returns 0 (caller frees *out with free()), AW_ENOTFOUND when
 * it does not exist, AW_ERANGE when it is larger than `max` bytes (checked before
 * reading), or AW_ERROR; aw_error_last() names the path. *out is NULL on failure. */
int aw_files_read(char **out, size_t *len, const char *path, size_t max);

/* Open the regular file at `path` read-only into *fd and its size into *size. Returns
 * 0 (caller closes *fd), AW_ENOTFOUND when it does not exist, or AW_ERROR (not a
 * regular file, or any other failure); aw_error_last() names the path. */
int aw_files_open_regular(int *fd, uint64_t *size, const char *path);

/* Flags of aw_files_write. */
enum {
	AW_FILES_DURABLE = 1, /* fsync the file and its directory before returning */
	AW_FILES_CREATE = 2,  /* only create: leave an existing file untouched, return 0 */
};

/* Replace `path` with `data` atomically (a temporary file renamed over it), creating
 * the parent directories (0700). The file gets `mode`. Returns 0 or AW_ERROR. */
int aw_files_write(const char *path, const void *data, size_t len, int mode, int flags);

#endif
