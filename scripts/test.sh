#!/bin/sh
# README command 2 (and CI): install what is missing, then build and run every test
# twice: a normal build and an AddressSanitizer + UBSan build. Any failure or sanitizer
# finding fails the run.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh test
PY=/usr/bin/python3
JOBS=$(nproc)

run_suite() { # $1 = build dir, $2.. = extra cmake args
  dir=$1; shift
  echo "== building $dir"
  cmake -S . -B "$dir" -DAW_BUILD_TESTS=ON -DAW_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$JOBS"
  echo "== unit tests ($dir)"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS"
  echo "== integration tests ($dir)"
  AWNODE_BIN="$PWD/$dir/bin/awnode" $PY -m pytest -q -p no:cacheprovider tests/integration
}

export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== web UI type check and lint (tsc --noEmit, eslint)"
(cd webui && npm run --silent check)
echo "== web UI browser tests (headless Chromium)"
AWNODE_BIN="$PWD/build/bin/awnode" tests/ui/run.sh
run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DAW_SANITIZE=ON
if [ -x tests/fuzz/run.sh ]; then
  echo "== fuzzing (bounded)"
  tests/fuzz/run.sh
fi
echo "== all tests passed"
