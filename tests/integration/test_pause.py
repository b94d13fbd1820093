"""Pausing logging (docs/api.md, docs/watchers.md): `awnode pause|resume|status` and /api/0/watchers
against a real `awnode start --testing` under Xvfb, with a test-controlled window whose
title keeps changing. While aw-watcher-window is paused its process is gone and its
bucket does not change at all (no new event, no heartbeat growing an old one); after a
resume, or when a timed pause runs out, events arrive again."""

import calendar
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

import awtest  # noqa: E402
from awtest import free_port  # noqa: E402
from xenv import HOSTNAME, events, requires_xvfb, wait_for, wenv  # noqa: E402

BUCKET = "aw-watcher-window_" + HOSTNAME
__all__ = ["wenv"]


# ---- helpers ---------------------------------------------------------------------------

def private_env(wenv, name, display=True, runtime_dir=True):
    """The private XDG dirs of `name` (XDG_RUNTIME_DIR included, unless runtime_dir is
    false: then there is none)."""
    env = wenv.env(name, display=display)
    if not runtime_dir:
        env.pop("XDG_RUNTIME_DIR")
    # a quick window watcher, so title changes show up within a second
    wenv.write_config("aw-watcher-window.toml", "[aw-watcher-window-testing]\npoll_time = 0.3\n", name=name)
    return env


def awnode(env, *args, timeout=30):
    """Run `awnode ARGS`: (exit code, stdout, stderr)."""
    p = subprocess.run([awtest.binary_path()] + [str(a) for a in args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert not any(m in p.stderr for m in awtest.SANITIZER_MARKERS), p.stderr
    return p.returncode, p.stdout, p.stderr


def start(wenv, env, port, name="start"):
    p = wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", port], name, env)
    wait_for(lambda: node_answers(port), 15, what="the node")
    return p


def node_answers(port):
    try:
        c = awtest.Client("127.0.0.1", port, timeout=2)
        ok = c.get("/api/0/info").status == 200
        c.close()
        return ok
    except OSError:
        return False


def status(env):
    rc, out, err = awnode(env, "status", "--testing", "--json")
    assert rc == 0, (out, err)
    return {c["name"]: c for c in json.loads(out)["children"]}


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


class Titles:
    """The test's window: its title changes on every step()."""

    def __init__(self, wenv):
        self.xc = wenv.xclient()
        self.n = 0
        self.xc.window("w", app="Editor", title="start")
        self.xc.activate("w")

    def step(self, prefix):
        self.n += 1
        title = "%s-%d" % (prefix, self.n)
        self.xc.title("w", title)
        return title


def snapshot(client):
    return [(e["id"], e["timestamp"], e["duration"], json.dumps(e["data"], sort_keys=True))
            for e in events(client, BUCKET)]


def titles_seen(client):
    """Titles in the window bucket; none while the watcher has not created it yet (a
    slow start, as under the sanitizers, is not a failure to record)."""
    if client.get("/api/0/buckets/" + BUCKET).status == 404:
        return set()
    return {e["data"].get("title") for e in events(client, BUCKET)}


def assert_recording(client, titles, prefix):
    """A new title reaches the bucket."""
    t = titles.step(prefix)
    wait_for(lambda: t in titles_seen(client), 10, what="an event titled %r" % t)


def assert_frozen(client, titles, prefix, seconds=3.0):
    """Titles change for `seconds`, and the bucket does not change at all."""
    before = snapshot(client)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        titles.step(prefix)
        time.sleep(0.4)
    after = snapshot(client)
    assert after == before, "the bucket changed while the watcher was paused:\n%s\n%s" % (before[-3:], after[-3:])
    assert not any(prefix in (t or "") for t in titles_seen(client))


class Recording:
    """`awnode start --testing` in the private dirs of `name` (see private_env), the
    test's window (Titles) and a client of the node, once a first title has reached the
    window bucket."""

    def __init__(self, wenv, name):
        self.env = private_env(wenv, name)
        self.titles = Titles(wenv)
        port = free_port()
        self.p = start(wenv, self.env, port)
        self.client = awtest.Client("127.0.0.1", port)
        assert_recording(self.client, self.titles, "before")

    def stop(self):
        """Close the client; awnode start must stop with code 0."""
        self.client.close()
        assert self.p.stop() == 0, self.p.text()


def one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


# ---- the CLI ---------------------------------------------------------------------------

@requires_xvfb
def test_cli_pause_resume_status_and_timed_pause(wenv):
    rec = Recording(wenv, "cli")
    env, titles, p, client = rec.env, rec.titles, rec.p, rec.client

    # the control socket: private directory, owner-only socket
    sock = os.path.join(env["XDG_RUNTIME_DIR"], "awnode", "supervisor-testing.sock")
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o700

    kids = status(env)
    assert set(kids) == {"node", "aw-watcher-afk", "aw-watcher-window"}
    assert all(k["state"] == "running" for k in kids.values()), kids
    window_pid = kids["aw-watcher-window"]["pid"]
    assert alive(window_pid)

    rc, out, err = awnode(env, "pause", "window", "--testing")
    assert rc == 0, err
    assert one_line(out) == "aw-watcher-window paused until resumed (awnode resume window --testing)"
    assert not alive(window_pid), "the paused watcher still runs"
    assert "pausing aw-watcher-window until resumed" in p.text()
    assert "aw-watcher-window exited with code 0 (paused)" in p.text()  # SIGTERM: queue delivered
    assert_frozen(client, titles, "paused")

    rc, out, err = awnode(env, "status", "--testing")
    assert rc == 0, err
    line = [l for l in out.splitlines() if l.startswith("aw-watcher-window ")]
    assert len(line) == 1, out
    assert re.match(r"aw-watcher-window\s+paused\s+-\s+-\s+0\s+paused until resumed$", line[0]), line[0]
    assert re.search(r"^aw-watcher-afk\s+running\s+\d+", out, re.M), out
    assert re.search(r"^node\s+running\s+\d+", out, re.M), out
    assert status(env)["aw-watcher-afk"]["pid"] is not None  # only the one watcher stopped

    rc, out, err = awnode(env, "resume", "window", "--testing")
    assert rc == 0, err
    m = re.fullmatch(r"aw-watcher-window resumed \(pid (\d+)\)", one_line(out))
    assert m and alive(int(m.group(1))), out
    assert_recording(client, titles, "resumed")
    rc, out, _ = awnode(env, "resume", "aw-watcher-window", "--testing")
    assert (rc, one_line(out)) == (0, "aw-watcher-window was not paused")

    # a timed pause ends by itself
    rc, out, err = awnode(env, "pause", "window", "--for", "3s", "--testing")
    assert rc == 0, err
    assert re.fullmatch(r"aw-watcher-window paused until \d\d:\d\d:\d\d \(awnode resume window --testing\)",
                        one_line(out)), out
    w = status(env)["aw-watcher-window"]
    assert w["state"] == "paused" and w["pid"] is None and w["paused_until"].endswith("Z"), w
    rc, out, _ = awnode(env, "status", "--testing")
    assert re.search(r"^aw-watcher-window\s+paused .* paused until \d\d:\d\d:\d\d$", out, re.M), out
    assert_frozen(client, titles, "timed", seconds=1.5)
    wait_for(lambda: status(env)["aw-watcher-window"]["state"] == "running", 10, what="the pause to end")
    assert "aw-watcher-window: the pause is over; resuming" in p.text()
    assert_recording(client, titles, "after-timed")

    rec.stop()


@requires_xvfb
def test_timed_pause_survives_a_restart_of_awnode_start(wenv):
    env = private_env(wenv, "restart")
    titles = Titles(wenv)
    port = free_port()
    p = start(wenv, env, port)
    wait_for(lambda: status(env)["aw-watcher-window"]["state"] == "running", 10, what="the window watcher")
    assert awnode(env, "pause", "window", "--for", "10m", "--testing")[0] == 0
    assert awnode(env, "pause", "afk", "--testing")[0] == 0  # until resumed: not kept
    until = status(env)["aw-watcher-window"]["paused_until"]
    assert p.stop() == 0, p.text()

    p = start(wenv, env, port, name="again")
    kids = status(env)
    assert kids["aw-watcher-window"]["state"] == "paused", kids
    assert kids["aw-watcher-window"]["paused_until"] == until
    assert "aw-watcher-window stays paused until" in p.text()
    wait_for(lambda: status(env)["aw-watcher-afk"]["state"] == "running", 10, what="aw-watcher-afk")
    client = awtest.Client("127.0.0.1", port)
    assert_frozen(client, titles, "after-restart", seconds=1.5)
    assert awnode(env, "resume", "window", "--testing")[0] == 0
    assert_recording(client, titles, "resumed")
    client.close()
    assert p.stop() == 0, p.text()


@requires_xvfb
def test_without_supervisor_one_line_and_exit_1(wenv):
    env = private_env(wenv, "none", display=False)
    for args in (["pause", "window"], ["pause", "afk", "--for", "15m"], ["resume", "aw-watcher-window"],
                 ["status"]):
        rc, out, err = awnode(env, *args, "--testing")
        assert rc == 1, (args, out, err)
        assert out == ""
        assert one_line(err).startswith("awnode %s: no awnode start --testing is running (nothing answers on "
                                        % args[0]), err


@requires_xvfb
def test_bad_usage_one_line_and_exit_2(wenv):
    env = private_env(wenv, "usage", display=False)
    for args, msg in ((["pause"], "which watcher?"), (["pause", "bogus"], "unknown watcher 'bogus'"),
                      (["pause", "window", "--for", "5x"], "--for needs a duration"),
                      (["pause", "window", "--for"], "unknown or incomplete option"),
                      (["pause", "window", "afk"], "one watcher at a time"),
                      (["resume", "window", "--for", "1m"], "--for is for awnode pause"),
                      (["status", "--bogus"], "unknown or incomplete option"),
                      (["status", "extra"], "unexpected argument")):
        rc, out, err = awnode(env, *args)
        assert rc == 2, (args, out, err)
        assert msg in one_line(err), (args, err)
    for cmd in ("pause", "resume", "status"):
        rc, out, _ = awnode(env, cmd, "--help")
        assert rc == 0 and out.startswith("usage: awnode " + cmd)


@requires_xvfb
def test_second_supervisor_refused_and_stale_socket_replaced(wenv):
    # no XDG_RUNTIME_DIR: the socket lives in a private directory beside the node's data
    env = private_env(wenv, "stale", display=False, runtime_dir=False)
    sock = os.path.join(env["XDG_DATA_HOME"], "awnode", "run", "supervisor-testing.sock")
    first = start(wenv, env, free_port(), name="first")
    assert stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600

    second = wenv.spawn([awtest.binary_path(), "start", "--testing", "--port", free_port()], "second", env)
    assert second.wait(15) == 4, second.text()
    assert one_line(second.text()) == ("awnode start: another awnode start --testing is already running for this "
                                       "user (it answers on %s); stop it first" % sock)
    assert first.running

    # SIGKILL leaves the socket file behind; nobody answers on it
    first.stop(signal.SIGKILL)
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    rc, _, err = awnode(env, "status", "--testing")
    assert rc == 1 and "no awnode start --testing is running" in err
    # the node under the killed supervisor gets SIGTERM (PR_SET_PDEATHSIG) and stops
    time.sleep(0.5)

    third = start(wenv, env, free_port(), name="third")
    kids = status(env)
    assert kids["node"]["state"] == "running" and set(kids) == {"node"}, kids
    rc, _, err = awnode(env, "pause", "window", "--testing")
    assert rc == 1 and "aw-watcher-window is not run by this awnode start" in one_line(err), err
    assert third.stop() == 0, third.text()
    assert not os.path.exists(sock), "a clean stop removes the socket"


# ---- the HTTP API -------------------------------------------------------------------------

@requires_xvfb
def test_api_pause_resume_and_errors(wenv):
    rec = Recording(wenv, "api")
    titles, client = rec.titles, rec.client

    def watchers():
        r = client.get("/api/0/watchers")
        assert r.status == 200, r
        body = r.json()
        assert body["supervised"] is True
        return {w["name"]: w for w in body["watchers"]}

    ws = watchers()
    assert set(ws) == {"aw-watcher-afk", "aw-watcher-window"}
    for w in ws.values():
        assert w["state"] == "running" and isinstance(w["pid"], int) and w["paused_until"] is None, w
    window_pid = ws["aw-watcher-window"]["pid"]

    r = client.post("/api/0/watchers/window/pause")  # no body: until resumed
    assert r.status == 200, r
    body = r.json()
    assert body["watcher"]["name"] == "aw-watcher-window" and body["watcher"]["state"] == "paused"
    assert body["watcher"]["paused_until"] is None
    wait_for(lambda: watchers()["aw-watcher-window"]["pid"] is None, 10, what="the watcher to stop")
    assert not alive(window_pid)
    assert_frozen(client, titles, "paused")

    r = client.post("/api/0/watchers/aw-watcher-window/resume")
    assert r.status == 200 and r.json()["watcher"]["state"] == "running", r
    assert_recording(client, titles, "resumed")

    r = client.post("/api/0/watchers/window/pause", json={"duration": 2})
    assert r.status == 200, r
    until = r.json()["watcher"]["paused_until"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", until), until
    assert abs(calendar.timegm(time.strptime(until, "%Y-%m-%dT%H:%M:%SZ")) - time.time() - 2) <= 2
    assert watchers()["aw-watcher-window"]["state"] == "paused"
    wait_for(lambda: watchers()["aw-watcher-window"]["state"] == "running", 10, what="the pause to end")
    assert_recording(client, titles, "after-timed")
    assert watchers()["aw-watcher-afk"]["state"] == "running"  # untouched all along

    # errors: JSON {"message"} with the documented status
    for path, kw, code in (("/api/0/watchers/nope/pause", {}, 404),
                           ("/api/0/watchers/node/resume", {}, 404),
                           ("/api/0/watchers/window/pause", {"json": {"duration": -1}}, 400),
                           ("/api/0/watchers/window/pause", {"json": {"duration": 0.5}}, 400),
                           ("/api/0/watchers/window/pause", {"json": {"duration": "15m"}}, 400),
                           ("/api/0/watchers/window/pause", {"json": {"duration": 10 ** 9}}, 400),
                           ("/api/0/watchers/window/pause", {"json": [1]}, 400),
                           ("/api/0/watchers/window/pause", {"body": "{nope", "content_type": "application/json"},
                            400)):
        r = client.post(path, **kw)
        assert r.status == code, (path, kw, r)
        assert set(r.json()) == {"message"} and r.json()["message"], r
    assert watchers()["aw-watcher-window"]["state"] == "running"  # no error paused anything

    rec.stop()


def test_api_without_supervisor(node, client):
    r = client.get("/api/0/watchers")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    assert r.json() == {"supervised": False, "watchers": []}
    for path in ("/api/0/watchers/window/pause", "/api/0/watchers/afk/resume"):
        r = client.post(path)
        assert r.status == 409, r
        assert "not running under awnode start" in r.json()["message"]
    r = client.post("/api/0/watchers/window/pause", json={"duration": 900})
    assert r.status == 409, r
    r = client.post("/api/0/watchers/bogus/pause")
    assert r.status == 404 and "unknown watcher 'bogus'" in r.json()["message"], r
    r = client.post("/api/0/watchers/window/pause", json={"duration": "soon"})
    assert r.status == 400, r
