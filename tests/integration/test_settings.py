"""Settings as aw-server-rust has them, with ports of its settings tests."""

import pytest

from awtest import assert_app_error, assert_catcher, quote_id


def set_setting(client, key, value):
    r = client.post("/api/0/settings/" + quote_id(key), json=value)
    assert r.status == 201, r
    assert r.body == b""
    return r


def test_illegally_long_key(client):
    """api.rs::test_illegally_long_key: a 128-char key is 400."""
    key = "x" * 128
    r = client.post("/api/0/settings/" + key, json="test_value")
    assert_app_error(r, 400, "Too long key")
    assert_app_error(client.get("/api/0/settings/" + key), 400, "Too long key")
    assert_app_error(client.delete("/api/0/settings/" + key), 400, "Too long key")
    assert client.get("/api/0/settings").json() == {}


def test_key_length_limit_in_bytes(client):
    set_setting(client, "x" * 127, 1)
    assert client.get("/api/0/settings/" + "x" * 127).json() == 1
    # decoded length counts bytes: 64 two-byte characters = 128 bytes
    assert_app_error(client.post("/api/0/settings/" + quote_id("\u00e9" * 64), json=1), 400)
    set_setting(client, "\u00e9" * 63 + "a", 2)
    assert client.get("/api/0/settings/" + quote_id("\u00e9" * 63 + "a")).json() == 2
    assert_app_error(client.get("/api/0/settings/" + "y" * 1000), 400)


def test_setting_setting(client):
    """api.rs::test_setting_setting: POST => 201."""
    set_setting(client, "test_key", "test_value")


def test_get_unset_setting(client):
    """api.rs::test_get_unset_setting: 200 null."""
    r = client.get("/api/0/settings/non_existent_key")
    assert r.status == 200
    assert r.body.strip() == b"null"
    assert r.json() is None


def test_get_settings(client):
    """api.rs::test_get_settings."""
    r = client.get("/api/0/settings")
    assert r.status == 200 and r.json() == {}
    set_setting(client, "test_key", "test_value")
    set_setting(client, "test_key_2", "test_value")
    r = client.get("/api/0/settings")
    assert r.status == 200
    assert r.json() == {"test_key": "test_value", "test_key_2": "test_value"}
    assert client.get("/api/0/settings/").json() == r.json()


@pytest.mark.parametrize("value", [
    "test_value",
    [1, 2, 3],
    {"key": "value", "nested": {"b": [1, 2.5, None, True], "a": False}},
    42,
    -1.5,
    2.0,
    True,
    False,
    None,
    "",
    [],
    {},
    "\u65e5\u672c\n\"q\"",
])
def test_setting_roundtrip(client, value):
    """api.rs::test_get_setting / _list / _dict (and other JSON kinds)."""
    set_setting(client, "k", value)
    r = client.get("/api/0/settings/k")
    assert r.status == 200
    got = r.json()
    assert got == value
    assert type(got) is type(value)
    assert client.get("/api/0/settings").json() == {"k": value}


def test_setting_object_keys_sorted(client):
    set_setting(client, "obj", {"b": 1, "a": {"d": 1, "c": 2}})
    r = client.get("/api/0/settings/obj")
    pairs = r.json_pairs()
    assert [k for k, _ in pairs] == ["a", "b"]
    assert [k for k, _ in pairs[0][1]] == ["c", "d"]


def test_set_setting_overwrites(client):
    """api.rs::test_set_setting."""
    set_setting(client, "test_key", "test_value")
    set_setting(client, "test_key", "changed_value")
    assert client.get("/api/0/settings/test_key").json() == "changed_value"
    set_setting(client, "test_key", {"now": "a dict"})
    assert client.get("/api/0/settings/test_key").json() == {"now": "a dict"}


def test_delete_setting(client):
    """api.rs::test_delete_setting."""
    set_setting(client, "test_key", "test_value")
    r = client.delete("/api/0/settings/test_key")
    assert r.status == 200 and r.body == b""
    r = client.get("/api/0/settings/test_key")
    assert r.status == 200 and r.json() is None
    assert client.get("/api/0/settings").json() == {}


def test_delete_missing_setting_200(client):
    r = client.delete("/api/0/settings/never_set")
    assert r.status == 200 and r.body == b""


def test_settings_persist_across_restart(node, client):
    set_setting(client, "classes", [{"id": 1, "name": ["Work"], "rule": {"type": "regex",
                                                                          "regex": "code"}}])
    set_setting(client, "theme", "dark")
    node.restart()
    c2 = node.client()
    assert c2.get("/api/0/settings").json() == {
        "classes": [{"id": 1, "name": ["Work"], "rule": {"type": "regex", "regex": "code"}}],
        "theme": "dark"}


def test_odd_setting_keys(client):
    for key in ["with space", "dots.in.key", "a..b", "\u00fcn\u00efc\u00f6d\u00e9",
                "q\"uote", "semi;colon", "percent%"]:
        set_setting(client, key, key)
        assert client.get("/api/0/settings/" + quote_id(key)).json() == key
    keys = client.get("/api/0/settings").json()
    assert keys["with space"] == "with space"
    assert keys["a..b"] == "a..b"


def test_settings_are_not_buckets(client):
    set_setting(client, "x", 1)
    assert client.get("/api/0/buckets/").json() == {}
    assert client.get("/api/0/export").json() == {"buckets": {}}


def test_setting_requires_json_content_type(jclient):
    r = jclient.post("/api/0/settings/k", body=b'"v"', content_type=None)
    assert_catcher(r, 404)
    r = jclient.post("/api/0/settings/k", body=b'"v"', content_type="text/plain")
    assert_catcher(r, 404)
    r = jclient.post("/api/0/settings/k", body=b'"v"',
                     content_type="application/json; charset=utf-8")
    assert r.status == 201


def test_setting_invalid_json_400(jclient):
    r = jclient.post("/api/0/settings/k", body=b'{"a":', content_type="application/json")
    assert_catcher(r, 400)
    r = jclient.post("/api/0/settings/k", body=b'', content_type="application/json")
    assert_catcher(r, 400)
    assert jclient.get("/api/0/settings").json() == {}
