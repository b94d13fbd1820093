"""Per-device signatures (docs/sync-format.md §4a): a member of the group, who holds the
group's key, can no longer publish in another device's name.

The attacker here is a real node that joined the group with the passphrase and took
another device's id (its device_id file copied): it writes that device's manifest and
segments with the group's key, but signs them with its own device key. Every device
that has imported the real device before refuses them; the real device repairs its
directory at its next round, and everyone goes on. That holds for a forged segment
alone too, kept after the real device's own manifest by whoever holds the remote: the
segments that follow a manifest are signed each (docs/sync-format.md §6)."""

import os
import shutil
import stat
import subprocess

from awtest import insert_events, new_bucket
from test_sync import KDF, SyncDev
from test_sync_tamper import Attacker

CONFIG = "[sync]\nenabled = false\n"


def sync_round(dev, mode="both", ok=True):
    r = dev.client.post("/api/0/sync/now", json={"mode": mode})
    assert r.status == 200, r
    rep = r.json()
    if ok:
        assert rep["status"] == "ok" and rep["devices_failed"] == 0, rep
    return rep


def titles(dev, bid):
    return sorted(e["data"]["title"] for e in dev.events(bid))


def record(dev, bid, titles_):
    insert_events(dev.client, bid, [{"timestamp": "2021-05-01T10:%02d:00Z" % i, "duration": 1.0,
                                     "data": {"app": "a", "title": t}} for i, t in enumerate(titles_)])


def test_member_cannot_write_in_another_devices_name(node_factory, tmp_path):
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    a = SyncDev(node_factory(config=CONFIG), "host-a")
    b = SyncDev(node_factory(config=CONFIG), "host-b")
    a.cli("init", "--remote", remote, *KDF)
    b.cli("join", remote)
    bid = "aw-watcher-window_host-a"
    new_bucket(a.client, bid, type_="currentwindow", hostname="host-a")
    record(a, bid, ["real 1", "real 2"])
    sync_round(a)
    sync_round(b, "pull")
    assert titles(b, bid) == ["real 1", "real 2"]

    # the device key: made by the first round, private, next to the sync key
    key = os.path.join(a.node.data_dir, "sync-testing-device.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    with open(key) as f:
        assert f.read().startswith("# awnode sync device key")

    # a member with the passphrase takes a's device id
    m_node = node_factory(config=CONFIG, start=False)
    os.makedirs(m_node.data_dir, exist_ok=True)
    with open(m_node.device_id_path, "w") as f:
        f.write(a.device_id + "\n")
    m_node.start()
    m = SyncDev(m_node, "host-a")
    assert m.device_id == a.device_id
    m.cli("join", remote)
    new_bucket(m.client, bid, type_="currentwindow", hostname="host-a")
    record(m, bid, ["forged 1"])
    sync_round(m, "push")

    rep = sync_round(b, "pull", ok=False)
    assert rep["devices_failed"] == 1, rep
    err = b.device(a.device_id)["error"]
    assert "signed with another key" in err, err
    assert titles(b, bid) == ["real 1", "real 2"]  # nothing of the forgery

    # the real device takes its directory back at its next round; b follows it again
    record(a, bid, ["real 3"])
    sync_round(a)
    sync_round(b, "pull")
    assert titles(b, bid) == ["real 1", "real 2", "real 3"]
    assert b.device(a.device_id)["error"] is None

    # The member reads a's real files again and writes the next segment after them: it
    # chains to a's newest one. Whoever holds the remote (the member, say) puts a's own
    # manifest back over the one the member wrote: what b finds is a's signed manifest
    # followed by a segment that only the member's key signed.
    shutil.rmtree(m.folder)
    m.cli("join", remote)
    record(m, bid, ["forged 2"])
    sync_round(m, "push")
    mallory = Attacker(remote, tmp_path / "mallory")
    manifest = "devices/%s/manifest.aws" % a.device_id
    mallory.git("checkout", "HEAD~1", "--", manifest)
    assert mallory.git("status", "--porcelain", capture=True).strip(), "the member wrote a manifest"
    mallory.publish("a's manifest, the member's segment")
    rep = sync_round(b, "pull", ok=False)
    assert rep["devices_failed"] == 1, rep
    err = b.device(a.device_id)["error"]
    assert "not signed by the device's key" in err, err
    assert titles(b, bid) == ["real 1", "real 2", "real 3"]

    record(a, bid, ["real 4"])
    sync_round(a)
    sync_round(b, "pull")
    assert titles(b, bid) == ["real 1", "real 2", "real 3", "real 4"]
    assert b.device(a.device_id)["error"] is None
