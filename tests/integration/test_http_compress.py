"""On-the-fly compression: gzip and brotli for compressible types above compress_min_size,
Vary: Accept-Encoding, q-values (gzip;q=0, identity;q=0, preferences), never for ranges or
already-compressed types, a suffixed ETag for the encoded variant (304 on it, not on the
identity tag), over HTTP/1.1 chunked, HTTP/1.0 (close-delimited), HTTP/2 over TLS and h2c.
Bodies are decoded by curl --compressed or by python (gzip) and compared byte for byte."""

import gzip
import http.client
import socket

import pytest

import http_helpers as X
import pigeon_harness as H


web = X.web_fixture("http_compress", extra_sites={
    "plain": {"name": "plain.test", "root": "{www}", "compress": "no"},
})

PAGE = b"".join(b"<p>Lecture %d: the application layer, HTTP and its caches.</p>\n" % (i % 50)
                for i in range(6000))  # ~350 KB: many chunks, several 64 KiB reads
SMALL = b"<p>tiny</p>\n"


@pytest.fixture(scope="module", autouse=True)
def files(web):
    (web.www / "page.html").write_bytes(PAGE)
    (web.www / "small.html").write_bytes(SMALL)
    (web.www / "data.json").write_bytes(b'{"k": "%s"}' % (b"v" * 5000))


def get(web, path, headers=None, method="GET", host=None):
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)
    h = {"Host": host} if host else {}
    h.update(headers or {})
    c.request(method, path, headers=h)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def test_gzip_http11_chunked(web):
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.getheader("Content-Encoding") == "gzip"
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert r.getheader("Content-Length") is None
    assert r.getheader("Vary") == "Accept-Encoding"
    assert r.getheader("Accept-Ranges") is None
    assert r.getheader("ETag").endswith('-gzip"')
    assert len(body) < len(PAGE) // 10
    assert gzip.decompress(body) == PAGE


def test_keepalive_after_chunked_bodies(web):
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)
    for path, want in (("/page.html", PAGE), ("/small.html", SMALL), ("/page.html", PAGE)):
        c.request("GET", path, headers={"Accept-Encoding": "gzip"})
        r = c.getresponse()
        body = r.read()
        assert r.status == 200
        got = gzip.decompress(body) if r.getheader("Content-Encoding") == "gzip" else body
        assert got == want
    c.close()
    rc, out, err = X.curl("--compressed", "-o", "/dev/null", "-o", "/dev/null", "-w",
                          "%{num_connects}\n", web.url("/page.html"), web.url("/data.json"))
    assert rc == 0, err
    assert out.decode().split() == ["1", "0"]


def test_curl_compressed_brotli_and_gzip(web):
    # curl offers "deflate, gzip, br, zstd": br is preferred on the tie.
    rc, out, err = X.curl("--compressed", "-D", "-", "-o", "/dev/null", web.url("/page.html"))
    assert rc == 0, err
    assert b"content-encoding: br" in out.lower()
    rc, out, err = X.curl("--compressed", web.url("/page.html"))
    assert rc == 0 and out == PAGE
    rc, out, err = X.curl("-H", "Accept-Encoding: gzip", "--compressed", "-D", "/dev/stderr",
                          web.url("/data.json"))
    assert rc == 0 and "content-encoding: gzip" in err.lower()
    assert out == (web.www / "data.json").read_bytes()


def test_qvalues(web):
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip;q=0"})
    assert r.getheader("Content-Encoding") is None and body == PAGE
    assert r.getheader("Content-Length") == str(len(PAGE))
    assert r.getheader("Vary") == "Accept-Encoding"
    r, body = get(web, "/page.html", {"Accept-Encoding": "br;q=0.5, gzip"})
    assert r.getheader("Content-Encoding") == "gzip" and gzip.decompress(body) == PAGE
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip;q=0.5, identity"})
    assert r.getheader("Content-Encoding") is None and body == PAGE
    r, body = get(web, "/page.html", {"Accept-Encoding": "x-gzip"})
    assert r.getheader("Content-Encoding") == "gzip"
    # Without Accept-Encoding: identity, with its length.
    r, body = get(web, "/page.html")
    assert r.getheader("Content-Encoding") is None and body == PAGE


def test_small_and_refused_identity(web):
    r, body = get(web, "/small.html", {"Accept-Encoding": "gzip"})
    assert r.getheader("Content-Encoding") is None and body == SMALL
    assert r.getheader("Vary") is None
    # identity;q=0: the client cannot take identity, so even a small file is encoded.
    r, body = get(web, "/small.html", {"Accept-Encoding": "gzip, identity;q=0"})
    assert r.getheader("Content-Encoding") == "gzip"
    assert r.getheader("Vary") == "Accept-Encoding"
    assert gzip.decompress(body) == SMALL


def test_not_for_ranges_or_compressed_types(web):
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip", "Range": "bytes=100-199"})
    assert r.status == 206 and body == PAGE[100:200]
    assert r.getheader("Content-Encoding") is None
    r, body = get(web, "/images/campus.png", {"Accept-Encoding": "gzip, br"})
    assert r.getheader("Content-Encoding") is None and body.startswith(b"\x89PNG")
    assert r.getheader("Vary") is None
    # A precompressed variant still wins over encoding on the fly.
    r, body = get(web, "/docs/notes.txt", {"Accept-Encoding": "gzip"})
    assert r.getheader("Content-Encoding") == "gzip"
    assert body == (web.www / "docs" / "notes.txt.gz").read_bytes()


def test_etags_of_variants(web):
    r, _ = get(web, "/page.html", {"Accept-Encoding": "gzip"})
    gz_tag = r.getheader("ETag")
    r, _ = get(web, "/page.html")
    plain_tag = r.getheader("ETag")
    assert gz_tag != plain_tag and gz_tag == plain_tag[:-1] + '-gzip"'
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip", "If-None-Match": gz_tag})
    assert r.status == 304 and body == b""
    assert r.getheader("Vary") == "Accept-Encoding"
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip", "If-None-Match": plain_tag})
    assert r.status == 200 and gzip.decompress(body) == PAGE
    r, body = get(web, "/page.html", {"If-None-Match": gz_tag})
    assert r.status == 200 and body == PAGE


def test_head_and_http10(web):
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip"}, method="HEAD")
    assert r.status == 200 and body == b""
    assert r.getheader("Content-Encoding") == "gzip"
    # HTTP/1.0 has no chunked coding: the body runs to the end of the connection.
    out, closed = X.raw(web.port, b"GET /page.html HTTP/1.0\r\nAccept-Encoding: gzip\r\n"
                                  b"Connection: keep-alive\r\n\r\n")
    assert closed
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head and b"Connection: close" in head
    assert b"chunked" not in head and b"Content-Length" not in head
    assert gzip.decompress(body) == PAGE


def test_http2_tls_and_h2c(web):
    for args in (["-k", "--http2", web.url("/page.html", tls=True)],
                 ["--http2-prior-knowledge", web.url("/page.html")]):
        rc, out, err = X.curl("--compressed", "-D", "/dev/stderr", *args)
        err = err.lower()
        assert rc == 0, err
        assert out == PAGE
        assert "http/2 200" in err and "content-encoding: br" in err
        assert "content-length" not in err and "vary: accept-encoding" in err
    rc, out, err = X.curl("-k", "--http2", "-H", "Accept-Encoding: gzip", "-D", "/dev/stderr",
                          web.url("/page.html", tls=True))
    assert rc == 0 and "content-encoding: gzip" in err
    assert gzip.decompress(out) == PAGE


def test_site_without_compression(web):
    r, body = get(web, "/page.html", {"Accept-Encoding": "gzip"}, host="plain.test")
    assert r.status == 200 and r.getheader("Content-Encoding") is None and body == PAGE
    assert r.getheader("Vary") is None


def test_access_log_counts_encoded_bytes(web):
    r, body = get(web, "/page.html?log", {"Accept-Encoding": "gzip"})

    def line():
        lines = [l for l in web.access_log.read_text().splitlines() if "/page.html?log" in l]
        return lines[-1] if lines else None
    fields = H.wait_until(line, what="the access log line").split('"')[2].split()
    assert fields[0] == "200" and int(fields[1]) == len(body)
