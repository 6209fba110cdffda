"""Streamed uploads: a PUT body larger than max_buffered_body goes straight to a temporary
file beside the target (seen growing there while the body arrives), fsynced and renamed
before 201/204, over HTTP/1.1 (Content-Length and chunked) and HTTP/2; a client that goes away
mid-body leaves neither the temporary file nor the target; max_upload_size is answered with
413 before any 100 Continue; bodies read whole (a form POST) stay bounded by
max_buffered_body."""

import base64
import hashlib
import os
import socket

import pytest

import http_helpers as X
import pigeon_harness as H


web = X.web_fixture("http_upload_stream",
                    http={"max_buffered_body": "1M", "max_body_size": "200M"},
                    site={"max_upload_size": "64M"})

AUTH = "Basic " + base64.b64encode(b"bob:hungry").decode()


def big(tmp_path, size):
    p = tmp_path / ("body-%d" % size)
    with open(p, "wb") as f:
        f.write(os.urandom(size))
    return p


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(web):
    return [n for n in os.listdir(web.www / "uploads") if n.startswith(".pigeon-put-")]


def test_large_put_http11_and_h2(web, tmp_path):
    src = big(tmp_path, 40 * 1024 * 1024)
    target = web.www / "uploads" / "big.bin"
    rc, out, err = X.curl("-T", src, "-u", "bob:hungry", "-o", "/dev/null", "-w",
                          "%{http_code}", web.url("/uploads/big.bin"), timeout=120)
    assert out == b"201", err
    assert digest(target) == digest(src)
    src2 = big(tmp_path, 30 * 1024 * 1024 + 7)
    rc, out, err = X.curl("-k", "--http2", "-T", src2, "-u", "bob:hungry", "-o", "/dev/null",
                          "-w", "%{http_code} %{http_version}",
                          web.url("/uploads/big.bin", tls=True), timeout=120)
    assert out == b"204 2", err
    assert digest(target) == digest(src2)
    assert temporaries(web) == []


def test_chunked_put(web, tmp_path):
    src = big(tmp_path, 3 * 1024 * 1024 + 11)
    with open(src, "rb") as f:
        rc, out, err = X.curl("-T", "-", "-u", "bob:hungry", "-o", "/dev/null", "-w",
                              "%{http_code}", web.url("/uploads/chunked.bin"), stdin=f)
    assert out == b"201", err
    assert digest(web.www / "uploads" / "chunked.bin") == digest(src)


def test_body_goes_to_disk_as_it_arrives(web):
    # Half of a 4 MiB body: the temporary file beside the target already holds it (nothing
    # waits in memory); the rest, and the file is renamed before the answer.
    size, half = 4 * 1024 * 1024, 2 * 1024 * 1024
    body = os.urandom(size)
    s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
    s.sendall(b"PUT /uploads/slow.bin HTTP/1.1\r\nHost: hamburger.edu\r\nAuthorization: " +
              AUTH.encode() + b"\r\nContent-Length: %d\r\n\r\n" % size + body[:half])

    def partial():
        t = temporaries(web)
        return t and os.path.getsize(web.www / "uploads" / t[0]) == half
    H.wait_until(partial, what="the first half in the temporary file")
    assert not (web.www / "uploads" / "slow.bin").exists()
    s.sendall(body[half:])
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += s.recv(65536)
    s.close()
    assert X.status_of(reply) == 201
    assert (web.www / "uploads" / "slow.bin").read_bytes() == body
    assert temporaries(web) == []


def test_client_gone_mid_body(web):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=30)
    s.sendall(b"PUT /uploads/gone.bin HTTP/1.1\r\nHost: hamburger.edu\r\nAuthorization: " +
              AUTH.encode() + b"\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 1000000)
    H.wait_until(lambda: temporaries(web), what="the temporary file")
    s.close()
    H.wait_until(lambda: temporaries(web) == [], what="the temporary file removed")
    assert not (web.www / "uploads" / "gone.bin").exists()


def test_too_large_refused_before_continue(web):
    data, closed = X.raw(web.port, b"PUT /uploads/huge.bin HTTP/1.1\r\nHost: hamburger.edu\r\n"
                         b"Authorization: " + AUTH.encode() + b"\r\nExpect: 100-continue\r\n"
                         b"Content-Length: 100000000\r\n\r\n")
    assert X.status_of(data) == 413
    assert b"100 Continue" not in data
    assert closed
    # Over max_body_size (200M) the head itself is refused.
    data, _ = X.raw(web.port, b"PUT /uploads/huge.bin HTTP/1.1\r\nHost: hamburger.edu\r\n"
                    b"Content-Length: 300000000\r\n\r\n")
    assert X.status_of(data) == 413


def test_buffered_bodies_stay_bounded(web):
    body = b"username=bob&password=" + b"x" * (1024 * 1024 + 10)
    data, closed = X.raw(web.port, b"POST /login HTTP/1.1\r\nHost: hamburger.edu\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert X.status_of(data) == 413 and closed
