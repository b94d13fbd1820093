"""Sealed days (docs/storage.md, "Sealed days"): a bucket's closed days are stored as
one compressed row of `blocks` each instead of rows of `events`.

Everything runs against the real node and a real SQLite file. The layout is read from
the file itself (a block is decoded here with libzstd through ctypes), so each test
first checks that the days it means to exercise really are sealed, then that reads,
writes, sync, redaction, archiving and the data wipe treat sealed events exactly as
rows."""

import ctypes
import ctypes.util
import json
import os
import re
import sqlite3
import time
from datetime import datetime, timezone

import pytest

import awtest
from awtest import found_in_db_files, get_events, heartbeat, insert_events, new_bucket, quote_id

NS = 10**9
DAY = 86400 * NS

_zstd = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
_zstd.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
_zstd.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_zstd.ZSTD_decompress.restype = ctypes.c_size_t
_zstd.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
_zstd.ZSTD_isError.restype = ctypes.c_uint
_zstd.ZSTD_isError.argtypes = [ctypes.c_size_t]


def _unzz(v):
    return (v >> 1) ^ -(v & 1)


def decode_block(body, first_start):
    """A block's events as (start, id, duration, data, seq), in (start, id) order
    (storage/src/blocks.c, "Body format")."""
    size = _zstd.ZSTD_getFrameContentSize(body, len(body))
    buf = ctypes.create_string_buffer(size)
    got = _zstd.ZSTD_decompress(buf, size, body, len(body))
    assert not _zstd.ZSTD_isError(got) and got == size
    raw, pos = buf.raw[:got], 0

    def uv():
        nonlocal pos
        v = shift = 0
        while True:
            c = raw[pos]
            pos += 1
            v |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return v

    assert uv() == 1
    n, unit = uv(), uv()
    gaps = [_unzz(uv()) * unit for _ in range(n)]
    durs = [_unzz(uv()) * unit for _ in range(n)]
    ids, prev = [], 0
    for _ in range(n):
        prev += _unzz(uv())
        ids.append(prev)
    datas = [uv() for _ in range(n)]
    seqs, prev = [], 0
    for _ in range(n):
        prev += _unzz(uv())
        seqs.append(prev)
    assert pos == len(raw)
    out, end = [], first_start
    for i in range(n):
        start = end + gaps[i]
        out.append((start, ids[i], durs[i], datas[i], seqs[i]))
        end = start + durs[i]
    return out


def connect(db):
    """A read-only connection in one read transaction: the writer seals while the node
    runs, and rows and blocks must be read from the same snapshot."""
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, isolation_level=None)
    c.execute("BEGIN")
    return c


def has_blocks(c):
    return c.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'blocks'").fetchone()[0] == 1


def stored_event_rows(db, conn=None):
    """Every stored event, rows and sealed, as sorted (bucket name, id, start, duration,
    data json)."""
    c = conn or connect(db)
    try:
        out = list(c.execute("SELECT b.name, e.id, e.start, e.duration, d.json FROM events e "
                             "JOIN buckets b ON b.rowid = e.bucket JOIN datas d ON d.id = e.data"))
        if has_blocks(c):
            datas = dict(c.execute("SELECT id, json FROM datas"))
            for name, first, body in c.execute("SELECT b.name, k.first_start, k.body FROM blocks k "
                                               "JOIN buckets b ON b.rowid = k.bucket"):
                out += [(name, i, s, d, datas[data]) for s, i, d, data, _ in decode_block(body, first)]
        return sorted(out)
    finally:
        if not conn:
            c.close()


def layout(db):
    """{bucket name: (set of days held as rows, {sealed day: events})}, after checking
    each block's bounds and that no day is both rows and a block."""
    c = connect(db)
    try:
        out = {}
        for (name,) in c.execute("SELECT name FROM buckets"):
            out[name] = (set(), {})
        for name, start in c.execute("SELECT b.name, e.start FROM events e JOIN buckets b ON b.rowid = e.bucket"):
            out[name][0].add(start // DAY)
        for row in c.execute("SELECT b.name, k.day, k.n, k.first_start, k.last_start, k.max_end, k.min_id, "
                             "k.max_id, k.max_seq, k.body FROM blocks k JOIN buckets b ON b.rowid = k.bucket"):
            name, day, n, first, last, max_end, min_id, max_id, max_seq, body = row
            evs = decode_block(body, first)
            assert len(evs) == n and evs == sorted(evs)
            assert all(s // DAY == day for s, *_ in evs)
            assert (first, last) == (evs[0][0], evs[-1][0])
            assert max_end == max(s + d for s, _, d, _, _ in evs)
            assert (min_id, max_id, max_seq) == (min(e[1] for e in evs), max(e[1] for e in evs),
                                                max(e[4] for e in evs))
            assert day not in out[name][0], "day %d of %s is both rows and a block" % (day, name)
            out[name][1][day] = n
        ids = [i for _, i, *_ in stored_event_rows(db, c)]
        assert len(ids) == len(set(ids)), "an event id is stored twice"
        return out
    finally:
        c.close()


def wait_layout(db, want, timeout=20):
    """Wait until want(layout) holds (the writer seals when idle); return the layout."""
    deadline = time.time() + timeout
    while True:
        lay = layout(db)
        if want(lay):
            return lay
        if time.time() > deadline:
            raise AssertionError("layout never became as wanted: %r" % (lay,))
        time.sleep(0.1)


def sealed_days(lay, bucket):
    return set(lay[bucket][1])


def all_old_days_sealed(bucket):
    """Every day of the bucket but its last is a block."""
    def want(lay):
        rows, blocks = lay[bucket]
        return len(rows) <= 1 and (not blocks or not rows or max(rows) > max(blocks))
    return want


def iso(ns):
    return datetime.fromtimestamp(ns // NS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (ns % NS // 1000)


def parse_ts(s):
    """ns of an API timestamp (microseconds or finer)."""
    s = s.replace("Z", "+00:00")
    main, frac = s[:19], ""
    rest = s[19:]
    if rest.startswith("."):
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        frac, rest = rest[1:i], rest[i:]
    assert rest in ("+00:00", ""), s
    base = int(datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return base * NS + int((frac + "000000000")[:9])


def key(e):
    """An API event as (id, start ns, duration ns, data)."""
    return (e.get("id"), parse_ts(e["timestamp"]), round(e["duration"] * NS), json.dumps(e["data"], sort_keys=True))


T0 = 1614556800 * NS  # 2021-03-01T00:00:00Z, long closed


def day_events(days, per_day, tag="t"):
    """per_day events on each of `days` (days after T0), 17 minutes apart from 08:00,
    with some data repeated across days, and one event crossing each midnight."""
    out = []
    for d in days:
        for k in range(per_day):
            start = T0 + d * DAY + 8 * 3600 * NS + k * 17 * 60 * NS + 123_456_000
            out.append({"timestamp": iso(start), "duration": 61.25 + k,
                        "data": {"app": "app%d" % (k % 3), "title": "%s-%d-%d" % (tag, d, k % 4)}})
        start = T0 + (d + 1) * DAY - 30 * NS
        out.append({"timestamp": iso(start), "duration": 90.5, "data": {"app": "late", "title": "%s-mid-%d" % (tag, d)}})
    return out


def expected_desc(inserted):
    """The API's order: newest first, ties shorter first, then lower id."""
    return sorted(inserted, key=lambda k: (-k[1], k[2], k[0]))


def node_db(node):
    return os.path.join(node.data_dir, "awnode-testing.db")


@pytest.fixture
def sealed(node_factory):
    """A node whose bucket has events on days 0..5 after T0: days 0..4 sealed, day 5
    (the last) rows."""
    node = node_factory()
    c = node.client()
    b = "aw-watcher-window_h"
    new_bucket(c, b, type_="currentwindow")
    got = insert_events(c, b, day_events(range(6), 6))
    inserted = [key(e) for e in got]
    lay = wait_layout(node_db(node), lambda l: len(l[b][1]) == 5)
    first_day = T0 // DAY
    assert sealed_days(lay, b) == set(range(first_day, first_day + 5)) and lay[b][0] == {first_day + 5}
    return node, c, b, inserted


def test_sealed_days_read_back_exactly(sealed):
    node, c, b, inserted = sealed
    db = node_db(node)
    # the file holds the events exactly: ids, times, data
    stored = [(i, s, d, json.dumps(json.loads(j), sort_keys=True)) for _, i, s, d, j in stored_event_rows(db)]
    assert sorted(stored) == sorted(inserted)
    # every event, newest first
    want = expected_desc(inserted)
    assert [key(e) for e in get_events(c, b, "?limit=-1")] == want
    # a limit cuts the newest; the default is the newest 100
    assert [key(e) for e in get_events(c, b, "?limit=9")] == want[:9]
    # a window inside sealed days, and one crossing from rows into blocks
    for lo, hi in ((T0 + DAY + 9 * 3600 * NS, T0 + 3 * DAY + 3600 * NS),
                   (T0 + 4 * DAY + 9 * 3600 * NS, T0 + 5 * DAY + 9 * 3600 * NS),
                   (T0 + 2 * DAY - 10 * NS, T0 + 2 * DAY + 10 * NS)):
        got = get_events(c, b, "?start=%s&end=%s&limit=-1" % (iso(lo), iso(hi)))
        exp = [k for k in want if k[1] <= hi and k[1] + k[2] >= lo]
        assert exp and [(k[0], k[3]) for k in map(key, got)] == [(k[0], k[3]) for k in exp]
        r = c.get("/api/0/buckets/%s/events/count?start=%s&end=%s" % (quote_id(b), iso(lo), iso(hi)))
        assert r.status == 200 and r.json() == len(exp), r
    # one by id
    for k in (inserted[0], inserted[17], inserted[-1]):
        r = c.get("/api/0/buckets/%s/events/%d" % (quote_id(b), k[0]))
        assert r.status == 200 and key(r.json()) == k, r
    assert c.get("/api/0/buckets/%s/events/%d" % (quote_id(b), 10**6)).status == 404
    # export
    doc = c.get("/api/0/export").json()
    assert [key(e) for e in doc["buckets"][b]["events"]] == want
    # query
    q = {"timeperiods": ["%s/%s" % (iso(T0 - DAY), iso(T0 + 7 * DAY))],
         "query": ['RETURN = query_bucket("%s");' % b]}
    r = c.post("/api/0/query/", json=q)
    assert r.status == 200, r
    got = sorted((parse_ts(e["timestamp"]), round(e["duration"] * NS), json.dumps(e["data"], sort_keys=True))
                 for e in r.json()[0])
    assert got == sorted(k[1:] for k in inserted)


def test_writes_into_sealed_days(sealed):
    node, c, b, inserted = sealed
    db = node_db(node)
    first_day = T0 // DAY
    victim, replaced = inserted[3], inserted[10]  # days 0 and 1, sealed
    # delete by id
    r = c.delete("/api/0/buckets/%s/events/%d" % (quote_id(b), victim[0]))
    assert r.status == 200, r
    assert c.get("/api/0/buckets/%s/events/%d" % (quote_id(b), victim[0])).status == 404
    # replace by id: same id, new time in another sealed day, new data
    new_start = T0 + 2 * DAY + 12 * 3600 * NS
    got = insert_events(c, b, [{"id": replaced[0], "timestamp": iso(new_start), "duration": 5.5,
                                "data": {"app": "new", "title": "replacement"}}])
    assert got[0]["id"] == replaced[0]
    # insert into a sealed day
    extra = insert_events(c, b, [{"timestamp": iso(T0 + 3 * DAY + 3 * 3600 * NS), "duration": 2.0,
                                  "data": {"app": "x", "title": "inserted later"}}])
    want = [k for k in inserted if k[0] not in (victim[0], replaced[0])]
    want += [(replaced[0], new_start, 5_500_000_000, json.dumps({"app": "new", "title": "replacement"}, sort_keys=True)),
             key(extra[0])]
    assert [key(e) for e in get_events(c, b, "?limit=-1")] == expected_desc(want)
    # the touched days are sealed again, holding the changes; nothing else moved
    lay = wait_layout(db, lambda l: len(l[b][1]) == 5 and len(l[b][0]) == 1)
    assert sealed_days(lay, b) == set(range(first_day, first_day + 5))
    stored = sorted((i, s, d, json.dumps(json.loads(j), sort_keys=True)) for _, i, s, d, j in stored_event_rows(db))
    assert stored == sorted(want)
    assert [key(e) for e in get_events(c, b, "?limit=-1")] == expected_desc(want)
    # a restart reads the same
    node.stop()
    node.start()
    assert [key(e) for e in get_events(node.client(), b, "?limit=-1")] == expected_desc(want)


def test_heartbeat_merges_into_a_last_event_in_a_sealed_day(sealed):
    node, c, b, inserted = sealed
    db = node_db(node)
    last_day = T0 // DAY + 5
    # delete the last day: the bucket's last event is now sealed (day 4's midnight event)
    for k in inserted:
        if k[1] // DAY == last_day:
            assert c.delete("/api/0/buckets/%s/events/%d" % (quote_id(b), k[0])).status == 200
    last = max(inserted, key=lambda k: (k[1] if k[1] // DAY < last_day else -1))
    assert last[1] // DAY == last_day - 1
    lay = layout(db)
    assert last_day - 1 in lay[b][1] or last_day - 1 in lay[b][0]
    data = json.loads(last[3])
    hb = heartbeat(c, b, {"timestamp": iso(last[1] + last[2] + 2 * NS), "duration": 3.0, "data": data}, 10)
    assert hb["id"] == last[0]
    assert parse_ts(hb["timestamp"]) == last[1] and round(hb["duration"] * NS) == last[2] + 5 * NS
    r = c.get("/api/0/buckets/%s/events/%d" % (quote_id(b), last[0]))
    assert key(r.json()) == (last[0], last[1], last[2] + 5 * NS, last[3])
    # the bucket's range follows
    events = get_events(c, b, "?limit=1")
    assert key(events[0]) == (last[0], last[1], last[2] + 5 * NS, last[3])


def test_data_used_only_by_sealed_events_survives_a_wipe(node_factory):
    node = node_factory()
    c = node.client()
    db = node_db(node)
    new_bucket(c, "keep")
    new_bucket(c, "gone")
    insert_events(c, "keep", [{"timestamp": iso(T0 + d * DAY + 3600 * NS), "duration": 1.0,
                               "data": {"title": "only-sealed-%d" % d}} for d in range(3)]
                  + [{"timestamp": iso(T0 + 5 * DAY), "duration": 1.0, "data": {"title": "last day"}}])
    insert_events(c, "gone", [{"timestamp": iso(T0), "duration": 1.0, "data": {"title": "removed text"}}])
    wait_layout(db, lambda l: len(l["keep"][1]) == 3)
    before = get_events(c, "keep", "?limit=-1")
    # deleting a bucket wipes the data texts no event uses any more
    assert c.delete("/api/0/buckets/gone?force=1").status == 200
    assert get_events(c, "keep", "?limit=-1") == before
    assert [e["data"]["title"] for e in before] == ["last day", "only-sealed-2", "only-sealed-1", "only-sealed-0"]
    conn = connect(db)
    try:
        texts = {j for (j,) in conn.execute("SELECT json FROM datas")}
    finally:
        conn.close()
    assert '{"title":"only-sealed-0"}' in texts and '{"title":"removed text"}' not in texts
    assert not found_in_db_files(node, ["removed text"])


def test_redact_across_sealed_days(sealed):
    node, c, b, inserted = sealed
    secret = [k for k in inserted if re.match(r"^t-\d+-1$", json.loads(k[3])["title"])]
    assert len({k[1] // DAY for k in secret}) == 6
    rule = {"field": "title", "pattern": r"^t-\d+-1$", "action": "redact", "replacement": "hidden"}
    r = c.post("/api/0/privacy/redact", json=dict(rule, dry_run=True))
    assert r.status == 200 and r.json()["redacted"] == len(secret), r
    r = c.post("/api/0/privacy/redact", json=rule)
    assert r.status == 200 and r.json()["redacted"] == len(secret), r
    got = get_events(c, b, "?limit=-1")
    titles = [e["data"]["title"] for e in got]
    assert titles.count("hidden") == len(secret) and not any(re.match(r"^t-\d+-1$", t) for t in titles)
    ids = {k[0] for k in secret}
    assert {e["id"] for e in got if e["data"]["title"] == "hidden"} == ids
    wait_layout(node_db(node), lambda l: len(l[b][1]) == 5)
    assert get_events(c, b, "?limit=-1") == got
    assert not found_in_db_files(node, ["t-%d-1" % d for d in range(6)])
    # drop
    r = c.post("/api/0/privacy/redact", json={"field": "title", "pattern": "^hidden$", "action": "drop"})
    assert r.json()["dropped"] == len(secret)
    assert len(get_events(c, b, "?limit=-1")) == len(inserted) - len(secret)


def test_archive_and_restore_across_sealed_days(sealed):
    import test_archive as ta
    node, c, b, inserted = sealed
    original = ta.events_of(c)
    ta.init(node)
    ta.ok(ta.cli(node, "--before", "2021-03-03"))
    live = ta.events_of(c)
    gone = original - live
    assert gone and all(k[1] < "2021-03-03" for k in gone) and not (live - original)
    assert any(k[1] >= "2021-03-03" for k in live)
    ta.ok(ta.cli(node, "restore", env={"AWNODE_ARCHIVE_PASSPHRASE": ta.PASS}))
    assert ta.events_of(c) == original
    wait_layout(node_db(node), all_old_days_sealed(b))
    assert ta.events_of(c) == original


def test_sync_across_sealed_days(node_factory, tmp_path):
    from test_sync import make_group, strip_ids
    remote, (a, b) = make_group(node_factory, tmp_path, ["host-alpha", "host-bravo"])
    bid = "aw-watcher-window_host-alpha"
    new_bucket(a.client, bid, type_="currentwindow", hostname="host-alpha")
    inserted = [key(e) for e in insert_events(a.client, bid, day_events(range(5), 4, tag="s"))]
    wait_layout(a.db, lambda l: len(l[bid][1]) == 4)
    a.sync("push")  # the change feed from 0 reads the sealed days
    b.sync("pull")
    assert strip_ids(b.events(bid)) == strip_ids(a.events(bid))
    wait_layout(b.db, lambda l: len(l[bid][1]) == 4)  # remote buckets are sealed too
    # changes in sealed days travel: a deletion, a replacement, an insertion
    a_ids = [k[0] for k in inserted]
    assert a.client.delete("/api/0/buckets/%s/events/%d" % (quote_id(bid), a_ids[2])).status == 200
    insert_events(a.client, bid, [{"id": a_ids[7], "timestamp": iso(T0 + DAY + 5 * NS), "duration": 1.0,
                                   "data": {"title": "moved"}},
                                  {"timestamp": iso(T0 + 3 * DAY + 7 * NS), "duration": 2.0, "data": {"title": "new"}}])
    a.sync("push")
    b.sync("pull")
    want = strip_ids(a.events(bid))
    assert strip_ids(b.events(bid)) == want and len(want) == len(inserted)
    assert "moved" in json.dumps(want) and '"new"' in json.dumps(want)
    wait_layout(b.db, lambda l: len(l[bid][1]) == 4)
    wait_layout(a.db, lambda l: len(l[bid][1]) == 4)
    a.sync("run")
    b.sync("run")
    assert strip_ids(b.events(bid)) == want == strip_ids(a.events(bid))


# The schema of version 3 (storage/src/schema.c), as databases written before sealed
# days have it.
SCHEMA_V3 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE buckets (rowid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
  client TEXT NOT NULL, hostname TEXT NOT NULL, created INTEGER NOT NULL, data TEXT NOT NULL DEFAULT '{}',
  last_updated TEXT, start INTEGER, "end" INTEGER, max_duration INTEGER NOT NULL DEFAULT 0, remote_device TEXT);
CREATE TABLE datas (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX datas_hash ON datas(hash);
CREATE TABLE events (bucket INTEGER NOT NULL, start INTEGER NOT NULL, id INTEGER NOT NULL,
  duration INTEGER NOT NULL, data INTEGER NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (bucket, start, id)) WITHOUT ROWID;
CREATE UNIQUE INDEX events_id ON events(id);
CREATE TABLE tombstones (seq INTEGER PRIMARY KEY, bucket TEXT NOT NULL, event_id INTEGER);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE remote_ids (bucket INTEGER NOT NULL, source_id INTEGER NOT NULL, local_id INTEGER NOT NULL,
  PRIMARY KEY (bucket, source_id)) WITHOUT ROWID;
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE settings_meta (key TEXT PRIMARY KEY, hlc INTEGER NOT NULL, device TEXT NOT NULL,
  hostname TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE settings_history (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT, hlc INTEGER NOT NULL,
  device TEXT NOT NULL, hostname TEXT NOT NULL, replaced_at INTEGER NOT NULL);
CREATE INDEX settings_history_key ON settings_history(key, id);
PRAGMA user_version = 3;
"""


def test_a_version_3_database_migrates_in_place(node_factory, tmp_path):
    db = str(tmp_path / "v3.db")
    con = sqlite3.connect(db)
    con.executescript(SCHEMA_V3)
    con.execute("PRAGMA journal_mode=WAL")
    rows, seq, datas = [], 0, {}
    for d in range(40):
        for k in range(50):
            start = T0 + d * DAY + 7 * 3600 * NS + k * 600 * NS + 250_000
            text = json.dumps({"app": "a%d" % (k % 5), "title": "w%d" % ((d * 7 + k) % 60)}, separators=(",", ":"),
                              sort_keys=True)
            did = datas.setdefault(text, len(datas) + 1)
            seq += 1
            rows.append((1, start, seq, 599 * NS + k, did, seq))
    con.executemany("INSERT INTO datas(id, hash, json) VALUES (?, ?, ?)", [(i, i * 7919, t) for t, i in datas.items()])
    con.executemany("INSERT INTO events VALUES (?,?,?,?,?,?)", rows)
    lo, hi = min(r[1] for r in rows), max(r[1] + r[3] for r in rows)
    con.execute("INSERT INTO buckets(rowid, name, type, client, hostname, created, start, \"end\", max_duration) "
                "VALUES (1, 'old', 'currentwindow', 'c', 'h', ?, ?, ?, ?)", (T0, lo, hi, 599 * NS + 49))
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("next_event_id", seq + 1), ("seq", seq)])
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    size_before = os.path.getsize(db)
    texts = {i: t for t, i in datas.items()}
    want = expected_desc([(r[2], r[1], r[3], json.dumps(json.loads(texts[r[4]]), sort_keys=True)) for r in rows])

    node = node_factory(args=["--dbpath", db])
    c = node.client()
    first = c.get("/api/0/export").json()
    assert [key(e) for e in first["buckets"]["old"]["events"]] == want
    lay = wait_layout(db, all_old_days_sealed("old"))
    assert len(lay["old"][1]) == 39
    assert c.get("/api/0/export").json() == first
    con = connect(db)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 4
        assert con.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
    finally:
        con.close()
    # new events keep counting from the old counters
    got = insert_events(c, "old", [{"timestamp": iso(T0 + 41 * DAY), "duration": 1.0, "data": {"x": 1}}])
    assert got[0]["id"] == seq + 1
    node.stop()
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    assert os.path.getsize(db) < size_before
    node.start()
    doc = node.client().get("/api/0/export").json()
    assert [key(e) for e in doc["buckets"]["old"]["events"]][1:] == want


def test_import_file_seals_before_it_returns(node_factory, tmp_path):
    """`awnode import FILE` without a node seals the closed days it stored."""
    env = node_factory(start=False).env
    doc = {"buckets": {"w": {"id": "w", "type": "currentwindow", "client": "c", "hostname": "h",
                             "created": iso(T0), "events": day_events(range(10), 20, tag="imp")}}}
    path, db = str(tmp_path / "doc.json"), str(tmp_path / "imp.db")
    with open(path, "w") as f:
        json.dump(doc, f)
    p = awtest.run_awnode(["import", path, "--dbpath", db], env, timeout=60)
    assert p.returncode == 0, p.stderr
    lay = layout(db)
    assert len(lay["w"][1]) == 9 and len(lay["w"][0]) == 1
    stored = sorted((s, d, json.dumps(json.loads(j), sort_keys=True)) for _, _, s, d, j in stored_event_rows(db))
    assert stored == sorted(key(dict(e, id=None))[1:] for e in doc["buckets"]["w"]["events"])
    # importing the same again changes nothing (de-duplication against sealed days)
    p = awtest.run_awnode(["import", path, "--dbpath", db], env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert len(stored_event_rows(db)) == len(stored)
    assert layout(db) == lay


def stored_keys(db):
    """(start, duration, data) of every stored event, rows and blocks."""
    return sorted((s, d, json.dumps(json.loads(j), sort_keys=True)) for _, _, s, d, j in stored_event_rows(db))


def doc_keys(events):
    return sorted(key(dict(e, id=None))[1:] for e in events)


def test_an_import_writes_closed_days_as_blocks_and_adds_to_them(node_factory):
    """POST /api/0/import stores the closed days it brings straight as blocks, one write
    at a time (more than one import chunk: 8,192 events), and a second import into
    days already sealed adds to their blocks; no day is ever both rows and a block
    (layout checks it), and every event reads back."""
    node = node_factory()
    c = node.client()
    db = node_db(node)
    first = day_events(range(210), 40, tag="a")  # 8,610 events: two import writes
    doc = {"buckets": {"w": {"id": "w", "type": "currentwindow", "client": "c", "hostname": "h",
                             "created": iso(T0), "events": first}}}
    r = c.post("/api/0/import", json=doc)
    assert r.status == 200, r
    lay = wait_layout(db, all_old_days_sealed("w"))
    assert len(lay["w"][1]) == 209
    assert stored_keys(db) == doc_keys(first)
    # more events on sealed days 3..5 (other titles, so none is a duplicate), and the
    # same document again (all duplicates: nothing is added)
    more = day_events(range(3, 6), 7, tag="b")
    doc["buckets"]["w"]["events"] = more + first
    r = c.post("/api/0/import", json=doc)
    assert r.status == 200, r
    lay = wait_layout(db, all_old_days_sealed("w"))
    assert len(lay["w"][1]) == 209
    assert stored_keys(db) == doc_keys(first + more)
    got = get_events(c, "w", "?limit=-1")
    assert sorted(key(e)[1:] for e in got) == doc_keys(first + more)
    ids = [e["id"] for e in got]
    assert len(ids) == len(set(ids))


def test_days_behind_a_last_day_ahead_of_the_clock_are_sealed(node_factory):
    """A history reaching past the present (imported from a clock ahead of this one):
    the days behind its last day are closed as well, except those around the present,
    where watchers write."""
    node = node_factory()
    c = node.client()
    db = node_db(node)
    today = time.time_ns() // DAY
    events = []
    for d in range(today - 6, today + 8):
        for k in range(4):
            start = d * DAY + 9 * 3600 * NS + k * 600 * NS
            events.append({"timestamp": iso(start), "duration": 30.0, "data": {"app": "x", "title": "d%d-%d" % (d, k)}})
    doc = {"buckets": {"f": {"id": "f", "type": "currentwindow", "client": "c", "hostname": "h",
                             "created": iso(T0), "events": events}}}
    r = c.post("/api/0/import", json=doc)
    assert r.status == 200, r
    # closed: ended two days before the present (today - 3 and before), or two days
    # before the last day's start (today + 4 and before); the days around the present
    # (today - 2 .. today + 2, the node's clock a few seconds from this one) are not
    lay = wait_layout(db, lambda l: set(range(today - 6, today - 3)) | {today + 4} <= sealed_days(l, "f"))
    rows, blocks = lay["f"]
    assert {today + 5, today + 6, today + 7} <= rows
    assert not (set(blocks) & set(range(today - 1, today + 2)))
    assert stored_keys(db) == doc_keys(events)
    # a watcher's write at the present goes to rows, and reads see everything
    insert_events(c, "f", [{"timestamp": iso(time.time_ns()), "duration": 1.0, "data": {"app": "now"}}])
    assert len(get_events(c, "f", "?limit=-1")) == len(events) + 1
    layout(db)
