/*
 * The tray's menu as data (internal to awnode-tray): built from a tray_state, served
 * over D-Bus by sni.c (com.canonical.dbusmenu) and acted on by main.c.
 *
 * Ids are stable across rebuilds (a panel may hold an id from the last layout while
 * the state changes): 0 is the root, 1 the summary line, 10*(i+1)+k the entries of
 * watcher i (k 0: its submenu, 1-3: pause for 15 min / 1 h / until resumed, 4: resume),
 * and the fixed entries below. A rebuild bumps the revision only when something a
 * panel shows changed.
 */
#ifndef TRAY_MENU_H
#define TRAY_MENU_H

#include <stddef.h>

#include "tray_state.h"

enum tray_action {
	TRAY_ACT_NONE = 0,
	TRAY_ACT_PAUSE_15M,
	TRAY_ACT_PAUSE_1H,
	TRAY_ACT_PAUSE,
	TRAY_ACT_RESUME,
	TRAY_ACT_OPEN,
	TRAY_ACT_SYNC,
	TRAY_ACT_QUIT,
};

enum {
	TRAY_ID_ROOT = 0,
	TRAY_ID_SUMMARY = 1,
	TRAY_ID_SEP1 = 2,
	TRAY_ID_SEP2 = 200,
	TRAY_ID_OPEN = 201,
	TRAY_ID_SYNC = 202,
	TRAY_ID_SEP3 = 203,
	TRAY_ID_QUIT = 204,
};

#define TRAY_MENU_MAX (4 + TRAY_MAX_WATCHERS * 5 + 4)

typedef struct tray_item {
	int id;
	int parent;           /* id of the parent; the root's is -1 */
	char label[128];
	int enabled, visible;
	int separator;
	int submenu;          /* has children */
	enum tray_action action;
	int watcher;          /* index into the state's watchers for the pause/resume actions */
} tray_item;

typedef struct tray_menu {
	unsigned revision;
	size_t n;
	tray_item items[TRAY_MENU_MAX];
} tray_menu;

/* Rebuild `m` from `st`; bumps m->revision when the result differs from before (start
 * with a zeroed menu). Returns 1 when it changed. */
int tray_menu_build(tray_menu *m, const tray_state *st);

/* The item with this id, or NULL. */
const tray_item *tray_menu_find(const tray_menu *m, int id);

#endif
