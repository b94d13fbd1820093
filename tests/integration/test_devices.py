"""GET /api/0/devices (docs/api.md): buckets grouped by the device that owns them, by
device id, with real nodes syncing through a bare repository for the remote cases: a
renamed device stays one device that lists its old name, two devices with the same
hostname stay two, and a bucket imported from another host's export file is this
device's own (writable), while a synced one is its origin's (read-only)."""

from awtest import insert_events, new_bucket

from test_sync import make_group


def devices(client):
    r = client.get("/api/0/devices")
    assert r.status == 200, r
    body = r.json()
    assert list(body.keys()) == ["this_device", "devices"]
    for d in body["devices"]:
        # only this device's entry says which names were the node's own
        own = ["node_hostnames"] if d["this_device"] else []
        assert list(d.keys()) == ["device_id", "this_device", "hostname", "hostnames", *own, "buckets",
                                  "last_seen"]
    return body


def window(dev, host, minute):
    bid = "aw-watcher-window_" + host
    new_bucket(dev.client, bid, type_="currentwindow", hostname=host)
    insert_events(dev.client, bid, [{"timestamp": "2021-03-01T10:%02d:00Z" % minute, "duration": 60.0,
                                     "data": {"app": host, "title": host}}])
    return bid


def test_fresh_node_is_one_device(node):
    client = node.client()
    info = client.get("/api/0/info").json()
    body = devices(client)
    assert body == {"this_device": info["device_id"], "devices": [
        {"device_id": info["device_id"], "this_device": True, "hostname": info["hostname"],
         "hostnames": [info["hostname"]], "node_hostnames": [info["hostname"]], "buckets": [],
         "last_seen": None}]}
    r = client.get("/api/0/devices/")
    assert r.status == 200 and r.json() == body


def test_imported_buckets_of_another_host_are_this_devices(node):
    client = node.client()
    info = client.get("/api/0/info").json()
    doc = {"buckets": {"aw-watcher-window_elsewhere": {
        "id": "aw-watcher-window_elsewhere", "type": "currentwindow", "client": "aw-watcher-window",
        "hostname": "elsewhere", "created": "2020-01-01T00:00:00Z",
        # an export of a synced bucket carries its origin's marks in data: they decide nothing
        "data": {"$aw.sync.device_id": "0f0e0d0c-0000-4000-8000-000000000000"},
        "events": [{"timestamp": "2020-01-02T00:00:00Z", "duration": 5.0, "data": {"app": "x"}}]}}}
    assert client.post("/api/0/import", json=doc).status == 200
    new_bucket(client, "mine", hostname=info["hostname"])
    (me,) = devices(client)["devices"]
    assert me["this_device"] and me["device_id"] == info["device_id"]
    assert sorted(me["buckets"]) == ["aw-watcher-window_elsewhere", "mine"]
    # the current name first, then the others it holds buckets under; only the first was
    # ever the node's own
    assert me["hostnames"] == [info["hostname"], "elsewhere"]
    assert me["node_hostnames"] == [info["hostname"]]
    assert me["last_seen"] is not None
    # and it is writable: deleting it is allowed
    assert client.delete("/api/0/buckets/aw-watcher-window_elsewhere").status == 200


def test_renamed_device_stays_one_and_twins_stay_two(node_factory, tmp_path):
    _remote, (viewer, renamed, twin_a, twin_b) = make_group(
        node_factory, tmp_path, ["viewer", "old-name", "twin", "twin"])
    window(renamed, "old-name", 0)
    renamed.sync("push")
    renamed.host = "new-name"  # the machine was renamed; its new buckets carry the new name
    window(renamed, "new-name", 5)
    renamed.sync("push")
    window(twin_a, "twin", 10)
    window(twin_b, "twin", 20)
    twin_a.sync("push")
    twin_b.sync("push")
    viewer.sync("pull")

    body = devices(viewer.client)
    by_id = {d["device_id"]: d for d in body["devices"]}
    assert body["devices"][0]["device_id"] == viewer.device_id == body["this_device"]
    assert set(by_id) == {viewer.device_id, renamed.device_id, twin_a.device_id, twin_b.device_id}

    r = by_id[renamed.device_id]
    assert not r["this_device"]
    assert r["hostname"] == "new-name" and r["hostnames"] == ["new-name", "old-name"]
    assert sorted(r["buckets"]) == ["aw-watcher-window_new-name", "aw-watcher-window_old-name"]
    assert r["last_seen"] == "2021-03-01T10:06:00Z"

    a, b = by_id[twin_a.device_id], by_id[twin_b.device_id]
    assert a["hostname"] == b["hostname"] == "twin"
    assert len(a["buckets"]) == len(b["buckets"]) == 1 and a["buckets"] != b["buckets"]
    # twins are ordered by name, then by device id
    twins = [d["device_id"] for d in body["devices"] if d["hostname"] == "twin"]
    assert twins == sorted(twins)

    # what the answer calls another device's is what the server refuses to change
    for d in body["devices"][1:]:
        for bid in d["buckets"]:
            assert viewer.client.delete("/api/0/buckets/" + bid).status == 403


def test_node_hostnames_are_the_names_this_node_ran_under(node_factory):
    """A machine renamed from desktop-old to desk keeps its history under both names; an
    export file of work-laptop imported on it is this device's too, but work-laptop was
    never the node's name. node_hostnames tells the two apart."""
    n = node_factory(args=["--hostname", "desktop-old"])
    old = n.client()
    assert old.get("/api/0/info").json()["hostname"] == "desktop-old"
    new_bucket(old, "aw-watcher-window_desktop-old", type_="currentwindow", hostname="desktop-old")
    n.stop()
    n.extra_args = ["--hostname", "desk"]
    n.start()
    client = n.client()
    new_bucket(client, "aw-watcher-window_desk", type_="currentwindow", hostname="desk")
    doc = {"buckets": {"aw-watcher-window_work-laptop": {
        "id": "aw-watcher-window_work-laptop", "type": "currentwindow", "client": "aw-watcher-window",
        "hostname": "work-laptop", "created": "2020-01-01T00:00:00Z",
        "events": [{"timestamp": "2020-01-02T00:00:00Z", "duration": 5.0, "data": {"app": "x"}}]}}}
    assert client.post("/api/0/import", json=doc).status == 200

    (me,) = devices(client)["devices"]
    assert me["hostname"] == "desk"
    assert sorted(me["hostnames"]) == ["desk", "desktop-old", "work-laptop"]
    assert me["node_hostnames"] == ["desk", "desktop-old"]

    # renamed back: the name moves to the front, nothing is listed twice
    n.stop()
    n.extra_args = ["--hostname", "desktop-old"]
    n.start()
    (me,) = devices(n.client())["devices"]
    assert me["node_hostnames"] == ["desktop-old", "desk"]

