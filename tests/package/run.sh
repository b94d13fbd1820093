#!/bin/sh
# The Debian package on a fresh minimal Debian 12: build awnode_<version>_<arch>.deb from
# this tree, install it with apt-get into a debootstrap --variant=minbase root, and check
# that it pulls its dependencies, starts nothing, and that `awnode serve` answers the API
# and serves the web UI on its defaults. Slow (a clean build, apt from the network):
# not part of CI.
#
# usage (as root): tests/package/run.sh
#   AWNODE_PKG_CACHE   where the pristine debootstrap root is kept between runs
#                      (default /var/tmp/awnode-pkg; delete it to bootstrap again)
#   AWNODE_PKG_MIRROR  Debian mirror (default: the first one in /etc/apt/sources.list*)
#   AWNODE_PKG_KEEP=1  keep the temporary build and root for a look afterwards
# Prints PASS/FAIL lines; exits 1 if anything failed.
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${AWNODE_PKG_CACHE:-/var/tmp/awnode-pkg}
PRISTINE=$CACHE/bookworm-minbase
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >"$WORK/check.out" 2>&1; then pass "$d"; else fail "$d"; sed 's/^/    /' "$WORK/check.out" | tail -20; fi
}
die() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot and mounts need it)"
for t in cmake cpack dpkg-shlibdeps debootstrap curl; do
	command -v $t >/dev/null 2>&1 || die "$t is missing (apt-get install cmake dpkg-dev debootstrap curl)"
done
MIRROR=${AWNODE_PKG_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v '^[[:space:]]*#' |
	tr ' \t' '\n\n' | grep -E '^https?://.*/debian/?$' | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}

WORK=$(mktemp -d /var/tmp/awnode-pkg-run.XXXXXX)
ROOT=$WORK/root
NODE_PID=
mounts_under_root() { awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r; }
cleanup() {
	[ -n "$NODE_PID" ] && kill "$NODE_PID" 2>/dev/null
	# anything still running from the root would keep its mounts busy
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/root" 2>/dev/null)" in "$ROOT"*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
	for m in $(mounts_under_root); do umount "$m" 2>/dev/null || umount -l "$m"; done
	if [ -n "$(mounts_under_root)" ]; then
		echo "note: mounts are left under $ROOT; not deleting $WORK" >&2
	elif [ "${AWNODE_PKG_KEEP:-0}" = 1 ]; then
		echo "note: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the package, from this tree ------------------------------------------------------
B=$WORK/build
echo "building the package in $B"
if cmake -S "$REPO" -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	-DAW_BUILD_TESTS=OFF >"$WORK/build.log" 2>&1 &&
	cmake --build "$B" -j2 >>"$WORK/build.log" 2>&1 &&
	(cd "$B" && cpack -G DEB) >>"$WORK/build.log" 2>&1; then
	pass "cmake, build and cpack -G DEB"
else
	tail -30 "$WORK/build.log"
	die "building the package (log above)"
fi
VERSION=$(sed -n 's/^project(awnode VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")
DEB=$B/awnode_${VERSION}_$(dpkg --print-architecture).deb
check "the package is $(basename "$DEB")" test -f "$DEB"
[ -f "$DEB" ] || exit 1
echo "    $(stat -c %s "$DEB") bytes; Depends: $(dpkg-deb -f "$DEB" Depends)"
check "no static library or header in the runtime package" \
	sh -c "! dpkg-deb -c '$DEB' | grep -E '\\.a\$|/include/|\\.pc\$'"
check "no maintainer scripts (installing runs nothing)" \
	sh -c "! dpkg-deb -I '$DEB' | grep -E ' (pre|post)(inst|rm) '"

# ---- a fresh minimal Debian 12 -------------------------------------------------------------
if [ ! -d "$PRISTINE" ]; then
	echo "bootstrapping Debian 12 (minbase) from $MIRROR into $PRISTINE"
	mkdir -p "$CACHE"
	rm -rf "$PRISTINE.partial"
	debootstrap --variant=minbase bookworm "$PRISTINE.partial" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap (see $CACHE/debootstrap.log)"
	mv "$PRISTINE.partial" "$PRISTINE"
fi
cp -a "$PRISTINE" "$ROOT"
# a Debian 12 system as installed: the point releases and security updates too
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
cp "$DEB" "$ROOT/tmp/"

# ---- install ------------------------------------------------------------------------
in_root apt-get update -qq >"$WORK/apt.log" 2>&1 || { tail "$WORK/apt.log"; die "apt-get update in the root"; }
check "apt-get install ./$(basename "$DEB") pulls its dependencies" \
	in_root apt-get install -y --no-install-recommends "/tmp/$(basename "$DEB")"
check "dpkg: every package configured" sh -c "[ -z \"\$(chroot '$ROOT' dpkg --audit)\" ]"
check "every shared library of the binaries is found" \
	sh -c "for b in awnode aw-watcher-afk aw-watcher-window awnode-tray; do chroot '$ROOT' ldd /usr/bin/\$b; done | { ! grep 'not found'; }"
running=""
for p in /proc/[0-9]*; do
	case "$(readlink "$p/root" 2>/dev/null)" in "$ROOT"*) running="$running ${p#/proc/}:$(cat "$p/comm")" ;; esac
done
check "nothing runs after installing (as root or anyone)" test -z "$running"
[ -z "$running" ] || echo "    running:$running"

for f in /usr/bin/awnode /usr/bin/aw-watcher-afk /usr/bin/aw-watcher-window /usr/bin/awnode-tray \
	/usr/share/awnode/webui/index.html /usr/share/awnode/apidocs/index.html \
	/usr/share/awnode/apidocs/swagger-ui-bundle.js /usr/share/doc/awnode/copyright \
	/usr/lib/systemd/user/awnode.service /usr/lib/systemd/user/aw-watcher-afk.service \
	/usr/lib/systemd/user/aw-watcher-window.service /etc/xdg/autostart/awnode-start.desktop \
	/usr/share/man/man1/awnode.1.gz /usr/share/man/man1/aw-watcher-afk.1.gz \
	/usr/share/man/man1/aw-watcher-window.1.gz /usr/share/man/man1/awnode-tray.1.gz \
	/usr/share/doc/awnode/changelog.gz \
	/usr/share/awnode/gnome-shell/43/awnode-window@awnode.org/extension.js \
	/usr/share/awnode/gnome-shell/45/awnode-window@awnode.org/metadata.json; do
	check "installed: $f" test -s "$ROOT$f"
done
check "units and autostart entry run binaries that exist" sh -c "
	grep -h -E '^(ExecStart|Exec)=' '$ROOT'/usr/lib/systemd/user/*.service '$ROOT'/etc/xdg/autostart/awnode-start.desktop |
	sed 's/^[A-Za-z]*=//; s/ .*//' | while read -r b; do echo \$b; test -x '$ROOT'\$b || exit 1; done"
check "awnode.service runs awnode start" grep -qx 'ExecStart=/usr/bin/awnode start' "$ROOT/usr/lib/systemd/user/awnode.service"
check "the autostart entry runs awnode start" grep -qx 'Exec=/usr/bin/awnode start' "$ROOT/etc/xdg/autostart/awnode-start.desktop"
check "the autostart entry is a conffile (an administrator's edit survives upgrades)" \
	sh -c "chroot '$ROOT' dpkg-query -W -f='\${Conffiles}' awnode | grep -q '^ /etc/xdg/autostart/awnode-start.desktop '"

# ---- run it, as a user would ------------------------------------------------------------
check "awnode --help" sh -c "chroot '$ROOT' /usr/bin/awnode --help | grep -q '^usage: awnode'"
check "awnode --version says $VERSION" sh -c "[ \"\$(chroot '$ROOT' /usr/bin/awnode --version)\" = 'awnode $VERSION' ]"
check "aw-watcher-window --help" sh -c "chroot '$ROOT' /usr/bin/aw-watcher-window --help | grep -q '^usage: aw-watcher-window'"
check "aw-watcher-afk --help" sh -c "chroot '$ROOT' /usr/bin/aw-watcher-afk --help | grep -q '^usage: aw-watcher-afk'"
check "awnode-tray --help" sh -c "chroot '$ROOT' /usr/bin/awnode-tray --help | grep -q '^usage: awnode-tray'"
# no node, no display: every check fails with its line, and on GNOME the install command
# names the installed extension
check "awnode doctor names the installed GNOME extension" sh -c "chroot '$ROOT' env -i PATH=/usr/bin:/bin \
	HOME=/root XDG_CURRENT_DESKTOP=GNOME /usr/bin/awnode doctor | \
	grep -q 'cp -r /usr/share/awnode/gnome-shell/45/awnode-window@awnode.org '"
in_root useradd -m -s /bin/sh tester
# the root shares this machine's network: use the default port only if nothing answers there
PORT=5600
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
	PORT=$((20000 + $$ % 20000))
	echo "    note: something already answers on 127.0.0.1:5600; the node gets --port $PORT"
	PORTARG="--port $PORT"
else
	PORTARG=""
fi
chroot --userspec=tester:tester "$ROOT" env -i PATH=/usr/bin:/bin HOME=/home/tester LANG=C.UTF-8 \
	/usr/bin/awnode serve $PORTARG >"$WORK/serve.log" 2>&1 &
NODE_PID=$!
i=0
while [ $i -lt 100 ] && ! curl -s -o /dev/null "http://127.0.0.1:$PORT/api/0/info"; do
	kill -0 "$NODE_PID" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
check "awnode serve (user tester, defaults) answers GET /api/0/info" \
	sh -c "curl -sf http://127.0.0.1:$PORT/api/0/info | tee /dev/stderr | grep -q '\"version\"'"
echo "    $(curl -s "http://127.0.0.1:$PORT/api/0/info")"
check "GET / serves the installed web UI" \
	sh -c "curl -sf http://127.0.0.1:$PORT/ | cmp - '$ROOT/usr/share/awnode/webui/index.html'"
asset=$(grep -o 'assets/[^"]*\.js' "$ROOT/usr/share/awnode/webui/index.html" | head -n 1)
check "GET /$asset (the UI's script)" curl -sf -o /dev/null "http://127.0.0.1:$PORT/$asset"
check "GET /api/ serves the API explorer" \
	sh -c "curl -sf http://127.0.0.1:$PORT/api/ | cmp - '$ROOT/usr/share/awnode/apidocs/index.html'"
check "the database is in the user's data directory" test -f "$ROOT/home/tester/.local/share/awnode/awnode.db"
kill "$NODE_PID" 2>/dev/null
wait "$NODE_PID"
rc=$?
NODE_PID=
check "awnode serve stops on SIGTERM with exit code 0" test "$rc" = 0
[ "$rc" = 0 ] || tail -5 "$WORK/serve.log"

# ---- man pages and systemd's unit paths (tools a minimal system lacks) ---------------------
if in_root apt-get install -y --no-install-recommends man-db systemd >"$WORK/tools.log" 2>&1; then
	for m in awnode aw-watcher-afk aw-watcher-window awnode-tray; do
		check "man -w $m" sh -c "[ \"\$(chroot '$ROOT' man -w $m)\" = /usr/share/man/man1/$m.1.gz ]"
	done
	check "man awnode shows every command's options" \
		sh -c "chroot '$ROOT' env MANPAGER=cat COLUMNS=100 man awnode 2>/dev/null | grep -q 'awnode serve \\[options\\]'"
	check "systemd --user reads /usr/lib/systemd/user" \
		sh -c "chroot '$ROOT' systemd-analyze --user unit-paths 2>/dev/null | grep -qx /usr/lib/systemd/user"
	# a user manager needs a runtime directory, even for verify
	mkdir -m 0700 -p "$ROOT/run/user/0"
	check "systemd-analyze verify accepts the user units" \
		in_root env XDG_RUNTIME_DIR=/run/user/0 systemd-analyze --user verify \
		/usr/lib/systemd/user/awnode.service /usr/lib/systemd/user/aw-watcher-afk.service \
		/usr/lib/systemd/user/aw-watcher-window.service
else
	tail -5 "$WORK/tools.log"
	fail "installing man-db and systemd into the root for the last checks"
fi

if [ "$fails" = 0 ]; then
	echo "PASS: all package checks"
else
	echo "FAIL: $fails package check(s) failed"
	exit 1
fi
