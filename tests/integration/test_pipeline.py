"""Request pipeline as aw-server-rust has it (slashes, Content-Type, 400/422/413,
error bodies, Host check, CORS, API key), with ports of its test_cors_catching,
hostcheck and apikey tests, and awnode's configurable body limit (docs/api.md)."""

import socket
import time

import pytest

from awtest import (Client, assert_app_error, assert_catcher, complete_response, dumps,
                    new_bucket, raw_status, recv_until)

NOT_FOUND_BODY = {"error": {"code": 404, "reason": "Not Found",
                            "description": "The requested resource could not be found."}}
HOST_INVALID = "Host header is invalid"
APIKEY_MSG = "Missing or invalid API key. Set 'Authorization: Bearer <key>' header."
EV = {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}}


# -- path normalisation -----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/0/buckets", "/api/0/buckets/", "//api//0/buckets///",
                                  "/api/0//buckets", "/api/0/buckets?x=1",
                                  "/api/0/buckets/?unknown=param&x"])
def test_slashes_ignored_bucket_list(client, path):
    new_bucket(client, "s")
    r = client.get(path)
    assert r.status == 200, r
    assert list(r.json().keys()) == ["s"]


@pytest.mark.parametrize("path", ["/api/0/info", "/api/0/info/", "//api/0/info",
                                  "/api//0//info//"])
def test_slashes_ignored_info(client, path):
    r = client.get(path)
    assert r.status == 200, r
    assert r.json()["testing"] is True


def test_slashes_ignored_everywhere(client):
    new_bucket(client, "s")
    r = client.post("//api/0/buckets//s//events/", json=[EV])
    assert r.status == 200, r
    eid = r.json()[0]["id"]
    assert client.get("/api/0/buckets/s/events/count/").json() == 1
    assert client.get("//api//0//buckets//s//events//count//").json() == 1
    assert client.get("/api/0/buckets/s/events//%d/" % eid).status == 200
    assert client.get("/api/0/buckets/s/").json()["id"] == "s"
    r = client.post("/api/0/buckets/s/heartbeat/?pulsetime=5",
                    json={"timestamp": "2020-01-01T00:00:02Z", "duration": 0, "data": {}})
    assert r.status == 200 and r.json()["id"] == eid
    assert client.get("/api/0/buckets/s/export/").status == 200
    assert client.get("/api/0/export/").status == 200
    assert client.post("/api/0/settings/k/", json=1).status == 201
    assert client.get("//api/0/settings//k/").json() == 1
    assert client.get("/api/0/settings/").json() == {"k": 1}
    assert client.delete("/api/0/buckets/s/events/%d/" % eid).status == 200
    assert client.delete("//api/0/buckets/s//").status == 200
    assert client.post("/api/0/buckets/s2/", json={"type": "t", "client": "c",
                                                   "hostname": "h"}).status == 200
    assert client.get("/api/0/buckets/s2").status == 200


# -- Content-Type --------------------------------------------------------------------------

JSON_POSTS = [
    ("/api/0/buckets/ct", b'{"type":"t","client":"c","hostname":"h"}'),
    ("/api/0/buckets/existing/events", b'[{"timestamp":"2020-01-01T00:00:00Z","data":{}}]'),
    ("/api/0/buckets/existing/heartbeat?pulsetime=1",
     b'{"timestamp":"2020-01-01T00:00:00Z","data":{}}'),
    ("/api/0/import", b'{"buckets":{}}'),
    ("/api/0/settings/k", b'1'),
]


@pytest.mark.parametrize("path,body", JSON_POSTS)
@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/jsonx", "application", "json"])
def test_json_post_without_json_content_type_404(jclient, path, body, ctype):
    new_bucket(jclient, "existing")
    r = jclient.post(path, body=body, content_type=ctype)
    assert_catcher(r, 404, "The requested resource could not be found.")
    # nothing was written
    assert sorted(jclient.get("/api/0/buckets/").json().keys()) == ["existing"]
    assert jclient.get("/api/0/buckets/existing/events/count").json() == 0
    assert jclient.get("/api/0/settings").json() == {}


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                   "Application/JSON"])
def test_json_content_type_with_params(client, ctype):
    new_bucket(client, "existing")
    r = client.post("/api/0/buckets/existing/events", body=dumps([EV]), content_type=ctype)
    assert r.status == 200, r


def test_not_found_catcher_body_json(jclient):
    r = jclient.get("/api/0/nonexistent")
    assert_catcher(r, 404)
    assert set(r.json()) == {"error", "message"}
    assert r.json()["error"] == NOT_FOUND_BODY["error"]


@pytest.mark.parametrize("accept", [None, "text/html,application/xhtml+xml", "*/*"])
def test_catcher_body_json_whatever_accept(client, accept):
    """aw-server-rust answers HTML unless Accept prefers JSON; awnode always
    answers JSON with a message (a deliberate deviation, docs/api.md)."""
    headers = {"Accept": accept} if accept else {}
    r = client.get("/api/0/nonexistent", headers=headers)
    assert_catcher(r, 404)
    r = client.post("/api/0/settings/k", body=b"{", content_type="application/json",
                    headers=headers)
    assert_catcher(r, 400)


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/0/nonexistent"),
    ("GET", "/api/1/buckets/"),
    ("GET", "/0/buckets/"),
    ("GET", "/api/0/"),
    ("GET", "/api/0/buckets/x/events/1/extra"),
    ("PUT", "/api/0/buckets/x"),
    ("PATCH", "/api/0/buckets/x"),
    ("PUT", "/api/0/settings/k"),
    ("POST", "/api/0/info"),
    ("DELETE", "/api/0/export"),
    ("POST", "/api/0/buckets/x/events/count"),
    ("GET", "/api/0/import"),
    ("DELETE", "/api/0/buckets/"),
])
def test_unknown_routes_404(jclient, method, path):
    r = jclient.request(method, path, body=b"{}", content_type="application/json")
    assert_catcher(r, 404)


def test_malformed_json_400(jclient):
    new_bucket(jclient, "b")
    for body in [b"", b"[", b'[{"timestamp":', b"{,}", b"[1,]", b"nul", b"'a'",
                 b'[{"timestamp":"2020-01-01T00:00:00Z","data":{}}] trailing',
                 b'[{"timestamp":"2020-01-01T00:00:00Z","data":{}}]]']:
        r = jclient.post("/api/0/buckets/b/events", body=body, content_type="application/json")
        assert_catcher(r, 400)
    assert jclient.get("/api/0/buckets/b/events/count").json() == 0


def test_truncated_body_400_or_close(node):
    """Content-Length larger than what is sent, then half-close: the server
    answers 4xx (or closes) and keeps serving."""
    c = node.client()
    new_bucket(c, "b")
    s = socket.create_connection((node.address, node.port), timeout=5)
    s.sendall(b"POST /api/0/buckets/b/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
              b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[{\"times"
              % node.port)
    s.shutdown(socket.SHUT_WR)
    data, _ = recv_until(s)
    s.close()
    if data:
        assert 400 <= raw_status(data) < 500, data
    assert c.get("/api/0/info").status == 200
    assert c.get("/api/0/buckets/b/events/count").json() == 0


def test_wrong_shape_422(jclient):
    new_bucket(jclient, "b")
    r = jclient.post("/api/0/buckets/b/events", json={"timestamp": 5, "data": {}})
    assert_catcher(r, 422)


# -- body size limit (413) -------------------------------------------------------------------

SMALL_LIMIT = "max_body_bytes = 1024\n"


def _padded_events(size):
    ev = b'{"timestamp":"2020-01-01T00:00:00Z","duration":1,"data":{"pad":"'
    tail = b'"}}'
    pad = size - 2 - len(ev) - len(tail)
    return b"[" + ev + b"x" * pad + tail + b"]"


def test_body_limit_413(node_factory):
    n = node_factory(config=SMALL_LIMIT)
    c = n.client(default_headers={"Accept": "application/json"})
    new_bucket(c, "b")
    ok = _padded_events(1000)
    assert len(ok) == 1000
    r = c.post("/api/0/buckets/b/events", body=ok, content_type="application/json")
    assert r.status == 200, r
    exact = _padded_events(1024)
    r = c.post("/api/0/buckets/b/events", body=exact, content_type="application/json")
    assert r.status == 200, r
    big = _padded_events(1025)
    r = c.post("/api/0/buckets/b/events", body=big, content_type="application/json")
    assert_catcher(r, 413)
    big = _padded_events(5000)
    for path in ("/api/0/buckets/b/events", "/api/0/buckets/b/heartbeat?pulsetime=1",
                 "/api/0/import", "/api/0/settings/k", "/api/0/buckets/new"):
        r = c.post(path, body=big, content_type="application/json")
        assert_catcher(r, 413)
    assert c.get("/api/0/buckets/b/events/count").json() == 2
    assert c.get("/api/0/settings").json() == {}
    assert sorted(c.get("/api/0/buckets/").json()) == ["b"]


def test_body_limit_413_multipart_import(node_factory):
    n = node_factory(config=SMALL_LIMIT)
    c = n.client(default_headers={"Accept": "application/json"})
    boundary = "XyZ"
    doc = dumps({"buckets": {"m": {"id": "m", "type": "t", "client": "c", "hostname": "h",
                                   "events": [dict(EV, data={"p": "x" * 3000})]}}})
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"buckets.json\"; "
            b"filename=\"b.json\"\r\nContent-Type: application/json\r\n\r\n" + doc +
            b"\r\n--XyZ--\r\n")
    r = c.post("/api/0/import", body=body, content_type="multipart/form-data; boundary=" + boundary)
    assert_catcher(r, 413)
    assert c.get("/api/0/buckets/").json() == {}


def test_body_limit_announced_length(node_factory):
    """A Content-Length over the limit gets 413 (answered early, or once the
    limit is crossed while reading)."""
    n = node_factory(config=SMALL_LIMIT)
    s = socket.create_connection((n.address, n.port), timeout=3)
    s.sendall(b"POST /api/0/settings/k HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n"
              b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n\"abc" % n.port)
    def head_read(data):
        return b"\r\n\r\n" in data

    data, _ = recv_until(s, head_read)
    if not data:
        try:
            s.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = recv_until(s, head_read)
    s.close()
    assert raw_status(data) == 413, data
    c = n.client()
    assert c.get("/api/0/info").status == 200
    assert c.get("/api/0/settings").json() == {}


def test_default_body_limit_64mib(node):
    """Default limit is 64 MiB: a 65 MiB body gets 413; a 2 MiB body is fine."""
    c = node.client(default_headers={"Accept": "application/json"})
    new_bucket(c, "b")
    ok = _padded_events(2 * 1024 * 1024)
    r = c.post("/api/0/buckets/b/events", body=ok, content_type="application/json")
    assert r.status == 200, r
    size = 65 * 1024 * 1024
    req = (b"POST /api/0/buckets/b/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
           b"Content-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n"
           % (node.port, size)) + b"[" + b" " * (size - 2) + b"]"
    data = c.raw(req, timeout=20)
    assert raw_status(data) == 413, data[:300]
    assert c.get("/api/0/info").status == 200
    assert c.get("/api/0/buckets/b/events/count").json() == 1


# -- keep-alive -------------------------------------------------------------------------------

def test_keep_alive_reuse(client):
    new_bucket(client, "ka")
    before = client.connects
    for i in range(20):
        r = client.post("/api/0/buckets/ka/heartbeat?pulsetime=5",
                        json={"timestamp": "2020-01-01T00:00:%02dZ" % i, "duration": 0,
                              "data": {}}, retry=False)
        assert r.status == 200
    r = client.get("/api/0/buckets/ka/events", retry=False)
    assert len(r.json()) == 1
    assert client.connects == before, "server closed a keep-alive connection"


def test_keep_alive_after_errors(jclient):
    jclient.get("/api/0/info")
    before = jclient.connects
    # app errors, catcher errors, 304, 201, empty bodies, then success
    assert jclient.get("/api/0/buckets/nope", retry=False).status == 404
    assert jclient.get("/api/0/nonexistent", retry=False).status == 404
    assert jclient.post("/api/0/buckets/x/events?", body=b"{", retry=False,
                        content_type="application/json").status == 400
    new_bucket(jclient, "k")
    assert jclient.post("/api/0/buckets/k", json={"type": "t", "client": "c", "hostname": "h"},
                        retry=False).status == 304
    assert jclient.post("/api/0/settings/a", json=1, retry=False).status == 201
    assert jclient.post("/api/0/buckets/k/events", json={"timestamp": 1}, retry=False).status == 422
    assert jclient.delete("/api/0/buckets/k/events/999", retry=False).status == 200
    assert jclient.get("/api/0/settings/zzz", retry=False).json() is None
    r = jclient.get("/api/0/buckets/k", retry=False)
    assert r.status == 200 and r.json()["id"] == "k"
    assert jclient.connects == before


def test_pipelined_requests(node):
    """HTTP/1.1 pipelining: responses come back in request order."""
    host = b"Host: 127.0.0.1:%d\r\n" % node.port
    req = b""
    for path in (b"/api/0/info", b"/api/0/buckets/", b"/api/0/settings/x"):
        req += b"GET " + path + b" HTTP/1.1\r\n" + host + b"\r\n"
    req += b"GET /api/0/settings HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"
    data = node.client().raw(req, until_close=True)
    assert data.count(b"HTTP/1.1 200") == 4, data
    i1 = data.index(b'"hostname"')
    i2 = data.index(b"{}")
    i3 = data.index(b"null")
    assert i1 < i2 < i3


def test_http10_request(node):
    data = node.client().raw(b"GET /api/0/info HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n"
                             % node.port)
    assert raw_status(data) == 200, data
    assert b'"testing"' in data


def test_connection_close_honoured(node):
    data = node.client().raw(b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                             b"Connection: close\r\n\r\n" % node.port, timeout=5)
    assert raw_status(data) == 200


def test_concurrent_connections(node):
    import threading
    c0 = node.client()
    new_bucket(c0, "cc")
    errors = []

    def worker(k):
        try:
            c = Client(node.address, node.port)
            for i in range(30):
                r = c.post("/api/0/buckets/cc/events",
                           json=[{"timestamp": "2020-01-01T00:%02d:%02dZ" % (k, i),
                                  "duration": 1, "data": {"k": k, "i": i}}])
                assert r.status == 200, r
            c.close()
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert c0.get("/api/0/buckets/cc/events/count").json() == 240


# -- Host header check --------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1:5600", "localhost:5600", "localhost", "127.0.0.1",
                                  "127.0.0.1:1", "localhost:"])
def test_host_check_accepts(client, host):
    r = client.get("/api/0/buckets/", host=host)
    assert r.status == 200, r


@pytest.mark.parametrize("host", ["192.168.0.1:1234", "evil.com", "LOCALHOST", "Localhost:5600",
                                  "[::1]:5600", "127.0.0.2:5600", "127.0.0.1.evil.com",
                                  "localhost.evil.com:5600", "", "0.0.0.0:5600"])
def test_host_check_rejects(client, host):
    r = client.get("/api/0/buckets/", host=host)
    assert_app_error(r, 400, HOST_INVALID)


def test_host_check_missing_host(client):
    r = client.get("/api/0/buckets/", host=None)
    assert_app_error(r, 400, HOST_INVALID)


def test_host_check_applies_everywhere(node_factory, tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<html>hi</html>")
    n = node_factory(args=["--webpath", str(web)])
    c = n.client()
    assert c.get("/", host="localhost").status == 200
    for method, path in [("GET", "/"), ("GET", "/api/0/info"), ("OPTIONS", "/api/0/buckets/"),
                         ("GET", "/api/0/nonexistent"), ("POST", "/api/0/buckets/x"),
                         ("GET", "/css/none.css")]:
        kw = {"json": {"type": "t", "client": "c", "hostname": "h"}} if method == "POST" else {}
        r = c.request(method, path, host="evil.example:80", **kw)
        assert_app_error(r, 400, HOST_INVALID)
    assert c.get("/api/0/buckets/").json() == {}


def test_host_check_rejected_write_not_applied(client):
    r = client.post("/api/0/buckets/evil", json={"type": "t", "client": "c", "hostname": "h"},
                    host="attacker.example")
    assert_app_error(r, 400, HOST_INVALID)
    assert client.get("/api/0/buckets/").json() == {}


def test_host_check_disabled_for_other_address(node_factory):
    """Host check only when bound to 127.0.0.1/localhost (hostcheck
    test_public_address).  127.0.0.2 is another loopback address."""
    n = node_factory(config='address = "127.0.0.2"\n', address="127.0.0.2")
    c = n.client()
    assert c.get("/api/0/buckets/", host=None).status == 200
    assert c.get("/api/0/buckets/", host="evil.com").status == 200
    assert c.get("/api/0/info", host="192.168.0.1:1234").status == 200


def test_host_flag_overrides_config_address(node_factory):
    n = node_factory(config='address = "127.0.0.1"\n', args=["--host", "127.0.0.2"],
                     address="127.0.0.2")
    c = n.client()
    assert c.get("/api/0/info", host="whatever").status == 200


# -- CORS ------------------------------------------------------------------------------------

def _origin_headers(origin, **extra):
    h = {"Origin": origin}
    h.update(extra)
    return h


def test_cors_catching(client):
    """api.rs::test_cors_catching: OPTIONS without Origin => 200, empty."""
    r = client.options("/api/0/buckets/")
    assert r.status == 200
    assert r.body == b""
    r = client.options("/any/path/at/all")
    assert r.status == 200 and r.body == b""


def test_no_origin_no_cors_headers(client):
    r = client.get("/api/0/info")
    assert r.header("Access-Control-Allow-Origin") is None


def test_cors_allowed_default_origins(node, client):
    for origin in [node.origin, "http://localhost:%d" % node.port,
                   "http://127.0.0.1:27180", "http://localhost:27180",
                   "chrome-extension://nglaklhklhcoonedhgnpgddginnjdadi",
                   "chrome-extension://someotherextensionid",   # testing mode only
                   "moz-extension://8a7bd1c2-1234-4d3e-9f00-abcdef012345"]:
        r = client.get("/api/0/info", headers=_origin_headers(origin))
        assert r.status == 200, (origin, r)
        assert r.header("Access-Control-Allow-Origin") == origin, (origin, r.headers)
        assert r.header("Access-Control-Allow-Credentials") is None


def test_cors_allowed_post(node, client):
    r = client.post("/api/0/buckets/c", json={"type": "t", "client": "c", "hostname": "h"},
                    headers=_origin_headers(node.origin))
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == node.origin
    assert client.get("/api/0/buckets/c").status == 200


@pytest.mark.parametrize("origin", ["http://evil.com", "null", "http://127.0.0.1:1",
                                    "https://127.0.0.1:{port}", "http://localhost",
                                    "http://127.0.0.1", "http://localhost:27181",
                                    "file://"])
def test_cors_disallowed_origin_403(node, jclient, origin):
    origin = origin.format(port=node.port)
    r = jclient.get("/api/0/buckets/", headers=_origin_headers(origin))
    assert_catcher(r, 403)
    assert r.header("Access-Control-Allow-Origin") is None


def test_cors_disallowed_origin_write_not_applied(jclient):
    r = jclient.post("/api/0/buckets/evil", json={"type": "t", "client": "c", "hostname": "h"},
                     headers=_origin_headers("http://evil.com"))
    assert_catcher(r, 403)
    r = jclient.post("/api/0/settings/evil", json=1, headers=_origin_headers("http://evil.com"))
    assert_catcher(r, 403)
    r = jclient.delete("/api/0/settings/evil", headers=_origin_headers("http://evil.com"))
    assert_catcher(r, 403)
    assert jclient.get("/api/0/buckets/").json() == {}
    assert jclient.get("/api/0/settings").json() == {}


def test_cors_disallowed_delete_not_applied(jclient):
    new_bucket(jclient, "keep")
    r = jclient.delete("/api/0/buckets/keep", headers=_origin_headers("http://evil.com"))
    assert_catcher(r, 403)
    assert jclient.get("/api/0/buckets/keep").status == 200


def test_cors_preflight_ok(node, client):
    r = client.options("/api/0/buckets/x/heartbeat",
                       headers=_origin_headers(node.origin,
                                               **{"Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers":
                                                      "Content-Type, X-Custom"}))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Access-Control-Allow-Origin") == node.origin
    methods = {m.strip().upper() for m in (r.header("Access-Control-Allow-Methods") or "").split(",")}
    assert methods == {"GET", "POST", "DELETE"}, r.headers
    allowed = {h.strip().lower() for h in (r.header("Access-Control-Allow-Headers") or "").split(",")}
    assert allowed == {"content-type", "x-custom"}, r.headers
    assert r.header("Access-Control-Allow-Credentials") is None


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_cors_preflight_methods_allowed(node, client, method):
    r = client.options("/api/0/settings/x",
                       headers=_origin_headers("moz-extension://abc",
                                               **{"Access-Control-Request-Method": method}))
    assert r.status == 200, r
    assert r.header("Access-Control-Allow-Origin") == "moz-extension://abc"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "TRACE"])
def test_cors_preflight_method_not_allowed_403(node, jclient, method):
    r = jclient.options("/api/0/buckets/",
                        headers=_origin_headers(node.origin,
                                                **{"Access-Control-Request-Method": method}))
    assert_catcher(r, 403)


def test_cors_preflight_missing_request_method_400(node, jclient):
    r = jclient.options("/api/0/buckets/", headers=_origin_headers(node.origin))
    assert_catcher(r, 400)


def test_cors_preflight_disallowed_origin_403(jclient):
    r = jclient.options("/api/0/buckets/",
                        headers=_origin_headers("http://evil.com",
                                                **{"Access-Control-Request-Method": "GET"}))
    assert_catcher(r, 403)
    assert r.header("Access-Control-Allow-Origin") is None


def test_cors_config_origins(node_factory):
    cfg = ('cors = ["http://example.test:3000", "https://app.example.test"]\n'
           'cors_regex = ["^https://[a-z]+\\\\.anchored\\\\.test$", "unanchored\\\\.test"]\n')
    n = node_factory(config=cfg)
    c = n.client(default_headers={"Accept": "application/json"})
    for origin in ["http://example.test:3000", "https://app.example.test",
                   "https://abc.anchored.test", "https://unanchored.test",
                   "http://x.unanchored.test.evil.com",      # aw-server-rust's regexes are searches
                   n.origin]:
        r = c.get("/api/0/info", headers=_origin_headers(origin))
        assert r.status == 200, (origin, r)
        assert r.header("Access-Control-Allow-Origin") == origin
    for origin in ["http://example.test:3001", "http://example.test", "https://example.test:3000",
                   "https://abc.anchored.test.evil.com", "https://ABC1.anchored.test",
                   "http://evil.com"]:
        r = c.get("/api/0/info", headers=_origin_headers(origin))
        assert_catcher(r, 403)


def test_cors_non_testing_mode_extension_origins(node_factory):
    """Outside testing mode only the aw-watcher-web chrome extension id and
    moz-extension:// origins are allowed, not every chrome-extension://."""
    n = node_factory(testing=False)
    c = n.client(default_headers={"Accept": "application/json"})
    assert c.get("/api/0/info").json()["testing"] is False
    ok = ["chrome-extension://nglaklhklhcoonedhgnpgddginnjdadi", "moz-extension://abc", n.origin]
    for origin in ok:
        r = c.get("/api/0/info", headers=_origin_headers(origin))
        assert r.status == 200 and r.header("Access-Control-Allow-Origin") == origin, (origin, r)
    for origin in ["chrome-extension://otherextension", "http://127.0.0.1:27180",
                   "http://localhost:27180"]:
        assert_catcher(c.get("/api/0/info", headers=_origin_headers(origin)), 403)


def test_cors_static_and_errors_get_header(node, client):
    r = client.get("/api/0/buckets/nope", headers=_origin_headers(node.origin))
    assert r.status == 404
    assert r.header("Access-Control-Allow-Origin") == node.origin


# -- API key -----------------------------------------------------------------------------------

APIKEY_CFG = '[auth]\napi_key = "s3cret-key"\n'


@pytest.fixture
def keynode(node_factory, tmp_path):
    web = tmp_path / "web"
    (web / "css").mkdir(parents=True)
    (web / "index.html").write_text("<html>ui</html>")
    (web / "css" / "a.css").write_text("body{}")
    return node_factory(config=APIKEY_CFG, args=["--webpath", str(web)])


def test_api_key_required(keynode):
    c = keynode.client()
    assert c.get("/api/0/info").status == 200
    for path in ["/api/0/buckets/", "//api/0/buckets/", "///api//0/buckets", "/api/0/info/",
                 "/api/0/export", "/api/0/settings", "/api/0/nonexistent",
                 "/api/0/buckets/x/events"]:
        r = c.get(path)
        assert_app_error(r, 401, APIKEY_MSG)
    r = c.post("/api/0/buckets/x", json={"type": "t", "client": "c", "hostname": "h"})
    assert_app_error(r, 401, APIKEY_MSG)


def test_api_key_valid(keynode):
    c = keynode.client(default_headers={"Authorization": "Bearer s3cret-key"})
    assert c.get("/api/0/buckets/").status == 200
    assert c.post("/api/0/buckets/x", json={"type": "t", "client": "c",
                                            "hostname": "h"}).status == 200
    assert c.get("/api/0/info/").status == 200
    assert list(c.get("//api/0/buckets").json()) == ["x"]


@pytest.mark.parametrize("auth", ["Bearer wrong", "Bearer s3cret-ke", "Bearer s3cret-key2",
                                  "Basic s3cret-key", "bearer s3cret-key", "Bearer  s3cret-key",
                                  "s3cret-key", "Bearer", ""])
def test_api_key_invalid(keynode, auth):
    c = keynode.client()
    r = c.get("/api/0/buckets/", headers={"Authorization": auth})
    assert_app_error(r, 401, APIKEY_MSG)
    r = c.post("/api/0/settings/k", json=1, headers={"Authorization": auth})
    assert_app_error(r, 401, APIKEY_MSG)
    ok = keynode.client(default_headers={"Authorization": "Bearer s3cret-key"})
    assert ok.get("/api/0/settings").json() == {}


def test_api_key_options_and_static_public(keynode):
    c = keynode.client()
    assert c.options("/api/0/buckets/").status == 200
    r = c.options("/api/0/buckets/", headers=_origin_headers(
        keynode.origin, **{"Access-Control-Request-Method": "GET"}))
    assert r.status == 200
    assert c.get("/").status == 200
    assert c.get("/css/a.css").status == 200


def test_api_key_bad_host_wins(keynode):
    r = keynode.client().get("/api/0/buckets/", host="evil.com")
    assert_app_error(r, 400, HOST_INVALID)


def test_api_key_cors_rejection_wins(keynode):
    c = keynode.client(default_headers={"Accept": "application/json"})
    r = c.get("/api/0/buckets/", headers=_origin_headers("http://evil.com"))
    assert_catcher(r, 403)


def test_empty_api_key_disables_auth(node_factory):
    n = node_factory(config='[auth]\napi_key = ""\n')
    assert n.client().get("/api/0/buckets/").status == 200


def test_no_api_key_configured(client):
    assert client.get("/api/0/buckets/").status == 200
    assert client.get("/api/0/buckets/", headers={"Authorization": "Bearer anything"}).status == 200


# -- garbage at the HTTP level ------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    b"GARBAGE\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"\x00\x01\x02\x03\xff\xfe\r\n\r\n",
    b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
    b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n",
    b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n",
    b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n",
    b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST /api/0/settings/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_http_garbage_keeps_serving(node, raw):
    """Garbage gets an error status or a closed connection (never a success,
    never a connection left hanging), and the node keeps serving."""
    s = socket.create_connection((node.address, node.port), timeout=3)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    data, closed = recv_until(s, complete_response)
    s.close()
    st = raw_status(data)
    assert st is not None or closed, "no answer and connection left open: %r" % raw[:100]
    assert st is None or 400 <= st < 600, data[:300]
    c = node.client()
    assert c.get("/api/0/info").status == 200
    assert c.get("/api/0/settings").json() == {}


def test_slow_client_does_not_block_others(node):
    """A connection that sends half a request does not stop other clients."""
    s = socket.create_connection((node.address, node.port), timeout=5)
    s.sendall(b"POST /api/0/settings/k HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n")
    c = node.client()
    t0 = time.monotonic()
    assert c.get("/api/0/info").status == 200
    assert time.monotonic() - t0 < 2
    s.close()
