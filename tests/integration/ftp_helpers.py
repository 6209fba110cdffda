"""Helpers for the FTP service's integration tests: a pigeond with [ftp] (AUTH TLS), [ftps]
(implicit TLS) and an anonymous tree, a raw control-connection client that reads RFC 959
replies (multi-line included), and PASV data connections."""

import re
import socket

import pigeon_harness as H


def add_ftp(d, ftps=True, anonymous=True, **over):
    """Adds [ftp] (and [ftps]) to daemon d (not started); sets d.ftp_port, d.ftps_port,
    d.ftp_root (users' trees) and d.anon_root."""
    d.ftp_port = H.free_port()
    d.ftp_root = d.root / "ftp"
    d.anon_root = d.root / "anon"
    d.anon_root.mkdir(parents=True, exist_ok=True)
    (d.anon_root / "README").write_bytes(b"anonymous tree\n")
    d.sections["ftp"] = {
        "listen": "127.0.0.1:%d" % d.ftp_port,
        "root": str(d.ftp_root),
        "anonymous_root": str(d.anon_root) if anonymous else None,
        "plaintext_auth": "loopback",
        "max_errors": 20,
    }
    d.sections["ftp"].update(over)
    d.ports.append(d.ftp_port)
    d.ftps_port = None
    if ftps:
        d.ftps_port = H.free_port()
        d.sections["ftps"] = {"listen": "127.0.0.1:%d" % d.ftps_port}
        d.ports.append(d.ftps_port)
    d.write_conf()
    return d


def ftp_daemon(new_daemon, **over):
    """A started pigeond (from conftest's new_daemon) with add_ftp's sections and `over`."""
    d = new_daemon(start=False)
    add_ftp(d, **over)
    d.start()
    return d


def home(d, user="bob@hamburger.edu"):
    p = d.ftp_root / user
    p.mkdir(parents=True, exist_ok=True)
    return p


class Reply:
    def __init__(self, code, lines):
        self.code = code
        self.lines = lines

    @property
    def text(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return "Reply(%d, %r)" % (self.code, self.lines)


class Control(H.LineClient):
    """A raw FTP control connection."""

    def __init__(self, port, host="127.0.0.1", source=None, tls=False, timeout=H.IO_TIMEOUT,
                 greeting=True):
        super().__init__(port, host, timeout, tls, source)
        self.greeting = self.reply() if greeting else None

    def line(self):
        raw = self.rawline()  # RFC 959: every reply line ends in CRLF
        assert raw.endswith(b"\r\n"), "reply line without CRLF: %r" % raw
        return raw[:-2].decode("utf-8", "replace")

    def reply(self):
        first = self.line()
        code = int(first[:3])
        lines = [first]
        if first[3:4] == "-":  # RFC 959 §4.2: until "code<SP>"
            while True:
                ln = self.line()
                lines.append(ln)
                if ln[:3] == first[:3] and ln[3:4] == " ":
                    break
        return Reply(code, lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def expect(self, line, code):
        r = self.cmd(line)
        assert r.code == code, "%s -> %r (expected %d)" % (line, r, code)
        return r

    def login(self, user="bob", password="hungry"):
        self.expect("USER " + user, 331)
        return self.expect("PASS " + password, 230)

    def pasv(self):
        r = self.expect("PASV", 227)
        m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r.lines[0])
        host = ".".join(m.group(i) for i in range(1, 5))
        return host, int(m.group(5)) * 256 + int(m.group(6))

    def epsv(self):
        r = self.expect("EPSV", 229)
        return int(re.search(r"\(\|\|\|(\d+)\|\)", r.lines[0]).group(1))

    def closed(self, timeout=10.0):
        """True once the server has closed the connection (reads what is left)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            return False


def read_all(sock):
    out = []
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return b"".join(out)
        out.append(chunk)


def stor_raw(c, name, data, mode="I"):
    """TYPE mode, PASV, STOR name with data over raw sockets: the reply after the data."""
    c.expect("TYPE " + mode, 200)
    host, port = c.pasv()
    with socket.create_connection((host, port), timeout=H.IO_TIMEOUT) as ds:
        c.expect("STOR " + name, 150)
        ds.sendall(data)
    return c.reply()


def retr_raw(c, name, mode="I"):
    """TYPE mode, PASV, RETR name over raw sockets: (the octets, the 150 and 226 replies)."""
    c.expect("TYPE " + mode, 200)
    host, port = c.pasv()
    with socket.create_connection((host, port), timeout=H.IO_TIMEOUT) as ds:
        r150 = c.expect("RETR " + name, 150)
        data = read_all(ds)
    return data, r150, c.reply()
