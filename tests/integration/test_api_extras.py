"""What aw-server-python offered beyond aw-server-rust: the OpenAPI document and
explorer, the server log, and the client compatibility that awnode keeps (docs/api.md)."""

import json

import awtest

# Every route of aw-server-rust plus awnode's own (docs/api.md). The OpenAPI
# document must list exactly these: a route added to the router without documentation,
# or documentation of a route that does not exist, fails here.
EXPECTED = {
    ("get", "/api/0/info"), ("get", "/api/0/log"), ("get", "/api/0/openapi.json"),
    ("get", "/api/0/devices"), ("get", "/api/0/settings-history"), ("get", "/api/0/buckets"), ("get", "/api/0/buckets/{bucket_id}"),
    ("post", "/api/0/buckets/{bucket_id}"), ("delete", "/api/0/buckets/{bucket_id}"),
    ("get", "/api/0/buckets/{bucket_id}/events"), ("post", "/api/0/buckets/{bucket_id}/events"),
    ("get", "/api/0/buckets/{bucket_id}/events/count"),
    ("get", "/api/0/buckets/{bucket_id}/events/{event_id}"),
    ("delete", "/api/0/buckets/{bucket_id}/events/{event_id}"),
    ("post", "/api/0/buckets/{bucket_id}/heartbeat"), ("get", "/api/0/buckets/{bucket_id}/export"),
    ("get", "/api/0/export"), ("post", "/api/0/import"), ("post", "/api/0/query"),
    ("get", "/api/0/settings"), ("get", "/api/0/settings/{key}"), ("post", "/api/0/settings/{key}"),
    ("delete", "/api/0/settings/{key}"), ("post", "/api/0/privacy/redact"),
    ("get", "/api/0/sync/status"), ("post", "/api/0/sync/now"),
    ("get", "/api/0/archive"), ("post", "/api/0/archive"),
    ("get", "/api/0/watchers"), ("post", "/api/0/watchers/{name}/pause"),
    ("post", "/api/0/watchers/{name}/resume"),
}


def concrete(path):
    return path.replace("{bucket_id}", "b").replace("{event_id}", "1").replace("{key}", "k")


def test_openapi_lists_exactly_the_routes(client):
    r = client.get("/api/0/openapi.json")
    assert r.status == 200 and r.header("Content-Type") == "application/json"
    doc = r.json()
    assert doc["openapi"].startswith("3.0") and doc["info"]["title"] and doc["info"]["version"]
    got = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert got == EXPECTED
    for p, ops in doc["paths"].items():
        for m, op in ops.items():
            assert op["summary"] and op["responses"], (m, p)
            assert all(code.isdigit() for code in op["responses"]), (m, p)
            names = [x["name"] for x in op["parameters"] if x["in"] == "path"]
            assert names == [s[1:-1] for s in p.split("/") if s.startswith("{")], (m, p)
    # every documented route is routed: none answers the router's "no route" 404
    client.post("/api/0/buckets/b", json={"type": "t", "client": "c", "hostname": "h"})
    for m, p in sorted(EXPECTED):
        resp = client.request(m.upper(), concrete(p), json={} if m == "post" else awtest._MISSING)
        assert not (resp.status == 404 and "no route" in resp.text), (m, p, resp)


def test_explorer_is_served_without_cdn(client):
    r = client.get("/api/")
    assert r.status == 200 and r.header("Content-Type").startswith("text/html"), r
    html = r.text
    assert "/api/explorer/swagger-ui-bundle.js" in html and "http" not in html.replace("http-equiv", "")
    for asset, ctype in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                         ("explorer.js", "text/javascript")):
        a = client.get("/api/explorer/" + asset)
        assert a.status == 200 and a.header("Content-Type").startswith(ctype) and len(a.body) > 10, asset
    assert client.get("/api/explorer/../../etc/passwd").status == 404
    assert client.get("/api/explorer/nope.js").status == 404


def test_log_returns_lines_of_a_request_just_made(client):
    assert client.post("/api/0/buckets/log-test-bucket", json={"type": "t", "client": "c", "hostname": "h"}).status == 200
    r = client.get("/api/0/log?limit=5")
    assert r.status == 200
    lines = r.json()
    assert 1 <= len(lines) <= 5
    assert all(set(l) == {"time", "level", "message"} for l in lines)
    assert any("log-test-bucket" in l["message"] for l in lines), lines
    assert len(client.get("/api/0/log?limit=1").json()) == 1
    assert client.get("/api/0/log?limit=abc").status == 200


def test_log_never_shows_the_api_key(node_factory):
    node = node_factory(config='[auth]\napi_key = "sekrit-key-123"\n')
    c = node.client(default_headers={"Authorization": "Bearer sekrit-key-123"})
    c.post("/api/0/settings/x", json=1)
    assert c.get("/api/0/buckets/").status == 200
    text = c.get("/api/0/log?limit=1000").text
    assert "sekrit-key-123" not in text
    assert "sekrit-key-123" not in node.stderr_text()


def test_python_server_compatibility(client):
    client.post("/api/0/buckets/py", json={"type": "t", "client": "c", "hostname": "h"})
    evs = [{"timestamp": "2024-05-01T10:00:0%dZ" % i, "duration": 1, "data": {}} for i in range(5)]
    # a single object is accepted as a one-element list
    r = client.post("/api/0/buckets/py/events", json=evs[0])
    assert r.status == 200 and len(r.json()) == 1
    client.post("/api/0/buckets/py/events", json=evs[1:])
    # count honours start/end like aw-server-python; it matches the events list
    q = "start=2024-05-01T10:00:01.5Z&end=2024-05-01T10:00:03Z"
    assert client.get("/api/0/buckets/py/events/count?" + q).json() == len(client.get("/api/0/buckets/py/events?" + q).json()) == 3
    assert client.get("/api/0/buckets/py/events/count").json() == 5
    # DELETE with ?force=1 (required by aw-server-python outside testing mode) works
    assert client.delete("/api/0/buckets/py?force=1").status == 200
    assert client.get("/api/0/buckets/py").status == 404
