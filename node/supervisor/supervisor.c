/* `awnode start`: see supervisor.h. The main loop and the children's life
 * cycle; the control socket is in control_server.c, pausing in pause.c. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aw/client.h"
#include "aw/error.h"
#include "aw/log.h"
#include "aw/supervisor_ctl.h"
#include "aw/time.h"
#include "supervisor.h"
#include "supervisor_int.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 60000
#define READY_WAIT_MS 10000

/* exit codes of the watchers that mean "restarting will not help" (see wcommon.h) */
#define WEXIT_USAGE 2
#define WEXIT_NODISPLAY 3
#define WEXIT_RUNNING 4
#define WEXIT_UNSUPPORTED 5 /* a Wayland compositor without the protocol a watcher needs */

/* awnode start's own exit code when another one already runs for this user and mode */
#define EXIT_ALREADY_RUNNING 4

void supervisor_log(const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aw_log_stderr_v("awnode start", level, fmt, ap);
	va_end(ap);
}

int64_t supervisor_wall_ms(void)
{
	return aw_time_now() / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode start [options] [serve options]\n"
		"\n"
		"Run the node and, in a desktop session (an X display that opens, or WAYLAND_DISPLAY\n"
		"set), the default watchers\n"
		"(aw-watcher-afk, aw-watcher-window). Crashed children are restarted with back-off;\n"
		"SIGINT/SIGTERM stops everything (watchers first, so they deliver their queues).\n"
		"\n"
		"options:\n"
		"  --testing        testing mode for the node and the watchers (port 5666)\n"
		"  --host ADDR      the node's bind address; the watchers connect to it\n"
		"  --port N         the node's port; the watchers connect to it\n"
		"  --verbose        debug logging in every child\n"
		"  --no-watchers    run only the node\n"
		"  --no-tray        no tray icon (it runs where there is a D-Bus session bus)\n"
		"  -h, --help       this help\n"
		"\n"
		"Any other option is passed to `awnode serve` (see awnode serve --help).\n"
		"Watchers and awnode-tray are looked for next to the awnode binary. If a node already answers on\n"
		"the address, only the watchers are started.\n"
		"\n"
		"`awnode status` lists the children; `awnode pause WATCHER [--for DURATION]` and\n"
		"`awnode resume WATCHER` stop and restart a watcher (one awnode start per user and\n"
		"mode; they talk to it over a Unix socket, see docs/watchers.md).\n");
}

static int push(child *c, const char *arg)
{
	char **n = realloc(c->argv, (c->argc + 2) * sizeof(*n));

	if (!n)
		return -1;
	c->argv = n;
	c->argv[c->argc] = strdup(arg);
	if (!c->argv[c->argc])
		return -1;
	c->argc++;
	c->argv[c->argc] = NULL;
	return 0;
}

static void free_child(child *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
}

/* $WAYLAND_DISPLAY set (the watchers then watch through Wayland and check the
 * compositor themselves: exit 3 or 5, neither restarted, if it cannot serve them), or
 * $DISPLAY set and an X connection opens. libxcb is loaded only for this check, so the
 * awnode binary does not depend on it. */
static int display_usable(char *why, size_t len)
{
	const char *d = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
	void *lib;
	void *(*xconnect)(const char *, int *);
	int (*xerror)(void *);
	void (*xdisconnect)(void *);
	void *conn;
	int ok;

	if (wl && *wl)
		return 1;
	if (!d || !*d) {
		snprintf(why, len, "DISPLAY is not set%s", getenv("WAYLAND_DISPLAY") ? " (Wayland-only session)" : "");
		return 0;
	}
	lib = dlopen("libxcb.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(why, len, "libxcb.so.1 is not installed");
		return 0;
	}
	*(void **)&xconnect = dlsym(lib, "xcb_connect");
	*(void **)&xerror = dlsym(lib, "xcb_connection_has_error");
	*(void **)&xdisconnect = dlsym(lib, "xcb_disconnect");
	if (!xconnect || !xerror || !xdisconnect) {
		snprintf(why, len, "libxcb.so.1 lacks xcb_connect");
		dlclose(lib);
		return 0;
	}
	conn = xconnect(NULL, NULL);
	ok = conn && !xerror(conn);
	if (conn)
		xdisconnect(conn);
	dlclose(lib);
	if (!ok)
		snprintf(why, len, "cannot open X display '%s'", d);
	return ok;
}

/* In the forked child, before exec: default signal handling, the parent's mask, die
 * with the parent; the node learns where the control socket is. */
static void child_setup(const supervisor *sv, const child *c, pid_t parent)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, &sv->oldmask, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	if (c->is_node && sv->sock_path[0])
		setenv(AW_CTL_SOCKET_ENV, sv->sock_path, 1);
	else
		unsetenv(AW_CTL_SOCKET_ENV);
}

void supervisor_spawn(supervisor *sv, child *c)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0) {
		supervisor_log("ERROR", "cannot start %s: fork: %s", c->name, strerror(errno));
		c->restart_at_ms = aw_time_monotonic_ms() + BACKOFF_FIRST_MS;
		return;
	}
	if (pid == 0) {
		child_setup(sv, c, parent);
		execv(c->argv[0], c->argv);
		fprintf(stderr, "awnode start: cannot run %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->started_ms = aw_time_monotonic_ms();
	c->restart_at_ms = 0;
	supervisor_log("INFO", "started %s (pid %d)", c->name, (int)pid);
}

/* The node answers GET /api/0/info at host:port. */
static int node_answers(const char *host, int port, int testing)
{
	aw_client_options o;
	aw_client *c;
	char *info = NULL;
	int ok;

	aw_client_options_init(&o);
	o.client_name = "awnode-start";
	o.host = host;
	o.port = port;
	o.testing = testing;
	o.no_queue = 1;
	o.timeout_ms = 1000;
	if (aw_client_new(&c, &o))
		return 0;
	ok = aw_client_get_info(&info, c) == AW_OK;
	free(info);
	aw_client_free(c);
	return ok;
}

static const char *describe(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with code %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(buf, len, "stopped (status %d)", status);
	return buf;
}

/* A child exited on its own: give up on it, or schedule its restart with back-off.
 * Returns 1 if the node failed for good (awnode start must stop). */
static int child_exited(child *c, int status, const char *how)
{
	int64_t now = aw_time_monotonic_ms();
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (code == 127) {
		supervisor_log("ERROR", "%s could not be run; not restarting it", c->name);
		c->disabled = 1;
		return c->is_node;
	}
	if (c->is_node && code == 2) {
		supervisor_log("ERROR", "the node %s: bad option or config; stopping", how);
		c->disabled = 1;
		return 1;
	}
	if (!c->is_node && (code == WEXIT_USAGE || code == WEXIT_NODISPLAY || code == WEXIT_RUNNING ||
			    (!c->is_tray && code == WEXIT_UNSUPPORTED))) {
		supervisor_log("WARNING", "%s %s (%s); not restarting it", c->name, how,
		       code == WEXIT_USAGE	? "bad option or config"
		       : code == WEXIT_NODISPLAY ? (c->is_tray ? "no D-Bus session bus" : "no usable display")
		       : code == WEXIT_UNSUPPORTED ? "the Wayland compositor lacks the protocol it needs"
						 : "another instance is running");
		c->disabled = 1;
		return 0;
	}
	if (now - c->started_ms >= STABLE_MS)
		c->backoff_ms = 0;
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_FIRST_MS;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->restart_at_ms = now + c->backoff_ms;
	c->restarts++;
	supervisor_log("WARNING", "%s %s; restarting in %ld s", c->name, how, (c->backoff_ms + 999) / 1000);
	return 0;
}

/* Reap children; returns -2 if the node failed permanently, else 0. */
static int reap(supervisor *sv, int stopping)
{
	int status, fatal = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[128];
		child *c = NULL;

		for (size_t i = 0; i < sv->nk; i++)
			if (sv->kids[i].pid == pid)
				c = &sv->kids[i];
		if (!c)
			continue;
		c->pid = 0;
		describe(status, how, sizeof(how));
		if (stopping) {
			supervisor_log("INFO", "%s %s", c->name, how);
		} else if (c->stopping_for_pause) {
			supervisor_log("INFO", "%s %s (paused)", c->name, how);
			pause_child_exited(sv, c);
		} else if (child_exited(c, status, how)) {
			fatal = 1;
		}
	}
	return fatal ? -2 : 0;
}

/* Send `sig` to the children selected by `which` (0 watchers, 1 node) and wait up to
 * `wait_ms` for them to exit. */
static void stop_group(supervisor *sv, int which, int sig, int64_t wait_ms, const sigset_t *set)
{
	int64_t deadline = aw_time_monotonic_ms() + wait_ms;
	child *kids = sv->kids;

	for (size_t i = 0; i < sv->nk; i++)
		if (kids[i].pid > 0 && kids[i].is_node == which)
			kill(kids[i].pid, sig);
	for (;;) {
		int alive = 0;
		int64_t left;
		struct timespec ts;
		siginfo_t si;

		reap(sv, 1);
		for (size_t i = 0; i < sv->nk; i++)
			if (kids[i].pid > 0 && kids[i].is_node == which)
				alive = 1;
		left = deadline - aw_time_monotonic_ms();
		if (!alive || left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		if (sigtimedwait(set, &si, &ts) > 0 && si.si_signo != SIGCHLD) {
			/* a second stop request: hurry */
			for (size_t i = 0; i < sv->nk; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, SIGKILL);
		}
	}
}

static void stop_all(supervisor *sv, const sigset_t *set)
{
	stop_group(sv, 0, SIGTERM, 8000, set);
	stop_group(sv, 1, SIGTERM, 15000, set);
	for (size_t i = 0; i < sv->nk; i++) {
		child *c = &sv->kids[i];
		if (c->pid > 0) {
			supervisor_log("WARNING", "%s did not stop in time; killing it", c->name);
			kill(c->pid, SIGKILL);
			waitpid(c->pid, NULL, 0);
			c->pid = 0;
		}
	}
}

/* ---- command line ------------------------------------------------------------------ */

typedef struct options {
	int verbose, no_watchers, no_tray, port;
	const char *host; /* NULL: the default */
} options;

/* The value of --port/--host (as "--port N" or "--port=N"); advances *i past it. */
static const char *option_value(int argc, char **argv, int *i)
{
	const char *a = argv[*i];

	if (a[6] == '=')
		return a + 7;
	return *i + 1 < argc ? argv[++*i] : NULL;
}

/* parse_args() without the out-of-memory message. */
static int parse_args_into(supervisor *sv, options *o, const char *exe, int argc, char **argv)
{
	child *node = &sv->kids[0];

	snprintf(node->name, sizeof(node->name), "the node");
	node->is_node = 1;
	if (push(node, exe) || push(node, "serve"))
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--no-watchers")) {
			o->no_watchers = 1;
			continue;
		}
		if (!strcmp(a, "--no-tray")) {
			o->no_tray = 1;
			continue;
		}
		if (!strcmp(a, "--testing")) {
			sv->testing = 1;
		} else if (!strcmp(a, "--verbose")) {
			o->verbose = 1;
		} else if (!strcmp(a, "--port") || !strncmp(a, "--port=", 7)) {
			const char *v = option_value(argc, argv, &i);
			char *e;
			long p = v ? strtol(v, &e, 10) : 0;

			if (!v || !*v || *e || p < 1 || p > 65535) {
				fprintf(stderr, "awnode start: --port needs a number from 1 to 65535, got '%s'\n", v ? v : "");
				return 2;
			}
			o->port = (int)p;
			if (a[6] != '=' && push(node, a))
				return 1;
			a = v;
		} else if (!strcmp(a, "--host") || !strncmp(a, "--host=", 7)) {
			const char *v = option_value(argc, argv, &i);

			if (!v || !*v) {
				fprintf(stderr, "awnode start: --host needs an address\n");
				return 2;
			}
			o->host = v;
			if (a[6] != '=' && push(node, a))
				return 1;
			a = v;
		}
		if (push(node, a))
			return 1;
	}
	sv->nk = 1;
	return -1;
}

/* Fill kids[0] (the node) with `<exe> serve ...` and *o from the arguments. Returns -1
 * to go on, else the exit code (0 after --help, 2 for a bad value, 1 out of memory). */
static int parse_args(supervisor *sv, options *o, const char *exe, int argc, char **argv)
{
	int rc = parse_args_into(sv, o, exe, argc, argv);

	if (rc == 1)
		fprintf(stderr, "awnode start: out of memory\n");
	return rc;
}

/* argv of a child that talks to the node (a watcher, the tray): `path`, then the mode,
 * address and logging of this awnode start. Returns -1 when out of memory. */
static int client_argv(child *c, const supervisor *sv, const options *o, const char *path)
{
	char portbuf[16];

	snprintf(portbuf, sizeof(portbuf), "%d", o->port);
	if (push(c, path) || (sv->testing && push(c, "--testing")) || (o->host && (push(c, "--host") || push(c, o->host))) ||
	    (o->port && (push(c, "--port") || push(c, portbuf))) || (o->verbose && push(c, "--verbose")))
		return -1;
	return 0;
}

/* kids[1..] = the watchers found next to awnode, connecting where the node listens.
 * Returns -1 when out of memory. */
static int add_watchers(supervisor *sv, const options *o, const char *dir)
{
	static const char *const names[] = {"aw-watcher-afk", "aw-watcher-window"};
	char why[200];

	if (o->no_watchers)
		return 0;
	if (!display_usable(why, sizeof(why))) {
		supervisor_log("INFO", "no usable X display (%s): not starting the watchers", why);
		return 0;
	}
	for (size_t w = 0; w < 2; w++) {
		child *c = &sv->kids[sv->nk];
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/%s", dir, names[w]);
		if (access(path, X_OK)) {
			supervisor_log("WARNING", "%s not found next to awnode (%s): not starting it", names[w], path);
			continue;
		}
		snprintf(c->name, sizeof(c->name), "%s", names[w]);
		if (client_argv(c, sv, o, path))
			return -1;
		sv->nk++;
	}
	return 0;
}

/* A session bus to publish a tray icon on: DBUS_SESSION_BUS_ADDRESS, or the socket
 * systemd's user manager keeps at $XDG_RUNTIME_DIR/bus (what sd-bus falls back to). A
 * tray needs a desktop too: a session bus alone (an ssh login to a systemd machine
 * has one) is no reason to run one. */
static int session_bus_usable(char *why, size_t len)
{
	const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS"), *rt = getenv("XDG_RUNTIME_DIR");
	char path[PATH_MAX];
	struct stat st;

	if ((!getenv("DISPLAY") || !*getenv("DISPLAY")) && (!getenv("WAYLAND_DISPLAY") || !*getenv("WAYLAND_DISPLAY"))) {
		snprintf(why, len, "no desktop session (neither DISPLAY nor WAYLAND_DISPLAY is set)");
		return 0;
	}
	if (addr && *addr)
		return 1;
	if (rt && *rt && snprintf(path, sizeof(path), "%s/bus", rt) < (int)sizeof(path) && !stat(path, &st) &&
	    S_ISSOCK(st.st_mode))
		return 1;
	snprintf(why, len, "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)");
	return 0;
}

/* The tray icon, next to awnode, where a desktop has a session bus; silently absent
 * otherwise (one INFO line says why). Returns -1 when out of memory. */
static int add_tray(supervisor *sv, const options *o, const char *dir)
{
	child *c = &sv->kids[sv->nk];
	char path[PATH_MAX + 64], why[200];

	if (o->no_tray)
		return 0;
	if (!session_bus_usable(why, sizeof(why))) {
		supervisor_log("INFO", "%s: no tray icon", why);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/awnode-tray", dir);
	if (access(path, X_OK)) {
		supervisor_log("INFO", "awnode-tray not found next to awnode (%s): no tray icon", path);
		return 0;
	}
	snprintf(c->name, sizeof(c->name), "awnode-tray");
	c->is_tray = 1;
	if (client_argv(c, sv, o, path))
		return -1;
	sv->nk++;
	return 0;
}

/* Open the control socket. Returns 0 (with or without a control channel), or
 * EXIT_ALREADY_RUNNING when another awnode start owns it. */
static int open_control(supervisor *sv, control_server **ctl)
{
	int rc;

	*ctl = NULL;
	rc = aw_supervisor_ctl_socket_path(sv->sock_path, sizeof(sv->sock_path), sv->testing, 1);
	if (rc == 0)
		rc = control_server_open(ctl, sv->sock_path);
	if (rc == AW_EBUSY) {
		fprintf(stderr,
			"awnode start: another awnode start%s is already running for this user (it answers on %s); "
			"stop it first\n",
			sv->testing ? " --testing" : "", sv->sock_path);
		return EXIT_ALREADY_RUNNING;
	}
	if (rc) {
		sv->sock_path[0] = '\0';
		supervisor_log("WARNING",
			       "no control socket (%s): awnode status/pause/resume will not reach this awnode start",
			       aw_error_last());
	}
	return 0;
}

/* ---- the loop ---------------------------------------------------------------------- */

static void start_watchers(supervisor *sv)
{
	for (size_t i = 1; i < sv->nk; i++)
		if (!sv->kids[i].paused)
			supervisor_spawn(sv, &sv->kids[i]);
	sv->watchers_started = 1;
}

/* Restart children whose back-off is over; lower *wait_ms to the next one due. */
static void restart_due(supervisor *sv, int64_t *wait_ms)
{
	int64_t now = aw_time_monotonic_ms();

	for (size_t i = 0; i < sv->nk; i++) {
		child *c = &sv->kids[i];

		if (c->pid || c->disabled || c->paused || !c->restart_at_ms || (!c->is_node && !sv->watchers_started))
			continue;
		if (now >= c->restart_at_ms)
			supervisor_spawn(sv, c);
		else if (c->restart_at_ms - now < *wait_ms)
			*wait_ms = c->restart_at_ms - now;
	}
}

/* Drain the signalfd; returns the first stop signal (TERM/INT/HUP) or 0. */
static int take_signal(int sfd)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (si.ssi_signo != SIGCHLD && !stop)
			stop = (int)si.ssi_signo;
	return stop;
}

/* Supervise until a stop signal or a fatal node failure; returns the exit code. */
static int run(supervisor *sv, control_server *ctl, const options *o, const sigset_t *set)
{
	const char *host = o->host ? o->host : "127.0.0.1";
	child *node = &sv->kids[0];
	int node_ready = node->external, sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	int64_t ready_deadline = aw_time_monotonic_ms() + READY_WAIT_MS;

	if (sfd < 0) {
		supervisor_log("ERROR", "signalfd: %s", strerror(errno));
		stop_all(sv, set);
		return 1;
	}
	for (;;) {
		struct pollfd fds[1 + CONTROL_MAX_FDS];
		int64_t wait = 60000;
		int n, sig;

		if (!sv->watchers_started && (node_ready || aw_time_monotonic_ms() >= ready_deadline))
			start_watchers(sv);
		restart_due(sv, &wait);
		pause_tick(sv, &wait);
		if (!sv->watchers_started) {
			wait = 100;
			if (node->pid && node_answers(host, o->port, sv->testing))
				node_ready = 1, wait = 0;
		}
		wait = control_server_timeout(ctl, wait);
		fds[0] = (struct pollfd){sfd, POLLIN, 0};
		n = 1 + control_server_fds(ctl, fds + 1);
		if (poll(fds, (nfds_t)n, (int)(wait < 0 ? 0 : wait)) < 0 && errno != EINTR)
			supervisor_log("ERROR", "poll: %s", strerror(errno));
		sig = take_signal(sfd);
		if (reap(sv, 0) == -2) {
			for (size_t i = 0; i < sv->nk; i++)
				if (!sv->kids[i].is_node && sv->kids[i].pid)
					supervisor_log("INFO", "stopping %s", sv->kids[i].name);
			stop_all(sv, set);
			close(sfd);
			return 2;
		}
		if (sig) {
			supervisor_log("INFO", "%s received: stopping", strsignal(sig));
			stop_all(sv, set);
			close(sfd);
			return 0;
		}
		control_server_service(ctl, fds + 1, n - 1, sv);
	}
}

/* Where this executable lives (/proc/self/exe) and its directory. */
static int find_self(char *exe, char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", exe, len - 1);

	if (n <= 0) {
		fprintf(stderr, "awnode start: cannot find the awnode binary (/proc/self/exe): %s\n", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	memcpy(dir, exe, (size_t)n + 1);
	*strrchr(dir, '/') = '\0';
	return 0;
}

int supervisor_main(int argc, char **argv)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	supervisor *sv = calloc(1, sizeof(*sv));
	options o;
	control_server *ctl = NULL;
	sigset_t set;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!sv || find_self(exe, dir, sizeof(exe))) {
		free(sv);
		return 1;
	}
	sv->started_ms = aw_time_monotonic_ms();
	rc = parse_args(sv, &o, exe, argc, argv);
	if (rc >= 0)
		goto out;
	rc = open_control(sv, &ctl);
	if (rc)
		goto out;
	if (add_watchers(sv, &o, dir) || add_tray(sv, &o, dir)) {
		fprintf(stderr, "awnode start: out of memory\n");
		rc = 1;
		goto out;
	}

	/* the watchers connect where the node listens */
	if (o.host && (!strcmp(o.host, "0.0.0.0") || !strcmp(o.host, "::") || !strcmp(o.host, "[::]")))
		o.host = "127.0.0.1";
	if (ctl)
		pause_restore(sv);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &sv->oldmask);

	if (node_answers(o.host ? o.host : "127.0.0.1", o.port, sv->testing)) {
		supervisor_log("INFO", "a node already answers on %s:%d; starting only the watchers", o.host ? o.host : "127.0.0.1",
		       o.port ? o.port : (sv->testing ? 5666 : 5600));
		sv->kids[0].disabled = 1;
		sv->kids[0].external = 1;
	} else {
		supervisor_spawn(sv, &sv->kids[0]);
	}
	rc = run(sv, ctl, &o, &set);
	sigprocmask(SIG_SETMASK, &sv->oldmask, NULL);
	supervisor_log("INFO", "stopped");
out:
	control_server_close(ctl);
	for (size_t i = 0; i < sizeof(sv->kids) / sizeof(sv->kids[0]); i++)
		free_child(&sv->kids[i]);
	free(sv);
	return rc;
}
