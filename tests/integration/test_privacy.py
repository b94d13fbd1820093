"""Privacy filters (docs/privacy.md): rules in the setting `privacy_filters` drop
or redact events before they are stored, on every ingest path; `awnode redact` and
POST /api/0/privacy/redact apply a rule to events already stored."""

import glob
import json
import os

import awtest
from awtest import db_files, found_in_db_files

TS = "2024-05-01T10:00:0%dZ"
RULES = [
    {"enabled": True, "bucket_prefix": "aw-watcher-window", "field": "title",
     "pattern": "(?i)incognito", "action": "drop"},
    {"enabled": True, "field": "url", "pattern": "bank", "action": "redact",
     "replacement": "REDACTED"},
    {"enabled": False, "field": "title", "pattern": ".*", "action": "drop"},
]


def bucket(client, bid):
    r = client.post("/api/0/buckets/" + bid, json={"type": "t", "client": "c", "hostname": "h"})
    assert r.status == 200, r


def events(client, bid):
    r = client.get("/api/0/buckets/%s/events" % bid)
    assert r.status == 200, r
    return sorted(r.json(), key=lambda e: e["timestamp"])


def set_rules(client, rules=RULES):
    r = client.post("/api/0/settings/privacy_filters", json=rules)
    assert r.status == 201, r


def test_drop_and_redact_on_every_ingest_path(client):
    set_rules(client)
    bucket(client, "aw-watcher-window_h")
    bucket(client, "aw-watcher-web_h")
    # events POST
    r = client.post("/api/0/buckets/aw-watcher-window_h/events", json=[
        {"timestamp": TS % 1, "duration": 1, "data": {"title": "Incognito - Firefox"}},
        {"timestamp": TS % 2, "duration": 1, "data": {"title": "GitHub"}}])
    assert r.status == 200 and [e["data"]["title"] for e in r.json()] == ["GitHub"], r
    # heartbeat: a dropped heartbeat is answered with the last event
    r = client.post("/api/0/buckets/aw-watcher-window_h/heartbeat?pulsetime=5",
                    json={"timestamp": TS % 4, "duration": 0, "data": {"title": "incognito tab"}})
    assert r.status == 200 and r.json()["data"] == {"title": "GitHub"}, r
    # redaction by field, in another bucket (no bucket_prefix)
    r = client.post("/api/0/buckets/aw-watcher-web_h/heartbeat?pulsetime=5",
                    json={"timestamp": TS % 1, "duration": 0, "data": {"url": "https://mybank.example", "title": "x"}})
    assert r.status == 200 and r.json()["data"] == {"title": "x", "url": "REDACTED"}, r
    # import
    doc = {"buckets": {"b": {"id": "aw-watcher-window_imported", "type": "t", "client": "c", "hostname": "h",
                             "events": [{"timestamp": TS % 1, "duration": 1, "data": {"title": "INCOGNITO"}},
                                        {"timestamp": TS % 3, "duration": 1, "data": {"title": "ok"}}]}}}
    assert client.post("/api/0/import", json=doc).status == 200
    assert [e["data"]["title"] for e in events(client, "aw-watcher-window_imported")] == ["ok"]
    assert [e["data"]["title"] for e in events(client, "aw-watcher-window_h")] == ["GitHub"]
    assert [e["data"] for e in events(client, "aw-watcher-web_h")] == [{"title": "x", "url": "REDACTED"}]


def test_invalid_rules_rejected_and_stored_rules_unchanged(client):
    set_rules(client)
    bad = [
        {"enabled": True, "pattern": "(", "action": "drop"},           # regex does not compile
        {"enabled": True, "pattern": "x", "action": "delete"},         # unknown action
        {"pattern": "x", "action": "drop"},                            # enabled missing
        {"enabled": True, "action": "drop"},                           # pattern missing
        {"enabled": True, "pattern": "x", "action": "drop", "field": 3},
        "not a rule",
    ]
    for rule in bad:
        r = client.post("/api/0/settings/privacy_filters", json=[rule])
        awtest.assert_app_error(r, 400)
    r = client.post("/api/0/settings/privacy_filters", json={"not": "a list"})
    awtest.assert_app_error(r, 400)
    assert client.get("/api/0/settings/privacy_filters").json() == awtest.loads(json.dumps(RULES))


def test_deleting_the_setting_stops_filtering(client):
    set_rules(client)
    bucket(client, "aw-watcher-window_h")
    assert client.delete("/api/0/settings/privacy_filters").status == 200
    r = client.post("/api/0/buckets/aw-watcher-window_h/events",
                    json=[{"timestamp": TS % 1, "duration": 1, "data": {"title": "Incognito"}}])
    assert len(r.json()) == 1


def test_redact_route_dry_run_then_real(client):
    bucket(client, "aw-watcher-window_h")
    bucket(client, "other")
    for b in ("aw-watcher-window_h", "other"):
        client.post("/api/0/buckets/%s/events" % b, json=[
            {"timestamp": TS % 1, "duration": 1, "data": {"title": "secret project"}},
            {"timestamp": TS % 2, "duration": 1, "data": {"title": "secret project"}},
            {"timestamp": TS % 3, "duration": 1, "data": {"title": "public"}}])
    rule = {"field": "title", "pattern": "secret", "action": "redact", "replacement": "hidden",
            "bucket_prefix": "aw-watcher-window"}
    r = client.post("/api/0/privacy/redact", json=dict(rule, dry_run=True))
    assert r.status == 200 and r.json() == {"dropped": 0, "redacted": 2, "dry_run": True}, r
    assert [e["data"]["title"] for e in events(client, "aw-watcher-window_h")].count("secret project") == 2
    r = client.post("/api/0/privacy/redact", json=rule)
    assert r.json() == {"dropped": 0, "redacted": 2, "dry_run": False}, r
    assert [e["data"]["title"] for e in events(client, "aw-watcher-window_h")] == ["hidden", "hidden", "public"]
    assert [e["data"]["title"] for e in events(client, "other")].count("secret project") == 2
    r = client.post("/api/0/privacy/redact", json={"pattern": "public", "field": "title", "action": "drop"})
    assert r.json()["dropped"] == 2
    assert [e["data"]["title"] for e in events(client, "other")] == ["secret project", "secret project"]
    awtest.assert_app_error(client.post("/api/0/privacy/redact", json={"pattern": "[", "action": "drop"}), 400)


def test_redact_cli_offline_and_through_running_node(node_factory):
    node = node_factory()
    c = node.client()
    bucket(c, "aw-watcher-window_h")
    c.post("/api/0/buckets/aw-watcher-window_h/events",
           json=[{"timestamp": TS % 1, "duration": 1, "data": {"title": "payroll 2024"}}])
    # node running: the CLI goes through its API
    p = awtest.run_awnode(["redact", "--testing", "--port", str(node.port), "--pattern", "payroll",
                           "--field", "title", "--dry-run"], node.env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"dropped": 0, "redacted": 1, "dry_run": True}
    node.stop()
    # node stopped: the CLI edits the database itself
    p = awtest.run_awnode(["redact", "--testing", "--pattern", "payroll", "--field", "title"], node.env)
    assert p.returncode == 0 and b"redacted 1 events" in p.stdout, (p.stdout, p.stderr)
    node.start()
    assert [e["data"]["title"] for e in events(node.client(), "aw-watcher-window_h")] == ["REDACTED"]
    # bad arguments: one line, non-zero
    for args in (["redact"], ["redact", "--pattern", "x"], ["redact", "--pattern", "(", "--drop"],
                 ["redact", "--bogus"]):
        p = awtest.run_awnode(args, node.env)
        assert p.returncode != 0 and p.stderr.count(b"\n") == 1, (args, p.stderr)


# ---- nothing removed stays readable in the database files (docs/storage.md) ----------------

def secret_titles(tag, n=30):
    return ["%s secret %03d - quarterly layoffs draft" % (tag, i) for i in range(n)]


def fill(c, bid, titles):
    bucket(c, bid)
    r = c.post("/api/0/buckets/%s/events" % bid, json=[
        {"timestamp": "2024-05-01T10:%02d:00Z" % (i % 60), "duration": 1, "data": {"title": t}}
        for i, t in enumerate(titles)])
    assert r.status == 200, r


def test_removed_titles_leave_no_trace_in_wal_or_database(node_factory):
    """Redacting (the API and the CLI through the node) and deleting a bucket leave
    none of the removed titles in awnode*.db, -wal or -shm, while the node still runs
    and after it stopped."""
    node = node_factory()
    c = node.client()
    redacted, dropped, cli_redacted, deleted = (secret_titles(t) for t in ("redactme", "dropme", "cliredact",
                                                                          "bucketdel"))
    keep = ["kept title %02d stays here" % i for i in range(5)]
    fill(c, "aw-watcher-window_h", redacted + dropped + cli_redacted + keep)
    fill(c, "doomed", deleted)
    gone = redacted + dropped + cli_redacted + deleted
    # the scan sees what is stored: every title is in the files before anything is removed
    assert {n for _, n in found_in_db_files(node, gone + keep)} == set(gone + keep)

    r = c.post("/api/0/privacy/redact", json={"field": "title", "pattern": "redactme", "action": "redact",
                                               "replacement": "REDACTED"})
    assert r.status == 200 and r.json()["redacted"] == 30, r
    r = c.post("/api/0/privacy/redact", json={"field": "title", "pattern": "dropme", "action": "drop"})
    assert r.status == 200 and r.json()["dropped"] == 30, r
    p = awtest.run_awnode(["redact", "--testing", "--port", str(node.port), "--pattern", "cliredact",
                           "--field", "title"], node.env)
    assert p.returncode == 0 and json.loads(p.stdout)["redacted"] == 30, (p.stdout, p.stderr)
    assert c.delete("/api/0/buckets/doomed").status == 200
    assert found_in_db_files(node, gone) == []
    assert {n for _, n in found_in_db_files(node, keep)} == set(keep)
    titles = [e["data"]["title"] for e in events(c, "aw-watcher-window_h")]
    assert sorted(titles) == sorted(keep + ["REDACTED"] * 60)
    node.stop()
    assert found_in_db_files(node, gone) == []


def test_redact_cli_on_a_stopped_node_leaves_no_trace(node_factory):
    node = node_factory()
    c = node.client()
    gone = secret_titles("offline")
    fill(c, "aw-watcher-window_h", gone)
    node.stop()
    p = awtest.run_awnode(["redact", "--testing", "--pattern", "offline", "--drop"], node.env)
    assert p.returncode == 0 and b"dropped 30 events" in p.stdout, (p.stdout, p.stderr)
    assert found_in_db_files(node, gone) == []


def test_redact_without_replacement_hides_the_field(client):
    """A redact rule that names no replacement writes "REDACTED" (as `awnode redact`
    does), on ingest and applied to stored events: it never stores the text unchanged."""
    bucket(client, "aw-watcher-web_h")
    r = client.post("/api/0/buckets/aw-watcher-web_h/events",
                    json=[{"timestamp": TS % 1, "duration": 1, "data": {"url": "https://old.example/secret"}}])
    assert r.status == 200, r
    set_rules(client, [{"enabled": True, "field": "url", "pattern": "secret", "action": "redact"}])
    r = client.post("/api/0/buckets/aw-watcher-web_h/heartbeat?pulsetime=0",
                    json={"timestamp": TS % 3, "duration": 0, "data": {"url": "https://new.example/secret"}})
    assert r.status == 200 and r.json()["data"] == {"url": "REDACTED"}, r
    r = client.post("/api/0/privacy/redact", json={"field": "url", "pattern": "secret", "action": "redact"})
    assert r.status == 200 and r.json() == {"dropped": 0, "redacted": 1, "dry_run": False}, r
    assert [e["data"]["url"] for e in events(client, "aw-watcher-web_h")] == ["REDACTED", "REDACTED"]
