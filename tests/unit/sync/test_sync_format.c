/*
 * Unit tests of the sync format: sealed files (compression + secretstream with the
 * device and file name bound) and every way of tampering with them, segments,
 * manifests, awsync.json and the key file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal.h"
#include "tmpdir.h"

static unsigned char KEY[AWS_KEY_BYTES];
static const char *DEV = "0b7e3b1c-8a55-4a52-9d7e-2c1f0a9d6e11";

static int setup(void **state)
{
	(void)state;
	assert_int_equal(crypto_init(), 0);
	randombytes_buf(KEY, sizeof(KEY));
	return 0;
}

static void seal(aw_buf *out, const void *p, size_t n, const char *name)
{
	aw_buf_reset(out);
	assert_int_equal(seal_file(out, KEY, DEV, name, p, n), 0);
}

static int unseal(const aw_buf *in, const char *device, const char *name, const unsigned char *key, aw_buf *out)
{
	return unseal_file(out, key, device, name, in->data, in->len);
}

static void test_roundtrip(void **state)
{
	aw_buf f = AW_BUF_INIT, p = AW_BUF_INIT;
	size_t sizes[] = {0, 1, 100, 65536, 300000};
	unsigned char *big = malloc(300000);

	(void)state;
	randombytes_buf(big, 300000); /* incompressible: several secretstream messages */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		seal(&f, big, sizes[i], "seg/000000/000000000001.aws");
		assert_int_equal(unseal(&f, DEV, "seg/000000/000000000001.aws", KEY, &p), 0);
		assert_int_equal(p.len, sizes[i]);
		assert_memory_equal(p.data, big, sizes[i]);
	}
	/* two seals of the same text differ (fresh nonce) */
	{
		aw_buf g = AW_BUF_INIT;
		seal(&f, "hello", 5, "manifest.aws");
		aw_buf_append(&g, f.data, f.len);
		seal(&f, "hello", 5, "manifest.aws");
		assert_true(f.len == g.len && memcmp(f.data, g.data, f.len) != 0);
		aw_buf_free(&g);
	}
	free(big);
	aw_buf_free(&f);
	aw_buf_free(&p);
}

static void test_tamper_every_byte(void **state)
{
	aw_buf f = AW_BUF_INIT, p = AW_BUF_INIT;
	const char *text = "AWSYNC-SEGMENT 1\nH {\"device_id\":\"x\"}\nE 0\n";

	(void)state;
	seal(&f, text, strlen(text), "seg/000000/000000000001.aws");
	for (size_t i = 0; i < f.len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			f.data[i] ^= (char)(1 << bit);
			assert_int_not_equal(unseal(&f, DEV, "seg/000000/000000000001.aws", KEY, &p), 0);
			f.data[i] ^= (char)(1 << bit);
		}
	}
	/* every truncation, including at the end of the header */
	for (size_t n = 0; n < f.len; n++) {
		aw_buf t = AW_BUF_INIT;
		aw_buf_append(&t, f.data, n);
		assert_int_not_equal(unseal(&t, DEV, "seg/000000/000000000001.aws", KEY, &p), 0);
		aw_buf_free(&t);
	}
	/* appended data */
	aw_buf_putc(&f, 'x');
	assert_int_not_equal(unseal(&f, DEV, "seg/000000/000000000001.aws", KEY, &p), 0);
	f.len--;
	assert_int_equal(unseal(&f, DEV, "seg/000000/000000000001.aws", KEY, &p), 0);
	aw_buf_free(&f);
	aw_buf_free(&p);
}

static void test_bound_to_name_device_key(void **state)
{
	aw_buf f = AW_BUF_INIT, p = AW_BUF_INIT;
	unsigned char other[AWS_KEY_BYTES];

	(void)state;
	seal(&f, "payload", 7, "seg/000000/000000000002.aws");
	/* moved to another name: a swap of two segments, or a replay under a new number */
	assert_int_equal(unseal(&f, DEV, "seg/000000/000000000003.aws", KEY, &p), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "authentication failed"));
	/* moved to another device's directory */
	assert_int_equal(unseal(&f, "another-device", "seg/000000/000000000002.aws", KEY, &p), AW_EINVALID);
	/* another key (a wrong passphrase) */
	memcpy(other, KEY, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(unseal(&f, DEV, "seg/000000/000000000002.aws", other, &p), AW_EINVALID);
	/* not a sealed file at all */
	{
		aw_buf g = AW_BUF_INIT;
		aw_buf_puts(&g, "{\"plain\": true}");
		assert_int_equal(unseal(&g, DEV, "manifest.aws", KEY, &p), AW_EINVALID);
		assert_non_null(strstr(aw_error_last(), "not an awsync"));
		aw_buf_free(&g);
	}
	assert_int_equal(unseal(&f, DEV, "seg/000000/000000000002.aws", KEY, &p), 0);
	aw_buf_free(&f);
	aw_buf_free(&p);
}

static void test_chunks_reordered(void **state)
{
	aw_buf f = AW_BUF_INIT, p = AW_BUF_INIT;
	size_t n = 3 * AWS_CHUNK, msg = AWS_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES;
	size_t off = 8 + crypto_secretstream_xchacha20poly1305_HEADERBYTES;
	unsigned char *big = malloc(n), *tmp = malloc(msg);

	(void)state;
	randombytes_buf(big, n);
	seal(&f, big, n, "x");
	assert_true(f.len > off + 2 * msg);
	memcpy(tmp, f.data + off, msg);
	memcpy(f.data + off, f.data + off + msg, msg);
	memcpy(f.data + off + msg, tmp, msg);
	assert_int_equal(unseal(&f, DEV, "x", KEY, &p), AW_EINVALID);
	/* dropping the final message: "truncated" */
	seal(&f, big, n, "x");
	f.len = off + 2 * msg;
	assert_int_equal(unseal(&f, DEV, "x", KEY, &p), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "truncated"));
	free(big);
	free(tmp);
	aw_buf_free(&f);
	aw_buf_free(&p);
}

static void test_segment_roundtrip(void **state)
{
	sync_segment s, r;
	aw_buf t = AW_BUF_INIT;
	sync_block *b;
	aw_event e = {.id = 7, .has_id = true, .start = 1700000000123456789LL, .duration = 5000000000LL,
		      .data = "{\"app\":\"x\",\"title\":\"a\\nb\"}", .data_len = 26};

	(void)state;
	memset(&s, 0, sizeof(s));
	s.device_id = str_dup(DEV);
	s.hostname = str_dup("laptop");
	s.generation = 3;
	s.has_prev = true;
	memset(s.prev, 0xab, sizeof(s.prev));
	s.written_at = 42;
	s.owns_data = true;
	b = segment_block(&s, "aw-watcher-window_laptop");
	b->has_meta = true;
	b->meta.id = str_dup("aw-watcher-window_laptop");
	b->meta.type = str_dup("currentwindow");
	b->meta.client = str_dup("aw-watcher-window");
	b->meta.hostname = str_dup("laptop");
	b->meta.data = str_dup("{\"k\":[1,2]}");
	b->meta.created = -5;
	block_put(b, &e);
	e.id = -3; /* negative numbers survive too */
	e.start = -1;
	block_put(b, &e);
	block_del(b, 99);
	b = segment_block(&s, "gone");
	b->reset = true;
	segment_encode(&t, &s);
	assert_int_equal(segment_parse(&r, t.data, t.len), 0);
	assert_string_equal(r.device_id, DEV);
	assert_string_equal(r.hostname, "laptop");
	assert_int_equal(r.generation, 3);
	assert_true(r.has_prev);
	assert_memory_equal(r.prev, s.prev, AWS_HASH_BYTES);
	assert_int_equal(r.n_blocks, 2);
	assert_string_equal(r.blocks[0].bucket, "aw-watcher-window_laptop");
	assert_true(r.blocks[0].has_meta);
	assert_string_equal(r.blocks[0].meta.type, "currentwindow");
	assert_string_equal(r.blocks[0].meta.data, "{\"k\":[1,2]}");
	assert_int_equal(r.blocks[0].meta.created, -5);
	assert_null(r.blocks[0].meta.last_updated);
	assert_int_equal(r.blocks[0].n_puts, 2);
	assert_int_equal(r.blocks[0].puts[0].id, 7);
	assert_int_equal(r.blocks[0].puts[0].start, 1700000000123456789LL);
	assert_int_equal(r.blocks[0].puts[0].duration, 5000000000LL);
	assert_int_equal(r.blocks[0].puts[0].data_len, 26);
	assert_memory_equal(r.blocks[0].puts[0].data, e.data, 26);
	assert_int_equal(r.blocks[0].puts[1].id, -3);
	assert_int_equal(r.blocks[0].n_dels, 1);
	assert_int_equal(r.blocks[0].dels[0], 99);
	assert_true(r.blocks[1].reset);
	assert_false(r.blocks[1].has_meta);
	assert_int_equal(segment_records(&r), 3);
	segment_free(&r);
	segment_free(&s);
	aw_buf_free(&t);
}

static void expect_bad_segment(const char *text)
{
	char *copy = str_dup(text);
	sync_segment s;

	assert_int_equal(segment_parse(&s, copy, strlen(copy)), AW_EINVALID);
	segment_free(&s);
	free(copy);
}

static void test_segment_malformed(void **state)
{
	(void)state;
	expect_bad_segment("");
	expect_bad_segment("AWSYNC-SEGMENT 2\n");
	expect_bad_segment("AWSYNC-SEGMENT 1\nE 0\n");                                     /* no header */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "P 1 2 3 {}\nE 1\n");                                            /* event outside a bucket */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "E 1\n");                                                        /* count mismatch */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "E 0\nE 0\n");                                                   /* after the end */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "E 0");                                                          /* unterminated */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "B {\"bucket\":\"b\",\"reset\":false,\"meta\":{\"id\":\"b\",\"created\":0}}\n"
			   "P 1 x 3 {}\nE 1\n");                                            /* bad number */
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "B {\"bucket\":\"b\",\"reset\":false,\"meta\":{\"id\":\"other\",\"created\":0}}\nE 0\n");
	expect_bad_segment("AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"hostname\":\"h\",\"generation\":1,\"prev\":null}\n"
			   "B {\"bucket\":\"b\",\"reset\":false,\"meta\":{\"id\":\"b\",\"created\":0}}\n"
			   "P 1 2 99999999999999999999 {}\nE 1\n");                          /* overflow */
}

static void test_manifest_roundtrip(void **state)
{
	sync_manifest m, r;
	aw_bucket b[2];
	char *json;

	(void)state;
	memset(&m, 0, sizeof(m));
	memset(b, 0, sizeof(b));
	b[0].id = "a";
	b[0].type = "t";
	b[0].created = 5;
	b[1].id = "b";
	m.device_id = (char *)DEV;
	m.hostname = "desk";
	m.generation = 12;
	memset(m.head, 7, sizeof(m.head));
	m.written_at = 99;
	m.software = "awnode test";
	m.buckets = b;
	m.n_buckets = 2;
	json = manifest_json(&m);
	assert_int_equal(manifest_parse(&r, json, strlen(json)), 0);
	assert_string_equal(r.device_id, DEV);
	assert_string_equal(r.hostname, "desk");
	assert_int_equal(r.generation, 12);
	assert_memory_equal(r.head, m.head, AWS_HASH_BYTES);
	/* where the chain ends, until a tail is looked for: the manifest's own segment */
	assert_int_equal(r.last, 12);
	assert_memory_equal(r.last_hash, m.head, AWS_HASH_BYTES);
	assert_int_equal(r.n_buckets, 2);
	assert_string_equal(r.buckets[0].id, "a");
	assert_int_equal(r.buckets[0].created, 5);
	manifest_free(&r);
	free(json);
	assert_int_not_equal(manifest_parse(&r, "{\"format\":\"awsync-manifest\",\"version\":2}", 40), 0);
	manifest_free(&r);
	assert_int_not_equal(manifest_parse(&r, "[]", 2), 0);
	manifest_free(&r);
}

/* A manifest's text with generation 12 and `extra` members (each followed by a comma)
 * before "version". */
static void manifest_text(char *out, size_t n, const char *extra, int version)
{
	snprintf(out, n,
		 "{\"buckets\":[],\"device_id\":\"%s\",\"format\":\"awsync-manifest\",\"generation\":12,"
		 "\"head\":\"%064d\",\"hostname\":\"h\",%s\"version\":%d}",
		 DEV, 0, extra, version);
}

/* Version 2: a manifest's pack list round-trips, makes the manifest version 2 (so a
 * version-1 reader refuses it), and is refused whole when it breaks the rules. */
static void test_manifest_packs(void **state)
{
	static const char *bad[] = {
		"[[0,3,0,10]]",             /* generation 0 */
		"[[2,1,0,10]]",             /* last before first */
		"[[1,3,0,10],[3,5,0,10]]",  /* overlapping */
		"[[4,5,0,10],[1,3,0,10]]",  /* out of order */
		"[[1,13,0,10]]",            /* beyond the generation */
		"[[1,3,256,10]]",           /* level */
		"[[1,3,0,-1]]",             /* size */
		"[[1,3,0]]",                /* short */
		"[[1,3,\"0\",10]]",        /* not an integer */
		"{}",
	};
	sync_manifest m, r;
	sync_pack p[2] = {{1, 5, 1, 1000}, {6, 9, 0, 200}};
	unsigned char pk[AWS_SIGN_PK], sk[AWS_SIGN_SK];
	char *json, text[1024], extra[512], zeros[2 * AWS_SIG_BYTES + 1];

	(void)state;
	crypto_sign_keypair(pk, sk);
	memset(zeros, '0', sizeof(zeros) - 1);
	zeros[sizeof(zeros) - 1] = '\0';
	memset(&m, 0, sizeof(m));
	m.device_id = (char *)DEV;
	m.hostname = "desk";
	m.generation = 12;
	m.packs = p;
	m.n_packs = 2;
	json = manifest_signed_json(&m, sk, "group-1");
	/* every signed manifest is of version 3: segments may follow it (a reader of
	 * version 2 refuses it instead of missing them) */
	assert_non_null(strstr(json, "\"version\":3"));
	assert_non_null(strstr(json, "\"packs\":[[1,5,1,1000],[6,9,0,200]]"));
	assert_int_equal(manifest_parse(&r, json, strlen(json)), 0);
	assert_true(r.has_sig);
	assert_memory_equal(r.signing_key, pk, AWS_SIGN_PK);
	assert_int_equal(manifest_verify(&r, json, strlen(json), "group-1"), 0);
	/* another group, or one byte changed anywhere: refused */
	assert_int_equal(manifest_verify(&r, json, strlen(json), "group-2"), AW_EINVALID);
	json[strlen(json) - 3] ^= 1;
	assert_int_equal(manifest_verify(&r, json, strlen(json), "group-1"), AW_EINVALID);
	json[strlen(json) - 3] ^= 1;
	assert_int_equal(r.n_packs, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(r.packs[i].first, p[i].first);
		assert_int_equal(r.packs[i].last, p[i].last);
		assert_int_equal(r.packs[i].level, p[i].level);
		assert_int_equal(r.packs[i].bytes, p[i].bytes);
	}
	manifest_free(&r);
	free(json);
	m.n_packs = 0;
	m.has_sig = false;
	json = manifest_json(&m);
	assert_non_null(strstr(json, "\"version\":1"));
	free(json);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(extra, sizeof(extra), "\"packs\":%s,\"signature\":\"%s\",\"signing_key\":\"%064d\",", bad[i],
			 zeros, 0);
		manifest_text(text, sizeof(text), extra, 2);
		assert_int_equal(manifest_parse(&r, text, strlen(text)), AW_EINVALID);
		manifest_free(&r);
	}
	/* packs in a version-1 manifest: a version-1 reader would ignore them, so no */
	manifest_text(text, sizeof(text), "\"packs\":[[1,3,0,1]],", 1);
	assert_int_equal(manifest_parse(&r, text, strlen(text)), AW_EINVALID);
	manifest_free(&r);
	/* version 2 or 3 without a signature */
	manifest_text(text, sizeof(text), "", 2);
	assert_int_equal(manifest_parse(&r, text, strlen(text)), AW_EINVALID);
	manifest_free(&r);
	manifest_text(text, sizeof(text), "", 3);
	assert_int_equal(manifest_parse(&r, text, strlen(text)), AW_EINVALID);
	manifest_free(&r);
	/* a later version than this reader knows: refused, saying so */
	snprintf(extra, sizeof(extra), "\"signature\":\"%s\",\"signing_key\":\"%064d\",", zeros, 0);
	manifest_text(text, sizeof(text), extra, 3);
	assert_int_equal(manifest_parse(&r, text, strlen(text)), 0);
	assert_int_equal(r.version, 3);
	manifest_free(&r);
	manifest_text(text, sizeof(text), extra, 4);
	assert_int_equal(manifest_parse(&r, text, strlen(text)), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "version 4 is not supported"));
	manifest_free(&r);
}

/* A pack's signature line: made by segment_sign, found by segment_signature, checked
 * with verify_bytes; the parser accepts it as the last line only. */
static void test_segment_signature(void **state)
{
	sync_segment s, r;
	aw_buf out = AW_BUF_INIT;
	unsigned char pk[AWS_SIGN_PK], sk[AWS_SIGN_SK], sig[AWS_SIG_BYTES];
	size_t n;

	(void)state;
	crypto_sign_keypair(pk, sk);
	memset(&s, 0, sizeof(s));
	s.device_id = (char *)DEV;
	s.hostname = "desk";
	s.generation = 3;
	segment_encode(&out, &s);
	assert_int_equal(segment_signature(out.data, out.len, sig, &n), -1);
	segment_sign(&out, sk, "g", DEV, "seg/000000/000000000003.aws");
	assert_int_equal(segment_signature(out.data, out.len, sig, &n), 0);
	assert_int_equal(verify_bytes(sig, pk, "g", DEV, "seg/000000/000000000003.aws", out.data, n), 0);
	assert_int_equal(verify_bytes(sig, pk, "g", DEV, "seg/000000/000000000004.aws", out.data, n), -1);
	assert_int_equal(verify_bytes(sig, pk, "g", "other", "seg/000000/000000000003.aws", out.data, n), -1);
	out.data[5] ^= 1;
	assert_int_equal(verify_bytes(sig, pk, "g", DEV, "seg/000000/000000000003.aws", out.data, n), -1);
	out.data[5] ^= 1;
	assert_int_equal(segment_parse(&r, out.data, out.len), 0);
	assert_true(r.has_sig);
	segment_free(&r);
	aw_buf_free(&out);
	/* twice signed: the second line is data after the end */
	segment_encode(&out, &s);
	segment_sign(&out, sk, "g", DEV, "x");
	segment_sign(&out, sk, "g", DEV, "x");
	assert_int_equal(segment_parse(&r, out.data, out.len), AW_EINVALID);
	aw_buf_free(&out);
}

/* A pack's header round-trips; a pack whose first generation is after its own is refused. */
static void test_pack_header(void **state)
{
	sync_segment s, r;
	aw_buf out = AW_BUF_INIT;
	char *bad;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.device_id = (char *)DEV;
	s.hostname = "desk";
	s.generation = 40;
	s.is_pack = true;
	s.first = 17;
	s.has_prev = true;
	memset(s.prev, 3, AWS_HASH_BYTES);
	memset(s.end, 9, AWS_HASH_BYTES);
	segment_encode(&out, &s);
	assert_int_equal(segment_parse(&r, out.data, out.len), 0);
	assert_true(r.is_pack);
	assert_int_equal(r.first, 17);
	assert_int_equal(r.generation, 40);
	assert_memory_equal(r.end, s.end, AWS_HASH_BYTES);
	assert_memory_equal(r.prev, s.prev, AWS_HASH_BYTES);
	segment_free(&r);
	aw_buf_free(&out);
	s.is_pack = false;
	segment_encode(&out, &s);
	assert_int_equal(segment_parse(&r, out.data, out.len), 0);
	assert_false(r.is_pack);
	segment_free(&r);
	aw_buf_free(&out);
	s.is_pack = true;
	s.first = 41;
	segment_encode(&out, &s);
	bad = strndup(out.data, out.len);
	assert_int_equal(segment_parse(&r, bad, out.len), AW_EINVALID);
	free(bad);
	aw_buf_free(&out);
}

/* ---- folding: a pack applied from any cursor does what its segments do ---------------------- */

#define FB 3  /* buckets */
#define FE 24 /* event ids 1..FE */
#define FN 10 /* segments per history */

typedef struct fstate {
	bool exists[FB];
	int64_t meta[FB];
	bool has[FB][FE + 1];
	int64_t val[FB][FE + 1];
} fstate;

static const char *fold_bucket_name(int b)
{
	static const char *names[FB] = {"win", "afk", "web"};
	return names[b];
}

static int fold_bucket_index(const char *name)
{
	for (int b = 0; b < FB; b++)
		if (!strcmp(name, fold_bucket_name(b)))
			return b;
	fail();
	return 0;
}

/* What an importer does with a segment (import.c, apply_segment; storage's remote
 * apply), on the model. */
static void fold_apply(fstate *st, const sync_segment *s)
{
	for (size_t i = 0; i < s->n_blocks; i++) {
		const sync_block *blk = &s->blocks[i];
		int b = fold_bucket_index(blk->bucket);
		if (blk->reset) {
			st->exists[b] = false;
			memset(st->has[b], 0, sizeof(st->has[b]));
		}
		if (!blk->has_meta)
			continue;
		st->exists[b] = true;
		st->meta[b] = blk->meta.created;
		for (size_t k = 0; k < blk->n_puts; k++) {
			st->has[b][blk->puts[k].id] = true;
			st->val[b][blk->puts[k].id] = blk->puts[k].start;
		}
		for (size_t k = 0; k < blk->n_dels; k++)
			st->has[b][blk->dels[k]] = false;
	}
}

static void fold_assert_same(const fstate *x, const fstate *y)
{
	for (int b = 0; b < FB; b++) {
		assert_int_equal(x->exists[b], y->exists[b]);
		if (!x->exists[b])
			continue;
		assert_int_equal(x->meta[b], y->meta[b]);
		for (int e = 1; e <= FE; e++) {
			assert_int_equal(x->has[b][e], y->has[b][e]);
			if (x->has[b][e])
				assert_int_equal(x->val[b][e], y->val[b][e]);
		}
	}
}

/* A random segment as an export writes one: per bucket at most one block, an event id
 * at most once in it; now and then a bucket deleted, or deleted and created again. */
static void fold_random_segment(sync_segment *s, int64_t gen, unsigned *seed)
{
	memset(s, 0, sizeof(*s));
	s->owns_data = true;
	for (int b = 0; b < FB; b++) {
		int r = rand_r(seed) % 10;
		sync_block *blk;
		bool used[FE + 1] = {false};
		if (r < 3)
			continue;
		blk = segment_block(s, fold_bucket_name(b));
		if (r == 3) {
			blk->reset = true; /* deleted */
			continue;
		}
		blk->reset = r == 4; /* deleted and created again */
		blk->has_meta = true;
		blk->meta.id = strdup(fold_bucket_name(b));
		blk->meta.data = strdup("{}");
		blk->meta.created = gen * 10 + r;
		for (int k = rand_r(seed) % 6; k > 0; k--) {
			int64_t id = 1 + rand_r(seed) % FE;
			aw_event e = {.id = id, .has_id = true, .start = gen * 100 + id, .duration = 1,
				      .data = "{}", .data_len = 2};
			if (used[id])
				continue;
			used[id] = true;
			if (rand_r(seed) % 4)
				block_put(blk, &e);
			else
				block_del(blk, id);
		}
	}
}

static void test_fold_equivalence(void **state)
{
	unsigned seed = 1234;

	(void)state;
	for (int history = 0; history < 150; history++) {
		sync_segment segs[FN];
		fstate full;

		memset(&full, 0, sizeof(full));
		for (int g = 0; g < FN; g++) {
			fold_random_segment(&segs[g], g + 1, &seed);
			fold_apply(&full, &segs[g]);
		}
		/* every range a..b, applied by an importer whose cursor c is anywhere from just
		 * before the range to its end */
		for (int a = 0; a < FN; a++)
			for (int b = a; b < FN; b++) {
				const sync_segment *in[FN];
				sync_segment pack;
				for (int i = a; i <= b; i++)
					in[i - a] = &segs[i];
				memset(&pack, 0, sizeof(pack));
				segments_fold(&pack, in, (size_t)(b - a + 1));
				for (int c = a; c <= b + 1; c++) {
					fstate st;
					memset(&st, 0, sizeof(st));
					for (int i = 0; i < c; i++)
						fold_apply(&st, &segs[i]);
					fold_apply(&st, &pack);
					for (int i = b + 1; i < FN; i++)
						fold_apply(&st, &segs[i]);
					fold_assert_same(&st, &full);
				}
				segment_free(&pack);
			}
		for (int g = 0; g < FN; g++)
			segment_free(&segs[g]);
	}
}

/* The files an importer reads after its cursor: packs where listed, segments elsewhere,
 * a pack that covers the cursor included. */
static void test_chain_files(void **state)
{
	sync_pack p[2] = {{1, 10, 1, 0}, {11, 20, 0, 0}};
	sync_manifest m;
	chain_file *f;
	size_t n;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.generation = 23;
	m.last = 23;
	m.packs = p;
	m.n_packs = 2;
	f = chain_files(&m, 0, &n);
	assert_int_equal(n, 5);
	assert_true(f[0].pack && f[0].first == 1 && f[0].last == 10);
	assert_true(f[1].pack && f[1].first == 11 && f[1].last == 20);
	assert_true(!f[2].pack && f[2].first == 21 && f[2].last == 21);
	assert_true(!f[4].pack && f[4].last == 23);
	for (size_t i = 0; i < n; i++)
		assert_false(f[i].tail);
	free(f);
	/* a version-3 manifest written with segment 21, two segments after it: those are
	 * its tail, which must be signed (load_chain_file) */
	m.generation = 21;
	f = chain_files(&m, 0, &n);
	assert_int_equal(n, 5);
	assert_true(!f[2].tail && f[2].last == 21);
	assert_true(f[3].tail && !f[3].pack && f[3].last == 22);
	assert_true(f[4].tail && f[4].last == 23);
	free(f);
	f = chain_files(&m, 22, &n); /* a cursor inside the tail */
	assert_int_equal(n, 1);
	assert_true(f[0].tail && f[0].first == 23);
	free(f);
	m.generation = 23;
	f = chain_files(&m, 15, &n); /* inside the second pack */
	assert_int_equal(n, 4);
	assert_true(f[0].pack && f[0].first == 11);
	free(f);
	f = chain_files(&m, 20, &n);
	assert_int_equal(n, 3);
	assert_true(!f[0].pack && f[0].first == 21);
	free(f);
	f = chain_files(&m, 23, &n);
	assert_int_equal(n, 0);
	free(f);
}

static void test_group_and_key(void **state)
{
	sync_group g, r;
	unsigned char key[AWS_KEY_BYTES], k2[AWS_KEY_BYTES];
	sync_keyring *ring = ring_new();
	char dir[] = "/tmp/aws-test-XXXXXX", path[128], *json;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	group_new(&g, 1, 8u << 20);
	assert_int_equal(derive_key(key, &g, "correct horse", 13), 0);
	key_check(g.key_check, key);
	json = group_json(&g);
	assert_int_equal(group_parse(&r, json, strlen(json)), 0);
	assert_string_equal(r.group, g.group);
	assert_memory_equal(r.salt, g.salt, sizeof(g.salt));
	assert_string_equal(r.key_check, g.key_check);
	free(json);
	/* the same passphrase gives the same key; another does not */
	assert_int_equal(derive_key(k2, &r, "correct horse", 13), 0);
	assert_memory_equal(k2, key, sizeof(key));
	assert_int_equal(derive_key(k2, &r, "correct horsE", 13), 0);
	assert_memory_not_equal(k2, key, sizeof(key));
	snprintf(path, sizeof(path), "%s/sync.key", dir);
	assert_int_equal(key_save(path, &g, key), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ring_load(ring, path, &g), 0);
	assert_memory_equal(ring_find(ring, NULL)->key, key, sizeof(key));
	/* another group's folder */
	group_new(&r, 1, 8u << 20);
	memcpy(r.key_check, g.key_check, sizeof(r.key_check));
	assert_int_equal(ring_load(ring, path, &r), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "another sync group"));
	/* a key check that does not match */
	r = g;
	r.key_check[0] = r.key_check[0] == '0' ? '1' : '0';
	assert_int_equal(ring_load(ring, path, &r), AW_EINVALID);
	/* readable by others */
	chmod(path, 0644);
	assert_int_equal(ring_load(ring, path, &g), AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "chmod 600"));
	unlink(path);
	assert_int_equal(ring_load(ring, path, &g), AW_ENOTFOUND);
	rmdir(dir);
	ring_free(ring);
}

/* The key file with later epochs (docs/sync-format.md §3, §4b): keys kept per epoch,
 * epoch 0's destroyed with the archive's seed kept, files sealed under an epoch opening
 * with its key only. */
static void test_keyring(void **state)
{
	sync_group g;
	unsigned char k0[AWS_KEY_BYTES], e3[AWS_KEY_BYTES], id3[AWS_EPOCH_ID], seed[AWS_KEY_BYTES], s2[AWS_KEY_BYTES];
	char dir[] = "/tmp/aws-ring-XXXXXX", path[128];
	sync_keyring *ring = ring_new(), *back = ring_new();
	aw_buf sealed = AW_BUF_INIT, out = AW_BUF_INIT;
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sync.key", dir);
	group_new(&g, 1, 8u << 20);
	assert_int_equal(derive_key(k0, &g, "correct horse", 13), 0);
	key_check(g.key_check, k0);
	randombytes_buf(e3, sizeof(e3));
	randombytes_buf(id3, sizeof(id3));
	ring_add(ring, 0, NULL, k0);
	ring_add(ring, 3, id3, e3);
	ring_add(ring, 3, id3, e3); /* held already: not twice */
	assert_int_equal(ring->n, 2);
	assert_int_equal(ring_save(path, &g, ring), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ring_load(back, path, &g), 0);
	assert_int_equal(back->n, 2);
	assert_int_equal(ring_newest(back)->n, 3);
	assert_memory_equal(ring_find(back, id3)->key, e3, sizeof(e3));
	assert_memory_equal(ring_find(back, NULL)->key, k0, sizeof(k0));

	/* sealed under epoch 3: opens with the ring, not without that epoch's key */
	assert_int_equal(seal_epoch(&sealed, ring_find(back, id3), "dev", "manifest.aws", "hello", 5), 0);
	assert_memory_equal(sealed.data, "AWSENC2\n", 8);
	assert_memory_equal(sealed.data + 8, id3, AWS_EPOCH_ID);
	assert_int_equal(unseal_ring(&out, back, "dev", "manifest.aws", sealed.data, sealed.len), 0);
	assert_string_equal(out.data, "hello");
	assert_int_equal(unseal_ring(&out, back, "dev", "other.aws", sealed.data, sealed.len), AW_EINVALID);
	/* moving on: epoch 0 goes, its archive seed stays */
	archive_seed_derive(seed, k0);
	assert_true(ring_keep_only(back, id3));
	assert_false(ring_keep_only(back, id3));
	assert_int_equal(back->n, 1);
	assert_int_equal(ring_save(path, &g, back), 0);
	assert_int_equal(ring_load(ring, path, &g), 0);
	assert_int_equal(ring->n, 1);
	assert_null(ring_find(ring, NULL));
	assert_int_equal(archive_seed_load(s2, path, &g), 0);
	assert_memory_equal(s2, seed, sizeof(seed));
	assert_int_equal(unseal_ring(&out, ring, "dev", "manifest.aws", sealed.data, sealed.len), 0);
	/* a file of epoch 0 no longer opens: its key is gone */
	aw_buf_reset(&sealed);
	assert_int_equal(seal_file(&sealed, k0, "dev", "manifest.aws", "old", 3), 0);
	assert_int_equal(unseal_ring(&out, ring, "dev", "manifest.aws", sealed.data, sealed.len), AW_ENOTFOUND);
	assert_non_null(strstr(aw_error_last(), "does not hold"));
	/* a malformed epoch line: the key file is refused */
	f = fopen(path, "a");
	fputs("epoch 4 nothex 00\n", f);
	fclose(f);
	assert_int_equal(ring_load(ring, path, &g), AW_EINVALID);
	unlink(path);
	rmdir(dir);
	aw_buf_free(&sealed);
	aw_buf_free(&out);
	ring_free(ring);
	ring_free(back);
}

static void test_group_rejects(void **state)
{
	sync_group g;
	const char *bad[] = {
		"[]",
		"{\"format\":\"other\",\"version\":1}",
		"{\"format\":\"awsync\",\"version\":2,\"group\":\"g\"}",
		"{\"format\":\"awsync\",\"version\":1,\"group\":\"g\",\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
		"\"00112233445566778899aabbccddeeff\",\"opslimit\":1,\"memlimit\":1024},\"key_check\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"format\":\"awsync\",\"version\":1,\"group\":\"g\",\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
		"\"00112233445566778899aabbccddeeff\",\"opslimit\":11,\"memlimit\":8388608},\"key_check\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"format\":\"awsync\",\"version\":1,\"group\":\"g\",\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
		"\"00112233445566778899aabbccddeeff\",\"opslimit\":1,\"memlimit\":1073741825},\"key_check\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		"{\"format\":\"awsync\",\"version\":1,\"group\":\"g\",\"kdf\":{\"algorithm\":\"scrypt\",\"salt\":"
		"\"00112233445566778899aabbccddeeff\",\"opslimit\":1,\"memlimit\":8388608},\"key_check\":"
		"\"0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	const char *good = "{\"format\":\"awsync\",\"version\":1,\"group\":\"g\",\"kdf\":{\"algorithm\":\"argon2id13\",\"salt\":"
			   "\"00112233445566778899aabbccddeeff\",\"opslimit\":1,\"memlimit\":8388608},\"key_check\":"
			   "\"0000000000000000000000000000000000000000000000000000000000000000\"}";

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(group_parse(&g, bad[i], strlen(bad[i])), AW_EINVALID);
	assert_int_equal(group_parse(&g, good, strlen(good)), 0);
	assert_int_equal(g.opslimit, 1);
}

/* Cutting an export to size: every part within the bound, records in order, each
 * block's reset only in its first part, and the parts replay to the whole. */
static void test_segment_split(void **state)
{
	sync_segment s, *parts = NULL;
	size_t n = 0, puts = 0, dels = 0, resets = 0;
	aw_buf t = AW_BUF_INIT;
	char data[200];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.device_id = str_dup(DEV);
	s.hostname = str_dup("laptop");
	s.owns_data = true;
	for (int k = 0; k < 3; k++) {
		char name[32];
		sync_block *b;
		snprintf(name, sizeof(name), "bucket-%d", k);
		b = segment_block(&s, name);
		b->reset = k == 1;
		b->has_meta = true;
		b->meta.id = str_dup(name);
		b->meta.data = str_dup("{}");
		for (int i = 0; i < 500; i++) {
			int len = snprintf(data, sizeof(data), "{\"title\":\"event %d of %d %.*s\"}", i, k, i % 90,
					   "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
			aw_event e = {.id = i, .has_id = true, .start = i, .duration = 1, .data = data, .data_len = (size_t)len};
			block_put(b, &e);
			if (i % 7 == 0)
				block_del(b, 100000 + i);
		}
	}
	assert_int_equal(segment_split(&parts, &n, &s, 4096), 0);
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++) {
		sync_segment r;
		parts[i].generation = 1000000 + (int64_t)i;
		parts[i].has_prev = true;
		parts[i].written_at = 1;
		aw_buf_reset(&t);
		segment_encode(&t, &parts[i]);
		assert_true(t.len <= 4096);
		assert_int_equal(segment_parse(&r, t.data, t.len), 0);
		for (size_t j = 0; j < r.n_blocks; j++) {
			const sync_block *b = &r.blocks[j];
			resets += b->reset;
			assert_true(b->has_meta);
			for (size_t q = 0; q < b->n_puts; q++)
				assert_int_equal(b->puts[q].id, (int64_t)(puts++ % 500));
			dels += b->n_dels;
		}
		segment_free(&r);
	}
	assert_int_equal(puts, 1500);
	assert_int_equal(dels, 3 * 72);
	assert_int_equal(resets, 1);
	segment_parts_free(parts, n);
	/* a bound that fits everything gives one part; one too small for a record fails */
	assert_int_equal(segment_split(&parts, &n, &s, AWS_MAX_WRITE_PLAIN), 0);
	assert_int_equal(n, 1);
	segment_parts_free(parts, n);
	assert_int_equal(segment_split(&parts, &n, &s, 300), AW_EINVALID);
	assert_null(parts);
	segment_free(&s);
	aw_buf_free(&t);
}

/* The folder's layout: what a tree or a file syncer may put where. */
static void test_folder_paths(void **state)
{
	const char *good[] = {
		"awsync.json",
		"devices/0b7e3b1c-8a55-4a52-9d7e-2c1f0a9d6e11/manifest.aws",
		"devices/dev-1/seg/000000/000000000001.aws",
		"devices/dev-1/seg/000123/000000123456.aws",
		"devices/dev-1/archive/archive.json",
		"devices/dev-1/archive/seg-000000000007.awa",
	};
	const char *bad[] = {
		"", "/etc/passwd", "../x", "..", ".", "devices/../awsync.json", "devices/dev-1/../../x",
		".git/config", ".GIT/hooks/post-checkout", "devices/.git/manifest.aws", "devices/dev-1/.git/x",
		"devices/dev-1/manifest.aws/x", "devices/dev-1", "devices", "devices/dev-1/seg/000000",
		"devices/dev-1/seg/00000/000000000001.aws", "devices/dev-1/seg/000000/00000000001.aws",
		"devices/dev-1/seg/000000/000000000001.aws.tmp", "devices/dev-1/seg/000000/x00000000001.aws",
		"devices/dev-1/evil", "devices/dev-1//manifest.aws", "devices/a b/manifest.aws",
		"devices/dev-1/archive/seg-1.awa", "devices/dev-1/archive/../../x", "README",
		"devices/.hidden/manifest.aws", "devices/dev\\1/manifest.aws", "awsync.json/x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(folder_path_ok(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (folder_path_ok(bad[i]))
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(folder_child(AWS_F_ROOT, "devices", 7, false), AWS_F_BAD);
	assert_int_equal(folder_child(AWS_F_ROOT, "awsync.json", 11, true), AWS_F_BAD);
	assert_int_equal(folder_child(AWS_F_DEVICES, "..", 2, true), AWS_F_BAD);
}

/* Reads through the folder never follow a symbolic link and never read beyond the
 * bound; writes refuse names outside the layout. */
static void test_folder_io(void **state)
{
	char dir[] = "/tmp/aws-folder-XXXXXX", *p;
	unsigned char *out;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(folder_write(dir, "devices/dev-1/manifest.aws", "abc", 3, true), 0);
	assert_int_equal(folder_read(dir, "devices/dev-1/manifest.aws", 16, &out, &len), 0);
	assert_int_equal(len, 3);
	free(out);
	assert_int_equal(folder_read(dir, "devices/dev-1/manifest.aws", 2, &out, &len), AW_EINVALID);
	assert_int_equal(folder_write(dir, "../escape", "x", 1, false), AW_EINVALID);
	assert_int_equal(folder_write(dir, ".git/config", "x", 1, false), AW_EINVALID);
	/* a symbolic link in place of a directory and of a file */
	p = aw_mem_printf("%s/devices/dev-2", dir);
	assert_int_equal(symlink("/tmp", p), 0);
	free(p);
	assert_int_equal(folder_write(dir, "devices/dev-2/manifest.aws", "x", 1, false), AW_EINVALID);
	assert_int_equal(folder_read(dir, "devices/dev-2/manifest.aws", 16, &out, &len), AW_EINVALID);
	p = aw_mem_printf("%s/awsync.json", dir);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	free(p);
	assert_int_equal(folder_read(dir, "awsync.json", 1024, &out, &len), AW_EINVALID);
	/* writing replaces the link itself, never its target */
	assert_int_equal(folder_write(dir, "awsync.json", "{}", 2, false), 0);
	assert_int_equal(folder_read(dir, "awsync.json", 1024, &out, &len), 0);
	assert_int_equal(len, 2);
	free(out);
	assert_int_equal(folder_unlink(dir, "devices/dev-1/manifest.aws"), 0);
	assert_int_equal(folder_read(dir, "devices/dev-1/manifest.aws", 16, &out, &len), AW_ENOTFOUND);
	assert_int_equal(test_rmtree(dir), 0);
}

/* A sealed file whose content claims more than the reader's bound is refused before
 * the buffer is allocated. */
static void test_unseal_bound(void **state)
{
	aw_buf sealed = AW_BUF_INIT, out = AW_BUF_INIT;
	char *big = calloc(1, 1 << 20);

	(void)state;
	assert_non_null(big);
	seal(&sealed, big, 1 << 20, "manifest.aws");
	assert_true(sealed.len < 8192); /* zeros compress */
	assert_int_equal(unseal_file_max(&out, KEY, DEV, "manifest.aws", sealed.data, sealed.len, (1 << 20) - 1),
			 AW_EINVALID);
	assert_non_null(strstr(aw_error_last(), "at most"));
	assert_int_equal(unseal_file_max(&out, KEY, DEV, "manifest.aws", sealed.data, sealed.len, 1 << 20), 0);
	assert_int_equal(out.len, 1 << 20);
	free(big);
	aw_buf_free(&sealed);
	aw_buf_free(&out);
}

/* A refused segment or manifest holds nothing the caller must free (callers free only
 * what parsed; the sanitizer build's leak check fails otherwise). */
static void test_refused_parse_owns_nothing(void **state)
{
	char seg[] = "AWSYNC-SEGMENT 1\nH {\"device_id\":\"d\",\"generation\":1,\"hostname\":\"h\",\"prev\":null,"
		     "\"written_at\":1}\nB {\"bucket\":\"b\",\"meta\":{\"client\":\"c\",\"created\":1,\"data\":{},"
		     "\"hostname\":\"h\",\"id\":\"b\",\"last_updated\":null,\"type\":\"t\"},\"reset\":false}\nX\n";
	const char *man = "{\"buckets\":[{\"id\":\"b\",\"type\":\"t\"}],\"device_id\":\"d\",\"format\":\"awsync-manifest\","
			  "\"generation\":0,\"head\":\"0000000000000000000000000000000000000000000000000000000000000000\","
			  "\"hostname\":\"h\",\"software\":\"s\",\"version\":1,\"written_at\":1}";
	sync_segment sg;
	sync_manifest m;

	(void)state;
	assert_int_equal(segment_parse(&sg, seg, strlen(seg)), AW_EINVALID);
	assert_null(sg.device_id);
	assert_null(sg.blocks);
	assert_int_equal(manifest_parse(&m, man, strlen(man)), AW_EINVALID);
	assert_null(m.device_id);
	assert_null(m.buckets);
}

static void test_names(void **state)
{
	char n[64];

	(void)state;
	segment_name(n, sizeof(n), 1);
	assert_string_equal(n, "seg/000000/000000000001.aws");
	segment_name(n, sizeof(n), 123456);
	assert_string_equal(n, "seg/000123/000000123456.aws");
	assert_true(valid_device_id(DEV));
	assert_false(valid_device_id(".."));
	assert_false(valid_device_id("a/b"));
	assert_false(valid_device_id(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_bound_to_name_device_key),
		cmocka_unit_test(test_chunks_reordered),
		cmocka_unit_test(test_segment_roundtrip),
		cmocka_unit_test(test_segment_malformed),
		cmocka_unit_test(test_manifest_roundtrip),
		cmocka_unit_test(test_manifest_packs),
		cmocka_unit_test(test_pack_header),
		cmocka_unit_test(test_chain_files),
		cmocka_unit_test(test_fold_equivalence),
		cmocka_unit_test(test_segment_signature),
		cmocka_unit_test(test_group_and_key),
		cmocka_unit_test(test_keyring),
		cmocka_unit_test(test_group_rejects),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_segment_split),
		cmocka_unit_test(test_folder_paths),
		cmocka_unit_test(test_folder_io),
		cmocka_unit_test(test_unseal_bound),
		cmocka_unit_test(test_refused_parse_owns_nothing),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
