/*
 * awnode sync: encrypted synced copies of this device's buckets in a git folder
 * (format in docs/sync-format.md, usage in docs/sync.md).
 *
 * Shape of the module:
 *   - The sync folder is a git repository (libgit2). Plaintext at its root: only
 *     awsync.json (format version, Argon2id salt and limits, key check). Each device
 *     writes only devices/<device_id>/: an encrypted manifest and one immutable
 *     encrypted segment per push holding the changes of its own buckets since the
 *     previous push. Git remotes (paths, file://, ssh, https) carry the folder between
 *     devices; merges never conflict because the trees are disjoint.
 *   - Export reads the storage change feed (aw_reader_changes); import applies other
 *     devices' segments with AW_W_REMOTE_APPLY (idempotent, keyed by source event id).
 *     Cursors and per-device status live in the store's private state (AW_W_STATE_SET,
 *     key "sync").
 *   - Every function that touches the folder takes an exclusive lock on it, so the
 *     node's periodic run, a POST /api/0/sync/now and an `awnode sync` process never
 *     interleave.
 *
 * Threads: an aw_sync is used by one thread at a time for aw_sync_run (calls are
 * serialised by an internal mutex); aw_sync_status_json may be called from any thread
 * at any time (it only reads the store and the folder's directory listing). Never call
 * aw_sync_run on the store's writer thread: it waits for its writes to commit.
 */
#ifndef AW_SYNC_H
#define AW_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "aw/storage.h"

typedef struct aw_sync aw_sync;

typedef struct aw_sync_options {
	const char *device_id; /* required: this device's id (UUID from data_dir/device_id) */
	const char *hostname;  /* required: this device's hostname (shown to other devices) */
	const char *folder;    /* NULL: $XDG_DATA_HOME/awnode/sync ("sync-testing" if testing) */
	const char *key_path;  /* NULL: $XDG_DATA_HOME/awnode/sync.key ("sync-testing.key") */
	const char *ssh_key;   /* NULL: ssh-agent; else a private key file for ssh remotes */
	bool testing;          /* selects the testing defaults above */
} aw_sync_options;

/* What one round did. Filled by aw_sync_run even when it fails. */
typedef struct aw_sync_report {
	int status;               /* 0, or the AW_E* code of the failure that stopped the round */
	char error[512];          /* message when status != 0 */
	bool pushed;              /* a new segment was written */
	int64_t generation;       /* this device's generation after the round */
	int64_t events_exported;  /* put + del records in the new segment */
	int64_t buckets_exported; /* bucket blocks in the new segment */
	int devices_seen;         /* other devices found in the folder */
	int devices_failed;       /* of which could not be imported this round */
	int64_t segments_applied; /* segments of other devices applied this round */
	int64_t events_applied;   /* put + del records applied this round */
	int remotes_failed;       /* git remotes that could not be fetched or pushed */
	double seconds;           /* wall time of the round */
} aw_sync_report;

enum { AW_SYNC_PUSH = 1, AW_SYNC_PULL = 2, AW_SYNC_BOTH = 3 };

/* Create the sync context of a node. Succeeds even when the folder is not set up yet
 * (aw_sync_run then reports "not set up", and picks the folder up as soon as
 * `awnode sync init|join` created it). The store must outlive the context. */
int aw_sync_open(aw_sync **out, aw_store *s, const aw_sync_options *o);
void aw_sync_close(aw_sync *y);

/* True when the folder has awsync.json and the key file exists (the node's timer skips
 * rounds otherwise). Cheap: two stat() calls. */
bool aw_sync_configured(aw_sync *y);

/* One round: AW_SYNC_BOTH = fetch and merge from the remotes, export this device's
 * changes as a new segment, commit, push (retrying when a remote moved), then import
 * every other device. `r` is a reader of the same store used only by this call.
 * Per-device import failures do not fail the round (they are in the status);
 * returns 0 or the AW_E* code of a failure that stopped it (also in out->error). */
int aw_sync_run(aw_sync *y, aw_reader *r, aw_sync_report *out);
int aw_sync_run_mode(aw_sync *y, aw_reader *r, unsigned mode, aw_sync_report *out);

/* Ask a round in progress to stop soon (node shutdown): network transfers are aborted
 * and no further device is imported; the round returns AW_ESHUTDOWN. Safe from any
 * thread; later rounds are refused until aw_sync_close. Join the thread running the
 * round before closing the store. */
void aw_sync_cancel(aw_sync *y);

/* The report as a JSON object (for POST /api/0/sync/now). Caller frees. */
char *aw_sync_report_json(const aw_sync_report *rep);

/* GET /api/0/sync/status: a JSON object (documented in docs/sync.md) with this device,
 * the remotes, the last push and pull, and every known device with its import cursor,
 * events applied and its error, if any. Caller frees. Never NULL. */
char *aw_sync_status_json(aw_sync *y, aw_reader *r);

/* `awnode sync <command> ...` (argv[0] = "sync"). Returns the process exit code. */
int aw_sync_cli_main(int argc, char **argv);

#endif
