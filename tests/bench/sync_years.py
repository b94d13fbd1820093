"""Driver of tests/bench/sync_years_bench.sh (see there)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("AWNODE_BIN", os.path.join(ROOT, "build", "bin", "awnode"))
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
EVERY = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PER_ROUND = 30
# [sync] compact_segments for the device (docs/sync.md, "Compaction"); unset: the default
COMPACT = os.environ.get("AWNODE_COMPACT_SEGMENTS")
# AWNODE_BENCH_ROTATE=1: at the end, `awnode sync rotate` on the device and a pull on the
# new one (what moving to a new key epoch costs with that much history)
BUCKET = "aw-watcher-window_years"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env_of(base):
    e = dict(os.environ)
    for k in ("DATA", "CONFIG", "STATE", "CACHE"):
        e["XDG_%s_HOME" % k] = os.path.join(base, k.lower())
    e["AWNODE_SYNC_PASSPHRASE"] = "benchmark passphrase, long enough"
    return e


def request(port, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read() or b"null")


def objects(gitdir):
    objs = os.path.join(gitdir, "objects")
    packs = len([f for f in os.listdir(os.path.join(objs, "pack")) if f.endswith(".pack")])
    loose = sum(len(os.listdir(os.path.join(objs, d))) for d in os.listdir(objs) if len(d) == 2)
    return packs, loose


def du(path):
    total = 0
    for d, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_size
            except FileNotFoundError:
                pass
    return total


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]


def breakdown(gitdir, rounds):
    """Bytes the remote stores per round, by kind of object (the size each takes in its
    pack, deltas as deltas), and its pack indexes: where a round's bytes go
    (docs/sync-format.md §10)."""
    objs = subprocess.run(["git", "-C", gitdir, "rev-list", "--objects", "--all"], check=True,
                          capture_output=True, text=True).stdout
    out = subprocess.run(["git", "-C", gitdir, "cat-file", "--batch-check=%(objecttype) %(objectsize:disk) %(rest)"],
                         input=objs, check=True, capture_output=True, text=True).stdout
    kinds = {}
    for line in out.splitlines():
        kind, size, path = (line.split(" ", 2) + [""])[:3]
        if kind == "blob":
            name = path.rsplit("/", 1)[-1]
            kind = "manifests" if name == "manifest.aws" else "segments and packs" if path.startswith(
                "devices/") else "other blobs"
        elif kind == "tree":
            kind = "trees"
        elif kind == "commit":
            kind = "commits"
        kinds[kind] = kinds.get(kind, 0) + int(size)
    pack_dir = os.path.join(gitdir, "objects", "pack")
    kinds["pack indexes"] = sum(os.path.getsize(os.path.join(pack_dir, f)) for f in os.listdir(pack_dir)
                                if f.endswith(".idx"))
    print("remote bytes per round: " + ", ".join("%s %.0f" % (k, v / rounds) for k, v in sorted(kinds.items())))


def main():
    tmp = tempfile.mkdtemp(prefix="awnode-years.")
    remote = os.path.join(tmp, "remote.git")
    subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    a = env_of(os.path.join(tmp, "a"))
    kdf = ["--kdf-ops", "1", "--kdf-mem", "8"]
    subprocess.run([BIN, "sync", "init", "--testing", "--remote", remote] + kdf, env=a, check=True,
                   stdout=subprocess.DEVNULL)
    if COMPACT:
        os.makedirs(os.path.join(a["XDG_CONFIG_HOME"], "awnode"), exist_ok=True)
        with open(os.path.join(a["XDG_CONFIG_HOME"], "awnode", "config-testing.toml"), "w") as f:
            f.write("[sync]\nenabled = false\ncompact_segments = %d\n" % int(COMPACT))
    port = free_port()
    node = subprocess.Popen([BIN, "serve", "--testing", "--port", str(port)], env=a,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                request(port, "GET", "/api/0/info")
                break
            except OSError:
                time.sleep(0.05)
        request(port, "POST", "/api/0/buckets/" + BUCKET,
                {"type": "currentwindow", "client": "bench", "hostname": "years"})
        folder = os.path.join(a["XDG_DATA_HOME"], "awnode", "sync-testing")
        t = 1_700_000_000
        times = []
        print("%7s %9s %9s %6s %6s %7s %7s %9s %9s %6s %6s" % ("rounds", "remote", "B/event", "packs", "loose",
                                                             "folder", "B/event", "p50 ms", "p95 ms", "files",
                                                             "spacks"))
        packed = 0
        for i in range(1, ROUNDS + 1):
            evs = []
            for k in range(PER_ROUND):
                evs.append({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)), "duration": 9.0,
                            "data": {"app": "app%d" % (k % 7), "title": "window %d of round %d" % (k % 11, i % 97)}})
                t += 10
            request(port, "POST", "/api/0/buckets/%s/events" % BUCKET, evs)
            rep = request(port, "POST", "/api/0/sync/now", {"mode": "both"})
            if rep.get("status") not in (None, "ok") and rep.get("error"):
                raise SystemExit("round %d failed: %s" % (i, rep["error"]))
            times.append(rep["seconds"] * 1000)
            packed += rep.get("files_packed", 0)
            if i % EVERY == 0 or i == ROUNDS:
                events = i * PER_ROUND
                rb, fb = du(remote), du(os.path.join(folder, ".git"))
                rp, rl = objects(remote)
                files = len(subprocess.run(["git", "-C", folder, "ls-tree", "-r", "--name-only", "HEAD", "devices"],
                                           check=True, capture_output=True, text=True).stdout.split())
                print("%7d %8.1fM %9.1f %6d %6d %6.1fM %7.1f %9.1f %9.1f %6d %6d" % (
                    i, rb / 1e6, rb / events, rp, rl, fb / 1e6, fb / events, pct(times, 0.5), pct(times, 0.95),
                    files, rep.get("packs", 0)), flush=True)
                fp, fl = objects(os.path.join(folder, ".git"))
                print("        folder: %d packs, %d loose objects" % (fp, fl), flush=True)
                times = []
    finally:
        node.terminate()
        node.wait()
    breakdown(remote, ROUNDS)
    b = env_of(os.path.join(tmp, "b"))
    t0 = time.monotonic()
    subprocess.run([BIN, "sync", "join", "--testing", remote], env=b, check=True, stdout=subprocess.DEVNULL)
    t1 = time.monotonic()
    out = subprocess.run([BIN, "sync", "pull", "--testing", "--json"], env=b, check=True,
                         stdout=subprocess.PIPE).stdout
    t2 = time.monotonic()
    rep = json.loads(out)
    print("new device: join %.2f s, first pull %.2f s (%d files, %d events; %d files packed on the way)" % (
        t1 - t0, t2 - t1, rep["segments_applied"], rep["events_applied"], packed))
    if rep["events_applied"] != ROUNDS * PER_ROUND:
        raise SystemExit("the new device applied %d events, not %d" % (rep["events_applied"], ROUNDS * PER_ROUND))
    if os.environ.get("AWNODE_BENCH_ROTATE"):
        # a key epoch: the device seals its whole history again under the new key
        rb = du(remote)
        t0 = time.monotonic()
        subprocess.run([BIN, "sync", "rotate", "--testing", "--json"], env=a, check=True, stdout=subprocess.DEVNULL)
        t1 = time.monotonic()
        out = subprocess.run([BIN, "sync", "pull", "--testing", "--json"], env=b, check=True,
                             stdout=subprocess.PIPE).stdout
        t2 = time.monotonic()
        print("rotate: the owner's move %.2f s (remote +%.1f MB), the other device's next pull %.2f s "
              "(%d files, %d events)" % (t1 - t0, (du(remote) - rb) / 1e6, t2 - t1,
                                         json.loads(out)["segments_applied"], json.loads(out)["events_applied"]))
    if os.environ.get("AWNODE_BENCH_KEEP"):
        print("kept %s (remote.git, a/ and b/)" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
