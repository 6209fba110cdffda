"""Issue 16: DANE for outbound SMTP (RFC 7672).

The signed hierarchy of signed_hierarchy.py (a signed root, edu., hamburger.edu. served by
pigeond, DS by CDS) gets TLSA records for the MX hosts of four hamburger.edu mail domains, all
served by Bob's pigeond on 127.0.0.25:25 with one certificate:

    hamburger.edu        MX mail     TLSA 3 1 1 SHA-256 of the key       -> matched, delivered
    full.hamburger.edu   MX fullmx   TLSA 3 0 2 SHA-512 of the whole cert -> matched, delivered
    pkix.hamburger.edu   MX pkixmx   TLSA 1 1 1 (PKIX-EE: not for SMTP)   -> TLS, unauthenticated
    bad.hamburger.edu    MX badmx    TLSA 3 1 1 (another key)             -> deferred, never sent

Alice's pigeond delivers through its own validating resolver ([delivery] resolver = internal,
the root's DS as trust anchor), which sets AD on the validated MX and TLSA answers.

REQUIRETLS (RFC 8689) over DANE: a tagged message to hamburger.edu goes to an MX authenticated
by DNSSEC, over TLS authenticated by the TLSA record in Pigeon's own signed zone (validated by
Pigeon's resolver), and carries the tag to Bob; one to bad.hamburger.edu, whose TLSA record
does not match, comes back at once with 5.7.30 instead of being deferred.
"""
import datetime
import hashlib
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import delivery_env as E
import dns_hierarchy as DH
import pigeon_harness as H
import signed_hierarchy as SH

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not DH.have_nsd(),
                                reason="needs root (port 53 and 25 on 127.0.x.y) and nsd")

BOB_IP = "127.0.0.25"
ALICE = "alice@crepes.test"
DOMAINS = ["hamburger.edu", "full.hamburger.edu", "pkix.hamburger.edu", "bad.hamburger.edu"]


def bob_cert(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.hamburger.edu")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    crt, kp = directory / "bob.crt", directory / "bob.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    os.chmod(kp, 0o600)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return crt, kp, hashlib.sha256(spki).hexdigest(), hashlib.sha512(
        cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture(scope="module")
def world(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("dane")
    crt, key, spki256, cert512 = bob_cert(root)
    monkeypatch_module.setattr(SH, "HAMBURGER", SH.HAMBURGER + (
        "_25._tcp.mail TLSA 3 1 1 %s\n"
        "full MX 10 fullmx\nfullmx A %s\n_25._tcp.fullmx TLSA 3 0 2 %s\n"
        "pkix MX 10 pkixmx\npkixmx A %s\n_25._tcp.pkixmx TLSA 1 1 1 %s\n"
        "bad MX 10 badmx\nbadmx A %s\n_25._tcp.badmx TLSA 3 1 1 %s\n"
        % (spki256, BOB_IP, cert512, BOB_IP, spki256, BOB_IP, "00" * 32)).replace(
            "mail A 127.0.0.25", "mail A %s" % BOB_IP))
    h = SH.SignedHierarchy(root / "dns", with_nsd=False)
    e = E.Env(root)
    try:
        rport, sport = H.free_port(), H.free_port()
        alice = e.node("alice", "mail.crepes.test", "crepes.test", domains=["crepes.test"],
                       users={ALICE: "pw-alice"},
                       sections={"submission": {"listen": "127.0.0.1:%d" % sport},
                                 "resolver": {"listen": "127.0.0.1:%d" % rport,
                                              "allow": "127.0.0.0/8",
                                              "root_hints": str(h.hints),
                                              "trust_anchor": str(h.anchor)},
                                 "delivery": {"resolver": "internal", "remote_port": 25,
                                              "retry_initial": 1, "scan_interval": 1,
                                              "connect_timeout": 5, "command_timeout": 10}},
                       waits=[("127.0.0.1", sport)])
        bob = e.mx("bob", BOB_IP, DOMAINS, ["bob@" + d for d in DOMAINS], spf="off",
                   extra={"server": {"tls_cert": str(crt), "tls_key": str(key)},
                          "delivery": {"resolver": "127.0.0.1:%d" % rport}})
        yield {"alice": alice, "bob": bob}
    finally:
        errors = e.close() + h.close()
    assert not errors, "\n".join(map(str, errors))


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def send(w, domain, tag):
    to = "bob@" + domain
    w["alice"].submit([to], E.message(to, tag, sender=ALICE), sender=ALICE,
                      password="pw-alice")


def delivered(w, domain, tag):
    return E.wait_for(lambda: [m for m in w["bob"].messages("bob@" + domain)
                               if ("<%s@crepes.fr>" % tag).encode() in m.data],
                      what="%s delivered at Bob" % tag)


@pytest.mark.parametrize("domain,host,usage", [("hamburger.edu", "mail.hamburger.edu", 3),
                                               ("full.hamburger.edu", "fullmx.hamburger.edu", 3)])
def test_matched(world, domain, host, usage):
    start = world["alice"].log_size()
    send(world, domain, "ok-" + domain)
    delivered(world, domain, "ok-" + domain)
    world["alice"].wait_log(r"DANE: certificate of %s matched a TLSA record \(usage %d\)"
                            % (host.replace(".", r"\."), usage), start=start)


def test_unusable_records_still_require_tls(world):
    start = world["alice"].log_size()
    send(world, "pkix.hamburger.edu", "pkix")
    delivered(world, "pkix.hamburger.edu", "pkix")
    world["alice"].wait_log(r"DANE: 0 usable TLSA record\(s\) of 1 for pkixmx\.hamburger\.edu: "
                            r"TLS required, not authenticated", start=start)


def test_mismatch_defers_and_never_falls_back(world):
    alice, bob = world["alice"], world["bob"]
    start = alice.log_size()
    send(world, "bad.hamburger.edu", "bad")
    # tried at least twice, each time refused at the TLS handshake: never sent in plaintext
    alice.wait_log(r"TLS with badmx\.hamburger\.edu\[127\.0\.0\.25\] failed", start=start,
                   count=2)
    rows = E.wait_for(lambda: [r for r in alice.queue_entries()
                               if r["rcpt"] == "bob@bad.hamburger.edu" and r["error"]],
                      what="the deferred row")
    assert rows[0]["state"] != "bounced" and "4.7." in rows[0]["error"], rows
    assert bob.messages("bob@bad.hamburger.edu") == []
    assert "bob@bad.hamburger.edu" not in bob.log()


def submit_requiretls(w, rcpt, tag):
    from test_requiretls import submit_requiretls as submit
    submit(w["alice"], rcpt, tag, sender=ALICE, password="pw-alice")


def test_requiretls_over_dane(world):
    alice, bob = world["alice"], world["bob"]
    a0, b0 = alice.log_size(), bob.log_size()
    submit_requiretls(world, "bob@hamburger.edu", "rtls-dane")
    delivered(world, "hamburger.edu", "rtls-dane")
    alice.wait_log(r"queue hamburger\.edu: DANE: certificate of mail\.hamburger\.edu matched a "
                   r"TLSA record \(usage 3\)", a0)
    alice.wait_log(r"to=<bob@hamburger\.edu> relay=mail\.hamburger\.edu\[.*\] sent", a0)
    # the tag went on to Bob: MAIL ... REQUIRETLS after STARTTLS
    bob.wait_log(r"smtp \S+ mail from=<alice@crepes\.test> requiretls", b0)


def test_requiretls_dane_mismatch_bounces(world):
    alice, bob = world["alice"], world["bob"]
    a0 = alice.log_size()
    submit_requiretls(world, "bob@bad.hamburger.edu", "rtls-badtlsa")
    dsn = E.wait_for(lambda: next((m.data for m in alice.messages(ALICE)
                                   if b"<rtls-badtlsa@crepes.fr>" in m.data
                                   and b"multipart/report" in m.data), None),
                     timeout=60, what="the bounce of the REQUIRETLS message")
    assert b"Status: 5.7.30" in dsn, dsn
    assert b"TLS handshake with the server failed" in dsn, dsn
    # RFC 8689 §5: the header comes back, not the content
    assert b"text/rfc822-headers" in dsn and b"Hello, this is rtls-badtlsa." not in dsn
    alice.wait_log(r"TLS with badmx\.hamburger\.edu\[127\.0\.0\.25\] failed", a0)
    # bounced, not deferred: no row of it stays queued, and Bob never had it
    assert not [r for r in alice.queue_entries() if r["rcpt"] == "bob@bad.hamburger.edu"
                and "rtls-badtlsa" in alice.queue_show(r["id"])]
    assert not [m for m in bob.messages("bob@bad.hamburger.edu")
                if b"rtls-badtlsa" in m.data]
