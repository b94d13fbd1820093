#!/bin/bash
# Archive benchmarks (docs/archive.md, "Benchmark"), with the shared data set. Prints figures; not a test.
#
#   tests/bench/archive_bench.sh [DAYS]      (default 365: 281k events)
#
# Measures, on the database file directly (no node running): archiving everything but
# the last month (read in one snapshot, encode, compress, encrypt, fsync, read back and
# compare, delete in one transaction), the segment's size, the live database before and
# after, listing, and restoring the whole archive and a one-week range. Times are wall
# times of the `awnode archive` process (opening the database included); Argon2id runs
# with libsodium's "moderate" limits, as a user's archive would (about 0.7 s of them is
# the key derivation on restore).
set -euo pipefail
PORT=${PORT:-5794}
. "$(dirname "$0")/lib.sh"
export XDG_DATA_HOME=$TMP/data XDG_CONFIG_HOME=$TMP/config XDG_STATE_HOME=$TMP/state
export AWNODE_ARCHIVE_PASSPHRASE="benchmark passphrase, long enough"
DB=$XDG_DATA_HOME/awnode/awnode-testing.db

wall() { # wall cmd... -> seconds, output to $TMP/out
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
size() { du -cb "$@" 2>/dev/null | tail -1 | cut -f1; }
# live events: rows, and those sealed in day blocks (docs/storage.md)
count() { sqlite3 "$DB" 'SELECT (SELECT count(*) FROM events) + (SELECT coalesce(sum(n), 0) FROM blocks)'; }

python3 "$SHARED/gen_data.py" --days "$DAYS" --host bench >"$TMP/data.json"
"$BIN" serve --testing --port "$PORT" >"$TMP/node.log" 2>&1 &
PID=$!
for _ in $(seq 200); do curl -sf "$URL/api/0/info" >/dev/null && break; sleep 0.05; done
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$TMP/data.json" "$URL/api/0/import"
LAST=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(max(e["timestamp"] for b in d["buckets"].values() for e in b["events"])[:10])' "$TMP/data.json")
CUT=$(date -u -d "$LAST - 30 days" +%F)
kill -TERM "$PID"; wait "$PID" || true; PID=
"$BIN" archive init --testing >/dev/null
sqlite3 "$DB" 'VACUUM'
N0=$(count); S0=$(size "$DB"*)

echo "archive benchmark: $DAYS days, $N0 events, cut-off $CUT (the last 30 days stay live)"
T=$(wall "$BIN" archive --testing --before "$CUT")
N1=$(count)
SEG=$(size "$XDG_DATA_HOME"/awnode/archive-testing/*/seg-*.awa)
sqlite3 "$DB" 'VACUUM'
S1=$(size "$DB"*)
printf '  archive %d events:        %.2f s  (%s)\n' $((N0 - N1)) "$T" "$(cat "$TMP/out")"
printf '  segment size:               %.1f MiB  (%.1f B/event)\n' "$(echo "$SEG / 1048576" | bc -l)" "$(echo "$SEG / ($N0 - $N1)" | bc -l)"
printf '  live database:              %.1f MiB -> %.1f MiB after VACUUM (%d events left)\n' \
  "$(echo "$S0 / 1048576" | bc -l)" "$(echo "$S1 / 1048576" | bc -l)" "$N1"
T=$(wall "$BIN" archive list --testing)
printf '  list:                       %.3f s\n' "$T"
WEEK_FROM=$(date -u -d "$CUT - 60 days" +%F); WEEK_TO=$(date -u -d "$CUT - 53 days" +%F)
T=$(wall "$BIN" archive restore --testing --from "$WEEK_FROM" --to "$WEEK_TO")
printf '  restore one week:           %.2f s  (%s)\n' "$T" "$(cat "$TMP/out")"
T=$(wall "$BIN" archive restore --testing)
printf '  restore everything:         %.2f s  (%s)\n' "$T" "$(cat "$TMP/out")"
printf '  events after restore:       %d (before archiving: %d)\n' "$(count)" "$N0"
