/*
 * Internal to `awnode start`: the supervisor's state, shared by the main loop
 * (supervisor.c), the control socket (control_server.c) and pausing (pause.c).
 * Single-threaded: everything runs on the supervisor's one loop.
 */
#ifndef SUPERVISOR_INT_H
#define SUPERVISOR_INT_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "aw/supervisor_ctl.h"

/* How long a watcher stopped for a pause may take to deliver its queue before it is
 * killed (as when awnode start itself stops). */
#define PAUSE_KILL_MS 8000

typedef struct child {
	char name[64];
	char **argv;
	size_t argc;
	int is_node;
	int is_tray;            /* awnode-tray: listed as kind "tray", never paused */
	pid_t pid;             /* 0 while not running */
	int64_t started_ms;    /* monotonic, of the current run */
	int64_t restart_at_ms; /* monotonic; 0 = not scheduled */
	long backoff_ms;
	int disabled;          /* exited in a way restarting will not help */
	int external;          /* the node: one already answered, so none was started */
	unsigned restarts;     /* restarts after unexpected exits */
	/* pausing (pause.c) */
	int paused;
	int64_t paused_until;  /* wall clock, ms since the epoch; 0 = until resumed */
	int stopping_for_pause; /* SIGTERM sent for a pause: its exit is expected */
	int64_t kill_at_ms;    /* monotonic: SIGKILL if it still runs then; 0 = none */
} child;

typedef struct supervisor {
	child kids[4];         /* kids[0] is the node, then the watchers and the tray */
	size_t nk;
	int testing;
	int watchers_started;
	int64_t started_ms;
	sigset_t oldmask;      /* the signal mask children get back */
	char sock_path[AW_CTL_PATH_MAX]; /* "" = no control channel */
} supervisor;

/* supervisor.c */
void supervisor_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int64_t supervisor_wall_ms(void);
/* Start c now (fork + exec); on failure it is scheduled to retry. */
void supervisor_spawn(supervisor *sv, child *c);

/* pause.c */
/* Answer one control request line; returns the response line without newline (heap,
 * caller frees). */
char *control_answer(supervisor *sv, const char *line);
/* End pauses whose time is up, kill children that ignore a pause's SIGTERM, and lower
 * *wait_ms to the next such deadline. */
void pause_tick(supervisor *sv, int64_t *wait_ms);
/* A child stopped for a pause exited: restart it at once if it was resumed meanwhile. */
void pause_child_exited(supervisor *sv, child *c);
/* Re-apply timed pauses saved by a previous awnode start (still running out). */
void pause_restore(supervisor *sv);

/* control_server.c: the control socket. Returns 0 (listening), AW_EBUSY (another
 * supervisor answers on path: refuse to run) or AW_ERROR (no control channel); the
 * reason is in aw_error_last(). */
typedef struct control_server control_server;
int control_server_open(control_server **out, const char *path);
/* pollfds to watch: at most CONTROL_MAX_FDS, returns how many were written. */
#define CONTROL_MAX_FDS 9
int control_server_fds(control_server *s, struct pollfd *fds);
/* ms until the earliest client deadline (or `wait_ms` if that is sooner). */
int64_t control_server_timeout(control_server *s, int64_t wait_ms);
/* Accept, read requests, answer with control_answer(), drop idle clients. fds are
 * the ones control_server_fds() wrote, after poll(). */
void control_server_service(control_server *s, const struct pollfd *fds, int n, supervisor *sv);
/* Close every connection, remove the socket and release the lock. NULL is fine. */
void control_server_close(control_server *s);

#endif
