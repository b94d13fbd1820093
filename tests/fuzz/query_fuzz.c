/*
 * libFuzzer target for the query engine: lexer, parser and interpreter, with every
 * built-in reachable against a small database (three buckets of window/afk/web events).
 * Built by tests/fuzz/run.sh (clang, -DAW_FUZZ=ON, -fsanitize=fuzzer,address,undefined).
 *
 * The input is the program text. A run must never crash, leak, hang or trip a sanitizer;
 * errors are fine. Any crash found becomes a regression case in
 * tests/unit/query/test_query_lang.c (test_fuzz_regressions).
 *
 * Inputs are at most 8192 bytes (-max_len): the corpus seeds flat operator chains, wide
 * dict literals, many names and regex classes at that size; the same shapes far bigger
 * (60,000-operand chains, 100,000 keys or names) are built by
 * tests/unit/query/test_query_limits.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aw/query.h"
#include "aw/storage.h"

static aw_reader *reader;
static aw_store *store;
static char dir[64] = "/tmp/awnode-fuzz-XXXXXX";

static void cleanup(void)
{
	char cmd[128];

	aw_reader_close(reader);
	aw_store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "query_fuzz: could not remove %s\n", dir);
}

static void bucket(const char *id)
{
	aw_bucket b = {.id = (char *)id, .type = "t", .client = "c", .hostname = "fuzzhost", .data = "{}"};
	aw_write w = {.kind = AW_W_BUCKET_CREATE, .bucket = &b};

	if (aw_store_write(store, &w))
		abort();
}

static void event(const char *bid, aw_ns start, aw_ns dur, const char *data)
{
	aw_event e = {.start = start, .duration = dur, .data = (char *)data, .data_len = strlen(data)};
	aw_write w = {.kind = AW_W_EVENTS_INSERT, .bucket_id = bid, .events = &e, .n_events = 1};

	if (aw_store_write(store, &w))
		abort();
	aw_write_clear(&w);
}

/* libFuzzer's entry points (called by its main, declared nowhere else) */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[96];
	static const char *const titles[] = {
		"{\"app\":\"Firefox\",\"title\":\"GitHub - awnode\"}",
		"{\"app\":\"code\",\"title\":\"\\u25cf main.c - Code\"}",
		"{\"app\":\"x\",\"title\":\"(3) Facebook\\n\",\"n\":1,\"f\":1.5,\"b\":true,\"z\":null,\"o\":{\"a\":[1,\"x\"]}}",
		"{\"$category\":[\"Work\"],\"app\":\"\\\"q\\\"\",\"title\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaab\"}",
	};
	static const char *const urls[] = {
		"{\"audible\":true,\"title\":\"t\",\"url\":\"https://www.example.com/a/../b?q=1#f\"}",
		"{\"audible\":false,\"title\":\"t\",\"url\":\"file:///home/x\"}",
		"{\"audible\":false,\"url\":\"http://[::1]:80/%zz\"}",
		"{\"url\":\"about:blank\"}",
		"{\"url\":7}",
	};
	aw_ns t = 1577836800LL * 1000000000LL; /* 2020-01-01 */

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/f.db", dir);
	if (aw_store_open(&store, path, NULL))
		abort();
	bucket("w");
	bucket("a");
	bucket("b");
	for (int i = 0; i < 60; i++) {
		aw_ns d = (aw_ns)(i % 7) * 1000000000LL + (i % 3) * 333;
		event("w", t + (aw_ns)i * 4000000000LL, d, titles[i % 4]);
		event("b", t + (aw_ns)i * 4000000000LL + 500000000, d, urls[i % 5]);
		if (i % 10 == 0)
			event("a", t + (aw_ns)i * 4000000000LL, 30000000000LL,
			      i % 20 ? "{\"status\":\"afk\"}" : "{\"status\":\"not-afk\"}");
	}
	event("w", t, -5, "{}"); /* negative duration */
	if (aw_reader_open(&reader, store))
		abort();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	aw_ns starts[2] = {1577836800LL * 1000000000LL, 0};
	aw_ns ends[2] = {1577836800LL * 1000000000LL + 300LL * 1000000000LL, 1577836800LL * 1000000000LL + 100000000000LL};
	aw_query_error err;
	char *out = NULL;
	size_t len;
	size_t np = size && (data[0] & 1) ? 2 : 1;
	int rc = aw_query_run(&out, &len, &err, reader, (const char *)data, size, starts, ends, np);

	if (rc == 0 && (!out || strlen(out) != len))
		abort();
	if (rc != 0 && (out || !err.message[0] || (err.code != AW_EINVALID && err.code != AW_ENOTFOUND)))
		abort();
	free(out);
	aw_reader_trim_cache_if_large(reader);
	return 0;
}
