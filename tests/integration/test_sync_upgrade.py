"""Sync groups written by earlier versions of the format are upgraded in place
(docs/sync-format.md, "Version"). Version 1 (fixtures/sync-v1.tar.gz: unsigned manifests,
no packs) and version 2 (fixtures/sync-v2.tar.gz: signed manifests rewritten by every
round, unsigned segments, a pack), each made by fixtures/make_sync_fixture.sh with an
awnode of that version: a new device joins and imports the old files as they are; the
old device, now running this version, publishes a signed version-3 manifest at its
first round, and after it segments alone, each signed; every device goes on converging,
and the new device then holds the old device to its key."""

import os
import subprocess
import tarfile

from awtest import get_events, insert_events
from test_sync import SyncDev

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PASSPHRASE = "version one passphrase, long enough"
BUCKET = "aw-watcher-window_host-v1"
CONFIG = "[sync]\nenabled = false\n"


def sync_round(dev, mode="both"):
    r = dev.client.post("/api/0/sync/now", json={"mode": mode})
    assert r.status == 200, r
    rep = r.json()
    assert rep["status"] == "ok" and rep["devices_failed"] == 0, (rep, dev.status())
    return rep


def inspect(dev, device_id):
    (d,) = dev.cli("inspect", device_id, "--json").json()
    return d


def old_group(node_factory, tmp_path, fixture, passphrase):
    """The fixture's remote and device A (its node not started), and a new device B that
    joined the group with this version."""
    with tarfile.open(os.path.join(FIXTURES, fixture)) as t:
        t.extractall(tmp_path)
    remote = str(tmp_path / "remote.git")
    a_node = node_factory(base=str(tmp_path / "a"), config=CONFIG, start=False)
    # the archive was made elsewhere: its remote's path is another one
    subprocess.run(["git", "-C", os.path.join(a_node.data_dir, "sync-testing"), "remote", "set-url", "origin",
                    remote], check=True)
    with open(a_node.device_id_path) as f:
        a_id = f.read().strip()
    b = SyncDev(node_factory(config=CONFIG), "host-b")
    b.env["AWNODE_SYNC_PASSPHRASE"] = passphrase
    b.cli("join", remote)
    return remote, a_node, a_id, b


def test_version1_group_upgraded_in_place(node_factory, tmp_path):
    remote, a_node, a_id, b = old_group(node_factory, tmp_path, "sync-v1.tar.gz", PASSPHRASE)
    before = inspect(b, a_id)
    assert before["version"] == 1 and not before["signed"], before
    sync_round(b, "pull")
    titles = sorted(e["data"]["title"] for e in get_events(b.client, BUCKET, "?limit=-1"))
    assert titles == ["round %d %s" % (r, x) for r in (1, 2, 3) for x in "ab"]

    # the old device runs this version: its first round publishes a signed manifest
    a_node.start()
    a = SyncDev(a_node, "host-v1")
    a.env["AWNODE_SYNC_PASSPHRASE"] = PASSPHRASE
    assert len(get_events(a.client, BUCKET, "?limit=-1")) == 6
    insert_events(a.client, BUCKET, [{"timestamp": "2021-06-04T10:00:00Z", "duration": 3.0,
                                      "data": {"app": "v2", "title": "after the upgrade"}}])
    rep = sync_round(a)
    assert rep["pushed"], rep
    after = inspect(a, a_id)
    assert after["version"] == 3 and after["signed"], after
    # compaction works over a version-1 history too
    r = a.client.post("/api/0/sync/now", json={"mode": "compact"}).json()
    assert r["status"] == "ok" and r["files_packed"] >= 2, r

    sync_round(b, "pull")
    assert sorted(e["data"]["title"] for e in get_events(b.client, BUCKET, "?limit=-1")) == sorted(
        titles + ["after the upgrade"])
    assert b.device(a_id)["error"] is None
    exported = a.client.get("/api/0/export").json()["buckets"][BUCKET]["events"]
    assert [e["data"] for e in sorted(get_events(b.client, BUCKET, "?limit=-1"), key=lambda e: e["timestamp"])] \
        == [e["data"] for e in sorted(exported, key=lambda e: e["timestamp"])]


def manifest_commits(remote, device_id):
    """The subjects of the remote's commits that changed the device's manifest, newest first."""
    return subprocess.run(["git", "-C", remote, "log", "--format=%s", "main", "--",
                           "devices/%s/manifest.aws" % device_id],
                          check=True, capture_output=True, text=True).stdout.split("\n")[0]


def test_version2_group_upgraded_in_place(node_factory, tmp_path):
    passphrase = "version two passphrase, long enough"
    bucket = "aw-watcher-window_host-v2"
    remote, a_node, a_id, b = old_group(node_factory, tmp_path, "sync-v2.tar.gz", passphrase)
    before = inspect(b, a_id)
    # a version-2 manifest, rewritten by every round: it names the newest segment
    assert before["version"] == 2 and before["signed"] and before["packs"] == 1, before
    assert before["generation"] == before["manifest_generation"] == 5, before
    sync_round(b, "pull")
    titles = sorted(e["data"]["title"] for e in get_events(b.client, bucket, "?limit=-1"))
    assert titles == ["round %d %s" % (r, x) for r in (1, 2, 3, 4) for x in "ab"]

    a_node.start()
    a = SyncDev(a_node, "host-v2")
    a.env["AWNODE_SYNC_PASSPHRASE"] = passphrase
    added = []
    for k in range(3):
        added.append("after the upgrade %d" % k)
        insert_events(a.client, bucket, [{"timestamp": "2021-06-05T10:0%d:00Z" % k, "duration": 3.0,
                                          "data": {"app": "v3", "title": added[-1]}}])
        assert sync_round(a)["pushed"]
        after = inspect(a, a_id)
        # the first round writes a manifest of version 3; the next ones only segments
        assert after["version"] == 3 and after["signed"], after
        assert after["generation"] == 6 + k and after["manifest_generation"] == 6, after
    assert manifest_commits(remote, a_id) == "awsync: push 6"

    rep = sync_round(b, "pull")
    assert rep["segments_applied"] == 3, rep
    assert sorted(e["data"]["title"] for e in get_events(b.client, bucket, "?limit=-1")) == sorted(titles + added)
    st = b.device(a_id)
    assert st["error"] is None and st["generation"] == 8 and st["manifest_generation"] == 6, st

    # compaction over a version-2 history with a tail, then a new device from scratch
    r = a.client.post("/api/0/sync/now", json={"mode": "compact"}).json()
    assert r["status"] == "ok" and r["files_packed"] >= 2, r
    assert manifest_commits(remote, a_id) == "awsync: push 9"
    sync_round(b, "pull")
    c = SyncDev(node_factory(config=CONFIG), "host-c")
    c.env["AWNODE_SYNC_PASSPHRASE"] = passphrase
    c.cli("join", remote)
    sync_round(c, "pull")
    exported = sorted((e["data"]["title"] for e in a.client.get("/api/0/export").json()["buckets"][bucket]["events"]))
    for dev in (b, c):
        assert sorted(e["data"]["title"] for e in get_events(dev.client, bucket, "?limit=-1")) == exported
        assert dev.device(a_id)["error"] is None
