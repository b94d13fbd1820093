#!/bin/bash
# Node benchmarks, on loopback with the shared data set and scripts in ../shared/bench
# (outside this repository) so figures compare with other servers. Prints figures; not a test.
#
#   tests/bench/node_bench.sh [DAYS]      (default 365: 281k events, 38 MB)
#
# Measures: idle RSS; import time and peak RSS; bytes per event on disk; heartbeat
# throughput and latency with 32 keep-alive connections (every heartbeat durable,
# synchronous=FULL); heartbeat p99 while full exports run back to back.
set -euo pipefail
PORT=${PORT:-5791}
. "$(dirname "$0")/lib.sh"
export XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config XDG_STATE_HOME=$TMP/state

start_node() {
  "$BIN" serve --testing --port "$PORT" --dbpath "$TMP/bench.db" >"$TMP/node.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -sf "$URL/api/0/info" >/dev/null && return; sleep 0.05; done
  echo "node did not start" >&2; cat "$TMP/node.log" >&2; exit 1
}
rss() { awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$PID/status; }
hwm() { awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$PID/status; }

echo "generating $DAYS days of data..."
python3 "$SHARED/gen_data.py" --days "$DAYS" --host bench >"$TMP/data.json"
EVENTS=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(b['events']) for b in d['buckets'].values()))" "$TMP/data.json")
echo "data set: $EVENTS events, $(du -m "$TMP/data.json" | cut -f1) MB"

start_node
sleep 1
echo "idle RSS after start: $(rss)"

T0=$(date +%s.%N)
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$TMP/data.json" "$URL/api/0/import")
T1=$(date +%s.%N)
echo "import: HTTP $code in $(echo "$T1 - $T0" | bc) s; peak RSS $(hwm), RSS after $(rss)"

T0=$(date +%s.%N)
curl -s -o "$TMP/export.json" "$URL/api/0/export"
T1=$(date +%s.%N)
echo "full export: $(du -m "$TMP/export.json" | cut -f1) MB in $(echo "$T1 - $T0" | bc) s"

kill -TERM $PID; wait $PID || true
python3 - "$TMP/bench.db" "$EVENTS" <<'PY'
import os, sqlite3, sys
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
size = os.path.getsize(db) + (os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0)
print(f"disk: {size/1e6:.1f} MB for {n} events = {size/n:.1f} bytes/event")
PY

# AW_WRITE_TRACE: the writer and the HTTP loop log where a write's time goes, every
# 5 s (docs/storage.md, "Where a write's time goes")
AW_WRITE_TRACE=1 start_node
echo "heartbeats, 2 threads x 32 connections, 10 s (each answered after commit):"
bash "$SHARED/heartbeat_bench.sh" "$URL" 2 32 10
echo "where the time went (means per batch and per wake-up of the loop, 5 s windows):"
grep -E "writer: |batching: |http loop: " "$TMP/node.log" | sed 's/^.*\] /  /'

echo "heartbeats while full exports run back to back:"
( end=$((SECONDS + 11)); n=0
  while [ $SECONDS -lt $end ]; do curl -s -o /dev/null "$URL/api/0/export"; n=$((n+1)); done
  echo "  exports completed meanwhile: $n" ) &
EXP=$!
sleep 0.5
bash "$SHARED/heartbeat_bench.sh" "$URL" 2 32 10 | grep -E "Latency|99%|Requests/sec"
wait $EXP
echo "RSS after load: $(rss), peak $(hwm)"
