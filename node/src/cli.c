/* Helpers shared by the CLI subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aw/config.h"
#include "cli.h"

char *cli_db_path(const char *dbpath, bool testing)
{
	char *dir, *path;

	if (dbpath)
		return strdup(dbpath);
	dir = aw_xdg_dir("XDG_DATA_HOME", ".local/share", "awnode");
	aw_mkdir_p(dir, 0700);
	if (asprintf(&path, "%s/%s", dir, testing ? "awnode-testing.db" : "awnode.db") < 0)
		abort();
	free(dir);
	return path;
}
