"""A node killed (SIGKILL) in the middle of sync rounds, again and again, leaves the
folder and the remote valid: `git fsck` finds nothing missing behind any ref, and the
next round succeeds, also when the kill left a ref's lock file behind
(docs/sync-format.md §8, "Durability").

What this does and does not show: SIGKILL stops the process between any two of its
system calls, so a ref written before the objects it names (a wrong order inside the
process) is caught whenever a kill lands between the two. The page cache survives a
SIGKILL, so whether the fsyncs reach the disk before a power loss is not tested here;
that rests on the order of the syncs the document lists."""

import os
import random
import subprocess
import threading
import time

from awtest import insert_events, new_bucket
from test_sync import SyncDev, make_group

KILLS = 12
BUCKET = "aw-watcher-window_host-crash"


def fsck(gitdir):
    r = subprocess.run(["git", "-C", gitdir, "fsck", "--full", "--no-dangling", "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 0, "git fsck %s:\n%s%s" % (gitdir, r.stdout, r.stderr)


def events(n, start):
    return [{"timestamp": "2021-03-01T%02d:%02d:%02dZ" % (10 + (start + i) // 3600, (start + i) // 60 % 60,
                                                          (start + i) % 60),
             "duration": 1.0, "data": {"app": "app", "title": "title %d" % (start + i)}} for i in range(n)]


def rounds_until_killed(dev, stop, done):
    """An event and POST /api/0/sync/now in a loop until the node is gone: every round
    publishes, so generations pile up and packs are made (every 16)."""
    c = dev.node.client(timeout=30)
    n = 0
    try:
        while not stop.is_set():
            try:
                n += 1
                c.post("/api/0/buckets/%s/events" % BUCKET,
                       json=[{"timestamp": "2021-04-01T10:00:%02dZ" % (n % 60), "duration": 0.5,
                              "data": {"app": "loop", "title": "%s %d" % (threading.get_ident(), n)}}])
                c.post("/api/0/sync/now", json={"mode": "both"})
                done.append(1)
            except Exception:
                return  # the node was killed
    finally:
        c.close()


def test_kill9_during_rounds_leaves_folder_and_remote_valid(node_factory, tmp_path):
    # packs every 16 segments, so that kills land in compactions too
    remote, (dev,) = make_group(node_factory, tmp_path, ["host-crash"], timed_rounds=False,
                                sync_config="compact_segments = 16\n")
    gitdir = os.path.join(dev.folder, ".git")
    rnd = random.Random(1)
    new_bucket(dev.client, BUCKET, type_="currentwindow", hostname=dev.host)
    seq = 0
    rotations = 0
    for k in range(KILLS):
        stop, done = threading.Event(), []
        t = threading.Thread(target=rounds_until_killed, args=(dev, stop, done))
        c = dev.node.client()
        insert_events(c, BUCKET, events(20, seq))
        seq += 20
        c.close()
        t.start()
        rot = None
        if k % 3 == 1:
            # a new key epoch started meanwhile: the kill may land in the record's
            # commit or in the move (every file sealed again, older keys destroyed)
            rot = threading.Thread(target=dev.cli, args=("rotate", "--port", str(dev.node.port)),
                                   kwargs={"expect": None})
            rot.start()
            rotations += 1
        # long enough for a few rounds, so that the kill lands anywhere in one
        time.sleep(0.15 + rnd.random() * 0.5)
        dev.node.kill()
        if rot:
            rot.join(60)
        stop.set()
        t.join(30)
        assert not t.is_alive()
        fsck(gitdir)
        fsck(remote)
        lock = os.path.join(remote, "refs", "heads", "main.lock")
        if os.path.exists(lock):
            # a push killed while it moved the remote's branch: another device may be
            # writing that lock, so it is taken away only once it is ten minutes old
            old = time.time() - 3600
            os.utime(lock, (old, old))
        dev.node.start()
        dev.client = dev.node.client()
        # the next round works, and leaves both valid
        r = dev.client.post("/api/0/sync/now", json={"mode": "both"})
        assert r.status == 200, r
        assert not r.json().get("error"), r.json()
        fsck(gitdir)
        fsck(remote)
    (info,) = dev.cli("inspect", dev.device_id, "--json").json()
    assert info["packs"] >= 1, info  # the kills met compactions too
    # the kills met key epochs too: the device ends in one epoch, holding its key only
    st = dev.status()
    assert st["key_epoch"] >= 1 and rotations >= 1, st
    with open(os.path.join(dev.node.data_dir, "sync-testing.key")) as f:
        held = [l.split()[1] for l in f.read().splitlines() if l.startswith("epoch ") or l.startswith("key ")]
    assert held == [str(st["key_epoch"])], held
    # everything recorded reached the remote's branch: a new device receives all of it
    new = SyncDev(node_factory(config="[sync]\nenabled = false\n"), "host-new")
    new.cli("join", remote)
    new.sync("pull")
    mine = sorted((e["timestamp"], e["data"]["title"]) for e in dev.events(BUCKET))
    assert len(mine) >= seq
    assert sorted((e["timestamp"], e["data"]["title"]) for e in new.events(BUCKET)) == mine


def leftovers(packdir, stem, age):
    """What killed pack writes leave in objects/pack, `age` seconds old: libgit2's and
    git's temporary files, and an index (with its reverse index) whose pack was never
    renamed into place."""
    real = sorted(f for f in os.listdir(packdir) if f.endswith(".idx"))[0]
    names = ["pack_git2_" + stem, "tmp_pack_" + stem, "tmp_idx_" + stem]
    for n in names:
        with open(os.path.join(packdir, n), "wb") as f:
            f.write(os.urandom(256 << 10))
    orphan = "pack-%s" % (stem * 40)[:40]
    with open(os.path.join(packdir, real), "rb") as src, open(os.path.join(packdir, orphan + ".idx"), "wb") as dst:
        dst.write(src.read())
    with open(os.path.join(packdir, orphan + ".rev"), "wb") as f:
        f.write(b"RIDX")
    names += [orphan + ".idx", orphan + ".rev"]
    t = time.time() - age
    for n in names:
        os.utime(os.path.join(packdir, n), (t, t))
    return names


def test_leftovers_of_killed_pack_writes_are_removed_once_a_day_old(node_factory, tmp_path):
    """A pack write killed half-way leaves garbage in objects/pack that nothing names,
    as large as what it was writing; left there, every kill would add to the folder and
    to a remote on a path for good. A round removes such files, in both, once they are a
    day old: younger ones may be another device's push still writing into the remote."""
    remote, (dev,) = make_group(node_factory, tmp_path, ["host-crash"], timed_rounds=False)
    new_bucket(dev.client, BUCKET, type_="currentwindow", hostname=dev.host)
    insert_events(dev.client, BUCKET, events(5, 0))
    dev.sync("run")
    dirs = [os.path.join(dev.folder, ".git", "objects", "pack"), os.path.join(remote, "objects", "pack")]
    for d in dirs:
        assert [f for f in os.listdir(d) if f.endswith(".idx")], d
    old = [(d, n) for d in dirs for n in leftovers(d, "0ld", 2 * 86400)]
    young = [(d, n) for d in dirs for n in leftovers(d, "a9e", 3600)]
    insert_events(dev.client, BUCKET, events(5, 5))
    dev.sync("run")  # a push, so the remote is maintained too
    assert [n for d, n in old if os.path.exists(os.path.join(d, n))] == []
    assert [n for d, n in young if not os.path.exists(os.path.join(d, n))] == []
    for d, n in young:
        os.unlink(os.path.join(d, n))
    fsck(os.path.join(dev.folder, ".git"))
    fsck(remote)
    new = SyncDev(node_factory(config="[sync]\nenabled = false\n"), "host-new")
    new.cli("join", remote)
    new.sync("pull")
    assert len(new.events(BUCKET)) == 10
