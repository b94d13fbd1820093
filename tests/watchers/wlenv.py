"""Helpers for the Wayland watcher tests (tests/integration/test_wayland_sway.py and
test_wayland_kde.py).

* ``Session``: what both compositors share: a private directory, the unprivileged
  user, watcher processes with private XDG dirs, their teardown.
* ``Sway``: a private headless sway (``WLR_BACKENDS=headless``, pixman renderer, no
  input devices, no XWayland) with its own ``XDG_RUNTIME_DIR`` (mode 0700), plus
  ``swaymsg`` to focus windows and move the seat's cursor (which the compositor counts
  as user activity).
* ``KWin``: a private ``kwin_wayland --virtual`` (KDE Plasma's compositor, headless) on a
  private D-Bus session bus of its own, with KWin scripts loaded over D-Bus to focus
  windows. Debian installs kwin_wayland with a file capability (cap_sys_resource),
  which a container without that capability refuses to execute; a copy has none, and it
  keeps the name kwin_wayland because KWin loads its Qt platform plugin only into a
  program of that name.
* ``WlClient``: drives ``aw-wltest-client`` (wltest_client.c beside this file, built
  next to awnode in build/bin/), one xdg_toplevel with a given app_id and title.
* ``bare_compositor``: ``aw-wltest-compositor`` (wltest_compositor.c), a compositor
  that offers only a seat, standing in for one without the watchers' protocols.

sway refuses to run as root. As root (CI), the tests create the unprivileged user
``awnode-wltest`` once and run sway, the clients and the watchers as that user, in a
directory of their own under /tmp (pytest's tmp_path is root's and closed to others),
with the binaries copied there so that any build directory works. The node keeps
running as the caller: the watchers reach it over TCP only.

The tests skip when their compositor is not installed; everything else is required.
"""

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import xenv  # noqa: E402
from xenv import bin_path  # noqa: E402

TEST_USER = "awnode-wltest"

requires_sway = pytest.mark.skipif(shutil.which("sway") is None,
                                   reason="sway is not installed (Debian package sway)")
requires_kwin = pytest.mark.skipif(shutil.which("kwin_wayland") is None,
                                   reason="kwin_wayland is not installed (Debian package kwin-wayland)")


def run_as():
    """(uid, gid) of the unprivileged user when running as root, else None. Creates the
    user on first use (a system user without home or login shell)."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(TEST_USER)
    except KeyError:
        r = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        # exit 9: another test run created it meanwhile
        if r.returncode not in (0, 9):
            pytest.fail("useradd %s failed: %s" % (TEST_USER, r.stdout))
        pw = pwd.getpwnam(TEST_USER)
    return pw.pw_uid, pw.pw_gid


def popen_user_kw(user):
    if user is None:
        return {}
    return {"user": user[0], "group": user[1], "extra_groups": []}


class UserProc(xenv.Proc):
    """xenv.Proc (stderr in a file, checked for sanitizer findings), run as `user`."""

    def __init__(self, argv, env, logdir, name, user):
        self.argv = argv
        self.name = name
        self.stderr_path = os.path.join(logdir, "%s-%d.log" % (name, int(time.monotonic() * 1000)))
        self._f = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=self._f,
                                     stderr=subprocess.STDOUT, **popen_user_kw(user))
        self.pid = self.proc.pid
        self.signalled = None


def session_fixtures(cls, name):
    """Fixtures `<name>_session` (one compositor of class `cls` for the module) and
    `<name>` (that compositor for one test: the processes and windows the test starts are
    stopped after it and checked for sanitizer findings). Assign both in the test module:
    `sway_session, sway = session_fixtures(Sway, "sway")`."""

    def fail_on(problems):
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    @pytest.fixture(scope="module", name=name + "_session")
    def module_session(tmp_path_factory):
        s = cls(str(tmp_path_factory.mktemp(name))).start()
        yield s
        fail_on(s.stop())

    @pytest.fixture(name=name)
    def test_session(request):
        s = request.getfixturevalue(name + "_session")
        first = len(s.procs)
        s.test_clients = []
        yield s
        for c in s.test_clients:
            c.close()
        s.test_clients = []
        fail_on(s.stop_since(first))

    return module_session, test_session


class Session:
    """A compositor's private directory and the processes run in its session."""
    SOCKET_WAIT = 15

    def __init__(self, logdir):
        self.logdir = logdir
        self.user = run_as()
        self.base = tempfile.mkdtemp(prefix="awnode-wl-")
        os.chmod(self.base, 0o755)
        self.runtime = self.mkdir("run", 0o700)
        self.home = self.mkdir("home", 0o755)
        self.bindir = self.mkdir("bin", 0o755)
        self.procs = []
        self.n = 0
        self.proc = None
        self.display = None
        self.extra_env = {}
        self.test_clients = []

    def mkdir(self, name, mode):
        path = os.path.join(self.base, name)
        os.mkdir(path)
        os.chmod(path, mode)
        if self.user:
            os.chown(path, *self.user)
        return path

    def binary(self, name):
        """The binary `name` from next to awnode, copied where the test user can run it."""
        dst = os.path.join(self.bindir, name)
        if not os.path.exists(dst):
            shutil.copy2(bin_path(name), dst)
            os.chmod(dst, 0o755)
        return dst

    def env(self, name="w", wayland=True, extra=None):
        """An environment with private XDG dirs for a process run as the test user."""
        home = os.path.join(self.home, name)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "XDG_RUNTIME_DIR": self.runtime, "LANG": "C.UTF-8"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
            env["XDG_%s_HOME" % kind] = os.path.join(home, "xdg-" + kind.lower())
        if not os.path.exists(home):
            for d in [home] + [env["XDG_%s_HOME" % k] for k in ("CONFIG", "DATA", "STATE", "CACHE")]:
                os.mkdir(d)
                if self.user:
                    os.chown(d, *self.user)
        if wayland and self.display:
            env["WAYLAND_DISPLAY"] = self.display
        env.update(self.extra_env)
        if extra:
            env.update(extra)
        return env

    def spawn(self, argv, env, name):
        """A process run as the test user, stopped and checked at teardown."""
        self.n += 1
        p = UserProc([str(a) for a in argv], env, self.logdir, "%s-%d" % (name, self.n), self.user)
        self.procs.append(p)
        return p

    def watcher(self, watcher, *args, env=None):
        return self.spawn([self.binary(watcher)] + list(args), env or self.env(), watcher)

    def run(self, watcher, *args, env=None, timeout=15):
        """Run a watcher to completion: (returncode, output)."""
        p = self.watcher(watcher, *args, env=env)
        rc = p.wait(timeout)
        return rc, p.text()

    def client(self, app_id, title):
        """A window for the current test (closed after it, see session_fixtures)."""
        c = WlClient(self, app_id, title)
        self.test_clients.append(c)
        return c

    def stop_since(self, first):
        """Stop the processes started since procs[first]: their sanitizer findings."""
        problems = []
        for p in reversed(self.procs[first:]):
            if p.running:
                try:
                    p.stop()
                except AssertionError as e:
                    problems.append(str(e))
            problems.extend(p.problems())
        del self.procs[first:]
        return problems

    def stop(self):
        problems = []
        for p in reversed(self.procs):
            if p.running:
                try:
                    p.stop()
                except AssertionError as e:
                    problems.append(str(e))
            if p is not self.proc:
                problems.extend(p.problems())
        shutil.rmtree(self.base, ignore_errors=True)
        return problems


class Sway(Session):
    def __init__(self, logdir):
        super().__init__(logdir)
        self.swaysock = None
        with open(os.path.join(self.base, "sway.conf"), "w") as f:
            f.write("xwayland disable\n"
                    "default_border none\n"
                    "focus_on_window_activation none\n")

    def start(self):
        env = self.env("sway", wayland=False, extra={
            "WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman",
            "XDG_CURRENT_DESKTOP": "sway"})
        self.proc = self.spawn(["sway", "-c", os.path.join(self.base, "sway.conf")], env, "sway")
        deadline = time.monotonic() + self.SOCKET_WAIT
        while time.monotonic() < deadline:
            names = os.listdir(self.runtime)
            wl = [n for n in names if n.startswith("wayland-") and not n.endswith(".lock")]
            ipc = [n for n in names if n.startswith("sway-ipc.") and n.endswith(".sock")]
            if wl and ipc:
                self.display = wl[0]
                self.swaysock = os.path.join(self.runtime, ipc[0])
                self.extra_env["SWAYSOCK"] = self.swaysock
                if self.swaymsg("-t", "get_version", check=False).returncode == 0:
                    return self
            if not self.proc.running:
                break
            time.sleep(0.1)
        text = self.proc.text()
        self.stop()
        pytest.fail("sway did not start:\n%s" % text[-3000:])

    def swaymsg(self, *args, check=True):
        r = subprocess.run(["swaymsg", "-s", self.swaysock] + [str(a) for a in args],
                           env=self.env("swaymsg"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=10, **popen_user_kw(self.user))
        if check and r.returncode != 0:
            raise AssertionError("swaymsg %s failed (%d): %s" % (" ".join(map(str, args)), r.returncode, r.stdout))
        return r

    def focus(self, app_id):
        self.swaymsg("[app_id=\"%s\"] focus" % app_id)

    def activity(self):
        """User activity on seat0: a cursor move, which resets sway's idle timers."""
        self.n += 1
        self.swaymsg("seat", "seat0", "cursor", "move", 1 + self.n % 5, 1)


class KWin(Session):
    """kwin_wayland --virtual on a private session bus; focus() and caption changes go
    through KWin scripts, the way the watcher's own script reaches KWin."""

    def __init__(self, logdir):
        super().__init__(logdir)
        self.bus_path = os.path.join(self.runtime, "bus")
        self.extra_env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + self.bus_path
        self.scripts = 0

    def start(self):
        self.spawn(["dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path=" + self.bus_path],
                   self.env("bus", wayland=False), "dbus-daemon")
        kwin = os.path.join(self.bindir, "kwin_wayland")
        shutil.copyfile(shutil.which("kwin_wayland"), kwin)  # without the file capability
        os.chmod(kwin, 0o755)
        self.proc = self.spawn([kwin, "--virtual", "--no-lockscreen", "--width", "1024", "--height", "768",
                                "--socket", "wayland-kw"], self.env("kwin", wayland=False, extra={
                                    "XDG_CURRENT_DESKTOP": "KDE", "KDE_FULL_SESSION": "true",
                                    # software compositing without OpenGL: nothing to draw here
                                    "KWIN_COMPOSE": "Q"}), "kwin")
        deadline = time.monotonic() + self.SOCKET_WAIT * 2
        while time.monotonic() < deadline:
            if os.path.exists(os.path.join(self.runtime, "wayland-kw")) and \
                    self.dbus("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                              "string:org.kde.KWin", check=False).stdout.find("boolean true") >= 0:
                self.display = "wayland-kw"
                return self
            if not self.proc.running:
                break
            time.sleep(0.2)
        text = self.proc.text()
        self.stop()
        pytest.fail("kwin_wayland did not start:\n%s" % text[-3000:])

    def dbus(self, dest, path, method, *args, check=True):
        r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=" + dest, path, method] + list(args),
                           env=self.env("dbus-send"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=10, **popen_user_kw(self.user))
        if check and r.returncode != 0:
            raise AssertionError("dbus-send %s %s failed: %s" % (path, method, r.stdout))
        return r

    def script(self, body):
        """Run `body` once inside KWin (loaded, started, unloaded)."""
        self.scripts += 1
        name = "awnode-test-%d" % self.scripts
        path = os.path.join(self.base, name + ".js")
        with open(path, "w") as f:
            f.write(body)
        os.chmod(path, 0o644)
        self.dbus("org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.loadScript", "string:" + path,
                  "string:" + name)
        self.dbus("org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.start")
        self.dbus("org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.unloadScript", "string:" + name)

    def focus(self, app_id):
        self.script("var ws = workspace.clientList();\n"
                    "for (var i = 0; i < ws.length; i++)\n"
                    "  if (String(ws[i].resourceClass) == %s) workspace.activeClient = ws[i];\n"
                    % json.dumps(app_id))

    def script_loaded(self, name):
        r = self.dbus("org.kde.KWin", "/Scripting", "org.kde.kwin.Scripting.isScriptLoaded", "string:" + name)
        return "boolean true" in r.stdout


class WlClient:
    """aw-wltest-client: a window; `title()` changes its title."""

    def __init__(self, sway, app_id, title):
        self.app_id = app_id
        self.proc = subprocess.Popen([sway.binary("aw-wltest-client"), app_id, title], env=sway.env("clients"),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     **popen_user_kw(sway.user))
        line = self.proc.stdout.readline().strip()
        assert line == "ready", "aw-wltest-client %s: %r" % (app_id, line)

    def title(self, title):
        self.proc.stdin.write("title %s\n" % title)
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", answer

    def close(self):
        return xenv.quit_line_client(self.proc)
