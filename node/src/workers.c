/*
 * The reader pool: a few threads, each with its own read-only SQLite connection, that
 * run the read side of requests (event lists, counts, exports, settings) so the HTTP
 * loop never waits on SQLite. Jobs are taken in arrival order from one queue.
 */
#include <pthread.h>
#include <stdlib.h>

#include "aw/fifo.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "http.h"

struct workers {
	node *n;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	request *head, *tail;
	bool stopping;
	int count;
	pthread_t *threads;
};

static void *worker_main(void *arg)
{
	workers *w = arg;
	aw_reader *r = NULL;
	request *rq;

	if (aw_reader_open(&r, w->n->store))
		aw_log_error("reader: %s", aw_error_last());
	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (!w->head && !w->stopping)
			pthread_cond_wait(&w->cv, &w->mu);
		rq = w->head;
		if (rq) {
			w->head = rq->next;
			if (!w->head)
				w->tail = NULL;
		}
		pthread_mutex_unlock(&w->mu);
		if (!rq)
			break;
		if (r)
			rq->read_fn(rq, r);
		else
			respond_message(rq, 500, "database is not readable");
		if (r)
			aw_reader_trim_cache_if_large(r);
		node_done(rq);
	}
	aw_reader_close(r);
	return NULL;
}

int workers_start(workers **out, node *n, int count)
{
	workers *w = aw_mem_calloc(1, sizeof(*w));

	w->n = n;
	w->count = count;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->threads = calloc((size_t)count, sizeof(pthread_t));
	for (int i = 0; i < count; i++)
		pthread_create(&w->threads[i], NULL, worker_main, w);
	*out = w;
	return 0;
}

void workers_submit(workers *w, request *rq)
{
	pthread_mutex_lock(&w->mu);
	AW_FIFO_PUSH(w->head, w->tail, rq);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void workers_stop(workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->count; i++)
		pthread_join(w->threads[i], NULL);
	free(w->threads);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
