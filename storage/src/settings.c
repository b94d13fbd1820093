/*
 * Settings and where each value came from (docs/storage.md, "Settings").
 *
 * The `settings` table is what the REST API serves, as aw-server-rust has it. Beside it,
 * `settings_meta` records for every key the change that produced its current value (or
 * its deletion, kept as a tombstone): a hybrid logical clock reading, the device and its
 * hostname. That is what lets settings travel between devices: sync publishes the values
 * this device produced and offers other devices' values back here, and a value replaces
 * the current one only if its (clock, device id) pair is larger. Every device sees every
 * change and applies the same comparison, so all of them end on the same value whatever
 * order changes arrive in. A replaced value goes to `settings_history`, from which the
 * user can set it again.
 *
 * The clock is one 64-bit number in nanoseconds: a local change gets max(now, largest
 * reading seen + 1), and readings from other devices advance "largest seen", so a
 * change made after seeing another always orders after it even when the clocks
 * disagree. A reading more than a day ahead of this device's clock is refused: one
 * device with a wild clock (or a member writing INT64_MAX) could otherwise win every
 * future comparison.
 *
 * Device-local keys (the `awnode.device_local` list, by default just the theme, and the
 * list itself) never leave the device and are never replaced from elsewhere.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aw/mem.h"
#include "aw/privacy.h"
#include "internal.h"

#define HISTORY_PER_KEY 20
#define FUTURE_LIMIT ((aw_ns)86400 * AW_NS_PER_SEC)

static int settings_fail(aw_store *s, aw_write *w, int code, const char *msg)
{
	if (code == AW_ERROR)
		db_error(s->db, msg);
	else
		aw_error_set(code, "%s", msg);
	w->status = code;
	snprintf(w->error, sizeof(w->error), "%s", aw_error_last());
	return code;
}

/* ---- device-local keys ------------------------------------------------------------ */

static bool list_has(const char *json, const char *key)
{
	json_t *a = json ? json_loads(json, 0, NULL) : NULL;
	bool found = false;
	size_t i;
	json_t *v;

	if (!json_is_array(a)) {
		json_decref(a);
		return !strcmp(key, "theme");
	}
	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), key))
			found = true;
	json_decref(a);
	return found;
}

bool aw_setting_is_local(const char *key, const char *local_list_json)
{
	return !strcmp(key, AW_SETTINGS_LOCAL_KEY) || list_has(local_list_json, key);
}

/* ---- the writer's side ------------------------------------------------------------ */

typedef struct current {
	bool has_value, has_meta, deleted;
	char *value;
	aw_ns hlc;
	char *device, *hostname;
} current;

static void current_free(current *c)
{
	free(c->value);
	free(c->device);
	free(c->hostname);
}

static int one_row(aw_store *s, const char *sql, const char *key, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL);

	if (rc != SQLITE_OK)
		return AW_ERROR;
	sqlite3_bind_text(*out, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(*out);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(*out);
		*out = NULL;
		return AW_ERROR;
	}
	return rc == SQLITE_ROW;
}

static int current_load(aw_store *s, const char *key, current *c)
{
	sqlite3_stmt *st;
	int rc;

	memset(c, 0, sizeof(*c));
	rc = one_row(s, "SELECT value FROM settings WHERE key = ?", key, &st);
	if (rc < 0)
		return rc;
	if (rc) {
		c->has_value = true;
		c->value = col_dup(st, 0);
	}
	sqlite3_finalize(st);
	rc = one_row(s, "SELECT hlc, device, hostname, deleted FROM settings_meta WHERE key = ?", key, &st);
	if (rc < 0)
		return rc;
	if (rc) {
		c->has_meta = true;
		c->hlc = sqlite3_column_int64(st, 0);
		c->device = col_dup(st, 1);
		c->hostname = col_dup(st, 2);
		c->deleted = sqlite3_column_int(st, 3) != 0;
	}
	sqlite3_finalize(st);
	return 0;
}

static int exec_bound(aw_store *s, const char *sql, const char *const *texts, int ntexts, const int64_t *ints,
		      int nints)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return AW_ERROR;
	for (int i = 0; i < ntexts; i++)
		if (texts[i])
			sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	for (int i = 0; i < nints; i++)
		sqlite3_bind_int64(st, ntexts + i + 1, ints[i]);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : AW_ERROR;
}

static int largest_reading(aw_store *s, aw_ns *out)
{
	sqlite3_stmt *st;
	int rc;

	if (s->settings_hlc_loaded) {
		*out = s->settings_hlc;
		return 0;
	}
	if (sqlite3_prepare_v2(s->db, "SELECT coalesce(max(hlc), 0) FROM settings_meta", -1, &st, NULL) != SQLITE_OK)
		return AW_ERROR;
	rc = sqlite3_step(st);
	s->settings_hlc = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return AW_ERROR;
	s->settings_hlc_loaded = true;
	*out = s->settings_hlc;
	return 0;
}

/* Does (hlc, device) order after the current value's change? A value nobody stamped
 * yet counts as (0, ""), older than anything stamped. */
static bool newer_than(const current *c, aw_ns hlc, const char *device)
{
	aw_ns ch = c->has_meta ? c->hlc : 0;
	const char *cd = c->has_meta && c->device ? c->device : "";

	if (!c->has_value && !c->has_meta)
		return true;
	return hlc > ch || (hlc == ch && strcmp(device, cd) > 0);
}

static int local_list(aw_store *s, char **out)
{
	sqlite3_stmt *st;
	int rc = one_row(s, "SELECT value FROM settings WHERE key = ?", AW_SETTINGS_LOCAL_KEY, &st);

	*out = NULL;
	if (rc < 0)
		return rc;
	if (rc)
		*out = col_dup(st, 0);
	sqlite3_finalize(st);
	return 0;
}

/* One history entry, then the key's history cut to its newest HISTORY_PER_KEY. */
static int history_add(aw_store *s, const char *key, const char *value, const char *device, const char *hostname,
		       aw_ns hlc, aw_ns now)
{
	const char *texts[4] = {key, value, device ? device : "", hostname ? hostname : ""};
	int64_t ints[3] = {hlc, now, HISTORY_PER_KEY};

	if (exec_bound(s,
		       "INSERT INTO settings_history(key, value, device, hostname, hlc, replaced_at) "
		       "VALUES (?, ?, ?, ?, ?, ?)",
		       texts, 4, ints, 2))
		return AW_ERROR;
	return exec_bound(s,
			  "DELETE FROM settings_history WHERE key = ?1 AND id NOT IN "
			  "(SELECT id FROM settings_history WHERE key = ?1 ORDER BY id DESC LIMIT ?2)",
			  texts, 1, ints + 2, 1);
}

/* The value being replaced goes to the history. */
static int history_keep(aw_store *s, const char *key, const current *c, aw_ns now)
{
	if (!c->has_value && !(c->has_meta && c->deleted))
		return 0;
	return history_add(s, key, c->has_value ? c->value : NULL, c->device, c->hostname, c->has_meta ? c->hlc : 0,
			   now);
}

/* A change from elsewhere that is older than the current value: into the history once
 * (the same change arrives again with every later manifest of its device). The
 * equal (hlc, device) of the current value itself is not a loser: it is the value. */
static int history_keep_lost(aw_store *s, aw_write *w, bool set, aw_ns now)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM settings_meta WHERE key = ?1 AND hlc = ?2 AND device = ?3 "
				      "UNION ALL SELECT 1 FROM settings_history WHERE key = ?1 AND hlc = ?2 AND device = ?3",
			       -1, &st, NULL) != SQLITE_OK)
		return AW_ERROR;
	sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, w->origin_hlc);
	sqlite3_bind_text(st, 3, w->origin_device, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return AW_ERROR;
	return history_add(s, w->key, set ? w->value : NULL, w->origin_device, w->origin_hostname, w->origin_hlc, now);
}

static int store_value(aw_store *s, aw_write *w, bool set, aw_ns hlc)
{
	const char *texts[4] = {w->key, w->origin_device ? w->origin_device : "",
				w->origin_hostname ? w->origin_hostname : "", NULL};
	int64_t ints[2] = {hlc, !set};
	const char *kv[2] = {w->key, w->value};

	if (set ? exec_bound(s, "INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", kv, 2, NULL, 0)
		: exec_bound(s, "DELETE FROM settings WHERE key = ?", kv, 1, NULL, 0))
		return AW_ERROR;
	return exec_bound(s,
			  "INSERT OR REPLACE INTO settings_meta(key, device, hostname, hlc, deleted) "
			  "VALUES (?, ?, ?, ?, ?)",
			  texts, 3, ints, 2);
}

/* A remote change is refused (the write fails, nothing changes) when it could not be
 * served or trusted here: rules that do not parse would switch privacy filtering off. */
static int check_remote(aw_store *s, aw_write *w, bool set, aw_ns now)
{
	aw_privacy *p = NULL;

	if (w->origin_hlc > now + FUTURE_LIMIT)
		return settings_fail(s, w, AW_EINVALID, "changed more than a day in the future of this device's clock");
	if (!w->origin_device || !*w->origin_device)
		return settings_fail(s, w, AW_EINVALID, "a change from another device must name it");
	if (set && !strcmp(w->key, "privacy_filters")) {
		if (aw_privacy_parse(&p, w->value, strlen(w->value), false))
			return settings_fail(s, w, AW_EINVALID, "privacy rules that do not parse");
		aw_privacy_free(p);
	}
	return 0;
}

int settings_write(aw_store *s, aw_write *w, bool set)
{
	aw_ns now = aw_time_now(), largest, hlc;
	bool remote = w->origin_hlc > 0;
	current c;
	char *locals = NULL;
	int rc;

	w->out_applied = false;
	if (remote && (rc = check_remote(s, w, set, now)))
		return rc;
	if (largest_reading(s, &largest) || current_load(s, w->key, &c))
		return settings_fail(s, w, AW_ERROR, "reading setting");
	if (remote) {
		if (local_list(s, &locals)) {
			current_free(&c);
			return settings_fail(s, w, AW_ERROR, "reading setting");
		}
		/* seen, so the next local change orders after it, applied or not */
		if (w->origin_hlc > s->settings_hlc)
			s->settings_hlc = w->origin_hlc;
		if (aw_setting_is_local(w->key, locals)) {
			free(locals);
			current_free(&c);
			return 0;
		}
		if (!newer_than(&c, w->origin_hlc, w->origin_device)) {
			/* it lost here without ever being the value: keep it in the history all the
			 * same, so every device can restore the losing side of concurrent edits */
			rc = history_keep_lost(s, w, set, now);
			free(locals);
			current_free(&c);
			return rc ? settings_fail(s, w, AW_ERROR, "saving setting history") : 0;
		}
		free(locals);
		hlc = w->origin_hlc;
	} else {
		hlc = now > largest ? now : largest + 1;
		s->settings_hlc = hlc;
	}
	rc = history_keep(s, w->key, &c, now) || store_value(s, w, set, hlc);
	current_free(&c);
	if (rc)
		return settings_fail(s, w, AW_ERROR, "saving setting");
	w->out_applied = true;
	if (!strcmp(w->key, "privacy_filters") && writer_privacy_reload(s))
		return settings_fail(s, w, AW_ERROR, "loading privacy filters");
	return 0;
}

int settings_claim(aw_store *s, aw_write *w)
{
	const char *texts[2] = {w->origin_device ? w->origin_device : "",
				w->origin_hostname ? w->origin_hostname : ""};

	if (!*texts[0])
		return settings_fail(s, w, AW_EINVALID, "claiming settings needs this device's id");
	if (exec_bound(s, "UPDATE settings_meta SET device = ?1, hostname = ?2 WHERE device = ''", texts, 2, NULL,
		       0) ||
	    exec_bound(s,
		       "INSERT INTO settings_meta(key, device, hostname, hlc, deleted) "
		       "SELECT key, ?1, ?2, 1, 0 FROM settings WHERE key NOT IN (SELECT key FROM settings_meta)",
		       texts, 2, NULL, 0))
		return settings_fail(s, w, AW_ERROR, "claiming settings");
	return 0;
}

/* ---- the readers' side ------------------------------------------------------------ */

static const char *const META_SQL =
	"SELECT k.key, s.value, coalesce(m.hlc, 0), coalesce(m.device, ''), coalesce(m.hostname, ''), 0 "
	"FROM (SELECT key FROM settings UNION SELECT key FROM settings_meta) k "
	"LEFT JOIN settings s ON s.key = k.key LEFT JOIN settings_meta m ON m.key = k.key ORDER BY k.key";

static const char *const HISTORY_SQL =
	"SELECT key, value, hlc, device, hostname, replaced_at FROM settings_history ORDER BY key, id DESC";

static int read_rows(aw_setting_meta **out, size_t *n, aw_reader *r, const char *sql)
{
	sqlite3 *db = reader_db(r);
	sqlite3_stmt *st;
	aw_setting_meta *v = NULL;
	size_t cnt = 0, cap = 0;
	char *locals = NULL;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key = ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, "reading settings");
	sqlite3_bind_text(st, 1, AW_SETTINGS_LOCAL_KEY, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		locals = col_dup(st, 0);
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(locals);
		return db_error(db, "reading settings");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		aw_setting_meta *m;
		v = aw_mem_grow(v, cnt, &cap, sizeof(*v), 16);
		m = &v[cnt++];
		m->key = col_dup(st, 0);
		m->value = col_dup(st, 1);
		m->hlc = sqlite3_column_int64(st, 2);
		m->device = col_dup(st, 3);
		m->hostname = col_dup(st, 4);
		m->replaced_at = sqlite3_column_int64(st, 5);
		m->local = aw_setting_is_local(m->key, locals);
	}
	sqlite3_finalize(st);
	free(locals);
	if (rc != SQLITE_DONE) {
		aw_setting_metas_free(v, cnt);
		return db_error(db, "reading settings");
	}
	*out = v;
	*n = cnt;
	return 0;
}

int aw_reader_settings_meta(aw_setting_meta **out, size_t *n, aw_reader *r)
{
	return read_rows(out, n, r, META_SQL);
}

int aw_reader_settings_history(aw_setting_meta **out, size_t *n, aw_reader *r)
{
	return read_rows(out, n, r, HISTORY_SQL);
}

void aw_setting_metas_free(aw_setting_meta *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].key);
		free(m[i].value);
		free(m[i].device);
		free(m[i].hostname);
	}
	free(m);
}
