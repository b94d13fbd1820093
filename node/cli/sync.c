/* `awnode sync`: encrypted sync through a git folder. */
#include "aw/sync.h"
#include "cli.h"

int cmd_sync(int argc, char **argv)
{
	return aw_sync_cli_main(argc, argv);
}
