/*
 * `awnode sync <command>` (docs/sync.md).
 *
 * Commands that change the database (push, pull, run, forget, restore) open it
 * themselves, which takes the database's lock. When a node holds that lock, push, pull
 * and run ask the node instead (POST /api/0/sync/now on 127.0.0.1 at the configured
 * port, with the configured API key); forget and restore refuse. status reads the
 * database directly (a read-only connection works next to a running node). init,
 * join, remote and inspect touch only the folder and the key file.
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage, 3 done but some devices could not be
 * imported (see status).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli_common.h"
#include "internal.h"

enum {
	O_TESTING = 1 << 0,
	O_DBPATH = 1 << 1,
	O_FOLDER = 1 << 2,
	O_KEYFILE = 1 << 3,
	O_DEVICE = 1 << 4,
	O_HOST = 1 << 5,
	O_CONFIG = 1 << 6,
	O_PORT = 1 << 7,
	O_PASSFILE = 1 << 8,
	O_REMOTE = 1 << 9,
	O_JSON = 1 << 10,
	O_UNDO = 1 << 11,
	O_KDFOPS = 1 << 12,
	O_KDFMEM = 1 << 13,
	O_SEGMENTS = 1 << 14,
	O_COMMON = O_TESTING | O_DBPATH | O_FOLDER | O_KEYFILE | O_DEVICE | O_HOST | O_CONFIG | O_PORT,
};


#define PROG "awnode sync"

#define fail(...) aws_cli_fail(PROG, 1, __VA_ARGS__)
#define usage_error(...) aws_cli_fail(PROG, 2, __VA_ARGS__)

static const char common_help[] =
	"common options:\n"
	"  --testing           use the testing database, folder and key (as 'awnode serve --testing')\n"
	"  --dbpath FILE       database (default $XDG_DATA_HOME/awnode/awnode.db)\n"
	"  --folder DIR        sync folder (default [sync] folder, else $XDG_DATA_HOME/awnode/sync)\n"
	"  --key-file FILE     key file (default [sync] key_file, else $XDG_DATA_HOME/awnode/sync.key)\n"
	"  --device-id ID      this device's id (default: $XDG_DATA_HOME/awnode/device_id)\n"
	"  --hostname NAME     this device's hostname as other devices see it (default: gethostname)\n"
	"  --config FILE       config file to read [sync], port and [auth] from\n"
	"  --port N            port of a running node to ask (default: from the config)\n"
	"  -h, --help          this help\n";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " <command> [options]\n"
		"\n"
		"Encrypted synced copies of this device's buckets in a git folder; other devices'\n"
		"buckets appear here read-only. See docs/sync.md.\n"
		"\n"
		"commands:\n"
		"  init [--remote URL]          create a new sync group (asks for a passphrase)\n"
		"  join [URL|PATH]              join an existing sync group\n"
		"  push                         export this device's changes and push them\n"
		"  pull                         fetch and import the other devices' changes\n"
		"  run                          push and pull (what the node does periodically)\n"
		"  status [--json]              devices, last push and pull, errors\n"
		"  remote add NAME URL | remote remove NAME | remote list\n"
		"  forget DEVICE [--undo]       remove a device's buckets here and stop importing it\n"
		"  restore [--device-id ID]     rebuild this device's own buckets from the folder\n"
		"  inspect [DEVICE] [--segments] [--json]  decrypt and summarise what the folder holds\n"
		"\n"
		"%s"
		"\n"
		"Run '" PROG " <command> --help' for a command's options. Exit status: 0 done, 1 failed,\n"
		"2 bad usage, 3 done but some devices could not be imported.\n",
		common_help);
}

static const struct {
	const char *name;
	unsigned opts;
	const char *args;
	const char *help;
} commands[] = {
	{"init", O_COMMON | O_PASSFILE | O_REMOTE | O_KDFOPS | O_KDFMEM, "[--remote URL]",
	 "Create a new sync group in the sync folder and its key file.\n"
	 "  --remote URL          git remote to publish to (a path, file://, ssh or https URL)\n"
	 "  --passphrase-file F   read the passphrase from F (else $AWNODE_SYNC_PASSPHRASE, else a prompt)\n"
	 "  --kdf-ops N           Argon2id passes, 1-10 (default 3)\n"
	 "  --kdf-mem MIB         Argon2id memory in MiB, 8-1024 (default 64)\n"
	 "The passphrase needs at least 8 characters.\n"},
	{"join", O_COMMON | O_PASSFILE, "[URL|PATH]",
	 "Join the sync group held by a git remote (cloned into the sync folder), or, without a URL,\n"
	 "the one already in the sync folder (e.g. a folder shared with Syncthing).\n"
	 "  --passphrase-file F   read the passphrase from F (else $AWNODE_SYNC_PASSPHRASE, else a prompt)\n"},
	{"push", O_COMMON | O_JSON, "[--json]",
	 "Export this device's changes as a new segment, commit, and push to every remote.\n"
	 "  --json                print the round's report as JSON (as POST /api/0/sync/now answers)\n"},
	{"pull", O_COMMON | O_JSON, "[--json]",
	 "Fetch and merge every remote, then import the other devices' new segments.\n"
	 "  --json                print the round's report as JSON (as POST /api/0/sync/now answers)\n"},
	{"run", O_COMMON | O_JSON, "[--json]",
	 "One round: fetch, export, push, import (what the node runs every [sync] interval).\n"
	 "  --json                print the round's report as JSON (as POST /api/0/sync/now answers)\n"},
	{"status", O_COMMON | O_JSON, "[--json]",
	 "Show this device, the remotes, the last push and pull, warnings (a remote that went back\n"
	 "in history, a device that has not published for $AWNODE_SYNC_STALE_AFTER seconds, 7 days by\n"
	 "default), and every other device with its import cursor, events applied, last publication\n"
	 "and last error.\n"
	 "  --json                print the document of GET /api/0/sync/status\n"},
	{"remote", O_COMMON, "add NAME URL | remove NAME | list", "Manage the sync folder's git remotes.\n"},
	{"forget", O_COMMON | O_UNDO, "DEVICE",
	 "Delete the remote buckets of DEVICE (a device id or hostname) from this database and stop\n"
	 "importing it. With --undo, import it again (from its first segment) on the next pull.\n"},
	{"restore", O_COMMON, "",
	 "Rebuild this device's own buckets (writable, event ids kept) from its segments in the folder,\n"
	 "into an empty database. --device-id chooses the device (and is written to the device_id file).\n"},
	{"inspect", O_COMMON | O_SEGMENTS | O_JSON, "[DEVICE]",
	 "Decrypt and summarise the manifests (and with --segments every segment) in the folder.\n"
	 "  --segments            list every segment's buckets and record counts\n"
	 "  --json                machine-readable output\n"},
};

static int command_index(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return (int)i;
	return -1;
}

/* ---- config (a small subset of TOML: what sync needs from config.toml) ------------------ */

static char *toml_value(char *v)
{
	char *out, *o;

	while (isspace((unsigned char)*v))
		v++;
	if (*v != '"') {
		char *hash = strchr(v, '#'), *end;
		if (hash)
			*hash = '\0';
		end = v + strlen(v);
		while (end > v && isspace((unsigned char)end[-1]))
			*--end = '\0';
		return aws_strdup(v);
	}
	out = o = aws_strdup(v);
	for (v++; *v && *v != '"'; v++) {
		if (*v == '\\' && v[1]) {
			v++;
			*o++ = *v == 'n' ? '\n' : *v == 't' ? '\t' : *v;
		} else {
			*o++ = *v;
		}
	}
	*o = '\0';
	return out;
}

static char *expand_home(char *p)
{
	const char *home = getenv("HOME");
	char *e;

	if (!p || strncmp(p, "~/", 2) || !home)
		return p;
	e = aws_fmt("%s/%s", home, p + 2);
	free(p);
	return e;
}

static void read_config(cli *c)
{
	char *path, line[4096], section[64] = "";
	FILE *f;

	if (c->config) {
		path = aws_strdup(c->config);
	} else {
		char *dir = aws_config_dir();
		path = aws_fmt("%s/%s", dir, c->testing ? "config-testing.toml" : "config.toml");
		free(dir);
	}
	f = fopen(path, "r");
	free(path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *key, *end;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		if (*p == '[') {
			end = strchr(p, ']');
			if (end) {
				*end = '\0';
				snprintf(section, sizeof(section), "%s", p + 1);
			}
			continue;
		}
		eq = strchr(p, '=');
		if (!eq)
			continue;
		*eq = '\0';
		key = p;
		end = eq;
		while (end > key && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*section && !strcmp(key, "port")) {
			char *v = toml_value(eq + 1);
			c->cfg_port = strtol(v, NULL, 10);
			free(v);
		} else if (!strcmp(section, "auth") && !strcmp(key, "api_key")) {
			free(c->api_key);
			c->api_key = toml_value(eq + 1);
		} else if (!strcmp(section, "sync") && !strcmp(key, "folder")) {
			free(c->cfg_folder);
			c->cfg_folder = expand_home(toml_value(eq + 1));
		} else if (!strcmp(section, "sync") && !strcmp(key, "key_file")) {
			free(c->cfg_key);
			c->cfg_key = expand_home(toml_value(eq + 1));
		} else if (!strcmp(section, "sync") && !strcmp(key, "ssh_key")) {
			free(c->cfg_ssh);
			c->cfg_ssh = expand_home(toml_value(eq + 1));
		}
	}
	fclose(f);
}

/* ---- identity ------------------------------------------------------------------------------ */

static char *read_device_file(void)
{
	char *dir = aws_data_dir(), *path = aws_fmt("%s/device_id", dir);
	unsigned char *text;
	size_t len;
	char *id = NULL;

	if (aws_read_file(path, &text, &len) == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
			text[--len] = '\0';
		if (len)
			id = aws_strdup((char *)text);
		free(text);
	}
	free(dir);
	free(path);
	return id;
}

static int write_device_file(const char *id)
{
	char *dir = aws_data_dir(), *path = aws_fmt("%s/device_id", dir);
	int rc = aws_write_file(path, id, strlen(id), 0644);

	free(dir);
	free(path);
	return rc;
}

/* This device's id: --device-id, the node's device_id file, or a new one (written to
 * that file, as the node does on its first start). */
int aws_cli_resolve_device(cli *c, bool create)
{
	if (c->device_id) {
		if (!aws_valid_device_id(c->device_id))
			return usage_error("bad --device-id '%s' (letters, digits, '-', '_', '.'; at most 64)", c->device_id);
		c->dev = aws_strdup(c->device_id);
		return 0;
	}
	c->dev = read_device_file();
	if (c->dev && !aws_valid_device_id(c->dev))
		return fail("the device_id file holds an invalid id '%s'", c->dev);
	if (!c->dev && create) {
		char id[37];
		aws_uuid4(id);
		if (write_device_file(id))
			return fail("%s", aw_error_last());
		c->dev = aws_strdup(id);
	}
	return 0;
}

void aws_cli_resolve(cli *c)
{
	char hn[256];

	read_config(c);
	if (c->hostname) {
		c->host = aws_strdup(c->hostname);
	} else {
		if (gethostname(hn, sizeof(hn)) || !hn[0])
			snprintf(hn, sizeof(hn), "unknown");
		hn[sizeof(hn) - 1] = '\0';
		c->host = aws_strdup(hn);
	}
	if (c->dbpath) {
		c->db = aws_strdup(c->dbpath);
	} else {
		char *dir = aws_data_dir();
		c->db = aws_fmt("%s/%s", dir, c->testing ? "awnode-testing.db" : "awnode.db");
		free(dir);
	}
}

static int make_sync(cli *c, aw_store *s, aw_sync **y)
{
	aw_sync_options o;

	memset(&o, 0, sizeof(o));
	o.device_id = c->dev;
	o.hostname = c->host;
	o.folder = c->folder ? c->folder : c->cfg_folder;
	o.key_path = c->key_file ? c->key_file : c->cfg_key;
	o.ssh_key = c->cfg_ssh;
	o.testing = c->testing;
	if (aw_sync_open(y, s, &o))
		return fail("%s", aw_error_last());
	return 0;
}

/* ---- passphrase -------------------------------------------------------------------------------- */

char *aws_cli_prompt(const char *what)
{
	struct termios old, noecho;
	char buf[1024];
	FILE *tty = fopen("/dev/tty", "r+");
	bool restore = false;
	char *res = NULL;

	if (!tty)
		return NULL;
	fprintf(tty, "%s", what);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(tty), TCSAFLUSH, &noecho) == 0;
	}
	if (fgets(buf, sizeof(buf), tty)) {
		buf[strcspn(buf, "\r\n")] = '\0';
		res = aws_strdup(buf);
	}
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	sodium_memzero(buf, sizeof(buf));
	return res;
}

/* A passphrase: --passphrase-file, $<env>, or a prompt on the terminal. NULL after
 * printing the reason (prefixed with prog). */
char *aws_cli_passphrase(cli *c, bool confirm, const char *prog, const char *env_name, const char *label)
{
	const char *env = getenv(env_name);
	char *p = NULL, what[64];

	if (c->passfile) {
		unsigned char *text;
		size_t len;
		if (aws_read_file(c->passfile, &text, &len)) {
			aws_cli_fail(prog, 1, "--passphrase-file: %s", aw_error_last());
			return NULL;
		}
		text[strcspn((char *)text, "\r\n")] = '\0';
		p = aws_strdup((char *)text);
		sodium_memzero(text, len);
		free(text);
	} else if (env && *env) {
		p = aws_strdup(env);
	} else if (isatty(STDIN_FILENO)) {
		snprintf(what, sizeof(what), "%s passphrase: ", label);
		p = aws_cli_prompt(what);
		if (p && confirm) {
			char *again = aws_cli_prompt("Repeat the passphrase: ");
			bool same = again && !strcmp(again, p);
			aws_cli_free_pass(again);
			if (!same) {
				aws_cli_free_pass(p);
				aws_cli_fail(prog, 1, "the passphrases differ");
				return NULL;
			}
		}
	} else {
		aws_cli_fail(prog, 1, "no passphrase: use --passphrase-file FILE or set %s (stdin is not a terminal)",
			     env_name);
		return NULL;
	}
	if (!p || !*p) {
		aws_cli_fail(prog, 1, "the passphrase is empty");
		aws_cli_free_pass(p);
		return NULL;
	}
	return p;
}

int aws_cli_fail(const char *prog, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

void aws_cli_free_pass(char *p)
{
	if (p) {
		sodium_memzero(p, strlen(p));
		free(p);
	}
}

/* ---- talking to a running node ----------------------------------------------------------------- */

int aws_cli_http(cli *c, const char *method, const char *path, const char *body, int *status, char **resp)
{
	long port = c->port >= 0 ? c->port : c->cfg_port > 0 ? c->cfg_port : (c->testing ? 5666 : 5600);
	struct sockaddr_in sa;
	struct timeval tv = {900, 0};
	aw_buf req = AW_BUF_INIT, in = AW_BUF_INIT;
	char buf[8192], *hdr_end;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	*status = 0;
	*resp = NULL;
	if (fd < 0)
		return aw_error_set(AW_ERROR, "socket: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;
		close(fd);
		return aw_error_set(AW_ERROR, "no node answers on 127.0.0.1:%ld (%s)", port, strerror(e));
	}
	aw_buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\nConnection: close\r\nAccept: application/json\r\n",
		      method, path, port);
	if (c->api_key && *c->api_key)
		aw_buf_printf(&req, "Authorization: Bearer %s\r\n", c->api_key);
	aw_buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", body ? strlen(body) : 0,
		      body ? body : "");
	if (write(fd, req.data, req.len) != (ssize_t)req.len) {
		close(fd);
		aw_buf_free(&req);
		return aw_error_set(AW_ERROR, "sending to the node failed");
	}
	aw_buf_free(&req);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		aw_buf_append(&in, buf, (size_t)n);
	close(fd);
	if (in.len < 12 || strncmp(in.data, "HTTP/1.", 7)) {
		aw_buf_free(&in);
		return aw_error_set(AW_ERROR, "the node on port %ld sent no HTTP answer", port);
	}
	*status = atoi(in.data + 9);
	hdr_end = strstr(in.data, "\r\n\r\n");
	if (hdr_end) {
		char *b = hdr_end + 4;
		if (strcasestr(in.data, "transfer-encoding: chunked") && strcasestr(in.data, "transfer-encoding: chunked") < b) {
			aw_buf out = AW_BUF_INIT;
			while (*b) {
				char *e;
				long sz = strtol(b, &e, 16);
				if (sz <= 0 || !(e = strstr(e, "\r\n")))
					break;
				b = e + 2;
				if ((size_t)sz > strlen(b))
					sz = (long)strlen(b);
				aw_buf_append(&out, b, (size_t)sz);
				b += sz;
				if (!strncmp(b, "\r\n", 2))
					b += 2;
			}
			*resp = aw_buf_steal(&out, NULL);
		} else {
			*resp = aws_strdup(b);
		}
	} else {
		*resp = aws_strdup("");
	}
	aw_buf_free(&in);
	return 0;
}

const char *aws_cli_json_message(json_t *o)
{
	const char *m = json_string_value(json_object_get(o, "message"));

	if (!m)
		m = json_string_value(json_object_get(json_object_get(o, "error"), "description"));
	return m;
}

/* ---- output -------------------------------------------------------------------------------------- */

static int print_report(json_t *rep)
{
	const char *err = json_string_value(json_object_get(rep, "error"));
	json_int_t gen = json_integer_value(json_object_get(rep, "generation"));
	json_int_t seg = json_integer_value(json_object_get(rep, "segments_applied"));
	json_int_t failed = json_integer_value(json_object_get(rep, "devices_failed"));

	if (json_is_true(json_object_get(rep, "pushed")))
		printf("pushed generation %lld: %lld events in %lld buckets\n", (long long)gen,
		       (long long)json_integer_value(json_object_get(rep, "events_exported")),
		       (long long)json_integer_value(json_object_get(rep, "buckets_exported")));
	if (seg)
		printf("imported %lld segments (%lld events) from %lld devices\n", (long long)seg,
		       (long long)json_integer_value(json_object_get(rep, "events_applied")),
		       (long long)json_integer_value(json_object_get(rep, "devices_seen")));
	if (!json_is_true(json_object_get(rep, "pushed")) && !seg && !err)
		printf("nothing new (generation %lld, %lld other devices)\n", (long long)gen,
		       (long long)json_integer_value(json_object_get(rep, "devices_seen")));
	if (err) {
		fail("%s", err);
		return 1;
	}
	return failed ? 3 : 0;
}

static void print_device_errors(json_t *status)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(status, "devices"), i, d) {
		const char *e = json_string_value(json_object_get(d, "error"));
		const char *h = json_string_value(json_object_get(d, "hostname"));
		if (e)
			fprintf(stderr, PROG ": device %s (%s): %s\n", json_string_value(json_object_get(d, "device_id")),
				h ? h : "?", e);
	}
}

/* "2026-01-05T10:15:00.123456789Z" -> "2026-01-05T10:15:00Z" (into buf) */
static const char *short_time(const char *t, char *buf, size_t n)
{
	const char *dot;

	if (!t)
		return NULL;
	dot = strchr(t, '.');
	if (!dot)
		return t;
	snprintf(buf, n, "%.*sZ", (int)(dot - t), t);
	return buf;
}

static void print_status(json_t *s)
{
	char tb[64];
	const char *problem = json_string_value(json_object_get(s, "problem"));
	json_t *push = json_object_get(s, "push"), *pull = json_object_get(s, "pull"), *d;
	size_t i;
	const char *v;

	printf("sync folder  %s\n", json_string_value(json_object_get(s, "folder")));
	if (problem)
		printf("problem      %s\n", problem);
	json_array_foreach(json_object_get(s, "remotes"), i, d)
		printf("remote       %s  %s\n", json_string_value(json_object_get(d, "name")),
		       json_string_value(json_object_get(d, "url")));
	if (!json_array_size(json_object_get(s, "remotes")))
		printf("remote       (none: the folder is only local, or shared by a file syncer)\n");
	printf("this device  %s  %s\n", json_string_value(json_object_get(s, "device_id")),
	       json_string_value(json_object_get(s, "hostname")));
	v = short_time(json_string_value(json_object_get(push, "last")), tb, sizeof(tb));
	printf("last push    %s  generation %lld", v ? v : "never", (long long)json_integer_value(json_object_get(push, "generation")));
	if ((v = json_string_value(json_object_get(push, "error"))))
		printf("  ERROR: %s", v);
	putchar('\n');
	v = short_time(json_string_value(json_object_get(pull, "last")), tb, sizeof(tb));
	printf("last pull    %s", v ? v : "never");
	if ((v = json_string_value(json_object_get(pull, "error"))))
		printf("  ERROR: %s", v);
	putchar('\n');
	json_array_foreach(json_object_get(s, "warnings"), i, d)
		printf("WARNING      %s\n", json_string_value(d));
	if (!json_array_size(json_object_get(s, "devices"))) {
		printf("\nno other devices yet\n");
		return;
	}
	printf("\n%-36s  %-16s  %9s  %9s  %-20s  %-20s  %s\n", "DEVICE", "HOSTNAME", "APPLIED", "EVENTS", "LAST PUBLISHED",
	       "LAST IMPORT", "STATUS");
	json_array_foreach(json_object_get(s, "devices"), i, d) {
		char applied[48], pb[64];
		const char *host = json_string_value(json_object_get(d, "hostname"));
		const char *pub = short_time(json_string_value(json_object_get(d, "last_published")), pb, sizeof(pb));
		const char *last = short_time(json_string_value(json_object_get(d, "last_import")), tb, sizeof(tb));
		const char *err = json_string_value(json_object_get(d, "error"));
		const char *state = json_string_value(json_object_get(d, "state"));
		snprintf(applied, sizeof(applied), "%lld/%lld", (long long)json_integer_value(json_object_get(d, "generation")),
			 (long long)json_integer_value(json_object_get(d, "manifest_generation")));
		printf("%-36s  %-16s  %9s  %9lld  %-20s  %-20s  %s%s%s\n", json_string_value(json_object_get(d, "device_id")),
		       host ? host : "?", applied, (long long)json_integer_value(json_object_get(d, "events_applied")),
		       pub ? pub : "-", last ? last : "-", state ? state : "?", err ? ": " : "", err ? err : "");
	}
}

/* ---- commands -------------------------------------------------------------------------------------- */

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A folder that holds nothing but a repository without a commit: what a join that was
 * refused (a remote whose files break the format's rules, a broken connection) leaves
 * behind. Joining again may reuse it. */
static bool only_unborn_repo(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool other = false, git = false, unborn = false;
	aws_repo *repo;

	if (!d)
		return false;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!strcmp(e->d_name, ".git"))
			git = true;
		else
			other = true;
	}
	closedir(d);
	if (other || !git || aws_repo_open(&repo, path, NULL))
		return false;
	unborn = !aws_repo_has_head(repo);
	aws_repo_close(repo);
	return unborn;
}

static bool dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool any = false;

	if (!d)
		return false;
	while (!any && (e = readdir(d)))
		any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return any;
}

static int cmd_init(cli *c, aw_sync *y)
{
	char *gpath = aws_fmt("%s/" AWS_GROUP_FILE, y->folder), *pass = NULL, *gjson = NULL;
	unsigned long long ops = c->kdf_ops > 0 ? (unsigned long long)c->kdf_ops : 3;
	size_t mem = (size_t)(c->kdf_mem > 0 ? c->kdf_mem : 64) << 20;
	unsigned char key[AWS_KEY_BYTES];
	aws_repo *repo = NULL;
	aws_group g;
	int rc = 1;

	if (c->npos)
		return usage_error("init takes no arguments (did you mean --remote %s?)", c->pos[0]);
	if (exists(gpath)) {
		rc = fail("%s is already a sync folder (sync group set up); use 'awnode sync status'", y->folder);
		goto out;
	}
	if (dir_nonempty(y->folder)) {
		rc = fail("the folder %s exists and is not empty; choose another with --folder", y->folder);
		goto out;
	}
	if (c->remote) {
		bool has;
		if (aws_remote_probe(c->remote, c->cfg_ssh, &has)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (has) {
			rc = fail("the remote already holds a sync group: use 'awnode sync join %s'", c->remote);
			goto out;
		}
	}
	if (!(pass = aws_cli_passphrase(c, true, PROG, "AWNODE_SYNC_PASSPHRASE", "Sync")))
		goto out;
	if (strlen(pass) < 8) {
		rc = fail("the passphrase is too short (at least 8 characters; it protects all synced data)");
		goto out;
	}
	aws_group_new(&g, ops, mem);
	if (ops < 1 || ops > AWS_KDF_OPS_MAX || mem < AWS_KDF_MEM_MIN || mem > AWS_KDF_MEM_MAX) {
		rc = usage_error("--kdf-ops must be 1-10 and --kdf-mem 8-1024 (MiB)");
		goto out;
	}
	if (aws_derive_key(key, &g, pass, strlen(pass))) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	aws_key_check(g.key_check, key);
	gjson = aws_group_json(&g);
	if (aws_repo_create(&repo, y->folder, c->cfg_ssh) || aws_repo_lock(repo)) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	{
		aws_file f = {AWS_GROUP_FILE, gjson, strlen(gjson)};
		if (aws_repo_commit(repo, &f, 1, "awsync: init")) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
	}
	if (aws_key_save(y->key_path, &g, key)) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	if (c->remote) {
		if (aws_repo_remote_add(repo, "origin", c->remote) || aws_repo_push(repo, "origin", y->device_id)) {
			rc = fail("the sync group was created in %s, but publishing it failed: %s", y->folder, aw_error_last());
			goto out;
		}
	}
	printf("created sync group %s\n  folder  %s\n  key     %s (keep it secret; the passphrase recreates it)\n",
	       g.group, y->folder, y->key_path);
	if (c->remote)
		printf("  remote  origin = %s\n", c->remote);
	printf("Other devices join with 'awnode sync join %s' and the same passphrase.\n",
	       c->remote ? c->remote : "<remote>");
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	aws_cli_free_pass(pass);
	free(gjson);
	free(gpath);
	aws_repo_close(repo);
	return rc;
}

static int cmd_join(cli *c, aw_sync *y)
{
	char *gpath = aws_fmt("%s/" AWS_GROUP_FILE, y->folder), *gitdir = aws_fmt("%s/.git", y->folder), *pass = NULL;
	const char *url = c->npos ? c->pos[0] : NULL;
	unsigned char key[AWS_KEY_BYTES];
	char check[AWS_HASH_HEX];
	aws_repo *repo = NULL;
	aws_group g;
	int rc = 1;

	if (c->npos > 1)
		return usage_error("join takes one URL or path");
	if (exists(gpath)) {
		if (aws_group_read(&g, y->folder)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (aws_key_load(key, y->key_path, &g) == 0) {
			printf("already joined sync group %s (folder %s)\n", g.group, y->folder);
			rc = 0;
			goto out;
		}
		/* a folder shared by a file syncer, or a join whose passphrase was wrong */
		if (exists(gitdir) ? aws_repo_open(&repo, y->folder, c->cfg_ssh)
				   : aws_repo_create(&repo, y->folder, c->cfg_ssh)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (url) {
			aws_remote_info *rem;
			size_t n;
			bool have = false;
			if (aws_repo_remotes(repo, &rem, &n) == 0) {
				for (size_t i = 0; i < n; i++)
					have |= !strcmp(rem[i].name, "origin");
				aws_remotes_free(rem, n);
			}
			if (!have && aws_repo_remote_add(repo, "origin", url)) {
				rc = fail("%s", aw_error_last());
				goto out;
			}
		}
	} else {
		bool has;
		if (!url) {
			rc = usage_error("join needs the URL or path of the sync group's git remote (or a --folder that "
					 "already holds awsync.json)");
			goto out;
		}
		bool retry = only_unborn_repo(y->folder);
		if (dir_nonempty(y->folder) && !retry) {
			rc = fail("the folder %s exists and is not empty; choose another with --folder", y->folder);
			goto out;
		}
		if (aws_remote_probe(url, c->cfg_ssh, &has)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (!has) {
			rc = fail("%s holds no sync group yet: run 'awnode sync init --remote %s' on the first device", url,
				  url);
			goto out;
		}
		if ((retry ? aws_repo_open(&repo, y->folder, c->cfg_ssh) : aws_repo_create(&repo, y->folder, c->cfg_ssh)) ||
		    aws_repo_lock(repo)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (retry)
			aws_repo_remote_remove(repo, "origin"); /* the URL may have changed; absent is fine */
		if (aws_repo_remote_add(repo, "origin", url) || aws_repo_pull(repo, "origin", y->device_id)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
		if (aws_group_read(&g, y->folder)) {
			rc = fail("%s", aw_error_last());
			goto out;
		}
	}
	if (!(pass = aws_cli_passphrase(c, false, PROG, "AWNODE_SYNC_PASSPHRASE", "Sync")))
		goto out;
	if (aws_derive_key(key, &g, pass, strlen(pass))) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	aws_key_check(check, key);
	if (strcmp(check, g.key_check)) {
		rc = fail("wrong passphrase: it does not match the key check of sync group %s", g.group);
		goto out;
	}
	if (aws_key_save(y->key_path, &g, key)) {
		rc = fail("%s", aw_error_last());
		goto out;
	}
	printf("joined sync group %s\n  folder  %s\n  key     %s\nRun 'awnode sync pull' to import the other devices.\n",
	       g.group, y->folder, y->key_path);
	rc = 0;
out:
	sodium_memzero(key, sizeof(key));
	aws_cli_free_pass(pass);
	free(gpath);
	free(gitdir);
	aws_repo_close(repo);
	return rc;
}

static int cmd_remote(cli *c, aw_sync *y)
{
	aws_repo *repo;
	int rc = 0;

	if (c->npos < 1 || (strcmp(c->pos[0], "add") && strcmp(c->pos[0], "remove") && strcmp(c->pos[0], "rm") &&
			    strcmp(c->pos[0], "list") && strcmp(c->pos[0], "ls")))
		return usage_error("remote needs 'add NAME URL', 'remove NAME' or 'list'");
	if (aws_repo_open(&repo, y->folder, c->cfg_ssh))
		return fail("%s", aw_error_last());
	if (aws_repo_lock(repo)) {
		rc = fail("%s", aw_error_last());
	} else if (!strcmp(c->pos[0], "add")) {
		if (c->npos != 3)
			rc = usage_error("usage: " PROG " remote add NAME URL");
		else if (aws_repo_remote_add(repo, c->pos[1], c->pos[2]))
			rc = fail("%s", aw_error_last());
		else
			printf("added remote %s; the next push publishes to it\n", c->pos[1]);
	} else if (!strcmp(c->pos[0], "remove") || !strcmp(c->pos[0], "rm")) {
		if (c->npos != 2)
			rc = usage_error("usage: " PROG " remote remove NAME");
		else if (aws_repo_remote_remove(repo, c->pos[1]))
			rc = fail("%s", aw_error_last());
		else
			printf("removed remote %s\n", c->pos[1]);
	} else if (!strcmp(c->pos[0], "list") || !strcmp(c->pos[0], "ls")) {
		aws_remote_info *rem;
		size_t n;
		if (c->npos != 1)
			rc = usage_error("usage: " PROG " remote list");
		else if (aws_repo_remotes(repo, &rem, &n))
			rc = fail("%s", aw_error_last());
		else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\n", rem[i].name, rem[i].url);
			aws_remotes_free(rem, n);
		}
	} else {
		rc = usage_error("unknown remote command '%s' (add, remove, list)", c->pos[0]);
	}
	aws_repo_close(repo);
	return rc;
}

/* Open the database; AW_EBUSY means a node holds it. */
int aws_cli_open_db(cli *c, aw_store **s, aw_reader **r)
{
	aw_store_options so;
	int rc;

	*s = NULL;
	*r = NULL;
	memset(&so, 0, sizeof(so));
	if ((rc = aw_store_open(s, c->db, &so)))
		return rc;
	if ((rc = aw_reader_open(r, *s))) {
		aw_store_close(*s);
		*s = NULL;
	}
	return rc;
}

static int node_round(cli *c, const char *mode)
{
	char body[64], *resp = NULL;
	int status, rc;
	json_t *o, *st;
	json_error_t je;

	snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
	if (aws_cli_http(c, "POST", "/api/0/sync/now", body, &status, &resp))
		return fail("the database %s is in use by a running node, and it could not be asked to sync: %s. Stop the "
			    "node, or pass --port",
			    c->db, aw_error_last());
	o = json_loads(resp, 0, &je);
	if (status == 404 || status == 405) {
		json_decref(o);
		free(resp);
		return fail("the node running on this database has no sync API (POST /api/0/sync/now answered %d): stop it "
			    "and run '" PROG " %s' again",
			    status, c->cmd);
	}
	if (status != 200 || !json_is_object(o)) {
		const char *m = aws_cli_json_message(o);
		rc = fail("the node answered %d: %s", status, m ? m : resp);
		json_decref(o);
		free(resp);
		return rc;
	}
	if (c->json)
		puts(resp);
	free(resp);
	rc = c->json ? (json_string_value(json_object_get(o, "error")) ? 1
			: json_integer_value(json_object_get(o, "devices_failed")) ? 3 : 0)
		     : print_report(o);
	json_decref(o);
	if (rc == 3 && aws_cli_http(c, "GET", "/api/0/sync/status", NULL, &status, &resp) == 0) {
		st = json_loads(resp, 0, &je);
		print_device_errors(st);
		json_decref(st);
		free(resp);
	}
	return rc;
}

static int cmd_round(cli *c, unsigned mode)
{
	const char *mname = mode == AW_SYNC_PUSH ? "push" : mode == AW_SYNC_PULL ? "pull" : "both";
	aw_store *s;
	aw_reader *r;
	aw_sync *y;
	aw_sync_report rep;
	json_t *o;
	char *js;
	int rc;

	if (c->npos)
		return usage_error("%s takes no arguments", c->cmd);
	rc = aws_cli_open_db(c, &s, &r);
	if (rc == AW_EBUSY)
		return node_round(c, mname);
	if (rc)
		return fail("%s", aw_error_last());
	if (make_sync(c, s, &y)) {
		aw_reader_close(r);
		aw_store_close(s);
		return 1;
	}
	aw_sync_run_mode(y, r, mode, &rep);
	js = aw_sync_report_json(&rep);
	o = json_loads(js, 0, NULL);
	if (c->json)
		puts(js);
	free(js);
	rc = c->json ? (rep.status ? 1 : rep.devices_failed ? 3 : 0) : print_report(o);
	json_decref(o);
	if (rc == 3) {
		char *st = aw_sync_status_json(y, r);
		json_t *so = json_loads(st, 0, NULL);
		print_device_errors(so);
		json_decref(so);
		free(st);
	}
	aw_sync_close(y);
	aw_reader_close(r);
	aw_store_close(s);
	return rc;
}

static int cmd_status(cli *c)
{
	aw_reader *r = NULL;
	aw_sync *y;
	char *js;
	json_t *o;

	if (c->npos)
		return usage_error("status takes no arguments");
	/* a read-only connection: works next to a running node */
	if (access(c->db, F_OK) == 0 && aw_reader_open_path(&r, c->db))
		return fail("%s", aw_error_last());
	if (make_sync(c, NULL, &y)) {
		aw_reader_close(r);
		return 1;
	}
	js = aw_sync_status_json(y, r);
	if (c->json) {
		puts(js);
	} else {
		o = json_loads(js, 0, NULL);
		print_status(o);
		json_decref(o);
	}
	free(js);
	aw_sync_close(y);
	aw_reader_close(r);
	return 0;
}

static int cmd_forget(cli *c)
{
	aw_store *s;
	aw_reader *r;
	aw_sync *y = NULL;
	aws_ctx ctx;
	aw_sync_report rep;
	aws_device_state *d = NULL;
	aw_bucket *bk = NULL;
	size_t nb = 0, removed = 0;
	int rc;

	if (c->npos != 1)
		return usage_error("usage: " PROG " forget DEVICE [--undo] (a device id or hostname)");
	rc = aws_cli_open_db(c, &s, &r);
	if (rc == AW_EBUSY)
		return fail("the database %s is in use by a running node: stop it first, then run forget", c->db);
	if (rc)
		return fail("%s", aw_error_last());
	if (make_sync(c, s, &y)) {
		rc = 1;
		goto close_db;
	}
	memset(&rep, 0, sizeof(rep));
	if (aws_ctx_open(&ctx, y, r, &rep)) {
		rc = fail("%s", aw_error_last());
		goto close_sync;
	}
	for (size_t i = 0; i < ctx.st.n_devices && !d; i++)
		if (!strcmp(ctx.st.devices[i].device_id, c->pos[0]))
			d = &ctx.st.devices[i];
	for (size_t i = 0; i < ctx.st.n_devices && !d; i++) {
		aws_device_state *x = &ctx.st.devices[i];
		if (x->hostname && !strcmp(x->hostname, c->pos[0])) {
			for (size_t j = i + 1; j < ctx.st.n_devices; j++)
				if (ctx.st.devices[j].hostname && !strcmp(ctx.st.devices[j].hostname, c->pos[0])) {
					rc = fail("several devices have hostname '%s': give the device id", c->pos[0]);
					goto close_ctx;
				}
			d = x;
		}
	}
	if (!d && aws_valid_device_id(c->pos[0]) && strcmp(c->pos[0], c->dev))
		d = aws_state_device(&ctx.st, c->pos[0], true);
	if (!d) {
		rc = fail("no device '%s' known here (see '" PROG " status')", c->pos[0]);
		goto close_ctx;
	}
	if (c->undo) {
		d->forgotten = false;
		if (aws_state_save(&ctx.st, s)) {
			rc = fail("%s", aw_error_last());
			goto close_ctx;
		}
		printf("device %s will be imported again on the next pull\n", d->device_id);
		rc = 0;
		goto close_ctx;
	}
	if (aw_reader_buckets(&bk, &nb, r, 0)) {
		rc = fail("%s", aw_error_last());
		goto close_ctx;
	}
	for (size_t i = 0; i < nb; i++) {
		aw_write w;
		if (!bk[i].remote_device || strcmp(bk[i].remote_device, d->device_id))
			continue;
		memset(&w, 0, sizeof(w));
		w.kind = AW_W_BUCKET_DELETE;
		w.bucket_id = bk[i].id;
		w.allow_remote = true;
		if (aw_store_write(s, &w)) {
			rc = fail("deleting bucket '%s': %s", bk[i].id, w.error);
			aw_write_clear(&w);
			goto close_ctx;
		}
		aw_write_clear(&w);
		removed++;
	}
	d->forgotten = true;
	d->generation = 0;
	memset(d->head, 0, sizeof(d->head));
	d->events = 0;
	d->segments = 0;
	json_object_clear(d->buckets);
	free(d->error);
	d->error = NULL;
	if (aws_state_save(&ctx.st, s)) {
		rc = fail("%s", aw_error_last());
		goto close_ctx;
	}
	printf("forgot device %s (%s): %zu bucket%s removed; it is no longer imported ('forget --undo' imports it "
	       "again)\n",
	       d->device_id, d->hostname ? d->hostname : "?", removed, removed == 1 ? "" : "s");
	rc = 0;
close_ctx:
	aw_buckets_free(bk, nb);
	aws_ctx_close(&ctx);
close_sync:
	aw_sync_close(y);
close_db:
	aw_reader_close(r);
	aw_store_close(s);
	return rc;
}

static void list_devices(aws_ctx *ctx)
{
	char *dir = aws_fmt("%s/devices", ctx->y->folder);
	DIR *dh = opendir(dir);
	struct dirent *de;

	free(dir);
	fprintf(stderr, "devices in the folder:\n");
	if (!dh)
		return;
	while ((de = readdir(dh))) {
		aws_manifest m;
		unsigned char h[AWS_HASH_BYTES];
		char t[AW_TIME_BUFSZ];
		if (de->d_name[0] == '.' || !aws_valid_device_id(de->d_name))
			continue;
		if (aws_read_manifest(ctx, de->d_name, &m, h) == 0) {
			aws_time_str(t, m.written_at);
			fprintf(stderr, "  %s  %-20s generation %lld, last push %s\n", de->d_name, m.hostname,
				(long long)m.generation, t);
		} else {
			fprintf(stderr, "  %s  (unreadable: %s)\n", de->d_name, aw_error_last());
		}
		aws_manifest_free(&m);
	}
	closedir(dh);
}

static int cmd_restore(cli *c)
{
	aw_store *s;
	aw_reader *r;
	aw_sync *y = NULL;
	aws_ctx ctx;
	aw_sync_report rep;
	aws_remote_info *rem = NULL;
	size_t nrem = 0, nb = 0;
	int64_t nev = 0;
	char *file_id = read_device_file();
	int rc;

	if (c->npos)
		return usage_error("restore takes no arguments (choose the device with --device-id)");
	rc = aws_cli_open_db(c, &s, &r);
	if (rc == AW_EBUSY) {
		free(file_id);
		return fail("the database %s is in use by a running node: stop it, move the database away, then restore",
			    c->db);
	}
	if (rc) {
		free(file_id);
		return fail("%s", aw_error_last());
	}
	if (make_sync(c, s, &y)) {
		rc = 1;
		goto close_db;
	}
	memset(&rep, 0, sizeof(rep));
	if (aws_ctx_open(&ctx, y, r, &rep)) {
		rc = fail("%s", aw_error_last());
		goto close_sync;
	}
	/* bring the folder up to date first */
	if (aws_repo_remotes(ctx.repo, &rem, &nrem) == 0)
		for (size_t i = 0; i < nrem; i++)
			if (aws_repo_pull(ctx.repo, rem[i].name, y->device_id))
				fprintf(stderr, PROG ": warning: %s\n", aw_error_last());
	aws_remotes_free(rem, nrem);
	{
		char *mpath = aws_fmt("%s/devices/%s/" AWS_MANIFEST, y->folder, y->device_id);
		bool present = exists(mpath);
		free(mpath);
		if (!present) {
			rc = fail("device %s has nothing in the sync folder; choose one with --device-id", y->device_id);
			list_devices(&ctx);
			goto close_ctx;
		}
	}
	if (aws_restore(&ctx, y->device_id, &nev, &nb)) {
		rc = fail("%s", aw_error_last());
		goto close_ctx;
	}
	if (!file_id || strcmp(file_id, y->device_id)) {
		if (write_device_file(y->device_id))
			fprintf(stderr, PROG ": warning: %s\n", aw_error_last());
		else
			printf("this device's id is now %s (written to the device_id file)\n", y->device_id);
	}
	printf("restored %zu bucket%s with %lld events of device %s (generation %lld) into %s\n", nb, nb == 1 ? "" : "s",
	       (long long)nev, y->device_id, (long long)ctx.st.push_generation, c->db);
	rc = 0;
close_ctx:
	aws_ctx_close(&ctx);
close_sync:
	aw_sync_close(y);
close_db:
	free(file_id);
	aw_reader_close(r);
	aw_store_close(s);
	return rc;
}

static json_t *inspect_device(aws_ctx *ctx, const char *dev, bool segments)
{
	json_t *o = json_object(), *bks = json_array(), *segs = json_array();
	aws_manifest m;
	unsigned char h[AWS_HASH_BYTES];

	json_object_set_new(o, "device_id", json_string(dev));
	if (aws_read_manifest(ctx, dev, &m, h)) {
		json_object_set_new(o, "error", json_string(aw_error_last()));
		aws_manifest_free(&m);
		json_decref(bks);
		json_decref(segs);
		return o;
	}
	json_object_set_new(o, "hostname", json_string(m.hostname));
	json_object_set_new(o, "generation", json_integer(m.generation));
	json_object_set_new(o, "written_at", json_integer(m.written_at));
	json_object_set_new(o, "software", json_string(m.software));
	for (size_t i = 0; i < m.n_buckets; i++)
		json_array_append_new(bks, json_string(m.buckets[i].id));
	json_object_set_new(o, "buckets", bks);
	if (segments) {
		for (int64_t g = 1; g <= m.generation; g++) {
			aw_buf text = AW_BUF_INIT;
			aws_segment seg;
			json_t *so = json_object(), *blocks = json_array();
			json_object_set_new(so, "generation", json_integer(g));
			if (aws_load_segment(ctx, dev, g, &text, &seg, h)) {
				json_object_set_new(so, "error", json_string(aw_error_last()));
			} else {
				for (size_t i = 0; i < seg.n_blocks; i++)
					json_array_append_new(blocks,
							      json_pack("{s:s, s:b, s:b, s:I, s:I}", "bucket", seg.blocks[i].bucket,
									"reset", seg.blocks[i].reset, "exists", seg.blocks[i].has_meta,
									"puts", (json_int_t)seg.blocks[i].n_puts, "dels",
									(json_int_t)seg.blocks[i].n_dels));
			}
			json_object_set_new(so, "blocks", blocks);
			json_array_append_new(segs, so);
			aws_segment_free(&seg);
			aw_buf_free(&text);
		}
		json_object_set_new(o, "segments", segs);
	} else {
		json_decref(segs);
	}
	aws_manifest_free(&m);
	return o;
}

static int cmd_inspect(cli *c)
{
	aw_sync *y = NULL;
	aws_ctx ctx;
	aw_sync_report rep;
	json_t *out = json_array();
	char *dir;
	DIR *dh;
	struct dirent *de;
	int rc = 0;

	if (c->npos > 1)
		return usage_error("usage: " PROG " inspect [DEVICE] [--segments] [--json]");
	if (make_sync(c, NULL, &y))
		return 1;
	memset(&rep, 0, sizeof(rep));
	if (aws_ctx_open(&ctx, y, NULL, &rep)) {
		rc = fail("%s", aw_error_last());
		aw_sync_close(y);
		json_decref(out);
		return rc;
	}
	if (c->npos) {
		json_array_append_new(out, inspect_device(&ctx, c->pos[0], c->segments));
	} else {
		dir = aws_fmt("%s/devices", y->folder);
		dh = opendir(dir);
		free(dir);
		while (dh && (de = readdir(dh)))
			if (de->d_name[0] != '.' && aws_valid_device_id(de->d_name))
				json_array_append_new(out, inspect_device(&ctx, de->d_name, c->segments));
		if (dh)
			closedir(dh);
	}
	if (c->json) {
		char *s = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s);
		free(s);
	} else {
		size_t i, j;
		json_t *d, *v;
		json_array_foreach(out, i, d) {
			const char *err = json_string_value(json_object_get(d, "error"));
			printf("device %s", json_string_value(json_object_get(d, "device_id")));
			if (err) {
				printf(": %s\n", err);
				continue;
			}
			printf("  %s  generation %lld\n", json_string_value(json_object_get(d, "hostname")),
			       (long long)json_integer_value(json_object_get(d, "generation")));
			json_array_foreach(json_object_get(d, "buckets"), j, v)
				printf("  bucket %s\n", json_string_value(v));
			json_array_foreach(json_object_get(d, "segments"), j, v) {
				size_t k;
				json_t *b;
				printf("  segment %lld%s%s\n", (long long)json_integer_value(json_object_get(v, "generation")),
				       json_object_get(v, "error") ? ": " : "",
				       json_object_get(v, "error") ? json_string_value(json_object_get(v, "error")) : "");
				json_array_foreach(json_object_get(v, "blocks"), k, b)
					printf("    %s%s: %lld puts, %lld dels\n", json_string_value(json_object_get(b, "bucket")),
					       json_is_true(json_object_get(b, "reset")) ? " (deleted first)" : "",
					       (long long)json_integer_value(json_object_get(b, "puts")),
					       (long long)json_integer_value(json_object_get(b, "dels")));
			}
		}
	}
	json_decref(out);
	aws_ctx_close(&ctx);
	aw_sync_close(y);
	return rc;
}

/* ---- entry ------------------------------------------------------------------------------------------ */

int aws_cli_parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || !*v || x < lo || x > hi)
		return usage_error("%s needs a number from %ld to %ld, got '%s'", opt, lo, hi, v);
	*out = x;
	return 0;
}

int aw_sync_cli_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"testing", no_argument, NULL, 't'},       {"dbpath", required_argument, NULL, 'd'},
		{"folder", required_argument, NULL, 'f'},  {"key-file", required_argument, NULL, 'k'},
		{"device-id", required_argument, NULL, 'i'}, {"hostname", required_argument, NULL, 'H'},
		{"config", required_argument, NULL, 'c'},  {"port", required_argument, NULL, 'p'},
		{"passphrase-file", required_argument, NULL, 'P'}, {"remote", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},          {"undo", no_argument, NULL, 'u'},
		{"kdf-ops", required_argument, NULL, 'O'}, {"kdf-mem", required_argument, NULL, 'M'},
		{"segments", no_argument, NULL, 's'},      {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static const struct {
		int ch;
		unsigned bit;
		const char *name;
	} bits[] = {{'t', O_TESTING, "--testing"},     {'d', O_DBPATH, "--dbpath"},  {'f', O_FOLDER, "--folder"},
		    {'k', O_KEYFILE, "--key-file"},    {'i', O_DEVICE, "--device-id"}, {'H', O_HOST, "--hostname"},
		    {'c', O_CONFIG, "--config"},       {'p', O_PORT, "--port"},      {'P', O_PASSFILE, "--passphrase-file"},
		    {'r', O_REMOTE, "--remote"},       {'j', O_JSON, "--json"},      {'u', O_UNDO, "--undo"},
		    {'O', O_KDFOPS, "--kdf-ops"},      {'M', O_KDFMEM, "--kdf-mem"}, {'s', O_SEGMENTS, "--segments"}};
	cli c;
	aw_sync *y = NULL;
	int ci, ch, rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	ci = command_index(argv[1]);
	if (ci < 0)
		return usage_error("unknown command '%s' (see '" PROG " --help')", argv[1]);
	memset(&c, 0, sizeof(c));
	c.cmd = commands[ci].name;
	c.port = -1;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			printf("usage: " PROG " %s %s [options]\n\n%s\n%s", c.cmd, commands[ci].args, commands[ci].help,
			       common_help);
			return 0;
		}
		if (ch == '?' || ch == ':')
			return usage_error("unknown or incomplete option '%s' for '%s' (see '" PROG " %s --help')",
					   (argv + 1)[optind - 1], c.cmd, c.cmd);
		for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
			if (bits[i].ch == ch) {
				if (!(commands[ci].opts & bits[i].bit))
					return usage_error("option %s does not apply to '%s' (see '" PROG " %s --help')",
							   bits[i].name, c.cmd, c.cmd);
				c.seen |= bits[i].bit;
			}
		switch (ch) {
		case 't': c.testing = true; break;
		case 'd': c.dbpath = optarg; break;
		case 'f': c.folder = optarg; break;
		case 'k': c.key_file = optarg; break;
		case 'i': c.device_id = optarg; break;
		case 'H': c.hostname = optarg; break;
		case 'c': c.config = optarg; break;
		case 'P': c.passfile = optarg; break;
		case 'r': c.remote = optarg; break;
		case 'j': c.json = true; break;
		case 'u': c.undo = true; break;
		case 's': c.segments = true; break;
		case 'p':
			if (aws_cli_parse_long("--port", optarg, 1, 65535, &c.port))
				return 2;
			break;
		case 'O':
			if (aws_cli_parse_long("--kdf-ops", optarg, 1, (long)AWS_KDF_OPS_MAX, &c.kdf_ops))
				return 2;
			break;
		case 'M':
			if (aws_cli_parse_long("--kdf-mem", optarg, 8, (long)(AWS_KDF_MEM_MAX >> 20), &c.kdf_mem))
				return 2;
			break;
		default: break;
		}
	}
	c.pos = argv + 1 + optind;
	c.npos = argc - 1 - optind;
	if (c.npos && c.pos[0][0] == '-' && c.pos[0][1])
		return usage_error("unknown option '%s'", c.pos[0]);
	aws_cli_resolve(&c);
	if ((rc = aws_cli_resolve_device(&c, strcmp(c.cmd, "restore") != 0)))
		goto out;
	if (!c.dev) {
		rc = usage_error("no device id: this installation has none yet; pass --device-id (see '" PROG
				 " inspect' for the devices in the folder)");
		goto out;
	}
	if (!strcmp(c.cmd, "push"))
		rc = cmd_round(&c, AW_SYNC_PUSH);
	else if (!strcmp(c.cmd, "pull"))
		rc = cmd_round(&c, AW_SYNC_PULL);
	else if (!strcmp(c.cmd, "run"))
		rc = cmd_round(&c, AW_SYNC_BOTH);
	else if (!strcmp(c.cmd, "status"))
		rc = cmd_status(&c);
	else if (!strcmp(c.cmd, "forget"))
		rc = cmd_forget(&c);
	else if (!strcmp(c.cmd, "restore"))
		rc = cmd_restore(&c);
	else if (!strcmp(c.cmd, "inspect"))
		rc = cmd_inspect(&c);
	else if ((rc = make_sync(&c, NULL, &y)) == 0) {
		if (!strcmp(c.cmd, "init"))
			rc = cmd_init(&c, y);
		else if (!strcmp(c.cmd, "join"))
			rc = cmd_join(&c, y);
		else
			rc = cmd_remote(&c, y);
	}
out:
	aw_sync_close(y);
	free(c.cfg_folder);
	free(c.cfg_key);
	free(c.cfg_ssh);
	if (c.api_key)
		sodium_memzero(c.api_key, strlen(c.api_key));
	free(c.api_key);
	free(c.dev);
	free(c.host);
	free(c.db);
	return rc;
}
