/*
 * An intrusive first-in-first-out list: the queued items carry their own `next`
 * pointer and the owner keeps `head` and `tail`. The writer's queue, the reader pool's
 * jobs, the HTTP thread's finished requests and the background services' requests are all
 * one of these, each under its own lock (the macro does no locking).
 */
#ifndef AW_FIFO_H
#define AW_FIFO_H

/* Append item at the tail (head and tail are lvalues; both NULL when empty). */
#define AW_FIFO_PUSH(head, tail, item)            \
	do {                                      \
		(item)->next = NULL;              \
		if (tail)                         \
			(tail)->next = (item);    \
		else                              \
			(head) = (item);          \
		(tail) = (item);                  \
	} while (0)

#endif
