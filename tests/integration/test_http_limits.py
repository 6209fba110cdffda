"""Every limit and rejection of the HTTP service, one test each, over raw sockets: 414, 431,
413 (declared and chunked), request smuggling (CL.TE, TE.CL, TE.TE obfuscations, duplicate
CL), obs-fold, bare CR and LF, a slowloris head (408), per-address connection limits; the
server keeps serving after each."""

import socket
import time

import pytest

import http_helpers as X


web = X.web_fixture("http_limits", http={
    "max_request_line": 1024, "max_header_size": 4096, "max_body_size": 65536,
    "header_timeout": 2, "max_connections_per_ip": 40,
})


def still_serving(web):
    data, _ = X.raw(web.port, b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n"
                    b"Connection: close\r\n\r\n")
    assert X.status_of(data) == 200


def rejected(web, request, status):
    data, closed = X.raw(web.port, request)
    assert data, "no answer to %r" % request[:80]
    assert X.status_of(data) == status, data[:300]
    assert b"Connection: close" in data.split(b"\r\n\r\n")[0]
    assert closed, "the connection stays open after %d" % status
    # Nothing after the error: a smuggled second request is never answered.
    assert X.statuses(data) == [status]
    still_serving(web)
    return data


def test_414_request_line(web):
    rejected(web, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414)


def test_431_header_fields(web):
    rejected(web, b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"X-Big: " + b"b" * 5000 +
             b"\r\n\r\n", 431)


def test_431_too_many_fields(web):
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(120))
    rejected(web, b"GET / HTTP/1.1\r\nHost: localhost\r\n" + fields + b"\r\n", 431)


def test_413_declared_body(web):
    rejected(web, b"POST /login HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n",
             413)


def test_413_chunked_body(web):
    chunk = b"8000\r\n" + b"z" * 0x8000 + b"\r\n"
    rejected(web, b"POST /login HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
             + chunk * 3, 413)


def test_smuggling_cl_te(web):
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 6\r\n"
             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", 400)


def test_smuggling_te_cl(web):
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
             b"Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400)


@pytest.mark.parametrize("te", [
    b"Transfer-Encoding: xchunked", b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity",
    b"Transfer-Encoding : chunked", b"Transfer-Encoding:\x0bchunked",
    b"Transfer-Encoding: chunk", b"Transfer-Encoding: \"chunked\"",
])
def test_smuggling_te_te(web, te):
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\n" + te + b"\r\n\r\n0\r\n\r\n", 400)


def test_smuggling_duplicate_cl(web):
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
             b"Content-Length: 44\r\n\r\nGET /secret HTTP/1.1\r\nHost: localhost\r\n\r\n", 400)
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5, 5\r\n\r\nhello", 400)
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n", 400)


def test_obs_fold(web):
    rejected(web, b"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n folded\r\n\r\n", 400)


def test_bare_cr(web):
    rejected(web, b"GET / HTTP/1.1\r\nHost: localhost\rX-A: b\r\n\r\n", 400)


def test_bare_lf(web):
    rejected(web, b"GET / HTTP/1.1\nHost: localhost\n\n", 400)


def test_unsupported_transfer_coding(web):
    rejected(web, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\n"
             b"\r\n0\r\n\r\n", 501)


def test_missing_host(web):
    rejected(web, b"GET / HTTP/1.1\r\n\r\n", 400)


def test_expectation_failed(web):
    rejected(web, b"PUT /uploads/x HTTP/1.1\r\nHost: localhost\r\nExpect: brew\r\n"
             b"Content-Length: 1\r\n\r\nx", 417)


def test_slowloris_head_timeout(web):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=20)
    s.sendall(b"GET / HTTP/1.1\r\nHost: loc")
    # Keep trickling: the header timer runs from the start of the head, not the last byte.
    out = b""
    deadline = time.monotonic() + 15
    closed = False
    while time.monotonic() < deadline:
        try:
            s.sendall(b"a")
        except OSError:
            closed = True
            break
        s.settimeout(0.5)
        try:
            chunk = s.recv(4096)
            if not chunk:
                closed = True
                break
            out += chunk
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    s.close()
    assert closed, "a trickled head kept the connection open"
    assert X.status_of(out) == 408
    still_serving(web)


def test_idle_keepalive_closed(web):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=20)
    s.sendall(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
    s.settimeout(15)
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    # One answer, then silence, then the server hangs up (header_timeout = 2 s).
    assert X.statuses(data) == [200]


def test_silent_connection_closed(web):
    # A connection that never sends a byte is closed by the header timer (2 s here), parked
    # or not: it must not hold one of the address's places until the idle timeout.
    s = socket.create_connection(("127.0.0.1", web.port), timeout=15)
    t0 = time.monotonic()
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    assert time.monotonic() - t0 < 12, "a silent connection outlived the header timeout"


def test_per_address_limit(web):
    # 41 connections from one address while the limit is 40: exactly one is refused with a
    # 503, the others are served and kept alive. Which one is not asked: on a busy machine
    # the listener threads may take them in another order than they were opened.
    socks = []
    try:
        for _ in range(41):
            socks.append(socket.create_connection(("127.0.0.1", web.port), timeout=10))
        for s in socks:
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        codes = []
        for s in socks:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    break
                head += chunk
            codes.append(X.status_of(head))
        assert sorted(codes) == [200] * 40 + [503], codes
    finally:
        for s in socks:
            s.close()
    # Released: serving again once the server has seen the closes.
    deadline = time.monotonic() + 20
    while True:
        data, _ = X.raw(web.port, b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        if data and X.status_of(data) == 200:
            break
        assert time.monotonic() < deadline, "still refused after the connections closed"
        time.sleep(0.1)
