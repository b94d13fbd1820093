/*
 * Configuration for `awnode serve`: defaults, then the config file, then flags.
 *
 * The config file uses aw-server-rust's keys (address, port, cors, cors_regex,
 * [auth] api_key, [custom_static]) so a user can copy theirs over, plus awnode's own
 * (max_body_bytes, [storage]). Like aw-server-rust, a missing file is created holding
 * the defaults commented out, and testing mode reads config-testing.toml so a testing
 * node never takes the normal node's port.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aw/config.h"
#include "aw/conf.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/log.h"
#include "aw/mem.h"
#include "aw/storage.h"

#define DEFAULT_BODY_LIMIT (64u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode serve [options]\n"
		"\n"
		"Run the node: the ActivityWatch-compatible REST API and the web UI.\n"
		"\n"
		"options:\n"
		"  --testing              testing mode: port 5666, awnode-testing.db, config-testing.toml\n"
		"  --verbose              debug logging\n"
		"  --host ADDR            address to bind (default 127.0.0.1)\n"
		"  --port N               port (default 5600, 5666 with --testing)\n"
		"  --dbpath PATH          database file (default $XDG_DATA_HOME/awnode/awnode.db)\n"
		"  -c, --config PATH      config file (default $XDG_CONFIG_HOME/awnode/config.toml)\n"
		"  --webpath DIR          serve the web UI from DIR (e.g. ActivityWatch's aw-webui dist/)\n"
		"  --custom-static N=DIR[,N2=DIR2]  extra static directories served at /pages/N/\n"
		"  --device-id ID         override the stored device id\n"
		"  --hostname NAME        this device's hostname (default: the system's)\n"
		"  --no-legacy-import     accepted for compatibility; awnode imports only on request\n"
		"  -h, --help             this help\n");
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
	return 0;
}

/* "~/x" as $HOME/x (in a static buffer, copied by the caller). */
static const char *expand_home(const char *p)
{
	static char buf[4096];
	const char *home = getenv("HOME");

	if (p[0] != '~' || p[1] != '/' || !home)
		return p;
	snprintf(buf, sizeof(buf), "%s%s", home, p + 1);
	return buf;
}

static void add_static(aw_config *c, const char *name, const char *path)
{
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		aw_log_error("custom static directory '%s' for '%s' does not exist; ignored", path, name);
		return;
	}
	for (size_t i = 0; i < c->n_statics; i++) {
		if (!strcmp(c->statics[i].name, name)) {
			set_str(&c->statics[i].path, path);
			return;
		}
	}
	c->statics = aw_mem_realloc(c->statics, (c->n_statics + 1) * sizeof(*c->statics));
	c->statics[c->n_statics].name = strdup(name);
	c->statics[c->n_statics].path = strdup(path);
	c->n_statics++;
}

static int string_list(const aw_toml_key *kv, char ***out, size_t *n, char *err, size_t errlen)
{
	const aw_toml_value *v = &kv->v;

	if (v->type != AW_TOML_ARRAY)
		goto bad;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].type != AW_TOML_STRING)
			goto bad;
	for (size_t i = 0; i < v->n; i++) {
		*out = aw_mem_realloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = strdup(v->items[i].s);
	}
	return 0;
bad:
	snprintf(err, errlen, "line %d: '%s' must be a list of strings", kv->line, kv->key);
	return -1;
}

static int want(const aw_toml_key *kv, int type, const char *what, char *err, size_t errlen)
{
	if (kv->v.type == type)
		return 0;
	snprintf(err, errlen, "line %d: '%s' must be %s", kv->line, kv->key, what);
	return -1;
}

/* An integer in [lo, hi] into *out; range_msg completes "line N: " when it is outside. */
static int want_int(const aw_toml_key *kv, const char *what, long long lo, long long hi, const char *range_msg,
		    int *out, char *err, size_t errlen)
{
	if (want(kv, AW_TOML_INT, what, err, errlen))
		return -1;
	if (kv->v.i < lo || kv->v.i > hi) {
		snprintf(err, errlen, "line %d: %s", kv->line, range_msg);
		return -1;
	}
	*out = (int)kv->v.i;
	return 0;
}

static int apply_kv(aw_config *c, const aw_toml_key *kv, char *err, size_t errlen)
{
	const char *t = kv->table, *k = kv->key;
	const aw_toml_value *v = &kv->v;

	if (!*t && !strcmp(k, "address")) {
		if (want(kv, AW_TOML_STRING, "a string", err, errlen))
			return -1;
		return set_str(&c->address, v->s);
	}
	if (!*t && !strcmp(k, "port"))
		return want_int(kv, "an integer", 0, 65535, "port must be 0-65535", &c->port, err, errlen);
	if (!*t && !strcmp(k, "cors"))
		return string_list(kv, &c->cors, &c->n_cors, err, errlen);
	if (!*t && !strcmp(k, "cors_regex"))
		return string_list(kv, &c->cors_regex, &c->n_cors_regex, err, errlen);
	if (!*t && !strcmp(k, "max_body_bytes")) {
		if (want(kv, AW_TOML_INT, "an integer", err, errlen))
			return -1;
		if (v->i < 1024) {
			snprintf(err, errlen, "line %d: max_body_bytes must be at least 1024", kv->line);
			return -1;
		}
		c->max_body_bytes = (size_t)v->i;
		return 0;
	}
	if (!strcmp(t, "auth") && !strcmp(k, "api_key")) {
		if (want(kv, AW_TOML_STRING, "a string", err, errlen))
			return -1;
		return set_str(&c->api_key, v->s);
	}
	if (!strcmp(t, "custom_static")) {
		if (want(kv, AW_TOML_STRING, "a string (a directory path)", err, errlen))
			return -1;
		add_static(c, k, v->s);
		return 0;
	}
	if (!strcmp(t, "storage") && !strcmp(k, "synchronous")) {
		if (want(kv, AW_TOML_STRING, "\"full\" or \"normal\"", err, errlen))
			return -1;
		if (strcmp(v->s, "full") && strcmp(v->s, "normal")) {
			snprintf(err, errlen, "line %d: synchronous must be \"full\" or \"normal\"", kv->line);
			return -1;
		}
		c->sync_normal = !strcmp(v->s, "normal");
		return 0;
	}
	if (!strcmp(t, "sync") && !strcmp(k, "enabled")) {
		if (want(kv, AW_TOML_BOOL, "true or false", err, errlen))
			return -1;
		c->sync_enabled = v->i != 0;
		return 0;
	}
	if (!strcmp(t, "sync") && !strcmp(k, "interval"))
		return want_int(kv, "an integer (seconds)", 10, 86400 * 7, "[sync] interval must be 10 to 604800 seconds",
				&c->sync_interval, err, errlen);
	if (!strcmp(t, "sync") && !strcmp(k, "compact_segments"))
		return want_int(kv, "an integer (segments)", 16, 1000000, "[sync] compact_segments must be 16 to 1000000",
				&c->sync_compact_segments, err, errlen);
	if (!strcmp(t, "sync") && (!strcmp(k, "folder") || !strcmp(k, "key_file") || !strcmp(k, "ssh_key"))) {
		char **dst = !strcmp(k, "folder") ? &c->sync_folder : !strcmp(k, "key_file") ? &c->sync_key_file
											 : &c->sync_ssh_key;
		if (want(kv, AW_TOML_STRING, "a string (a path)", err, errlen))
			return -1;
		return set_str(dst, expand_home(v->s));
	}
	if (!strcmp(t, "archive") && !strcmp(k, "older_than_days"))
		return want_int(kv, "an integer (days)", 0, 100000, "[archive] older_than_days must be 0 (off) to 100000",
				&c->archive_older_than_days, err, errlen);
	/* Unknown keys are ignored, as serde does for aw-server-rust's config, so a config
	 * written for another version still starts. Sections of later features live here. */
	return 0;
}

static const char default_config[] =
	"### DEFAULT SETTINGS ###\n"
	"#address = \"127.0.0.1\"\n"
	"#port = %d\n"
	"#cors = []\n"
	"#cors_regex = []\n"
	"#max_body_bytes = 67108864\n"
	"#\n"
	"#[auth]\n"
	"#api_key = \"\"\n"
	"#\n"
	"#[custom_static]\n"
	"#aw-watcher-example = \"/path/to/visualization\"\n"
	"#\n"
	"#[storage]\n"
	"#synchronous = \"full\"\n"
	"#\n"
	"#[sync]\n"
	"#enabled = true\n"
	"#interval = 300\n"
	"#folder = \"~/.local/share/awnode/sync\"\n"
	"#compact_segments = 1024\n"
	"#\n"
	"#[archive]\n"
	"#older_than_days = 0\n";

static int read_config_file(aw_config *c)
{
	char err[256], *text;
	aw_toml_doc doc;
	int rc = aw_conf_read(&doc, c->config_path);

	if (rc == AW_ENOTFOUND) {
		/* like aw-server-rust: a missing file is created with the defaults commented out */
		text = aw_mem_printf(default_config, c->testing ? 5666 : 5600);
		aw_files_write(c->config_path, text, strlen(text), 0644, AW_FILES_CREATE);
		free(text);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "awnode: %s\n", aw_error_last());
		return -1;
	}
	for (size_t i = 0; i < doc.n; i++) {
		if (apply_kv(c, &doc.keys[i], err, sizeof(err))) {
			aw_toml_free(&doc);
			fprintf(stderr, "awnode: config %s: %s\n", c->config_path, err);
			return -1;
		}
	}
	aw_toml_free(&doc);
	return 0;
}

/* The device id: a UUIDv4 created on first start, kept in data_dir/device_id. */
static char *load_device_id(const char *data_dir)
{
	char path[PATH_MAX], buf[64] = {0};
	unsigned char r[16];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/device_id", data_dir);
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			buf[--n] = '\0';
		if (n > 0)
			return strdup(buf);
	}
	fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	close(fd);
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(buf, sizeof(buf),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd >= 0) {
		if (write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf))
			aw_log_warn("could not write %s", path);
		fsync(fd);
		close(fd);
	}
	return strdup(buf);
}

/* A directory shipped beside the binary: build tree build/bin/awnode -> build/<name>;
 * installed <bindir>/awnode -> <datadir>/awnode/<name> (AW_SHARE_FROM_BIN is the second
 * relative to the first, from the install layout the build was configured with). */
static char *find_beside_binary(const char *name)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct stat st;

	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/../%s", exe, name);
		if (!stat(cand, &st) && S_ISDIR(st.st_mode))
			return realpath(cand, NULL);
		snprintf(cand, sizeof(cand), "%s/" AW_SHARE_FROM_BIN "/%s", exe, name);
		if (!stat(cand, &st) && S_ISDIR(st.st_mode))
			return realpath(cand, NULL);
	}
	return NULL;
}

static char hostname_or_unknown(char *buf, size_t len)
{
	if (gethostname(buf, len) != 0 || !buf[0])
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
	return buf[0];
}

int aw_config_load(aw_config *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"testing", no_argument, NULL, 't'},   {"verbose", no_argument, NULL, 'v'},
		{"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
		{"dbpath", required_argument, NULL, 'd'}, {"config", required_argument, NULL, 'c'},
		{"webpath", required_argument, NULL, 'w'}, {"custom-static", required_argument, NULL, 's'},
		{"device-id", required_argument, NULL, 'i'}, {"no-legacy-import", no_argument, NULL, 'n'},
		{"hostname", required_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0}};
	char *host = NULL, *dbpath = NULL, *config = NULL, *webpath = NULL, *statics = NULL,
	     *device = NULL, *hostname = NULL, *end, hn[256];
	long port = -1;
	int ch, rc = -1;

	memset(c, 0, sizeof(*c));
	c->max_body_bytes = DEFAULT_BODY_LIMIT;
	c->reader_threads = 2;
	c->sync_enabled = true;
	c->sync_interval = 300;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 't': c->testing = true; break;
		case 'v': c->verbose = true; break;
		case 'H': host = optarg; break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || *end || port < 0 || port > 65535) {
				fprintf(stderr, "awnode: --port needs a number from 0 to 65535, got '%s'\n", optarg);
				return -1;
			}
			break;
		case 'd': dbpath = optarg; break;
		case 'c': config = optarg; break;
		case 'w': webpath = optarg; break;
		case 's': statics = optarg; break;
		case 'i': device = optarg; break;
		case 'N': hostname = optarg; break;
		case 'n': break;
		case 'h': usage(stdout); return 1;
		default:
			fprintf(stderr, "awnode serve: unknown or incomplete option '%s' (see awnode serve --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "awnode serve: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}

	c->address = strdup("127.0.0.1");
	c->port = c->testing ? 5666 : 5600;
	{
		char *cfg_dir = aw_files_dir(AW_DIR_CONFIG);
		if (config)
			c->config_path = strdup(config);
		else
			c->config_path = aw_mem_printf("%s/%s", cfg_dir, c->testing ? "config-testing.toml" : "config.toml");
		free(cfg_dir);
	}
	if (read_config_file(c))
		goto out;
	if (host)
		set_str(&c->address, host);
	if (port >= 0)
		c->port = (int)port;
	if (statics) {
		char *list = strdup(statics), *save = NULL;
		for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(item, '=');
			if (!eq || eq == item || !eq[1]) {
				fprintf(stderr, "awnode: --custom-static needs name=/path, got '%s'\n", item);
				free(list);
				goto out;
			}
			*eq = '\0';
			add_static(c, item, eq + 1);
		}
		free(list);
	}

	c->data_dir = aw_files_dir(AW_DIR_DATA);
	c->state_dir = aw_files_dir(AW_DIR_STATE);
	if (aw_files_mkdir_p(c->data_dir, 0700)) {
		fprintf(stderr, "awnode: cannot create data directory %s: %s\n", c->data_dir, strerror(errno));
		goto out;
	}
	if (dbpath)
		c->db_path = strdup(dbpath);
	else
		c->db_path = aw_mem_printf("%s/%s", c->data_dir, c->testing ? "awnode-testing.db" : "awnode.db");
	if (webpath) {
		c->webpath = realpath(webpath, NULL);
		if (!c->webpath) {
			fprintf(stderr, "awnode: --webpath %s: %s\n", webpath, strerror(errno));
			goto out;
		}
	} else {
		c->webpath = find_beside_binary("webui");
	}
	c->apidocs = find_beside_binary("apidocs");
	c->device_id = device ? strdup(device) : load_device_id(c->data_dir);
	if (!c->device_id) {
		fprintf(stderr, "awnode: cannot create a device id in %s\n", c->data_dir);
		goto out;
	}
	if (hostname && !hostname[0]) {
		fprintf(stderr, "awnode serve: --hostname needs a name\n");
		goto out;
	}
	if (!hostname) {
		hostname_or_unknown(hn, sizeof(hn));
		hostname = hn;
	}
	c->hostname = strdup(hostname);
	rc = 0;
out:
	return rc;
}

void aw_config_free(aw_config *c)
{
	free(c->address);
	aw_strings_free(c->cors, c->n_cors);
	aw_strings_free(c->cors_regex, c->n_cors_regex);
	free(c->api_key);
	for (size_t i = 0; i < c->n_statics; i++) {
		free(c->statics[i].name);
		free(c->statics[i].path);
	}
	free(c->statics);
	free(c->config_path);
	free(c->data_dir);
	free(c->state_dir);
	free(c->db_path);
	free(c->webpath);
	free(c->apidocs);
	free(c->device_id);
	free(c->hostname);
	free(c->sync_folder);
	free(c->sync_key_file);
	free(c->sync_ssh_key);
	memset(c, 0, sizeof(*c));
}
