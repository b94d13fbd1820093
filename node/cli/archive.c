/*
 * `awnode archive ...` (docs/archive.md).
 *
 * Archiving and restoring change the database, so they open it themselves; when a
 * running node holds it, archiving asks the node (POST /api/0/archive: the node needs
 * only the archive's public key) and restore decrypts here, then hands the events to
 * the node's import endpoint in pieces below its body limit. `list` reads the index
 * with a read-only connection, which works beside a running node. `init` touches only
 * the archive directory.
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "aw/archive.h"
#include "aw/error.h"
#include "aw/time.h"
#include "cli.h"
#include "sync_cli.h"

#define PROG "awnode archive"
#define IMPORT_PIECE 20000 /* events per import request to a running node */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " --before DATE | --older-than DAYS [--bucket ID]... [--json]\n"
		"       " PROG " init [--passphrase-file FILE] [--kdf-ops N] [--kdf-mem MIB]\n"
		"       " PROG " list [--json]\n"
		"       " PROG " restore [--from DATE] [--to DATE] [--bucket ID]... [--allow-missing]\n"
		"                            [--passphrase-file FILE] [--json]\n"
		"\n"
		"Move this device's events that ended before a cut-off out of the live database into\n"
		"encrypted segments, verified before anything is deleted; list and restore them.\n"
		"Without 'init' the key comes from the sync key. DATE: YYYY-MM-DD (midnight UTC) or\n"
		"an ISO 8601 time. See docs/archive.md.\n"
		"\n"
		"options:\n"
		"  --testing           the testing database, archive and sync key\n"
		"  --dbpath FILE       database (default $XDG_DATA_HOME/awnode/awnode.db)\n"
		"  --dir DIR           archive directory (default: see docs/archive.md)\n"
		"  --folder DIR        sync folder, --key-file FILE  sync key (for the sync-derived key)\n"
		"  --device-id ID      this device's id (default: $XDG_DATA_HOME/awnode/device_id)\n"
		"  --config FILE       config file (port, [auth], [sync])\n"
		"  --port N            port of a running node to ask\n"
		"  --passphrase-file F the archive passphrase (else $AWNODE_ARCHIVE_PASSPHRASE or a prompt)\n"
		"  --allow-missing     restore: restore what can be read and list the segments that\n"
		"                      are missing or damaged, instead of refusing\n"
		"  -h, --help          this help\n");
}

static void progress_tty(void *ctx, const char *what, int64_t done, int64_t total)
{
	(void)ctx;
	if (total)
		fprintf(stderr, "\r\033[K  [%lld/%lld] %s", (long long)done + 1, (long long)total, what);
	else
		fprintf(stderr, "\r\033[K  %s", what);
	fflush(stderr);
}

static void progress_end(sync_cli *c)
{
	if (c->progress)
		fputs("\r\033[K", stderr);
}

static int open_archive(sync_cli *c, aw_archive **out)
{
	aw_archive_options o;

	memset(&o, 0, sizeof(o));
	o.device_id = c->dev;
	o.hostname = c->host;
	o.dir = c->dir;
	o.sync_folder = c->folder ? c->folder : c->cfg_folder;
	o.sync_key = c->key_file ? c->key_file : c->cfg_key;
	o.testing = c->testing;
	if (aw_archive_open(out, &o))
		return fail("%s", aw_error_last());
	return 0;
}

/* The passphrase, locked in memory while it lives (best effort); free it with
 * pass_free. */
static char *passphrase(sync_cli *c, bool confirm)
{
	char *p = sync_cli_passphrase(c, confirm, "AWNODE_ARCHIVE_PASSPHRASE", "Archive");

	if (p)
		(void)sodium_mlock(p, strlen(p) + 1);
	return p;
}

static void pass_free(char *p)
{
	if (!p)
		return;
	sodium_munlock(p, strlen(p) + 1); /* zeroes it */
	sync_cli_free_pass(p);
}

/* ---- init ---------------------------------------------------------------------------------- */

static int archive_init(sync_cli *c)
{
	aw_archive *ar;
	char *p;
	int rc;

	if ((rc = open_archive(c, &ar)))
		return rc;
	if (aw_archive_has_key(ar)) {
		rc = fail("the archive at %s already has a key", aw_archive_dir(ar));
		aw_archive_close(ar);
		return rc;
	}
	if (!(p = passphrase(c, true))) {
		aw_archive_close(ar);
		return 1;
	}
	if (strlen(p) < AW_ARCHIVE_MIN_PASSPHRASE) {
		pass_free(p);
		aw_archive_close(ar);
		return fail("the passphrase is too short (at least %d characters; it protects the whole archive)",
			    AW_ARCHIVE_MIN_PASSPHRASE);
	}
	rc = aw_archive_init(ar, p, strlen(p), (unsigned long long)c->kdf_ops, (size_t)c->kdf_mem << 20);
	pass_free(p);
	if (rc)
		rc = fail("%s", aw_error_last());
	else
		printf("archive key set up in %s (keep the passphrase: restoring needs it, and it is stored nowhere)\n",
		       aw_archive_dir(ar));
	aw_archive_close(ar);
	return rc;
}

/* ---- archiving ---------------------------------------------------------------------------------- */

static int print_report(sync_cli *c, json_t *o)
{
	const char *err = json_string_value(json_object_get(o, "error"));
	const char *file = json_string_value(json_object_get(o, "file"));
	const char *before = json_string_value(json_object_get(o, "before"));

	if (c->json) {
		char *s = json_dumps(o, JSON_COMPACT);
		puts(s);
		free(s);
	} else if (err) {
		fail("%s", err);
	} else if (!file) {
		printf("nothing to archive: no event of this device ends before %s\n", before ? before : "the cut-off");
	} else {
		json_t *files = json_object_get(o, "files");
		size_t nseg = json_array_size(files);
		char where[160];
		if (nseg > 1)
			snprintf(where, sizeof(where), "%zu segments %s ... %s", nseg, file,
				 json_string_value(json_array_get(files, nseg - 1)));
		else
			snprintf(where, sizeof(where), "%s", file);
		printf("archived %lld events of %lld buckets ending before %s into %s (%.1f KiB, %.1f s); %lld deleted from the "
		       "live database\n",
		       (long long)json_integer_value(json_object_get(o, "events")),
		       (long long)json_integer_value(json_object_get(o, "buckets")), before, where,
		       (double)json_integer_value(json_object_get(o, "bytes")) / 1024.0,
		       json_real_value(json_object_get(o, "seconds")),
		       (long long)json_integer_value(json_object_get(o, "deleted")));
	}
	return err ? 1 : 0;
}

static int archive_via_node(sync_cli *c)
{
	json_t *req = json_object(), *names = json_array(), *o;
	char t[AW_TIME_BUFSZ], *body, *resp = NULL;
	int status, rc;

	aw_time_format(t, c->before);
	json_object_set_new(req, "before", json_string(t));
	for (size_t i = 0; i < c->n_buckets; i++)
		json_array_append_new(names, json_string(c->buckets[i]));
	json_object_set_new(req, "buckets", names);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	rc = sync_cli_http(c, "POST", "/api/0/archive", body, &status, &resp);
	free(body);
	if (rc)
		return fail("the database %s is in use by a running node, and it could not be asked to archive: %s",
			    c->db, aw_error_last());
	o = json_loads(resp, 0, NULL);
	if (status != 200 || !json_is_object(o)) {
		const char *m = sync_cli_json_message(o);
		rc = fail("the node answered %d: %s", status, m ? m : resp);
	} else {
		rc = print_report(c, o);
	}
	json_decref(o);
	free(resp);
	return rc;
}

static int archive_now(sync_cli *c)
{
	aw_store *s;
	aw_reader *r;
	aw_archive *ar;
	aw_archive_report rep;
	json_t *o;
	char *js;
	int rc;

	if (!c->have_before)
		c->before = aw_time_now() - (aw_ns)c->older_than * 86400 * AW_NS_PER_SEC;
	rc = sync_cli_open_all(c, &s, &r, NULL);
	if (rc == AW_EBUSY)
		return archive_via_node(c);
	if (rc)
		return rc;
	if ((rc = open_archive(c, &ar)) == 0) {
		aw_archive_run(ar, s, r, c->before, c->buckets, c->n_buckets, c->progress ? progress_tty : NULL, NULL, &rep);
		progress_end(c);
		js = aw_archive_report_json(&rep);
		o = json_loads(js, 0, NULL);
		rc = print_report(c, o);
		json_decref(o);
		free(js);
		aw_archive_close(ar);
	}
	sync_cli_close(s, r, NULL);
	return rc;
}

/* ---- list ------------------------------------------------------------------------------------------ */

static void print_list(json_t *l)
{
	json_t *tot = json_object_get(l, "buckets"), *v, *un = json_object_get(l, "unindexed_files");
	const char *k;
	size_t nseg = json_array_size(json_object_get(l, "segments"));

	printf("archive: %s (key: %s)\n", json_string_value(json_object_get(l, "dir")),
	       json_is_string(json_object_get(l, "key_source")) ? json_string_value(json_object_get(l, "key_source"))
								: "none yet");
	if (!json_object_size(tot))
		printf("nothing archived\n");
	else
		printf("%zu segment(s)\n%-44s %10s  %-24s  %-24s\n", nseg, "bucket", "events", "from", "to");
	json_object_foreach (tot, k, v)
		printf("%-44s %10lld  %-24s  %-24s\n", k, (long long)json_integer_value(json_object_get(v, "events")),
		       json_string_value(json_object_get(v, "start")), json_string_value(json_object_get(v, "end")));
	if (json_array_size(un))
		printf("%zu segment file(s) not in this database's index (an interrupted run, or another database's "
		       "archive); '" PROG " restore' reads them too\n",
		       json_array_size(un));
}

static int archive_list(sync_cli *c)
{
	aw_reader *r = NULL;
	aw_archive *ar;
	int rc;

	if ((rc = open_archive(c, &ar)))
		return rc;
	if (access(c->db, F_OK) == 0 && aw_reader_open_path(&r, c->db)) {
		rc = fail("%s", aw_error_last());
		aw_archive_close(ar);
		return rc;
	}
	sync_cli_print_json(c, aw_archive_list_json(ar, r), print_list);
	aw_reader_close(r);
	aw_archive_close(ar);
	return 0;
}

/* ---- restore ------------------------------------------------------------------------------------- */

static int64_t count_events(aw_reader *r, const aw_import_bucket *b, size_t n)
{
	int64_t total = 0, c;

	for (size_t i = 0; i < n; i++)
		if (aw_reader_event_count(&c, r, b[i].bucket.id, AW_NS_MIN, AW_NS_MAX) == 0)
			total += c;
	return total;
}

static int restore_direct(sync_cli *c, aw_store *s, aw_reader *r, aw_import_bucket *b, size_t n, int64_t *added)
{
	aw_write w = {.kind = AW_W_IMPORT, .imports = b, .n_imports = n};
	int64_t before = count_events(r, b, n);
	int rc = aw_store_write(s, &w);

	if (rc)
		rc = fail("restoring failed, nothing was restored: %s", w.error);
	aw_write_clear(&w);
	*added = count_events(r, b, n) - before;
	return rc;
}

/* One export document holding events [from, to) of a bucket. */
static char *import_doc(const aw_import_bucket *b, size_t from, size_t to)
{
	aw_buf d = AW_BUF_INIT;
	char t[AW_TIME_BUFSZ];

	aw_buf_puts(&d, "{\"buckets\":{");
	aw_buf_json_string(&d, b->bucket.id, strlen(b->bucket.id));
	aw_buf_puts(&d, ":{\"id\":");
	aw_buf_json_string(&d, b->bucket.id, strlen(b->bucket.id));
	aw_buf_puts(&d, ",\"type\":");
	aw_buf_json_string(&d, b->bucket.type ? b->bucket.type : "", b->bucket.type ? strlen(b->bucket.type) : 0);
	aw_buf_puts(&d, ",\"client\":");
	aw_buf_json_string(&d, b->bucket.client ? b->bucket.client : "", b->bucket.client ? strlen(b->bucket.client) : 0);
	aw_buf_puts(&d, ",\"hostname\":");
	aw_buf_json_string(&d, b->bucket.hostname ? b->bucket.hostname : "",
			   b->bucket.hostname ? strlen(b->bucket.hostname) : 0);
	aw_time_format(t, b->bucket.created);
	aw_buf_printf(&d, ",\"created\":\"%s\",\"data\":%s,\"events\":[", t, b->bucket.data ? b->bucket.data : "{}");
	for (size_t i = from; i < to; i++) {
		const aw_event *e = &b->events[i];
		char dur[64];
		/* The import endpoint reads seconds and truncates seconds * 1e9 (as
		 * ActivityWatch does), which can land one nanosecond short; half a nanosecond more
		 * makes the truncation give back exactly the stored value. */
		if (e->duration >= 0)
			snprintf(dur, sizeof(dur), "%lld.%09lld5", (long long)(e->duration / AW_NS_PER_SEC),
				 (long long)(e->duration % AW_NS_PER_SEC));
		else
			aw_duration_format(dur, e->duration);
		aw_time_format(t, e->start);
		aw_buf_printf(&d, "%s{\"timestamp\":\"%s\",\"duration\":%s,\"data\":", i > from ? "," : "", t, dur);
		aw_buf_append(&d, e->data, e->data_len);
		aw_buf_putc(&d, '}');
	}
	aw_buf_puts(&d, "]}}}");
	return aw_buf_steal(&d, NULL);
}

static int restore_via_node(sync_cli *c, aw_import_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t from = 0; from < b[i].n_events; from += IMPORT_PIECE) {
			size_t to = from + IMPORT_PIECE < b[i].n_events ? from + IMPORT_PIECE : b[i].n_events;
			char *doc = import_doc(&b[i], from, to), *resp = NULL;
			int status, rc = sync_cli_http(c, "POST", "/api/0/import", doc, &status, &resp);
			free(doc);
			if (rc) {
				free(resp);
				return fail("the database %s is in use by a running node, and it could not be reached: %s",
					    c->db, aw_error_last());
			}
			if (status != 200) {
				json_t *o = json_loads(resp, 0, NULL);
				const char *m = sync_cli_json_message(o);
				rc = fail("the node refused the restore of %s (%d): %s", b[i].bucket.id, status, m ? m : resp);
				json_decref(o);
				free(resp);
				return rc;
			}
			free(resp);
		}
	return 0;
}

/* Decrypt what the selection asks for. The database's index (read-only, beside a
 * running node too) names the segments that must be there. 0, or the exit code after
 * printing why. */
static int read_archive(sync_cli *c, aw_archive *ar, aw_import_bucket **b, size_t *n, char ***skipped,
			size_t *n_skipped)
{
	aw_archive_selection sel;
	aw_reader *idx = NULL;
	int rc;

	memset(&sel, 0, sizeof(sel));
	sel.from = c->have_from ? c->from : AW_NS_MIN;
	sel.to = c->have_to ? c->to : AW_NS_MAX;
	sel.buckets = c->buckets;
	sel.n_buckets = c->n_buckets;
	sel.allow_missing = c->allow_missing;
	sel.progress = c->progress ? progress_tty : NULL;
	if (access(c->db, F_OK) == 0 && aw_reader_open_path(&idx, c->db))
		return fail("%s", aw_error_last());
	sel.index = idx;
	rc = aw_archive_read(b, n, ar, &sel, skipped, n_skipped);
	progress_end(c);
	aw_reader_close(idx);
	return rc ? fail("%s; nothing was restored", aw_error_last()) : 0;
}

static void print_restored(sync_cli *c, int64_t total, size_t n, int64_t added, char **skipped, size_t n_skipped)
{
	if (c->json) {
		json_t *o = json_pack("{s:I,s:I,s:I}", "events", (json_int_t)total, "buckets", (json_int_t)n, "added",
				      (json_int_t)added), *sk = json_array();
		char *js;
		for (size_t i = 0; i < n_skipped; i++)
			json_array_append_new(sk, json_string(skipped[i]));
		json_object_set_new(o, "skipped", sk);
		js = json_dumps(o, JSON_COMPACT);
		puts(js);
		free(js);
		json_decref(o);
		return;
	}
	if (added >= 0)
		printf("restored %lld events of %zu buckets from the archive: %lld added, %lld were already in the live "
		       "database\n",
		       (long long)total, n, (long long)added, (long long)(total - added));
	else
		printf("restored %lld events of %zu buckets from the archive through the running node (it skips those it "
		       "already holds)\n",
		       (long long)total, n);
	if (n_skipped)
		printf("NOT restored: %zu segment(s) could not be read, their events are not back:\n", n_skipped);
	for (size_t i = 0; i < n_skipped; i++)
		printf("  %s\n", skipped[i]);
}

static int archive_restore(sync_cli *c)
{
	aw_archive *ar;
	aw_import_bucket *b = NULL;
	aw_store *s = NULL;
	aw_reader *r = NULL;
	size_t n = 0, n_skipped = 0;
	char **skipped = NULL;
	int64_t total = 0, added = -1;
	char *p = NULL;
	int rc;

	if ((rc = open_archive(c, &ar)))
		return rc;
	if (!aw_archive_has_key(ar)) {
		rc = fail("there is no archive at %s", aw_archive_dir(ar));
		goto out;
	}
	if (aw_archive_needs_passphrase(ar) && !(p = passphrase(c, false))) {
		rc = 1;
		goto out;
	}
	rc = aw_archive_unlock(ar, p, p ? strlen(p) : 0);
	pass_free(p);
	if (rc) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	if ((rc = read_archive(c, ar, &b, &n, &skipped, &n_skipped)))
		goto out;
	for (size_t i = 0; i < n; i++)
		total += (int64_t)b[i].n_events;
	rc = sync_cli_open_all(c, &s, &r, NULL);
	if (rc == AW_EBUSY)
		rc = restore_via_node(c, b, n);
	else if (rc == 0)
		rc = restore_direct(c, s, r, b, n, &added);
	if (rc == 0)
		print_restored(c, total, n, added, skipped, n_skipped);
out:
	aw_strings_free(skipped, n_skipped);
	aw_archive_buckets_free(b, n);
	sync_cli_close(s, r, NULL);
	aw_archive_close(ar);
	return rc;
}

/* ---- command line ---------------------------------------------------------------------------------- */

int cmd_archive(int argc, char **argv)
{
	static const sync_cli_limits lim = {64, 4096};
	const unsigned opts = O_COMMON | O_DIR | O_PASSFILE | O_JSON | O_BEFORE | O_OLDER | O_BUCKET | O_FROM | O_TO |
			      O_KDFOPS | O_KDFMEM | O_MISSING;
	const char *cmd = "archive";
	sync_cli cs, *c = &cs;
	bool help;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	memset(c, 0, sizeof(*c));
	c->prog = PROG;
	if ((rc = sync_cli_parse(c, argc, argv, opts, opts, &lim, &help)))
		return rc;
	if (help) {
		usage(stdout);
		return 0;
	}
	/* getopt moved the operands to the end: the first is the command, if any */
	if (c->npos) {
		cmd = c->pos[0];
		if (strcmp(cmd, "init") && strcmp(cmd, "list") && strcmp(cmd, "restore"))
			return usage_error("unknown command '%s' (see '" PROG " --help')", cmd);
		c->pos++;
		c->npos--;
	}
	c->cmd = cmd;
	if (c->npos)
		return usage_error("unexpected argument '%s'", c->pos[0]);
	if (!strcmp(cmd, "archive") && c->have_before == (c->older_than >= 0))
		return usage_error("say which events to archive: --before DATE or --older-than DAYS (one of them)");
	if (strcmp(cmd, "archive") && (c->have_before || c->older_than >= 0))
		return usage_error("--before and --older-than apply to archiving, not to '%s'", cmd);
	if (strcmp(cmd, "restore") && (c->have_from || c->have_to))
		return usage_error("--from and --to apply to 'restore'");
	if (strcmp(cmd, "restore") && c->allow_missing)
		return usage_error("--allow-missing applies to 'restore'");
	if ((!strcmp(cmd, "init") || !strcmp(cmd, "list")) && c->n_buckets)
		return usage_error("--bucket does not apply to '%s'", cmd);
	if (c->have_from && c->have_to && c->from > c->to)
		return usage_error("--from is after --to");
	c->progress = !c->json && isatty(STDERR_FILENO);
	if ((rc = sync_cli_resolve(c, false)))
		goto out;
	if (!c->dev) {
		rc = fail("this installation has no device id yet (start the node once, or pass --device-id)");
		goto out;
	}
	if (!strcmp(cmd, "init"))
		rc = archive_init(c);
	else if (!strcmp(cmd, "list"))
		rc = archive_list(c);
	else if (!strcmp(cmd, "restore"))
		rc = archive_restore(c);
	else
		rc = archive_now(c);
out:
	sync_cli_free(c);
	return rc;
}
