/*
 * StatusNotifierItem + dbusmenu over sd-bus. See sni.h.
 *
 * Two objects: /StatusNotifierItem (org.kde.StatusNotifierItem: icon, tooltip, status)
 * and /MenuBar (com.canonical.dbusmenu, version 3). Their properties are read from the
 * current tray_state and tray_menu on every call, so a change needs only the signals
 * that tell the host to read again (NewIcon, NewToolTip, NewStatus, LayoutUpdated).
 *
 * The icon is drawn here as pixmaps (a filled dot for recording, a ring for paused, a
 * red dot for trouble) instead of naming a theme icon: hosts pick a theme icon over a
 * pixmap when both are given, and no icon theme has one that says "awnode".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "sni.h"

#define ITEM_PATH "/StatusNotifierItem"
#define ITEM_IFACE "org.kde.StatusNotifierItem"
#define MENU_PATH "/MenuBar"
#define MENU_IFACE "com.canonical.dbusmenu"
#define WATCHER_NAME "org.kde.StatusNotifierWatcher"
#define WATCHER_PATH "/StatusNotifierWatcher"
#define MAX_QUEUED 16

static const int icon_sizes[] = {16, 22, 24, 32, 48};
#define NSIZES (sizeof(icon_sizes) / sizeof(icon_sizes[0]))

struct sni {
	sd_bus *bus;
	sd_bus_slot *item_slot, *menu_slot, *match_slot, *register_slot;
	char name[96];
	tray_state st;
	tray_menu menu;
	int icon_kind;         /* tray_state_icon of what the host was last told */
	char status[16];
	int registered;
	tray_item queue[MAX_QUEUED];
	size_t nqueued;
	uint8_t *pixmaps[NSIZES]; /* ARGB32, network byte order, for icon_kind */
};

/* ---- the icon ------------------------------------------------------------------------ */

/* Draw the icon of `kind` at size n into px (n*n*4 bytes, A R G B per pixel): a disc,
 * or for "paused" a ring; edges anti-aliased by coverage of the pixel's centre
 * distance. */
static void draw_icon(uint8_t *px, int n, int kind)
{
	static const uint8_t colour[3][3] = {{0x2e, 0x9e, 0x5b}, {0x80, 0x86, 0x8b}, {0xd9, 0x3f, 0x3c}};
	double c = n / 2.0, r = n * 0.42, inner = kind == 1 ? n * 0.24 : -1;

	for (int y = 0; y < n; y++) {
		for (int x = 0; x < n; x++) {
			double d = hypot(x + 0.5 - c, y + 0.5 - c);
			double a = fmin(1.0, fmax(0.0, r - d + 0.5));
			uint8_t *p = px + 4 * (y * n + x);

			if (inner > 0)
				a = fmin(a, fmin(1.0, fmax(0.0, d - inner + 0.5)));
			p[0] = (uint8_t)lround(a * 255);
			p[1] = colour[kind][0];
			p[2] = colour[kind][1];
			p[3] = colour[kind][2];
		}
	}
}

static int make_icons(sni *s, int kind)
{
	for (size_t i = 0; i < NSIZES; i++) {
		int n = icon_sizes[i];
		uint8_t *px = realloc(s->pixmaps[i], (size_t)n * n * 4);

		if (!px)
			return -ENOMEM;
		s->pixmaps[i] = px;
		draw_icon(px, n, kind);
	}
	s->icon_kind = kind;
	return 0;
}

static int append_pixmaps(sd_bus_message *m, const sni *s)
{
	int r = sd_bus_message_open_container(m, 'a', "(iiay)");

	for (size_t i = 0; r >= 0 && i < NSIZES; i++) {
		int n = icon_sizes[i];

		r = sd_bus_message_open_container(m, 'r', "iiay");
		if (r >= 0)
			r = sd_bus_message_append(m, "ii", n, n);
		if (r >= 0)
			r = sd_bus_message_append_array(m, 'y', s->pixmaps[i], (size_t)n * n * 4);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

/* ---- org.kde.StatusNotifierItem ------------------------------------------------------ */

static int get_string(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *ud, sd_bus_error *err)
{
	sni *s = ud;
	const char *v = "";

	(void)b, (void)path, (void)iface, (void)err;
	if (!strcmp(prop, "Category"))
		v = "ApplicationStatus";
	else if (!strcmp(prop, "Id") || !strcmp(prop, "Title"))
		v = "awnode";
	else if (!strcmp(prop, "Status"))
		v = s->status;
	return sd_bus_message_append(reply, "s", v);
}

static int get_pixmap(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		      void *ud, sd_bus_error *err)
{
	(void)b, (void)path, (void)iface, (void)err;
	if (!strcmp(prop, "IconPixmap"))
		return append_pixmaps(reply, ud);
	/* no separate attention icon: the status icon is already red in trouble */
	return sd_bus_message_append(reply, "a(iiay)", 0);
}

/* The tooltip: "awnode", and the summary with one line per watcher. */
static int get_tooltip(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		       void *ud, sd_bus_error *err)
{
	sni *s = ud;
	char text[1024], line[160];
	size_t len;
	int r;

	(void)b, (void)path, (void)iface, (void)prop, (void)err;
	snprintf(text, sizeof(text), "%s", tray_state_summary(&s->st));
	for (size_t i = 0; i < s->st.nwatchers; i++) {
		tray_watcher_line(line, sizeof(line), &s->st.watchers[i]);
		len = strlen(text);
		snprintf(text + len, sizeof(text) - len, "\n%s", line);
	}
	r = sd_bus_message_open_container(reply, 'r', "sa(iiay)ss");
	if (r >= 0)
		r = sd_bus_message_append(reply, "s", "");
	if (r >= 0)
		r = append_pixmaps(reply, s);
	if (r >= 0)
		r = sd_bus_message_append(reply, "ss", "awnode", text);
	return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int get_menu_path(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			 void *ud, sd_bus_error *err)
{
	(void)b, (void)path, (void)iface, (void)prop, (void)ud, (void)err;
	return sd_bus_message_append(reply, "o", MENU_PATH);
}

static int get_true(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *ud, sd_bus_error *err)
{
	(void)b, (void)path, (void)iface, (void)prop, (void)ud, (void)err;
	return sd_bus_message_append(reply, "b", 1);
}

static int get_zero(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
		    void *ud, sd_bus_error *err)
{
	(void)b, (void)path, (void)iface, (void)prop, (void)ud, (void)err;
	return sd_bus_message_append(reply, "i", 0);
}

static void enqueue(sni *s, const tray_item *it)
{
	if (s->nqueued < MAX_QUEUED)
		s->queue[s->nqueued++] = *it;
}

/* A left click on the icon (hosts that do not treat ItemIsMenu as "show the menu"). */
static int item_activate(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sni *s = ud;
	const tray_item *open = tray_menu_find(&s->menu, TRAY_ID_OPEN);

	(void)err;
	if (open && open->enabled)
		enqueue(s, open);
	return sd_bus_reply_method_return(m, "");
}

static int item_ignore(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud, (void)err;
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable item_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Category", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Id", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Title", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Status", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("WindowId", "i", get_zero, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IconName", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IconPixmap", "a(iiay)", get_pixmap, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("OverlayIconName", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("OverlayIconPixmap", "a(iiay)", get_pixmap, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AttentionIconName", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AttentionIconPixmap", "a(iiay)", get_pixmap, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AttentionMovieName", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IconThemePath", "s", get_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("ToolTip", "(sa(iiay)ss)", get_tooltip, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("ItemIsMenu", "b", get_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Menu", "o", get_menu_path, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_METHOD("Activate", "ii", "", item_activate, 0),
	SD_BUS_METHOD("SecondaryActivate", "ii", "", item_ignore, 0),
	SD_BUS_METHOD("ContextMenu", "ii", "", item_ignore, 0),
	SD_BUS_METHOD("Scroll", "is", "", item_ignore, 0),
	SD_BUS_SIGNAL("NewTitle", "", 0),
	SD_BUS_SIGNAL("NewIcon", "", 0),
	SD_BUS_SIGNAL("NewAttentionIcon", "", 0),
	SD_BUS_SIGNAL("NewOverlayIcon", "", 0),
	SD_BUS_SIGNAL("NewToolTip", "", 0),
	SD_BUS_SIGNAL("NewStatus", "s", 0),
	SD_BUS_VTABLE_END,
};

/* ---- com.canonical.dbusmenu ---------------------------------------------------------- */

/* Whether property `name` was asked for (an empty list asks for all). */
static int wanted(char **names, const char *name)
{
	if (!names || !names[0])
		return 1;
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

static int append_props(sd_bus_message *m, const tray_item *it, char **names)
{
	int r = sd_bus_message_open_container(m, 'a', "{sv}");

	if (r >= 0 && it->separator && wanted(names, "type"))
		r = sd_bus_message_append(m, "{sv}", "type", "s", "separator");
	if (r >= 0 && !it->separator && it->id != TRAY_ID_ROOT && wanted(names, "label"))
		r = sd_bus_message_append(m, "{sv}", "label", "s", it->label);
	if (r >= 0 && wanted(names, "enabled"))
		r = sd_bus_message_append(m, "{sv}", "enabled", "b", it->enabled);
	if (r >= 0 && wanted(names, "visible"))
		r = sd_bus_message_append(m, "{sv}", "visible", "b", it->visible);
	if (r >= 0 && it->submenu && wanted(names, "children-display"))
		r = sd_bus_message_append(m, "{sv}", "children-display", "s", "submenu");
	return r < 0 ? r : sd_bus_message_close_container(m);
}

/* One node of GetLayout's tree, "(ia{sv}av)": its children to `depth` more levels
 * (-1: all). */
static int append_node(sd_bus_message *m, const tray_menu *menu, const tray_item *it, int depth, char **names)
{
	int r = sd_bus_message_open_container(m, 'r', "ia{sv}av");

	if (r >= 0)
		r = sd_bus_message_append(m, "i", it->id);
	if (r >= 0)
		r = append_props(m, it, names);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "v");
	for (size_t i = 0; r >= 0 && depth != 0 && i < menu->n; i++) {
		if (menu->items[i].parent != it->id)
			continue;
		r = sd_bus_message_open_container(m, 'v', "(ia{sv}av)");
		if (r >= 0)
			r = append_node(m, menu, &menu->items[i], depth > 0 ? depth - 1 : -1, names);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static void free_strv(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int unknown_id(sd_bus_error *err, int id)
{
	return sd_bus_error_setf(err, "com.canonical.dbusmenu.Error.UnknownId", "no menu item %d", id);
}

static int menu_get_layout(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sni *s = ud;
	sd_bus_message *reply = NULL;
	char **names = NULL;
	int32_t parent, depth;
	const tray_item *it;
	int r;

	r = sd_bus_message_read(m, "ii", &parent, &depth);
	if (r >= 0)
		r = sd_bus_message_read_strv(m, &names);
	if (r < 0)
		return r;
	it = tray_menu_find(&s->menu, parent);
	if (!it) {
		free_strv(names);
		return unknown_id(err, parent);
	}
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append(reply, "u", s->menu.revision);
	if (r >= 0)
		r = append_node(reply, &s->menu, it, depth, names);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free_strv(names);
	return r;
}

/* GetGroupProperties(ai ids, as names) -> a(ia{sv}); no ids = every item. Unknown ids
 * are left out, as libdbusmenu does. */
static int menu_get_group_properties(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sni *s = ud;
	sd_bus_message *reply = NULL;
	const int32_t *ids = NULL;
	size_t size = 0, nids;
	char **names = NULL;
	int r;

	(void)err;
	r = sd_bus_message_read_array(m, 'i', (const void **)&ids, &size);
	if (r >= 0)
		r = sd_bus_message_read_strv(m, &names);
	if (r < 0)
		return r;
	nids = size / sizeof(int32_t);
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'a', "(ia{sv})");
	for (size_t i = 0; r >= 0 && i < (nids ? nids : s->menu.n); i++) {
		const tray_item *it = nids ? tray_menu_find(&s->menu, ids[i]) : &s->menu.items[i];

		if (!it)
			continue;
		r = sd_bus_message_open_container(reply, 'r', "ia{sv}");
		if (r >= 0)
			r = sd_bus_message_append(reply, "i", it->id);
		if (r >= 0)
			r = append_props(reply, it, names);
		if (r >= 0)
			r = sd_bus_message_close_container(reply);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	free_strv(names);
	return r;
}

static int menu_get_property(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sni *s = ud;
	const tray_item *it;
	const char *name;
	int32_t id;
	int r = sd_bus_message_read(m, "is", &id, &name);

	if (r < 0)
		return r;
	if (!(it = tray_menu_find(&s->menu, id)))
		return unknown_id(err, id);
	if (!strcmp(name, "label"))
		return sd_bus_reply_method_return(m, "v", "s", it->label);
	if (!strcmp(name, "enabled"))
		return sd_bus_reply_method_return(m, "v", "b", it->enabled);
	if (!strcmp(name, "visible"))
		return sd_bus_reply_method_return(m, "v", "b", it->visible);
	if (!strcmp(name, "type"))
		return sd_bus_reply_method_return(m, "v", "s", it->separator ? "separator" : "standard");
	return sd_bus_error_setf(err, "com.canonical.dbusmenu.Error.UnknownProperty", "no property %s", name);
}

/* A "clicked" event on an enabled, visible entry with an action queues that action;
 * other events (hovered, opened, closed) need nothing. Returns 1 when the id exists. */
static int menu_event_one(sni *s, int32_t id, const char *type)
{
	const tray_item *it = tray_menu_find(&s->menu, id);

	if (!it)
		return 0;
	if (!strcmp(type, "clicked") && it->action != TRAY_ACT_NONE && it->enabled && it->visible)
		enqueue(s, it);
	return 1;
}

static int menu_event(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *type;
	int32_t id;
	int r = sd_bus_message_read(m, "is", &id, &type);

	if (r < 0)
		return r;
	if (!menu_event_one(ud, id, type))
		return unknown_id(err, id);
	return sd_bus_reply_method_return(m, "");
}

/* EventGroup(a(isvu)) -> ai: the ids that were not found. */
static int menu_event_group(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sd_bus_message *reply = NULL;
	int32_t missing[64];
	size_t nmissing = 0;
	int r;

	(void)err;
	r = sd_bus_message_enter_container(m, 'a', "(isvu)");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "isvu")) > 0) {
		const char *type;
		int32_t id;

		r = sd_bus_message_read(m, "is", &id, &type);
		if (r >= 0 && !menu_event_one(ud, id, type) && nmissing < 64)
			missing[nmissing++] = id;
		if (r >= 0)
			r = sd_bus_message_skip(m, "vu");
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_return(m, &reply);
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'i', missing, nmissing * sizeof(int32_t));
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static int menu_about_to_show(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud, (void)err;
	/* the layout is kept current by LayoutUpdated: nothing to refresh first */
	return sd_bus_reply_method_return(m, "b", 0);
}

static int menu_about_to_show_group(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	(void)ud, (void)err;
	return sd_bus_reply_method_return(m, "aiai", 0, 0);
}

static int get_menu_prop(sd_bus *b, const char *path, const char *iface, const char *prop, sd_bus_message *reply,
			 void *ud, sd_bus_error *err)
{
	(void)b, (void)path, (void)iface, (void)ud, (void)err;
	if (!strcmp(prop, "Version"))
		return sd_bus_message_append(reply, "u", 3);
	if (!strcmp(prop, "IconThemePath"))
		return sd_bus_message_append(reply, "as", 0);
	return sd_bus_message_append(reply, "s", !strcmp(prop, "TextDirection") ? "ltr" : "normal");
}

static const sd_bus_vtable menu_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("GetLayout", "iias", "u(ia{sv}av)", menu_get_layout, 0),
	SD_BUS_METHOD("GetGroupProperties", "aias", "a(ia{sv})", menu_get_group_properties, 0),
	SD_BUS_METHOD("GetProperty", "is", "v", menu_get_property, 0),
	SD_BUS_METHOD("Event", "isvu", "", menu_event, 0),
	SD_BUS_METHOD("EventGroup", "a(isvu)", "ai", menu_event_group, 0),
	SD_BUS_METHOD("AboutToShow", "i", "b", menu_about_to_show, 0),
	SD_BUS_METHOD("AboutToShowGroup", "ai", "aiai", menu_about_to_show_group, 0),
	SD_BUS_PROPERTY("Version", "u", get_menu_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("TextDirection", "s", get_menu_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Status", "s", get_menu_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("IconThemePath", "as", get_menu_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_SIGNAL("ItemsPropertiesUpdated", "a(ia{sv})a(ias)", 0),
	SD_BUS_SIGNAL("LayoutUpdated", "ui", 0),
	SD_BUS_SIGNAL("ItemActivationRequested", "iu", 0),
	SD_BUS_VTABLE_END,
};

/* ---- registration with the StatusNotifierWatcher ------------------------------------- */

static int registered_reply(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	sni *s = ud;

	(void)err;
	s->register_slot = sd_bus_slot_unref(s->register_slot);
	/* no watcher yet is normal (the panel may start later): NameOwnerChanged retries */
	s->registered = !sd_bus_message_is_method_error(m, NULL);
	return 0;
}

static int register_item(sni *s)
{
	s->register_slot = sd_bus_slot_unref(s->register_slot);
	return sd_bus_call_method_async(s->bus, &s->register_slot, WATCHER_NAME, WATCHER_PATH, WATCHER_NAME,
					"RegisterStatusNotifierItem", registered_reply, s, "s", s->name);
}

/* A StatusNotifierWatcher appeared (a panel started or restarted): register again. */
static int watcher_changed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *name, *old_owner, *new_owner;
	sni *s = ud;

	(void)err;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
		return 0;
	s->registered = 0;
	if (new_owner[0])
		register_item(s);
	return 0;
}

/* ---- the object ---------------------------------------------------------------------- */

static const char *status_of(const tray_state *st)
{
	return tray_state_icon(st) == 2 ? "NeedsAttention" : "Active";
}

int sni_open(sni **out, const tray_state *st, char *why, size_t why_len)
{
	sni *s = calloc(1, sizeof(*s));
	int r;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->st = *st;
	tray_menu_build(&s->menu, st);
	snprintf(s->status, sizeof(s->status), "%s", status_of(st));
	snprintf(s->name, sizeof(s->name), "org.kde.StatusNotifierItem-%ld-1", (long)getpid());
	if ((r = make_icons(s, tray_state_icon(st))) < 0 || (r = sd_bus_open_user(&s->bus)) < 0) {
		snprintf(why, why_len, "no D-Bus session bus: %s", strerror(-r));
		sni_free(s);
		return r;
	}
	r = sd_bus_add_object_vtable(s->bus, &s->item_slot, ITEM_PATH, ITEM_IFACE, item_vtable, s);
	if (r >= 0)
		r = sd_bus_add_object_vtable(s->bus, &s->menu_slot, MENU_PATH, MENU_IFACE, menu_vtable, s);
	if (r >= 0)
		r = sd_bus_add_match(s->bus, &s->match_slot,
				     "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
				     "member='NameOwnerChanged',arg0='" WATCHER_NAME "'",
				     watcher_changed, s);
	if (r >= 0)
		r = sd_bus_request_name(s->bus, s->name, 0);
	if (r >= 0)
		r = register_item(s);
	if (r < 0) {
		snprintf(why, why_len, "cannot publish the tray icon on the session bus: %s", strerror(-r));
		sni_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int sni_update(sni *s, const tray_state *st)
{
	int kind = tray_state_icon(st), r = 0;
	const char *status = status_of(st);
	int same = tray_state_equal(&s->st, st);

	s->st = *st;
	if (same)
		return 0;
	if (kind != s->icon_kind) {
		if ((r = make_icons(s, kind)) < 0)
			return r;
		r = sd_bus_emit_signal(s->bus, ITEM_PATH, ITEM_IFACE, "NewIcon", "");
	}
	if (r >= 0 && strcmp(status, s->status)) {
		snprintf(s->status, sizeof(s->status), "%s", status);
		r = sd_bus_emit_signal(s->bus, ITEM_PATH, ITEM_IFACE, "NewStatus", "s", status);
	}
	if (r >= 0)
		r = sd_bus_emit_signal(s->bus, ITEM_PATH, ITEM_IFACE, "NewToolTip", "");
	if (r >= 0 && tray_menu_build(&s->menu, st))
		r = sd_bus_emit_signal(s->bus, MENU_PATH, MENU_IFACE, "LayoutUpdated", "ui", s->menu.revision, 0);
	return r < 0 ? r : 0;
}

int sni_run(sni *s, uint64_t timeout_us)
{
	int r;

	while ((r = sd_bus_process(s->bus, NULL)) > 0)
		;
	if (r < 0)
		return r;
	/* actions queued by what was just processed must not wait for the timeout */
	if (s->nqueued)
		return 0;
	r = sd_bus_wait(s->bus, timeout_us);
	return r < 0 && r != -EINTR ? r : 0;
}

int sni_next_action(sni *s, tray_item *item)
{
	if (!s->nqueued)
		return 0;
	*item = s->queue[0];
	memmove(s->queue, s->queue + 1, (--s->nqueued) * sizeof(s->queue[0]));
	return 1;
}

int sni_notify(sni *s, const char *summary, const char *body)
{
	return sd_bus_call_method_async(s->bus, NULL, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
					"org.freedesktop.Notifications", "Notify", NULL, NULL, "susssasa{sv}i", "awnode",
					0u, "", summary, body, 0, 0, -1);
}

int sni_registered(const sni *s)
{
	return s->registered;
}

void sni_free(sni *s)
{
	if (!s)
		return;
	sd_bus_slot_unref(s->register_slot);
	sd_bus_slot_unref(s->match_slot);
	sd_bus_slot_unref(s->menu_slot);
	sd_bus_slot_unref(s->item_slot);
	if (s->bus)
		sd_bus_flush_close_unref(s->bus);
	for (size_t i = 0; i < NSIZES; i++)
		free(s->pixmaps[i]);
	free(s);
}
