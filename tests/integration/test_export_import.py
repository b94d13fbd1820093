"""Export and import as aw-server-rust does them, with a port of its test_import_export."""

import os
import time

import pytest

import awtest

from awtest import (assert_app_error, assert_catcher, assert_event, assert_events,
                    assert_refused_creates_nothing, dumps, get_events, insert_events, new_bucket)


def bucket_doc(bid, events, **extra):
    b = {"id": bid, "type": "type", "client": "client", "hostname": "hostname"}
    b.update(extra)
    b["events"] = events
    return b


def multipart(parts, boundary="----awnodeTestBoundary7MA4YWxkTrZu0gW"):
    """parts: list of (name, filename or None, content bytes, content-type or None)."""
    out = b""
    for name, filename, content, ctype in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"Content-Disposition: " + disp.encode() + b"\r\n"
        if ctype:
            out += b"Content-Type: " + ctype.encode() + b"\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out, "multipart/form-data; boundary=" + boundary


E1 = {"timestamp": "2018-01-01T01:01:01Z", "duration": 1.0, "data": {}}


def test_import_export_api(client):
    """Port of aw-server/tests/api.rs::test_import_export."""
    doc = {"buckets": {"id1": bucket_doc("id1", [E1])}}
    r = client.post("/api/0/import", json=doc)
    assert r.status == 200, r
    assert r.body == b""
    assert client.get("/api/0/buckets/id1/events/count").json() == 1

    # same bucket with a new event: merged
    e2 = {"timestamp": "2018-01-01T01:01:03Z", "duration": 1.0, "data": {"x": 1}}
    r = client.post("/api/0/import", json={"buckets": {"id1": bucket_doc("id1", [E1, e2])}})
    assert r.status == 200, r
    assert client.get("/api/0/buckets/id1/events/count").json() == 2

    # identical event again: idempotent
    r = client.post("/api/0/import", json={"buckets": {"id1": bucket_doc("id1", [E1])}})
    assert r.status == 200
    assert client.get("/api/0/buckets/id1/events/count").json() == 2

    # a 30 s event not identical to any stored event is added
    e3 = {"timestamp": "2018-01-01T01:01:01Z", "duration": 30.0, "data": {}}
    r = client.post("/api/0/import", json={"buckets": {"id1": bucket_doc("id1", [e3])}})
    assert r.status == 200
    assert client.get("/api/0/buckets/id1/events/count").json() == 3

    r = client.get("/api/0/buckets/id1/export")
    assert r.status == 200
    exported = r.json()
    assert list(exported["buckets"].keys()) == ["id1"]
    assert len(exported["buckets"]["id1"]["events"]) == 3

    assert client.delete("/api/0/buckets/id1").status == 200

    body, ctype = multipart([("buckets.json", "buckets.json", dumps(exported),
                              "application/json")])
    r = client.post("/api/0/import", body=body, content_type=ctype)
    assert r.status == 200, r

    r = client.get("/api/0/export")
    assert r.status == 200
    full = r.json()
    assert list(full["buckets"].keys()) == ["id1"]
    assert len(full["buckets"]["id1"]["events"]) == 3


def test_bucket_export_shape_and_headers(client):
    new_bucket(client, "exp", type_="currentwindow", client_name="aw-watcher-window",
               hostname="h", data={"b": 1, "a": 2})
    evs = insert_events(client, "exp", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 5, "data": {"n": 0}},
        {"timestamp": "2020-01-01T00:00:10Z", "duration": 5, "data": {"n": 1}},
    ])
    r = client.get("/api/0/buckets/exp/export")
    assert r.status == 200
    assert r.header("Content-Disposition") == "attachment; filename=aw-bucket-export_exp.json"
    # reference: no Content-Type header at all on exports
    assert r.header("Content-Type") is None, r.headers
    doc = r.json()
    assert list(doc.keys()) == ["buckets"]
    b = doc["buckets"]["exp"]
    bucket = client.get("/api/0/buckets/exp").json()
    # every bucket field plus the events, newest first, with ids
    for k in ("id", "type", "client", "hostname", "created", "data", "metadata"):
        assert b[k] == bucket[k], k
    assert_events(b["events"], [dict(evs[1], duration=5.0), dict(evs[0], duration=5.0)])
    # unclipped events
    assert b["events"][1]["timestamp"] == "2020-01-01T00:00:00Z"


def test_bucket_export_unknown_404(client):
    assert_app_error(client.get("/api/0/buckets/nope/export"), 404)


def test_full_export_filename(client):
    r = client.get("/api/0/export")
    assert r.status == 200
    assert r.json() == {"buckets": {}}
    assert r.header("Content-Disposition") == "attachment; filename=aw-buckets-export.json"
    assert r.header("Content-Type") is None

    new_bucket(client, "only")
    r = client.get("/api/0/export")
    assert r.header("Content-Disposition") == "attachment; filename=aw-bucket-export_only.json"
    assert list(r.json()["buckets"].keys()) == ["only"]

    new_bucket(client, "second")
    r = client.get("/api/0/export")
    assert r.header("Content-Disposition") == "attachment; filename=aw-buckets-export.json"
    assert sorted(r.json()["buckets"].keys()) == ["only", "second"]


def test_full_export_contents(client):
    new_bucket(client, "a")
    new_bucket(client, "b")
    insert_events(client, "a", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1,
                                 "data": {"x": "y"}}])
    doc = client.get("/api/0/export").json()
    assert doc["buckets"]["b"]["events"] == []
    assert len(doc["buckets"]["a"]["events"]) == 1
    assert doc["buckets"]["a"]["metadata"] == {"start": "2020-01-01T00:00:00Z",
                                               "end": "2020-01-01T00:00:01Z"}
    assert doc["buckets"]["a"]["last_updated"] is None


def test_export_delete_import_roundtrip_exact(client):
    """Events keep their ids (written as given), created is kept: an export
    re-imported into an empty node exports identically."""
    new_bucket(client, "rt", created="2019-01-02T03:04:05.678901Z", data={"k": [1, 2]})
    insert_events(client, "rt", [
        {"timestamp": "2020-01-01T00:00:00.5Z", "duration": 1.25, "data": {"a": 1, "b": "x"}},
        {"timestamp": "2020-01-01T00:00:02Z", "duration": 0, "data": {}},
        {"timestamp": "2020-01-01T00:00:03.000000001Z", "duration": 1e-9, "data": {"u": "\u00e9"}},
    ])
    before = client.get("/api/0/export").json()
    assert client.delete("/api/0/buckets/rt").status == 200
    assert client.post("/api/0/import", json=before).status == 200
    after = client.get("/api/0/export").json()
    assert after == before


def test_import_into_fresh_node_roundtrip(node_factory):
    n1 = node_factory()
    c1 = n1.client()
    new_bucket(c1, "w", type_="currentwindow", hostname="h1")
    new_bucket(c1, "a", type_="afkstatus", hostname="h1")
    insert_events(c1, "w", [{"timestamp": "2020-01-01T00:00:%02dZ" % i, "duration": 1,
                             "data": {"app": "x", "title": str(i)}} for i in range(50)])
    insert_events(c1, "a", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 50,
                             "data": {"status": "not-afk"}}])
    export = c1.get("/api/0/export").json()

    n2 = node_factory()
    c2 = n2.client()
    assert c2.post("/api/0/import", json=export).status == 200
    assert c2.get("/api/0/export").json() == export
    # importing the same file again changes nothing
    assert c2.post("/api/0/import", json=export).status == 200
    assert c2.get("/api/0/export").json() == export


def test_import_new_bucket_keeps_created_and_fields(client):
    doc = {"buckets": {"ignored-key": {
        "id": "real-id", "type": "t", "client": "c", "hostname": "h",
        "created": "2018-05-05T05:05:05Z", "data": {"d": 1},
        "events": [{"timestamp": "2018-05-05T05:05:06Z", "duration": 1, "data": {}}]}}}
    assert client.post("/api/0/import", json=doc).status == 200
    # the map key is ignored; the bucket's own id is used
    assert client.get("/api/0/buckets/ignored-key").status == 404
    b = client.get("/api/0/buckets/real-id").json()
    assert b["created"] == "2018-05-05T05:05:05Z"
    assert b["data"] == {"d": 1}
    assert b["type"] == "t" and b["client"] == "c" and b["hostname"] == "h"
    assert b["metadata"] == {"start": "2018-05-05T05:05:06Z", "end": "2018-05-05T05:05:07Z"}


def test_import_merge_does_not_update_bucket_fields(client):
    new_bucket(client, "m", type_="t1", client_name="c1", hostname="h1")
    doc = {"buckets": {"m": {"id": "m", "type": "t2", "client": "c2", "hostname": "h2",
                             "events": []}}}
    assert client.post("/api/0/import", json=doc).status == 200
    b = client.get("/api/0/buckets/m").json()
    assert (b["type"], b["client"], b["hostname"]) == ("t1", "c1", "h1")


def test_import_dedup_identity(client):
    """Identity is (timestamp, duration ns, data with sorted keys)."""
    new_bucket(client, "d")
    insert_events(client, "d", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 100, "data": {"a": 1, "b": 2}}])
    incoming = [
        # identical (key order differs, offset differs): skipped
        {"timestamp": "2020-01-01T01:00:00+01:00", "duration": 100, "data": {"b": 2, "a": 1}},
        # narrower inside the longer one: inserted
        {"timestamp": "2020-01-01T00:00:10Z", "duration": 5, "data": {"a": 1, "b": 2}},
        # same span, different data: inserted
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 100, "data": {"a": 1}},
        # int vs float differs: inserted
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 100, "data": {"a": 1.0, "b": 2}},
        # longer: inserted
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 100.5, "data": {"a": 1, "b": 2}},
    ]
    body = dumps({"buckets": {"d": bucket_doc("d", incoming)}})
    r = client.post("/api/0/import", body=body, content_type="application/json")
    assert r.status == 200
    assert client.get("/api/0/buckets/d/events/count").json() == 5
    r = client.post("/api/0/import", body=body, content_type="application/json")
    assert client.get("/api/0/buckets/d/events/count").json() == 5


def test_import_duplicates_within_one_file_into_new_bucket(client):
    """A new bucket is created with all its events (no dedup inside the file)."""
    ev = {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}}
    doc = {"buckets": {"n": bucket_doc("n", [ev, ev])}}
    assert client.post("/api/0/import", json=doc).status == 200
    assert client.get("/api/0/buckets/n/events/count").json() == 2


def test_import_events_without_id_get_fresh_ids(client):
    new_bucket(client, "x")
    existing = insert_events(client, "x", [E1])[0]
    doc = {"buckets": {"y": bucket_doc("y", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {"n": 1}},
        {"timestamp": "2020-01-01T00:00:05Z", "duration": 1, "data": {"n": 2}}])}}
    assert client.post("/api/0/import", json=doc).status == 200
    evs = get_events(client, "y")
    ids = {e["id"] for e in evs}
    assert len(ids) == 2 and existing["id"] not in ids
    assert len(get_events(client, "x")) == 1


def test_import_keeps_given_ids(client):
    doc = {"buckets": {"g": bucket_doc("g", [
        {"id": 4242, "timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}}])}}
    assert client.post("/api/0/import", json=doc).status == 200
    r = client.get("/api/0/buckets/g/events/4242")
    assert r.status == 200
    assert_event(r.json(), {"id": 4242, "timestamp": "2020-01-01T00:00:00Z", "duration": 1.0,
                            "data": {}})


def test_import_multiple_buckets(client):
    doc = {"buckets": {k: bucket_doc(k, [dict(E1, data={"b": k})]) for k in ("p", "q", "r")}}
    assert client.post("/api/0/import", json=doc).status == 200
    assert sorted(client.get("/api/0/buckets/").json().keys()) == ["p", "q", "r"]
    for k in ("p", "q", "r"):
        assert get_events(client, k)[0]["data"] == {"b": k}


def test_import_bucket_without_events_field(client):
    doc = {"buckets": {"e": {"id": "e", "type": "t", "client": "c", "hostname": "h"}}}
    assert client.post("/api/0/import", json=doc).status == 200
    assert client.get("/api/0/buckets/e").status == 200
    assert client.get("/api/0/buckets/e/events/count").json() == 0


def test_import_malformed_events_dropped(client):
    """Malformed individual events inside an events array are silently
    dropped (TryVec); the others are imported."""
    doc = {"buckets": {"t": bucket_doc("t", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {"ok": 1}},
        {"timestamp": "garbage", "duration": 1, "data": {}},
        {"duration": 1, "data": {}},
        {"timestamp": "2020-01-01T00:00:00Z", "duration": "x", "data": {}},
        5,
        {"timestamp": "2020-01-01T00:00:05Z", "duration": 1, "data": {"ok": 2}},
    ])}}
    r = client.post("/api/0/import", json=doc)
    assert r.status == 200, r
    evs = get_events(client, "t")
    assert sorted(e["data"]["ok"] for e in evs) == [1, 2]


@pytest.mark.parametrize("doc", [
    {"buckets": {"x": {"id": "x", "client": "c", "hostname": "h", "events": []}}},
    {"buckets": {"x": {"id": "x", "type": "t", "client": "c", "hostname": "h",
                       "events": {}}}},
    {"buckets": {"x": "not a bucket"}},
    {"buckets": []},
    {"buckets": None},
    {},
    [],
    "buckets",
])
def test_import_malformed_bucket_422(jclient, doc):
    assert_refused_creates_nothing(jclient, "/api/0/import", doc, 422)


def test_import_invalid_json_400(jclient):
    r = jclient.post("/api/0/import", body=b'{"buckets": {', content_type="application/json")
    assert_catcher(r, 400)


def test_import_wrong_content_type_404(jclient):
    doc = dumps({"buckets": {"x": bucket_doc("x", [])}})
    assert_catcher(jclient.post("/api/0/import", body=doc, content_type=None), 404)
    assert_catcher(jclient.post("/api/0/import", body=doc, content_type="text/plain"), 404)
    assert jclient.get("/api/0/buckets/").json() == {}


@pytest.mark.parametrize("name,filename", [
    ("buckets.json", "buckets.json"),
    ("buckets.json", None),
    ("buckets", "export.json"),
    ("buckets", None),
])
def test_import_multipart_part_names(client, name, filename):
    doc = {"buckets": {"mp": bucket_doc("mp", [E1])}}
    body, ctype = multipart([(name, filename, dumps(doc), "application/json")])
    r = client.post("/api/0/import", body=body, content_type=ctype)
    assert r.status == 200, r
    assert client.get("/api/0/buckets/mp/events/count").json() == 1


def test_import_multipart_like_webui(client):
    """The web UI posts FormData with one file part named buckets.json and a
    browser-made boundary; other parts are ignored."""
    doc = {"buckets": {"wu": bucket_doc("wu", [E1])}}
    body, ctype = multipart([
        ("other", None, b"ignored", None),
        ("buckets.json", "aw-buckets-export.json", dumps(doc), "application/json"),
    ], boundary="----WebKitFormBoundaryx8Hd0Yf2mM3kq1Zs")
    r = client.post("/api/0/import", body=body, content_type=ctype)
    assert r.status == 200, r
    assert client.get("/api/0/buckets/wu/events/count").json() == 1


def test_import_multipart_missing_part_4xx(jclient):
    body, ctype = multipart([("something", "x.json", b"{}", "application/json")])
    r = jclient.post("/api/0/import", body=body, content_type=ctype)
    assert r.status == 400, r
    assert jclient.get("/api/0/buckets/").json() == {}


def test_import_multipart_bad_json_4xx(jclient):
    body, ctype = multipart([("buckets.json", "buckets.json", b"{not json", None)])
    r = jclient.post("/api/0/import", body=body, content_type=ctype)
    assert r.status == 400, r
    assert jclient.get("/api/0/buckets/").json() == {}


def test_import_large_export(client):
    """A few thousand events import, export back identically, de-duplicate."""
    evs = [{"timestamp": "2020-01-%02dT%02d:%02d:00Z" % (1 + i // 1440, i // 60 % 24, i % 60),
            "duration": 59.5, "data": {"app": "app%d" % (i % 13), "title": "t%d" % (i % 101)}}
           for i in range(5000)]
    doc = {"buckets": {"big": bucket_doc("big", evs)}}
    assert client.post("/api/0/import", json=doc).status == 200
    assert client.get("/api/0/buckets/big/events/count").json() == 5000
    exp = client.get("/api/0/buckets/big/export").json()
    got = exp["buckets"]["big"]["events"]
    assert len(got) == 5000
    assert got[0]["timestamp"] > got[-1]["timestamp"]
    assert client.post("/api/0/import", json=exp).status == 200
    assert client.get("/api/0/buckets/big/events/count").json() == 5000


def test_import_file_truncated_while_it_is_read(node_factory, tmp_path):
    """`awnode import FILE` reads FILE through a mapping. When FILE is cut short while
    the import reads it (a copy still in progress, a file rewritten in place), the
    import stops with a one-line error and a non-zero exit instead of dying of SIGBUS,
    and what it stored stays intact: importing the whole file again completes it."""
    import signal
    import subprocess
    env = node_factory(start=False).env
    n = 300000
    t0 = 1700000000
    events = ",".join('{"id":%d,"timestamp":"%s","duration":1.0,"data":{"app":"a%d","title":"t%d"}}'
                      % (i + 1, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0 + 2 * i)), i % 7, i % 1000)
                      for i in range(n))
    text = ('{"buckets":{"big":{"id":"big","type":"currentwindow","client":"c","hostname":"h",'
            '"created":"2023-11-14T22:13:20Z","events":[%s]}}}' % events)
    path, db = str(tmp_path / "big.json"), str(tmp_path / "big.db")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.Popen([awtest.binary_path(), "import", path, "--dbpath", db], env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # wait for the mapping, then cut the file in half while the import is stopped
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and p.poll() is None:
        try:
            with open("/proc/%d/maps" % p.pid) as m:
                if path in m.read():
                    break
        except OSError:
            pass
        time.sleep(0.001)
    p.send_signal(signal.SIGSTOP)
    # at a page boundary: the first byte the import reads past the end is on a page
    # the file no longer has (inside a page, it would read zeros and call it bad JSON)
    os.truncate(path, len(text) // 2 // 4096 * 4096)
    p.send_signal(signal.SIGCONT)
    out, err = p.communicate(timeout=60)
    err = err.decode("utf-8", "replace")
    assert not awtest.sanitizer_finding(err), err
    assert p.returncode == 1, (p.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and path in lines[0] and "changed" in lines[0], err
    with open(path, "w") as f:
        f.write(text)
    q = awtest.run_awnode(["import", path, "--dbpath", db], env, timeout=120)
    assert q.returncode == 0, q.stderr
    node = node_factory(args=["--dbpath", db])
    assert node.client().get("/api/0/buckets/big/events/count").json() == n
