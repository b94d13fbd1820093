# Every external library awnode uses, looked up once, here, as a GLOBAL imported target
# (PkgConfig::NAME) the modules link by name. The C parts need no Node.js; the web UI
# and the API explorer look for npm themselves and are skipped without it.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

function(aw_require_pkg name module)
  pkg_check_modules(${name} REQUIRED IMPORTED_TARGET GLOBAL ${module})
endfunction()

aw_require_pkg(JANSSON jansson)        # core, client: JSON
aw_require_pkg(SQLITE3 sqlite3)        # storage
aw_require_pkg(PCRE2 libpcre2-8)       # storage (privacy rules), query, window watcher
aw_require_pkg(LIBGIT2 libgit2)        # sync
aw_require_pkg(SODIUM libsodium)       # sync, archive
aw_require_pkg(ZSTD libzstd)           # sync, archive
aw_require_pkg(LWS libwebsockets)      # node: the HTTP server
aw_require_pkg(XCB xcb)                # watchers
aw_require_pkg(XCB_SS xcb-screensaver) # aw-watcher-afk
aw_require_pkg(WAYLAND_CLIENT wayland-client) # watchers' Wayland backends
aw_require_pkg(SYSTEMD libsystemd)    # sd-bus: the tray icon, the watchers on KDE Plasma and GNOME
# wayland-scanner (Debian: libwayland-bin) turns the protocol XML vendored in
# watchers/protocols/ into C at build time
find_program(WAYLAND_SCANNER wayland-scanner REQUIRED)
if(AW_BUILD_TESTS)
  aw_require_pkg(CMOCKA cmocka)        # unit tests
  aw_require_pkg(WAYLAND_SERVER wayland-server) # aw-wltest-compositor (libwayland-dev)
endif()
