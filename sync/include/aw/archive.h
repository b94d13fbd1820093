/*
 * awnode archive: old events of this device's buckets moved out of the live database
 * into encrypted, authenticated segments (usage and file format in docs/archive.md).
 *
 * Shape of the module:
 *   - The archive directory holds archive.json (plaintext: format version, the key's
 *     source and its X25519 public key, never a secret) and immutable segments,
 *     seg-<12 digits>.awa: one per archiving run, or several when the run's plaintext
 *     exceeds AWS_MAX_WRITE_PLAIN (48 MiB), so that no file reaches the 64 MiB that
 *     readers of the sync folder accept. A segment is the sync container (zstd, then
 *     secretstream XChaCha20-Poly1305, every message bound to the device id and the
 *     file name) under a fresh random file key, and that file key sealed to the
 *     archive's public key (crypto_box_seal). Archiving therefore needs no secret:
 *     the node can archive on a timer while the secret stays off the device (a
 *     passphrase set with `awnode archive init`) or is derived from the sync key.
 *   - A run reads the chosen events in one snapshot; then, segment by segment, it
 *     writes and fsyncs it, reads it back from disk and compares every event (the run
 *     still holds the file key), and only then deletes those events in one transaction
 *     together with the segment's index entry (AW_W_ARCHIVE_DELETE), after which the
 *     writer truncates the WAL. A run killed at any point leaves every event either
 *     live (and perhaps in an unindexed segment that restore de-duplicates) or
 *     archived, never neither.
 *   - The directory is $XDG_DATA_HOME/awnode/archive[-testing]/<device id>, or, when
 *     sync is set up and no local archive exists yet, devices/<device id>/archive in
 *     the sync folder, committed with the folder's lock so the next push backs it up.
 *   - Restore decrypts every segment (refusing the whole restore if one the index
 *     lists is missing or one fails authentication, unless told to restore what it
 *     can), keeps the latest copy of each event id, filters by time and bucket, and
 *     hands the buckets to storage's import, whose de-duplication makes running it
 *     twice change nothing.
 *   - Secrets (the secret key, master keys, file keys) live in one block locked in
 *     memory where the system allows, and are wiped with sodium_memzero after use.
 *
 * Errors: int AW_E* codes with aw_error_last() set, as in the rest of awnode.
 */
#ifndef AW_ARCHIVE_H
#define AW_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/storage.h"

typedef struct aw_archive aw_archive;

typedef struct aw_archive_options {
	const char *device_id;   /* required */
	const char *hostname;    /* required */
	const char *dir;         /* NULL: chosen as described above */
	const char *sync_folder; /* NULL: sync's default ($XDG_DATA_HOME/awnode/sync[-testing]) */
	const char *sync_key;    /* NULL: sync's default key file */
	bool testing;
} aw_archive_options;

/* Resolve the directory and read archive.json if it exists (no key is needed for
 * that). Caller closes with aw_archive_close. */
int aw_archive_open(aw_archive **out, const aw_archive_options *o);
void aw_archive_close(aw_archive *a);

/* The archive directory (borrowed). */
const char *aw_archive_dir(const aw_archive *a);

/* True when archive.json exists (the archive has its key). */
bool aw_archive_has_key(const aw_archive *a);

/* The shortest passphrase aw_archive_init accepts (as `awnode sync init`):
 * archive.json publishes the public key and the salt, so anyone holding it can test
 * guesses offline. */
#define AW_ARCHIVE_MIN_PASSPHRASE 8

/* Set the archive's key from a passphrase (Argon2id with the given limits; 0 means
 * libsodium's "moderate"). AW_EEXISTS when the archive already has a key, AW_EINVALID
 * for a passphrase shorter than AW_ARCHIVE_MIN_PASSPHRASE bytes. */
int aw_archive_init(aw_archive *a, const char *passphrase, size_t len, unsigned long long ops, size_t mem);

/* Does restoring need a passphrase (key source "passphrase"), or is the sync key used? */
bool aw_archive_needs_passphrase(const aw_archive *a);

typedef struct aw_archive_report {
	int status;             /* 0 or AW_E* */
	char error[512];
	char file[64];          /* the first segment written, "" when there was nothing to archive */
	int64_t segments;       /* segments written (consecutive numbers from `file` on) */
	int64_t events;         /* events collected for archiving */
	int64_t deleted;        /* of which deleted from the live database */
	int64_t buckets;        /* buckets with archived events */
	int64_t bytes;          /* size of the segment files together */
	aw_ns before;           /* the cut-off used */
	double seconds;
} aw_archive_report;

/* Progress of a long run: `what` names the step; total 0 when unknown. */
typedef void (*aw_archive_progress)(void *ctx, const char *what, int64_t done, int64_t total);

/* Archive every event of this device's own buckets (all of them, or those named) that
 * ends at or before `before`, in segments of at most AWS_MAX_WRITE_PLAIN plaintext
 * bytes each (in testing mode $AWNODE_TEST_ARCHIVE_SEGMENT_BYTES may lower that).
 * Creates archive.json from the sync key on first use when no passphrase was set.
 * Succeeds only when the WAL was truncated afterwards (AW_EBUSY otherwise: the events
 * are archived, but their text is still in the WAL). Writes rep (also on failure) and
 * returns rep->status. Never call on the store's writer thread. */
int aw_archive_run(aw_archive *a, aw_store *s, aw_reader *r, aw_ns before, const char *const *buckets,
		   size_t n_buckets, aw_archive_progress progress, void *pctx, aw_archive_report *rep);

/* The report as JSON (POST /api/0/archive answers it). Caller frees. */
char *aw_archive_report_json(const aw_archive_report *rep);

/* What is archived: {"dir", "key_source", "segments": [{"file", "created", "events",
 * "buckets": {id: {"events", "start", "end"}}}], "buckets": {id: totals},
 * "unindexed_files": [...]} from the index kept in the database and the directory
 * listing. Caller frees. Never NULL. */
char *aw_archive_list_json(aw_archive *a, aw_reader *r);

/* Derive the secret key: from the passphrase when the key source is "passphrase",
 * from the sync key file otherwise (passphrase ignored). AW_EINVALID for a wrong
 * passphrase. */
int aw_archive_unlock(aw_archive *a, const char *passphrase, size_t len);

/* What a restore reads. */
typedef struct aw_archive_selection {
	aw_ns from, to;                /* events overlapping [from, to] */
	const char *const *buckets;    /* only these buckets; all when n_buckets is 0 */
	size_t n_buckets;
	aw_reader *index;              /* the database whose archive index lists the segments
	                                * that must be there; NULL when there is none */
	bool allow_missing;            /* restore what can be read instead of failing */
	aw_archive_progress progress;  /* may be NULL */
	void *pctx;
} aw_archive_selection;

/* Decrypt every segment and collect the selected events, each event id once (its
 * latest archived copy), ordered by start. A segment the index lists that is not in the
 * directory, or any segment that fails to decrypt, authenticate or parse, fails the
 * whole read (nothing is returned) unless sel->allow_missing; then those segments are
 * skipped and *skipped holds one line per segment ("<file>: why"; caller frees with
 * aw_strings_free). Needs aw_archive_unlock. Caller frees *out with
 * aw_archive_buckets_free. */
int aw_archive_read(aw_import_bucket **out, size_t *n, aw_archive *a, const aw_archive_selection *sel,
		    char ***skipped, size_t *n_skipped);
void aw_archive_buckets_free(aw_import_bucket *b, size_t n);

#endif
