#!/bin/bash
# Every headline performance figure in one table, each next to its goal, on data
# generated on the spot (the shared generator, so figures compare with other servers).
# Prints figures; never part of the test suite's pass/fail.
#
#   tests/bench/all.sh [DAYS] [--ten-years]     (default 365 days: 281k events)
#
# What it runs, in this order, on a fresh node with its own XDG directories:
#   1. idle RSS of a node just started on an empty database;
#   2. POST /api/0/import of the whole data set: seconds and the node's peak RSS;
#   3. bytes per event on disk (database + WAL after a checkpoint);
#   4. the web UI's Activity summary query over a day, a month (median of 3) and the
#      year (one cold run), on a freshly restarted node (cold caches);
#   5. heartbeats: wrk, 2 threads x 32 keep-alive connections, 10 s; requests/s and p99;
#   6. the same while another client runs the year query back to back: p99;
#   7. a full GET /api/0/export; then the node's peak RSS over everything above;
#   8. with --ten-years: `awnode import FILE` of a 3,650-day export into a new database
#      (seconds and peak RSS of the command), the year query over the same first year
#      inside that history, and its bytes per event.
# The goals are the project's own, for a 2-core machine; the durability every heartbeat
# keeps meanwhile is docs/storage.md's.
set -euo pipefail
TEN=0
ARGS=()
for a in "$@"; do
  case $a in
    --ten-years) TEN=1 ;;
    *) ARGS+=("$a") ;;
  esac
done
set -- "${ARGS[@]+"${ARGS[@]}"}"
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
. "$(dirname "$0")/lib.sh"
export XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config XDG_STATE_HOME=$TMP/state XDG_CACHE_HOME=$TMP/cache
for tool in curl wrk python3; do
  command -v $tool >/dev/null || { echo "all.sh: $tool is needed (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -f "$SHARED/gen_data.py" ] || { echo "all.sh: $SHARED/gen_data.py not found (set SHARED)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "all.sh: $BIN not found (build first, or set AWNODE_BIN)" >&2; exit 1; }

ROWS=$TMP/rows
: >"$ROWS"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$ROWS"; echo "  $1: $2"; }
kb() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$PID/status"; }
mb() { awk -v v="$1" 'BEGIN {printf "%.0f MB", v / 1024}'; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }

start_node() {
  "$BIN" serve --testing --port "$PORT" --dbpath "$1" >>"$TMP/node.log" 2>&1 &
  PID=$!
  for _ in $(seq 200); do curl -sf "$URL/api/0/info" >/dev/null && return; sleep 0.05; done
  echo "all.sh: the node did not start" >&2; cat "$TMP/node.log" >&2; exit 1
}
stop_node() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
disk_bytes_per_event() { # $1 = database (node stopped), $2 = events
  python3 - "$1" "$2" <<'PY'
import os, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
size = sum(os.path.getsize(p) for p in (db, db + "-wal") if os.path.exists(p))
print(f"{size / n:.1f}")
PY
}
json_field() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 'n/a'))" "$1" "$2"; }
ms() { awk -v s="$1" 'BEGIN {printf "%.1f ms", s * 1000}'; }
wrk_field() { # $1 = wrk output file, $2 = Requests/sec | 99%
  if [ "$2" = "99%" ]; then awk '$1 == "99%" {print $2}' "$1"; else awk '$1 == "Requests/sec:" {printf "%.0f/s", $2}' "$1"; fi
}

echo "== generating $DAYS days of data"
python3 "$SHARED/gen_data.py" --days "$DAYS" --host bench >"$TMP/data.json"
EVENTS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(b['events']) for b in d['buckets'].values()))" "$TMP/data.json")
echo "   $EVENTS events, $(du -m "$TMP/data.json" | cut -f1) MB"
DB=$TMP/bench.db

echo "== node: idle, import, disk"
start_node "$DB"
sleep 1
row "idle RSS" "$(mb "$(kb VmRSS)")" "<= 10 MB"
T0=$(now)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$TMP/data.json" "$URL/api/0/import")
T1=$(now)
[ "$code" = 200 ] || { echo "all.sh: import answered HTTP $code" >&2; exit 1; }
row "import of $DAYS days (POST /api/0/import)" "$(secs "$T0" "$T1") s" "<= 1.0 s"
row "peak RSS during the import" "$(mb "$(kb VmHWM)")" "<= 64 MB"
stop_node
row "bytes per event on disk" "$(disk_bytes_per_event "$DB" "$EVENTS") B" "<= 40 B"

echo "== summary query (cold node)"
start_node "$DB"
Q=$(AW_URL=$URL python3 "$SHARED/query_bench.py" "$TMP/data.json" bench --no-import)
row "summary query, day" "$(ms "$(json_field "$Q" day_s)")" "<= 3 ms"
row "summary query, month" "$(ms "$(json_field "$Q" month_s)")" "<= 15 ms"
row "summary query, year (cold)" "$(ms "$(json_field "$Q" year_s)")" "<= 100 ms"
YEAR1=$(json_field "$Q" year_s)

echo "== heartbeats"
bash "$SHARED/heartbeat_bench.sh" "$URL" 2 32 10 >"$TMP/hb.txt"
row "heartbeats, 2 threads x 32 connections" "$(wrk_field "$TMP/hb.txt" Requests/sec)" ">= 50,000/s"
row "heartbeat p99" "$(wrk_field "$TMP/hb.txt" 99%)" "<= 5 ms"
AW_URL=$URL python3 "$SHARED/query_bench.py" "$TMP/data.json" bench --no-import --loop-year 12 >"$TMP/loop.txt" &
LOOP=$!
sleep 0.5
bash "$SHARED/heartbeat_bench.sh" "$URL" 2 32 10 >"$TMP/hbq.txt"
wait "$LOOP" || true
row "heartbeats while the year query loops" "$(wrk_field "$TMP/hbq.txt" Requests/sec)" "(keep)"
row "heartbeat p99 while the year query loops" "$(wrk_field "$TMP/hbq.txt" 99%)" "<= 10 ms"

echo "== export"
T0=$(now)
curl -s -o "$TMP/export.json" "$URL/api/0/export"
T1=$(now)
row "full export ($(du -m "$TMP/export.json" | cut -f1) MB)" "$(secs "$T0" "$T1") s" "-"
row "peak RSS after import, queries, heartbeats, export" "$(mb "$(kb VmHWM)")" "<= 64 MB"
stop_node
rm -f "$TMP/export.json"

if [ "$TEN" = 1 ]; then
  echo "== ten years"
  python3 "$SHARED/gen_data.py" --days 3650 --host bench >"$TMP/ten.json"
  TEN_EVENTS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(b['events']) for b in d['buckets'].values()))" "$TMP/ten.json")
  TDB=$TMP/ten.db
  # seconds and peak RSS (KiB) of the command, from the kernel's accounting of the child
  read -r tsec tkb < <(python3 -c 'import resource, subprocess, sys, time
t = time.monotonic(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print("%.2f %d" % (time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))' \
    "$BIN" import "$TMP/ten.json" --dbpath "$TDB")
  row "awnode import FILE, ten years ($TEN_EVENTS events)" "$tsec s" "<= 10 s"
  row "peak RSS of that import" "$(mb "$tkb")" "<= 64 MB"
  row "bytes per event on disk, ten years" "$(disk_bytes_per_event "$TDB" "$TEN_EVENTS") B" "<= 40 B"
  start_node "$TDB"
  Q=$(AW_URL=$URL python3 "$SHARED/query_bench.py" "$TMP/ten.json" bench --no-import)
  YEAR10=$(json_field "$Q" year_s)
  row "summary query, the same year in ten years (cold)" "$(ms "$YEAR10")" \
    "within 10 % of one year's ($(ms "$YEAR1"))"
  stop_node
  rm -f "$TMP/ten.json"
fi

echo
echo "$("$BIN" --version 2>/dev/null | head -1), $(nproc) cores, $DAYS days ($EVENTS events)"
awk -F'\t' 'BEGIN {printf "%-52s %-16s %s\n", "figure", "measured", "goal"}
            {printf "%-52s %-16s %s\n", $1, $2, $3}' "$ROWS"
