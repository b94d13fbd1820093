/* Unit tests: the control channel's client side and shared rules (aw/supervisor_ctl.h):
 * pause durations, watcher names, where the socket lives, and exchanges with a scripted
 * server (answering, silent, stale socket file, none at all). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aw/error.h"
#include "aw/supervisor_ctl.h"
#include "tmpdir.h"

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		long v;
	} ok[] = {{"45", 45}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"1h30m", 5400}, {"1d", 86400},
		  {"1h0m5s", 3605}, {"366d", 366L * 86400}};
	static const char *const bad[] = {"", "0", "0s", "x", "15x", "1h30", "30m1h", "1m1m", "-5",
					  "1.5h", "15 m", "367d", "99999999999999999999", "h"};
	long v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(aw_supervisor_ctl_parse_duration(&v, ok[i].s), 0);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(aw_supervisor_ctl_parse_duration(&v, bad[i]), AW_EINVALID);
	assert_int_equal(aw_supervisor_ctl_parse_duration(&v, NULL), AW_EINVALID);
}

static void test_watcher_names(void **state)
{
	(void)state;
	assert_string_equal(aw_supervisor_ctl_watcher_name("afk"), "aw-watcher-afk");
	assert_string_equal(aw_supervisor_ctl_watcher_name("aw-watcher-afk"), "aw-watcher-afk");
	assert_string_equal(aw_supervisor_ctl_watcher_name("window"), "aw-watcher-window");
	assert_string_equal(aw_supervisor_ctl_watcher_name("aw-watcher-window"), "aw-watcher-window");
	assert_null(aw_supervisor_ctl_watcher_name("node"));
	assert_null(aw_supervisor_ctl_watcher_name("Window"));
	assert_null(aw_supervisor_ctl_watcher_name(""));
	assert_null(aw_supervisor_ctl_watcher_name(NULL));
}

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/awctl-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	(void)state;
	return test_rmtree(tmpdir);
}

static void test_socket_path(void **state)
{
	char path[200], want[200], rt[100];
	struct stat st;

	(void)state;
	snprintf(rt, sizeof(rt), "%s/rt", tmpdir);
	setenv("XDG_RUNTIME_DIR", rt, 1);
	assert_int_equal(aw_supervisor_ctl_socket_path(path, sizeof(path), 0, 0), 0);
	snprintf(want, sizeof(want), "%s/awnode/supervisor.sock", rt);
	assert_string_equal(path, want);
	assert_int_not_equal(stat(rt, &st), 0); /* not created without create_dir */
	assert_int_equal(aw_supervisor_ctl_socket_path(path, sizeof(path), 1, 1), 0);
	snprintf(want, sizeof(want), "%s/awnode/supervisor-testing.sock", rt);
	assert_string_equal(path, want);
	snprintf(want, sizeof(want), "%s/awnode", rt);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* without XDG_RUNTIME_DIR: beside the node's data */
	unsetenv("XDG_RUNTIME_DIR");
	setenv("XDG_DATA_HOME", tmpdir, 1);
	assert_int_equal(aw_supervisor_ctl_socket_path(path, sizeof(path), 0, 1), 0);
	snprintf(want, sizeof(want), "%s/awnode/run/supervisor.sock", tmpdir);
	assert_string_equal(path, want);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", tmpdir, 1);
	assert_int_equal(aw_supervisor_ctl_socket_path(path, sizeof(path), 1, 0), 0);
	snprintf(want, sizeof(want), "%s/.local/share/awnode/run/supervisor-testing.sock", tmpdir);
	assert_string_equal(path, want);

	/* a directory that is not this user's is refused (root owns / but we may be root) */
	if (geteuid() != 0) {
		setenv("XDG_RUNTIME_DIR", "/", 1);
		assert_int_equal(aw_supervisor_ctl_socket_path(path, sizeof(path), 0, 1), AW_ERROR);
	}
	unsetenv("XDG_RUNTIME_DIR");
}

/* A one-connection server in a child process: reads a line, then answers `reply`
 * (NULL: says nothing and holds the connection). */
static pid_t serve_once(const char *path, const char *reply)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), dir_fd;
	pid_t pid;

	assert_int_equal(aw_supervisor_ctl_sockaddr(&sa, &dir_fd, path), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (dir_fd >= 0)
		close(dir_fd);
	assert_int_equal(listen(fd, 1), 0);
	pid = fork();
	if (pid == 0) {
		char buf[256];
		int c = accept(fd, NULL, NULL);
		ssize_t n = read(c, buf, sizeof(buf) - 1);

		if (n <= 0 || buf[n - 1] != '\n')
			_exit(1);
		if (reply) {
			if (write(c, reply, strlen(reply)) < 0)
				_exit(1);
		} else {
			sleep(5);
		}
		_exit(0);
	}
	close(fd);
	return pid;
}

/* No socket, an answer, a stale socket file, a silent server: at `path`. */
static void exchanges(const char *path)
{
	char *out = (char *)1;
	pid_t pid;
	int status;

	/* no socket file */
	assert_int_equal(aw_supervisor_ctl_request(&out, path, "{}", 500), AW_ENOTFOUND);
	assert_null(out);

	/* an answer: one line, without its newline */
	pid = serve_once(path, "{\"ok\":true}\nrest");
	assert_int_equal(aw_supervisor_ctl_request(&out, path, "{\"cmd\":\"status\"}", 2000), 0);
	assert_string_equal(out, "{\"ok\":true}");
	free(out);
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* the server is gone, its socket file stays: stale, same as no supervisor */
	assert_int_equal(aw_supervisor_ctl_request(&out, path, "{}", 500), AW_ENOTFOUND);
	unlink(path);

	/* a server that never answers: a timeout, not a hang */
	pid = serve_once(path, NULL);
	assert_int_equal(aw_supervisor_ctl_request(&out, path, "{}", 300), AW_ERROR);
	assert_null(out);
	assert_non_null(strstr(aw_error_last(), "timed out"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
}

static void test_requests(void **state)
{
	char path[300];

	(void)state;
	snprintf(path, sizeof(path), "%s/s.sock", tmpdir);
	exchanges(path);
	/* a path longer than a socket address holds works the same (through its directory) */
	snprintf(path, sizeof(path), "%s/%s", tmpdir,
		 "a-directory-name-long-enough-to-push-the-socket-path-past-one-hundred-and-eight-bytes");
	assert_int_equal(mkdir(path, 0700), 0);
	strcat(path, "/s.sock");
	assert_true(strlen(path) > sizeof(((struct sockaddr_un *)0)->sun_path));
	exchanges(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_watcher_names),
		cmocka_unit_test_setup_teardown(test_socket_path, setup_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_requests, setup_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
