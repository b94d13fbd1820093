/*
 * Sync's private state in the store (AW_W_STATE_SET, key "sync"): the export cursor
 * and, for every other device, the import cursor, the manifest generation seen (replay
 * detection), counters, the last error and the origin -> local bucket names. One JSON
 * document, read at the start of a round and written after each step; only one round
 * runs at a time (the folder lock), so read-modify-write is safe.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/mem.h"
#include "internal.h"

#define STATE_KEY "sync"

static char *dup_or_null(json_t *v)
{
	const char *s = json_string_value(v);

	return s ? str_dup(s) : NULL;
}

static void hash_from(unsigned char out[AWS_HASH_BYTES], json_t *v)
{
	if (hex_decode(out, AWS_HASH_BYTES, json_string_value(v)))
		memset(out, 0, AWS_HASH_BYTES);
}

device_state *state_device(sync_state *st, const char *device_id, bool create)
{
	device_state *d;

	for (size_t i = 0; i < st->n_devices; i++)
		if (!strcmp(st->devices[i].device_id, device_id))
			return &st->devices[i];
	if (!create)
		return NULL;
	st->devices = aw_mem_realloc(st->devices, (st->n_devices + 1) * sizeof(*st->devices));
	d = &st->devices[st->n_devices++];
	memset(d, 0, sizeof(*d));
	d->device_id = str_dup(device_id);
	d->buckets = json_object();
	d->manifest_buckets = json_array();
	return d;
}

int state_find_device(device_state **out, sync_state *st, const char *name)
{
	*out = NULL;
	for (size_t i = 0; i < st->n_devices; i++)
		if (!strcmp(st->devices[i].device_id, name))
			return *out = &st->devices[i], 0;
	for (size_t i = 0; i < st->n_devices; i++) {
		if (!st->devices[i].hostname || strcmp(st->devices[i].hostname, name))
			continue;
		if (*out) {
			*out = NULL;
			return aw_error_set(AW_EINVALID, "several devices have hostname '%s': give the device id", name);
		}
		*out = &st->devices[i];
	}
	return *out ? 0 : AW_ENOTFOUND;
}

void prune_tombstones(aw_store *s, int64_t seq)
{
	aw_write w = {.kind = AW_W_TOMBSTONES_PRUNE, .seq_limit = seq};

	aw_store_write(s, &w);
	aw_write_clear(&w);
}

int state_load(sync_state *st, aw_reader *r)
{
	char *text = NULL;
	json_error_t je;
	json_t *o, *push, *pull, *devs, *v;
	const char *id;
	int rc;

	memset(st, 0, sizeof(*st));
	st->push_buckets = json_object();
	st->remotes = json_object();
	rc = aw_reader_state(&text, r, STATE_KEY);
	if (rc == AW_ENOTFOUND)
		return 0;
	if (rc)
		return rc;
	o = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return aw_error_set(AW_ERROR, "the stored sync state is damaged");
	}
	push = json_object_get(o, "push");
	st->push_seq = json_integer_value(json_object_get(push, "seq"));
	st->push_generation = json_integer_value(json_object_get(push, "generation"));
	hash_from(st->push_head, json_object_get(push, "head"));
	st->push_hostname = dup_or_null(json_object_get(push, "hostname"));
	st->push_settings = dup_or_null(json_object_get(push, "settings"));
	st->push_epoch = dup_or_null(json_object_get(push, "epoch"));
	if (json_is_object(json_object_get(push, "buckets")))
		json_object_update(st->push_buckets, json_object_get(push, "buckets"));
	st->last_push = json_integer_value(json_object_get(push, "time"));
	st->push_error = dup_or_null(json_object_get(push, "error"));
	st->pushes = json_integer_value(json_object_get(push, "count"));
	pull = json_object_get(o, "pull");
	st->last_pull = json_integer_value(json_object_get(pull, "time"));
	st->pull_error = dup_or_null(json_object_get(pull, "error"));
	if (json_is_object(json_object_get(o, "remotes")))
		json_object_update(st->remotes, json_object_get(o, "remotes"));
	devs = json_object_get(o, "devices");
	json_object_foreach(devs, id, v) {
		device_state *d = state_device(st, id, true);
		d->hostname = dup_or_null(json_object_get(v, "hostname"));
		d->generation = json_integer_value(json_object_get(v, "generation"));
		hash_from(d->head, json_object_get(v, "head"));
		d->manifest_generation = json_integer_value(json_object_get(v, "manifest_generation"));
		hash_from(d->manifest_hash, json_object_get(v, "manifest_hash"));
		d->events = json_integer_value(json_object_get(v, "events"));
		d->segments = json_integer_value(json_object_get(v, "segments"));
		d->last_import = json_integer_value(json_object_get(v, "last_import"));
		d->last_check = json_integer_value(json_object_get(v, "last_check"));
		d->last_published = json_integer_value(json_object_get(v, "last_published"));
		d->error = dup_or_null(json_object_get(v, "error"));
		d->error_time = json_integer_value(json_object_get(v, "error_time"));
		d->forgotten = json_is_true(json_object_get(v, "forgotten"));
		d->signing_key = dup_or_null(json_object_get(v, "signing_key"));
		d->revoked_epoch = json_integer_value(json_object_get(v, "revoked_epoch"));
		if (json_is_object(json_object_get(v, "buckets")))
			json_object_update(d->buckets, json_object_get(v, "buckets"));
		if (json_is_array(json_object_get(v, "manifest_buckets")))
			json_array_extend(d->manifest_buckets, json_object_get(v, "manifest_buckets"));
	}
	json_decref(o);
	return 0;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *hex_json(const unsigned char h[AWS_HASH_BYTES])
{
	char hex[AWS_HASH_HEX];

	hex_encode(hex, h, AWS_HASH_BYTES);
	return json_string(hex);
}

int state_save(sync_state *st, aw_store *s)
{
	json_t *o = json_object(), *push = json_object(), *pull = json_object(), *devs = json_object();
	aw_write w;
	char *text;
	int rc;

	json_object_set_new(push, "seq", json_integer(st->push_seq));
	json_object_set_new(push, "generation", json_integer(st->push_generation));
	json_object_set_new(push, "head", hex_json(st->push_head));
	json_object_set_new(push, "hostname", str_or_null(st->push_hostname));
	json_object_set_new(push, "settings", str_or_null(st->push_settings));
	json_object_set_new(push, "epoch", str_or_null(st->push_epoch));
	json_object_set(push, "buckets", st->push_buckets);
	json_object_set_new(push, "time", json_integer(st->last_push));
	json_object_set_new(push, "error", str_or_null(st->push_error));
	json_object_set_new(push, "count", json_integer(st->pushes));
	json_object_set_new(pull, "time", json_integer(st->last_pull));
	json_object_set_new(pull, "error", str_or_null(st->pull_error));
	for (size_t i = 0; i < st->n_devices; i++) {
		device_state *d = &st->devices[i];
		json_t *v = json_object();
		json_object_set_new(v, "hostname", str_or_null(d->hostname));
		json_object_set_new(v, "generation", json_integer(d->generation));
		json_object_set_new(v, "head", hex_json(d->head));
		json_object_set_new(v, "manifest_generation", json_integer(d->manifest_generation));
		json_object_set_new(v, "manifest_hash", hex_json(d->manifest_hash));
		json_object_set_new(v, "events", json_integer(d->events));
		json_object_set_new(v, "segments", json_integer(d->segments));
		json_object_set_new(v, "last_import", json_integer(d->last_import));
		json_object_set_new(v, "last_check", json_integer(d->last_check));
		json_object_set_new(v, "last_published", json_integer(d->last_published));
		json_object_set_new(v, "error", str_or_null(d->error));
		json_object_set_new(v, "error_time", json_integer(d->error_time));
		json_object_set_new(v, "forgotten", json_boolean(d->forgotten));
		json_object_set_new(v, "signing_key", str_or_null(d->signing_key));
		if (d->revoked_epoch)
			json_object_set_new(v, "revoked_epoch", json_integer(d->revoked_epoch));
		json_object_set(v, "buckets", d->buckets);
		json_object_set(v, "manifest_buckets", d->manifest_buckets);
		json_object_set_new(devs, d->device_id, v);
	}
	json_object_set_new(o, "v", json_integer(1));
	json_object_set_new(o, "push", push);
	json_object_set_new(o, "pull", pull);
	json_object_set_new(o, "devices", devs);
	if (st->remotes)
		json_object_set(o, "remotes", st->remotes);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		abort();
	w = (aw_write){.kind = AW_W_STATE_SET, .key = STATE_KEY, .value = text};
	rc = aw_store_write(s, &w);
	if (rc)
		aw_error_set(rc, "saving the sync state: %s", w.error);
	aw_write_clear(&w);
	free(text);
	return rc;
}

void state_free(sync_state *st)
{
	free(st->push_hostname);
	free(st->push_settings);
	free(st->push_epoch);
	free(st->push_error);
	free(st->pull_error);
	json_decref(st->push_buckets);
	json_decref(st->remotes);
	for (size_t i = 0; i < st->n_devices; i++) {
		device_state *d = &st->devices[i];
		free(d->device_id);
		free(d->hostname);
		free(d->error);
		free(d->signing_key);
		json_decref(d->buckets);
		json_decref(d->manifest_buckets);
	}
	free(st->devices);
	memset(st, 0, sizeof(*st));
}
