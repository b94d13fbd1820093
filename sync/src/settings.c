/*
 * Settings that travel (docs/sync-format.md §6, docs/sync.md "Settings").
 *
 * Each device's manifest carries the settings whose current value this device
 * produced, with the change's clock reading: {key: {"deleted", "hlc", "hostname",
 * "value"}}. Importers hand every entry to storage as another device's change, and
 * storage keeps it only if it is newer than what the key holds (settings.c in storage
 * has the rule). A device publishes only its own changes: once another device's value
 * wins a key, that device publishes it, and this one stops; every device still sees
 * every current value.
 *
 * The manifest is authenticated and its generation only grows, so the settings cannot
 * be replayed or forged by the remote; a member of the group can still publish any
 * value, as it can publish any event (the threat model in docs/sync-format.md §9).
 */
#include <string.h>

#include "aw/json.h"
#include "aw/mem.h"
#include "internal.h"

#define MAX_KEY 128 /* as the settings API: keys are shorter */

int settings_publishable(sync_ctx *c, json_t **out, char hash[AWS_HASH_HEX])
{
	aw_write w = {.kind = AW_W_SETTINGS_CLAIM, .origin_device = c->y->device_id,
		      .origin_hostname = c->y->hostname};
	aw_setting_meta *m = NULL;
	size_t n = 0;
	unsigned char h[AWS_HASH_BYTES];
	json_t *o;
	char *text;
	int rc;

	*out = NULL;
	/* settings from before this version, or written without naming a device (an
	 * ActivityWatch import), become this device's, older than any real change */
	if ((rc = aw_store_write(c->y->store, &w))) {
		aw_error_set(rc, "claiming settings: %s", w.error);
		aw_write_clear(&w);
		return rc;
	}
	aw_write_clear(&w);
	if ((rc = aw_reader_settings_meta(&m, &n, c->r)))
		return rc;
	o = json_object();
	for (size_t i = 0; i < n; i++) {
		json_t *e, *v = NULL;
		if (m[i].local || strcmp(m[i].device, c->y->device_id))
			continue;
		if (m[i].value && !(v = json_loads(m[i].value, JSON_DECODE_ANY, NULL)))
			continue; /* stored values are canonical JSON: cannot happen */
		e = json_pack("{s:b, s:I, s:s, s:o}", "deleted", m[i].value == NULL, "hlc", (json_int_t)m[i].hlc,
			      "hostname", m[i].hostname, "value", v ? v : json_null());
		json_object_set_new(o, m[i].key, e);
	}
	aw_setting_metas_free(m, n);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		abort();
	blake2b_256(h, text, strlen(text));
	hex_encode(hash, h, AWS_HASH_BYTES);
	if (!json_object_size(o))
		hash[0] = '\0'; /* as a device that never published settings */
	free(text);
	*out = o;
	return 0;
}

/* One entry of another device's manifest, as a storage write; AW_EINVALID when its
 * shape is wrong. */
static int entry_write(aw_write *w, const char *key, json_t *e, const char *device, const char *hostname,
		       char **value)
{
	json_t *hlc = json_object_get(e, "hlc"), *del = json_object_get(e, "deleted");
	json_t *v = json_object_get(e, "value"), *hn = json_object_get(e, "hostname");

	*value = NULL;
	memset(w, 0, sizeof(*w));
	if (strlen(key) >= MAX_KEY || !json_is_object(e) || !json_is_integer(hlc) || json_integer_value(hlc) < 1 ||
	    !json_is_boolean(del) || (!json_is_true(del) && !v))
		return AW_EINVALID;
	w->kind = json_is_true(del) ? AW_W_SETTING_DELETE : AW_W_SETTING_SET;
	w->key = key;
	if (!json_is_true(del))
		w->value = *value = aw_json_canonical_dup(v, NULL);
	w->origin_device = device;
	w->origin_hostname = json_is_string(hn) ? json_string_value(hn) : hostname;
	w->origin_hlc = json_integer_value(hlc);
	return 0;
}

int settings_apply(sync_ctx *c, const sync_manifest *m)
{
	const char *key;
	json_t *e;

	if (!m->settings)
		return 0;
	json_object_foreach(m->settings, key, e) {
		aw_write w;
		char *value;
		int rc = entry_write(&w, key, e, m->device_id, m->hostname, &value);
		if (!rc)
			rc = aw_store_write(c->y->store, &w);
		if (rc == AW_ERROR) {
			aw_error_set(rc, "applying setting '%.100s': %s", key, w.error);
			aw_write_clear(&w);
			free(value);
			return rc;
		}
		/* refused: the value stays as it is here; the device's status says which */
		if (rc) {
			c->rep->settings_refused++;
		} else if (w.out_applied) {
			c->rep->settings_applied++;
		}
		aw_write_clear(&w);
		free(value);
	}
	return 0;
}
