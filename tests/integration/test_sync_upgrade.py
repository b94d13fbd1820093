"""A sync group written by version 1 of the format (fixtures/sync-v1.tar.gz, made by
fixtures/make_sync_v1.sh with an awnode of that version: unsigned manifests, no packs) is
upgraded in place (docs/sync-format.md, "Version"): a new device joins and imports the
version-1 files as they are; the old device, now running this version, publishes a
signed version-2 manifest at its first round; every device goes on converging, and the
new device then holds the old device to its key."""

import os
import subprocess
import tarfile

from awtest import get_events, insert_events
from test_sync import KDF, SyncDev

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "sync-v1.tar.gz")
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


def test_version1_group_upgraded_in_place(node_factory, tmp_path):
    with tarfile.open(FIXTURE) as t:
        t.extractall(tmp_path)
    remote = str(tmp_path / "remote.git")
    a_node = node_factory(base=str(tmp_path / "a"), config=CONFIG, start=False)
    a_folder = os.path.join(a_node.data_dir, "sync-testing")
    # the archive was made elsewhere: its remote's path is another one
    subprocess.run(["git", "-C", a_folder, "remote", "set-url", "origin", remote], check=True)
    with open(a_node.device_id_path) as f:
        a_id = f.read().strip()

    b = SyncDev(node_factory(config=CONFIG), "host-b")
    b.env["AWNODE_SYNC_PASSPHRASE"] = PASSPHRASE
    b.cli("join", remote)
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
    assert after["version"] == 2 and after["signed"], after
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
