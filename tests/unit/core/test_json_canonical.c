/*
 * The canonical JSON corpus (canonical-json.corpus beside this file): for every
 * document, both of core's encoders, aw_json_canonical (over a jansson tree, used for
 * request bodies) and aw_jscan_canonical (over the text, used by imports), produce
 * exactly the recorded bytes. Stored data is interned by its canonical text, so the
 * two must agree with each other and with every earlier version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/files.h"
#include "aw/json.h"
#include "aw/json_scan.h"

static void check_case(const char *in, const char *want, int line)
{
	aw_buf scanned = AW_BUF_INIT;
	json_t *tree = aw_json_parse(in, strlen(in));
	char *from_tree;
	aw_jscan s;

	if (!tree)
		fail_msg("corpus line %d: jansson refuses the document", line);
	from_tree = aw_json_canonical_dup(tree, NULL);
	json_decref(tree);
	aw_jscan_init(&s, in, strlen(in));
	if (aw_jscan_document(&s))
		fail_msg("corpus line %d: the scanner refuses the document: %s", line, s.err);
	aw_jscan_canonical(&scanned, in, in + strlen(in));
	if (strcmp(from_tree, want))
		fail_msg("corpus line %d: aw_json_canonical gives\n  %s\nnot\n  %s", line, from_tree, want);
	if (strcmp(scanned.data, want))
		fail_msg("corpus line %d: aw_jscan_canonical gives\n  %s\nnot\n  %s", line, scanned.data, want);
	free(from_tree);
	aw_buf_free(&scanned);
}

static void test_corpus(void **state)
{
	char *text, *in = NULL, *save = NULL;
	int line = 0, cases = 0;

	(void)state;
	assert_int_equal(aw_files_read(&text, NULL, AW_CORPUS, 1 << 20), 0);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		line++;
		if (!strncmp(l, "in:  ", 5)) {
			in = l + 5;
		} else if (!strncmp(l, "out: ", 5)) {
			assert_non_null(in);
			check_case(in, l + 5, line);
			in = NULL;
			cases++;
		}
	}
	free(text);
	assert_true(cases >= 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
