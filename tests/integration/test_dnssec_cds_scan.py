"""The DS records of a child served by NSD follow its CDS/CDNSKEY (RFC 7344, RFC 8078).

In the suite's network namespace: pigeond serves a signed root "." on 127.0.57.1:53 with
`cds_scan` pointing at its own validating [resolver] (the root's DS as trust anchor); NSD
serves kid. on 127.0.57.3:53, signed by ldns-signzone, delegated from the root with the DS of
its first key. pigeond asks its resolver for kid.'s CDS, CDNSKEY and DNSKEY every second:

1. kid. rolls its key: it publishes a second KSK and CDS records for both (signed) -> the
   root's DS set becomes both, through the zone-change path (an edit of the root zone, a
   new serial, the DS RRset signed -- dnspython checks it with the root's DNSKEY -- and an
   IXFR from the old serial that holds the new DS);
   Then it adds two RSA keys of 4096 bits: the CDS and DNSKEY answers no longer fit a UDP
   answer of 1232 bytes (TC), and the scan asks again over TCP -> the DS set becomes all four;
2. kid. asks for its DS to be deleted with CDS "0 0 0 00" and CDNSKEY "0 3 0 AA==" -> the root
   has no DS for kid. any more (an NSEC proves it), the delegation stays;
3. kid., now insecure, publishes CDS again -> not taken: its answer is not validated (no AD),
   and Pigeon does not bootstrap insecure children.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_dnssec_cds_scan.py
"""

import os
import shutil
import subprocess
from pathlib import Path

import dns.dnssec
import dns.flags
import dns.name
import dns.query
import dns.rdataclass
import dns.rdatatype
import pytest

import dns_auth_helpers as DA
import dns_hierarchy as DH
import pigeon_harness as H

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not DH.have_nsd() or not shutil.which("ldns-signzone"),
    reason="needs root (port 53 on 127.0.57.x), nsd, ldns")

ROOT, NSD = "127.0.57.1", "127.0.57.3"
KID = dns.name.from_text("kid.")

ROOT_ZONE = """$TTL 1
@ SOA a.root.test. hostmaster.root.test. 1 3600 600 86400 1
@ NS a.root.test.
a.root.test. A {root}
kid. NS ns.kid.
ns.kid. A {nsd}
""".format(root=ROOT, nsd=NSD)

KID_ZONE = """$ORIGIN kid.
$TTL 1
@ SOA ns hostmaster {serial} 3600 600 86400 1
@ NS ns
ns A {nsd}
www A 192.0.2.80
"""


def run(*cmd, cwd=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd,
                       timeout=60)
    assert p.returncode == 0, "%s -> %d\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr)
    return p.stdout


class Kid:
    """kid. signed by ldns-signzone and served by NSD; each publish() is a new version."""

    def __init__(self, d):
        self.d = Path(d)
        self.d.mkdir(parents=True)
        self.serial = 1
        self.proc = None
        self.keys = []

    def new_key(self, alg="ECDSAP256SHA256", bits=None):
        size = ["-b", str(bits)] if bits else []
        self.keys.append(run("ldns-keygen", "-a", alg, *size, "-k", "kid.", cwd=self.d).strip())
        return self.keys[-1]

    def ds(self, key):
        return run("ldns-key2ds", "-n", "-2", key + ".key", cwd=self.d)

    def publish(self, extra=""):
        self.serial += 1
        (self.d / "kid.zone").write_text(KID_ZONE.format(serial=self.serial, nsd=NSD) + extra)
        run("ldns-signzone", "kid.zone", *self.keys, cwd=self.d)
        self.stop()
        conf = self.d / "nsd.conf"
        conf.write_text(DH._nsd_conf(self.d, NSD, 53, "kid", self.d / "kid.zone.signed"))  # noqa: SLF001
        self.proc = subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        DH.wait_udp(NSD, 53)
        DA.wait_for(lambda: DA.serial(53, "kid", host=NSD) == self.serial, 20,
                    "NSD to serve kid. serial %d" % self.serial)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def rr_lines(ds_lines, rtype):
    """ldns-key2ds's DS lines as `rtype` records of kid. with a TTL of 1 second (so that the
    resolver sees each new version of kid. at once)."""
    out = ""
    for line in ds_lines.splitlines():
        f = line.split()
        if "DS" in f:
            out += "kid. 1 IN %s %s\n" % (rtype, " ".join(f[f.index("DS") + 1:]))
    return out


def validated(port, name, rtype):
    """True when the resolver on port answers name/rtype with AD."""
    r = DA.query(port, name, rtype, want_dnssec=True, use_edns=0)
    return r.rcode() == 0 and bool(r.flags & dns.flags.AD)


def root_answer(name, rtype):
    return DA.query(53, name, rtype, host=ROOT, want_dnssec=True, use_edns=0, payload=4096,
                    tcp=True)


def root_keys():
    r = root_answer(".", "DNSKEY")
    keys = r.find_rrset(r.answer, dns.name.root, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    return keys


def kid_ds():
    """The root's DS set for kid. (checked with the root's key), or None when it has none."""
    r = root_answer("kid.", "DS")
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.DS:
            sig = r.find_rrset(r.answer, KID, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                               dns.rdatatype.DS)
            dns.dnssec.validate(rrset, sig, {dns.name.root: root_keys()})
            return {ds.to_text().upper() for ds in rrset}
    assert r.rcode() == 0 and any(s.rdtype == dns.rdatatype.NSEC for s in r.authority), r
    return None


def ds_texts(lines):
    """'kid. 3600 IN DS 1 2 3 ABC' lines -> {'1 2 3 ABC'}."""
    out = set()
    for line in lines.splitlines():
        f = line.split()
        if "DS" in f:
            i = f.index("DS")
            out.add(" ".join(f[i + 1:i + 4] + ["".join(f[i + 4:])]).upper())
    return out


def test_child_cds_moves_the_parent_ds(tmp_path):
    kid = Kid(tmp_path / "kid")
    try:
        check_cds_scan(tmp_path, kid)
    finally:
        kid.stop()


def check_cds_scan(tmp_path, kid):
    k1 = kid.new_key()
    ds1 = kid.ds(k1)
    kid.publish()
    d = H.Daemon(tmp_path / "pigeon", name="root")
    # the root's key made first, so that the resolver can be anchored to it at start
    (Path(d.data_dir) / "dnssec").mkdir(mode=0o700, parents=True)
    run(H.PIGEON, "dnssec", "keygen", Path(d.data_dir) / "dnssec", ".", "ECDSAP256SHA256",
        "csk")
    anchor = tmp_path / "root.key"
    anchor.write_text(run(H.PIGEON, "dnssec", "ds", ".", Path(d.data_dir) / "dnssec"))
    hints = tmp_path / "root.hints"
    hints.write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A %s\n" % ROOT)
    (tmp_path / "root.zone").write_text(ROOT_ZONE + rr_lines(ds1, "DS"))
    rport = H.free_port()
    d.sections["dns"] = {"listen": "%s:53" % ROOT}
    d.sections["zone ."] = {"file": str(tmp_path / "root.zone"), "dnssec": "on",
                            "cds_scan": "127.0.0.1:%d" % rport, "cds_scan_interval": "1",
                            "allow_transfer": "127.0.0.0/8"}
    d.sections["resolver"] = {"listen": "127.0.0.1:%d" % rport, "allow": "127.0.0.1/32",
                              "root_hints": str(hints), "trust_anchor": str(anchor)}
    d.ports.append(rport)
    d.write_conf()
    d.setup()
    d.start()
    DH.wait_udp(ROOT, 53)
    try:
        assert kid_ds() == ds_texts(ds1)
        # the resolver validates kid.: the scan finds nothing to do
        DA.wait_for(lambda: validated(rport, "www.kid.", "A"), 30,
                    "the resolver to validate www.kid.\n" + d.log()[-3000:])
        # 1. a KSK rollover: both keys, and CDS for both
        k2 = kid.new_key()
        ds2 = kid.ds(k2)
        serial0 = DA.serial(53, ".", host=ROOT)
        kid.publish(rr_lines(ds1 + ds2, "CDS"))
        DA.wait_for(lambda: kid_ds() == ds_texts(ds1 + ds2), 60,
                    "the root's DS for kid. to become both keys'\n" + d.log()[-3000:])
        assert "the DS of kid. set from its validated CDS/CDNSKEY: 2 record(s)" in d.log()
        assert "edited by pigeond: NOERROR" in d.log()
        # the change is a journaled difference like an UPDATE: an IXFR from before holds it
        serial1 = DA.serial(53, ".", host=ROOT)
        added = set()
        for m in dns.query.xfr(ROOT, ".", rdtype="IXFR", serial=serial0, port=53, timeout=10):
            for rrset in m.answer:
                if rrset.rdtype == dns.rdatatype.DS:
                    added |= {ds.to_text().upper() for ds in rrset}
        assert ds_texts(ds2) <= added
        assert "IXFR of . (serial %d, incremental)" % serial1 in d.log()
        assert (Path(d.data_dir) / "journal").is_dir()
        # 1b. two more keys, RSA of 4096 bits: the DNSKEY and CDS answers (each key signs
        # them) no longer fit the scan's 1232-byte UDP answers; the truncated answers are
        # asked again over TCP, and the DS set becomes all four keys'
        big = [kid.new_key("RSASHA256", 4096) for _ in range(2)]
        ds_all = ds1 + ds2 + "".join(kid.ds(k) for k in big)
        kid.publish(rr_lines(ds_all, "CDS"))
        # the resolver may still hold the two-key CDS set until its TTL runs out: wait for the
        # four-key answer, which must be truncated over UDP (else the test proves nothing)
        DA.wait_for(lambda: DA.query(rport, "kid.", "CDS", want_dnssec=True, use_edns=0,
                                     payload=1232).flags & dns.flags.TC, 60,
                    "the CDS answer fits a UDP answer: the test proves nothing")
        DA.wait_for(lambda: kid_ds() == ds_texts(ds_all), 60,
                    "the root's DS for kid. to become all four keys'\n" + d.log()[-3000:])
        assert "the DS of kid. set from its validated CDS/CDNSKEY: 4 record(s)" in d.log()
        # 2. RFC 8078 delete records
        kid.publish("@ CDS 0 0 0 00\n@ CDNSKEY 0 3 0 AA==\n")
        DA.wait_for(lambda: kid_ds() is None, 60, "the root's DS for kid. to go\n" +
                    d.log()[-3000:])
        assert "the DS of kid. removed, as its CDS/CDNSKEY asks" in d.log()
        assert root_answer("kid.", "NS").authority, "the delegation stays"
        # 3. kid. is insecure now: its CDS is not validated, and not taken (no bootstrap)
        start = d.log_size()
        kid.publish(rr_lines(ds2, "CDS"))
        d.wait_log(r"CDS/CDNSKEY of kid\. not taken: .*no AD", start=start, count=3,
                   timeout=60)
        assert kid_ds() is None
    finally:
        report = DA.finish(d)
    assert report is None, report
