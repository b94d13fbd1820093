"""The tray icon, awnode-tray (docs/watchers.md, "Tray icon"): a StatusNotifierItem on a
private D-Bus session bus, read and clicked by a test StatusNotifierWatcher (what a
panel's tray host is), against `awnode start` with real watchers under Xvfb."""

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from awtest import free_port  # noqa: E402
from snihost import GLib, Item, SessionBus, Watcher  # noqa: E402
from xenv import bin_path, requires_xvfb, wait_for, wenv  # noqa: E402

pytestmark = requires_xvfb
__all__ = ["wenv"]


@pytest.fixture
def bus(tmp_path):
    b = SessionBus(str(tmp_path))
    yield b
    b.stop()


@pytest.fixture
def sni_watcher(bus):
    w = Watcher(bus)
    yield w
    w.stop()


def fake_xdg_open(wenv):
    """An xdg-open that writes what it was asked to open into a file."""
    d = os.path.join(wenv.tmp, "fakebin")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, "opened")
    script = os.path.join(d, "xdg-open")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\n" % out)
    os.chmod(script, stat.S_IRWXU)
    return d, out


def start(wenv, bus, port, *args, name="start", display=True):
    path_dir, opened = fake_xdg_open(wenv)
    env = wenv.env(name, display=display, extra={"DBUS_SESSION_BUS_ADDRESS": bus.address})
    env["PATH"] = path_dir + os.pathsep + env.get("PATH", "")
    p = wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", port] + list(args), name, env)
    return p, opened


def watchers(port):
    c = awtest.Client("127.0.0.1", port)
    try:
        return {w["name"]: w for w in c.get("/api/0/watchers").json()["watchers"]}
    finally:
        c.close()


def registered_item(bus, sni_watcher):
    items = wait_for(sni_watcher.registered, 20, what="the tray to register with the StatusNotifierWatcher")
    service, sender = items[-1]
    assert service.startswith("org.kde.StatusNotifierItem-"), items
    return Item(bus, sender)


def labels(item):
    return [e.get("label") for e in item.layout()[1] if e.get("visible", True) and "label" in e]


def test_tray_shows_state_pauses_resumes_opens_and_quits(wenv, bus, sni_watcher):
    port = free_port()
    p, opened = start(wenv, bus, port)
    item = registered_item(bus, sni_watcher)
    try:
        assert "started awnode-tray" in p.text(), p.text()
        # both watchers recording: the summary, one submenu per watcher, the fixed entries
        wait_for(lambda: "awnode: Recording" in labels(item), 20, what="the recording summary")
        got = labels(item)
        for want in ("AFK watcher: recording", "Window watcher: recording", "Open dashboard", "Quit"):
            assert want in got, got
        # no sync set up on this node: Sync now is hidden
        assert item.entry("Sync now")["visible"] is False
        assert item.prop("Status") == "Active"
        assert item.prop("Id") == "awnode"
        assert item.prop("Menu") == "/MenuBar"
        pixmaps = item.prop("IconPixmap")
        assert sorted(w for w, h, data in pixmaps) == [16, 22, 24, 32, 48]
        assert all(len(data) == w * h * 4 for w, h, data in pixmaps)
        tip = item.prop("ToolTip")
        assert tip[2] == "awnode" and "Window watcher: recording" in tip[3], tip
        # the tray is not one of the watchers the API lists (nor can it be paused)
        assert set(watchers(port)) == {"aw-watcher-afk", "aw-watcher-window"}

        # Pause for 15 minutes, from the AFK watcher's submenu
        before = item.layout()[0]
        item.click(item.entry("Pause for 15 minutes", parent_label="AFK watcher")["id"])
        afk = wait_for(lambda: watchers(port)["aw-watcher-afk"]["paused"] and watchers(port)["aw-watcher-afk"],
                       10, what="the AFK watcher to be paused")
        until = time.mktime(time.strptime(afk["paused_until"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        assert 880 <= until - time.time() <= 905, afk
        assert watchers(port)["aw-watcher-window"]["paused"] is False
        wait_for(lambda: any(lab.startswith("AFK watcher: paused until ") for lab in labels(item)), 10,
                 what="the menu to show the pause")
        assert item.layout()[0] > before, "the menu's revision moves on"
        assert sni_watcher.count("LayoutUpdated") >= 1 and sni_watcher.count("NewToolTip") >= 1
        assert "awnode: Some watchers paused" in labels(item)
        assert item.entry("Resume", parent_label="AFK watcher")["enabled"] is True
        assert item.entry("Resume", parent_label="Window watcher")["enabled"] is False

        # Pause until resumed, the window watcher: everything paused, the icon changes
        icons_before = sni_watcher.count("NewIcon")
        item.click(item.entry("Pause until resumed", parent_label="Window watcher")["id"])
        wait_for(lambda: watchers(port)["aw-watcher-window"]["paused"], 10, what="the window watcher to pause")
        assert watchers(port)["aw-watcher-window"]["paused_until"] is None
        wait_for(lambda: "awnode: Paused" in labels(item), 10, what="the summary to say Paused")
        assert "Window watcher: paused until resumed" in labels(item)
        wait_for(lambda: sni_watcher.count("NewIcon") > icons_before, 10, what="NewIcon")

        # Resume both
        for who in ("AFK watcher", "Window watcher"):
            item.click(item.entry("Resume", parent_label=who)["id"])
        wait_for(lambda: all(w["state"] == "running" and not w["paused"] for w in watchers(port).values()), 15,
                 what="both watchers to run again")
        wait_for(lambda: "awnode: Recording" in labels(item), 10, what="the summary to say Recording")

        # an id the menu does not have is refused, and changes nothing
        with pytest.raises(GLib.Error, match="UnknownId"):
            item.click(9999)
        assert "awnode: Recording" in labels(item)

        # a disabled entry does nothing when clicked
        item.click(item.entry("Resume", parent_label="AFK watcher")["id"])
        time.sleep(0.3)
        assert not watchers(port)["aw-watcher-afk"]["paused"]

        # Open dashboard runs xdg-open with the node's address
        item.click(item.entry("Open dashboard")["id"])
        wait_for(lambda: os.path.exists(opened) and open(opened).read(), 10, what="xdg-open")
        assert open(opened).read() == "http://127.0.0.1:%d/\n" % port

        # Quit stops everything awnode start runs
        item.click(item.entry("Quit")["id"])
        assert p.wait(20) == 0, p.text()
        out = p.text()
        assert "awnode-tray: quitting: stopping awnode start" in out, out
        assert out.rstrip().endswith("awnode start: stopped"), out
    finally:
        item.close()


def test_tray_registers_when_a_panel_starts_later_and_says_when_the_node_is_down(wenv, bus):
    """No StatusNotifierWatcher yet: the tray waits on the bus and registers when one
    appears. Pointed at a port where nothing answers, it says so."""
    port = free_port()
    env = wenv.env("late", extra={"DBUS_SESSION_BUS_ADDRESS": bus.address})
    tray = wenv.spawn([bin_path("awnode-tray"), "--testing", "--port", port, "--poll-time", "0.5"], "tray", env)
    wait_for(lambda: any(n.startswith("org.kde.StatusNotifierItem-") for n in bus.names()), 10,
             what="the tray on the bus")
    w = Watcher(bus)
    try:
        item = registered_item(bus, w)
        assert item.prop("Status") == "NeedsAttention"
        got = labels(item)
        assert "awnode: Node not answering" in got, got
        assert item.entry("Open dashboard")["enabled"] is False
        item.close()
    finally:
        w.stop()
    assert tray.stop(signal.SIGTERM) == 0, tray.text()


def test_no_session_bus_no_tray(wenv):
    """Without a session bus `awnode start` runs no tray and says so in one line; the
    tray run by hand exits with 3 after one line."""
    port = free_port()
    env = wenv.env("nobus")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    p = wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", port], "nobus", env)
    wait_for(lambda: "started aw-watcher-window" in p.text(), 15, what="the watchers")
    time.sleep(0.3)
    out = p.text()
    assert "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): no tray icon" in out, out
    assert "awnode-tray" not in out.replace("no tray icon", "")
    assert p.stop() == 0, p.text()

    r = subprocess.run([bin_path("awnode-tray"), "--testing", "--port", str(port)], env=env, capture_output=True,
                       text=True, timeout=15)
    assert r.returncode == 3, r
    assert r.stderr.splitlines()[0].startswith("awnode-tray: no D-Bus session bus"), r.stderr


def test_no_tray_option(wenv, bus):
    port = free_port()
    p, _ = start(wenv, bus, port, "--no-tray", name="notray")
    wait_for(lambda: "started aw-watcher-window" in p.text(), 15, what="the watchers")
    time.sleep(0.3)
    assert "awnode-tray" not in p.text(), p.text()
    assert p.stop() == 0, p.text()


def test_sync_now_when_sync_is_set_up(wenv, bus, sni_watcher, tmp_path):
    """With sync configured the menu shows Sync now, and clicking it runs a round (the
    node's push count goes up)."""
    port = free_port()
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    env = wenv.env("sync", extra={"DBUS_SESSION_BUS_ADDRESS": bus.address,
                                  "AWNODE_SYNC_PASSPHRASE": "a long test passphrase: correct horse battery staple"})
    r = subprocess.run([awtest.binary_path(), "sync", "init", "--testing", "--remote", remote, "--kdf-ops", "1",
                        "--kdf-mem", "8"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r
    p = wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", port], "sync", env)
    item = registered_item(bus, sni_watcher)
    c = awtest.Client("127.0.0.1", port)
    try:
        wait_for(lambda: item.entry("Sync now")["visible"], 20, what="Sync now to show")
        pushes = c.get("/api/0/sync/status").json()["push"]["count"]
        item.click(item.entry("Sync now")["id"])
        wait_for(lambda: c.get("/api/0/sync/status").json()["push"]["count"] > pushes, 30, what="a sync round")
        wait_for(lambda: "awnode-tray: POST /api/0/sync/now: done" in p.text(), 10, what="the tray's log line")
    finally:
        c.close()
        item.close()
    assert p.stop() == 0, p.text()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_time_limit_alerts_notify_once(wenv, bus, sni_watcher, node):
    """awnode.alerts: a category's active time today over its limit gives one desktop
    notification; an alert under its limit, a disabled one and AFK time give none."""
    c = node.client()
    host = c.get("/api/0/info").json()["hostname"]
    now = time.time()
    # a start of day three hours ago: the events below are all in today's logical day
    sod = time.strftime("%H:%M", time.localtime(now - 3 * 3600))
    win, afk = "aw-watcher-window_" + host, "aw-watcher-afk_" + host
    c.post("/api/0/buckets/" + win, json={"type": "currentwindow", "client": "t", "hostname": host})
    c.post("/api/0/buckets/" + afk, json={"type": "afkstatus", "client": "t", "hostname": host})
    start = now - 100 * 60
    # 70 minutes of reddit (Media > Social Media by the default categories), then 30 of
    # Slack (Comms > IM), of which the last 20 while AFK
    c.post("/api/0/buckets/%s/events" % win, json=[
        {"timestamp": iso(start), "duration": 70 * 60, "data": {"app": "Firefox", "title": "reddit: the front page"}},
        {"timestamp": iso(start + 70 * 60), "duration": 30 * 60, "data": {"app": "Slack", "title": "general"}}])
    c.post("/api/0/buckets/%s/events" % afk, json=[
        {"timestamp": iso(start), "duration": 80 * 60, "data": {"status": "not-afk"}},
        {"timestamp": iso(start + 80 * 60), "duration": 20 * 60, "data": {"status": "afk"}}])
    c.post("/api/0/settings/startOfDay", json=sod)
    c.post("/api/0/settings/awnode.alerts", json=[
        {"category": ["Media"], "minutes": 60, "enabled": True},             # 70 min: fires
        {"category": ["Media", "Social Media"], "minutes": 120, "enabled": True},  # under
        {"category": ["Comms"], "minutes": 15, "enabled": False},             # disabled
        {"category": ["Comms", "IM"], "minutes": 15, "enabled": True},        # 10 min not AFK: under
        {"category": ["Work"], "minutes": 1},                                 # nothing
        # malformed entries are skipped, not fatal
        "junk", {"category": "Media", "minutes": 1}, {"category": ["Media"], "minutes": "soon"},
        {"category": [], "minutes": 1}, {"minutes": 1}])
    env = wenv.env("alerts", extra={"DBUS_SESSION_BUS_ADDRESS": bus.address})
    tray = wenv.spawn([bin_path("awnode-tray"), "--testing", "--port", node.port, "--poll-time", "0.2"], "tray", env)
    notes = wait_for(sni_watcher.notifications, 20, what="a notification")
    assert notes == [("awnode", "Time limit reached: Media", "1h 10m today (limit 1h 00m)")], notes
    # the next checks (one every 12 polls: 2.4 s here) add nothing
    time.sleep(6)
    assert sni_watcher.notifications() == notes
    # a limit lowered in the web UI counts from the next check: IM's 10 minutes reach 5
    c.post("/api/0/settings/awnode.alerts", json=[{"category": ["Comms", "IM"], "minutes": 5, "enabled": True}])
    wait_for(lambda: len(sni_watcher.notifications()) == 2, 10, what="the second notification")
    assert sni_watcher.notifications()[1] == ("awnode", "Time limit reached: Comms > IM",
                                              "0h 10m today (limit 0h 05m)")
    assert tray.stop() == 0, tray.text()
    c.close()
