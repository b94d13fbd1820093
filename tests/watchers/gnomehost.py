"""Stand-ins for GNOME Shell with awnode's extension and for Mutter's idle monitor, on a
private session bus (snihost.SessionBus), for tests/integration/test_gnome_dbus.py.

* ``Shell``: owns org.gnome.Shell and, when ``extension`` is true, exports what awnode's
  Shell extension (watchers/gnome-extension/) exports: /org/awnode/Shell/Window,
  org.awnode.Shell.Window.Active() -> (ss), the focused window's WM class and title.
  ``focus(app, title)`` changes what it answers; ``calls`` counts the questions.
* ``IdleMonitor``: owns org.gnome.Mutter.IdleMonitor with /org/gnome/Mutter/IdleMonitor/Core
  GetIdletime() -> t (milliseconds); ``input()`` is the user's keyboard or mouse.

Both are snihost.BusService: a GLib main loop in a thread of their own.

* ``GjsExtension``: the extension's own JavaScript run by gjs (gnome_shell_stub.js), for
  the tests that the shipped code answers as the stand-in above does.
"""

import os
import shutil
import subprocess
import time

import pytest

from snihost import BusService, GLib, Gio

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

WINDOW_XML = """
<node>
  <interface name="org.awnode.Shell.Window">
    <method name="Active"><arg type="s" direction="out"/><arg type="s" direction="out"/></method>
  </interface>
</node>
"""

IDLE_XML = """
<node>
  <interface name="org.gnome.Mutter.IdleMonitor">
    <method name="GetIdletime"><arg type="t" direction="out"/></method>
  </interface>
</node>
"""


class Shell(BusService):
    NAMES = ("org.gnome.Shell",)

    def __init__(self, bus, extension=True):
        self.extension = extension
        self.app, self.title = "", ""
        self.calls = 0
        super().__init__(bus)

    def register(self):
        if not self.extension:
            return []
        info = Gio.DBusNodeInfo.new_for_xml(WINDOW_XML).interfaces[0]
        return [self.conn.register_object("/org/awnode/Shell/Window", info, self._call, None, None)]

    def _call(self, conn, sender, path, iface, method, params, invocation):
        with self.lock:
            self.calls += 1
            answer = (self.app, self.title)
        invocation.return_value(GLib.Variant("(ss)", answer))

    def focus(self, app, title):
        with self.lock:
            self.app, self.title = app, title


class IdleMonitor(BusService):
    NAMES = ("org.gnome.Mutter.IdleMonitor",)

    def __init__(self, bus):
        self.last_input = time.monotonic()
        super().__init__(bus)

    def register(self):
        info = Gio.DBusNodeInfo.new_for_xml(IDLE_XML).interfaces[0]
        return [self.conn.register_object("/org/gnome/Mutter/IdleMonitor/Core", info, self._call, None, None)]

    def _call(self, conn, sender, path, iface, method, params, invocation):
        with self.lock:
            ms = int((time.monotonic() - self.last_input) * 1000)
        invocation.return_value(GLib.Variant("(t)", (ms,)))

    def input(self):
        with self.lock:
            self.last_input = time.monotonic()


class GjsExtension:
    """awnode's real Shell extension (watchers/gnome-extension/<variant>/), run by gjs
    through gnome_shell_stub.js with a stand-in for GNOME Shell's `global`, owning
    org.gnome.Shell on `bus`. For GNOME 45+ the copy's one import of the Shell's own
    module is pointed at extension_stub.js; nothing else is changed."""

    def __init__(self, bus, variant, workdir):
        if shutil.which("gjs") is None:
            pytest.fail("gjs is needed for the GNOME extension's tests (apt-get install gjs)")
        src = os.path.join(REPO, "watchers", "gnome-extension", variant, "awnode-window@awnode.org")
        self.dir = os.path.join(workdir, "ext-%s" % variant)
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(src, "extension.js")) as f:
            text = f.read()
        if variant != "43":
            shell_module = "'resource:///org/gnome/shell/extensions/extension.js'"
            assert text.count(shell_module) == 1, "the 45+ extension imports the Shell's Extension class once"
            text = text.replace(shell_module, "'file://%s'" % os.path.join(HERE, "extension_stub.js"))
        with open(os.path.join(self.dir, "extension.js"), "w") as f:
            f.write(text)
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=bus.address)
        self.proc = subprocess.Popen(["gjs", "-m", os.path.join(HERE, "gnome_shell_stub.js"), variant, self.dir],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        assert line == "ready", "gjs: %r %s" % (line, self.proc.stdout.read() if self.proc.poll() is not None else "")

    def _command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", answer

    def focus(self, app, title):
        self._command("focus %s\t%s" % (app, title))

    def nothing_focused(self):
        self._command("none")

    def disable(self):
        self._command("disable")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = self.proc.stdout.read()
        return out
