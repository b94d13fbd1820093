// What gnome_shell_stub.js gives awnode's GNOME 45+ extension in place of GNOME Shell's
// resource:///org/gnome/shell/extensions/extension.js: the Extension base class, which
// only keeps the metadata it is made with.
export class Extension {
    constructor(metadata) {
        this.metadata = metadata;
    }
}
