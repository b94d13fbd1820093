/* `awnode serve`: read the configuration (defaults, config file, flags) and run the
 * node until it is stopped. */
#include "aw/config.h"
#include "aw/server.h"
#include "cli.h"

int cmd_serve(int argc, char **argv)
{
	aw_config cfg;
	int rc = aw_config_load(&cfg, argc, argv);

	if (rc == 0)
		rc = aw_server_run(&cfg);
	else
		rc = rc > 0 ? 0 : 2;
	aw_config_free(&cfg);
	return rc;
}
