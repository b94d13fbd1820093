#!/bin/sh
# README command 1: install what is missing, build, and run the node on its defaults
# (API and web UI at http://127.0.0.1:5600). Extra arguments go to `awnode serve`.
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAW_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/bin/awnode serve "$@"
