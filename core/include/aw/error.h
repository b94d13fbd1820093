/*
 * Error codes and the per-thread last-error message shared by every awnode module.
 *
 * Public functions return 0 on success or a negative AW_E* code; the human-readable
 * reason is kept per thread and read with aw_error_last() until the next failure on
 * that thread overwrites it.
 */
#ifndef AW_ERROR_H
#define AW_ERROR_H

enum {
	AW_OK = 0,
	AW_ERROR = -1,      /* generic failure (I/O, SQLite, out of memory) */
	AW_ENOTFOUND = -2,  /* bucket, event or key does not exist */
	AW_EEXISTS = -3,    /* bucket already exists */
	AW_EINVALID = -4,   /* malformed input: not JSON, a bad parameter (HTTP 400) */
	AW_ERANGE = -5,     /* value outside what can be represented (e.g. timestamp) */
	AW_EREADONLY = -6,  /* write to a remote (synced) bucket */
	AW_ESHUTDOWN = -7,  /* the store is closing and takes no more writes */
	AW_EBUSY = -8,      /* the database is open in another awnode process */
	AW_ESHAPE = -9,     /* well-formed JSON of the wrong shape, e.g. a field's type (HTTP 422) */
	AW_ECONNECT = -10,  /* a peer (the node, for the client) could not be reached */
	AW_EPROTOCOL = -11, /* a peer answered with an error or with something unreadable */
	AW_EINTR = -12,     /* stopped early on request (aw_client_interrupt) */
};

/* Set the calling thread's last-error message (printf-style). Always returns `code`. */
int aw_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The calling thread's last-error message; "" if none. Borrowed: valid until the next
 * aw_error_set on this thread. */
const char *aw_error_last(void);

#endif
