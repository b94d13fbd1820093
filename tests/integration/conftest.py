"""pytest harness for the awnode black-box HTTP integration tests.

Run from the repository root:

    /usr/bin/python3 -m pytest -q tests/integration

The binary is ``$AWNODE_BIN`` (default ``<repo>/build/bin/awnode``).  Every
test gets fresh nodes (``awnode serve --testing --port <free>``) with their
own XDG_CONFIG/DATA/STATE/CACHE_HOME under pytest's tmp_path.  At teardown
each node is stopped with SIGTERM (SIGKILL after 10 s) and the test fails if
its stderr shows a sanitizer finding, it did not exit cleanly, or any request
made through node.client() was answered with a 5xx.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from awtest import Node, NodeStartError  # noqa: E402


@pytest.fixture
def node_factory(tmp_path):
    """``node_factory(args=(), config=None, testing=True, start=True, ...)``
    returns a started ``awtest.Node``.  ``config`` is the text of a TOML file
    passed with ``--config``; ``xdg_config_file`` writes
    ``$XDG_CONFIG_HOME/awnode/config.toml`` instead.  Pass ``base`` to reuse
    another node's directories (same XDG dirs, same default database)."""
    nodes = []
    counter = [0]

    def make(args=(), config=None, start=True, base=None, **kw):
        counter[0] += 1
        if base is None:
            base = str(tmp_path / ("node%d" % counter[0]))
        last = None
        for _attempt in range(3):
            n = Node(base, args=args, config=config, **kw)
            nodes.append(n)
            if not start:
                return n
            try:
                return n.start()
            except NodeStartError as e:
                last = e
                # A port taken between free_port() and bind(): retry once more
                # on another port, unless a fixed port was requested.
                n.runs[-1]["expect_exit"] = True
                n.stop()
                msg = str(e).lower()
                if kw.get("port") or not ("in use" in msg or "(-1 98)" in msg):
                    raise
        raise last

    yield make

    problems = []
    for n in nodes:
        try:
            n.stop()
        except Exception as e:  # pragma: no cover
            problems.append("stopping node failed: %r" % e)
        problems.extend(n.problems())
    if problems:
        pytest.fail("node problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def node(node_factory):
    return node_factory()


@pytest.fixture
def client(node):
    return node.client()


@pytest.fixture
def jclient(node):
    """A client that prefers JSON error bodies (Accept: application/json)."""
    return node.client(default_headers={"Accept": "application/json"})
