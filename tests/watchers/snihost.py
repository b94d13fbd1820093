"""A private D-Bus session bus and a test StatusNotifierWatcher, for the tray icon's
tests (tests/integration/test_tray.py).

* ``SessionBus``: ``dbus-daemon --session`` on a socket in the test's directory; its
  address goes into the environment of the processes under test as
  DBUS_SESSION_BUS_ADDRESS.
* ``BusService``: owns names on that bus and serves objects from a GLib main loop in a
  thread (the base of Watcher here and of the GNOME stand-ins in gnomehost.py).
* ``Watcher``: owns org.kde.StatusNotifierWatcher on that bus (what a panel's tray
  host provides) and org.freedesktop.Notifications (what a desktop's notification
  daemon provides), records the items that register, the notifications and the
  signals they send, serving the bus from a GLib main loop in a thread.
* ``Item``: reads a registered item's properties and menu (com.canonical.dbusmenu) and
  clicks its entries, with blocking calls on a connection of its own.
"""

import os
import subprocess
import threading
import time

import pytest

try:
    from gi.repository import Gio, GLib
except ImportError:  # pragma: no cover - the suite's dependencies include python3-gi
    Gio = GLib = None

WATCHER_XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg name="service" type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg name="service" type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>
"""

NOTIFICATIONS_XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/>
    </method>
  </interface>
</node>
"""


def require_dbus():
    if Gio is None:
        pytest.fail("python3-gi is needed for the tray tests (apt-get install python3-gi)")
    if subprocess.run(["sh", "-c", "command -v dbus-daemon"], capture_output=True).returncode != 0:
        pytest.fail("dbus-daemon is needed for the tray tests (apt-get install dbus-daemon)")


class SessionBus:
    def __init__(self, tmpdir):
        require_dbus()
        self.path = os.path.join(tmpdir, "bus")
        self.address = "unix:path=" + self.path
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=" + self.address],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("dbus-daemon did not start: %s" % self.proc.stderr.read().decode())
            time.sleep(0.02)

    def connect(self):
        return Gio.DBusConnection.new_for_address_sync(
            self.address,
            Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
            None, None)

    def names(self):
        conn = self.connect()
        try:
            return list(conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                       "ListNames", None, GLib.VariantType("(as)"), 0, 5000, None).unpack()[0])
        finally:
            conn.close_sync(None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class BusService:
    """Something that owns well-known names on a bus and serves objects from a GLib main
    loop in a thread of its own. Subclasses set NAMES and implement register() (export
    the objects on self.conn; return their registration ids)."""
    NAMES = ()

    def __init__(self, bus):
        self.lock = threading.Lock()
        self.ctx = GLib.MainContext.new()
        self.loop = GLib.MainLoop.new(self.ctx, False)
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(bus,), daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise AssertionError("the test %s did not start" % ", ".join(self.NAMES))

    def _run(self, bus):
        self.ctx.push_thread_default()
        self.conn = bus.connect()
        regs = self.register()
        for name in self.NAMES:
            self.conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                "RequestName", GLib.Variant("(su)", (name, 4)), None, 0, 5000, None)
        self.ready.set()
        self.loop.run()
        for r in reversed(regs):
            self.conn.unregister_object(r)
        self.conn.close_sync(None)
        self.ctx.pop_thread_default()

    def register(self):
        return []

    def stop(self):
        self.ctx.invoke_full(GLib.PRIORITY_DEFAULT, lambda: self.loop.quit() or False)
        self.thread.join(10)


class Watcher(BusService):
    """org.kde.StatusNotifierWatcher for the items under test."""
    NAMES = ("org.kde.StatusNotifierWatcher", "org.freedesktop.Notifications")

    def __init__(self, bus):
        self.items = []          # (service argument, sender) in registration order
        self.notes = []          # (app name, summary, body) of every Notify call
        self.signals = []        # (sender, interface, member) of every signal seen
        super().__init__(bus)

    def register(self):
        info = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML).interfaces[0]
        ninfo = Gio.DBusNodeInfo.new_for_xml(NOTIFICATIONS_XML).interfaces[0]
        self.conn.signal_subscribe(None, None, None, None, None, Gio.DBusSignalFlags.NONE, self._signal)
        return [self.conn.register_object("/StatusNotifierWatcher", info, self._call, self._get, None),
                self.conn.register_object("/org/freedesktop/Notifications", ninfo, self._notify, None, None)]

    def _call(self, conn, sender, path, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            with self.lock:
                self.items.append((params.unpack()[0], sender))
        invocation.return_value(None)

    def _notify(self, conn, sender, path, iface, method, params, invocation):
        app, _replaces, _icon, summary, body = params.unpack()[:5]
        with self.lock:
            self.notes.append((app, summary, body))
            n = len(self.notes)
        invocation.return_value(GLib.Variant("(u)", (n,)))

    def notifications(self):
        with self.lock:
            return list(self.notes)

    def _get(self, conn, sender, path, iface, prop):
        with self.lock:
            if prop == "RegisteredStatusNotifierItems":
                return GLib.Variant("as", [s for s, _ in self.items])
        if prop == "IsStatusNotifierHostRegistered":
            return GLib.Variant("b", True)
        return GLib.Variant("i", 0)

    def _signal(self, conn, sender, path, iface, member, params):
        with self.lock:
            self.signals.append((sender, iface, member))

    def registered(self):
        with self.lock:
            return list(self.items)

    def count(self, member):
        with self.lock:
            return sum(1 for _, _, m in self.signals if m == member)



def _flatten(node, parent, out):
    item_id, props, children = node
    out.append(dict(props, id=item_id, parent=parent))
    for child in children:
        _flatten(child, item_id, out)


class Item:
    """A registered StatusNotifierItem, read with blocking calls."""

    def __init__(self, bus, service):
        self.conn = bus.connect()
        self.service = service

    def call(self, path, iface, method, args=None, reply=None):
        return self.conn.call_sync(self.service, path, iface, method, args,
                                   GLib.VariantType(reply) if reply else None, 0, 5000, None).unpack()

    def prop(self, name, path="/StatusNotifierItem", iface="org.kde.StatusNotifierItem"):
        return self.call(path, "org.freedesktop.DBus.Properties", "Get", GLib.Variant("(ss)", (iface, name)),
                         "(v)")[0]

    def menu_path(self):
        return self.prop("Menu")

    def layout(self):
        """(revision, [entry dicts with id, parent and the dbusmenu properties])."""
        revision, root = self.call(self.menu_path(), "com.canonical.dbusmenu", "GetLayout",
                                   GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))")
        out = []
        _flatten(root, -1, out)
        return revision, out

    def entry(self, label_start, parent_label=None):
        """The menu entry whose label starts with label_start (under the entry whose label
        starts with parent_label, when given)."""
        _, entries = self.layout()
        parent_ids = None
        if parent_label is not None:
            parent_ids = {e["id"] for e in entries if e.get("label", "").startswith(parent_label)}
        for e in entries:
            if e.get("label", "").startswith(label_start) and (parent_ids is None or e["parent"] in parent_ids):
                return e
        raise AssertionError("no menu entry %r (under %r) in %r" % (label_start, parent_label,
                                                                  [e.get("label") for e in entries]))

    def click(self, entry_id):
        self.call(self.menu_path(), "com.canonical.dbusmenu", "Event",
                  GLib.Variant("(isvu)", (entry_id, "clicked", GLib.Variant("s", ""), int(time.time()))))

    def close(self):
        self.conn.close_sync(None)
