/* Scratch directories for unit tests (see tmpdir.h). */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tmpdir.h"

char *test_tmpdir(void)
{
	char *dir = strdup("/tmp/awnode-test-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	return dir;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int test_rmtree(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

int test_tmpdir_remove(char *dir)
{
	int rc = dir ? test_rmtree(dir) : 0;

	free(dir);
	return rc;
}

char *test_tmpdir_xdg(void)
{
	static const char *const vars[][2] = {{"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"},
					      {"XDG_STATE_HOME", "state"}, {"XDG_CACHE_HOME", "cache"}};
	char *dir = test_tmpdir(), path[256];

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, vars[i][1]);
		setenv(vars[i][0], path, 1);
	}
	return dir;
}
