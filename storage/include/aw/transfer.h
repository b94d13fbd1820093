/*
 * Export documents: ActivityWatch's format for moving buckets between servers
 * ({"buckets": {"<id>": {<bucket>, "events": [...]}}}, docs/api.md), written from one
 * snapshot and imported in bounded memory however large the document.
 */
#ifndef AW_TRANSFER_H
#define AW_TRANSFER_H

#include <stddef.h>

#include "aw/buf.h"
#include "aw/storage.h"

/* Append the export document of one bucket (bucket_id) or of all (NULL) to out, read in
 * one snapshot through r. *single_id (single_id may be NULL) receives the bucket's id
 * when the document holds exactly one, else NULL; caller frees it with free(). Returns
 * 0, AW_ENOTFOUND for an unknown bucket_id, or another AW_E* code. */
int aw_transfer_export(aw_buf *out, char **single_id, aw_reader *r, const char *bucket_id);

/* The same document written a piece at a time, for a server that sends it while it is
 * written (storage/src/transfer.c, "export"). aw_export_open reads what the document
 * needs in one snapshot through r and ends that snapshot: the cursor then needs neither
 * r nor its thread, and holds the event rows and each distinct data text, not the
 * document. single_id and the codes are aw_transfer_export's. aw_export_length is the
 * document's size in bytes; each aw_export_read writes its next bytes into buf, cap of
 * them unless fewer are left, and returns how many (0 at the end). */
typedef struct aw_export aw_export;
int aw_export_open(aw_export **out, char **single_id, aw_reader *r, const char *bucket_id);
size_t aw_export_length(const aw_export *x);
size_t aw_export_read(aw_export *x, char *buf, size_t cap);
void aw_export_close(aw_export *x);

/* Import the export document doc (len bytes; borrowed) into store: new buckets are
 * created with their events, events of existing buckets merged, skipping those
 * identical to a stored event; events of the wrong shape are dropped. Call from any
 * thread but the store's writer; r reads the buckets that exist. Nothing is written
 * when the document is refused: AW_EINVALID (not JSON), AW_ESHAPE (not an export
 * document), AW_ERANGE (a time out of range), AW_EREADONLY (a target bucket is a remote
 * bucket). A write failure later returns its code (AW_ESHUTDOWN, AW_ERROR) with the
 * buckets written so far kept. The reason is in aw_error_last(). */
int aw_transfer_import(aw_store *store, aw_reader *r, const char *doc, size_t len);

/* aw_transfer_import of the export document in the file at path, in bounded memory: the
 * file is mapped read-only and the import gives back the text it has gone past, so a few
 * megabytes of the document are resident at a time however large it is (docs/storage.md,
 * "Import"). The file must not be truncated in place while it is imported. Returns what
 * aw_transfer_import returns, or AW_ENOTFOUND (no file at path), AW_ERROR (not a regular
 * file, cannot be read or mapped), with the reason in aw_error_last(). */
int aw_transfer_import_file(aw_store *store, aw_reader *r, const char *path);

/* What aw_transfer_import_activitywatch did. */
typedef struct aw_transfer_stats {
	size_t buckets;
	size_t events;  /* read from the source (those already stored are skipped on write) */
	size_t skipped; /* rows whose timestamp could not be read */
	size_t settings;      /* settings written */
	size_t settings_kept; /* settings the store already had, left as they were */
	size_t settings_bad;  /* settings refused: a key the settings API cannot address
			       * (empty, with '/', 128 bytes or more), a value that is not
			       * JSON, or privacy_filters this node would refuse */
} aw_transfer_stats;

/* aw_transfer_import_activitywatch: replace settings the store already has. */
#define AW_TRANSFER_OVERWRITE_SETTINGS 1u

/* Import ActivityWatch's own database at path, read-only: aw-server-rust's sqlite.db or
 * aw-server's peewee-sqlite.v2.db. Every bucket and event goes into store with the
 * import de-duplication, so a second run adds nothing. aw-server-rust's settings (rows
 * "settings.<key>" of its key_value table: categories in "classes", start of day and
 * week, ...) become this store's settings of the same keys; one the store already has
 * is kept unless flags has AW_TRANSFER_OVERWRITE_SETTINGS. Returns 0 with *stats
 * filled, AW_ENOTFOUND (cannot read path), AW_EINVALID (not an ActivityWatch database)
 * or the code of a failed write, with the reason in aw_error_last(). What was written
 * before a failure stays. */
int aw_transfer_import_activitywatch(aw_transfer_stats *stats, aw_store *store, const char *path, unsigned flags);

#endif
