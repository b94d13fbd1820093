#!/bin/sh
# README command 1: install what is missing, build, and run the node on its defaults
# (API and web UI at http://127.0.0.1:5600) with the window and AFK watchers where an X
# display exists. Extra arguments go to `awnode start` (and through it to the node).
set -e
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAW_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec build/bin/awnode start "$@"
