"""DNSSEC signing and zone verification against the standard tools, offline (no daemon):

- zones signed by ldns-signzone and by Knot's kzonesign (NSEC and NSEC3, several algorithms)
  pass `pigeon dnssec verify` -- Pigeon's validator code -- and stop passing when one
  signature is corrupted or the time is past the signatures' expiration;
- zones signed by `pigeon dnssec sign` pass ldns-verify-zone, kzonecheck (DNSSEC checks on)
  and dnspython's dns.dnssec.validate for every RRset; NSEC3 owners equal dnspython's hash;
- keys are kept in their directory with mode 0600 and reused; `pigeon dnssec ds` prints the
  DS that dnspython computes for the published key.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_dnssec_sign.py
"""

import os
import re
import stat
import subprocess
import time
from pathlib import Path

import dns.dnssec
import dns.name
import dns.rdatatype
import dns.zone
import pytest

from dnssec_helpers import ZONE

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PIGEON_BUILD", REPO / "build" / "asan"))
PIGEON = BUILD / "pigeon"
ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:exitcode=86",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87")



def run(*args, check=True, cwd=None):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=ENV, cwd=cwd,
                       timeout=120)
    assert p.returncode not in (86, 87), p.stderr
    if check:
        assert p.returncode == 0, f"{args}: {p.stdout}\n{p.stderr}"
    return p


def verify(path, *extra):
    return run(PIGEON, "dnssec", "verify", "example.", path, *extra, check=False)


def corrupt_one_signature(src, dst):
    """Flips one base64 character in the signature of www's A RRSIG."""
    lines = src.read_text().splitlines()
    for i, line in enumerate(lines):
        f = line.split()
        if f and f[0].startswith("www.example") and "RRSIG" in f and f[f.index("RRSIG") + 1] == "A":
            sig = f[-1]
            f[-1] = sig[:10] + ("A" if sig[10] != "A" else "B") + sig[11:]
            lines[i] = " ".join(f)
            break
    else:
        raise AssertionError("no RRSIG for www A")
    dst.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("alg", ["ECDSAP256SHA256", "ED25519", "RSASHA256"])
@pytest.mark.parametrize("nsec3", [False, True])
def test_ldns_signed_zone_verifies(tmp_path, alg, nsec3):
    (tmp_path / "example.zone").write_text(ZONE)
    ksk = run("ldns-keygen", "-a", alg, "-b", "2048", "-k", "example.", cwd=tmp_path).stdout.strip()
    zsk = run("ldns-keygen", "-a", alg, "-b", "2048", "example.", cwd=tmp_path).stdout.strip()
    args = ["ldns-signzone", "-i", "20240101000000", "-e", "20370101000000"]
    if nsec3:
        args += ["-n", "-t", "0"]
    run(*args, "example.zone", ksk, zsk, cwd=tmp_path)
    signed = tmp_path / "example.zone.signed"
    p = verify(signed)
    assert p.returncode == 0, p.stdout
    assert ("NSEC3 chain" if nsec3 else "NSEC chain") in p.stdout
    bad = tmp_path / "bad.zone"
    corrupt_one_signature(signed, bad)
    p = verify(bad)
    assert p.returncode == 1 and "www.example. A: no valid signature (EDE 6)" in p.stdout
    p = verify(signed, "+now=%d" % (2114380800 + 86400))  # a day after the expiration
    assert p.returncode == 1 and "(EDE 7)" in p.stdout


KNOT_CONF = """database:
    storage: {dir}
policy:
  - id: p
    algorithm: {alg}
    nsec3: {nsec3}
    nsec3-iterations: 0
    nsec3-salt-length: 0
zone:
  - domain: example.
    file: {dir}/example.zone
    dnssec-signing: on
    dnssec-policy: p
    storage: {dir}
"""


@pytest.mark.parametrize("alg", ["ecdsap256sha256", "ed25519"])
@pytest.mark.parametrize("nsec3", ["off", "on"])
def test_knot_signed_zone_verifies(tmp_path, alg, nsec3):
    (tmp_path / "example.zone").write_text(ZONE)
    conf = tmp_path / "knot.conf"
    conf.write_text(KNOT_CONF.format(dir=tmp_path, alg=alg, nsec3=nsec3))
    run("kzonesign", "-c", conf, "-o", tmp_path / "out", "example.")
    signed = tmp_path / "out" / "example.zone"
    p = verify(signed)
    assert p.returncode == 0, p.stdout
    assert ("NSEC3 chain" if nsec3 == "on" else "NSEC chain") in p.stdout
    bad = tmp_path / "bad.zone"
    corrupt_one_signature(signed, bad)
    assert verify(bad).returncode == 1


def dnspython_validate(path):
    """Every RRset with RRSIGs validates with dnspython against the apex DNSKEY set."""
    z = dns.zone.from_text(path.read_text(), origin="example.", relativize=False,
                           check_origin=False)
    origin = dns.name.from_text("example.")
    keys = {origin: z.get_rdataset(origin, dns.rdatatype.DNSKEY)}
    checked = 0
    for name, node in z.items():
        for rds in node.rdatasets:
            if rds.rdtype != dns.rdatatype.RRSIG:
                continue
            covered = node.get_rdataset(1, rds.covers)
            dns.dnssec.validate((name, covered), (name, rds), keys)
            checked += 1
    return z, checked


@pytest.mark.parametrize("alg", ["ECDSAP256SHA256", "ED25519", "RSASHA256"])
@pytest.mark.parametrize("nsec3", [False, True])
def test_pigeon_signed_zone_passes_standard_tools(tmp_path, alg, nsec3):
    (tmp_path / "example.zone").write_text(ZONE)
    args = [PIGEON, "dnssec", "sign", "example.", tmp_path / "example.zone", tmp_path / "keys",
            "+alg=" + alg]
    if nsec3:
        args.append("+nsec3")
    signed = tmp_path / "example.signed"
    signed.write_text(run(*args).stdout)
    assert verify(signed).returncode == 0
    p = run("ldns-verify-zone", signed, check=False)
    assert p.returncode == 0 and "Zone is verified and complete" in p.stdout + p.stderr, p.stderr
    run("kzonecheck", "-o", "example.", "-d", "on", signed)
    z, checked = dnspython_validate(signed)
    assert checked >= 15
    if nsec3:
        # RFC 9276: 0 iterations, no salt; every owner's hash has its NSEC3
        origin = dns.name.from_text("example.")
        owners = {n.labels[0].decode() for n, node in z.items()
                  if node.get_rdataset(1, dns.rdatatype.NSEC3)}
        for name in ["example.", "www.example.", "c.example.", "b.c.example.", "sub.example."]:
            h = dns.dnssec.nsec3_hash(name, salt=None, iterations=0, algorithm=1).lower()
            assert h in owners, name
        param = z.get_rdataset(origin, dns.rdatatype.NSEC3PARAM)
        assert [(r.algorithm, r.flags, r.iterations, r.salt) for r in param] == [(1, 0, 0, b"")]
    else:
        # RFC 9077: NSEC TTL = min(SOA TTL, SOA minimum)
        nsec = z.get_rdataset(dns.name.from_text("www.example."), dns.rdatatype.NSEC)
        assert nsec.ttl == 300


def test_keys_kept_with_mode_0600_and_ds(tmp_path):
    (tmp_path / "example.zone").write_text(ZONE)
    keys = tmp_path / "keys"
    first = run(PIGEON, "dnssec", "sign", "example.", tmp_path / "example.zone", keys).stdout
    files = list(keys.iterdir())
    assert len(files) == 1 and re.fullmatch(r"example\+013\+\d{5}\.csk\.pem", files[0].name)
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    second = run(PIGEON, "dnssec", "sign", "example.", tmp_path / "example.zone", keys).stdout

    def dnskeys(text):
        return sorted(l for l in text.splitlines() if "\tDNSKEY\t" in l)

    assert dnskeys(first) == dnskeys(second) and len(dnskeys(first)) == 1
    (tmp_path / "s.zone").write_text(first)
    z = dns.zone.from_text(first, origin="example.", relativize=False, check_origin=False)
    key = next(iter(z.get_rdataset("example.", dns.rdatatype.DNSKEY)))
    want = dns.dnssec.make_ds("example.", key, "SHA256")
    ds = run(PIGEON, "dnssec", "ds", "example.", keys).stdout.split()
    assert ds[3] == "DS" and " ".join(ds[4:]).upper() == want.to_text().upper()
    cds = next(iter(z.get_rdataset("example.", dns.rdatatype.CDS)))
    assert cds.to_text().upper() == want.to_text().upper()
    # a KSK + ZSK pair made by keygen signs with the split roles
    keys2 = tmp_path / "keys2"
    run(PIGEON, "dnssec", "keygen", keys2, "example.", "ED25519", "ksk")
    run(PIGEON, "dnssec", "keygen", keys2, "example.", "ED25519", "zsk")
    signed = tmp_path / "split.zone"
    signed.write_text(run(PIGEON, "dnssec", "sign", "example.", tmp_path / "example.zone",
                          keys2).stdout)
    assert verify(signed).returncode == 0
    run("ldns-verify-zone", signed)
    z2, _ = dnspython_validate(signed)
    flags = sorted(k.flags for k in z2.get_rdataset("example.", dns.rdatatype.DNSKEY))
    assert flags == [256, 257]


def test_resigning_refreshes_signatures(tmp_path):
    """Signing a signed zone again drops the old DNSSEC records and makes fresh ones."""
    (tmp_path / "example.zone").write_text(ZONE)
    keys = tmp_path / "keys"
    now = int(time.time())
    old = run(PIGEON, "dnssec", "sign", "example.", tmp_path / "example.zone", keys,
              "+now=%d" % (now - 10 * 86400)).stdout
    (tmp_path / "old.zone").write_text(old)
    assert verify(tmp_path / "old.zone", "+now=%d" % (now + 5 * 86400)).returncode == 1
    new = run(PIGEON, "dnssec", "sign", "example.", tmp_path / "old.zone", keys).stdout
    (tmp_path / "new.zone").write_text(new)
    assert verify(tmp_path / "new.zone", "+now=%d" % (now + 5 * 86400)).returncode == 0
    assert new.count("\tRRSIG\t") == old.count("\tRRSIG\t")
