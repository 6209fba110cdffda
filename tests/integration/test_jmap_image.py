"""The webmail's remote-image proxy (GET /jmap/image?url=): Pigeon fetches an image for a
logged-in reader from a local origin the configuration allows, sends it nothing of the reader
(no cookie, no referrer, no credentials), refuses other local and private addresses (also
behind a redirect), answers that are not images or are too large, URLs that are not http(s),
and a cookie session without its CSRF token."""

import http.server
import json
import threading
import urllib.error
import urllib.request
import zlib

import pytest

import jmap_helpers as J

web = J.jmap_fixture("jmap_image", jmap={"image_proxy_allow": "127.0.0.1/32",
                                         "image_proxy_max_size": "64K"})


def png():
    """A real 1x1 PNG."""
    def chunk(kind, data):
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    ihdr = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) +
            chunk(b"IEND", b""))


PNG = png()


class Origin:
    """The "sender's" web server: records the headers of every request."""

    def __init__(self):
        self.seen = []
        o = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                o.seen.append((self.path, dict(self.headers)))
                routes = {
                    "/pic.png": (200, "image/png", PNG),
                    "/page.html": (200, "text/html", b"<script>alert(1)</script>"),
                    "/fake.png": (200, "image/png", b"<svg onload=alert(1)>"),
                    "/big.png": (200, "image/png", PNG + b"\0" * 100000),
                    "/gone.png": (404, "text/plain", b"no"),
                }
                if self.path.startswith("/redirect?"):
                    self.send_response(302)
                    self.send_header("Location", self.path.split("?", 1)[1])
                    self.end_headers()
                    return
                status, ctype, body = routes.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path, host="127.0.0.1"):
        return "http://%s:%d%s" % (host, self.port, path)


@pytest.fixture(scope="module")
def origin():
    o = Origin()
    yield o
    o.server.shutdown()


def image(c, url, headers=None, raw_query=None):
    q = raw_query if raw_query is not None else urllib.request.quote(url, safe="")
    return c.raw("GET", "/jmap/image?url=" + q, headers=headers)


def test_image_fetched_for_the_reader(web, origin):
    c = J.Client(web)
    status, headers, body = image(c, origin.url("/pic.png"),
                                  {"Referer": "http://webmail.example/mail/",
                                   "Cookie": "pigeon_session=secret"})
    assert status == 200, body
    assert body == PNG and headers["Content-Type"] == "image/png"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in headers["Content-Security-Policy"]
    path, sent = origin.seen[-1]
    assert path == "/pic.png"
    lower = {k.lower(): v for k, v in sent.items()}
    for leak in ("cookie", "referer", "authorization", "origin"):
        assert leak not in lower, sent
    assert lower["user-agent"] == "Pigeon image proxy"
    # a redirect within what is allowed is followed
    status, _, body = image(c, origin.url("/redirect?" + origin.url("/pic.png")))
    assert status == 200 and body == PNG


def test_private_addresses_refused(web, origin):
    c = J.Client(web)
    before = len(origin.seen)
    # loopback outside the allowed /32, RFC 1918, benchmarking, link-local, IPv6 loopback
    for host in ("127.0.0.2", "10.1.2.3", "198.18.0.1", "169.254.169.254", "[::1]"):
        status, _, body = image(c, origin.url("/pic.png", host))
        assert status == 403, (host, status, body)
    # an allowed origin that redirects to a private address
    status, _, _ = image(c, origin.url("/redirect?http://10.1.2.3/pic.png"))
    assert status == 403
    assert [p for p, _ in origin.seen[before:]] == ["/redirect?http://10.1.2.3/pic.png"]


def test_not_images_and_bad_urls(web, origin):
    c = J.Client(web)
    assert image(c, origin.url("/page.html"))[0] == 415
    assert image(c, origin.url("/fake.png"))[0] == 415      # says PNG, is not one
    assert image(c, origin.url("/big.png"))[0] == 413       # image_proxy_max_size = 64K
    assert image(c, origin.url("/gone.png"))[0] == 502
    for url in ("ftp://127.0.0.1/x.png", "file:///etc/passwd", "http:///x", "javascript:1",
                "gopher://127.0.0.1:%d/" % origin.port):
        assert image(c, url)[0] == 400, url
    assert image(c, None, raw_query="")[0] == 400
    assert image(c, None, raw_query="http%3A%2F%2F127.0.0.1%zz")[0] == 400
    status, _, _ = c.raw("POST", "/jmap/image?url=" + urllib.request.quote(
        origin.url("/pic.png"), safe=""), b"")
    assert status == 405


def test_cookie_session_needs_the_csrf_token(web, origin):
    cookie = J.cookie_login(web)
    req = urllib.request.Request(web.url("/.well-known/jmap"), headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as r:
        token = json.loads(r.read())["csrfToken"]
    url = web.url("/jmap/image?url=" + urllib.request.quote(origin.url("/pic.png"), safe=""))

    def get(headers):
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                        timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    assert get({"Cookie": cookie})[0] == 403                 # an <img> of another site
    assert get({"Cookie": cookie, "X-CSRF-Token": token}) == (200, PNG)
    assert get({})[0] == 401
