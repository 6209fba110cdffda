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
- the steps of a ZSK and then a KSK rollover (test_key_rollovers_reach_knot_by_ixfr);
- a periodic re-signing pass with no change of data, and a restart after a kill -9
  (test_periodic_resigning_and_crash_reach_knot_by_ixfr).

Then `dig @knot` shows the new record with an RRSIG that dnspython verifies with the zone's
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


def rrsig_inception(port, name, rtype):
    r = ask(port, name, rtype)
    sig = r.find_rrset(r.answer, dns.name.from_text(name), dns.rdataclass.IN,
                       dns.rdatatype.RRSIG, dns.rdatatype.from_text(rtype))
    return max(s.inception for s in sig)


def test_periodic_resigning_and_crash_reach_knot_by_ixfr(tmp_path):
    """A periodic re-signing pass, with no change to the data, reaches Knot as an IXFR (the
    new signatures and the SOA), and so does the first signing after a kill -9: the signed
    versions are journaled as they are made (DATA/dnssec/example.sjnl), so the restarted
    pigeond serves the version Knot holds and the history leading from it.

    dnssec_refresh makes a signature again when less than that is left of its validity: two
    days' validity with a refresh 20 seconds shorter re-signs the zone 20 s after each signing.
    """
    validity = 2 * 86400
    d = DH.auth_daemon(tmp_path / "prim", {"example": ZONE}, zone_opts={"example": {
        "dnssec": "on",
        "dnssec_validity": "2",
        "dnssec_refresh": str(validity - 20),
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
        keys = dnskeys(knot.port)
        made = rrsig_inception(knot.port, "www.example.", "A")
        # a re-signing pass: nothing changed but the signatures, and Knot takes it by IXFR
        d.wait_log(r"zone example signed, serial %d, .* [1-9]\d* signatures made" % (s0 + 1))
        DH.wait_for(lambda: (DH.serial(knot.port, "example") or 0) > s0, 30,
                    "Knot to take the re-signed version\n" + knot.log())
        assert rrsig_inception(knot.port, "www.example.", "A") > made
        signed_answer(knot.port, "www.example.", "A", keys)
        assert knot.transfers("IXFR") >= 1 and knot.transfers("AXFR") == 1, knot.log()
        assert (Path(d.data_dir) / "dnssec" / "example.sjnl").exists()
        # a crash: the restart serves the last version again, signs it anew, and Knot takes
        # that step by IXFR too
        d.kill9()
        before = DH.serial(knot.port, "example")
        start = d.log_size()
        d.start()
        d.wait_log(r"zone example: \d+ signed differences replayed, serial \d+ -> \d+",
                   start=start)
        DH.wait_for(lambda: (DH.serial(knot.port, "example") or 0) > before, 30,
                    "Knot to take the version signed after the restart\n" + knot.log())
        assert knot.transfers("AXFR") == 1 and "AXFR-style" not in knot.log(), knot.log()
        signed_answer(knot.port, "www.example.", "A", keys)
    finally:
        knot.close()
        report = DH.finish(d)
    assert report is None, report


def knot_key_tags(port):
    return {dns.dnssec.key_id(k) for k in dnskeys(port)}


def knot_signer_tags(port, name, rtype):
    r = ask(port, name, rtype)
    return {s.key_tag for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG for s in rr}


def test_key_rollovers_reach_knot_by_ixfr(tmp_path):
    """A ZSK pre-publication rollover and then a KSK rollover of a zone signed by a KSK and a
    ZSK, with 5-second TTLs (each state lasts that long, long enough for Knot to take it on a
    busy machine): each step -- the new key published, signing, the old one
    removed -- reaches the validating Knot secondary as an IXFR that it accepts.

    The zone's keys are a KSK and a ZSK here, as Knot's own default policy makes them. With a
    single CSK (Pigeon's default) Knot 3.2 refuses every version whose DNSKEY set holds a
    second key: its validation (kasp_zone_keys_from_rr, used by dnssec-validation and by
    `kzonecheck -d on`) takes a key with flags 257 for a ZSK only when the DNSKEY set has
    exactly one key, so with two CSKs no key may sign the zone's data and every RRset is
    "missing" its signature -- even in a zone every key signs. Knot fixed it in 3.4.0
    ("dnssec/validation: fix validation of two CSKs", CZ-NIC/knot 4647ac1f5); Debian 12 ships
    3.2.6. test_dnssec_auth.py's test_rollovers_stay_secure validates Pigeon's CSK rollover
    with delv at every step.
    """
    text = ZONE.replace("$TTL 3600", "$TTL 5").replace("1209600 300", "1209600 5")
    d = DH.auth_daemon(tmp_path / "prim", {"example": text}, zone_opts={"example": {
        "dnssec": "on", "allow_transfer": "127.0.0.0/8"}})
    keydir = Path(d.data_dir) / "dnssec"
    keydir.mkdir(mode=0o700, parents=True)
    for role in ("ksk", "zsk"):
        DH.run([str(H.PIGEON), "dnssec", "keygen", str(keydir), "example.", "ECDSAP256SHA256", role])
    knot = KnotSecondary(tmp_path / "knot", d.dns_port)
    d.sections["zone example"]["notify"] = "127.0.0.1:%d" % knot.port
    d.write_conf()
    d.start()
    knot.start()
    try:
        s0 = DH.serial(d.dns_port, "example")
        DH.wait_for(lambda: DH.serial(knot.port, "example") == s0, 30,
                    "Knot to take serial %d by AXFR\n%s" % (s0, knot.log()))
        (zsk,) = knot_signer_tags(knot.port, "www.example.", "A")
        (ksk,) = knot_signer_tags(knot.port, "example.", "DNSKEY")

        def knot_sees(cond, what):
            DH.wait_for(lambda: cond(), 60, "Knot to take %s by IXFR\n%s\n%s" %
                        (what, knot.log()[-3000:], d.log()[-3000:]))
            log = knot.log()
            assert knot.transfers("AXFR") == 1 and "AXFR-style" not in log, log
            assert "validation failed" not in log, log

        out = d.cli("dnssec", "rollover", "example", "zsk").stdout.decode()
        new_zsk = int(out.split()[2])
        knot_sees(lambda: knot_key_tags(knot.port) == {ksk, zsk, new_zsk}, "the new ZSK published")
        knot_sees(lambda: knot_signer_tags(knot.port, "www.example.", "A") == {new_zsk},
                  "signatures by the new ZSK")
        knot_sees(lambda: knot_key_tags(knot.port) == {ksk, new_zsk}, "the old ZSK removed")
        out = d.cli("dnssec", "rollover", "example", "ksk").stdout.decode()
        new_ksk = int(out.split()[2])
        knot_sees(lambda: knot_key_tags(knot.port) == {ksk, new_ksk, new_zsk},
                  "the new KSK published")
        knot_sees(lambda: knot_signer_tags(knot.port, "example.", "DNSKEY") == {new_ksk},
                  "the DNSKEY set signed by the new KSK")
        knot_sees(lambda: knot_key_tags(knot.port) == {new_ksk, new_zsk}, "the old KSK removed")
        signed_answer(knot.port, "www.example.", "A", dnskeys(knot.port))
    finally:
        knot.close()
        report = DH.finish(d)
    assert report is None, report
