#!/bin/sh
# Build the query engine's libFuzzer target with clang (address + undefined behaviour
# sanitizers) and run it for a bounded time. CI calls this; any crash, leak, timeout or
# sanitizer report fails the script, and libFuzzer leaves the input as crash-* /
# leak-* / timeout-* in build-fuzz/ (turn it into a regression test in
# tests/unit/query/test_query_lang.c, test_fuzz_regressions).
#
# usage: tests/fuzz/run.sh [seconds]      (default: $FUZZ_SECONDS or 60)
set -e
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-${FUZZ_SECONDS:-60}}
DIR=${FUZZ_BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is required (apt-get install clang)" >&2
  exit 1
fi
cmake -S . -B "$DIR" -DCMAKE_C_COMPILER=clang -DAW_FUZZ=ON -DAW_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  >/dev/null
cmake --build "$DIR" --target query_fuzz -j"$JOBS"
mkdir -p "$DIR/fuzz-corpus"
echo "== fuzzing the query engine for ${SECONDS_TO_RUN}s"
cd "$DIR"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ./bin/query_fuzz -max_total_time="$SECONDS_TO_RUN" -max_len=8192 -timeout=30 -rss_limit_mb=2560 \
  -print_final_stats=1 -dict=../tests/fuzz/query.dict fuzz-corpus ../tests/fuzz/corpus
