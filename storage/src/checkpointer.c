/*
 * The checkpointer: a thread with a connection of its own that copies the write-ahead
 * log into the database, so that no commit waits for that copy.
 *
 * SQLite's automatic checkpoint runs inside the commit that finds the log past its
 * threshold: the writer copies the log's pages and syncs the database file before the
 * writes of that batch can be acknowledged. Under a stream of heartbeats that is a
 * commit every few hundred, and its writes waited several milliseconds for it (10 s of
 * heartbeats from 32 connections: p99 4.0 to 4.2 ms; beside a year's summary query in a
 * loop, whose snapshots hold the log back so that the next checkpoint finds more to
 * copy, 8.1 to 9.5 ms; docs/storage.md, "Threads"). So the writer's connection has no automatic checkpoint. Its log hook, which
 * SQLite calls after every commit with the log's length in pages, wakes this thread once
 * the log holds `ckpt_pages` (the writer sets that: more during imports, writer.c), and
 * this thread runs a PASSIVE checkpoint. SQLite runs a checkpoint and a writer side by
 * side: the writer appends to the log while the checkpoint copies older frames, and the
 * writer starts the log over at its first commit after a checkpoint that copied
 * everything, as it did before. What a commit made durable is unchanged: the log's sync
 * in the commit (synchronous = FULL) is what an acknowledgment waits for.
 *
 * The checkpoint takes SQLite's checkpointer lock, and a second checkpoint that meets
 * it fails at once: SQLite waits for readers, not for another checkpoint. So the
 * writer's TRUNCATE checkpoint after a removal (writer.c, wal_truncate) first holds
 * `ckpt_run`, which this thread holds around each of its checkpoints.
 *
 * The log starts over only at a write that finds every frame copied, and under a
 * steady stream of commits a checkpoint running beside the writer never ends that way:
 * the commits made while it copied are left. The log hook, finding the log still past
 * the threshold, woke this thread at every commit, each time for a checkpoint of a
 * commit or two with two syncs of its own (about 80 syncs a second beside the
 * writer's 500 to 700 commits under heartbeats from 32 connections, on a year's
 * database, docs/storage.md "Threads"), while the log kept growing. So a crossing
 * wakes this thread once (`ckpt_phase` COPYING); when its checkpoint ends, the writer
 * copies what commits added meanwhile itself, between two batches
 * (checkpointer_finish), where no commit can run beside it, and the next commit starts
 * the log over. A finish copies at most FINISH_MAX_PAGES: a reader's snapshot can hold
 * a checkpoint back, and then the bulk of the log is left to this thread's next run.
 *
 * Where the thread or its connection cannot be had, the writer keeps SQLite's automatic
 * checkpoint.
 */
#include <pthread.h>

#include "aw/log.h"
#include "internal.h"

/* About ten commits of heartbeats: a finish costs the writer the copy of this many
 * pages and two syncs, a millisecond or two once per checkpoint. */
#define FINISH_MAX_PAGES 128

static void *checkpointer_main(void *arg)
{
	aw_store *s = arg;
	int rc, log, copied;

	pthread_mutex_lock(&s->ckpt_mu);
	for (;;) {
		while (!s->ckpt_due && !s->ckpt_stop)
			pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
		if (s->ckpt_stop)
			break;
		s->ckpt_due = false;
		pthread_mutex_unlock(&s->ckpt_mu);
		/* SQLITE_BUSY (another checkpoint holds the lock) or a failure: the next wake
		 * tries again, and the log only grows meanwhile */
		pthread_mutex_lock(&s->ckpt_run);
		rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
		pthread_mutex_unlock(&s->ckpt_run);
		atomic_store(&s->ckpt_copied, rc == SQLITE_OK ? copied : 0);
		atomic_store(&s->ckpt_phase, rc == SQLITE_OK ? CKPT_FINISH : CKPT_IDLE);
		pthread_mutex_lock(&s->ckpt_mu);
	}
	pthread_mutex_unlock(&s->ckpt_mu);
	return NULL;
}

/* SQLite's log hook on the writer's connection: after each commit, in the writer. */
static int log_grew(void *arg, sqlite3 *db, const char *name, int pages)
{
	aw_store *s = arg;

	(void)db;
	(void)name;
	if (pages < s->ckpt_log_pages) {
		/* the log started over: nothing is left to finish */
		int finish = CKPT_FINISH;
		atomic_compare_exchange_strong(&s->ckpt_phase, &finish, CKPT_IDLE);
	}
	s->ckpt_log_pages = pages;
	if (pages >= s->ckpt_pages && atomic_load(&s->ckpt_phase) == CKPT_IDLE) {
		atomic_store(&s->ckpt_phase, CKPT_COPYING);
		checkpointer_wake(s);
	}
	return SQLITE_OK;
}

void checkpointer_start(aw_store *s)
{
	int rc;

	s->ckpt_pages = CKPT_DEFAULT_PAGES;
	pthread_mutex_init(&s->ckpt_mu, NULL);
	pthread_mutex_init(&s->ckpt_run, NULL);
	pthread_cond_init(&s->ckpt_cv, NULL);
	s->ckpt_inited = true;
	rc = sqlite3_open_v2(s->path, &s->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK || db_configure(s->ckpt_db, true, s->opts.sync_normal) ||
	    pthread_create(&s->ckpt_thread, NULL, checkpointer_main, s)) {
		aw_log_warn("storage: checkpoints stay in the writer's commits (%s)",
			    s->ckpt_db ? sqlite3_errmsg(s->ckpt_db) : sqlite3_errstr(rc));
		sqlite3_close(s->ckpt_db);
		s->ckpt_db = NULL;
		return;
	}
	s->ckpt_started = true;
	/* replaces SQLite's automatic checkpoint, itself a log hook */
	sqlite3_wal_hook(s->db, log_grew, s);
}

void checkpointer_wake(aw_store *s)
{
	if (!s->ckpt_started)
		return;
	pthread_mutex_lock(&s->ckpt_mu);
	s->ckpt_due = true;
	pthread_mutex_unlock(&s->ckpt_mu);
	pthread_cond_signal(&s->ckpt_cv);
}

void checkpointer_hold(aw_store *s)
{
	if (s->ckpt_started)
		pthread_mutex_lock(&s->ckpt_run);
}

void checkpointer_release(aw_store *s)
{
	if (s->ckpt_started)
		pthread_mutex_unlock(&s->ckpt_run);
}

void checkpointer_set_pages(aw_store *s, int pages)
{
	if (s->ckpt_started)
		s->ckpt_pages = pages;
	else
		sqlite3_wal_autocheckpoint(s->db, pages);
}

void checkpointer_finish(aw_store *s)
{
	int left;

	if (!s->ckpt_started || atomic_load(&s->ckpt_phase) != CKPT_FINISH)
		return;
	/* 0 or less: all copied, or the log started over since */
	left = s->ckpt_log_pages - atomic_load(&s->ckpt_copied);
	if (left > 0 && left <= FINISH_MAX_PAGES) {
		pthread_mutex_lock(&s->ckpt_run);
		(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_unlock(&s->ckpt_run);
	}
	/* the next commit starts the log over where this copied everything; where it did
	 * not (a reader's snapshot still needs frames), or more was left than a finish
	 * copies, the next commit past the threshold wakes the checkpointer again */
	atomic_store(&s->ckpt_phase, CKPT_IDLE);
}

void checkpointer_stop(aw_store *s)
{
	if (s->ckpt_started) {
		pthread_mutex_lock(&s->ckpt_mu);
		s->ckpt_stop = true;
		pthread_mutex_unlock(&s->ckpt_mu);
		pthread_cond_signal(&s->ckpt_cv);
		pthread_join(s->ckpt_thread, NULL);
		s->ckpt_started = false;
	}
	/* the writer's connection, closed after this one, checkpoints what is left */
	sqlite3_close(s->ckpt_db);
	s->ckpt_db = NULL;
	if (s->ckpt_inited) {
		pthread_mutex_destroy(&s->ckpt_mu);
		pthread_mutex_destroy(&s->ckpt_run);
		pthread_cond_destroy(&s->ckpt_cv);
		s->ckpt_inited = false;
	}
}
