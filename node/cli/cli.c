/* Helpers shared by the commands of the awnode binary (see cli.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/buf.h"
#include "aw/client.h"
#include "aw/config.h"
#include "aw/files.h"
#include "aw/mem.h"
#include "cli.h"

char *cli_db_path(const char *dbpath, bool testing)
{
	char *dir, *path;

	if (dbpath)
		return strdup(dbpath);
	dir = aw_files_dir(AW_DIR_DATA);
	aw_files_mkdir_p(dir, 0700);
	path = aw_mem_printf("%s/%s", dir, testing ? "awnode-testing.db" : "awnode.db");
	free(dir);
	return path;
}

int cli_node_port(int port, bool testing, char **api_key)
{
	char *argv[] = {"serve", "--testing", NULL};
	aw_config cfg;

	*api_key = NULL;
	memset(&cfg, 0, sizeof(cfg));
	if (aw_config_load(&cfg, testing ? 2 : 1, argv) == 0) {
		if (port < 0)
			port = cfg.port;
		if (cfg.api_key && *cfg.api_key)
			*api_key = strdup(cfg.api_key);
	}
	aw_config_free(&cfg);
	return port >= 0 ? port : testing ? 5666 : 5600;
}

int cli_post_json(int port, const char *api_key, const char *path, const char *body, long timeout_s, aw_buf *out,
		  long *status)
{
	return cli_node_request(port, api_key, "POST", path, body, timeout_s, out, status);
}

int cli_node_request(int port, const char *api_key, const char *method, const char *path, const char *body,
		     long timeout_s, aw_buf *out, long *status)
{
	aw_client_options o;
	aw_client *c;
	char *resp = NULL;
	int st = 0, rc;

	*status = 0;
	aw_client_options_init(&o);
	o.client_name = "awnode-cli";
	o.no_queue = 1;
	o.port = port;
	o.api_key = api_key;
	/* no limit asked: a long import still ends; a day is "none" for a CLI */
	o.timeout_ms = (timeout_s > 0 ? timeout_s : 86400) * 1000;
	if (aw_client_new(&c, &o) != AW_OK)
		return -1;
	rc = aw_client_request(&resp, &st, c, method, path, body);
	if (rc == AW_OK) {
		*status = st;
		if (resp)
			aw_buf_append(out, resp, strlen(resp));
	}
	aw_client_free_string(resp);
	aw_client_free(c);
	return rc == AW_OK ? 0 : -1;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *opts)
{
	static char **started;
	int ch;

	if (argv != started) {
		started = argv;
		optind = 1;
		opterr = 0;
	}
	ch = getopt_long(argc, argv, shortopts, opts, NULL);
	if (ch == '?' || ch == ':')
		fprintf(stderr, "awnode %s: unknown or incomplete option '%s' (see --help)\n", argv[0], argv[optind - 1]);
	return ch;
}
