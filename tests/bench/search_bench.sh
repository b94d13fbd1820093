#!/bin/sh
# Search page benchmark: imports the 365-day data set (shared/bench/gen_data.py) into a
# fresh awnode and times searches typed into the Search page in Chromium (first matches on
# screen, whole year searched; median of N runs per query). Prints one JSON line.
# usage: [AWNODE_BIN=build/bin/awnode] tests/bench/search_bench.sh [runs]
set -e
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo/tests/ui"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
cd "$repo"
exec node tests/bench/search_bench.mjs "$@"
