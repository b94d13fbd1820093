"""Helpers for the watcher integration tests (tests/integration/test_watchers*.py).

* ``Xvfb``: a private X server on a free display number (``-displayfd``).
* ``XClient``: drives ``aw-xtest-client`` (xtest_client.c beside this file, built by
  watchers/CMakeLists.txt next to awnode in build/bin/), a tiny X client that creates windows, sets their titles and
  classes and sets ``_NET_ACTIVE_WINDOW`` on the root window, standing in for
  applications and a window manager.
* ``Proc``: a watcher (or ``awnode start``) process with its stderr in a file, checked
  for sanitizer findings.
* ``xdotool(display, ...)``: synthetic input (XTEST), which resets the X idle time.

The tests skip when Xvfb is not installed; everything else (xdotool, the watcher
binaries) is required.
"""

import calendar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import awtest  # noqa: E402

SANITIZER_MARKERS = awtest.SANITIZER_MARKERS
HOSTNAME = socket.gethostname()


def have_xvfb():
    return shutil.which("Xvfb") is not None


requires_xvfb = pytest.mark.skipif(not have_xvfb(), reason="Xvfb is not installed (Debian package xvfb)")


def bin_path(name):
    """A binary next to awnode (build/bin/)."""
    path = os.path.join(os.path.dirname(awtest.binary_path()), name)
    if not os.path.exists(path):
        pytest.fail("%s not found at %s: build the watchers (watchers/CMakeLists.txt, "
                    "add_subdirectory(watchers))" % (name, path))
    return path


class Xvfb:
    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.proc = None
        self.display = None

    def start(self):
        r, w = os.pipe()
        log = open(os.path.join(self.tmpdir, "xvfb.log"), "wb")
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-nolisten", "tcp", "-screen", "0", "640x480x24",
             "-noreset"],
            pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        os.close(w)
        log.close()
        data = b""
        deadline = time.monotonic() + 15
        while not data.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(r, 64)
            if not chunk:
                break
            data += chunk
        os.close(r)
        if not data.strip():
            self.stop()
            pytest.fail("Xvfb did not start: %s" % open(os.path.join(self.tmpdir, "xvfb.log")).read())
        self.display = ":" + data.decode().strip()
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def xdotool(display, *args):
    exe = shutil.which("xdotool")
    if exe is None:
        pytest.fail("xdotool is not installed (Debian package xdotool)")
    env = dict(os.environ, DISPLAY=display)
    subprocess.run([exe] + [str(a) for a in args], env=env, check=True, timeout=10,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hexbytes(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return b.hex() if b else "-"


def quit_line_client(proc):
    """Stop a test client driven by stdin lines (aw-xtest-client, aw-wltest-client): "quit",
    then kill it if it has not exited within 5 s. Returns its exit code."""
    if proc.poll() is None:
        try:
            proc.stdin.write("quit\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class XClient:
    """aw-xtest-client: one command per line, answered "ok" after an X round trip."""

    def __init__(self, display):
        self.proc = subprocess.Popen([bin_path("aw-xtest-client")], env=dict(os.environ, DISPLAY=display),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.proc.stdout.readline().strip() == "ready"

    def cmd(self, *words):
        self.proc.stdin.write(" ".join(words) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", "aw-xtest-client: %r -> %r" % (words, answer)

    def window(self, name, app=None, title=None, instance=None, wm_name=None):
        """Create a window; app = WM_CLASS class, title = _NET_WM_NAME (UTF-8 or bytes),
        wm_name = WM_NAME (Latin-1 bytes or str)."""
        self.cmd("create", name)
        if app is not None:
            self.cmd("class", name, hexbytes((instance or app.lower()).encode() + b"\0" + app.encode() + b"\0"))
        if title is not None:
            self.cmd("netname", name, hexbytes(title))
        if wm_name is not None:
            self.cmd("wmname", name, hexbytes(wm_name if isinstance(wm_name, bytes) else wm_name.encode("latin-1")))

    def title(self, name, title):
        self.cmd("netname", name, hexbytes(title))

    def activate(self, name):
        if name is None:
            self.cmd("activate-none")
        else:
            self.cmd("activate", name)

    def close(self):
        quit_line_client(self.proc)


class Proc:
    """A watcher or `awnode start` process; stderr goes to a file."""

    def __init__(self, argv, env, logdir, name):
        self.argv = argv
        self.name = name
        self.stderr_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.monotonic() * 1000)))
        self._f = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self._f,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        self.signalled = None

    @property
    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.signalled = sig
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not exit within %ss of signal %s:\n%s"
                                     % (self.name, timeout, sig, self.text()[-3000:]))
        self._f.close()
        return self.proc.returncode

    def wait(self, timeout=15):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("%s kept running:\n%s" % (self.name, self.text()[-3000:]))
        self._f.close()
        return self.proc.returncode

    def text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def problems(self):
        err = self.text()
        for m in SANITIZER_MARKERS:
            if m in err:
                return ["%s: output contains %r:\n%s" % (self.name, m, err[-6000:])]
        return []


class WatcherEnv:
    """Xvfb + an X client + a factory for watcher processes with private XDG dirs."""

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.x = Xvfb(self.tmp).start()
        self.display = self.x.display
        self.procs = []
        self.xc = None
        self.n = 0

    def xclient(self):
        if self.xc is None:
            self.xc = XClient(self.display)
        return self.xc

    def env(self, name="w", display=True, extra=None):
        base = os.path.join(self.tmp, name)
        env = dict(os.environ)
        for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
            d = os.path.join(base, "xdg-" + kind.lower())
            os.makedirs(d, exist_ok=True)
            env["XDG_%s_HOME" % kind] = d
        env["HOME"] = base
        # private, so `awnode start`'s control socket never meets the user's own
        runtime = os.path.join(base, "xdg-runtime")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = runtime
        env.pop("WAYLAND_DISPLAY", None)
        # no session bus unless a test brings its own: `awnode start` would run a tray
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        if display:
            env["DISPLAY"] = self.display
        else:
            env.pop("DISPLAY", None)
        if extra:
            env.update(extra)
        return env

    def config_path(self, file, name="w"):
        d = os.path.join(self.tmp, name, "xdg-config", "awnode")
        os.makedirs(d, exist_ok=True)
        return os.path.join(d, file)

    def write_config(self, file, text, name="w"):
        with open(self.config_path(file, name), "w") as f:
            f.write(text)

    def queue_dir(self, watcher, name="w", testing=True):
        return os.path.join(self.tmp, name, "xdg-cache", "awnode", "queue",
                            watcher + ("-testing" if testing else ""))

    def start(self, watcher, *args, name="w", env=None):
        self.n += 1
        p = Proc([bin_path(watcher)] + [str(a) for a in args], env or self.env(name), self.tmp,
                 "%s-%d" % (watcher, self.n))
        self.procs.append(p)
        return p

    def spawn(self, argv, name, env):
        """Any process (e.g. `awnode start`), checked like the watchers at teardown."""
        self.n += 1
        p = Proc([str(a) for a in argv], env, self.tmp, "%s-%d" % (name, self.n))
        self.procs.append(p)
        return p

    def run(self, watcher, *args, env=None, timeout=15):
        """Run to completion: (returncode, output)."""
        p = self.start(watcher, *args, env=env)
        rc = p.wait(timeout)
        return rc, p.text()

    def input(self, x=None, y=None):
        """Move the pointer (synthetic input: resets the X idle time)."""
        self.n += 1
        xdotool(self.display, "mousemove", x if x is not None else 10 + self.n % 300,
                y if y is not None else 10 + self.n % 200)

    def close(self):
        problems = []
        for p in self.procs:
            if p.running:
                p.stop()
            problems.extend(p.problems())
        if self.xc:
            self.xc.close()
        self.x.stop()
        return problems


def events(client, bucket):
    """Events of a bucket, oldest first."""
    evs = awtest.get_events(client, bucket)
    return sorted(evs, key=lambda e: e["timestamp"])


def first_events(client, bucket):
    """events(), or [] while the bucket does not exist: a watcher says it started before
    its first heartbeat creates the bucket, so a wait for its first event begins there."""
    if client.get("/api/0/buckets/%s" % awtest.quote_id(bucket)).status == 404:
        return []
    return events(client, bucket)


def ts(e):
    """Event start as seconds since the epoch (float)."""
    base, _, frac = e["timestamp"].rstrip("Z").partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + (float("0." + frac) if frac else 0.0)


def end(e):
    return ts(e) + e["duration"]


def datas(evs):
    return [e["data"] for e in evs]


def wait_for(pred, timeout, interval=0.2, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def assert_no_overlap(evs, tol=1e-6):
    for a, b in zip(evs, evs[1:]):
        assert end(a) <= ts(b) + tol, "events overlap:\n%s\n%s" % (json.dumps(a), json.dumps(b))


def assert_contiguous(evs, max_gap):
    for a, b in zip(evs, evs[1:]):
        gap = ts(b) - end(a)
        assert gap <= max_gap, "gap of %.3f s between\n%s\n%s" % (gap, json.dumps(a), json.dumps(b))


@pytest.fixture
def wenv(tmp_path):
    """A WatcherEnv; at teardown every process is stopped and checked for sanitizer
    findings."""
    e = WatcherEnv(tmp_path)
    yield e
    problems = e.close()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def statuses(evs):
    return [e["data"]["status"] for e in evs]


def afk_round_trip(start_watcher, activity):
    """The AFK watcher (timeout 2 s, poll 0.5 s) through active ~1.5 s, idle 3.5 s, active
    ~1.2 s, on any backend: start_watcher(*args) starts it, activity() is one input.
    Returns the stopped watcher and the times of the last input before the idle stretch,
    the input that ended it and the last input."""
    activity()
    w = start_watcher("--timeout", 2, "--poll-time", 0.5)
    for _ in range(5):  # active for ~1.5 s
        time.sleep(0.3)
        activity()
    last_before_idle = time.time()
    time.sleep(3.5)  # idle: AFK after 2 s
    activity()
    back = time.time()
    for _ in range(4):
        time.sleep(0.3)
        activity()
    last_input = time.time()
    time.sleep(0.7)
    assert w.stop() == 0, w.text()
    return w, last_before_idle, back, last_input


def assert_afk_layout(evs, times, tolerance):
    """ActivityWatch's layout of one AFK round trip: not-afk, afk, not-afk, afk starting
    1 ms after the last input, not-afk 1 ms after the input that ended the AFK period;
    each end within `tolerance` seconds (before idle, back, last input) of the input."""
    last_before_idle, back, last_input = times
    assert statuses(evs) == ["not-afk", "afk", "not-afk"], evs
    na1, afk, na2 = evs
    assert_no_overlap(evs)
    assert abs(ts(afk) - end(na1) - 0.001) < 1e-4, evs
    assert abs(ts(na2) - end(afk) - 0.001) < 1e-4, evs
    assert abs(end(na1) - last_before_idle) < tolerance[0], (evs, last_before_idle)
    assert abs(end(afk) - back) < tolerance[1], (evs, back)
    assert abs(end(na2) - last_input) < tolerance[2], (evs, last_input)

