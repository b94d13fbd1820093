/*
 * `awnode doctor`: checks this desktop session for what tracking needs and says what to
 * do about anything missing, one line per check:
 *
 *   node    the node answers on its port (GET /api/0/info)
 *   window  aw-watcher-window --check: the backend this session gets, and the window
 *           it reads now (or the watcher's own line on why it cannot)
 *   afk     aw-watcher-afk --check: the same for the idle time
 *   gnome   on GNOME only: awnode's Shell extension installed for this user, with the
 *           commands that install and enable it when it is not
 *
 * The watchers are asked themselves, from beside this binary as `awnode start` runs
 * them, so the doctor's answer is the one they would act on (docs/watchers.md, "KDE
 * Plasma and GNOME"). Exits 0 when every check passes, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "aw/buf.h"
#include "aw/files.h"
#include "cli.h"

#define EXT_UUID "awnode-window@awnode.org"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode doctor [--testing] [--port PORT]\n"
		"\n"
		"Check what tracking needs in this desktop session: the node answering on its\n"
		"port, the window and AFK watchers able to read this session (X11, wlroots\n"
		"Wayland, KDE Plasma's KWin or GNOME), and on GNOME awnode's Shell extension.\n"
		"One line per check, with what to do about a failed one. --testing checks the\n"
		"testing node (port 5666). Exits with 1 when a check fails.\n");
}

static void report(const char *what, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void report(const char *what, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%-7s %-4s ", what, ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static bool check_node(int port, bool testing)
{
	char *key = NULL;
	aw_buf out = {0};
	long status = 0;
	json_t *info;
	bool ok;

	port = cli_node_port(port, testing, &key);
	ok = cli_node_request(port, key, "GET", "/api/0/info", NULL, 5, &out, &status) == 0 && status == 200;
	info = ok ? json_loadb(out.data, out.len, 0, NULL) : NULL;
	if (info)
		report("node", true, "awnode %s on 127.0.0.1:%d, device '%s'",
		       json_string_value(json_object_get(info, "version")) ?: "?", port,
		       json_string_value(json_object_get(info, "hostname")) ?: "?");
	else
		report("node", false,
		       "nothing answers on 127.0.0.1:%d: start it with `awnode start` (or `systemctl --user enable "
		       "--now awnode`)",
		       port);
	json_decref(info);
	aw_buf_free(&out);
	free(key);
	return info != NULL;
}

/* The directory of this binary, where `awnode start` finds the watchers too. */
static int self_dir(char *dir, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", dir, len - 1);
	char *slash;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	return 0;
}

/* Run `dir/prog --check [--testing]`; its first output line into line, its status. */
static int run_check(const char *dir, const char *prog, bool testing, char *line, size_t len)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int st;

	line[0] = '\0';
	snprintf(cmd, sizeof(cmd), "'%s/%s' --check%s 2>&1", dir, prog, testing ? " --testing" : "");
	p = popen(cmd, "r");
	if (!p) {
		snprintf(line, len, "cannot run %s: %s", prog, strerror(errno));
		return -1;
	}
	if (fgets(line, (int)len, p))
		line[strcspn(line, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool check_watcher(const char *dir, const char *what, const char *prog, bool testing)
{
	char line[1024], prefix[64];
	const char *text = line;
	int rc = run_check(dir, prog, testing, line, sizeof(line));

	snprintf(prefix, sizeof(prefix), "%s: ", prog);
	if (!strncmp(line, prefix, strlen(prefix)))
		text += strlen(prefix);
	if (rc == 127 || (rc != 0 && !*text))
		report(what, false, "%s was not found beside awnode (%s)", prog, dir);
	else
		report(what, rc == 0, "%s%s", text,
		       rc == 5 ? " [exit 5: this session is not supported]" : rc == 3 ? " [exit 3: no display]" : "");
	return rc == 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The shipped extension for this GNOME generation: build tree or installed layout. */
static void shipped_extension(const char *dir, const char *gen, char *out, size_t len)
{
	char cand[PATH_MAX + 128];

	snprintf(cand, sizeof(cand), "%s/../gnome-shell/%s/" EXT_UUID, dir, gen);
	if (!is_dir(cand))
		snprintf(cand, sizeof(cand), "%s/" AW_SHARE_FROM_BIN "/gnome-shell/%s/" EXT_UUID, dir, gen);
	if (!realpath(cand, out)) {
		size_t n = strnlen(cand, len - 1);

		memcpy(out, cand, n);
		out[n] = '\0';
	}
}

/* GNOME 45 changed how extensions load; `gnome-shell --version` says which we face. */
static const char *gnome_generation(void)
{
	FILE *p = popen("gnome-shell --version 2>/dev/null", "r");
	char line[128] = "";
	int major = 0;

	if (p) {
		if (fgets(line, sizeof(line), p))
			sscanf(line, "GNOME Shell %d", &major);
		pclose(p);
	}
	return major >= 45 ? "45" : major > 0 ? "43" : NULL;
}

static bool check_gnome(const char *dir)
{
	const char *gen = gnome_generation();
	char user_dir[PATH_MAX], shipped[PATH_MAX];
	char *data = aw_files_dir(AW_DIR_DATA); /* <XDG_DATA_HOME>/awnode */
	char *slash = data ? strrchr(data, '/') : NULL;
	bool ok;

	if (slash)
		*slash = '\0';
	snprintf(user_dir, sizeof(user_dir), "%s/gnome-shell/extensions/" EXT_UUID, data ? data : "~/.local/share");
	free(data);
	ok = is_dir(user_dir) || is_dir("/usr/share/gnome-shell/extensions/" EXT_UUID) ||
	     is_dir("/usr/local/share/gnome-shell/extensions/" EXT_UUID);
	if (ok) {
		report("gnome", true, "the Shell extension %s is installed (the window check above says whether it is "
				      "enabled)", EXT_UUID);
		return true;
	}
	shipped_extension(dir, gen ? gen : "45", shipped, sizeof(shipped));
	report("gnome", false,
	       "the Shell extension %s is not installed: `mkdir -p %s/.. && cp -r %s %s/.. && gnome-extensions enable %s`, "
	       "then log out and in again%s",
	       EXT_UUID, user_dir, shipped, user_dir, EXT_UUID,
	       gen ? "" : " (for GNOME 43 or 44 use the copy in ../../43/ instead)");
	return false;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {{"testing", no_argument, NULL, 't'},
					     {"port", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *desktop = getenv("XDG_CURRENT_DESKTOP");
	char dir[PATH_MAX];
	bool testing = false, ok = true;
	int ch, port = -1;

	while ((ch = cli_getopt(argc, argv, "h", opts)) != -1) {
		switch (ch) {
		case 't': testing = true; break;
		case 'p':
			port = atoi(optarg);
			if (port < 1 || port > 65535) {
				fprintf(stderr, "awnode doctor: --port needs 1-65535, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "awnode doctor: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	if (self_dir(dir, sizeof(dir))) {
		fprintf(stderr, "awnode doctor: cannot find the awnode binary (/proc/self/exe)\n");
		return 1;
	}
	ok &= check_node(port, testing);
	ok &= check_watcher(dir, "window", "aw-watcher-window", testing);
	ok &= check_watcher(dir, "afk", "aw-watcher-afk", testing);
	if (desktop && strstr(desktop, "GNOME"))
		ok &= check_gnome(dir);
	return ok ? 0 : 1;
}
