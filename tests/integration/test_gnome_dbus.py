"""aw-watcher-window and aw-watcher-afk on GNOME (docs/watchers.md, "KDE Plasma and
GNOME"), at the D-Bus level: a private session bus where a stand-in for GNOME Shell
answers as awnode's Shell extension does (org.awnode.Shell.Window.Active) and a
stand-in for Mutter's idle monitor answers GetIdletime (tests/watchers/gnomehost.py).

The extension's own JavaScript (watchers/gnome-extension/, both the GNOME 43-44 and
the 45+ copy) is run too, by gjs with a stand-in for the one part of GNOME Shell it
touches (global.display.focus_window), owning org.gnome.Shell on the private bus
(tests/watchers/gnome_shell_stub.js); the watcher then records what it reports.

Why not a real GNOME Shell: `gnome-shell --headless` needs the whole GNOME desktop
(about 170 Debian packages on a minimal system, a system bus with logind and
accounts-service) and loads only extensions enabled in a user session's settings; that
is more than the test run can set up within its time. What the real Shell adds, and so
what is not tested here, is Mutter's focus_window itself and the Shell loading the
extension from its directory."""

import os
import shlex
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from gnomehost import GjsExtension, IdleMonitor, Shell  # noqa: E402
from snihost import SessionBus  # noqa: E402
from xenv import (HOSTNAME, afk_round_trip, assert_afk_layout, assert_contiguous, assert_no_overlap, datas,  # noqa: E402
                  events, first_events, requires_xvfb, wait_for, wenv)

pytestmark = requires_xvfb
__all__ = ["wenv"]
WINDOW_BUCKET = "aw-watcher-window_" + HOSTNAME
AFK_BUCKET = "aw-watcher-afk_" + HOSTNAME


@pytest.fixture
def bus(tmp_path):
    b = SessionBus(str(tmp_path))
    yield b
    b.stop()


def bus_env(wenv, bus, name="w"):
    # a GNOME Wayland session, as far as the watchers can tell: no X display
    return wenv.env(name, display=False, extra={"DBUS_SESSION_BUS_ADDRESS": bus.address,
                                                "XDG_CURRENT_DESKTOP": "GNOME"})


def test_window_from_the_shell_extension(wenv, bus, node):
    http = node.client()
    shell = Shell(bus)
    try:
        shell.focus("org.gnome.Nautilus", "Home")
        w = wenv.start("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", 0.4, "--backend",
                       "gnome", env=bus_env(wenv, bus))
        wait_for(lambda: "started" in w.text(), 10, interval=0.02, what="the watcher's start")
        wait_for(lambda: datas(first_events(http, WINDOW_BUCKET)) == [{"app": "org.gnome.Nautilus", "title": "Home"}],
                 10, what="the first window")
        shell.focus("firefox", "Mozilla Firefox \u2014 awnode")
        wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 2, 10, what="the second window")
        shell.focus("", "")  # nothing has the focus (the desktop, an empty workspace)
        wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 3, 10, what="no window")
        time.sleep(0.5)
        assert w.stop() == 0, w.text()
        evs = events(http, WINDOW_BUCKET)
        assert datas(evs) == [
            {"app": "org.gnome.Nautilus", "title": "Home"},
            {"app": "firefox", "title": "Mozilla Firefox \u2014 awnode"},
            {"app": "unknown", "title": "unknown"},
        ], w.text()
        assert_no_overlap(evs)
        assert_contiguous(evs, 1.0)
        # one question per poll, not a stream
        assert shell.calls >= len(evs)
        assert "started: gnome, poll 0.4 s" in w.text()
    finally:
        shell.stop()


@pytest.mark.parametrize("variant", ["43", "45"])
def test_the_shipped_extension_under_gjs(wenv, bus, node, tmp_path, variant):
    """The extension's JavaScript, exported on the bus by gjs, read by the watcher; when
    the user disables the extension the watcher says it lost it and exits 1."""
    http = node.client()
    ext = GjsExtension(bus, variant, str(tmp_path))
    try:
        ext.focus("org.gnome.TextEditor", "notes — Text Editor")
        w = wenv.start("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", 0.4, "--backend",
                       "gnome", env=bus_env(wenv, bus))
        wait_for(lambda: "started" in w.text(), 10, interval=0.02, what="the watcher's start")
        wait_for(lambda: len(first_events(http, WINDOW_BUCKET)) == 1, 10, what="the first window")
        ext.focus("firefox", "awnode — Mozilla Firefox")
        wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 2, 10, what="the second window")
        ext.nothing_focused()
        wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 3, 10, what="no window")
        ext.disable()
        assert w.wait(10) == 1, w.text()
    finally:
        out = ext.stop()
    assert "lost the connection to the GNOME Shell extension" in w.text(), w.text()
    assert datas(events(http, WINDOW_BUCKET)) == [
        {"app": "org.gnome.TextEditor", "title": "notes — Text Editor"},
        {"app": "firefox", "title": "awnode — Mozilla Firefox"},
        {"app": "unknown", "title": "unknown"},
    ], (w.text(), out)


def test_missing_extension_exits_5_and_says_how_to_install_it(wenv, bus, node):
    shell = Shell(bus, extension=False)
    try:
        rc, out = wenv.run("aw-watcher-window", "--testing", "--port", node.port, "--backend", "gnome",
                           env=bus_env(wenv, bus))
    finally:
        shell.stop()
    assert rc == 5, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "awnode-window@awnode.org" in lines[0] and "docs/watchers.md" in lines[0], out
    # no GNOME Shell on the bus at all
    rc, out = wenv.run("aw-watcher-window", "--testing", "--port", node.port, "--backend", "gnome",
                       env=bus_env(wenv, bus))
    assert rc == 5, out
    assert "GNOME Shell (org.gnome.Shell) is not on the D-Bus session bus" in out, out
    # no session bus
    env = wenv.env("nobus", display=False)
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + os.path.join(wenv.tmp, "no-such-bus")
    rc, out = wenv.run("aw-watcher-window", "--testing", "--port", node.port, "--backend", "gnome", env=env)
    assert rc == 3, out
    assert "cannot connect to the D-Bus session bus" in out, out


def test_afk_from_mutters_idle_monitor(wenv, bus, node):
    http = node.client()
    monitor = IdleMonitor(bus)
    try:
        env = bus_env(wenv, bus)
        w, *times = afk_round_trip(
            lambda *a: wenv.start("aw-watcher-afk", "--testing", "--port", node.port, "--backend", "gnome", *a,
                                  env=env),
            monitor.input)
    finally:
        monitor.stop()
    evs = events(http, AFK_BUCKET)
    # the idle time is read at each poll (0.5 s), as on X11
    assert_afk_layout(evs, times, (0.7, 0.6, 0.8))
    out = w.text()
    assert "started: timeout 2 s, poll 0.5 s, gnome (org.gnome.Mutter.IdleMonitor)" in out, out
    assert "became AFK" in out and "no longer AFK" in out


def test_afk_without_mutter_exits_5(wenv, bus, node):
    rc, out = wenv.run("aw-watcher-afk", "--testing", "--port", node.port, "--backend", "gnome",
                       env=bus_env(wenv, bus))
    assert rc == 5, out
    assert "Mutter's idle monitor (org.gnome.Mutter.IdleMonitor) is not on the D-Bus session bus" in out, out


def test_doctor_on_gnome(wenv, bus, node):
    """`awnode doctor` asks the watchers themselves and, on GNOME, looks for the
    extension; its install command works as printed."""
    shell = Shell(bus)
    monitor = IdleMonitor(bus)
    try:
        shell.focus("org.gnome.Nautilus", "Home")
        env = bus_env(wenv, bus, "doctor")
        for w in ("aw-watcher-window", "aw-watcher-afk"):
            wenv.write_config(w + ".toml", 'backend = "gnome"\n', name="doctor")

        def doctor():
            r = subprocess.run([awtest.binary_path(), "doctor", "--testing", "--port", str(node.port)], env=env,
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout.splitlines(), r.stderr

        rc, lines, err = doctor()
        assert rc == 1 and not err, (lines, err)
        assert lines[0].startswith("node    ok   awnode "), lines
        assert lines[1] == "window  ok   gnome: the active window is 'org.gnome.Nautilus' ('Home')", lines
        assert lines[2] == "afk     ok   gnome (org.gnome.Mutter.IdleMonitor): reads the idle time", lines
        assert lines[3].startswith("gnome   FAIL the Shell extension awnode-window@awnode.org is not installed: `"), lines
        assert len(lines) == 4, lines
        # the printed command, run as printed, installs the shipped extension
        command = lines[3].split("`")[1]
        for part in command.split(" && "):
            argv = shlex.split(part)
            if argv[0] == "gnome-extensions":
                continue  # needs a running GNOME Shell; the stand-in has no such interface
            subprocess.run(argv, check=True, env=env, timeout=10)
        ext = os.path.join(env["XDG_DATA_HOME"], "gnome-shell", "extensions", "awnode-window@awnode.org")
        assert sorted(os.listdir(ext)) == ["extension.js", "metadata.json"]
        rc, lines, err = doctor()
        assert rc == 0, (lines, err)
        assert lines[3].startswith("gnome   ok   the Shell extension awnode-window@awnode.org is installed"), lines
    finally:
        monitor.stop()
        shell.stop()
    rc, lines, err = doctor()
    assert rc == 1
    assert lines[1].startswith("window  FAIL GNOME Shell (org.gnome.Shell) is not on the D-Bus session bus"), lines
    assert lines[2].startswith("afk     FAIL Mutter's idle monitor (org.gnome.Mutter.IdleMonitor) is not on"), lines
    assert lines[1].endswith("[exit 5: this session is not supported]"), lines


@pytest.mark.parametrize("args, line", [
    (["--port", "0"], "awnode doctor: --port needs 1-65535, got '0'"),
    (["--port", "x"], "awnode doctor: --port needs 1-65535, got 'x'"),
    (["extra"], "awnode doctor: unexpected argument 'extra' (see --help)"),
])
def test_doctor_bad_arguments_one_line_exit_2(args, line):
    r = subprocess.run([awtest.binary_path(), "doctor"] + args, capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and r.stdout == "" and r.stderr == line + "\n", r
