/*
 * awnode: one binary, several subcommands. `serve` runs the node; the other
 * subcommands are tools around the same database and folders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/config.h"
#include "aw/files.h"
#include "aw/storage.h"
#include "cli.h"
#include "http.h"
#include "aw/log.h"
#include "server.h"
#include "archive_service.h"
#include "sync_service.h"
#include "aw/archive.h"
#include "aw/sync.h"
#ifdef AW_HAVE_SUPERVISOR
#include "aw/supervisor.h"
#endif
#ifdef AW_HAVE_QUERY
#include "aw/query.h"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"usage: awnode <command> [options]\n"
		"\n"
		"A fast, private ActivityWatch-compatible activity tracker node.\n"
		"\n"
		"commands:\n"
		"  serve      run the node (REST API, query API, web UI)\n"
#ifdef AW_HAVE_SUPERVISOR
		"  start      run the node and the default watchers, supervised\n"
		"  status     show what awnode start runs (state, pid, uptime, pauses)\n"
		"  pause      stop a watcher until resumed, or for a while (--for 15m)\n"
		"  resume     start a paused watcher again\n"
#endif
		"  redact     apply a privacy rule to stored events\n"
		"  export     write an export document of one or all buckets\n"
		"  import     import an export document, or ActivityWatch's database\n"
		"  sync       encrypted sync through a git folder (init, join, push, pull, status, ...)\n"
		"  archive    move old events into an encrypted archive (list, restore, init)\n"
#ifdef AW_HAVE_QUERY
		"  query      run a query file against the local database or a running node\n"
#endif
		"\n"
		"Run 'awnode <command> --help' for the options of a command.\n"
		"  -h, --help     this help\n"
		"  --version      print the version\n");
}

static int cmd_serve(int argc, char **argv)
{
	aw_config cfg;
	node n;
	aw_store_options so;
	char *log_path = NULL;
	int rc = aw_config_load(&cfg, argc, argv);

	if (rc) {
		aw_config_free(&cfg);
		return rc > 0 ? 0 : 2;
	}
	if (aw_files_mkdir_p(cfg.state_dir, 0700) == 0 &&
	    asprintf(&log_path, "%s/%s", cfg.state_dir, cfg.testing ? "awnode-testing.log" : "awnode.log") < 0)
		log_path = NULL;
	aw_log_open(log_path, cfg.verbose ? AW_LOG_DEBUG : AW_LOG_INFO);
	free(log_path);

	memset(&n, 0, sizeof(n));
	n.cfg = &cfg;
	pthread_mutex_init(&n.done_mu, NULL);
	memset(&so, 0, sizeof(so));
	so.sync_normal = cfg.sync_normal;
	rc = 1;
	if (pipeline_init(&n))
		goto out;
	if (aw_store_open(&n.store, cfg.db_path, &so)) {
		fprintf(stderr, "awnode: %s\n", aw_error_last());
		goto out;
	}
	if (sync_service_start(&n.sync, &n)) {
		fprintf(stderr, "awnode: sync: %s\n", aw_error_last());
		aw_store_close(n.store);
		goto out;
	}
	archive_service_start(&n.archive, &n);
	workers_start(&n.pool, &n, cfg.reader_threads);
	rc = server_run(&n) ? 1 : 0;
	/* Order matters: sync rounds and archive runs wait on the writer, which must
	 * outlive them. */
	archive_service_stop(n.archive);
	sync_service_stop(n.sync);
	workers_stop(n.pool);
	aw_store_close(n.store);
	if (rc == 0)
		aw_log_info("stopped cleanly");
out:
	pipeline_free(&n);
	pthread_mutex_destroy(&n.done_mu);
	aw_config_free(&cfg);
	aw_log_close();
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("awnode %s\n", AWNODE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		return cmd_serve(argc - 1, argv + 1);
#ifdef AW_HAVE_SUPERVISOR
	if (!strcmp(argv[1], "start"))
		return aw_supervisor_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pause"))
		return cmd_pause(argc - 1, argv + 1);
	if (!strcmp(argv[1], "resume"))
		return cmd_resume(argc - 1, argv + 1);
#endif
	if (!strcmp(argv[1], "redact"))
		return cmd_redact(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sync"))
		return aw_sync_cli_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "archive"))
		return aw_archive_cli_main(argc - 1, argv + 1);
#ifdef AW_HAVE_QUERY
	if (!strcmp(argv[1], "query"))
		return aw_query_cli_main(argc - 1, argv + 1);
#endif
	fprintf(stderr, "awnode: unknown command '%s' (see awnode --help)\n", argv[1]);
	return 2;
}
