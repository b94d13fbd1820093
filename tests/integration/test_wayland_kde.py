"""aw-watcher-window and aw-watcher-afk on KDE Plasma's compositor (docs/watchers.md,
"KDE Plasma and GNOME"), under a real headless KWin (`kwin_wayland --virtual`) on a
private D-Bus session bus, against a real node.

KWin offers no Wayland protocol for the active window, so the window watcher loads a
KWin script over D-Bus that reports to it; the tests focus windows and change titles
the way a user would, through KWin itself (a test script sets workspace.activeClient,
aw-wltest-client changes its own title). KWin offers ext-idle-notify-v1, which the AFK
watcher reads as on wlroots; KWin has no way for a test to make input without a
device, so only the way into AFK is tested here (the way back is the same code as
sway's, tested in test_wayland_sway.py)."""

import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from wlenv import KWin, popen_user_kw, requires_kwin, session_fixtures  # noqa: E402
from xenv import (HOSTNAME, assert_contiguous, assert_no_overlap, datas, events, first_events, statuses,  # noqa: E402
                  wait_for)

pytestmark = requires_kwin
WINDOW_BUCKET = "aw-watcher-window_" + HOSTNAME
AFK_BUCKET = "aw-watcher-afk_" + HOSTNAME
POLL = 0.4


kwin_session, kwin = session_fixtures(KWin, "kwin")


def test_window_switches_and_title_changes_through_a_kwin_script(kwin, node):
    http = node.client()
    kwin.client("org.example.Mail", "Inbox \u2014 Mail")
    term = kwin.client("org.example.Term", "bash")
    kwin.focus("org.example.Mail")
    # auto: no wlr-foreign-toplevel-management here, KWin on the bus -> the KWin script
    w = kwin.watcher("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL)
    wait_for(lambda: "started" in w.text(), 15, interval=0.05, what="the watcher's start")
    assert "started: kde, poll 0.4 s" in w.text(), w.text()
    wait_for(lambda: datas(first_events(http, WINDOW_BUCKET))[:1] == [{"app": "org.example.Mail", "title": "Inbox \u2014 Mail"}],
             10, what="the first window")
    kwin.focus("org.example.Term")
    wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 2, 10, what="the focus change")
    term.title("vim README.md")
    wait_for(lambda: len(events(http, WINDOW_BUCKET)) == 3, 10, what="the title change")
    time.sleep(2 * POLL)
    plugin = "awnode-window-%d" % w.pid
    assert kwin.script_loaded(plugin)
    scripts = [f for f in os.listdir(kwin.runtime) if re.match(r"awnode-kwin-.*\.js$", f)]
    assert len(scripts) == 1, scripts
    assert w.stop() == 0, w.text()
    evs = events(http, WINDOW_BUCKET)
    assert datas(evs) == [
        {"app": "org.example.Mail", "title": "Inbox \u2014 Mail"},
        {"app": "org.example.Term", "title": "bash"},
        {"app": "org.example.Term", "title": "vim README.md"},
    ], w.text()
    assert_no_overlap(evs)
    assert_contiguous(evs, 1.0)
    # heartbeats merged: the last window's event grew over the polls
    assert evs[-1]["duration"] >= POLL
    # the watcher cleans up after itself: script unloaded, file gone
    assert not kwin.script_loaded(plugin)
    assert not [f for f in os.listdir(kwin.runtime) if re.match(r"awnode-kwin-.*\.js$", f)]


def test_only_kwin_may_report_a_window(kwin, node):
    """Another program on the session bus cannot feed the watcher a made-up title."""
    http = node.client()
    kwin.client("org.example.Real", "real")
    kwin.focus("org.example.Real")
    w = kwin.watcher("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL, "--backend", "kde")
    wait_for(lambda: "started" in w.text(), 15, interval=0.05, what="the watcher's start")
    wait_for(lambda: datas(first_events(http, WINDOW_BUCKET))[:1] == [{"app": "org.example.Real", "title": "real"}], 10,
             what="the window")
    # every connection on the bus is sent a made-up report; the watcher's must refuse it
    names = kwin.dbus("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames").stdout
    spoofed = False
    for name in re.findall(r'string "(:[0-9.]+)"', names):
        r = kwin.dbus(name, "/org/awnode/KWin", "org.awnode.KWinWatcher.Active", "string:evil", "string:spoof",
                      check=False)
        if "AccessDenied" in r.stdout:
            spoofed = True
        assert r.returncode != 0 or "evil" not in r.stdout
    assert spoofed, "no connection refused the spoofed report"
    time.sleep(3 * POLL)
    assert w.stop() == 0, w.text()
    assert all(d["app"] != "evil" for d in datas(events(http, WINDOW_BUCKET)))


def test_afk_after_the_timeout_through_ext_idle_notify(kwin, node):
    http = node.client()
    w = kwin.watcher("aw-watcher-afk", "--testing", "--port", node.port, "--timeout", 2, "--poll-time", 0.5)
    wait_for(lambda: "started" in w.text(), 15, interval=0.05, what="the watcher's start")
    assert "wayland (ext-idle-notify-v1)" in w.text(), w.text()
    wait_for(lambda: "afk" in statuses(first_events(http, AFK_BUCKET)), 10, what="AFK")
    assert w.stop() == 0, w.text()
    evs = events(http, AFK_BUCKET)
    assert statuses(evs)[-1] == "afk", evs
    assert "became AFK" in w.text()


def test_kde_backend_without_kwin_exits_5(kwin, node):
    # a session bus without KWin on it
    empty = os.path.join(kwin.runtime, "empty-bus")
    kwin.spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path=" + empty],
               kwin.env("bus2", wayland=False), "dbus-daemon-empty")
    wait_for(lambda: os.path.exists(empty), 10, what="the second bus")
    env = kwin.env("nokwin", extra={"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + empty})
    rc, out = kwin.run("aw-watcher-window", "--testing", "--port", node.port, "--backend", "kde", env=env)
    assert rc == 5, out
    assert out.strip() == ("aw-watcher-window: KWin (org.kde.KWin) is not on the D-Bus session bus, so the active "
                           "window cannot be read"), out
    # no session bus at all
    env = kwin.env("nobus", extra={"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + os.path.join(kwin.base, "nobus")})
    rc, out = kwin.run("aw-watcher-window", "--testing", "--port", node.port, "--backend", "kde", env=env)
    assert rc == 3, out
    assert "cannot connect to the D-Bus session bus" in out, out


def test_doctor_in_a_kde_session(kwin, node):
    kwin.client("org.example.Doc", "report.odt")
    kwin.focus("org.example.Doc")
    for w in ("aw-watcher-window", "aw-watcher-afk"):
        kwin.binary(w)
    awnode = kwin.binary(os.path.basename(awtest.binary_path()))
    r = subprocess.run([awnode, "doctor", "--testing", "--port", str(node.port)],
                       env=kwin.env("doctor", extra={"XDG_CURRENT_DESKTOP": "KDE"}), capture_output=True, text=True,
                       timeout=30, **popen_user_kw(kwin.user))
    lines = r.stdout.splitlines()
    assert r.returncode == 0, (lines, r.stderr)
    assert lines[0].startswith("node    ok   awnode "), lines
    assert lines[1] == "window  ok   kde: the active window is 'org.example.Doc' ('report.odt')", lines
    assert lines[2] == "afk     ok   wayland (ext-idle-notify-v1): reads the idle time", lines
    assert len(lines) == 3, lines
    # the check removes its script file again (that it unloads the script from KWin too
    # is checked by name in the first test)
    assert not [f for f in os.listdir(kwin.runtime) if f.startswith("awnode-kwin-")]
