#!/bin/sh
# Web UI benchmark: imports the 365-day data set (shared/bench/gen_data.py) into a fresh
# awnode and measures the Activity year view in Chromium (first meaningful paint and bar
# chart, Performance API; median of N cold page loads). Prints one JSON line.
# usage: [AWNODE_BIN=build/bin/awnode] tests/bench/webui_bench.sh [runs]
set -e
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo/tests/ui"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
cd "$repo"
exec node tests/bench/webui_bench.mjs "$@"
