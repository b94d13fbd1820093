/* Shared watcher helpers: see wcommon.h (logging, option and config values, text,
 * hostname, clocks, signals, then the config file readers). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aw/conf.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/log.h"
#include "wcommon.h"

static const char *g_prog = "aw-watcher";
static int g_verbose;

void watcher_log_init(const char *prog, int verbose)
{
	g_prog = prog;
	g_verbose = verbose;
}

const char *watcher_prog(void)
{
	return g_prog;
}

void watcher_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};
	va_list ap;

	if (level == AW_CLIENT_LOG_DEBUG && !g_verbose)
		return;
	va_start(ap, fmt);
	aw_log_stderr_v(g_prog, names[level < 0 || level > 3 ? 0 : level], fmt, ap);
	va_end(ap);
}

void watcher_client_log(void *ud, int level, const char *msg)
{
	(void)ud;
	watcher_log(level, "%s", msg);
}

void die_line(const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", g_prog, msg);
}

/* ---- config files ---------------------------------------------------------------- */

int parse_seconds(const char *s, double *out)
{
	char *e;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &e);
	if (errno || *e || !isfinite(v) || v <= 0 || v > 1e6)
		return -1;
	*out = v;
	return 0;
}

int parse_port(const char *s, int *out)
{
	char *e;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno || *e || v < 1 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- text ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0;
		if (c == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

char *utf8_clean(const char *in, size_t n, size_t max_bytes)
{
	static const char repl[] = "\xEF\xBF\xBD", ell[] = "\xE2\x80\xA6";
	const unsigned char *p = (const unsigned char *)in, *end;
	size_t o = 0, cut;
	char *out;

	if (max_bytes < 8)
		max_bytes = 8;
	end = memchr(p, '\0', n);
	if (end)
		n = (size_t)(end - p);
	end = p + n;
	out = malloc(n * 3 + 4);
	if (!out)
		return NULL;
	while (p < end) {
		size_t l = utf8_seq(p, (size_t)(end - p));

		if (l == 0) {
			memcpy(out + o, repl, 3);
			o += 3;
			p++;
		} else if (l == 1 && (*p < 0x20 || *p == 0x7f)) {
			out[o++] = ' ';
			p++;
		} else {
			memcpy(out + o, p, l);
			o += l;
			p += l;
		}
	}
	if (o > max_bytes) {
		/* cut at a character boundary, leaving room for the ellipsis */
		cut = max_bytes - 3;
		while (cut > 0 && ((unsigned char)out[cut] & 0xC0) == 0x80)
			cut--;
		memcpy(out + cut, ell, 3);
		o = cut + 3;
	}
	out[o] = '\0';
	return out;
}

char *latin1_to_utf8(const char *in, size_t n, size_t max_bytes)
{
	char *tmp = malloc(n * 2 + 1), *r;
	size_t o = 0;

	if (!tmp)
		return NULL;
	for (size_t i = 0; i < n && in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x80) {
			tmp[o++] = (char)c;
		} else {
			tmp[o++] = (char)(0xC0 | (c >> 6));
			tmp[o++] = (char)(0x80 | (c & 0x3F));
		}
	}
	r = utf8_clean(tmp, o, max_bytes);
	free(tmp);
	return r;
}

void host_name(char *buf, size_t len)
{
	char *clean;

	if (gethostname(buf, len) != 0 || !buf[0])
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
	/* like the node: a hostname that is not valid UTF-8 is "unknown" */
	clean = utf8_clean(buf, strlen(buf), len - 1);
	if (!clean || strcmp(clean, buf))
		snprintf(buf, len, "unknown");
	free(clean);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts))
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t boot_ns(void)
{
#ifdef CLOCK_BOOTTIME
	return clock_ns(CLOCK_BOOTTIME);
#else
	return clock_ns(CLOCK_MONOTONIC);
#endif
}

/* ---- signals --------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;
static aw_client *volatile g_client;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_client)
		aw_client_interrupt(g_client);
}

void signals_init(aw_client *c)
{
	struct sigaction sa;

	g_client = c;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int stopping(void)
{
	return g_stop;
}

/* ---- watcher config files ---------------------------------------------------------- */

int conf_load(watcher_conf *c, const char *name, int testing, const char *default_text)
{
	char file[160];
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(c->table, sizeof(c->table), "%s%s", name, testing ? "-testing" : "");
	snprintf(file, sizeof(file), "%s.toml", name);
	c->path = aw_files_config_path(file);
	if (default_text)
		aw_files_write(c->path, default_text, strlen(default_text), 0644, AW_FILES_CREATE);
	r = aw_conf_read(&c->doc, c->path);
	if (r == AW_ENOTFOUND)
		return 0;
	if (r) {
		die_line("%s", aw_error_last());
		conf_free(c);
		return -1;
	}
	return 0;
}

void conf_free(watcher_conf *c)
{
	aw_toml_free(&c->doc);
	free(c->path);
	c->path = NULL;
}

static const aw_toml_key *conf_find(const watcher_conf *c, const char *key)
{
	const aw_toml_key *top = NULL;

	for (size_t i = 0; i < c->doc.n; i++) {
		const aw_toml_key *k = &c->doc.keys[i];

		if (strcmp(k->key, key))
			continue;
		if (!strcmp(k->table, c->table))
			return k;
		if (!k->table[0])
			top = k;
	}
	return top;
}

void conf_warn_unknown(const watcher_conf *c, const char *const *known)
{
	for (size_t i = 0; i < c->doc.n; i++) {
		const aw_toml_key *k = &c->doc.keys[i];
		int ok = 0;

		if (k->table[0] && strcmp(k->table, c->table))
			continue;
		for (const char *const *p = known; *p && !ok; p++)
			ok = !strcmp(*p, k->key);
		if (!ok)
			watcher_log(AW_CLIENT_LOG_WARN, "config %s line %d: unknown key '%s' ignored", c->path, k->line,
				k->key);
	}
}

static int bad(const watcher_conf *c, const aw_toml_key *k, const char *want)
{
	char shown[80];

	if (k->v.type == AW_TOML_STRING)
		snprintf(shown, sizeof(shown), "\"%.60s\"", k->v.s);
	else if (k->v.type == AW_TOML_INT)
		snprintf(shown, sizeof(shown), "%lld", k->v.i);
	else if (k->v.type == AW_TOML_FLOAT)
		snprintf(shown, sizeof(shown), "%g", k->v.f);
	else if (k->v.type == AW_TOML_BOOL)
		snprintf(shown, sizeof(shown), "%s", k->v.i ? "true" : "false");
	else
		snprintf(shown, sizeof(shown), "an array");
	die_line("config %s line %d: %s must be %s, got %s", c->path, k->line, k->key, want, shown);
	return -1;
}

int conf_seconds(const watcher_conf *c, const char *key, double *out)
{
	const aw_toml_key *k = conf_find(c, key);

	if (!k)
		return 0;
	if ((k->v.type != AW_TOML_INT && k->v.type != AW_TOML_FLOAT) || !isfinite(k->v.f) || k->v.f <= 0 ||
	    k->v.f > 1e6)
		return bad(c, k, "a number of seconds > 0 (at most 1000000)");
	*out = k->v.f;
	return 1;
}

int conf_port(const watcher_conf *c, const char *key, int *out)
{
	const aw_toml_key *k = conf_find(c, key);

	if (!k)
		return 0;
	if (k->v.type != AW_TOML_INT || k->v.i < 1 || k->v.i > 65535)
		return bad(c, k, "an integer from 1 to 65535");
	*out = (int)k->v.i;
	return 1;
}

int conf_bool(const watcher_conf *c, const char *key, int *out)
{
	const aw_toml_key *k = conf_find(c, key);

	if (!k)
		return 0;
	if (k->v.type != AW_TOML_BOOL)
		return bad(c, k, "true or false");
	*out = (int)k->v.i;
	return 1;
}

int conf_string(const watcher_conf *c, const char *key, char **out)
{
	const aw_toml_key *k = conf_find(c, key);

	if (!k)
		return 0;
	if (k->v.type != AW_TOML_STRING || !k->v.s[0])
		return bad(c, k, "a non-empty string");
	free(*out);
	*out = strdup(k->v.s);
	return 1;
}

int conf_strings(const watcher_conf *c, const char *key, char ***out, size_t *n)
{
	const aw_toml_key *k = conf_find(c, key);
	char **v;

	if (!k)
		return 0;
	if (k->v.type != AW_TOML_ARRAY)
		return bad(c, k, "an array of strings");
	for (size_t i = 0; i < k->v.n; i++)
		if (k->v.items[i].type != AW_TOML_STRING)
			return bad(c, k, "an array of strings");
	v = calloc(k->v.n + 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < k->v.n; i++)
		v[i] = strdup(k->v.items[i].s);
	*out = v;
	*n = k->v.n;
	return 1;
}
