/*
 * Settings: opaque JSON values under string keys, shared with ActivityWatch's web UI
 * (`classes`, `privacy_filters`, ...). Keys must be shorter than 128 bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "aw/json.h"
#include "aw/privacy.h"
#include "body.h"
#include "aw/log.h"

static bool key_ok(request *rq)
{
	if (strlen(rq->segs[3]) >= 128) {
		respond_message(rq, 400, "Too long key");
		return false;
	}
	return true;
}

static void read_all(request *rq, aw_reader *r)
{
	char **keys, **values;
	size_t n;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_settings(&keys, &values, &n, r);

	if (rc) {
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_buf_putc(&b, '{');
	for (size_t i = 0; i < n; i++) {
		aw_buf_json_member(&b, i, keys[i]);
		aw_buf_puts(&b, values[i]);
	}
	aw_buf_putc(&b, '}');
	aw_strings_free(keys, n);
	aw_strings_free(values, n);
	respond_json_buf(rq, 200, &b);
}

void api_settings_all(request *rq)
{
	submit_read(rq, read_all);
}

static void read_one(request *rq, aw_reader *r)
{
	char *value = NULL;
	int rc = aw_reader_setting(&value, r, rq->segs[3]);

	if (rc == AW_ENOTFOUND)
		respond(rq, 200, "application/json", "null", 4);
	else if (rc)
		respond_store_error(rq, rc, aw_error_last());
	else
		respond(rq, 200, "application/json", value, strlen(value));
	free(value);
}

void api_setting_get(request *rq)
{
	if (key_ok(rq))
		submit_read(rq, read_one);
}

/* Privacy rules (the privacy_filters setting, or one rule to redact with) take effect on
 * the next write, so a broken rule is refused here (400) rather than silently ignored,
 * which would store what the user meant to hide. Frees text when refusing. */
static bool privacy_rules_ok(request *rq, char *text, bool single)
{
	aw_privacy *p;

	if (aw_privacy_parse(&p, text, strlen(text), single)) {
		respond_message(rq, 400, "%s", aw_error_last());
		free(text);
		return false;
	}
	aw_privacy_free(p);
	return true;
}

static void after_set(request *rq)
{
	if (rq->w.status) {
		respond_store_error(rq, rq->w.status, rq->w.error);
		return;
	}
	/* the key only: values are the user's business */
	aw_log_info("%s setting '%s'", rq->w.kind == AW_W_SETTING_SET ? "changed" : "deleted", rq->w.key);
	respond_empty(rq, rq->w.kind == AW_W_SETTING_SET ? 201 : 200);
}

void api_setting_set(request *rq)
{
	json_t *v;
	char *text;

	if (!key_ok(rq) || !(v = body_json(rq)))
		return;
	text = aw_json_canonical_dup(v, NULL);
	json_decref(v);
	if (!strcmp(rq->segs[3], "privacy_filters")) {
		if (!privacy_rules_ok(rq, text, false))
			return;
	}
	rq->state = text;
	rq->state_free = free;
	rq->w.kind = AW_W_SETTING_SET;
	rq->w.key = rq->segs[3];
	rq->w.value = text;
	rq->w.origin_device = rq->n->cfg->device_id;
	rq->w.origin_hostname = rq->n->cfg->hostname;
	submit_write(rq, after_set);
}

void api_setting_delete(request *rq)
{
	if (!key_ok(rq))
		return;
	rq->w.kind = AW_W_SETTING_DELETE;
	rq->w.key = rq->segs[3];
	rq->w.origin_device = rq->n->cfg->device_id;
	rq->w.origin_hostname = rq->n->cfg->hostname;
	submit_write(rq, after_set);
}

/* GET /api/0/settings-history: where and when each value was last changed, and the
 * values it replaced (docs/api.md, "Settings across devices"). */
static void change_json(aw_buf *b, const aw_setting_meta *m, bool with_value)
{
	aw_buf_puts(b, "{\"changed_at\":");
	/* 1 is what a value from before origins were recorded gets when sync claims it */
	aw_buf_json_time(b, m->hlc > 1, m->hlc);
	aw_buf_puts(b, ",\"device_id\":");
	if (*m->device)
		aw_buf_json_string(b, m->device, strlen(m->device));
	else
		aw_buf_puts(b, "null");
	aw_buf_puts(b, ",\"hostname\":");
	if (*m->hostname)
		aw_buf_json_string(b, m->hostname, strlen(m->hostname));
	else
		aw_buf_puts(b, "null");
	if (with_value) {
		aw_buf_puts(b, ",\"replaced_at\":");
		aw_buf_json_time(b, m->replaced_at != 0, m->replaced_at);
		aw_buf_puts(b, ",\"value\":");
		aw_buf_puts(b, m->value ? m->value : "null");
	}
	aw_buf_puts(b, m->value ? ",\"deleted\":false" : ",\"deleted\":true");
}

static void read_history(request *rq, aw_reader *r)
{
	aw_setting_meta *cur = NULL, *old = NULL;
	size_t ncur = 0, nold = 0, j = 0;
	aw_buf b = AW_BUF_INIT;
	int rc = aw_reader_settings_meta(&cur, &ncur, r);

	if (!rc)
		rc = aw_reader_settings_history(&old, &nold, r);
	if (rc) {
		aw_setting_metas_free(cur, ncur);
		respond_store_error(rq, rc, aw_error_last());
		return;
	}
	aw_buf_puts(&b, "{\"device_id\":");
	aw_buf_json_string(&b, rq->n->cfg->device_id, strlen(rq->n->cfg->device_id));
	aw_buf_puts(&b, ",\"settings\":{");
	/* both lists are ordered by key: walk the history alongside */
	for (size_t i = 0; i < ncur; i++) {
		size_t k = 0;
		aw_buf_json_member(&b, i, cur[i].key);
		change_json(&b, &cur[i], false);
		aw_buf_puts(&b, cur[i].local ? ",\"local\":true,\"history\":[" : ",\"local\":false,\"history\":[");
		while (j < nold && strcmp(old[j].key, cur[i].key) < 0)
			j++;
		for (; j < nold && !strcmp(old[j].key, cur[i].key); j++) {
			if (k++)
				aw_buf_putc(&b, ',');
			change_json(&b, &old[j], true);
			aw_buf_putc(&b, '}');
		}
		aw_buf_puts(&b, "]}");
	}
	aw_buf_puts(&b, "}}");
	aw_setting_metas_free(cur, ncur);
	aw_setting_metas_free(old, nold);
	respond_json_buf(rq, 200, &b);
}

void api_settings_history(request *rq)
{
	submit_read(rq, read_history);
}

typedef struct redact_state {
	char *rule;
} redact_state;

static void after_redact(request *rq)
{
	aw_buf b = AW_BUF_INIT;

	if (rq->w.status) {
		respond_store_error(rq, rq->w.status, rq->w.error);
		return;
	}
	aw_log_info("privacy redaction%s: %lld events dropped, %lld redacted", rq->w.dry_run ? " (dry run)" : "",
		    (long long)rq->w.out_dropped, (long long)rq->w.out_redacted);
	if (rq->w.wal_status)
		/* changed, but a long read kept the writer from truncating the WAL
		 * (docs/storage.md): the next removal or the node's stop clears it */
		aw_log_warn("privacy redaction: the old text stays in the write-ahead log until the next checkpoint");
	aw_buf_printf(&b, "{\"dropped\":%lld,\"redacted\":%lld,\"dry_run\":%s}", (long long)rq->w.out_dropped,
		      (long long)rq->w.out_redacted, rq->w.dry_run ? "true" : "false");
	respond_json_buf(rq, 200, &b);
}

/* POST /api/0/privacy/redact: apply one privacy rule to stored events (awnode's own
 * route, used by `awnode redact` and the web UI). Body: a rule plus "dry_run". */
void api_privacy_redact(request *rq)
{
	json_t *v = body_json(rq), *dry;
	char *text;

	if (!v)
		return;
	if (!json_is_object(v)) {
		json_decref(v);
		respond_catcher(rq, 422, "expected a privacy rule object");
		return;
	}
	dry = json_object_get(v, "dry_run");
	rq->w.dry_run = json_is_true(dry);
	json_object_del(v, "dry_run");
	if (!json_object_get(v, "enabled"))
		json_object_set_new(v, "enabled", json_true());
	text = aw_json_canonical_dup(v, NULL);
	json_decref(v);
	if (!privacy_rules_ok(rq, text, true))
		return;
	rq->state = text;
	rq->state_free = free;
	rq->w.kind = AW_W_REDACT;
	rq->w.value = text;
	submit_write(rq, after_redact);
}
