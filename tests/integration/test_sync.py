"""Sync between real nodes (docs/sync.md, docs/sync-format.md): three nodes with their
own XDG directories, ports and device ids, one bare git repository as the remote.

Sync commands run through ``awnode sync``. A node's database is locked while it runs, so
``SyncDev.sync()`` stops the node, runs the command against its database and starts it
again; set ``AWNODE_SYNC_VIA_NODE=1`` to leave the node running and let the command ask
the node (POST /api/0/sync/now) instead.  Hostnames are passed with ``--hostname`` (all
test nodes share the machine's hostname), which the node route cannot do, so the default
is the stop/run/start path.
"""

import json
import os
import shutil
import subprocess
import time

from awtest import (SANITIZER_MARKERS, binary_path, get_events, heartbeat, insert_events,
                    new_bucket, quote_id)

PASSPHRASE = "a long test passphrase: correct horse battery staple"
VIA_NODE = os.environ.get("AWNODE_SYNC_VIA_NODE") == "1"
# Fast key derivation for tests (the default is 3 passes over 64 MiB).
KDF = ["--kdf-ops", "1", "--kdf-mem", "8"]

def sync_argv():
    return [binary_path(), "sync"]


class CliResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout.decode("utf-8", "replace")
        self.err = proc.stderr.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return "<rc=%d out=%r err=%r>" % (self.rc, self.out[-2000:], self.err[-2000:])


def run_cli(args, env, expect=0, timeout=120):
    proc = subprocess.run(sync_argv() + list(args), env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    res = CliResult(proc)
    for m in SANITIZER_MARKERS:
        assert m not in res.err, "sanitizer finding in `sync %s`:\n%s" % (" ".join(args), res.err)
    if expect is not None:
        assert res.rc == expect, "`sync %s` exited %d, expected %s: %r" % (
            " ".join(args), res.rc, expect, res)
    return res


class SyncDev:
    """A node plus what sync needs to know about it."""

    def __init__(self, node, host):
        self.node = node
        self.host = host
        self.client = node.client()
        with open(node.device_id_path) as f:
            self.device_id = f.read().strip()
        self.env = dict(node.env)
        self.env["AWNODE_SYNC_PASSPHRASE"] = PASSPHRASE

    @property
    def folder(self):
        return os.path.join(self.node.data_dir, "sync-testing")

    @property
    def db(self):
        return os.path.join(self.node.data_dir, "awnode-testing.db")

    def cli(self, *args, expect=0, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        return run_cli(list(args) + ["--testing", "--hostname", self.host], e, expect=expect)

    def sync(self, cmd="run", expect=0):
        """One `awnode sync push|pull|run` against this node's database."""
        if VIA_NODE and self.node.running:
            return self.cli(cmd, "--port", str(self.node.port), expect=expect)
        was_running = self.node.running
        if was_running:
            self.client.close()
            self.node.stop()
        try:
            return self.cli(cmd, expect=expect)
        finally:
            if was_running:
                self.node.start()

    def status(self):
        return self.cli("status", "--json").json()

    def device(self, device_id):
        for d in self.status()["devices"]:
            if d["device_id"] == device_id:
                return d
        return None

    def buckets(self):
        r = self.client.get("/api/0/buckets/")
        assert r.status == 200, r
        return r.json()

    def events(self, bid):
        return get_events(self.client, bid, "?limit=-1")


def make_group(node_factory, tmp_path, hosts, timed_rounds=True, sync_config=""):
    """Nodes for `hosts`, the first creating the group on a bare remote, the others joining.
    Without timed_rounds the nodes run only the rounds they are asked for (a test that
    pushes to the remote itself must not race a node's own round 10 s after a start).
    sync_config: more lines for the nodes' [sync] section."""
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    config = None if timed_rounds and not sync_config else "[sync]\n%s%s" % (
        "" if timed_rounds else "enabled = false\n", sync_config)
    devs = [SyncDev(node_factory(config=config), h) for h in hosts]
    devs[0].cli("init", "--remote", remote, *KDF)
    for d in devs[1:]:
        d.cli("join", remote)
    return remote, devs


def ts(minute, second=0, day=1):
    return "2021-03-%02dT10:%02d:%02dZ" % (day, minute, second)


def strip_ids(events):
    return [{k: v for k, v in e.items() if k != "id"} for e in events]


def record(dev, n=3, offset=0):
    """Window, AFK and web buckets for dev's host, with unique titles and URLs."""
    h = dev.host
    c = dev.client
    win, afk, web = "aw-watcher-window_" + h, "aw-watcher-afk_" + h, "aw-watcher-web-firefox_" + h
    new_bucket(c, win, type_="currentwindow", client_name="aw-watcher-window", hostname=h)
    new_bucket(c, afk, type_="afkstatus", client_name="aw-watcher-afk", hostname=h)
    new_bucket(c, web, type_="web.tab.current", client_name="aw-client-web", hostname=h)
    for i in range(n):
        insert_events(c, win, [{"timestamp": ts(offset + i * 2), "duration": 60.0,
                                "data": {"app": "editor", "title": "secret-title-%s-%d" % (h, i)}}])
        insert_events(c, web, [{"timestamp": ts(offset + i * 2), "duration": 30.0,
                                "data": {"url": "https://secret-url-%s.example/p%d" % (h, i),
                                         "title": "secret-page-%s-%d" % (h, i), "audible": False}}])
    for i in range(3):
        heartbeat(c, afk, {"timestamp": ts(offset, i * 10), "duration": 0,
                           "data": {"status": "not-afk"}}, 30)
    return [win, afk, web]


def assert_converged(devs, owned):
    """Every node has every device's buckets, event for event (ids aside)."""
    for src in devs:
        for bid in owned[src.host]:
            want = strip_ids(src.events(bid))
            for other in devs:
                if other is src:
                    continue
                got = strip_ids(other.events(bid))
                assert got == want, "bucket %s on %s differs from its origin %s" % (
                    bid, other.host, src.host)


def test_three_nodes_converge(node_factory, tmp_path):
    remote, devs = make_group(node_factory, tmp_path, ["host-alpha", "host-bravo", "host-charlie"])
    a, b, c = devs
    owned = {d.host: record(d, offset=i * 10) for i, d in enumerate(devs)}

    # rounds in varying orders; pushes and pulls interleaved
    a.sync("push")
    c.sync("pull")
    b.sync("run")
    c.sync("run")
    a.sync("pull")
    b.sync("pull")
    assert_converged(devs, owned)

    # remote buckets: origin hostname and device, read-only
    bk = b.buckets()
    win_a = bk["aw-watcher-window_host-alpha"]
    assert win_a["hostname"] == "host-alpha"
    assert win_a["data"]["$aw.sync.origin"] == "host-alpha"
    assert win_a["data"]["$aw.sync.device_id"] == a.device_id
    st = b.status()
    dev_a = [d for d in st["devices"] if d["device_id"] == a.device_id][0]
    assert dev_a["state"] == "ok" and dev_a["hostname"] == "host-alpha"
    assert dev_a["events_applied"] > 0
    assert st["push"]["generation"] == 1 and st["push"]["error"] is None

    # a further round changes nothing
    before = {d.host: d.client.get("/api/0/export").json() for d in devs}
    for d in devs:
        rep = d.sync("run")
        assert "pushed" not in rep.out and "imported" not in rep.out, rep
    for d in devs:
        assert d.client.get("/api/0/export").json() == before[d.host]

    # a heartbeat grows an event in place elsewhere; a deletion propagates
    win = "aw-watcher-window_host-alpha"
    last = a.events(win)[0]
    grown = heartbeat(a.client, win, {"timestamp": ts(5, 30), "duration": 0,
                                      "data": last["data"]}, 120)
    assert grown["id"] == last["id"] and grown["duration"] > last["duration"]
    oldest = a.events(win)[-1]
    r = a.client.delete("/api/0/buckets/%s/events/%d" % (quote_id(win), oldest["id"]))
    assert r.status == 200, r
    n_before = len(b.events(win))
    local_ids = {d.host: d.events(win)[0]["id"] for d in (b, c)}
    a.sync("push")
    b.sync("pull")
    c.sync("pull")
    for other in (b, c):
        evs = other.events(win)
        assert len(evs) == n_before - 1
        assert strip_ids(evs) == strip_ids(a.events(win))
        assert evs[0]["timestamp"] == last["timestamp"]
        assert evs[0]["duration"] == grown["duration"]
        assert evs[0]["id"] == local_ids[other.host]  # updated in place

    # a deleted bucket disappears on the other nodes
    web = "aw-watcher-web-firefox_host-charlie"
    assert c.client.delete("/api/0/buckets/%s?force=1" % quote_id(web)).status == 200
    c.sync("push")
    a.sync("pull")
    assert web not in a.buckets()

    # the origin's buckets are never re-exported by another device
    insp = c.cli("inspect", "--segments", "--json").json()
    by_dev = {d["device_id"]: d for d in insp}
    for d in devs:
        seen = {blk["bucket"] for s in by_dev[d.device_id]["segments"] for blk in s["blocks"]}
        assert seen <= set(owned[d.host]), (d.host, seen)
        assert set(by_dev[d.device_id]["buckets"]) <= set(owned[d.host])
    assert not any("-synced-from-" in bid for d in devs for bid in d.buckets())

    # no plaintext anywhere in the remote's history or in any node's folder
    secrets = ["host-alpha", "host-bravo", "host-charlie", "secret-title", "secret-url",
               "secret-page", "aw-watcher-window", "aw-watcher-afk", "aw-watcher-web",
               "editor", "not-afk", PASSPHRASE]
    assert_no_plaintext(remote, secrets)
    for d in devs:
        assert_no_plaintext(d.folder, secrets)


def git_objects(repo):
    """The contents of every object in a repository (decompressed by git)."""
    out = subprocess.run(["git", "-C", repo, "cat-file", "--batch-all-objects", "--batch"],
                         capture_output=True, check=True).stdout
    objs, i = [], 0
    while i < len(out):
        nl = out.index(b"\n", i)
        _oid, _kind, size = out[i:nl].split(b" ")
        start = nl + 1
        objs.append(out[start:start + int(size)])
        i = start + int(size) + 1
    return objs


def assert_no_plaintext(repo, secrets):
    needles = [s.encode() for s in secrets]
    objs = git_objects(repo)
    assert objs, "no git objects in %s" % repo
    for blob in objs:
        for n in needles:
            assert n not in blob, "%r found in a git object of %s" % (n, repo)
    # and every file on disk (work tree, config, refs, packs)
    for root, _dirs, files in os.walk(repo):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                data = fh.read()
            for n in needles:
                assert n not in data, "%r found in %s" % (n, os.path.join(root, f))


def test_remote_buckets_read_only(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    record(a, n=2)
    a.sync("push")
    b.sync("pull")
    win = "aw-watcher-window_host-one"
    q = quote_id(win)
    ev = b.events(win)[0]
    ev_body = {"timestamp": ts(30), "duration": 1.0, "data": {"app": "x"}}
    for r in (b.client.post("/api/0/buckets/%s/events" % q, json=[ev_body]),
              b.client.post("/api/0/buckets/%s/heartbeat?pulsetime=10" % q, json=ev_body),
              b.client.delete("/api/0/buckets/%s/events/%d" % (q, ev["id"])),
              b.client.delete("/api/0/buckets/%s?force=1" % q)):
        assert r.status == 403, r
        assert r.json().get("message"), r
    assert strip_ids(b.events(win)) == strip_ids(a.events(win))


def test_id_taken_locally_gets_suffix(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    for d in (a, b):
        new_bucket(d.client, "shared-bucket", hostname=d.host)
        insert_events(d.client, "shared-bucket",
                      [{"timestamp": ts(1), "duration": 1.0, "data": {"from": d.host}}])
    a.sync("push")
    b.sync("pull")
    bk = b.buckets()
    assert bk["shared-bucket"]["hostname"] == "host-two"
    synced = bk["shared-bucket-synced-from-host-one"]
    assert synced["hostname"] == "host-one"
    assert b.events("shared-bucket-synced-from-host-one")[0]["data"] == {"from": "host-one"}
    assert b.events("shared-bucket")[0]["data"] == {"from": "host-two"}
    # b's own bucket is exported under its own id; a sees it with the suffix too
    b.sync("push")
    a.sync("pull")
    assert a.events("shared-bucket-synced-from-host-two")[0]["data"] == {"from": "host-two"}


def test_forget_device(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    owned = record(a, n=1)
    a.sync("push")
    b.sync("pull")
    assert set(owned) <= set(b.buckets())
    b.node.stop()
    res = b.cli("forget", "host-one")
    assert "3 buckets removed" in res.out
    b.node.start()
    assert not set(owned) & set(b.buckets())
    b.sync("pull")  # forgotten: not imported again
    assert not set(owned) & set(b.buckets())
    assert b.device(a.device_id)["state"] == "forgotten"
    b.node.stop()
    b.cli("forget", a.device_id, "--undo")
    b.node.start()
    b.sync("pull")
    assert set(owned) <= set(b.buckets())
    assert strip_ids(b.events(owned[0])) == strip_ids(a.events(owned[0]))


def remove_db(dev):
    for suffix in ("", "-wal", "-shm", ".lock"):
        if os.path.exists(dev.db + suffix):
            os.unlink(dev.db + suffix)


def test_restore(node_factory, tmp_path):
    remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    owned = record(a, n=4)
    record(b, n=1, offset=20)
    win = owned[0]
    # some history to replay: growth, a deletion, a bucket deleted and recreated
    heartbeat(a.client, owned[1], {"timestamp": ts(0, 25), "duration": 0,
                                   "data": {"status": "not-afk"}}, 30)
    a.sync("run")
    r = a.client.delete("/api/0/buckets/%s/events/%d" % (quote_id(win), a.events(win)[1]["id"]))
    assert r.status == 200
    assert a.client.delete("/api/0/buckets/%s?force=1" % quote_id(owned[2])).status == 200
    new_bucket(a.client, owned[2], type_="web.tab.current", hostname="host-one")
    insert_events(a.client, owned[2], [{"timestamp": ts(50), "duration": 2.0,
                                        "data": {"url": "https://secret-url-x.example/"}}])
    a.sync("run")
    b.sync("run")
    original = a.client.get("/api/0/export").json()["buckets"]
    original_buckets = a.buckets()

    # the device is lost: database gone, same XDG dirs (device_id, key, folder) remain
    a.node.stop()
    remove_db(a)
    res = a.cli("restore")
    assert "restored 3 buckets" in res.out, res
    a.node.start()
    restored = a.client.get("/api/0/export").json()["buckets"]
    for bid in owned:
        assert restored[bid]["events"] == original[bid]["events"], bid  # ids kept
        for k in ("type", "client", "hostname", "created", "data"):
            assert restored[bid][k] == original[bid][k], (bid, k)
        assert original_buckets[bid]["hostname"] == a.buckets()[bid]["hostname"]
    # writable again, and publishing continues where it stopped
    insert_events(a.client, win, [{"timestamp": ts(58), "duration": 1.0,
                                   "data": {"app": "after-restore"}}])
    rep = a.sync("run")
    assert "pushed generation 3: 1 events" in rep.out, rep
    assert "aw-watcher-window_host-two" in a.buckets()  # the other device came back
    b.sync("pull")
    assert strip_ids(b.events(win)) == strip_ids(a.events(win))


def test_restore_chooses_device(node_factory, tmp_path):
    _remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    owned = record(a, n=2)
    a.sync("push")
    # a fresh install elsewhere: new XDG dirs, joins, restores a's device by id
    fresh = SyncDev(node_factory(), "host-one")
    fresh.cli("join", _remote)
    fresh.node.stop()
    remove_db(fresh)
    res = fresh.cli("restore", expect=1)
    assert "has nothing in the sync folder" in res.err, res
    assert a.device_id in res.err  # the devices in the folder are listed
    res = fresh.cli("restore", "--device-id", a.device_id)
    assert "restored 3 buckets" in res.out
    with open(fresh.node.device_id_path) as f:
        assert f.read().strip() == a.device_id
    fresh.node.start()
    for bid in owned:
        assert fresh.events(bid) == a.events(bid)


def test_cli_usage_and_errors(node_factory, tmp_path):
    d = SyncDev(node_factory(), "host-one")
    for cmd in ("init", "join", "push", "pull", "run", "compact", "status", "remote", "forget", "restore",
                "inspect"):
        res = d.cli(cmd, "--help")
        assert res.out.startswith("usage: awnode sync %s" % cmd), res
    assert "usage: awnode sync <command>" in d.cli("--help").out
    for args in (["bogus"], ["push", "--bogus"], ["push", "extra"], ["compact", "extra"], ["init", "--json"],
                 ["remote"], ["remote", "frob"], ["forget"], ["init", "--kdf-ops", "x"]):
        res = d.cli(*args, expect=2)
        assert res.err.count("\n") == 1 and res.err.startswith("awnode sync: "), (args, res)
    d.node.stop()
    res = d.cli("push", expect=1)
    assert "not set up" in res.err and res.err.count("\n") == 1, res
    res = d.cli("compact", expect=1)
    assert "not set up" in res.err and res.err.count("\n") == 1, res
    res = d.cli("status")
    assert "not set up" in res.out
    d.node.start()
    remote = str(tmp_path / "r.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    res = d.cli("join", remote, expect=1)
    assert "holds no sync group yet" in res.err
    d.cli("init", "--remote", remote, *KDF)
    res = d.cli("init", expect=1)
    assert "already a sync folder" in res.err
    res = d.cli("remote", "add", "second", str(tmp_path / "r2.git"))
    lst = d.cli("remote", "list").out
    assert "origin\t" + remote in lst and "second\t" in lst
    d.cli("remote", "add", "second", "x", expect=1)
    d.cli("remote", "remove", "second")
    assert "second" not in d.cli("remote", "list").out
    d.cli("remote", "remove", "second", expect=1)
    # wrong passphrase
    other = SyncDev(node_factory(), "host-two")
    res = other.cli("join", remote, expect=1, env={"AWNODE_SYNC_PASSPHRASE": "not it at all"})
    assert "wrong passphrase" in res.err and res.err.count("\n") == 1, res
    # no passphrase and no terminal
    env = dict(other.env)
    del env["AWNODE_SYNC_PASSPHRASE"]
    res = run_cli(["join", remote, "--testing"], env, expect=1)
    assert "no passphrase" in res.err
    # passphrase from a file; then the right one works
    pf = tmp_path / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    run_cli(["join", remote, "--testing", "--passphrase-file", str(pf)], env)
    assert "already joined" in other.cli("join", remote).out
    # a key file readable by others is refused
    key = os.path.join(other.node.data_dir, "sync-testing.key")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    os.chmod(key, 0o644)
    other.node.stop()
    res = other.cli("push", expect=1)
    assert "chmod 600" in res.err
    other.node.start()
    # forget and restore refuse while the node runs
    assert "in use by a running node" in other.cli("forget", "x", expect=1).err
    assert "in use by a running node" in other.cli("restore", expect=1).err


def test_merged_window_query(node_factory, tmp_path):
    """The all-devices query of docs/sync.md on each of three synced nodes: every moment
    counts once (the device whose activity began last owns an overlap), the per-device
    parts add up, and every node answers the same."""
    _remote, devs = make_group(node_factory, tmp_path, ["host-one", "host-two", "host-three"])
    # (window spans in minutes after 10:00, not-afk spans): host-two is active inside
    # host-one's window time; host-three overlaps both and has a second, lone span
    spans = {"host-one": ([(0, 10, "a"), (10, 25, "a2")], [(0, 25)]),
             "host-two": ([(5, 20, "b")], [(0, 18)]),
             "host-three": ([(15, 40, "c")], [(16, 30), (35, 50)])}
    for d in devs:
        wins, afks = spans[d.host]
        win, afk = "aw-watcher-window_" + d.host, "aw-watcher-afk_" + d.host
        new_bucket(d.client, win, type_="currentwindow", hostname=d.host)
        new_bucket(d.client, afk, type_="afkstatus", hostname=d.host)
        insert_events(d.client, win, [{"timestamp": ts(s), "duration": (e - s) * 60.0,
                                       "data": {"app": app, "title": app}} for s, e, app in wins])
        insert_events(d.client, afk, [{"timestamp": ts(s), "duration": (e - s) * 60.0,
                                       "data": {"status": "not-afk"}} for s, e in afks])
    for d in devs:
        d.sync("push")
    for d in devs:
        d.sync("pull")
    # independently: per host, window minutes inside not-afk minutes; then the union
    active = {h: {m for s, e, _ in w for m in range(s, e) if any(a <= m < b for a, b in na)}
              for h, (w, na) in spans.items()}
    union = set().union(*active.values())
    answers = []
    for d in devs:
        r = d.client.post("/api/0/query/", json={
            "timeperiods": ["2021-03-01T00:00:00Z/2021-03-02T00:00:00Z"],
            "query": multidevice_query([x.host for x in devs])})
        assert r.status == 200, r
        answers.append(r.json()[0])
    assert answers[1:] == answers[:-1], "nodes disagree"
    res = answers[0]
    assert res["duration"] == len(union) * 60.0 == 35 * 60.0
    per_device = {e["data"]["$device"]: e["duration"] for e in res["devices"]}
    assert sum(per_device.values()) == res["duration"]
    # 10:00 one; 10:05 two (began later); 10:10 one again (a window switch is newer
    # input); 10:16-10:30 and 10:35-10:40 three
    assert per_device == {"host-one": 660.0, "host-two": 300.0, "host-three": 1140.0}
    apps = {e["data"]["app"]: e["duration"] for e in res["apps"]}
    assert apps == {"a": 300.0, "a2": 360.0, "b": 300.0, "c": 1140.0}


def multidevice_query(hosts):
    """The all-devices query documented in docs/sync.md."""
    q = []
    for h in hosts:
        v = "".join(ch for ch in h if ch.isalnum())
        q += ['w_%s = flood(query_bucket("aw-watcher-window_%s"));' % (v, h),
              'a_%s = flood(query_bucket("aw-watcher-afk_%s"));' % (v, h),
              'a_%s = filter_keyvals(a_%s, "status", ["not-afk"]);' % (v, v),
              'w_%s = set_keyval(filter_period_intersect(w_%s, a_%s), "$device", "%s");' % (v, v, v, h)]
    q += ["events = union_exact(%s);" % ", ".join(
              "w_" + "".join(ch for ch in h if ch.isalnum()) for h in hosts),
          'apps = sort_by_duration(merge_events_by_keys(events, ["app"]));',
          'devices = merge_events_by_keys(events, ["$device"]);',
          'duration = sum_durations(events);',
          'RETURN = {"apps": apps, "devices": devices, "duration": duration};']
    return q


def test_node_route(node_factory, tmp_path):
    """GET /api/0/sync/status and POST /api/0/sync/now on a running node."""
    _remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"])
    r = a.client.get("/api/0/sync/status")
    assert r.status == 200, r
    st = r.json()
    assert st["configured"] is True and st["device_id"] == a.device_id
    record(a, n=1)
    for bad in ("bogus", 5, None, "COMPACT"):
        r = a.client.post("/api/0/sync/now", json={"mode": bad})
        assert r.status == 422, (bad, r)
        assert "compact" in r.json()["message"], r.json()
    r = a.client.post("/api/0/sync/now", json={"mode": "push"})
    assert r.status == 200, r
    assert r.json()["pushed"] is True
    # the CLI asks the running node
    res = b.cli("pull", "--port", str(b.node.port))
    assert "imported 1 segments" in res.out, res
    assert "aw-watcher-window_host-one" in b.buckets()


def remote_objects(remote):
    """(pack files, loose objects) of a bare repository."""
    objs = os.path.join(remote, "objects")
    packs = [f for f in os.listdir(os.path.join(objs, "pack")) if f.endswith(".pack")]
    loose = [d + f for d in os.listdir(objs) if len(d) == 2 for f in os.listdir(os.path.join(objs, d))]
    return packs, loose


def test_local_remote_stays_packed(node_factory, tmp_path):
    """A bare repository on a path has nobody to repack it: each push leaves a pack, so
    the device that pushes repacks it (docs/sync.md) without removing what it did not
    pack itself (an object another device's concurrent push may rely on) and keeps few
    packs."""
    remote, (a,) = make_group(node_factory, tmp_path, ["host-one"])
    # an object nothing refers to, as a push still in flight would leave it
    stray = subprocess.run(["git", "--git-dir", remote, "hash-object", "-w", "--stdin"], input=b"in flight\n",
                           stdout=subprocess.PIPE, check=True).stdout.decode().strip()
    win = "aw-watcher-window_host-one"
    new_bucket(a.client, win, type_="currentwindow", hostname="host-one")
    # a reflog as versions that kept one left it, with their setting
    subprocess.run(["git", "-C", a.folder, "config", "--unset", "core.logAllRefUpdates"], check=True)
    logs = os.path.join(a.folder, ".git", "logs", "refs", "heads")
    os.makedirs(logs, exist_ok=True)
    with open(os.path.join(logs, "main"), "w") as f:
        f.write("0" * 40 + " " + "1" * 40 + " awnode <awnode@localhost> 1600000000 +0000\tcommit\n")
    most_packs = 0
    for i in range(40):
        insert_events(a.client, win, [{"timestamp": ts(i % 60, day=2 + i // 60), "duration": 5.0,
                                       "data": {"app": "a", "title": "round %d" % i}}])
        a.cli("run", "--port", str(a.node.port))
        packs, _loose = remote_objects(remote)
        most_packs = max(most_packs, len(packs))
    packs, loose = remote_objects(remote)
    assert most_packs <= 13 and len(packs) <= 13, (most_packs, packs)  # docs/sync-format.md §8
    # the stray object may have been packed with the loose ones, never dropped
    kept = subprocess.run(["git", "--git-dir", remote, "cat-file", "-e", stray])
    assert kept.returncode == 0, "an object nothing refers to was removed"
    assert len(loose) < 20, loose  # the pushes' own objects went into the pack
    fsck = subprocess.run(["git", "--git-dir", remote, "fsck", "--no-dangling"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    assert fsck.returncode == 0, fsck.stdout
    # no reflog (an entry per round, read by nothing), and the old one is gone
    assert not os.path.exists(os.path.join(a.folder, ".git", "logs")), os.listdir(os.path.join(a.folder, ".git", "logs"))
    # the folder too: 40 rounds leave about 320 loose objects, past the 256 that are packed
    fpacks, floose = remote_objects(os.path.join(a.folder, ".git"))
    assert len(floose) < 256 and 1 <= len(fpacks) <= 13, (len(floose), fpacks)
    fsck = subprocess.run(["git", "--git-dir", os.path.join(a.folder, ".git"), "fsck", "--no-dangling"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert fsck.returncode == 0, fsck.stdout
    # a device joining afterwards gets everything
    b = SyncDev(node_factory(), "host-two")
    b.cli("join", remote)
    b.sync("pull")
    assert strip_ids(b.events(win)) == strip_ids(a.events(win))
    assert len(a.events(win)) == 40


def test_a_failure_that_repeats_is_logged_once_and_its_end_too(node_factory, tmp_path):
    """A remote on a disk that is not plugged in fails every round, for days: the node's
    log says so when it begins (and at most every few hours after), not every round."""
    remote, (dev,) = make_group(node_factory, tmp_path, ["host-one"], timed_rounds=False)
    dev.sync("run")
    os.rename(remote, remote + ".unplugged")
    for _ in range(4):
        r = dev.client.post("/api/0/sync/now", json={"mode": "both"})
        assert r.status == 200 and r.json()["error"], r.json()
    assert "is not there (is the disk it is on mounted?)" in r.json()["error"], r.json()
    log = dev.node.stderr_text()
    assert log.count("sync round failed") == 1, log
    os.rename(remote + ".unplugged", remote)
    r = dev.client.post("/api/0/sync/now", json={"mode": "both"})
    assert r.status == 200 and not r.json().get("error"), r.json()
    log = dev.node.stderr_text()
    assert "sync round succeeded after 4 failed rounds" in log, log
    os.rename(remote, remote + ".unplugged")
    dev.client.post("/api/0/sync/now", json={"mode": "both"})
    assert dev.node.stderr_text().count("sync round failed") == 2  # a new failure is news again


def test_folder_replaced_by_an_older_copy_is_refused(node_factory, tmp_path):
    """The device's sync folder replaced by an older copy of itself (a backup put back),
    once as it was and once with another file where the device's newest segment was
    (a cloned disk whose other copy went on under the same id): the next round refuses
    to publish after those files, instead of forking the device's own history
    (docs/sync.md, "Troubleshooting"). Since a round publishes its segment without a
    new manifest (docs/sync-format.md §6), the device finds its newest segment from
    what it remembers publishing, and only where that file is still the same."""
    remote, (a,) = make_group(node_factory, tmp_path, ["host-roll"], timed_rounds=False)
    win = "aw-watcher-window_host-roll"
    new_bucket(a.client, win, type_="currentwindow", hostname=a.host)

    def publish(minute):
        insert_events(a.client, win, [{"timestamp": ts(minute), "duration": 5.0,
                                       "data": {"app": "editor", "title": "t%d" % minute}}])
        a.sync("push")

    publish(1)
    old = str(tmp_path / "old-folder")
    shutil.copytree(a.folder, old, symlinks=True)
    publish(2)
    publish(3)
    (info,) = a.cli("inspect", a.device_id, "--json").json()
    assert info["generation"] == 3 and info["manifest_generation"] == 1, info
    tip = subprocess.run(["git", "-C", remote, "rev-parse", "main"], capture_output=True, text=True).stdout

    def put_back(extra_file):
        shutil.rmtree(a.folder)
        shutil.copytree(old, a.folder, symlinks=True)
        if extra_file:
            rel = "devices/%s/seg/000000/000000000003.aws" % a.device_id
            os.makedirs(os.path.dirname(os.path.join(a.folder, rel)), exist_ok=True)
            with open(os.path.join(a.folder, rel), "wb") as f:
                f.write(b"AWSENC1\n" + os.urandom(200))
            g = ["git", "-C", a.folder, "-c", "user.name=x", "-c", "user.email=x@example.invalid"]
            subprocess.run(g + ["add", rel], check=True)
            subprocess.run(g + ["commit", "-q", "-m", "other copy"], check=True)
        insert_events(a.client, win, [{"timestamp": ts(9), "duration": 5.0,
                                       "data": {"app": "editor", "title": "after"}}])
        res = a.sync("push", expect=1)
        assert "older than what it already published (generation 1 < 3)" in res.err, res
        assert subprocess.run(["git", "-C", remote, "rev-parse", "main"], capture_output=True,
                              text=True).stdout == tip

    put_back(False)
    put_back(True)
