/* `awnode query`: run a query file against the local database or a running node. */
#include "aw/query.h"
#include "cli.h"

int cmd_query(int argc, char **argv)
{
	return aw_query_cli_main(argc, argv);
}
