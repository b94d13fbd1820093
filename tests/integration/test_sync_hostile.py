"""Sync against a hostile git remote (docs/sync-format.md §9): whoever holds the remote
needs no key to craft commits, so every tree a device is about to check out, fast-forward
to, merge or recover into must be refused as a whole when it holds anything but the
format's own files: paths that climb out of the folder ("../", "..", a single entry
named with slashes), entries under ".git" or ".GIT", symbolic links, submodule links,
files larger than the format allows. A refused tree writes nothing anywhere (the whole
test home is scanned), leaves the branch and the work tree as they were, names the
remote in the status, and the next round works again once the remote is clean.

Trees are crafted as raw git objects (``git hash-object -t tree --literally``) because
git's own porcelain refuses to build most of them."""

import hashlib
import json
import os
import re
import subprocess
import time

import pytest

from awtest import binary_path, insert_events, new_bucket
from test_sync import KDF, SyncDev, make_group, strip_ids
from test_sync_tamper import Attacker

MARK = b"awnode-hostile-payload"


# ---- crafting git objects -------------------------------------------------------------

class Forge(Attacker):
    """The attacker's clone of the remote, where commits are built from raw objects."""

    def git(self, *args, data=None, capture=True):
        r = subprocess.run(["git", "-C", self.wt, "-c", "user.name=mallory",
                            "-c", "user.email=mallory@example.invalid"] + list(args),
                           input=data, check=True, capture_output=True)
        return r.stdout.decode().strip()

    def blob(self, data):
        return self.git("hash-object", "-w", "--stdin", data=data)

    def zeros(self, tmp_path, size=200 << 20):
        """A blob of `size` zero bytes: compressed it is a few hundred KiB."""
        big = tmp_path / "zeros"
        with open(big, "wb") as f:
            f.truncate(size)
        oid = self.git("hash-object", "-w", str(big))
        big.unlink()
        return oid

    def tree(self, entries):
        """entries: [(mode, name, hex id)]; written verbatim, names unchecked."""
        raw = b""
        for mode, name, oid in sorted(entries, key=lambda e: e[1].encode()):
            raw += mode.encode() + b" " + name.encode() + b"\0" + bytes.fromhex(oid)
        return self.git("hash-object", "-t", "tree", "--literally", "-w", "--stdin", data=raw)

    def ls(self, treeish):
        """[(mode, name, id)] of a tree."""
        out = self.git("ls-tree", treeish)
        rows = []
        for line in out.splitlines():
            meta, name = line.split("\t", 1)
            mode, _type, oid = meta.split()
            rows.append((mode, name, oid))
        return rows

    def root_plus(self, *extra, replace=None):
        """HEAD's root tree with extra entries (and entries replaced by name)."""
        rows = [r for r in self.ls("HEAD") if not replace or r[1] not in replace]
        return self.tree(rows + list(extra) + list((replace or {}).values()))

    def publish(self, tree, msg="x"):  # a tree, where Attacker publishes the work tree
        commit = self.git("commit-tree", tree, "-p", "HEAD", "-m", msg)
        self.git("push", "-q", "-f", "origin", "%s:refs/heads/main" % commit)
        self.git("reset", "-q", "--soft", commit)
        return commit

    def clean(self, good=None):
        """A commit on top of the attacker's history that restores a valid tree (by
        default the one before the last commit)."""
        good = good or self.git("rev-parse", "HEAD~1^{tree}")
        return self.publish(good, "clean")


def snapshot(root):
    """{path: (size, sha256)} of every file under root, symbolic links included."""
    seen = {}
    for d, dirs, files in os.walk(root):
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)
            try:
                if os.path.islink(p):
                    seen[p] = ("link", os.readlink(p))
                else:
                    with open(p, "rb") as f:
                        seen[p] = (os.path.getsize(p), hashlib.sha256(f.read()).hexdigest())
            except OSError:
                pass
    return seen


def payload_files(root):
    """Files under root that hold the attacker's payload, or are named after it."""
    hits = []
    for d, _dirs, files in os.walk(root):
        for n in files:
            p = os.path.join(d, n)
            if "evil" in n:
                hits.append(p)
                continue
            try:
                if os.path.getsize(p) < (1 << 20):
                    with open(p, "rb") as f:
                        if MARK in f.read():
                            hits.append(p)
            except OSError:
                pass
    return [h for h in hits if "/forge" not in h and "/remote.git" not in h]


def add_event(dev, title, minute):
    insert_events(dev.client, "aw-watcher-window_" + dev.host,
                  [{"timestamp": "2021-04-02T09:%02d:00Z" % minute, "duration": 5.0,
                    "data": {"app": "editor", "title": title}}])


def branch(dev):
    return subprocess.run(["git", "-C", dev.folder, "rev-parse", "refs/heads/main"],
                          capture_output=True, check=True).stdout.decode().strip()


@pytest.fixture
def pair(node_factory, tmp_path):
    """Devices a and b in one group on a bare remote; both have published once and a
    has imported b. Returns (remote, a, b, forge)."""
    remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"], timed_rounds=False)
    for d in (a, b):
        new_bucket(d.client, "aw-watcher-window_" + d.host, type_="currentwindow", hostname=d.host)
        add_event(d, "start-" + d.host, 0)
        d.sync("run")
    a.sync("run")
    forge = Forge(remote, tmp_path / "forge")
    return remote, a, b, forge


def evil_trees(forge, b_id):
    """(label, root tree id) for each way of reaching outside the folder."""
    payload = forge.blob(MARK + b" written outside the sync folder\n")
    out = []
    # a single root entry whose name climbs out
    out.append(("slash-name", forge.root_plus(("100644", "../../evil-slash.txt", payload))))
    # nested trees named ".."
    t = forge.tree([("100644", "evil-dotdot.txt", payload)])
    t = forge.tree([("40000", "..", t)])
    out.append(("dotdot-trees", forge.root_plus(("40000", "..", t))))
    # into the repository's own .git (hooks, config), and the case-folded variant
    hooks = forge.tree([("100644", "evil-hook", payload)])
    out.append(("dot-git", forge.root_plus(("40000", ".git", forge.tree([("40000", "hooks", hooks)])))))
    out.append(("dot-GIT", forge.root_plus(("40000", ".GIT", forge.tree([("40000", "hooks", hooks)])))))
    # a slash-named entry inside another device's directory
    dev_rows = forge.ls("HEAD:devices/%s" % b_id)
    dev_tree = forge.tree(dev_rows + [("100644", "../../../../evil-in-device.txt", payload)])
    devices = forge.tree([r for r in forge.ls("HEAD:devices") if r[1] != b_id] + [("40000", b_id, dev_tree)])
    out.append(("device-slash", forge.root_plus(replace={"devices": ("40000", "devices", devices)})))
    # a symbolic link where a directory of the format is expected
    link = forge.blob(b"/tmp")
    dev_tree = forge.tree([r for r in dev_rows if r[1] != "seg"] + [("120000", "seg", link)])
    devices = forge.tree([r for r in forge.ls("HEAD:devices") if r[1] != b_id] + [("40000", b_id, dev_tree)])
    out.append(("symlink", forge.root_plus(replace={"devices": ("40000", "devices", devices)})))
    # an executable file and an unknown file at the top
    out.append(("exec-mode", forge.root_plus(("100755", "evil-exec.sh", payload))))
    return out


def test_paths_outside_the_folder_are_refused(pair, tmp_path):
    remote, a, b, forge = pair
    before = snapshot(str(tmp_path))
    a_branch = branch(a)
    events_before = strip_ids(a.events("aw-watcher-window_host-two"))
    for label, tree in evil_trees(forge, b.device_id):
        forge.publish(tree, label)
        res = a.sync("pull", expect=None)
        assert res.rc != 0, (label, res)
        assert "refused" in res.err and "'origin'" in res.err, (label, res)
        assert payload_files(str(tmp_path)) == [], label
        assert branch(a) == a_branch, label  # HEAD never moved
        st = a.status()
        assert "refused" in (st["pull"]["error"] or ""), (label, st["pull"])
        assert "origin" in st["pull"]["error"], st["pull"]
        forge.clean()
    # nothing but the sync folder's git internals changed anywhere in the test home
    after = snapshot(str(tmp_path))
    changed = [p for p in set(before) | set(after) if before.get(p) != after.get(p)]
    outside = [p for p in changed if not p.startswith(a.folder + "/.git/")
               and "/forge" not in p and "/remote.git" not in p
               and not p.startswith(a.node.data_dir + "/awnode-testing.db")
               and not p.startswith(b.node.data_dir)
               and not re.match(r"std(out|err)-\d+\.log$", os.path.basename(p))
               and not p.endswith("/awnode-testing.log")]
    assert outside == [], outside
    # the remote is clean again: the next round works and b's new events arrive
    add_event(b, "after-attack", 30)
    b.sync("run")
    a.sync("run")
    assert a.device(b.device_id)["state"] == "ok"
    got = strip_ids(a.events("aw-watcher-window_host-two"))
    assert len(got) == len(events_before) + 1
    assert strip_ids(b.events("aw-watcher-window_host-two")) == got


def test_join_refuses_before_writing_anything(node_factory, pair, tmp_path):
    remote, a, b, forge = pair
    label, tree = evil_trees(forge, b.device_id)[1]  # nested ".." trees
    forge.publish(tree, label)
    c = SyncDev(node_factory(), "host-three")
    res = c.cli("join", remote, expect=None)
    assert res.rc != 0 and "refused" in res.err, res
    assert payload_files(str(tmp_path)) == []
    assert not os.path.exists(os.path.join(c.folder, "awsync.json"))
    # once the remote is clean, joining again in the same folder works
    forge.clean()
    c.cli("join", remote)
    c.sync("pull")
    assert strip_ids(c.events("aw-watcher-window_host-two")) == strip_ids(b.events("aw-watcher-window_host-two"))


def test_running_node_refuses_and_recovers(pair, tmp_path):
    """The node's own unattended round (POST /api/0/sync/now)."""
    remote, a, b, forge = pair
    label, tree = evil_trees(forge, b.device_id)[0]
    forge.publish(tree, label)
    r = a.client.post("/api/0/sync/now", json={})
    body = r.json()
    assert body["status"] == "error", body
    assert "refused" in body["error"] and "origin" in body["error"], body
    assert payload_files(str(tmp_path)) == []
    st = a.client.get("/api/0/sync/status").json()
    assert "refused" in (st["pull"]["error"] or ""), st["pull"]
    forge.clean()
    r = a.client.post("/api/0/sync/now", json={})
    assert r.json()["status"] == "ok", r.json()


def test_gitlink_does_not_wedge_sync(pair):
    """A submodule entry used to move the branch and then fail every later round with
    "object not found"; now it is refused, and sync works once it is gone."""
    remote, a, b, forge = pair
    ghost = "1234567890abcdef1234567890abcdef12345678"  # a commit nobody has
    dev_rows = forge.ls("HEAD:devices/%s" % b.device_id)
    dev_tree = forge.tree(dev_rows + [("160000", "module", ghost)])
    devices = forge.tree([r for r in forge.ls("HEAD:devices") if r[1] != b.device_id]
                         + [("40000", b.device_id, dev_tree)])
    forge.publish(forge.root_plus(replace={"devices": ("40000", "devices", devices)}), "gitlink")
    for _ in range(2):
        res = a.sync("run", expect=None)
        assert res.rc != 0 and "submodule" in res.err, res
    forge.clean()
    add_event(b, "after-gitlink", 31)
    b.sync("run")
    a.sync("run")
    assert a.device(b.device_id)["state"] == "ok"
    assert strip_ids(a.events("aw-watcher-window_host-two")) == strip_ids(b.events("aw-watcher-window_host-two"))
    assert not os.path.exists(os.path.join(a.folder, ".git", "awsync-worktree-pending"))


def peak_rss_kb(argv, env):
    """Run argv; its exit code, stderr and peak resident set in KiB, read from VmHWM
    while it runs. (The rusage of a waited child is no use here: Linux carries the
    forking test process's own high-water mark across exec.)"""
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    peak = 0
    status = "/proc/%d/status" % p.pid
    while p.poll() is None:
        try:
            with open(status) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.002)
    return p.returncode, p.stderr.read().decode("utf-8", "replace"), peak


def test_oversized_blob_is_refused_before_it_is_inflated(pair, tmp_path):
    """200 MiB of zeros compress to a few hundred KiB: the victim must neither inflate
    nor write it."""
    remote, a, b, forge = pair
    oid = forge.zeros(tmp_path)
    seg_dir = forge.ls("HEAD:devices/%s/seg" % b.device_id)
    shard = forge.ls("HEAD:devices/%s/seg/%s" % (b.device_id, seg_dir[0][1]))
    shard_tree = forge.tree(shard + [("100644", "000000000099.aws", oid)])
    seg_tree = forge.tree([(m, n, i) if n != seg_dir[0][1] else ("40000", n, shard_tree)
                           for m, n, i in seg_dir])
    dev_rows = [r for r in forge.ls("HEAD:devices/%s" % b.device_id) if r[1] != "seg"]
    dev_tree = forge.tree(dev_rows + [("40000", "seg", seg_tree)])
    devices = forge.tree([r for r in forge.ls("HEAD:devices") if r[1] != b.device_id]
                         + [("40000", b.device_id, dev_tree)])
    forge.publish(forge.root_plus(replace={"devices": ("40000", "devices", devices)}), "big")
    a.client.close()
    a.node.stop()
    try:
        env = dict(a.env)
        rc, err, rss = peak_rss_kb([binary_path(), "sync", "pull", "--testing", "--hostname", a.host], env)
    finally:
        a.node.start()
    assert rss < 150 * 1024, "peak RSS %d KiB while refusing a 200 MiB blob" % rss
    assert rc != 0 and "too large" in err, err
    for d, _dirs, files in os.walk(a.folder):
        for n in files:
            assert os.path.getsize(os.path.join(d, n)) < (64 << 20), os.path.join(d, n)


def test_kdf_limits_beyond_the_bounds_are_refused(node_factory, tmp_path):
    """An edited awsync.json asking for 4 GiB and 64 passes must not make a joining
    device spend them."""
    remote = str(tmp_path / "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    a = SyncDev(node_factory(), "host-one")
    a.cli("init", "--remote", remote, *KDF)
    forge = Forge(remote, tmp_path / "forge")
    doc = json.loads(open(os.path.join(forge.wt, "awsync.json")).read())
    doc["kdf"]["memlimit"] = 4 << 30
    doc["kdf"]["opslimit"] = 64
    open(os.path.join(forge.wt, "awsync.json"), "w").write(json.dumps(doc))
    forge.git("commit", "-q", "-am", "kdf")
    forge.git("push", "-q", "origin", "HEAD:main")
    c = SyncDev(node_factory(), "host-three")
    t0 = time.monotonic()
    res = c.cli("join", remote, expect=None)
    assert res.rc != 0 and "Argon2id limits out of range" in res.err, res
    assert time.monotonic() - t0 < 60
    # init refuses the same bounds
    d = SyncDev(node_factory(), "host-four")
    res = d.cli("init", "--kdf-ops", "11", "--kdf-mem", "8", expect=None)
    assert res.rc != 0 and "--kdf-ops" in res.err, res
    res = d.cli("init", "--kdf-ops", "1", "--kdf-mem", "2048", expect=None)
    assert res.rc != 0 and "--kdf-mem" in res.err, res


def test_file_syncer_symlinks_are_not_followed(pair, tmp_path):
    """A folder shared by a file syncer: a symbolic link planted in place of this
    device's own segment directory must not redirect its next push."""
    remote, a, b, forge = pair
    target = tmp_path / "elsewhere"
    target.mkdir()
    own = os.path.join(a.folder, "devices", a.device_id)
    seg = os.path.join(own, "seg")
    subprocess.run(["rm", "-rf", seg], check=True)
    os.symlink(str(target), seg)
    add_event(a, "after-symlink", 40)
    res = a.sync("push", expect=None)
    assert os.listdir(str(target)) == [], "a push wrote through a planted symbolic link"
    assert res.rc != 0 and "symbolic link" in res.err, res


def test_rollback_and_staleness_are_visible(node_factory, tmp_path):
    remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"], timed_rounds=False)
    new_bucket(b.client, "aw-watcher-window_host-two", type_="currentwindow", hostname="host-two")
    add_event(b, "first", 0)
    b.sync("run")
    old = subprocess.run(["git", "--git-dir", remote, "rev-parse", "main"], capture_output=True,
                         check=True).stdout.decode().strip()
    time.sleep(3)
    for i in range(2):
        add_event(b, "more-%d" % i, 1 + i)
        b.sync("run")
    a.sync("run")
    st = a.status()
    assert st["warnings"] == [], st["warnings"]
    assert a.device(b.device_id)["last_published"]
    # the holder of the remote puts the branch back to an old commit
    subprocess.run(["git", "--git-dir", remote, "update-ref", "refs/heads/main", old], check=True)
    a.sync("pull")
    st = a.status()
    rem = [r for r in st["remotes"] if r["name"] == "origin"][0]
    assert rem["warning"] and "went back in history" in rem["warning"], rem
    assert any("went back in history" in w for w in st["warnings"]), st["warnings"]
    assert "WARNING" in a.cli("status").out
    # a device that joins now sees b's old state: its age is what gives it away
    subprocess.run(["git", "--git-dir", remote, "update-ref", "refs/heads/main", old], check=True)
    c = SyncDev(node_factory(), "host-three")
    c.cli("join", remote)
    c.env["AWNODE_SYNC_STALE_AFTER"] = "2"
    c.sync("pull")
    st = c.status()
    dev = [d for d in st["devices"] if d["device_id"] == b.device_id][0]
    assert dev["stale"] is True and dev["state"] == "stale", dev
    assert any(b.device_id in w and "last published" in w for w in st["warnings"]), st["warnings"]
    row = [l for l in c.cli("status").out.splitlines() if l.startswith(b.device_id)]
    assert len(row) == 1 and row[0].rstrip().endswith("stale"), row
    assert dev["last_published"][:19] in row[0], (dev, row)
    # with the default age nothing is stale yet
    del c.env["AWNODE_SYNC_STALE_AFTER"]
    assert c.status()["warnings"] == []
    # a value that is not a number of seconds is not silently replaced by the default
    for bad in ("2d", "0", "-5", "99999999999"):
        c.env["AWNODE_SYNC_STALE_AFTER"] = bad
        st = c.status()
        assert [d["stale"] for d in st["devices"] if d["device_id"] == b.device_id] == [False], st
        assert len(st["warnings"]) == 1 and f"AWNODE_SYNC_STALE_AFTER='{bad}'" in st["warnings"][0], st
        assert "the default, 7 days, applies" in st["warnings"][0]
    del c.env["AWNODE_SYNC_STALE_AFTER"]


def test_folder_history_never_names_the_user(pair, tmp_path):
    """Reflogs would carry the user's git identity; the folder's history names nobody."""
    remote, a, b, forge = pair
    home = tmp_path / "gituser"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Real Person\n\temail = real.person@example.org\n")
    env = {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    # b publishes, so that a's round moves its remote-tracking ref (a reflog entry)
    add_event(b, "identity-b", 42)
    b.sync("run")
    add_event(a, "identity", 41)
    a.client.close()
    a.node.stop()
    try:
        a.cli("run", env=env)
    finally:
        a.node.start()
    for d, _dirs, files in os.walk(os.path.join(a.folder, ".git")):
        for n in files:
            p = os.path.join(d, n)
            if "/objects/" in p:
                continue
            data = open(p, "rb").read()
            assert b"real.person" not in data and b"Real Person" not in data, p
    log = subprocess.run(["git", "-C", a.folder, "log", "--format=%an %ae %cn %ce"],
                         capture_output=True, check=True).stdout.decode()
    assert "real.person" not in log


def test_large_export_is_cut_into_bounded_segments(node_factory, tmp_path):
    """A first push of a large history becomes several chained segments, each within
    what readers accept, and the other device imports all of them."""
    remote, (a, b) = make_group(node_factory, tmp_path, ["host-one", "host-two"], timed_rounds=False)
    bid = "aw-watcher-window_host-one"
    new_bucket(a.client, bid, type_="currentwindow", hostname="host-one")
    for i in range(56):  # 56 events of 1 MiB: more than one segment's 48 MiB
        title = hashlib.sha256(b"%d" % i).hexdigest() * (1 << 14)
        insert_events(a.client, bid, [{"timestamp": "2021-05-01T10:%02d:00Z" % i, "duration": 1.0,
                                       "data": {"app": "big", "title": title}}])
    a.sync("run")
    seg_files = []
    for d, _dirs, files in os.walk(os.path.join(a.folder, "devices", a.device_id, "seg")):
        seg_files += [os.path.join(d, f) for f in files]
    # 56 MiB of titles cannot fit one segment's 48 MiB of plaintext
    assert len(seg_files) >= 2, seg_files
    assert all(os.path.getsize(f) <= (64 << 20) for f in seg_files)
    b.sync("run")
    got = b.events(bid)
    assert len(got) == 56
    assert sorted(e["data"]["title"][:64] for e in got) == sorted(
        hashlib.sha256(b"%d" % i).hexdigest() for i in range(56))


def test_recovery_of_a_poisoned_head_writes_nothing_outside(pair, tmp_path):
    """A folder whose branch an older version already moved to a crafted commit, with
    the work tree update left pending: the recovery writes only the format's files."""
    remote, a, b, forge = pair
    good = forge.git("rev-parse", "HEAD^{tree}")
    for label, tree in evil_trees(forge, b.device_id)[:3]:
        forge.publish(tree, label)
    subprocess.run(["git", "-C", a.folder, "fetch", "-q", remote, "main"], check=True)
    subprocess.run(["git", "-C", a.folder, "update-ref", "refs/heads/main", "FETCH_HEAD"], check=True)
    open(os.path.join(a.folder, ".git", "awsync-worktree-pending"), "w").close()
    forge.clean(good)
    res = a.sync("run", expect=None)
    assert payload_files(str(tmp_path)) == [], res
    assert not os.path.exists(os.path.join(a.folder, ".git", "awsync-worktree-pending"))
    add_event(b, "after-recovery", 33)
    b.sync("run")
    a.sync("run")
    assert strip_ids(a.events("aw-watcher-window_host-two")) == strip_ids(b.events("aw-watcher-window_host-two"))
