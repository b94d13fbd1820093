/*
 * The hostnames this node has run under, newest first, kept in the store's private
 * state (key "node.hostnames", a JSON array of strings).
 *
 * Why: a device's own buckets carry the hostname its watchers reported when they created
 * them, so after the machine is renamed its history sits under two names. Buckets
 * imported from another machine's export file are this device's too (docs/api.md,
 * "Devices"), under that machine's name. Telling the two apart needs a record of which
 * names were this node's own: every start adds the current one. Names from before the
 * first start of a node that keeps this record are not known; their buckets count as
 * imported ones, which is how they were shown before.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/mem.h"
#include "device_names.h"

#define STATE_KEY "node.hostnames"
/* a machine renamed more often than this loses its oldest names from the record */
#define MAX_NAMES 32

static int names_parse(char ***out, size_t *n, const char *text)
{
	json_t *arr = json_loads(text, 0, NULL);
	char **names;
	size_t k = 0, i;
	json_t *v;

	*out = NULL;
	*n = 0;
	if (!json_is_array(arr)) {
		json_decref(arr);
		return aw_error_set(AW_ESHAPE, "state %s is not a JSON array", STATE_KEY);
	}
	names = aw_mem_calloc(json_array_size(arr) + 1, sizeof(*names));
	json_array_foreach(arr, i, v)
		if (json_is_string(v))
			names[k++] = aw_mem_strdup(json_string_value(v));
	json_decref(arr);
	*out = names;
	*n = k;
	return 0;
}

int device_names_read(char ***out, size_t *n, aw_reader *r)
{
	char *text = NULL;
	int rc = aw_reader_state(&text, r, STATE_KEY);

	*out = NULL;
	*n = 0;
	if (rc == AW_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	rc = names_parse(out, n, text);
	free(text);
	return rc;
}

int device_names_record(aw_store *s, const char *hostname)
{
	aw_reader *r;
	char **names = NULL, *text;
	size_t n = 0;
	json_t *arr;
	int rc = aw_reader_open(&r, s);

	if (rc)
		return rc;
	rc = device_names_read(&names, &n, r);
	aw_reader_close(r);
	/* an unreadable record is replaced: it only decides how buckets are grouped */
	if (rc == 0 && n && !strcmp(names[0], hostname)) {
		aw_strings_free(names, n);
		return 0;
	}
	arr = json_array();
	json_array_append_new(arr, json_string(hostname));
	for (size_t i = 0; i < n && json_array_size(arr) < MAX_NAMES; i++)
		if (strcmp(names[i], hostname))
			json_array_append_new(arr, json_string(names[i]));
	aw_strings_free(names, n);
	text = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (!text)
		return aw_error_set(AW_ERROR, "out of memory");
	rc = aw_store_write(s, &(aw_write){.kind = AW_W_STATE_SET, .key = STATE_KEY, .value = text});
	free(text);
	return rc;
}
