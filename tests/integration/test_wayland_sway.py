"""aw-watcher-window and aw-watcher-afk on Wayland, under a real headless sway
(docs/watchers.md, "Wayland"), against a real node.

sway plays the compositor: it offers wlr-foreign-toplevel-management (the window
watcher's source) and, in Debian 12's sway 1.7 (wlroots 0.15), org_kde_kwin_idle (the
AFK watcher's). Two aw-wltest-client windows play applications; `swaymsg ... focus`
switches between them and `swaymsg seat seat0 cursor move` is the user's input.
aw-wltest-compositor, which offers only a seat, plays a compositor without those
protocols (as GNOME lacks the window one); with --idle-notify it also offers
ext-idle-notify-v1, which sway 1.7 lacks. `awnode start` in the Wayland session
starts both watchers, and does not restart one that exits with 5. One sway serves the
whole file; each test stops its own processes and checks them for sanitizer findings.
"""

import os
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from wlenv import Sway, requires_sway, session_fixtures  # noqa: E402
from xenv import (HOSTNAME, afk_round_trip, assert_afk_layout, assert_contiguous, assert_no_overlap, datas, end,  # noqa: E402
                  events, statuses, wait_for)

pytestmark = requires_sway
WINDOW_BUCKET = "aw-watcher-window_" + HOSTNAME
AFK_BUCKET = "aw-watcher-afk_" + HOSTNAME
POLL = 0.4


sway_session, sway = session_fixtures(Sway, "sway")


def one_line(out):
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return lines[0]


def test_window_switches_and_title_changes(sway, node):
    http = node.client()
    sway.client("org.example.Mail", "Inbox \u2014 Mail")
    term = sway.client("org.example.Term", "bash")
    sway.focus("org.example.Mail")
    w = sway.watcher("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL)
    # the first poll follows the start line (a sanitizer build on a busy machine can take
    # a second to get there)
    wait_for(lambda: "started" in w.text(), 10, interval=0.02, what="the watcher's start")
    marks = [time.time()]
    for step in (lambda: sway.focus("org.example.Term"), lambda: term.title("vim README.md"),
                 lambda: sway.focus("org.example.Mail"), lambda: None):
        time.sleep(1.6)
        step()
        marks.append(time.time())
    assert w.stop() == 0, w.text()

    evs = events(http, WINDOW_BUCKET)
    assert datas(evs) == [
        {"app": "org.example.Mail", "title": "Inbox \u2014 Mail"},
        {"app": "org.example.Term", "title": "bash"},
        {"app": "org.example.Term", "title": "vim README.md"},
        {"app": "org.example.Mail", "title": "Inbox \u2014 Mail"},
    ], w.text()
    assert_no_overlap(evs)
    # each change is seen within a poll, and the heartbeats of one window merge into
    # one event as long as it stays active
    assert_contiguous(evs, POLL + 0.3)
    for e, (a, b) in zip(evs, zip(marks, marks[1:])):
        assert abs(e["duration"] - (b - a)) < POLL + 0.5, (e, b - a)
    b = http.get("/api/0/buckets/" + WINDOW_BUCKET).json()
    assert (b["type"], b["client"], b["hostname"]) == ("currentwindow", "aw-watcher-window", HOSTNAME)
    assert "aw-watcher-window: started: wayland, poll 0.4 s" in w.text()


def test_window_closed_and_excluded_titles(sway, node):
    http = node.client()
    bank = sway.client("org.example.Browser", "Bank of Nowhere - Login")
    sway.focus("org.example.Browser")
    w = sway.watcher("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL,
                     "--exclude-titles", "^bank")
    time.sleep(1.2)
    bank.close()  # nothing left focused on the workspace: no active window
    time.sleep(1.2)
    assert w.stop() == 0, w.text()
    assert datas(events(http, WINDOW_BUCKET)) == [
        {"app": "org.example.Browser", "title": "excluded"},
        {"app": "unknown", "title": "unknown"},
    ], w.text()


def test_afk_and_back(sway, node):
    http = node.client()
    w, *times = afk_round_trip(lambda *a: sway.watcher("aw-watcher-afk", "--testing", "--port", node.port, *a),
                               sway.activity)
    evs = events(http, AFK_BUCKET)
    # the X11 watcher's layout; the compositor notifies "idle" 0.5 s (a quarter of the
    # timeout) after the last input and "resumed" at the next one, so times are known
    # to within that
    assert_afk_layout(evs, times, (0.7, 0.35, 0.8))
    assert evs[0]["duration"] > 1.0
    out = w.text()
    assert "started: timeout 2 s, poll 0.5 s, wayland (org_kde_kwin_idle)" in out
    assert "became AFK" in out and "no longer AFK" in out
    b = http.get("/api/0/buckets/" + AFK_BUCKET).json()
    assert (b["type"], b["client"], b["hostname"]) == ("afkstatus", "aw-watcher-afk", HOSTNAME)


@pytest.mark.parametrize("watcher", ["aw-watcher-window", "aw-watcher-afk"])
def test_no_compositor_one_line_exit_3(sway, watcher):
    env = sway.env("nocomp", extra={"WAYLAND_DISPLAY": "wayland-77"})
    rc, out = sway.run(watcher, "--testing", env=env)
    assert rc == 3, out
    assert one_line(out) == ("%s: cannot connect to the Wayland display 'wayland-77' (No such file or directory)"
                             % watcher)
    # --backend x11 forces X11 even in a Wayland session; there is no DISPLAY here
    rc, out = sway.run(watcher, "--testing", "--backend", "x11", env=env)
    assert rc == 3, out
    assert one_line(out).startswith(watcher + ": no X display: DISPLAY is not set"), out
    rc, out = sway.run(watcher, "--backend", "mir", env=env)
    choices = "auto, x11, wayland, kde or gnome" if watcher == "aw-watcher-window" else "auto, x11, wayland or gnome"
    assert rc == 2 and one_line(out) == "%s: --backend needs %s, got 'mir'" % (watcher, choices)
    # the config key does the same (awnode start passes no --backend); the option wins
    conf = os.path.join(env["XDG_CONFIG_HOME"], "awnode")
    os.makedirs(conf, mode=0o755, exist_ok=True)
    with open(os.path.join(conf, watcher + ".toml"), "w") as f:
        f.write('backend = "x11"\n')
    rc, out = sway.run(watcher, "--testing", env=env)
    assert rc == 3 and "no X display: DISPLAY is not set" in one_line(out), out
    rc, out = sway.run(watcher, "--testing", "--backend", "wayland", env=env)
    assert rc == 3 and "cannot connect to the Wayland display 'wayland-77'" in one_line(out), out
    with open(os.path.join(conf, watcher + ".toml"), "w") as f:
        f.write('backend = "mir"\n')
    rc, out = sway.run(watcher, "--testing", env=env)
    quoted = ('"auto", "x11", "wayland", "kde" or "gnome"' if watcher == "aw-watcher-window"
              else '"auto", "x11", "wayland" or "gnome"')
    assert rc == 2 and one_line(out).endswith('backend must be %s, got "mir"' % quoted), out


def fake_compositor(sway, socket, *args):
    """aw-wltest-compositor on its own socket, once it has said "ready"."""
    p = sway.spawn([sway.binary("aw-wltest-compositor"), socket] + list(args), sway.env("bare"), "fake-compositor")
    deadline = time.monotonic() + 10
    while "ready" not in p.text():
        assert p.running and time.monotonic() < deadline, p.text()
        time.sleep(0.05)
    return p


@pytest.fixture
def bare_compositor(sway):
    """A compositor offering only a seat."""
    fake_compositor(sway, "awnode-bare-0")
    return "awnode-bare-0"


def test_afk_with_ext_idle_notify(sway, node):
    """The ext-idle-notify-v1 path (sway 1.7 has only org_kde_kwin_idle), against
    aw-wltest-compositor --idle-notify, where SIGUSR1 is user activity."""
    http = node.client()
    comp = fake_compositor(sway, "awnode-idle-0", "--idle-notify")
    env = sway.env("ext", extra={"WAYLAND_DISPLAY": "awnode-idle-0"})
    w = sway.watcher("aw-watcher-afk", "--testing", "--port", node.port, "--timeout", 2, "--poll-time", 0.5, env=env)
    for _ in range(4):  # active for ~1.2 s
        time.sleep(0.3)
        comp.proc.send_signal(signal.SIGUSR1)
    last_before_idle = time.time()
    time.sleep(3.2)  # idle: AFK after 2 s
    comp.proc.send_signal(signal.SIGUSR1)
    back = time.time()
    time.sleep(0.8)
    assert w.stop() == 0, w.text()
    evs = events(http, AFK_BUCKET)
    assert statuses(evs) == ["not-afk", "afk", "not-afk"], (evs, w.text())
    na1, afk, _na2 = evs
    assert_no_overlap(evs)
    assert abs(end(na1) - last_before_idle) < 0.7, (evs, last_before_idle)
    assert abs(end(afk) - back) < 0.35, (evs, back)
    assert "started: timeout 2 s, poll 0.5 s, wayland (ext-idle-notify-v1)" in w.text()


def test_compositor_without_protocols_one_line_exit_5(sway, bare_compositor):
    env = sway.env("gnome", extra={"WAYLAND_DISPLAY": bare_compositor, "XDG_CURRENT_DESKTOP": "GNOME",
                                   "DISPLAY": ":4999"})
    rc, out = sway.run("aw-watcher-window", "--testing", env=env)
    assert rc == 5, out
    assert one_line(out) == (
        "aw-watcher-window: this Wayland compositor (XDG_CURRENT_DESKTOP=GNOME) offers no "
        "wlr-foreign-toplevel-management (zwlr_foreign_toplevel_manager_v1), so the active window cannot be "
        "read; wlroots compositors (sway, Hyprland, river, labwc) have it; KDE Plasma and GNOME are read over "
        "D-Bus (--backend kde or gnome)")
    rc, out = sway.run("aw-watcher-afk", "--testing", env=env)
    assert rc == 5, out
    assert one_line(out) == ("aw-watcher-afk: this Wayland compositor (XDG_CURRENT_DESKTOP=GNOME) offers neither "
                             "ext-idle-notify-v1 nor org_kde_kwin_idle, so the idle time cannot be read")


def awnode_start(sway, port, name, extra_env=None):
    """`awnode start` run as the test user, with both watchers copied next to it."""
    for w in ("aw-watcher-window", "aw-watcher-afk"):
        sway.binary(w)
    awnode = sway.binary(os.path.basename(awtest.binary_path()))
    return sway.spawn([awnode, "start", "--testing", "--port", port, "--no-tray"], sway.env(name, extra=extra_env),
                      "awnode-start")


def test_awnode_start_runs_the_watchers_in_a_wayland_session(sway):
    editor = sway.client("org.example.Editor", "notes.txt")
    sway.focus("org.example.Editor")
    port = awtest.free_port()
    p = awnode_start(sway, port, "start")
    http = awtest.Client("127.0.0.1", port, timeout=5)

    def window_events():
        try:
            return datas(events(http, WINDOW_BUCKET))
        except (OSError, AssertionError):
            return None
    try:
        wait_for(lambda: "aw-watcher-window: started: wayland" in p.text(), 20, interval=0.05,
                 what="the window watcher")
        time.sleep(1.2)  # a poll or two
        editor.title("notes.txt (saved)")  # a change: the first event is sent at once
        assert wait_for(window_events, 20, what="window events")[0] == {
            "app": "org.example.Editor", "title": "notes.txt"}
    finally:
        http.close()
        assert p.stop() == 0, p.text()
    out = p.text()
    assert "aw-watcher-window: started: wayland" in out, out
    assert "aw-watcher-afk: started: timeout 180 s, poll 5 s, wayland (org_kde_kwin_idle)" in out, out


def test_awnode_start_does_not_restart_on_exit_5(sway, bare_compositor):
    p = awnode_start(sway, awtest.free_port(), "start-bare", {"WAYLAND_DISPLAY": bare_compositor})
    for w in ("aw-watcher-window", "aw-watcher-afk"):
        wait_for(lambda: "%s exited with code 5 (the Wayland compositor lacks the protocol it needs); "
                         "not restarting it" % w in p.text(), 15, what=w + " not restarted")
    time.sleep(1.5)  # the first back-off would have restarted it after 1 s
    assert p.stop() == 0, p.text()
    assert p.text().count("started aw-watcher-window") == 1, p.text()
