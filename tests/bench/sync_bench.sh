#!/bin/bash
# Sync benchmarks, with the shared 365-day data set. Prints figures;
# not a test. Two devices on loopback, a bare git repository as the remote.
#
#   tests/bench/sync_bench.sh [DAYS]      (default 365: 281k events, 38 MB of JSON)
#
# Measures: first push of the whole year (target <= 3 s), incremental push of one more
# day (<= 100 ms), full import of the year on another node (<= 3 s), the size of the
# remote and of the sync folder per year of data. Each push/pull figure is the round's
# own time ("seconds" of `awnode sync ... --json`) and the wall time of the command
# (process start, opening the database, key and folder included).
set -euo pipefail
PORT=${PORT:-5793}
. "$(dirname "$0")/lib.sh"
export AWNODE_SYNC_PASSPHRASE="benchmark passphrase, long enough"

SYNC=("$BIN" sync)

dev() { # dev A|B cmd... : run with device A's or B's XDG directories
  local d=$1; shift
  XDG_DATA_HOME=$TMP/$d/data XDG_CONFIG_HOME=$TMP/$d/config XDG_STATE_HOME=$TMP/$d/state "$@"
}
start_node() {
  if curl -sf "$URL/api/0/info" >/dev/null; then echo "port $PORT is taken (set PORT)" >&2; exit 1; fi
  XDG_DATA_HOME=$TMP/$1/data XDG_CONFIG_HOME=$TMP/$1/config XDG_STATE_HOME=$TMP/$1/state \
    "$BIN" serve --testing --port "$PORT" >"$TMP/$1.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do curl -sf "$URL/api/0/info" >/dev/null && return; sleep 0.05; done
  echo "node did not start" >&2; cat "$TMP/$1.log" >&2; exit 1
}
stop_node() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
import() {
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"$1" "$URL/api/0/import")
  [ "$code" = 200 ] || { echo "import failed: HTTP $code" >&2; exit 1; }
}
round() { # round A|B push|pull -> "<round seconds> s (wall <seconds> s), <report>"
  local t0 t1 out
  t0=$(date +%s.%N)
  out=$(dev "$1" "${SYNC[@]}" "$2" --testing --json)
  t1=$(date +%s.%N)
  python3 - "$out" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["status"] == "ok", r
if r["pushed"]:
    what = "%d events exported" % r["events_exported"]
elif r["segments_applied"]:
    what = "%d events applied from %d segments" % (r["events_applied"], r["segments_applied"])
else:
    what = "nothing new"
print("%.3f s (wall %.3f s), %s" % (r["seconds"], float(sys.argv[2]), what))
PY
}

echo "generating $DAYS days of data (+1 day)..."
python3 "$SHARED/gen_data.py" --days "$DAYS" --host bench >"$TMP/year.json"
python3 "$SHARED/gen_data.py" --days 1 --host bench --seed 7 \
  --start "$(python3 -c "import datetime as d; print((d.datetime(2025,1,6)+d.timedelta(days=$DAYS)).isoformat()+'+00:00')")" \
  >"$TMP/day.json"
EVENTS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(b['events']) for b in d['buckets'].values()))" "$TMP/year.json")
echo "data set: $EVENTS events, $(du -m "$TMP/year.json" | cut -f1) MB of JSON"

git init -q --bare "$TMP/remote.git"
start_node A
import "$TMP/year.json"
stop_node
dev A "${SYNC[@]}" init --testing --remote "$TMP/remote.git" >/dev/null
echo "first push (whole data set):      $(round A push)"

start_node A
import "$TMP/day.json"
stop_node
echo "incremental push (one more day):  $(round A push)"
echo "push with nothing new:            $(round A push)"

dev B "${SYNC[@]}" join --testing "$TMP/remote.git" >/dev/null
echo "full import on another node:      $(round B pull)"
echo "pull with nothing new:            $(round B pull)"

REMOTE=$(du -sk "$TMP/remote.git" | cut -f1)
FOLDER=$(du -sk "$TMP/A/data/awnode/sync-testing" | cut -f1)
python3 - "$REMOTE" "$FOLDER" "$EVENTS" "$DAYS" <<'PY'
import sys
remote, folder, events, days = (int(x) for x in sys.argv[1:])
per_year = remote * 365 / days
print("repository size: remote %.1f MB, sync folder (work tree + .git) %.1f MB; %.1f bytes/event; %.1f MB per year of data"
      % (remote / 1024, folder / 1024, remote * 1024 / events, per_year / 1024))
PY
