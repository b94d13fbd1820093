"""/api/0/info, device id, config file, CLI flags and process behaviour:
ports of aw-server-rust's config tests; ports and the separate testing database, XDG
files and device id (docs/user-guide.md), bad CLI arguments and files."""

import os
import re
import signal
import socket

import pytest

from awtest import free_port, new_bucket, run_awnode

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_info_shape(node, client):
    r = client.get("/api/0/info")
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("application/json")
    pairs = r.json_pairs()
    assert [k for k, _ in pairs] == ["hostname", "version", "testing", "device_id"]
    info = r.json()
    assert info["hostname"] == socket.gethostname()
    assert isinstance(info["version"], str) and info["version"]
    assert info["testing"] is True
    assert UUID4.match(info["device_id"]), info


def test_info_trailing_slash(client):
    assert client.get("/api/0/info/").json() == client.get("/api/0/info").json()


def test_device_id_file_created_and_persistent(node, client):
    info = client.get("/api/0/info").json()
    path = node.device_id_path
    assert os.path.isfile(path), path
    with open(path) as f:
        stored = f.read().strip()
    assert stored == info["device_id"]
    node.restart()
    assert node.client().get("/api/0/info").json()["device_id"] == info["device_id"]


def test_device_id_shared_by_testing_and_normal_mode(node_factory):
    n = node_factory()
    dev = n.client().get("/api/0/info").json()["device_id"]
    n.stop()
    n2 = node_factory(base=n.base, testing=False)
    info = n2.client().get("/api/0/info").json()
    assert info["testing"] is False
    assert info["device_id"] == dev


def test_existing_device_id_file_used(node_factory, tmp_path):
    n = node_factory(start=False)
    os.makedirs(n.data_dir, exist_ok=True)
    want = "0b6a3c0e-8f0c-4d6e-9a7b-1c2d3e4f5a6b"
    with open(n.device_id_path, "w") as f:
        f.write(want)
    n.start()
    assert n.client().get("/api/0/info").json()["device_id"] == want


def test_device_id_flag_overrides(node_factory):
    n = node_factory(args=["--device-id", "my-custom-device"])
    c = n.client()
    assert c.get("/api/0/info").json()["device_id"] == "my-custom-device"
    c.post("/api/0/buckets/loc", json={"type": "t", "client": "c", "hostname": "!local"})
    assert c.get("/api/0/buckets/loc").json()["data"]["device_id"] == "my-custom-device"


def test_distinct_nodes_have_distinct_device_ids(node_factory):
    a = node_factory().client().get("/api/0/info").json()["device_id"]
    b = node_factory().client().get("/api/0/info").json()["device_id"]
    assert a != b


# -- config file ---------------------------------------------------------------------------

def test_config_in_xdg_location_is_read(node_factory):
    """$XDG_CONFIG_HOME/awnode/config.toml (normal mode) is read by default."""
    n = node_factory(testing=False,
                     xdg_config_file='cors = ["http://from-xdg-config.test:1234"]\n')
    c = n.client()
    r = c.get("/api/0/info", headers={"Origin": "http://from-xdg-config.test:1234"})
    assert r.status == 200
    assert r.header("Access-Control-Allow-Origin") == "http://from-xdg-config.test:1234"


def test_config_flag_overrides_location(node_factory, tmp_path):
    n = node_factory(testing=False, config='cors = ["http://from-flag.test"]\n',
                     xdg_config_file='cors = ["http://from-xdg.test"]\n')
    c = n.client(default_headers={"Accept": "application/json"})
    assert c.get("/api/0/info", headers={"Origin": "http://from-flag.test"}).status == 200
    assert c.get("/api/0/info", headers={"Origin": "http://from-xdg.test"}).status == 403


def test_config_port_and_address(node_factory):
    """create_config_uses_override_path: address/port come from the file."""
    port = free_port("127.0.0.2")
    n = node_factory(config='address = "127.0.0.2"\nport = %d\n' % port, use_port_flag=False,
                     port=port, address="127.0.0.2")
    r = n.client().get("/api/0/info")
    assert r.status == 200


def test_port_flag_overrides_config(node_factory):
    other = free_port()
    n = node_factory(config="port = %d\n" % other)
    assert n.port != other
    assert n.client().get("/api/0/info").status == 200


def test_config_all_keys_accepted(node_factory, tmp_path):
    d = tmp_path / "cs"
    d.mkdir()
    (d / "a.txt").write_text("custom")
    cfg = ('address = "127.0.0.1"\n'
           'port = 5999\n'
           'cors = ["http://a.test"]\n'
           'cors_regex = ["b\\\\.test"]\n'
           'max_body_bytes = 100000\n'
           '[auth]\napi_key = "k"\n'
           '[custom_static]\ncs = "%s"\n' % str(d))
    n = node_factory(config=cfg)
    c = n.client(default_headers={"Authorization": "Bearer k"})
    assert c.get("/api/0/buckets/").status == 200
    assert c.get("/pages/cs/a.txt").body == b"custom"
    assert c.get("/api/0/info", headers={"Origin": "https://x.b.test"}).status == 200


def test_missing_config_file(node_factory, tmp_path):
    """--config naming a missing file: the node starts on its defaults (the
    reference creates the file with commented-out defaults); a second start
    with the same path works too."""
    path = str(tmp_path / "new-dir-cfg" / "config.toml")
    os.makedirs(os.path.dirname(path))
    n = node_factory(args=["--config", path])
    assert n.client().get("/api/0/info").status == 200
    n.stop()
    n.start()
    assert n.client().get("/api/0/info").status == 200


def _port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.mark.parametrize("testing,port", [(True, 5666), (False, 5600)])
def test_default_ports(node_factory, testing, port):
    """5666 with --testing, 5600 without (as aw-server-rust)."""
    if not _port_free(port):
        pytest.skip("port %d is in use on this machine" % port)
    n = node_factory(testing=testing, use_port_flag=False, port=port)
    info = n.client().get("/api/0/info").json()
    assert info["testing"] is testing


def test_empty_config_file_uses_defaults(node_factory):
    n = node_factory(config="")
    assert n.client().get("/api/0/info").status == 200


def test_commented_config_file(node_factory):
    n = node_factory(config="### DEFAULT SETTINGS ###\n#address = \"127.0.0.1\"\n#port = 5600\n")
    assert n.client().get("/api/0/info").status == 200


def _expect_start_failure(node_factory, **kw):
    n = node_factory(start=False, **kw)
    n.start(wait=False)
    rc, err = n.wait_exit(10)
    assert rc > 0, (rc, err)
    assert err.strip(), "no error message on stderr"
    return err


@pytest.mark.parametrize("cfg", [
    "this is not toml",
    "port = ",
    'port = "abc"\n',
    "port = 70000\n",
    "cors = \"not-a-list\"\n",
    "max_body_bytes = \"big\"\n",
    "max_body_bytes = -1\n",
    '[auth]\napi_key = 5\n',
    '[custom_static]\nx = 5\n',
    'address = "not an address"\n',
    "[auth\n",
    "[sync]\ncompact_segments = 15\n",
    "[sync]\ncompact_segments = 1000001\n",
    '[sync]\ncompact_segments = "many"\n',
])
def test_bad_config_fails_clearly(node_factory, cfg):
    _expect_start_failure(node_factory, config=cfg)


def test_port_in_use_fails_clearly(node_factory):
    a = node_factory()
    err = _expect_start_failure(node_factory, port=a.port)
    assert a.client().get("/api/0/info").status == 200
    assert err


@pytest.mark.parametrize("args", [
    ["serve", "--port", "notanumber"],
    ["serve", "--port", "70000"],
    ["serve", "--port", "-1"],
    ["serve", "--port"],
    ["serve", "--no-such-flag"],
    ["serve", "--hostname", ""],
    ["no-such-subcommand"],
])
def test_bad_cli_arguments(tmp_path, args):
    env = dict(os.environ)
    for k in ("CONFIG", "DATA", "STATE", "CACHE"):
        d = tmp_path / k
        d.mkdir(exist_ok=True)
        env["XDG_%s_HOME" % k] = str(d)
    p = run_awnode(args + (["--testing"] if args[0] == "serve" else []), env)
    assert p.returncode != 0, p
    assert p.stderr.strip(), p
    for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert m.encode() not in p.stderr


def test_help_lists_options(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path),
               XDG_STATE_HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path))
    p = run_awnode(["--help"], env)
    assert p.returncode == 0, p
    out = (p.stdout + p.stderr).decode()
    assert "serve" in out
    p = run_awnode(["serve", "--help"], env)
    assert p.returncode == 0, p
    out = (p.stdout + p.stderr).decode()
    for opt in ["--host", "--port", "--testing", "--dbpath", "--webpath", "--config",
                "--device-id", "--hostname", "--verbose"]:
        assert opt in out, opt


# -- database files ----------------------------------------------------------------------------

def test_testing_mode_uses_separate_database(node_factory):
    t = node_factory()
    new_bucket(t.client(), "testing-only")
    t.stop()
    normal = node_factory(base=t.base, testing=False)
    assert normal.client().get("/api/0/buckets/").json() == {}
    new_bucket(normal.client(), "normal-only")
    normal.stop()
    t2 = node_factory(base=t.base)
    assert list(t2.client().get("/api/0/buckets/").json()) == ["testing-only"]


def test_data_lives_under_xdg_data_home(node, client):
    new_bucket(client, "x")
    files = [f for f in os.listdir(node.data_dir) if f != "device_id"]
    assert files, "no database under %s" % node.data_dir


def test_dbpath_flag(node_factory, tmp_path):
    db = tmp_path / "custom" / "my.db"
    db.parent.mkdir()
    n = node_factory(args=["--dbpath", str(db)])
    new_bucket(n.client(), "in-custom-db")
    n.stop()
    assert db.exists()
    # another node (other XDG dirs) on the same file sees the data
    n2 = node_factory(args=["--dbpath", str(db)])
    assert list(n2.client().get("/api/0/buckets/").json()) == ["in-custom-db"]
    # a node without --dbpath does not
    n3 = node_factory()
    assert n3.client().get("/api/0/buckets/").json() == {}


def test_dbpath_unwritable_fails_clearly(node_factory, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    _expect_start_failure(node_factory, args=["--dbpath", str(f / "sub" / "x.db")])


def test_dbpath_not_a_database_fails_clearly(node_factory, tmp_path):
    bad = tmp_path / "garbage.db"
    bad.write_bytes(b"this is not an sqlite database" * 100)
    _expect_start_failure(node_factory, args=["--dbpath", str(bad)])


def test_logs_under_xdg_state_home(node, client):
    client.get("/api/0/info")
    node.stop()
    found = []
    for root, _dirs, files in os.walk(node.xdg["XDG_STATE_HOME"]):
        found += [os.path.join(root, f) for f in files]
    assert found, "no log file under XDG_STATE_HOME"


def test_verbose_flag(node_factory):
    n = node_factory(args=["--verbose"])
    assert n.client().get("/api/0/info").status == 200


# -- shutdown ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_commits(node, client, sig):
    new_bucket(client, "persist")
    client.post("/api/0/buckets/persist/events",
                json=[{"timestamp": "2020-01-01T00:00:00Z", "duration": 1, "data": {}}])
    client.post("/api/0/buckets/persist/heartbeat?pulsetime=10",
                json={"timestamp": "2020-01-01T00:00:05Z", "duration": 0, "data": {}})
    client.post("/api/0/settings/s", json="v")
    rc = node.stop(sig)
    assert rc == 0, "exit code %r after %s\n%s" % (rc, sig, node.stderr_text()[-2000:])
    node.start()
    c = node.client()
    evs = c.get("/api/0/buckets/persist/events").json()
    assert len(evs) == 1 and evs[0]["duration"] == 5.0
    assert c.get("/api/0/settings/s").json() == "v"


def test_shutdown_with_open_connections(node):
    c = node.client()
    c.get("/api/0/info")  # an idle keep-alive connection stays open
    s = socket.create_connection((node.address, node.port))
    s.sendall(b"GET /api/0/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request
    rc = node.stop()
    s.close()
    assert rc == 0, node.stderr_text()[-2000:]
