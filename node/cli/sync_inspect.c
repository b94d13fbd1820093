/*
 * `awnode sync forget`, `restore` and `inspect` (docs/sync.md): the commands that read
 * what the folder holds about each device, and act on it. forget and restore change
 * the database, so they open it themselves and refuse while a node holds it; inspect
 * touches only the folder. The work is aw_sync_forget, aw_sync_restore and
 * aw_sync_inspect_json; what is here resolves the database and prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aw/error.h"
#include "aw/sync.h"
#include "aw/time.h"
#include "sync_cli.h"

#define PROG "awnode sync"

/* Open the database (refusing while a node holds it, naming `what` to do instead) and
 * a sync context on it. 0, or the exit code after printing why. */
static int open_all(sync_cli *c, const char *what, aw_store **s, aw_reader **r, aw_sync **y)
{
	int rc = sync_cli_open_all(c, s, r, y);

	if (rc == AW_EBUSY)
		return fail("the database %s is in use by a running node: %s", c->db, what);
	return rc;
}

int sync_forget(sync_cli *c)
{
	aw_store *s;
	aw_reader *r;
	aw_sync *y;
	aw_sync_forgotten f;
	int rc;

	if (c->npos != 1)
		return usage_error("usage: " PROG " forget DEVICE [--undo] (a device id or hostname)");
	if ((rc = open_all(c, "stop it first, then run forget", &s, &r, &y)))
		return rc;
	if (aw_sync_forget(&f, y, r, c->pos[0], c->undo))
		rc = fail("%s", aw_error_last());
	else if (c->undo)
		printf("device %s will be imported again on the next pull\n", f.device_id);
	else
		printf("forgot device %s (%s): %zu bucket%s removed; it is no longer imported ('forget --undo' imports it "
		       "again)\n",
		       f.device_id, f.hostname, f.removed, f.removed == 1 ? "" : "s");
	sync_cli_close(s, r, y);
	return rc;
}

/* The devices the folder holds, on stderr: what restore offers when this device has
 * nothing there. */
static void list_devices(aw_sync *y)
{
	char *js = NULL;
	json_t *all, *d;
	size_t i;

	fprintf(stderr, "devices in the folder:\n");
	if (aw_sync_inspect_json(&js, y, NULL, false))
		return;
	all = json_loads(js, 0, NULL);
	free(js);
	json_array_foreach(all, i, d) {
		const char *id = json_string_value(json_object_get(d, "device_id"));
		const char *err = json_string_value(json_object_get(d, "error"));
		aw_ns t = (aw_ns)json_integer_value(json_object_get(d, "written_at"));
		char ts[AW_TIME_BUFSZ];
		if (err) {
			fprintf(stderr, "  %s  (unreadable: %s)\n", id, err);
			continue;
		}
		/* whole seconds are enough here */
		if (t)
			aw_time_format(ts, t - t % AW_NS_PER_SEC);
		else
			snprintf(ts, sizeof(ts), "-");
		fprintf(stderr, "  %s  %-20s generation %lld, last push %s\n", id,
			json_string_value(json_object_get(d, "hostname")),
			(long long)json_integer_value(json_object_get(d, "generation")), ts);
	}
	json_decref(all);
}

int sync_restore(sync_cli *c)
{
	aw_store *s;
	aw_reader *r;
	aw_sync *y;
	aw_sync_restored res;
	int rc;

	if (c->npos)
		return usage_error("restore takes no arguments (choose the device with --device-id)");
	if ((rc = open_all(c, "stop it, move the database away, then restore", &s, &r, &y)))
		return rc;
	rc = aw_sync_restore(&res, y, r);
	for (size_t i = 0; i < res.n_warnings; i++)
		fprintf(stderr, PROG ": warning: %s\n", res.warnings[i]);
	aw_strings_free(res.warnings, res.n_warnings);
	if (rc) {
		fail("%s", aw_error_last());
		if (rc == AW_ENOTFOUND)
			list_devices(y);
		sync_cli_close(s, r, y);
		return 1;
	}
	if (!sync_cli_device_file_is(c->dev)) {
		if (sync_cli_write_device_file(c->dev))
			fprintf(stderr, PROG ": warning: %s\n", aw_error_last());
		else
			printf("this device's id is now %s (written to the device_id file)\n", c->dev);
	}
	printf("restored %zu bucket%s with %lld events of device %s (generation %lld) into %s\n", res.buckets,
	       res.buckets == 1 ? "" : "s", (long long)res.events, c->dev, (long long)res.generation, c->db);
	sync_cli_close(s, r, y);
	return 0;
}

static void print_inspect(json_t *out)
{
	size_t i, j;
	json_t *d, *v;

	json_array_foreach(out, i, d) {
		const char *err = json_string_value(json_object_get(d, "error"));
		printf("device %s", json_string_value(json_object_get(d, "device_id")));
		if (err) {
			printf(": %s\n", err);
			continue;
		}
		printf("  %s  generation %lld, %lld packs\n", json_string_value(json_object_get(d, "hostname")),
		       (long long)json_integer_value(json_object_get(d, "generation")),
		       (long long)json_integer_value(json_object_get(d, "packs")));
		json_array_foreach(json_object_get(d, "buckets"), j, v)
			printf("  bucket %s\n", json_string_value(v));
		json_array_foreach(json_object_get(d, "segments"), j, v) {
			size_t k;
			json_t *b;
			const char *serr = json_string_value(json_object_get(v, "error"));
			if (json_object_get(v, "pack_first"))
				printf("  pack %lld-%lld%s%s\n", (long long)json_integer_value(json_object_get(v, "pack_first")),
				       (long long)json_integer_value(json_object_get(v, "generation")), serr ? ": " : "",
				       serr ? serr : "");
			else
				printf("  segment %lld%s%s\n", (long long)json_integer_value(json_object_get(v, "generation")),
				       serr ? ": " : "", serr ? serr : "");
			json_array_foreach(json_object_get(v, "blocks"), k, b)
				printf("    %s%s: %lld puts, %lld dels\n", json_string_value(json_object_get(b, "bucket")),
				       json_is_true(json_object_get(b, "reset")) ? " (deleted first)" : "",
				       (long long)json_integer_value(json_object_get(b, "puts")),
				       (long long)json_integer_value(json_object_get(b, "dels")));
		}
	}
}

int sync_inspect(sync_cli *c)
{
	aw_sync *y;
	char *js;

	if (c->npos > 1)
		return usage_error("usage: " PROG " inspect [DEVICE] [--segments] [--json]");
	if (sync_cli_open_sync(c, NULL, &y))
		return 1;
	if (aw_sync_inspect_json(&js, y, c->npos ? c->pos[0] : NULL, c->segments)) {
		aw_sync_close(y);
		return fail("%s", aw_error_last());
	}
	sync_cli_print_json(c, js, print_inspect);
	aw_sync_close(y);
	return 0;
}
