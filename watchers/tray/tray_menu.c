/*
 * Building the tray's menu from the node's state. See tray_menu.h.
 *
 * Every entry is always present and only hidden or disabled, so the ids a panel has
 * cached stay valid: a watcher that goes away keeps no entry, but the fixed ones
 * (Open dashboard, Sync now, Quit) never move.
 */
#include <stdio.h>
#include <string.h>

#include "tray_menu.h"

static tray_item *add(tray_menu *m, int id, int parent, const char *label, enum tray_action act)
{
	tray_item *it = &m->items[m->n++];

	memset(it, 0, sizeof(*it));
	it->id = id;
	it->parent = parent;
	snprintf(it->label, sizeof(it->label), "%s", label);
	it->enabled = 1;
	it->visible = 1;
	it->action = act;
	it->watcher = -1;
	return it;
}

static void add_separator(tray_menu *m, int id)
{
	add(m, id, TRAY_ID_ROOT, "", TRAY_ACT_NONE)->separator = 1;
}

static void add_watcher(tray_menu *m, const tray_state *st, size_t i)
{
	static const struct {
		const char *label;
		enum tray_action act;
	} entries[] = {
		{"Pause for 15 minutes", TRAY_ACT_PAUSE_15M},
		{"Pause for 1 hour", TRAY_ACT_PAUSE_1H},
		{"Pause until resumed", TRAY_ACT_PAUSE},
		{"Resume", TRAY_ACT_RESUME},
	};
	const tray_watcher *w = &st->watchers[i];
	int base = 10 * ((int)i + 1);
	char line[128];
	tray_item *sub;

	tray_watcher_line(line, sizeof(line), w);
	sub = add(m, base, TRAY_ID_ROOT, line, TRAY_ACT_NONE);
	sub->submenu = 1;
	for (int k = 0; k < 4; k++) {
		tray_item *it = add(m, base + 1 + k, base, entries[k].label, entries[k].act);

		it->watcher = (int)i;
		/* pausing a paused watcher again changes its end: allowed; resuming needs a pause */
		if (entries[k].act == TRAY_ACT_RESUME)
			it->enabled = w->paused;
	}
}

static int same_items(const tray_menu *a, const tray_menu *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const tray_item *x = &a->items[i], *y = &b->items[i];

		if (x->id != y->id || x->parent != y->parent || strcmp(x->label, y->label) || x->enabled != y->enabled ||
		    x->visible != y->visible || x->separator != y->separator || x->submenu != y->submenu)
			return 0;
	}
	return 1;
}

int tray_menu_build(tray_menu *m, const tray_state *st)
{
	tray_menu next;
	char line[sizeof(next.items[0].label)];
	tray_item *it;

	memset(&next, 0, sizeof(next));
	add(&next, TRAY_ID_ROOT, -1, "", TRAY_ACT_NONE)->submenu = 1;
	snprintf(line, sizeof(line), "awnode: %s", tray_state_summary(st));
	add(&next, TRAY_ID_SUMMARY, TRAY_ID_ROOT, line, TRAY_ACT_NONE)->enabled = 0;
	add_separator(&next, TRAY_ID_SEP1);
	for (size_t i = 0; i < st->nwatchers; i++)
		add_watcher(&next, st, i);
	add_separator(&next, TRAY_ID_SEP2);
	add(&next, TRAY_ID_OPEN, TRAY_ID_ROOT, "Open dashboard", TRAY_ACT_OPEN)->enabled = st->node_up;
	it = add(&next, TRAY_ID_SYNC, TRAY_ID_ROOT, "Sync now", TRAY_ACT_SYNC);
	it->visible = st->node_up && st->sync_configured;
	add_separator(&next, TRAY_ID_SEP3);
	add(&next, TRAY_ID_QUIT, TRAY_ID_ROOT, "Quit", TRAY_ACT_QUIT);
	next.revision = m->revision;
	if (m->n && same_items(m, &next))
		return 0;
	next.revision = m->revision + 1;
	*m = next;
	return 1;
}

const tray_item *tray_menu_find(const tray_menu *m, int id)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].id == id)
			return &m->items[i];
	return NULL;
}
