/*
 * Privacy filter engine (see aw/privacy.h). Rules are compiled once (PCRE2, JIT when
 * available) and evaluated by the writer thread only, so no locking. Matching is
 * bounded by PCRE2 match and depth limits: a runaway pattern counts as "no match"
 * rather than stalling every write.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/json.h"
#include "aw/mem.h"
#include "aw/privacy.h"

typedef struct rule {
	bool enabled;
	char *bucket_prefix;
	char *field;
	pcre2_code *re;
	bool drop;
	char *replacement;
} rule;

struct aw_privacy {
	rule *rules;
	size_t n;
	pcre2_match_context *mctx;
};

void aw_privacy_free(aw_privacy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->rules[i].bucket_prefix);
		free(p->rules[i].field);
		free(p->rules[i].replacement);
		pcre2_code_free(p->rules[i].re);
	}
	free(p->rules);
	pcre2_match_context_free(p->mctx);
	free(p);
}

size_t aw_privacy_count(const aw_privacy *p)
{
	size_t n = 0;

	for (size_t i = 0; p && i < p->n; i++)
		n += p->rules[i].enabled;
	return n;
}

static int opt_string(const json_t *o, const char *key, char **out, size_t i)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return aw_error_set(AW_EINVALID, "privacy rule %zu: '%s' must be a string or null", i, key);
	*out = strdup(json_string_value(v));
	return 0;
}

static int parse_rule(rule *r, const json_t *o, size_t i)
{
	const json_t *enabled = json_object_get(o, "enabled"), *pattern = json_object_get(o, "pattern"),
		     *action = json_object_get(o, "action");
	PCRE2_SIZE off;
	int err;

	if (!json_is_object(o))
		return aw_error_set(AW_EINVALID, "privacy rule %zu must be an object", i);
	if (!json_is_boolean(enabled))
		return aw_error_set(AW_EINVALID, "privacy rule %zu: 'enabled' must be true or false", i);
	if (!json_is_string(pattern))
		return aw_error_set(AW_EINVALID, "privacy rule %zu: 'pattern' must be a string", i);
	if (!json_is_string(action) ||
	    (strcmp(json_string_value(action), "drop") && strcmp(json_string_value(action), "redact")))
		return aw_error_set(AW_EINVALID, "privacy rule %zu: 'action' must be \"drop\" or \"redact\"", i);
	r->enabled = json_is_true(enabled);
	r->drop = !strcmp(json_string_value(action), "drop");
	if (opt_string(o, "bucket_prefix", &r->bucket_prefix, i) || opt_string(o, "field", &r->field, i) ||
	    opt_string(o, "replacement", &r->replacement, i))
		return AW_EINVALID;
	/* A redaction without a replacement used to leave the field as it was: the text the
	 * user meant to hide was stored. It gets the same default as `awnode redact`. */
	if (!r->drop && !r->replacement)
		r->replacement = aw_mem_strdup("REDACTED");
	r->re = pcre2_compile((PCRE2_SPTR)json_string_value(pattern), json_string_length(pattern),
			      PCRE2_UTF, &err, &off, NULL);
	if (!r->re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(err, msg, sizeof(msg));
		return aw_error_set(AW_EINVALID, "privacy rule %zu: pattern does not compile at offset %zu: %s",
				    i, (size_t)off, (const char *)msg);
	}
	pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

int aw_privacy_parse(aw_privacy **out, const char *json, size_t len, bool single)
{
	json_t *v = aw_json_parse(json, len);
	aw_privacy *p;
	size_t n;
	int rc = 0;

	if (!v)
		return AW_EINVALID;
	if (!single && !json_is_array(v)) {
		json_decref(v);
		return aw_error_set(AW_EINVALID, "privacy_filters must be a list of rules");
	}
	n = single ? 1 : json_array_size(v);
	p = aw_mem_calloc(1, sizeof(*p));
	p->rules = aw_mem_calloc(n ? n : 1, sizeof(rule));
	p->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(p->mctx, 1000000);
	pcre2_set_depth_limit(p->mctx, 10000);
	for (size_t i = 0; i < n && !rc; i++) {
		rc = parse_rule(&p->rules[i], single ? v : json_array_get(v, i), i);
		p->n = i + 1;
	}
	json_decref(v);
	if (rc) {
		aw_privacy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* The value at a dotted path, or NULL. */
static json_t *resolve(json_t *data, const char *path)
{
	char *copy = strdup(path), *save = NULL;
	json_t *cur = data;

	for (char *part = strtok_r(copy, ".", &save); part && cur; part = strtok_r(NULL, ".", &save))
		cur = json_is_object(cur) ? json_object_get(cur, part) : NULL;
	free(copy);
	return cur;
}

/* Set a string at a dotted path, creating objects on the way; false if a non-object
 * is in the way (left unchanged). */
static bool set_path(json_t *data, const char *path, const char *value)
{
	char *copy = strdup(path), *save = NULL, *part = strtok_r(copy, ".", &save), *next;
	json_t *cur = data;
	bool ok = false;

	while (part) {
		next = strtok_r(NULL, ".", &save);
		if (!json_is_object(cur))
			break;
		if (!next) {
			json_object_set_new(cur, part, json_string(value));
			ok = true;
			break;
		}
		if (!json_object_get(cur, part))
			json_object_set_new(cur, part, json_object());
		cur = json_object_get(cur, part);
		part = next;
	}
	free(copy);
	return ok;
}

static bool rule_matches(const aw_privacy *p, const rule *r, const char *bucket_id, json_t *data)
{
	pcre2_match_data *md;
	json_t *v;
	int rc;

	if (!r->enabled)
		return false;
	if (r->bucket_prefix && strncmp(bucket_id, r->bucket_prefix, strlen(r->bucket_prefix)))
		return false;
	if (!r->field)
		return true;
	v = resolve(data, r->field);
	if (!json_is_string(v))
		return false;
	md = pcre2_match_data_create_from_pattern(r->re, NULL);
	rc = pcre2_match(r->re, (PCRE2_SPTR)json_string_value(v), json_string_length(v), 0, 0, md, p->mctx);
	pcre2_match_data_free(md);
	return rc >= 0;
}

int aw_privacy_apply(const aw_privacy *p, const char *bucket_id, const char *data, size_t len,
		     char **new_data, size_t *new_len)
{
	json_t *v;
	bool changed = false;

	if (!aw_privacy_count(p))
		return AW_PRIVACY_KEEP;
	v = aw_json_parse(data, len);
	if (!v)
		return AW_PRIVACY_KEEP;
	for (size_t i = 0; i < p->n; i++) {
		const rule *r = &p->rules[i];
		if (!rule_matches(p, r, bucket_id, v))
			continue;
		if (r->drop) {
			json_decref(v);
			return AW_PRIVACY_DROP;
		}
		if (r->replacement && r->field)
			changed |= set_path(v, r->field, r->replacement);
	}
	if (changed)
		*new_data = aw_json_canonical_dup(v, new_len);
	json_decref(v);
	return changed ? AW_PRIVACY_REDACT : AW_PRIVACY_KEEP;
}
