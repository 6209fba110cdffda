"""The Web cache (issue 15) against an origin written here: hits reach no origin, stale
objects are revalidated with a conditional GET and refreshed by 304, no-store / private /
Authorization responses are never shared, Vary keeps variants, 100 simultaneous misses make
one origin request, the cache survives a restart, purge, Max-Forwards, invalidation."""

import concurrent.futures
import email.utils
import time

import pytest

import cache_helpers as C
import pigeon_harness as H


@pytest.fixture(scope="module")
def origin():
    o = C.Origin()
    yield o
    o.close()


@pytest.fixture(scope="module")
def px(tmp_path_factory, origin):
    p = C.ProxyDaemon(tmp_path_factory.mktemp("cache_proxy"), "pigeond[cache_proxy]")
    yield p
    C.finish(p.d)


def status_of(r):
    return r.getheader("Cache-Status") or ""


def test_hit_reaches_no_origin(px, origin):
    origin.routes["/hit"] = {"headers": {"Cache-Control": "max-age=300",
                                         "Content-Type": "text/plain"}, "body": b"hello cache"}
    r, body = px.get(origin.url("/hit"))
    assert r.status == 200 and body == b"hello cache"
    assert "fwd=uri-miss" in status_of(r) and "stored" in status_of(r)
    assert "pigeon" in r.getheader("Via")
    for _ in range(3):
        r, body = px.get(origin.url("/hit"))
        assert r.status == 200 and body == b"hello cache"
        assert status_of(r).startswith("pigeon; hit")
        assert r.getheader("Age") is not None
    assert origin.count("/hit") == 1
    # The request the origin saw: origin-form, Via, X-Forwarded-For, Forwarded; no hop-by-hop.
    method, path, headers, _ = origin.last("/hit")
    assert path == "/hit"
    assert "pigeon" in headers["Via"]
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["Forwarded"] == "for=127.0.0.1;proto=http"


def test_head_and_range_from_stored(px, origin):
    origin.routes["/range"] = {"headers": {"Cache-Control": "max-age=300"},
                               "body": b"0123456789"}
    r, body = px.get(origin.url("/range"))
    assert body == b"0123456789"
    r, body = px.get(origin.url("/range"), method="HEAD")
    assert r.status == 200 and body == b"" and r.getheader("Content-Length") == "10"
    r, body = px.get(origin.url("/range"), headers={"Range": "bytes=2-4"})
    assert r.status == 206 and body == b"234"
    assert r.getheader("Content-Range") == "bytes 2-4/10"
    r, body = px.get(origin.url("/range"), headers={"Range": "bytes=20-"})
    assert r.status == 416
    assert origin.count("/range") == 1


def test_range_miss_goes_to_the_origin(px, origin):
    """A Range that misses is asked of the origin as it is, and its 206 relayed (curl -C -
    resumes), nothing stored; once a whole GET stored the object, ranges are hits."""
    def ranged(h):
        if h.headers.get("Range") == "bytes=2-4":
            return {"status": 206, "headers": {"Content-Range": "bytes 2-4/10",
                                               "Cache-Control": "max-age=300"}, "body": b"234"}
        return {"headers": {"Cache-Control": "max-age=300"}, "body": b"0123456789"}
    origin.routes["/range-miss"] = ranged
    r, body = px.get(origin.url("/range-miss"), headers={"Range": "bytes=2-4"})
    assert r.status == 206 and body == b"234", (r.status, body)
    assert r.getheader("Content-Range") == "bytes 2-4/10"
    assert origin.last("/range-miss")[2].get("Range") == "bytes=2-4"
    r, body = px.get(origin.url("/range-miss"))
    assert r.status == 200 and body == b"0123456789" and "fwd=uri-miss" in status_of(r)
    r, body = px.get(origin.url("/range-miss"), headers={"Range": "bytes=2-4"})
    assert r.status == 206 and body == b"234" and status_of(r).startswith("pigeon; hit")
    assert origin.count("/range-miss") == 2


def test_head_without_length_and_reason_phrases(px, origin):
    """An origin's HEAD answer without Content-Length is relayed without one (RFC 9110 §8.6:
    not 0 for a body that is not empty), and the phrase of a status is its own."""
    origin.routes["/head-nolen"] = {"headers": {"Cache-Control": "no-store"},
                                    "body": b"x" * 24, "chunked": True}
    r, body = px.get(origin.url("/head-nolen"), method="HEAD")
    assert r.status == 200 and r.getheader("Content-Length") is None, r.getheaders()
    origin.routes["/gone"] = {"status": 410, "body": b"gone"}
    r, body = px.get(origin.url("/gone"))
    assert r.status == 410 and r.reason == "Gone"


def test_stale_revalidated_with_304(px, origin):
    lm = email.utils.formatdate(time.time() - 3600, usegmt=True)
    origin.routes["/stale"] = {"headers": {"Cache-Control": "max-age=0", "ETag": '"v1"',
                                           "Last-Modified": lm, "X-Version": "one"},
                               "body": b"version one"}
    r, body = px.get(origin.url("/stale"))
    assert body == b"version one" and origin.count("/stale") == 1
    origin.routes["/stale"]["headers"]["X-Version"] = "refreshed"
    origin.routes["/stale"]["headers"]["Cache-Control"] = "max-age=300"
    r, body = px.get(origin.url("/stale"))
    assert r.status == 200 and body == b"version one"   # the stored body
    assert r.getheader("X-Version") == "refreshed"      # the 304's fields merged in
    assert "fwd=stale" in status_of(r) and "fwd-status=304" in status_of(r)
    _, _, headers, _ = origin.last("/stale")
    assert headers.get("If-None-Match") == '"v1"'
    assert headers.get("If-Modified-Since") == lm
    # Now fresh again: a hit.
    r, body = px.get(origin.url("/stale"))
    assert status_of(r).startswith("pigeon; hit") and origin.count("/stale") == 2


def test_client_conditional_answered_from_store(px, origin):
    origin.routes["/cond"] = {"headers": {"Cache-Control": "max-age=300", "ETag": '"c1"'},
                              "body": b"conditional"}
    px.get(origin.url("/cond"))
    r, body = px.get(origin.url("/cond"), headers={"If-None-Match": '"c1"'})
    assert r.status == 304 and body == b""
    assert origin.count("/cond") == 1


@pytest.mark.parametrize("path,headers,req", [
    ("/nostore", {"Cache-Control": "no-store"}, {}),
    ("/private", {"Cache-Control": "private, max-age=300"}, {}),
    ("/cookie", {"Cache-Control": "max-age=300", "Set-Cookie": "id=alice"}, {}),
    ("/authz", {"Cache-Control": "max-age=300"}, {"Authorization": "Basic YWxpY2U6eA=="}),
])
def test_not_shared(px, origin, path, headers, req):
    origin.routes[path] = {"headers": headers, "body": b"for one user only"}
    r, body = px.get(origin.url(path), headers=req)
    assert body == b"for one user only"
    assert "stored" not in status_of(r)
    r, body = px.get(origin.url(path), headers=req)
    assert "hit" not in status_of(r)
    assert origin.count(path) == 2


def test_vary_two_variants(px, origin):
    def by_language(h):
        lang = h.headers.get("Accept-Language", "en")
        return {"headers": {"Cache-Control": "max-age=300", "Vary": "Accept-Language",
                            "Content-Language": lang},
                "body": ("Guten Tag" if lang == "de" else "Good day").encode()}
    origin.routes["/vary"] = by_language
    r, body = px.get(origin.url("/vary"), headers={"Accept-Language": "en"})
    assert body == b"Good day"
    r, body = px.get(origin.url("/vary"), headers={"Accept-Language": "de"})
    assert body == b"Guten Tag" and "fwd=vary-miss" in status_of(r)
    for lang, want in (("en", b"Good day"), ("de", b"Guten Tag")):
        r, body = px.get(origin.url("/vary"), headers={"Accept-Language": lang})
        assert body == want and status_of(r).startswith("pigeon; hit")
    assert origin.count("/vary") == 2
    origin.routes["/varystar"] = {"headers": {"Cache-Control": "max-age=300", "Vary": "*"},
                                  "body": b"never from cache"}
    px.get(origin.url("/varystar"))
    r, _ = px.get(origin.url("/varystar"))
    assert "hit" not in status_of(r) and origin.count("/varystar") == 2


def test_collapsing_100_misses(px, origin):
    import threading
    gate = threading.Event()
    origin.routes["/popular"] = {"headers": {"Cache-Control": "max-age=300"},
                                 "body": b"x" * 50000, "gate": gate}

    def one(_):
        r, body = px.get(origin.url("/popular"))
        return r.status, len(body)

    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as ex:
        futs = [ex.submit(one, i) for i in range(100)]
        H.wait_until(lambda: origin.count("/popular") >= 1, what="the first origin request")
        # Let every client's request reach the proxy before the origin answers.
        H.wait_until(lambda: int(px.stats()["misses"]) >= 100 or
                     all(f.running() or f.done() for f in futs),
                     what="100 clients waiting")
        gate.set()
        results = [f.result(timeout=60) for f in futs]
    assert results == [(200, 50000)] * 100
    assert origin.count("/popular") == 1


def test_origin_failure_502_and_stale_if_error(px, origin):
    r, body = px.get("http://127.0.0.1:%d/nothing-listens" % H.free_port())
    assert r.status == 502 and r.reason == "Bad Gateway"
    origin.routes["/sie"] = {"headers": {"Cache-Control": "max-age=0, stale-if-error=600",
                                         "ETag": '"s"'}, "body": b"keep me"}
    px.get(origin.url("/sie"))
    origin.routes["/sie"] = {"status": 500, "body": b"broken"}
    r, body = px.get(origin.url("/sie"))
    assert r.status == 200 and body == b"keep me"
    assert "stale-if-error" in status_of(r)


def test_unsafe_method_invalidates(px, origin):
    origin.routes["/doc"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"v1"}
    px.get(origin.url("/doc"))
    r, _ = px.get(origin.url("/doc"))
    assert status_of(r).startswith("pigeon; hit")
    r, body = px.get(origin.url("/doc"), method="POST", body=b"change")
    assert r.status == 200
    assert origin.last("/doc")[3] == b"change"
    r, _ = px.get(origin.url("/doc"))
    assert "hit" not in status_of(r)
    assert origin.count("/doc") == 3
    # Location (a path) and Content-Location (absolute, same host) go too; another host's not.
    cc = {"Cache-Control": "max-age=300"}
    for path in ("/made", "/listing", "/elsewhere"):
        origin.routes[path] = {"headers": cc, "body": path.encode()}
        px.get(origin.url(path))
    origin.routes["/form"] = {"status": 201, "headers": {
        "Location": "/made", "Content-Location": origin.url("/listing")}, "body": b"ok"}
    r, _ = px.get(origin.url("/form"), method="POST", body=b"x")
    assert r.status == 201
    for path, stays in (("/made", False), ("/listing", False), ("/elsewhere", True)):
        r, _ = px.get(origin.url(path))
        assert status_of(r).startswith("pigeon; hit") == stays, path


def test_max_forwards_zero(px, origin):
    origin.routes["/mf"] = {"body": b"origin"}
    r, body = px.get(origin.url("/mf"), method="OPTIONS", headers={"Max-Forwards": "0"})
    assert r.status == 200 and "TRACE" in r.getheader("Allow")
    r, body = px.get(origin.url("/mf"), method="TRACE",
                     headers={"Max-Forwards": "0", "X-Probe": "1"})
    assert r.status == 200 and b"X-Probe: 1" in body
    assert origin.count("/mf") == 0
    px.get(origin.url("/mf"), method="OPTIONS", headers={"Max-Forwards": "3"})
    assert origin.last("/mf")[2]["Max-Forwards"] == "2"


def test_ssrf_and_connect_port(px, origin):
    # The proxy's own port is never an origin, even inside allow_origins.
    r, _ = px.get("http://127.0.0.1:%d/" % px.port)
    assert r.status == 403
    assert "detail=refused" in status_of(r)
    r, body = px.get("example.com:25", method="CONNECT")
    assert r.status == 403


def test_purge(px, origin):
    origin.routes["/p/a"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"a"}
    origin.routes["/p/b"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"b"}
    px.get(origin.url("/p/a"))
    px.get(origin.url("/p/b"))
    r, body = px.get(origin.url("/p/a"), method="PURGE")
    assert r.status == 200 and body == b"purged 1\n"
    assert status_of(r) == "pigeon; fwd=bypass"   # answered by the proxy itself
    r, _ = px.get(origin.url("/p/a"))
    assert "hit" not in status_of(r)
    assert px.d.cli("cache", "purge", origin.url("/p/*")).returncode == 0
    r, _ = px.get(origin.url("/p/b"))
    assert "hit" not in status_of(r)
    assert origin.count("/p/b") == 2
    out = px.d.cli("cache", "stats").stdout.decode()
    assert "objects" in out and "hits" in out


def test_restart_keeps_cache(px, origin):
    origin.routes["/kept"] = {"headers": {"Cache-Control": "max-age=600"},
                              "body": b"k" * 300000}
    px.get(origin.url("/kept"))
    assert px.d.stop() == 0
    px.d.start()
    r, body = px.get(origin.url("/kept"))
    assert r.status == 200 and body == b"k" * 300000
    assert status_of(r).startswith("pigeon; hit")
    assert origin.count("/kept") == 1


def test_reverse_proxy(tmp_path, origin):
    """[reverse_proxy]: a site in front of one origin, origin-form requests, the same cache."""
    import http.client
    rport = H.free_port()
    p = C.ProxyDaemon(tmp_path, "pigeond[cache_reverse]", extra={
        "reverse_proxy": {"listen": "127.0.0.1:%d" % rport,
                          "origin": "http://127.0.0.1:%d" % origin.port}})
    try:
        origin.routes["/site/index.html"] = {"headers": {"Cache-Control": "max-age=300"},
                                             "body": b"<h1>behind the cache</h1>"}
        for n in range(2):
            c = http.client.HTTPConnection("127.0.0.1", rport, timeout=30)
            c.request("GET", "/site/index.html")
            r = c.getresponse()
            assert r.status == 200 and r.read() == b"<h1>behind the cache</h1>"
            c.close()
        assert status_of(r).startswith("pigeon; hit")
        assert origin.count("/site/index.html") == 1
        _, _, headers, _ = origin.last("/site/index.html")
        assert headers["Host"] == "127.0.0.1:%d" % origin.port
        assert headers["X-Forwarded-For"] == "127.0.0.1"
        # Absolute URLs for other hosts are not this site's business.
        c = http.client.HTTPConnection("127.0.0.1", rport, timeout=30)
        c.request("GET", "http://example.com/")
        assert c.getresponse().status == 400
        c.close()
    finally:
        C.finish(p.d)


def test_stale_while_revalidate(px, origin):
    origin.routes["/swr"] = {"headers": {"Cache-Control": "max-age=0, stale-while-revalidate=600",
                                         "ETag": '"w1"'}, "body": b"old"}
    px.get(origin.url("/swr"))
    origin.routes["/swr"] = {"headers": {"Cache-Control": "max-age=600", "ETag": '"w2"'},
                             "body": b"new"}
    r, body = px.get(origin.url("/swr"))
    assert body == b"old"   # answered at once from the stale copy
    assert "hit" in status_of(r) and "stale-while-revalidate" in status_of(r)
    # ... while the cache fetched the new one in the background, conditionally.
    H.wait_until(lambda: origin.count("/swr") == 2, what="the background revalidation")
    assert origin.last("/swr")[2].get("If-None-Match") == '"w1"'
    H.wait_until(lambda: px.get(origin.url("/swr"))[1] == b"new", what="the new version stored")
    assert origin.count("/swr") == 2
