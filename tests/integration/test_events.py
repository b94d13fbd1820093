"""Events as aw-server-rust has them, with ports of its test_events and datastore
tests; a GET of a missing event is 404 (a deliberate deviation, docs/api.md)."""

import pytest

from awtest import (assert_app_error, assert_catcher, assert_contract_error, assert_duration,
                    assert_event, assert_events, assert_ts_format, get_events, insert_events,
                    new_bucket)

E1 = {"timestamp": "2018-01-01T01:01:01Z", "duration": 1.0, "data": {}}


def test_events_api(client):
    """Port of aw-server/tests/api.rs::test_events (exact bodies)."""
    new_bucket(client, "id")
    r = client.post("/api/0/buckets/id/events",
                    body=b'[{"timestamp":"2018-01-01T01:01:01Z","duration":1.0,"data":{}}]',
                    content_type="application/json")
    assert r.status == 200, r
    assert r.body == b'[{"id":1,"timestamp":"2018-01-01T01:01:01Z","duration":1.0,"data":{}}]'
    assert (r.header("Content-Type") or "").startswith("application/json")

    r = client.get("/api/0/buckets/id/events")
    assert r.status == 200
    assert r.body == b'[{"id":1,"timestamp":"2018-01-01T01:01:01Z","duration":1.0,"data":{}}]'

    r = client.post("/api/0/buckets/id/heartbeat?pulsetime=2",
                    body=b'{"timestamp":"2018-01-01T01:01:02Z","duration":1.0,"data":{}}',
                    content_type="application/json")
    assert r.status == 200, r
    assert r.body == b'{"id":1,"timestamp":"2018-01-01T01:01:01Z","duration":2.0,"data":{}}'

    r = client.get("/api/0/buckets/id/events")
    assert r.body == b'[{"id":1,"timestamp":"2018-01-01T01:01:01Z","duration":2.0,"data":{}}]'

    r = client.delete("/api/0/buckets/id/events/1")
    assert r.status == 200 and r.body == b""

    r = client.get("/api/0/buckets/id/events/count")
    assert r.status == 200
    assert r.body.strip() == b"0"

    r = client.delete("/api/0/buckets/id")
    assert r.status == 200


def test_insert_returns_ids_in_input_order(client):
    new_bucket(client, "b")
    evs = [{"timestamp": "2020-01-01T00:00:%02dZ" % (59 - i), "duration": i, "data": {"i": i}}
           for i in range(10)]
    got = insert_events(client, "b", evs)
    assert len(got) == 10
    ids = [e["id"] for e in got]
    assert len(set(ids)) == 10 and all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids)
    for g, e in zip(got, evs):
        assert_event(g, dict(e, duration=float(e["duration"])), check_id=False)


def test_insert_single_object_accepted(client):
    """awnode decision (as aw-server-python): POST events accepts one object and
    returns a list with the one inserted event."""
    new_bucket(client, "b")
    r = client.post("/api/0/buckets/b/events",
                    json={"timestamp": "2020-01-01T00:00:00Z", "duration": 2, "data": {"a": 1}})
    assert r.status == 200, r
    got = r.json()
    assert isinstance(got, list) and len(got) == 1
    assert_event(got[0], {"timestamp": "2020-01-01T00:00:00Z", "duration": 2.0, "data": {"a": 1}})
    assert isinstance(got[0]["id"], int)
    assert get_events(client, "b") == got


def test_insert_empty_list_unknown_bucket_is_200(client):
    r = client.post("/api/0/buckets/nobucket/events", json=[])
    assert r.status == 200, r
    assert r.json() == []
    # the bucket was not created
    assert client.get("/api/0/buckets/nobucket").status == 404


def test_insert_empty_list_existing_bucket(client):
    new_bucket(client, "b")
    r = client.post("/api/0/buckets/b/events", json=[])
    assert r.status == 200 and r.json() == []


def test_insert_unknown_bucket_404(client):
    r = client.post("/api/0/buckets/nobucket/events", json=[E1])
    assert_app_error(r, 404, "The requested bucket 'nobucket' does not exist")
    r = client.post("/api/0/buckets/nobucket/events", json=E1)
    assert_app_error(r, 404)


def test_insert_defaults_and_unknown_fields(client):
    new_bucket(client, "b")
    got = insert_events(client, "b", [
        {"timestamp": "2020-01-01T00:00:00Z", "data": {"x": 1}, "unknown": [1, 2], "id": None}])
    assert_event(got[0], {"timestamp": "2020-01-01T00:00:00Z", "duration": 0.0, "data": {"x": 1}})
    assert got[0]["id"] is not None


@pytest.mark.parametrize("ev", [
    {"duration": 1, "data": {}},                                    # no timestamp
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1},           # no data
    {"timestamp": 1577836800, "duration": 1, "data": {}},
    {"timestamp": "2020-01-01T00:00:00", "duration": 1, "data": {}},  # no offset
    {"timestamp": "2020-01-01", "duration": 1, "data": {}},
    {"timestamp": "not a date", "duration": 1, "data": {}},
    {"timestamp": "2020-13-01T00:00:00Z", "duration": 1, "data": {}},
    {"timestamp": "2020-02-30T00:00:00Z", "duration": 1, "data": {}},
    {"timestamp": "2020-01-01T25:00:00Z", "duration": 1, "data": {}},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": "1", "data": {}},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": True, "data": {}},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": []},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": "x"},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": None},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}, "id": "7"},
    {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}, "id": 1.5},
])
def test_insert_wrong_shape_422(jclient, ev):
    new_bucket(jclient, "b")
    r = jclient.post("/api/0/buckets/b/events", json=[ev])
    assert_catcher(r, 422)
    r = jclient.post("/api/0/buckets/b/events", json=[E1, ev])
    assert_catcher(r, 422)
    assert jclient.get("/api/0/buckets/b/events/count").json() == 0


@pytest.mark.parametrize("body", ["string", 5, None, True, [[]], [5]])
def test_insert_not_events_422(jclient, body):
    new_bucket(jclient, "b")
    r = jclient.post("/api/0/buckets/b/events", json=body)
    assert_catcher(r, 422)


# -- timestamps ----------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    ("2018-01-01T01:01:01Z", "2018-01-01T01:01:01Z"),
    ("2018-01-01T01:01:01z", "2018-01-01T01:01:01Z"),
    ("2018-01-01T01:01:01+00:00", "2018-01-01T01:01:01Z"),
    ("2018-01-01T02:01:01+01:00", "2018-01-01T01:01:01Z"),
    ("2017-12-31T20:31:01-04:30", "2018-01-01T01:01:01Z"),
    ("2018-01-01T02:01:01+0100", "2018-01-01T01:01:01Z"),
    ("2018-01-01t01:01:01Z", "2018-01-01T01:01:01Z"),
    ("2018-01-01 01:01:01Z", "2018-01-01T01:01:01Z"),
    ("2018-01-01T01:01:01.5Z", "2018-01-01T01:01:01.500Z"),
    ("2018-01-01T01:01:01.000Z", "2018-01-01T01:01:01Z"),
    ("2018-01-01T01:01:01.120Z", "2018-01-01T01:01:01.120Z"),
    ("2018-01-01T01:01:01.1234Z", "2018-01-01T01:01:01.123400Z"),
    ("2018-01-01T01:01:01.123456Z", "2018-01-01T01:01:01.123456Z"),
    ("2018-01-01T01:01:01.1234567Z", "2018-01-01T01:01:01.123456700Z"),
    ("2018-01-01T01:01:01.000000001Z", "2018-01-01T01:01:01.000000001Z"),
    ("2018-01-01T01:01:01.123456789Z", "2018-01-01T01:01:01.123456789Z"),
    ("2018-01-01T01:01:01.1234567891234Z", "2018-01-01T01:01:01.123456789Z"),
    ("2018-01-01T01:01:01.999999999+01:00", "2018-01-01T00:01:01.999999999Z"),
    ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
    ("2000-02-29T23:59:59Z", "2000-02-29T23:59:59Z"),
])
def test_timestamp_input_and_output_format(client, given, expected):
    new_bucket(client, "b")
    got = insert_events(client, "b", [{"timestamp": given, "duration": 0, "data": {}}])
    assert got[0]["timestamp"] == expected
    assert_ts_format(got[0]["timestamp"])
    assert get_events(client, "b")[0]["timestamp"] == expected


def test_timestamp_fraction_digits_minimal(client):
    new_bucket(client, "b")
    cases = {
        "2020-01-01T00:00:00.100Z": "2020-01-01T00:00:00.100Z",
        "2020-01-01T00:00:00.000100Z": "2020-01-01T00:00:00.000100Z",
        "2020-01-01T00:00:00.000000100Z": "2020-01-01T00:00:00.000000100Z",
        "2020-01-01T00:00:00.100000000Z": "2020-01-01T00:00:00.100Z",
        "2020-01-01T00:00:00.100100Z": "2020-01-01T00:00:00.100100Z",
        "2020-01-01T00:00:00.100000001Z": "2020-01-01T00:00:00.100000001Z",
    }
    got = insert_events(client, "b", [{"timestamp": k, "duration": 0, "data": {}} for k in cases])
    assert [g["timestamp"] for g in got] == list(cases.values())


# -- durations -------------------------------------------------------------------

@pytest.mark.parametrize("given,expected", [
    (1, 1.0), (0, 0.0), (1.0, 1.0), (0.5, 0.5), (2.25, 2.25), (1.005, 1.004999999),
    (0.000000001, 1e-9), (0.0000000005, 0.0), (86400 * 365, 86400.0 * 365), (123.456789123, 123.456789123),
])
def test_duration_roundtrip(client, given, expected):
    new_bucket(client, "b")
    got = insert_events(client, "b", [{"timestamp": "2020-01-01T00:00:00Z", "duration": given,
                                       "data": {}}])
    assert_duration(got[0]["duration"], expected)
    assert_duration(get_events(client, "b")[0]["duration"], expected)


def test_integral_duration_printed_as_float(client):
    new_bucket(client, "b")
    r = client.post("/api/0/buckets/b/events",
                    json=[{"timestamp": "2020-01-01T00:00:00Z", "duration": 3, "data": {}},
                          {"timestamp": "2020-01-01T00:01:00Z", "data": {}}])
    assert b'"duration":3.0' in r.body, r.body
    assert b'"duration":0.0' in r.body, r.body
    r = client.get("/api/0/buckets/b/events")
    assert b'"duration":3.0' in r.body and b'"duration":0.0' in r.body, r.body


def test_negative_duration_accepted(client):
    """Negative durations are accepted, as aw-server-rust does (docs/api.md)."""
    new_bucket(client, "b")
    r = client.post("/api/0/buckets/b/events",
                    json=[{"timestamp": "2020-01-01T00:00:10Z", "duration": -5, "data": {}}])
    assert r.status == 200, r
    assert_duration(r.json()[0]["duration"], -5.0)


# -- data -------------------------------------------------------------------------

def test_data_keys_sorted_and_values_preserved(client):
    new_bucket(client, "b")
    data = {"title": "t", "app": "a", "nested": {"zz": [3, {"b": 1, "a": 2}], "aa": None},
            "int": 1, "float": 1.5, "float_integral": 2.0, "bool": False, "neg": -7,
            "big": 9007199254740993, "str": "\u65e5\u672c \u00e9 \U0001F600"}
    r = client.post("/api/0/buckets/b/events",
                    json=[{"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": data}])
    assert r.status == 200
    assert r.json()[0]["data"] == data
    for resp in (r, client.get("/api/0/buckets/b/events")):
        body = resp.body
        i = body.index(b'"data":')
        pairs = resp.json_pairs()[0][3][1]
        assert [k for k, _ in pairs] == sorted(data.keys())
        nested = dict(pairs)["nested"]
        assert [k for k, _ in nested] == ["aa", "zz"]
        assert [k for k, _ in nested[1][1][1]] == ["a", "b"]
        # integer stays integer, float stays float
        got = resp.json()[0]["data"]
        assert isinstance(got["int"], int) and isinstance(got["float"], float)
        assert isinstance(got["float_integral"], float)
        assert got["big"] == 9007199254740993
        # non-ASCII is emitted as UTF-8, not \\u escapes
        assert "\u65e5\u672c".encode() in body[i:]


def test_data_escaping(client):
    new_bucket(client, "b")
    data = {"q": 'say "hi"', "bs": "a\\b", "ctl": "a\nb\tc\u0001", "url": "http://x/y?z=1"}
    got = insert_events(client, "b", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1,
                                       "data": data}])
    assert got[0]["data"] == data
    r = client.get("/api/0/buckets/b/events")
    assert r.json()[0]["data"] == data
    assert b'"http://x/y?z=1"' in r.body  # '/' is not escaped


def test_data_with_nul_character(client):
    """"\\u0000" is valid JSON; in a string value it must round-trip (not be
    truncated)."""
    new_bucket(client, "b")
    data = {"title": "a\u0000b", "t2": "\u0000"}
    r = client.post("/api/0/buckets/b/events",
                    json=[{"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": data}])
    assert r.status == 200, r
    assert r.json()[0]["data"] == data
    assert get_events(client, "b")[0]["data"] == data


def test_data_key_with_nul_character(client):
    """A NUL inside an object key: round-trips, or (documented jansson
    limitation) a clean 400 with a JSON message that stores nothing."""
    new_bucket(client, "b")
    data = {"k\u0000x": 1}
    r = client.post("/api/0/buckets/b/events",
                    json=[{"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": data}])
    if r.status == 200:
        assert r.json()[0]["data"] == data
        assert get_events(client, "b")[0]["data"] == data
    else:
        assert_contract_error(r, 400)
        assert get_events(client, "b") == []


def test_int_and_float_data_are_distinct(client):
    new_bucket(client, "b")
    insert_events(client, "b", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1,
                                 "data": {"v": 1}},
                                {"timestamp": "2020-01-01T00:00:01Z", "duration": 1,
                                 "data": {"v": 1.0}}])
    evs = get_events(client, "b")
    assert isinstance(evs[0]["data"]["v"], float)
    assert isinstance(evs[1]["data"]["v"], int)


# -- reads -------------------------------------------------------------------------

def _seed(client):
    new_bucket(client, "r")
    return insert_events(client, "r", [
        {"timestamp": "2020-01-01T00:00:00Z", "duration": 10, "data": {"n": 0}},
        {"timestamp": "2020-01-01T00:00:20Z", "duration": 10, "data": {"n": 1}},
        {"timestamp": "2020-01-01T00:00:40Z", "duration": 10, "data": {"n": 2}},
        {"timestamp": "2020-01-01T00:01:00Z", "duration": 10, "data": {"n": 3}},
    ])


def test_get_newest_first(client):
    _seed(client)
    evs = get_events(client, "r")
    assert [e["data"]["n"] for e in evs] == [3, 2, 1, 0]


def test_get_limit_applied_after_ordering(client):
    _seed(client)
    assert [e["data"]["n"] for e in get_events(client, "r", "?limit=2")] == [3, 2]
    assert [e["data"]["n"] for e in get_events(client, "r", "?limit=1")] == [3]
    assert get_events(client, "r", "?limit=0") == []
    assert len(get_events(client, "r", "?limit=100")) == 4


@pytest.mark.parametrize("limit", ["-1", "abc", "", "1.5", "99999999999999999999999"])
def test_get_invalid_limit_ignored(client, limit):
    _seed(client)
    assert len(get_events(client, "r", "?limit=" + limit)) == 4


def test_get_unknown_query_params_ignored(client):
    _seed(client)
    assert len(get_events(client, "r", "?foo=bar&baz")) == 4


def test_get_unknown_bucket_404(client):
    assert_app_error(client.get("/api/0/buckets/nope/events"), 404,
                     "The requested bucket 'nope' does not exist")


def _ev(ts, duration, n):
    return {"timestamp": "2020-01-01T00:" + ts + "Z", "duration": duration, "data": {"n": n}}


# (query, events expected newest first) over _seed's events at 0, 20, 40 and 60 s,
# 10 s each; events are clipped to the window.
WINDOWS = [
    # clipped at both ends
    ("?start=2020-01-01T00:00:25Z&end=2020-01-01T00:00:45Z", [_ev("00:40", 5.0, 2), _ev("00:25", 5.0, 1)]),
    # inclusive bounds: an event ending exactly at start, or starting exactly at end,
    # comes back clipped to duration 0
    ("?start=2020-01-01T00:00:30Z&end=2020-01-01T00:00:40Z", [_ev("00:40", 0.0, 2), _ev("00:30", 0.0, 1)]),
    # only a start, or only an end
    ("?start=2020-01-01T00:00:45Z", [_ev("01:00", 10.0, 3), _ev("00:45", 5.0, 2)]),
    ("?end=2020-01-01T00:00:05Z", [_ev("00:00", 5.0, 0)]),
]


@pytest.mark.parametrize("query,expected", WINDOWS, ids=["clipped", "inclusive", "start_only", "end_only"])
def test_get_window(client, query, expected):
    _seed(client)
    assert_events(get_events(client, "r", query), expected, check_id=False)


def test_get_inclusive_bounds_1ns_apart(client):
    """datastore test_events_get_filters: two events 1 ns apart; start=e2.ts
    gives only e2, end=e1.ts only e1; newest first."""
    new_bucket(client, "f")
    e1 = {"timestamp": "2020-01-01T00:00:00Z", "duration": 0, "data": {"n": 1}}
    e2 = {"timestamp": "2020-01-01T00:00:00.000000001Z", "duration": 0, "data": {"n": 2}}
    insert_events(client, "f", [e1, e2])
    assert [e["data"]["n"] for e in get_events(client, "f")] == [2, 1]
    assert [e["data"]["n"] for e in get_events(client, "f", "?limit=1")] == [2]
    assert [e["data"]["n"] for e in
            get_events(client, "f", "?start=2020-01-01T00:00:00.000000001Z")] == [2]
    assert [e["data"]["n"] for e in get_events(client, "f", "?end=2020-01-01T00:00:00Z")] == [1]
    assert client.get("/api/0/buckets/f/events/count").json() == 2


def test_get_event_covering_window(client):
    """datastore test_get_events_filters_cover: a 100 s event covering a 1 s
    window comes back as exactly the window."""
    new_bucket(client, "c")
    insert_events(client, "c", [{"timestamp": "2020-01-01T00:00:00Z", "duration": 100,
                                 "data": {}}])
    evs = get_events(client, "c", "?start=2020-01-01T00:00:50Z&end=2020-01-01T00:00:51Z")
    assert_events(evs, [{"timestamp": "2020-01-01T00:00:50Z", "duration": 1.0, "data": {}}],
                  check_id=False)
    assert client.get("/api/0/buckets/c/events/count").json() == 1


def test_get_start_after_end_is_empty(client):
    _seed(client)
    assert get_events(client, "r", "?start=2020-01-01T00:01:00Z&end=2020-01-01T00:00:00Z") == []


def test_get_window_with_offsets(client):
    _seed(client)
    # '+' must be percent-encoded in a query string ...
    evs = get_events(client, "r",
                     "?start=2020-01-01T01:00:25%2B01:00&end=2020-01-01T01:00:45%2B01:00")
    assert [e["data"]["n"] for e in evs] == [2, 1]
    assert evs[1]["timestamp"] == "2020-01-01T00:00:25Z"
    # ... a raw '+' is form-decoded to a space, which does not parse => 400
    r = client.get("/api/0/buckets/r/events?start=2020-01-01T01:00:25+01:00")
    assert_app_error(r, 400)
    # negative offsets and fractional seconds
    evs = get_events(client, "r", "?start=2019-12-31T19:00:25.5-05:00")
    assert evs[-1]["timestamp"] == "2020-01-01T00:00:25.500Z"


def test_get_limit_with_window(client):
    _seed(client)
    evs = get_events(client, "r", "?start=2020-01-01T00:00:00Z&end=2020-01-01T00:00:45Z&limit=2")
    assert [e["data"]["n"] for e in evs] == [2, 1]


@pytest.mark.parametrize("param", ["start", "end"])
@pytest.mark.parametrize("value", ["yesterday", "2020-01-01", "2020-01-01T00:00:00",
                                   "", "1577836800", "2020-01-01T00:00:00%2B25:00"])
def test_get_invalid_start_end_400(client, param, value):
    _seed(client)
    r = client.get("/api/0/buckets/r/events?%s=%s" % (param, value))
    msg = assert_app_error(r, 400)
    assert ("starttime" if param == "start" else "endtime") in msg, msg


def test_events_ending_before_1970_not_listed(client):
    """As in aw-server-rust, an absent start means 0, so events ending before 1970 are
    not returned; count likewise counts only events ending >= 1970."""
    new_bucket(client, "old")
    insert_events(client, "old", [
        {"timestamp": "1960-01-01T00:00:00Z", "duration": 10, "data": {"n": 1}},
        {"timestamp": "1969-12-31T23:59:55Z", "duration": 10, "data": {"n": 2}},
    ])
    evs = get_events(client, "old")
    assert [e["data"]["n"] for e in evs] == [2]
    # clipped to start 0
    assert evs[0]["timestamp"] == "1970-01-01T00:00:00Z"
    assert_duration(evs[0]["duration"], 5.0)
    assert client.get("/api/0/buckets/old/events/count").json() == 1
    evs = get_events(client, "old", "?start=1959-01-01T00:00:00Z")
    assert [e["data"]["n"] for e in evs] == [2, 1]
    assert evs[1]["timestamp"] == "1960-01-01T00:00:00Z"


# -- count --------------------------------------------------------------------------

def test_count_bare_integer(client):
    # (aw-server-rust ignores start/end on count; awnode honours them as
    # aw-server-python did -- not pinned down here)
    new_bucket(client, "c")
    r = client.get("/api/0/buckets/c/events/count")
    assert r.status == 200 and r.body.strip() == b"0"
    _seed(client)
    r = client.get("/api/0/buckets/r/events/count")
    assert r.json() == 4 and isinstance(r.json(), int)
    r = client.get("/api/0/buckets/r/events/count?limit=1&unknown=1")
    assert r.json() == 4


def test_count_unknown_bucket_404(client):
    assert_app_error(client.get("/api/0/buckets/nope/events/count"), 404)


# -- single event ------------------------------------------------------------------------

def test_get_single_event(client):
    evs = _seed(client)
    r = client.get("/api/0/buckets/r/events/%d" % evs[1]["id"])
    assert r.status == 200
    assert_event(r.json(), dict(evs[1], duration=10.0))
    # unclipped, full event
    assert r.json()["timestamp"] == "2020-01-01T00:00:20Z"


def test_get_single_missing_event_404(client):
    """Deviation (docs/api.md): 404 {"message"} (aw-server-rust: 500)."""
    evs = _seed(client)
    missing = max(e["id"] for e in evs) + 1000
    assert_app_error(client.get("/api/0/buckets/r/events/%d" % missing), 404)
    assert_app_error(client.get("/api/0/buckets/r/events/0"), 404)
    assert_app_error(client.get("/api/0/buckets/r/events/-1"), 404)


def test_get_single_event_of_other_bucket_404(client):
    evs = _seed(client)
    new_bucket(client, "other")
    assert_app_error(client.get("/api/0/buckets/other/events/%d" % evs[0]["id"]), 404)


def test_get_single_event_unknown_bucket_404(client):
    assert_app_error(client.get("/api/0/buckets/nope/events/1"), 404)


@pytest.mark.parametrize("eid", ["abc", "1.5", "99999999999999999999999", "1e3", "0x10"])
def test_get_single_event_non_integer_422(jclient, eid):
    _seed(jclient)
    r = jclient.get("/api/0/buckets/r/events/" + eid)
    assert_catcher(r, 422)


def test_count_route_wins_over_event_id(client):
    _seed(client)
    r = client.get("/api/0/buckets/r/events/count")
    assert r.status == 200 and r.json() == 4


def test_delete_event(client):
    """datastore test_events_delete: deleting one of two leaves the other."""
    new_bucket(client, "d")
    evs = insert_events(client, "d", [E1, dict(E1, timestamp="2018-01-01T01:01:05Z")])
    r = client.delete("/api/0/buckets/d/events/%d" % evs[0]["id"])
    assert r.status == 200 and r.body == b""
    left = get_events(client, "d")
    assert [e["id"] for e in left] == [evs[1]["id"]]
    assert_app_error(client.get("/api/0/buckets/d/events/%d" % evs[0]["id"]), 404)


def test_delete_missing_event_200(client):
    new_bucket(client, "d")
    r = client.delete("/api/0/buckets/d/events/12345")
    assert r.status == 200 and r.body == b""


def test_delete_event_of_other_bucket_leaves_it(client):
    new_bucket(client, "a")
    new_bucket(client, "b")
    evs = insert_events(client, "a", [E1])
    assert client.delete("/api/0/buckets/b/events/%d" % evs[0]["id"]).status == 200
    assert len(get_events(client, "a")) == 1


def test_delete_event_unknown_bucket_404(client):
    assert_app_error(client.delete("/api/0/buckets/nope/events/1"), 404)


def test_delete_event_non_integer_422(jclient):
    new_bucket(jclient, "d")
    assert_catcher(jclient.delete("/api/0/buckets/d/events/abc"), 422)


def test_replace_event_by_id(client):
    """datastore test_event_replace: re-inserting with an existing id replaces
    in place (same ids, new data)."""
    new_bucket(client, "rep")
    evs = insert_events(client, "rep", [
        {"timestamp": "2020-01-01T00:00:0%dZ" % i, "duration": 1, "data": {"v": i}}
        for i in range(3)])
    ids = [e["id"] for e in evs]
    again = insert_events(client, "rep", [
        {"id": ids[i], "timestamp": "2020-01-01T00:00:0%dZ" % i, "duration": 1,
         "data": {"v": 10 + i}} for i in range(3)])
    assert [e["id"] for e in again] == ids
    got = get_events(client, "rep")
    assert sorted((e["id"], e["data"]["v"]) for e in got) == [(ids[i], 10 + i) for i in range(3)]
    assert client.get("/api/0/buckets/rep/events/count").json() == 3


def test_ids_are_global_and_increasing(client):
    new_bucket(client, "a")
    new_bucket(client, "b")
    a = insert_events(client, "a", [E1])[0]["id"]
    b = insert_events(client, "b", [E1])[0]["id"]
    c = insert_events(client, "a", [E1])[0]["id"]
    assert a < b < c


def test_many_events_roundtrip(client):
    new_bucket(client, "many")
    evs = [{"timestamp": "2020-01-01T%02d:%02d:%02d.%03dZ" % (i // 3600, i // 60 % 60, i % 60,
                                                                i % 1000),
            "duration": i / 10, "data": {"app": "a%d" % (i % 7), "title": "t%d" % i}}
           for i in range(2000)]
    got = insert_events(client, "many", evs)
    assert len(got) == 2000
    listed = get_events(client, "many")
    assert len(listed) == 2000
    assert client.get("/api/0/buckets/many/events/count").json() == 2000
    by_id = {e["id"]: e for e in listed}
    for g in got:
        assert_event(by_id[g["id"]], g)
