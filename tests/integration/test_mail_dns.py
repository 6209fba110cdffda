"""Issue 16: Pigeon publishes the mail records of its local domains in the zones it serves
itself ([mail_dns]), through the same path as an RFC 2136 UPDATE (journal, serial, DNSSEC
signatures, IXFR), checks them with `pigeon domain check`, and rotates DKIM keys
(`pigeon domain dkim rotate`) without a moment where a signed message fails to verify.

One pigeond serves hamburger.edu (signed, dnssec = on) on a loopback port and is the mail
server of hamburger.edu. dig reads what it publishes; python3-dkim verifies its signatures
against the published keys.
"""
import hashlib
import re
import smtplib
import subprocess
from pathlib import Path

import dkim
import dns.message
import dns.query
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives import serialization

import dns_auth_helpers as DH
import pigeon_harness as H
from test_mta_sts import issue, make_ca

ZONE = """$TTL 300
@        IN SOA ns.hamburger.edu. hostmaster.hamburger.edu. 1 60 60 3600 60
@        IN NS  ns
ns       IN A   127.0.0.1
mail     IN A   127.0.0.1
@        IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
"""


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    root = tmp_path_factory.mktemp("maildns")
    d = DH.auth_daemon(root, {"hamburger.edu": ZONE},
                       zone_opts={"hamburger.edu": {"dnssec": "on",
                                                    "allow_transfer": "key:" + DH.KEY_NAME}})
    # the key of the next certificate: its TLSA is published before the switch (RFC 7671 §8.1)
    d.next_key = root / "next-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(d.next_key)], check=True,
                   capture_output=True)
    d.sections["mail_dns"] = {"publish": "yes", "interval": 1, "tlsa_next_key": str(d.next_key)}
    # the HTTPS site that serves the MTA-STS policy, with a certificate of the test's own CA
    d.ca = make_ca("Mail DNS Test CA")
    d.ca_file = root / "ca.pem"
    d.ca_file.write_bytes(d.ca[1].public_bytes(serialization.Encoding.PEM))
    crt, key = issue(d.ca, ["mta-sts.hamburger.edu", "mta-sts.nolocal.hamburger.edu"], root, "sts")
    (root / "www").mkdir()
    d.https_port, d.http_port = H.free_port(), H.free_port()
    d.sections["http web"] = {"root": str(root / "www"), "tls_cert": str(crt),
                              "tls_key": str(key), "listen": "127.0.0.1:%d" % d.http_port,
                              "listen_tls": "127.0.0.1:%d" % d.https_port}
    d.sections["mta_sts"] = {"mode": "enforce", "max_age": 86400}
    d.ports += [d.https_port, d.http_port]
    d.sections["dkim"] = {"algorithm": "ed25519", "switch_after": 3, "retire_after": 10}
    d.write_conf()
    d.setup()
    d.start()
    yield d
    report = DH.finish(d)
    assert report is None, report


def dig(d, *args):
    return DH.dig(d.dns_port, "+short", *args).strip()


def txt(d, name):
    """The TXT records at name, each its strings joined."""
    r = DH.query(d.dns_port, name, "TXT")
    return sorted(b"".join(rd.strings).decode() for rrset in r.answer for rd in rrset
                  if rrset.rdtype == dns.rdatatype.TXT)


def wait_txt(d, name, what):
    return H.wait_until(lambda: txt(d, name), what=what)


def spki_sha256(d):
    cert = Path(d.data_dir) / "tls" / "cert.pem"
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def next_spki_sha256(d):
    der = subprocess.run(["openssl", "pkey", "-in", str(d.next_key), "-pubout", "-outform",
                          "DER"], capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def test_records_published(d):
    """Every record of `pigeon domain records` is in the zone; the administrator's own SPF
    stays the only SPF record; the zone is signed over them."""
    dkim_txt = wait_txt(d, "pigeon._domainkey.hamburger.edu", "the DKIM record")
    H.wait_until(lambda: dig(d, "SRV", "_pop3s._tcp.hamburger.edu"), what="the SRV records")
    out = d.cli("domain", "records", "hamburger.edu").stdout.decode()
    assert "".join(re.findall(r'"([^"]*)"', next(
        l for l in out.splitlines() if l.startswith("pigeon._domainkey")))) == dkim_txt[0]
    assert dig(d, "MX", "hamburger.edu") == "10 mail.hamburger.edu."
    assert txt(d, "hamburger.edu") == ["v=spf1 ip4:192.0.2.0/24 -all"]
    assert txt(d, "_dmarc.hamburger.edu") == ["v=DMARC1; p=reject; adkim=r; aspf=r"]
    sts = txt(d, "_mta-sts.hamburger.edu")
    assert len(sts) == 1 and re.fullmatch(r"v=STSv1; id=[0-9a-f]{16}", sts[0]), sts
    assert txt(d, "_smtp._tls.hamburger.edu") == [
        "v=TLSRPTv1; rua=mailto:postmaster@hamburger.edu"]
    tlsa = sorted(l.replace(" ", "").lower() for l in
                  dig(d, "TLSA", "_25._tcp.mail.hamburger.edu").splitlines())
    assert tlsa == sorted(["311" + spki_sha256(d), "311" + next_spki_sha256(d)]), tlsa
    assert dig(d, "SRV", "_submission._tcp.hamburger.edu") == "0 1 %d mail.hamburger.edu." % (
        d.sub_port)
    assert dig(d, "SRV", "_imaps._tcp.hamburger.edu") == "0 0 0 ."
    # signed: the TLSA and DKIM RRsets carry signatures
    for name, rdtype in (("_25._tcp.mail.hamburger.edu", "TLSA"),
                         ("pigeon._domainkey.hamburger.edu", "TXT")):
        r = DH.query(d.dns_port, name, rdtype, want_dnssec=True)
        assert any(rs.rdtype == dns.rdatatype.RRSIG for rs in r.answer), r


def test_new_domain_journal_ixfr(d):
    """A domain added with `pigeon domain add` gets its records within a pass; the change
    is journaled and transferred as an IXFR difference."""
    wait_txt(d, "pigeon._domainkey.hamburger.edu", "the first pass")
    before = DH.serial(d.dns_port, "hamburger.edu")
    d.cli("domain", "add", "lists.hamburger.edu")
    H.wait_until(lambda: dig(d, "MX", "lists.hamburger.edu") == "10 mail.hamburger.edu.",
                 what="the MX of the new domain")
    wait_txt(d, "pigeon._domainkey.lists.hamburger.edu", "the new domain's DKIM record")
    after = DH.serial(d.dns_port, "hamburger.edu")
    assert after > before
    assert (Path(d.data_dir) / "journal" / "hamburger.edu.jnl").stat().st_size > 0
    out = DH.dig(d.dns_port, "-y", DH.DIG_KEY, "IXFR=%d" % before, "hamburger.edu")
    assert "lists.hamburger.edu." in out and "pigeon._domainkey.lists.hamburger.edu." in out
    assert "v=spf1 mx -all" in out  # the new domain had no SPF: Pigeon's is added
    assert out.count("SOA") >= 3, out  # a difference sequence, not a whole zone


def test_domain_check(d):
    wait_txt(d, "_smtp._tls.hamburger.edu", "the records")
    H.wait_until(lambda: dig(d, "TLSA", "_25._tcp.mail.hamburger.edu"), what="TLSA")
    p = d.cli("domain", "check", "hamburger.edu", "@127.0.0.1:%d" % d.dns_port, check=False)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    rows = {(l.split()[0], l.split()[1]): l.split(None, 3)[2:] for l in out.splitlines()}
    assert rows[("MX", "hamburger.edu")] == ["ok"]
    assert rows[("SPF", "hamburger.edu")][0] == "ok" and "own" in rows[("SPF", "hamburger.edu")][1]
    assert rows[("DKIM", "pigeon._domainkey.hamburger.edu")] == ["ok"]
    assert rows[("TLSA", "_25._tcp.mail.hamburger.edu")] == ["ok"]
    assert rows[("MTA-STS", "_mta-sts.hamburger.edu")] == ["ok"]
    assert len([k for k in rows if k[0] == "SRV"]) == 6
    # a local domain whose zone this server does not serve: nothing is published there
    d.cli("domain", "add", "elsewhere.test")
    p = d.cli("domain", "check", "elsewhere.test", "@127.0.0.1:%d" % d.dns_port, check=False)
    assert p.returncode == 1 and b"run pigeon domain records" in p.stderr  # no key yet
    d.cli("domain", "records", "elsewhere.test")  # makes the key
    p = d.cli("domain", "check", "elsewhere.test", "@127.0.0.1:%d" % d.dns_port, check=False)
    assert p.returncode == 1, p.stdout
    assert re.search(rb"^DKIM +pigeon._domainkey.elsewhere.test +FAILED", p.stdout, re.M), p.stdout


def dnsfunc(d):
    def f(name, timeout=5):
        return "".join(txt(d, name.decode().rstrip("."))).encode()
    return f


def send_signed(d, tag):
    msg = ("From: Alice <alice@hamburger.edu>\r\nTo: <bob@hamburger.edu>\r\n"
           "Subject: rotation %s\r\nMessage-ID: <%s@hamburger.edu>\r\n"
           "Date: Mon, 07 Dec 2026 00:00:00 +0000\r\n\r\nmessage %s\r\n" % (tag, tag, tag))
    before = d.messages()
    s = smtplib.SMTP("127.0.0.1", d.sub_port, timeout=30)
    try:
        s.starttls(context=H.unverified_context())
        s.login("alice@hamburger.edu", "crepes")
        assert s.sendmail("alice@hamburger.edu", ["bob@hamburger.edu"], msg.encode()) == {}
    finally:
        s.quit()
    new = H.wait_until(lambda: d.new_messages(before), what="message %s stored" % tag)
    data = new[0].data
    return data[data.index(b"DKIM-Signature:"):]


def test_dkim_rotation(d):
    """Rotation with short timers (switch 3 s after the new record is served, withdrawal
    10 s later): every message verifies at every step, signing never goes back to the old
    key, and the old selector's record is withdrawn at the end."""
    wait_txt(d, "pigeon._domainkey.hamburger.edu", "the first key")
    msg = send_signed(d, "r0")
    assert re.search(rb"\bs=pigeon;", msg) and dkim.verify(msg, dnsfunc=dnsfunc(d))
    out = d.cli("domain", "dkim", "rotate", "hamburger.edu").stdout.decode()
    new_sel = re.search(r"new selector (\S+);", out).group(1)
    p = d.cli("domain", "dkim", "rotate", "hamburger.edu", check=False)
    assert p.returncode == 1 and b"under way" in p.stderr  # one rotation at a time
    seen, n = [], 0
    while True:
        n += 1
        msg = send_signed(d, "r%d" % n)
        assert dkim.verify(msg, dnsfunc=dnsfunc(d)), "message %d does not verify" % n
        sel = re.search(rb"\bs=([^;\s]+)", msg).group(1).decode()
        seen.append(sel)
        if sel == new_sel and not txt(d, "pigeon._domainkey.hamburger.edu"):
            break
        assert n < 400, "no switch and withdrawal after %d messages: %s" % (n, seen[-5:])
    assert seen[-1] == new_sel
    # a signature never goes back to the old key once the new one signs
    assert seen == sorted(seen, key=lambda s: s == new_sel)
    status = d.cli("domain", "dkim", "status", "hamburger.edu").stdout.decode()
    assert re.search(r"^%s +active" % new_sel, status, re.M), status
    assert re.search(r"^pigeon +withdrawn", status, re.M), status


def curl(d, host, port, scheme="https"):
    url = "%s://%s:%d/.well-known/mta-sts.txt" % (scheme, host, port)
    p = subprocess.run(["curl", "-sS", "-i", "--cacert", str(d.ca_file), "--resolve",
                        "%s:%d:127.0.0.1" % (host, port), url], capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    head, _, body = p.stdout.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode(), body


def test_mta_sts_policy_served(d):
    """https://mta-sts.DOMAIN/.well-known/mta-sts.txt (curl verifying the certificate) is
    the [mta_sts] policy; its hash is the id published in _mta-sts; nothing over plain HTTP
    or for a name that is not a local domain's."""
    status, head, body = curl(d, "mta-sts.hamburger.edu", d.https_port)
    assert status == 200, head
    assert re.search(r"(?i)^content-type: text/plain", head, re.M), head
    assert body == (b"version: STSv1\r\nmode: enforce\r\nmx: mail.hamburger.edu\r\n"
                    b"max_age: 86400\r\n")
    sts = wait_txt(d, "_mta-sts.hamburger.edu", "the _mta-sts record")
    assert sts == ["v=STSv1; id=%s" % hashlib.sha256(body).hexdigest()[:16]]
    # the sending side's own parser (src/mailauth/mtasts.c via test_mtasts) is not needed:
    # the policy must also parse for the reference grammar of RFC 8461 §3.2
    fields = dict(l.split(": ", 1) for l in body.decode().split("\r\n") if l)
    assert fields == {"version": "STSv1", "mode": "enforce", "mx": "mail.hamburger.edu",
                      "max_age": "86400"}
    status, _, _ = curl(d, "mta-sts.hamburger.edu", d.http_port, scheme="http")
    assert status == 404
    status, _, _ = curl(d, "mta-sts.nolocal.hamburger.edu", d.https_port)
    assert status == 404
