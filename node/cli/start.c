/* `awnode start`: run the node and the default watchers, supervised (supervisor/). */
#include "cli.h"
#include "supervisor.h"

int cmd_start(int argc, char **argv)
{
	return supervisor_main(argc, argv);
}
