/*
 * The on-disk heartbeat queue: one directory per client holding
 *   queue.jsonl  records, one per line, appended in commit order
 *   queue.pos    the byte offset of the first undelivered record (fixed-width decimal)
 *   lock         flock()ed for the lifetime of the queue (one process per queue)
 * A record is delivered, then the offset advances; when everything is delivered the
 * file is truncated. A crash between delivery and the offset update re-sends one
 * record, which is harmless for heartbeats (merging an event into itself is a no-op).
 * A torn last line (crash while appending) is cut off when the queue is opened.
 */
#ifndef CLIENT_QUEUE_H
#define CLIENT_QUEUE_H

#include <stddef.h>

typedef struct disk_queue disk_queue;

/* Open (creating it 0700) and lock the queue in `dir`. Returns 0 (close with
 * queue_close), AW_EBUSY if another process holds the lock, or AW_ERROR; the reason is
 * in aw_error_last(). */
int queue_open(disk_queue **out, const char *dir);
void queue_close(disk_queue *q);
/* Append one record (no newline inside). 0 or -1 (errno set). */
int queue_append(disk_queue *q, const char *rec, size_t len);
/* The oldest undelivered record, malloc'd and NUL-terminated: 0 = got one, 1 = empty,
 * -1 = I/O error. */
int queue_peek(disk_queue *q, char **rec, size_t *len);
/* Drop the record returned by the last peek. 0 or -1. */
int queue_pop(disk_queue *q);
size_t queue_length(const disk_queue *q);

#endif
