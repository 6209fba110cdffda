"""Issue 16: DKIM (RFC 6376/8463), DMARC (RFC 7489) and Authentication-Results (RFC 8601).

An authoritative pigeond serves the test zones on 127.0.57.1:53. Alice's pigeond signs the mail
its users submit (one domain with an Ed25519 key, one with an RSA key, one whose key Pigeon
makes itself, ahead of its first mail) and delivers it to a fake MX, where python3-dkim and OpenDKIM
(opendkim -t, its resolver forwarding to the test's DNS server) verify it. Bob's pigeond (MX role, 127.0.57.2:25) verifies what python3-dkim and OpenDKIM signed,
applies the DMARC policies of the zones (reject -> 550 5.7.1, quarantine -> Junk, none ->
INBOX) and writes Authentication-Results, checked byte for byte.
"""
import base64
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import dkim
import nacl.signing
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import delivery_env as E
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

DNS_IP = "127.0.57.1"
BOB_IP = "127.0.57.2"
ALICE_IP = "127.0.57.20"
FAKE_IP = "127.0.57.30"
SPF_OK, SPF_BAD = "127.0.57.10", "127.0.57.11"
BOB = "bob@hamburger.edu"
SUBMITTERS = {"a@alice-ed.test": "pw-ed", "a@alice-rsa.test": "pw-rsa", "a@alice-gen.test": "pw-gen"}


# ---- keys

def rsa_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()


def ed_key():
    sk = nacl.signing.SigningKey.generate()
    pem = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(sk)).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return (pem, base64.b64encode(bytes(sk)),
            "v=DKIM1; k=ed25519; p=" + base64.b64encode(bytes(sk.verify_key)).decode())


def record_of_pem(pem):
    """The DKIM record for a PEM private key that Pigeon made."""
    k = serialization.load_pem_private_key(pem, None)
    if isinstance(k, ed25519.Ed25519PrivateKey):
        raw = k.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        return "v=DKIM1; k=ed25519; p=" + base64.b64encode(raw).decode()
    der = k.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def txt(text):
    """A TXT rdata in master-file form, split into strings of at most 255 octets."""
    return " ".join('"%s"' % text[i:i + 250] for i in range(0, len(text), 250))


KEYS = {}


def make_keys():
    KEYS["alice-ed"] = ed_key()
    KEYS["alice-rsa"] = rsa_key()
    KEYS["py-rsa"] = rsa_key()
    KEYS["py-ed"] = ed_key()
    KEYS["od"] = rsa_key()  # signed with by opendkim -t


def zones():
    def z(origin, body):
        return E.zone(origin, body, ns_ip=DNS_IP)
    spf = '@ TXT "v=spf1 ip4:%s -all"' % SPF_OK
    return {
        "alice-ed.test": z("alice-ed.test", 's1._domainkey TXT %s\n_dmarc TXT "v=DMARC1; p=reject"\n'
                           '@ MX 10 mail\nmail A %s\n@ TXT "v=spf1 mx -all"'
                           % (txt(KEYS["alice-ed"][2]), ALICE_IP)),
        "alice-rsa.test": z("alice-rsa.test", "s1._domainkey TXT %s" % txt(KEYS["alice-rsa"][1])),
        "fake.test": z("fake.test", "@ MX 10 mx\nmx A %s" % FAKE_IP),
        "signer.test": z("signer.test", "%s\n_dmarc TXT \"v=DMARC1; p=reject\"\n"
                         "py._domainkey TXT %s\npyed._domainkey TXT %s\nod._domainkey TXT %s"
                         % (spf, txt(KEYS["py-rsa"][1]), txt(KEYS["py-ed"][2]),
                            txt(KEYS["od"][1]))),
        "quar.test": z("quar.test", '%s\n_dmarc TXT "v=DMARC1; p=quarantine"' % spf),
        "none.test": z("none.test", '%s\n_dmarc TXT "v=DMARC1; p=none"' % spf),
        "org.test": z("org.test", '_dmarc TXT "v=DMARC1; p=reject; sp=quarantine"'),
        "strict.test": z("strict.test", '_dmarc TXT "v=DMARC1; p=reject; adkim=s"\n'
                         "py._domainkey.mail TXT %s" % txt(KEYS["py-rsa"][1])),
        "relaxed.test": z("relaxed.test", '_dmarc TXT "v=DMARC1; p=reject"\n'
                          "py._domainkey.mail TXT %s" % txt(KEYS["py-rsa"][1])),
        "nodmarc.test": z("nodmarc.test", spf),
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    make_keys()
    e = E.Env(tmp_path_factory.mktemp("mailauth"))
    try:
        e.dns(zones(), ip=DNS_IP)
        bob = e.mx("bob", BOB_IP, ["hamburger.edu"], [BOB], spf="mark", resolver=DNS_IP)
        port = H.free_port()
        alice = e.node("alice", "mail.alice-ed.test", "alice-ed.test", start=False,
                       domains=["alice-ed.test", "alice-rsa.test", "alice-gen.test"],
                       users=SUBMITTERS,
                       sections={"submission": {"listen": "127.0.0.1:%d" % port},
                                 "dkim": {"selector": "s1", "algorithm": "ed25519"},
                                 "delivery": {"resolver": "%s:53" % DNS_IP,
                                              "source_address": ALICE_IP, "remote_port": 25,
                                              "retry_initial": 1, "scan_interval": 1}},
                       waits=[("127.0.0.1", port)])
        for name, dom in (("alice-ed", "alice-ed.test"), ("alice-rsa", "alice-rsa.test")):
            d = Path(alice.data_dir) / "dkim" / dom
            d.mkdir(parents=True, exist_ok=True)
            (d / "s1.pem").write_bytes(KEYS[name][0])
            os.chmod(d / "s1.pem", 0o600)
        alice.start()
        fake = e.fake(FAKE_IP)
        yield {"bob": bob, "alice": alice, "fake": fake}
    finally:
        errors = e.close()
    assert not errors, "\n".join(errors)


def message(sender, tag, to=BOB, extra=""):
    body = "".join("line %d of message %s, long enough for every tool\r\n" % (i, tag)
                   for i in range(40))
    return ("From: Sender <%s>\r\nTo: <%s>\r\nSubject: mailauth %s\r\n"
            "Message-ID: <%s@mailauth.test>\r\nDate: Sun, 06 Dec 2026 12:00:00 +0000\r\n%s"
            "\r\n%s" % (sender, to, tag, tag, extra, body)).encode()


# ---- Alice signs; python3-dkim and OpenDKIM verify

def dnsfunc(records):
    def f(name, timeout=5):
        return records.get(name.decode().rstrip("."), "").encode()
    return f


def submitted(env, sender, tag):
    alice, fake = env["alice"], env["fake"]
    alice.submit(["x@fake.test"], message(sender, tag, to="x@fake.test"), sender=sender,
                 password=SUBMITTERS[sender])
    return E.wait_for(lambda: next((m[2] for m in list(fake.messages)
                                    if ("<%s@mailauth.test>" % tag).encode() in m[2]), None),
                      timeout=60, what="the message at the fake MX")


def opendkim_verify(msg):
    """opendkim -t in verify mode; its resolver (libunbound) forwards to the test's DNS."""
    work = tempfile.mkdtemp(dir=os.path.expanduser("~"))
    try:
        os.chmod(work, 0o700)
        Path(work, "v.conf").write_text("Syslog no\nMode v\nAlwaysAddARHeader yes\n"
                                        "Nameservers %s\n" % DNS_IP)
        Path(work, "m.eml").write_bytes(msg)
        p = subprocess.run(["opendkim", "-x", work + "/v.conf", "-t", work + "/m.eml", "-vvv"],
                           capture_output=True, timeout=60)
        return p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    finally:
        shutil.rmtree(work)


@pytest.mark.parametrize("sender,alg", [("a@alice-ed.test", b"ed25519-sha256"),
                                        ("a@alice-rsa.test", b"rsa-sha256")])
def test_alice_signs(env, sender, alg):
    data = submitted(env, sender, "sign-" + sender.split("@")[1])
    sig = data.split(b"\r\n\r\n")[0]
    assert data.startswith(b"DKIM-Signature: v=1; a=" + alg + b"; c=relaxed/relaxed;"), data[:300]
    flat = re.sub(rb"\s+", b"", sig)
    assert b"h=from:from:to:to:subject:subject:date:message-id;" in flat, sig
    dom = sender.split("@")[1]
    rec = {"s1._domainkey." + dom: KEYS[dom.split(".")[0]][2 if alg == b"ed25519-sha256" else 1]}
    assert dkim.verify(data, dnsfunc=dnsfunc(rec))
    # tampered body and tampered Subject: python3-dkim says no
    assert not dkim.verify(data.replace(b"line 3 of", b"line 4 of"), dnsfunc=dnsfunc(rec))
    assert not dkim.verify(data.replace(b"Subject: mailauth", b"Subject: mailAuth"),
                           dnsfunc=dnsfunc(rec))
    # over-signing: an added second From breaks the signature
    assert not dkim.verify(b"From: x@evil.test\r\n" + data, dnsfunc=dnsfunc(rec))


def test_key_made_ahead_then_used(env):
    """A local domain without a key gets one from the key thread (mailauth/service/keyprep.c)
    soon after the start, before any of its mail is signed: never generated on a worker's
    loop in the middle of a submission. The domains that had keys are left alone."""
    alice = env["alice"]
    alice.wait_log(r"dkim: made the ed25519 key of alice-gen\.test, selector s1")
    pem_path = Path(alice.data_dir) / "dkim" / "alice-gen.test" / "s1.pem"
    assert pem_path.exists()
    made = re.findall(r"dkim: made the \S+ key of (\S+),", alice.log())
    assert made == ["alice-gen.test"], made
    data = submitted(env, "a@alice-gen.test", "gen")
    assert pem_path.stat().st_mode & 0o777 == 0o600
    rec = {"s1._domainkey.alice-gen.test": record_of_pem(pem_path.read_bytes())}
    assert data.startswith(b"DKIM-Signature: v=1; a=ed25519-sha256;")
    assert dkim.verify(data, dnsfunc=dnsfunc(rec))


# ---- Bob verifies and applies DMARC

def send(src, msg, sender):
    return E.send_from(BOB_IP, src, msg, sender, BOB)


def stored(bob, tag, mailbox="INBOX"):
    for m in bob.messages(BOB, mailbox):
        if ("<%s@mailauth.test>" % tag) in H.header_values(m.data, "Message-ID"):
            return m.data
    return None


def authres(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    m = re.search(r"^Authentication-Results: .*?\r\n(?=\S)", head, re.S | re.M)
    assert m, head[:300]
    return m.group(0)


def py_sign(msg, which):
    if which == "py-ed":
        return dkim.sign(msg, b"pyed", b"signer.test", KEYS["py-ed"][1],
                         signature_algorithm=b"ed25519-sha256",
                         include_headers=[b"from", b"to", b"subject"]) + msg
    return dkim.sign(msg, b"py", b"signer.test", KEYS["py-rsa"][0],
                     include_headers=[b"from", b"to", b"subject"]) + msg


def opendkim_sign(msg, domain, selector):
    work = tempfile.mkdtemp(dir=os.path.expanduser("~"))
    try:
        os.chmod(work, 0o700)
        Path(work, "k.pem").write_bytes(KEYS["od"][0])
        os.chmod(Path(work, "k.pem"), 0o600)
        Path(work, "s.conf").write_text(
            "Syslog no\nMode s\nDomain %s\nSelector %s\nKeyFile %s/k.pem\n"
            "Canonicalization relaxed/simple\nSignatureAlgorithm rsa-sha256\n"
            % (domain, selector, work))
        Path(work, "m.eml").write_bytes(msg)
        p = subprocess.run(["opendkim", "-x", work + "/s.conf", "-t", work + "/m.eml", "-vvv"],
                           capture_output=True, timeout=60)
        out = p.stdout.decode() + p.stderr.decode()
        m = re.search(r"hname='DKIM-Signature' hvalue='(.*?)'", out, re.S)
        assert m, out
        return ("DKIM-Signature: " + m.group(1).replace("\n", "\r\n") + "\r\n").encode() + msg
    finally:
        shutil.rmtree(work)


def b_tag(msg):
    m = re.search(rb"\bb=([A-Za-z0-9+/]{8})", re.sub(rb"\s+", b"", msg.split(b"\r\n\r\n")[0]))
    return m.group(1).decode()


@pytest.mark.parametrize("signer", ["py-rsa", "py-ed", "opendkim"])
def test_bob_verifies(env, signer):
    tag = "verify-" + signer
    msg = message("a@signer.test", tag)
    if signer == "opendkim":
        signed, s, a = opendkim_sign(msg, "signer.test", "od"), "od", "rsa-sha256"
    else:
        signed = py_sign(msg, signer)
        s, a = ("pyed", "ed25519-sha256") if signer == "py-ed" else ("py", "rsa-sha256")
    r = send(SPF_BAD, signed, "a@signer.test")  # SPF fails: DMARC passes through DKIM alone
    assert r.code == 250, r
    data = stored(env["bob"], tag)
    assert authres(data) == (
        "Authentication-Results: mail.hamburger.edu;\r\n"
        "\tdkim=pass header.d=signer.test header.s=%s header.a=%s header.b=%s;\r\n"
        "\tspf=fail smtp.mailfrom=a@signer.test;\r\n"
        "\tdmarc=pass (p=reject dis=none) header.from=signer.test\r\n" % (s, a, b_tag(signed)))


def test_tampered_is_rejected(env):
    signed = py_sign(message("a@signer.test", "tampered"), "py-rsa")
    r = send(SPF_BAD, signed.replace(b"line 7 of", b"line 8 of"), "a@signer.test")
    assert r.code == 550 and r.enhanced == "5.7.1", r
    assert "DMARC" in r.text and "signer.test" in r.text
    assert stored(env["bob"], "tampered") is None
    assert stored(env["bob"], "tampered", "Junk") is None


def test_tampered_header_fails(env):
    """p=none domain: the failing signature is reported, the message delivered."""
    msg = message("a@none.test", "hdr")
    signed = dkim.sign(msg, b"py", b"signer.test", KEYS["py-rsa"][0],
                       include_headers=[b"from", b"to", b"subject"]) + msg
    r = send(SPF_BAD, signed.replace(b"Subject: mailauth hdr", b"Subject: mailauth HDR"),
             "a@none.test")
    assert r.code == 250, r
    assert authres(stored(env["bob"], "hdr")) == (
        "Authentication-Results: mail.hamburger.edu;\r\n"
        "\tdkim=fail reason=\"signature did not verify\" header.d=signer.test header.s=py"
        " header.a=rsa-sha256 header.b=%s;\r\n"
        "\tspf=fail smtp.mailfrom=a@none.test;\r\n"
        "\tdmarc=fail (p=none dis=none) header.from=none.test\r\n" % b_tag(signed))


def test_unsigned_spf_aligned_passes(env):
    r = send(SPF_OK, message("a@signer.test", "spfpass"), "bounce@signer.test")
    assert r.code == 250, r
    assert authres(stored(env["bob"], "spfpass")) == (
        "Authentication-Results: mail.hamburger.edu;\r\n\tdkim=none;\r\n"
        "\tspf=pass smtp.mailfrom=bounce@signer.test;\r\n"
        "\tdmarc=pass (p=reject dis=none) header.from=signer.test\r\n")


def test_no_policy_is_none(env):
    r = send(SPF_BAD, message("a@nodmarc.test", "nodmarc"), "a@nodmarc.test")
    assert r.code == 250, r
    assert authres(stored(env["bob"], "nodmarc")) == (
        "Authentication-Results: mail.hamburger.edu;\r\n\tdkim=none;\r\n"
        "\tspf=fail smtp.mailfrom=a@nodmarc.test;\r\n"
        "\tdmarc=none header.from=nodmarc.test\r\n")


def test_quarantine_goes_to_junk(env):
    r = send(SPF_BAD, message("a@quar.test", "quar"), "a@quar.test")
    assert r.code == 250, r
    assert stored(env["bob"], "quar") is None
    data = stored(env["bob"], "quar", "Junk")
    assert "dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test" in authres(data)


def test_none_is_delivered(env):
    r = send(SPF_BAD, message("a@none.test", "none"), "a@none.test")
    assert r.code == 250, r
    assert "dmarc=fail (p=none dis=none)" in authres(stored(env["bob"], "none"))


def test_subdomain_policy(env):
    """No record at _dmarc.news.org.test: the organisational domain's sp= applies."""
    r = send(SPF_BAD, message("a@news.org.test", "sub"), "a@news.org.test")
    assert r.code == 250, r
    data = stored(env["bob"], "sub", "Junk")
    assert "dmarc=fail (p=quarantine dis=quarantine) header.from=news.org.test" in authres(data)


@pytest.mark.parametrize("domain,ok", [("relaxed.test", True), ("strict.test", False)])
def test_alignment(env, domain, ok):
    """Signed by mail.DOMAIN for From: DOMAIN: aligned when relaxed, not when adkim=s."""
    tag = "align-" + domain
    msg = message("a@" + domain, tag)
    signed = dkim.sign(msg, b"py", ("mail." + domain).encode(), KEYS["py-rsa"][0],
                       include_headers=[b"from", b"to", b"subject"]) + msg
    r = send(SPF_BAD, signed, "a@" + domain)
    if ok:
        assert r.code == 250, r
        assert "dmarc=pass (p=reject dis=none) header.from=relaxed.test" in authres(
            stored(env["bob"], tag))
    else:
        assert r.code == 550 and r.enhanced == "5.7.1", r


def test_two_signatures_and_forged_results(env):
    msg = message("a@signer.test", "two",
                  extra="Authentication-Results: mail.hamburger.edu; dkim=pass; dmarc=pass\r\n")
    signed = py_sign(py_sign(msg, "py-rsa"), "py-ed")
    r = send(SPF_BAD, signed, "a@signer.test")
    assert r.code == 250, r
    data = stored(env["bob"], "two")
    ar = authres(data)
    assert ar.count("dkim=pass") == 2, ar
    assert "header.s=pyed header.a=ed25519-sha256" in ar and "header.s=py header.a=rsa" in ar
    # the forged field with our authserv-id is gone; only ours remains
    assert len(H.header_values(data, "Authentication-Results")) == 1


def test_domain_records(env):
    """`pigeon domain records` prints what to publish; the DKIM record is the key's own."""
    alice = env["alice"]
    out = alice.cli("domain", "records", "alice-ed.test").stdout.decode()
    lines = {l.split()[0] + " " + l.split()[3]: l for l in out.splitlines()
             if l and not l.startswith(";")}
    assert lines["alice-ed.test. MX"].split()[-2:] == ["10", "mail.alice-ed.test."]
    assert '"v=spf1 mx -all"' in lines["alice-ed.test. TXT"]
    dkim_txt = "".join(re.findall(r'"([^"]*)"', lines["s1._domainkey.alice-ed.test. TXT"]))
    assert dkim_txt == KEYS["alice-ed"][2]
    assert '"v=DMARC1; p=reject; adkim=r; aspf=r"' in lines["_dmarc.alice-ed.test. TXT"]
    # TLSA 3 1 1: SHA-256 of the certificate's public key, as openssl computes it
    cert = Path(alice.data_dir) / "tls" / "cert.pem"
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    want = hashlib.sha256(der).hexdigest()
    assert [f.lower() for f in lines["_25._tcp.mail.alice-ed.test. TLSA"].split()[-4:]] == [
        "3", "1", "1", want]
    assert lines["_submission._tcp.alice-ed.test. SRV"].split()[-4:] == [
        "0", "1", str(alice.sub_port), "mail.alice-ed.test."]
    assert lines["_imaps._tcp.alice-ed.test. SRV"].split()[-4:] == ["0", "0", "0", "."]
    assert lines["_submissions._tcp.alice-ed.test. SRV"].split()[-4:] == ["0", "0", "0", "."]


def test_domain_check(env):
    """`pigeon domain check` asks DNS: all four records right for alice-ed.test; alice-rsa.test
    has its DKIM key but no MX, SPF or DMARC; a key that is not the server's is WRONG."""
    alice = env["alice"]
    p = alice.cli("domain", "check", "alice-ed.test", "@" + DNS_IP, check=False)
    out = p.stdout.decode()
    assert p.returncode == 0, out + p.stderr.decode()
    rows = [l.split()[:3] for l in out.splitlines()]
    assert rows[:4] == [
        ["MX", "alice-ed.test", "ok"], ["SPF", "alice-ed.test", "ok"],
        ["DKIM", "s1._domainkey.alice-ed.test", "ok"], ["DMARC", "_dmarc.alice-ed.test", "ok"]]
    # the optional records the test zone does not have are reported without failing
    assert rows[4:7] == [["MTA-STS", "_mta-sts.alice-ed.test", "missing"],
                         ["TLS-RPT", "_smtp._tls.alice-ed.test", "missing"],
                         ["TLSA", "_25._tcp.mail.alice-ed.test", "missing"]]
    assert [r[0] + " " + r[2] for r in rows[7:]] == ["SRV missing"] * 6
    p = alice.cli("domain", "check", "alice-rsa.test", "@" + DNS_IP, check=False)
    out = p.stdout.decode()
    assert p.returncode == 1, out
    states = {l.split()[0]: l.split()[2] for l in out.splitlines()
              if l.split()[0] in ("MX", "SPF", "DKIM", "DMARC")}
    assert states == {"MX": "MISSING", "SPF": "MISSING", "DKIM": "ok", "DMARC": "MISSING"}, out
    # swap the key file: the published record is no longer this server's key
    pem = Path(alice.data_dir) / "dkim" / "alice-rsa.test" / "s1.pem"
    saved = pem.read_bytes()
    try:
        pem.write_bytes(rsa_key()[0])
        out = alice.cli("domain", "check", "alice-rsa.test", "@" + DNS_IP, check=False).stdout
        assert re.search(rb"^DKIM +s1._domainkey.alice-rsa.test +WRONG ", out, re.M), out
    finally:
        pem.write_bytes(saved)


@pytest.mark.parametrize("lines,message", [
    ("[dkim]\nalgorithm = dsa\n", "p.conf:6: [dkim] algorithm: must be rsa or ed25519"),
    ("[dkim]\nverify = maybe\n", "[dkim] verify: value must be yes or no"),
    ("[dkim]\nselectors = a\n", "[dkim] selectors: unknown key in this section"),
])
def test_dkim_config_errors(tmp_path, lines, message):
    conf = tmp_path / "p.conf"
    conf.write_text("[server]\nhostname = mx.test\nprimary_domain = test\ndata_dir = %s\n%s"
                    % (tmp_path / "data", lines))
    p = subprocess.run([str(H.PIGEON), "-c", str(conf), "check-config"], capture_output=True,
                       env=H.sanitizer_env())
    assert p.returncode != 0
    assert message in p.stderr.decode(), p.stderr.decode()
