"""Helpers for the IMAP integration tests: a raw IMAP client that keeps the exact bytes of
responses (literals included), SMTP delivery, and imaplib conveniences."""

import imaplib
import re
import smtplib
import socket
import ssl
import time

import pigeon_harness as H

LITERAL_END = re.compile(rb"\{(\d+)\+?\}\r\n$")


class RawIMAP:
    """Sends exactly the bytes it is told to; reads responses with their literals."""

    def __init__(self, port, tls=False, timeout=H.IO_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls:
            self.sock = H.unverified_context().wrap_socket(self.sock)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.n = 0
        self.greeting = self.line()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise H.Closed("connection closed by server")
        self.buf += chunk

    def line(self):
        """One response line with its CRLF, literals inlined (bytes)."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            part, self.buf = self.buf.split(b"\r\n", 1)
            out += part + b"\r\n"
            m = LITERAL_END.search(out)
            if not m:
                return out
            want = int(m.group(1))
            while len(self.buf) < want:
                self._fill()
            out += self.buf[:want]
            self.buf = self.buf[want:]

    def cmd(self, text, tag=None):
        """Sends "<tag> text", returns (tagged line str, [untagged lines bytes])."""
        self.n += 1
        tag = tag or "t%d" % self.n
        self.send("%s %s\r\n" % (tag, text) if isinstance(text, str)
                  else tag.encode() + b" " + text + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        untagged = []
        while True:
            ln = self.line()
            if ln.startswith(tag.encode() + b" "):
                return ln.decode("utf-8", "replace").rstrip("\r\n"), untagged
            untagged.append(ln)

    def ok(self, text):
        tagged, untagged = self.cmd(text)
        assert " OK" in tagged, "%s -> %s %r" % (text, tagged, untagged)
        return untagged

    def login(self, user="bob", password="hungry"):
        return self.ok("LOGIN %s %s" % (user, password))

    def quiet(self, timeout=0.5):
        """True when nothing arrives within timeout."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(H.IO_TIMEOUT)
        self.buf += data
        return not data and False

    def closed(self, timeout=30.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def imap(daemon, user="bob", password="hungry", tls=False):
    """A logged-in imaplib client."""
    if tls:
        m = imaplib.IMAP4_SSL("127.0.0.1", daemon.imaps_port,
                              ssl_context=H.unverified_context(), timeout=H.IO_TIMEOUT)
    else:
        m = imaplib.IMAP4("127.0.0.1", daemon.imap_port, timeout=H.IO_TIMEOUT)
    if user:
        m.login(user, password)
    return m


def smtp_deliver(daemon, rcpt, data, sender="alice@crepes.fr"):
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=H.IO_TIMEOUT) as s:
        s.sendmail(sender, [rcpt], data)


def uids(m, criteria="ALL"):
    typ, data = m.uid("SEARCH", None, criteria)
    assert typ == "OK", data
    return [int(x) for x in data[0].split()]


def fetch_flags(m, uid):
    typ, data = m.uid("FETCH", str(uid), "(FLAGS)")
    assert typ == "OK", data
    text = b" ".join(d if isinstance(d, bytes) else d[0] for d in data if d)
    flags = re.search(rb"FLAGS \(([^)]*)\)", text)
    return set(flags.group(1).decode().split()) if flags else None


def make_msg(subject, body="hello\r\n", sender="Alice <alice@crepes.fr>",
             to="bob@hamburger.edu", date="Mon, 7 Jul 2025 10:00:00 +0200", extra=""):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n%s\r\n%s" % (
        sender, to, subject, date, extra, body)).encode()


def fresh_mailbox(daemon, prefix, count=3):
    """Creates a mailbox with a unique name holding count small messages; returns the name."""
    name = "%s%d" % (prefix, int(time.monotonic() * 1000000))
    m = imap(daemon)
    m.create(name)
    for i in range(count):
        m.append(name, None, None, make_msg("%s %d" % (prefix.lower(), i)))
    m.logout()
    return name
