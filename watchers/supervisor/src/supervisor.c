/* `awnode start`: see include/aw/supervisor.h. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aw/client.h"
#include "aw/supervisor.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 60000
#define STABLE_MS 60000
#define READY_WAIT_MS 10000

/* exit codes of the watchers that mean "restarting will not help" (see wcommon.h) */
#define WEXIT_USAGE 2
#define WEXIT_NODISPLAY 3
#define WEXIT_RUNNING 4

typedef struct child {
	char name[64];
	char **argv;
	size_t argc;
	int is_node;
	pid_t pid;
	int64_t started_ms;
	int64_t restart_at_ms; /* 0 = not scheduled */
	long backoff_ms;
	int disabled;
} child;

static void slog(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(const char *level, const char *fmt, ...)
{
	char msg[1024], ts[40], line[1200];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	localtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ld [%s] awnode start: %s\n", ts, now.tv_nsec / 1000000, level, msg);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	if (write(2, line, (size_t)n) < 0) {
		/* nothing to do */
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode start [options] [serve options]\n"
		"\n"
		"Run the node and, where an X display is usable, the default watchers\n"
		"(aw-watcher-afk, aw-watcher-window). Crashed children are restarted with back-off;\n"
		"SIGINT/SIGTERM stops everything (watchers first, so they deliver their queues).\n"
		"\n"
		"options:\n"
		"  --testing        testing mode for the node and the watchers (port 5666)\n"
		"  --host ADDR      the node's bind address; the watchers connect to it\n"
		"  --port N         the node's port; the watchers connect to it\n"
		"  --verbose        debug logging in every child\n"
		"  --no-watchers    run only the node\n"
		"  -h, --help       this help\n"
		"\n"
		"Any other option is passed to `awnode serve` (see awnode serve --help).\n"
		"Watchers are looked for next to the awnode binary. If a node already answers on\n"
		"the address, only the watchers are started.\n");
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

/* $DISPLAY set and an X connection opens. libxcb is loaded only for this check, so
 * the awnode binary does not depend on it. */
static int display_usable(char *why, size_t len)
{
	const char *d = getenv("DISPLAY");
	void *lib;
	void *(*xconnect)(const char *, int *);
	int (*xerror)(void *);
	void (*xdisconnect)(void *);
	void *conn;
	int ok;

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

static void spawn(child *c, const sigset_t *oldmask)
{
	pid_t parent = getpid(), pid;

	pid = fork();
	if (pid < 0) {
		slog("ERROR", "cannot start %s: fork: %s", c->name, strerror(errno));
		c->restart_at_ms = mono_ms() + BACKOFF_FIRST_MS;
		return;
	}
	if (pid == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		execv(c->argv[0], c->argv);
		fprintf(stderr, "awnode start: cannot run %s: %s\n", c->argv[0], strerror(errno));
		_exit(127);
	}
	c->pid = pid;
	c->started_ms = mono_ms();
	c->restart_at_ms = 0;
	slog("INFO", "started %s (pid %d)", c->name, (int)pid);
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
	ok = aw_client_get_info(&info, c) == AW_CLIENT_OK;
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

/* Reap children; returns -2 if the node failed permanently, else 0. */
static int reap(child *kids, size_t n, int stopping)
{
	int status, fatal = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		char how[128];
		child *c = NULL;
		int64_t now = mono_ms();
		int code;

		for (size_t i = 0; i < n; i++)
			if (kids[i].pid == pid)
				c = &kids[i];
		if (!c)
			continue;
		c->pid = 0;
		describe(status, how, sizeof(how));
		if (stopping) {
			slog("INFO", "%s %s", c->name, how);
			continue;
		}
		code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (code == 127) {
			slog("ERROR", "%s could not be run; not restarting it", c->name);
			c->disabled = 1;
			if (c->is_node)
				fatal = 1;
			continue;
		}
		if (c->is_node && code == 2) {
			slog("ERROR", "the node %s: bad option or config; stopping", how);
			c->disabled = 1;
			fatal = 1;
			continue;
		}
		if (!c->is_node && (code == WEXIT_USAGE || code == WEXIT_NODISPLAY || code == WEXIT_RUNNING)) {
			slog("WARNING", "%s %s (%s); not restarting it", c->name, how,
			     code == WEXIT_USAGE ? "bad option or config"
			     : code == WEXIT_NODISPLAY ? "no usable X display"
						       : "another instance is running");
			c->disabled = 1;
			continue;
		}
		if (now - c->started_ms >= STABLE_MS)
			c->backoff_ms = 0;
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_FIRST_MS;
		if (c->backoff_ms > BACKOFF_MAX_MS)
			c->backoff_ms = BACKOFF_MAX_MS;
		c->restart_at_ms = now + c->backoff_ms;
		slog("WARNING", "%s %s; restarting in %ld s", c->name, how, (c->backoff_ms + 999) / 1000);
	}
	return fatal ? -2 : 0;
}

/* Send `sig` to the children selected by `which` (0 watchers, 1 node) and wait up to
 * `wait_ms` for them to exit. */
static void stop_group(child *kids, size_t n, int which, int sig, int64_t wait_ms, const sigset_t *set)
{
	int64_t deadline = mono_ms() + wait_ms;

	for (size_t i = 0; i < n; i++)
		if (kids[i].pid > 0 && kids[i].is_node == which)
			kill(kids[i].pid, sig);
	for (;;) {
		int alive = 0;
		int64_t left;
		struct timespec ts;
		siginfo_t si;

		reap(kids, n, 1);
		for (size_t i = 0; i < n; i++)
			if (kids[i].pid > 0 && kids[i].is_node == which)
				alive = 1;
		left = deadline - mono_ms();
		if (!alive || left <= 0)
			return;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		if (sigtimedwait(set, &si, &ts) > 0 && si.si_signo != SIGCHLD) {
			/* a second stop request: hurry */
			for (size_t i = 0; i < n; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, SIGKILL);
		}
	}
}

static void stop_all(child *kids, size_t n, const sigset_t *set)
{
	stop_group(kids, n, 0, SIGTERM, 8000, set);
	stop_group(kids, n, 1, SIGTERM, 15000, set);
	for (size_t i = 0; i < n; i++) {
		if (kids[i].pid > 0) {
			slog("WARNING", "%s did not stop in time; killing it", kids[i].name);
			kill(kids[i].pid, SIGKILL);
			waitpid(kids[i].pid, NULL, 0);
			kids[i].pid = 0;
		}
	}
}

int aw_supervisor_main(int argc, char **argv)
{
	char exe[PATH_MAX], dir[PATH_MAX], why[200];
	child kids[3];
	size_t nk = 0;
	int testing = 0, verbose = 0, no_watchers = 0, port = 0, rc = 0, node_ready = 0, watchers_started = 0;
	const char *host = NULL;
	sigset_t set, oldmask;
	ssize_t len;
	int64_t ready_deadline;
	child *node = NULL;

	memset(kids, 0, sizeof(kids));
	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0) {
		fprintf(stderr, "awnode start: cannot find the awnode binary (/proc/self/exe): %s\n", strerror(errno));
		return 1;
	}
	exe[len] = '\0';
	memcpy(dir, exe, (size_t)len + 1);
	*strrchr(dir, '/') = '\0';

	/* kids[0] = node; its argv is built while parsing */
	snprintf(kids[0].name, sizeof(kids[0].name), "the node");
	kids[0].is_node = 1;
	if (push(&kids[0], exe) || push(&kids[0], "serve"))
		goto oom;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free_child(&kids[0]);
			return 0;
		}
		if (!strcmp(a, "--no-watchers")) {
			no_watchers = 1;
			continue;
		}
		if (!strcmp(a, "--testing"))
			testing = 1;
		else if (!strcmp(a, "--verbose"))
			verbose = 1;
		else if (!strcmp(a, "--port") || !strncmp(a, "--port=", 7)) {
			const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[i + 1] : NULL);
			char *e;
			long p = v ? strtol(v, &e, 10) : 0;

			if (!v || !*v || *e || p < 1 || p > 65535) {
				fprintf(stderr, "awnode start: --port needs a number from 1 to 65535, got '%s'\n",
					v ? v : "");
				free_child(&kids[0]);
				return 2;
			}
			port = (int)p;
			if (a[6] != '=') {
				if (push(&kids[0], a))
					goto oom;
				a = argv[++i];
			}
		} else if (!strcmp(a, "--host") || !strncmp(a, "--host=", 7)) {
			const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[i + 1] : NULL);

			if (!v || !*v) {
				fprintf(stderr, "awnode start: --host needs an address\n");
				free_child(&kids[0]);
				return 2;
			}
			host = v;
			if (a[6] != '=') {
				if (push(&kids[0], a))
					goto oom;
				a = argv[++i];
			}
		}
		if (push(&kids[0], a))
			goto oom;
	}
	nk = 1;
	node = &kids[0];

	/* the watchers connect where the node listens */
	if (host && (!strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "[::]")))
		host = "127.0.0.1";
	if (!no_watchers) {
		if (!display_usable(why, sizeof(why))) {
			slog("INFO", "no usable X display (%s): not starting the watchers", why);
		} else {
			static const char *const names[] = {"aw-watcher-afk", "aw-watcher-window"};

			for (size_t w = 0; w < 2; w++) {
				child *c = &kids[nk];
				char path[PATH_MAX + 64], portbuf[16];

				snprintf(path, sizeof(path), "%s/%s", dir, names[w]);
				if (access(path, X_OK)) {
					slog("WARNING", "%s not found next to awnode (%s): not starting it", names[w], path);
					continue;
				}
				snprintf(c->name, sizeof(c->name), "%s", names[w]);
				if (push(c, path))
					goto oom;
				if (testing && push(c, "--testing"))
					goto oom;
				if (host && (push(c, "--host") || push(c, host)))
					goto oom;
				snprintf(portbuf, sizeof(portbuf), "%d", port);
				if (port && (push(c, "--port") || push(c, portbuf)))
					goto oom;
				if (verbose && push(c, "--verbose"))
					goto oom;
				nk++;
			}
		}
	}

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &oldmask);

	if (node_answers(host ? host : "127.0.0.1", port, testing)) {
		slog("INFO", "a node already answers on %s:%d; starting only the watchers", host ? host : "127.0.0.1",
		     port ? port : (testing ? 5666 : 5600));
		node->disabled = 1;
		node_ready = 1;
	} else {
		spawn(node, &oldmask);
	}
	ready_deadline = mono_ms() + READY_WAIT_MS;

	for (;;) {
		struct timespec ts;
		siginfo_t si;
		int64_t now = mono_ms(), wait = 60000;
		int sig;

		if (!watchers_started && (node_ready || now >= ready_deadline)) {
			for (size_t i = 1; i < nk; i++)
				spawn(&kids[i], &oldmask);
			watchers_started = 1;
		}
		for (size_t i = 0; i < nk; i++) {
			child *c = &kids[i];

			if (c->pid || c->disabled || !c->restart_at_ms || (i > 0 && !watchers_started))
				continue;
			if (now >= c->restart_at_ms)
				spawn(c, &oldmask);
			else if (c->restart_at_ms - now < wait)
				wait = c->restart_at_ms - now;
		}
		if (!watchers_started) {
			wait = 100;
			if (node->pid && node_answers(host ? host : "127.0.0.1", port, testing))
				node_ready = 1, wait = 0;
		}
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000;
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGCHLD || sig < 0) {
			if (reap(kids, nk, 0) == -2) {
				rc = 2;
				for (size_t i = 0; i < nk; i++)
					if (!kids[i].is_node && kids[i].pid)
						slog("INFO", "stopping %s", kids[i].name);
				stop_all(kids, nk, &set);
				break;
			}
		} else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
			slog("INFO", "%s received: stopping", strsignal(sig));
			stop_all(kids, nk, &set);
			break;
		}
	}
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	for (size_t i = 0; i < nk; i++)
		free_child(&kids[i]);
	slog("INFO", "stopped");
	return rc;
oom:
	fprintf(stderr, "awnode start: out of memory\n");
	for (size_t i = 0; i < 3; i++)
		free_child(&kids[i]);
	return 1;
}
