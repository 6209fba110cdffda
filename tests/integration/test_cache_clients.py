"""Stock clients through the Web cache: curl -x, wget with http_proxy and headless Chromium
with --proxy-server load pages through it (the second load is a hit); CONNECT tunnels TLS to
port 443; https:// origins are verified (refused without the CA, fetched and cached with it);
a client outside `allow` is refused, and with `auth = yes` must log in as a Pigeon user."""

import base64
import http.server
import os
import ssl
import subprocess
import threading

import pytest

import cache_helpers as C
import pigeon_harness as H

TLS_ADDR = "127.0.0.5"

PAGE = (b"<!doctype html><html><head><title>Through the cache</title>"
        b"<link rel=stylesheet href=/style.css></head><body><p>Textbook page</p>"
        b"<img src=/dot.png></body></html>")
# 1x1 PNG
DOT = base64.b64decode(b"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                       b"hgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def origin():
    o = C.Origin()
    cc = {"Cache-Control": "max-age=300"}
    o.routes["/page.html"] = {"headers": dict(cc, **{"Content-Type": "text/html"}), "body": PAGE}
    o.routes["/style.css"] = {"headers": dict(cc, **{"Content-Type": "text/css"}),
                              "body": b"body { font-family: serif }"}
    o.routes["/dot.png"] = {"headers": dict(cc, **{"Content-Type": "image/png"}), "body": DOT}
    o.routes["/big"] = {"headers": cc, "body": b"b" * 2000000, "chunked": True}
    yield o
    o.close()


@pytest.fixture(scope="module")
def tls_origin(tmp_path_factory):
    """An HTTPS server on 127.0.0.5:443 (the suite runs in its own network namespace)."""
    d = tmp_path_factory.mktemp("tls_origin")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=%s" % TLS_ADDR, "-addext", "subjectAltName=IP:%s" % TLS_ADDR,
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        hits = 0

        def log_message(self, *a):
            pass

        def do_GET(self):
            Handler.hits += 1
            body = b"secret over TLS"
            self.send_response(200)
            self.send_header("Cache-Control", "max-age=300")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer((TLS_ADDR, 443), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield cert, Handler
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def px(tmp_path_factory, origin, tls_origin):
    cert, _ = tls_origin
    p = C.ProxyDaemon(tmp_path_factory.mktemp("cache_clients"), "pigeond[cache_clients]",
                      proxy={"origin_ca_file": str(cert)})
    yield p
    C.finish(p.d)


def env_proxy(px):
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["http_proxy"] = "http://127.0.0.1:%d" % px.port
    return env


def test_curl_x(px, origin):
    proxy = "http://127.0.0.1:%d" % px.port
    for n in (1, 2):
        p = subprocess.run(["curl", "-sS", "-D", "-", "-x", proxy, origin.url("/page.html")],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout.endswith(PAGE)
    assert b"Cache-Status: pigeon; hit" in p.stdout
    assert origin.count("/page.html") == 1
    # A 2 MB chunked origin body, streamed to the client and stored; the second is a hit.
    for n in (1, 2):
        p = subprocess.run(["curl", "-sS", "-x", proxy, "-o", "-", origin.url("/big")],
                           capture_output=True, timeout=60)
        assert p.returncode == 0 and p.stdout == b"b" * 2000000
    assert origin.count("/big") == 1


def test_wget_http_proxy(px, origin, tmp_path):
    out = tmp_path / "style.css"
    p = subprocess.run(["wget", "-q", "-O", str(out), origin.url("/style.css")],
                       env=env_proxy(px), capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == b"body { font-family: serif }"
    p = subprocess.run(["wget", "-S", "-O", "/dev/null", origin.url("/style.css")],
                       env=env_proxy(px), capture_output=True, timeout=30)
    assert b"Cache-Status: pigeon; hit" in p.stderr
    assert origin.count("/style.css") == 1


def test_chromium_proxy_server(px, origin, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--proxy-server=http://127.0.0.1:%d" % px.port,
              "--proxy-bypass-list=<-loopback>",   # loopback origins go through the proxy too
              "--user-data-dir=%s" % (tmp_path / "profile")):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        drv.set_page_load_timeout(60)
        before = origin.count("/dot.png")
        drv.get(origin.url("/page.html"))
        WebDriverWait(drv, 30).until(lambda d: d.execute_script(
            "return document.readyState") == "complete")
        assert drv.title == "Through the cache"
        imgs = drv.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
        assert imgs == [[True, 1]]
        assert "serif" in drv.execute_script("return getComputedStyle(document.body).fontFamily;")
    finally:
        drv.quit()
    # Every object came through the proxy (the page and the stylesheet were cached already).
    assert origin.count("/page.html") == 1 and origin.count("/style.css") == 1
    assert origin.count("/dot.png") == before + (0 if before else 1)
    assert "chromium" not in str(origin.last("/dot.png")[2].get("Via", "")).lower()
    assert "pigeon" in origin.last("/dot.png")[2]["Via"]


def test_connect_tunnels_tls(px, tls_origin):
    cert, handler = tls_origin
    before = handler.hits
    p = subprocess.run(["curl", "-sS", "--cacert", str(cert), "-x",
                        "http://127.0.0.1:%d" % px.port, "https://%s/tunnel" % TLS_ADDR],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"secret over TLS"
    assert handler.hits == before + 1
    # Never cached: a tunnel's content is not the proxy's to see.
    p = subprocess.run(["curl", "-sS", "--cacert", str(cert), "-x",
                        "http://127.0.0.1:%d" % px.port, "https://%s/tunnel" % TLS_ADDR],
                       capture_output=True, timeout=30)
    assert handler.hits == before + 2


def test_https_origin_verified_and_cached(px, tls_origin):
    _, handler = tls_origin
    before = handler.hits
    for _ in range(2):
        r, body = px.get("https://%s/fetched" % TLS_ADDR)
        assert r.status == 200 and body == b"secret over TLS"
    assert handler.hits == before + 1


def test_https_origin_unverified_refused(tmp_path, tls_origin):
    p = C.ProxyDaemon(tmp_path, "pigeond[cache_noca]")
    try:
        r, body = p.get("https://%s/fetched" % TLS_ADDR)
        assert r.status == 502
        assert b"certificate" in body
    finally:
        C.finish(p.d)


def test_client_not_allowed_and_proxy_auth(tmp_path, origin):
    p = C.ProxyDaemon(tmp_path, "pigeond[cache_acl]", proxy={"allow": "127.0.0.2/32"})
    try:
        r, body = p.get(origin.url("/page.html"))
        assert r.status == 403
        p.d.stop()
        p.d.sections["proxy"]["auth"] = "yes"
        p.d.write_conf()
        p.d.start()
        r, _ = p.get(origin.url("/page.html"))
        assert r.status == 407
        assert r.getheader("Proxy-Authenticate").startswith("Basic")
        bad = base64.b64encode(b"alice@hamburger.edu:wrong").decode()
        r, _ = p.get(origin.url("/page.html"), headers={"Proxy-Authorization": "Basic " + bad})
        assert r.status == 407
        good = base64.b64encode(b"alice@hamburger.edu:crepes").decode()
        r, body = p.get(origin.url("/page.html"),
                        headers={"Proxy-Authorization": "Basic " + good})
        assert r.status == 200 and body == PAGE
        # The credentials are the proxy's: never passed to the origin.
        assert "Proxy-Authorization" not in origin.last("/page.html")[2]
    finally:
        C.finish(p.d)
