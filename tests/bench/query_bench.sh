#!/bin/sh
# Query benchmark: start a node on a fresh database, import a year of generated data and
# time the web UI's Activity summary query over a day, a week, a month and the year
# (../shared/bench/query_bench.py). The node is then restarted on the same database and
# the queries run again, so the query-only peak RSS is reported apart from the import's.
#
# usage: tests/bench/query_bench.sh [--no-import-check] ; environment:
#   AWNODE_BIN  binary (default build/bin/awnode)
#   DAYS        days of generated data (default 365)
#   PORT        port (default: a free one)
#   BENCH_DATA  export file to use/cache (default build/bench/year-$DAYS.json)
#   REPEAT      query rounds on the restarted node (default 2)
#   HEARTBEAT   if 1 (and wrk is installed): also measure heartbeat latency (wrk, 10 s)
#               while year queries run in a loop on the same node
set -e
cd "$(dirname "$0")/../.."
REPO=$PWD
BIN=${AWNODE_BIN:-$REPO/build/bin/awnode}
DAYS=${DAYS:-365}
SHARED=$REPO/../shared/bench
DATA=${BENCH_DATA:-$REPO/build/bench/year-$DAYS.json}
REPEAT=${REPEAT:-2}
PY=${PYTHON:-python3}

[ -x "$BIN" ] || { echo "query_bench: $BIN not found (build first)" >&2; exit 1; }
[ -f "$SHARED/query_bench.py" ] || { echo "query_bench: $SHARED/query_bench.py not found" >&2; exit 1; }
if [ ! -s "$DATA" ]; then
  mkdir -p "$(dirname "$DATA")"
  echo "== generating $DAYS days of data into $DATA"
  $PY "$SHARED/gen_data.py" --days "$DAYS" --host bench > "$DATA.tmp"
  mv "$DATA.tmp" "$DATA"
fi
if [ -z "$PORT" ]; then
  PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
fi

TMP=$(mktemp -d /tmp/awnode-qbench.XXXXXX)
export XDG_CONFIG_HOME=$TMP/config XDG_DATA_HOME=$TMP/data XDG_STATE_HOME=$TMP/state XDG_CACHE_HOME=$TMP/cache
NODE=
cleanup() {
  if [ -n "$NODE" ]; then
    kill "$NODE" 2>/dev/null || true
    wait "$NODE" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

start_node() {
  "$BIN" serve --testing --port "$PORT" >>"$TMP/node.log" 2>&1 &
  NODE=$!
  i=0
  until $PY -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/api/0/info', timeout=1)" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$NODE" 2>/dev/null; then
      echo "query_bench: node did not start" >&2
      cat "$TMP/node.log" >&2
      exit 1
    fi
    sleep 0.1
  done
}

stop_node() {
  kill "$NODE"
  wait "$NODE" 2>/dev/null || true
  NODE=
}

rss() { # peak and current RSS of the node
  echo "peak $(awk '/VmHWM/ {print $2 " " $3}' /proc/$NODE/status), current $(awk '/VmRSS/ {print $2 " " $3}' /proc/$NODE/status)"
}

# 1. import (its own node: the import's memory is not the query's)
start_node
echo "== node pid $NODE on port $PORT; data $DATA"
AW_URL=http://127.0.0.1:$PORT $PY "$SHARED/query_bench.py" "$DATA" bench
echo "== node RSS after import and the first query round: $(rss)"
stop_node

# 2. queries only, on a fresh node over the same database
start_node
n=0
while [ $n -lt "$REPEAT" ]; do
  AW_URL=http://127.0.0.1:$PORT $PY "$SHARED/query_bench.py" "$DATA" bench --no-import
  n=$((n + 1))
done
echo "== node RSS, queries only (fresh node, cold caches): $(rss)"

# 3. heartbeat latency while summary queries (mostly the year) run in a loop
if [ "${HEARTBEAT:-0}" = 1 ] && command -v wrk >/dev/null 2>&1; then
  ( while :; do AW_URL=http://127.0.0.1:$PORT $PY "$SHARED/query_bench.py" "$DATA" bench --no-import >/dev/null 2>&1 || break; done ) &
  LOOP=$!
  sleep 1
  echo "== heartbeats while queries run in a loop:"
  "$SHARED/heartbeat_bench.sh" "http://127.0.0.1:$PORT" 2 2 10
  kill "$LOOP" 2>/dev/null || true
  wait "$LOOP" 2>/dev/null || true
  echo "== node RSS after the heartbeat run: $(rss)"
fi
