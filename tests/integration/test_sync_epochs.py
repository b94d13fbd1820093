"""Key epochs (docs/sync-format.md §4b): `awnode sync rotate` and `awnode sync revoke`.

Real nodes, a real bare remote. What must hold:
- after a rotation every device moves to the new epoch at its next round, without a
  passphrase, seals its files again under the new key, and destroys every older key;
  a device that was offline catches up; every device ends with the same events;
- after a revocation the revoked device cannot read anything written afterwards (its
  key file holds no key of the new epoch, its old passphrase no longer joins), what it
  publishes is not imported, and a new device joins with the new passphrase and gets
  everything."""

import glob
import os
import shutil
import sqlite3
import subprocess

from awtest import found_in_db_files, insert_events, new_bucket, run_awnode
from test_sync import KDF, SyncDev, run_cli

CONFIG = "[sync]\nenabled = false\n"
NEW_PASSPHRASE = "the group's new passphrase, after the laptop was stolen"


def sync_round(dev, mode="both", ok=True):
    r = dev.client.post("/api/0/sync/now", json={"mode": mode})
    assert r.status == 200, r
    rep = r.json()
    if ok:
        assert rep["status"] == "ok" and rep["devices_failed"] == 0, rep
    return rep


def record(dev, bid, titles_, minute=0):
    insert_events(dev.client, bid, [{"timestamp": "2021-05-01T11:%02d:00Z" % (minute + i), "duration": 1.0,
                                     "data": {"app": "a", "title": t}} for i, t in enumerate(titles_)])


def titles(dev, bid):
    return sorted(e["data"]["title"] for e in dev.events(bid))


def key_lines(dev):
    with open(os.path.join(dev.node.data_dir, "sync-testing.key")) as f:
        return [l.split() for l in f.read().splitlines() if l and not l.startswith("#")]


def epochs_held(dev):
    """(has epoch 0's key, [numbers of the later epochs held])"""
    lines = key_lines(dev)
    return any(l[0] == "key" for l in lines), sorted(int(l[1]) for l in lines if l[0] == "epoch")


def sealed_magics(dev, device_id):
    """The container magic of every file of device_id's directory in dev's folder."""
    out = set()
    for p in glob.glob(os.path.join(dev.folder, "devices", device_id, "**", "*.aws"), recursive=True):
        with open(p, "rb") as f:
            out.add(f.read(8))
    return out


def make_devices(node_factory, tmp_path, hosts):
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    devs = []
    for i, h in enumerate(hosts):
        d = SyncDev(node_factory(config=CONFIG), h)
        d.cli("init", "--remote", remote, *KDF) if i == 0 else d.cli("join", remote)
        d.bid = "aw-watcher-window_" + h
        new_bucket(d.client, d.bid, type_="currentwindow", hostname=h)
        record(d, d.bid, ["%s before" % h])
        devs.append(d)
    # two passes: everyone publishes, then everyone imports (and pins) everyone
    for _ in range(2):
        for d in devs:
            sync_round(d)
    return remote, devs


def assert_converged(devs, expect):
    for d in devs:
        for o in devs:
            assert titles(d, o.bid) == expect[o.bid], (d.host, o.host)


def test_rotate_moves_every_device_and_destroys_old_keys(node_factory, tmp_path):
    remote, (a, b, c) = make_devices(node_factory, tmp_path, ["host-a", "host-b", "host-c"])
    assert epochs_held(a) == (True, [])
    assert sealed_magics(a, a.device_id) == {b"AWSENC1\n"}

    out = a.cli("rotate", "--port", str(a.node.port)).out
    assert "key epoch 1 started" in out, out
    # a moved in the round the command ran: every file of its directory sealed again,
    # the old key gone from its key file
    assert epochs_held(a) == (False, [1])
    assert sealed_magics(a, a.device_id) == {b"AWSENC2\n"}
    st = a.status()
    # b and c still write under epoch 0, which a no longer holds: waiting, not failed
    for o in (b, c):
        assert "waiting for its next round" in (a.device(o.device_id)["error"] or ""), st

    # b moves at its next round (the node has no passphrase)
    record(b, b.bid, ["b during"], minute=10)
    sync_round(b)
    assert epochs_held(b) == (False, [1])
    assert sealed_magics(b, b.device_id) == {b"AWSENC2\n"}
    assert titles(b, a.bid) == ["host-a before"]

    # c stays offline while the others go on
    record(a, a.bid, ["a during"], minute=10)
    sync_round(a)
    sync_round(b)
    sync_round(a)
    assert titles(a, b.bid) == ["b during", "host-b before"]

    # c catches up at its first round: moves, and imports what it missed
    record(c, c.bid, ["c offline"], minute=10)
    sync_round(c)
    assert epochs_held(c) == (False, [1])
    for d in (a, b):
        sync_round(d)
    expect = {a.bid: ["a during", "host-a before"], b.bid: ["b during", "host-b before"],
              c.bid: ["c offline", "host-c before"]}
    assert_converged([a, b, c], expect)
    for d in (a, b, c):
        for o in (a, b, c):
            if o is not d:
                assert d.device(o.device_id)["error"] is None, (d.host, d.device(o.device_id))

    # a second rotation, from another device, works the same way
    assert "key epoch 2 started" in b.cli("rotate", "--port", str(b.node.port)).out
    for d in (a, c, b):
        sync_round(d)
    for d in (a, b, c):
        assert epochs_held(d) == (False, [2]), d.host
    record(c, c.bid, ["c after 2"], minute=20)
    sync_round(c)
    sync_round(a)
    expect[c.bid] = ["c after 2", "c offline", "host-c before"]
    assert titles(a, c.bid) == expect[c.bid]


def test_revoke_cuts_a_device_off(node_factory, tmp_path):
    remote, (a, b, m) = make_devices(node_factory, tmp_path, ["host-a", "host-b", "host-m"])

    # bad input first: an unknown device, the device itself, a short passphrase
    new = {"AWNODE_SYNC_NEW_PASSPHRASE": NEW_PASSPHRASE}
    r = a.cli("revoke", "no-such-device", "--port", str(a.node.port), env=new, expect=1)
    assert "no device no-such-device" in r.err, r
    r = a.cli("revoke", a.device_id, "--port", str(a.node.port), env=new, expect=1)
    assert "cannot revoke itself" in r.err, r
    r = a.cli("revoke", m.device_id, "--port", str(a.node.port), env={"AWNODE_SYNC_NEW_PASSPHRASE": "short"}, expect=1)
    assert "too short" in r.err, r
    assert epochs_held(a) == (True, [])

    r = a.cli("revoke", m.device_id, "--port", str(a.node.port), env=new)
    assert "key epoch 1 started: device %s is revoked" % m.device_id in r.out, r
    assert epochs_held(a) == (False, [1])
    record(a, a.bid, ["a after revocation"], minute=10)
    sync_round(a)

    # b moves without a passphrase and reads what a wrote after the revocation
    sync_round(b)
    assert epochs_held(b) == (False, [1])
    assert titles(b, a.bid) == ["a after revocation", "host-a before"]

    # m publishes before it has read the revocation (a push-only round, as a device
    # that ignores revocations would): nobody imports it
    record(m, m.bid, ["m after revocation"], minute=10)
    rep = m.client.post("/api/0/sync/now", json={"mode": "push"}).json()
    assert rep["pushed"], rep
    for d in (a, b):
        sync_round(d)
        assert titles(d, m.bid) == ["host-m before"], d.host
        assert "revoked" in d.device(m.device_id)["error"], d.device(m.device_id)

    # m learns it was revoked; its key file holds no key of epoch 1, so it reads nothing
    # a or b wrote since
    rep = sync_round(m, ok=False)
    assert rep["status"] == "error" and "revoked" in rep["error"], rep
    assert epochs_held(m) == (True, [])
    assert titles(m, a.bid) == ["host-a before"]
    assert sealed_magics(m, a.device_id) == {b"AWSENC2\n"}

    # the old passphrase no longer joins; the new one does, and gets everything
    j = SyncDev(node_factory(config=CONFIG), "host-j")
    r = j.cli("join", remote, expect=1)
    assert "old passphrase" in r.err, r
    j.cli("join", remote, env={"AWNODE_SYNC_PASSPHRASE": NEW_PASSPHRASE})
    j.bid = "aw-watcher-window_host-j"
    new_bucket(j.client, j.bid, type_="currentwindow", hostname="host-j")
    record(j, j.bid, ["j"])
    sync_round(j)
    assert titles(j, a.bid) == ["a after revocation", "host-a before"]
    assert titles(j, b.bid) == ["host-b before"]
    assert m.bid not in j.buckets()  # the revoked device is not imported at all
    sync_round(a)
    assert titles(a, j.bid) == ["j"]


def history_blobs(folder):
    """Every blob of the folder's git history: {object id: first 24 bytes}."""
    objs = subprocess.run(["git", "-C", folder, "rev-list", "--objects", "--all"], check=True,
                          stdout=subprocess.PIPE).stdout.decode().split("\n")
    ids = [l.split()[0] for l in objs if l.strip()]
    p = subprocess.run(["git", "-C", folder, "cat-file", "--batch-check=%(objectname) %(objecttype)"],
                       input="\n".join(ids).encode(), check=True, stdout=subprocess.PIPE)
    blobs = [l.split()[0] for l in p.stdout.decode().splitlines() if l.endswith(" blob")]
    out = {}
    for oid in blobs:
        data = subprocess.run(["git", "-C", folder, "cat-file", "blob", oid], check=True,
                              stdout=subprocess.PIPE).stdout
        out[oid] = data[:24]
    return out


def head_blobs(folder):
    t = subprocess.run(["git", "-C", folder, "ls-tree", "-r", "HEAD"], check=True, stdout=subprocess.PIPE)
    return {l.split()[2] for l in t.stdout.decode().splitlines()}


def thief(dev, devices, secrets, tmp_path):
    """What a copy of dev's data directory reveals: restore every device's chain from the
    copied folder with the copied key file, and look at every file and git object."""
    loot = str(tmp_path / ("loot-" + dev.host))
    shutil.copytree(dev.node.data_dir, loot)
    key = os.path.join(loot, "sync-testing.key")
    folder = os.path.join(loot, "sync-testing")
    with open(key) as f:
        lines = [l.split() for l in f.read().splitlines() if l and not l.startswith("#")]
    held = [bytes.fromhex(l[2]) for l in lines if l[0] == "epoch"]
    assert not any(l[0] == "key" for l in lines)  # epoch 0's key is gone
    assert len(held) == 1
    # the keys held open only files written since the move, which are all in HEAD ...
    in_head = head_blobs(folder)
    for oid, head in history_blobs(folder).items():
        if head.startswith(b"AWSENC2\n") and head[8:24] in held:
            assert oid in in_head, oid
        else:
            assert not head.startswith(b"AWSENC2\n") or head[8:24] not in held
    # ... and what they hold has none of the archived events: every device's whole
    # chain, replayed with the stolen key file
    for d in devices:
        env = dict(dev.env)
        env["XDG_DATA_HOME"] = str(tmp_path / ("xdg-" + dev.host + d.host))
        os.makedirs(env["XDG_DATA_HOME"])
        db = str(tmp_path / ("restored-%s-%s.db" % (dev.host, d.host)))
        run_cli(["restore", "--dbpath", db, "--folder", folder, "--key-file", key, "--device-id", d.device_id,
                 "--hostname", d.host], env)
        conn = sqlite3.connect(db)
        try:
            n = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            conn.close()
        assert n > 0, d.host
        with open(db, "rb") as f:
            blob = f.read()
        for s in secrets:
            assert s.encode() not in blob, (dev.host, d.host, s)
    # nor do the database files themselves (rows are wiped when deleted)
    for name in os.listdir(loot):
        if name.startswith("awnode-testing.db"):
            with open(os.path.join(loot, name), "rb") as f:
                blob = f.read()
            for s in secrets:
                assert s.encode() not in blob, (dev.host, name, s)


def test_archived_events_are_unreadable_from_a_stolen_data_directory(node_factory, tmp_path):
    remote, (a, b) = make_devices(node_factory, tmp_path, ["host-a", "host-b"])
    secrets = ["Board minutes %02d - plant closure in Lyon" % i for i in range(20)]
    insert_events(a.client, a.bid, [{"timestamp": "2021-03-01T10:%02d:00Z" % i, "duration": 30.0,
                                     "data": {"app": "x", "title": t}} for i, t in enumerate(secrets)])
    sync_round(a)
    sync_round(b)
    assert set(secrets) <= set(titles(b, a.bid))
    assert {n for _, n in found_in_db_files(b.node, secrets)} == set(secrets)  # the scan sees them

    # the archive's key comes from a passphrase (from the sync key, the key file would open it)
    archive_env = {"AWNODE_ARCHIVE_PASSPHRASE": "the archive passphrase, not on the disk"}
    p = run_awnode(["archive", "init", *KDF, "--testing", "--port", str(a.node.port)], {**a.node.env, **archive_env})
    assert p.returncode == 0, p.stderr
    p = run_awnode(["archive", "--before", "2021-04-01", "--testing", "--port", str(a.node.port)], a.node.env)
    assert p.returncode == 0, p.stderr
    assert titles(a, a.bid) == ["host-a before"]

    # the archive run asked for a new epoch: a's next round starts it and moves, b's
    # next round moves and imports the deletions
    sync_round(a)
    assert epochs_held(a) == (False, [1])
    sync_round(b)
    assert epochs_held(b) == (False, [1])
    assert titles(b, a.bid) == ["host-a before"]
    sync_round(a)

    for dev in (a, b):
        thief(dev, [a, b], secrets, tmp_path)
    # the archive itself still opens with its passphrase
    p = run_awnode(["archive", "list", "--testing", "--port", str(a.node.port)], a.node.env)
    assert p.returncode == 0 and b"20" in p.stdout, p.stdout
