"""awnode's exact multi-device merge (docs/query.md, "awnode extensions"): union_exact and
set_keyval through the real query API.

The property test builds random event sets for several devices (overlapping each other
and themselves, zero-length events, sub-second edges), merges them with union_exact and
checks the answer against an independent Python computation: the total equals the
measure of the union of all inputs, no two results overlap, every piece lies inside the
event it came from, that event is the one the documented rule picks at the piece's
midpoint (latest start; ties to the earlier list), and per-device parts sum to the total.
"""

import random

import pytest

from awtest import assert_app_error, insert_events, new_bucket

from test_query import NS, parse_ts, query

BASE = parse_ts("2024-05-06T08:00:00Z")
PERIOD = ["2024-05-06T00:00:00Z/2024-05-07T00:00:00Z"]


def union_measure(intervals):
    """Measure of a union of [start, end) intervals, by sorting and sweeping."""
    total, cur_s, cur_e = 0, None, None
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def random_device(rng, dev, n):
    """n events within two hours: clusters that overlap, some zero-length, ms edges."""
    events = []
    for k in range(n):
        start_ms = rng.randrange(0, 2 * 3600 * 1000)
        dur_ms = rng.choice([0, rng.randrange(1, 1000), rng.randrange(1000, 20 * 60 * 1000)])
        events.append({"timestamp": iso_ms(start_ms), "duration": dur_ms / 1000.0,
                       "data": {"app": "app-%d" % rng.randrange(4), "dev": dev, "n": k}})
    return events


def iso_ms(ms):
    s, frac = divmod(ms, 1000)
    h, rem = divmod(s, 3600)
    return "2024-05-06T%02d:%02d:%02d.%03dZ" % (8 + h, rem // 60, rem % 60, frac)


def span(ev):
    s = parse_ts(ev["timestamp"])
    return s, s + round(ev["duration"] * NS)


def merge_query(buckets):
    q = []
    for i, b in enumerate(buckets):
        q.append('e%d = set_keyval(query_bucket("%s"), "$device", "d%d");' % (i, b, i))
    q += ["events = union_exact(%s);" % ", ".join("e%d" % i for i in range(len(buckets))),
          'parts = merge_events_by_keys(events, ["$device"]);',
          'RETURN = {"events": events, "parts": parts, "total": sum_durations(events)};']
    return q


@pytest.mark.parametrize("seed", range(12))
def test_union_exact_is_the_measure_of_the_union(node, seed):
    rng = random.Random(seed)
    client = node.client()
    ndev = rng.choice([2, 3, 4])
    inputs, buckets = [], []
    for d in range(ndev):
        bid = "merge-%d-dev%d" % (seed, d)
        new_bucket(client, bid, type_="currentwindow", hostname="host%d" % d)
        evs = random_device(rng, d, rng.randrange(5, 60))
        stored = insert_events(client, bid, evs)
        buckets.append(bid)
        inputs.append(stored)
    r = query(client, merge_query(buckets), PERIOD)
    assert r.status == 200, r
    got = r.json()[0]

    spans = [[span(e) for e in evs] for evs in inputs]
    want_ns = union_measure([s for dev in spans for s in dev])
    pieces = [span(e) for e in got["events"]]
    assert want_ns > 0
    # pieces are in time order and never overlap; together they are the union
    for (s1, e1), (s2, _e2) in zip(pieces, pieces[1:]):
        assert e1 <= s2, (s1, e1, s2)
    assert all(e > s for s, e in pieces)
    assert abs(sum(e - s for s, e in pieces) - want_ns) <= len(pieces) * 1000
    assert union_measure(pieces) == sum(e - s for s, e in pieces)
    assert got["total"] == pytest.approx(want_ns / NS, abs=0.001)
    # per-device parts add up to the total
    parts = {p["data"]["$device"]: p["duration"] for p in got["parts"]}
    assert set(parts) <= {"d%d" % d for d in range(ndev)}
    assert sum(parts.values()) == pytest.approx(want_ns / NS, abs=1e-6)

    for ev, (ps, pe) in zip(got["events"], pieces):
        d, k = ev["data"]["dev"], ev["data"]["n"]
        assert ev["data"]["$device"] == "d%d" % d
        origin = next(x for x in inputs[d] if x["data"]["n"] == k)
        os_, oe = span(origin)
        assert os_ <= ps and pe <= oe, "piece outside its event"
        assert (ev["id"] == origin["id"]) == ((ps, pe) == (os_, oe)), ev
        # the documented rule at the midpoint: latest start, then the earlier device
        mid = (ps + pe) / 2
        covering = [(s, dd) for dd, dev in enumerate(spans) for (s, e) in dev if s <= mid < e]
        best_start = max(s for s, _ in covering)
        assert os_ == best_start, (ev, covering)
        assert d == min(dd for s, dd in covering if s == best_start), (ev, covering)


def test_union_exact_counts_a_device_overlapping_itself_once(node):
    """The case union_no_overlap leaves: one list overlapping itself."""
    client = node.client()
    new_bucket(client, "self-a")
    new_bucket(client, "self-b")
    insert_events(client, "self-a", [
        {"timestamp": "2024-05-06T10:00:00Z", "duration": 600.0, "data": {"w": "a1"}},
        {"timestamp": "2024-05-06T10:05:00Z", "duration": 600.0, "data": {"w": "a2"}}])
    insert_events(client, "self-b", [
        {"timestamp": "2024-05-06T10:02:00Z", "duration": 60.0, "data": {"w": "b"}}])
    r = query(client, ['a = sort_by_timestamp(query_bucket("self-a"));',
                       'b = query_bucket("self-b");',
                       'RETURN = [sum_durations(union_no_overlap(a, b)), union_exact(a, b)];'], PERIOD)
    assert r.status == 200, r
    old, exact = r.json()[0]
    # the reference merge counts 10:05-10:10 twice; the exact one counts 15 minutes once
    assert old == 1200.0
    assert [(e["timestamp"], e["duration"], e["data"]["w"]) for e in exact] == [
        ("2024-05-06T10:00:00Z", 120.0, "a1"),
        ("2024-05-06T10:02:00Z", 60.0, "b"),     # started latest: the most recent input
        ("2024-05-06T10:03:00Z", 120.0, "a1"),
        ("2024-05-06T10:05:00Z", 600.0, "a2")]
    assert exact[3]["id"] is not None and exact[0]["id"] is None


def test_set_keyval_values_and_errors(node):
    client = node.client()
    new_bucket(client, "kv")
    insert_events(client, "kv", [
        {"timestamp": "2024-05-06T10:00:00Z", "duration": 1.0, "data": {"app": "x", "k": 1}},
        {"timestamp": "2024-05-06T10:00:01Z", "duration": 1.0, "data": {"app": "y"}}])
    r = query(client, ['e = sort_by_timestamp(query_bucket("kv"));',
                       'RETURN = [set_keyval(e, "k", "s"), set_keyval(e, "k", 2),'
                       ' set_keyval(e, "k", [1, true, "t"]),'
                       ' filter_keyvals(set_keyval(e, "dev", "laptop"), "dev", ["laptop"])];'], PERIOD)
    assert r.status == 200, r
    s, num, lst, kept = r.json()[0]
    assert [e["data"] for e in s] == [{"app": "x", "k": "s"}, {"app": "y", "k": "s"}]
    assert [e["data"]["k"] for e in num] == [2.0, 2.0]
    assert lst[0]["data"] == {"app": "x", "k": [1.0, True, "t"]}
    assert len(kept) == 2 and kept[1]["data"] == {"app": "y", "dev": "laptop"}
    assert r.body.count(b'"k":2.0') == 2  # numbers become floats, as filter_keyvals' values

    bad = [('RETURN = union_exact();', "union_exact"),
           ('RETURN = union_exact(query_bucket("kv"), 1);', "List"),
           ('RETURN = set_keyval(query_bucket("kv"), 1, "v");', "String"),
           ('RETURN = set_keyval(query_bucket("kv"), "k", query_bucket("kv"));', "Event"),
           ('RETURN = set_keyval(query_bucket("kv"), "k", {"a": 1});', "parsing")]
    for line, word in bad:
        msg = assert_app_error(query(client, [line], PERIOD), 400)
        assert word in msg, (line, msg)
