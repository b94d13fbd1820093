"""Heartbeats: ActivityWatch's merge rules (docs/api.md) with ports of aw-server-rust's
heartbeat tests; the heartbeat cache never goes stale after deletes (a deliberate
deviation)."""

import shutil
import subprocess

import pytest

from awtest import (assert_app_error, assert_catcher, assert_duration, assert_event,
                    get_events, heartbeat, insert_events, new_bucket)


def ts(sec, frac=""):
    """2020-01-01T00:00:00Z + sec seconds (sec < 86400)."""
    return "2020-01-01T%02d:%02d:%02d%sZ" % (sec // 3600, sec // 60 % 60, sec % 60, frac)


def hb(client, t, pulsetime, data=None, duration=0, bucket="hb"):
    return heartbeat(client, bucket, {"timestamp": t, "duration": duration,
                                      "data": {} if data is None else data}, pulsetime)


@pytest.fixture
def hclient(client):
    new_bucket(client, "hb")
    return client


def test_first_heartbeat_inserted_with_id(hclient):
    e = hb(hclient, ts(0), 10, {"a": 1}, duration=1)
    assert isinstance(e["id"], int)
    assert_event(e, {"timestamp": ts(0), "duration": 1.0, "data": {"a": 1}})
    assert get_events(hclient, "hb") == [e]


def test_heartbeat_response_shape(hclient):
    r = hclient.post("/api/0/buckets/hb/heartbeat?pulsetime=1",
                     json={"timestamp": ts(0), "duration": 0, "data": {"b": 1, "a": 2}})
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("application/json")
    assert [k for k, _ in r.json_pairs()] == ["id", "timestamp", "duration", "data"]
    assert b'"data":{"a":2,"b":1}' in r.body


def test_merge_extends_keeps_id(hclient):
    """datastore test_event_heartbeat."""
    e1 = hb(hclient, ts(0), 10, {"a": 1})
    e2 = hb(hclient, ts(1), 10, {"a": 1})
    assert e2["id"] == e1["id"]
    assert_event(e2, {"timestamp": ts(0), "duration": 1.0, "data": {"a": 1}})
    e3 = hb(hclient, ts(2), 10, {"a": 2})
    assert e3["id"] != e1["id"]
    assert_event(e3, {"timestamp": ts(2), "duration": 0.0, "data": {"a": 2}})
    evs = get_events(hclient, "hb")
    assert [e["id"] for e in evs] == [e3["id"], e1["id"]]


def test_consecutive_merges(hclient):
    """datastore test_event_heartbeat_consecutive_merges (#559)."""
    ids = set()
    for i in range(5):
        ids.add(hb(hclient, ts(i), 10, {"k": "v"})["id"])
    assert len(ids) == 1
    evs = get_events(hclient, "hb")
    assert len(evs) == 1
    assert_event(evs[0], {"id": ids.pop(), "timestamp": ts(0), "duration": 4.0,
                          "data": {"k": "v"}})


# A heartbeat at 0 lasting 1 s, then one at `offset` s lasting `second_duration` s, both
# with `pulse`: the merged event's duration, or None when they must not merge.
PULSES = [
    pytest.param(2, 2, 1, 3.0, id="window"),              # L at t for 1 s; H at t+2: p=2 merges to 3 s
    pytest.param(0, 2, 1, None, id="zero_separate"),
    pytest.param(0, 1, 1, 2.0, id="zero_touching"),       # inclusive: H.timestamp == L.end + 0 merges
    pytest.param(120, 120, 0, 120.0, id="long_pulse"),    # transform test_heartbeat_long_pulse_merge
    pytest.param(60, 120, 0, None, id="long_pulse_too_short"),
]


@pytest.mark.parametrize("pulse,offset,second_duration,merged", PULSES)
def test_pulsetime(hclient, pulse, offset, second_duration, merged):
    e1 = hb(hclient, ts(0), pulse, duration=1)
    e2 = hb(hclient, ts(offset), pulse, duration=second_duration)
    if merged is None:
        assert e2["id"] != e1["id"]
        assert len(get_events(hclient, "hb")) == 2
    else:
        assert e2["id"] == e1["id"]
        assert_duration(e2["duration"], merged)


def test_boundary_inclusive_exact(hclient):
    """H.timestamp == L.end + p merges; 1 ns later does not."""
    e1 = hb(hclient, ts(0), 5, duration=1)
    e2 = hb(hclient, ts(6), 5)
    assert e2["id"] == e1["id"]
    assert_duration(e2["duration"], 6.0)
    e3 = hb(hclient, ts(11, ".000000001"), 5)
    assert e3["id"] != e1["id"]


def test_fractional_pulsetime(hclient):
    e1 = hb(hclient, ts(0), 0.5)
    e2 = hb(hclient, ts(0, ".5"), 0.5)
    assert e2["id"] == e1["id"]
    e3 = hb(hclient, ts(1, ".000001"), 0.5)
    assert e3["id"] != e1["id"]


def test_data_difference_prevents_merge(hclient):
    e1 = hb(hclient, ts(0), 10, {"a": 1})
    assert hb(hclient, ts(1), 10, {"a": 1, "b": 2})["id"] != e1["id"]


def test_int_vs_float_data_do_not_merge(hclient):
    e1 = hb(hclient, ts(0), 10, {"v": 1})
    e2 = hb(hclient, ts(1), 10, {"v": 1.0})
    assert e2["id"] != e1["id"]


def test_key_order_does_not_matter_for_merge(hclient):
    e1 = hb(hclient, ts(0), 10, {"a": 1, "b": {"x": 1, "y": 2}})
    r = hclient.post("/api/0/buckets/hb/heartbeat?pulsetime=10",
                     body=b'{"timestamp":"%s","duration":0,"data":{"b":{"y":2,"x":1},"a":1}}'
                     % ts(1).encode(), content_type="application/json")
    assert r.status == 200
    assert r.json()["id"] == e1["id"]


def test_earlier_than_last_start_inserts_new(hclient):
    """Heartbeats before the last event's start are never merged."""
    e1 = hb(hclient, ts(10), 100, duration=5)
    e2 = hb(hclient, ts(8), 100, duration=5)
    assert e2["id"] != e1["id"]
    assert_event(e2, {"timestamp": ts(8), "duration": 5.0, "data": {}})
    assert len(get_events(hclient, "hb")) == 2


def test_same_timestamp_merges(hclient):
    """transform test_heartbeat_same_timestamp: same timestamp merges either order."""
    e1 = hb(hclient, ts(0), 1, duration=1)
    e2 = hb(hclient, ts(0), 1, duration=2)
    assert e2["id"] == e1["id"]
    assert_duration(e2["duration"], 2.0)
    e3 = hb(hclient, ts(0), 1, duration=1)
    assert e3["id"] == e1["id"]
    assert_duration(e3["duration"], 2.0)


def test_merge_never_shrinks(hclient):
    e1 = hb(hclient, ts(0), 10, duration=100)
    e2 = hb(hclient, ts(5), 10, duration=1)
    assert e2["id"] == e1["id"]
    assert_duration(e2["duration"], 100.0)
    assert_duration(get_events(hclient, "hb")[0]["duration"], 100.0)


def test_merge_uses_last_by_start_from_db(hclient):
    """With no cache entry (after POST events) the last event is the one with
    the greatest start time."""
    insert_events(hclient, "hb", [
        {"timestamp": ts(100), "duration": 10, "data": {"x": 1}},
        {"timestamp": ts(0), "duration": 10, "data": {"x": 1}},
    ])
    evs = get_events(hclient, "hb")
    newest = evs[0]
    e = hb(hclient, ts(112), 5, {"x": 1})
    assert e["id"] == newest["id"]
    assert_event(e, {"timestamp": ts(100), "duration": 12.0, "data": {"x": 1}})


def test_post_events_invalidates_cache(hclient):
    e1 = hb(hclient, ts(0), 10, {"a": 1})
    later = insert_events(hclient, "hb", [{"timestamp": ts(50), "duration": 1,
                                           "data": {"a": 1}}])[0]
    e2 = hb(hclient, ts(52), 10, {"a": 1})
    assert e2["id"] == later["id"]
    assert e2["id"] != e1["id"]
    assert_duration(e2["duration"], 2.0)


def test_heartbeat_persisted_across_restart(node, client):
    new_bucket(client, "hb")
    e1 = hb(client, ts(0), 10, {"a": 1})
    hb(client, ts(3), 10, {"a": 1})
    node.restart()
    c2 = node.client()
    e3 = hb(c2, ts(5), 10, {"a": 1})
    assert e3["id"] == e1["id"]
    assert_duration(e3["duration"], 5.0)
    assert len(get_events(c2, "hb")) == 1


# -- the cache never goes stale (docs/api.md) --------------------------------------------------

def test_delete_cached_event_then_heartbeat(hclient):
    """Reference: the next mergeable heartbeat yields a 500.  awnode: the
    deleted event is gone, so the heartbeat becomes a new event."""
    e1 = hb(hclient, ts(0), 10)
    e2 = hb(hclient, ts(1), 10)
    assert e2["id"] == e1["id"]
    assert hclient.delete("/api/0/buckets/hb/events/%d" % e1["id"]).status == 200
    r = hclient.post("/api/0/buckets/hb/heartbeat?pulsetime=10",
                     json={"timestamp": ts(2), "duration": 0, "data": {}})
    assert r.status == 200, r
    e3 = r.json()
    assert e3["id"] != e1["id"]
    assert_event(e3, {"timestamp": ts(2), "duration": 0.0, "data": {}})
    evs = get_events(hclient, "hb")
    assert [e["id"] for e in evs] == [e3["id"]]


def test_delete_cached_event_merges_with_previous(hclient):
    """After deleting the cached last event, the heartbeat merges with the
    real last event left in the database."""
    base = insert_events(hclient, "hb", [{"timestamp": ts(0), "duration": 1,
                                          "data": {"a": 1}}])[0]
    e2 = hb(hclient, ts(5), 1, {"a": 1})
    assert e2["id"] != base["id"]
    assert hclient.delete("/api/0/buckets/hb/events/%d" % e2["id"]).status == 200
    e3 = hb(hclient, ts(1, ".5"), 1, {"a": 1})
    assert e3["id"] == base["id"]
    assert_event(e3, {"timestamp": ts(0), "duration": 1.5, "data": {"a": 1}})
    assert len(get_events(hclient, "hb")) == 1


def test_delete_and_recreate_bucket_then_heartbeat(hclient):
    e1 = hb(hclient, ts(0), 10)
    hb(hclient, ts(1), 10)
    assert hclient.delete("/api/0/buckets/hb").status == 200
    new_bucket(hclient, "hb")
    r = hclient.post("/api/0/buckets/hb/heartbeat?pulsetime=10",
                     json={"timestamp": ts(2), "duration": 0, "data": {}})
    assert r.status == 200, r
    e3 = r.json()
    assert_event(e3, {"timestamp": ts(2), "duration": 0.0, "data": {}})
    evs = get_events(hclient, "hb")
    assert [e["id"] for e in evs] == [e3["id"]]
    assert e3["id"] != e1["id"]


def test_delete_non_cached_event_keeps_merging(hclient):
    old = insert_events(hclient, "hb", [{"timestamp": ts(0), "duration": 1, "data": {}}])[0]
    e1 = hb(hclient, ts(10), 5)
    assert hclient.delete("/api/0/buckets/hb/events/%d" % old["id"]).status == 200
    e2 = hb(hclient, ts(12), 5)
    assert e2["id"] == e1["id"]
    assert_duration(e2["duration"], 2.0)


def test_replace_cached_event_by_id(hclient):
    """POST events with the cached event's id replaces it; the next heartbeat
    sees the replacement."""
    e1 = hb(hclient, ts(0), 10, {"a": 1})
    insert_events(hclient, "hb", [{"id": e1["id"], "timestamp": ts(0), "duration": 1,
                                   "data": {"a": 2}}])
    e2 = hb(hclient, ts(2), 10, {"a": 2})
    assert e2["id"] == e1["id"]
    assert_event(e2, {"timestamp": ts(0), "duration": 2.0, "data": {"a": 2}})


def test_import_invalidates_cache(hclient):
    e1 = hb(hclient, ts(0), 10, {"a": 1})
    doc = {"buckets": {"hb": {"id": "hb", "type": "test", "client": "test-client",
                              "hostname": "testhost",
                              "events": [{"timestamp": ts(100), "duration": 1,
                                          "data": {"a": 1}}]}}}
    assert hclient.post("/api/0/import", json=doc).status == 200
    e2 = hb(hclient, ts(102), 5, {"a": 1})
    assert e2["id"] != e1["id"]
    assert_event(e2, {"timestamp": ts(100), "duration": 2.0, "data": {"a": 1}})


def test_heartbeats_in_two_buckets_independent(client):
    new_bucket(client, "x")
    new_bucket(client, "y")
    a1 = hb(client, ts(0), 10, bucket="x")
    b1 = hb(client, ts(0), 10, bucket="y")
    a2 = hb(client, ts(1), 10, bucket="x")
    b2 = hb(client, ts(2), 10, bucket="y")
    assert a1["id"] == a2["id"] and b1["id"] == b2["id"] and a1["id"] != b1["id"]


# -- errors --------------------------------------------------------------------------------

def test_heartbeat_unknown_bucket_404(client):
    r = client.post("/api/0/buckets/nope/heartbeat?pulsetime=1",
                    json={"timestamp": ts(0), "duration": 0, "data": {}})
    assert_app_error(r, 404, "The requested bucket 'nope' does not exist")


@pytest.mark.parametrize("query", ["", "?pulsetime=", "?pulsetime=abc", "?pulse=1",
                                   "?pulsetime=1s"])
def test_heartbeat_missing_or_bad_pulsetime_422(jclient, query):
    new_bucket(jclient, "hb")
    r = jclient.post("/api/0/buckets/hb/heartbeat" + query,
                     json={"timestamp": ts(0), "duration": 0, "data": {}})
    assert_catcher(r, 422)
    assert jclient.get("/api/0/buckets/hb/events/count").json() == 0


@pytest.mark.parametrize("body", [
    [{"timestamp": "2020-01-01T00:00:00Z", "duration": 0, "data": {}}],
    {"duration": 0, "data": {}},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 0},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 0, "data": [1]},
    {"timestamp": "2020-01-01T00:00:00", "duration": 0, "data": {}},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": "0", "data": {}},
    "x",
])
def test_heartbeat_wrong_shape_422(jclient, body):
    new_bucket(jclient, "hb")
    r = jclient.post("/api/0/buckets/hb/heartbeat?pulsetime=1", json=body)
    assert_catcher(r, 422)
    assert jclient.get("/api/0/buckets/hb/events/count").json() == 0


def test_heartbeat_requires_json_content_type(jclient):
    new_bucket(jclient, "hb")
    body = b'{"timestamp":"2020-01-01T00:00:00Z","duration":0,"data":{}}'
    r = jclient.post("/api/0/buckets/hb/heartbeat?pulsetime=1", body=body, content_type=None)
    assert_catcher(r, 404)
    r = jclient.post("/api/0/buckets/hb/heartbeat?pulsetime=1", body=body,
                     content_type="text/plain")
    assert_catcher(r, 404)
    assert jclient.get("/api/0/buckets/hb/events/count").json() == 0


# ---- AW_WRITE_TRACE: where a write's time goes (docs/storage.md) ------------------------

def trace_lines(text, prefix):
    import re
    return [re.search(prefix + r".*", line).group(0) for line in text.splitlines() if prefix in line]


WRITER_TRACE = (r"writer: (\d+) batches of ([\d.]+) writes in [\d.]+ s; per batch, us: "
                r"waiting for a write (\d+), lingering (\d+), applying (\d+), "
                r"committing (\d+), completing (\d+)$")
BATCHING_TRACE = (r"batching: (\d+) batches gathered of ([\d.]+) writes, (\d+) flowed of ([\d.]+); "
                  r"switched way (\d+) times, now (gathering|flowing)$")
LOOP_TRACE = (r"http loop: (\d+) wake-ups handing back ([\d.]+) requests each in [\d.]+ s; "
              r"per wake-up, us: waking the loop (\d+), answering (\d+)$")


def traced_run(node_factory, heartbeats):
    """The writer's and the loop's trace lines of a node that created a bucket and took
    `heartbeats` sequential heartbeats, as regex matches."""
    import re
    node = node_factory(env={"AW_WRITE_TRACE": "1"})
    c = node.client()
    new_bucket(c, "hb")
    for i in range(heartbeats):
        hb(c, ts(i), 5, {"app": "a" if i < heartbeats // 2 else "b"})
    c.close()
    node.stop()
    text = node.stderr_text()
    writer = trace_lines(text, "writer: ")
    loop = trace_lines(text, "http loop: ")
    batching = trace_lines(text, "batching: ")
    assert len(writer) == 1 and len(loop) == 1 and len(batching) == 1, text
    w, l = re.match(WRITER_TRACE, writer[0]), re.match(LOOP_TRACE, loop[0])
    b = re.match(BATCHING_TRACE, batching[0])
    assert w and l and b, (writer, loop, batching)
    return w, l, b


def test_write_trace_reports_each_step_of_each_batch(node_factory):
    """With AW_WRITE_TRACE set, the writer and the HTTP loop log their shares of a write's
    time. Sequential writes are one batch and one wake-up each (compared with a node that
    took no heartbeats: the node writes a little of its own at start), and the steps
    are accounted where they happen."""
    w0, l0, _ = traced_run(node_factory, 0)
    w, l, b = traced_run(node_factory, 10)
    assert int(w.group(1)) - int(w0.group(1)) == 10
    assert w.group(2) == "1.0"
    assert int(l.group(1)) - int(l0.group(1)) == 10
    assert l.group(2) == "1.0"
    # a commit writes and syncs the log: never free; a lone client is not lingered for
    assert int(w.group(6)) > 0
    assert int(w.group(4)) < 100
    # batches of one write are never measured, so never gathered for (batch_policy.c)
    assert b.groups() == ("0", "0.0", w.group(1), "1.0", "0", "flowing")


def test_no_write_trace_without_the_variable(node_factory):
    node = node_factory()
    c = node.client()
    new_bucket(c, "hb")
    hb(c, ts(0), 5, {"app": "a"})
    c.close()
    node.stop()
    text = node.stderr_text()
    assert not trace_lines(text, "writer: ") and not trace_lines(text, "http loop: "), text


WRK_SCRIPT = r"""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  n = 0
  base = 1735689600 + id * 10000000
  path = "/api/0/buckets/hb-" .. id .. "/heartbeat?pulsetime=2"
end
function request()
  n = n + 1
  local ts = os.date("!%Y-%m-%dT%H:%M:%S", base + n) .. "Z"
  local body = '{"timestamp":"' .. ts .. '","duration":0,"data":{"title":"t' .. math.floor(n / 10) .. '"}}'
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end
"""


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_concurrent_clients_are_batched_both_ways(node_factory, tmp_path):
    """Under heartbeats from 16 connections the writer measures both ways of batching
    (batch_policy.c): it starts flowing and probes gathering within a second, and a
    gathered batch waits for more of the clients' writes than a flowing one takes.
    Every acknowledged heartbeat is stored either way."""
    import re
    node = node_factory(env={"AW_WRITE_TRACE": "1"})
    c = node.client()
    for i in (1, 2):
        new_bucket(c, "hb-%d" % i)
    script = tmp_path / "hb.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(["wrk", "-t2", "-c16", "-d2s", "-s", str(script),
                          "http://127.0.0.1:%d" % node.port],
                         capture_output=True, text=True, timeout=60).stdout
    sent = int(re.search(r"(\d+) requests in", out).group(1))
    stored = sum(len(c.get("/api/0/buckets/hb-%d/events?limit=-1" % i).json()) for i in (1, 2))
    c.close()
    node.stop()
    lines = [re.match(BATCHING_TRACE, line)
             for line in trace_lines(node.stderr_text(), "batching: ")]
    assert lines and all(lines), node.stderr_text()
    gathered = sum(int(m.group(1)) for m in lines)
    flowed = sum(int(m.group(3)) for m in lines)
    assert gathered > 0 and flowed > 0, lines
    g = sum(int(m.group(1)) * float(m.group(2)) for m in lines) / gathered
    f = sum(int(m.group(3)) * float(m.group(4)) for m in lines) / flowed
    # gathered: every connection's write (16); flowed: those that came during a commit
    assert g > 1.25 * f, (g, f)
    # one event per 10 heartbeats (the title changes), per connection's own series;
    # wrk may count a request it sent as the run ended: at most one per connection
    assert sent > 1000 and stored >= sent // 10 - 16, (sent, stored)
