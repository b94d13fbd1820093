"""The encrypted archive of old events (docs/archive.md).

Everything runs through the real binary: `awnode archive` on a real SQLite file (the
node stopped, so the command opens the database itself) and through a running node
(POST/GET /api/0/archive, and the CLI handing its work to the node). The data is the
shared benchmark generator's, as the other suites use it."""

import collections
import glob
import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

import awtest
from awtest import db_files, found_in_db_files

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASS = "correct horse battery staple"
KDF = ["--kdf-ops", "1", "--kdf-mem", "8"]  # fast Argon2id for tests


def shared_gen():
    for d in (os.environ.get("AW_SHARED"), os.path.join(REPO, "..", "shared"), "/work/shared"):
        if d and os.path.exists(os.path.join(d, "bench", "gen_data.py")):
            return os.path.join(d, "bench", "gen_data.py")
    pytest.fail("cannot find shared/bench/gen_data.py (set AW_SHARED)")


_DATA = {}


def dataset(tmp_path_factory, days):
    if days not in _DATA:
        path = str(tmp_path_factory.mktemp("data") / ("gen-%d.json" % days))
        with open(path, "w") as f:
            subprocess.run(["python3", shared_gen(), "--days", str(days), "--host", "arch"], stdout=f, check=True)
        _DATA[days] = path
    return _DATA[days]


def cli(node, *args, env=None, timeout=300, port=True):
    """`awnode archive ...` against this node's testing database (and its port)."""
    argv = ["archive", *args, "--testing"]
    if port:
        argv += ["--port", str(node.port)]
    e = dict(node.env)
    e.update(env or {})
    return awtest.run_awnode(argv, e, timeout=timeout)


def ok(p):
    assert p.returncode == 0, (p.returncode, p.stdout.decode(), p.stderr.decode())
    return p.stdout.decode()


def fails(p, code, *needles):
    err = p.stderr.decode()
    assert p.returncode == code, (p.returncode, p.stdout.decode(), err)
    assert err.count("\n") == 1, err  # one line
    for n in needles:
        assert n in err, err
    return err


def events_of(client):
    """Every event of every bucket as a multiset of (bucket, timestamp, duration, data)."""
    doc = client.get("/api/0/export").json()
    out = collections.Counter()
    for bid, b in doc["buckets"].items():
        for e in b["events"]:
            out[(bid, e["timestamp"], e["duration"], json.dumps(e["data"], sort_keys=True))] += 1
    return out


def ts(e):
    return e[1]


def import_file(node, path):
    with open(path, "rb") as f:
        r = node.client(timeout=120).post("/api/0/import", body=f.read(), headers={"Content-Type": "application/json"})
    assert r.status == 200, r


def device_id(node):
    with open(node.device_id_path) as f:
        return f.read().strip()


def archive_dir(node):
    return os.path.join(node.data_dir, "archive-testing", device_id(node))


def init(node):
    return ok(cli(node, "init", *KDF, env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))


def tombstones(node):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(node.data_dir, "awnode-testing.db"), uri=True)
    try:
        return db.execute("SELECT count(*) FROM tombstones").fetchone()[0]
    finally:
        db.close()


def no_plaintext(paths, needles):
    for p in paths:
        with open(p, "rb") as f:
            blob = f.read()
        for n in needles:
            assert n.encode() not in blob, (p, n)


def titles(events, k=40):
    out = []
    for key in events:
        d = json.loads(key[3])
        t = d.get("title") or d.get("url")
        if t and len(t) > 12 and t not in out:
            out.append(t)
        if len(out) == k:
            break
    return out


def test_year_round_trip_sub_range_and_whole(node_factory, tmp_path_factory):
    """Archive everything before a date of the 365-day data set; the live database and
    the archive files hold none of it in plaintext; restore a sub-range, then all, and
    the live data equals the original exactly; restoring again changes nothing."""
    node = node_factory()
    import_file(node, dataset(tmp_path_factory, 365))
    c = node.client(timeout=120)
    secrets = ["Confidential merger memo %d - Acme takeover" % i for i in range(20)]
    r = c.post("/api/0/buckets/aw-watcher-window_arch/events",
               json=[{"timestamp": "2025-03-02T03:%02d:00Z" % i, "duration": 30, "data": {"app": "evince", "title": t}}
                     for i, t in enumerate(secrets)])
    assert r.status == 200, r
    original = events_of(c)
    cut = "2025-09-01T00:00:00Z"
    node.stop()
    init(node)
    out = ok(cli(node, "--before", "2025-09-01"))
    assert "archived" in out and "deleted from the live database" in out, out

    node.start()
    c = node.client(timeout=120)
    live = events_of(c)
    # events that ended before the cut-off are gone; nothing else changed
    gone = original - live
    assert sum(gone.values()) > 150_000
    assert all(k[1] < cut for k in gone)
    assert not (live - original)
    lst = c.get("/api/0/archive").json()
    assert sum(b["events"] for b in lst["buckets"].values()) == sum(gone.values())
    assert lst["key_source"] == "passphrase" and len(lst["segments"]) == 1 and lst["unindexed_files"] == []
    node.stop()

    # nothing readable is left: not in the archive, not in the database files
    files = glob.glob(os.path.join(archive_dir(node), "*"))
    db_files = glob.glob(os.path.join(node.data_dir, "awnode-testing.db*"))
    moved_only = [t for t in titles(gone, 200) if not any(json.dumps(t)[1:-1] in k[3] for k in live)][:30]
    assert len(moved_only) >= 1, "the data set should have titles seen only before the cut-off"
    no_plaintext(files + db_files, moved_only + secrets + ["Acme takeover", "Confidential merger"])

    # with sync never set up, no deletion record is kept for the archived events
    assert tombstones(node) == 0

    # a sub-range first (one day of March), then everything
    out = ok(cli(node, "restore", "--from", "2025-03-10", "--to", "2025-03-11T00:00:00Z", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))
    node.start()
    c = node.client(timeout=120)
    mid = events_of(c)
    back = mid - live
    assert back and all("2025-03-09" <= k[1] < "2025-03-11" for k in back), sorted(back)[:3]
    node.stop()
    ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))
    out = ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))
    assert " 0 added" in out, out
    node.start()
    assert events_of(node.client(timeout=120)) == original


def test_kill_during_archiving_loses_and_duplicates_nothing(node_factory, tmp_path_factory):
    """SIGKILL the archiving process at several moments: after each, the live events
    plus whatever a restore brings back are exactly the original, without duplicates."""
    node = node_factory()
    import_file(node, dataset(tmp_path_factory, 60))
    original = events_of(node.client(timeout=60))
    node.stop()
    init(node)
    argv = [awtest.binary_path(), "archive", "--before", "2030-01-01", "--testing"]
    outcomes = set()
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2, 0.4):
        p = subprocess.Popen(argv, env=node.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        p.wait()
        outcomes.add(p.returncode)
        ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}, port=False))
        node.start()
        assert events_of(node.client(timeout=60)) == original, "after a kill at %.2f s" % delay
        node.stop()
    # and a run left alone completes, then restores to the original
    ok(cli(node, "--before", "2030-01-01", port=False))
    node.start()
    assert sum(events_of(node.client()).values()) == 0
    node.stop()
    ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}, port=False))
    node.start()
    assert events_of(node.client(timeout=60)) == original


def test_tampered_truncated_moved_or_foreign_segments_are_refused(node_factory, tmp_path_factory):
    node, segs, _counts = two_segments(node_factory, tmp_path_factory)
    env = {"AWNODE_ARCHIVE_PASSPHRASE": PASS}
    db = os.path.join(node.data_dir, "awnode-testing.db")

    def db_bytes():
        node.start()
        n = sum(events_of(node.client()).values())
        node.stop()
        return n

    live = db_bytes()
    pristine = [open(s, "rb").read() for s in segs]

    def restore_refused(needle):
        err = fails(cli(node, "restore", env=env, port=False), 1, "nothing was restored", needle)
        assert db_bytes() == live
        for s, data in zip(segs, pristine):
            with open(s, "wb") as f:
                f.write(data)
        return err

    # one flipped byte in the middle
    b = bytearray(pristine[1])
    b[len(b) // 2] ^= 1
    open(segs[1], "wb").write(bytes(b))
    restore_refused("seg-000000000002.awa")
    # truncated
    open(segs[1], "wb").write(pristine[1][: len(pristine[1]) - 100])
    restore_refused("seg-000000000002.awa")
    # swapped names (each file is bound to its name)
    open(segs[0], "wb").write(pristine[1])
    open(segs[1], "wb").write(pristine[0])
    restore_refused("authentication failed")
    # the sealed file key replaced
    b = bytearray(pristine[0])
    b[20] ^= 0xFF
    open(segs[0], "wb").write(bytes(b))
    restore_refused("file key")
    # wrong passphrase
    fails(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": "not it"}, port=False), 1, "wrong archive passphrase")
    # untouched: it works
    ok(cli(node, "restore", env=env, port=False))
    assert os.path.exists(db)


def test_cli_errors_are_one_line(node_factory):
    node = node_factory()
    node.stop()
    fails(cli(node, port=False), 2, "--before DATE or --older-than DAYS")
    fails(cli(node, "--before", "yesterday", port=False), 2, "--before needs a date")
    fails(cli(node, "--before", "2025-01-01", "--older-than", "3", port=False), 2, "one of them")
    fails(cli(node, "frobnicate", port=False), 2, "unknown command 'frobnicate'")
    fails(cli(node, "list", "--bucket", "x", port=False), 2, "--bucket does not apply")
    fails(cli(node, "restore", "--from", "2025-02-01", "--to", "2025-01-01", port=False), 2, "--from is after --to")
    fails(cli(node, "--older-than", "30", port=False), 1, "no key", "awnode archive init")
    fails(cli(node, "restore", port=False), 1, "there is no archive")
    init(node)
    fails(cli(node, "init", *KDF, env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}, port=False), 1, "already has a key")
    fails(cli(node, "--before", "2025-01-01", "--bucket", "nope", port=False), 1, "no bucket 'nope'")
    key = json.load(open(os.path.join(archive_dir(node), "archive.json")))
    assert key["key_source"] == "passphrase" and set(key) == {
        "format", "version", "device_id", "key_source", "public_key", "kdf", "cipher", "compression"}
    assert PASS not in open(os.path.join(archive_dir(node), "archive.json")).read()


def test_through_a_running_node(node_factory, tmp_path_factory):
    """With the node running, the CLI asks it to archive (POST /api/0/archive) and
    restores through its import endpoint; the API validates its input."""
    node = node_factory()
    import_file(node, dataset(tmp_path_factory, 30))
    c = node.client(timeout=60)
    original = events_of(c)
    # no key yet
    r = c.post("/api/0/archive", json={"older_than_days": 1})
    assert r.status == 400 and "archive init" in r.json()["message"], r
    init(node)
    for body, msg in (({}, "before"), ({"before": "soon"}, "ISO 8601"), ({"older_than_days": -1}, "older_than_days"),
                      ({"before": "2025-01-01T00:00:00Z", "older_than_days": 3}, "either"),
                      ({"before": "2025-01-01T00:00:00Z", "buckets": "x"}, "buckets"), ([], "object")):
        r = c.post("/api/0/archive", json=body)
        assert r.status == 400 and msg in r.json()["message"], (body, r)
    r = c.post("/api/0/archive", json={"before": "2025-01-20T00:00:00Z", "buckets": ["nope"]})
    assert r.status == 404, r
    # only the afk bucket, through the API
    r = c.post("/api/0/archive", json={"before": "2025-01-20T00:00:00Z", "buckets": ["aw-watcher-afk_arch"]})
    assert r.status == 200, r
    rep = r.json()
    assert rep["buckets"] == 1 and rep["events"] == rep["deleted"] > 0 and rep["error"] is None
    # the rest through the CLI, which hands the run to the node
    out = ok(cli(node, "--before", "2025-01-20"))
    assert "archived" in out
    lst = c.get("/api/0/archive").json()
    assert len(lst["segments"]) == 2 and set(lst["buckets"]) >= {"aw-watcher-afk_arch", "aw-watcher-window_arch"}
    listed = ok(cli(node, "list"))
    assert "aw-watcher-window_arch" in listed and "2 segment(s)" in listed
    live = events_of(c)
    assert all(k[1] < "2025-01-20" for k in original - live) and not (live - original)
    # restore through the running node (its import de-duplicates)
    ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))
    ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}))
    assert events_of(c) == original


def test_archive_in_sync_folder_with_the_sync_key(node_factory, tmp_path_factory):
    """Without `archive init` but with sync set up, the key comes from the sync key and
    the segments live in the sync folder, committed, so a push backs them up."""
    node = node_factory()
    import_file(node, dataset(tmp_path_factory, 30))
    original = events_of(node.client(timeout=60))
    node.stop()
    p = awtest.run_awnode(["sync", "init", "--testing", *KDF], dict(node.env, AWNODE_SYNC_PASSPHRASE=PASS),
                          timeout=60)
    ok(p)
    out = ok(cli(node, "--before", "2025-01-25", port=False))
    assert "archived" in out
    folder = os.path.join(node.data_dir, "sync-testing")
    adir = os.path.join(folder, "devices", device_id(node), "archive")
    assert os.path.exists(os.path.join(adir, "seg-000000000001.awa"))
    assert json.load(open(os.path.join(adir, "archive.json")))["key_source"] == "sync"
    log = subprocess.run(["git", "-C", folder, "log", "--name-only", "--format=%s"], stdout=subprocess.PIPE,
                         check=True).stdout.decode()
    assert "devices/%s/archive/seg-000000000001.awa" % device_id(node) in log, log
    lst = json.loads(ok(cli(node, "list", "--json", port=False)))
    assert lst["in_sync_folder"] is True and lst["key_source"] == "sync"
    # restore needs no passphrase: the sync key opens it
    ok(cli(node, "restore", port=False))
    node.start()
    assert events_of(node.client(timeout=60)) == original


def test_daily_archive_from_config(node_factory, tmp_path_factory):
    """[archive] older_than_days makes the node archive by itself (first run shortly
    after start, then daily)."""
    node = node_factory(config="[archive]\nolder_than_days = 1\n")
    node.stop()
    init(node)  # the key first: the node's first run comes 10 s after its start
    node.start()
    import_file(node, dataset(tmp_path_factory, 30))
    c = node.client()
    deadline = time.time() + 40
    while time.time() < deadline and not c.get("/api/0/archive").json()["segments"]:
        time.sleep(0.5)
    segs = c.get("/api/0/archive").json()["segments"]
    assert len(segs) == 1, "the node did not archive on its own"
    assert sum(events_of(c).values()) == 0  # the whole data set is older than a day


def test_sync_forgets_deletion_records_it_published(node_factory):
    """Deletions are kept as records only until a push has published them."""
    node = node_factory()
    c = node.client()
    c.post("/api/0/buckets/b", json={"type": "t", "client": "c", "hostname": "h"})
    ids = [e["id"] for e in c.post("/api/0/buckets/b/events", json=[
        {"timestamp": "2025-01-01T00:00:%02dZ" % i, "duration": 1, "data": {"i": i}} for i in range(3)]).json()]
    ok(awtest.run_awnode(["sync", "init", "--testing", *KDF], dict(node.env, AWNODE_SYNC_PASSPHRASE=PASS), timeout=60))

    def push():
        ok(awtest.run_awnode(["sync", "push", "--testing", "--port", str(node.port)], node.env, timeout=60))

    push()
    assert c.delete("/api/0/buckets/b/events/%d" % ids[0]).status == 200
    assert tombstones(node) == 1
    push()  # publishes the deletion
    push()  # the next round forgets it
    assert tombstones(node) == 0


# ---- nothing archived stays readable beside the node; restores are whole or say what is not --------


def test_archiving_through_the_node_leaves_no_text_in_wal_or_database(node_factory):
    """POST /api/0/archive while readers are busy: the archived titles are in none of
    the database files (the WAL included) while the node still runs, nor after it
    stopped; the recent ones are."""
    import threading

    node = node_factory()
    c = node.client()
    old = ["Board minutes %03d - plant closure in Lyon" % i for i in range(200)]
    recent = ["Recent note %02d that stays live" % i for i in range(5)]
    c.post("/api/0/buckets/aw-watcher-window_arch", json={"type": "currentwindow", "client": "t", "hostname": "arch"})
    r = c.post("/api/0/buckets/aw-watcher-window_arch/events", json=[
        {"timestamp": "2024-03-01T%02d:%02d:00Z" % (i // 60, i % 60), "duration": 30, "data": {"app": "x", "title": t}}
        for i, t in enumerate(old)] + [
        {"timestamp": "2030-01-01T00:%02d:00Z" % i, "duration": 30, "data": {"app": "x", "title": t}}
        for i, t in enumerate(recent)])
    assert r.status == 200, r
    # the scan finds what is stored
    assert {n for _, n in found_in_db_files(node, old + recent)} == set(old + recent)
    init(node)
    stop = threading.Event()

    def read_all_the_time():
        rc = node.client()
        while not stop.is_set():
            rc.get("/api/0/buckets/aw-watcher-window_arch/events?limit=50")

    readers = [threading.Thread(target=read_all_the_time) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        r = c.post("/api/0/archive", json={"before": "2025-01-01T00:00:00Z"})
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert r.status == 200 and r.json()["error"] is None and r.json()["deleted"] == len(old), r
    assert found_in_db_files(node, old) == []
    assert {n for _, n in found_in_db_files(node, recent)} == set(recent)
    # the CLI handing the run to the node: same guarantee
    r = c.post("/api/0/buckets/aw-watcher-window_arch/events", json=[
        {"timestamp": "2024-06-01T00:%02d:00Z" % i, "duration": 1, "data": {"title": "second batch %d of old text" % i}}
        for i in range(20)])
    assert r.status == 200
    out = ok(cli(node, "--before", "2025-01-01"))
    assert "archived 20 events" in out, out
    assert found_in_db_files(node, old + ["second batch %d of old text" % i for i in range(20)]) == []
    node.stop()
    assert found_in_db_files(node, old) == []


def two_segments(node_factory, tmp_path_factory):
    node = node_factory()
    import_file(node, dataset(tmp_path_factory, 30))
    node.stop()
    init(node)
    ok(cli(node, "--before", "2025-01-20", port=False))
    ok(cli(node, "--before", "2025-02-01", port=False))
    segs = sorted(glob.glob(os.path.join(archive_dir(node), "seg-*.awa")))
    assert [os.path.basename(s) for s in segs] == ["seg-000000000001.awa", "seg-000000000002.awa"]
    lst = json.loads(ok(cli(node, "list", "--json", port=False)))
    return node, segs, [s["events"] for s in lst["segments"]]


def live_count(node):
    node.start()
    n = sum(events_of(node.client(timeout=60)).values())
    node.stop()
    return n


def test_restore_refuses_a_missing_segment_unless_told(node_factory, tmp_path_factory):
    """The index lists two segments and one is gone: restore fails (one line, nothing
    restored); --allow-missing restores the other one and names the missing one."""
    node, segs, counts = two_segments(node_factory, tmp_path_factory)
    env = {"AWNODE_ARCHIVE_PASSPHRASE": PASS}
    live = live_count(node)
    os.unlink(segs[1])
    fails(cli(node, "restore", env=env, port=False), 1, "seg-000000000002.awa", "missing", "--allow-missing",
          "nothing was restored")
    assert live_count(node) == live
    out = ok(cli(node, "restore", "--allow-missing", env=env, port=False))
    assert "NOT restored" in out and "seg-000000000002.awa: listed in the archive index but missing" in out, out
    assert "seg-000000000001.awa" not in out.split("NOT restored")[1], out
    assert live_count(node) == live + counts[0]
    # the same, machine-readable, and through a running node
    node.start()
    rep = json.loads(ok(cli(node, "restore", "--allow-missing", "--json", env=env)))
    assert rep["events"] == counts[0] and len(rep["skipped"]) == 1 and "seg-000000000002.awa" in rep["skipped"][0]
    assert sum(events_of(node.client(timeout=60)).values()) == live + counts[0]
    fails(cli(node, "restore", env=env), 1, "missing", "nothing was restored")
    fails(cli(node, "list", "--allow-missing"), 2, "--allow-missing applies to 'restore'")


def test_restore_with_a_damaged_segment(node_factory, tmp_path_factory):
    """One flipped byte: restore refuses everything; --allow-missing restores the
    intact segment and names the damaged one with the reason."""
    node, segs, counts = two_segments(node_factory, tmp_path_factory)
    env = {"AWNODE_ARCHIVE_PASSPHRASE": PASS}
    live = live_count(node)
    b = bytearray(open(segs[0], "rb").read())
    b[len(b) // 2] ^= 1
    open(segs[0], "wb").write(bytes(b))
    fails(cli(node, "restore", env=env, port=False), 1, "seg-000000000001.awa", "nothing was restored")
    assert live_count(node) == live
    out = ok(cli(node, "restore", "--allow-missing", env=env, port=False))
    assert "seg-000000000001.awa: authentication failed" in out, out
    assert live_count(node) == live + counts[1]


def test_init_demands_an_eight_character_passphrase(node_factory):
    node = node_factory()
    node.stop()
    for short in ("x", "1234567"):
        fails(cli(node, "init", *KDF, env={"AWNODE_ARCHIVE_PASSPHRASE": short}, port=False), 1, "too short",
              "at least 8 characters")
        assert not os.path.exists(os.path.join(archive_dir(node), "archive.json"))
    ok(cli(node, "init", *KDF, env={"AWNODE_ARCHIVE_PASSPHRASE": "12345678"}, port=False))
    assert os.path.exists(os.path.join(archive_dir(node), "archive.json"))


SEG_LIMIT = 256 * 1024


def plaintext_bounds(events):
    """Lower and upper bounds of the bytes the segments' P lines take (docs/archive.md,
    file format: "P id start duration data" per event, the data as compact JSON)."""
    data = sum(len(json.dumps(json.loads(k[3]), separators=(",", ":"), ensure_ascii=False).encode()) * n
               for k, n in events.items())
    n = sum(events.values())
    return data + 26 * n, 2 * data + 64 * n


def test_a_large_run_is_cut_into_segments(node_factory, tmp_path_factory):
    """With the cut size lowered (testing mode only), one run writes several segments,
    each within the limit, all indexed; a restore brings back exactly the original.
    Through the CLI on the database and through the node."""
    env = {"AWNODE_TEST_ARCHIVE_SEGMENT_BYTES": str(SEG_LIMIT)}
    node = node_factory(env=env)
    import_file(node, dataset(tmp_path_factory, 30))
    original = events_of(node.client(timeout=60))
    r = node.client().post("/api/0/buckets/aw-watcher-window_arch/events", json=[
        {"timestamp": "2025-01-05T00:00:00Z", "duration": 1, "data": {"title": "y" * (SEG_LIMIT + 1000)}}])
    assert r.status == 200, r
    big = events_of(node.client(timeout=60))
    init(node)
    rep = node.client(timeout=120).post("/api/0/archive", json={"before": "2025-01-10T00:00:00Z"}).json()
    assert rep["error"] is None and rep["segments"] == len(rep["files"]) > 1, rep
    first = rep["segments"]
    node.stop()
    out = ok(cli(node, "--before", "2030-01-01", port=False))
    assert "segments seg-" in out, out
    segs = sorted(glob.glob(os.path.join(archive_dir(node), "seg-*.awa")))
    lst = json.loads(ok(cli(node, "list", "--json", port=False)))
    assert [s["file"] for s in lst["segments"]] == [os.path.basename(s) for s in segs] and lst["unindexed_files"] == []
    assert all(s["present"] for s in lst["segments"])
    # cut at the limit's granularity: at least as many segments as the plaintext needs
    # if none holds more than the limit, and not many more
    low, high = plaintext_bounds(big)
    assert -(-low // SEG_LIMIT) <= len(segs) <= -(-high // SEG_LIMIT) + 3, (len(segs), low, high, first)
    # the one event larger than the limit went alone into its segment
    assert sum(1 for s in lst["segments"] if s["events"] == 1) >= 1
    assert sum(s["events"] for s in lst["segments"]) == sum(big.values())
    ok(cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": PASS}, port=False))
    node.start()
    assert events_of(node.client(timeout=60)) == big and sum((big - original).values()) == 1
