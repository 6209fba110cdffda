"""FTP service limits and policies (issue 19): idle and data timeouts (421/425), a stalled
data connection, require_tls, the per-user session limit, login failures, and a bad config."""

import ftplib
import socket

import pytest

import pigeon_harness as H
from ftp_helpers import Control, add_ftp, ftp_daemon, home


def test_idle_timeout(new_daemon):
    d = ftp_daemon(new_daemon, idle_timeout=2)
    with Control(d.ftp_port) as c:
        c.login()
        r = c.reply()  # nothing sent: the server speaks first
        assert r.code == 421 and "Timeout" in r.text
        assert c.closed()


def test_data_timeouts(new_daemon):
    d = ftp_daemon(new_daemon, data_timeout=2)
    h = home(d)
    (h / "big.bin").write_bytes(b"\0" * (32 << 20))
    with Control(d.ftp_port) as c:
        c.login()
        c.pasv()
        r = c.cmd("LIST")  # the client never opens the data connection
        assert r.code == 425
        # a data connection that stops reading
        c.expect("TYPE I", 200)
        host, port = c.pasv()
        ds = socket.create_connection((host, port))
        ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        c.expect("RETR big.bin", 150)
        r = c.reply()
        assert r.code == 421 and "timed out" in r.text
        assert c.closed()
        ds.close()
    d.wait_log(r"xfer .* RETR .* /big\.bin timeout")


def test_require_tls(new_daemon):
    d = ftp_daemon(new_daemon, require_tls="yes")
    home(d)
    with Control(d.ftp_port) as c:
        assert c.cmd("USER bob").code == 530  # even from loopback
        c.expect("AUTH TLS", 234)
        c.sock = H.unverified_context().wrap_socket(c.sock)
        c.login()
        c.pasv()
        assert c.cmd("LIST").code == 521  # data in clear refused
        c.expect("PBSZ 0", 200)
        assert c.cmd("PROT C").code == 534
        c.expect("PROT P", 200)
    with Control(d.ftps_port, tls=True) as c:
        c.login()


def test_user_limit_and_login_failures(new_daemon):
    d = ftp_daemon(new_daemon, max_connections_per_user=2)
    home(d)
    a, b = Control(d.ftp_port), Control(d.ftp_port)
    a.login()
    b.login()
    with Control(d.ftp_port) as c:
        c.expect("USER bob", 331)
        r = c.cmd("PASS hungry")
        assert r.code == 421 and "Too many sessions" in r.text
        assert c.closed()
    a.expect("QUIT", 221)
    with Control(d.ftp_port) as c:
        c.login()  # a place is free again
    b.close()
    with Control(d.ftp_port) as c:
        for _ in range(2):
            c.expect("USER bob", 331)
            c.expect("PASS wrong", 530)
        c.expect("USER bob", 331)
        r = c.cmd("PASS wrong")
        assert r.code == 530
        assert c.reply().code == 421
        assert c.closed()


def test_config_needs_root(new_daemon):
    d = new_daemon(start=False)
    add_ftp(d)
    del d.sections["ftp"]["root"]
    d.write_conf()
    p = d.cli("check-config", check=False)
    assert p.returncode != 0
    assert b"[ftp] root is required" in p.stdout + p.stderr


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session (as
    FileZilla and lftp do); the standard one does not."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
            assert conn.session_reused
        return conn, size


def test_tls_session_reuse_required(new_daemon):
    d = ftp_daemon(new_daemon, require_tls_reuse="yes")
    (home(d) / "r.txt").write_bytes(b"resumed\n")
    plain = ftplib.FTP_TLS(context=H.unverified_context())
    plain.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    plain.login("bob", "hungry")
    plain.prot_p()
    with pytest.raises(ftplib.error_perm, match="^522"):
        plain.retrbinary("RETR r.txt", bytearray().extend)
    plain.quit()
    f = ReusingFTP_TLS(context=H.unverified_context())
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login("bob", "hungry")
    f.prot_p()
    f.voidcmd("NOOP")  # the TLS 1.3 tickets arrive after the handshake; read them first
    got = bytearray()
    f.retrbinary("RETR r.txt", got.extend)
    assert bytes(got) == b"resumed\n"
    f.quit()


def test_ipv6_epsv_and_eprt(new_daemon):
    """RFC 2428 over IPv6: ftplib uses EPSV on an IPv6 control connection; EPRT |2| to the
    client's own ::1 works; PASV cannot name an IPv6 address."""
    d = new_daemon(start=False)
    add_ftp(d, ftps=False)
    port = d.ftp_port
    d.sections["ftp"]["listen"] = "[::1]:%d" % port
    d.ports.remove(port)  # wait_ready probes 127.0.0.1
    d.write_conf()
    d.start()
    H.wait_port(port, host="::1")
    (home(d) / "six.txt").write_bytes(b"over IPv6\n")
    f = ftplib.FTP()
    f.connect("::1", port, timeout=H.IO_TIMEOUT)
    f.login("bob", "hungry")
    got = bytearray()
    f.retrbinary("RETR six.txt", got.extend)  # EPSV
    assert bytes(got) == b"over IPv6\n"
    with pytest.raises(ftplib.error_temp, match="^425"):
        f.sendcmd("PASV")
    with socket.socket(socket.AF_INET6) as lst:
        lst.bind(("::1", 0))
        lst.listen(1)
        f.sendcmd("EPRT |2|::1|%d|" % lst.getsockname()[1])
        f.sendcmd("TYPE I")
        f.putcmd("RETR six.txt")
        assert f.getresp().startswith("150")
        ds, _ = lst.accept()
        with ds:
            data = b""
            while True:
                chunk = ds.recv(4096)
                if not chunk:
                    break
                data += chunk
        assert data == b"over IPv6\n"
        assert f.voidresp().startswith("226")
    f.quit()
