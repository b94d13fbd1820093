/*
 * `awnode redact`: apply one privacy rule to events already stored, for example after
 * adding a rule that should also cover the past. With a node running on the database
 * it asks the node (POST /api/0/privacy/redact); otherwise it opens the database itself.
 * Either way the change goes through the storage writer, so deletions leave tombstones
 * and rewrites get new change sequence numbers: sync publishes both; and the writer
 * truncates the WAL after the commit, so the old text is not left in awnode.db-wal
 * (docs/storage.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/buf.h"
#include "aw/config.h"
#include "aw/privacy.h"
#include "aw/storage.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode redact --pattern REGEX [--field F] [--bucket PREFIX]\n"
		"                     [--replacement TEXT | --drop] [--dry-run]\n"
		"                     [--testing] [--dbpath PATH] [--port N]\n"
		"\n"
		"Apply a privacy rule to stored events of this device's buckets: events whose\n"
		"data field F (dotted path, e.g. title or url) matches REGEX get F replaced by\n"
		"TEXT (default \"REDACTED\"), or are deleted with --drop. --dry-run only counts.\n"
		"Talks to the running node if there is one, else edits the database directly.\n");
}

int cmd_redact(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pattern", required_argument, NULL, 'p'}, {"field", required_argument, NULL, 'f'},
		{"bucket", required_argument, NULL, 'b'},  {"replacement", required_argument, NULL, 'r'},
		{"drop", no_argument, NULL, 'D'},          {"dry-run", no_argument, NULL, 'n'},
		{"testing", no_argument, NULL, 't'},       {"dbpath", required_argument, NULL, 'd'},
		{"port", required_argument, NULL, 'P'},    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *pattern = NULL, *field = NULL, *bucket = NULL, *replacement = NULL, *dbpath = NULL;
	bool drop = false, dry = false, testing = false;
	int port = -1, ch, rc;
	char *db = NULL;
	aw_buf rule = AW_BUF_INIT;
	aw_privacy *check;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 'p': pattern = optarg; break;
		case 'f': field = optarg; break;
		case 'b': bucket = optarg; break;
		case 'r': replacement = optarg; break;
		case 'D': drop = true; break;
		case 'n': dry = true; break;
		case 't': testing = true; break;
		case 'd': dbpath = optarg; break;
		case 'P': port = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default:
			return 2;
		}
	}
	if (!pattern || (!field && !drop) || (drop && replacement)) {
		fprintf(stderr, "awnode redact: %s (see --help)\n",
			!pattern ? "--pattern is required"
			: drop   ? "--drop and --replacement exclude each other"
				 : "--field is required unless --drop");
		return 2;
	}
	aw_buf_puts(&rule, "{\"enabled\":true,\"action\":");
	aw_buf_puts(&rule, drop ? "\"drop\"" : "\"redact\"");
	aw_buf_puts(&rule, ",\"pattern\":");
	aw_buf_json_string(&rule, pattern, strlen(pattern));
	if (field) {
		aw_buf_puts(&rule, ",\"field\":");
		aw_buf_json_string(&rule, field, strlen(field));
	}
	if (bucket) {
		aw_buf_puts(&rule, ",\"bucket_prefix\":");
		aw_buf_json_string(&rule, bucket, strlen(bucket));
	}
	if (!drop) {
		const char *r = replacement ? replacement : "REDACTED";
		aw_buf_puts(&rule, ",\"replacement\":");
		aw_buf_json_string(&rule, r, strlen(r));
	}
	aw_buf_putc(&rule, '}');
	if (aw_privacy_parse(&check, rule.data, rule.len, true)) {
		fprintf(stderr, "awnode redact: %s\n", aw_error_last());
		aw_buf_free(&rule);
		return 2;
	}
	aw_privacy_free(check);

	db = cli_db_path(dbpath, testing);
	{
		aw_store *s;
		aw_write w = {.kind = AW_W_REDACT, .value = rule.data, .dry_run = dry};
		rc = aw_store_open(&s, db, NULL);
		if (rc == 0) {
			rc = aw_store_write(s, &w);
			/* the writer truncated the WAL after the commit; should another process
			 * have held a read then, try once more before saying so */
			if (rc == 0 && w.wal_status && aw_store_checkpoint_truncate(s)) {
				snprintf(w.error, sizeof(w.error), "%s", aw_error_last());
				rc = AW_EBUSY;
			}
			aw_store_close(s);
			if (rc)
				fprintf(stderr, "awnode redact: %s\n", w.error);
			else
				printf("%s %lld events, %s %lld events\n", dry ? "would drop" : "dropped",
				       (long long)w.out_dropped, dry ? "would redact" : "redacted", (long long)w.out_redacted);
		} else if (rc == AW_EBUSY) {
			aw_buf body = AW_BUF_INIT, out = AW_BUF_INIT;
			long status = 0;
			aw_buf_append(&body, rule.data, rule.len - 1);
			aw_buf_printf(&body, ",\"dry_run\":%s}", dry ? "true" : "false");
			char *key;
			port = cli_node_port(port, testing, &key);
			rc = cli_post_json(port, key, "/api/0/privacy/redact", body.data, 600, &out, &status);
			free(key);
			if (rc || status != 200)
				fprintf(stderr, "awnode redact: the database is in use, and the node at 127.0.0.1:%d %s %s\n",
					port, rc ? "did not answer" : "refused:", rc ? "" : out.data ? out.data : "");
			else
				printf("%s\n", out.data);
			rc = rc || status != 200;
			aw_buf_free(&body);
			aw_buf_free(&out);
		} else {
			fprintf(stderr, "awnode redact: %s\n", aw_error_last());
		}
	}
	free(db);
	aw_buf_free(&rule);
	return rc ? 1 : 0;
}
