// Runs awnode's GNOME Shell extension (watchers/gnome-extension/) outside GNOME Shell,
// for tests/integration/test_gnome_dbus.py: under gjs, with a stand-in for the one part
// of the Shell it touches (global.display.focus_window), owning org.gnome.Shell on the
// session bus as the Shell does.
//
// usage: gjs -m gnome_shell_stub.js 43|45 DIR   (DIR holds extension.js; for 45 the test
// replaces its import of the Shell's Extension class with extension_stub.js beside it)
// stdin, one command per line, each answered "ok": "focus APP<TAB>TITLE", "none"
// (nothing focused), "disable" (the user turns the extension off); "ready" is printed
// once the extension is enabled and the name is owned.
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

const [variant, dir] = ARGV;
globalThis.global = {display: {focus_window: null}};

function window(app, title) {
    return {get_wm_class: () => app, get_title: () => title};
}

function handle(ext, line) {
    if (line === 'none') {
        global.display.focus_window = null;
    } else if (line.startsWith('focus ')) {
        const [app, title] = line.slice(6).split('\t');
        global.display.focus_window = window(app, title);
    } else if (line === 'disable') {
        ext.disable();
    } else {
        print(`unknown command: ${line}`);
        System.exit(2);
    }
    print('ok');
}

function serve(ext) {
    const loop = new GLib.MainLoop(null, false);
    const stdin = new Gio.DataInputStream({base_stream: new Gio.UnixInputStream({fd: 0})});
    const next = () => stdin.read_line_async(GLib.PRIORITY_DEFAULT, null, (s, res) => {
        const [line] = s.read_line_finish_utf8(res);
        if (line === null) {
            loop.quit();
            return;
        }
        handle(ext, line);
        next();
    });
    Gio.bus_own_name(Gio.BusType.SESSION, 'org.gnome.Shell', Gio.BusNameOwnerFlags.NONE, null,
        () => {
            ext.enable();
            print('ready');
            next();
        },
        () => {
            print('could not own org.gnome.Shell');
            System.exit(1);
        });
    loop.run();
}

if (variant === '43') {
    imports.searchPath.unshift(dir);
    serve(imports.extension.init());
} else {
    import(`file://${dir}/extension.js`).then(mod => serve(new mod.default({uuid: 'awnode-window@awnode.org'})))
        .catch(e => {
            print(`cannot load the extension: ${e}`);
            System.exit(1);
        });
}
