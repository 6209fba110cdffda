"""HTTP/2: curl over TLS with ALPN h2 and with prior knowledge on loopback, nghttp with
concurrent streams, and the two HTTP/2 floods (Rapid Reset, CONTINUATION) over raw frames:
the server answers them with GOAWAY, closes, and keeps serving others."""

import socket
import struct
import subprocess

import pytest

import http_helpers as X


web = X.web_fixture("http_h2")


def test_curl_http2_tls(web):
    rc, out, err = X.curl("-k", "--http2", "-o", "/dev/null", "-w",
                          "%{http_code} %{http_version} %{size_download}",
                          web.url("/images/logo.png", tls=True))
    assert rc == 0, err
    size = (web.www / "images" / "logo.png").stat().st_size
    assert out.decode() == "200 2 %d" % size


def test_curl_http11_tls(web):
    rc, out, err = X.curl("-k", "--http1.1", "-w", "\n%{http_version}", web.url("/", tls=True))
    assert rc == 0, err
    body, version = out.rsplit(b"\n", 1)
    assert version == b"1.1" and body == X.INDEX


def test_curl_prior_knowledge(web):
    rc, out, err = X.curl("--http2-prior-knowledge", "-i", web.url("/style.css"))
    assert rc == 0, err
    assert out.startswith(b"HTTP/2 200")
    assert b"content-type: text/css" in out.lower()
    assert out.endswith(b"body { font-family: serif; }\n")


def test_h2_conditional_range_and_errors(web):
    rc, out, _ = X.curl("-k", "--http2", "-r", "10-19", web.url("/big.bin", tls=True))
    assert out == bytes(range(10, 20))
    rc, out, _ = X.curl("-k", "--http2", "-o", "/dev/null", "-w", "%{http_code}", "-z",
                        "Fri, 01 Jan 2100 00:00:00 GMT", web.url("/style.css", tls=True))
    assert out == b"304"
    rc, out, _ = X.curl("-k", "--http2", "-o", "/dev/null", "-w", "%{http_code}",
                        web.url("/missing", tls=True))
    assert out == b"404"
    rc, out, _ = X.curl("-k", "--http2", "-I", web.url("/big.bin", tls=True))
    assert b"content-length: 102400" in out.lower()


def test_nghttp_many_streams(web):
    paths = ["/", "/style.css", "/images/logo.png", "/images/campus.png",
             "/images/dept/chef.png", "/big.bin", "/docs/notes.txt"]
    p = subprocess.run(["nghttp", "-n", "-s", "-m", "3"] +
                       [web.url(x, tls=True) for x in paths],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    out = p.stdout.decode()
    # The per-stream statistics list every request (each path three times).
    for x in paths[1:]:
        assert out.count(x) >= 3, out


def test_upload_over_h2(web, tmp_path):
    src = tmp_path / "h2.txt"
    src.write_bytes(b"over two\n")
    rc, out, err = X.curl("-k", "--http2", "-T", src, "-u", "bob:hungry", "-o", "/dev/null",
                          "-w", "%{http_code} %{http_version}", web.url("/uploads/h2.txt", tls=True))
    assert out == b"201 2", err
    assert (web.www / "uploads" / "h2.txt").read_bytes() == b"over two\n"


# ---- raw frames ----

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


# HPACK: :method GET, :scheme http, :path /, :authority localhost (literal, indexed name 1).
GET_ROOT = b"\x82\x86\x84\x01\x09localhost"


def parse_frames(data):
    frames = []
    while len(data) >= 9:
        n = struct.unpack(">I", b"\x00" + data[:3])[0]
        if len(data) < 9 + n:
            break
        frames.append((data[3], data[4], struct.unpack(">I", data[5:9])[0] & 0x7fffffff,
                       data[9:9 + n]))
        data = data[9 + n:]
    return frames


def read_frames(sock, timeout=20, until=None):
    """Reads until the server closes (or until(frames) is true); returns the list of
    (type, flags, stream, payload)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while not (until and until(parse_frames(data))):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return parse_frames(data)


def h2_conn(web):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=20)
    s.sendall(PREFACE + frame(4, 0, 0))
    return s


def test_rapid_reset_goaway(web):
    s = h2_conn(web)
    burst = b"".join(frame(1, 0x5, sid, GET_ROOT) + frame(3, 0, sid, b"\x00\x00\x00\x08")
                     for sid in range(1, 2 * 1500, 2))
    try:
        s.sendall(burst)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server hung up mid-flood: also what we want
    frames = read_frames(s)
    s.close()
    goaways = [f for f in frames if f[0] == 7]
    assert goaways, "no GOAWAY after 1500 HEADERS+RST_STREAM pairs"
    # nghttp2's reset rate limit ends the connection with INTERNAL_ERROR.
    code = struct.unpack(">I", goaways[-1][3][4:8])[0]
    assert code in (0x2, 0xb), "GOAWAY error %#x" % code
    rc, out, _ = X.curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                        web.url("/"))
    assert out == b"200"


def test_continuation_flood_goaway(web):
    s = h2_conn(web)
    field = b"\x00\x03x-a\x01b"
    flood = frame(1, 0x1, 1, GET_ROOT) + b"".join(frame(9, 0, 1, field) for _ in range(50))
    try:
        s.sendall(flood)
    except (BrokenPipeError, ConnectionResetError):
        pass
    frames = read_frames(s)
    s.close()
    assert any(f[0] == 7 for f in frames), "no GOAWAY after 50 CONTINUATION frames"
    assert not any(f[0] == 1 and f[2] == 1 for f in frames), "the flooded stream was answered"
    rc, out, _ = X.curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                        web.url("/"))
    assert out == b"200"


def test_h2_stream_answered_over_raw_frames(web):
    s = h2_conn(web)
    s.sendall(frame(1, 0x5, 1, GET_ROOT))
    frames = read_frames(s, until=lambda fs: any(f[0] == 0 and f[1] & 1 for f in fs))
    s.close()
    heads = [f for f in frames if f[0] == 1 and f[2] == 1]
    data = b"".join(f[3] for f in frames if f[0] == 0 and f[2] == 1)
    assert heads and data == X.INDEX


def test_h2c_upgrade(web):
    rc, out, err = X.curl("-v", "--http2", web.url("/style.css"), web.url("/"))
    assert rc == 0, err
    assert "< HTTP/1.1 101 Switching Protocols" in err
    assert err.count("< HTTP/2 200") == 2
    assert "Re-using existing connection" in err
    assert out == b"body { font-family: serif; }\n" + X.INDEX
    # A malformed HTTP2-Settings: 400 over HTTP/1.1, no switch.
    data, closed = X.raw(web.port, b"GET / HTTP/1.1\r\nHost: localhost\r\n"
                         b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                         b"HTTP2-Settings: !!!\r\n\r\n")
    assert X.status_of(data) == 400 and closed


def get_path(path):
    """HPACK: GET path on localhost (:path a literal without indexing, name index 4)."""
    return b"\x82\x86\x04" + bytes([len(path)]) + path + b"\x01\x09localhost"


def test_h2_changed_file_served_at_once_on_one_connection(web):
    # Requests read together are answered from one look at the file cache's change queue;
    # a request read after the change sees it, on the same connection.
    p = web.www / "h2changing.txt"
    p.write_bytes(b"first\n")
    s = h2_conn(web)
    bodies = []
    for sid in (1, 3):
        if sid == 3:
            p.write_bytes(b"second version\n")
        s.sendall(frame(1, 0x5, sid, get_path(b"/h2changing.txt")))
        frames = read_frames(s, until=lambda fs, sid=sid: any(
            f[0] == 0 and f[1] & 1 and f[2] == sid for f in fs))
        bodies.append(b"".join(f[3] for f in frames if f[0] == 0 and f[2] == sid))
    s.close()
    assert bodies == [b"first\n", b"second version\n"]
