/* `awnode archive`: move old events into an encrypted archive and back. */
#include "aw/archive.h"
#include "cli.h"

int cmd_archive(int argc, char **argv)
{
	return aw_archive_cli_main(argc, argv);
}
