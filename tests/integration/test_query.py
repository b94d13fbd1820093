"""Query API: POST /api/0/query/ end to end (docs/query.md; query errors are 400 with
a position, an unknown bucket 404).

The main test imports generated window/afk/browser data through POST /api/0/import, runs
the web UI's Activity summary query (the one ../shared/bench/query_bench.py times; kept in
tests/data/activity_summary.json, which the browser tests share) and checks every total against an independent Python implementation of the transforms
(clipping, flood, filter_period_intersect, period_union, categorize, merge, split_url).
"""

import json
import os
import random
import re
import subprocess
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

from awtest import assert_app_error, binary_path, dumps

NS = 1_000_000_000
HOST = "qtest"
W, A, B = "aw-watcher-window_" + HOST, "aw-watcher-afk_" + HOST, "aw-watcher-web-firefox_" + HOST

# The web UI's Activity summary query and default categories, shared with tests/ui/ui.test.mjs
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "activity_summary.json")) as f:
    _SUMMARY = json.load(f)
CATS = _SUMMARY["categories"]


def summary_query(window, afk, web):
    """The summary query's lines for these bucket ids."""
    return [line.replace("{window}", window).replace("{afk}", afk).replace("{web}", web)
            .replace("{categories}", json.dumps(CATS)) for line in _SUMMARY["query"]]


APPS = [("Firefox", ["GitHub - {p}", "Stack Overflow - {q}", "YouTube - {v}", "Gmail - Inbox ({n})", "reddit: {q}"]),
        ("code", ["{f} - {p} - Visual Studio Code", "aw-server - {f}"]),
        ("Alacritty", ["vim {f}", "make test", "htop"]),
        ("Slack", ["Slack | {c} | Acme"]),
        ("Spotify", ["Spotify Premium", "{v} - Artist {n}"]),
        ("evince", ["paper-{n}.pdf"])]
WORDS = ["alpha", "beta", "query", "sync", "storage", "webui", "flood", "merge"]
URLS = ["https://github.com/{p}", "https://stackoverflow.com/questions/{n}", "https://www.youtube.com/watch?v={v}",
        "https://mail.google.com/mail/u/0/#inbox", "https://www.reddit.com/r/{c}"]


def fill(r, s):
    return s.format(p=r.choice(WORDS) + "/" + r.choice(WORDS), q=" ".join(r.sample(WORDS, 3)),
                    v=r.choice(WORDS) + str(r.randint(1, 20)), n=r.randint(1, 60),
                    f=r.choice(WORDS) + r.choice([".c", ".md"]), c=r.choice(WORDS))


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def generate(days=4, seed=7):
    """Window/afk/browser buckets shaped like ../shared/bench/gen_data.py (with gaps,
    overlaps, audible tabs and afk breaks)."""
    r = random.Random(seed)
    start = datetime(2025, 1, 6, tzinfo=timezone.utc)
    win, afk, web = [], [], []
    for d in range(days):
        day = start + timedelta(days=d)
        t = day + timedelta(hours=8, minutes=r.randint(0, 90))
        end = day + timedelta(hours=12, minutes=r.randint(0, 120))
        while t < end:
            active = timedelta(minutes=r.randint(10, 60))
            stop = min(t + active, end)
            afk.append({"timestamp": iso(t), "duration": round((stop - t).total_seconds(), 3), "data": {"status": "not-afk"}})
            while t < stop:
                app, titles = r.choice(APPS)
                title = fill(r, r.choice(titles))
                dur = round(min(r.expovariate(1 / 40.0) + 1, (stop - t).total_seconds()), 3)
                win.append({"timestamp": iso(t), "duration": dur, "data": {"app": app, "title": title}})
                if app == "Firefox":
                    url = fill(r, r.choice(URLS))
                    web.append({"timestamp": iso(t + timedelta(seconds=0.25)), "duration": dur,
                                "data": {"url": url, "title": title, "audible": r.random() < 0.2,
                                         "incognito": False, "tabCount": r.randint(1, 5)}})
                t += timedelta(seconds=dur + r.choice([0, 0, 0, 0.5, 2, 7]))
            brk = timedelta(minutes=r.randint(3, 30))
            afk.append({"timestamp": iso(t), "duration": brk.total_seconds(), "data": {"status": "afk"}})
            t += brk

    def bucket(bid, typ, client, events):
        return {"id": bid, "created": iso(start), "type": typ, "client": client, "hostname": HOST, "events": events}
    return {"buckets": {W: bucket(W, "currentwindow", "aw-watcher-window", win),
                        A: bucket(A, "afkstatus", "aw-watcher-afk", afk),
                        B: bucket(B, "web.tab.current", "aw-client-web", web)}}


# ---- an independent implementation of the transforms (integer nanoseconds) -------------------

def parse_ts(s):
    base, frac = s[:-1].split(".") if "." in s else (s[:-1], "")
    dt = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return (int(dt.timestamp()) * NS) + int((frac + "000000000")[:9])


def load(events):
    """[(start_ns, dur_ns, data)] in aw-server-rust's order: newest first."""
    out = [(parse_ts(e["timestamp"]), int(e["duration"] * 1e9), e["data"]) for e in events]
    out.sort(key=lambda e: (-e[0], e[1]))
    return out


def clip(events, start, end):
    res = []
    for s, d, data in events:
        e = s + d
        if e >= start and s <= end:
            s2, e2 = max(s, start), min(e, end)
            res.append((s2, e2 - s2, data))
    return res


def flood(events, pulse=5 * NS):
    ev = sorted(events, key=lambda e: e[0])
    out, i, gap_prev = [], 0, None
    while i < len(ev):
        s, d, data = ev[i]
        i += 1
        if gap_prev is not None:
            s -= gap_prev // 2
            d += gap_prev // 2
            gap_prev = None
        while i < len(ev):
            s2, d2, data2 = ev[i]
            gap = s2 - (s + d)
            if gap < pulse and data == data2:
                end = max(s + d, s2 + d2)
                s = min(s, s2)
                d = end - s
                i += 1
                continue
            if 0 <= gap < pulse:
                d += gap // 2
                gap_prev = gap
            break
        out.append((s, d, data))
    return out


def filter_keyvals(events, key, vals):
    return [e for e in events if key in e[2] and any(e[2][key] == v and type(e[2][key]) == type(v) for v in vals)]


def intersect(events, filters):
    if not events or not filters:
        return []
    ev = sorted(events, key=lambda e: e[0])
    fl = sorted(filters, key=lambda e: e[0])
    out, i, j = [], 0, 0
    cur = list(ev[0])
    while i < len(ev) and j < len(fl):
        es, ed = cur[0], cur[1]
        fs, fe = fl[j][0], fl[j][0] + fl[j][1]
        if ed <= 0 or es + ed <= fs:
            i += 1
            if i < len(ev):
                cur = list(ev[i])
            continue
        if es >= fe:
            j += 1
            continue
        ps, pe = max(es, fs), min(es + ed, fe)
        out.append((ps, pe - ps, cur[2]))
        cur = [pe, es + ed - pe, cur[2]]
    return out


def union(a, b):
    ev = sorted(a + b, key=lambda e: e[0])
    out = []
    for s, d, _ in ev:
        if out and s <= out[-1][0] + out[-1][1]:
            ls, ld = out[-1]
            out[-1] = (ls, max(ls + ld, s + d) - ls)
        else:
            out.append((s, d))
    return [(s, d, {}) for s, d in out]


def categorize(data):
    best = ["Uncategorized"]
    for cat, rule in CATS:
        rx = re.compile(rule["regex"], re.I if rule.get("ignore_case") else 0)
        if any(isinstance(v, str) and rx.search(v) for v in data.values()) and len(cat) >= len(best):
            best = cat
    return best


def totals(events, key):
    t = {}
    for _, d, data in events:
        k = key(data)
        t[k] = t.get(k, 0) + d
    return t


def domain(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    while host.startswith("www."):
        host = host[4:]
    return host


def ms_seconds(ns):
    return (ns // 1_000_000) / 1000.0


def expected_summary(doc, start, end):
    bk = doc["buckets"]
    win = flood(clip(load(bk[W]["events"]), start, end))
    notafk = filter_keyvals(flood(clip(load(bk[A]["events"]), start, end)), "status", ["not-afk"])
    ff = flood(clip(load(bk[B]["events"]), start, end))
    wff = filter_keyvals(win, "app", ["Firefox", "firefox"])
    browser = sorted(intersect(ff, wff), key=lambda e: e[0])
    audible = filter_keyvals(browser, "audible", [True])
    notafk = union(notafk, audible)
    events = intersect(win, notafk)
    return {
        "duration": ms_seconds(sum(d for _, d, _ in events)),
        "apps": totals(events, lambda d: d["app"]),
        "cats": totals(events, lambda d: tuple(categorize(d))),
        "active": [(s, d) for s, d, _ in notafk],
        "browser_duration": ms_seconds(sum(d for _, d, _ in browser)),
        "domains": totals(browser, lambda d: domain(d["url"])),
        "urls": totals(browser, lambda d: d["url"]),
    }


def period(start, end):
    def fmt(ns):
        return datetime.fromtimestamp(ns // NS, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + \
            ".%09dZ" % (ns % NS)
    return fmt(start) + "/" + fmt(end)


def query(client, lines, periods):
    if isinstance(lines, str):
        lines = lines.split("\n")
    return client.post("/api/0/query/", json={"query": lines, "timeperiods": periods})


def close(a, b, tol=2e-6):
    return abs(a - b) <= tol


# ---- tests ------------------------------------------------------------------------------------

@pytest.fixture
def loaded(node):
    client = node.client(timeout=120)
    doc = generate()
    r = client.post("/api/0/import", json=doc)
    assert r.status == 200, r
    return node, client, doc


def test_summary_query_totals(loaded):
    node, client, doc = loaded
    first = parse_ts("2025-01-06T00:00:00Z")
    periods = [(first, first + 4 * 86400 * NS),                           # everything
               (first + 86400 * NS + 9 * 3600 * NS, first + 86400 * NS + 11 * 3600 * NS),  # 2 h: clipping
               (first + 30 * 86400 * NS, first + 31 * 86400 * NS)]      # nothing
    r = query(client, summary_query(W, A, B), [period(s, e) for s, e in periods])
    assert r.status == 200, r
    results = r.json()
    assert len(results) == 3
    for (s, e), got in zip(periods, results):
        want = expected_summary(doc, s, e)
        w, b = got["window"], got["browser"]
        assert close(w["duration"], want["duration"], 1e-9), (w["duration"], want["duration"])
        assert close(b["duration"], want["browser_duration"], 1e-9), (b["duration"], want["browser_duration"])
        apps = {ev["data"]["app"]: ev["duration"] for ev in w["app_events"]}
        assert apps.keys() == want["apps"].keys()
        for k, v in want["apps"].items():
            assert close(apps[k], v / NS), (k, apps[k], v / NS)
        cats = {tuple(ev["data"]["$category"]): ev["duration"] for ev in w["cat_events"]}
        assert cats.keys() == want["cats"].keys()
        for k, v in want["cats"].items():
            assert close(cats[k], v / NS), (k, cats[k], v / NS)
        doms = {ev["data"]["$domain"]: ev["duration"] for ev in b["domains"]}
        assert doms.keys() == want["domains"].keys()
        for k, v in want["domains"].items():
            assert close(doms[k], v / NS), (k, doms[k], v / NS)
        urls = {ev["data"]["url"]: ev["duration"] for ev in b["urls"]}
        assert len(urls) == min(100, len(want["urls"]))
        for k, v in urls.items():
            assert close(v, want["urls"][k] / NS), k
        active = [(parse_ts(ev["timestamp"]), round(ev["duration"] * NS)) for ev in w["active_events"]]
        assert len(active) == len(want["active"])
        for (gs, gd), (ws, wd) in zip(active, want["active"]):
            assert gs == ws and abs(gd - wd) <= 1
        # sorted by duration, descending
        durs = [ev["duration"] for ev in w["app_events"]]
        assert durs == sorted(durs, reverse=True)
        if e - s < 86400 * NS * 2 and s < first + 4 * 86400 * NS:
            assert w["duration"] > 0
    assert results[0]["window"]["duration"] > 3600
    assert results[2]["window"] == {"app_events": [], "title_events": [], "cat_events": [], "active_events": [], "duration": 0.0}


def test_query_bucket_exact_body(node):
    """Reference api.rs test_query: sorted keys, floats, None as []."""
    client = node.client()
    assert client.post("/api/0/buckets/id", json={"type": "t", "client": "c", "hostname": "h"}).status == 200
    r = client.post("/api/0/buckets/id/events",
                    json=[{"timestamp": "2018-01-01T01:01:01Z", "duration": 1.0, "data": {}}])
    assert r.status == 200
    r = query(client, ["return 1;"], ["2000-01-01T00:00:00Z/2020-01-01T00:00:00Z"])
    assert r.status == 200 and r.body == b"[1.0]", r
    r = query(client, ['events = query_bucket("id");', "RETURN = events;"], ["2000-01-01T00:00:00Z/2020-01-01T00:00:00Z"])
    assert r.status == 200
    assert r.body == b'[[{"data":{},"duration":1.0,"id":1,"timestamp":"2018-01-01T01:01:01Z"}]]'
    r = query(client, ["return print(1);"], ["2000-01-01T00:00:00Z/2020-01-01T00:00:00Z"])
    assert r.body == b"[[]]"
    r = query(client, ["return TIMEINTERVAL;"], ["2000-01-01T00:00:00Z/2020-01-01T00:00:00.5+01:00"])
    assert r.json() == ["2000-01-01T00:00:00+00:00/2019-12-31T23:00:00.500+00:00"]


def test_query_errors(node):
    client = node.client()
    tp = ["2000-01-01T00:00:00Z/2020-01-01T00:00:00Z"]
    assert assert_app_error(query(client, [""], tp), 400) == "EmptyQuery"
    msg = assert_app_error(query(client, ["a = 1", "b = 2;"], tp), 400)
    assert msg.startswith("ParsingError(") and "line 2, column 1" in msg, msg
    msg = assert_app_error(query(client, ["return foo;"], tp), 400)
    assert msg == 'VariableNotDefined("foo") at line 1, column 8', msg
    msg = assert_app_error(query(client, ["return 1/0;"], tp), 400)
    assert msg.startswith("MathError")
    msg = assert_app_error(query(client, ['return query_bucket("nope");'], tp), 404)
    assert msg.startswith("BucketQueryError") and "nope" in msg, msg
    msg = assert_app_error(query(client, ['return find_bucket("nope");'], tp), 404)
    msg = assert_app_error(query(client, ["return flood([], 1, 2);"], tp), 400)
    assert "InvalidFunctionParameters" in msg
    # hostile input: deep nesting, runaway regexes, memory bombs: errors, and the node lives on
    assert_app_error(query(client, ["return " + "[" * 100000 + "]" * 100000 + ";"], tp), 400)
    assert_app_error(query(client, ["a = [1];"] + ["a = a + a;"] * 60 + ["return 1;"], tp), 400)
    r = query(client, ["return 1;"], tp)
    assert r.status == 200 and r.body == b"[1.0]"


def test_query_flat_chains_and_huge_literals(node):
    """A ~300 KB body of one flat operator chain nests as deep as it is long (the nesting
    limit counts brackets): it is answered, correctly, and the node stays up. A 100,000-key
    dict literal and 100,000 distinct names answer within the client's timeout."""
    client = node.client()
    tp = ["2000-01-01T00:00:00Z/2020-01-01T00:00:00Z"]
    n = 75000
    body = "RETURN = 1" + " + 1" * (n - 1) + ";"
    assert len(body) > 290_000
    r = query(client, [body], tp)
    assert r.status == 200 and r.json() == [float(n)], r
    for op, first, operand, want in [("-", str(n), "1", 1.0), ("*", "1", "1", 1.0), ("/", "1", "1", 1.0),
                                     ("%", "7", "5", 2.0), ("==", "true", "true", True)]:
        r = query(client, ["RETURN = " + first + (" %s %s" % (op, operand)) * (n - 1) + ";"], tp)
        assert r.status == 200 and r.json() == [want], (op, r)
    r = query(client, ["RETURN = " + " + ".join(['"ab"'] * 60000) + ";"], tp)
    assert r.status == 200 and r.json() == ["ab" * 60000]
    r = query(client, ["RETURN = " + " + ".join(["[1]"] * 60000) + ";"], tp)
    assert r.status == 200 and r.json() == [[1.0] * 60000]
    # an error at the far end of a chain is a 400 with its position
    msg = assert_app_error(query(client, ["RETURN = 1" + " + 1" * (n - 2), "+ nope;"], tp), 400)
    assert msg == 'VariableNotDefined("nope") at line 2, column 3', msg

    keys = ['"k%d": %d' % (i, i) for i in range(100000)]
    r = query(client, ["d = {" + ", ".join(keys) + "};", 'RETURN = [d, contains(d, "k99999")];'], tp)
    assert r.status == 200, r
    d, has = r.json()[0]
    assert has is True and len(d) == 100000 and d["k0"] == 0 and d["k99999"] == 99999
    assert list(d) == sorted(d)  # keys are printed sorted
    r = query(client, ["v%d = %d;" % (i, i) for i in range(100000)] + ["RETURN = v0 + v99999;"], tp)
    assert r.status == 200 and r.json() == [99999.0], r

    # past the token limit (bounding the parser's memory): a 400 with a message
    msg = assert_app_error(query(client, ["RETURN = 1" + " + 1" * 500000 + ";"], tp), 400)
    assert msg.startswith('ParsingError("the query has more than 1000000 tokens")'), msg

    assert node.running
    r = query(client, ["return 1;"], tp)
    assert r.status == 200 and r.body == b"[1.0]"


def test_query_regex_classes(node):
    """Regex classes as aw-server-rust's: POSIX classes ASCII-only; \\w (with marks, not
    No numbers), \\d, \\b and case folding Unicode-aware."""
    client = node.client()
    assert client.post("/api/0/buckets/p", json={"type": "t", "client": "c", "hostname": "h"}).status == 200
    words = ["abc", "\u00e9t\u00e9", "123", "\u0661\u0662", "e\u0301", "\u00b2"]
    evs = [{"timestamp": "2020-01-01T00:00:%02dZ" % i, "duration": 1.0, "data": {"t": w}} for i, w in enumerate(words)]
    assert client.post("/api/0/buckets/p/events", json=evs).status == 200
    tp = ["2019-01-01T00:00:00Z/2021-01-01T00:00:00Z"]
    cases = [("^[[:alpha:]]+$", [0]), ("^[[:^alpha:]]+$", [2, 3, 5]), ("^\\w+$", [0, 1, 2, 3, 4]),
             ("^\\d+$", [2, 3]), ("^[[:digit:]]+$", [2]), ("(?i)^\u00c9T\u00c9$", [1]), ("e\\B", [4])]
    prog = ['e = sort_by_timestamp(query_bucket("p"));', "RETURN = ["]
    prog += ['filter_keyvals_regex(e, "t", "%s"),' % p for p, _ in cases]
    prog += ["[]];"]
    r = query(client, prog, tp)
    assert r.status == 200, r
    got = [[ev["data"]["t"] for ev in res] for res in r.json()[0][:-1]]
    assert got == [[words[i] for i in want] for _, want in cases], got


def test_query_regex_and_classification(node):
    client = node.client()
    assert client.post("/api/0/buckets/b", json={"type": "t", "client": "c", "hostname": "h"}).status == 200
    evs = [{"timestamp": "2020-01-01T00:00:%02dZ" % i, "duration": 1.0, "data": {"title": t}}
           for i, t in enumerate(["testing lookahead", "Testing other", "a" * 40 + "b", "(3) Facebook"])]
    assert client.post("/api/0/buckets/b/events", json=evs).status == 200
    tp = ["2019-01-01T00:00:00Z/2021-01-01T00:00:00Z"]
    r = query(client, ['e = sort_by_timestamp(query_bucket("b"));',
                       'return [filter_keyvals_regex(e, "title", "testing (?!lookahead)"),',
                       '        filter_keyvals_regex(e, "title", "^(a+)+$"),',
                       '        tag(e, [["t", {"type": "regex", "regex": "TESTING", "ignore_case": true}]]),',
                       '        simplify_window_titles(e, "title")];'], tp)
    assert r.status == 200, r
    neg, runaway, tagged, simple = r.json()[0]
    assert neg == [] and runaway == []
    assert [ev["data"]["$tags"] for ev in tagged] == [["t"], ["t"], [], []]
    assert simple[3]["data"]["title"] == "Facebook"


def test_query_cli(loaded, tmp_path):
    node, client, doc = loaded
    qfile = tmp_path / "q.txt"
    qfile.write_text('return sum_durations(query_bucket("%s"));\n' % A)
    start, end = "2025-01-06T00:00:00Z", "2025-01-10T00:00:00Z"
    s, e = parse_ts(start), parse_ts(end)
    want = ms_seconds(sum(d for _, d, _ in clip(load(doc["buckets"][A]["events"]), s, e)))
    env = dict(os.environ, **node.xdg)
    out = subprocess.run([binary_path(), "query", str(qfile), "--start", start, "--end", end,
                          "--db", os.path.join(node.data_dir, "awnode-testing.db")],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert close(json.loads(out.stdout)[0], want, 1e-9)
    out = subprocess.run([binary_path(), "query", str(qfile), "--start", start, "--end", end,
                          "--url", "http://127.0.0.1:%d" % node.port],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert close(json.loads(out.stdout)[0], want, 1e-9)
    qfile.write_text("return nope;")
    out = subprocess.run([binary_path(), "query", str(qfile), "--start", start, "--end", end,
                          "--url", "http://127.0.0.1:%d" % node.port],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 1 and "VariableNotDefined" in out.stderr and out.stderr.count("\n") == 1
    out = subprocess.run([binary_path(), "query", str(qfile), "--start", "yesterday", "--end", end],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode != 0 and out.stderr.count("\n") == 1
