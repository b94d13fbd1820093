/*
 * Privacy filters: rules that drop or redact events before they are stored, read from
 * the setting `privacy_filters` (aw-server-rust's rule shape):
 *
 *   [{"enabled": true, "bucket_prefix": "aw-watcher-window", "field": "title",
 *     "pattern": "(?i)incognito", "action": "drop"},
 *    {"enabled": true, "field": "url", "pattern": "bank", "action": "redact",
 *     "replacement": "REDACTED"}]
 *
 * A rule matches an event when it is enabled, the bucket id starts with bucket_prefix
 * (if given) and the string at the dotted `field` path of the event's data matches the
 * regex (unanchored; PCRE2 with match limits); a rule without field matches every event
 * of its buckets. Rules apply in order: a redaction replaces the field's value and the
 * next rules see the redacted data; a drop ends it.
 */
#ifndef AW_PRIVACY_H
#define AW_PRIVACY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct aw_privacy aw_privacy;

/* Parse a JSON array of rules (or one rule object when `single`). Returns 0, or
 * AW_EINVALID with aw_error_last() naming the rule and the problem (including a regex
 * that does not compile). Caller frees with aw_privacy_free. */
int aw_privacy_parse(aw_privacy **out, const char *json, size_t len, bool single);
void aw_privacy_free(aw_privacy *p);

/* Number of enabled rules. */
size_t aw_privacy_count(const aw_privacy *p);

enum { AW_PRIVACY_KEEP = 0, AW_PRIVACY_DROP = 1, AW_PRIVACY_REDACT = 2 };

/* Apply the rules to an event's canonical data. KEEP: unchanged; DROP: do not store;
 * REDACT: *new_data (caller frees with free()) holds the canonical redacted data. */
int aw_privacy_apply(const aw_privacy *p, const char *bucket_id, const char *data, size_t len,
		     char **new_data, size_t *new_len);

#endif
