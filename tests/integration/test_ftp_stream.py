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

from ftp_helpers import ftp_daemon, home

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
