"""Issue 10 item 2: connections that never log in must not lock everyone out.

Sessions of services that need a login (POP3, IMAP, submission) have a login timeout of
their own ([server] login_timeout: NOOP before login does not extend it) and a cap of their
own ([server] max_prelogin_connections); an address is limited over all services ([server]
max_connections_per_ip; IPv6 by /64: tests/unit/test_connlimit.c and test_ipv6_counted_per_64
here, from fd00:1::/64 addresses the test adds to lo in the suite's namespace); and a
connection's places are given back the moment it closes, so a client that reconnects at once
(smtp-source -s 20 at a limit of 20) is not refused. Flood connections come from many
addresses of 127.0.0.0/8 (every one of them is local on Linux)."""
import socket
import subprocess
import time

from imap_helpers import RawIMAP
from pop3_helpers import deliver

import delivery_env as E
import pigeon_harness as H


def connect_from(src, port):
    """A connection to 127.0.0.1:port from address src; returns (socket, greeting line)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(H.IO_TIMEOUT)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    f = s.makefile("rb")
    return s, f.readline()


def test_prelogin_flood_leaves_logged_in_users_and_smtp(new_daemon):
    d = new_daemon(server={"max_prelogin_connections": 100, "login_timeout": 120},
                   imap={"max_connections_per_ip": 20})
    with RawIMAP(d.imap_port) as user:
        user.login()
        user.ok("SELECT INBOX")
        flood, greetings = [], []
        try:
            # 300 connections that never log in, 5 from each of 60 addresses.
            for i in range(300):
                s, greeting = connect_from("127.10.%d.%d" % (i // 5 // 250, 1 + i // 5 % 250),
                                           d.imap_port)
                flood.append(s)
                greetings.append(greeting)
            ok = sum(g.startswith(b"* OK") for g in greetings)
            bye = sum(g.startswith(b"* BYE") for g in greetings)
            assert (ok, bye) == (100, 200), (ok, bye, greetings[:3], greetings[-3:])
            # The logged-in user goes on, and mail from another address still comes in.
            user.ok("NOOP")
            deliver(d, "bob@hamburger.edu", "Subject: during the flood\r\n\r\nhello\r\n")
            untagged = user.ok("NOOP")
            assert any(b"EXISTS" in u for u in untagged), untagged
        finally:
            for s in flood:
                s.close()
    # The flood's places are free again: a new user logs in.
    def login():
        try:
            with RawIMAP(d.imap_port) as c:
                c.login()
                return True
        except (AssertionError, H.Closed, OSError):
            return False
    E.wait_for(login, what="an IMAP login once the flood has gone")


def test_login_timeout_not_extended_by_noop(new_daemon):
    d = new_daemon(server={"login_timeout": 2}, imap={})
    with RawIMAP(d.imap_port) as user, RawIMAP(d.imap_port) as idle:
        user.login()
        # NOOP before login keeps the connection busy, but the login timeout still ends it.
        got = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            idle.send(b"n NOOP\r\n")
            try:
                ln = idle.line()
            except H.Closed:
                break
            got = ln
            if ln.startswith(b"* BYE"):
                break
        assert got.startswith(b"* BYE"), got
        # Logged in longer than the login timeout: not cut.
        user.ok("NOOP")


def test_per_address_limit_over_all_services(new_daemon):
    d = new_daemon(server={"max_connections_per_ip": 10},
                   smtp={"max_connections_per_ip": 8},
                   imap={"max_connections_per_ip": 8}, pop3={"max_connections_per_ip": 8})
    held = []
    try:
        for port in [d.imap_port] * 6 + [d.pop3_port] * 4:
            s, greeting = connect_from("127.20.0.1", port)
            held.append(s)
            assert greeting.startswith((b"* OK", b"+OK")), greeting
        # The eleventh connection from that address, to a third service, is refused...
        s, greeting = connect_from("127.20.0.1", d.smtp_port)
        held.append(s)
        assert greeting.startswith(b"421 4.7.0"), greeting
        # ...while another address is not.
        s, greeting = connect_from("127.20.0.2", d.smtp_port)
        held.append(s)
        assert greeting.startswith(b"220 "), greeting
    finally:
        for s in held:
            s.close()


def test_smtp_source_reconnecting_at_the_limit(new_daemon):
    """smtp-source -s 20 reconnects as soon as it has QUIT's reply: at a limit of 20 it used
    to get 421 after about 48 messages, the closing connections still counted."""
    d = new_daemon(smtp={"max_connections_per_ip": 20, "spf": "off"})
    p = subprocess.run(["smtp-source", "-s", "20", "-m", "200", "-f", "alice@crepes.fr",
                        "-t", "bob@hamburger.edu", "127.0.0.1:%d" % d.smtp_port],
                       capture_output=True, timeout=600)
    assert p.returncode == 0 and b"421" not in p.stderr + p.stdout, p.stderr[-500:]
    E.wait_for(lambda: len(d.messages()) == 200, timeout=60, what="200 messages in bob's INBOX")


def _ip6(*addrs):
    for a in addrs:
        subprocess.run(["ip", "-6", "addr", "add", a + "/64", "dev", "lo", "nodad"],
                       check=False, capture_output=True)
        assert a in subprocess.run(["ip", "-6", "addr", "show", "dev", "lo"],
                                   capture_output=True, text=True).stdout, a


def test_ipv6_counted_per_64(new_daemon):
    """[server] max_connections_per_ip counts an IPv6 client by its /64: five addresses of one
    /64 share three places, while an address of another /64 has its own (the suite runs in its
    own network namespace, so these addresses are the test's own)."""
    _ip6("fd00:1::100", "fd00:1::1", "fd00:1::2", "fd00:1::3", "fd00:1::4", "fd00:1::5",
         "fd00:2::1")
    # the server-wide count is never below a service's own limit: both are 3 here
    d = new_daemon(start=False, server={"max_connections_per_ip": 3},
                   smtp={"max_connections_per_ip": 3})
    d.sections["smtp"]["listen"] = ["127.0.0.1:%d" % d.smtp_port, "[fd00:1::100]:%d" % d.smtp_port]
    d.write_conf()
    d.start()

    def from6(src):
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(H.IO_TIMEOUT)
        s.bind((src, 0))
        s.connect(("fd00:1::100", d.smtp_port))
        return s, s.makefile("rb").readline()

    held = []
    try:
        for src in ("fd00:1::1", "fd00:1::2", "fd00:1::3"):
            s, greeting = from6(src)
            held.append(s)
            assert greeting.startswith(b"220 "), (src, greeting)
        for src in ("fd00:1::4", "fd00:1::5"):   # other addresses, the same /64: full
            s, greeting = from6(src)
            held.append(s)
            assert greeting.startswith(b"421 4.7.0"), (src, greeting)
        s, greeting = from6("fd00:2::1")          # another /64 is not affected
        held.append(s)
        assert greeting.startswith(b"220 "), greeting
    finally:
        for s in held:
            s.close()
