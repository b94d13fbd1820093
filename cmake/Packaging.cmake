# The Debian package: man pages (from the binaries' own --help texts), the copyright
# file, and CPack's DEB settings. Build it with
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build -j2 && (cd build && cpack -G DEB)
# which writes build/awnode_<version>_<arch>.deb (the runtime) and
# build/awnode-dev_<version>_<arch>.deb (client library, headers, pkg-config file).
# Included after the subdirectories, whose targets and install rules it relies on.

# ---- man pages --------------------------------------------------------------------
# help2man runs each binary's --help, so the pages say what the installed binaries do.
# awnode's page also carries every command's --help (cmake/man/commands.cmake).
find_program(HELP2MAN help2man)
find_program(GZIP gzip)
if(HELP2MAN AND GZIP)
  set(AW_MAN_DIR ${CMAKE_BINARY_DIR}/man)
  set(AW_MAN_PAGES)
  set(_aw_man_awnode_summary "ActivityWatch-compatible activity tracker node")
  set(_aw_man_aw-watcher-afk_summary "report keyboard and mouse activity (AFK status) to awnode")
  set(_aw_man_aw-watcher-window_summary "report the active X11 window to awnode")
  set(_aw_man_awnode-tray_summary "tray icon showing whether awnode records, with pause and alerts")
  foreach(prog awnode aw-watcher-afk aw-watcher-window awnode-tray)
    if(prog STREQUAL "awnode")
      set(include ${AW_MAN_DIR}/awnode.h2m)
      add_custom_command(OUTPUT ${include}
        COMMAND ${CMAKE_COMMAND} -DAWNODE=$<TARGET_FILE:awnode> -DOUT=${include}
                -P ${CMAKE_SOURCE_DIR}/cmake/man/commands.cmake
        DEPENDS awnode ${CMAKE_SOURCE_DIR}/cmake/man/commands.cmake
        VERBATIM)
    else()
      set(include ${CMAKE_SOURCE_DIR}/cmake/man/${prog}.h2m)
    endif()
    # the watchers have no --version, so the version comes from here for all three;
    # gzip -n keeps the timestamp out, as Debian wants
    add_custom_command(OUTPUT ${AW_MAN_DIR}/${prog}.1.gz
      COMMAND ${CMAKE_COMMAND} -E make_directory ${AW_MAN_DIR}
      COMMAND ${HELP2MAN} --no-info --no-discard-stderr
              --version-string=${PROJECT_VERSION} --name=${_aw_man_${prog}_summary}
              --include=${include} --output=${AW_MAN_DIR}/${prog}.1 $<TARGET_FILE:${prog}>
      COMMAND ${GZIP} -9nf ${AW_MAN_DIR}/${prog}.1
      DEPENDS ${prog} ${include}
      COMMENT "man page: ${prog}(1)"
      VERBATIM)
    list(APPEND AW_MAN_PAGES ${AW_MAN_DIR}/${prog}.1.gz)
  endforeach()
  add_custom_target(manpages ALL DEPENDS ${AW_MAN_PAGES})
  install(FILES ${AW_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man or gzip not found: no man pages (scripts/deps.sh build installs help2man)")
endif()

install(FILES ${CMAKE_SOURCE_DIR}/cmake/debian/copyright
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/awnode)
# the copyright file points here for the modules swagger-ui's bundle carries
if(TARGET apidocs)
  install(FILES ${CMAKE_BINARY_DIR}/apidocs-npm/node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/awnode)
endif()

# ---- CPack ----------------------------------------------------------------------
set(CPACK_PACKAGE_NAME awnode)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "awnode")
set(AW_DEB_MAINTAINER "awnode maintainers <awnode@localhost>" CACHE STRING
  "Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT "${AW_DEB_MAINTAINER}")
# Debian wants a changelog beside the copyright file (lintian: no-changelog); the
# package's history is the project's git log, so it carries one entry naming that. A
# native package (a version without a Debian revision) names it changelog.gz. Written
# at configure time with the maintainer and version of this build: a packager sets
# -DAW_DEB_MAINTAINER="Name <address>" (the default's address is a placeholder that
# lintian rightly calls bogus).
configure_file(${CMAKE_SOURCE_DIR}/cmake/debian/changelog.in ${CMAKE_BINARY_DIR}/debian/changelog @ONLY)
if(GZIP)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/debian/changelog.gz
    COMMAND ${GZIP} -9nkf ${CMAKE_BINARY_DIR}/debian/changelog
    DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog VERBATIM)
  add_custom_target(debian_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog.gz)
  install(FILES ${CMAKE_BINARY_DIR}/debian/changelog.gz DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/awnode)
endif()
# The autostart entry is configuration an administrator may edit (or empty to turn
# autostart off for everyone): dpkg keeps such edits only for files listed as conffiles.
# (The package is built for the /usr prefix, whose configuration directory is /etc:
# watchers/CMakeLists.txt installs the entry to /etc/xdg/autostart then.)
file(WRITE ${CMAKE_BINARY_DIR}/debian/conffiles "/etc/xdg/autostart/awnode-start.desktop\n")

set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
# The units and the autostart entry name the binaries by the configured prefix, so the
# package installs exactly where the build was configured for.
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Unspecified dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://activitywatch.net")
# Runtime libraries come from the binaries themselves (dpkg-shlibdeps). libxcb, which
# awnode loads at run time for its display check, is linked by the watchers anyway.
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_NAME awnode)
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_SECTION utils)
if(AW_INSTALL_AUTOSTART AND CMAKE_INSTALL_FULL_SYSCONFDIR STREQUAL "/etc")
  set(CPACK_DEBIAN_UNSPECIFIED_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/conffiles)
endif()
# First line: the summary (no CPACK_PACKAGE_DESCRIPTION_SUMMARY, which CPack would put
# above every component's description); CPack indents the rest and dots empty lines.
set(CPACK_DEBIAN_UNSPECIFIED_DESCRIPTION
  "ActivityWatch-compatible activity tracker node
awnode stores what its watchers report in SQLite and answers ActivityWatch's
REST API, so ActivityWatch's clients and watchers work against it unchanged.
It serves its own web UI and an API explorer on 127.0.0.1:5600 and syncs
devices through an encrypted git folder.

This package holds the awnode binary, the watchers aw-watcher-window and
aw-watcher-afk (X11, and Wayland on wlroots compositors such as sway), the
tray icon awnode-tray (pause, open the dashboard, time-limit notifications),
the web UI, systemd user units and an XDG autostart entry.
Nothing is started when it is installed: a user's next graphical login starts
`awnode start` from the autostart entry, or
`systemctl --user enable --now awnode` starts it at once.")
set(CPACK_DEBIAN_DEV_PACKAGE_NAME awnode-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# aw-client.pc requires jansson
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libjansson-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "C client library for awnode watchers
libaw_client.a with its headers and the pkg-config file aw-client: REST calls,
pre-merged heartbeats and a disk queue for watchers of awnode or any other
ActivityWatch-compatible server.")

# Checked when cpack runs rather than at configure time, where a development build
# with another prefix or without Node.js is normal.
set(AW_PACKAGE_HAS_WEBUI OFF)
if(TARGET webui AND TARGET apidocs)
  set(AW_PACKAGE_HAS_WEBUI ON)
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/debian/cpack-checks.cmake.in
  ${CMAKE_BINARY_DIR}/CPackChecks.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/CPackChecks.cmake)
include(CPack)
