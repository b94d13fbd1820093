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
import json
import os
import shutil
import sqlite3
import subprocess

from awtest import found_in_db_files, insert_events, new_bucket, run_awnode
from test_sync import KDF, PASSPHRASE, SyncDev, run_cli
from test_sync_signatures import CONFIG, sync_round

NEW_PASSPHRASE = "the group's new passphrase, after the laptop was stolen"


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
    assert a.status()["key_epoch"] == 0

    out = a.cli("rotate", "--port", str(a.node.port)).out
    assert "key epoch 1 started" in out, out
    # a moved in the round the command ran: every file of its directory sealed again,
    # the old key gone from its key file
    assert epochs_held(a) == (False, [1])
    assert sealed_magics(a, a.device_id) == {b"AWSENC2\n"}
    st = a.status()
    assert st["key_epoch"] == 1 and "key epoch    1" in a.cli("status").out
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

    # a device that joins now with the group's passphrase follows the chain (each
    # rotation's key is wrapped under the one before) and imports everything
    for d in (a, b):
        sync_round(d)
    j = SyncDev(node_factory(config=CONFIG), "host-j")
    j.cli("join", remote)
    assert epochs_held(j) == (True, [])
    sync_round(j)
    assert epochs_held(j) == (False, [2])
    assert_converged_on(j, [a, b, c], expect)

    # a's history restored from the folder on a new machine: its events exactly, ids too
    before = [(e["id"], e["timestamp"], e["duration"], e["data"]) for e in a.events(a.bid)]
    fresh = node_factory(config=CONFIG, start=False)
    os.makedirs(fresh.data_dir, exist_ok=True)
    env = dict(fresh.env)
    env["AWNODE_SYNC_PASSPHRASE"] = PASSPHRASE
    run_cli(["join", remote, "--testing"], env)
    run_cli(["restore", "--device-id", a.device_id, "--testing", "--hostname", "host-a"], env)
    fresh.start()
    got = [(e["id"], e["timestamp"], e["duration"], e["data"])
           for e in SyncDev(fresh, "host-a").events(a.bid)]
    assert got == before


def assert_converged_on(dev, devs, expect):
    for o in devs:
        assert titles(dev, o.bid) == expect[o.bid], (dev.host, o.host)


def test_revoke_cuts_a_device_off(node_factory, tmp_path):
    remote, (a, b, m) = make_devices(node_factory, tmp_path, ["host-a", "host-b", "host-m"])

    # bad input first: wrong arguments, an unknown device, the device itself, a short
    # passphrase; each a one-line error, and no epoch started
    new = {"AWNODE_SYNC_NEW_PASSPHRASE": NEW_PASSPHRASE}
    r = a.cli("revoke", "--port", str(a.node.port), env=new, expect=2)
    assert "revoke takes one device id" in r.err and r.err.count("\n") == 1, r
    r = a.cli("rotate", "extra", "--port", str(a.node.port), expect=2)
    assert "rotate takes no arguments" in r.err and r.err.count("\n") == 1, r
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

    # m, holding the remote, deletes the revocation's record and adds one of its own for
    # the next epoch, signed with its real device key, handing b a key m chose: b, which
    # has seen the revocation, neither imports m nor takes the epoch
    with open(os.path.join(a.folder, "devices", a.device_id, "epochs", "000000000001.json")) as f:
        real = json.load(f)
    na = Sodium()
    with open(os.path.join(m.node.data_dir, "sync-testing-device.key")) as f:
        m_pk, m_sk = na.seed_keypair(bytes.fromhex(f.read().split("seed ")[1].split()[0]))
    with open(os.path.join(b.node.data_dir, "sync-testing-device.key")) as f:
        b_pk, _ = na.seed_keypair(bytes.fromhex(f.read().split("seed ")[1].split()[0]))
    chosen = os.urandom(32)
    name = "epochs/000000000002.json"
    rec = {"format": "awsync-epoch", "version": 1, "group": real["group"], "device_id": m.device_id, "epoch": 2,
           "id": os.urandom(16).hex(), "prev": real["id"], "key_check": key_check_of(na, chosen), "revoked": [],
           "members": {b.device_id: na.seal_to_signing_key(chosen, b_pk).hex()}, "written_at": 1,
           "signing_key": m_pk.hex()}
    text = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode()
    rec["signature"] = na.sign(m_sk, real["group"], m.device_id, name, text).hex()
    work = str(tmp_path / "attacker")
    subprocess.run(["git", "clone", "-q", "-b", "main", remote, work], check=True)
    git = ["git", "-C", work, "-c", "user.name=x", "-c", "user.email=x@x"]
    subprocess.run(git + ["rm", "-q", "-r", "devices/%s/epochs" % a.device_id], check=True)
    os.makedirs(os.path.join(work, "devices", m.device_id, "epochs"), exist_ok=True)
    with open(os.path.join(work, "devices", m.device_id, name), "w") as f:
        json.dump(rec, f)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "awsync: push 99"], check=True)
    subprocess.run(git + ["push", "-q", "origin", "HEAD:main"], check=True)
    sync_round(b)
    assert epochs_held(b) == (False, [1])
    assert "revoked" in b.device(m.device_id)["error"], b.device(m.device_id)
    assert titles(b, m.bid) == ["host-m before"]
    sync_round(a)  # a puts its record back

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
    held = [(bytes.fromhex(l[2]), bytes.fromhex(l[3])) for l in lines if l[0] == "epoch"]
    assert not any(l[0] == "key" for l in lines)  # epoch 0's key is gone
    assert len(held) == 1
    # the keys held open only files written since the move, which are all in HEAD ...
    in_head = head_blobs(folder)
    for oid, head in history_blobs(folder).items():
        if head.startswith(b"AWSENC2\n") and head[8:24] == held[0][0]:
            assert oid in in_head, oid
    # ... and none of those files holds an archived event: each one decrypted with the
    # stolen key
    na = Sodium()
    opened = 0
    for p in glob.glob(os.path.join(folder, "devices", "*", "**", "*.aws"), recursive=True):
        rel = os.path.relpath(p, os.path.join(folder, "devices"))
        device, name = rel.split(os.sep, 1)
        with open(p, "rb") as f:
            plain = na.unseal(f.read(), held[0][1], device, name)
        assert plain is not None, rel
        opened += 1
        for x in secrets:
            assert x.encode() not in plain, (dev.host, rel, x)
    assert opened >= 4
    # ... nor does every device's whole chain, replayed with the stolen key file
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


class Sodium:
    """The few libsodium calls an attacker needs to forge an epoch record (through
    ctypes: the library the node links)."""

    def __init__(self):
        import ctypes
        import ctypes.util
        self.c = ctypes
        self.lib = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
        assert self.lib.sodium_init() >= 0

    def buf(self, n):
        return self.c.create_string_buffer(n)

    def seed_keypair(self, seed):
        pk, sk = self.buf(32), self.buf(64)
        self.lib.crypto_sign_seed_keypair(pk, sk, seed)
        return pk.raw, sk.raw

    def keypair(self):
        pk, sk = self.buf(32), self.buf(64)
        self.lib.crypto_sign_keypair(pk, sk)
        return pk.raw, sk.raw

    def sign(self, sk, group, device, name, data):
        tag = b"awsync-sig2\0" + group.encode() + b"\0" + device.encode() + b"\0" + name.encode() + b"\0"
        msg = tag + data
        d = self.buf(64)
        self.lib.crypto_generichash(d, self.c.c_size_t(64), msg, self.c.c_ulonglong(len(msg)), None,
                                    self.c.c_size_t(0))
        sig = self.buf(64)
        self.lib.crypto_sign_detached(sig, None, d, self.c.c_ulonglong(64), sk)
        return sig.raw

    def unseal(self, blob, key, device, name):
        """docs/sync-format.md §4, §4b: the plaintext of a sealed file of a later epoch, or
        None when the key does not open it."""
        c, lib = self.c, self.lib
        sub = self.buf(32)
        lib.crypto_kdf_derive_from_key(sub, c.c_size_t(32), c.c_uint64(1), b"awsync01", key)
        st = self.buf(lib.crypto_secretstream_xchacha20poly1305_statebytes())
        if lib.crypto_secretstream_xchacha20poly1305_init_pull(st, blob[24:48], sub) != 0:
            return None
        ad = b"awsync1\0" + device.encode() + b"\0" + name.encode()
        off, z = 48, b""
        while off < len(blob):
            chunk = blob[off:off + 65536 + 17]
            m = self.buf(len(chunk))
            mlen, tag = c.c_ulonglong(0), c.c_ubyte(0)
            if lib.crypto_secretstream_xchacha20poly1305_pull(st, m, c.byref(mlen), c.byref(tag), chunk,
                                                              c.c_ulonglong(len(chunk)), ad,
                                                              c.c_ulonglong(len(ad))) != 0:
                return None
            z += m.raw[:mlen.value]
            off += len(chunk)
        zstd = c.CDLL(c.util.find_library("zstd") or "libzstd.so.1")
        zstd.ZSTD_getFrameContentSize.restype = c.c_ulonglong
        n = zstd.ZSTD_getFrameContentSize(z, c.c_size_t(len(z)))
        out = self.buf(n + 1)
        zstd.ZSTD_decompress.restype = c.c_size_t
        got = zstd.ZSTD_decompress(out, c.c_size_t(n + 1), z, c.c_size_t(len(z)))
        assert got == n
        return out.raw[:n]

    def seal_to_signing_key(self, data, sign_pk):
        x = self.buf(32)
        assert self.lib.crypto_sign_ed25519_pk_to_curve25519(x, sign_pk) == 0
        out = self.buf(48 + len(data))
        self.lib.crypto_box_seal(out, data, self.c.c_ulonglong(len(data)), x)
        return out.raw


def test_a_forged_epoch_record_is_ignored(node_factory, tmp_path):
    """Whoever holds the remote writes a record for the next epoch, signed with a key of
    its own, that hands its own key to a (sealed to a's public signing key, which a's
    own record shows): a must not move to an epoch whose key the attacker knows."""
    remote, (a, b) = make_devices(node_factory, tmp_path, ["host-a", "host-b"])
    a.cli("rotate", "--port", str(a.node.port))
    sync_round(b)
    rec_path = os.path.join(a.folder, "devices", a.device_id, "epochs", "000000000001.json")
    with open(rec_path) as f:
        real = json.load(f)

    na = Sodium()
    pk, sk = na.keypair()
    fake = "ffffffff-0000-4000-8000-00000000000f"
    attacker_key = os.urandom(32)
    name = "epochs/000000000002.json"
    forged = {"format": "awsync-epoch", "version": 1, "group": real["group"], "device_id": fake, "epoch": 2,
              "id": os.urandom(16).hex(), "prev": real["id"], "key_check": "00" * 32, "revoked": [b.device_id],
              "members": {d["device_id"]: na.seal_to_signing_key(attacker_key, bytes.fromhex(d["key"])).hex()
                          for d in [{"device_id": a.device_id, "key": real["signing_key"]}]},
              "written_at": 1, "signing_key": pk.hex()}
    # the key check the record claims must match the attacker's key: a's check is the real one
    forged["key_check"] = key_check_of(na, attacker_key)
    text = json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    forged["signature"] = na.sign(sk, real["group"], fake, name, text).hex()

    work = str(tmp_path / "attacker")
    subprocess.run(["git", "clone", "-q", "-b", "main", remote, work], check=True)
    os.makedirs(os.path.join(work, "devices", fake, "epochs"))
    with open(os.path.join(work, "devices", fake, name), "w") as f:
        json.dump(forged, f)
    # and edits a's real record: b is revoked now, says the text (its signature does not)
    edited = dict(real)
    edited["revoked"] = [b.device_id]
    with open(os.path.join(work, "devices", a.device_id, "epochs", "000000000001.json"), "w") as f:
        json.dump(edited, f)
    git = ["git", "-C", work, "-c", "user.name=x", "-c", "user.email=x@x"]
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "awsync: epoch 2"], check=True)
    subprocess.run(git + ["push", "-q", "origin", "HEAD:main"], check=True)

    # b sees both before a repairs its directory: neither counts, b stays in epoch 1
    # (going on from the key it holds, since a's record no longer verifies)
    rep = sync_round(b, ok=False)
    assert rep["status"] == "ok", rep
    assert b.status()["key_epoch"] == 1 and epochs_held(b) == (False, [1])

    record(a, a.bid, ["a after the forgery"], minute=30)
    # (the directory the attacker made holds no manifest: that device fails, as any would)
    rep = sync_round(a, ok=False)
    assert rep["status"] == "ok" and rep["devices_failed"] == 1, rep
    assert a.device(b.device_id)["error"] is None
    assert epochs_held(a) == (False, [1])  # not the attacker's epoch
    assert a.status()["key_epoch"] == 1
    sync_round(b, ok=False)
    assert b.device(a.device_id)["error"] is None
    assert titles(b, a.bid) == ["a after the forgery", "host-a before"]
    assert sealed_magics(a, a.device_id) == {b"AWSENC2\n"}
    with open(os.path.join(a.folder, "devices", a.device_id, "manifest.aws"), "rb") as f:
        assert f.read(24)[8:] == bytes.fromhex(real["id"])


def key_check_of(na, key):
    """docs/sync-format.md §2: BLAKE2b-256 keyed with subkey 2 ("awsync01") of the key."""
    c = na.c
    sub = na.buf(32)
    na.lib.crypto_kdf_derive_from_key(sub, c.c_size_t(32), c.c_uint64(2), b"awsync01", key)
    msg = b"awsync key check v1"
    out = na.buf(32)
    na.lib.crypto_generichash(out, c.c_size_t(32), msg, c.c_ulonglong(len(msg)), sub, c.c_size_t(32))
    return out.raw.hex()
