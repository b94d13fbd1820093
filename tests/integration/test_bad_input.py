"""Bad input table: every malformed request gets the right 4xx with a JSON body
(docs/api.md, "Error bodies": aw-server-rust's catcher body for
framework errors, {"message"} for application errors), the server stays up,
and stored data is unchanged (export + settings compared before/after).

Each case runs on a fresh node seeded with a little data."""

import collections
import http.client

import pytest

from awtest import (assert_contract_error, assert_duration, assert_error_kind, get_events,
                    heartbeat, insert_events, new_bucket, snapshot)

Case = collections.namedtuple("Case", "name method path body ctype status kind headers host")
_UNSET = object()


def case(name, method, path, body, status, kind, ctype="application/json", headers=None,
         host=_UNSET):
    if isinstance(body, str):
        body = body.encode("utf-8")
    return Case(name, method, path, body, ctype, status, kind, headers or {}, host)


EV = '{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":%s}'
EVD = '{"timestamp":"2020-06-01T00:00:00Z","duration":%s,"data":{}}'
EVT = '{"timestamp":"%s","duration":1,"data":{}}'
P_EV = "/api/0/buckets/seed/events"
P_HB = "/api/0/buckets/seed/heartbeat?pulsetime=10"
P_NEWB = "/api/0/buckets/newbucket"
P_IMP = "/api/0/import"
P_SET = "/api/0/settings/newkey"
BUCKET = '{"type":"t","client":"c","hostname":%s}'


def deep_arrays(n):
    return "[" * n + "]" * n


def deep_objects(n):
    return '{"a":' * n + "1" + "}" * n


CASES = [
    # -- syntactically invalid JSON => 400 (catcher) ------------------------------------
    case("invalid_json_events", "POST", P_EV, '[{"timestamp":', 400, "catcher"),
    case("empty_body_events", "POST", P_EV, "", 400, "catcher"),
    case("invalid_json_heartbeat", "POST", P_HB, '{"timestamp"', 400, "catcher"),
    case("invalid_json_bucket", "POST", P_NEWB, "{", 400, "catcher"),
    case("invalid_json_import", "POST", P_IMP, '{"buckets":{"x":', 400, "catcher"),
    case("invalid_json_settings", "POST", P_SET, "[1,2", 400, "catcher"),
    case("empty_body_settings", "POST", P_SET, "", 400, "catcher"),
    case("nan_literal_duration", "POST", P_EV, "[" + EVD % "NaN" + "]", 400, "catcher"),
    case("infinity_literal_duration", "POST", P_EV, "[" + EVD % "Infinity" + "]", 400, "catcher"),
    case("neg_infinity_duration", "POST", P_HB, EVD % "-Infinity", 400, "catcher"),
    case("nan_in_data", "POST", P_EV, "[" + EV % '{"v":NaN}' + "]", 400, "catcher"),
    case("nan_setting", "POST", P_SET, "NaN", 400, "catcher"),
    case("single_quotes", "POST", P_EV, "[{'timestamp':'2020-06-01T00:00:00Z','data':{}}]", 400,
         "catcher"),
    case("trailing_comma", "POST", P_EV, "[" + EV % "{}" + ",]", 400, "catcher"),
    case("comment", "POST", P_EV, "/* c */[" + EV % "{}" + "]", 400, "catcher"),
    case("trailing_garbage", "POST", P_EV, "[" + EV % "{}" + "]x", 400, "catcher"),
    case("two_documents", "POST", P_SET, "1 2", 400, "catcher"),
    case("bom_prefix", "POST", P_EV, b"\xef\xbb\xbf[" + (EV % "{}").encode() + b"]", 400,
         "catcher"),
    case("form_body_json_type", "POST", P_EV, "timestamp=1&data=2", 400, "catcher"),
    case("unterminated_string", "POST", P_SET, '"abc', 400, "catcher"),
    case("bad_escape", "POST", P_SET, '"\\x41"', 400, "catcher"),
    case("raw_control_char_in_string", "POST", P_SET, '"a\x01b"', 400, "catcher"),
    case("raw_newline_in_string", "POST", P_EV, "[" + EV % '{"t":"a\nb"}' + "]", 400, "catcher"),
    case("leading_zero_number", "POST", P_EV, "[" + EVD % "01" + "]", 400, "catcher"),
    case("hex_number", "POST", P_EV, "[" + EVD % "0x10" + "]", 400, "catcher"),
    case("plus_number", "POST", P_EV, "[" + EVD % "+1" + "]", 400, "catcher"),
    case("dot_number", "POST", P_EV, "[" + EVD % ".5" + "]", 400, "catcher"),

    # -- invalid UTF-8 => 400 ------------------------------------------------------------------
    case("utf8_invalid_bytes_value", "POST", P_EV,
         b'[{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{"t":"\xff\xfe"}}]',
         400, "catcher"),
    case("utf8_invalid_key", "POST", P_EV,
         b'[{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{"\xc3\x28":1}}]',
         400, "catcher"),
    case("utf8_overlong", "POST", P_EV,
         b'[{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{"t":"\xc0\xaf"}}]',
         400, "catcher"),
    case("utf8_encoded_surrogate", "POST", P_EV,
         b'[{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{"t":"\xed\xa0\x80"}}]',
         400, "catcher"),
    case("utf8_truncated_sequence", "POST", P_SET, b'"\xe6\x97"', 400, "catcher"),
    case("utf8_beyond_unicode", "POST", P_SET, b'"\xf4\x90\x80\x80"', 400, "catcher"),
    case("utf8_invalid_heartbeat", "POST", P_HB,
         b'{"timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{"t":"\x80"}}', 400, "catcher"),
    case("utf8_invalid_bucket", "POST", P_NEWB, b'{"type":"\xff","client":"c","hostname":"h"}',
         400, "catcher"),
    case("utf8_invalid_import", "POST", P_IMP,
         b'{"buckets":{"x":{"id":"x\xff","type":"t","client":"c","hostname":"h"}}}', 400,
         "catcher"),
    case("lone_surrogate_escape", "POST", P_EV, "[" + EV % '{"t":"\\ud800"}' + "]", 400, "catcher"),
    case("lone_low_surrogate_escape", "POST", P_SET, '"\\udc00x"', 400, "catcher"),

    # -- wrong types / shapes => 422 (catcher) ---------------------------------------------
    case("timestamp_number", "POST", P_EV, '[{"timestamp":1591000000,"duration":1,"data":{}}]',
         422, "catcher"),
    case("timestamp_null", "POST", P_EV, '[{"timestamp":null,"duration":1,"data":{}}]', 422,
         "catcher"),
    case("timestamp_no_offset", "POST", P_EV, "[" + EVT % "2020-06-01T00:00:00" + "]", 422,
         "catcher"),
    case("timestamp_garbage", "POST", P_HB, EVT % "yesterday", 422, "catcher"),
    case("timestamp_empty", "POST", P_HB, EVT % "", 422, "catcher"),
    case("data_list", "POST", P_EV, "[" + EV % "[]" + "]", 422, "catcher"),
    case("data_string", "POST", P_HB, EV % '"x"', 422, "catcher"),
    case("data_missing", "POST", P_EV, '[{"timestamp":"2020-06-01T00:00:00Z","duration":1}]',
         422, "catcher"),
    case("duration_string", "POST", P_EV, "[" + EVD % '"1"' + "]", 422, "catcher"),
    case("duration_object", "POST", P_HB, EVD % "{}", 422, "catcher"),
    case("id_string", "POST", P_EV,
         '[{"id":"1","timestamp":"2020-06-01T00:00:00Z","duration":1,"data":{}}]', 422, "catcher"),
    case("events_body_string", "POST", P_EV, '"events"', 422, "catcher"),
    case("events_body_number", "POST", P_EV, "42", 422, "catcher"),
    case("events_body_null", "POST", P_EV, "null", 422, "catcher"),
    case("events_list_of_lists", "POST", P_EV, "[[1,2]]", 422, "catcher"),
    case("events_object_missing_fields", "POST", P_EV, '{"a":1}', 422, "catcher"),
    case("heartbeat_list_body", "POST", P_HB, "[" + EV % "{}" + "]", 422, "catcher"),
    case("bucket_type_number", "POST", P_NEWB, '{"type":1,"client":"c","hostname":"h"}', 422,
         "catcher"),
    case("bucket_missing_hostname", "POST", P_NEWB, '{"type":"t","client":"c"}', 422, "catcher"),
    case("bucket_hostname_null", "POST", P_NEWB, BUCKET % "null", 422, "catcher"),
    case("bucket_data_list", "POST", P_NEWB, '{"type":"t","client":"c","hostname":"h","data":[]}',
         422, "catcher"),
    case("bucket_created_garbage", "POST", P_NEWB,
         '{"type":"t","client":"c","hostname":"h","created":"soon"}', 422, "catcher"),
    case("bucket_body_list", "POST", P_NEWB, "[]", 422, "catcher"),
    case("import_buckets_list", "POST", P_IMP, '{"buckets":[]}', 422, "catcher"),
    case("import_missing_buckets", "POST", P_IMP, "{}", 422, "catcher"),
    case("import_bucket_string", "POST", P_IMP, '{"buckets":{"x":"y"}}', 422, "catcher"),
    case("import_bucket_missing_type", "POST", P_IMP,
         '{"buckets":{"x":{"id":"x","client":"c","hostname":"h"}}}', 422, "catcher"),
    case("pulsetime_missing", "POST", "/api/0/buckets/seed/heartbeat", EV % "{}", 422, "catcher"),
    case("pulsetime_garbage", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=soon", EV % "{}",
         422, "catcher"),
    case("event_id_not_int_get", "GET", "/api/0/buckets/seed/events/abc", None, 422, "catcher"),
    case("event_id_huge_get", "GET", "/api/0/buckets/seed/events/99999999999999999999999", None,
         422, "catcher"),
    case("event_id_not_int_delete", "DELETE", "/api/0/buckets/seed/events/1.0", None, 422,
         "catcher"),

    # -- deep nesting => 400 --------------------------------------------------------------------
    case("deep_arrays_in_data", "POST", P_EV, "[" + EV % ('{"x":%s}' % deep_arrays(100000)) + "]",
         400, "catcher"),
    case("deep_objects_in_data", "POST", P_EV,
         "[" + EV % ('{"x":%s}' % deep_objects(100000)) + "]", 400, "catcher"),
    case("deep_arrays_heartbeat", "POST", P_HB, EV % ('{"x":%s}' % deep_arrays(100000)), 400,
         "catcher"),
    case("deep_arrays_body", "POST", P_EV, deep_arrays(100000), 400, "catcher"),
    case("deep_unclosed_arrays", "POST", P_EV, "[" * 200000, 400, "catcher"),
    case("deep_setting", "POST", P_SET, deep_arrays(100000), 400, "catcher"),
    case("deep_import", "POST", P_IMP, '{"buckets":{"x":{"id":"x","type":"t","client":"c",'
         '"hostname":"h","data":{"d":%s}}}}' % deep_objects(100000), 400, "catcher"),
    case("deep_bucket_data", "POST", P_NEWB,
         '{"type":"t","client":"c","hostname":"h","data":{"d":%s}}' % deep_arrays(100000), 400,
         "catcher"),

    # -- huge numbers ----------------------------------------------------------------------------
    case("duration_1e400", "POST", P_EV, "[" + EVD % "1e400" + "]", 400, "catcher"),
    case("duration_neg_1e400", "POST", P_HB, EVD % "-1e400", 400, "catcher"),
    case("data_1e400", "POST", P_EV, "[" + EV % '{"v":1e400}' + "]", 400, "catcher"),
    case("setting_1e400", "POST", P_SET, "1e400", 400, "catcher"),
    # enormous durations: the event's end leaves the int64-ns range (400, docs/api.md)
    # (a JSON integer beyond 64 bits: a parser error or a range error, either shape)
    case("duration_huge_integer", "POST", P_EV, "[" + EVD % "99999999999999999999999" + "]", 400,
         "json"),
    case("duration_1e300", "POST", P_EV, "[" + EVD % "1e300" + "]", 400, "contract"),
    case("duration_neg_1e300", "POST", P_EV, "[" + EVD % "-1e300" + "]", 400, "contract"),
    case("duration_300_years", "POST", P_EV, "[" + EVD % "9500000000" + "]", 400, "contract"),
    case("duration_huge_heartbeat", "POST", P_HB, EVD % "1e20", 400, "contract"),

    # -- timestamps out of the int64-ns range (400, docs/api.md) ---------------------------------
    case("ts_year_1500", "POST", P_EV, "[" + EVT % "1500-01-01T00:00:00Z" + "]", 400, "contract"),
    case("ts_year_3000", "POST", P_EV, "[" + EVT % "3000-01-01T00:00:00Z" + "]", 400, "contract"),
    case("ts_year_0000", "POST", P_EV, "[" + EVT % "0000-01-01T00:00:00Z" + "]", 400, "contract"),
    case("ts_year_9999", "POST", P_EV, "[" + EVT % "9999-12-31T23:59:59Z" + "]", 400, "contract"),
    case("ts_just_after_max", "POST", P_EV,
         "[" + EVT.replace('"duration":1', '"duration":0') % "2262-04-11T23:47:16.854775808Z" + "]",
         400, "contract"),
    case("ts_just_before_min", "POST", P_EV,
         "[" + EVT % "1677-09-21T00:12:43.145224191Z" + "]", 400, "contract"),
    case("ts_max_plus_duration", "POST", P_EV,
         "[" + EVT % "2262-04-11T23:47:16.854775807Z" + "]", 400, "contract"),
    case("ts_year_1500_heartbeat", "POST", P_HB, EVT % "1500-01-01T00:00:00Z", 400, "contract"),
    case("ts_year_3000_heartbeat", "POST", P_HB, EVT % "3000-01-01T00:00:00Z", 400, "contract"),
    case("ts_offset_pushes_out", "POST", P_EV, "[" + EVT % "2262-04-11T23:47:16-05:00" + "]", 400,
         "contract"),
    # not RFC 3339 timestamps: a wrong value for the event (422), as in aw-server-rust
    case("ts_year_99999", "POST", P_EV, "[" + EVT % "99999-01-01T00:00:00Z" + "]", 422, "json"),
    case("ts_extended_year", "POST", P_EV, "[" + EVT % "+275760-09-13T00:00:00Z" + "]",
         422, "json"),
    case("ts_negative_year", "POST", P_HB, EVT % "-0001-01-01T00:00:00Z", 422, "json"),
    # an event id beyond int64: a number the JSON parser cannot hold, so malformed input (400)
    case("event_id_huge", "POST", P_EV,
         '[{"id":99999999999999999999999,"timestamp":"2020-06-01T00:00:00Z","duration":1,'
         '"data":{}}]', 400, "json"),
    case("get_start_1500", "GET", "/api/0/buckets/seed/events?start=1500-01-01T00:00:00Z", None,
         400, "contract"),
    case("get_end_3000", "GET", "/api/0/buckets/seed/events?end=3000-01-01T00:00:00Z", None,
         400, "contract"),
    case("get_both_out", "GET", "/api/0/buckets/seed/events?start=1000-01-01T00:00:00Z"
         "&end=9000-01-01T00:00:00Z", None, 400, "contract"),
    case("get_start_year_99999", "GET", "/api/0/buckets/seed/events?start=99999-01-01T00:00:00Z",
         None, 400, "app"),

    # -- bad Host / Origin ------------------------------------------------------------------------
    case("bad_host_write", "POST", P_NEWB, BUCKET % '"h"', 400, "app", host="evil.example"),
    case("no_host_write", "POST", P_SET, "1", 400, "app", host=None),
    case("bad_host_delete", "DELETE", "/api/0/buckets/seed", None, 400, "app",
         host="attacker.test:5600"),
    case("bad_origin_write", "POST", P_NEWB, BUCKET % '"h"', 403, "catcher",
         headers={"Origin": "http://evil.example"}),
    case("bad_origin_delete", "DELETE", "/api/0/buckets/seed", None, 403, "catcher",
         headers={"Origin": "https://evil.example"}),
    case("null_origin_write", "POST", P_SET, "1", 403, "catcher", headers={"Origin": "null"}),
    case("bad_origin_import", "POST", P_IMP,
         '{"buckets":{"x":{"id":"x","type":"t","client":"c","hostname":"h"}}}', 403, "catcher",
         headers={"Origin": "http://localhost:1"}),

    # -- other -------------------------------------------------------------------------------------
    case("setting_key_too_long", "POST", "/api/0/settings/" + "k" * 200, "1", 400, "app"),
    case("get_bad_start", "GET", "/api/0/buckets/seed/events?start=nope", None, 400, "app"),
    case("get_raw_plus_offset", "GET",
         "/api/0/buckets/seed/events?end=2020-01-01T00:00:00+01:00", None, 400, "app"),
    case("no_content_type", "POST", P_EV, "[" + EV % "{}" + "]", 404, "catcher", ctype=None),
    case("text_content_type", "POST", P_NEWB, BUCKET % '"h"', 404, "catcher", ctype="text/plain"),
    case("unknown_bucket_events", "POST", "/api/0/buckets/nope/events", "[" + EV % "{}" + "]",
         404, "app"),
    case("unknown_bucket_heartbeat", "POST", "/api/0/buckets/nope/heartbeat?pulsetime=1",
         EV % "{}", 404, "app"),
    case("unknown_bucket_delete", "DELETE", "/api/0/buckets/nope", None, 404, "app"),
    case("missing_event_get", "GET", "/api/0/buckets/seed/events/987654", None, 404, "app"),
    case("put_bucket", "PUT", "/api/0/buckets/seed", BUCKET % '"h"', 404, "catcher"),
]


@pytest.fixture
def seeded(node):
    c = node.client(default_headers={"Accept": "application/json"})
    new_bucket(c, "seed", hostname="h")
    new_bucket(c, "other", hostname="h2", data={"k": "v"})
    insert_events(c, "seed", [
        {"timestamp": "2020-06-01T00:00:00Z", "duration": 5, "data": {"app": "a"}},
        {"timestamp": "2020-06-01T00:01:00.5Z", "duration": 2.5, "data": {"app": "b", "n": 1}},
    ])
    heartbeat(c, "seed", {"timestamp": "2020-06-01T00:02:00Z", "duration": 0,
                          "data": {"app": "c"}}, 10)
    heartbeat(c, "seed", {"timestamp": "2020-06-01T00:02:05Z", "duration": 0,
                          "data": {"app": "c"}}, 10)
    insert_events(c, "other", [{"timestamp": "2020-06-01T00:00:00Z", "duration": 1,
                                "data": {"x": [1, {"y": None}]}}])
    assert c.post("/api/0/settings/s1", json=[1, 2]).status == 201
    assert c.post("/api/0/settings/s2", json={"b": 1, "a": "\u00e9"}).status == 201
    return node, c, snapshot(c)


def _send(c, cs):
    kw = {"headers": cs.headers}
    if cs.host is not _UNSET:
        kw["host"] = cs.host
    if cs.body is not None or cs.method == "POST":
        kw["body"] = cs.body if cs.body is not None else b""
        kw["content_type"] = cs.ctype
    return c.request(cs.method, cs.path, **kw)


@pytest.mark.parametrize("cs", CASES, ids=[c.name for c in CASES])
def test_bad_input(seeded, cs):
    node, c, before = seeded
    r = _send(c, cs)
    assert_error_kind(r, cs.status, cs.kind)
    c.close()
    assert c.get("/api/0/info").status == 200
    assert snapshot(c) == before
    # and the node still accepts writes afterwards
    r = c.post("/api/0/buckets/seed/heartbeat?pulsetime=10",
               json={"timestamp": "2020-06-01T00:02:06Z", "duration": 0, "data": {"app": "c"}})
    assert r.status == 200, r
    assert_duration(r.json()["duration"], 6.0)


# -- cases whose outcome the spec leaves open; they must be clean either way ------------------

TOLERANT = [
    # reference: accepted (a float 1e23); awnode's parser refuses integers beyond int64 (400)
    ("data_huge_integer", "POST", P_EV, "[" + EV % '{"v":99999999999999999999999}' + "]", 400),
    ("negative_duration", "POST", P_EV, "[" + EVD % "-5" + "]", 200),
    ("negative_duration_heartbeat", "POST", P_HB, EVD % "-5", 200),
    ("pulsetime_nan", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=NaN", EV % '{"app":"c"}',
     200),
    ("pulsetime_inf", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=inf", EV % '{"app":"c"}',
     200),
    ("pulsetime_negative", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=-100",
     EV % '{"app":"c"}', 200),
    ("pulsetime_1e400", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=1e400",
     EV % '{"app":"c"}', 200),
    ("pulsetime_huge", "POST", "/api/0/buckets/seed/heartbeat?pulsetime=1e300",
     '{"timestamp":"2021-06-01T00:00:00Z","duration":0,"data":{"app":"c"}}', 200),
    # a creation time beyond what awnode's nanosecond clock holds (2262): out of range
    ("created_year_3000", "POST", P_NEWB,
     '{"type":"t","client":"c","hostname":"h","created":"3000-01-01T00:00:00Z"}', 400),
    ("duplicate_keys_in_data", "POST", P_EV, "[" + EV % '{"a":1,"a":2}' + "]", 200),
    ("duplicate_field_in_event", "POST", P_EV,
     '[{"timestamp":"2020-06-01T00:00:00Z","timestamp":"2020-06-02T00:00:00Z","data":{}}]', 200),
]


@pytest.mark.parametrize("name,method,path,body,status", TOLERANT, ids=[t[0] for t in TOLERANT])
def test_open_cases_clean(seeded, name, method, path, body, status):
    """Accepted (200) or refused with a clean 400/422 JSON error; the node
    stays up; a refusal leaves stored data unchanged; an acceptance stores
    something readable back."""
    node, c, before = seeded
    r = c.request(method, path, body=body.encode(), content_type="application/json")
    assert r.status == status, r
    c.close()
    assert c.get("/api/0/info").status == 200
    after = snapshot(c)
    if r.status != 200:
        body_json = r.json()
        assert isinstance(body_json, dict) and ("message" in body_json or "error" in body_json)
        assert after == before
        return
    if name == "data_huge_integer":
        got = r.json()[0]["data"]["v"]
        assert isinstance(got, (int, float)) and abs(got - 1e23) <= 1e23 * 1e-12, got
    if name == "duplicate_keys_in_data":
        assert r.json()[0]["data"] == {"a": 2}
    # whatever was accepted can be listed and exported again
    assert c.get("/api/0/buckets/seed/events").status == 200


# -- specific bad inputs that need more than one request --------------------------------------

def test_timestamp_range_boundaries_accepted(seeded):
    """The extreme representable instants are accepted and read back exactly."""
    node, c, _ = seeded
    new_bucket(c, "edge")
    evs = insert_events(c, "edge", [
        {"timestamp": "2262-04-11T23:47:16.854775807Z", "duration": 0, "data": {"n": "max"}},
        {"timestamp": "2262-04-11T23:47:15.854775807Z", "duration": 1, "data": {"n": "max-1s"}},
        {"timestamp": "1677-09-21T00:12:43.145224192Z", "duration": 0, "data": {"n": "min"}},
    ])
    assert [e["timestamp"] for e in evs] == ["2262-04-11T23:47:16.854775807Z",
                                            "2262-04-11T23:47:15.854775807Z",
                                            "1677-09-21T00:12:43.145224192Z"]
    got = c.get("/api/0/buckets/edge/events/%d" % evs[2]["id"]).json()
    assert got["timestamp"] == "1677-09-21T00:12:43.145224192Z"
    listed = get_events(c, "edge", "?start=1677-09-21T00:12:43.145224192Z"
                                   "&end=2262-04-11T23:47:16.854775807Z")
    assert len(listed) == 3
    assert listed[0]["timestamp"] == "2262-04-11T23:47:16.854775807Z"
    assert c.get("/api/0/export").status == 200


def test_import_with_out_of_range_event(seeded):
    """An import holding an event outside the int64-ns range is refused with
    400 and changes nothing (docs/api.md): a silently shortened import would
    look complete."""
    node, c, before = seeded
    doc = {"buckets": {"imp": {"id": "imp", "type": "t", "client": "c", "hostname": "h",
                               "events": [
                                   {"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}},
                                   {"timestamp": "3000-01-01T00:00:00Z", "duration": 1,
                                    "data": {}}]}}}
    r = c.post("/api/0/import", json=doc)
    assert_contract_error(r, 400)
    assert c.get("/api/0/info").status == 200
    assert snapshot(c) == before


def test_bucket_create_with_out_of_range_event(seeded):
    """Bucket create with an events list holding an out-of-range event: 400
    and nothing created."""
    node, c, before = seeded
    r = c.post("/api/0/buckets/newbucket",
               json={"type": "t", "client": "c", "hostname": "h",
                     "events": [{"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}},
                                {"timestamp": "3000-01-01T00:00:00Z", "duration": 1,
                                 "data": {}}]})
    assert_contract_error(r, 400)
    assert snapshot(c) == before


def test_moderate_nesting_accepted(seeded):
    """100 levels of nesting inside data are fine (aw-server-rust's limit is 128)."""
    node, c, _ = seeded
    body = "[" + EV % ('{"x":%s}' % deep_arrays(100)) + "]"
    r = c.post(P_EV, body=body.encode(), content_type="application/json")
    assert r.status == 200, r
    got = r.json()[0]["data"]["x"]
    depth = 0
    while isinstance(got, list) and got:
        got = got[0]
        depth += 1
    assert depth == 99


def test_very_long_strings_accepted(seeded):
    node, c, _ = seeded
    title = "\u00e9" * (2 * 1024 * 1024)
    r = c.post(P_EV, json=[{"timestamp": "2020-07-01T00:00:00Z", "duration": 1,
                            "data": {"title": title}}])
    assert r.status == 200
    eid = r.json()[0]["id"]
    assert c.get("/api/0/buckets/seed/events/%d" % eid).json()["data"]["title"] == title


def test_bucket_id_with_nul(seeded):
    """%00 inside an id is refused, never truncated: libwebsockets refuses a control
    byte in the request line by closing the connection before awnode sees the request
    (documented in docs/api.md)."""
    node, c, before = seeded
    answer = None
    try:
        answer = c.post("/api/0/buckets/ab%00cd", json={"type": "t", "client": "c", "hostname": "h"},
                        retry=False)
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        c.close()
    assert answer is None, answer
    assert c.get("/api/0/info").status == 200
    assert snapshot(c) == before


def test_bucket_id_invalid_utf8(seeded):
    node, c, before = seeded
    r = c.post("/api/0/buckets/ab%FFcd", json={"type": "t", "client": "c", "hostname": "h"})
    assert_contract_error(r, 400)
    assert c.get("/api/0/buckets/ab%FFcd").status == 400
    assert snapshot(c) == before


def test_bucket_id_header_injection(seeded):
    """CR/LF in an id must never reach a response header (export's
    Content-Disposition)."""
    node, c, before = seeded
    bid = "x%0D%0AX-Injected:%20yes"
    r = c.post("/api/0/buckets/" + bid, json={"type": "t", "client": "c", "hostname": "h"})
    assert r.status == 200, r
    r2 = c.get("/api/0/buckets/%s/export" % bid)
    assert r2.header("X-Injected") is None, r2.headers
    r3 = c.get("/api/0/export")
    assert r3.header("X-Injected") is None
    c.close()
    assert c.get("/api/0/info").status == 200


def test_very_long_bucket_id(seeded):
    node, c, before = seeded
    bid = "b" * 20000
    answer = None
    try:
        answer = c.post("/api/0/buckets/" + bid, json={"type": "t", "client": "c", "hostname": "h"},
                        retry=False)
    except (ConnectionError, OSError):
        pass
    # a request line beyond libwebsockets' header buffer is dropped without an answer
    assert answer is None, answer
    c.close()
    assert c.get("/api/0/info").status == 200
    assert snapshot(c) == before


def test_many_bad_requests_in_a_row(seeded):
    """A burst of every kind of bad request on one keep-alive connection."""
    node, c, before = seeded
    for cs in CASES:
        if cs.host is not _UNSET or cs.headers:
            continue
        r = _send(c, cs)
        assert r.status == cs.status, (cs.name, r)
    assert snapshot(c) == before
