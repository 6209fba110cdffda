"""FTP binary transfers on the data socket itself (issue 19, src/ftp/service/stream.c):
what they cost in read(2)/write(2) calls, counted by the kernel for pigeond
(/proc/PID/io syscr + syscw), and that the bytes arrive whole both ways.

Under TLS a transfer used to go through a libevent OpenSSL bufferevent: one write(2) per
16 KB TLS record on the way down, two read(2)s per record (header, then body) on the way
up, and a disk job of whatever had arrived (often one record) each time the pool was free.
Now the data connection's TLS writes through a 256 KB buffer and reads ahead 256 KB at a
time, and an upload goes to the disk 256 KB or more per job: a few calls per megabyte.
"""

import ftplib
import hashlib
import io
import os
import socket
import ssl

import pytest

from ftp_helpers import add_ftp, ftp_daemon, home

import pigeon_harness as H

MB = 32


def io_calls(pid):
    """read(2)-family plus write(2)-family calls the process has made (all its threads)."""
    fields = dict(line.split(": ") for line in open("/proc/%d/io" % pid).read().splitlines())
    return int(fields["syscr"]) + int(fields["syscw"])


def tls_client(d):
    f = ftplib.FTP_TLS(context=H.unverified_context())
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login("bob", "hungry")
    f.prot_p()
    return f


def test_tls_transfers_few_system_calls_per_megabyte(new_daemon):
    d = ftp_daemon(new_daemon)
    h = home(d)
    payload = os.urandom(MB << 20)
    f = tls_client(d)
    try:
        f.voidcmd("TYPE I")
        before = io_calls(d.proc.pid)
        f.storbinary("STOR big.bin", io.BytesIO(payload), blocksize=256 << 10)
        after_stor = io_calls(d.proc.pid)
        got = hashlib.sha256()
        f.retrbinary("RETR big.bin", got.update, blocksize=256 << 10)
        after_retr = io_calls(d.proc.pid)
    finally:
        f.quit()
    assert (h / "big.bin").read_bytes() == payload
    assert got.hexdigest() == hashlib.sha256(payload).hexdigest()
    stor = (after_stor - before) / MB
    retr = (after_retr - after_stor) / MB
    # before: STOR about 260 calls per MB (two reads per record, a disk write per record),
    # RETR at least 64 (a write per record); now a handful each, whatever the timing
    assert stor <= 48, "STOR under TLS: %.1f read/write calls per MB" % stor
    assert retr <= 32, "RETR under TLS: %.1f read/write calls per MB" % retr
    d.wait_log(r"xfer .* STOR %d octets .* b tls /big\.bin ok" % len(payload))
    d.wait_log(r"xfer .* RETR %d octets .* b tls /big\.bin ok" % len(payload))


def test_tls_transfers_resume_and_small_files(new_daemon):
    """REST under TLS both ways, an empty file and a file smaller than one TLS record."""
    d = ftp_daemon(new_daemon)
    h = home(d)
    payload = os.urandom(3 << 20)
    f = tls_client(d)
    try:
        f.storbinary("STOR part.bin", io.BytesIO(payload[: 1 << 20]))
        f.storbinary("STOR part.bin", io.BytesIO(payload[1 << 20:]), rest=1 << 20)
        assert (h / "part.bin").read_bytes() == payload
        got = bytearray()
        f.retrbinary("RETR part.bin", got.extend, rest=(2 << 20) + 5)
        assert bytes(got) == payload[(2 << 20) + 5:]
        f.storbinary("STOR empty.bin", io.BytesIO(b""))
        f.storbinary("STOR tiny.bin", io.BytesIO(b"x" * 100))
        got = bytearray()
        f.retrbinary("RETR empty.bin", got.extend)
        assert got == b""
        f.retrbinary("RETR tiny.bin", got.extend)
        assert got == b"x" * 100
    finally:
        f.quit()
    assert (h / "empty.bin").read_bytes() == b""


def test_failed_data_handshake_leaves_the_worker_s_tls_alone(new_daemon):
    """A PROT P data connection whose handshake fails (garbage in place of a ClientHello; a
    client that rejects the certificate and sends an alert) ends its transfer with 426 and
    a log line, and leaves OpenSSL's error queue empty. That queue belongs to the worker's
    thread (workers = 1 here), and SSL_get_error reads it before anything else: an error
    left on it turns another connection's mere "would block" into a failure. Meanwhile a
    TLS transfer on the same worker, its socket full, goes on to its end, the failing
    session's control connection still answers, and a new FTPS session transfers."""
    d = new_daemon(start=False)
    d.sections["server"]["workers"] = 1
    add_ftp(d)
    d.start()
    h = home(d)
    payload = os.urandom(8 << 20)
    (h / "big.bin").write_bytes(payload)
    a = tls_client(d)
    a.voidcmd("TYPE I")
    ds = a.transfercmd("RETR big.bin")
    got = bytearray(ds.recv(1 << 16))  # A reads no more for now: the server's socket fills
    b = tls_client(d)
    b.voidcmd("TYPE I")
    for how in ("garbage", "alert"):
        off = d.log_size()
        host, port = ftplib.parse227(b.sendcmd("PASV"))
        with socket.create_connection((host, port), timeout=H.IO_TIMEOUT) as s:
            b.putcmd("RETR big.bin")
            assert b.getmultiline().startswith("150")
            if how == "garbage":
                s.sendall(b"\x16\x03\x01\x00\x05hello" * 4)
            else:  # verifies the server's certificate: refuses it, with an alert
                with pytest.raises(ssl.SSLCertVerificationError):
                    ssl.create_default_context().wrap_socket(s, server_hostname="127.0.0.1")
            assert b.getmultiline().startswith("426")
        d.wait_log(r"ftp s\w+ data connection tls error: ", start=off)
        d.wait_log(r"xfer .* RETR \d+ octets .* b tls /big\.bin connection-lost", start=off)
        assert b.voidcmd("NOOP").startswith("200")
    while True:
        chunk = ds.recv(1 << 20)
        if not chunk:
            break
        got += chunk
    ds.close()
    assert a.voidresp().startswith("226")
    assert bytes(got) == payload
    a.quit()
    b.quit()
    c = tls_client(d)
    try:
        back = bytearray()
        c.retrbinary("RETR big.bin", back.extend)
        assert bytes(back) == payload
    finally:
        c.quit()


def test_uploads_flushed_as_they_arrive(new_daemon):
    """upload_flush: an upload is fdatasynced on the pool every so many octets written as it
    arrives (flush.c), so the fsync before "226" finds at most one step left; the transfer's
    log line counts those flushes. Spliced (plain TYPE I), through buffers (TLS) and TYPE A;
    an upload smaller than one step has none."""
    d = ftp_daemon(new_daemon, upload_flush="1M")
    h = home(d)
    payload = os.urandom(8 << 20)
    text = b"".join(b"line %d of the text\n" % i for i in range(200000))  # ~4 MB
    f = ftplib.FTP()
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login("bob", "hungry")
    try:
        f.storbinary("STOR plain.bin", io.BytesIO(payload), blocksize=256 << 10)
        f.storlines("STOR text.txt", io.BytesIO(text))
        f.storbinary("STOR small.bin", io.BytesIO(payload[:100000]))
    finally:
        f.quit()
    t = tls_client(d)
    try:
        t.storbinary("STOR tls.bin", io.BytesIO(payload), blocksize=256 << 10)
    finally:
        t.quit()
    assert (h / "plain.bin").read_bytes() == payload
    assert (h / "tls.bin").read_bytes() == payload
    assert (h / "text.txt").read_bytes() == text
    for name, mode in (("plain", "b clear"), ("tls", "b tls")):
        m = d.wait_log(r"xfer .* STOR %d octets .* %s /%s\.bin ok flushes (\d+)"
                       % (len(payload), mode, name))
        assert int(m.group(1)) >= 1, m.group(0)
    m = d.wait_log(r"xfer .* STOR \d+ octets .* a clear /text\.txt ok flushes (\d+)")
    assert int(m.group(1)) >= 1, m.group(0)
    d.wait_log(r"xfer .* STOR 100000 octets .* /small\.bin ok flushes 0")
