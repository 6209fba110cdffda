"""Incremental zone transfers of a signed zone (`[zone] dnssec = on`) to Knot as a secondary.

Knot (knotd) transfers the zone from pigeond with `dnssec-validation: on`, so it checks every
signature and the NSEC/NSEC3 chain of each version it takes, whole or incremental. After the
first AXFR, each change on pigeond reaches Knot as an IXFR -- Knot's log says "IXFR,
incoming ... finished" and never "AXFR-style", pigeond's says "incremental" -- and the
differences hold only what changed:

- an UPDATE adding a name (its RRset, RRSIG, the NSEC/NSEC3 records around it), and one
  deleting an RRset;
- a reload of an edited zone file with a higher serial;
- a restart of pigeond (the version served at the stop is kept with its signatures; the
  start signs again with a higher serial and sends NOTIFY);

(A key pre-published by `pigeon dnssec rollover` is left out: Knot's validation wants every
RRset signed by every published key, which RFC 6781 pre-publication does not do; ldns-verify-zone
and RFC 4035 accept it.) Then `dig @knot` shows the new record with an RRSIG that dnspython verifies with the zone's
DNSKEY, and Knot's copy of the zone, written to its file, passes kzonecheck and
ldns-verify-zone.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_dnssec_ixfr.py
"""

import re
import subprocess
from pathlib import Path

import dns.dnssec
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype
import pytest

import dns_auth_helpers as DH
import pigeon_harness as H
from dnssec_helpers import ZONE

ORIGIN = dns.name.from_text("example.")

KNOT_CONF = """server:
    listen: 127.0.0.1@{port}
    rundir: {dir}
log:
  - target: {dir}/knot.log
    any: info
database:
    storage: {dir}
remote:
  - id: pigeon
    address: 127.0.0.1@{primary}
acl:
  - id: notify_from_pigeon
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: {dir}
    zonefile-sync: 0
    journal-content: changes
zone:
  - domain: example.
    file: {dir}/example.zone
    master: pigeon
    acl: notify_from_pigeon
    dnssec-validation: on
"""


class KnotSecondary:
    """knotd as a secondary of example. from pigeond on primary_port, NOTIFY accepted."""

    def __init__(self, root, primary_port):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = H.free_port()
        self.conf = self.root / "knot.conf"
        self.conf.write_text(KNOT_CONF.format(port=self.port, dir=self.root, primary=primary_port))
        self.proc = None
        self.out = None

    def start(self):
        self.out = open(self.root / "stderr.log", "wb")
        self.proc = subprocess.Popen([DH.tool("knotd"), "-c", str(self.conf)],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        return self

    def log(self):
        text = ""
        for f in ("knot.log", "stderr.log"):
            p = self.root / f
            if p.exists():
                text += p.read_text(errors="replace")
        return text

    def transfers(self, kind):
        """Knot's finished incoming transfers of that kind (AXFR or IXFR)."""
        return len(re.findall(r"\[example\.\] %s, incoming, remote [^,]+, finished" % kind,
                              self.log()))

    def close(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.out:
            self.out.close()


def ask(port, name, rtype):
    return DH.query(port, name, rtype, tcp=True, want_dnssec=True, use_edns=0, payload=4096)


def dnskeys(port):
    r = ask(port, "example.", "DNSKEY")
    keys = r.find_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    sig = r.find_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.DNSKEY)
    dns.dnssec.validate(keys, sig, {ORIGIN: keys})
    return keys


def signed_answer(port, name, rtype, keys):
    """The RRset from port with its RRSIG, verified with dnspython against keys."""
    r = ask(port, name, rtype)
    qname = dns.name.from_text(name)
    rrset = r.find_rrset(r.answer, qname, dns.rdataclass.IN, dns.rdatatype.from_text(rtype))
    sig = r.find_rrset(r.answer, qname, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.from_text(rtype))
    dns.dnssec.validate(rrset, sig, {ORIGIN: keys})
    return rrset


def ixfr_diff_size(port, since):
    """Records in pigeond's IXFR answer from serial `since` (dnspython reads it as a
    sequence of differences; the AXFR form would be the whole zone)."""
    n = 0
    for m in dns.query.xfr("127.0.0.1", "example.", rdtype="IXFR", serial=since, port=port,
                           timeout=10):
        n += sum(len(s) for s in m.answer)
    return n


@pytest.mark.parametrize("nsec3", ["off", "on"])
def test_signed_zone_changes_reach_knot_by_ixfr(tmp_path, nsec3):
    knot_port = H.free_port()
    d = DH.auth_daemon(tmp_path / "prim", {"example": ZONE}, zone_opts={"example": {
        "dnssec": "on",
        "dnssec_nsec3": nsec3,
        "allow_update": "key:" + DH.KEY_NAME,
        "allow_transfer": "127.0.0.0/8",
    }})
    knot = KnotSecondary(tmp_path / "knot", d.dns_port)
    d.sections["zone example"]["notify"] = "127.0.0.1:%d" % knot.port
    d.write_conf()
    d.start()
    knot.start()
    try:
        s0 = DH.serial(d.dns_port, "example")
        DH.wait_for(lambda: DH.serial(knot.port, "example") == s0, 30,
                    "Knot to take serial %d by AXFR\n%s" % (s0, knot.log()))
        assert knot.transfers("AXFR") == 1, knot.log()
        keys = dnskeys(knot.port)
        steps = 0

        def next_version(before, why):
            nonlocal steps
            steps += 1
            DH.wait_for(lambda: (DH.serial(d.dns_port, "example") or before) != before, 30,
                        "pigeond to sign a new version after " + why)
            now = DH.serial(d.dns_port, "example")
            DH.wait_for(lambda: DH.serial(knot.port, "example") == now, 30,
                        "Knot to take serial %d after %s\n%s" % (now, why, knot.log()))
            assert knot.transfers("IXFR") == steps, knot.log()
            assert knot.transfers("AXFR") == 1, knot.log()
            assert "AXFR-style" not in knot.log()
            assert "IXFR of example. (serial %d, incremental)" % now in d.log()
            return now

        # 1. an UPDATE adds a name
        rc, out = DH.nsupdate(d.dns_port, "example", ["update add new.example 300 A 192.0.2.99"])
        assert rc == 0, out
        s1 = next_version(s0, "an UPDATE")
        got = signed_answer(knot.port, "new.example.", "A", keys)
        assert [r.to_text() for r in got] == ["192.0.2.99"]
        # the difference is small: the new A and its RRSIG, two NSEC/NSEC3 with theirs in,
        # one with its RRSIG out, the SOA and its RRSIG in and out (4 SOAs frame it)
        assert ixfr_diff_size(d.dns_port, s0) <= 16
        # 2. an UPDATE removes an RRset
        rc, out = DH.nsupdate(d.dns_port, "example", ["update delete www.example AAAA"])
        assert rc == 0, out
        s2 = next_version(s1, "an UPDATE deleting www's AAAA")
        r = ask(knot.port, "www.example.", "AAAA")
        assert not r.answer and r.rcode() == 0
        # 3. the zone file edited, with a higher serial, and reloaded
        text = ZONE.replace(" 100 7200", " 9000 7200") + "reloaded IN TXT \"from the file\"\n"
        d.zone_files["example"].write_text(text)
        d.cli("dns", "reload")
        s3 = next_version(s2, "a reload")
        got = signed_answer(knot.port, "reloaded.example.", "TXT", keys)
        assert [r.to_text() for r in got] == ['"from the file"']
        # the reloaded file lacks the UPDATE's name: gone from the secondary too
        assert ask(knot.port, "new.example.", "A").rcode() == 3
        # 4. a restart: the version served at the stop was kept, its signatures too; the
        # new signed serial reaches Knot by NOTIFY and IXFR
        d.stop()
        d.start()
        s4 = next_version(s3, "a restart")
        assert ixfr_diff_size(d.dns_port, s3) <= 8  # the SOA and its RRSIG
        # Knot's copy, written to its file, is a complete, valid signed zone
        zf = knot.root / "example.zone"
        DH.wait_for(lambda: zf.exists() and " %d " % s4 in zf.read_text(), 30,
                    "Knot to write serial %d to its zone file" % s4)
        DH.run(["kzonecheck", "-o", "example.", "-d", "on", str(zf)])
        rc, out, err = DH.run(["ldns-verify-zone", str(zf)], check=False)
        assert rc == 0 and "Zone is verified and complete" in out + err, out + err
    finally:
        knot.close()
        report = DH.finish(d)
    assert report is None, report
