"""FTP service (issue 19), what an administrator sees and what the connection layer owes a
transfer: `pigeon ftp sessions` (client, user, directory, the transfer in progress), ABOR
heard after the control connection's idle timer passed during a transfer, and PASV on a
wildcard listener answering with the address the client reached."""

import os
import socket

import pigeon_harness as H
from ftp_helpers import Control, add_ftp, ftp_daemon, home, retr_raw, stor_raw


def sessions(d):
    """`pigeon ftp sessions` as a list of field lists (the header line checked and dropped)."""
    out = d.cli("ftp", "sessions").stdout.decode()
    lines = out.splitlines()
    if lines == ["no FTP sessions"]:
        return []
    assert lines[0].split("\t") == ["ID", "CLIENT", "USER", "SECONDS", "DIRECTORY",
                                    "TRANSFER"], out
    return [ln.split("\t") for ln in lines[1:]]


def stalled_retr(c, name):
    """TYPE I, PASV, RETR name with a data connection that reads 1000 octets and then stops:
    the transfer stays in progress. Returns the data socket."""
    c.expect("TYPE I", 200)
    host, port = c.pasv()
    ds = socket.create_connection((host, port), timeout=H.IO_TIMEOUT)
    ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.expect("RETR " + name, 150)
    assert len(ds.recv(1000)) > 0
    return ds


def test_pigeon_ftp_sessions(new_daemon):
    d = ftp_daemon(new_daemon)
    (home(d) / "big.bin").write_bytes(os.urandom(32 << 20))
    assert sessions(d) == []
    with Control(d.ftp_port) as browsing, Control(d.ftp_port) as fresh, \
            Control(d.ftp_port) as loading:
        browsing.login()
        browsing.expect("MKD docs", 257)
        browsing.expect("CWD docs", 250)
        loading.login()
        ds = stalled_retr(loading, "big.bin")
        rows = sessions(d)
        assert len(rows) == 3, rows
        by_dir = {r[4]: r for r in rows}
        assert by_dir["/docs"][1:3] == ["127.0.0.1", "bob@hamburger.edu"]
        assert by_dir["/docs"][5] == "-"
        anon = [r for r in rows if r[2] == "-"]
        assert len(anon) == 1 and anon[0][4:] == ["-", "-"], rows
        xfer = [r for r in rows if r[5] != "-"]
        assert len(xfer) == 1 and xfer[0][4] == "/", rows
        verb, path, octets, unit = xfer[0][5].split(" ")[:4]
        assert (verb, path, unit) == ("RETR", "/big.bin", "octets") and int(octets) > 0
        ds.close()
        fresh.expect("NOOP", 200)
    H.wait_until(lambda: sessions(d) == [], what="every FTP session gone from the list")


def test_pigeon_ftp_sessions_without_ftp(new_daemon):
    d = new_daemon()
    p = d.cli("ftp", "sessions", check=False)
    assert p.returncode == 1 and b"FTP does not run" in p.stderr


def test_abor_after_idle_timer_during_transfer(new_daemon):
    """The idle timer passes while a transfer runs (the client says nothing meanwhile, as
    RFC 959 clients do); libevent stops reading the control connection then, and ABOR must
    still be read at once, not after the transfer."""
    d = ftp_daemon(new_daemon, idle_timeout=1)
    (home(d) / "big.bin").write_bytes(os.urandom(32 << 20))
    with Control(d.ftp_port) as c:
        c.login()
        off = d.log_size()
        ds = stalled_retr(c, "big.bin")
        d.wait_log(r"idle on the control connection during a transfer", start=off)
        c.send("ABOR\r\n")
        assert c.reply().lines[0] == "426 Connection closed; transfer aborted."
        assert c.reply().lines[0] == "226 Abort successful."
        ds.close()
        c.expect("NOOP", 200)
    d.wait_log(r"xfer .* RETR \d+ octets .* /big\.bin aborted", start=off)


def test_pasv_on_wildcard_listener(new_daemon):
    """[ftp] listen = 0.0.0.0:PORT and no pasv_address: PASV announces the address each
    client reached (127.0.0.1, or 198.18.0.1 the namespace has on lo), and the transfer
    works through it."""
    d = new_daemon(start=False)
    add_ftp(d, plaintext_auth="yes")  # 198.18.0.1 is not loopback
    d.sections["ftp"]["listen"] = "0.0.0.0:%d" % d.ftp_port
    d.write_conf()
    d.start()
    (home(d) / "hello.txt").write_bytes(b"hello\n")
    for addr in ("127.0.0.1", "198.18.0.1"):
        with Control(d.ftp_port, host=addr) as c:
            c.login()
            assert c.pasv()[0] == addr
            data, _, r = retr_raw(c, "hello.txt")  # through a new PASV, on the same address
            assert data == b"hello\n" and r.code == 226


def test_ascii_line_ends_only_both_ways(new_daemon):
    """TYPE A over chunks made of nothing but line ends: RETR doubles every octet (LF to
    CRLF, the conversion's output twice its input), STOR halves it back."""
    d = ftp_daemon(new_daemon)
    h = home(d)
    n = 600 * 1024
    (h / "lf.txt").write_bytes(b"\n" * n)
    with Control(d.ftp_port) as c:
        c.login()
        data, _, r = retr_raw(c, "lf.txt", mode="A")
        assert r.code == 226 and data == b"\r\n" * n
        assert stor_raw(c, "back.txt", data, mode="A").code == 226
    assert (h / "back.txt").read_bytes() == b"\n" * n


def test_client_gone_during_upload(new_daemon):
    """The client vanishes in the middle of a STOR (control and data connections closed while
    chunks are being written on the pool): the transfer ends, the server stays up and the
    next session stores a file whole."""
    d = ftp_daemon(new_daemon)
    h = home(d)
    off = d.log_size()
    c = Control(d.ftp_port)
    c.login()
    c.expect("TYPE I", 200)
    host, port = c.pasv()
    ds = socket.create_connection((host, port), timeout=H.IO_TIMEOUT)
    c.expect("STOR gone.bin", 150)
    ds.sendall(os.urandom(8 << 20))
    c.close()
    ds.close()
    d.wait_log(r"xfer .* STOR \d+ octets .* /gone\.bin (aborted|connection-lost|ok)", start=off)
    payload = os.urandom(3 << 20)
    with Control(d.ftp_port) as c2:
        c2.login()
        assert stor_raw(c2, "whole.bin", payload).code == 226
    assert (h / "whole.bin").read_bytes() == payload
