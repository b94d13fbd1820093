/*
 * Private declarations shared by the storage sources: the store struct (owned by the
 * writer thread except for the queue fields guarded by `mu`), SQLite helpers and the
 * schema entry point.
 */
#ifndef AW_STORAGE_INTERNAL_H
#define AW_STORAGE_INTERNAL_H

#include <pthread.h>
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
} wbucket;

typedef struct intern_slot {
	uint64_t hash;
	int64_t id;
	char *json;
	size_t len;
} intern_slot;

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_INTERN_FIND, ST_INTERN_ADD,
	ST_EV_INSERT, ST_EV_BY_ID, ST_EV_STORED_AS, ST_EV_DELETE, ST_EV_UPDATE_DUR, ST_EV_LAST,
	ST_EV_RANGE_IDENT,
	ST_TOMB, ST_BUCKET_ROW, ST_META_SET, ST_MAP_FIND, ST_MAP_ADD, ST_MAP_DEL, ST_DATA_TEXT,
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
};

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
