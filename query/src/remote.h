/* Posting a query to a running node (remote.c), kept apart from internal.h because the
 * node client's header has its own aw_event. */
#ifndef AW_QUERY_REMOTE_H
#define AW_QUERY_REMOTE_H

#include <stddef.h>

/* POST body to <url>/api/0/query/ where url is "http://host[:port][/]". Returns 0 with
 * *status and *resp (caller frees) when the node answered; otherwise -1 with a message
 * in err. */
int awq_post_query(const char *url, const char *body, int *status, char **resp, char *err, size_t errlen);

#endif
