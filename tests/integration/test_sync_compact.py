"""Compaction (docs/sync-format.md §7a): a device folds its older segments into packs,
and every other device, current, offline during the compaction, killed in the middle of
an import, or joining afterwards, ends with the same events, the event ids it had kept.

Real nodes, a real bare remote; rounds are asked of the running nodes (POST
/api/0/sync/now). `[sync] compact_segments = 16` makes a pack every 16 plain segments,
so a few dozen rounds go through several compactions."""

import os
import random
import subprocess
import threading
import time

from awtest import heartbeat, insert_events, new_bucket, quote_id
from test_sync import KDF, SyncDev, strip_ids

CONFIG = "[sync]\nenabled = false\ncompact_segments = 16\n"
WIN, AFK, WEB = "aw-watcher-window_host-a", "aw-watcher-afk_host-a", "aw-watcher-web_host-a"


def compact_node(node_factory):
    """A node whose config (also read by `awnode sync` run next to it) packs every 16
    segments."""
    n = node_factory(config=CONFIG)
    d = os.path.join(n.xdg["XDG_CONFIG_HOME"], "awnode")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config-testing.toml"), "w") as f:
        f.write(CONFIG)
    return n


def group(node_factory, tmp_path, hosts):
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    devs = [SyncDev(compact_node(node_factory), h) for h in hosts]
    devs[0].cli("init", "--remote", remote, *KDF)
    for d in devs[1:]:
        d.cli("join", remote)
    return remote, devs


def sync_round(dev, mode="both"):
    r = dev.client.post("/api/0/sync/now", json={"mode": mode})
    assert r.status == 200, r
    rep = r.json()
    errors = [d["error"] for d in dev.status()["devices"] if d["error"]] if rep["devices_failed"] else []
    assert rep["status"] == "ok" and not errors, "%s: %s %s" % (dev.host, rep.get("error"), errors)
    return rep


def own_files(dev):
    """The files of dev's own directory in its folder's HEAD."""
    out = subprocess.run(["git", "-C", dev.folder, "ls-tree", "-r", "--name-only", "HEAD",
                          "devices/%s/seg" % dev.device_id], check=True, capture_output=True, text=True)
    return out.stdout.split()


def ts(i, sec=0):
    return "2021-04-%02dT%02d:%02d:%02dZ" % (1 + i // 1440, i // 60 % 24, i % 60, sec)


def activity(a, i, rnd):
    """Round i of host-a's activity: new events, a growing heartbeat, now and then a
    deletion, and once a bucket deleted and created again."""
    insert_events(a.client, WIN, [{"timestamp": ts(i, s), "duration": 1.0,
                                   "data": {"app": "app%d" % (i % 5), "title": "title %d/%d" % (i, s)}}
                                  for s in (0, 10, 20)])
    heartbeat(a.client, AFK, {"timestamp": ts(i // 4 * 4, 30 + i % 4), "duration": 0,
                              "data": {"status": "not-afk"}}, 120)
    if i % 7 == 6:
        evs = a.events(WIN)
        r = a.client.delete("/api/0/buckets/%s/events/%d" % (quote_id(WIN), rnd.choice(evs)["id"]))
        assert r.status == 200, r
    if i == 5:
        new_bucket(a.client, WEB, type_="web.tab.current", hostname="host-a")
    if 5 <= i < 30:
        insert_events(a.client, WEB, [{"timestamp": ts(i), "duration": 2.0, "data": {"url": "https://x/%d" % i}}])
    if i == 30:
        assert a.client.delete("/api/0/buckets/%s?force=1" % quote_id(WEB)).status == 200
        new_bucket(a.client, WEB, type_="web.tab.current", hostname="host-a")
    if i > 30:
        insert_events(a.client, WEB, [{"timestamp": ts(i), "duration": 3.0, "data": {"url": "https://y/%d" % i}}])


def publish_rounds(a, rounds, rnd):
    """host-a's buckets, then `rounds` rounds of its activity, each published."""
    new_bucket(a.client, WIN, type_="currentwindow", hostname="host-a")
    new_bucket(a.client, AFK, type_="afkstatus", hostname="host-a")
    for i in range(rounds):
        activity(a, i, rnd)
        sync_round(a)


def local_name(dev, bid):
    for b, meta in dev.buckets().items():
        if meta.get("data", {}).get("$aw.sync.origin") is not None and b.startswith(bid):
            return b
    return None


def assert_same(a, dev):
    for bid in (WIN, AFK, WEB):
        local = local_name(dev, bid)
        assert local, (bid, sorted(dev.buckets()))
        assert strip_ids(dev.events(local)) == strip_ids(a.events(bid)), (dev.host, bid)


def ids_by_content(dev, bid):
    return {(e["timestamp"], repr(sorted(e["data"].items()))): e["id"] for e in dev.events(local_name(dev, bid))}


def assert_ids_kept(before, after):
    """Every event present before and after has the same id (none re-imported)."""
    common = set(before) & set(after)
    assert common
    changed = [k for k in common if before[k] != after[k]]
    assert not changed, changed[:5]


def test_compaction_with_current_offline_and_new_devices(node_factory, tmp_path):
    remote, (a, b, c) = group(node_factory, tmp_path, ["host-a", "host-b", "host-c"])
    rnd = random.Random(7)
    new_bucket(a.client, WIN, type_="currentwindow", hostname="host-a")
    new_bucket(a.client, AFK, type_="afkstatus", hostname="host-a")
    packed = 0
    for i in range(60):
        activity(a, i, rnd)
        rep = sync_round(a)
        packed += rep["files_packed"]
        if i % 3 == 2:
            sync_round(b, "pull")
        if i == 12:
            # c imports once, then is offline while a packs what c has partly seen
            sync_round(c, "pull")
            c_ids = ids_by_content(c, WIN)
            c.client.close()
            c.node.stop()
    assert packed >= 32, "automatic compaction did not run (%d files packed)" % packed
    files = own_files(a)
    assert len(files) < 60, files
    b_ids = ids_by_content(b, WIN)

    # forced: every plain segment and every pack that fits go into as few packs as possible
    r = a.client.post("/api/0/sync/now", json={"mode": "compact"}).json()
    assert r["status"] == "ok" and r["files_packed"] >= 2 and r["packs"] == 1, r
    assert len(own_files(a)) == 2, own_files(a)  # the pack, and the round's own segment
    insp = a.cli("inspect", a.device_id, "--segments").out
    assert "1 packs" in insp and "\n  pack 1-" in insp, insp
    nothing = a.client.post("/api/0/sync/now", json={"mode": "compact"}).json()
    assert nothing["files_packed"] == 0 and not nothing["pushed"], nothing

    sync_round(b, "pull")
    assert_same(a, b)
    assert_ids_kept(b_ids, ids_by_content(b, WIN))

    c.node.start()
    c.client = c.node.client()
    rep = sync_round(c, "pull")
    assert rep["segments_applied"] <= 3, rep  # a pack and a segment, not 48 segments
    assert_same(a, c)
    assert_ids_kept(c_ids, ids_by_content(c, WIN))

    # a device that joins after the compaction reads the pack, not the history
    d = SyncDev(compact_node(node_factory), "host-d")
    d.cli("join", remote)
    rep = sync_round(d, "pull")
    assert rep["segments_applied"] <= 3, rep
    assert_same(a, d)

    # rounds go on after the pack, and every device follows
    activity(a, 60, rnd)
    sync_round(a)
    for dev in (b, c, d):
        sync_round(dev, "pull")
        assert_same(a, dev)
        assert dev.device(a.device_id)["error"] is None


def test_restore_from_a_pack(node_factory, tmp_path):
    _remote, (a, b) = group(node_factory, tmp_path, ["host-a", "host-b"])
    rnd = random.Random(3)
    publish_rounds(a, 40, rnd)
    a.client.post("/api/0/sync/now", json={"mode": "compact"})
    activity(a, 40, rnd)
    sync_round(a)
    original = a.client.get("/api/0/export").json()["buckets"]

    a.client.close()
    a.node.stop()
    # the command line, against the database directly: the pack and the two segments
    # after it become one pack, published with an empty segment
    res = a.cli("compact")
    assert "packed 3 files of this device; it now has 1 packs" in res.out, res
    res = a.cli("compact")
    assert "nothing to pack (1 packs)" in res.out, res
    os.remove(a.db)
    for suffix in ("-wal", "-shm"):
        if os.path.exists(a.db + suffix):
            os.remove(a.db + suffix)
    res = a.cli("restore")
    assert "restored 3 buckets" in res.out, res
    a.node.start()
    a.client = a.node.client()
    restored = a.client.get("/api/0/export").json()["buckets"]
    for bid in (WIN, AFK, WEB):
        assert restored[bid]["events"] == original[bid]["events"], bid  # ids kept
    # and publishing goes on from the restored chain
    activity(a, 41, rnd)
    sync_round(a)
    sync_round(b, "pull")
    assert_same(a, b)


def test_import_killed_midway_then_compacted(node_factory, tmp_path):
    """A device killed while it applies a long backlog keeps its cursor where it was; the
    owner then packs that backlog; the next import must still converge."""
    _remote, (a, c) = group(node_factory, tmp_path, ["host-a", "host-c"])
    rnd = random.Random(11)
    publish_rounds(a, 8, rnd)
    sync_round(c, "pull")
    for i in range(8, 45):
        activity(a, i, rnd)
        # big rounds, so that applying them takes a while
        insert_events(a.client, WIN, [{"timestamp": ts(i, 40 + s % 19), "duration": 0.5,
                                       "data": {"app": "bulk", "title": "bulk %d %d" % (i, s)}}
                                      for s in range(300)])
        sync_round(a)
    done = []

    def pull():
        try:
            c.node.client(timeout=60).post("/api/0/sync/now", json={"mode": "pull"})
            done.append(1)
        except Exception:
            pass

    t = threading.Thread(target=pull)
    t.start()
    time.sleep(0.3 + rnd.random() * 0.3)
    c.node.kill()
    t.join(60)
    r = a.client.post("/api/0/sync/now", json={"mode": "compact"}).json()
    assert r["status"] == "ok" and r["files_packed"] > 0, r
    c.node.start()
    c.client = c.node.client()
    sync_round(c, "pull")
    assert_same(a, c)
