/*
 * awnode-window (GNOME Shell 45 and later): exports one method on the Shell's own
 * session-bus connection, which aw-watcher-window calls once per poll:
 *
 *   org.gnome.Shell /org/awnode/Shell/Window org.awnode.Shell.Window.Active() -> (ss)
 *
 * the focused window's WM class and title, or two empty strings when nothing has the
 * focus. GNOME Shell offers applications no other way to learn this on Wayland. The
 * answer goes only to the caller on the user's own session bus. The same code for
 * GNOME 43 and 44, which load extensions as scripts, is in ../../43/.
 */
import Gio from 'gi://Gio';
import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';

const IFACE = `<node>
  <interface name="org.awnode.Shell.Window">
    <method name="Active">
      <arg type="s" direction="out" name="app"/>
      <arg type="s" direction="out" name="title"/>
    </method>
  </interface>
</node>`;

class FocusedWindow {
    Active() {
        const w = global.display.focus_window;
        if (!w)
            return ['', ''];
        return [w.get_wm_class() || '', w.get_title() || ''];
    }
}

export default class AwnodeWindowExtension extends Extension {
    enable() {
        this._dbus = Gio.DBusExportedObject.wrapJSObject(IFACE, new FocusedWindow());
        this._dbus.export(Gio.DBus.session, '/org/awnode/Shell/Window');
    }

    disable() {
        if (this._dbus) {
            this._dbus.unexport();
            this._dbus = null;
        }
    }
}
