"""Stand-ins for GNOME Shell with awnode's extension and for Mutter's idle monitor, on a
private session bus (snihost.SessionBus), for tests/integration/test_gnome_dbus.py.

* ``Shell``: owns org.gnome.Shell and, when ``extension`` is true, exports what awnode's
  Shell extension (watchers/gnome-extension/) exports: /org/awnode/Shell/Window,
  org.awnode.Shell.Window.Active() -> (ss), the focused window's WM class and title.
  ``focus(app, title)`` changes what it answers; ``calls`` counts the questions.
* ``IdleMonitor``: owns org.gnome.Mutter.IdleMonitor with /org/gnome/Mutter/IdleMonitor/Core
  GetIdletime() -> t (milliseconds); ``input()`` is the user's keyboard or mouse.

Both serve the bus from a GLib main loop in a thread, as snihost.Watcher does.
"""

import threading
import time

from snihost import GLib, Gio

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


class _Service:
    NAME = None

    def __init__(self, bus):
        self.lock = threading.Lock()
        self.ctx = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.ctx, False)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(bus,), daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("the test %s did not start" % self.NAME)

    def _run(self, bus):
        self.ctx.push_thread_default()
        self.conn = bus.connect()
        regs = self.register()
        self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                            "RequestName", GLib.Variant("(su)", (self.NAME, 4)), None, 0, 5000, None)
        self.ready.set()
        self.loop.run()
        for r in regs:
            self.conn.unregister_object(r)
        self.conn.close_sync(None)
        self.ctx.pop_thread_default()

    def stop(self):
        self.ctx.invoke_full(GLib.PRIORITY_DEFAULT, lambda: self.loop.quit() or False)
        self.thread.join(10)


class Shell(_Service):
    NAME = "org.gnome.Shell"

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


class IdleMonitor(_Service):
    NAME = "org.gnome.Mutter.IdleMonitor"

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
