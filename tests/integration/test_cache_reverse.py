"""The Web cache as a reverse proxy per site (issue 15): `[http NAME] proxy_to = URL ...` on
the HTTP service, through the same cache as the forward proxy. An origin written here counts
what it gets; curl is the client, over HTTP/1.1 and HTTP/2 (h2c on loopback). Also: the
X-Forwarded-*/Forwarded fields, the Host rewrite option, failover between origins, request
bodies, the cache counters in /metrics, and bodies streamed to collapsed clients while the
origin is still sending them."""

import hashlib
import http.client
import socket
import subprocess
import threading

import pytest

import cache_helpers as C
import pigeon_harness as H


@pytest.fixture(scope="module")
def origin():
    o = C.Origin()
    yield o
    o.close()


def dead_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connections are refused
    return port


@pytest.fixture(scope="module")
def site(tmp_path_factory, origin):
    d = H.Daemon(tmp_path_factory.mktemp("cache_reverse"), name="pigeond[cache_reverse]")
    port, mport, tport = H.free_port(), H.free_port(), H.free_port()
    d.sections["http rev"] = {"listen": "127.0.0.1:%d" % port, "name": "rev.test",
                              "listen_tls": "127.0.0.1:%d" % tport, "default": "yes",
                              "proxy_to": "http://127.0.0.1:%d" % origin.port}
    d.sections["http keep"] = {"listen": "127.0.0.1:%d" % port, "name": "keep.test",
                               "proxy_to": "http://127.0.0.1:%d" % origin.port,
                               "proxy_preserve_host": "yes"}
    d.sections["http multi"] = {"listen": "127.0.0.1:%d" % port, "name": "multi.test",
                                "proxy_to": "http://127.0.0.1:%d http://127.0.0.1:%d" % (
                                    dead_port(), origin.port)}
    d.sections["metrics"] = {"listen": "127.0.0.1:%d" % mport}
    d.sections["proxy"] = {"via": "edge"}
    d.ports += [port, mport, tport]
    d.write_conf()
    d.setup()
    d.start()
    d.http_port, d.metrics_port, d.tls_port = port, mport, tport
    yield d
    C.finish(d)


def curl(d, path, host="rev.test", extra=(), h2=False):
    """(status, headers dict, body, http version) of one request with curl."""
    cmd = ["curl", "-s", "-S", "--max-time", "60", "-H", "Host: " + host,
           "-w", "\n%{http_version}"]
    cmd += [] if "-I" in extra else ["-D", "-"]
    cmd += ["--http2-prior-knowledge"] if h2 else ["--http1.1"]
    cmd += list(extra) + ["http://127.0.0.1:%d%s" % (d.http_port, path)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert out.returncode == 0, out.stderr.decode()
    raw, _, version = out.stdout.rpartition(b"\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body, version.decode()


def test_site_through_the_cache(site, origin):
    origin.routes["/page"] = {"headers": {"Cache-Control": "max-age=300",
                                          "Content-Type": "text/html"},
                              "body": b"<p>through the cache</p>"}
    status, h, body, _ = curl(site, "/page")
    assert status == 200 and body == b"<p>through the cache</p>"
    assert "fwd=uri-miss" in h["cache-status"] and h["cache-status"].startswith("edge")
    status, h, body, _ = curl(site, "/page")
    assert status == 200 and body == b"<p>through the cache</p>"
    assert h["cache-status"].startswith("edge; hit") and "age" in h
    assert origin.count("/page") == 1
    _, path, headers, _ = origin.last("/page")
    assert headers["Host"] == "127.0.0.1:%d" % origin.port  # rewritten to the origin's
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Host"] == "rev.test"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Forwarded"] == 'for=127.0.0.1;proto=http;host="rev.test"'
    assert "edge" in headers["Via"]
    # One Date and one Server: the origin's are replaced by the Web server's own.
    c = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=30)
    c.request("GET", "/page", headers={"Host": "rev.test"})
    r = c.getresponse()
    r.read()
    c.close()
    assert len(r.msg.get_all("Date")) == 1 and r.msg.get_all("Server") == ["Pigeon"]


def test_forwarded_fields_from_clients_replaced(site, origin):
    origin.routes["/xf"] = {"headers": {"Cache-Control": "no-store"}, "body": b"x"}
    curl(site, "/xf", extra=["-H", "X-Forwarded-Host: evil.test",
                             "-H", "X-Forwarded-For: 10.9.9.9"])
    _, _, headers, _ = origin.last("/xf")
    assert headers["X-Forwarded-Host"] == "rev.test"
    assert headers["X-Forwarded-For"] == "10.9.9.9, 127.0.0.1"  # appended, as RFC 7239 lists


def test_preserve_host(site, origin):
    origin.routes["/host"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"kept"}
    status, _, body, _ = curl(site, "/host", host="keep.test")
    assert status == 200 and body == b"kept"
    _, _, headers, _ = origin.last("/host")
    assert headers["Host"] == "keep.test"
    # Another Host on the same site is another resource for the cache.
    status, h, _, _ = curl(site, "/host", host="keep.test")
    assert h["cache-status"].startswith("edge; hit")


def test_http2_clients(site, origin):
    big = bytes(range(256)) * 8192  # 2 MiB, chunked by the origin
    origin.routes["/h2big"] = {"headers": {"Cache-Control": "max-age=300"}, "body": big,
                               "chunked": True}
    status, h, body, version = curl(site, "/h2big", h2=True)
    assert version == "2" and status == 200 and body == big  # streamed from the origin
    assert "fwd=uri-miss" in h["cache-status"]
    status, h, body, version = curl(site, "/h2big", h2=True)
    assert version == "2" and status == 200 and body == big  # from the store
    assert h["cache-status"].startswith("edge; hit")
    status, h, body, version = curl(site, "/h2big")
    assert version == "1.1" and body == big
    assert origin.count("/h2big") == 1


def test_origin_length_passed_on(site, origin):
    """A miss is streamed to the client as the origin sends it; when the origin gave a
    Content-Length the client gets that Content-Length (HTTP/1.1, 1.0 and 2), not a chunked
    body; a chunked origin body stays chunked to an HTTP/1.1 client."""
    body = bytes(range(256)) * 1200  # 300 KiB: more than the transport holds at once
    origin.routes["/known"] = {"headers": {"Cache-Control": "no-store"}, "body": body}
    for extra, h2 in (((), False), (("--http1.0",), False), ((), True)):
        status, h, got, _ = curl(site, "/known", extra=extra, h2=h2)
        assert status == 200 and got == body
        assert h.get("content-length") == str(len(body)), (extra, h2, h)
        assert "transfer-encoding" not in h
    origin.routes["/unknown"] = {"headers": {"Cache-Control": "no-store"}, "body": body,
                                 "chunked": True}
    status, h, got, _ = curl(site, "/unknown")
    assert status == 200 and got == body
    assert h.get("transfer-encoding") == "chunked" and "content-length" not in h
    assert origin.count("/known") == 3


def test_tls_and_h2_by_alpn(site, origin):
    origin.routes["/tls"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"over TLS"}
    for want in ("uri-miss", "hit"):
        out = subprocess.run(["curl", "-s", "-S", "-k", "--http2", "--max-time", "60", "-D", "-",
                              "-w", "\n%{http_version}", "--resolve",
                              "rev.test:%d:127.0.0.1" % site.tls_port,
                              "https://rev.test:%d/tls" % site.tls_port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
        raw, _, version = out.stdout.rpartition(b"\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        assert version == b"2" and body == b"over TLS", out.stderr
        assert want.encode() in head.lower()
    _, _, headers, _ = origin.last("/tls")
    assert headers["X-Forwarded-Proto"] == "https"
    assert headers["Forwarded"] == 'for=127.0.0.1;proto=https;host="rev.test:%d"' % site.tls_port
    assert origin.count("/tls") == 1


def test_head_and_range_on_site(site, origin):
    origin.routes["/r"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"0123456789"}
    curl(site, "/r")
    status, h, body, _ = curl(site, "/r", extra=["-I"])
    assert status == 200 and h["content-length"] == "10" and body == b""
    status, h, body, _ = curl(site, "/r", extra=["-H", "Range: bytes=3-5"])
    assert status == 206 and body == b"345"
    assert origin.count("/r") == 1


@pytest.mark.parametrize("h2", [False, True])
def test_bodyless_answers_that_miss(site, origin, h2):
    """A HEAD that misses and an origin's 204 or 304 are answered, and the daemon lives on:
    the answer's source freed the response that owned it, which freed it again, until the
    stack ran out (diff review X0, session 12)."""
    origin.routes["/hm"] = {"headers": {"Cache-Control": "no-store"}, "body": b"x" * 24}
    status, h, body, _ = curl(site, "/hm", extra=["-I"], h2=h2)
    assert status == 200 and body == b""
    origin.routes["/nc"] = {"status": 204}
    status, _, body, _ = curl(site, "/nc", extra=["-X", "DELETE"], h2=h2)
    assert status == 204 and body == b""
    origin.routes["/nm"] = {"status": 304, "headers": {"ETag": '"e"'}}
    status, _, body, _ = curl(site, "/nm", h2=h2)
    assert status == 304 and body == b""
    origin.routes["/alive"] = {"headers": {"Cache-Control": "no-store"}, "body": b"alive"}
    status, _, body, _ = curl(site, "/alive", h2=h2)
    assert status == 200 and body == b"alive"


def test_failover_to_the_next_origin(site, origin):
    origin.routes["/fo"] = {"headers": {"Cache-Control": "no-store"}, "body": b"second origin"}
    for _ in range(2):
        status, _, body, _ = curl(site, "/fo", host="multi.test")
        assert status == 200 and body == b"second origin"
    assert origin.count("/fo") == 2
    assert site.wait_log(r"origin 127\.0\.0\.1:\d+ failed, trying the next")


def test_post_passes_and_invalidates(site, origin):
    origin.routes["/form"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"old"}
    curl(site, "/form")
    status, _, _, _ = curl(site, "/form", extra=["-X", "POST", "--data-binary", "a=1&b=2"])
    assert status == 200
    method, _, _, body_in = origin.last("/form")
    assert method == "POST" and body_in == b"a=1&b=2"
    curl(site, "/form")
    assert origin.count("/form") == 3  # the POST invalidated the stored copy


def test_origin_down_is_502(site, tmp_path):
    d = H.Daemon(tmp_path / "down", name="pigeond[cache_down]")
    port = H.free_port()
    d.sections["http gone"] = {"listen": "127.0.0.1:%d" % port,
                               "proxy_to": "http://127.0.0.1:%d" % dead_port()}
    d.ports.append(port)
    d.write_conf()
    d.setup()
    d.start()
    try:
        d.http_port = port
        status, h, _, _ = curl(d, "/x", host="gone.test")
        assert status == 502 and "fwd=uri-miss" in h["cache-status"]
    finally:
        C.finish(d)


def test_metrics_counters(site, origin):
    origin.routes["/m"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"m" * 100}
    curl(site, "/m")
    curl(site, "/m")
    c = http.client.HTTPConnection("127.0.0.1", site.metrics_port, timeout=30)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    values = {}
    for line in text.splitlines():
        if line.startswith("pigeon_cache_"):
            name, _, v = line.rpartition(" ")
            values[name] = int(float(v))
    assert values["pigeon_cache_hits_total"] >= 1
    assert values["pigeon_cache_misses_total"] >= 1
    assert values['pigeon_cache_bytes_total{source="cache"}'] >= 100
    assert values['pigeon_cache_bytes_total{source="origin"}'] >= 100
    assert values["pigeon_cache_objects"] >= 1
    assert values["pigeon_cache_stored_total"] >= 1
    assert "pigeon_cache_stale_total" in text or values["pigeon_cache_hits_total"] >= 1


def read_exactly(resp, n):
    data = b""
    while len(data) < n:
        chunk = resp.read1(n - len(data)) if hasattr(resp, "read1") else resp.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def front(tmp_path, origin, via_site, name, proxy=None):
    """A pigeond in front of origin: a proxy_to site, or the forward proxy. Returns (daemon,
    port, target(path)) where target gives what a client asks for."""
    if via_site:
        d = H.Daemon(tmp_path / "site", name="pigeond[%s]" % name)
        port = H.free_port()
        d.sections["http c"] = {"listen": "127.0.0.1:%d" % port,
                                "proxy_to": "http://127.0.0.1:%d" % origin.port}
        if proxy:
            d.sections["proxy"] = dict(proxy)
        d.ports.append(port)
        d.write_conf()
        d.setup()
        d.start()
        return d, port, lambda path: path
    p = C.ProxyDaemon(tmp_path / "fwd", "pigeond[%s-fwd]" % name, proxy=proxy)
    return p.d, p.port, origin.url


def get_on_new_connection(port, target, conns):
    """The response (head read) to GET target on a new connection, kept in conns."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", target)
    conns.append(c)
    return c.getresponse()


@pytest.mark.parametrize("via_site", [True, False])
def test_collapsed_clients_get_bytes_as_they_arrive(tmp_path, origin, via_site):
    """The origin sends half of the body, then waits: every client, the first and the ones
    collapsed behind it, must have that half before the origin sends the rest."""
    path = "/trickle-%s" % via_site
    first, rest = b"A" * 300000, b"B" * 300000
    got_request, gate = threading.Event(), threading.Event()
    origin.routes[path] = {"headers": {"Cache-Control": "max-age=300"},
                           "parts": [first, rest], "between": gate, "arrived": got_request}
    d, port, target = front(tmp_path, origin, via_site, "collapse")
    conns = []
    try:
        def open_one():
            return get_on_new_connection(port, target(path), conns)

        responses = [open_one()]
        assert got_request.wait(30), "the origin was never asked"
        assert read_exactly(responses[0], len(first)) == first
        responses += [open_one(), open_one()]
        for r in responses[1:]:
            assert r.status == 200
            assert "collapsed" in r.getheader("Cache-Status")
            assert read_exactly(r, len(first)) == first  # before the origin sent the rest
        gate.set()
        for r in responses:
            assert read_exactly(r, len(rest)) == rest
        assert origin.count(path) == 1
    finally:
        gate.set()
        for c in conns:
            c.close()
        C.finish(d)


def read_response(sock):
    """(head bytes, body length, sha256 of the body) of one Content-Length response."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed before the head"
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int([l.split(b":", 1)[1] for l in head.split(b"\r\n")
                  if l.lower().startswith(b"content-length:")][0])
    h = hashlib.sha256(body)
    got = len(body)
    while got < length:
        chunk = sock.recv(min(1 << 20, length - got))
        assert chunk, "the body was cut at %d of %d octets" % (got, length)
        h.update(chunk)
        got += len(chunk)
    return head, got, h.hexdigest()


@pytest.mark.parametrize("via_site", [True, False])
def test_slow_first_client_holds_back_nobody(tmp_path, origin, via_site):
    """The client whose miss asks the origin stops reading; a second client for the same URL
    (collapsed behind the first) must still get the whole body while the first is stalled.
    The origin fills the object at its own pace and each client reads it at its own: before,
    the origin was paused as soon as the first client's output was full, and every client
    collapsed behind it waited with it."""
    path = "/slow-leader-%s" % via_site
    size = 32 << 20  # well past what the kernel's and Pigeon's buffers hold for a client
    arrived = threading.Event()
    origin.routes[path] = {"headers": {"Cache-Control": "max-age=300"}, "size": size,
                           "arrived": arrived}
    d, port, target = front(tmp_path, origin, via_site, "slow-leader")
    slow = socket.socket()
    try:
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window, unread
        slow.connect(("127.0.0.1", port))
        slow.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (target(path).encode(),
                                                                          port))
        assert arrived.wait(30), "the origin was never asked"
        cmd = ["curl", "-s", "-S", "--max-time", "120", "-o", "-"]
        cmd += ["http://127.0.0.1:%d%s" % (port, path)] if via_site else [
            "-x", "http://127.0.0.1:%d" % port, target(path)]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=150)
        assert out.returncode == 0, "the second client did not finish: %s" % out.stderr.decode()
        assert hashlib.sha256(out.stdout).hexdigest() == C.pattern_sha256(size)
        # Only now does the first client read: it gets all of it too, from the object's file.
        slow.settimeout(60)
        head, n, digest = read_response(slow)
        assert head.startswith(b"HTTP/1.1 200") and n == size
        assert digest == C.pattern_sha256(size)
        assert origin.count(path) == 1
    finally:
        slow.close()
        C.finish(d)


def test_collapsed_clients_get_an_object_too_large_to_store(tmp_path, origin):
    """A response that grows past max_object_size cannot be stored, but the clients collapsed
    behind its first client were promised it: they read it whole from the object's file,
    which goes on as a spool (before, they were cut where it stopped being storable)."""
    path = "/too-large"
    first, rest = b"F" * 600000, b"R" * 1400000
    arrived, gate = threading.Event(), threading.Event()
    origin.routes[path] = {"headers": {"Cache-Control": "max-age=300"},
                           "parts": [first, rest], "between": gate, "arrived": arrived}
    d, port, target = front(tmp_path, origin, False, "too-large",
                            proxy={"max_object_size": str(1 << 20)})
    conns = []
    try:
        def open_one():
            return get_on_new_connection(port, target(path), conns)

        responses = [open_one()]
        assert arrived.wait(30), "the origin was never asked"
        assert read_exactly(responses[0], len(first)) == first
        responses.append(open_one())
        assert "collapsed" in responses[1].getheader("Cache-Status")
        gate.set()
        assert responses[0].read() == rest
        assert responses[1].read() == first + rest
        again = open_one()
        assert again.status == 200 and again.read() == first + rest
        assert origin.count(path) == 2  # not stored: asked for again
    finally:
        gate.set()
        for c in conns:
            c.close()
        C.finish(d)


def test_cache_cli_without_proxy_listen(site, origin):
    """`pigeon cache stats|purge` through the control socket: this pigeond has no [proxy]
    listen address, only proxy_to sites on the HTTP service."""
    assert "listen" not in site.sections["proxy"]
    origin.routes["/cli"] = {"headers": {"Cache-Control": "max-age=300"}, "body": b"cli"}
    curl(site, "/cli")
    curl(site, "/cli")
    assert origin.count("/cli") == 1
    out = site.cli("cache", "stats").stdout.decode()
    stats = dict(l.split() for l in out.splitlines())
    assert int(stats["objects"]) >= 1 and int(stats["hits"]) >= 1
    url = "http://127.0.0.1:%d/cli" % origin.port  # the key: the first origin's URL
    assert site.cli("cache", "purge", url).stdout.decode() == "purged 1\n"
    status, h, body, _ = curl(site, "/cli")
    assert body == b"cli" and "fwd=uri-miss" in h["cache-status"]
    assert origin.count("/cli") == 2
    assert site.cli("cache", "purge", "http://127.0.0.1:%d/cli*" % origin.port).stdout.decode() \
        == "purged 1\n"
    bad = site.cli("cache", "purge", "not-a-url", check=False)
    assert bad.returncode != 0 and b"absolute URL" in bad.stderr
