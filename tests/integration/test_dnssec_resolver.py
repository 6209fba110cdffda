"""Pigeon's recursive resolver validates DNSSEC (RFC 4033-4035) down the signed hierarchy of
signed_hierarchy.py (root, edu., fr., hamburger.edu. signed by pigeond; crepes.fr. (NSEC3)
and expired.fr. signed by ldns-signzone and served by NSD; plain.fr. unsigned).

The resolver's trust anchor is the root's DS from `pigeon dnssec ds`, in a file of the form
Unbound reads. Checked with dig (AD, status, Extended DNS Error) and delv (which validates
itself through the resolver, with CD) against the same anchor; a CSK rollover of
hamburger.edu. with 2-second TTLs is followed through the resolver without a SERVFAIL.

Run: PIGEON_BUILD=$PWD/build/asan python3 -m pytest -q tests/integration/test_dnssec_resolver.py
"""

import os
import re
import shutil
import subprocess

import pytest

import dns_auth_helpers as DA
import dns_hierarchy as DH
import pigeon_harness as H
import signed_hierarchy as SH

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not DH.have_nsd() or not shutil.which("ldns-signzone") or
    not shutil.which("delv"), reason="needs root (port 53 on 127.0.54.x), nsd, ldns, delv")

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("signed")
    h = SH.SignedHierarchy(root)
    r = None
    try:
        r = DH.resolver_daemon(root / "resolver", h.hints,
                               extra={"trust_anchor": str(h.anchor),
                                      "negative_trust_anchors": "nta.example."})
        r.setup()
        r.start()
        yield {"resolver": r, "anchor": h.anchor, "tld": h.tld, "root": root}
    finally:
        reports = ([DA.finish(r)] if r else []) + h.close()
        assert not any(reports), reports


def dig(w, *args):
    return DA.dig(w["resolver"].resolver_port, "+dnssec", *args)


def flags(out):
    m = re.search(r";; flags: ([a-z ]+);", out)
    return set(m.group(1).split()) if m else set()


def status(out):
    return re.search(r"status: (\w+)", out).group(1)


def delv_anchor(w):
    """The resolver's anchor in delv's (BIND's) form."""
    tag, alg, dtype, digest = w["anchor"].read_text().split("DS")[-1].split()[:4]
    path = w["root"] / "anchor.conf"
    path.write_text('trust-anchors {\n  . static-ds %s %s %s "%s";\n};\n' % (tag, alg, dtype,
                                                                              digest))
    return path


def delv(w, name, rtype="A"):
    p = subprocess.run(["delv", "-a", str(delv_anchor(w)), "@127.0.0.1", "-p",
                        str(w["resolver"].resolver_port), "+root=.", name, rtype],
                       capture_output=True, text=True, timeout=60)
    return p.stdout + p.stderr


@pytest.mark.parametrize("name,rtype,want", [
    ("www.hamburger.edu.", "A", "127.0.0.80"),
    ("hamburger.edu.", "MX", "mail.hamburger.edu."),
    ("x.wild.hamburger.edu.", "A", "127.0.0.91"),
    ("www.crepes.fr.", "A", "127.0.0.90"),  # ldns-signzone, NSEC3, served by NSD
])
def test_secure_answers_have_ad(world, name, rtype, want):
    out = dig(world, name, rtype)
    assert status(out) == "NOERROR", out
    assert "ad" in flags(out), out
    assert want in out and "RRSIG" in out, out


@pytest.mark.parametrize("name,rtype,rcode", [
    ("nothere.hamburger.edu.", "A", "NXDOMAIN"),   # Pigeon's NSEC
    ("www.hamburger.edu.", "TXT", "NOERROR"),      # NODATA
    ("nothere.crepes.fr.", "A", "NXDOMAIN"),       # ldns's NSEC3
    ("www.crepes.fr.", "TXT", "NOERROR"),
])
def test_denials_are_secure(world, name, rtype, rcode):
    out = dig(world, name, rtype)
    assert status(out) == rcode, out
    assert "ad" in flags(out), out


def test_insecure_delegation_has_no_ad(world):
    out = dig(world, "www.plain.fr.", "A")
    assert status(out) == "NOERROR" and "127.0.0.90" in out, out
    assert "ad" not in flags(out), out


def test_expired_signatures_servfail_with_ede(world):
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "SERVFAIL", out
    assert "EDE: 7" in out, out  # RFC 8914 Signature Expired
    out = dig(world, "+cd", "www.expired.fr.", "A")  # CD=1: the data, unchecked
    assert status(out) == "NOERROR" and "127.0.0.90" in out, out
    assert "ad" not in flags(out), out


def test_delv_validates_through_the_resolver(world):
    for name, rtype in [("www.hamburger.edu", "A"), ("www.crepes.fr", "A"),
                        ("hamburger.edu", "MX")]:
        out = delv(world, name, rtype)
        assert "; fully validated" in out, out
    # a negative answer, asked twice: the second comes from the cache with its proof
    for _ in range(2):
        out = delv(world, "nxd.hamburger.edu", "A")
        assert "; negative response, fully validated" in out, out


def test_csk_and_zsk_rollovers_without_servfail(world):
    """hamburger.edu.'s CSK rolls (the new key reaches edu.'s DS through CDS, the old one is
    withdrawn after the TTLs), then a ZSK is rolled in; asked all along, the resolver
    answers NOERROR with AD."""
    tld = world["tld"]

    def secure():
        out = dig(world, "www.hamburger.edu.", "A")
        assert status(out) == "NOERROR" and "ad" in flags(out), out
        return out

    def signer_tags():
        return {int(t) for t in
                re.findall(r"RRSIG\s+A \d+ \d+ \d+ \d+ \d+ (\d+) hamburger", secure())}

    def key_tags():
        out = tld.cli("dnssec", "status", "hamburger.edu").stdout.decode()
        return {int(t) for t in re.findall(r"^key (\d+) ", out, re.M)}

    old = signer_tags()
    assert old and key_tags() == old
    out = tld.cli("dnssec", "rollover", "hamburger.edu", "csk").stdout.decode()
    new = int(out.split()[2])
    DA.wait_for(lambda: signer_tags() == {new} or None,
                what="answers signed by the new CSK %d (was %s)" % (new, old))
    DA.wait_for(lambda: (secure() and key_tags() == {new}) or None, what="the old CSK removed")
    # then a ZSK pre-publication rollover: published, then signing (the CSK keeps the DNSKEY
    # set, and edu.'s DS does not change)
    out = tld.cli("dnssec", "rollover", "hamburger.edu", "zsk").stdout.decode()
    zsk = int(out.split()[2])
    DA.wait_for(lambda: zsk in key_tags() or None, what="the ZSK %d published" % zsk)
    DA.wait_for(lambda: zsk in signer_tags() or None, what="answers signed by the ZSK")
    for _ in range(3):
        secure()


def nta_list(w):
    out = w["resolver"].cli("dnssec", "nta", "list").stdout.decode()
    return dict(line.split("\t") for line in out.splitlines())


def test_negative_trust_anchor_from_the_cli(world):
    """`pigeon dnssec nta add` (RFC 7646) through the control socket: the bogus zone answers
    NOERROR without AD at once, the NTA is listed with its time left, survives a restart
    (DATA/resolver.nta), and once removed, or expired, the zone is bogus again."""
    r = world["resolver"]
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "SERVFAIL", out
    assert nta_list(world) == {"nta.example.": "permanent"}
    p = r.cli("dnssec", "nta", "add", "expired.fr", "--lifetime", "1h")
    assert "expired.fr. is not validated for 3600 s" in p.stdout.decode()
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "NOERROR" and "127.0.0.90" in out, out
    assert "ad" not in flags(out), out
    left = int(nta_list(world)["expired.fr."])
    assert 3500 < left <= 3600
    # other zones are still validated
    out = dig(world, "www.hamburger.edu.", "A")
    assert "ad" in flags(out), out
    # kept across a restart
    r.stop()
    r.start()
    assert "expired.fr." in nta_list(world)
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "NOERROR", out
    r.cli("dnssec", "nta", "remove", "expired.fr.")
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "SERVFAIL", out
    p = r.cli("dnssec", "nta", "remove", "expired.fr.", check=False)
    assert p.returncode == 1 and b"has no negative trust anchor" in p.stderr
    # a short one runs out by itself
    r.cli("dnssec", "nta", "add", "expired.fr.", "--lifetime=2s")
    out = dig(world, "www.expired.fr.", "A")
    assert status(out) == "NOERROR", out
    DA.wait_for(lambda: status(dig(world, "www.expired.fr.", "A")) == "SERVFAIL" or None,
                what="the NTA of expired.fr. to expire")
    assert "expired.fr." not in nta_list(world)
    # bad input gets a clear error, pigeond stays up
    p = r.cli("dnssec", "nta", "add", "expired.fr.", "--lifetime", "9w", check=False)
    assert p.returncode == 1 and b"bad lifetime" in p.stderr
    p = r.cli("dnssec", "nta", "add", "bad..name", check=False)
    assert p.returncode == 1 and b"bad name" in p.stderr, p.stderr
    assert status(dig(world, "www.hamburger.edu.", "A")) == "NOERROR"


def test_truncated_dnskey_set_is_fetched_over_tcp(world):
    """bigkeys.fr.'s DNSKEY set does not fit the resolver's 1232-octet UDP buffer: NSD
    answers it with TC=1, and the validator's DNSKEY fetch goes on over TCP (RFC 7766), so
    the zone's data is secure."""
    p = subprocess.run(["dig", "@" + SH.NSD, "-p", "53", "+time=3", "+tries=1", "+dnssec",
                        "+bufsize=1232", "+ignore", "+notcp", "bigkeys.fr.", "DNSKEY"],
                       capture_output=True, text=True, timeout=30)
    assert "tc" in flags(p.stdout), p.stdout
    out = dig(world, "www.bigkeys.fr.", "A")
    assert status(out) == "NOERROR" and "127.0.0.90" in out, out
    assert "ad" in flags(out), out
    out = dig(world, "bigkeys.fr.", "DNSKEY")
    assert "ad" in flags(out) and out.count("DNSKEY\t") >= 4, out


def test_rfc5011_states_saved(world):
    """The root's KSK, vouched for by the anchor file, is followed by RFC 5011: its state is
    written to DATA/resolver.autotrust once the validator has seen the root's DNSKEY set."""
    assert "ad" in flags(dig(world, "www.hamburger.edu.", "A"))
    path = os.path.join(world["resolver"].data_dir, "resolver.autotrust")
    H.wait_file(path, what="the RFC 5011 state file")
    text = open(path).read()
    assert re.search(r"^valid \d+ \.\s+0\s+IN\s+DNSKEY\s+257 3 13 ", text, re.M), text
