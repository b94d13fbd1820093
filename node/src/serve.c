/*
 * aw_server_run: the node's life from start to clean stop (see aw/server.h). The
 * order of the stops matters: sync rounds and archive runs wait on the storage writer,
 * which must outlive them; the reader threads go before the store closes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_service.h"
#include "device_names.h"
#include "aw/error.h"
#include "aw/files.h"
#include "aw/log.h"
#include "aw/server.h"
#include "aw/storage.h"
#include "http.h"
#include "server.h"
#include "sync_service.h"

int aw_server_run(aw_config *cfg)
{
	node n;
	aw_store_options so;
	char *log_path = NULL;
	int rc;

	if (aw_files_mkdir_p(cfg->state_dir, 0700) == 0 &&
	    asprintf(&log_path, "%s/%s", cfg->state_dir, cfg->testing ? "awnode-testing.log" : "awnode.log") < 0)
		log_path = NULL;
	aw_log_open(log_path, cfg->verbose ? AW_LOG_DEBUG : AW_LOG_INFO);
	free(log_path);

	memset(&n, 0, sizeof(n));
	n.cfg = cfg;
	pthread_mutex_init(&n.done_mu, NULL);
	memset(&so, 0, sizeof(so));
	so.sync_normal = cfg->sync_normal;
	so.batch_done = node_batch_done;
	so.batch_ctx = &n;
	rc = 1;
	if (pipeline_init(&n))
		goto out;
	if (aw_store_open(&n.store, cfg->db_path, &so)) {
		fprintf(stderr, "awnode: %s\n", aw_error_last());
		goto out;
	}
	if (device_names_record(n.store, cfg->hostname))
		aw_log_warn("could not record this device's hostname: %s", aw_error_last());
	if (sync_service_start(&n.sync, &n)) {
		fprintf(stderr, "awnode: sync: %s\n", aw_error_last());
		aw_store_close(n.store);
		goto out;
	}
	archive_service_start(&n.archive, &n);
	workers_start(&n.pool, &n, cfg->reader_threads);
	rc = server_run(&n) ? 1 : 0;
	archive_service_stop(n.archive);
	sync_service_stop(n.sync);
	workers_stop(n.pool);
	aw_store_close(n.store);
	if (rc == 0)
		aw_log_info("stopped cleanly");
out:
	pipeline_free(&n);
	pthread_mutex_destroy(&n.done_mu);
	aw_log_close();
	return rc;
}
