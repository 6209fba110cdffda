"""Client names in DNS with an established DNS server on the other side (issue 20): Knot.

- Pigeon's own zones, signed (`[zone] dnssec = on`) with Knot as their secondary
  (`dnssec-validation: on`, so Knot checks every signature of each version it takes): a
  DHCP client's A, DHCID and PTR are signed at once (dnspython verifies the RRSIGs against
  the zone's DNSKEY), journaled and sent to Knot by NOTIFY and IXFR (incremental: Pigeon's
  log says so, Knot's never "AXFR-style"), answered by Knot, and gone from Knot after the
  client's RELEASE. Each zone is signed once at the start and once per change.
- A remote server instead ([dhcp] ddns_server + ddns_key): Knot is the primary of the zones
  and accepts UPDATE only with the TSIG key; the names go there by RFC 2136, and go again
  on RELEASE.
"""
import re
import subprocess
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

import dns_auth_helpers as A
import pigeon_harness as H
from test_dhcp import (REV, REV_TEXT, SERVER, ZONE, ZONE_TEXT, dhcp_daemon, dora,  # noqa: F401
                       finish, net, probe, start)

KNOT_HEAD = """server:
    listen: 127.0.0.1@{port}
    rundir: {dir}
log:
  - target: {dir}/knot.log
    any: info
database:
    storage: {dir}
key:
  - id: {key}
    algorithm: hmac-sha256
    secret: {secret}
remote:
  - id: pigeon
    address: 127.0.0.1@{primary}
acl:
  - id: notify_from_pigeon
    address: 127.0.0.1
    action: notify
  - id: ddns
    key: {key}
    action: update
template:
  - id: default
    storage: {dir}
    zonefile-sync: -1
    journal-content: changes
zone:
"""
KNOT_SECONDARY = """  - domain: {zone}.
    file: {dir}/{zone}.zone
    master: pigeon
    acl: notify_from_pigeon
    dnssec-validation: on
"""
KNOT_PRIMARY = """  - domain: {zone}.
    file: {dir}/{zone}.zone
    acl: ddns
"""


class Knot:
    """knotd serving ZONE and REV: as Pigeon's secondary (primary_port), or as the primary
    that takes TSIG-signed UPDATEs (primary_port None)."""

    def __init__(self, root, primary_port=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = H.free_port()
        text = KNOT_HEAD.format(port=self.port, dir=self.root, key=A.KEY_NAME,
                                secret=A.KEY_SECRET, primary=primary_port or 1)
        for zone, body in ((ZONE, ZONE_TEXT), (REV, REV_TEXT)):
            if primary_port:
                text += KNOT_SECONDARY.format(zone=zone, dir=self.root)
            else:
                (self.root / (zone + ".zone")).write_text(body)
                text += KNOT_PRIMARY.format(zone=zone, dir=self.root)
        self.conf = self.root / "knot.conf"
        self.conf.write_text(text)
        self.proc = None

    def start(self):
        self.out = open(self.root / "stderr.log", "wb")
        self.proc = subprocess.Popen([A.tool("knotd"), "-c", str(self.conf)],
                                       stdout=self.out, stderr=subprocess.STDOUT)
        return self

    def log(self):
        return "".join((self.root / f).read_text(errors="replace")
                       for f in ("knot.log", "stderr.log") if (self.root / f).exists())

    def transfers(self, zone, kind):
        return len(re.findall(r"\[%s\.\] %s, incoming, remote [^,]+, finished"
                              % (re.escape(zone), kind), self.log()))

    def close(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.out.close()
            self.proc = None


def ask(port, name, rtype):
    return A.query(port, name, rtype, tcp=True, want_dnssec=True, use_edns=0, payload=4096)


def rrset(r, name, rtype, covers=None):
    qn = dns.name.from_text(name)
    if covers is None:
        return r.get_rrset(r.answer, qn, dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
    return r.get_rrset(r.answer, qn, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.from_text(covers))


def verified(port, zone, name, rtype):
    """name's rtype RRset from port, its RRSIG verified against the zone's DNSKEY (itself
    verified); None while the name has no such RRset."""
    origin = dns.name.from_text(zone)
    kr = ask(port, zone, "DNSKEY")
    keys = rrset(kr, zone, "DNSKEY")
    dns.dnssec.validate(keys, rrset(kr, zone, "RRSIG", "DNSKEY"), {origin: keys})
    r = ask(port, name, rtype)
    got = rrset(r, name, rtype)
    if got is None:
        return None
    dns.dnssec.validate(got, rrset(r, name, "RRSIG", rtype), {origin: keys})
    return sorted(rr.to_text() for rr in got)


def test_names_signed_journaled_and_sent_to_knot(tmp_path, net):
    d = dhcp_daemon(tmp_path)
    knot = Knot(tmp_path / "knot", d.dns_port)
    for zone in (ZONE, REV):
        d.sections["zone " + zone].update(dnssec="on", allow_transfer="127.0.0.0/8",
                                           notify="127.0.0.1:%d" % knot.port)
    d.write_conf()
    start(d)
    knot.start()
    try:
        for zone in (ZONE, REV):
            A.wait_for(lambda: A.serial(knot.port, zone) == A.serial(d.dns_port, zone), 60,
                       "Knot to take %s\n%s" % (zone, knot.log()))
        s0 = A.serial(d.dns_port, ZONE)
        off = d.log_size()
        _, ack = dora(net, "52:54:00:aa:05:01", hostname="signed1")
        addr = ack["yiaddr"]
        rev = ".".join(reversed(addr.split("."))) + ".in-addr.arpa."
        fq = "signed1." + ZONE + "."
        A.wait_for(lambda: verified(d.dns_port, ZONE, fq, "A") == [addr], 30,
                   "Pigeon to serve signed1's A, signed")
        assert verified(d.dns_port, ZONE, fq, "DHCID")
        A.wait_for(lambda: verified(d.dns_port, REV, rev, "PTR") == [fq], 30,
                   "Pigeon to serve signed1's PTR, signed")
        s1 = A.serial(d.dns_port, ZONE)
        assert s1 > s0
        A.wait_for(lambda: A.serial(knot.port, ZONE) == s1, 60,
                   "Knot to take serial %d\n%s" % (s1, knot.log()))
        d.wait_log(r"IXFR of %s\. \(serial \d+, incremental\)" % re.escape(ZONE), start=off)
        assert knot.transfers(ZONE, "IXFR") >= 1 and "AXFR-style" not in knot.log(), knot.log()
        assert verified(knot.port, ZONE, fq, "A") == [addr]
        A.wait_for(lambda: verified(knot.port, REV, rev, "PTR") == [fq], 60,
                   "Knot to serve signed1's PTR\n%s" % knot.log())
        # the client's RELEASE takes the name out, on the secondary too
        probe(net, dict(op="release", mac="52:54:00:aa:05:01", ciaddr=addr, server_id=SERVER,
                        expect=False))
        A.wait_for(lambda: ask(knot.port, fq, "A").rcode() == dns.rcode.NXDOMAIN, 60,
                   "signed1 gone from Knot\n%s" % knot.log())
        A.wait_for(lambda: ask(knot.port, rev, "PTR").rcode() == dns.rcode.NXDOMAIN, 60,
                   "signed1's PTR gone from Knot\n%s" % knot.log())
        assert "AXFR-style" not in knot.log()
        # each zone was signed at the start and once for each change, nothing more (the two
        # zones' shared key directory once made them re-sign each other every second)
        for zone in (ZONE, REV):
            n = len(re.findall(r"dns: zone %s signed, serial" % re.escape(zone), d.log()))
            assert n == 3, (zone, n)
    finally:
        knot.close()
    finish(d)


def test_remote_server_updated_with_tsig(tmp_path, net):
    """[dhcp] ddns_server = Knot, ddns_key = a key Knot requires for UPDATE: Pigeon serves no
    zone of its own here, and the names appear in Knot's zones and leave them on RELEASE."""
    knot = Knot(tmp_path / "knot").start()
    try:
        d = dhcp_daemon(tmp_path, dhcp={"ddns_server": "127.0.0.1:%d" % knot.port,
                                        "ddns_key": A.KEY_NAME})
        for zone in (ZONE, REV):
            del d.sections["zone " + zone]
        d.write_conf()
        A.wait_for(lambda: A.serial(knot.port, ZONE) == 1, 30, "Knot up\n%s" % knot.log())
        start(d)
        _, ack = dora(net, "52:54:00:aa:06:01", hostname="remote1")
        addr = ack["yiaddr"]
        fq = "remote1." + ZONE + "."
        rev = ".".join(reversed(addr.split("."))) + ".in-addr.arpa."
        A.wait_for(lambda: [rr.to_text() for rr in rrset(ask(knot.port, fq, "A"), fq, "A")
                            or []] == [addr], 30, "remote1's A at Knot\n%s" % knot.log())
        assert rrset(ask(knot.port, fq, "DHCID"), fq, "DHCID")
        A.wait_for(lambda: [rr.to_text() for rr in rrset(ask(knot.port, rev, "PTR"), rev, "PTR")
                            or []] == [fq], 30, "remote1's PTR at Knot\n%s" % knot.log())
        assert A.serial(knot.port, ZONE) > 1
        # an UPDATE without the key is refused by Knot: the key is what let Pigeon's in
        rc, out = A.nsupdate(knot.port, ZONE, ["update add intruder.%s 300 A 10.77.0.9" % ZONE],
                             key=False)
        assert ask(knot.port, "intruder." + ZONE, "A").rcode() == dns.rcode.NXDOMAIN, out
        probe(net, dict(op="release", mac="52:54:00:aa:06:01", ciaddr=addr, server_id=SERVER,
                        expect=False))
        A.wait_for(lambda: ask(knot.port, fq, "A").rcode() == dns.rcode.NXDOMAIN, 30,
                   "remote1 gone from Knot\n%s" % knot.log())
        A.wait_for(lambda: ask(knot.port, rev, "PTR").rcode() == dns.rcode.NXDOMAIN, 30,
                   "remote1's PTR gone from Knot\n%s" % knot.log())
        finish(d)
    finally:
        knot.close()
