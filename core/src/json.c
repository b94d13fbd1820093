/*
 * Canonical JSON writer (see aw/json.h) and the request-body parser settings.
 *
 * jansson keeps object keys in insertion order and prints reals with %.17g, so neither
 * its key order nor its number format matches serde_json; we walk the tree ourselves.
 * Keys are sorted by bytes (memcmp, shorter first on a common prefix), which is how
 * Rust's BTreeMap<String, _> orders them.
 */
#include <stdlib.h>
#include <string.h>

#include "aw/error.h"
#include "aw/json.h"
#include "aw/mem.h"
#include "aw/time.h"
#include "internal.h"

typedef struct key_ref {
	const char *key;
	size_t len;
	json_t *value;
} key_ref;

int canonical_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n);

	return c ? c : (alen > blen) - (alen < blen);
}

static int key_cmp(const void *a, const void *b)
{
	const key_ref *x = a, *y = b;

	return canonical_key_cmp(x->key, x->len, y->key, y->len);
}

static void write_object(aw_buf *out, const json_t *obj)
{
	size_t n = json_object_size(obj), i = 0;
	key_ref stack_keys[16], *keys = stack_keys;
	void *it;

	if (n > 16) {
		keys = aw_mem_malloc(n * sizeof(*keys));
	}
	for (it = json_object_iter((json_t *)obj); it; it = json_object_iter_next((json_t *)obj, it)) {
		keys[i].key = json_object_iter_key(it);
		keys[i].len = json_object_iter_key_len(it);
		keys[i].value = json_object_iter_value(it);
		i++;
	}
	if (n > 1)
		qsort(keys, n, sizeof(*keys), key_cmp);
	aw_buf_putc(out, '{');
	for (i = 0; i < n; i++) {
		if (i)
			aw_buf_putc(out, ',');
		aw_buf_json_string(out, keys[i].key, keys[i].len);
		aw_buf_putc(out, ':');
		aw_json_canonical(out, keys[i].value);
	}
	aw_buf_putc(out, '}');
	if (keys != stack_keys)
		free(keys);
}

void aw_json_canonical(aw_buf *out, const json_t *v)
{
	char num[AW_FLOAT_BUFSZ];
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		write_object(out, v);
		break;
	case JSON_ARRAY:
		aw_buf_putc(out, '[');
		for (i = 0; i < json_array_size(v); i++) {
			if (i)
				aw_buf_putc(out, ',');
			aw_json_canonical(out, json_array_get(v, i));
		}
		aw_buf_putc(out, ']');
		break;
	case JSON_STRING:
		aw_buf_json_string(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		aw_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		aw_buf_append(out, num, aw_float_format(num, json_real_value(v)));
		break;
	case JSON_TRUE:
		aw_buf_puts(out, "true");
		break;
	case JSON_FALSE:
		aw_buf_puts(out, "false");
		break;
	case JSON_NULL:
		aw_buf_puts(out, "null");
		break;
	}
}

char *aw_json_canonical_dup(const json_t *v, size_t *len)
{
	aw_buf b = AW_BUF_INIT;

	aw_json_canonical(&b, v);
	return aw_buf_steal(&b, len);
}

json_t *aw_json_parse(const char *text, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &err);

	if (!v)
		aw_error_set(AW_EINVALID, "invalid JSON at line %d column %d: %s", err.line,
			     err.column, err.text);
	return v;
}
