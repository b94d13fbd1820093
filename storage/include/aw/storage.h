/*
 * awnode storage: buckets, events, settings and the change feed in one SQLite file.
 *
 * Shape of the module:
 *   - aw_store owns the database file and the single writer thread. Every change goes
 *     through aw_store_submit(): the writer drains its queue, applies the queued writes
 *     in one transaction (group commit), commits, and only then completes each write by
 *     calling its `done` callback on the writer thread. An acknowledged write is
 *     therefore on disk (WAL, synchronous=FULL by default).
 *   - aw_reader is a read-only connection for one thread at a time (event lists,
 *     counts, exports, queries). WAL gives it a consistent snapshot per call while the
 *     writer continues.
 *   - Event data is interned: each distinct canonical data JSON is stored once and
 *     referenced by id. Every event row carries the change sequence number of its last
 *     change, and deletions leave tombstones, so sync can ask "what changed since N".
 *   - The heartbeat merge (ActivityWatch's rules, docs/api.md) runs in the writer against a per-bucket
 *     cache of the last event that every write path keeps exact.
 *
 * Ownership: structs returned to the caller are freed with the matching *_free();
 * strings inside them belong to the struct.
 */
#ifndef AW_STORAGE_H
#define AW_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aw/error.h"
#include "aw/time.h"

typedef struct aw_store aw_store;
typedef struct aw_reader aw_reader;

/* ---- models ---------------------------------------------------------------- */

/* An event as it travels in and out of storage. `data` is canonical JSON text
 * (see aw/json.h) of an object. */
typedef struct aw_event {
	int64_t id;      /* valid when has_id */
	bool has_id;
	aw_ns start;
	aw_ns duration;
	char *data;      /* owned; canonical JSON object text */
	size_t data_len;
} aw_event;

/* Free what the event owns (e->data) and zero the struct; the struct itself is the
 * caller's. */
void aw_event_clear(aw_event *e);

typedef struct aw_bucket {
	char *id;            /* the bucket's name, e.g. "aw-watcher-window_host" */
	char *type;
	char *client;
	char *hostname;
	aw_ns created;
	char *data;          /* canonical JSON object text; "{}" by default */
	char *last_updated;  /* JSON value text as a client posted it, or NULL */
	bool has_range;      /* metadata start/end are meaningful (bucket not empty) */
	aw_ns start;         /* earliest event start */
	aw_ns end;           /* latest event end */
	char *remote_device; /* NULL for this device's own buckets; origin device id otherwise */
	int64_t event_count; /* filled by aw_reader_buckets when AW_READ_COUNTS is asked */
} aw_bucket;

/* Free every string the bucket owns and zero the struct; the struct itself is the
 * caller's. */
void aw_bucket_clear(aw_bucket *b);
void aw_buckets_free(aw_bucket *b, size_t n);

/* ---- opening ---------------------------------------------------------------- */

typedef struct aw_store_options {
	/* Called on the writer thread after each committed batch, after every `done`
	 * callback of the batch ran. The node uses it to wake its event loop once. */
	void (*batch_done)(void *ctx);
	void *batch_ctx;
	/* 0 = synchronous=FULL (fsync per commit, survives power loss);
	 * 1 = synchronous=NORMAL (survives process crashes, not power loss). */
	int sync_normal;
	/* Upper bound on writes applied per transaction. 0 = default (1024). */
	int max_batch;
	/* Page cache of the writer while it applies imports, in KiB; 0 = SQLite's default
	 * (2000). More keeps a large database's data index in memory during a long import
	 * (see writer.c, tune_for_batch); the memory is given back after it. */
	int import_cache_kib;
} aw_store_options;

/* Open (creating and migrating as needed) the database at `path` and start the writer
 * thread. opts may be NULL. Caller closes with aw_store_close. */
int aw_store_open(aw_store **out, const char *path, const aw_store_options *opts);

/* Stop accepting writes, finish and commit everything queued, stop the writer and
 * close the database. NULL is a no-op. */
void aw_store_close(aw_store *s);

/* The database file's schema version (PRAGMA user_version) this build writes. */
int aw_store_schema_version(void);

/* ---- writes ------------------------------------------------------------------ */

typedef enum aw_write_kind {
	AW_W_BUCKET_CREATE,   /* bucket (+ events): EEXISTS if the id is taken */
	AW_W_BUCKET_DELETE,   /* bucket_id */
	AW_W_EVENTS_INSERT,   /* bucket_id, events (an event with has_id replaces that id) */
	AW_W_HEARTBEAT,       /* bucket_id, events[0], pulsetime */
	AW_W_EVENT_DELETE,    /* bucket_id, event_id (missing event is not an error) */
	AW_W_IMPORT,          /* buckets[] each with events: create or merge with dedup */
	AW_W_SETTING_SET,     /* key, value (JSON text); origin_* (see "Settings" below) */
	AW_W_SETTING_DELETE,  /* key; origin_* */
	AW_W_SETTINGS_CLAIM,  /* origin_device, origin_hostname: this device becomes the
	                       * author of every setting no change has been recorded for
	                       * (settings from before version 3 of the schema), and of
	                       * changes made without naming a device; their clock stays */
	AW_W_SYNC_BARRIER,    /* nothing; completes after everything queued before it */
	AW_W_REMOTE_APPLY,    /* remote: apply another device's changes to a remote bucket */
	AW_W_STATE_SET,       /* key, value: private state of a module (e.g. sync cursors) */
	AW_W_REDACT,          /* value: one privacy rule (JSON object) applied to stored events
	                       * of this device's buckets; dry_run only counts */
	AW_W_ARCHIVE_DELETE,  /* imports[]: per bucket, the events an archive segment holds;
	                       * each is deleted (with a tombstone, so sync publishes it) only
	                       * if it is still stored exactly so (same id, start, duration,
	                       * data). key, value: private state saved in the same
	                       * transaction (the archive index). out_dropped = deleted. */
	AW_W_TOMBSTONES_PRUNE, /* seq_limit: forget deletion records with seq <= it (sync has
	                        * published them, or nothing will ever need them) */
	AW_W_CHECKPOINT,      /* nothing to change: completes after the WAL was checkpointed
	                       * and truncated (see "Removed text and the WAL" below); status
	                       * AW_EBUSY when readers kept that from finishing */
} aw_write_kind;

/* Removed text and the WAL. secure_delete zeroes what a change removes from the main
 * database file, but the write-ahead log (<db>-wal) still holds the frames written
 * before: the old pages, removed text included, until a checkpoint has copied the
 * newest pages back and the log is truncated. So after a batch holding a write that
 * removes content (AW_W_ARCHIVE_DELETE, AW_W_REDACT without dry_run,
 * AW_W_BUCKET_DELETE) commits, the writer runs a truncating checkpoint before it
 * completes any write of the batch, and sets each such write's `wal_status`: 0 when
 * the log is empty afterwards (no removed text left in <db>-wal; <db>-shm only ever
 * holds page numbers), AW_EBUSY when a reader still held an older snapshot after a few
 * short retries (the text stays in the log until the next successful checkpoint, at
 * the latest when the database is closed). AW_W_CHECKPOINT asks for the same at any
 * time. What the file system keeps of the truncated log's blocks is outside SQLite's
 * reach (docs/storage.md). */

/* Another device's changes to one of its buckets, as sync imports them. Events are
 * identified by their id on the origin device (the source id); storage maps each to a
 * local event id, so applying the same changes twice changes nothing. */
typedef struct aw_remote_apply {
	const char *device_id;   /* the origin device */
	const aw_bucket *bucket; /* local id under which the bucket appears, and its fields;
	                          * created (read-only, marked remote) when missing. A local
	                          * bucket, or one of another device, with that id: AW_EEXISTS */
	const aw_event *puts;    /* new or changed events; event.id = source id (has_id set) */
	size_t n_puts;
	const int64_t *dels;     /* source ids of deleted events */
	size_t n_dels;
	bool delete_bucket;      /* remove the whole remote bucket (puts/dels ignored) */
} aw_remote_apply;

/* One bucket of an import document. */
typedef struct aw_import_bucket {
	aw_bucket bucket;    /* id, type, client, hostname, created, data */
	bool has_created;
	aw_event *events;
	size_t n_events;
} aw_import_bucket;

typedef struct aw_write aw_write;
struct aw_write {
	aw_write_kind kind;

	/* inputs (owned by the caller; storage never frees them) */
	const char *bucket_id;
	aw_bucket *bucket;            /* BUCKET_CREATE */
	aw_event *events;             /* EVENTS_INSERT, HEARTBEAT, BUCKET_CREATE */
	size_t n_events;
	aw_ns pulsetime;              /* HEARTBEAT, in ns */
	int64_t event_id;             /* EVENT_DELETE */
	aw_import_bucket *imports;    /* IMPORT, ARCHIVE_DELETE */
	size_t n_imports;
	aw_remote_apply *remote;      /* REMOTE_APPLY */
	const char *key;              /* SETTING_*, STATE_SET */
	const char *value;            /* SETTING_SET (JSON text), STATE_SET (any text; NULL deletes) */
	bool allow_remote;            /* permit writes to remote buckets (sync only) */
	bool dry_run;                 /* REDACT */
	int64_t seq_limit;            /* TOMBSTONES_PRUNE */
	const char *remote_device;    /* BUCKET_CREATE by sync: marks the bucket remote */
	const char *origin_device;    /* SETTING_*, SETTINGS_CLAIM: the device making the
	                               * change (NULL: not known; claimed later) */
	const char *origin_hostname;  /* its hostname then */
	aw_ns origin_hlc;             /* SETTING_*: 0 for a change made here (the writer
	                               * reads the clock); another device's clock reading
	                               * for a change sync brings, applied only if newer */

	/* outputs, valid in `done` and after aw_store_write returns */
	int status;                   /* 0 or AW_E* */
	char error[256];              /* message when status != 0 */
	aw_event *out_events;         /* inserted/merged events with ids; freed by
	                               * aw_write_clear. For HEARTBEAT: one event. */
	size_t n_out_events;
	int64_t out_dropped;          /* REDACT: events deleted (or that would be);
	                               * ARCHIVE_DELETE: events deleted */
	int64_t out_redacted;         /* REDACT: events rewritten (or that would be) */
	bool out_applied;             /* SETTING_*: the change is now the current value */
	int wal_status;               /* content-removing writes: 0 = the WAL was truncated
	                               * after the commit, AW_EBUSY = it could not be (above) */

	/* completion: called on the writer thread once the write is committed (or failed).
	 * May be NULL when using aw_store_write. */
	void (*done)(aw_write *w, void *ctx);
	void *ctx;

	aw_write *next;               /* private */
	int private_flags;            /* private */
};

/* Queue a write. It completes asynchronously through w->done. Returns AW_ESHUTDOWN if
 * the store is closing (done is not called then). w must stay valid until done. */
int aw_store_submit(aw_store *s, aw_write *w);

/* How many writes can wait in the queue at once, when the caller knows it (the node:
 * its connections that are sending writes, each with one request at a time); 0, the
 * default, when it does not. The writer stops lingering for a fuller batch once that many wait, as
 * no more can come. A hint only: a wrong number costs batch size or latency, never
 * correctness. */
void aw_store_set_clients(aw_store *s, int n);

/* Queue a write and wait for its completion. Returns w->status. */
int aw_store_write(aw_store *s, aw_write *w);

/* Checkpoint the WAL into the database file and truncate it to zero bytes, on the
 * writer thread after everything queued before (AW_W_CHECKPOINT). 0 when the WAL is
 * empty afterwards; AW_EBUSY (with aw_error_last set) when readers holding an older
 * snapshot kept it from completing after a few short retries. Never call it on the
 * writer thread (from a `done` callback). */
int aw_store_checkpoint_truncate(aw_store *s);

/* Free a write's outputs (out_events); inputs stay with the caller. */
void aw_write_clear(aw_write *w);

/* ---- reads ------------------------------------------------------------------- */

/* Open a read-only connection. One thread at a time may use a reader.
 * Caller closes with aw_reader_close. */
int aw_reader_open(aw_reader **out, aw_store *s);
/* Open a reader directly on a database file (no writer; for CLI tools). */
int aw_reader_open_path(aw_reader **out, const char *path);
void aw_reader_close(aw_reader *r);

/* Start/end a read snapshot spanning several calls (e.g. a whole export). Calls made
 * outside a snapshot each see the latest committed state. */
int aw_reader_begin(aw_reader *r);
void aw_reader_end(aw_reader *r);

enum { AW_READ_COUNTS = 1 };

/* All buckets, ordered by id. Caller frees with aw_buckets_free(*out, *n). */
int aw_reader_buckets(aw_bucket **out, size_t *n, aw_reader *r, unsigned flags);

/* One bucket; AW_ENOTFOUND if absent. Caller frees with aw_bucket_clear. */
int aw_reader_bucket(aw_bucket *out, aw_reader *r, const char *bucket_id);

/* A compact event as queries and list endpoints consume it: data by interned id. */
typedef struct aw_event_row {
	int64_t id;
	aw_ns start;
	aw_ns duration;
	int64_t data_id;
} aw_event_row;

enum {
	AW_EVENTS_CLIP = 1,       /* cut each event to [start, end] */
	AW_EVENTS_ASCENDING = 2,  /* oldest first instead of newest first */
	AW_EVENTS_KEY_ORDER = 4,  /* storage order (start, id ascending): no sort in SQLite;
	                           * the caller restores whatever tie order it needs */
};

/* Events of a bucket that overlap [start, end] (both inclusive: end >= start and
 * start <= end), newest first (ties: shorter first, then lower id) unless
 * AW_EVENTS_ASCENDING. limit < 0 means no limit. start > end gives no events.
 * AW_ENOTFOUND for an unknown bucket. Caller frees *out with free(). */
int aw_reader_event_rows(aw_event_row **out, size_t *n, aw_reader *r,
			 const char *bucket_id, aw_ns start, aw_ns end,
			 int64_t limit, unsigned flags);

/* The canonical JSON text of an interned data id. The pointer is borrowed from the
 * reader's cache and stays valid until aw_reader_close or aw_reader_trim_cache. */
int aw_reader_data(const char **json, size_t *len, aw_reader *r, int64_t data_id);

/* Load the texts of many data ids (sorted ascending, distinct) into the cache in one
 * range scan, instead of one lookup each; later aw_reader_data calls for them hit the
 * cache. With json and len (else both NULL), also give each id's text as aw_reader_data
 * would: json[k], len[k] for ids[k] (on an error, some may be NULL); then a scan of very
 * many ids (a long job's) only gives them: later look-ups of those ids read them again. */
#define AW_READER_DATA_PREFETCH 2
int aw_reader_data_prefetch(aw_reader *r, const int64_t *ids, size_t n, const char **json, size_t *len);

/* Drop the reader's data cache, or only when it grew past 32 MiB (call between
 * requests to bound memory; never while holding pointers from aw_reader_data). */
void aw_reader_trim_cache(aw_reader *r);
void aw_reader_trim_cache_if_large(aw_reader *r);

/* Number of events of a bucket overlapping [start, end] (reference: start >= end
 * gives 0). AW_ENOTFOUND for an unknown bucket. */
int aw_reader_event_count(int64_t *out, aw_reader *r, const char *bucket_id,
			  aw_ns start, aw_ns end);

/* One event by id within a bucket; AW_ENOTFOUND if the bucket or the event (in that
 * bucket) does not exist. Caller frees with aw_event_clear. */
int aw_reader_event_get(aw_event *out, aw_reader *r, const char *bucket_id, int64_t id);

/* A setting's JSON text, or AW_ENOTFOUND. Caller frees *out with free(). */
int aw_reader_setting(char **out, aw_reader *r, const char *key);

/* All settings as parallel arrays of keys and JSON texts, ordered by key.
 * Caller frees with aw_strings_free on both. */
int aw_reader_settings(char ***keys, char ***values, size_t *n, aw_reader *r);
void aw_strings_free(char **v, size_t n);

/* ---- settings: where each value came from (docs/storage.md, "Settings") -----------
 *
 * Every setting change is stamped with a hybrid logical clock reading (ns), the device
 * and its hostname. A change from another device (origin_hlc > 0) replaces the current
 * value only when (hlc, device id) is larger, so devices that exchange all changes
 * agree; the replaced value goes to a history. Keys listed in the setting
 * AW_SETTINGS_LOCAL_KEY (a JSON array; unset: ["theme"]) and that key itself are
 * device-local: never replaced by another device's change. */
#define AW_SETTINGS_LOCAL_KEY "awnode.device_local"

typedef struct aw_setting_meta {
	char *key;
	char *value;        /* JSON text; NULL when the setting was deleted */
	aw_ns hlc;          /* clock reading of the change; 0 for a value from before any */
	char *device;       /* device id of the change; "" when not known yet */
	char *hostname;
	aw_ns replaced_at;  /* history entries: when it was replaced; 0 otherwise */
	bool local;         /* device-local key */
} aw_setting_meta;

/* Is key device-local, given the JSON text of the AW_SETTINGS_LOCAL_KEY setting (NULL
 * when unset)? */
bool aw_setting_is_local(const char *key, const char *local_list_json);
/* Every key that has a value or a recorded deletion, ordered by key. Caller frees with
 * aw_setting_metas_free. */
int aw_reader_settings_meta(aw_setting_meta **out, size_t *n, aw_reader *r);
/* Replaced values, by key, newest first (at most 20 per key). Caller frees with
 * aw_setting_metas_free. */
int aw_reader_settings_history(aw_setting_meta **out, size_t *n, aw_reader *r);
void aw_setting_metas_free(aw_setting_meta *m, size_t n);

/* ---- change feed and private state (for sync) ------------------------------------ */

/* The highest change sequence number committed so far. */
int aw_reader_last_seq(int64_t *out, aw_reader *r);

/* One change of this device's own buckets. Pointers are borrowed for the callback. */
typedef struct aw_change {
	int64_t seq;
	const char *bucket_id;
	enum { AW_CHANGE_PUT, AW_CHANGE_DEL, AW_CHANGE_BUCKET_DEL } kind;
	int64_t event_id;            /* PUT, DEL */
	aw_ns start, duration;       /* PUT */
	const char *data;            /* PUT: canonical JSON */
	size_t data_len;
} aw_change;

/* Call cb for every change with seq > since, in seq order, of buckets that are not
 * remote: PUT for every event whose last write is newer than `since` (its current
 * state), DEL for every deletion, BUCKET_DEL for every bucket deletion. A non-zero
 * return from cb stops and is returned. Use inside aw_reader_begin/end for a
 * consistent cut, and read aw_reader_last_seq in the same snapshot. */
int aw_reader_changes(aw_reader *r, int64_t since, int (*cb)(void *ctx, const aw_change *c), void *ctx);

/* A module's private state value (written with AW_W_STATE_SET), or AW_ENOTFOUND.
 * Caller frees *out with free(). */
int aw_reader_state(char **out, aw_reader *r, const char *key);

#endif
