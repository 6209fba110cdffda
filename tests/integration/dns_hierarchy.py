"""A simulated DNS hierarchy on loopback addresses 127.0.53.x, port 53 (tests run as root).

    127.0.53.1   root "."            Debian's NSD
    127.0.53.2   edu.                pigeond
    127.0.53.3   fr.                 Debian's NSD
    127.0.53.4   hamburger.edu.      pigeond (also serves glueless.fr, whose NS has no glue)
    127.0.53.5   dns2.hamburger.edu  a dead server: receives, never answers
    127.0.53.6   crepes.fr.          pigeond
    127.0.53.66  drevil.fr.          a forger (dnspython) that adds out-of-bailiwick records

Each real server listens on port 5353 of its address; on port 53 a Wiretap (UDP and TCP)
forwards every query to it and records what was asked, so tests can count the queries that
reached each level and see their exact QNAMEs (QNAME minimisation).
"""

import os
import selectors
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.rrset

import pigeon_harness as H

ROOT, EDU, FR, HAMBURGER, DEAD, CREPES, DREVIL = (
    "127.0.53.1", "127.0.53.2", "127.0.53.3", "127.0.53.4", "127.0.53.5", "127.0.53.6",
    "127.0.53.66")
BACKEND_PORT = 5353

SOA = "SOA ns hostmaster 1 3600 600 86400 %d"

ZONES = {
    ".": (ROOT, """$TTL 86400
@ IN SOA a.root.test. hostmaster.root.test. 1 3600 600 86400 3600
@ NS a.root.test.
a.root.test. A 127.0.53.1
edu. 172800 NS a.edu-servers.test.
a.edu-servers.test. A 127.0.53.2
fr. 172800 NS ns1.nic.fr.
ns1.nic.fr. A 127.0.53.3
"""),
    "edu": (EDU, """$ORIGIN edu.
$TTL 86400
@ SOA a.edu-servers.test. hostmaster.edu. 1 3600 600 86400 900
@ NS a.edu-servers.test.
hamburger 86400 NS dns.hamburger
hamburger 86400 NS dns2.hamburger
dns.hamburger A 127.0.53.4
dns2.hamburger A 127.0.53.5
"""),
    "fr": (FR, """$ORIGIN fr.
$TTL 86400
@ SOA ns1.nic.fr. hostmaster.nic.fr. 1 3600 600 86400 900
@ NS ns1.nic.fr.
ns1.nic A 127.0.53.3
crepes NS ns.crepes
ns.crepes A 127.0.53.6
glueless NS ns.hamburger.edu.
drevil NS ns.drevil
ns.drevil A 127.0.53.66
"""),
    "hamburger.edu": (HAMBURGER, """$ORIGIN hamburger.edu.
$TTL 3600
@ SOA dns hostmaster 1 3600 600 86400 300
@ NS dns
@ NS dns2
@ MX 10 mail
dns A 127.0.53.4
dns2 A 127.0.53.5
ns A 127.0.53.4
mail A 127.0.0.25
www 12 A 127.0.0.80
short 2 A 127.0.0.81
web CNAME www.crepes.fr.
alias CNAME web
big TXT "%s"
big TXT "%s"
big TXT "%s"
big TXT "%s"
big TXT "%s"
big TXT "%s"
a.b.c.d.deep A 127.0.0.82
*.wild A 127.0.0.91
""" % tuple(("%d" % i) * 250 for i in range(6))),
    "glueless.fr": (HAMBURGER, """$ORIGIN glueless.fr.
$TTL 3600
@ SOA ns.hamburger.edu. hostmaster 1 3600 600 86400 300
@ NS ns.hamburger.edu.
www A 127.0.0.83
"""),
    "crepes.fr": (CREPES, """$ORIGIN crepes.fr.
$TTL 3600
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
@ MX 20 mx2
@ MX 10 mx1
@ MX 30 mx3
ns A 127.0.53.6
www A 127.0.0.90
mx1 A 127.0.53.101
mx2 A 127.0.53.102
mx3 A 127.0.53.103
nomx A 127.0.53.104
nullmx MX 0 .
"""),
}


class Wiretap:
    """Port 53 of addr: forwards UDP and TCP queries to backend (port 5353) and logs them.
    `asked` is a list of (qname, qtype name, transport) in arrival order."""

    def __init__(self, addr, backend_port=BACKEND_PORT):
        self.addr = addr
        self.backend = (addr, backend_port)
        self.asked = []
        self.lock = threading.Lock()
        self.stop = False
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.udp.bind((addr, 53))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, 53))
        self.tcp.listen(16)
        self.threads = [threading.Thread(target=self._udp_loop, daemon=True),
                        threading.Thread(target=self._tcp_loop, daemon=True)]
        for t in self.threads:
            t.start()

    def _log(self, wire, transport):
        try:
            q = dns.message.from_wire(wire)
            name = q.question[0].name.to_text()
            rtype = dns.rdatatype.to_text(q.question[0].rdtype)
        except Exception:
            name, rtype = "?", "?"
        with self.lock:
            self.asked.append((name, rtype, transport))

    def _udp_loop(self):
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self._log(data, "udp")
            threading.Thread(target=self._udp_forward, args=(data, peer), daemon=True).start()

    def _udp_forward(self, data, peer):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(data, self.backend)
            try:
                resp = s.recv(65535)
            except socket.timeout:
                return
            try:
                self.udp.sendto(resp, peer)
            except OSError:
                pass

    def _tcp_loop(self):
        self.tcp.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_conn, args=(c,), daemon=True).start()

    def _tcp_conn(self, c):
        with c, socket.create_connection(self.backend, timeout=5) as b:
            c.settimeout(5)
            try:
                while True:
                    msg = _read_tcp_msg(c)
                    if msg is None:
                        return
                    self._log(msg, "tcp")
                    b.sendall(struct.pack("!H", len(msg)) + msg)
                    resp = _read_tcp_msg(b)
                    if resp is None:
                        return
                    c.sendall(struct.pack("!H", len(resp)) + resp)
            except OSError:
                return

    def count(self, name=None, rtype=None):
        with self.lock:
            return sum(1 for n, t, _ in self.asked
                       if (name is None or n.lower() == name.lower()) and
                       (rtype is None or t == rtype))

    def names(self):
        with self.lock:
            return [n.lower() for n, _, _ in self.asked]

    def close(self):
        self.stop = True
        for s in (self.udp, self.tcp):
            try:
                s.close()
            except OSError:
                pass
        for t in self.threads:
            t.join(1)


def _read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _read_tcp_msg(s):
    head = _read_exact(s, 2)
    if head is None:
        return None
    return _read_exact(s, struct.unpack("!H", head)[0])


class BlackHole:
    """A dead server: UDP and TCP on port 53 of addr, counts queries, never answers."""

    def __init__(self, addr):
        self.received = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, 53))
        self.stop = False
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                self.udp.recvfrom(65535)
                self.received += 1
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop = True
        self.udp.close()
        self.t.join(1)


class Forger:
    """drevil.fr's server: answers every question about drevil.fr truthfully enough, but adds
    an NS for hamburger.edu and addresses for www.hamburger.edu and dns.hamburger.edu in the
    additional section (the textbook's cache-poisoning attempt)."""

    EVIL = "6.6.6.6"

    def __init__(self, addr=DREVIL):
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, 53))
        self.stop = False
        self.asked = 0
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _answer(self, q):
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        qn = q.question[0].name
        r.answer.append(dns.rrset.from_text(qn, 300, "IN", "A", "127.0.0.66"))
        r.authority.append(dns.rrset.from_text("hamburger.edu.", 86400, "IN", "NS",
                                               "ns.drevil.fr."))
        r.authority.append(dns.rrset.from_text("drevil.fr.", 86400, "IN", "NS", "ns.drevil.fr."))
        for n in ("www.hamburger.edu.", "dns.hamburger.edu.", "ns.drevil.fr."):
            r.additional.append(dns.rrset.from_text(n, 86400, "IN", "A", self.EVIL))
        return r

    def _loop(self):
        self.udp.settimeout(0.2)
        while not self.stop:
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.asked += 1
            try:
                q = dns.message.from_wire(data)
                self.udp.sendto(self._answer(q).to_wire(), peer)
            except Exception:
                pass

    def close(self):
        self.stop = True
        self.udp.close()
        self.t.join(1)


def _nsd_conf(d, addr, port, origin, zone_file):
    return """server:
    ip-address: %s@%d
    port: %d
    zonesdir: "%s"
    pidfile: "%s/nsd.pid"
    database: ""
    username: ""
    chroot: ""
    logfile: "%s/nsd.log"
    xfrdfile: "%s/xfrd.state"
    xfrdir: "%s"
    zonelistfile: "%s/zone.list"
    verbosity: 1
    do-ip6: no
    server-count: 1
remote-control:
    control-enable: no
zone:
    name: "%s"
    zonefile: "%s"
""" % (addr, port, port, d, d, d, d, d, d, origin, zone_file)


def wait_udp(addr, port, timeout=20.0):
    deadline = time.monotonic() + timeout
    q = dns.message.make_query(".", "SOA")
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(q.to_wire(), (addr, port))
                s.recv(65535)
                return True
            except OSError:
                time.sleep(0.1)
    raise AssertionError("no DNS server on %s:%d" % (addr, port))


class Hierarchy:
    """Starts every server; `taps[addr]` are the wiretaps."""

    def __init__(self, root, tap=True):
        """tap=False: the servers listen on port 53 themselves (no wiretaps, for benchmarks)."""
        self.root = Path(root)
        self.port = BACKEND_PORT if tap else 53
        self.daemons = []
        self.taps = {}
        self.nsds = []
        self.others = []
        self.dead = self.forger = None
        try:
            self._start(tap)
        except BaseException:
            self.close()  # nothing left running when a port is taken
            raise

    def _start(self, tap):
        zdir = self.root / "zones"
        zdir.mkdir(parents=True, exist_ok=True)
        by_addr = {}
        for origin, (addr, text) in ZONES.items():
            fname = zdir / ("root.zone" if origin == "." else origin + ".zone")
            fname.write_text(text)
            by_addr.setdefault(addr, []).append((origin, str(fname)))
        self.hints = self.root / "root.hints"
        self.hints.write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A %s\n" % ROOT)
        for addr, zones in by_addr.items():
            if addr in (FR, ROOT):
                self._start_nsd(addr, zones[0][0], zones[0][1])
            else:
                self._start_pigeond(addr, zones)
        for addr in (ROOT, EDU, FR, HAMBURGER, CREPES):
            wait_udp(addr, self.port)
            if tap:
                self.taps[addr] = Wiretap(addr)
        self.dead = BlackHole(DEAD)
        self.forger = Forger()

    def _start_pigeond(self, addr, zones):
        d = H.Daemon(self.root / ("auth-" + addr), name="auth[%s]" % addr)
        d.sections["dns"] = {"listen": "%s:%d" % (addr, self.port)}
        for origin, path in zones:
            d.sections["zone " + origin] = {"file": path}
        d.write_conf()
        d.setup()
        d.start()
        self.daemons.append(d)

    def _start_nsd(self, addr, origin, zone_file):
        d = self.root / ("nsd-" + addr)
        d.mkdir(exist_ok=True)
        conf = d / "nsd.conf"
        conf.write_text(_nsd_conf(d, addr, self.port, origin, zone_file))
        log = open(d / "stderr.log", "wb")
        self.others.append(log)
        self.nsds.append(subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=log,
                                          stderr=subprocess.STDOUT))

    def reset_counts(self):
        for t in self.taps.values():
            with t.lock:
                t.asked.clear()

    def total(self):
        return sum(t.count() for t in self.taps.values())

    def close(self):
        for t in self.taps.values():
            t.close()
        for x in (self.dead, self.forger):
            if x:
                x.close()
        for p in self.nsds:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in self.others:
            f.close()
        for d in self.daemons:
            d.stop()


def have_nsd():
    return shutil.which("nsd") is not None


def resolver_daemon(root, hints, allow="127.0.0.1/32 ::1", extra=None, internal=False):
    """A pigeond whose [resolver] walks the test hierarchy; returns it (not started)."""
    d = H.Daemon(Path(root), name="resolver")
    port = H.free_port()
    d.resolver_port = port
    d.sections["resolver"] = {"listen": "127.0.0.1:%d" % port, "allow": allow,
                              "root_hints": str(hints)}
    d.sections["resolver"].update(extra or {})
    if internal:
        d.sections["delivery"]["resolver"] = "internal"
    d.ports.append(port)
    d.write_conf()
    return d
