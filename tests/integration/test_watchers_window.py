"""aw-watcher-window under Xvfb against a real node (docs/watchers.md).

A tiny X client (aw-xtest-client) plays applications and the window manager: it
creates windows, sets WM_CLASS / _NET_WM_NAME / WM_NAME and _NET_ACTIVE_WINDOW on the
root window. The watcher is stopped with SIGTERM (it commits its pre-merged heartbeat
and delivers the queue) before the node's events are compared.
"""

import os
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "watchers"))

from xenv import (HOSTNAME, assert_contiguous, assert_no_overlap, datas, events,  # noqa: E402
                  requires_xvfb, wenv)

pytestmark = requires_xvfb
BUCKET = "aw-watcher-window_" + HOSTNAME
POLL = 0.4
__all__ = ["wenv"]


def start_window(wenv, node, *extra):
    return wenv.start("aw-watcher-window", "--testing", "--port", node.port, "--poll-time", POLL, *extra)


def test_switches_and_title_changes(wenv, node, client):
    xc = wenv.xclient()
    xc.window("a", app="Firefox", title="Inbox \u2014 Mail")
    xc.window("b", app="XTerm", instance="xterm", title="bash")
    xc.activate("a")
    w = start_window(wenv, node)
    marks = [time.time()]
    for step in (lambda: xc.activate("b"), lambda: xc.title("b", "vim README.md"),
                 lambda: xc.activate(None), lambda: None):
        time.sleep(1.6)
        step()
        marks.append(time.time())
    assert w.stop() == 0, w.text()

    evs = events(client, BUCKET)
    assert datas(evs) == [
        {"app": "Firefox", "title": "Inbox \u2014 Mail"},
        {"app": "XTerm", "title": "bash"},
        {"app": "XTerm", "title": "vim README.md"},
        {"app": "unknown", "title": "unknown"},
    ]
    assert_no_overlap(evs)
    # each switch is seen within one poll: consecutive events are at most a poll apart
    assert_contiguous(evs, POLL + 0.3)
    for e, (a, b) in zip(evs, zip(marks, marks[1:])):
        assert abs(e["duration"] - (b - a)) < POLL + 0.5, (e, b - a)
    r = client.get("/api/0/buckets/" + BUCKET)
    assert r.status == 200
    b = r.json()
    assert (b["type"], b["client"], b["hostname"]) == ("currentwindow", "aw-watcher-window", HOSTNAME)
    assert "aw-watcher-window: started" in w.text()


def test_title_sources_encodings_and_length(wenv, node, client):
    xc = wenv.xclient()
    xc.window("latin", app="Latin", wm_name=b"Caf\xe9 cr\xe8me")          # WM_NAME only (STRING)
    xc.window("both", app="Both", title="net name wins", wm_name="old name")
    xc.window("bad", app="Bad", title=b"bad \xff\xfe end \xc3")          # invalid UTF-8
    xc.window("long", app="Long", title="\u00e9" * 50000)                 # 100 kB title
    xc.window("ctl", app="Ctl", title="tab\there\nnewline")
    xc.window("noclass", title="no class")                                # no WM_CLASS
    xc.window("noname", app="Nameless")                                   # no title at all
    seq = ["latin", "both", "bad", "long", "ctl", "noclass", "noname"]
    xc.activate(seq[0])
    w = start_window(wenv, node)
    for name in seq[1:]:
        time.sleep(1.0)
        xc.activate(name)
    time.sleep(1.0)
    xc.cmd("activate-bogus")  # _NET_ACTIVE_WINDOW names a window that does not exist
    time.sleep(1.0)
    assert w.stop() == 0, w.text()

    evs = events(client, BUCKET)
    long_title = "\u00e9" * 1022 + "\u2026"
    assert datas(evs) == [
        {"app": "Latin", "title": "Caf\u00e9 cr\u00e8me"},
        {"app": "Both", "title": "net name wins"},
        {"app": "Bad", "title": "bad \ufffd\ufffd end \ufffd"},
        {"app": "Long", "title": long_title},
        {"app": "Ctl", "title": "tab here newline"},
        {"app": "unknown", "title": "no class"},
        {"app": "Nameless", "title": "unknown"},
        {"app": "unknown", "title": "unknown"},
    ]
    assert len(long_title.encode()) <= 2048
    assert_no_overlap(evs)


def test_exclude_titles_regexes(wenv, node, client):
    xc = wenv.xclient()
    xc.window("s1", app="Editor", title="My SECRET plans")
    xc.window("s2", app="Browser", title="Bank of Nowhere - Login")
    xc.window("s3", app="Editor", title="Notes about a bank")
    xc.activate("s1")
    w = start_window(wenv, node, "--exclude-titles", "secret", "^bank")
    for name in ("s2", "s3"):
        time.sleep(1.0)
        xc.activate(name)
    time.sleep(1.0)
    assert w.stop() == 0, w.text()
    assert datas(events(client, BUCKET)) == [
        {"app": "Editor", "title": "excluded"},
        {"app": "Browser", "title": "excluded"},
        {"app": "Editor", "title": "Notes about a bank"},  # ^bank does not match mid-title
    ]


def test_exclude_title_from_config(wenv, node, client):
    wenv.write_config("aw-watcher-window.toml",
                      "[aw-watcher-window-testing]\nexclude_title = true\npoll_time = 0.4\n"
                      "exclude_titles = [\"unused\"]\n")
    xc = wenv.xclient()
    xc.window("a", app="Mail", title="Inbox")
    xc.window("b", app="Chat", title="Alice")
    xc.activate("a")
    w = wenv.start("aw-watcher-window", "--testing", "--port", node.port)
    time.sleep(1.2)
    xc.activate("b")
    time.sleep(1.2)
    assert w.stop() == 0, w.text()
    assert datas(events(client, BUCKET)) == [{"app": "Mail", "title": "excluded"},
                                             {"app": "Chat", "title": "excluded"}]
    assert "poll 0.4 s" in w.text() and "titles excluded" in w.text()


def test_default_config_written_and_unknown_key_warned(wenv, node):
    rc, out = wenv.run("aw-watcher-window", "--help")
    assert rc == 0 and "--exclude-titles" in out
    path = wenv.config_path("aw-watcher-window.toml")
    assert not os.path.exists(path)
    w = start_window(wenv, node)
    time.sleep(0.5)
    assert w.stop() == 0
    text = open(path).read()
    assert "#poll_time = 1.0" in text and "#exclude_titles = []" in text
    wenv.write_config("aw-watcher-window.toml", text + "colour = \"blue\"\n")
    w = start_window(wenv, node)
    time.sleep(0.5)
    assert w.stop() == 0
    assert "unknown key 'colour' ignored" in w.text()


def no_display_line(out):
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    return lines[0]


@pytest.mark.parametrize("watcher", ["aw-watcher-window", "aw-watcher-afk"])
def test_without_display_one_line_and_nonzero(wenv, watcher):
    rc, out = wenv.run(watcher, "--testing", env=wenv.env("nodisp", display=False))
    assert rc == 3
    line = no_display_line(out)
    assert line.startswith(watcher + ": no X display: DISPLAY is not set"), line

    rc, out = wenv.run(watcher, "--testing",
                       env=wenv.env("wayland", display=False, extra={"WAYLAND_DISPLAY": "wayland-0"}))
    assert rc == 3
    assert "Wayland" in no_display_line(out)

    rc, out = wenv.run(watcher, "--testing", env=wenv.env("baddisp", extra={"DISPLAY": ":4999"}))
    assert rc == 3
    assert no_display_line(out) == "%s: cannot open X display ':4999'" % watcher
