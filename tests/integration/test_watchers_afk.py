"""aw-watcher-afk under Xvfb against a real node (docs/watchers.md): input from xdotool (XTEST,
which resets the X server's idle time), idle periods with a short --timeout.

The suspend/resume rule (a wall-clock jump is not activity) cannot be provoked on a
test machine; unit-level coverage is in tests/unit/watchers/test_watchers_afk.c.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

from xenv import HOSTNAME, afk_round_trip, assert_afk_layout, events, requires_xvfb, statuses, ts, wenv  # noqa: E402

pytestmark = requires_xvfb
BUCKET = "aw-watcher-afk_" + HOSTNAME
__all__ = ["wenv"]


def test_afk_and_back(wenv, node, client):
    w, *times = afk_round_trip(lambda *a: wenv.start("aw-watcher-afk", "--testing", "--port", node.port, *a),
                               wenv.input)
    evs = events(client, BUCKET)
    assert_afk_layout(evs, times, (0.35, 0.35, 0.35))
    assert evs[0]["duration"] > 1.2
    out = w.text()
    assert "became AFK" in out and "no longer AFK" in out
    b = client.get("/api/0/buckets/" + BUCKET).json()
    assert (b["type"], b["client"], b["hostname"]) == ("afkstatus", "aw-watcher-afk", HOSTNAME)


def test_idle_before_start_is_afk_from_last_input(wenv, node, client):
    x_started = time.time()
    time.sleep(2.3)  # no input since the X server started
    w = wenv.start("aw-watcher-afk", "--testing", "--port", node.port, "--timeout", 2, "--poll-time", 0.5)
    time.sleep(1.2)
    assert w.stop() == 0, w.text()
    evs = events(client, BUCKET)
    assert statuses(evs) == ["afk"], evs
    # the AFK period began when the X server last saw input: its start
    assert ts(evs[0]) < x_started + 0.5
    assert evs[0]["duration"] > 3.0


def test_config_file_sets_timeout_and_poll(wenv, node, client):
    wenv.write_config("aw-watcher-afk.toml",
                      "timeout = 99\n[aw-watcher-afk]\ntimeout = 50\n"
                      "[aw-watcher-afk-testing]\ntimeout = 2\npoll_time = 0.5\n")
    wenv.input()
    w = wenv.start("aw-watcher-afk", "--testing", "--port", node.port)
    time.sleep(3.2)
    assert w.stop() == 0, w.text()
    assert "timeout 2 s, poll 0.5 s" in w.text()
    assert statuses(events(client, BUCKET)) == ["not-afk", "afk"]
    # command-line options win over the file
    w = wenv.start("aw-watcher-afk", "--testing", "--port", node.port, "--timeout", 7)
    time.sleep(0.3)
    assert w.stop() == 0
    assert "timeout 7 s, poll 0.5 s" in w.text()
