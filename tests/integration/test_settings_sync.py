"""Settings that travel (docs/sync.md, "Settings"): real nodes syncing through a bare
repository. Every device ends on the same values; of two concurrent changes the later
one (by clock reading, then device id) wins everywhere and the other is kept in the
history; deletions travel; device-local keys (the theme, or any listed in
`awnode.device_local`) never do; a privacy rule set on one device filters what the
others record after their next round; GET /api/0/settings-history says which device
changed each value and when."""

import time

from awtest import insert_events, new_bucket

from test_sync import make_group, remove_db

CLASSES = [{"name": ["Work"], "rule": {"type": "regex", "regex": "editor"}}]


def settings(dev):
    r = dev.client.get("/api/0/settings")
    assert r.status == 200, r
    return r.json()


def history(dev):
    r = dev.client.get("/api/0/settings-history")
    assert r.status == 200, r
    return r.json()


def put(dev, key, value):
    r = dev.client.post("/api/0/settings/" + key, json=value)
    assert r.status == 201, r


def round_all(devs):
    """Everyone publishes, then everyone reads everyone."""
    for d in devs:
        d.sync("run")
    for d in devs:
        d.sync("run")


def test_settings_converge_and_theme_stays(node_factory, tmp_path):
    _remote, (a, b, c) = make_group(node_factory, tmp_path, ["laptop", "desktop", "tablet"])
    put(a, "classes", CLASSES)
    put(a, "startOfDay", "04:00")
    put(a, "theme", "dark")
    put(b, "theme", "light")
    round_all([a, b, c])
    for d in (b, c):
        got = settings(d)
        assert got["classes"] == CLASSES and got["startOfDay"] == "04:00"
        h = history(d)["settings"]
        mine = history(a)["settings"]["classes"]
        assert h["classes"]["device_id"] == a.device_id != d.device_id
        assert (h["classes"]["hostname"], h["classes"]["changed_at"]) == (mine["hostname"], mine["changed_at"])
    # the theme is device-local: each keeps its own, and c never got one
    assert settings(a)["theme"] == "dark" and settings(b)["theme"] == "light"
    assert "theme" not in settings(c)
    assert history(a)["settings"]["theme"]["local"] is True

    # a deletion travels like a value
    r = b.client.delete("/api/0/settings/startOfDay")
    assert r.status == 200
    round_all([a, b, c])
    for d in (a, b, c):
        assert "startOfDay" not in settings(d)
        assert history(d)["settings"]["startOfDay"]["deleted"] is True


def test_concurrent_changes_resolve_the_same_everywhere(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["laptop", "desktop"])
    put(a, "startOfWeek", "Monday")
    time.sleep(0.01)
    put(b, "startOfWeek", "Sunday")  # later: wins on both, whichever syncs first
    a.sync("run")
    b.sync("run")
    a.sync("run")
    assert settings(a)["startOfWeek"] == settings(b)["startOfWeek"] == "Sunday"
    ha, hb = history(a)["settings"]["startOfWeek"], history(b)["settings"]["startOfWeek"]
    assert ha["device_id"] == hb["device_id"] == b.device_id
    # the losing value is kept on both devices (where it was replaced, and where it lost
    # on arrival), and can be set again from there
    lost = ha["history"][0]
    assert lost["value"] == "Monday" and lost["device_id"] == a.device_id
    assert [(x["value"], x["device_id"]) for x in hb["history"]] == [("Monday", a.device_id)]
    put(a, "startOfWeek", lost["value"])
    a.sync("run")
    b.sync("run")
    assert settings(b)["startOfWeek"] == "Monday"
    assert [x["value"] for x in history(b)["settings"]["startOfWeek"]["history"]][:1] == ["Sunday"]


def test_device_local_list_keeps_a_key_here(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["laptop", "desktop"])
    put(b, "awnode.device_local", ["landingpage", "theme"])
    put(b, "landingpage", "/timeline")
    put(a, "landingpage", "/activity")
    put(a, "awnode.device_local", [])  # the list itself never travels
    round_all([a, b])
    assert settings(b)["landingpage"] == "/timeline"
    assert settings(b)["awnode.device_local"] == ["landingpage", "theme"]
    # b does not publish a local key either: a keeps its own
    assert settings(a)["landingpage"] == "/activity"
    assert settings(a)["awnode.device_local"] == []


def test_privacy_rule_crosses_devices(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["laptop", "desktop"])
    put(a, "privacy_filters", [{"enabled": True, "field": "title", "pattern": "(?i)secret project",
                                "action": "drop"}])
    round_all([a, b])
    bid = "aw-watcher-window_desktop"
    new_bucket(b.client, bid, type_="currentwindow", hostname="desktop")
    kept = insert_events(b.client, bid, [
        {"timestamp": "2024-05-01T10:00:00Z", "duration": 1.0, "data": {"app": "x", "title": "Secret Project plan"}},
        {"timestamp": "2024-05-01T10:00:01Z", "duration": 1.0, "data": {"app": "x", "title": "lunch"}}])
    assert [e["data"]["title"] for e in kept] == ["lunch"]


def test_restore_brings_the_devices_settings_back(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["laptop", "desktop"])
    put(a, "classes", CLASSES)
    put(b, "startOfDay", "05:00")
    round_all([a, b])
    before = history(a)["settings"]
    a.node.stop()
    remove_db(a)
    a.cli("restore")
    a.node.start()
    # its own settings come back from its manifest, with their origin and time
    assert settings(a) == {"classes": CLASSES}
    assert history(a)["settings"]["classes"]["changed_at"] == before["classes"]["changed_at"]
    # nothing to publish again; the other device's settings arrive with the next round
    rep = a.sync("run")
    assert "pushed" not in rep.out, rep
    assert settings(a) == {"classes": CLASSES, "startOfDay": "05:00"}


def test_settings_imported_from_activitywatch_become_this_devices_and_travel(node_factory, tmp_path):
    """Settings that arrived without the device that produced them (an import of
    ActivityWatch's database) become the importing device's at its next round and
    travel from there."""
    import json
    import sqlite3

    import awtest
    from test_transfer import make_rust

    _remote, (a, b) = make_group(node_factory, tmp_path, ["laptop", "desktop"])
    round_all([a, b])
    a.client.close()
    a.node.stop()
    src = str(tmp_path / "aw.db")
    make_rust(src)
    db = sqlite3.connect(src)
    db.execute("INSERT INTO key_value(key, value, last_modified) VALUES (?,?,?)",
               ("settings.startOfWeek", json.dumps("Sunday"), 1))
    db.commit()
    db.close()
    p = awtest.run_awnode(["import", "--testing", "activitywatch", src], a.node.env, timeout=60)
    assert p.returncode == 0, p.stderr
    a.node.start()
    assert history(a)["settings"]["startOfWeek"]["device_id"] is None
    round_all([a, b])
    assert settings(b)["startOfWeek"] == "Sunday"
    for d in (a, b):
        assert history(d)["settings"]["startOfWeek"]["device_id"] == a.device_id
