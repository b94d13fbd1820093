#!/bin/sh
# A device syncing for a long time: a running node, ROUNDS sync rounds of 30 window
# events each (POST /api/0/sync/now, as the node's timer does every 5 minutes), a plain
# bare repository on a path as the remote that nobody else maintains. Prints figures;
# not a test.
#
#   tests/bench/sync_years_bench.sh [ROUNDS] [EVERY]   (defaults 2000 and 1000; a year of
#                                                     5-minute rounds is about 105,000)
#
# Every EVERY rounds: bytes per event of the remote and of the local folder, packs and
# loose objects in both, and the p50/p95 of the round time over those rounds. At the
# end: what the remote stores per round, by kind of object (segments and packs, trees,
# commits, pack indexes); then a new device joins and imports everything (wall time of `awnode sync join` and of
# the first pull, which imports the whole history). "files" is the number of files the
# device's directory holds in the folder's tree, "spacks" the device's sync packs
# (docs/sync-format.md §7a); AWNODE_COMPACT_SEGMENTS=N sets [sync] compact_segments;
# AWNODE_BENCH_ROTATE=1 ends with `awnode sync rotate` (the move to a new key epoch)
# and a pull on the new device.
exec python3 "$(dirname "$0")/sync_years.py" "$@"
