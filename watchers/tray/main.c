/*
 * awnode-tray: a tray icon showing whether awnode records, with a menu to pause and
 * resume each watcher, open the dashboard, sync now and quit (docs/watchers.md, "Tray
 * icon"). `awnode start` runs it when there is a D-Bus session bus.
 *
 * Like the watchers it talks to the node over HTTP only: it polls GET /api/0/watchers
 * (and now and then GET /api/0/sync/status) and acts through the same routes the web
 * UI uses. The D-Bus side is sni.c; what it shows is built in tray_state.c and
 * tray_menu.c. One thread: the loop serves D-Bus between polls and runs a clicked
 * action after the click has been answered.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alerts.h"
#include "aw/time.h"
#include "sni.h"
#include "watcher.h"

#define PROG "awnode-tray"
/* sync status reads the sync folder's state: no need to ask on every poll */
#define SYNC_EVERY_POLLS 6
/* the alerts' query sums a day of events: once a minute at the default poll time */
#define ALERTS_EVERY_POLLS 12

extern char **environ;

static const char default_config[] =
	"# awnode-tray configuration (awnode). Command-line options override these.\n"
	"#poll_time = 5      # seconds between looks at the node\n"
	"#host = \"127.0.0.1\" # the node\n"
	"#port = 5600        # 5666 with --testing\n";

static void usage(FILE *f)
{
	watcher_usage(f, PROG,
		      "Show awnode's state as a tray icon (StatusNotifierItem on the D-Bus session bus)\n"
		      "with a menu: pause or resume each watcher, open the dashboard, sync now, quit.\n"
		      "Exits with 3 when there is no session bus.\n",
		      "  --poll-time SECONDS  time between looks at the node (default 5)\n", 21,
		      "Config: $XDG_CONFIG_HOME/awnode/awnode-tray.toml (keys poll_time, host, port).\n");
}

typedef struct tray {
	watcher w; /* w.client: the node, synchronous calls only */
	tray_state st;
	tray_alerts alerts;
	unsigned polls, alert_polls;
	int quit;
} tray;

static char *request(tray *t, const char *method, const char *path, const char *body, int *status)
{
	char *out = NULL;

	*status = 0;
	if (aw_client_request(&out, status, t->w.client, method, path, body)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Read the node's state into t->st. */
static void poll_node(tray *t)
{
	char *body;
	int status;

	body = request(t, "GET", "/api/0/watchers", NULL, &status);
	if (tray_state_parse_watchers(&t->st, status == 200 ? body : NULL) && t->st.node_up == 0 && body)
		watcher_log(AW_CLIENT_LOG_DEBUG, "GET /api/0/watchers answered %d", status);
	free(body);
	if (t->st.node_up && t->polls++ % SYNC_EVERY_POLLS == 0) {
		body = request(t, "GET", "/api/0/sync/status", NULL, &status);
		tray_state_parse_sync(&t->st, status == 200 ? body : NULL);
		free(body);
	}
}

static void post(tray *t, const char *path, const char *body)
{
	char *out;
	int status;

	out = request(t, "POST", path, body, &status);
	if (status < 200 || status > 299)
		watcher_log(AW_CLIENT_LOG_WARN, "POST %s: %s", path,
			    status ? (out ? out : "error") : "the node does not answer");
	else
		watcher_log(AW_CLIENT_LOG_INFO, "POST %s: done", path);
	free(out);
}

/* The dashboard in the desktop's browser: xdg-open, not waited for (reaped in the
 * loop). */
static void open_dashboard(tray *t)
{
	char url[320];
	char *argv[] = {"xdg-open", url, NULL};
	pid_t pid;
	int rc;

	snprintf(url, sizeof(url), "%s/", aw_client_base_url(t->w.client));
	rc = posix_spawnp(&pid, "xdg-open", NULL, NULL, argv, environ);
	if (rc)
		watcher_log(AW_CLIENT_LOG_WARN, "cannot open %s: xdg-open: %s", url, strerror(rc));
}

/* Quit stops everything `awnode start` runs, as aw-qt's Quit does: the tray asks its
 * parent to stop (which stops the tray too). Run any other way, it quits alone. */
static void quit(tray *t)
{
	pid_t parent = getppid();

	if (t->st.supervised && t->st.supervisor_pid == (long)parent) {
		watcher_log(AW_CLIENT_LOG_INFO, "quitting: stopping awnode start (pid %ld)", (long)parent);
		kill(parent, SIGTERM);
	}
	t->quit = 1;
}

static void act(tray *t, const tray_item *it)
{
	const char *bodies[] = {[TRAY_ACT_PAUSE_15M] = "{\"duration\": 900}",
				[TRAY_ACT_PAUSE_1H] = "{\"duration\": 3600}",
				[TRAY_ACT_PAUSE] = "{}"};
	char path[160];

	switch (it->action) {
	case TRAY_ACT_PAUSE_15M:
	case TRAY_ACT_PAUSE_1H:
	case TRAY_ACT_PAUSE:
	case TRAY_ACT_RESUME:
		/* the entry names its watcher by index into the state it was built from: the
		 * menu is rebuilt whenever that changes, so the index is current */
		if (it->watcher < 0 || (size_t)it->watcher >= t->st.nwatchers)
			return;
		snprintf(path, sizeof(path), "/api/0/watchers/%s/%s", t->st.watchers[it->watcher].name,
			 it->action == TRAY_ACT_RESUME ? "resume" : "pause");
		post(t, path, it->action == TRAY_ACT_RESUME ? NULL : bodies[it->action]);
		break;
	case TRAY_ACT_OPEN:
		open_dashboard(t);
		break;
	case TRAY_ACT_SYNC:
		post(t, "/api/0/sync/now", "{\"mode\": \"both\"}");
		t->polls = 0; /* read the sync status again at once */
		break;
	case TRAY_ACT_QUIT:
		quit(t);
		break;
	case TRAY_ACT_NONE:
		break;
	}
}

/* Notify the time limits reached since the last check (alerts.h). */
static void check_alerts(tray *t, sni *s)
{
	tray_alert_note notes[8];
	size_t n;

	if (!t->st.node_up || t->alert_polls++ % ALERTS_EVERY_POLLS)
		return;
	n = tray_alerts_check(&t->alerts, t->w.client, notes, sizeof(notes) / sizeof(notes[0]));
	for (size_t i = 0; i < n; i++) {
		watcher_log(AW_CLIENT_LOG_INFO, "%s: %s", notes[i].summary, notes[i].body);
		sni_notify(s, notes[i].summary, notes[i].body);
	}
}


static int run(tray *t)
{
	int64_t next_poll = 0, now;
	char why[200];
	tray_item it;
	sni *s;
	int r;

	poll_node(t);
	if (sni_open(&s, &t->st, why, sizeof(why)) < 0) {
		die_line("%s", why);
		return WATCHER_EXIT_NODISPLAY;
	}
	watcher_log(AW_CLIENT_LOG_INFO, "tray icon published (%s)", tray_state_summary(&t->st));
	next_poll = aw_time_monotonic() + (int64_t)(t->w.poll_time * 1e9);
	while (!stopping() && !t->quit) {
		now = aw_time_monotonic();
		if (now >= next_poll) {
			poll_node(t);
			check_alerts(t, s);
			next_poll = now + (int64_t)(t->w.poll_time * 1e9);
		}
		if ((r = sni_update(s, &t->st)) < 0 ||
		    (r = sni_run(s, (uint64_t)(next_poll > now ? next_poll - now : 0) / 1000)) < 0) {
			watcher_log(AW_CLIENT_LOG_ERROR, "lost the D-Bus session bus: %s", strerror(-r));
			sni_free(s);
			return WATCHER_EXIT_FAILURE;
		}
		while (!t->quit && sni_next_action(s, &it)) {
			act(t, &it);
			poll_node(t);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	sni_free(s);
	return WATCHER_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option none[] = {{0}};
	tray t;
	int rc;

	memset(&t, 0, sizeof(t));
	t.w.prog = PROG;
	t.w.poll_time = 5;
	if ((rc = watcher_args(&t.w, argc, argv, none, NULL, NULL, usage)) != WATCHER_RUN)
		return rc;
	watcher_log_init(PROG, t.w.verbose);
	if ((rc = watcher_config(&t.w, default_config, (const char *const[]){"poll_time", "host", "port", NULL},
				 NULL, NULL)) != WATCHER_RUN)
		return rc;
	/* a short timeout: the loop also serves the panel, which waits while a request hangs */
	if ((rc = watcher_client(&t.w, 1, 3000)) == WATCHER_RUN)
		rc = run(&t);
	aw_client_free(t.w.client);
	free(t.w.host);
	watcher_log(AW_CLIENT_LOG_INFO, "stopped");
	return rc;
}
