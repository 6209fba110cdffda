"""Pigeon's recursive resolver validates DNSSEC (RFC 4033-4035) down a signed hierarchy in
the suite's network namespace, port 53 on 127.0.54.x:

    127.0.54.1  "."                      pigeond, signed (dnssec = on)
    127.0.54.2  edu., fr., hamburger.edu. pigeond, signed; edu. takes hamburger.edu.'s CDS as DS
    127.0.54.3  crepes.fr. (NSEC3), expired.fr., plain.fr.   NSD, signed by ldns-signzone
                (expired.fr.'s signatures ran out in 2020; plain.fr. is unsigned, no DS)

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
from pathlib import Path

import pytest

import dns_auth_helpers as DA
import dns_hierarchy as DH
import pigeon_harness as H

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not DH.have_nsd() or not shutil.which("ldns-signzone") or
    not shutil.which("delv"), reason="needs root (port 53 on 127.0.54.x), nsd, ldns, delv")

ROOT, TLD, NSD = "127.0.54.1", "127.0.54.2", "127.0.54.3"

ROOT_ZONE = """$TTL 2
@ SOA a.root.test. hostmaster.root.test. 1 3600 600 86400 2
@ NS a.root.test.
a.root.test. A 127.0.54.1
edu. NS a.edu-servers.test.
a.edu-servers.test. A 127.0.54.2
fr. NS ns1.nic.fr.
ns1.nic.fr. A 127.0.54.2
"""

EDU = """$ORIGIN edu.
$TTL 2
@ SOA a.edu-servers.test. hostmaster.edu. 1 3600 600 86400 2
@ NS a.edu-servers.test.
hamburger NS dns.hamburger
dns.hamburger A 127.0.54.2
"""

HAMBURGER = """$ORIGIN hamburger.edu.
$TTL 2
@ SOA dns hostmaster 1 3600 600 86400 2
@ NS dns
@ MX 10 mail
dns A 127.0.54.2
mail A 127.0.0.25
www A 127.0.0.80
*.wild A 127.0.0.91
"""

FR = """$ORIGIN fr.
$TTL 2
@ SOA ns1.nic hostmaster 1 3600 600 86400 2
@ NS ns1.nic
ns1.nic A 127.0.54.2
crepes NS ns.crepes
ns.crepes A 127.0.54.3
expired NS ns.expired
ns.expired A 127.0.54.3
plain NS ns.plain
ns.plain A 127.0.54.3
"""

LEAF = """$ORIGIN {o}.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.54.3
www A 127.0.0.90
@ MX 10 www
"""


def run(*cmd, cwd=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, "%s -> %d\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr)
    return p.stdout


def ldns_sign(d, origin, nsec3=False, expired=False):
    """origin's zone signed by ldns-signzone with a fresh ECDSA key; returns its DS line."""
    (d / (origin + ".zone")).write_text(LEAF.format(o=origin))
    key = run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin + ".", cwd=d).strip()
    args = ["ldns-signzone"]
    if expired:
        args += ["-i", "20200101000000", "-e", "20200201000000"]
    if nsec3:
        args += ["-n"]
    run(*args, origin + ".zone", key, cwd=d)
    return run("ldns-key2ds", "-n", "-2", key + ".key", cwd=d)


def pigeon_ds(daemon, zone):
    return run(H.PIGEON, "dnssec", "ds", zone, Path(daemon.data_dir) / "dnssec")


def auth(root, name, addr, zones):
    d = H.Daemon(root / name, name=name)
    d.sections["dns"] = {"listen": "%s:53" % addr}
    for origin, text in zones.items():
        path = root / name / ((origin.strip(".") or "root") + ".zone")
        path.write_text(text)
        d.sections["zone " + origin] = {"file": str(path), "dnssec": "on"}
    d.write_conf()
    d.setup()
    d.start()
    DH.wait_udp(addr, 53)
    return d


def start_nsd(d, zones):
    conf = d / "nsd.conf"
    text = DH._nsd_conf(d, NSD, 53, zones[0][0], zones[0][1])  # noqa: SLF001 (suite helper)
    for origin, path in zones[1:]:
        text += 'zone:\n    name: "%s"\n    zonefile: "%s"\n' % (origin, path)
    conf.write_text(text)
    p = subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    DH.wait_udp(NSD, 53)
    return p


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("signed")
    nsd_dir = root / "nsd"
    nsd_dir.mkdir()
    ds = {"crepes": ldns_sign(nsd_dir, "crepes.fr", nsec3=True),
          "expired": ldns_sign(nsd_dir, "expired.fr", expired=True)}
    (nsd_dir / "plain.fr.zone").write_text(LEAF.format(o="plain.fr"))
    daemons, procs = [], []
    try:
        procs.append(start_nsd(nsd_dir, [("crepes.fr", nsd_dir / "crepes.fr.zone.signed"),
                                         ("expired.fr", nsd_dir / "expired.fr.zone.signed"),
                                         ("plain.fr", nsd_dir / "plain.fr.zone")]))
        tld = auth(root, "tld", TLD, {"edu": EDU, "fr": FR + ds["crepes"] + ds["expired"],
                                      "hamburger.edu": HAMBURGER})
        daemons.append(tld)
        rz = ROOT_ZONE + pigeon_ds(tld, "edu.") + pigeon_ds(tld, "fr.")
        rootd = auth(root, "root", ROOT, {".": rz})
        daemons.append(rootd)
        anchor = root / "root.key"
        anchor.write_text("; the simulated root's KSK, as `pigeon dnssec ds` prints it\n" +
                          pigeon_ds(rootd, "."))
        hints = root / "root.hints"
        hints.write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A %s\n" % ROOT)
        r = DH.resolver_daemon(root / "resolver", hints,
                               extra={"trust_anchor": str(anchor),
                                      "negative_trust_anchors": "nta.example."})
        r.setup()
        r.start()
        daemons.append(r)
        yield {"resolver": r, "anchor": anchor, "tld": tld, "root": root}
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        reports = [DA.finish(d) for d in reversed(daemons)]
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


def test_csk_rollover_without_servfail(world):
    """hamburger.edu.'s CSK rolls (the new key reaches edu.'s DS through CDS, the old one is
    withdrawn after the TTLs); asked all along, the resolver answers NOERROR with AD."""
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
    for _ in range(3):
        secure()
