# Sourced by the benchmark scripts: the paths, the data-set size and a scratch
# directory removed on exit (killing the node in $PID, if one runs). Set PORT before
# sourcing; $1 of the script is the number of days of data (default 365: 281k events).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
BIN=${AWNODE_BIN:-$ROOT/build/bin/awnode}
DAYS=${1:-365}
URL=http://127.0.0.1:$PORT
TMP=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; wait 2>/dev/null || true; rm -rf "$TMP"' EXIT
