"""Outbound-delivery test bed: an authoritative DNS pigeond serving the test zones, a sending
pigeond (Alice, crepes.fr) whose [delivery] resolver is that DNS server, and remote MX hosts
(pigeonds or tests/integration/fake_smtp_server.py) on port 25 of their own 127.0.54.x address.

The mail side's stub asks the authoritative server directly (it answers its zones whatever RD
says), as textbook.py does without a recursive resolver. Needs root (ports 25 and 53).
"""
import os
import smtplib
import socket
import time
from pathlib import Path

import pigeon_harness as H

DNS_IP = "127.0.54.1"
ALICE_IP = "127.0.54.20"
ALICE = "alice@crepes.fr"
ALICE_PASSWORD = "crepes"

needs_root = os.geteuid() == 0


def zone(origin, body, ns_ip=DNS_IP):
    """A master file for `origin` with the SOA/NS boilerplate; body in the zone's origin."""
    return (f"$ORIGIN {origin}.\n$TTL 300\n@ SOA ns hostmaster 1 1800 900 604800 300\n"
            f"@ NS ns\nns A {ns_ip}\n{body}\n")


CREPES_ZONE = zone("crepes.fr", f'@ MX 10 mail\nmail A {ALICE_IP}\n'
                                f'@ TXT "v=spf1 ip4:{ALICE_IP} -all"')


def wait_for(fn, timeout=None, interval=0.2, what="condition"):
    """Polls fn() until it returns something true; returns that, or fails after timeout
    (pigeon_harness.wait_until)."""
    return H.wait_until(fn, timeout, what, interval)


class Node(H.Daemon):
    """A pigeond whose listeners are on given addresses (port 25/53/587 of 127.0.54.x) rather
    than the harness's free 127.0.0.1 ports. sections replaces the harness's [smtp],
    [submission] and [delivery] defaults; waits lists the (ip, port) to wait for at start."""

    def __init__(self, root, name, hostname, primary_domain, domains=(), users=None,
                 sections=None, waits=()):
        super().__init__(root, name=name, users=users or {}, domains=domains)
        self.sections = {"server": {"hostname": hostname, "primary_domain": primary_domain,
                                    "data_dir": self.data_dir, "log_level": "info",
                                    "workers": 1, "shutdown_timeout": 5}}
        for sec, keys in (sections or {}).items():
            self.sections.setdefault(sec, {}).update(keys)
        self.waits = list(waits)
        sub = self.sections.get("submission", {}).get("listen", "")
        if sub.startswith("127.0.0.1:"):
            self.sub_port = int(sub.rsplit(":", 1)[1])
        self.write_conf()

    def wait_ready(self, timeout=H.START_TIMEOUT):
        deadline = time.monotonic() + timeout
        for ip, port in self.waits:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError("%s exited with %s during start-up\n%s" % (
                        self.name, self.proc.returncode, self.log_tail()))
                try:
                    socket.create_connection((ip, port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("%s not listening on %s:%d\n%s" % (
                            self.name, ip, port, self.log_tail()))
                    time.sleep(0.05)
        self.wait_ready_line()

    # -- the outgoing queue
    def queue_entries(self):
        """`pigeon queue list` as dicts: id, sender, rcpt, attempts, state, error."""
        return self.queue_rows()

    def queue_show(self, entry_id):
        return self.cli("queue", "show", entry_id).stdout.decode("utf-8", "replace")

    def flush(self):
        self.cli("queue", "flush")

    # -- submission as Alice's mail client does it
    def submit(self, rcpts, message, sender=ALICE, password=ALICE_PASSWORD):
        s = smtplib.SMTP("127.0.0.1", self.sub_port, local_hostname="laptop.crepes.fr",
                         timeout=30)
        try:
            s.starttls(context=H.unverified_context())
            s.login(sender, password)
            refused = s.sendmail(sender, rcpts, message)
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                pass
        assert refused == {}, refused


def send_from(dest_ip, src, msg, sender, rcpt, helo="client.example"):
    """One SMTP transaction to dest_ip:25 from the local address src, as a remote MTA makes
    it; returns the reply to the data."""
    c = H.SMTPClient.__new__(H.SMTPClient)
    c.sock = socket.create_connection((dest_ip, 25), timeout=60, source_address=(src, 0))
    c.buf = b""
    c.greeting = c.reply()
    with c:
        c.ehlo(helo)
        c.expect("MAIL FROM:<%s>" % sender, "250")
        c.expect("RCPT TO:<%s>" % rcpt, "250")
        c.expect("DATA", "354")
        c.send(H.dot_stuff(msg) + b".\r\n")
        r = c.reply()
        c.cmd("QUIT")
    return r


def message(to, tag, sender=ALICE, extra=""):
    return ("From: Alice <%s>\r\nTo: <%s>\r\nSubject: test %s\r\nMessage-ID: <%s@crepes.fr>\r\n"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n%s\r\n"
            "Hello, this is %s.\r\n.leading dot line\r\n" % (sender, to, tag, tag, extra, tag)
            ).encode()


class Env:
    """Nodes of one test module (or one test), stopped and checked for sanitizer reports by
    close()."""

    def __init__(self, root):
        self.root = Path(root)
        self.nodes = []
        self.fakes = []

    def node(self, name, hostname, primary_domain, start=True, **kw):
        n = Node(self.root / name, "pigeond[%s]" % name, hostname, primary_domain, **kw)
        self.nodes.append(n)
        n.setup()
        if start:
            n.start()
        return n

    def dns(self, zones, ip=DNS_IP, name="dns"):
        """An authoritative-only pigeond serving zones {origin: master file text}."""
        zdir = self.root / (name + "-zones")
        zdir.mkdir(parents=True, exist_ok=True)
        sections = {"dns": {"listen": "%s:53" % ip}}
        for origin, text in zones.items():
            p = zdir / (origin + ".zone")
            p.write_text(text)
            sections["zone " + origin] = {"file": str(p)}
        return self.node(name, "ns." + name + ".test", "dns.test", sections=sections,
                         waits=[(ip, 53)])

    def mx(self, name, ip, domains, users, spf="reject", resolver=DNS_IP, extra=None,
           start=True):
        """A receiving pigeond (MX role only) on ip:25."""
        sections = {"smtp": {"listen": "%s:25" % ip, "spf": spf, "max_connections_per_ip": 100},
                    "delivery": {"resolver": "%s:53" % resolver}}
        for sec, keys in (extra or {}).items():
            sections.setdefault(sec, {}).update(keys)
        return self.node(name, "mail." + domains[0], domains[0], start=start, domains=domains,
                         users={u: "pw-" + u.split("@")[0] for u in users}, sections=sections,
                         waits=[(ip, 25)])

    def alice(self, name="alice", start=True, **delivery):
        """Alice's server: crepes.fr, submission on 127.0.0.1, outbound from ALICE_IP."""
        d = {"resolver": "%s:53" % DNS_IP, "source_address": ALICE_IP, "remote_port": 25,
             "retry_initial": 1, "scan_interval": 1, "connect_timeout": 5,
             "command_timeout": 10}
        d.update(delivery)
        port = H.free_port()
        return self.node(name, "mail.crepes.fr", "crepes.fr", start=start, domains=["crepes.fr"],
                         users={ALICE: ALICE_PASSWORD},
                         sections={"submission": {"listen": "127.0.0.1:%d" % port,
                                                  "max_connections_per_ip": 100},
                                   "delivery": d},
                         waits=[("127.0.0.1", port)])

    def fake(self, ip, **kw):
        from fake_smtp_server import FakeSMTPServer
        f = FakeSMTPServer(ip, **kw).start()
        self.fakes.append(f)
        return f

    def close(self):
        for f in self.fakes:
            f.stop()
        errors = []
        for n in reversed(self.nodes):
            try:
                n.stop()
            except AssertionError as e:
                errors.append(str(e))
            finally:
                n.kill9()
            rep = n.sanitizer_report()
            if rep:
                errors.append("sanitizer report in %s:\n%s" % (n.name, rep))
        return errors
