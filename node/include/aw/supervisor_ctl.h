/*
 * The control channel of `awnode start`: the client side and the rules both sides share.
 *
 * The supervisor listens on a Unix domain socket (mode 0600, in a 0700 directory):
 * $XDG_RUNTIME_DIR/awnode/supervisor.sock, or without XDG_RUNTIME_DIR
 * <data dir>/run/supervisor.sock (data dir = $XDG_DATA_HOME/awnode, default
 * ~/.local/share/awnode, the node's); `supervisor-testing.sock` for --testing. A client
 * connects, writes one JSON request line and reads one JSON response line:
 *
 *   {"cmd":"status"}
 *   {"cmd":"pause","watcher":"window","duration":900}   (duration in seconds; absent or
 *                                                        null: until resumed)
 *   {"cmd":"resume","watcher":"aw-watcher-window"}
 *
 * Every answer is {"ok":true,"supervisor":{...},"children":[{...}]} or
 * {"ok":false,"error":"<code>","message":"<one line>"}; docs/watchers.md describes the
 * fields. Used by `awnode pause|resume|status` and by the node's /api/0/watchers routes
 * (the supervisor passes the node the socket path in AW_CTL_SOCKET_ENV). It needs only
 * core, so the node links it without the rest of the supervisor.
 *
 * Functions that can fail return 0 or a negative AW_E* code (aw/error.h) with the reason
 * in aw_error_last().
 */
#ifndef AW_SUPERVISOR_CTL_H
#define AW_SUPERVISOR_CTL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The environment variable with which the supervisor tells the node its socket path. */
#define AW_CTL_SOCKET_ENV "AWNODE_SUPERVISOR_SOCKET"

/* Room for a control socket path (a path may be longer than a socket address holds:
 * see aw_supervisor_ctl_sockaddr()). */
#define AW_CTL_PATH_MAX 1024

/* Longest pause accepted anywhere (seconds): a year. */
#define AW_CTL_MAX_PAUSE_S (366L * 24 * 3600)

/*
 * The control socket's path for the normal (testing = 0) or testing instance, written to
 * out (len bytes, AW_CTL_PATH_MAX is enough). With create_dir the directory is created
 * with mode 0700 (one that exists must belong to this user and is made 0700). Returns 0,
 * or AW_ERROR (the path is too long, or the directory cannot be made or is not this
 * user's).
 */
int aw_supervisor_ctl_socket_path(char *out, size_t len, int testing, int create_dir);

/*
 * The address of the socket at `path` for bind() or connect(). A path longer than
 * sun_path (deep home or test directories) is reached through its directory instead:
 * *dir_fd receives an O_PATH descriptor of the directory and the address names
 * /proc/self/fd/<dir_fd>/<file>; close *dir_fd after bind()/connect() (it is -1 when the
 * path fits as it is). Returns 0, or AW_ERROR (errno is set too).
 */
struct sockaddr_un;
int aw_supervisor_ctl_sockaddr(struct sockaddr_un *sa, int *dir_fd, const char *path);

/*
 * One exchange on the socket at `path`: sends request_line (a newline is added) and
 * reads one response line, all within timeout_ms. Returns 0 with *out_response the line
 * without its newline (caller frees with free()); AW_ENOTFOUND when nothing listens on
 * the socket (no file, or a stale one); AW_ERROR when the exchange failed or timed out.
 * On failure *out_response is NULL.
 */
int aw_supervisor_ctl_request(char **out_response, const char *path, const char *request_line, int timeout_ms);

/*
 * The full name of a watcher the supervisor runs: "aw-watcher-afk" for "afk" or
 * "aw-watcher-afk", "aw-watcher-window" for "window" or "aw-watcher-window"; NULL for any
 * other name. The result is a static string.
 */
const char *aw_supervisor_ctl_watcher_name(const char *name);

/*
 * A pause length: "90s", "15m", "2h", "1h30m", "1d" or plain seconds ("45"), units in
 * descending order, each at most once. Stores seconds (1 .. AW_CTL_MAX_PAUSE_S) in *out
 * and returns 0, or returns AW_EINVALID if s is anything else (*out untouched).
 */
int aw_supervisor_ctl_parse_duration(long *out, const char *s);

#ifdef __cplusplus
}
#endif

#endif
