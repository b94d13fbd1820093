"""Static files: the web UI from --webpath, [custom_static] pages, and static files
never served from outside their root (docs/api.md, docs/user-guide.md)."""

import os
import uuid

import pytest

SECRET = "TOPSECRET-" + uuid.uuid4().hex

FILES = {
    "index.html": b"<!DOCTYPE html><html><head><title>aw</title></head><body>ui</body></html>",
    "css/a.css": b"body { color: red; }\n",
    "js/a.js": b"console.log('hello');\n",
    "js/vendor/b.js": b"var b = 1;\n",
    "fonts/f.woff2": b"wOF2\x00\x01\x00\x00fakefont",
    "fonts/f.woff": b"wOFF\x00\x01\x00\x00fakefont",
    "fonts/f.ttf": b"\x00\x01\x00\x00fakettf",
    "static/img.svg": b'<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "static/data.json": b'{"a": 1}',
    "static/notes.txt": b"plain text\n",
    "static/pic.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "static/my file.txt": b"spaces in name\n",
    "static/\u00fcnicode.txt": "unicode name\n".encode(),
    "favicon.ico": b"\x00\x00\x01\x00\x01\x00fakeico",
    "dark.css": b":root { --dark: 1; }\n",
    "logo.png": b"\x89PNG\r\n\x1a\nlogo",
    "manifest.json": b'{"name": "ActivityWatch"}',
}

CONTENT_TYPES = {
    ".html": {"text/html"},
    ".css": {"text/css"},
    ".js": {"text/javascript", "application/javascript", "application/x-javascript"},
    ".woff2": {"font/woff2", "application/font-woff2"},
    ".woff": {"font/woff", "application/font-woff"},
    ".ttf": {"font/ttf", "application/x-font-ttf", "font/sfnt"},
    ".svg": {"image/svg+xml"},
    ".json": {"application/json"},
    ".txt": {"text/plain"},
    ".png": {"image/png"},
    ".ico": {"image/x-icon", "image/vnd.microsoft.icon"},
}


def write_tree(root, files):
    for rel, content in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content)


@pytest.fixture
def web(tmp_path):
    """A web root with FILES, plus secrets just outside it (a sibling file,
    and a sibling directory whose name starts with the root's name)."""
    root = tmp_path / "web"
    write_tree(str(root), FILES)
    (tmp_path / "secret.txt").write_text(SECRET)
    (tmp_path / "web2").mkdir()
    (tmp_path / "web2" / "secret.txt").write_text(SECRET)
    (tmp_path / "webx.txt").write_text(SECRET)
    return root


@pytest.fixture
def snode(node_factory, web, tmp_path):
    pages = tmp_path / "pages-foo"
    write_tree(str(pages), {"index.html": b"<html>foo page</html>", "sub/x.js": b"var x;",
                            "style.css": b"p{}"})
    cfg = '[custom_static]\nfoo = "%s"\n' % str(pages)
    return node_factory(args=["--webpath", str(web)], config=cfg)


def ctype(resp):
    return (resp.header("Content-Type") or "").split(";")[0].strip().lower()


def test_root_serves_index(snode):
    r = snode.client().get("/")
    assert r.status == 200, r
    assert r.body == FILES["index.html"]
    assert ctype(r) == "text/html"


@pytest.mark.parametrize("rel", sorted(k for k in FILES if k != "index.html"))
def test_files_served_with_content_type(snode, rel):
    from urllib.parse import quote
    r = snode.client().get("/" + quote(rel))
    assert r.status == 200, (rel, r)
    assert r.body == FILES[rel]
    ext = os.path.splitext(rel)[1]
    assert ctype(r) in CONTENT_TYPES[ext], (rel, r.headers)


def test_query_string_ignored(snode):
    r = snode.client().get("/css/a.css?v=1.2.3")
    assert r.status == 200 and r.body == FILES["css/a.css"]


@pytest.mark.parametrize("path", ["/css/missing.css", "/js/nope.js", "/static/none.png",
                                  "/fonts/x.woff2", "/css/", "/nonexistent.html",
                                  "/nonexistent/path", "/pages/foo/missing.js",
                                  "/pages/unknown/index.html"])
def test_missing_static_404(snode, path):
    r = snode.client().get(path, headers={"Accept": "application/json"})
    assert r.status == 404, r
    assert SECRET.encode() not in r.body


def test_large_file(node_factory, tmp_path):
    root = tmp_path / "bigweb"
    blob = os.urandom(3 * 1024 * 1024 + 17)
    write_tree(str(root), {"index.html": b"x", "js/big.js": blob})
    n = node_factory(args=["--webpath", str(root)])
    c = n.client()
    for _ in range(2):  # keep-alive after a big body
        r = c.get("/js/big.js")
        assert r.status == 200
        assert r.body == blob
    assert c.get("/api/0/info").status == 200


def test_custom_static_pages(snode):
    c = snode.client()
    r = c.get("/pages/foo/index.html")
    assert r.status == 200 and r.body == b"<html>foo page</html>"
    assert ctype(r) == "text/html"
    r = c.get("/pages/foo/sub/x.js")
    assert r.status == 200 and r.body == b"var x;"
    assert ctype(r) in CONTENT_TYPES[".js"]
    r = c.get("/pages/foo/style.css")
    assert r.status == 200 and ctype(r) == "text/css"


def test_static_does_not_shadow_api(snode):
    c = snode.client()
    assert c.get("/api/0/info").json()["testing"] is True
    assert c.get("/api/0/nonexistent").status == 404


TRAVERSALS = [
    "/../secret.txt",
    "/css/../../secret.txt",
    "/css/../../../secret.txt",
    "/js/vendor/../../../secret.txt",
    "/%2e%2e/secret.txt",
    "/css/%2e%2e/%2e%2e/secret.txt",
    "/css/%2E%2E/%2E%2E/secret.txt",
    "/css/.%2e/.%2e/secret.txt",
    "/css/%2e./%2e./secret.txt",
    "/css/..%2f..%2fsecret.txt",
    "/css/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/css/%252e%252e/%252e%252e/secret.txt",
    "/css/..%5c..%5csecret.txt",
    "/css/..\\..\\secret.txt",
    "/css/....//....//secret.txt",
    "/css/..;/..;/secret.txt",
    "/css/%c0%ae%c0%ae/%c0%ae%c0%ae/secret.txt",
    "/css/%00/../../secret.txt",
    "/js/../../web2/secret.txt",
    "/js/%2e%2e/%2e%2e/web2/secret.txt",
    "/css/../../webx.txt",
    "/static/../../../../../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/css//etc/passwd",
    "/css/%2fetc%2fpasswd",
    "/static/%2Fetc%2Fpasswd",
    "/pages/foo/../../secret.txt",
    "/pages/foo/../../../secret.txt",
    "/pages/foo/%2e%2e/%2e%2e/secret.txt",
    "/pages/foo/..%2f..%2fsecret.txt",
    "/pages/foo/%2e%2e/%2e%2e/web/index.html/../../secret.txt",
    "/pages/%2e%2e/secret.txt",
    "/pages/foo/%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_escapes_root(snode, path):
    c = snode.client()
    r = c.get(path)
    assert SECRET.encode() not in r.body, (path, r)
    assert b"root:x:0:0" not in r.body, (path, r)
    assert r.status == 404, r
    assert c.get("/api/0/info").status == 200


def test_raw_traversal_request_lines(snode):
    """The request target exactly as sent on the wire (no client normalisation)."""
    c = snode.client()
    for target in [b"/../secret.txt", b"/css/../../secret.txt", b"../secret.txt",
                   b"/css/../../../../../../../../etc/passwd", b"/..", b"/.././.././secret.txt",
                   b"//../secret.txt", b"/pages/foo/../../secret.txt",
                   b"http://127.0.0.1/../secret.txt"]:
        data = c.raw(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                     timeout=3)
        assert SECRET.encode() not in data, target
        assert b"root:x:0:0" not in data, target
    assert c.get("/api/0/info").status == 200


def test_custom_static_sibling_prefix(node_factory, tmp_path):
    """A custom static dir must not leak a sibling dir sharing its prefix."""
    d = tmp_path / "pg"
    write_tree(str(d), {"a.txt": b"inside"})
    write_tree(str(tmp_path / "pg-secret"), {"s.txt": SECRET.encode()})
    n = node_factory(config='[custom_static]\npg = "%s"\n' % str(d))
    c = n.client()
    assert c.get("/pages/pg/a.txt").body == b"inside"
    for p in ["/pages/pg/../pg-secret/s.txt", "/pages/pg/%2e%2e/pg-secret/s.txt",
              "/pages/pg-secret/s.txt", "/pages/pg/..%2fpg-secret%2fs.txt"]:
        r = c.get(p)
        assert SECRET.encode() not in r.body, (p, r)


def test_webpath_default_ui_when_not_given(node):
    """Without --webpath the node serves its built web UI, or a clean 404
    when it was not built; never an error or a crash."""
    r = node.client().get("/")
    assert r.status == 200, r
    if r.status == 200:
        assert ctype(r) == "text/html"
