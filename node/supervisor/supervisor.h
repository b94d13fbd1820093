/*
 * `awnode start`: run the node and the default watchers, supervised.
 *
 * supervisor_main(argc, argv) (called by node/cli/start.c) with argv[0] = "start" runs `<this binary> serve`
 * (the same executable, /proc/self/exe) and, in a desktop session ($WAYLAND_DISPLAY
 * set, or $DISPLAY set and connectable), aw-watcher-afk and aw-watcher-window found next to
 * that executable. A child that exits unexpectedly is restarted with back-off
 * (1 s doubling to 60 s; reset after a minute of running) and logged on stderr;
 * SIGTERM, SIGINT or SIGHUP stops the watchers first (they flush their queues), then
 * the node. It also listens on a control socket (aw/supervisor_ctl.h) through which
 * `awnode status|pause|resume` list the children and pause or resume a watcher.
 * Returns the process exit code: 0 after a clean stop, 2 for a usage error or a node
 * that refuses its options/config, 4 when another `awnode start` of the same user and
 * mode owns the control socket, 1 otherwise.
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

int supervisor_main(int argc, char **argv);

#endif
