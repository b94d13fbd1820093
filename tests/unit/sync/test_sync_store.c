/*
 * Sync end to end inside one process, with the folder shared the way a file syncer
 * (Syncthing) shares it: devices A and B each have their own git folder, and a copy of
 * a device's directory from one folder to the other stands for the syncer. Export,
 * import, heartbeat growth, deletions, idempotence, tamper detection (in the work tree,
 * where such a folder is read) and restore, under the sanitizers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "internal.h"
#include "tmpdir.h"

static char dir[] = "/tmp/aws-store-XXXXXX";
static char folder_a[256], folder_b[256], keyfile[256];
static const char *DEV_A = "aaaaaaaa-0000-4000-8000-000000000001";
static const char *DEV_B = "bbbbbbbb-0000-4000-8000-000000000002";

typedef struct node {
	aw_store *s;
	aw_reader *r;
	aw_sync *y;
} node;

static void node_open(node *n, const char *name, const char *device, const char *host, const char *folder)
{
	char path[512];
	aw_sync_options o;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	assert_int_equal(aw_store_open(&n->s, path, NULL), 0);
	assert_int_equal(aw_reader_open(&n->r, n->s), 0);
	memset(&o, 0, sizeof(o));
	o.device_id = device;
	o.hostname = host;
	o.folder = folder;
	o.key_path = keyfile;
	assert_int_equal(aw_sync_open(&n->y, n->s, &o), 0);
}

static void node_close(node *n)
{
	aw_sync_close(n->y);
	aw_reader_close(n->r);
	aw_store_close(n->s);
}

/* The file syncer: devices/<device>/ from one folder to the other. */
static void syncer(const char *from, const char *to, const char *device)
{
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/devices' && cp -a '%s/devices/%s' '%s/devices/'", to, from, device, to);
	assert_int_equal(system(cmd), 0);
}

static void make_group(void)
{
	sync_group g;
	unsigned char key[AWS_KEY_BYTES];
	sync_repo *repo;
	char *json;
	repo_file f;

	group_new(&g, 1, 8u << 20);
	assert_int_equal(derive_key(key, &g, "test passphrase", 15), 0);
	key_check(g.key_check, key);
	json = group_json(&g);
	f.path = AWS_GROUP_FILE;
	f.data = json;
	f.len = strlen(json);
	assert_int_equal(repo_create(&repo, folder_a, NULL), 0);
	assert_int_equal(repo_commit(repo, &f, 1, "awsync: init"), 0);
	repo_close(repo);
	/* B joined in place: its own repository, awsync.json arrived through the syncer */
	assert_int_equal(repo_create(&repo, folder_b, NULL), 0);
	repo_close(repo);
	{
		char p[512];
		snprintf(p, sizeof(p), "%s/" AWS_GROUP_FILE, folder_b);
		assert_int_equal(aw_files_write(p, json, strlen(json), 0644, AW_FILES_DURABLE), 0);
	}
	assert_int_equal(key_save(keyfile, &g, key), 0);
	free(json);
}

static void write_ok(aw_store *s, aw_write *w)
{
	int rc = aw_store_write(s, w);
	if (rc)
		fail_msg("write failed: %s", w->error);
	aw_write_clear(w);
}

static void create_bucket(node *n, const char *id)
{
	aw_bucket b;
	aw_write w;

	memset(&b, 0, sizeof(b));
	b.id = (char *)id;
	b.type = "currentwindow";
	b.client = "test";
	b.hostname = "host-a";
	b.created = 1000;
	b.data = "{}";
	memset(&w, 0, sizeof(w));
	w.kind = AW_W_BUCKET_CREATE;
	w.bucket = &b;
	write_ok(n->s, &w);
}

/* *w: a write of `kind` that carries the one event *e into `bucket` */
static void one_event_write(aw_write *w, aw_write_kind kind, const char *bucket, aw_event *e)
{
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->bucket_id = bucket;
	w->events = e;
	w->n_events = 1;
}

static int64_t insert(node *n, const char *bucket, aw_ns start, aw_ns dur, const char *data)
{
	aw_event e = {.start = start, .duration = dur, .data = (char *)data, .data_len = strlen(data)};
	aw_write w;
	int64_t id;

	one_event_write(&w, AW_W_EVENTS_INSERT, bucket, &e);
	assert_int_equal(aw_store_write(n->s, &w), 0);
	id = w.out_events[0].id;
	aw_write_clear(&w);
	return id;
}

static void heartbeat(node *n, const char *bucket, aw_ns start, const char *data)
{
	aw_event e = {.start = start, .duration = 0, .data = (char *)data, .data_len = strlen(data)};
	aw_write w;

	one_event_write(&w, AW_W_HEARTBEAT, bucket, &e);
	w.pulsetime = 60 * AW_NS_PER_SEC;
	write_ok(n->s, &w);
}

static void delete_event(node *n, const char *bucket, int64_t id)
{
	aw_write w;

	memset(&w, 0, sizeof(w));
	w.kind = AW_W_EVENT_DELETE;
	w.bucket_id = bucket;
	w.event_id = id;
	write_ok(n->s, &w);
}

/* "start duration data" lines, oldest first; with ids when asked. */
static char *dump(node *n, const char *bucket, bool ids)
{
	aw_event_row *rows;
	size_t nr;
	aw_buf b = AW_BUF_INIT;

	if (aw_reader_event_rows(&rows, &nr, n->r, bucket, AW_NS_MIN, AW_NS_MAX, -1, AW_EVENTS_ASCENDING))
		return NULL;
	for (size_t i = 0; i < nr; i++) {
		const char *data;
		size_t len;
		assert_int_equal(aw_reader_data(&data, &len, n->r, rows[i].data_id), 0);
		if (ids)
			aw_buf_printf(&b, "%lld ", (long long)rows[i].id);
		aw_buf_printf(&b, "%lld %lld %.*s\n", (long long)rows[i].start, (long long)rows[i].duration, (int)len, data);
	}
	free(rows);
	return aw_buf_steal(&b, NULL);
}

static void assert_same(node *a, const char *ba, node *b, const char *bb, bool ids)
{
	char *x = dump(a, ba, ids), *y = dump(b, bb, ids);

	assert_non_null(x);
	assert_non_null(y);
	assert_string_equal(x, y);
	free(x);
	free(y);
}

static void run(node *n, aw_sync_report *rep)
{
	int rc = aw_sync_run(n->y, n->r, rep);
	if (rc)
		fail_msg("sync round failed: %s", rep->error);
}

typedef struct bg {
	node *n;
	aw_sync_report rep;
	int rc;
} bg;

static void *bg_run(void *arg)
{
	bg *b = arg;
	aw_reader *r;

	assert_int_equal(aw_reader_open(&r, b->n->s), 0);
	b->rc = aw_sync_run(b->n->y, r, &b->rep);
	aw_reader_close(r);
	return NULL;
}

static void test_sync_between_stores(void **state)
{
	node a, b, c;
	aw_sync_report rep;
	aw_bucket rb;
	int64_t e1, e3;
	char *st, segpath[512];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(folder_a, sizeof(folder_a), "%s/sync-a", dir);
	snprintf(folder_b, sizeof(folder_b), "%s/sync-b", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/sync.key", dir);
	make_group();
	node_open(&a, "a", DEV_A, "host-a", folder_a);
	node_open(&b, "b", DEV_B, "host-b", folder_b);

	create_bucket(&a, "win_host-a");
	create_bucket(&a, "empty_host-a");
	e1 = insert(&a, "win_host-a", 10 * AW_NS_PER_SEC, 5 * AW_NS_PER_SEC, "{\"app\":\"x\",\"title\":\"secret title\"}");
	insert(&a, "win_host-a", 20 * AW_NS_PER_SEC, 1, "{\"app\":\"y\"}");
	heartbeat(&a, "win_host-a", 30 * AW_NS_PER_SEC, "{\"app\":\"hb\"}");
	heartbeat(&a, "win_host-a", 40 * AW_NS_PER_SEC, "{\"app\":\"hb\"}");
	/* B has a bucket with the same id: A's arrives as -synced-from-host-a */
	create_bucket(&b, "empty_host-a");

	run(&a, &rep);
	assert_true(rep.pushed);
	assert_int_equal(rep.generation, 1);
	assert_int_equal(rep.events_exported, 3);
	syncer(folder_a, folder_b, DEV_A);
	run(&b, &rep);
	assert_int_equal(rep.devices_seen, 1);
	assert_int_equal(rep.devices_failed, 0);
	assert_int_equal(rep.segments_applied, 1);
	assert_same(&a, "win_host-a", &b, "win_host-a", false);
	assert_int_equal(aw_reader_bucket(&rb, b.r, "win_host-a"), 0);
	assert_string_equal(rb.remote_device, DEV_A);
	assert_non_null(strstr(rb.data, "\"$aw.sync.origin\":\"host-a\""));
	aw_bucket_clear(&rb);
	assert_int_equal(aw_reader_bucket(&rb, b.r, "empty_host-a-synced-from-host-a"), 0);
	assert_string_equal(rb.remote_device, DEV_A);
	aw_bucket_clear(&rb);
	assert_int_equal(aw_reader_bucket(&rb, b.r, "empty_host-a"), 0);
	assert_null(rb.remote_device);
	aw_bucket_clear(&rb);

	/* a heartbeat grows an event; a deletion; a bucket created and deleted */
	heartbeat(&a, "win_host-a", 50 * AW_NS_PER_SEC, "{\"app\":\"hb\"}");
	delete_event(&a, "win_host-a", e1);
	e3 = insert(&a, "win_host-a", 60 * AW_NS_PER_SEC, 2, "{\"app\":\"z\"}");
	(void)e3;
	run(&a, &rep);
	assert_int_equal(rep.generation, 2);
	syncer(folder_a, folder_b, DEV_A);
	run(&b, &rep);
	assert_int_equal(rep.segments_applied, 1);
	assert_same(&a, "win_host-a", &b, "win_host-a", false);

	/* B's round exported B's own bucket only, never A's */
	run(&b, &rep);
	assert_false(rep.pushed);
	assert_int_equal(rep.events_applied, 0);
	{
		sync_ctx ctx;
		aw_sync_report r2;
		aw_buf text = AW_BUF_INIT;
		sync_segment seg;
		unsigned char h[AWS_HASH_BYTES];
		memset(&r2, 0, sizeof(r2));
		assert_int_equal(ctx_open(&ctx, b.y, NULL, &r2), 0);
		assert_int_equal(load_segment(&ctx, DEV_B, 1, NULL, &text, &seg, h), 0);
		assert_int_equal(seg.n_blocks, 1);
		assert_string_equal(seg.blocks[0].bucket, "empty_host-a");
		segment_free(&seg);
		aw_buf_free(&text);
		ctx_close(&ctx);
	}

	/* a file that must be signed (a pack) is read only with the signer's signature:
	 * sealed with the group key alone, or signed by another key, it is refused */
	{
		static const char *name = "seg/000000/000000000099.aws";
		sync_ctx ctx;
		aw_sync_report r2;
		aw_buf plain = AW_BUF_INIT, sealed = AW_BUF_INIT, text = AW_BUF_INIT;
		sync_segment s, seg;
		unsigned char pk[AWS_SIGN_PK], sk[AWS_SIGN_SK], pk2[AWS_SIGN_PK], sk2[AWS_SIGN_SK], h[AWS_HASH_BYTES];
		char *rel = aw_mem_printf("devices/%s/%s", DEV_B, name);
		crypto_sign_keypair(pk, sk);
		crypto_sign_keypair(pk2, sk2);
		memset(&r2, 0, sizeof(r2));
		assert_int_equal(ctx_open(&ctx, b.y, NULL, &r2), 0);
		memset(&s, 0, sizeof(s));
		s.device_id = (char *)DEV_B;
		s.hostname = "host-b";
		s.generation = 99;
		segment_encode(&plain, &s);
		assert_int_equal(seal_epoch(&sealed, ctx.wkey, DEV_B, name, plain.data, plain.len), 0);
		assert_int_equal(folder_write(folder_b, rel, sealed.data, sealed.len, false), 0);
		assert_int_equal(load_segment(&ctx, DEV_B, 99, pk, &text, &seg, h), AW_EINVALID);
		segment_free(&seg);
		aw_buf_reset(&text);
		segment_sign(&plain, sk2, ctx.group.group, DEV_B, name);
		aw_buf_reset(&sealed);
		assert_int_equal(seal_epoch(&sealed, ctx.wkey, DEV_B, name, plain.data, plain.len), 0);
		assert_int_equal(folder_write(folder_b, rel, sealed.data, sealed.len, false), 0);
		assert_int_equal(load_segment(&ctx, DEV_B, 99, pk, &text, &seg, h), AW_EINVALID);
		segment_free(&seg);
		aw_buf_reset(&text);
		assert_int_equal(load_segment(&ctx, DEV_B, 99, pk2, &text, &seg, h), 0);
		assert_true(seg.has_sig);
		segment_free(&seg);
		assert_int_equal(folder_unlink(folder_b, rel), 0);
		aw_buf_free(&text);
		aw_buf_free(&plain);
		aw_buf_free(&sealed);
		free(rel);
		ctx_close(&ctx);
	}

	/* tampering with A's newest segment: reported, nothing imported, B untouched */
	insert(&a, "win_host-a", 70 * AW_NS_PER_SEC, 2, "{\"app\":\"after\"}");
	run(&a, &rep);
	assert_int_equal(rep.generation, 3);
	syncer(folder_a, folder_b, DEV_A);
	snprintf(segpath, sizeof(segpath), "%s/devices/%s/seg/000000/000000000003.aws", folder_b, DEV_A);
	{
		unsigned char *f;
		size_t len;
		assert_int_equal(aw_files_read((char **)&f, &len, segpath, SIZE_MAX - 1), 0);
		f[len / 2] ^= 0x40;
		assert_int_equal(aw_files_write(segpath, f, len, 0644, AW_FILES_DURABLE), 0);
		run(&b, &rep);
		assert_int_equal(rep.devices_failed, 1);
		assert_int_equal(rep.events_applied, 0);
		st = aw_sync_status_json(b.y, b.r);
		assert_non_null(strstr(st, "authentication failed"));
		free(st);
		f[len / 2] ^= 0x40;
		assert_int_equal(aw_files_write(segpath, f, len, 0644, AW_FILES_DURABLE), 0);
		free(f);
	}
	run(&b, &rep);
	assert_int_equal(rep.devices_failed, 0);
	assert_int_equal(rep.segments_applied, 1);
	assert_same(&a, "win_host-a", &b, "win_host-a", false);
	st = aw_sync_status_json(b.y, b.r);
	assert_null(strstr(st, "authentication failed"));
	free(st);

	/* restore A into an empty store: ids kept, writable */
	node_open(&c, "c", DEV_A, "host-a", folder_b);
	{
		sync_ctx ctx;
		aw_sync_report r2;
		int64_t nev;
		size_t nb;
		memset(&r2, 0, sizeof(r2));
		assert_int_equal(ctx_open(&ctx, c.y, c.r, &r2), 0);
		assert_int_equal(restore_device(&ctx, DEV_A, &nev, &nb), 0);
		assert_int_equal(nb, 2);
		ctx_close(&ctx);
	}
	assert_same(&a, "win_host-a", &c, "win_host-a", true);
	assert_int_equal(aw_reader_bucket(&rb, c.r, "win_host-a"), 0);
	assert_null(rb.remote_device);
	aw_bucket_clear(&rb);
	/* and it carries on as A without republishing the history */
	run(&c, &rep);
	assert_false(rep.pushed);
	insert(&c, "win_host-a", 80 * AW_NS_PER_SEC, 2, "{\"app\":\"restored\"}");
	run(&c, &rep);
	assert_true(rep.pushed);
	assert_int_equal(rep.generation, 4);
	assert_int_equal(rep.events_exported, 1);
	run(&b, &rep);
	assert_same(&c, "win_host-a", &b, "win_host-a", false);

	/* repacking keeps everything readable and removes the loose objects */
	{
		sync_ctx ctx;
		aw_sync_report r2;
		char p[600];
		memset(&r2, 0, sizeof(r2));
		assert_int_equal(ctx_open(&ctx, b.y, NULL, &r2), 0);
		assert_int_equal(repo_maintain(ctx.repo, true), 0);
		ctx_close(&ctx);
		snprintf(p, sizeof(p), "test -z \"$(find '%s/.git/objects' -path '*/objects/[0-9a-f][0-9a-f]/*' -type f)\"", folder_b);
		assert_int_equal(system(p), 0);
	}
	insert(&c, "win_host-a", 90 * AW_NS_PER_SEC, 2, "{\"app\":\"after repack\"}");
	run(&c, &rep);
	assert_true(rep.pushed);
	run(&b, &rep);
	assert_int_equal(rep.segments_applied, 1);
	assert_same(&c, "win_host-a", &b, "win_host-a", false);
	{
		sync_ctx ctx;
		aw_sync_report r2;
		int64_t nev;
		size_t nb;
		node d;
		memset(&r2, 0, sizeof(r2));
		node_open(&d, "d", DEV_A, "host-a", folder_b);
		assert_int_equal(ctx_open(&ctx, d.y, d.r, &r2), 0);
		assert_int_equal(restore_device(&ctx, DEV_A, &nev, &nb), 0);
		ctx_close(&ctx);
		assert_same(&c, "win_host-a", &d, "win_host-a", true);
		node_close(&d);
	}

	/* the node's pattern: a round on a thread of its own (with its own reader) while
	 * status documents are produced on other threads */
	{
		pthread_t t;
		bg b2 = {&c, {0}, -1};
		insert(&c, "win_host-a", 95 * AW_NS_PER_SEC, 2, "{\"app\":\"threaded\"}");
		assert_int_equal(pthread_create(&t, NULL, bg_run, &b2), 0);
		for (int i = 0; i < 20; i++) {
			char *js = aw_sync_status_json(c.y, c.r);
			assert_non_null(strstr(js, "\"configured\":true"));
			free(js);
		}
		pthread_join(t, NULL);
		assert_int_equal(b2.rc, 0);
		assert_true(b2.rep.pushed);
	}

	/* a cancelled context refuses further rounds */
	aw_sync_cancel(b.y);
	assert_int_equal(aw_sync_run(b.y, b.r, &rep), AW_ESHUTDOWN);
	assert_int_equal(rep.status, AW_ESHUTDOWN);

	node_close(&a);
	node_close(&b);
	node_close(&c);
	assert_int_equal(test_rmtree(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_between_stores),
	};
	crypto_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
