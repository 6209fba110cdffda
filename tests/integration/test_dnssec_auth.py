"""The authoritative server signs (`[zone] dnssec = on`), checked with standard validators:

- answers with DO carry RRSIGs and the NSEC/NSEC3 proofs (NXDOMAIN, NODATA, empty
  non-terminal, wildcard answer, wildcard NODATA, insecure delegation), and delv with the
  zone's key as trust anchor calls each one "fully validated"; dnspython's dns.dnssec checks
  the signatures and the proofs' coverage; without DO there is no DNSSEC data;
- an AXFR of the signed zone passes ldns-verify-zone and kzonecheck;
- an UPDATE is signed at once with a higher serial; keys and serial survive a restart;
- a large DNSKEY set sets TC over a small UDP buffer and comes whole over TCP;
- Unbound, validating with the zone's DS as trust anchor, answers with AD.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_dnssec_auth.py
"""

import subprocess
from pathlib import Path
import time

import dns.dnssec
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from dnssec_helpers import ZONE

import dns_auth_helpers as DH
import dns_hierarchy as HIER
import pigeon_harness as H


ORIGIN = dns.name.from_text("example.")


def start(tmp_path, **opts):
    zopts = {"dnssec": "on", "allow_update": "key:" + DH.KEY_NAME}
    zopts.update(opts)
    d = DH.auth_daemon(tmp_path, {"example": ZONE}, zone_opts={"example": zopts})
    d.start()
    return d


def ask(d, name, rtype, do=True, tcp=False, payload=1232):
    return DH.query(d.dns_port, name, rtype, tcp=tcp, want_dnssec=do, use_edns=0 if do else None,
                    payload=payload)


def dnskeys(d):
    r = ask(d, "example.", "DNSKEY", tcp=True)
    keys = r.find_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    sig = r.find_rrset(r.answer, ORIGIN, dns.rdataclass.IN, dns.rdatatype.RRSIG,
                       dns.rdatatype.DNSKEY)
    dns.dnssec.validate(keys, sig, {ORIGIN: keys})
    return keys


def validate_section(section, keys, unsigned=()):
    """Every RRset of the section (but the types in unsigned) is signed by the zone's keys;
    returns {(name, type): rrset}."""
    sets = {}
    sigs = {}
    for rrset in section:
        if rrset.rdtype == dns.rdatatype.RRSIG:
            sigs[(rrset.name, rrset.covers)] = rrset
        else:
            sets[(rrset.name, rrset.rdtype)] = rrset
    for key, rrset in sets.items():
        if key[1] in unsigned:
            assert key not in sigs  # RFC 4035 §2.2: a delegation's NS is not signed
            continue
        assert key in sigs, "unsigned %s" % (key,)
        dns.dnssec.validate(rrset, sigs[key], {ORIGIN: keys})
    return sets


def covers(owner, nxt, name):
    """NSEC coverage in canonical order (dnspython's Name ordering is RFC 4034 §6.1)."""
    if nxt <= owner:  # the last NSEC
        return name > owner
    return owner < name < nxt


def delv(d, anchor, name, rtype):
    rc, out, err = DH.run(["delv", "-a", str(anchor), "@127.0.0.1", "-p", str(d.dns_port),
                           "+root=example", name, rtype], check=False)
    return out + err


def anchor_file(tmp_path, keys):
    key = next(k for k in keys if k.flags & 1)
    text = 'trust-anchors {\n  example. static-key %d %d %d "%s";\n};\n' % (
        key.flags, key.protocol, key.algorithm,
        dns.rdata._base64ify(key.key, chunksize=0))  # noqa: SLF001 (dnspython's own encoder)
    path = tmp_path / "anchor.conf"
    path.write_text(text)
    return path


@pytest.mark.parametrize("nsec3", ["off", "on"])
def test_answers_validate(tmp_path, nsec3):
    d = start(tmp_path, dnssec_nsec3=nsec3)
    try:
        keys = dnskeys(d)
        anchor = anchor_file(tmp_path, keys)
        cases = [("www.example", "A", "fully validated"),
                 ("nope.example", "A", "negative response, fully validated"),
                 ("www.example", "MX", "negative response, fully validated"),
                 ("b.c.example", "A", "negative response, fully validated"),
                 ("x.wild.example", "TXT", "fully validated"),
                 ("x.wild.example", "A", "negative response, fully validated"),
                 ("sub.example", "DS", "negative response, fully validated"),
                 ("sec.example", "DS", "fully validated")]
        for name, rtype, want in cases:
            out = delv(d, anchor, name, rtype)
            assert want in out, "%s %s: %s" % (name, rtype, out)
            assert "resolution failed" not in out or "negative" in want, out

        # dnspython: signatures of every section, and the NSEC proofs' coverage
        r = ask(d, "www.example.", "A")
        validate_section(r.answer, keys)
        r = ask(d, "nope.example.", "A")
        assert r.rcode() == dns.rcode.NXDOMAIN
        sets = validate_section(r.authority, keys)
        denial = dns.rdatatype.NSEC3 if nsec3 == "on" else dns.rdatatype.NSEC
        proofs = [s for (n, t), s in sets.items() if t == denial]
        assert proofs
        if nsec3 == "off":
            q = dns.name.from_text("nope.example.")
            assert any(covers(s.name, s[0].next, q) for s in proofs)
            wild = dns.name.from_text("*.example.")
            assert any(covers(s.name, s[0].next, wild) for s in proofs)
        else:
            # RFC 5155 §7.2.1: closest encloser (example.) matched, next closer covered
            hashes = {s.name.labels[0].decode().lower() for s in proofs}
            ce = dns.dnssec.nsec3_hash("example.", salt=None, iterations=0, algorithm=1).lower()
            assert ce in hashes
        r = ask(d, "x.wild.example.", "TXT")
        sets = validate_section(r.answer, keys)
        sig = r.find_rrset(r.answer, dns.name.from_text("x.wild.example."), dns.rdataclass.IN,
                           dns.rdatatype.RRSIG, dns.rdatatype.TXT)
        assert sig[0].labels == 2  # synthesised from *.wild.example
        validate_section(r.authority, keys)
        assert any(s.rdtype == denial for s in r.authority)

        # a referral to the secure child carries its signed DS; to the insecure one, the proof
        r = ask(d, "www.sec.example.", "A")
        sets = validate_section(r.authority, keys, unsigned=(dns.rdatatype.NS,))
        assert (dns.name.from_text("sec.example."), dns.rdatatype.DS) in sets
        r = ask(d, "www.sub.example.", "A")
        sets = validate_section(r.authority, keys, unsigned=(dns.rdatatype.NS,))
        assert any(t == denial for (n, t) in sets)

        # without DO: no DNSSEC records at all
        for name, rtype in [("www.example.", "A"), ("nope.example.", "A"), ("sub.example.", "A")]:
            r = ask(d, name, rtype, do=False)
            types = {s.rdtype for s in r.answer + r.authority + r.additional}
            assert not types & {dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3}
    finally:
        assert DH.finish(d) is None


def test_axfr_passes_zone_checkers(tmp_path):
    d = start(tmp_path, dnssec_nsec3="on", allow_transfer="127.0.0.1")
    try:
        out = DH.dig(d.dns_port, "example.", "AXFR", "+onesoa")
        text = "\n".join(l for l in out.splitlines() if l and not l.startswith(";")) + "\n"
        path = tmp_path / "axfr.zone"
        path.write_text(text)
        rc, o, e = DH.run(["ldns-verify-zone", str(path)], check=False)
        assert rc == 0 and "Zone is verified and complete" in o + e, o + e
        DH.run(["kzonecheck", "-o", "example.", "-d", "on", str(path)])
        assert "NSEC3PARAM" in text and "CDS" in text and "CDNSKEY" in text
    finally:
        assert DH.finish(d) is None


def test_update_resigned_and_keys_survive_restart(tmp_path):
    d = start(tmp_path)
    try:
        keys = dnskeys(d)
        before = DH.serial(d.dns_port, "example.")
        rc, out = DH.nsupdate(d.dns_port, "example.", ["update add new.example. 300 A 192.0.2.77"])
        assert rc == 0, out
        r = ask(d, "new.example.", "A")
        validate_section(r.answer, keys)
        after = DH.serial(d.dns_port, "example.")
        assert after > before
        keyfiles = sorted(p.name for p in (Path(d.data_dir) / "dnssec").glob("*.pem"))
        d.stop()
        # the version served at the stop is kept for the next start (incremental signing)
        assert (Path(d.data_dir) / "dnssec" / "example.signed").exists()
        d.start()
        assert dnskeys(d).to_text() == keys.to_text()
        assert DH.serial(d.dns_port, "example.") >= after
        assert sorted(p.name for p in (Path(d.data_dir) / "dnssec").glob("*.pem")) == keyfiles
        r = ask(d, "new.example.", "A")  # the journal's change, signed again after restart
        validate_section(r.answer, keys)
    finally:
        assert DH.finish(d) is None


def test_large_dnskey_truncated_over_small_udp(tmp_path):
    d = start(tmp_path, dnssec_algorithm="RSASHA256")
    try:
        r = ask(d, "example.", "DNSKEY", payload=512)
        assert r.flags & dns.flags.TC and not r.answer
        keys = dnskeys(d)  # over TCP, whole and valid
        assert next(iter(keys)).algorithm == 8
    finally:
        assert DH.finish(d) is None


def test_unbound_validates_with_ds_anchor(tmp_path):
    d = start(tmp_path)
    port = H.free_port()
    try:
        p = subprocess.run([str(H.BUILD / "pigeon"), "dnssec", "ds", "example.",
                            str(Path(d.data_dir) / "dnssec")], capture_output=True, text=True,
                           check=True)
        anchor = tmp_path / "anchor.ds"
        anchor.write_text(p.stdout)
        conf = tmp_path / "unbound.conf"
        conf.write_text("""server:
    interface: 127.0.0.1@%d
    do-ip6: no
    username: ""
    chroot: ""
    directory: "%s"
    pidfile: "%s/unbound.pid"
    use-syslog: no
    logfile: ""
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "validator iterator"
    trust-anchor-file: "%s"
    val-log-level: 2
stub-zone:
    name: "example."
    stub-addr: 127.0.0.1@%d
""" % (port, tmp_path, tmp_path, anchor, d.dns_port))
        u = subprocess.Popen(["unbound", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            HIER.wait_udp("127.0.0.1", port)
            for name, rtype, rcode in [("www.example.", "A", dns.rcode.NOERROR),
                                       ("nope.example.", "A", dns.rcode.NXDOMAIN),
                                       ("x.wild.example.", "TXT", dns.rcode.NOERROR),
                                       ("www.example.", "MX", dns.rcode.NOERROR)]:
                q = dns.message.make_query(name, rtype, want_dnssec=True)
                r = dns.query.udp(q, "127.0.0.1", port=port, timeout=10)
                assert r.rcode() == rcode, (name, r)
                assert r.flags & dns.flags.AD, "%s %s not secure:\n%s" % (name, rtype, r)
        finally:
            u.terminate()
            u.wait(10)
    finally:
        assert DH.finish(d) is None


CHILD = """$ORIGIN child.example.
$TTL 3600
@ IN SOA ns1.child.example. admin.child.example. 1 7200 3600 1209600 300
@ IN NS ns1.child.example.
ns1 IN A 192.0.2.50
www IN A 192.0.2.51
"""


def test_parent_takes_child_cds(tmp_path):
    """Both zones in one pigeond: the parent publishes the child's CDS as its DS (RFC 7344),
    so the chain of trust runs from the parent's key down to the child's data."""
    parent = ZONE + "child IN NS ns1.child.example.\nns1.child IN A 192.0.2.50\n"
    d = DH.auth_daemon(tmp_path, {"example": parent, "child.example": CHILD},
                       zone_opts={"example": {"dnssec": "on"},
                                  "child.example": {"dnssec": "on",
                                                    "dnssec_algorithm": "ED25519"}})
    d.start()
    try:
        keys = dnskeys(d)
        r = ask(d, "child.example.", "DS")
        ds = validate_section(r.answer, keys)[(dns.name.from_text("child.example."),
                                               dns.rdatatype.DS)]
        r = ask(d, "child.example.", "DNSKEY", tcp=True)
        child = dns.name.from_text("child.example.")
        ckeys = r.find_rrset(r.answer, child, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
        want = {dns.dnssec.make_ds(child, k, "SHA256") for k in ckeys if k.flags & 1}
        assert set(ds) == want
        out = delv(d, anchor_file(tmp_path, keys), "www.child.example", "A")
        assert "fully validated" in out, out
    finally:
        assert DH.finish(d) is None


def test_rollovers_stay_secure(tmp_path):
    """A CSK rollover of the child (its new key reaches the parent's DS through CDS) and then
    a ZSK pre-publication rollover, with 2-second TTLs: delv, anchored at the parent's key,
    validates the child's data at every step."""
    parent = ("$TTL 2\n" + ZONE.replace("$TTL 3600\n", "") +
              "child IN NS ns1.child.example.\nns1.child IN A 192.0.2.50\n")
    child = CHILD.replace("$TTL 3600", "$TTL 2").replace("1209600 300", "1209600 2")
    d = DH.auth_daemon(tmp_path, {"example": parent, "child.example": child},
                       zone_opts={"example": {"dnssec": "on"},
                                  "child.example": {"dnssec": "on"}})
    d.start()
    cname = dns.name.from_text("child.example.")
    try:
        anchor = anchor_file(tmp_path, dnskeys(d))

        def secure():
            out = delv(d, anchor, "www.child.example", "A")
            assert "fully validated" in out, out

        def child_tags():
            r = ask(d, "child.example.", "DNSKEY", tcp=True)
            return {dns.dnssec.key_id(k) for k in r.answer[0]}

        def ds_tags():
            r = ask(d, "child.example.", "DS")
            return {ds.key_tag for s in r.answer if s.rdtype == dns.rdatatype.DS for ds in s}

        def signer_tags():
            r = ask(d, "www.child.example.", "A")
            return {sig.key_tag for s in r.answer if s.rdtype == dns.rdatatype.RRSIG for sig in s}

        secure()
        (old,) = child_tags()
        out = d.cli("dnssec", "rollover", "child.example", "csk").stdout.decode()
        new = int(out.split()[2])
        # pre-publication: both keys in the DNSKEY set and, through CDS, in the parent's DS
        DH.wait_for(lambda: child_tags() == {old, new} and ds_tags() == {old, new},
                    what="the new CSK published and in the parent's DS")
        secure()
        DH.wait_for(lambda: signer_tags() == {new}, what="signatures by the new CSK")
        secure()
        DH.wait_for(lambda: child_tags() == {new} and ds_tags() == {new},
                    what="the old CSK removed")
        secure()
        status = d.cli("dnssec", "status", "child.example").stdout.decode()
        assert "%05u ECDSAP256SHA256 csk active" % new in status, status
        # ZSK pre-publication: published first, then signing
        out = d.cli("dnssec", "rollover", "child.example", "zsk").stdout.decode()
        zsk = int(out.split()[2])
        DH.wait_for(lambda: zsk in child_tags(), what="the ZSK published")
        secure()
        DH.wait_for(lambda: zsk in signer_tags(), what="signatures by the ZSK")
        secure()
        assert ds_tags() == {new}  # a ZSK never reaches the parent
    finally:
        assert DH.finish(d) is None
