"""HTTPS on the Web server (issue 13): TLS session resumption (TLS 1.3 tickets and TLS 1.2
session ids, with openssl s_client), and the connection layer's direct writes under TLS — the
records of each call written at its end, the socket's own watcher when it is full — driven by
stock clients: many requests on one connection, pipelined requests, large files over
HTTP/1.1 and HTTP/2 (curl), a client that stops reading for a while, answers that come later
(an upload's fsync on the work pool)."""

import hashlib
import http.client
import os
import socket
import ssl
import struct
import subprocess
import time

import http_helpers as X

web = X.web_fixture("http_tls")

GET = b"GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n"
CSS = b"body { font-family: serif; }\n"


def tls_connect(web):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", web.tls_port), timeout=20))


def big_file(web, name, size):
    path = web.www / name
    if not path.exists():
        path.write_bytes(os.urandom(size))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def s_client(web, *args):
    """One HTTP/1.0 request through openssl s_client; its output (the session summary)."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % web.tls_port,
                        "-servername", "localhost", "-ign_eof"] + list(args),
                       input=b"GET /style.css HTTP/1.0\r\nHost: localhost\r\n\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return p.stdout.decode(errors="replace")


def test_session_resumption(web, tmp_path):
    """A client that kept its session resumes it instead of a full handshake: a TLS 1.3
    ticket, and a TLS 1.2 session id from the server's cache."""
    for version in ("-tls1_3", "-tls1_2"):
        sess = tmp_path / ("sess" + version)
        first = s_client(web, version, "-sess_out", str(sess))
        assert "New, TLSv1" in first and "200 OK" in first, first[-2000:]
        again = s_client(web, version, "-sess_in", str(sess))
        assert "Reused, TLSv1" in again and "200 OK" in again, again[-2000:]


def test_many_requests_on_one_connection(web):
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection("127.0.0.1", web.tls_port, timeout=20, context=ctx)
    for _ in range(300):
        c.request("GET", "/style.css", headers={"Host": "localhost"})
        r = c.getresponse()
        assert r.status == 200 and r.read() == CSS
    c.close()


def test_pipelined_over_tls(web):
    s = tls_connect(web)
    s.sendall(GET * 20)
    data = b""
    while X.statuses(data).count(200) < 20:
        chunk = s.recv(65536)
        assert chunk, "closed before 20 answers"
        data += chunk
    s.close()
    assert X.statuses(data) == [200] * 20 and data.count(CSS) == 20


def test_large_files_over_tls(web, tmp_path):
    want = big_file(web, "tls-big.bin", 6 * 1024 * 1024 + 123)
    for proto in ("--http1.1", "--http2"):
        out = tmp_path / ("got" + proto)
        rc, _, err = X.curl("-k", proto, "-o", out, web.url("/tls-big.bin", tls=True), timeout=90)
        assert rc == 0, err
        assert hashlib.sha256(out.read_bytes()).hexdigest() == want, proto


def test_reader_that_pauses(web):
    """A client that reads nothing for a while: the server's socket fills, the rest waits for
    room (no busy loop, nothing lost), and the answer arrives whole when it reads again; the
    connection then serves another request."""
    want = big_file(web, "tls-pause.bin", 4 * 1024 * 1024)
    s = tls_connect(web)
    s.sendall(b"GET /tls-pause.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
    first = s.recv(100)
    assert first.startswith(b"HTTP/1.1 200")
    time.sleep(1.5)  # part of the scenario: the socket buffers fill meanwhile
    data = first
    head_end = -1
    while True:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0 and len(data) - head_end - 4 >= 4 * 1024 * 1024:
            break
        chunk = s.recv(1 << 20)
        assert chunk, "the connection closed before the whole file"
        data += chunk
    body = data[head_end + 4:]
    assert len(body) == 4 * 1024 * 1024
    assert hashlib.sha256(body).hexdigest() == want
    s.sendall(GET)
    data = b""
    while CSS not in data:
        chunk = s.recv(65536)
        assert chunk
        data += chunk
    s.close()


def test_later_answer_over_tls(web):
    """A login's answer comes after the password check on the auth pool, outside any call
    from the connection layer: it still leaves (through the socket's watcher), and the same
    connection serves the next request."""
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection("127.0.0.1", web.tls_port, timeout=20, context=ctx)
    for _ in range(3):
        c.request("POST", "/login", body="username=alice&password=crepes",
                  headers={"Host": "localhost",
                           "Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        r.read()
        assert r.status == 303 and "Secure" in r.getheader("Set-Cookie")
        c.request("GET", "/style.css", headers={"Host": "localhost"})
        r = c.getresponse()
        assert r.status == 200 and r.read() == CSS
    c.close()


def test_closing_sends_close_notify(web):
    """A connection the server closes (Connection: close) ends with TLS's close_notify alert
    (RFC 8446 §6.1), so the client can tell the end from a truncation: Python's ssl reads a
    clean end (b"") rather than "unexpected eof" (Python's context ignores such ends by
    default, and its sockets suppress them: neither here)."""
    ctx = ssl._create_unverified_context()
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", web.tls_port), timeout=20),
                        suppress_ragged_eofs=False)
    s.sendall(b"GET /style.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ssl.SSLError as e:
            raise AssertionError("closed without close_notify after %r: %s" % (data, e)) from e
        if not chunk:
            break
        data += chunk
    s.close()
    assert X.statuses(data) == [200] and data.endswith(CSS)


def test_broken_handshakes_leave_the_server_serving(web):
    """Plain text, a truncated ClientHello, and a hello followed by a reset: each connection
    is dropped (nothing but a TLS alert comes back) and the next client is served."""
    hello_start = bytes.fromhex("160301020001000200")  # a record header and a cut ClientHello
    for junk in (b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", hello_start):
        s = socket.create_connection(("127.0.0.1", web.tls_port), timeout=20)
        s.sendall(junk)
        if junk is hello_start:
            s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.close()
        assert b"HTTP/" not in got and (not got or got[0] == 0x15), got  # 0x15: alert
    s = socket.create_connection(("127.0.0.1", web.tls_port), timeout=20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(hello_start)
    s.close()  # a reset in the middle of the handshake
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection("127.0.0.1", web.tls_port, timeout=20, context=ctx)
    c.request("GET", "/style.css", headers={"Host": "localhost"})
    r = c.getresponse()
    assert r.status == 200 and r.read() == CSS
    c.close()
