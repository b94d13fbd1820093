/*
 * awnode sync: encrypted synced copies of this device's buckets in a git folder
 * (format in docs/sync-format.md, usage in docs/sync.md).
 *
 * Shape of the module:
 *   - The sync folder is a git repository (libgit2). Plaintext at its root: only
 *     awsync.json (format version, Argon2id salt and limits, key check). Each device
 *     writes only devices/<device_id>/: an encrypted manifest, signed with the
 *     device's own key, and one immutable encrypted segment per push holding the
 *     changes of its own buckets since the previous push; older segments are folded
 *     into signed packs as they pile up. Git remotes (paths, file://, ssh, https)
 *     carry the folder between devices; merges never conflict because the trees are
 *     disjoint.
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
#include <stddef.h>
#include <stdint.h>

#include "aw/storage.h"

typedef struct aw_sync aw_sync;

typedef struct aw_sync_options {
	const char *device_id; /* required: this device's id (UUID from data_dir/device_id) */
	const char *hostname;  /* required: this device's hostname (shown to other devices) */
	const char *folder;    /* NULL: $XDG_DATA_HOME/awnode/sync ("sync-testing" if testing) */
	const char *key_path;  /* NULL: $XDG_DATA_HOME/awnode/sync.key ("sync-testing.key") */
	const char *ssh_key;   /* NULL: ssh-agent; else a private key file for ssh remotes */
	int64_t compact_segments; /* plain segments after the newest pack that make a new
	                           * pack (docs/sync-format.md §7a); 0: the default, 1024 */
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
	int64_t files_packed;     /* this device's segments and packs that new packs replaced */
	int64_t packs;            /* this device's packs after the round (when it published) */
	int devices_seen;         /* other devices found in the folder */
	int devices_failed;       /* of which could not be imported this round */
	int64_t segments_applied; /* segments of other devices applied this round */
	int64_t events_applied;   /* put + del records applied this round */
	int settings_applied;     /* other devices' setting changes that became current here */
	int settings_refused;     /* ... refused: malformed, privacy rules that do not parse, or
	                           * stamped more than a day ahead of this device's clock */
	int remotes_failed;       /* git remotes that could not be fetched or pushed */
	double seconds;           /* wall time of the round */
} aw_sync_report;

/* AW_SYNC_COMPACT, with AW_SYNC_PUSH: pack every plain segment and merge every pack
 * that is not full (`awnode sync compact`), publishing even without changes. */
enum { AW_SYNC_PUSH = 1, AW_SYNC_PULL = 2, AW_SYNC_BOTH = 3, AW_SYNC_COMPACT = 4 };

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
/* Start a new key epoch (docs/sync-format.md §4b) and commit its record to the folder:
 * a rotation, or with `revoke` (a device id) a revocation, which needs the group's new
 * passphrase (pass, len). r (read-only is enough) gives the devices whose keys this
 * one pinned, who become the epoch's members. The next round moves this device to the
 * epoch; the others move at theirs. *epoch is the new epoch's number. */
int aw_sync_epoch_start(int64_t *epoch, aw_sync *y, aw_reader *r, const char *revoke, const char *pass, size_t len);
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

/* ---- the folder operations of `awnode sync` (sync/src/admin.c) --------------------
 * Each takes the folder's lock for its duration, like a round. Errors: an AW_E* code
 * with the reason in aw_error_last(). */

/* The folder and key file the context uses (borrowed; live as long as y). */
const char *aw_sync_folder(const aw_sync *y);
const char *aw_sync_key_path(const aw_sync *y);
/* A device id the format accepts: 1-64 letters, digits, '-', '_' or '.', not "." or "..". */
bool aw_sync_valid_device_id(const char *id);
/* True when the sync folder does not exist or holds nothing. */
bool aw_sync_folder_empty(const aw_sync *y);

/* Does the git repository at url (a path, file://, ssh or https URL) hold a sync group
 * (a main branch)? Uses the context's ssh key; keeps no local state. */
int aw_sync_probe(bool *has_group, aw_sync *y, const char *url);

/* Create a new sync group in the folder (which the caller checked is empty): Argon2id
 * of the passphrase with the given limits (passes 1-10, memory 8 MiB-1 GiB, else
 * AW_EINVALID), awsync.json committed, the key file written (0600), and with remote
 * also added as "origin" and pushed. The passphrase is borrowed (the caller wipes it).
 * group_id receives the new group's id. */
int aw_sync_create(char group_id[40], aw_sync *y, const char *pass, size_t len, unsigned long long ops, size_t mem,
		   const char *remote);

/* First step of joining, before the passphrase is asked: when the folder holds
 * awsync.json, *joined tells whether the key file already opens it (nothing else to
 * do), and otherwise the folder is made a repository with url (if any) as origin;
 * without awsync.json the group is cloned from url (AW_EINVALID without url,
 * AW_EEXISTS for a non-empty folder, AW_ENOTFOUND when url holds no group).
 * group_id receives the group's id. */
int aw_sync_join_prepare(bool *joined, char group_id[40], aw_sync *y, const char *url);
/* Second step: derive the key from the passphrase (borrowed), check it against
 * awsync.json (AW_EINVALID: wrong passphrase) and write the key file (0600). */
int aw_sync_join_key(aw_sync *y, const char *pass, size_t len);

/* A git remote of the folder; credentials in the URL are masked. */
typedef struct aw_sync_remote {
	char *name;
	char *url;
} aw_sync_remote;

int aw_sync_remote_add(aw_sync *y, const char *name, const char *url);
int aw_sync_remote_remove(aw_sync *y, const char *name);
/* The folder's remotes; caller frees with aw_sync_remotes_free. */
int aw_sync_remotes(aw_sync_remote **out, size_t *n, aw_sync *y);
void aw_sync_remotes_free(aw_sync_remote *v, size_t n);

/* What aw_sync_forget did. */
typedef struct aw_sync_forgotten {
	char device_id[72];
	char hostname[256];  /* "?" when unknown */
	size_t removed;      /* remote buckets deleted */
} aw_sync_forgotten;

/* Delete the remote buckets of `device` (a device id, or the hostname of exactly one
 * known device) from the store the context was opened with and stop importing it;
 * with undo, import it again from its first segment on the next pull. r is a reader
 * of that store. AW_ENOTFOUND for an unknown device. */
int aw_sync_forget(aw_sync_forgotten *out, aw_sync *y, aw_reader *r, const char *device, bool undo);

/* What aw_sync_restore did. */
typedef struct aw_sync_restored {
	int64_t events;
	size_t buckets;
	int64_t generation;  /* this device's generation, from which pushes continue */
	char **warnings;     /* remotes that could not be pulled first; caller frees with
	                      * aw_strings_free (also after a failure) */
	size_t n_warnings;
} aw_sync_restored;

/* Pull every remote, then rebuild this device's own buckets (writable, ids kept) from
 * its segments into the context's store, which must hold no bucket (AW_EEXISTS).
 * AW_ENOTFOUND only when the folder has nothing of this device. */
int aw_sync_restore(aw_sync_restored *out, aw_sync *y, aw_reader *r);

/* `awnode sync inspect`: a JSON array with, for `device` or every device in the folder,
 * {"device_id", "hostname", "generation", "written_at" (ns), "software", "buckets":
 * [ids], and with segments "segments": [{"generation", "blocks": [{"bucket", "reset",
 * "exists", "puts", "dels"}]}]}, or {"device_id", "error"} for one that cannot be
 * read. Caller frees *out with free(). */
int aw_sync_inspect_json(char **out, aw_sync *y, const char *device, bool segments);

#endif
