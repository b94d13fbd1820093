#!/bin/sh
# Build the libFuzzer targets with clang (address + undefined behaviour sanitizers) and
# run each for a bounded time: query_fuzz (the query engine) and sync_fuzz (the sync
# folder's sealed files, segments, manifests and awsync.json). CI calls this; any crash,
# leak, timeout or sanitizer report fails the script, and libFuzzer leaves the input as
# crash-* / leak-* / timeout-* in build-fuzz/. A query engine input becomes a regression
# test in tests/unit/query/test_query_lang.c (test_fuzz_regressions); a sync input goes
# to tests/fuzz/crashers-sync/ and a case in tests/unit/sync/test_sync_format.c.
#
# usage: tests/fuzz/run.sh [seconds]
#   seconds (default $FUZZ_SECONDS or 60) is the total: two thirds for the query engine,
#   one third for sync. FUZZ_QUERY_SECONDS and FUZZ_SYNC_SECONDS override either share.
set -e
cd "$(dirname "$0")/../.."
TOTAL=${1:-${FUZZ_SECONDS:-60}}
QUERY_SECONDS=${FUZZ_QUERY_SECONDS:-$((TOTAL * 2 / 3))}
SYNC_SECONDS=${FUZZ_SYNC_SECONDS:-$((TOTAL - TOTAL * 2 / 3))}
# libFuzzer reads -max_total_time=0 as "no limit"
[ "$QUERY_SECONDS" -ge 1 ] || QUERY_SECONDS=1
[ "$SYNC_SECONDS" -ge 1 ] || SYNC_SECONDS=1
DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
SAN="-fsanitize=fuzzer,address,undefined"

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is required (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
# clang installed without its recommends links nothing with these flags (missing
# libclang_rt.*.a): say which package brings them instead of failing deep in the build
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe/p.c"
if ! clang $SAN -o "$probe/p" "$probe/p.c" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "fuzz: clang cannot link $SAN programs (no sanitizer/libFuzzer runtime): apt-get install libclang-rt-14-dev" >&2
  exit 1
fi
rm -rf "$probe"

cmake -S . -B "$DIR" -DCMAKE_C_COMPILER=clang -DAW_FUZZ=ON -DAW_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  >/dev/null
cmake --build "$DIR" --target query_fuzz sync_fuzz -j"$JOBS"
mkdir -p "$DIR/fuzz-corpus" "$DIR/fuzz-corpus-sync"
cd "$DIR"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
echo "== fuzzing the query engine for ${QUERY_SECONDS}s"
./bin/query_fuzz -max_total_time="$QUERY_SECONDS" -max_len=8192 -timeout=30 -rss_limit_mb=2560 \
  -print_final_stats=1 -dict=../tests/fuzz/query.dict fuzz-corpus ../tests/fuzz/corpus
echo "== fuzzing the sync folder's parsers for ${SYNC_SECONDS}s"
./bin/sync_fuzz -max_total_time="$SYNC_SECONDS" -max_len=8192 -timeout=30 -rss_limit_mb=2560 \
  -print_final_stats=1 fuzz-corpus-sync ../tests/fuzz/corpus-sync
