/* The hostnames this node has run under (device_names.c). */
#ifndef AW_NODE_DEVICE_NAMES_H
#define AW_NODE_DEVICE_NAMES_H

#include <stddef.h>

#include "aw/storage.h"

/* Record that the node now runs as `hostname`: it becomes the first of the recorded
 * names (the others keep their order, newest first). Returns 0 or an AW_E* code (with
 * aw_error_last set); the node runs on without the record then. */
int device_names_record(aw_store *s, const char *hostname);

/* The recorded names, newest first, into *out (caller frees with aw_strings_free(*out,
 * *n)). A node that never recorded one (a store no node of this version has served)
 * gives 0 names. Returns 0 or an AW_E* code. */
int device_names_read(char ***out, size_t *n, aw_reader *r);

#endif
