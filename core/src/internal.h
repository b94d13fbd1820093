/* What core's own files share and nothing outside core may use. */
#ifndef AW_CORE_INTERNAL_H
#define AW_CORE_INTERNAL_H

#include <stddef.h>

/* The order of keys in canonical JSON: by bytes, a shorter key first on a common prefix
 * (Rust's BTreeMap<String, _> order). Both encoders (json.c over a tree, json_scan.c
 * over text) sort with this one function, so they cannot disagree. */
int canonical_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
