"""Buckets as aw-server-rust has them, with a port of its test_bucket; metadata
start/end stay exact after deletions (a deliberate deviation, docs/api.md)."""

import datetime
import socket

import pytest

from awtest import (assert_app_error, assert_catcher, assert_events, assert_refused_creates_nothing,
                    assert_ts_format, get_events, insert_events, new_bucket, quote_id)

BUCKET_KEYS = ["id", "type", "client", "hostname", "created", "data", "metadata", "events",
               "last_updated"]


def parse_ts(ts):
    return datetime.datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)


def test_bucket_lifecycle(client):
    """Port of aw-server/tests/api.rs::test_bucket."""
    r = client.get("/api/0/buckets/")
    assert r.status == 200
    assert r.json() == {}
    assert (r.header("Content-Type") or "").startswith("application/json")

    r = client.get("/api/0/buckets/id")
    assert_app_error(r, 404, "The requested bucket 'id' does not exist")

    body = {"id": "id", "type": "type", "client": "client", "hostname": "hostname"}
    r = client.post("/api/0/buckets/id", json=body)
    assert r.status == 200, r
    assert r.body == b""

    r = client.post("/api/0/buckets/id", json=body)
    assert r.status == 304, r
    # hyper strips the body of a 304 on the wire (so aw-server-rust sends none)
    assert r.body == b""

    r = client.get("/api/0/buckets/")
    assert r.status == 200
    buckets = r.json()
    assert list(buckets.keys()) == ["id"]
    b = buckets["id"]
    assert b["id"] == "id"
    assert b["type"] == "type"
    assert b["client"] == "client"
    assert b["hostname"] == "hostname"
    assert b["events"] is None
    assert b["metadata"] == {"start": None, "end": None}

    r = client.get("/api/0/buckets/id")
    assert r.status == 200
    b2 = r.json()
    assert b2 == b

    r = client.get("/api/0/buckets/id2")
    assert_app_error(r, 404, "The requested bucket 'id2' does not exist")

    r = client.delete("/api/0/buckets/id")
    assert r.status == 200, r
    assert r.body == b""

    r = client.get("/api/0/buckets/id")
    assert_app_error(r, 404)
    r = client.get("/api/0/buckets/")
    assert r.json() == {}


def test_bucket_shape_and_field_order(client):
    new_bucket(client, "shape", type_="currentwindow", client_name="aw-watcher-window",
               hostname="host")
    r = client.get("/api/0/buckets/shape")
    assert r.status == 200
    pairs = r.json_pairs()
    assert [k for k, _ in pairs] == BUCKET_KEYS
    b = r.json()
    assert b["id"] == "shape"
    assert b["type"] == "currentwindow"
    assert b["client"] == "aw-watcher-window"
    assert b["hostname"] == "host"
    assert b["data"] == {}
    assert b["metadata"] == {"start": None, "end": None}
    assert b["events"] is None
    assert b["last_updated"] is None
    assert_ts_format(b["created"])
    now = datetime.datetime.now(datetime.timezone.utc)
    created = parse_ts(b["created"])
    assert abs((now - created).total_seconds()) < 10, b["created"]

    # the list holds the same object
    lst = client.get("/api/0/buckets").json()
    assert lst == {"shape": b}


def test_bucket_ids_list_is_keyed_by_id(client):
    for i in range(5):
        new_bucket(client, "b%d" % i)
    lst = client.get("/api/0/buckets/").json()
    assert sorted(lst.keys()) == ["b%d" % i for i in range(5)]
    for k, v in lst.items():
        assert v["id"] == k


@pytest.mark.parametrize("missing", ["type", "client", "hostname"])
def test_create_bucket_missing_required_field_422(jclient, missing):
    body = {"type": "t", "client": "c", "hostname": "h"}
    del body[missing]
    r = jclient.post("/api/0/buckets/incomplete", json=body)
    assert_catcher(r, 422)
    r = jclient.get("/api/0/buckets/incomplete")
    assert_app_error(r, 404)


@pytest.mark.parametrize("body", [
    {"type": 1, "client": "c", "hostname": "h"},
    {"type": "t", "client": None, "hostname": "h"},
    {"type": "t", "client": "c", "hostname": ["h"]},
    {"type": "t", "client": "c", "hostname": "h", "data": []},
    {"type": "t", "client": "c", "hostname": "h", "created": "yesterday"},
    {"type": "t", "client": "c", "hostname": "h", "events": {}},
    [],
    "bucket",
])
def test_create_bucket_wrong_types_422(jclient, body):
    assert_refused_creates_nothing(jclient, "/api/0/buckets/wrong", body, 422)


def test_path_id_overrides_body_id(client):
    r = client.post("/api/0/buckets/path-id",
                    json={"id": "body-id", "type": "t", "client": "c", "hostname": "h"})
    assert r.status == 200
    lst = client.get("/api/0/buckets/").json()
    assert list(lst.keys()) == ["path-id"]
    assert lst["path-id"]["id"] == "path-id"
    assert client.get("/api/0/buckets/body-id").status == 404


def test_local_hostname_substitution(client):
    info = client.get("/api/0/info").json()
    r = client.post("/api/0/buckets/loc",
                    json={"type": "t", "client": "c", "hostname": "!local",
                          "data": {"other": 1}})
    assert r.status == 200
    b = client.get("/api/0/buckets/loc").json()
    assert b["hostname"] == info["hostname"] == socket.gethostname()
    assert b["data"]["device_id"] == info["device_id"]
    assert b["data"]["other"] == 1


def test_local_only_exact(client):
    r = client.post("/api/0/buckets/notlocal",
                    json={"type": "t", "client": "c", "hostname": "!localhost"})
    assert r.status == 200
    b = client.get("/api/0/buckets/notlocal").json()
    assert b["hostname"] == "!localhost"
    assert "device_id" not in b["data"]


def test_create_with_optional_fields(client):
    body = {"type": "t", "client": "c", "hostname": "h",
            "created": "2020-05-01T10:00:00.123+02:00",
            "data": {"z": 1, "a": {"y": 2, "b": 3}},
            "metadata": {"start": "2000-01-01T00:00:00Z", "end": "2000-01-01T00:00:00Z"}}
    r = client.post("/api/0/buckets/opt", json=body)
    assert r.status == 200
    r = client.get("/api/0/buckets/opt")
    b = r.json()
    assert b["created"] == "2020-05-01T08:00:00.123Z"
    assert b["data"] == {"z": 1, "a": {"y": 2, "b": 3}}
    # metadata in the body is ignored
    assert b["metadata"] == {"start": None, "end": None}
    # data keys are emitted sorted
    assert b'"data":{"a":{"b":3,"y":2},"z":1}' in r.body


def test_create_with_events(client):
    events = [{"timestamp": "2020-01-01T00:00:00Z", "duration": 5.0, "data": {"a": 1}},
              {"timestamp": "2020-01-01T00:01:00Z", "duration": 1.5, "data": {"a": 2}}]
    r = client.post("/api/0/buckets/withev",
                    json={"type": "t", "client": "c", "hostname": "h", "events": events})
    assert r.status == 200
    got = get_events(client, "withev")
    assert_events(got, [
        {"timestamp": "2020-01-01T00:01:00Z", "duration": 1.5, "data": {"a": 2}},
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 5.0, "data": {"a": 1}},
    ], check_id=False)
    b = client.get("/api/0/buckets/withev").json()
    assert b["events"] is None
    assert b["metadata"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:01.500Z"}


def test_duplicate_create_does_not_modify(client):
    new_bucket(client, "dup", type_="t1", client_name="c1", hostname="h1")
    before = client.get("/api/0/buckets/dup").json()
    r = client.post("/api/0/buckets/dup", json={"type": "t2", "client": "c2", "hostname": "h2"})
    assert r.status == 304
    assert client.get("/api/0/buckets/dup").json() == before
    # keep-alive survives the 304 (no stray body on the wire)
    r = client.get("/api/0/buckets/dup")
    assert r.status == 200 and r.json() == before


def test_delete_unknown_bucket_404(client):
    r = client.delete("/api/0/buckets/nope")
    assert_app_error(r, 404, "The requested bucket 'nope' does not exist")


def test_delete_bucket_removes_events(client):
    new_bucket(client, "del")
    insert_events(client, "del", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1,
                                   "data": {}}])
    assert client.delete("/api/0/buckets/del?force=1").status == 200
    new_bucket(client, "del")
    assert get_events(client, "del") == []
    assert client.get("/api/0/buckets/del/events/count").json() == 0
    assert client.get("/api/0/buckets/del").json()["metadata"] == {"start": None, "end": None}


def test_metadata_start_end(client):
    """datastore test_bucket_metadata_start_end: start = first start, end = last end."""
    new_bucket(client, "meta")
    insert_events(client, "meta", [
        {"timestamp": "2020-01-01T00:00:10Z", "duration": 5.0, "data": {"n": 1}},
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 100.0, "data": {"n": 2}},
        {"timestamp": "2020-01-01T00:00:50Z", "duration": 0.25, "data": {"n": 3}},
    ])
    b = client.get("/api/0/buckets/meta").json()
    assert b["metadata"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:40Z"}
    # widened by a heartbeat merge
    r = client.post("/api/0/buckets/meta/heartbeat?pulsetime=10",
                    json={"timestamp": "2020-01-01T00:00:55Z", "duration": 60, "data": {"n": 3}})
    assert r.status == 200
    b = client.get("/api/0/buckets/meta").json()
    assert b["metadata"] == {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:55Z"}
    # also listed
    assert client.get("/api/0/buckets/").json()["meta"]["metadata"] == b["metadata"]


def test_metadata_exact_after_deletions(client):
    """Deviation (docs/api.md): metadata start/end stay exact after deletions
    (aw-server-rust only ever widens them)."""
    new_bucket(client, "meta")
    evs = insert_events(client, "meta", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 1.0, "data": {"n": 1}},
        {"timestamp": "2020-01-01T00:01:00Z", "duration": 1.0, "data": {"n": 2}},
        {"timestamp": "2020-01-01T00:02:00Z", "duration": 30.0, "data": {"n": 3}},
    ])
    ids = [e["id"] for e in evs]
    assert client.get("/api/0/buckets/meta").json()["metadata"] == {
        "start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:02:30Z"}

    assert client.delete("/api/0/buckets/meta/events/%d" % ids[2]).status == 200
    assert client.get("/api/0/buckets/meta").json()["metadata"] == {
        "start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:01Z"}
    assert client.get("/api/0/buckets/").json()["meta"]["metadata"] == {
        "start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:01:01Z"}

    assert client.delete("/api/0/buckets/meta/events/%d" % ids[0]).status == 200
    assert client.get("/api/0/buckets/meta").json()["metadata"] == {
        "start": "2020-01-01T00:01:00Z", "end": "2020-01-01T00:01:01Z"}

    assert client.delete("/api/0/buckets/meta/events/%d" % ids[1]).status == 200
    assert client.get("/api/0/buckets/meta").json()["metadata"] == {"start": None, "end": None}


def test_metadata_exact_after_event_replaced(client):
    """Replacing an event by id (INSERT OR REPLACE) narrows metadata too."""
    new_bucket(client, "meta")
    evs = insert_events(client, "meta", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 1.0, "data": {}},
        {"timestamp": "2020-01-01T00:10:00Z", "duration": 1.0, "data": {}},
    ])
    insert_events(client, "meta", [{"id": evs[1]["id"], "timestamp": "2020-01-01T00:00:30Z",
                                    "duration": 1.0, "data": {}}])
    assert client.get("/api/0/buckets/meta").json()["metadata"] == {
        "start": "2020-01-01T00:00:00Z", "end": "2020-01-01T00:00:31Z"}


def test_metadata_survives_restart(node, client):
    """datastore test_datastore_reload: bucket metadata survives a restart."""
    new_bucket(client, "reload", type_="t", client_name="c", hostname="h",
               created="2021-02-03T04:05:06.789Z", data={"k": "v"})
    insert_events(client, "reload", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 2.5, "data": {}}])
    before = client.get("/api/0/buckets/reload").json()
    node.restart()
    after = node.client().get("/api/0/buckets/reload").json()
    assert after == before
    assert after["created"] == "2021-02-03T04:05:06.789Z"
    assert after["metadata"] == {"start": "2020-01-01T00:00:00Z",
                                 "end": "2020-01-01T00:00:02.500Z"}


ODD_IDS = [
    'quote"d',
    "it's",
    "b\u00fccket-\u65e5\u672c",
    "with space",
    "a..b",
    "...",
    "a+b",
    "100%",
    "back\\slash",
    "semi;colon",
    "q?mark",
    "hash#tag",
    "amp&=eq",
    "tab\tchar",
    "x" * 300,
]


@pytest.mark.parametrize("bid", ODD_IDS, ids=range(len(ODD_IDS)))
def test_odd_bucket_ids_roundtrip(client, bid):
    """Odd ids (quotes, unicode, spaces, '..', '+', '%', ...) are addressable
    when percent-encoded, and come back verbatim."""
    q = quote_id(bid)
    r = client.post("/api/0/buckets/" + q, json={"type": "t", "client": "c", "hostname": "h"})
    assert r.status == 200, r
    r = client.get("/api/0/buckets/" + q)
    assert r.status == 200, r
    assert r.json()["id"] == bid
    assert list(client.get("/api/0/buckets/").json().keys()) == [bid]
    evs = insert_events(client, bid, [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1,
                                       "data": {"id": bid}}])
    r = client.post("/api/0/buckets/%s/heartbeat?pulsetime=5" % q,
                    json={"timestamp": "2020-01-01T00:00:02Z", "duration": 0,
                          "data": {"id": bid}})
    assert r.status == 200, r
    assert r.json()["id"] == evs[0]["id"]
    assert client.get("/api/0/buckets/%s/events/count" % q).json() == 1
    assert client.get("/api/0/buckets/%s/events/%d" % (q, evs[0]["id"])).status == 200
    r = client.get("/api/0/buckets/%s/export" % q)
    assert r.status == 200
    assert list(r.json()["buckets"].keys()) == [bid]
    assert client.delete("/api/0/buckets/" + q).status == 200
    assert client.get("/api/0/buckets/" + q).status == 404


def test_plus_in_path_percent_encoded(client):
    # (a raw '+' in a path is not tested: libwebsockets decodes it as a space,
    # a documented library limitation like %2F)
    new_bucket(client, "a+b")
    assert client.get("/api/0/buckets/a%2Bb").json()["id"] == "a+b"
    assert client.get("/api/0/buckets/a%20b").status == 404


def test_unencoded_unicode_and_space_variants(client):
    # %20 is the encoded form of a space; ids are percent-decoded per segment
    new_bucket(client, "with space")
    assert client.get("/api/0/buckets/with%20space").json()["id"] == "with space"
    # unicode, percent-encoded as UTF-8
    new_bucket(client, "\u00e9t\u00e9")
    assert client.get("/api/0/buckets/%C3%A9t%C3%A9").json()["id"] == "\u00e9t\u00e9"


def test_ids_differing_in_case_are_distinct(client):
    new_bucket(client, "Case")
    new_bucket(client, "case")
    assert sorted(client.get("/api/0/buckets/").json().keys()) == ["Case", "case"]


def test_bucket_list_after_many_creates_and_deletes(client):
    for i in range(20):
        new_bucket(client, "n%d" % i)
    for i in range(0, 20, 2):
        assert client.delete("/api/0/buckets/n%d" % i).status == 200
    assert sorted(client.get("/api/0/buckets/").json().keys()) == sorted(
        "n%d" % i for i in range(1, 20, 2))
