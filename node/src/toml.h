/*
 * A small TOML reader covering what awnode's config uses: [tables], bare or quoted
 * keys, strings (basic and literal), integers, floats, booleans and arrays of those
 * (multi-line allowed). Anything else is a parse error with a line number, never a
 * silent misread.
 */
#ifndef AW_TOML_H
#define AW_TOML_H

#include <stdbool.h>
#include <stddef.h>

enum { TOML_STRING, TOML_INT, TOML_FLOAT, TOML_BOOL, TOML_ARRAY };

typedef struct toml_value {
	int type;
	char *str;
	long long i;
	double f;
	bool b;
	struct toml_value *items; /* TOML_ARRAY */
	size_t n_items;
} toml_value;

typedef struct toml_kv {
	char *table;  /* "" for the root table */
	char *key;
	toml_value value;
	int line;
} toml_kv;

/* Parse text. On error returns -1 and writes "line N: reason" into err. */
int toml_parse(const char *text, toml_kv **out, size_t *n, char *err, size_t errlen);
void toml_free(toml_kv *kv, size_t n);

#endif
