/*
 * What the tray icon shows, read from the node (internal to awnode-tray).
 *
 * The tray polls two routes: GET /api/0/watchers (whether `awnode start` runs the node,
 * and each watcher's state and pause) and GET /api/0/sync/status (whether sync is set
 * up, for "Sync now"). tray_state_parse_* turn their JSON bodies into a tray_state;
 * tray_state_equal tells the D-Bus side when to announce a change. The menu built from
 * a state is in tray_menu.h. Nothing here talks to the network or to D-Bus, so the
 * unit tests feed it canned answers.
 */
#ifndef TRAY_STATE_H
#define TRAY_STATE_H

#include <stddef.h>

#define TRAY_MAX_WATCHERS 8

typedef struct tray_watcher {
	char name[64];   /* "aw-watcher-window" */
	char state[16];  /* running, paused, restarting, starting, stopped */
	int paused;
	char paused_until[32]; /* ISO 8601 UTC, "" when paused until resumed or not paused */
} tray_watcher;

typedef struct tray_state {
	int node_up;       /* the node answered GET /api/0/watchers */
	int supervised;    /* it runs under `awnode start` */
	long supervisor_pid;
	int sync_configured;
	size_t nwatchers;
	tray_watcher watchers[TRAY_MAX_WATCHERS];
} tray_state;

/* Fill `st` from the body of GET /api/0/watchers (NULL or unparsable = node down:
 * everything zeroed). Keeps st->sync_configured. Returns 0, or -1 when the body is not
 * the expected object (st then says the node is down). */
int tray_state_parse_watchers(tray_state *st, const char *body);

/* Set st->sync_configured from the body of GET /api/0/sync/status (`configured`);
 * NULL (no sync route, or an error status) means not configured. */
void tray_state_parse_sync(tray_state *st, const char *body);

/* 1 when a and b would show the same icon, tooltip and menu. */
int tray_state_equal(const tray_state *a, const tray_state *b);

/* "Window watcher" for aw-watcher-window, "AFK watcher" for aw-watcher-afk, else the
 * name itself. */
const char *tray_watcher_title(const char *name);

/* One line on the state of watcher w, into buf: "Window watcher: recording",
 * "AFK watcher: paused until 14:30" (local time), "... paused until resumed". */
void tray_watcher_line(char *buf, size_t len, const tray_watcher *w);

/* How the tray sums the state up, for the tooltip and the status item:
 * "Recording", "Paused", "Some watchers paused", "Node not answering",
 * "Not run by awnode start". */
const char *tray_state_summary(const tray_state *st);

/* The icon's kind: 0 recording, 1 paused (everything paused, or nothing runs),
 * 2 trouble (node down, a watcher restarting or stopped). */
int tray_state_icon(const tray_state *st);

#endif
