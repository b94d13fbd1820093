/*
 * aw-sync-cli: `awnode sync` as a binary of its own (the same code; used by the tests
 * and benchmarks until, and besides, the node dispatches `awnode sync`).
 */
#include "aw/sync.h"

int main(int argc, char **argv)
{
	static char name[] = "sync";

	argv[0] = name;
	return aw_sync_cli_main(argc, argv);
}
