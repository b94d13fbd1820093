/*
 * Private declarations shared by the storage sources: the store struct (owned by the
 * writer thread except for the queue fields guarded by `mu`), SQLite helpers and the
 * schema entry point.
 */
#ifndef AW_STORAGE_INTERNAL_H
#define AW_STORAGE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include "aw/storage.h"

/* Writer-side view of a bucket. The heartbeat cache (`last`) is exact whenever
 * has_last is set: every path that could change which event is "last" either updates
 * it or clears has_last so the next heartbeat reloads it from the database. */
typedef struct wbucket {
	char *name;
	int64_t rowid;
	bool remote;
	char *remote_device; /* origin device of a remote bucket, else NULL */
	bool has_range;
	aw_ns start, end;
	aw_ns max_dur;       /* upper bound of any event's duration (never shrinks) */
	bool range_dirty;    /* a boundary event went away: recompute from the table */
	bool row_dirty;      /* start/end/max_dur differ from the stored row */
	bool has_last;
	aw_event_row last;
	int64_t sealed_max_day; /* >= the day of every block of the bucket (blocks.c);
	                         * INT64_MIN: it has none */
} wbucket;

/* ---- sealed days (blocks.c, docs/storage.md "Sealed days") ---- */

#define BLK_DAY_NS ((aw_ns)86400 * AW_NS_PER_SEC)
/* A day is sealed once it ended this long ago (and is not its bucket's last day). */
#define BLK_SEAL_AGE (2 * BLK_DAY_NS)
/* Days sealed per transaction, so a write waits at most for one such chunk. */
#define BLK_SEAL_CHUNK 20

typedef struct blk_event {
	int64_t start, id, duration, data, seq;
} blk_event;

/* Decoded events (appended by blk_decode) and the decoder's scratch. */
typedef struct blk_buf {
	blk_event *v;
	size_t n, cap;
	void *raw;
	size_t raw_cap;
	void *dctx;
	void *cctx; /* the writer's, kept while it seals */
} blk_buf;

int64_t blk_day(aw_ns t);      /* floor(t / day) */
aw_ns blk_day_lo(int64_t day); /* first and last ns of a day, clamped to the int64 range */
aw_ns blk_day_hi(int64_t day);
/* Encode n events into a new zstd frame *body (the caller frees it). v may be b->v:
 * the varints go to b's raw scratch, and b keeps its compression context for the next
 * day (blk_buf_free frees it). */
int blk_encode(blk_buf *b, const blk_event *v, size_t n, void **body, size_t *len);
int blk_decode(blk_buf *b, const void *body, size_t len, aw_ns first_start);
void blk_buf_free(blk_buf *b);
/* Called with one block's selected events (n > 0, in (start, id) order, valid until
 * it returns): 0 to go on, 1 to stop there, AW_ERROR (message set) to fail. */
typedef int (*blk_each_fn)(void *ctx, const blk_event *v, size_t n);
/* The events of the bucket's blocks with lo <= start <= hi and start + duration >=
 * min_end, block by block in day order (desc: newest day first), each block given to
 * each() as it is decoded: b, the scratch, holds one day only, so a year's scan costs
 * a day's memory (the caller keeps what it needs). slots: two statements. */
int blk_scan(sqlite3 *db, sqlite3_stmt **slots, blk_buf *b, int64_t bucket, aw_ns lo, aw_ns hi, aw_ns min_end,
	     bool desc, blk_each_fn each, void *ctx);
/* At least as many as blk_scan selects over [lo, hi]: the events of its days, from the
 * blocks' own counts (no decoding). */
int blk_count_upper(sqlite3 *db, sqlite3_stmt **slot, int64_t bucket, aw_ns lo, aw_ns hi, size_t *out);
/* The sealed event with this id (bucket 0: any bucket): 1 found, 0 not, AW_ERROR. */
int blk_find_id(sqlite3 *db, sqlite3_stmt **slot, blk_buf *b, int64_t bucket, int64_t id, int64_t *bucket_out,
		int64_t *day_out, blk_event *out);

/* Writer side, inside the writer's transaction; AW_ERROR with the message set. */
int blocks_load(aw_store *s);
void blocks_free(aw_store *s);
int blocks_unseal_day(aw_store *s, wbucket *b, int64_t day);
int blocks_unseal_bucket(aw_store *s, wbucket *b);
int blocks_unseal_id(aw_store *s, int64_t id, int64_t only_bucket, bool *unsealed);
int blocks_find_id(aw_store *s, int64_t id, int64_t *bucket, int64_t *day, blk_event *out);
/* For one write: find where each of ids[0 .. n) is sealed, in one pass over the blocks,
 * so that blocks_find_id answers those ids without a pass of its own until
 * blocks_places_drop. */
int blocks_places_load(aw_store *s, const int64_t *ids, size_t n);
/* The caller is about to give this id to an event of the write, if it is free of sealed
 * events: 1 (claimed now) when it was loaded and found sealed nowhere, -1 when it was
 * claimed before in this write, 0 otherwise (sealed, or not loaded). Once claimed,
 * blocks_find_id asks the blocks about the id again. */
int blocks_places_claim(aw_store *s, int64_t id);
/* The bucket of the sealed event with this id, as blocks_find_id finds it, without
 * decoding it when the places can tell: 1 found, 0 not, AW_ERROR. */
int blocks_id_bucket(aw_store *s, int64_t id, int64_t *bucket);
void blocks_places_drop(aw_store *s);
/* The bucket's sealed events as blk_scan selects and gives them. */
int blocks_scan_writer(aw_store *s, int64_t bucket, aw_ns lo, aw_ns hi, aw_ns min_end, blk_each_fn each, void *ctx);
/* Unseal the bucket's newest block if it holds the bucket's last event. */
int blocks_last_unseal(aw_store *s, wbucket *b);
int blocks_seal_some(aw_store *s, aw_ns now, int max_days, int *sealed);
/* An import's new events of bucket b (ids, seqs and data ids given; any order): those
 * of days closed as blocks_seal_some judges them, and without rows, are written as (or
 * added to) their days' blocks now instead of as rows sealed later; v[0 .. *n) is left
 * holding the others, in (start, id) order, for the caller to insert as rows. */
int blocks_import(aw_store *s, wbucket *b, aw_ns now, blk_event *v, size_t *n);
/* used[i]: does a block refer to data id ids[i]? Sorts ids. */
int blocks_datas_in_use(aw_store *s, int64_t *ids, size_t n, bool *used);

/* aw_write.private_flags: seal every sealable day after this write's batch commits,
 * before it completes (an import from a file, run without a node). */
#define AW_WRITE_SEAL_ALL 1

typedef struct intern_slot {
	uint64_t hash;
	int64_t id;
	char *json;
	size_t len;
} intern_slot;

/* Whether the writer gathers every client's write before a batch or lets batches
 * flow (batch_policy.c, docs/storage.md "Gathering or flowing"); the writer thread's. */
typedef struct batch_policy {
	bool gather;         /* linger for every client's write before the next batch */
	bool probing;        /* this epoch tries the other way */
	aw_ns epoch_start;   /* when the open epoch began; 0: none open */
	long epoch_writes;   /* writes and batches taken in it */
	long epoch_batches;
	int settled;         /* epochs in the current way since the last probe */
	int probe_every;     /* epochs between probes */
	double rate;         /* writes a second in the current way (a running mean) */
	long switches;       /* probes that won; for the trace */
	long gathered, flowed; /* batches taken each way, and their writes; for the trace */
	long gathered_writes, flowed_writes;
} batch_policy;
void batch_policy_init(batch_policy *p);
/* The writer took a batch of n writes at `now`; p->gather then says how to take the
 * next one. */
void batch_policy_taken(batch_policy *p, aw_ns now, int n);

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_INTERN_FIND, ST_INTERN_ADD,
	ST_EV_INSERT, ST_EV_BY_ID, ST_EV_STORED_AS, ST_EV_DELETE, ST_EV_UPDATE_DUR, ST_EV_LAST,
	ST_EV_RANGE_IDENT,
	ST_TOMB, ST_BUCKET_ROW, ST_META_SET, ST_MAP_FIND, ST_MAP_MAX, ST_MAP_ADD, ST_MAP_ADD_MANY, ST_MAP_DEL, ST_DATA_TEXT,
	ST_COUNT
};

struct aw_store {
	char *path;
	sqlite3 *db;
	int lock_fd;          /* flock on <db>.lock: one writing process per database */
	struct aw_privacy *privacy; /* rules from the privacy_filters setting, or NULL */
	aw_store_options opts;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	aw_write *head, *tail;
	int queued;           /* writes in head..tail */
	int wake_at;          /* submit signals cv once `queued` reaches this (writer.c) */
	int clients;          /* aw_store_set_clients; 0: unknown */
	batch_policy policy;  /* the writer's (batch_policy.c) */
	bool closing;
	bool thread_started;

	/* writer-owned state */
	wbucket *buckets;
	size_t n_buckets, cap_buckets;
	int64_t next_id, seq;
	int64_t stored_next_id, stored_seq;
	intern_slot *intern;
	size_t intern_cap, intern_used;
	aw_ns settings_hlc;        /* largest settings clock reading seen (settings.c) */
	bool settings_hlc_loaded;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *bst[16];     /* blocks.c's statements */
	blk_buf blk;               /* blocks.c's decoder */
	struct blk_places *places; /* blocks.c: the current write's sealed ids, or NULL */
	bool seal_pending;         /* there may be days to seal */
	bool import_tuned;         /* cache and log interval set for imports (writer.c) */

	/* the checkpointer (checkpointer.c) */
	sqlite3 *ckpt_db;
	pthread_t ckpt_thread;
	pthread_mutex_t ckpt_mu;
	pthread_mutex_t ckpt_run;  /* held around each checkpoint (checkpointer_hold) */
	pthread_cond_t ckpt_cv;
	bool ckpt_due, ckpt_stop;  /* under ckpt_mu */
	bool ckpt_started, ckpt_inited;
	int ckpt_pages;            /* log pages that wake it; the writer's thread only */
	int ckpt_log_pages;        /* the log's length at the last commit; writer thread */
	_Atomic int ckpt_phase;    /* CKPT_IDLE, CKPT_COPYING or CKPT_FINISH (checkpointer.c) */
	_Atomic int ckpt_copied;   /* the log's frames in the database after its last checkpoint */

	/* where the writer's time goes, with AW_WRITE_TRACE set (write_trace.c) */
	struct write_trace *trace;
};
#define BS_COUNT 16

/* Log pages that start a checkpoint outside imports: SQLite's own default. */
#define CKPT_DEFAULT_PAGES 1000

/* Start the checkpointer on the store's configured writer connection (checkpointer.c):
 * from then on no commit of the writer runs a checkpoint. Where it cannot start, it
 * logs why and SQLite's automatic checkpoint stays. */
void checkpointer_start(aw_store *s);
/* Ask for a checkpoint now (any thread). */
void checkpointer_wake(aw_store *s);
/* Wait for a checkpoint of the checkpointer's to end and keep another from starting,
 * until checkpointer_release: for a checkpoint of the writer's own (writer thread). */
void checkpointer_hold(aw_store *s);
void checkpointer_release(aw_store *s);
/* The log's length in pages at which a commit wakes the checkpointer (writer thread). */
void checkpointer_set_pages(aw_store *s, int pages);
/* Stop the thread and close its connection; before the writer's connection closes. */
void checkpointer_stop(aw_store *s);
/* Between batches, on the writer thread: copy what the checkpointer's last checkpoint
 * left behind, so that the log can start over (checkpointer.c). Cheap when there is
 * nothing to finish. */
void checkpointer_finish(aw_store *s);

/* ckpt_phase */
enum { CKPT_IDLE, CKPT_COPYING, CKPT_FINISH };

/* The writer's time per batch, with AW_WRITE_TRACE set in the environment
 * (write_trace.c, docs/storage.md "Where a write's time goes"). The writer stamps each
 * step as it ends: write_trace_mark(s, step). Without the variable, s->trace is NULL
 * and marking costs a test. */
typedef enum {
	WT_ARRIVED,   /* a write is queued (the writer waited since the last batch's WT_DONE) */
	WT_TAKEN,     /* the batch is taken (the writer lingered for more since WT_ARRIVED) */
	WT_APPLIED,   /* its writes are applied inside the transaction */
	WT_COMMITTED, /* COMMIT returned: the log is written, and synced with synchronous = FULL */
	WT_DONE,      /* every write of the batch is completed (done callbacks, batch_done) */
	WT_STEPS
} write_step;
void write_trace_open(aw_store *s);
void write_trace_mark(aw_store *s, write_step step, int writes);
/* Log what is left and free; at close. */
void write_trace_close(aw_store *s);

/* Create or migrate the schema on a read-write connection. */
int schema_migrate(sqlite3 *db);

/* How long a connection waits for a lock before SQLITE_BUSY. */
#define AW_BUSY_TIMEOUT_MS 10000

/* Apply the PRAGMAs every connection needs. */
int db_configure(sqlite3 *db, bool writer, int sync_normal);

/* Set aw_error_last from the connection's SQLite error and return AW_ERROR. */
int db_error(sqlite3 *db, const char *what);

/* Prepare once, reset before every use. NULL (with aw_error_last set) on failure. */
sqlite3_stmt *db_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql);

/* Writer thread entry. */
void *writer_main(void *arg);
int writer_load(aw_store *s);
void writer_free_state(aw_store *s);
/* (Re)load the privacy rules from the privacy_filters setting. */
int writer_privacy_reload(aw_store *s);

/* settings.c, on the writer thread inside the write's transaction */
int settings_write(aw_store *s, aw_write *w, bool set);
int settings_claim(aw_store *s, aw_write *w);

/* Column i of the current row as a new string (NULL for SQL NULL); caller frees. */
char *col_dup(sqlite3_stmt *st, int i);

/* The connection of a reader (reader.c). */
sqlite3 *reader_db(aw_reader *r);

char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);


#endif
