"""The HTTP service as an origin server, driven by stock clients: curl (HTTP/1.0, keep-alive
reuse, -z, -r, HEAD), wget, python http.client; conditional requests, ranges, directory
handling, media types, precompressed variants, paths that try to leave the root."""

import email.utils
import http.client
import os
import subprocess
import time

import pytest

import http_helpers as X
import pigeon_harness as H


web = X.web_fixture("http_static")


def conn(web):
    return http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)


def get(web, path, headers=None, method="GET"):
    c = conn(web)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def test_index_page_and_types(web):
    r, body = get(web, "/")
    assert r.status == 200
    assert body == X.INDEX
    assert r.getheader("Content-Type") == "text/html"
    assert r.getheader("Content-Length") == str(len(X.INDEX))
    assert r.getheader("ETag", "").startswith('"')
    assert r.getheader("Last-Modified")
    assert r.getheader("Date")
    r, body = get(web, "/images/logo.png")
    assert r.status == 200 and body.startswith(b"\x89PNG")
    assert r.getheader("Content-Type") == "image/png"
    assert r.getheader("Cache-Control") == "max-age=86400"
    r, _ = get(web, "/style.css")
    assert r.getheader("Content-Type") == "text/css"
    assert r.getheader("Cache-Control") is None


def test_http10_closes_and_keepalive_reuses(web):
    rc, out, err = X.curl("--http1.0", "-i", web.url("/style.css"))
    assert rc == 0, err
    assert out.startswith(b"HTTP/1.1 200 ")
    assert b"Connection: close" in out
    urls = [web.url(p) for p in ("/", "/style.css", "/images/logo.png", "/images/campus.png")]
    rc, out, err = X.curl("-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-o",
                          "/dev/null", "-w", "%{http_code}:%{num_connects}\n", *urls)
    assert rc == 0, err
    lines = out.decode().split()
    assert [l.split(":")[0] for l in lines] == ["200"] * 4
    # One connection made for the first transfer, reused by the three others.
    assert [l.split(":")[1] for l in lines] == ["1", "0", "0", "0"]


def test_head(web):
    r, body = get(web, "/big.bin", method="HEAD")
    assert r.status == 200 and body == b""
    assert r.getheader("Content-Length") == "102400"
    rc, out, err = X.curl("-I", web.url("/big.bin"))
    assert rc == 0 and b"Content-Length: 102400" in out


def test_conditional_get(web):
    r, _ = get(web, "/style.css")
    etag, lm = r.getheader("ETag"), r.getheader("Last-Modified")
    r, body = get(web, "/style.css", {"If-None-Match": etag})
    assert r.status == 304 and body == b""
    assert r.getheader("ETag") == etag
    r, _ = get(web, "/style.css", {"If-None-Match": '"other"'})
    assert r.status == 200
    r, _ = get(web, "/style.css", {"If-Modified-Since": lm})
    assert r.status == 304
    r, _ = get(web, "/style.css", {"If-Match": '"other"'})
    assert r.status == 412
    r, _ = get(web, "/style.css", {"If-Match": etag})
    assert r.status == 200
    r, _ = get(web, "/style.css", {"If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert r.status == 412
    # curl -z: If-Modified-Since from a date; newer than the file -> 304, older -> 200.
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-z",
                        "Fri, 01 Jan 2100 00:00:00 GMT", web.url("/style.css"))
    assert out == b"304"
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-z",
                        "Sat, 01 Jan 2000 00:00:00 GMT", web.url("/style.css"))
    assert out == b"200"


def test_changed_file_served_at_once(web):
    p = web.www / "changing.txt"
    p.write_bytes(b"first\n")
    r, body = get(web, "/changing.txt")
    etag = r.getheader("ETag")
    assert body == b"first\n"
    p.write_bytes(b"second version\n")
    r, body = get(web, "/changing.txt", {"If-None-Match": etag})
    assert r.status == 200 and body == b"second version\n"
    assert r.getheader("ETag") != etag


def test_ranges(web):
    big = (web.www / "big.bin").read_bytes()
    rc, out, _ = X.curl("-r", "100-199", "-w", "\n%{http_code}", web.url("/big.bin"))
    body, code = out.rsplit(b"\n", 1)
    assert code == b"206" and body == big[100:200]
    r, body = get(web, "/big.bin", {"Range": "bytes=-10"})
    assert r.status == 206 and body == big[-10:]
    assert r.getheader("Content-Range") == "bytes 102390-102399/102400"
    r, body = get(web, "/big.bin", {"Range": "bytes=0-1,1000-1001"})
    assert r.status == 206
    ctype = r.getheader("Content-Type")
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    assert parts[1].endswith(b"Content-Range: bytes 0-1/102400\r\n\r\n" + big[0:2] + b"\r\n")
    assert b"Content-Range: bytes 1000-1001/102400\r\n\r\n" + big[1000:1002] in parts[2]
    assert parts[-1] == b"--\r\n"
    r, body = get(web, "/big.bin", {"Range": "bytes=200000-"})
    assert r.status == 416
    assert r.getheader("Content-Range") == "bytes */102400"
    # If-Range with a stale validator: the whole file, 200.
    r, body = get(web, "/big.bin", {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status == 200 and len(body) == 102400
    r0, _ = get(web, "/big.bin")
    r, body = get(web, "/big.bin", {"Range": "bytes=0-9", "If-Range": r0.getheader("ETag")})
    assert r.status == 206 and body == big[:10]


def test_directories(web):
    r, _ = get(web, "/images")
    assert r.status == 301 and r.getheader("Location") == "/images/"
    r, body = get(web, "/empty/")
    assert r.status == 403 and b"index" in body
    r, _ = get(web, "/nope.html")
    assert r.status == 404


def test_fifo_is_refused_at_once(web):
    """A FIFO under the root (or as a file's .br variant) is refused at once: opening it
    without O_NONBLOCK blocked the worker until a writer came (diff review H1, session 12)."""
    pipe, plain, variant = web.www / "pipe", web.www / "fv.txt", web.www / "fv.txt.br"
    os.mkfifo(pipe)
    os.mkfifo(variant)
    plain.write_bytes(b"plain text\n")
    try:
        r, _ = get(web, "/pipe")
        assert r.status in (403, 404)
        r, body = get(web, "/fv.txt", headers={"Accept-Encoding": "br"})
        assert r.status == 200 and body == b"plain text\n" and not r.getheader("Content-Encoding")
        r, body = get(web, "/")
        assert r.status == 200 and body == X.INDEX
    finally:
        for f in (pipe, plain, variant):
            f.unlink()


def test_file_with_trailing_slash_is_404(web):
    """/index.html/ names no file (nginx and Apache: 404); serving it made a browser resolve
    the page's relative links against /index.html/."""
    r, _ = get(web, "/index.html/")
    assert r.status == 404
    r, _ = get(web, "/images/logo.png/")
    assert r.status == 404


def test_methods(web):
    r, body = get(web, "/index.html", method="POST")
    assert r.status == 405
    assert r.getheader("Allow") == "GET, HEAD, OPTIONS"
    r, _ = get(web, "/uploads/x", method="OPTIONS")
    assert r.status == 204 and "PUT" in r.getheader("Allow")
    data, closed = X.raw(web.port, b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n")
    assert X.status_of(data) == 505 and closed
    data, closed = X.raw(web.port, b"BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert X.status_of(data) == 405


@pytest.mark.parametrize("path", [
    "/../outside.txt", "/%2e%2e/outside.txt", "/images/%2E%2E/%2e%2e/outside.txt",
    "/a%00.html", "/escape.txt", "/.secret", "/images/..%2f..%2foutside.txt",
])
def test_never_leaves_root(web, path):
    data, _ = X.raw(web.port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\n"
                    b"Connection: close\r\n\r\n")
    assert X.status_of(data) in (400, 403, 404), data[:200]
    assert b"must never be served" not in data and b"hidden" not in data


def test_precompressed_variant(web):
    plain = (web.www / "docs" / "notes.txt").read_bytes()
    r, body = get(web, "/docs/notes.txt", {"Accept-Encoding": "gzip, deflate"})
    assert r.status == 200
    assert r.getheader("Content-Encoding") == "gzip"
    assert r.getheader("Vary") == "Accept-Encoding"
    assert r.getheader("Content-Type") == "text/plain"
    import gzip
    assert gzip.decompress(body) == plain
    r, body = get(web, "/docs/notes.txt")
    assert r.getheader("Content-Encoding") is None and body == plain
    assert r.getheader("Vary") == "Accept-Encoding"
    rc, out, _ = X.curl("--compressed", web.url("/docs/notes.txt"))
    assert out == plain


def test_wget_mirrors_page(web, tmp_path):
    p = subprocess.run(["wget", "-q", "-p", "-nH", "-P", str(tmp_path), web.url("/")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "index.html").read_bytes() == X.INDEX
    assert (tmp_path / "images" / "logo.png").read_bytes() == \
        (web.www / "images" / "logo.png").read_bytes()
    assert (tmp_path / "style.css").exists()


def test_pipelined_in_order(web):
    reqs = b"".join(b"GET /%s HTTP/1.1\r\nHost: localhost\r\n\r\n" % p
                    for p in (b"style.css", b"nope", b"index.html"))
    data, closed = X.raw(web.port, reqs + b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                         b"Connection: close\r\n\r\n")
    assert X.statuses(data) == [200, 404, 200, 200]
    assert closed


def test_access_log_combined(web):
    X.curl("-A", "pigeon-test/1", "-e", "http://ref.example/", web.url("/style.css?x=1"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = web.access_log.read_text()
        if "pigeon-test/1" in text:
            break
        time.sleep(0.05)
    line = [l for l in text.splitlines() if "pigeon-test/1" in l][-1]
    assert line.startswith("127.0.0.1 - - [")
    assert '"GET /style.css?x=1 HTTP/1.1" 200 29 "http://ref.example/" "pigeon-test/1"' in line


metrics = X.metrics


def test_metrics(web):
    X.curl(web.url("/"))
    text, v = metrics(web)
    assert "# TYPE pigeon_http_responses_total counter" in text
    assert v['pigeon_http_responses_total{code="2xx"}'] >= 1
    assert v["pigeon_connections_accepted_total"] >= 1
    assert v["pigeon_connections_open"] >= 1  # this very request
    assert v["pigeon_queue_length"] == 0
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/other" % web.metrics_port)
    assert out == b"404"


def test_metrics_count_other_services(web):
    _, before = metrics(web)
    # One message over SMTP to a local user and one to a remote one (stays queued), and one
    # failed password check.
    with H.SMTPClient(web.d.smtp_port) as c:
        c.ehlo()
        c.send_mail("alice@hamburger.edu", ["bob@hamburger.edu"], "Subject: m\r\n\r\nhi\r\n")
    with H.SMTPClient(web.d.sub_port) as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        import base64
        c.expect("AUTH PLAIN " + base64.b64encode(b"\0bob@hamburger.edu\0hungry").decode(), "235")
        c.send_mail("bob@hamburger.edu", ["carol@remote.example"], "Subject: r\r\n\r\nhi\r\n")
    X.curl("--data", "username=alice&password=wrong", web.url("/login"))
    _, after = metrics(web)
    assert after["pigeon_messages_stored_total"] >= before.get("pigeon_messages_stored_total", 0) + 2
    assert after["pigeon_queue_length"] >= 1
    assert after["pigeon_auth_failures_total"] >= before.get("pigeon_auth_failures_total", 0) + 1


def test_cli_lists_sites(web):
    out = web.d.cli("http", "sites").stdout.decode()
    assert out.startswith("hamburger (default)\n")
    assert "  root      %s\n" % web.www in out
    assert "  names     hamburger.edu www.hamburger.edu localhost\n" in out
    assert "  upload    /uploads/" in out
    assert "  https     127.0.0.1:%d\n" % web.tls_port in out
    assert "  metrics   127.0.0.1:%d\n" % web.metrics_port in out
