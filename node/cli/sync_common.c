/*
 * What `awnode sync` and `awnode archive` share (declared in sync_cli.h): one option
 * parser for both commands, the configuration and device id as the node reads them,
 * the passphrase, the database, and requests to a running node through cli.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "aw/buf.h"
#include "aw/config.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/mem.h"
#include "cli.h"
#include "sync_cli.h"

int sync_cli_fail(const sync_cli *c, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ---- the command line ---------------------------------------------------------------- */

/* A number option in [lo, hi]; 2 after printing the problem. */
static int parse_long(sync_cli *c, const char *opt, const char *v, long lo, long hi, long *out)
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

/* YYYY-MM-DD (midnight UTC) or an ISO 8601 time into *out, setting *have; 2 after
 * printing the problem. */
static int date_opt(sync_cli *c, const char *opt, const char *v, aw_ns *out, bool *have)
{
	unsigned y, m, d;
	char tail;

	if (sscanf(v, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && strlen(v) == 10 && m >= 1 && m <= 12 && d >= 1 &&
	    d <= 31) {
		*out = aw_days_from_civil(y, m, d) * 86400 * AW_NS_PER_SEC;
	} else if (aw_time_parse(out, v, strlen(v), AW_TIME_RELAXED)) {
		return usage_error("%s needs a date (YYYY-MM-DD) or an ISO 8601 time, got '%s'", opt, v);
	}
	*have = true;
	return 0;
}

static const struct option long_opts[] = {
	{"testing", no_argument, NULL, 't'},        {"dbpath", required_argument, NULL, 'd'},
	{"folder", required_argument, NULL, 'f'},   {"key-file", required_argument, NULL, 'k'},
	{"device-id", required_argument, NULL, 'i'}, {"hostname", required_argument, NULL, 'H'},
	{"config", required_argument, NULL, 'c'},   {"port", required_argument, NULL, 'p'},
	{"passphrase-file", required_argument, NULL, 'P'}, {"remote", required_argument, NULL, 'r'},
	{"json", no_argument, NULL, 'j'},           {"undo", no_argument, NULL, 'u'},
	{"kdf-ops", required_argument, NULL, 'O'},  {"kdf-mem", required_argument, NULL, 'M'},
	{"segments", no_argument, NULL, 's'},       {"dir", required_argument, NULL, 'D'},
	{"before", required_argument, NULL, 'b'},   {"older-than", required_argument, NULL, 'o'},
	{"bucket", required_argument, NULL, 'B'},   {"from", required_argument, NULL, 'F'},
	{"to", required_argument, NULL, 'T'},       {"allow-missing", no_argument, NULL, 'A'},
	{"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};

static const struct {
	int ch;
	unsigned bit;
} opt_bits[] = {{'t', O_TESTING}, {'d', O_DBPATH},  {'f', O_FOLDER},   {'k', O_KEYFILE}, {'i', O_DEVICE},
		{'H', O_HOST},    {'c', O_CONFIG},  {'p', O_PORT},     {'P', O_PASSFILE}, {'r', O_REMOTE},
		{'j', O_JSON},    {'u', O_UNDO},    {'O', O_KDFOPS},   {'M', O_KDFMEM},  {'s', O_SEGMENTS},
		{'D', O_DIR},     {'b', O_BEFORE},  {'o', O_OLDER},    {'B', O_BUCKET},  {'F', O_FROM},
		{'T', O_TO},      {'A', O_MISSING}};

static unsigned opt_bit(int ch)
{
	for (size_t i = 0; i < sizeof(opt_bits) / sizeof(opt_bits[0]); i++)
		if (opt_bits[i].ch == ch)
			return opt_bits[i].bit;
	return 0;
}

static const char *opt_name(int ch)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == ch)
			return o->name;
	return "?";
}

/* An option this command does not know: for `awnode sync` (c->cmd set) one it knows but
 * that does not apply to the command is named as such. */
static int bad_option(sync_cli *c, const char *arg, unsigned bit, unsigned known, int ch)
{
	if (!c->cmd)
		return usage_error("unknown or incomplete option '%s' (see '%s --help')", arg, c->prog);
	if (bit & known)
		return usage_error("option --%s does not apply to '%s' (see '%s %s --help')", opt_name(ch), c->cmd,
				   c->prog, c->cmd);
	return usage_error("unknown or incomplete option '%s' for '%s' (see '%s %s --help')", arg, c->cmd, c->prog,
			   c->cmd);
}

int sync_cli_parse(sync_cli *c, int argc, char **argv, unsigned known, unsigned allowed, const sync_cli_limits *lim,
		   bool *help)
{
	int ch;

	*help = false;
	c->port = -1;
	c->older_than = -1;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		unsigned bit = opt_bit(ch);
		if (ch == 'h') {
			*help = true;
			return 0;
		}
		if (ch == '?' || ch == ':')
			return bad_option(c, argv[optind - 1], 0, known, ch);
		if (!(bit & allowed)) {
			/* not argv[optind - 1]: that may be the option's argument */
			char shown[64];
			snprintf(shown, sizeof(shown), "--%s", opt_name(ch));
			return bad_option(c, shown, bit, known, ch);
		}
		switch (ch) {
		case 't': c->testing = true; break;
		case 'd': c->dbpath = optarg; break;
		case 'f': c->folder = optarg; break;
		case 'k': c->key_file = optarg; break;
		case 'i': c->device_id = optarg; break;
		case 'H': c->hostname = optarg; break;
		case 'c': c->config = optarg; break;
		case 'P': c->passfile = optarg; break;
		case 'r': c->remote = optarg; break;
		case 'j': c->json = true; break;
		case 'u': c->undo = true; break;
		case 's': c->segments = true; break;
		case 'D': c->dir = optarg; break;
		case 'A': c->allow_missing = true; break;
		case 'p': if (parse_long(c, "--port", optarg, 1, 65535, &c->port)) return 2; break;
		case 'O': if (parse_long(c, "--kdf-ops", optarg, 1, lim->kdf_ops_max, &c->kdf_ops)) return 2; break;
		case 'M': if (parse_long(c, "--kdf-mem", optarg, 8, lim->kdf_mem_max, &c->kdf_mem)) return 2; break;
		case 'o': if (parse_long(c, "--older-than", optarg, 0, 100000, &c->older_than)) return 2; break;
		case 'b': if (date_opt(c, "--before", optarg, &c->before, &c->have_before)) return 2; break;
		case 'F': if (date_opt(c, "--from", optarg, &c->from, &c->have_from)) return 2; break;
		case 'T': if (date_opt(c, "--to", optarg, &c->to, &c->have_to)) return 2; break;
		case 'B':
			if (c->n_buckets == SYNC_CLI_MAX_BUCKETS)
				return usage_error("at most %d --bucket options", SYNC_CLI_MAX_BUCKETS);
			c->buckets[c->n_buckets++] = optarg;
			break;
		default: break;
		}
	}
	c->pos = argv + optind;
	c->npos = argc - optind;
	return 0;
}

/* ---- configuration and identity --------------------------------------------------------- */

static char *device_file_path(void)
{
	char *dir = aw_files_dir(AW_DIR_DATA), *path;

	path = aw_mem_printf("%s/device_id", dir);
	free(dir);
	return path;
}

int sync_cli_write_device_file(const char *id)
{
	char *path = device_file_path();
	int rc = aw_files_write(path, id, strlen(id), 0644, AW_FILES_DURABLE);

	free(path);
	return rc;
}

bool sync_cli_device_file_is(const char *id)
{
	char *path = device_file_path(), *text = NULL;
	size_t len = 0;
	bool same = false;

	if (aw_files_read(&text, &len, path, 4096) == 0) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
			text[--len] = '\0';
		same = !strcmp(text, id);
	}
	free(text);
	free(path);
	return same;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

int sync_cli_resolve(sync_cli *c, bool create)
{
	/* The node's own loader reads the configuration and the device_id file (creating
	 * it with a new id when missing). When no id may be created, an explicit
	 * --device-id keeps it from doing so, and the id is then taken from the file only
	 * if there is one. */
	char *argv[8] = {"serve"}, *devfile = device_file_path();
	bool have_file = access(devfile, F_OK) == 0;
	int argc = 1, rc = 0;
	aw_config cfg;

	free(devfile);
	if (c->device_id && !aw_sync_valid_device_id(c->device_id))
		return usage_error("bad --device-id '%s' (letters, digits, '-', '_', '.'; at most 64)", c->device_id);
	if (c->testing)
		argv[argc++] = "--testing";
	if (c->config) {
		argv[argc++] = "--config";
		argv[argc++] = (char *)c->config;
	}
	if (c->device_id || (!have_file && !create)) {
		argv[argc++] = "--device-id";
		argv[argc++] = c->device_id ? (char *)c->device_id : "-";
	}
	if (aw_config_load(&cfg, argc, argv)) {
		aw_config_free(&cfg);
		return fail("cannot read the configuration");
	}
	c->cfg_port = cfg.port;
	c->api_key = dup_or_null(cfg.api_key);
	c->cfg_folder = dup_or_null(cfg.sync_folder);
	c->cfg_key = dup_or_null(cfg.sync_key_file);
	c->cfg_ssh = dup_or_null(cfg.sync_ssh_key);
	c->cfg_compact = cfg.sync_compact_segments;
	c->host = strdup(c->hostname ? c->hostname : cfg.hostname);
	c->db = cli_db_path(c->dbpath, c->testing);
	if (c->device_id || have_file || create) {
		c->dev = strdup(cfg.device_id);
		if (!c->device_id && !aw_sync_valid_device_id(c->dev))
			rc = fail("the device_id file holds an invalid id '%s'", c->dev);
	}
	if (cfg.api_key)
		sodium_memzero(cfg.api_key, strlen(cfg.api_key));
	aw_config_free(&cfg);
	return rc;
}

void sync_cli_free(sync_cli *c)
{
	free(c->cfg_folder);
	free(c->cfg_key);
	free(c->cfg_ssh);
	if (c->api_key)
		sodium_memzero(c->api_key, strlen(c->api_key));
	free(c->api_key);
	free(c->dev);
	free(c->host);
	free(c->db);
}

/* ---- passphrase -------------------------------------------------------------------------- */

/* Ask on the terminal without echo; NULL without a terminal. Caller frees with
 * sync_cli_free_pass. */
static char *prompt(const char *what)
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
		res = strdup(buf);
	}
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	sodium_memzero(buf, sizeof(buf));
	return res;
}

char *sync_cli_passphrase(sync_cli *c, bool confirm, const char *env_name, const char *label)
{
	const char *env = getenv(env_name);
	char *p = NULL, what[64];

	if (c->passfile) {
		char *text;
		size_t len;
		if (aw_files_read(&text, &len, c->passfile, SIZE_MAX - 1)) {
			fail("--passphrase-file: %s", aw_error_last());
			return NULL;
		}
		text[strcspn(text, "\r\n")] = '\0';
		p = strdup(text);
		sodium_memzero(text, len);
		free(text);
	} else if (env && *env) {
		p = strdup(env);
	} else if (isatty(STDIN_FILENO)) {
		snprintf(what, sizeof(what), "%s passphrase: ", label);
		p = prompt(what);
		if (p && confirm) {
			char *again = prompt("Repeat the passphrase: ");
			bool same = again && !strcmp(again, p);
			sync_cli_free_pass(again);
			if (!same) {
				sync_cli_free_pass(p);
				fail("the passphrases differ");
				return NULL;
			}
		}
	} else {
		fail("no passphrase: use --passphrase-file FILE or set %s (stdin is not a terminal)", env_name);
		return NULL;
	}
	if (!p || !*p) {
		fail("the passphrase is empty");
		sync_cli_free_pass(p);
		return NULL;
	}
	return p;
}

void sync_cli_free_pass(char *p)
{
	if (p) {
		sodium_memzero(p, strlen(p));
		free(p);
	}
}

/* ---- the database, the sync context and the node --------------------------------------------- */

int sync_cli_open_all(sync_cli *c, aw_store **s, aw_reader **r, aw_sync **y)
{
	aw_store_options so;
	int rc;

	*s = NULL;
	*r = NULL;
	if (y)
		*y = NULL;
	memset(&so, 0, sizeof(so));
	if ((rc = aw_store_open(s, c->db, &so)) == 0 && (rc = aw_reader_open(r, *s))) {
		aw_store_close(*s);
		*s = NULL;
	}
	if (rc == AW_EBUSY)
		return rc;
	if (rc)
		return fail("%s", aw_error_last());
	if (y && sync_cli_open_sync(c, *s, y)) {
		sync_cli_close(*s, *r, NULL);
		*s = NULL;
		*r = NULL;
		return 1;
	}
	return 0;
}

void sync_cli_close(aw_store *s, aw_reader *r, aw_sync *y)
{
	aw_sync_close(y);
	aw_reader_close(r);
	aw_store_close(s);
}

int sync_cli_open_sync(sync_cli *c, aw_store *s, aw_sync **y)
{
	aw_sync_options o;

	memset(&o, 0, sizeof(o));
	o.device_id = c->dev;
	o.hostname = c->host;
	o.folder = c->folder ? c->folder : c->cfg_folder;
	o.key_path = c->key_file ? c->key_file : c->cfg_key;
	o.ssh_key = c->cfg_ssh;
	o.compact_segments = c->cfg_compact;
	o.testing = c->testing;
	if (aw_sync_open(y, s, &o))
		return fail("%s", aw_error_last());
	return 0;
}

int sync_cli_http(sync_cli *c, const char *method, const char *path, const char *body, int *status, char **resp)
{
	long port = c->port >= 0 ? c->port : c->cfg_port, st = 0;
	aw_buf out = AW_BUF_INIT;

	*status = 0;
	*resp = NULL;
	/* a round or an archiving run may take long; 15 minutes is "no answer" */
	if (cli_node_request((int)port, c->api_key, method, path, body, 900, &out, &st)) {
		aw_buf_free(&out);
		return aw_error_set(AW_ERROR, "no node answers on 127.0.0.1:%ld", port);
	}
	*status = (int)st;
	*resp = out.data ? aw_buf_steal(&out, NULL) : strdup("");
	return 0;
}

void sync_cli_print_json(const sync_cli *c, char *js, void (*print)(json_t *doc))
{
	if (c->json) {
		puts(js);
	} else {
		json_t *o = json_loads(js, 0, NULL);
		print(o);
		json_decref(o);
	}
	free(js);
}

const char *sync_cli_json_message(json_t *o)
{
	const char *m = json_string_value(json_object_get(o, "message"));

	if (!m)
		m = json_string_value(json_object_get(json_object_get(o, "error"), "description"));
	return m;
}
