"""`awnode export`, `awnode import FILE` and `awnode import activitywatch [PATH]`
(docs/user-guide.md): ActivityWatch databases of both schemas are built here with SQL
written after aw-server-rust's and aw-server's schemas, imported, compared, and imported again without change."""

import functools
import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

import awtest

RUST_V5 = """
CREATE TABLE buckets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
  client TEXT NOT NULL, hostname TEXT NOT NULL, created TEXT NOT NULL,
  data_deprecated TEXT DEFAULT '{}', data TEXT NOT NULL DEFAULT '{}');
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, bucketrow INTEGER NOT NULL,
  starttime INTEGER NOT NULL, endtime INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX events_bucketrow_starttime_endtime_index ON events(bucketrow, starttime DESC, endtime);
CREATE TABLE key_value (key TEXT PRIMARY KEY, value TEXT, last_modified NUMBER NOT NULL);
PRAGMA user_version = 5;
"""
RUST_V1 = """
CREATE TABLE buckets (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, type TEXT NOT NULL,
  client TEXT NOT NULL, hostname TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, bucketrow INTEGER NOT NULL,
  starttime INTEGER NOT NULL, endtime INTEGER NOT NULL, data TEXT NOT NULL);
PRAGMA user_version = 1;
"""
PEEWEE = """
CREATE TABLE bucketmodel (key INTEGER PRIMARY KEY, id VARCHAR(255) NOT NULL UNIQUE, created DATETIME NOT NULL,
  name VARCHAR(255), type VARCHAR(255) NOT NULL, client VARCHAR(255) NOT NULL, hostname VARCHAR(255) NOT NULL,
  datastr VARCHAR(255));
CREATE TABLE eventmodel (id INTEGER PRIMARY KEY, bucket_id INTEGER NOT NULL, timestamp DATETIME NOT NULL,
  duration DECIMAL(10, 5) NOT NULL, datastr VARCHAR(255) NOT NULL);
"""
NS = 1_000_000_000
T0 = 1714557600 * NS  # 2024-05-01T10:00:00Z


def make_rust(path, schema=RUST_V5):
    c = sqlite3.connect(path)
    c.executescript(schema)
    data_col = ", data" if "data TEXT NOT NULL DEFAULT" in schema else ""
    c.execute("INSERT INTO buckets(name, type, client, hostname, created%s) VALUES (?,?,?,?,?%s)" %
              (data_col, ",?" if data_col else ""),
              ["aw-watcher-window_old", "currentwindow", "aw-watcher-window", "old", "2024-05-01 09:00:00.123456789+00:00"]
              + (['{"device_id":"x"}'] if data_col else []))
    rows = [(1, T0 + i * 10 * NS, T0 + i * 10 * NS + 5 * NS + 123, json.dumps({"title": "t%d" % (i % 3), "app": "a"}))
            for i in range(50)]
    c.executemany("INSERT INTO events(bucketrow, starttime, endtime, data) VALUES (?,?,?,?)", rows)
    c.commit()
    c.close()
    return rows


def make_peewee(path):
    c = sqlite3.connect(path)
    c.executescript(PEEWEE)
    c.execute("INSERT INTO bucketmodel(key, id, created, type, client, hostname) VALUES (1,?,?,?,?,?)",
              ["aw-watcher-afk_py", "2024-05-01 09:00:00.5", "afkstatus", "aw-watcher-afk", "py"])
    c.executemany("INSERT INTO eventmodel(bucket_id, timestamp, duration, datastr) VALUES (1,?,?,?)",
                  [("2024-05-01 10:00:%02d.250000+00:00" % i, 1.5, '{"status": "afk"}') for i in range(20)])
    c.commit()
    c.close()


def awnode(node, *args):
    return awtest.run_awnode(list(args), node.env, timeout=60)


def events(client, bid):
    r = client.get("/api/0/buckets/%s/events" % bid)
    assert r.status == 200, r
    return r.json()


def test_import_aw_server_rust_db_twice(node_factory, tmp_path):
    node = node_factory()
    node.stop()
    src = str(tmp_path / "sqlite.db")
    rows = make_rust(src)
    for _ in range(2):
        p = awnode(node, "import", "--testing", "activitywatch", src)
        assert p.returncode == 0, p.stderr
    node.start()
    c = node.client()
    b = c.get("/api/0/buckets/aw-watcher-window_old").json()
    assert b["created"] == "2024-05-01T09:00:00.123456789Z" and b["data"] == {"device_id": "x"}
    got = sorted((e["timestamp"], round(e["duration"] * NS), e["data"]) for e in events(c, "aw-watcher-window_old"))
    assert len(got) == 50
    assert got[0] == ("2024-05-01T10:00:00Z", 5 * NS + 123, {"app": "a", "title": "t0"})
    assert c.get("/api/0/buckets/aw-watcher-window_old/events/count").json() == 50


def test_import_old_rust_schema_and_peewee(node_factory, tmp_path):
    node = node_factory()
    node.stop()
    v1, py = str(tmp_path / "v1.db"), str(tmp_path / "peewee-sqlite.v2.db")
    make_rust(v1, RUST_V1)
    make_peewee(py)
    for path in (v1, py, py):
        p = awnode(node, "import", "--testing", "activitywatch", path)
        assert p.returncode == 0, p.stderr
    node.start()
    c = node.client()
    afk = events(c, "aw-watcher-afk_py")
    assert len(afk) == 20 and afk[-1] == {"id": afk[-1]["id"], "timestamp": "2024-05-01T10:00:00.250Z",
                                          "duration": 1.5, "data": {"status": "afk"}}
    assert c.get("/api/0/buckets/aw-watcher-afk_py").json()["created"] == "2024-05-01T09:00:00.500Z"
    assert c.get("/api/0/buckets/aw-watcher-window_old/events/count").json() == 50


def test_import_activitywatch_default_path_and_errors(node_factory, tmp_path):
    node = node_factory()
    node.stop()
    d = os.path.join(node.xdg["XDG_DATA_HOME"], "activitywatch", "aw-server-rust")
    p = awnode(node, "import", "--testing", "activitywatch")
    assert p.returncode != 0 and b"no ActivityWatch database found" in p.stderr
    os.makedirs(d)
    make_rust(os.path.join(d, "sqlite.db"))
    p = awnode(node, "import", "--testing", "activitywatch")
    assert p.returncode == 0 and b"imported 1 buckets, 50 events" in p.stdout, (p.stdout, p.stderr)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    foreign = str(tmp_path / "foreign.db")
    sqlite3.connect(foreign).executescript("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
    for path, msg in ((str(junk), b"not a readable SQLite database"), (foreign, b"not an ActivityWatch database"),
                      (str(tmp_path / "missing.db"), b"cannot read")):
        p = awnode(node, "import", "--testing", "activitywatch", path)
        assert p.returncode != 0 and msg in p.stderr and p.stderr.count(b"\n") == 1, (path, p.stderr)
    # the node owns its database: the direct import refuses while it runs
    node.start()
    p = awnode(node, "import", "--testing", "activitywatch", os.path.join(d, "sqlite.db"))
    assert p.returncode != 0 and b"stop the node first" in p.stderr


def test_export_and_import_file_offline_and_online(node_factory, tmp_path):
    a = node_factory()
    c = a.client()
    c.post("/api/0/buckets/b1", json={"type": "t", "client": "c", "hostname": "h"})
    c.post("/api/0/buckets/b1/events", json=[{"timestamp": "2024-05-01T10:00:00.5Z", "duration": 2.25,
                                               "data": {"k": "v", "n": 1}}])
    out = str(tmp_path / "export.json")
    p = awnode(a, "export", "--testing", "-o", out)  # works while the node runs
    assert p.returncode == 0, p.stderr
    doc = json.load(open(out))
    assert doc == c.get("/api/0/export").json()
    p = awnode(a, "export", "--testing", "--bucket", "nope")
    assert p.returncode != 0 and p.stderr.count(b"\n") == 1
    # into a second node: through its API while it runs, then directly while stopped (no duplicates)
    b = node_factory()
    p = awnode(b, "import", "--testing", "--port", str(b.port), out)
    assert p.returncode == 0, p.stderr
    b.stop()
    p = awnode(b, "import", "--testing", out)
    assert p.returncode == 0, p.stderr
    b.start()
    ev = events(b.client(), "b1")
    assert [(e["timestamp"], e["duration"], e["data"]) for e in ev] == [("2024-05-01T10:00:00.500Z", 2.25, {"k": "v", "n": 1})]
    for args in (["import", "--testing"], ["import", "--testing", str(tmp_path / "missing.json")], ["export", "--bogus"]):
        p = awnode(b, *args)
        assert p.returncode != 0 and p.stderr.count(b"\n") == 1, (args, p.stderr)


def test_cli_through_a_node_with_an_api_key_and_another_port(node_factory, tmp_path):
    """`awnode import FILE` and `awnode redact` reach a running node the way `awnode
    serve` reads its config: its port and its [auth] API key."""
    port = awtest.free_port()
    cfg = 'port = %d\n[auth]\napi_key = "s3cret-key"\n' % port
    node = node_factory(use_port_flag=False, port=port, start=False)
    d = os.path.join(node.xdg["XDG_CONFIG_HOME"], "awnode")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config-testing.toml"), "w") as f:
        f.write(cfg)
    node.start()
    doc = {"buckets": {"b1": {"id": "b1", "type": "t", "client": "c", "hostname": "h",
                              "created": "2024-05-01T09:00:00Z",
                              "events": [{"timestamp": "2024-05-01T10:00:00Z", "duration": 1, "data": {"title": "secret x"}}]}}}
    path = str(tmp_path / "doc.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    p = awnode(node, "import", "--testing", path)
    assert p.returncode == 0, p.stderr
    c = node.client(default_headers={"Authorization": "Bearer s3cret-key"})
    assert c.get("/api/0/buckets/b1/events/count").json() == 1
    p = awnode(node, "redact", "--testing", "--pattern", "secret", "--field", "title")
    assert p.returncode == 0 and b'"redacted":1' in p.stdout.replace(b" ", b""), (p.stdout, p.stderr)
    assert c.get("/api/0/buckets/b1/events").json()[0]["data"]["title"] != "secret x"


def test_import_activitywatch_brings_settings_and_keeps_ours(node_factory, tmp_path):
    """aw-server-rust's settings (key_value rows "settings.<key>") arrive with the events;
    a setting this node already has is kept unless --overwrite-settings; rows the
    settings API could not have stored are skipped and counted, never stored."""
    node = node_factory()
    c = node.client()
    assert c.post("/api/0/settings/startOfDay", json="05:00").status == 201
    node.stop()
    src = str(tmp_path / "sqlite.db")
    make_rust(src)
    classes = [{"id": 1, "name": ["Work"], "rule": {"type": "regex", "regex": "vim|emacs"}}]
    db = sqlite3.connect(src)
    db.executemany("INSERT INTO key_value(key, value, last_modified) VALUES (?,?,?)", [
        ("settings.classes", json.dumps(classes), 1),
        ("settings.startOfDay", json.dumps("04:00"), 1),
        ("settings.startOfWeek", json.dumps("Sunday"), 1),
        ("settings.theme", json.dumps("dark"), 1),
        ("settings.broken", "{not json", 1),
        ("settings." + "k" * 128, json.dumps(1), 1),
        ("settings.privacy_filters", json.dumps([{"pattern": "("}]), 1),
        ("not-a-setting", json.dumps(1), 1),
    ])
    db.commit()
    db.close()
    p = awnode(node, "import", "--testing", "activitywatch", src)
    assert p.returncode == 0, p.stderr
    assert (b"settings: 3 imported, 1 kept as they were here (--overwrite-settings replaces them), "
            b"3 refused") in p.stdout, p.stdout
    node.start()
    got = node.client().get("/api/0/settings").json()
    assert got == {"classes": classes, "startOfDay": "05:00", "startOfWeek": "Sunday", "theme": "dark"}, got
    node.stop()
    # again: nothing new; then with --overwrite-settings the source's value wins
    p = awnode(node, "import", "--testing", "activitywatch", src)
    assert p.returncode == 0 and b"settings: 0 imported, 4 kept" in p.stdout, p.stdout
    p = awnode(node, "import", "--testing", "activitywatch", "--overwrite-settings", src)
    assert p.returncode == 0 and b"settings: 4 imported, 3 refused" in p.stdout, p.stdout
    node.start()
    c = node.client()
    assert c.get("/api/0/settings/startOfDay").json() == "04:00"
    assert c.get("/api/0/buckets/aw-watcher-window_old/events/count").json() == 50
    # the option belongs to the database import only
    node.stop()
    p = awnode(node, "import", "--testing", "--overwrite-settings", str(tmp_path / "x.json"))
    assert p.returncode == 2 and p.stderr.count(b"\n") == 1 and b"--overwrite-settings" in p.stderr


# ---- `awnode import FILE` in bounded memory ------------------------------------------------
#
# The file is mapped and its text given back 4 MB at a time in both passes; the writer
# gets the events in chunks of 8192 (storage/src/transfer.c). These documents span
# several of both, and a refusal found at their very end must still write nothing.

BIG_BUCKETS = 3
BIG_PER_BUCKET = 50000  # ~25 MB of text: 6 ranges given back, 19 chunks written
TITLE = " ".join(["word"] * 30)


@functools.lru_cache(maxsize=1)
def big_export():
    """(document text, the rows it must become: (bucket, id, start ns, duration ns, data))."""
    parts, rows = [], []
    for b in range(BIG_BUCKETS):
        bid = "big-%d" % b
        evs = []
        for i in range(BIG_PER_BUCKET):
            eid = b * BIG_PER_BUCKET + i + 1
            secs = 1714557600 + i * 10
            ms = (i * 37) % 1000
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%03dZ" % ms
            data = {"app": "app%d" % (i % 7), "title": "%s %d" % (TITLE, i % 50)}
            evs.append('{"id":%d,"timestamp":"%s","duration":%d.5,"data":%s}' % (eid, ts, i % 9, json.dumps(data)))
            rows.append((bid, eid, secs * NS + ms * 1_000_000, (i % 9) * NS + NS // 2,
                         json.dumps(data, sort_keys=True, separators=(",", ":"))))
        parts.append('"%s":{"id":"%s","type":"t","client":"c","hostname":"h","created":"2024-05-01T09:00:00Z",'
                     '"events":[\n%s\n]}' % (bid, bid, ",\n".join(evs)))
    return '{"buckets":{%s}}\n' % ",\n".join(parts), rows


# Runs the command and prints its peak RSS. A child's peak counts what it held before
# exec too, so the command is started from this small interpreter, not from pytest's
# (which holds the test's documents).
MEASURE = """import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"""


def import_measured(env, path, db):
    """Run `awnode import FILE` into db: (exit status, stderr, peak RSS in bytes)."""
    p = subprocess.run([sys.executable, "-c", MEASURE, awtest.binary_path(), "import", path, "--dbpath", db],
                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0 and not awtest.sanitizer_finding(err), err[-6000:]
    rc, kb = p.stdout.split()
    return int(rc), err, int(kb) * 1024


def stored_rows(db):
    """Every stored event, rows and sealed days (docs/storage.md, "Sealed days")."""
    from test_storage_blocks import stored_event_rows
    return stored_event_rows(db)


def bucket_count(db):
    c = sqlite3.connect(db)
    try:
        return c.execute("SELECT count(*) FROM buckets").fetchone()[0]
    finally:
        c.close()


def sanitized_binary():
    with open(awtest.binary_path(), "rb") as f:
        return b"__asan_init" in f.read()


def test_import_file_streams_every_event_exactly_in_bounded_memory(node_factory, tmp_path):
    env = node_factory(start=False).env
    text, rows = big_export()
    path, db = str(tmp_path / "big.json"), str(tmp_path / "big.db")
    with open(path, "w") as f:
        f.write(text)
    small, small_db = str(tmp_path / "small.json"), str(tmp_path / "small.db")
    with open(small, "w") as f:
        f.write('{"buckets":{}}')
    rc, err, base_rss = import_measured(env, small, small_db)
    assert rc == 0, err

    rc, err, rss = import_measured(env, path, db)
    assert rc == 0, err
    assert stored_rows(db) == sorted(rows)
    # The document's text is not held: reading it whole made the import grow by its size.
    print("peak RSS %d MB for a %d MB document (%d MB for an empty one)" % (rss >> 20, len(text) >> 20, base_rss >> 20))
    if not sanitized_binary():  # a sanitizer's quarantine keeps freed chunks resident
        assert rss - base_rss < len(text) // 2, (rss, base_rss, len(text))
    # a second import of the same file adds nothing (the import de-duplication)
    rc, err, _ = import_measured(env, path, db)
    assert rc == 0, err
    assert len(stored_rows(db)) == len(rows)


def corrupt_at_end(text, how):
    last = text.rindex('{"id":')  # the last event of the last bucket
    if how == "truncated":
        return text.rstrip()[:-1]  # the document's closing brace is missing
    if how == "bad token":
        return text[:last] + "tru" + text[last:]
    if how == "end out of range":  # its end does not fit: refused before the writer sees it
        return text[:last] + text[last:].replace('"duration":', '"duration":800000000', 1)
    if how == "timestamp out of range":
        return text[:last] + text[last:].replace('"timestamp":"2024', '"timestamp":"2300', 1)
    if how == "escaped timestamp out of range":  # the escape is decoded before the time is read
        return text[:last] + text[last:].replace('"timestamp":"2024', '"timestamp":"\\u0032300', 1)
    if how == "shape early, bad JSON late":  # bad JSON wins, as when the whole text was checked first
        first = text.index('"big-0":{')
        return (text[:first] + '"big-0":5,"x":{' + text[first + len('"big-0":{'):]).rstrip()[:-1]
    raise ValueError(how)


@pytest.mark.parametrize("how,message", [
    ("truncated", "invalid JSON"),
    ("bad token", "invalid JSON"),
    ("end out of range", "outside the supported range"),
    ("timestamp out of range", "outside the supported range"),
    ("escaped timestamp out of range", "outside the supported range"),
    ("shape early, bad JSON late", "invalid JSON"),
])
def test_import_file_refused_at_its_end_writes_nothing(node_factory, tmp_path, how, message):
    env = node_factory(start=False).env
    text, _ = big_export()
    path, db = str(tmp_path / "bad.json"), str(tmp_path / "bad.db")
    with open(path, "w") as f:
        f.write(corrupt_at_end(text, how))
    rc, err, _ = import_measured(env, path, db)
    assert rc == 1 and message in err and err.count("\n") == 1, err
    assert bucket_count(db) == 0 and stored_rows(db) == []
