"""The watchers' disk queue (docs/watchers.md): a node that is down or restarting loses nothing.

Both watchers run while the node is stopped for ~10 s and started again on the same
database; the window changes and input goes on during the outage. Afterwards the node
must hold one contiguous timeline: no gap, no duplicate. (The issue says 30 s; 10 s
proves the same thing, since the watchers commit a heartbeat every 5 s in testing mode
and retry with back-off capped at 10 s, so several queued heartbeats and several failed
retries happen during the outage.)
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

from awtest import free_port  # noqa: E402
from xenv import (HOSTNAME, assert_contiguous, assert_no_overlap, datas, end, events,  # noqa: E402
                  requires_xvfb, ts, wait_for, wenv)

pytestmark = requires_xvfb
WIN = "aw-watcher-window_" + HOSTNAME
AFK = "aw-watcher-afk_" + HOSTNAME
POLL = 0.5
__all__ = ["wenv"]


def active(wenv, seconds):
    """Keep the user active (pointer motion every 0.3 s) for `seconds`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        wenv.input()
        time.sleep(0.3)
    wenv.input()
    return time.time()


def test_node_down_and_back_no_gap_no_duplicate(wenv, node_factory):
    node = node_factory()
    client = node.client()
    xc = wenv.xclient()
    xc.window("a", app="Editor", title="Alpha")
    xc.window("b", app="Browser", title="Beta")
    xc.activate("a")
    wenv.input()
    first_input = time.time()
    afk = wenv.start("aw-watcher-afk", "--testing", "--port", node.port, "--timeout", 60, "--poll-time", POLL)
    win = wenv.start("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL)
    active(wenv, 3)

    node.stop()  # down for ~10 s while both watchers keep running
    down_at = time.time()
    active(wenv, 5)
    xc.activate("b")
    switch = time.time()
    active(wenv, 5)
    node.start()  # same port, same XDG dirs, same database
    up_at = time.time()
    assert up_at - down_at > 9.5

    # while the watchers still run, what they queued during the outage arrives
    def outage_delivered():
        w = [e for e in events(client, WIN) if e["data"]["title"] == "Beta"]
        a = events(client, AFK)
        return w and ts(w[0]) < up_at and a and end(a[-1]) > down_at + 4
    wait_for(outage_delivered, 25, what="the heartbeats queued during the outage")
    last_input = active(wenv, 1)
    time.sleep(0.3)
    assert win.stop() == 0, win.text()
    assert afk.stop() == 0, afk.text()

    wevs = events(client, WIN)
    assert datas(wevs) == [{"app": "Editor", "title": "Alpha"}, {"app": "Browser", "title": "Beta"}], wevs
    assert_no_overlap(wevs)
    assert_contiguous(wevs, POLL + 0.3)
    assert ts(wevs[0]) < down_at - 2          # began before the outage ...
    assert abs(ts(wevs[1]) - switch) < POLL + 0.3  # the switch happened during it ...
    assert end(wevs[1]) > last_input - POLL - 0.3  # ... and the last one runs to the end

    aevs = events(client, AFK)
    # one not-afk event from the first to the last input, straight through the outage
    assert [e["data"]["status"] for e in aevs] == ["not-afk"], aevs
    assert abs(ts(aevs[0]) - first_input) < 0.5, (aevs, first_input)
    assert abs(end(aevs[0]) - last_input) < 0.5, (aevs, last_input)

    for w in (win, afk):
        out = w.text()
        assert "cannot reach the node" in out, out
        assert "reachable again" in out, out
        # one warning for the outage, not one per retry
        assert out.count("cannot reach the node") == 1, out


def test_queue_survives_watcher_restart_before_node_exists(wenv, node_factory):
    port = free_port()
    xc = wenv.xclient()
    xc.window("a", app="Solo", title="Offline")
    xc.activate("a")
    started = time.time()
    w = wenv.start("aw-watcher-window", "--testing", "--port", port, "--poll-time", 0.4)
    time.sleep(2.5)
    assert w.running, w.text()
    assert w.stop() == 0, w.text()
    out = w.text()
    assert out.count("cannot reach the node at http://127.0.0.1:%d" % port) == 1, out
    assert "stay queued on disk for the next start" in out, out
    with open(os.path.join(wenv.queue_dir("aw-watcher-window"), "queue.jsonl")) as f:
        assert len(f.read().splitlines()) >= 1

    node = node_factory(port=port)  # the node appears only now
    client = node.client()
    w = wenv.start("aw-watcher-window", "--testing", "--port", port, "--poll-time", 0.4)
    time.sleep(1.5)
    assert w.stop() == 0, w.text()
    evs = events(client, WIN)
    assert evs and all(e["data"] == {"app": "Solo", "title": "Offline"} for e in evs), evs
    assert_no_overlap(evs)
    # the first event is from the run before the node existed
    assert abs(ts(evs[0]) - started) < 0.6, (evs, started)
    assert "delivered" in w.text() or "queued by an earlier run" in w.text(), w.text()
    with open(os.path.join(wenv.queue_dir("aw-watcher-window"), "queue.jsonl")) as f:
        assert f.read() == ""


def test_second_instance_refused(wenv, node):
    w = wenv.start("aw-watcher-window", "--testing", "--port", node.port)
    time.sleep(0.3)
    rc, out = wenv.run("aw-watcher-window", "--testing", "--port", node.port)
    assert rc == 4, out
    assert len(out.strip().splitlines()) == 1 and "already running" in out, out
    assert w.running
    assert w.stop() == 0
