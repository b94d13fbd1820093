/*
 * The database schema and its forward migrations, versioned with PRAGMA user_version.
 *
 * Layout decisions (the why):
 *   - events is a WITHOUT ROWID table clustered on (bucket, start, id): every read is a
 *     time range of one bucket, so a range is one contiguous b-tree walk. A unique
 *     index on id serves the rare lookups by id (single GET, DELETE, replace-by-id).
 *   - event data is interned in `datas`: a year of window events has ~20k distinct
 *     {app,title} values for ~250k events, so each event row stores a small integer.
 *   - times are integer nanoseconds UTC; `duration` rather than `end` because it is the
 *     smaller integer (SQLite stores integers in 1-8 bytes by magnitude).
 *   - buckets carry start/end (exact metadata) and max_duration, an upper bound on any
 *     event's duration, which turns "events overlapping [S, E]" into the bounded range
 *     scan start BETWEEN S - max_duration AND E.
 *   - every event row carries `seq`, the change sequence of its last write, and deletes
 *     leave rows in `tombstones`, so sync can export exactly what changed since N.
 *   - event ids and seq come from counters in `meta`, never reused after deletion
 *     (sync identifies events by (device, bucket, id)).
 *   - closed days are sealed: each (bucket, day) older than two days, except a bucket's
 *     last day, is one compressed row of `blocks` instead of its rows in events and
 *     events_id (blocks.c; ~12 bytes per event instead of ~57). The recent tail, where
 *     writes go, stays as rows.
 *   - auto_vacuum=INCREMENTAL, so the pages sealing frees leave the file.
 * Migrations only ever move forward, each in one transaction.
 */
#include <stdio.h>

#include "internal.h"

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta VALUES ('next_event_id', 1), ('seq', 0);"
	"CREATE TABLE buckets ("
	"  rowid INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  type TEXT NOT NULL,"
	"  client TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  data TEXT NOT NULL DEFAULT '{}',"
	"  last_updated TEXT,"
	"  start INTEGER,"
	"  \"end\" INTEGER,"
	"  max_duration INTEGER NOT NULL DEFAULT 0,"
	"  remote_device TEXT);"
	"CREATE TABLE datas (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, json TEXT NOT NULL);"
	"CREATE INDEX datas_hash ON datas(hash);"
	"CREATE TABLE events ("
	"  bucket INTEGER NOT NULL,"
	"  start INTEGER NOT NULL,"
	"  id INTEGER NOT NULL,"
	"  duration INTEGER NOT NULL,"
	"  data INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  PRIMARY KEY (bucket, start, id)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX events_id ON events(id);"
	"CREATE TABLE tombstones (seq INTEGER PRIMARY KEY, bucket TEXT NOT NULL, event_id INTEGER);"
	"CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
	/* 1 -> 2: sync. remote_ids maps (remote bucket, event id on the origin device) to the
	 * local event id, which makes applying another device's changes idempotent; state
	 * holds modules' private cursors. */
	"CREATE TABLE remote_ids ("
	"  bucket INTEGER NOT NULL,"
	"  source_id INTEGER NOT NULL,"
	"  local_id INTEGER NOT NULL,"
	"  PRIMARY KEY (bucket, source_id)) WITHOUT ROWID;"
	"CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
	/* 2 -> 3: settings that travel (settings.c). Existing settings get no meta row:
	 * they count as older than any stamped change until sync claims them. */
	"CREATE TABLE settings_meta ("
	"  key TEXT PRIMARY KEY,"
	"  hlc INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE TABLE settings_history ("
	"  id INTEGER PRIMARY KEY,"
	"  key TEXT NOT NULL,"
	"  value TEXT,"
	"  hlc INTEGER NOT NULL,"
	"  device TEXT NOT NULL,"
	"  hostname TEXT NOT NULL,"
	"  replaced_at INTEGER NOT NULL);"
	"CREATE INDEX settings_history_key ON settings_history(key, id);",
	/* 3 -> 4: sealed days (blocks.c). The days are sealed afterwards by the writer,
	 * in small transactions, starting when the store opens. */
	"CREATE TABLE blocks ("
	"  bucket INTEGER NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  first_start INTEGER NOT NULL,"
	"  last_start INTEGER NOT NULL,"
	"  max_end INTEGER NOT NULL,"
	"  min_id INTEGER NOT NULL,"
	"  max_id INTEGER NOT NULL,"
	"  max_seq INTEGER NOT NULL,"
	"  body BLOB NOT NULL,"
	"  PRIMARY KEY (bucket, day)) WITHOUT ROWID;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int aw_store_schema_version(void)
{
	return SCHEMA_VERSION;
}

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK)
		return db_error(db, "reading schema version");
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

/* auto_vacuum=INCREMENTAL, so that the writer can hand freed pages back to the file
 * system (PRAGMA incremental_vacuum after sealing). Only an empty database takes the
 * setting directly; an existing one is rebuilt once with VACUUM. */
static int incremental_vacuum_on(sqlite3 *db)
{
	sqlite3_stmt *st;
	int mode = -1;

	if (sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "enabling incremental vacuum");
	if (sqlite3_prepare_v2(db, "PRAGMA auto_vacuum", -1, &st, NULL) != SQLITE_OK)
		return db_error(db, "enabling incremental vacuum");
	if (sqlite3_step(st) == SQLITE_ROW)
		mode = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (mode == 2)
		return 0;
	if (sqlite3_exec(db, "VACUUM", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "enabling incremental vacuum");
	return 0;
}

int schema_migrate(sqlite3 *db)
{
	int v = 0, rc;
	char sql[64];

	if (user_version(db, &v))
		return AW_ERROR;
	if (v > SCHEMA_VERSION)
		return aw_error_set(AW_ERROR,
				    "database schema version %d is newer than this awnode (%d); refusing to open",
				    v, SCHEMA_VERSION);
	/* a new database takes it before its first table, without a VACUUM */
	if (v == 0 && sqlite3_exec(db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "enabling incremental vacuum");
	for (; v < SCHEMA_VERSION; v++) {
		if (sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
			return db_error(db, "starting migration");
		rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			int err = db_error(db, "migrating schema");
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return err;
		}
	}
	return incremental_vacuum_on(db);
}
