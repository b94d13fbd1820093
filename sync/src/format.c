/*
 * The plaintext side of segments and manifests (docs/sync-format.md §4, §5).
 *
 * A segment is line-oriented UTF-8 text, so that a year of events parses without
 * building a JSON tree and event data can be handed to storage in place:
 *
 *   AWSYNC-SEGMENT 1
 *   H {"device_id":..,"generation":N,"hostname":..,"prev":"<hex>"|null,"written_at":ns}
 *   B {"bucket":"<origin id>","meta":{..}|null,"reset":true|false}
 *   P <source event id> <start ns> <duration ns> <data: canonical JSON object>
 *   D <source event id>
 *   E <number of P and D lines>
 *
 * Canonical JSON never contains a raw newline, so every record is exactly one line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/json.h"
#include "aw/mem.h"
#include "internal.h"

#define SEG_MAGIC "AWSYNC-SEGMENT 1"

/* A new empty block for bucket at the end of s. */
static sync_block *append_block(sync_segment *s, const char *bucket)
{
	sync_block *b;

	s->blocks = aw_mem_grow(s->blocks, s->n_blocks, &s->cap_blocks, sizeof(*s->blocks), 8);
	b = &s->blocks[s->n_blocks++];
	memset(b, 0, sizeof(*b));
	b->bucket = str_dup(bucket);
	return b;
}

sync_block *segment_block(sync_segment *s, const char *bucket)
{
	if (s->n_blocks && !strcmp(s->blocks[s->n_blocks - 1].bucket, bucket))
		return &s->blocks[s->n_blocks - 1];
	return append_block(s, bucket);
}

static void put_slot(sync_block *b)
{
	b->puts = aw_mem_grow(b->puts, b->n_puts, &b->cap_puts, sizeof(*b->puts), 16);
}

void block_put(sync_block *b, const aw_event *e)
{
	aw_event *d;

	put_slot(b);
	d = &b->puts[b->n_puts++];
	*d = *e;
	d->has_id = true;
	d->data = aw_mem_malloc(e->data_len + 1);
	memcpy(d->data, e->data, e->data_len);
	d->data[e->data_len] = '\0';
}

void block_del(sync_block *b, int64_t id)
{
	b->dels = aw_mem_grow(b->dels, b->n_dels, &b->cap_dels, sizeof(*b->dels), 16);
	b->dels[b->n_dels++] = id;
}

int64_t segment_records(const sync_segment *s)
{
	int64_t n = 0;

	for (size_t i = 0; i < s->n_blocks; i++)
		n += (int64_t)(s->blocks[i].n_puts + s->blocks[i].n_dels);
	return n;
}

void segment_free(sync_segment *s)
{
	for (size_t i = 0; i < s->n_blocks; i++) {
		sync_block *b = &s->blocks[i];
		if (s->owns_data)
			for (size_t j = 0; j < b->n_puts; j++)
				free(b->puts[j].data);
		free(b->puts);
		free(b->dels);
		free(b->bucket);
		aw_bucket_clear(&b->meta);
	}
	free(s->blocks);
	free(s->device_id);
	free(s->hostname);
	memset(s, 0, sizeof(*s));
}

/* ---- bucket metadata ------------------------------------------------------------- */

/* `key` (the text up to the value: a ',' or '{', the key and ':') and the string s as
 * its value; NULL is written as "" (metadata strings are never null). */
static void put_member(aw_buf *o, const char *key, const char *s)
{
	if (!s)
		s = "";
	aw_buf_puts(o, key);
	aw_buf_json_string(o, s, strlen(s));
}

char *meta_json(const aw_bucket *b)
{
	aw_buf o = AW_BUF_INIT;

	/* keys in canonical (byte) order */
	put_member(&o, "{\"client\":", b->client);
	aw_buf_puts(&o, ",\"created\":");
	aw_buf_put_i64(&o, b->created);
	aw_buf_puts(&o, ",\"data\":");
	aw_buf_puts(&o, b->data && *b->data ? b->data : "{}");
	put_member(&o, ",\"hostname\":", b->hostname);
	put_member(&o, ",\"id\":", b->id);
	aw_buf_puts(&o, ",\"last_updated\":");
	aw_buf_puts(&o, b->last_updated && *b->last_updated ? b->last_updated : "null");
	put_member(&o, ",\"type\":", b->type);
	aw_buf_putc(&o, '}');
	return aw_buf_steal(&o, NULL);
}

void meta_copy(aw_bucket *d, const aw_bucket *s)
{
	memset(d, 0, sizeof(*d));
	d->id = str_dup(s->id);
	d->type = str_dup(s->type);
	d->client = str_dup(s->client);
	d->hostname = str_dup(s->hostname);
	d->created = s->created;
	d->data = str_dup(s->data && *s->data ? s->data : "{}");
	d->last_updated = s->last_updated ? str_dup(s->last_updated) : NULL;
}

int meta_parse(aw_bucket *b, json_t *o)
{
	const char *id = json_string_value(json_object_get(o, "id"));
	json_t *data = json_object_get(o, "data"), *lu = json_object_get(o, "last_updated");

	memset(b, 0, sizeof(*b));
	if (!json_is_object(o) || !id || !json_is_integer(json_object_get(o, "created")) ||
	    (data && !json_is_object(data)))
		return aw_error_set(AW_EINVALID, "malformed bucket metadata");
	b->id = str_dup(id);
	b->type = str_dup(json_string_value(json_object_get(o, "type")));
	b->client = str_dup(json_string_value(json_object_get(o, "client")));
	b->hostname = str_dup(json_string_value(json_object_get(o, "hostname")));
	b->created = json_integer_value(json_object_get(o, "created"));
	b->data = data ? aw_json_canonical_dup(data, NULL) : str_dup("{}");
	if (lu && !json_is_null(lu)) {
		b->last_updated = json_dumps(lu, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!b->last_updated)
			abort();
	}
	return 0;
}

/* ---- segments ---------------------------------------------------------------------- */

/* The "B" line that opens a block. */
static void encode_block_line(aw_buf *out, const sync_block *b)
{
	aw_buf_puts(out, "B {\"bucket\":");
	aw_buf_json_string(out, b->bucket, strlen(b->bucket));
	aw_buf_puts(out, ",\"meta\":");
	if (b->has_meta) {
		char *m = meta_json(&b->meta);
		aw_buf_puts(out, m);
		free(m);
	} else {
		aw_buf_puts(out, "null");
	}
	aw_buf_puts(out, b->reset ? ",\"reset\":true}\n" : ",\"reset\":false}\n");
}

/* An integer field of a record line and the separator after it (' ', or '\n' at the
 * end of the line). Not printf: a segment can hold a year of events. */
static void put_i64_then(aw_buf *out, int64_t v, char sep)
{
	aw_buf_put_i64(out, v);
	aw_buf_putc(out, sep);
}

/* A record's tag ("P ", "D ", "E ") and its first field. */
static void put_record(aw_buf *out, const char *tag, int64_t v, char sep)
{
	aw_buf_puts(out, tag);
	put_i64_then(out, v, sep);
}

void segment_encode(aw_buf *out, const sync_segment *s)
{
	char hex[AWS_HASH_HEX];
	int64_t records = 0;

	aw_buf_puts(out, SEG_MAGIC "\nH {\"device_id\":");
	aw_buf_json_string(out, s->device_id, strlen(s->device_id));
	aw_buf_puts(out, ",\"generation\":");
	aw_buf_put_i64(out, s->generation);
	aw_buf_puts(out, ",\"hostname\":");
	aw_buf_json_string(out, s->hostname, strlen(s->hostname));
	if (s->is_pack) {
		hex_encode(hex, s->end, AWS_HASH_BYTES);
		aw_buf_printf(out, ",\"pack\":{\"end\":\"%s\",\"first\":%lld}", hex, (long long)s->first);
	}
	aw_buf_puts(out, ",\"prev\":");
	if (s->has_prev) {
		hex_encode(hex, s->prev, AWS_HASH_BYTES);
		aw_buf_printf(out, "\"%s\"", hex);
	} else {
		aw_buf_puts(out, "null");
	}
	aw_buf_puts(out, ",\"written_at\":");
	aw_buf_put_i64(out, s->written_at);
	aw_buf_puts(out, "}\n");
	for (size_t i = 0; i < s->n_blocks; i++) {
		const sync_block *b = &s->blocks[i];
		encode_block_line(out, b);
		for (size_t j = 0; j < b->n_puts; j++) {
			const aw_event *e = &b->puts[j];
			aw_buf_grow(out, e->data_len + 72);
			put_record(out, "P ", e->id, ' ');
			put_i64_then(out, e->start, ' ');
			put_i64_then(out, e->duration, ' ');
			aw_buf_append(out, e->data, e->data_len);
			aw_buf_putc(out, '\n');
		}
		for (size_t j = 0; j < b->n_dels; j++)
			put_record(out, "D ", b->dels[j], '\n');
		records += (int64_t)(b->n_puts + b->n_dels);
	}
	put_record(out, "E ", records, '\n');
}

/* ---- cutting a segment to size ------------------------------------------------------ */

static size_t i64_len(int64_t v)
{
	char buf[24];

	return (size_t)snprintf(buf, sizeof(buf), "%lld", (long long)v);
}

/* A new part: the same header fields; blocks borrow from the whole. */
static sync_segment *part_new(sync_segment **parts, size_t *n, const sync_segment *s)
{
	sync_segment *p;

	*parts = aw_mem_realloc(*parts, (*n + 1) * sizeof(**parts));
	p = &(*parts)[(*n)++];
	*p = *s;
	p->blocks = NULL;
	p->n_blocks = p->cap_blocks = 0;
	p->owns_data = false;
	return p;
}

static sync_block *part_block(sync_segment *p, const sync_block *b, bool first)
{
	sync_block *d;

	p->blocks = aw_mem_realloc(p->blocks, (p->n_blocks + 1) * sizeof(*p->blocks));
	d = &p->blocks[p->n_blocks++];
	*d = *b;
	/* a block continued in a later part must not delete the bucket again */
	d->reset = first && b->reset;
	d->puts = b->n_puts ? b->puts : NULL;
	d->dels = b->n_dels ? b->dels : NULL;
	d->n_puts = d->n_dels = 0;
	d->cap_puts = d->cap_dels = 0;
	return d;
}

int segment_split(sync_segment **parts, size_t *n, const sync_segment *s, size_t max)
{
	sync_segment probe = *s, *p;
	aw_buf buf = AW_BUF_INIT;
	size_t fixed, used;

	*parts = NULL;
	*n = 0;
	/* header and end line at their longest: any generation, time and record count */
	probe.blocks = NULL;
	probe.n_blocks = 0;
	probe.generation = INT64_MAX;
	probe.written_at = INT64_MAX;
	probe.has_prev = true;
	segment_encode(&buf, &probe);
	fixed = buf.len + 20;
	aw_buf_free(&buf);
	p = part_new(parts, n, s);
	used = fixed;
	for (size_t i = 0; i < s->n_blocks; i++) {
		const sync_block *b = &s->blocks[i];
		size_t head, j = 0, k = 0;
		sync_block *d;

		aw_buf_reset(&buf);
		encode_block_line(&buf, b);
		head = buf.len;
		if (fixed + head > max)
			goto too_big;
		if (used + head > max) {
			p = part_new(parts, n, s);
			used = fixed;
		}
		d = part_block(p, b, true);
		used += head;
		while (j < b->n_puts || k < b->n_dels) {
			size_t rec = j < b->n_puts ? 6 + i64_len(b->puts[j].id) + i64_len(b->puts[j].start) +
							 i64_len(b->puts[j].duration) + b->puts[j].data_len
						   : 3 + i64_len(b->dels[k]);
			if (fixed + head + rec > max)
				goto too_big;
			if (used + rec > max) {
				p = part_new(parts, n, s);
				d = part_block(p, b, false);
				d->puts = b->puts + j;
				d->dels = b->dels + k;
				used = fixed + head;
			}
			if (j < b->n_puts) {
				d->n_puts++;
				j++;
			} else {
				d->n_dels++;
				k++;
			}
			used += rec;
		}
	}
	aw_buf_free(&buf);
	return 0;
too_big:
	aw_buf_free(&buf);
	segment_parts_free(*parts, *n);
	*parts = NULL;
	*n = 0;
	return aw_error_set(AW_EINVALID, "one record of the sync export is larger than a segment may be (%zu bytes)",
			    max);
}

void segment_parts_free(sync_segment *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(parts[i].blocks);
	free(parts);
}

static int parse_i64(const char **p, const char *end, int64_t *out, char stop)
{
	const char *q = *p;
	bool neg = false;
	uint64_t v = 0;

	if (q < end && *q == '-') {
		neg = true;
		q++;
	}
	if (q >= end || *q < '0' || *q > '9')
		return -1;
	while (q < end && *q >= '0' && *q <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*q++ - '0');
	}
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return -1;
	if (q >= end || *q != stop)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*p = q + 1;
	return 0;
}

static int bad(int64_t line, const char *what)
{
	return aw_error_set(AW_EINVALID, "segment line %lld: %s", (long long)line, what);
}

/* The origin fields a segment header and a manifest share: device_id and hostname
 * (strings) and generation (an integer) must be there, written_at reads as 0 when it
 * is not. false, copying nothing, when one is missing; otherwise the strings are
 * copied to *device_id and *hostname (caller frees). */
static bool origin_fields(const json_t *o, char **device_id, char **hostname, int64_t *generation,
			  aw_ns *written_at)
{
	const char *dev = json_string_value(json_object_get(o, "device_id"));
	const char *host = json_string_value(json_object_get(o, "hostname"));
	const json_t *gen = json_object_get(o, "generation");

	if (!dev || !host || !json_is_integer(gen))
		return false;
	*device_id = str_dup(dev);
	*hostname = str_dup(host);
	*generation = json_integer_value(gen);
	*written_at = json_integer_value(json_object_get(o, "written_at"));
	return true;
}

/* A pack's header member {"end": hex, "first": n} (absent: a plain segment). A pack
 * covers first..generation, at least one generation. */
static int pack_fields(sync_segment *s, const json_t *pk)
{
	const json_t *first;
	const char *end;

	if (!pk)
		return 0;
	first = json_object_get(pk, "first");
	end = json_string_value(json_object_get(pk, "end"));
	if (!json_is_integer(first) || !end || hex_decode(s->end, AWS_HASH_BYTES, end))
		return -1;
	s->first = json_integer_value(first);
	if (s->first < 1 || s->first > s->generation)
		return -1;
	s->is_pack = true;
	return 0;
}

static int parse_segment(sync_segment *s, char *text, size_t len)
{
	char *p = text, *end = text + len;
	int64_t line = 0, records = 0;
	bool have_header = false, have_end = false;
	sync_block *cur = NULL;
	json_error_t je;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *q;
		json_t *o;

		line++;
		if (!nl)
			return bad(line, "unterminated line");
		*nl = '\0';
		if (have_end && !(p[0] == 'S' && p[1] == ' ' && !s->has_sig))
			return bad(line, "data after the end record");
		if (line == 1) {
			if (strcmp(p, SEG_MAGIC))
				return bad(line, "not a version 1 segment");
		} else if (p[0] == 'P' && p[1] == ' ') {
			aw_event *e;
			if (!cur || !cur->has_meta)
				return bad(line, "event outside of a bucket");
			put_slot(cur);
			e = &cur->puts[cur->n_puts];
			memset(e, 0, sizeof(*e));
			q = p + 2;
			if (parse_i64(&q, nl, &e->id, ' ') || parse_i64(&q, nl, &e->start, ' ') ||
			    parse_i64(&q, nl, &e->duration, ' '))
				return bad(line, "malformed event");
			if (q >= nl || *q != '{' || nl[-1] != '}')
				return bad(line, "event data is not a JSON object");
			e->has_id = true;
			e->data = (char *)q;
			e->data_len = (size_t)(nl - q);
			cur->n_puts++;
			records++;
		} else if (p[0] == 'D' && p[1] == ' ') {
			int64_t id;
			if (!cur || !cur->has_meta)
				return bad(line, "deletion outside of a bucket");
			q = p + 2;
			*nl = '\n';
			if (parse_i64(&q, nl + 1, &id, '\n'))
				return bad(line, "malformed deletion");
			*nl = '\0';
			block_del(cur, id);
			records++;
		} else if (p[0] == 'B' && p[1] == ' ') {
			json_t *meta;
			const char *bucket;
			if (!have_header)
				return bad(line, "bucket before the header");
			o = json_loads(p + 2, 0, &je);
			bucket = json_string_value(json_object_get(o, "bucket"));
			meta = json_object_get(o, "meta");
			if (!bucket || !json_is_boolean(json_object_get(o, "reset")) || !meta) {
				json_decref(o);
				return bad(line, "malformed bucket record");
			}
			/* always a new block: a parsed segment keeps its blocks as written */
			cur = append_block(s, bucket);
			cur->reset = json_is_true(json_object_get(o, "reset"));
			if (!json_is_null(meta)) {
				if (meta_parse(&cur->meta, meta) || strcmp(cur->meta.id, bucket)) {
					json_decref(o);
					return bad(line, "malformed bucket metadata");
				}
				cur->has_meta = true;
			}
			json_decref(o);
		} else if (p[0] == 'H' && p[1] == ' ') {
			const char *prev;
			json_t *pv;
			if (have_header)
				return bad(line, "second header");
			o = json_loads(p + 2, 0, &je);
			pv = json_object_get(o, "prev");
			prev = json_string_value(pv);
			if (!pv || (prev && hex_decode(s->prev, AWS_HASH_BYTES, prev)) ||
			    !origin_fields(o, &s->device_id, &s->hostname, &s->generation, &s->written_at)) {
				json_decref(o);
				return bad(line, "malformed header");
			}
			s->has_prev = prev != NULL;
			if (pack_fields(s, json_object_get(o, "pack"))) {
				json_decref(o);
				return bad(line, "malformed pack header");
			}
			json_decref(o);
			have_header = true;
		} else if (have_end) {
			/* the signature line, the last one (segment_sign); checked against
			 * the signer's key by the reader (load_segment), before parsing */
			unsigned char sig[AWS_SIG_BYTES];
			if (strlen(p + 2) != 2 * AWS_SIG_BYTES || hex_decode(sig, AWS_SIG_BYTES, p + 2))
				return bad(line, "malformed signature");
			s->has_sig = true;
		} else if (p[0] == 'E' && p[1] == ' ') {
			int64_t n;
			q = p + 2;
			*nl = '\n';
			if (parse_i64(&q, nl + 1, &n, '\n') || n != records)
				return bad(line, "record count does not match");
			*nl = '\0';
			have_end = true;
		} else {
			return bad(line, "unknown record");
		}
		p = nl + 1;
	}
	if (!have_header || !have_end)
		return aw_error_set(AW_EINVALID, "segment is incomplete (no %s)", have_header ? "end record" : "header");
	return 0;
}

/* ---- signatures ------------------------------------------------------------------------ */

void segment_sign(aw_buf *text, const unsigned char sk[AWS_SIGN_SK], const char *group, const char *device,
		  const char *name)
{
	unsigned char sig[AWS_SIG_BYTES];
	char hex[AWS_SIG_HEX];

	sign_bytes(sig, sk, group, device, name, text->data, text->len);
	hex_encode(hex, sig, AWS_SIG_BYTES);
	aw_buf_puts(text, "S ");
	aw_buf_puts(text, hex);
	aw_buf_putc(text, '\n');
}

int segment_signature(const char *text, size_t len, unsigned char sig[AWS_SIG_BYTES], size_t *signed_len)
{
	size_t line = 2 + 2 * AWS_SIG_BYTES + 1;
	char hex[AWS_SIG_HEX];

	if (len < line + 1 || text[len - line - 1] != '\n' || memcmp(text + len - line, "S ", 2) ||
	    text[len - 1] != '\n')
		return -1;
	memcpy(hex, text + len - line + 2, 2 * AWS_SIG_BYTES);
	hex[2 * AWS_SIG_BYTES] = '\0';
	if (hex_decode(sig, AWS_SIG_BYTES, hex))
		return -1;
	*signed_len = len - line;
	return 0;
}

/* ---- manifests ----------------------------------------------------------------------- */

int segment_parse(sync_segment *s, char *text, size_t len)
{
	int rc = parse_segment(s, text, len);

	/* a refused segment owns nothing: callers free only what parsed */
	if (rc)
		segment_free(s);
	return rc;
}

char *manifest_json(const sync_manifest *m)
{
	json_t *o = json_object(), *arr = json_array();
	char hex[AWS_HASH_HEX];
	char *s;

	hex_encode(hex, m->head, AWS_HASH_BYTES);
	json_object_set_new(o, "format", json_string("awsync-manifest"));
	/* a signed manifest is one of version 3: the chain may go on after it
	 * (docs/sync-format.md §6), which a reader of version 2 would not see, so it
	 * refuses the manifest instead. Unsigned ones (tests of older folders) stay at 1. */
	json_object_set_new(o, "version", json_integer(m->has_sig ? AWS_MANIFEST_TAIL_VERSION
							: m->n_packs ? AWS_MANIFEST_PACKS_VERSION : 1));
	json_object_set_new(o, "device_id", json_string(m->device_id));
	json_object_set_new(o, "hostname", json_string(m->hostname));
	json_object_set_new(o, "generation", json_integer(m->generation));
	json_object_set_new(o, "head", json_string(hex));
	json_object_set_new(o, "written_at", json_integer(m->written_at));
	json_object_set_new(o, "software", json_string(m->software ? m->software : ""));
	for (size_t i = 0; i < m->n_buckets; i++) {
		const aw_bucket *b = &m->buckets[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", b->id, "type",
						     b->type ? b->type : "", "client", b->client ? b->client : "",
						     "hostname", b->hostname ? b->hostname : "", "created",
						     (json_int_t)b->created));
	}
	json_object_set_new(o, "buckets", arr);
	if (m->n_packs) {
		json_t *pk = json_array();
		for (size_t i = 0; i < m->n_packs; i++)
			json_array_append_new(pk, json_pack("[I, I, i, I]", (json_int_t)m->packs[i].first,
							    (json_int_t)m->packs[i].last, m->packs[i].level,
							    (json_int_t)m->packs[i].bytes));
		json_object_set_new(o, "packs", pk);
	}
	if (m->settings)
		json_object_set(o, "settings", m->settings);
	if (m->has_sig) {
		char pk[2 * AWS_SIGN_PK + 1], sig[AWS_SIG_HEX];
		hex_encode(pk, m->signing_key, AWS_SIGN_PK);
		hex_encode(sig, m->sig, AWS_SIG_BYTES);
		json_object_set_new(o, "signing_key", json_string(pk));
		json_object_set_new(o, "signature", json_string(sig));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		abort();
	return s;
}

/* "packs": [[first, last, level, bytes], ...], oldest first, disjoint, within
 * 1..generation. Checked whole: a manifest with one bad entry is refused. */
static int parse_packs(sync_manifest *m, const json_t *arr, json_int_t version)
{
	size_t i;
	const json_t *e;
	int64_t after = 0;

	if (!arr)
		return 0;
	if (version < AWS_MANIFEST_PACKS_VERSION || !json_is_array(arr))
		return -1;
	m->packs = aw_mem_calloc(json_array_size(arr) + 1, sizeof(*m->packs));
	json_array_foreach(arr, i, e) {
		sync_pack *p = &m->packs[i];
		if (!json_is_array(e) || json_array_size(e) != 4)
			return -1;
		for (size_t k = 0; k < 4; k++)
			if (!json_is_integer(json_array_get(e, k)))
				return -1;
		p->first = json_integer_value(json_array_get(e, 0));
		p->last = json_integer_value(json_array_get(e, 1));
		p->level = (int)json_integer_value(json_array_get(e, 2));
		p->bytes = json_integer_value(json_array_get(e, 3));
		if (p->first <= after || p->last < p->first || p->last > m->generation || p->level < 0 ||
		    json_integer_value(json_array_get(e, 2)) > AWS_PACK_LEVEL_FULL || p->bytes < 0)
			return -1;
		after = p->last;
		m->n_packs++;
	}
	return 0;
}

/* The place of the signature's hex digits in text: the only "signature":"<hex>" of it. */
static const char *signature_at(const sync_manifest *m, const char *text, size_t len)
{
	char needle[16 + AWS_SIG_HEX];
	const char *at = NULL, *p = text, *end = text + len;
	size_t n;

	memcpy(needle, "\"signature\":\"", 13);
	hex_encode(needle + 13, m->sig, AWS_SIG_BYTES);
	n = strlen(needle);
	while ((p = memmem(p, (size_t)(end - p), needle, n))) {
		if (at)
			return NULL; /* twice: which one was signed? */
		at = p + 13;
		p += n;
	}
	return at;
}

char *manifest_signed_json(sync_manifest *m, const unsigned char sk[AWS_SIGN_SK], const char *group)
{
	char *json, *at, hex[AWS_SIG_HEX];

	m->has_sig = true;
	memcpy(m->signing_key, sk + AWS_SIGN_SK - AWS_SIGN_PK, AWS_SIGN_PK);
	memset(m->sig, 0, AWS_SIG_BYTES);
	json = manifest_json(m);
	at = (char *)signature_at(m, json, strlen(json));
	if (!at)
		abort(); /* manifest_json writes the member once */
	sign_bytes(m->sig, sk, group, m->device_id, AWS_MANIFEST, json, strlen(json));
	hex_encode(hex, m->sig, AWS_SIG_BYTES);
	memcpy(at, hex, 2 * AWS_SIG_BYTES);
	return json;
}

int manifest_verify(const sync_manifest *m, const char *text, size_t len, const char *group)
{
	const char *at;
	char *copy;
	int rc;

	if (!m->has_sig)
		return aw_error_set(AW_EINVALID, "manifest: not signed");
	if (!(at = signature_at(m, text, len)))
		return aw_error_set(AW_EINVALID, "manifest: the signature is not where it was signed");
	copy = aw_mem_malloc(len);
	memcpy(copy, text, len);
	memset(copy + (at - text), '0', 2 * AWS_SIG_BYTES);
	rc = verify_bytes(m->sig, m->signing_key, group, m->device_id, AWS_MANIFEST, copy, len);
	free(copy);
	return rc ? aw_error_set(AW_EINVALID, "manifest: the signature does not match its signing key") : 0;
}

int manifest_parse(sync_manifest *m, const char *text, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je), *arr;
	const char *fmt, *head;
	json_int_t v;
	size_t i;
	json_t *b;

	memset(m, 0, sizeof(*m));
	fmt = json_string_value(json_object_get(o, "format"));
	head = json_string_value(json_object_get(o, "head"));
	arr = json_object_get(o, "buckets");
	v = json_integer_value(json_object_get(o, "version"));
	if (!o || !fmt || strcmp(fmt, "awsync-manifest")) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "manifest: not an awsync manifest");
	}
	if (v < 1 || v > AWS_VERSION) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "manifest: version %lld is not supported (this awnode reads 1 to %d)",
				    (long long)v, AWS_VERSION);
	}
	if (!json_is_array(arr) || hex_decode(m->head, AWS_HASH_BYTES, head) ||
	    !origin_fields(o, &m->device_id, &m->hostname, &m->generation, &m->written_at)) {
		json_decref(o);
		return aw_error_set(AW_EINVALID, "manifest: malformed");
	}
	m->software = str_dup(json_string_value(json_object_get(o, "software")));
	m->version = (int)v;
	{
		const char *pk = json_string_value(json_object_get(o, "signing_key"));
		const char *sig = json_string_value(json_object_get(o, "signature"));
		/* version 2 is always signed; version 1 never was */
		if ((v >= 2) != (pk && sig) || (pk && (hex_decode(m->signing_key, AWS_SIGN_PK, pk) ||
						   hex_decode(m->sig, AWS_SIG_BYTES, sig)))) {
			json_decref(o);
			manifest_free(m);
			return aw_error_set(AW_EINVALID, "manifest: %s", v >= 2 ? "no valid signature" : "malformed");
		}
		m->has_sig = pk != NULL;
	}
	/* checked entry by entry when applied (import.c): one bad entry refuses that entry */
	if (json_is_object(json_object_get(o, "settings")))
		m->settings = json_incref(json_object_get(o, "settings"));
	m->buckets = aw_mem_calloc(json_array_size(arr) + 1, sizeof(*m->buckets));
	json_array_foreach(arr, i, b) {
		aw_bucket *d = &m->buckets[m->n_buckets];
		const char *id = json_string_value(json_object_get(b, "id"));
		if (!id)
			continue;
		d->id = str_dup(id);
		d->type = str_dup(json_string_value(json_object_get(b, "type")));
		d->client = str_dup(json_string_value(json_object_get(b, "client")));
		d->hostname = str_dup(json_string_value(json_object_get(b, "hostname")));
		d->created = json_integer_value(json_object_get(b, "created"));
		m->n_buckets++;
	}
	if (m->generation < 1) {
		manifest_free(m);
		json_decref(o);
		return aw_error_set(AW_EINVALID, "manifest: generation must be at least 1");
	}
	if (parse_packs(m, json_object_get(o, "packs"), v)) {
		manifest_free(m);
		json_decref(o);
		return aw_error_set(AW_EINVALID, "manifest: malformed pack list");
	}
	json_decref(o);
	m->last = m->generation;
	memcpy(m->last_hash, m->head, AWS_HASH_BYTES);
	return 0;
}

void manifest_free(sync_manifest *m)
{
	free(m->device_id);
	free(m->hostname);
	free(m->software);
	aw_buckets_free(m->buckets, m->n_buckets);
	json_decref(m->settings);
	free(m->packs);
	memset(m, 0, sizeof(*m));
}
