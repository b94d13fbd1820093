/*
 * Key epochs: rotation and revocation of the group's key (docs/sync-format.md §4b).
 *
 * Epoch 0's key is the one the passphrase gives. `awnode sync rotate` and `awnode sync
 * revoke` start a new epoch: a random key, published in a signed record,
 * devices/<creator>/epochs/<n>.json, that hands it out
 *   - to each member device, sealed to the X25519 form of its signing key (every device
 *     whose signed manifest the creator has imported, and the creator itself);
 *   - after a rotation, to whoever holds the previous epoch's key ("from_prev"), so a
 *     device the creator has never imported, or a device joining with the passphrase,
 *     follows the chain;
 *   - after a revocation, to whoever knows the group's new passphrase ("passphrase"),
 *     and to nobody through the previous key: the revoked device holds that key and the
 *     old passphrase, and neither opens the new epoch.
 * Each round reads the records (epoch_step): the chain starts at the newest record
 * whose key this device holds and follows records whose `prev` names it, signed by a
 * device this one has pinned (or opened through the previous key, which only members
 * have); a revocation is cumulative and drops the revoked device's later records and
 * everything it publishes. A device that finds a newer epoch moves: its export seals
 * its whole chain again under the new key in one commit (compact.c, reseal), and once
 * that commit is made, epoch_settle destroys every older key in the key file. What the
 * folder and git history still hold under old keys is then unreadable with anything on
 * the device.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "aw/mem.h"
#include "internal.h"

#define RECORD_MAX (64u * 1024u)
#define KDF_CTX "awsync01"
#define SUBKEY_WRAP 3 /* of an epoch's key: what wraps the next epoch's key ("from_prev") */
#define WRAP_BYTES (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + AWS_KEY_BYTES)
#define SEAL_BYTES (crypto_box_SEALBYTES + AWS_KEY_BYTES)
#define ID_HEX (2 * AWS_EPOCH_ID + 1)

static bool rotate_requested(sync_ctx *c);
static void rotate_mark(aw_store *s, const char *v);

typedef struct record {
	char device[65];                 /* its creator */
	int64_t n;
	unsigned char id[AWS_EPOCH_ID], prev[AWS_EPOCH_ID];
	unsigned char pk[AWS_SIGN_PK];
	char key_check[AWS_HASH_HEX];
	json_t *o;
} record;

typedef struct records {
	record *v;
	size_t n, cap;
} records;

static void records_free(records *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		json_decref(rs->v[i].o);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static void record_name(char *out, size_t n, int64_t epoch)
{
	snprintf(out, n, "epochs/%012lld.json", (long long)epoch);
}

/* What the signature covers: the record without its signature, keys sorted, compact
 * (so any text that parses to the same record verifies the same). Caller frees. */
static char *record_signed_text(json_t *o)
{
	json_t *copy = json_copy(o);
	char *s;

	json_object_del(copy, "signature");
	s = json_dumps(copy, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(copy);
	if (!s)
		abort();
	return s;
}

/* (hex_decode refuses NULL and any other length) */
static bool hex_field(unsigned char *out, size_t n, json_t *o, const char *key)
{
	return hex_decode(out, n, json_string_value(json_object_get(o, key))) == 0;
}

/* Parse and check one record file: its name, group, creator and signature (by the key
 * it names; whether that key is the creator's is epoch_step's business). */
static int record_parse(record *r, const sync_group *g, const char *device, int64_t n, const char *text,
			size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	unsigned char sig[AWS_SIG_BYTES];
	const char *fmt, *grp, *dev, *chk;
	char name[64], *signed_text;
	int ok;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "epoch record %lld of %s is not a JSON object", (long long)n, device);
	}
	fmt = json_string_value(json_object_get(o, "format"));
	grp = json_string_value(json_object_get(o, "group"));
	dev = json_string_value(json_object_get(o, "device_id"));
	chk = json_string_value(json_object_get(o, "key_check"));
	if (!fmt || strcmp(fmt, "awsync-epoch") || json_integer_value(json_object_get(o, "version")) != 1 || !grp ||
	    strcmp(grp, g->group) || !dev || strcmp(dev, device) || json_integer_value(json_object_get(o, "epoch")) != n ||
	    !hex_field(r->id, AWS_EPOCH_ID, o, "id") || !hex_field(r->prev, AWS_EPOCH_ID, o, "prev") ||
	    !hex_field(r->pk, AWS_SIGN_PK, o, "signing_key") || !hex_field(sig, AWS_SIG_BYTES, o, "signature") || !chk ||
	    strlen(chk) != 2 * AWS_HASH_BYTES || !json_is_array(json_object_get(o, "revoked"))) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "epoch record %lld of %s is malformed", (long long)n, device);
	}
	record_name(name, sizeof(name), n);
	signed_text = record_signed_text(o);
	ok = verify_bytes(sig, r->pk, g->group, device, name, signed_text, strlen(signed_text));
	free(signed_text);
	if (ok != 0) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "epoch record %lld of %s: bad signature", (long long)n, device);
	}
	snprintf(r->device, sizeof(r->device), "%s", device);
	snprintf(r->key_check, sizeof(r->key_check), "%s", chk);
	r->n = n;
	r->o = o;
	return 0;
}

int epoch_record_check(const sync_group *g, const char *device, int64_t n, const char *text, size_t len)
{
	record r;
	int rc = record_parse(&r, g, device, n, text, len);

	if (rc == 0)
		json_decref(r.o);
	return rc;
}

static bool revoked_has(json_t *arr, const char *device)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), device))
			return true;
	return false;
}

/* Every well-formed record of the folder (through c: HEAD, else the work tree; without
 * c: the work tree of folder). Records that do not parse or verify are skipped: a
 * hostile remote may add any file, and only records that check out can matter. */
static void list_records(records *rs, sync_ctx *c, const char *folder, const sync_group *g)
{
	char *dir = aw_mem_printf("%s/devices", folder);
	DIR *dh = opendir(dir), *eh;
	struct dirent *de, *fe;

	memset(rs, 0, sizeof(*rs));
	free(dir);
	if (!dh)
		return;
	while ((de = readdir(dh))) {
		if (!folder_device_ok(de->d_name, strlen(de->d_name)))
			continue;
		dir = aw_mem_printf("%s/devices/%s/epochs", folder, de->d_name);
		eh = opendir(dir);
		free(dir);
		while (eh && (fe = readdir(eh))) {
			char name[64];
			unsigned char *text = NULL;
			size_t len = 0;
			long long n;
			record r;
			int rc;
			if (folder_child(AWS_F_EPOCHS, fe->d_name, strlen(fe->d_name), false) != AWS_F_FILE ||
			    sscanf(fe->d_name, "%12lld", &n) != 1 || n < 1)
				continue;
			record_name(name, sizeof(name), n);
			if (c) {
				rc = device_file(c, de->d_name, name, &text, &len);
			} else {
				char *rel = aw_mem_printf("devices/%s/%s", de->d_name, name);
				rc = folder_read(folder, rel, RECORD_MAX, &text, &len);
				free(rel);
			}
			if (!rc && len <= RECORD_MAX && record_parse(&r, g, de->d_name, n, (const char *)text, len) == 0) {
				rs->v = aw_mem_grow(rs->v, rs->n, &rs->cap, sizeof(*rs->v), 8);
				rs->v[rs->n++] = r;
			}
			free(text);
		}
		if (eh)
			closedir(eh);
	}
	closedir(dh);
}

/* ---- wrapping an epoch's key ------------------------------------------------------------ */

static char *wrap_hex(const unsigned char e[AWS_KEY_BYTES], const unsigned char k[AWS_KEY_BYTES])
{
	unsigned char buf[WRAP_BYTES];
	char *hex = aw_mem_malloc(2 * WRAP_BYTES + 1);

	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, e, AWS_KEY_BYTES, buf, k);
	hex_encode(hex, buf, WRAP_BYTES);
	return hex;
}

static bool unwrap_hex(unsigned char e[AWS_KEY_BYTES], json_t *v, const unsigned char k[AWS_KEY_BYTES])
{
	unsigned char buf[WRAP_BYTES];

	return hex_decode(buf, WRAP_BYTES, json_string_value(v)) == 0 &&
	       crypto_secretbox_open_easy(e, buf + crypto_secretbox_NONCEBYTES, WRAP_BYTES - crypto_secretbox_NONCEBYTES,
					  buf, k) == 0;
}

static void wrap_key_of(unsigned char w[AWS_KEY_BYTES], const unsigned char epoch_key[AWS_KEY_BYTES])
{
	crypto_kdf_derive_from_key(w, AWS_KEY_BYTES, SUBKEY_WRAP, KDF_CTX, epoch_key);
}

/* The epoch's key sealed to a device's signing key (its X25519 form). */
static char *seal_to_hex(const unsigned char e[AWS_KEY_BYTES], const unsigned char sign_pk[AWS_SIGN_PK])
{
	unsigned char x[crypto_box_PUBLICKEYBYTES], buf[SEAL_BYTES];
	char *hex;

	if (crypto_sign_ed25519_pk_to_curve25519(x, sign_pk))
		return NULL;
	crypto_box_seal(buf, e, AWS_KEY_BYTES, x);
	hex = aw_mem_malloc(2 * SEAL_BYTES + 1);
	hex_encode(hex, buf, SEAL_BYTES);
	return hex;
}

static bool open_sealed_hex(unsigned char e[AWS_KEY_BYTES], json_t *v, const sync_ctx *c)
{
	unsigned char x_pk[crypto_box_PUBLICKEYBYTES], x_sk[crypto_box_SECRETKEYBYTES], buf[SEAL_BYTES];
	bool ok;

	if (hex_decode(buf, SEAL_BYTES, json_string_value(v)) ||
	    crypto_sign_ed25519_pk_to_curve25519(x_pk, c->sign_pk) ||
	    crypto_sign_ed25519_sk_to_curve25519(x_sk, c->sign_sk))
		return false;
	ok = crypto_box_seal_open(e, buf, SEAL_BYTES, x_pk, x_sk) == 0;
	sodium_memzero(x_sk, sizeof(x_sk));
	return ok;
}

static bool key_matches(const record *r, const unsigned char e[AWS_KEY_BYTES])
{
	char check[AWS_HASH_HEX];

	key_check(check, e);
	return !strcmp(check, r->key_check);
}

/* ---- the chain ---------------------------------------------------------------------------- */

int ctx_device_key(sync_ctx *c)
{
	int rc;

	if (c->have_sign)
		return 0;
	sodium_mlock(c->sign_sk, sizeof(c->sign_sk));
	if ((rc = device_key_load(c->sign_pk, c->sign_sk, c->y->key_path, true))) {
		sodium_munlock(c->sign_sk, sizeof(c->sign_sk));
		return rc;
	}
	c->have_sign = true;
	return 0;
}

bool epoch_device_key(sync_ctx *c, const char *device, unsigned char pk[AWS_SIGN_PK])
{
	device_state *d;

	if (!strcmp(device, c->y->device_id)) {
		if (!c->have_sign)
			return false;
		memcpy(pk, c->sign_pk, AWS_SIGN_PK);
		return true;
	}
	d = state_device(&c->st, device, false);
	return d && !d->forgotten && d->signing_key && strlen(d->signing_key) == 2 * AWS_SIGN_PK &&
	       hex_decode(pk, AWS_SIGN_PK, d->signing_key) == 0;
}

/* Can this device get r's key (into e), and how: held already, sealed to it, or
 * wrapped under the previous epoch's key, which it holds? */
enum { GOT_NONE, GOT_HELD, GOT_MEMBER, GOT_PREV };

static int learn_key(sync_ctx *c, const record *r, unsigned char e[AWS_KEY_BYTES])
{
	const sync_epoch_key *k = ring_find(c->ring, r->id), *pk;
	json_t *members = json_object_get(r->o, "members");
	static const unsigned char zero[AWS_EPOCH_ID];

	if (k && key_matches(r, k->key)) {
		memcpy(e, k->key, AWS_KEY_BYTES);
		return GOT_HELD;
	}
	if (c->have_sign && open_sealed_hex(e, json_object_get(members, c->y->device_id), c) && key_matches(r, e))
		return GOT_MEMBER;
	pk = ring_find(c->ring, memcmp(r->prev, zero, AWS_EPOCH_ID) ? r->prev : NULL);
	if (pk) {
		unsigned char w[AWS_KEY_BYTES];
		bool ok;
		wrap_key_of(w, pk->key);
		ok = unwrap_hex(e, json_object_get(r->o, "from_prev"), w) && key_matches(r, e);
		sodium_memzero(w, sizeof(w));
		if (ok)
			return GOT_PREV;
	}
	sodium_memzero(e, AWS_KEY_BYTES);
	return GOT_NONE;
}

/* Which of two acceptable records for the same epoch wins (every device decides the
 * same way from the same folder): the one that revokes more, then one signed by a
 * pinned key, then the lower creator id. */
static bool record_better(const record *a, bool a_trusted, const record *b, bool b_trusted)
{
	size_t ra = json_array_size(json_object_get(a->o, "revoked")), rb = json_array_size(json_object_get(b->o, "revoked"));

	if (ra != rb)
		return ra > rb;
	if (a_trusted != b_trusted)
		return a_trusted;
	return strcmp(a->device, b->device) < 0;
}

/* Revoked as this device remembers it (device_state.revoked_epoch), whether or not the
 * record that did it is still in the folder. */
static bool revoked_before(sync_ctx *c, const char *device)
{
	device_state *d = state_device(&c->st, device, false);

	return d && d->revoked_epoch;
}

/* Remember the revocations record r lists (kept with the import cursors, so that they
 * hold whatever the folder says later); *self when it revokes this device. */
static void note_revoked(sync_ctx *c, const record *r, bool *self)
{
	size_t i;
	json_t *v;

	json_array_foreach (json_object_get(r->o, "revoked"), i, v) {
		const char *id = json_string_value(v);
		device_state *d;
		if (!id || !valid_device_id(id))
			continue;
		if (!strcmp(id, c->y->device_id)) {
			*self = true;
			continue;
		}
		d = state_device(&c->st, id, true);
		if (!d->revoked_epoch)
			d->revoked_epoch = r->n;
	}
}

typedef struct cand {
	const record *r;
	bool trusted;
	int got;
	unsigned char key[AWS_KEY_BYTES];
} cand;

int epoch_step(sync_ctx *c)
{
	records rs;
	const record *cur = NULL;
	unsigned char cur_id[AWS_EPOCH_ID] = {0};
	int64_t cur_n = 0;
	bool changed = false, cut_off = false, self_revoked = false;
	char hex[ID_HEX];
	int rc = 0;

	if ((rc = ctx_device_key(c)))
		return rc;
	list_records(&rs, c, c->y->folder, &c->group);
	/* start at the newest epoch whose key this device holds (it may have destroyed the
	 * older ones, or joined with a passphrase that a revocation set) */
	for (size_t i = 0; i < rs.n; i++) {
		const sync_epoch_key *k = ring_find(c->ring, rs.v[i].id);
		if (k && key_matches(&rs.v[i], k->key) && (!cur || rs.v[i].n > cur->n))
			cur = &rs.v[i];
	}
	if (cur) {
		cur_n = cur->n;
		memcpy(cur_id, cur->id, AWS_EPOCH_ID);
		note_revoked(c, cur, &self_revoked);
	} else if (!ring_find(c->ring, NULL) && ring_newest(c->ring)) {
		/* the record of the newest key held is gone from the folder (deleted on the
		 * remote, or not there yet after a join): go on from that key */
		cur_n = ring_newest(c->ring)->n;
		memcpy(cur_id, ring_newest(c->ring)->id, AWS_EPOCH_ID);
	}
	for (;;) {
		const record *best = NULL;
		bool best_trusted = false, best_got = false;
		unsigned char best_key[AWS_KEY_BYTES];
		cand *cs = aw_mem_calloc(rs.n + 1, sizeof(*cs));
		size_t nc = 0;
		/* the records that may be epoch cur_n + 1 */
		for (size_t i = 0; i < rs.n; i++) {
			const record *r = &rs.v[i];
			unsigned char pk[AWS_SIGN_PK];
			cand *x = &cs[nc];
			if (r->n != cur_n + 1 || memcmp(r->prev, cur_id, AWS_EPOCH_ID) || revoked_before(c, r->device) ||
			    (self_revoked && !strcmp(r->device, c->y->device_id)))
				continue;
			x->r = r;
			x->trusted = epoch_device_key(c, r->device, pk) && !memcmp(pk, r->pk, AWS_SIGN_PK);
			x->got = learn_key(c, r, x->key);
			/* a record from a device not pinned yet counts only when it opens with the
			 * previous epoch's key: whoever made it was a member */
			if (!x->trusted && x->got != GOT_PREV && x->got != GOT_HELD) {
				sodium_memzero(x->key, sizeof(x->key));
				continue;
			}
			nc++;
		}
		for (size_t i = 0; i < nc; i++) {
			bool out = false;
			/* a record whose creator another one revokes does not count: a device
			 * about to be revoked cannot escape by racing a record of its own */
			for (size_t k = 0; k < nc && !out; k++)
				out = k != i && revoked_has(json_object_get(cs[k].r->o, "revoked"), cs[i].r->device);
			if (!out && (!best || record_better(cs[i].r, cs[i].trusted, best, best_trusted))) {
				best = cs[i].r;
				best_trusted = cs[i].trusted;
				best_got = cs[i].got != GOT_NONE;
				memcpy(best_key, cs[i].key, AWS_KEY_BYTES);
			}
		}
		sodium_memzero(cs, (rs.n + 1) * sizeof(*cs));
		free(cs);
		if (!best)
			break;
		cur = best;
		cur_n = best->n;
		memcpy(cur_id, best->id, AWS_EPOCH_ID);
		/* revocations only add up: a later record cannot take one back */
		note_revoked(c, best, &self_revoked);
		if (best_got && !ring_find(c->ring, best->id)) {
			ring_add(c->ring, best->n, best->id, best_key);
			changed = true;
		}
		cut_off = !best_got;
		sodium_memzero(best_key, sizeof(best_key));
	}
	c->epoch = cur_n;
	if (self_revoked) {
		rc = aw_error_set(AW_EINVALID, "this device was revoked from the sync group (key epoch %lld): it can no longer "
					       "read what the group writes, and nothing it publishes is imported",
				  (long long)cur_n);
		goto out;
	}
	if (changed && (rc = ring_save(c->y->key_path, &c->group, c->ring)))
		goto out;
	c->wkey = ring_find(c->ring, cur_n ? cur_id : NULL);
	if (cut_off || !c->wkey) {
		c->wkey = NULL;
		rc = aw_error_set(AW_EINVALID,
				  "this device holds no key for the group's key epoch %lld (it was not a member when the epoch "
				  "started): join again with the group's current passphrase",
				  (long long)cur_n);
		goto out;
	}
	hex_encode(hex, cur_id, AWS_EPOCH_ID);
	c->reseal = cur_n ? !c->st.push_epoch || strcmp(c->st.push_epoch, hex) : c->st.push_epoch != NULL;
	if (rotate_requested(c)) {
		int64_t n;
		records_free(&rs);
		if ((rc = epoch_start(c, NULL, NULL, 0, &n)))
			return rc;
		rotate_mark(c->y->store, "done");
		return epoch_step(c);
	}
out:
	if (rc && !c->wkey)
		c->wkey = ring_newest(c->ring); /* nothing is written, but keep it non-NULL */
	records_free(&rs);
	return rc;
}

/* ---- rotation requested by an archive run ----------------------------------------------------- */

#define ROTATE_KEY "sync-rotate" /* "pending" until a round has started the epoch, then "done" */

static void rotate_mark(aw_store *s, const char *v)
{
	aw_write w = {.kind = AW_W_STATE_SET, .key = ROTATE_KEY, .value = (char *)v};

	aw_store_write(s, &w);
	aw_write_clear(&w);
}

void epoch_request_rotation(aw_store *s)
{
	rotate_mark(s, "pending");
}

static bool rotate_requested(sync_ctx *c)
{
	char *v = NULL;
	bool pending = c->r && c->y->store && aw_reader_state(&v, c->r, ROTATE_KEY) == 0 && !strcmp(v, "pending");

	free(v);
	return pending;
}

int epoch_settle(sync_ctx *c)
{
	char hex[ID_HEX];
	unsigned char id[AWS_EPOCH_ID];
	int rc;

	if (!c->wkey || c->wkey->n == 0 || !c->st.push_epoch)
		return 0;
	hex_encode(hex, c->wkey->id, AWS_EPOCH_ID);
	if (strcmp(hex, c->st.push_epoch))
		return 0;
	memcpy(id, c->wkey->id, AWS_EPOCH_ID);
	/* this device's chain is sealed under the current epoch (committed, and the state
	 * that says so saved): older keys only read history, which is what must become
	 * unreadable */
	if (!ring_keep_only(c->ring, id))
		return 0;
	c->wkey = ring_find(c->ring, id);
	if ((rc = ring_save(c->y->key_path, &c->group, c->ring)))
		return rc;
	return 0;
}

/* ---- starting an epoch ---------------------------------------------------------------------- */

int epoch_start(sync_ctx *c, const char *revoke, const char *pass, size_t len, int64_t *out_epoch)
{
	unsigned char e[AWS_KEY_BYTES], id[AWS_EPOCH_ID], sig[AWS_SIG_BYTES];
	char hex[2 * AWS_KEY_BYTES + 1], name[64], *text = NULL, *signed_text = NULL, *path = NULL;
	json_t *o = NULL, *members, *rev;
	device_state *target = NULL; /* the device revoked */
	int64_t n = c->epoch + 1;
	int rc = 0;

	if (!c->wkey)
		return aw_error_set(AW_EINVALID, "this device holds no key for the current epoch");
	if (revoke) {
		if (!strcmp(revoke, c->y->device_id))
			return aw_error_set(AW_EINVALID, "a device cannot revoke itself (revoke it from another device)");
		/* a device never imported here is refused: a mistyped id would otherwise start
		 * an epoch that revokes nobody */
		if ((rc = state_find_device(&target, &c->st, revoke)) == AW_ENOTFOUND)
			return aw_error_set(AW_ENOTFOUND, "no device %s in this sync group (as 'awnode sync status' lists them)",
					    revoke);
		if (rc)
			return rc;
		revoke = target->device_id;
		if (target->revoked_epoch)
			return aw_error_set(AW_EEXISTS, "device %s is revoked already", revoke);
		if (!pass || !len)
			return aw_error_set(AW_EINVALID, "a revocation needs the group's new passphrase");
	}
	randombytes_buf(e, sizeof(e));
	randombytes_buf(id, sizeof(id));
	o = json_object();
	json_object_set_new(o, "format", json_string("awsync-epoch"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "group", json_string(c->group.group));
	json_object_set_new(o, "device_id", json_string(c->y->device_id));
	json_object_set_new(o, "epoch", json_integer(n));
	hex_encode(hex, id, AWS_EPOCH_ID);
	json_object_set_new(o, "id", json_string(hex));
	{
		static const unsigned char zero[AWS_EPOCH_ID];
		hex_encode(hex, c->wkey->n ? c->wkey->id : zero, AWS_EPOCH_ID);
	}
	json_object_set_new(o, "prev", json_string(hex));
	key_check(hex, e);
	json_object_set_new(o, "key_check", json_string(hex));
	json_object_set_new(o, "written_at", json_integer(aw_time_now()));
	rev = json_array();
	for (size_t i = 0; i < c->st.n_devices; i++)
		if (c->st.devices[i].revoked_epoch || &c->st.devices[i] == target)
			json_array_append_new(rev, json_string(c->st.devices[i].device_id));
	json_object_set_new(o, "revoked", rev);
	/* members: this device and every device whose key it pinned, but the revoked */
	members = json_object();
	{
		char *s = seal_to_hex(e, c->sign_pk);
		if (s)
			json_object_set_new(members, c->y->device_id, json_string(s));
		free(s);
		for (size_t i = 0; i < c->st.n_devices; i++) {
			device_state *d = &c->st.devices[i];
			unsigned char pk[AWS_SIGN_PK];
			if (d->forgotten || d->revoked_epoch || d == target || !epoch_device_key(c, d->device_id, pk))
				continue;
			if ((s = seal_to_hex(e, pk)))
				json_object_set_new(members, d->device_id, json_string(s));
			free(s);
		}
	}
	json_object_set_new(o, "members", members);
	if (!revoke) {
		unsigned char w[AWS_KEY_BYTES];
		char *s;
		wrap_key_of(w, c->wkey->key);
		s = wrap_hex(e, w);
		sodium_memzero(w, sizeof(w));
		json_object_set_new(o, "from_prev", json_string(s));
		free(s);
	} else {
		sync_group pg = c->group; /* the group's Argon2id limits, a new salt */
		unsigned char pkey[AWS_KEY_BYTES];
		char salt[2 * AWS_SALT_BYTES + 1], *s;
		randombytes_buf(pg.salt, sizeof(pg.salt));
		if ((rc = derive_key(pkey, &pg, pass, len)))
			goto out;
		s = wrap_hex(e, pkey);
		sodium_memzero(pkey, sizeof(pkey));
		hex_encode(salt, pg.salt, AWS_SALT_BYTES);
		json_object_set_new(o, "passphrase",
				    json_pack("{s:s, s:s, s:I, s:I, s:s}", "algorithm", "argon2id13", "salt", salt,
					      "opslimit", (json_int_t)pg.opslimit, "memlimit", (json_int_t)pg.memlimit, "key",
					      s));
		free(s);
	}
	hex_encode(hex, c->sign_pk, AWS_SIGN_PK);
	json_object_set_new(o, "signing_key", json_string(hex));
	record_name(name, sizeof(name), n);
	signed_text = record_signed_text(o);
	sign_bytes(sig, c->sign_sk, c->group.group, c->y->device_id, name, signed_text, strlen(signed_text));
	{
		char sh[AWS_SIG_HEX];
		hex_encode(sh, sig, AWS_SIG_BYTES);
		json_object_set_new(o, "signature", json_string(sh));
	}
	text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(1));
	if (!text)
		abort();
	path = aw_mem_printf("devices/%s/%s", c->y->device_id, name);
	{
		char msg[64];
		repo_file f = {path, text, strlen(text)};
		snprintf(msg, sizeof(msg), "awsync: epoch %lld", (long long)n);
		/* the record first: were the process killed before the key file is saved,
		 * the next round gets the key back from the record's members entry for this
		 * device; the other order could leave a key with no record, which this device
		 * might take for the current epoch */
		if ((rc = repo_commit(c->repo, &f, 1, msg)))
			goto out;
		ring_add(c->ring, n, id, e);
		if ((rc = ring_save(c->y->key_path, &c->group, c->ring)))
			goto out;
	}
	*out_epoch = n;
out:
	sodium_memzero(e, sizeof(e));
	json_decref(o);
	free(signed_text);
	free(text);
	free(path);
	return rc;
}

/* ---- joining with a new passphrase --------------------------------------------------------------- */

static bool passphrase_group(sync_group *pg, const sync_group *g, json_t *p)
{
	json_int_t ops = json_integer_value(json_object_get(p, "opslimit"));
	json_int_t mem = json_integer_value(json_object_get(p, "memlimit"));
	const char *alg = json_string_value(json_object_get(p, "algorithm"));

	*pg = *g;
	/* the same bounds as awsync.json's: a record is as hostile as the folder */
	if (!alg || strcmp(alg, "argon2id13") || !hex_field(pg->salt, AWS_SALT_BYTES, p, "salt") ||
	    ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || (unsigned long long)ops > AWS_KDF_OPS_MAX ||
	    mem < (json_int_t)AWS_KDF_MEM_MIN || (unsigned long long)mem > AWS_KDF_MEM_MAX)
		return false;
	pg->opslimit = (unsigned long long)ops;
	pg->memlimit = (size_t)mem;
	return true;
}

int epoch_join(sync_keyring *ring, const sync_group *g, const char *folder, const char *pass, size_t len)
{
	records rs;
	int rc = AW_EINVALID;
	int64_t tried = -1;

	list_records(&rs, NULL, folder, g);
	/* newest first: the passphrase set last is the one in use */
	for (;;) {
		const record *best = NULL;
		for (size_t i = 0; i < rs.n; i++)
			if (json_object_get(rs.v[i].o, "passphrase") && (tried < 0 || rs.v[i].n < tried) &&
			    (!best || rs.v[i].n > best->n))
				best = &rs.v[i];
		if (!best)
			break;
		tried = best->n;
		{
			json_t *p = json_object_get(best->o, "passphrase");
			sync_group pg;
			unsigned char k[AWS_KEY_BYTES], e[AWS_KEY_BYTES];
			bool ok = passphrase_group(&pg, g, p) && derive_key(k, &pg, pass, len) == 0 &&
				  unwrap_hex(e, json_object_get(p, "key"), k) && key_matches(best, e);
			sodium_memzero(k, sizeof(k));
			if (ok) {
				ring_add(ring, best->n, best->id, e);
				sodium_memzero(e, sizeof(e));
				rc = 0;
				break;
			}
		}
	}
	records_free(&rs);
	return rc;
}

bool epoch_passphrase_replaced(const char *folder, const sync_group *g)
{
	records rs;
	bool found = false;

	list_records(&rs, NULL, folder, g);
	for (size_t i = 0; i < rs.n && !found; i++)
		found = json_object_get(rs.v[i].o, "passphrase") != NULL;
	records_free(&rs);
	return found;
}
