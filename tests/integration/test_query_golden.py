"""Golden digests of query responses: the exact bytes the query engine answers must not change.

The web UI's Activity summary query (tests/data/activity_summary.json) and a second program
that touches the other transforms run over deterministic data: 45 days from
../shared/bench/gen_data.py and the smaller generator of test_query.py (which has audible
tabs and www. hosts). The sha256 of each response body is compared with a digest recorded
from a build whose results are known good, so a change to the query engine that alters
any byte of any result (an event's order, a float's last digit, an id, a key) fails here.

If a result is meant to change, say why in docs/query.md and record the new digests:
GOLDEN_PRINT=1 makes the test print the digests it computed instead of comparing them.
"""

import hashlib
import json
import os
import subprocess

import pytest

import test_query as tq

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOST = "golden"
W, A, B = "aw-watcher-window_" + HOST, "aw-watcher-afk_" + HOST, "aw-watcher-web-firefox_" + HOST


def shared_gen():
    for d in (os.environ.get("AW_SHARED"), os.path.join(REPO, "..", "shared"), "/work/shared"):
        if d and os.path.exists(os.path.join(d, "bench", "gen_data.py")):
            return os.path.join(d, "bench", "gen_data.py")
    pytest.fail("cannot find shared/bench/gen_data.py (set AW_SHARED)")


# A day, a month, everything, and a period with bounds inside events (clipping).
PERIODS = {
    "day": "2025-01-15T00:00:00+00:00/2025-01-16T00:00:00+00:00",
    "month": "2025-02-01T00:00:00+00:00/2025-03-01T00:00:00+00:00",
    "all": "2025-01-01T00:00:00+00:00/2026-01-01T00:00:00+00:00",
    "clipped": "2025-01-20T09:17:31.250+00:00/2025-01-27T14:03:00+00:00",
}

# Other transforms over the same buckets: tag, categorize on select_keys, chunk, regex
# filters, exclude, union_no_overlap, union_exact, set_keyval, simplify_window_titles.
EXTRAS = [
    'w = flood(query_bucket("{window}"));',
    'a = filter_keyvals(flood(query_bucket("{afk}")), "status", ["not-afk"]);',
    'b = split_url_events(flood(query_bucket("{web}")));',
    'w = filter_period_intersect(w, a);',
    'w = tag(w, [["code", {"type": "regex", "regex": "\\.(c|h|js)\\b"}], ["git", {"type": "regex", "regex": "github", "ignore_case": true}], ["none", {"type": "none"}]]);',
    'w = categorize(w, [[["T"], {"type": "regex", "regex": "^(vim|make)", "select_keys": ["title"]}], [["A"], {"type": "regex", "regex": "o", "select_keys": ["app"]}]]);',
    'chunks = chunk_events_by_key(sort_by_timestamp(w), "app");',
    'rx = filter_keyvals_regex(w, "title", "[[:digit:]]+\\.pdf$");',
    'ex = exclude_keyvals(w, "app", ["Firefox", "code"]);',
    'simp = simplify_window_titles(w, "title");',
    'u = union_no_overlap(sort_by_timestamp(b), sort_by_timestamp(w));',
    'x = union_exact(set_keyval(w, "$device", "w"), set_keyval(b, "$device", "b"));',
    'RETURN = {"tags": limit_events(sort_by_duration(merge_events_by_keys(w, ["$tags"])), 50),',
    '  "cats": sort_by_duration(merge_events_by_keys(w, ["$category", "app"])),',
    '  "chunks": limit_events(chunks, 200), "n_chunks": sum_durations(chunks),',
    '  "rx": limit_events(rx, 100), "ex": sum_durations(ex), "simp": limit_events(sort_by_duration(simp), 50),',
    '  "u": sum_durations(u), "u_head": limit_events(u, 100),',
    '  "x": sum_durations(x), "x_dev": merge_events_by_keys(x, ["$device"]),',
    '  "paths": limit_events(sort_by_duration(merge_events_by_keys(b, ["$domain", "$path", "$params", "$protocol"])), 100)};',
]

# sha256 of the response bodies, recorded from a build whose results are known good.
GOLDEN = {
    'gen45/extras/all': 'fde9b4d2831b57ff5be721df3acdf9df2786904af51c585ee5b51db7f907aad9',
    'gen45/extras/clipped': 'dd79577900abeb4c7b611016ab7ba2a93568f9c76dab3d97b8a75e213c66d53b',
    'gen45/extras/day': '264d102b78ff9313ff83f96ae045b18dd7d920ead32efc4c3054b3f83cb4dd31',
    'gen45/extras/month': '8916846099d8579e09017c37ecf2d57652427e6a8b98bbaa846faa5ee28d4321',
    'gen45/summary/all': '5bd0d63c1822dff0f14a0aff3f8081d37b772a84e12ac8d0fa6f8de66298c81d',
    'gen45/summary/clipped': '3784712259c6617fc65a3ca083fea935a464376b1e3780503d23ac479d94721d',
    'gen45/summary/day': 'cb4d47474a81136f131d7d018bbe32c86ca97ddd63f01a94186824d1a47ec936',
    'gen45/summary/month': '488a2bd80160157b5bb529ef47fdf5af3f2eaf9ed50a3b857803b188e126f12a',
    'gen45/summary/multi': '6241ce08a6fcb08697add707f9448c408a869f6384276277b0be31de7a50848e',
    'tq6/extras/all': '30157c14ec4e7a53e25a7e4e860bfeeb2e1a84196e8cafb9d375119ba0ac005a',
    'tq6/extras/day': '5c31ce57b0fcdac5c2bb86f8c7d2f3706018e46bb61fe7fc3f1768aec18b3541',
    'tq6/summary/all': '78411ed00a243e99b0b3d9ab30ba04492dcd2c29b87a46c7cd9ae4574ccf7763',
    'tq6/summary/day': '1304f86ba289b2ef89a73215410f92b4f48beb5ecdc2a5f58750d42e1d536410',
}


def lines(template, window, afk, web):
    return [line.replace("{window}", window).replace("{afk}", afk).replace("{web}", web) for line in template]


@pytest.fixture(scope="module")
def gen45(tmp_path_factory):
    path = tmp_path_factory.mktemp("golden") / "gen-45.json"
    with open(path, "w") as f:
        subprocess.run(["python3", shared_gen(), "--days", "45", "--host", HOST], stdout=f, check=True)
    with open(path) as f:
        return json.load(f)


def run(client, query, periods):
    r = client.post("/api/0/query/", json={"query": query, "timeperiods": periods})
    assert r.status == 200, r
    for res in r.json():  # the digests guard real results, not empty ones
        assert res["window"]["duration"] > 0 if "window" in res else res["x"] > 0 and res["tags"], res
    return hashlib.sha256(r.body).hexdigest()


def check(got):
    if os.environ.get("GOLDEN_PRINT"):
        print()
        for k in sorted(got):
            print("    %r: %r," % (k, got[k]))
        return
    for k in sorted(got):
        assert GOLDEN.get(k) == got[k], "%s: response bytes changed (digest %s)" % (k, got[k])


def test_golden_gen_data(node, gen45):
    client = node.client(timeout=300)
    r = client.post("/api/0/import", json=gen45)
    assert r.status == 200, r
    summary = tq.summary_query(W, A, B)
    extras = lines(EXTRAS, W, A, B)
    got = {}
    for name, p in PERIODS.items():
        got["gen45/summary/" + name] = run(client, summary, [p])
        got["gen45/extras/" + name] = run(client, extras, [p])
    # several periods in one request: each runs over the same parsed program
    got["gen45/summary/multi"] = run(client, summary, [PERIODS[k] for k in ("day", "clipped", "month")])
    check(got)


def test_golden_test_query_data(node):
    client = node.client(timeout=300)
    doc = tq.generate(days=6, seed=11)
    r = client.post("/api/0/import", json=doc)
    assert r.status == 200, r
    summary = tq.summary_query(tq.W, tq.A, tq.B)
    extras = lines(EXTRAS, tq.W, tq.A, tq.B)
    got = {}
    for name in ("day", "all"):
        p = PERIODS[name].replace("2025-01-15", "2025-01-08").replace("2025-01-16", "2025-01-09")
        got["tq6/summary/" + name] = run(client, summary, [p])
        got["tq6/extras/" + name] = run(client, extras, [p])
    check(got)
