"""Sync under attack (docs/sync-format.md, "Threat model"): whoever holds the git remote edits
device host-two's files and pushes. Each kind of tampering (a flipped byte, a
truncated segment, two segments swapped, an old manifest put back, a device written
with another key) must be rejected with a clear per-device status entry, nothing from
the tampered device may be imported, and the other devices keep syncing. The victim's
own next push restores its directory (a device is the only writer of its files)."""

import os
import subprocess

from test_sync import PASSPHRASE, KDF, SyncDev, make_group, strip_ids
from awtest import insert_events, new_bucket


class Attacker:
    """A clone of the remote in which files are edited and pushed back."""

    def __init__(self, remote, path):
        self.remote = remote
        self.wt = str(path)
        subprocess.run(["git", "clone", "-q", "-b", "main", remote, self.wt], check=True)

    def git(self, *args, capture=False):
        r = subprocess.run(["git", "-C", self.wt, "-c", "user.name=mallory",
                            "-c", "user.email=mallory@example.invalid"] + list(args),
                           check=True, capture_output=True)
        return r.stdout.decode() if capture else None

    def refresh(self):
        self.git("fetch", "-q", "origin")
        self.git("reset", "-q", "--hard", "origin/main")

    def path(self, device, rel):
        return os.path.join(self.wt, "devices", device, rel)

    def publish(self, msg):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg)
        self.git("push", "-q", "origin", "HEAD:main")


def seg(gen):
    return "seg/%06d/%012d.aws" % (gen // 1000, gen)


def add_event(dev, title, minute):
    insert_events(dev.client, "aw-watcher-window_" + dev.host,
                  [{"timestamp": "2021-03-02T09:%02d:00Z" % minute, "duration": 5.0,
                    "data": {"app": "editor", "title": title}}])


def test_tampering_is_rejected(node_factory, tmp_path):
    remote, (a, b, c) = make_group(node_factory, tmp_path, ["host-one", "host-two", "host-three"])
    for d in (a, b, c):
        win = "aw-watcher-window_" + d.host
        new_bucket(d.client, win, type_="currentwindow", hostname=d.host)
        add_event(d, "start", 0)
        d.sync("push")
    a.sync("pull")
    mallory = Attacker(remote, tmp_path / "mallory")
    win_b, win_c = "aw-watcher-window_host-two", "aw-watcher-window_host-three"
    gen_b = [1]
    minute = [1]

    def b_pushes(n=1):
        for _ in range(n):
            add_event(b, "b-%d" % minute[0], minute[0])
            minute[0] += 1
            b.sync("push")
            gen_b[0] += 1
        mallory.refresh()

    def rejected(kind, messages):
        """a pulls after the tampering: b rejected, c still syncs; then b heals it."""
        before = strip_ids(a.events(win_b))
        add_event(c, "c-" + kind, minute[0])
        minute[0] += 1
        c.sync("push")
        res = a.sync("pull", expect=3)
        assert b.device_id in res.err, res
        st = a.device(b.device_id)
        assert st["state"] == "error", st
        assert any(m in st["error"] for m in messages), (kind, st["error"])
        assert strip_ids(a.events(win_b)) == before, kind  # nothing imported from b
        assert strip_ids(a.events(win_c)) == strip_ids(c.events(win_c)), kind  # c synced
        assert a.device(c.device_id)["state"] == "ok"
        # b's next round forces its own directory back and publishes it
        b.sync("run")
        a.sync("pull")
        assert a.device(b.device_id)["state"] == "ok", kind
        assert strip_ids(a.events(win_b)) == strip_ids(b.events(win_b)), kind

    # 1. one flipped byte in b's newest segment
    b_pushes()
    p = mallory.path(b.device_id, seg(gen_b[0]))
    data = bytearray(open(p, "rb").read())
    data[len(data) // 2] ^= 0x01
    open(p, "wb").write(bytes(data))
    mallory.publish("flip")
    rejected("flip", ["authentication failed"])

    # 2. b's newest segment truncated
    b_pushes()
    p = mallory.path(b.device_id, seg(gen_b[0]))
    data = open(p, "rb").read()
    open(p, "wb").write(data[:len(data) - 7])
    mallory.publish("truncate")
    rejected("truncate", ["authentication failed", "truncated"])

    # 3. two new segments swapped (neither imported yet)
    b_pushes(2)
    p1, p2 = mallory.path(b.device_id, seg(gen_b[0] - 1)), mallory.path(b.device_id, seg(gen_b[0]))
    d1, d2 = open(p1, "rb").read(), open(p2, "rb").read()
    open(p1, "wb").write(d2)
    open(p2, "wb").write(d1)
    mallory.publish("swap")
    rejected("swap", ["authentication failed"])

    # 4. an old manifest put back (replay), with the newest segment removed. A device
    # writes its manifest again only when what it says changes (docs/sync-format.md §6):
    # a new bucket makes b write one, which a imports
    new_bucket(b.client, "aw-watcher-afk_host-two", type_="afkstatus", hostname="host-two")
    b_pushes()
    a.sync("pull")
    old = mallory.git("log", "--format=%H", "--", "devices/%s/manifest.aws" % b.device_id,
                      capture=True).split()[-1]
    with open(mallory.path(b.device_id, "manifest.aws"), "wb") as f:
        f.write(subprocess.run(["git", "-C", mallory.wt, "show",
                                "%s:devices/%s/manifest.aws" % (old, b.device_id)],
                               check=True, capture_output=True).stdout)
    os.unlink(mallory.path(b.device_id, seg(gen_b[0])))
    mallory.publish("replay")
    rejected("replay", ["replayed"])

    # 4b. b's newest segment held back (deleted from the tail that follows its manifest,
    # docs/sync-format.md §6): a, which has not imported it, imports the one before and
    # reports nothing wrong; nothing is lost: it comes once it is served again
    b_pushes(2)
    before = strip_ids(a.events(win_b))
    os.unlink(mallory.path(b.device_id, seg(gen_b[0])))
    mallory.publish("hold back")
    a.sync("pull")
    assert a.device(b.device_id)["state"] == "ok"
    assert a.device(b.device_id)["generation"] == gen_b[0] - 1
    assert len(strip_ids(a.events(win_b))) == len(before) + 1
    b.sync("run")
    a.sync("pull")
    assert a.device(b.device_id)["generation"] == gen_b[0]
    assert strip_ids(a.events(win_b)) == strip_ids(b.events(win_b))

    # 5. a device encrypted with another key (another group's passphrase)
    other_remote = str(tmp_path / "other.git")
    subprocess.run(["git", "init", "-q", "--bare", other_remote], check=True)
    eve = SyncDev(node_factory(), "host-eve")
    eve.cli("init", "--remote", other_remote, *KDF,
            env={"AWNODE_SYNC_PASSPHRASE": "another passphrase entirely"})
    eve_bucket = "aw-watcher-window_host-eve"
    new_bucket(eve.client, eve_bucket, hostname="host-eve")
    eve.sync("push")
    mallory.refresh()
    src = os.path.join(eve.folder, "devices", eve.device_id)
    subprocess.run(["cp", "-a", src, os.path.join(mallory.wt, "devices", eve.device_id)], check=True)
    mallory.publish("foreign device")
    add_event(c, "c-foreign", minute[0])
    c.sync("push")
    res = a.sync("pull", expect=3)
    st = a.device(eve.device_id)
    assert st["state"] == "error" and "authentication failed" in st["error"], st
    assert eve_bucket not in a.buckets()
    assert strip_ids(a.events(win_c)) == strip_ids(c.events(win_c))
    assert a.device(b.device_id)["state"] == "ok"
    # the status table shows it too
    table = a.cli("status").out
    assert eve.device_id in table and "authentication failed" in table
    assert PASSPHRASE not in table
