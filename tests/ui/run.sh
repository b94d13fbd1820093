#!/bin/sh
# Browser tests of the web UI: playwright-core drives Debian's chromium against a real
# awnode. Builds nothing: run after building (the binary and build/webui must exist).
# usage: [AWNODE_BIN=build/bin/awnode] [AWNODE_WEBPATH=build/webui] [AW_SHARED=../shared] tests/ui/run.sh
set -e
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
: "${AWNODE_BIN:=build/bin/awnode}"
export AWNODE_BIN
[ -x "$AWNODE_BIN" ] || { echo "tests/ui: no awnode binary at $AWNODE_BIN (build first or set AWNODE_BIN)" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "tests/ui: node and npm are needed (apt-get install nodejs npm)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { echo "tests/ui: chromium is needed at ${CHROMIUM:-/usr/bin/chromium} (apt-get install chromium)" >&2; exit 1; }
cd "$here"
# install playwright-core only when node_modules is missing or older than the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
rm -rf artifacts
exec node --test --test-concurrency=1 --test-reporter=spec "$@" ui.test.mjs devices.test.mjs identity.test.mjs search.test.mjs reports.test.mjs merge.test.mjs polish.test.mjs builder.test.mjs filters.test.mjs timeline_hours.test.mjs timeline_edit.test.mjs activity_periods.test.mjs activity_views.test.mjs alerts.test.mjs i18n.test.mjs sweep.test.mjs watchers.test.mjs bench.test.mjs
