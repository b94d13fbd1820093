#!/bin/sh
# Install the Debian 12 packages awnode needs, only those missing.
# usage: scripts/deps.sh build|test   (test = build + test tools)
set -e
# help2man writes the man pages from the binaries' --help texts (cmake/Packaging.cmake);
# libwayland-bin has wayland-scanner, which generates the watchers' Wayland protocol code
# from the XML vendored in watchers/protocols/
BUILD="build-essential cmake pkg-config libwebsockets-dev libjansson-dev libsqlite3-dev
libpcre2-dev libsodium-dev libgit2-dev libzstd-dev libxcb1-dev
libxcb-screensaver0-dev libwayland-dev libwayland-bin libsystemd-dev help2man"
# clang without its recommends has no sanitizer or libFuzzer runtime: tests/fuzz/run.sh
# links against libclang-rt-14-dev's libclang_rt.{fuzzer,asan,ubsan}*.a; llvm-14 brings
# llvm-symbolizer, without which its reports show bare addresses instead of file:line
# sway: a real wlroots compositor (headless) for the watchers' Wayland tests; kwin-wayland:
# KDE Plasma's compositor (headless, --virtual) for the KWin script's tests; dbus-bin:
# dbus-send, which those tests load KWin scripts with; gjs: GNOME's JavaScript runtime, which
# runs awnode's GNOME Shell extension in its tests
TEST="libcmocka-dev python3 python3-pytest wrk curl clang libclang-rt-14-dev llvm-14 git xvfb xdotool
chromium sway dbus-daemon dbus-bin python3-gi kwin-wayland gjs"
want="$BUILD"
[ "${1:-build}" = test ] && want="$BUILD $TEST"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm builds the web UI and vendors the API explorer; any Node.js >= 18 with npm will do
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "awnode: missing packages:$missing; run this as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "awnode: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
