"""Watchers given bad options or config values: exactly one clear line on stderr and
exit code 2 (usage/config), never a crash; an unknown config key is only a warning."""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

from xenv import requires_xvfb, wenv  # noqa: E402

pytestmark = requires_xvfb
__all__ = ["wenv"]

W, A = "aw-watcher-window", "aw-watcher-afk"

OPTION_CASES = [
    (W, ["--poll-time", "abc"], "--poll-time needs a number of seconds > 0, got 'abc'"),
    (W, ["--poll-time", "0"], "--poll-time needs a number of seconds > 0, got '0'"),
    (W, ["--poll-time", "nan"], "--poll-time needs a number of seconds > 0, got 'nan'"),
    (W, ["--port", "70000"], "--port needs a number from 1 to 65535, got '70000'"),
    (W, ["--port", "-1"], "--port needs a number from 1 to 65535, got '-1'"),
    (W, ["--exclude-titles", "(unclosed"], "--exclude-titles: invalid regular expression '(unclosed'"),
    (W, ["--exclude-titles", "ok", "[z-a]"], "--exclude-titles: invalid regular expression '[z-a]'"),
    (W, ["--frobnicate"], "unknown or incomplete option '--frobnicate'"),
    (W, ["--poll-time"], "unknown or incomplete option '--poll-time'"),
    (W, ["stray"], "unexpected argument 'stray'"),
    (A, ["--timeout", "-3"], "--timeout needs a number of seconds > 0, got '-3'"),
    (A, ["--timeout", "3m"], "--timeout needs a number of seconds > 0, got '3m'"),
    (A, ["--poll-time", "inf"], "--poll-time needs a number of seconds > 0, got 'inf'"),
    (A, ["--port", "http"], "--port needs a number from 1 to 65535, got 'http'"),
    (A, ["--exclude-title"], "unknown or incomplete option '--exclude-title'"),
]


@pytest.mark.parametrize("watcher,args,message", OPTION_CASES)
def test_bad_option(wenv, watcher, args, message):
    rc, out = wenv.run(watcher, "--testing", *args)
    assert rc == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith(watcher + ": "), out
    assert message in lines[0], out


CONFIG_CASES = [
    (W, "poll_time = \"fast\"\n", "line 1: poll_time must be a number of seconds > 0 (at most 1000000), got \"fast\""),
    (W, "poll_time = 0\n", "line 1: poll_time must be a number of seconds > 0 (at most 1000000), got 0"),
    (W, "exclude_title = \"yes\"\n", "line 1: exclude_title must be true or false, got \"yes\""),
    (W, "exclude_titles = \"x\"\n", "line 1: exclude_titles must be an array of strings, got \"x\""),
    (W, "exclude_titles = [1, 2]\n", "exclude_titles must be an array of strings"),
    (W, "exclude_titles = [\"(\"]\n", "exclude_titles: invalid regular expression '('"),
    (W, "\n\nport = 123456\n", "line 3: port must be an integer from 1 to 65535, got 123456"),
    (W, "poll_time = = 1\n", ": line 1: expected a value"),
    (W, "[aw-watcher-window-testing\npoll_time = 1\n", ": line 1: expected ']'"),
    (A, "timeout = 0\n", "line 1: timeout must be a number of seconds > 0 (at most 1000000), got 0"),
    (A, "[aw-watcher-afk-testing]\ntimeout = false\n", "line 2: timeout must be a number of seconds"),
    (A, "poll_time = -5\n", "line 1: poll_time must be a number of seconds > 0"),
    (A, "host = \"\"\n", "line 1: host must be a non-empty string"),
    (A, "timeout = 1e999\n", ": line 1: invalid number"),
    (A, "timeout = \"unterminated\n", ": line 1: unterminated string"),
]


@pytest.mark.parametrize("watcher,text,message", CONFIG_CASES)
def test_bad_config_value(wenv, watcher, text, message):
    wenv.write_config(watcher + ".toml", text)
    rc, out = wenv.run(watcher, "--testing")
    assert rc == 2, out
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert lines[0].startswith("%s: config %s" % (watcher, wenv.config_path(watcher + ".toml"))), out
    assert message in lines[0], out


def test_values_for_the_other_mode_are_not_checked(wenv, node):
    """[aw-watcher-afk] is the normal-mode table: --testing reads only
    [aw-watcher-afk-testing] (and top-level keys), like ActivityWatch."""
    wenv.write_config("aw-watcher-afk.toml", "[aw-watcher-afk]\ntimeout = \"bad\"\n")
    p = wenv.start("aw-watcher-afk", "--testing", "--port", node.port)
    time.sleep(0.5)
    assert p.stop() == 0, p.text()


def test_unreadable_config_is_an_error(wenv):
    path = wenv.config_path("aw-watcher-window.toml")
    os.makedirs(path)  # a directory where the file should be
    rc, out = wenv.run(W, "--testing")
    assert rc == 2, out
    assert len(out.strip().splitlines()) == 1, out
    assert out.startswith("%s: cannot read config %s" % (W, path)), out
