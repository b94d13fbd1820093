#!/bin/bash
# Watcher cost (targets: <= 0.1 % of one core and <= 4 MB RSS each).
# Prints figures; not a test.
#
#   tests/bench/watchers_bench.sh [SECONDS]     (default 600)
#
# Runs aw-watcher-afk and aw-watcher-window with their default settings (window poll
# 1 s, AFK poll 5 s, commit interval 10 s) under a private Xvfb against a node on a
# free port, while a simulated user switches the active window every 10 s (title
# changes every 5 s) and moves the pointer every 2 s. CPU is the time on CPU over the
# measured period, after a 5 s warm-up (/proc/PID/schedstat in ns, else utime+stime);
# RSS is VmRSS at the end, with the peak (VmHWM) and the private part (RssAnon).
# Needs Xvfb and xdotool (Debian: xvfb xdotool).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${AWNODE_BIN:-$ROOT/build/bin/awnode}
BINDIR=$(dirname "$BIN")
SECONDS_TOTAL=${1:-600}
command -v Xvfb >/dev/null || { echo "Xvfb is not installed (apt-get install xvfb)" >&2; exit 1; }
command -v xdotool >/dev/null || { echo "xdotool is not installed (apt-get install xdotool)" >&2; exit 1; }
for b in "$BIN" "$BINDIR/aw-watcher-afk" "$BINDIR/aw-watcher-window" "$BINDIR/aw-xtest-client"; do
  [ -x "$b" ] || { echo "missing $b (build with -DAW_BUILD_TESTS=ON)" >&2; exit 1; }
done

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
export XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config XDG_STATE_HOME=$TMP/state XDG_CACHE_HOME=$TMP/cache
export HOME=$TMP

# X server on a free display
exec 3>"$TMP/display"
Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 >"$TMP/xvfb.log" 2>&1 &
PIDS+=($!)
exec 3>&-
for _ in $(seq 100); do [ -s "$TMP/display" ] && break; sleep 0.05; done
export DISPLAY=":$(cat "$TMP/display")"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" serve --testing --port "$PORT" >"$TMP/node.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/api/0/info" >/dev/null && break; sleep 0.05; done

# the simulated user's applications
mkfifo "$TMP/xin"
"$BINDIR/aw-xtest-client" <"$TMP/xin" >"$TMP/xout" 2>&1 &
PIDS+=($!)
exec 4>"$TMP/xin"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
for w in 1 2 3; do
  echo "create w$w" >&4
  echo "class w$w $(hex "app$w")00$(hex "App$w")00" >&4
  echo "netname w$w $(hex "Window $w")" >&4
done
echo "activate w1" >&4

"$BINDIR/aw-watcher-afk" --port "$PORT" >"$TMP/afk.log" 2>&1 &
AFK=$!
PIDS+=($AFK)
"$BINDIR/aw-watcher-window" --port "$PORT" >"$TMP/window.log" 2>&1 &
WIN=$!
PIDS+=($WIN)

# CPU time in ns: /proc/PID/schedstat (exact) if the kernel has it, else utime+stime ticks
if [ -r /proc/self/schedstat ]; then
  ticks() { awk '{print $1}' "/proc/$1/schedstat"; }
  CLK=1000000000
else
  ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  CLK=$(getconf CLK_TCK)
fi
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

sleep 5 # warm-up: start-up, bucket creation
A0=$(ticks $AFK); W0=$(ticks $WIN); T0=$(date +%s.%N)
echo "measuring for $SECONDS_TOTAL s (DISPLAY=$DISPLAY, node on port $PORT)..."
i=0
while [ $i -lt "$SECONDS_TOTAL" ]; do
  sleep 1
  i=$((i + 1))
  [ $((i % 2)) -eq 0 ] && xdotool mousemove $((i % 700 + 10)) $((i % 500 + 10))
  [ $((i % 10)) -eq 0 ] && echo "activate w$((i / 10 % 3 + 1))" >&4
  [ $((i % 10)) -eq 5 ] && echo "netname w$((i / 10 % 3 + 1)) $(hex "Document $i - Editor")" >&4
done
A1=$(ticks $AFK); W1=$(ticks $WIN); T1=$(date +%s.%N)

report() { # name pid t0 t1
  python3 - "$1" "$3" "$4" "$CLK" "$T0" "$T1" "$(kb "$2" VmRSS)" "$(kb "$2" VmHWM)" "$(kb "$2" RssAnon)" <<'PY'
import sys
name, t0, t1, clk, w0, w1, rss, hwm, anon = sys.argv[1:]
cpu = (int(t1) - int(t0)) / int(clk)  # seconds
wall = float(w1) - float(w0)
pct = 100 * cpu / wall
ok = "ok" if pct <= 0.1 and int(rss) <= 4096 else "OVER TARGET"
print(f"{name:18} CPU {pct:.4f} % of one core ({cpu * 1000:.1f} ms in {wall:.0f} s); "
      f"RSS {int(rss)/1024:.2f} MB (peak {int(hwm)/1024:.2f} MB, private {int(anon)/1024:.2f} MB)  [{ok}]")
PY
}
report aw-watcher-afk $AFK "$A0" "$A1"
report aw-watcher-window $WIN "$W0" "$W1"
EVENTS=$(curl -s "http://127.0.0.1:$PORT/api/0/buckets/aw-watcher-window_$(hostname)/events" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "window events recorded: $EVENTS; targets: <= 0.1 % CPU and <= 4 MB RSS each"
kill -TERM $AFK $WIN
wait $AFK $WIN 2>/dev/null || true
exec 4>&-
