"""Helpers for the awnode black-box integration tests (stdlib only).

* ``Client``: a tiny HTTP/1.1 client on top of ``http.client`` that keeps one
  keep-alive connection, and lets a test send raw bytes, any method, any
  headers (including a wrong or missing ``Host``), no Content-Type, etc.
* ``Node``: one ``awnode serve`` process with its own XDG directories.
* assertion helpers for aw-server-rust's two error-body shapes, timestamps and
  durations.
"""

import http.client
import itertools
import glob
import json
import math
import os
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BIN = os.path.join(REPO, "build", "bin", "awnode")

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# Reason phrases of Rocket's default catcher (aw-server-rust's framework).
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    501: "Not Implemented",
}

JSON_CT = "application/json"
_RUN_IDS = itertools.count(1)
_MISSING = object()


def binary_path():
    return os.environ.get("AWNODE_BIN", DEFAULT_BIN)


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def dumps(obj):
    """Compact JSON, UTF-8 (as aw-client and the web UI send it)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _no_constants(name):
    raise ValueError("server emitted non-JSON constant %r" % name)


def loads(data):
    """Strict JSON parse: rejects NaN/Infinity, which are not JSON."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8")
    return json.loads(data, parse_constant=_no_constants)


# --------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------


class Response:
    def __init__(self, status, reason, headers, body, version=11):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body
        self.version = version

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        try:
            return loads(self.body)
        except Exception as e:  # pragma: no cover - diagnostic
            raise AssertionError(
                "response %d is not valid JSON (%s): %r" % (self.status, e, self.body[:500])
            )

    def json_pairs(self):
        """Parse keeping key order: objects become lists of (key, value)."""
        return json.loads(self.body.decode("utf-8"), object_pairs_hook=list,
                          parse_constant=_no_constants)

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.headers, self.body[:300])


class Client:
    """One keep-alive HTTP/1.1 connection to a node.

    ``request()`` reconnects transparently when the server closed the
    connection between requests (unless ``retry=False``).  ``connects``
    counts the TCP connections opened, so keep-alive reuse can be asserted.
    """

    def __init__(self, host, port, host_header=None, default_headers=None, timeout=15,
                 on_response=None):
        self.on_response = on_response
        self.host = host
        self.port = port
        self.host_header = host_header or "%s:%d" % (host, port)
        self.default_headers = dict(default_headers or {})
        self.timeout = timeout
        self.conn = None
        self.connects = 0

    # -- connection handling -------------------------------------------------
    def _connect(self):
        self.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.connects += 1

    def close(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    # -- requests --------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, json=_MISSING,
                content_type=_MISSING, host=_MISSING, retry=True):
        """Send one request and read the whole response.

        body: bytes/str sent as is (Content-Length set automatically).
        json: object serialised compactly; sets Content-Type application/json
              unless content_type is given.
        content_type: value for Content-Type, or None to send none at all.
        host: value of the Host header, or None to send no Host header.
        headers: dict or list of (name, value) extra headers (sent verbatim).
        """
        hdrs = []
        for k, v in self.default_headers.items():
            hdrs.append((k, v))
        if headers:
            items = headers.items() if isinstance(headers, dict) else headers
            for k, v in items:
                hdrs = [(hk, hv) for hk, hv in hdrs if hk.lower() != k.lower()]
                hdrs.append((k, v))
        if json is not _MISSING:
            body = dumps(json)
            if content_type is _MISSING:
                content_type = JSON_CT
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not _MISSING and content_type is not None:
            hdrs = [(k, v) for k, v in hdrs if k.lower() != "content-type"]
            hdrs.append(("Content-Type", content_type))
        if host is _MISSING:
            host = self.host_header
        has_len = any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hdrs)
        if not has_len:
            if body is not None:
                hdrs.append(("Content-Length", str(len(body))))
            elif method in ("POST", "PUT", "PATCH"):
                hdrs.append(("Content-Length", "0"))

        attempts = 2 if retry else 1
        for attempt in range(attempts):
            fresh = self.conn is None
            if fresh:
                self._connect()
            try:
                resp = self._send(method, path, hdrs, body, host)
                if self.on_response is not None:
                    self.on_response(method, path, resp)
                return resp
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError, http.client.CannotSendRequest,
                    http.client.ResponseNotReady):
                self.close()
                # Only a reused keep-alive connection that the server closed
                # while idle is retried; a fresh connection failing is real.
                if fresh or attempt + 1 >= attempts:
                    raise
        raise AssertionError("unreachable")

    def _send(self, method, path, hdrs, body, host):
        conn = self.conn
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for k, v in hdrs:
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        resp = Response(r.status, r.reason, r.getheaders(), data, r.version)
        if r.will_close:
            self.close()
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=_MISSING, **kw):
        return self.request("POST", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def options(self, path, **kw):
        return self.request("OPTIONS", path, **kw)

    # -- raw socket ------------------------------------------------------------
    def raw(self, data, timeout=5.0, read=True, until_close=False):
        """Send raw bytes on a new connection; return what is read until one
        complete response (with a Content-Length) arrived, the server closes,
        or ``timeout`` seconds of silence pass.  ``until_close``: read until
        the server closes (or the timeout)."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            if not read:
                return b""
            return recv_until(s, None if until_close else complete_response)[0]
        finally:
            s.close()


def recv_until(sock, done=None):
    """Read from ``sock`` until ``done(data)`` holds (when given), the peer closes or
    resets the connection, or the socket's timeout passes in silence.  Returns
    ``(data, closed)``: ``closed`` is true when the peer closed or reset."""
    data = b""
    while True:
        try:
            c = sock.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not c:
            return data, True
        data += c
        if done is not None and done(data):
            return data, False


def complete_response(data):
    """True when ``data`` holds one complete response with a Content-Length
    (so raw() need not wait for the server to close)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if m:
        return len(body) >= int(m.group(1))
    st = raw_status(data)
    return st is not None and (st == 304 or st == 204 or 100 <= st < 200)


def raw_status(data):
    """Status code of the first HTTP response in raw bytes, or None."""
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return int(m.group(1)) if m else None


# --------------------------------------------------------------------------
# The node process
# --------------------------------------------------------------------------


class NodeStartError(Exception):
    pass


class Node:
    """An ``awnode serve`` process with private XDG dirs under ``base``."""

    def __init__(self, base, args=(), config=None, config_path=None, testing=True,
                 port=None, address="127.0.0.1", env=None, use_port_flag=True,
                 xdg_config_file=None):
        self.base = base
        os.makedirs(base, exist_ok=True)
        self.xdg = {}
        for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
            d = os.path.join(base, "xdg-" + kind.lower())
            os.makedirs(d, exist_ok=True)
            self.xdg["XDG_%s_HOME" % kind] = d
        self.home = os.path.join(base, "home")
        os.makedirs(self.home, exist_ok=True)
        self.address = address
        self.port = port or free_port(address)
        self.testing = testing
        self.extra_args = list(args)
        self.use_port_flag = use_port_flag
        self.config_path = None
        if config is not None:
            self.config_path = config_path or os.path.join(base, "config.toml")
            with open(self.config_path, "w") as f:
                f.write(config)
        if xdg_config_file is not None:
            d = os.path.join(self.xdg["XDG_CONFIG_HOME"], "awnode")
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "config.toml"), "w") as f:
                f.write(xdg_config_file)
        self.env = dict(os.environ)
        self.env.update(self.xdg)
        self.env["HOME"] = self.home
        if env:
            self.env.update(env)
        self.proc = None
        self.runs = []  # (argv, stderr_path, returncode, signal_sent)
        self.server_errors = []  # 5xx answers seen by this node's clients
        self._run_no = 0
        self._signal_sent = None
        self._clients = []

    # -- paths ---------------------------------------------------------------
    @property
    def data_dir(self):
        return os.path.join(self.xdg["XDG_DATA_HOME"], "awnode")

    @property
    def device_id_path(self):
        return os.path.join(self.data_dir, "device_id")

    def argv(self):
        argv = [binary_path(), "serve"]
        if self.testing:
            argv.append("--testing")
        if self.use_port_flag:
            argv += ["--port", str(self.port)]
        if self.config_path:
            argv += ["--config", self.config_path]
        argv += self.extra_args
        return argv

    # -- lifecycle -------------------------------------------------------------
    def start(self, wait=True, timeout=10.0):
        if not os.path.exists(binary_path()):
            pytest.fail("awnode binary not found at %s (set AWNODE_BIN)" % binary_path())
        assert self.proc is None or self.proc.poll() is not None, "node already running"
        self._run_no = next(_RUN_IDS)
        self.stderr_path = os.path.join(self.base, "stderr-%d.log" % self._run_no)
        self.stdout_path = os.path.join(self.base, "stdout-%d.log" % self._run_no)
        argv = self.argv()
        self._stderr_f = open(self.stderr_path, "wb")
        self._stdout_f = open(self.stdout_path, "wb")
        self._signal_sent = None
        self.proc = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self._stdout_f, stderr=self._stderr_f,
                                     cwd=self.base)
        self.runs.append({"argv": argv, "stderr": self.stderr_path, "proc": self.proc,
                          "signal": None})
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NodeStartError("awnode exited with %s before answering:\n%s"
                                     % (self.proc.returncode, self.stderr_text()[-4000:]))
            try:
                c = Client(self.address, self.port, timeout=2)
                r = c.get("/api/0/info")
                c.close()
                if r.status == 200:
                    return
                last = r
            except (OSError, http.client.HTTPException) as e:
                last = e
            time.sleep(0.02)
        raise NodeStartError("awnode did not answer GET /api/0/info within %ss (last: %r)\n%s"
                             % (timeout, last, self.stderr_text()[-4000:]))

    def _close_clients(self):
        for c in self._clients:
            c.close()

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Send ``sig`` and wait; SIGKILL after ``timeout``.  Returns the exit code."""
        self._close_clients()
        if self.proc is None:
            return None
        run = self.runs[-1]
        if self.proc.poll() is None:
            run["signal"] = sig
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                run["signal"] = "timeout"
                self.proc.kill()
                self.proc.wait()
        self._stderr_f.close()
        self._stdout_f.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def wait_exit(self, timeout=10.0):
        """For a run the test expects to fail: wait for the process to exit on
        its own and return (returncode, stderr text)."""
        run = self.runs[-1]
        run["expect_exit"] = True
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError("awnode kept running although it should have exited")
        self._stderr_f.close()
        self._stdout_f.close()
        return self.proc.returncode, self.stderr_text()

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self, run=None):
        path = self.stderr_path if run is None else run["stderr"]
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _note_response(self, method, path, resp):
        # No request a test makes may meet a server error: a 5xx is a bug in the node
        # even when the test only checked that "some error" came back.
        if resp.status >= 500:
            self.server_errors.append("%s %s -> %d %s" % (method, path[:200], resp.status,
                                                          resp.body[:300]))

    def problems(self):
        """Findings for the teardown check, one string per problem."""
        out = ["server error: %s" % e for e in self.server_errors]
        for i, run in enumerate(self.runs, 1):
            err = self.stderr_text(run)
            m = sanitizer_finding(err)
            if m:
                out.append("run %d: stderr contains %r:\n%s" % (i, m, err[-6000:]))
            rc = run["proc"].returncode
            sent = run["signal"]
            if rc is None:
                continue
            if sent == "timeout":
                out.append("run %d: did not exit within 10 s after SIGTERM" % i)
            elif rc < 0:
                if sent is None or -rc != int(sent):
                    out.append("run %d: died by signal %d (we sent %s):\n%s"
                               % (i, -rc, sent, err[-3000:]))
            elif rc != 0 and sent is not None:
                out.append("run %d: exit code %d after signal %s:\n%s" % (i, rc, sent, err[-3000:]))
            elif rc != 0 and sent is None and run.get("expect_exit") is None:
                out.append("run %d: exited on its own with code %d:\n%s" % (i, rc, err[-3000:]))
        return out

    # -- clients -----------------------------------------------------------------
    def client(self, **kw):
        kw.setdefault("on_response", self._note_response)
        c = Client(self.address, self.port, **kw)
        self._clients.append(c)
        return c

    @property
    def origin(self):
        return "http://%s:%d" % (self.address, self.port)


def sanitizer_finding(stderr_text):
    """The first sanitizer marker in a process's stderr, or None."""
    for m in SANITIZER_MARKERS:
        if m in stderr_text:
            return m
    return None


def run_awnode(args, env, timeout=10):
    """Run an awnode command to completion (for CLI failure tests). A sanitizer
    report on its stderr fails the calling test whatever the exit code."""
    p = subprocess.run([binary_path()] + list(args), env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    if sanitizer_finding(err):
        raise AssertionError("awnode %s: sanitizer report:\n%s" % (" ".join(map(str, args)), err[-6000:]))
    return p


# --------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------


def assert_status(resp, status):
    assert resp.status == status, "expected %d, got %r" % (status, resp)


def assert_app_error(resp, status, message=None):
    """Application error (shape 1): exactly {"message": str}."""
    assert_status(resp, status)
    ct = resp.header("Content-Type") or ""
    assert ct.split(";")[0].strip().lower() == JSON_CT, "Content-Type %r for %r" % (ct, resp)
    body = resp.json()
    assert isinstance(body, dict) and list(body.keys()) == ["message"], body
    assert isinstance(body["message"], str) and body["message"], body
    if message is not None:
        assert body["message"] == message, body
    return body["message"]


def assert_catcher(resp, status, description=None):
    """Framework error (shape 2): Rocket's JSON catcher body
    {"error": {"code", "reason", "description"}}, plus (awnode: every
    malformed request gets a JSON message, docs/api.md) a non-empty "message"."""
    assert_status(resp, status)
    ct = resp.header("Content-Type") or ""
    assert ct.split(";")[0].strip().lower() == JSON_CT, "Content-Type %r for %r" % (ct, resp)
    body = resp.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), body
    err = body["error"]
    assert err.get("code") == status, body
    assert err.get("reason") == REASONS[status], body
    assert isinstance(err.get("description"), str) and err["description"], body
    if description is not None:
        assert err["description"] == description, body
    assert isinstance(body.get("message"), str) and body["message"], \
        "no JSON message in %r" % (resp,)
    return body



def assert_refused_creates_nothing(client, path, doc, status):
    """POST ``doc`` as JSON to ``path``: refused with the catcher body and ``status``,
    and no bucket exists afterwards (for a node that had none)."""
    assert_catcher(client.post(path, json=doc), status)
    assert client.get("/api/0/buckets/").json() == {}

def assert_contract_error(resp, status):
    """A 4xx where awnode deliberately differs from aw-server-rust (docs/api.md):
    a JSON object with a non-empty "message" (either error shape may carry it)."""
    assert_status(resp, status)
    body = resp.json()
    assert isinstance(body, dict), body
    msg = body.get("message")
    assert isinstance(msg, str) and msg, "no JSON message in %r" % (resp,)
    return msg


def assert_json_error(resp, status):
    """Either error shape: {"message": str} or the catcher's {"error": {...}}."""
    assert_status(resp, status)
    body = resp.json()
    assert isinstance(body, dict), body
    if isinstance(body.get("error"), dict):
        assert body["error"].get("code") == status, body
        return body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def assert_error_kind(resp, status, kind):
    if kind == "json":
        return assert_json_error(resp, status)
    if kind == "app":
        return assert_app_error(resp, status)
    if kind == "catcher":
        return assert_catcher(resp, status)
    if kind == "contract":
        return assert_contract_error(resp, status)
    raise ValueError(kind)


TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$")


def assert_ts_format(ts):
    """UTC, literal Z, 0/3/6/9 fraction digits, the fewest that show every
    non-zero digit (as aw-server-rust writes them)."""
    assert isinstance(ts, str) and TS_RE.match(ts), "bad timestamp format %r" % (ts,)
    m = re.search(r"\.(\d+)Z$", ts)
    if m:
        frac = m.group(1)
        assert frac.strip("0") != "", "zero fraction printed: %r" % ts
        if len(frac) == 6:
            assert frac[3:] != "000", "more digits than needed: %r" % ts
        if len(frac) == 9:
            assert frac[6:] != "000", "more digits than needed: %r" % ts


NS_TOL = 1.000001e-9


def assert_duration(actual, expected, tol=NS_TOL):
    assert isinstance(actual, float), "duration %r is not a JSON float" % (actual,)
    assert math.isfinite(actual)
    assert abs(actual - expected) <= tol + abs(expected) * 1e-15, (actual, expected)


def assert_event(actual, expected, check_id=True):
    """Compare an event dict: exact except duration (1 ns tolerance)."""
    assert isinstance(actual, dict), actual
    assert list(actual.keys()) == ["id", "timestamp", "duration", "data"], list(actual.keys())
    if check_id and "id" in expected:
        assert actual["id"] == expected["id"], (actual, expected)
    assert actual["timestamp"] == expected["timestamp"], (actual, expected)
    assert_ts_format(actual["timestamp"])
    assert_duration(actual["duration"], expected["duration"])
    assert actual["data"] == expected["data"], (actual, expected)


def assert_events(actual, expected, check_id=True):
    assert isinstance(actual, list), actual
    assert len(actual) == len(expected), (actual, expected)
    for a, e in zip(actual, expected):
        assert_event(a, e, check_id=check_id)


def new_bucket(client, bid, type_="test", client_name="test-client", hostname="testhost", **extra):
    body = {"client": client_name, "type": type_, "hostname": hostname}
    body.update(extra)
    r = client.post("/api/0/buckets/" + quote_id(bid), json=body)
    assert r.status == 200, r
    return r


def quote_id(bid):
    """Percent-encode a bucket id as one path segment."""
    from urllib.parse import quote
    return quote(bid, safe="")


def insert_events(client, bid, events):
    r = client.post("/api/0/buckets/%s/events" % quote_id(bid), json=events)
    assert r.status == 200, r
    return r.json()


def get_events(client, bid, query=""):
    r = client.get("/api/0/buckets/%s/events%s" % (quote_id(bid), query))
    assert r.status == 200, r
    return r.json()


def heartbeat(client, bid, event, pulsetime):
    r = client.post("/api/0/buckets/%s/heartbeat?pulsetime=%s" % (quote_id(bid), pulsetime),
                    json=event)
    assert r.status == 200, r
    return r.json()


def snapshot(client):
    """Everything a rejected request must leave unchanged."""
    r = client.get("/api/0/export")
    assert r.status == 200, r
    s = client.get("/api/0/settings")
    assert s.status == 200, s
    return {"export": r.json(), "settings": s.json()}


def assert_alive(client):
    r = client.get("/api/0/info")
    assert r.status == 200, r


def random_id(prefix="b"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def db_files(node):
    """The node's database files: the database, its -wal and -shm."""
    return sorted(glob.glob(os.path.join(node.data_dir, "awnode*.db*")))


def found_in_db_files(node, needles):
    """(file, needle) pairs of the needles whose bytes occur in the raw database files,
    read while the node may be running."""
    hits = []
    for p in db_files(node):
        with open(p, "rb") as f:
            blob = f.read()
        hits += [(os.path.basename(p), n) for n in needles if n.encode() in blob]
    return hits
