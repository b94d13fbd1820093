"""Durability (docs/api.md: a write is acknowledged only after it is
committed; a kill -9 loses no acknowledged event).

A load generator (several threads, one keep-alive connection each) sends
heartbeats (with data changing so new events keep appearing), event inserts,
some event deletions and settings writes to a node running on an explicit
--dbpath.  Every write answered
with 200 is recorded.  The node is SIGKILLed mid-load, restarted on the same
file, and every acknowledged event must be there: same id and timestamp,
same data, and at least the acknowledged duration for heartbeats (exactly it
for inserts); acknowledged deletions stay deleted; each setting holds at
least its last acknowledged value.  PRAGMA integrity_check must be ok (on a
copy of the files as the crash left them, and at the end).  Three rounds."""

import http.client
import os
import shutil
import sqlite3
import threading
import time

from awtest import Client, assert_duration, new_bucket, quote_id

THREADS = 4
LOAD_SECONDS = 1.3
ROUNDS = 3


class Acks:
    def __init__(self):
        self.lock = threading.Lock()
        # (bucket, id) -> dict(kind, timestamp, duration, data)
        self.events = {}
        self.count = 0
        self.deleted = set()      # (bucket, id) whose DELETE was acknowledged
        self.settings = {}        # key -> last acknowledged value (a counter)

    def forget(self, bucket, eid):
        """Before sending a DELETE: the event may or may not survive a crash."""
        with self.lock:
            self.events.pop((bucket, eid), None)

    def add_deleted(self, bucket, eid):
        with self.lock:
            self.count += 1
            self.deleted.add((bucket, eid))

    def add_setting(self, key, value):
        with self.lock:
            self.count += 1
            self.settings[key] = value

    def add(self, bucket, ev, kind):
        with self.lock:
            self.count += 1
            key = (bucket, ev["id"])
            old = self.events.get(key)
            if old is None or ev["duration"] >= old["duration"]:
                self.events[key] = {"kind": kind, "timestamp": ev["timestamp"],
                                    "duration": ev["duration"], "data": ev["data"]}


def load_worker(node, rnd, k, acks, stop):
    c = Client(node.address, node.port, timeout=5)
    hb_bucket = "hb-%d-%d" % (rnd, k)
    ev_bucket = "ev-%d-%d" % (rnd, k)
    i = 0
    base = 1600000000 + rnd * 100000 + k * 10000
    inserted = []
    setting = "dur-%d-%d" % (rnd, k)
    try:
        while not stop.is_set():
            i += 1
            if i % 11 == 0 and inserted:
                eid = inserted.pop(0)
                acks.forget(ev_bucket, eid)
                r = c.request("DELETE", "/api/0/buckets/%s/events/%d" % (ev_bucket, eid),
                              retry=False)
                if r.status == 200:
                    acks.add_deleted(ev_bucket, eid)
                continue
            if i % 13 == 0:
                r = c.request("POST", "/api/0/settings/" + setting, json=i, retry=False)
                if r.status == 201:
                    acks.add_setting(setting, i)
                continue
            t = base + i * 0.25
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + (
                ".%03dZ" % int(round((t - int(t)) * 1000)))
            if i % 3:
                hb = {"timestamp": stamp, "duration": 0,
                      "data": {"title": "w%d" % (i // 7), "thread": k}}
                r = c.request("POST", "/api/0/buckets/%s/heartbeat?pulsetime=1" % hb_bucket,
                              json=hb, retry=False)
                if r.status == 200:
                    acks.add(hb_bucket, r.json(), "heartbeat")
            else:
                evs = [{"timestamp": stamp, "duration": 0.125, "data": {"i": i, "j": j}}
                       for j in range(2)]
                r = c.request("POST", "/api/0/buckets/%s/events" % ev_bucket, json=evs,
                              retry=False)
                if r.status == 200:
                    for e in r.json():
                        acks.add(ev_bucket, e, "insert")
                        inserted.append(e["id"])
    except (OSError, http.client.HTTPException, ValueError):
        pass  # the node was killed
    finally:
        c.close()


def verify(node, acks):
    c = node.client()
    by_bucket = {}
    for (bucket, eid), want in acks.events.items():
        by_bucket.setdefault(bucket, {})[eid] = want
    for bucket, wanted in by_bucket.items():
        r = c.get("/api/0/buckets/%s/events" % quote_id(bucket))
        assert r.status == 200, (bucket, r)
        have = {e["id"]: e for e in r.json()}
        missing = [eid for eid in wanted if eid not in have]
        assert not missing, "bucket %s lost %d acknowledged events (e.g. %r)" % (
            bucket, len(missing), missing[:5])
        for eid, want in wanted.items():
            got = have[eid]
            assert got["timestamp"] == want["timestamp"], (bucket, got, want)
            assert got["data"] == want["data"], (bucket, got, want)
            if want["kind"] == "insert":
                assert_duration(got["duration"], want["duration"])
            else:
                assert got["duration"] >= want["duration"] - 1e-9, (bucket, got, want)
        for (b, eid) in acks.deleted:
            if b == bucket:
                assert eid not in have, "acknowledged DELETE of %d in %s undone" % (eid, b)
    for (b, eid) in acks.deleted:
        r = c.get("/api/0/buckets/%s/events/%d" % (quote_id(b), eid))
        assert r.status == 404, (b, eid, r)
    for key, value in acks.settings.items():
        got = c.get("/api/0/settings/" + key).json()
        # a later write may have been committed without being acknowledged
        assert isinstance(got, int) and got >= value, (key, got, value)


def integrity_check(db, scratch):
    """PRAGMA integrity_check on a copy of the files as the crash left them."""
    if os.path.isdir(scratch):
        shutil.rmtree(scratch)
    os.makedirs(scratch)
    name = os.path.basename(db)
    for suffix in ("", "-wal", "-journal"):
        if os.path.exists(db + suffix):
            shutil.copy(db + suffix, os.path.join(scratch, name + suffix))
    con = sqlite3.connect(os.path.join(scratch, name))
    try:
        rows = con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()
    assert rows == [("ok",)], rows


def test_kill9_loses_no_acknowledged_write(node_factory, tmp_path):
    db = str(tmp_path / "durable.db")
    acks = Acks()
    node = node_factory(args=["--dbpath", db])
    for rnd in range(ROUNDS):
        if rnd:
            node.start()
            verify(node, acks)
        c = node.client()
        for k in range(THREADS):
            new_bucket(c, "hb-%d-%d" % (rnd, k))
            new_bucket(c, "ev-%d-%d" % (rnd, k))
        c.close()
        before = acks.count
        stop = threading.Event()
        threads = [threading.Thread(target=load_worker, args=(node, rnd, k, acks, stop))
                   for k in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(LOAD_SECONDS)
        node.kill()  # SIGKILL mid-load
        stop.set()
        for t in threads:
            t.join(10)
            assert not t.is_alive()
        print("round %d: %d acknowledged writes (%d events, %d deletes, %d settings so far)"
              % (rnd, acks.count - before, len(acks.events), len(acks.deleted),
                 len(acks.settings)))
        assert acks.count - before >= 20, "load generator got only %d acks" % (
            acks.count - before)
        integrity_check(db, str(tmp_path / ("crash-copy-%d" % rnd)))

    node.start()
    verify(node, acks)
    # buckets created in every round survived as well
    names = set(node.client().get("/api/0/buckets/").json())
    for rnd in range(ROUNDS):
        for k in range(THREADS):
            assert "hb-%d-%d" % (rnd, k) in names and "ev-%d-%d" % (rnd, k) in names
    rc = node.stop()
    assert rc == 0 or rc == -15
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        con.close()


# ---- power loss: an acknowledgment waits for the write-ahead log's sync --------------
#
# A kill -9 cannot tell whether a write reached the disk: the kernel keeps what the
# process wrote. A preloaded probe (tests/integration/preload/wal_probe.c, built next
# to the binary) logs every write to and every sync of the WAL with monotonic times and
# slows each sync down. Every WAL write that ended while a request was in flight must
# be followed by a sync that began after it and ended before the answer: otherwise a
# power cut right after the answer could take the acknowledged write.

PROBE_DELAY_US = 150000


def probe_path():
    from awtest import binary_path
    p = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary_path()))),
                     "tests", "awtest_wal_probe.so")
    assert os.path.exists(p), "build the tests first: %s is missing" % p
    return p


def probed_node(node_factory, tmp_path, name, config=None):
    log = str(tmp_path / (name + ".wal.log"))
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = {"LD_PRELOAD": probe_path(), "AWTEST_WAL_LOG": log,
           "AWTEST_WAL_SYNC_DELAY_US": str(PROBE_DELAY_US),
           # the probe is loaded before a sanitizer build's runtime
           "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"}
    node = node_factory(args=["--dbpath", str(tmp_path / (name + ".db"))], config=config, env=env)
    return node, log


def wal_log(path):
    out = []
    with open(path) as f:
        for line in f:
            kind, start, end = line.split()
            out.append((kind, int(start), int(end)))
    return out


def timed_writes(c):
    """Answered writes of each kind, as (what, sent, answered) in monotonic ns."""
    out = []
    new_bucket(c, "power")
    body = {"timestamp": "2026-01-01T00:00:00Z", "duration": 0, "data": {"app": "a"}}
    for i in range(4):
        body["timestamp"] = "2026-01-01T00:00:%02dZ" % i
        body["data"] = {"app": "a" if i < 2 else "b"}
        t0 = time.monotonic_ns()
        r = c.post("/api/0/buckets/power/heartbeat?pulsetime=5", json=body)
        out.append(("heartbeat %d" % i, t0, time.monotonic_ns()))
        assert r.status == 200, r
    t0 = time.monotonic_ns()
    r = c.post("/api/0/buckets/power/events",
               json=[{"timestamp": "2026-01-02T00:00:00Z", "duration": 5, "data": {"k": 1}}])
    out.append(("insert", t0, time.monotonic_ns()))
    assert r.status == 200, r
    t0 = time.monotonic_ns()
    r = c.post("/api/0/settings/power.test", json=1)
    out.append(("setting", t0, time.monotonic_ns()))
    assert r.status == 201, r
    return out


def test_acknowledged_writes_wait_for_the_logs_sync(node_factory, tmp_path):
    node, log = probed_node(node_factory, tmp_path, "full")
    c = node.client()
    writes = timed_writes(c)
    c.close()
    entries = wal_log(log)
    for what, sent, answered in writes:
        wrote = [e for _k, _s, e in (x for x in entries if x[0] == "W") if sent <= e <= answered]
        assert wrote, "%s: no write to the WAL while it was in flight" % what
        last = max(wrote)
        syncs = [(s, e) for k, s, e in entries if k == "S" and s >= last and e <= answered]
        assert syncs, "%s was acknowledged before the WAL holding it was synced" % what
        assert answered - sent >= PROBE_DELAY_US * 1000


def test_synchronous_normal_acknowledges_without_a_sync(node_factory, tmp_path):
    """The probe sees what it should: with synchronous = "normal" (survive a crash of the
    process, not a power cut) writes are answered without waiting for a sync."""
    node, log = probed_node(node_factory, tmp_path, "normal",
                            config='[storage]\nsynchronous = "normal"\n')
    c = node.client()
    writes = timed_writes(c)
    c.close()
    entries = wal_log(log)
    for what, sent, answered in writes:
        assert [x for x in entries if x[0] == "W" and sent <= x[2] <= answered], what
        assert not [x for x in entries if x[0] == "S" and sent <= x[1] <= answered], \
            "%s waited for a sync of the WAL" % what
