"""A join from a remote on a path copies the remote's packs instead of fetching
(docs/sync-format.md §8). The copies come from an untrusted disk, so: what a packed
remote holds arrives intact and the join is the same as a fetched one; a pack that
holds an object larger than the format allows (even one the branch does not reach) is
not taken, and the join falls back to the ordinary fetch without inflating it; a branch
whose trees break the format's rules is refused as before, with nothing written outside
the folder's .git; and a join from a remote that is not packed (loose objects) still
works."""

import os
import subprocess

from awtest import binary_path
from test_sync import SyncDev, strip_ids
from test_sync_hostile import Forge, add_event, evil_trees, pair, payload_files, peak_rss_kb  # noqa: F401

WIN = "aw-watcher-window_host-two"


def git(repo, *args, data=None):
    r = subprocess.run(["git", "-C", repo] + list(args), input=data, check=True, capture_output=True)
    return r.stdout.decode().strip()


def packs(gitdir):
    d = os.path.join(gitdir, "objects", "pack")
    return sorted(f for f in os.listdir(d) if f.endswith(".pack")) if os.path.isdir(d) else []


def pack_everything(remote):
    """What a remote maintained by awnode looks like: packs, no loose objects."""
    git(remote, "repack", "-a", "-d", "-q")
    git(remote, "prune-packed")


def test_join_copies_a_packed_remote(node_factory, pair):
    remote, a, b, forge = pair
    pack_everything(remote)
    c = SyncDev(node_factory(), "host-three")
    c.cli("join", remote)
    assert packs(os.path.join(c.folder, ".git")) == packs(remote)
    assert not os.path.exists(os.path.join(c.folder, ".git", "awsync-join"))
    c.sync("pull")
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))
    assert c.device(b.device_id)["state"] == "ok"
    # the group goes on as usual from there
    c.sync("run")
    a.sync("run")
    assert a.device(c.device_id) is not None


def test_join_from_loose_objects_fetches(node_factory, pair):
    remote, a, b, forge = pair
    forge.clean(forge.git("rev-parse", "HEAD^{tree}"))  # a commit git leaves loose
    c = SyncDev(node_factory(), "host-three")
    c.cli("join", remote)
    c.sync("pull")
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))


def test_oversized_object_in_a_pack_is_not_copied(node_factory, pair, tmp_path):
    """200 MiB of zeros in a pack of the remote that the branch does not reach: the
    join takes the ordinary fetch, which sends only what the branch reaches, and
    nothing inflates the blob."""
    remote, a, b, forge = pair
    pack_everything(remote)
    big = tmp_path / "zeros"
    with open(big, "wb") as f:
        f.truncate(200 << 20)
    oid = git(remote, "hash-object", "-w", str(big))
    big.unlink()
    git(remote, "pack-objects", "-q", os.path.join(remote, "objects", "pack", "pack"), data=(oid + "\n").encode())
    git(remote, "prune-packed")
    c = SyncDev(node_factory(), "host-three")
    rc, err, rss = peak_rss_kb([binary_path(), "sync", "join", remote, "--testing", "--hostname", c.host], c.env)
    assert rc == 0, err
    assert rss < 150 * 1024, "peak RSS %d KiB while joining" % rss
    gitdir = os.path.join(c.folder, ".git")
    assert not set(packs(gitdir)) & set(packs(remote))  # fetched, not copied
    assert subprocess.run(["git", "-C", gitdir, "cat-file", "-e", oid], capture_output=True).returncode != 0
    for d, _dirs, files in os.walk(c.folder):
        for n in files:
            assert os.path.getsize(os.path.join(d, n)) < (64 << 20), os.path.join(d, n)
    c.sync("pull")
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))


def test_oversized_blob_on_the_branch_is_refused(node_factory, pair, tmp_path):
    remote, a, b, forge = pair
    oid = forge.zeros(tmp_path)
    dev_rows = forge.ls("HEAD:devices/%s" % b.device_id)
    seg_rows = forge.ls("HEAD:devices/%s/seg" % b.device_id)
    shard = forge.ls("HEAD:devices/%s/seg/%s" % (b.device_id, seg_rows[0][1]))
    shard_tree = forge.tree(shard + [("100644", "000000000099.aws", oid)])
    seg_tree = forge.tree([r if r[1] != seg_rows[0][1] else ("40000", r[1], shard_tree) for r in seg_rows])
    dev_tree = forge.tree([r for r in dev_rows if r[1] != "seg"] + [("40000", "seg", seg_tree)])
    devices = forge.tree([r for r in forge.ls("HEAD:devices") if r[1] != b.device_id]
                         + [("40000", b.device_id, dev_tree)])
    forge.publish(forge.root_plus(replace={"devices": ("40000", "devices", devices)}), "big")
    pack_everything(remote)
    c = SyncDev(node_factory(), "host-three")
    rc, err, rss = peak_rss_kb([binary_path(), "sync", "join", remote, "--testing", "--hostname", c.host], c.env)
    assert rc != 0 and "too large" in err, err
    assert rss < 150 * 1024, "peak RSS %d KiB while refusing" % rss
    assert not os.path.exists(os.path.join(c.folder, "awsync.json"))
    assert packs(os.path.join(c.folder, ".git")) == []


def test_symlink_on_a_packed_branch_is_refused(node_factory, pair, tmp_path):
    """The packs pass their checks (nothing too large), the tree check refuses the
    branch: nothing is checked out, and a join once the remote is clean works."""
    remote, a, b, forge = pair
    label, tree = [t for t in evil_trees(forge, b.device_id) if t[0] == "symlink"][0]
    forge.publish(tree, label)
    pack_everything(remote)
    c = SyncDev(node_factory(), "host-three")
    res = c.cli("join", remote, expect=None)
    assert res.rc != 0 and "refused" in res.err and "symbolic link" in res.err, res
    assert packs(os.path.join(c.folder, ".git")) == packs(remote)  # copied, then refused
    assert payload_files(str(tmp_path)) == []
    assert not os.path.exists(os.path.join(c.folder, "awsync.json"))
    assert not os.path.lexists(os.path.join(c.folder, "devices"))
    forge.clean()
    pack_everything(remote)
    c.cli("join", remote)
    c.sync("pull")
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))


def nested_tree(forge, levels):
    """A directory `levels` deep with one small file at the bottom."""
    t = forge.tree([("100644", "f", forge.blob(b"bottom"))])
    for _ in range(levels):
        t = forge.tree([("40000", "d", t)])
    return t


def test_history_is_not_walked_tree_by_tree_and_a_deep_tree_in_it_stops_every_walk(node_factory, pair,
                                                                                     tmp_path):
    """A join checks every commit and the tip's tree, not every tree of the history (that
    grew with every round). A directory nested 40 deep in an older commit, which the
    layout never writes, is therefore copied with the packs; nothing reads it on the way
    in, and the walks that would read it later (a push to a new remote, which sends the
    whole history) stop at the format's depth with an error instead of recursing."""
    remote, a, b, forge = pair
    deep = forge.publish(forge.root_plus(("40000", "deep", nested_tree(forge, 40))), "deep")
    forge.clean()
    pack_everything(remote)
    c = SyncDev(node_factory(), "host-three")
    c.cli("join", remote)
    gitdir = os.path.join(c.folder, ".git")
    assert packs(gitdir) == packs(remote)  # copied
    assert subprocess.run(["git", "-C", gitdir, "cat-file", "-e", deep], capture_output=True).returncode == 0
    assert not os.path.lexists(os.path.join(c.folder, "deep"))
    c.sync("pull")
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))
    c.sync("run")  # the remote the history came from already holds it: nothing to walk
    second = str(tmp_path / "second.git")
    subprocess.run(["git", "init", "-q", "--bare", second], check=True)
    c.cli("remote", "add", "second", second)
    res = c.sync("run", expect=None)
    assert "nested deeper than the format allows" in res.out + res.err, res
    assert "main" not in git(second, "branch", "--list")
    # the first remote is still served, and this device's data is whole
    assert strip_ids(c.events(WIN)) == strip_ids(b.events(WIN))
    c.cli("remote", "remove", "second")
    c.sync("run")



def loose_count(gitdir):
    return int(dict(l.split(": ") for l in git(gitdir, "count-objects", "-v").splitlines())["count"])


def nested_commit_in(repo, levels):
    """A commit whose tree nests `levels` directories, written straight into `repo`'s
    objects (loose) and named by no ref: what the holder of a remote can leave there."""
    def tree(entries):
        raw = b"".join(m.encode() + b" " + n.encode() + b"\0" + bytes.fromhex(o) for m, n, o in entries)
        return git(repo, "hash-object", "-t", "tree", "--literally", "-w", "--stdin", data=raw)
    t = tree([("100644", "f", git(repo, "hash-object", "-w", "--stdin", data=b"bottom"))])
    for _ in range(levels):
        t = tree([("40000", "d", t)])
    return git(repo, "-c", "user.name=m", "-c", "user.email=m@example.invalid", "commit-tree", t, "-m", "deep")


def test_a_remote_is_kept_packed_with_objects_no_ref_names_even_a_deep_tree(node_factory, pair, tmp_path):
    """A remote on a path is repacked by the device that pushed to it once loose objects
    pile up (docs/sync-format.md §8). Objects that no ref names (another device's push
    in flight, anything the remote's holder left) are packed too, not left loose for
    every later push to find over the limit and repack the whole history again. The
    merge walks the trees of every commit it packs, reachable or not: 600 directories
    nested under a commit left there stop that walk at the layout's depth, and what lies
    below is packed all the same."""
    remote, a, b, forge = pair
    # the trigger counts a sample of the object directories: well over its 256
    fill = tmp_path / "filler"
    fill.mkdir()
    for i in range(600):
        (fill / str(i)).write_bytes(b"filler %d" % i)
    git(remote, "hash-object", "-w", *[str(fill / str(i)) for i in range(600)])
    add_event(b, "before-the-deep-tree", 1)
    b.sync("run")
    assert loose_count(remote) == 0
    deep = nested_commit_in(remote, 600)
    assert loose_count(remote) > 600
    add_event(b, "after-the-deep-tree", 2)
    b.sync("run")
    assert loose_count(remote) == 0
    assert git(remote, "cat-file", "-t", deep) == "commit"
    assert len(git(remote, "rev-list", "--objects", deep).splitlines()) == 603  # all of it, packed
    a.sync("run")
    assert [e for e in a.events(WIN) if e["data"]["title"] == "after-the-deep-tree"]
    assert [e for e in a.events(WIN) if e["data"]["title"] == "before-the-deep-tree"]
