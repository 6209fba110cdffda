"""Helpers for the HTTP service's integration tests: a pigeond with [http NAME] sites over a
small document tree (the hamburger.edu site: HTML, CSS, real PNG images, a subdirectory, a
precompressed variant, a symlink that points out of the root), raw-socket requests, curl.
"""

import gzip
import os
import socket
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

import pigeon_harness as H


def png(width, height, rgb):
    """A valid PNG of one colour (browsers decode it: naturalWidth > 0)."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) +
            chunk(b"IEND", b""))


INDEX = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Hamburger University</title>
<link rel="stylesheet" href="/style.css"></head>
<body><h1>Hamburger University</h1>
<img src="/images/logo.png" alt="logo"> <img src="/images/campus.png" alt="campus">
<img src="/images/dept/chef.png" alt="chef">
</body></html>
"""


def make_site(root):
    """The document tree; returns its path."""
    www = Path(root) / "www"
    (www / "images" / "dept").mkdir(parents=True, exist_ok=True)
    (www / "docs").mkdir(exist_ok=True)
    (www / "empty").mkdir(exist_ok=True)
    (www / "uploads").mkdir(exist_ok=True)
    (www / "index.html").write_bytes(INDEX)
    (www / "style.css").write_bytes(b"body { font-family: serif; }\n")
    (www / "images" / "logo.png").write_bytes(png(40, 20, (200, 30, 30)))
    (www / "images" / "campus.png").write_bytes(png(64, 48, (30, 160, 30)))
    (www / "images" / "dept" / "chef.png").write_bytes(png(16, 16, (30, 30, 200)))
    big = bytes(range(256)) * 400  # 102400 octets, known content for ranges
    (www / "big.bin").write_bytes(big)
    (www / "docs" / "notes.txt").write_bytes(b"lecture notes\n" * 100)
    (www / "docs" / "notes.txt.gz").write_bytes(gzip.compress(b"lecture notes\n" * 100))
    (www / ".secret").write_bytes(b"hidden\n")
    outside = Path(root) / "outside.txt"
    outside.write_bytes(b"must never be served\n")
    link = www / "escape.txt"
    if not link.exists():
        os.symlink(str(outside), str(link))
    return www


class HTTPDaemon:
    """Adds the HTTP sections to a harness Daemon: one site 'hamburger' on a plain and a TLS
    port, metrics on a third."""

    def __init__(self, d, www, http=None, site=None, extra_sites=None):
        self.d = d
        self.port = H.free_port()
        self.tls_port = H.free_port()
        self.metrics_port = H.free_port()
        d.sections["http"] = {"access_log": str(Path(d.root) / "access.log"),
                              "header_timeout": 5}
        d.sections["http"].update(http or {})
        d.sections["http hamburger"] = {
            "name": "hamburger.edu www.hamburger.edu localhost",
            "listen": "127.0.0.1:%d" % self.port,
            "listen_tls": "127.0.0.1:%d" % self.tls_port,
            "root": str(www),
            "upload": "/uploads/",
            "login": "yes",
            "cache": "/images/ 86400",
        }
        d.sections["http hamburger"].update(site or {})
        for name, keys in (extra_sites or {}).items():
            # "{www}" stands for the test site's document root (made per test module).
            d.sections["http " + name] = {k: str(www) if v == "{www}" else v
                                          for k, v in keys.items()}
        d.sections["metrics"] = {"listen": "127.0.0.1:%d" % self.metrics_port}
        d.ports += [self.port, self.tls_port, self.metrics_port]
        d.write_conf()
        self.www = Path(www)
        self.access_log = Path(d.root) / "access.log"

    def url(self, path="/", tls=False):
        if tls:
            return "https://127.0.0.1:%d%s" % (self.tls_port, path)
        return "http://127.0.0.1:%d%s" % (self.port, path)


def start_http(root, name, **kw):
    H.DAEMONS  # noqa: B018 (the harness records every daemon)
    d = H.Daemon(root, name=name)
    www = make_site(root)
    hd = HTTPDaemon(d, www, **kw)
    d.setup()
    d.start()
    return hd


def web_fixture(name, **kw):
    """A module-scoped pytest fixture: one pigeond serving the test site (see start_http)."""
    @pytest.fixture(scope="module")
    def web(tmp_path_factory):
        hd = start_http(tmp_path_factory.mktemp(name), "pigeond[%s]" % name, **kw)
        yield hd
        finish(hd.d)
    return web


def finish(d):
    try:
        rc = d.stop()
    finally:
        d.kill9()
    report = d.sanitizer_report()
    if report:
        pytest.fail("sanitizer report in %s log:\n%s" % (d.name, report), pytrace=False)
    assert rc == 0, "pigeond exited with %s on SIGTERM\n%s" % (rc, d.log_tail(8000))


def curl(*args, timeout=30, stdin=None):
    """Runs curl; returns (exit code, stdout bytes, stderr text)."""
    p = subprocess.run(["curl", "-sS", "--max-time", str(max(20, timeout - 10))] +
                       [str(a) for a in args], stdin=stdin,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def metrics(web):
    """The [metrics] listener's text and its samples as {name: value}."""
    rc, out, _ = curl("http://127.0.0.1:%d/metrics" % web.metrics_port)
    assert rc == 0
    values = {}
    for line in out.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = int(value)
    return out.decode(), values


def raw(port, data, timeout=10.0, host="127.0.0.1"):
    """Sends data on a fresh connection and reads until the server closes it (or timeout).
    Returns (bytes received, closed_by_server)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
        return out, False
    finally:
        s.close()


def status_of(response):
    line = response.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    assert len(parts) >= 2 and parts[0].startswith(b"HTTP/1."), "not a status line: %r" % line
    return int(parts[1])


def statuses(data):
    """Every status code in a stream of HTTP/1.1 responses (bodies skipped by Content-Length)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            break
        out.append(status_of(head))
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        data = rest[length:]
    return out
