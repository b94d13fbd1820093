/*
 * Opening and closing a store, the write queue, and small SQLite helpers.
 *
 * The queue is a singly linked list guarded by `mu`; aw_store_submit appends and
 * signals, the writer thread (writer.c) takes the whole list at once. That "take all"
 * is what makes group commit automatic: whatever arrived while the previous batch was
 * committing becomes the next batch.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "aw/fifo.h"
#include "aw/mem.h"
#include "internal.h"

char *xstrndup(const char *s, size_t n)
{
	char *p = aw_mem_malloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

int db_error(sqlite3 *db, const char *what)
{
	return aw_error_set(AW_ERROR, "%s: %s", what, sqlite3_errmsg(db));
}

sqlite3_stmt *db_stmt(sqlite3 *db, sqlite3_stmt **slot, const char *sql)
{
	if (*slot) {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
		return *slot;
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
		db_error(db, "preparing statement");
		*slot = NULL;
	}
	return *slot;
}

int db_configure(sqlite3 *db, bool writer, int sync_normal)
{
	sqlite3_busy_timeout(db, AW_BUSY_TIMEOUT_MS);
	if (!writer)
		return 0;
	/* WAL lets readers keep a snapshot while the writer commits. FULL fsyncs the WAL on
	 * every commit so an acknowledged write survives power loss, not only kill -9. */
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "enabling WAL");
	if (sqlite3_exec(db, sync_normal ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL",
			 NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "setting synchronous");
	/* Deleted and rewritten content is zeroed, not left in free space: archiving,
	 * redacting and deleting exist to make data unreadable on this device. */
	if (sqlite3_exec(db, "PRAGMA secure_delete=ON", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "enabling secure_delete");
	/* An import lets the log grow to 64 MiB before a checkpoint (writer.c,
	 * tune_for_batch); when the log starts over, the file shrinks back to this. Above
	 * what 1000-page checkpoints leave, so that the log of ordinary writes is reused
	 * in place, not cut and grown again every cycle. */
	if (sqlite3_exec(db, "PRAGMA journal_size_limit = 16777216", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "limiting the log's size");
	return 0;
}

int aw_store_open(aw_store **out, const char *path, const aw_store_options *opts)
{
	aw_store *s = aw_mem_calloc(1, sizeof(*s));
	int rc;

	/* SQLite's allocation statistics take a global mutex on every malloc; awnode never
	 * reads them. Must precede sqlite3_initialize, so it is harmless if it fails later. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (opts)
		s->opts = *opts;
	if (s->opts.max_batch <= 0)
		s->opts.max_batch = 1024;
	s->path = xstrdup(path);
	s->lock_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	{
		/* The writer's linger (writer.c) waits on a monotonic deadline. */
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	s->wake_at = 1;
	batch_policy_init(&s->policy);
	/* The writer keeps counters and caches in memory, so a second writing process would
	 * hand out the same event ids. An advisory lock beside the file keeps it to one;
	 * the kernel drops it when the process dies, even by kill -9. */
	{
		char lock[4096];
		snprintf(lock, sizeof(lock), "%s.lock", path);
		s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lock_fd >= 0 && flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
			rc = aw_error_set(AW_EBUSY, "database %s is in use by another awnode process", path);
			goto fail;
		}
	}

	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = aw_error_set(AW_ERROR, "cannot open database %s: %s", path,
				  s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	if ((rc = db_configure(s->db, true, s->opts.sync_normal)) != 0)
		goto fail;
	if ((rc = schema_migrate(s->db)) != 0)
		goto fail;
	if ((rc = writer_load(s)) != 0)
		goto fail;
	checkpointer_start(s);
	write_trace_open(s);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		rc = aw_error_set(AW_ERROR, "cannot start writer thread");
		goto fail;
	}
	s->thread_started = true;
	*out = s;
	return 0;
fail:
	aw_store_close(s);
	return rc;
}

void aw_store_close(aw_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	write_trace_close(s);
	checkpointer_stop(s);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	blocks_free(s);
	writer_free_state(s);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->path);
	free(s);
}

int aw_store_submit(aw_store *s, aw_write *w)
{
	bool wake;

	w->status = 0;
	w->wal_status = 0;
	w->error[0] = '\0';
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		pthread_mutex_unlock(&s->mu);
		return aw_error_set(AW_ESHUTDOWN, "the node is shutting down");
	}
	AW_FIFO_PUSH(s->head, s->tail, w);
	/* While the writer lingers for a fuller batch (writer_main) it asks to be woken
	 * only once enough writes wait; every other signal would be a futex call and a
	 * context switch for nothing. The signal follows the unlock: signalled under the
	 * lock, the woken writer blocked at once on the mutex this thread still held, and
	 * the unlock had to wake it again. */
	wake = ++s->queued >= s->wake_at;
	pthread_mutex_unlock(&s->mu);
	if (wake)
		pthread_cond_signal(&s->cv);
	return 0;
}

void aw_store_set_clients(aw_store *s, int n)
{
	pthread_mutex_lock(&s->mu);
	s->clients = n;
	pthread_mutex_unlock(&s->mu);
}

int aw_store_checkpoint_truncate(aw_store *s)
{
	aw_write w;

	memset(&w, 0, sizeof(w));
	w.kind = AW_W_CHECKPOINT;
	return aw_store_write(s, &w);
}

typedef struct sync_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	void (*user_done)(aw_write *, void *);
	void *user_ctx;
} sync_wait;

static void sync_done(aw_write *w, void *ctx)
{
	sync_wait *sw = ctx;

	pthread_mutex_lock(&sw->mu);
	sw->done = true;
	pthread_cond_signal(&sw->cv);
	pthread_mutex_unlock(&sw->mu);
}

int aw_store_write(aw_store *s, aw_write *w)
{
	sync_wait sw = {.done = false};
	int rc;

	pthread_mutex_init(&sw.mu, NULL);
	pthread_cond_init(&sw.cv, NULL);
	sw.user_done = w->done;
	sw.user_ctx = w->ctx;
	w->done = sync_done;
	w->ctx = &sw;
	rc = aw_store_submit(s, w);
	if (rc == 0) {
		pthread_mutex_lock(&sw.mu);
		while (!sw.done)
			pthread_cond_wait(&sw.cv, &sw.mu);
		pthread_mutex_unlock(&sw.mu);
		rc = w->status;
		if (rc)
			aw_error_set(rc, "%s", w->error);
	}
	w->done = sw.user_done;
	w->ctx = sw.user_ctx;
	pthread_mutex_destroy(&sw.mu);
	pthread_cond_destroy(&sw.cv);
	return rc;
}

void aw_event_clear(aw_event *e)
{
	free(e->data);
	memset(e, 0, sizeof(*e));
}

void aw_bucket_clear(aw_bucket *b)
{
	free(b->id);
	free(b->type);
	free(b->client);
	free(b->hostname);
	free(b->data);
	free(b->last_updated);
	free(b->remote_device);
	memset(b, 0, sizeof(*b));
}

void aw_buckets_free(aw_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aw_bucket_clear(&b[i]);
	free(b);
}

void aw_write_clear(aw_write *w)
{
	for (size_t i = 0; i < w->n_out_events; i++)
		aw_event_clear(&w->out_events[i]);
	free(w->out_events);
	w->out_events = NULL;
	w->n_out_events = 0;
}

void aw_strings_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
