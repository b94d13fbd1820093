"""`awnode start` (docs/watchers.md): runs the node and, where an X display is usable, both
watchers; restarts a crashed watcher with back-off; stops everything on SIGTERM."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from awtest import free_port  # noqa: E402
from xenv import HOSTNAME, requires_xvfb, wait_for, wenv  # noqa: E402

pytestmark = requires_xvfb
__all__ = ["wenv"]


@pytest.fixture(autouse=True)
def start_available():
    out = subprocess.run([awtest.binary_path(), "start", "--help"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0 or "usage: awnode start" not in out.stdout:
        pytest.fail("`awnode start` is not wired into node/src/main.c (see docs/watchers.md): %s"
                    % (out.stdout + out.stderr).strip())


def start(wenv, port, *args, display=True, name="start"):
    return wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", port] + list(args), name,
                      wenv.env(name, display=display))


def answers(port):
    def check():
        try:
            c = awtest.Client("127.0.0.1", port, timeout=2)
            r = c.get("/api/0/info")
            c.close()
            return r.status == 200
        except OSError:
            return False
    return check


def pids(text, name):
    return [int(p) for p in re.findall(r"started %s \(pid (\d+)\)" % re.escape(name), text)]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def test_runs_node_and_watchers_restarts_crash_stops_all(wenv):
    port = free_port()
    p = start(wenv, port)
    wait_for(answers(port), 15, what="the node")
    client = awtest.Client("127.0.0.1", port)

    def buckets():
        b = client.get("/api/0/buckets/").json()
        return "aw-watcher-afk_" + HOSTNAME in b and "aw-watcher-window_" + HOSTNAME in b
    wait_for(buckets, 15, what="both watchers' buckets")

    afk_pid = pids(p.text(), "aw-watcher-afk")[0]
    win_pid = pids(p.text(), "aw-watcher-window")[0]
    node_pid = pids(p.text(), "the node")[0]
    os.kill(afk_pid, signal.SIGKILL)
    wait_for(lambda: len(pids(p.text(), "aw-watcher-afk")) == 2, 10, what="the restart")
    new_afk = pids(p.text(), "aw-watcher-afk")[1]
    assert "aw-watcher-afk was killed by signal 9 (Killed); restarting in 1 s" in p.text()
    assert new_afk != afk_pid and alive(new_afk)
    time.sleep(0.5)
    assert p.stop(signal.SIGTERM) == 0, p.text()
    client.close()
    for pid in (new_afk, win_pid, node_pid):
        assert not alive(pid), pid
    out = p.text()
    # watchers stop before the node, so they can deliver their queues
    assert out.index("aw-watcher-window exited with code 0") < out.index("the node exited with code 0"), out
    assert out.rstrip().endswith("awnode start: stopped"), out


def test_without_display_only_the_node(wenv):
    port = free_port()
    p = start(wenv, port, display=False, name="nodisp")
    wait_for(answers(port), 15, what="the node")
    time.sleep(0.3)
    out = p.text()
    assert "no usable X display (DISPLAY is not set): not starting the watchers" in out, out
    assert "started aw-watcher" not in out
    assert p.stop(signal.SIGINT) == 0, p.text()


def test_bad_serve_option_stops_with_code_2(wenv):
    p = start(wenv, free_port(), "--no-such-option")
    assert p.wait(15) == 2, p.text()
    assert "bad option or config; stopping" in p.text()


def test_existing_node_is_used(wenv, node):
    p = start(wenv, node.port, name="existing")
    wait_for(lambda: len(pids(p.text(), "aw-watcher-window")) == 1, 15, what="the watchers")
    assert "a node already answers on 127.0.0.1:%d; starting only the watchers" % node.port in p.text()
    time.sleep(0.5)
    assert p.stop() == 0, p.text()
    assert node.running
    awtest.assert_alive(node.client())


def test_watcher_with_bad_config_is_not_restarted(wenv):
    port = free_port()
    wenv.write_config("aw-watcher-window.toml", "poll_time = \"often\"\n", name="badcfg")
    p = start(wenv, port, name="badcfg")
    wait_for(lambda: "not restarting it" in p.text(), 15, what="the watcher to give up")
    time.sleep(1.5)
    out = p.text()
    assert "aw-watcher-window exited with code 2 (bad option or config); not restarting it" in out, out
    assert len(pids(out, "aw-watcher-window")) == 1, out
    assert len(pids(out, "aw-watcher-afk")) == 1, out
    assert p.stop() == 0, p.text()
