/*
 * `awnode export`, `awnode import FILE` and `awnode import activitywatch [PATH]`.
 *
 * Export reads through a read-only connection, so it works while a node runs. Import of
 * an export document goes through the running node's API when there is one (the node
 * owns the database), else it opens the database itself. Import from ActivityWatch reads
 * an aw-server-rust `sqlite.db` (schema versions 1-5) or an aw-server `peewee-sqlite.v2.db`
 * read-only and writes exact nanosecond times straight into storage, so it needs the
 * node stopped (it says so); both use the import de-duplication, so running them twice
 * changes nothing.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/files.h"
#include "aw/mem.h"
#include "aw/storage.h"
#include "aw/transfer.h"
#include "cli.h"

/* ---- export ----------------------------------------------------------------------- */

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"bucket", required_argument, NULL, 'b'}, {"output", required_argument, NULL, 'o'},
		{"testing", no_argument, NULL, 't'},      {"dbpath", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	const char *bucket = NULL, *output = NULL, *dbpath = NULL;
	bool testing = false;
	aw_reader *r;
	aw_export *x;
	char chunk[64 * 1024];
	size_t n;
	FILE *f = stdout;
	char *db;
	int ch, rc;

	while ((ch = cli_getopt(argc, argv, "b:o:h", opts)) != -1) {
		switch (ch) {
		case 'b': bucket = optarg; break;
		case 'o': output = optarg; break;
		case 't': testing = true; break;
		case 'd': dbpath = optarg; break;
		case 'h':
			printf("usage: awnode export [--bucket ID] [-o FILE] [--testing] [--dbpath PATH]\n\n"
			       "Write an ActivityWatch export document of one or all buckets (stdout by default).\n");
			return 0;
		default:
			return 2;
		}
	}
	db = cli_db_path(dbpath, testing);
	rc = access(db, R_OK) == 0 ? aw_reader_open_path(&r, db) : aw_error_set(AW_ENOTFOUND, "no database at %s", db);
	free(db);
	if (rc) {
		fprintf(stderr, "awnode export: %s\n", aw_error_last());
		return 1;
	}
	/* written as it is read (aw_export), never held whole */
	rc = aw_export_open(&x, NULL, r, bucket);
	aw_reader_close(r);
	if (rc) {
		fprintf(stderr, "awnode export: %s\n", aw_error_last());
		return 1;
	}
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "awnode export: cannot write %s: %s\n", output, strerror(errno));
		aw_export_close(x);
		return 1;
	}
	rc = 0;
	while (!rc && (n = aw_export_read(x, chunk, sizeof(chunk))) > 0)
		rc = fwrite(chunk, 1, n, f) != n;
	rc = rc || fputc('\n', f) == EOF;
	if (output)
		rc |= fclose(f) != 0;
	aw_export_close(x);
	if (rc) {
		fprintf(stderr, "awnode export: write failed\n");
		return 1;
	}
	return 0;
}

/* ---- import of an export document ------------------------------------------------------ */

static int import_via_node(int port, bool testing, const char *doc)
{
	aw_buf out = AW_BUF_INIT;
	long status;
	char *key;
	int rc;

	port = cli_node_port(port, testing, &key);
	rc = cli_post_json(port, key, "/api/0/import", doc, 0, &out, &status);
	free(key);

	if (rc || status != 200)
		fprintf(stderr, "awnode import: the database is in use and the node at 127.0.0.1:%d %s%s\n", port,
			rc ? "did not answer" : "refused it: ", rc ? "" : out.data ? out.data : "");
	aw_buf_free(&out);
	return !rc && status == 200 ? 0 : 1;
}

/* aw_transfer_import_file reads FILE through a mapping: when FILE is cut short while
 * it is read (a copy still in progress, a file rewritten in place), reading the pages it
 * no longer has raises SIGBUS. The import then ends with one line instead of a bus
 * error. Everything stored before is whole (writes are transactions; a write in
 * progress is rolled back on the next open), and an import is idempotent, so importing
 * the complete file again finishes the job. */
static char sigbus_msg[4200];
static size_t sigbus_len;

static void on_sigbus(int sig)
{
	(void)sig;
	if (write(STDERR_FILENO, sigbus_msg, sigbus_len) < 0)
		_exit(1);
	_exit(1);
}

/* The one line for FILE on SIGBUS (path), or the default action again (NULL). */
static void catch_sigbus(const char *path)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = path ? on_sigbus : SIG_DFL;
	sigemptyset(&sa.sa_mask);
	if (path) {
		snprintf(sigbus_msg, sizeof(sigbus_msg),
			 "awnode import: %s changed while it was being read (cut short?); what was stored "
			 "before stays; import the complete file again\n",
			 path);
		sigbus_len = strlen(sigbus_msg);
	}
	sigaction(SIGBUS, &sa, NULL);
}

/* The writer's page cache during the import: enough for a ten-year database's data
 * index (6.5 MiB), which every chunk of new data touches all over. */
#define IMPORT_CACHE_KIB 8192

/* Import FILE straight into the database when no node holds it, in bounded memory
 * (aw_transfer_import_file maps the file); else post it to the node, which takes the
 * document as one request body. */
static int import_file(const char *path, const char *dbpath, bool testing, int port)
{
	struct stat st;
	size_t len = 0;
	char *doc, *db;
	aw_store *s;
	aw_reader *r;
	int rc;

	/* An unreadable FILE is refused before the database is opened (or created). */
	errno = 0;
	if (stat(path, &st) || access(path, R_OK) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "awnode import: cannot read %s: %s\n", path, errno ? strerror(errno) : "not a regular file");
		return 1;
	}
	db = cli_db_path(dbpath, testing);
	rc = aw_store_open(&s, db, &(aw_store_options){.import_cache_kib = IMPORT_CACHE_KIB});
	free(db);
	if (rc == AW_EBUSY) {
		if (aw_files_read(&doc, &len, path, SIZE_MAX - 1)) {
			fprintf(stderr, "awnode import: %s\n", aw_error_last());
			return 1;
		}
		rc = import_via_node(port, testing, doc);
		free(doc);
		return rc;
	}
	if (rc) {
		fprintf(stderr, "awnode import: %s\n", aw_error_last());
		return 1;
	}
	rc = aw_reader_open(&r, s);
	if (!rc) {
		catch_sigbus(path);
		rc = aw_transfer_import_file(s, r, path);
		catch_sigbus(NULL);
		aw_reader_close(r);
		if (rc)
			fprintf(stderr, "awnode import: %s: %s\n", path, aw_error_last());
	} else {
		fprintf(stderr, "awnode import: %s\n", aw_error_last());
	}
	aw_store_close(s);
	return rc ? 1 : 0;
}

static int import_activitywatch(const char *path, const char *dbpath, bool testing, unsigned flags)
{
	aw_transfer_stats stats;
	aw_store *s;
	char *db = cli_db_path(dbpath, testing);
	int rc = aw_store_open(&s, db, NULL);

	free(db);
	if (rc) {
		fprintf(stderr, "awnode import: %s%s\n", aw_error_last(),
			rc == AW_EBUSY ? "; stop the node first (awnode serve), then run the import again" : "");
		return 1;
	}
	rc = aw_transfer_import_activitywatch(&stats, s, path, flags);
	aw_store_close(s);
	if (rc) {
		fprintf(stderr, "awnode import: %s\n", aw_error_last());
		return 1;
	}
	printf("imported %zu buckets, %zu events from %s (already present events were skipped)%s\n", stats.buckets,
	       stats.events, path, stats.skipped ? "; some rows had unreadable timestamps and were skipped" : "");
	printf("settings: %zu imported", stats.settings);
	if (stats.settings_kept)
		printf(", %zu kept as they were here (--overwrite-settings replaces them)", stats.settings_kept);
	if (stats.settings_bad)
		printf(", %zu refused (a key or value awnode's settings API would not take)", stats.settings_bad);
	printf("\n");
	return 0;
}

static char *default_aw_db(void)
{
	static const char *const candidates[] = {"activitywatch/aw-server-rust/sqlite.db",
						 "activitywatch/aw-server/peewee-sqlite.v2.db"};
	const char *base = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *path;

	for (size_t i = 0; i < 2; i++) {
		if (base && *base == '/') {
			path = aw_mem_printf("%s/%s", base, candidates[i]);
		} else {
			path = aw_mem_printf("%s/.local/share/%s", home ? home : "", candidates[i]);
		}
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"testing", no_argument, NULL, 't'}, {"dbpath", required_argument, NULL, 'd'},
		{"port", required_argument, NULL, 'P'}, {"overwrite-settings", no_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},    {NULL, 0, NULL, 0}};
	const char *dbpath = NULL;
	bool testing = false;
	unsigned flags = 0;
	int port = -1, ch, rc;
	char *path;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 't': testing = true; break;
		case 'd': dbpath = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 'O': flags |= AW_TRANSFER_OVERWRITE_SETTINGS; break;
		case 'h':
			printf("usage: awnode import FILE [--testing] [--dbpath PATH] [--port N]\n"
			       "       awnode import activitywatch [PATH] [--overwrite-settings] [--testing] [--dbpath PATH]\n\n"
			       "Import an export document (through the running node if there is one), or\n"
			       "ActivityWatch's own database: aw-server-rust's sqlite.db or aw-server's\n"
			       "peewee-sqlite.v2.db (found under $XDG_DATA_HOME/activitywatch when PATH is\n"
			       "not given; read-only; stop awnode first). Re-running changes nothing.\n"
			       "aw-server-rust's settings (categories, start of day and week, ...) come too;\n"
			       "settings awnode already has are kept unless --overwrite-settings.\n");
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "awnode import: give a FILE, or 'activitywatch [PATH]' (see --help)\n");
		return 2;
	}
	if (strcmp(argv[optind], "activitywatch")) {
		if (flags) {
			fprintf(stderr, "awnode import: --overwrite-settings is for 'awnode import activitywatch' (see --help)\n");
			return 2;
		}
		return import_file(argv[optind], dbpath, testing, port);
	}
	path = optind + 1 < argc ? strdup(argv[optind + 1]) : default_aw_db();
	if (!path) {
		fprintf(stderr, "awnode import: no ActivityWatch database found under $XDG_DATA_HOME/activitywatch; give its PATH\n");
		return 1;
	}
	rc = import_activitywatch(path, dbpath, testing, flags);
	free(path);
	return rc;
}
