"""Issue 16: REQUIRETLS (RFC 8689) between two pigeonds, with swaks, smtplib and Postfix.

The test runs its own certificate authority, an authoritative pigeond for the test zones
(127.0.63.1:53), an MTA-STS policy server (test_mta_sts.PolicyServer, HTTPS on 127.0.63.5),
Bob's pigeond on 127.0.63.2:25 (a test-CA certificate for mx.secure.test, and by SNI a rogue
CA's certificate for mx.bad.test) and a Postfix on 127.0.63.3:25 (a test-CA certificate; Postfix
has no REQUIRETLS). Alice's pigeond (crepes.fr) trusts the test CA (SSL_CERT_FILE) and sends:

  secure.test    MTA-STS enforce, MX Bob: a REQUIRETLS message goes with MAIL ... REQUIRETLS
                 over verified TLS, and Bob takes the tag
  nopolicy.test  MX Bob, no MTA-STS, no DNSSEC: the MX is not authenticated, so a REQUIRETLS
                 message bounces at once (5.7.30) with its header only; a plain one is delivered
  postfix.test   MTA-STS enforce, MX Postfix: verified TLS but no REQUIRETLS offered: bounced
                 (5.7.30); a plain message is delivered
  badcert.test   MTA-STS enforce, MX Bob under the rogue certificate: REQUIRETLS bounced
                 (5.7.30); "TLS-Required: No" (sent with swaks) delivered despite the policy;
                 neither: deferred, as MTA-STS says
  down.test      MTA-STS enforce, nothing listening: a REQUIRETLS message stays queued with
                 its tag (`pigeon queue show`)
"""
import shutil
import smtplib
import subprocess

import pytest

import delivery_env as E
import pigeon_harness as H
import postfix_instance as P
from test_mta_sts import issue, sts_world

pytestmark = pytest.mark.skipif(not E.needs_root or P.available() is not None,
                                reason="needs root (ports 25, 53, 443) and Postfix")

DNS_IP = "127.0.63.1"
BOB_IP = "127.0.63.2"
PF_IP = "127.0.63.3"
POLICY_IP = "127.0.63.5"
DOWN_IP = "127.0.63.9"
ALICE_IP = "127.0.63.20"
BOB_DOMAINS = ["secure.test", "nopolicy.test", "badcert.test"]


def policy(mx):
    return "version: STSv1\r\nmode: enforce\r\nmx: %s\r\nmax_age: 86400\r\n" % mx


POLICIES = {"secure.test": policy("mx.secure.test"), "postfix.test": policy("mx.postfix.test"),
            "badcert.test": policy("mx.bad.test"), "down.test": policy("mx.down.test")}


def zones():
    def z(origin, body):
        return E.zone(origin, body, ns_ip=DNS_IP)
    sts = '_mta-sts TXT "v=STSv1; id=20261207T000000;"\nmta-sts A %s\n' % POLICY_IP
    return {
        "secure.test": z("secure.test", "@ MX 10 mx\nmx A %s\n%s" % (BOB_IP, sts)),
        "nopolicy.test": z("nopolicy.test", "@ MX 10 mx\nmx A %s" % BOB_IP),
        "postfix.test": z("postfix.test", "@ MX 10 mx\nmx A %s\n%s" % (PF_IP, sts)),
        "badcert.test": z("badcert.test", "@ MX 10 mx.bad.test.\n%s" % sts),
        "bad.test": z("bad.test", "mx A %s" % BOB_IP),
        "down.test": z("down.test", "@ MX 10 mx\nmx A %s\n%s" % (DOWN_IP, sts)),
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    ip = {"dns": DNS_IP, "bob": BOB_IP, "policy": POLICY_IP, "alice": ALICE_IP}
    with sts_world(tmp_path_factory.mktemp("requiretls"), ip, zones(), POLICIES, BOB_DOMAINS,
                   ["mx.secure.test", "mx.nopolicy.test"], list(POLICIES)) as w:
        pf = P.Postfix(PF_IP, "mx.postfix.test", "postfix.test", ["u@postfix.test"],
                       nameserver=DNS_IP)
        try:
            crt, key = issue(w["ca"], ["mx.postfix.test"], w["root"], "postfix")
            shutil.copy(crt, pf.dir / "cert.pem")  # a certificate Alice can verify
            shutil.copy(key, pf.dir / "key.pem")
            pf.start()
            yield {**w, "postfix": pf}
        finally:
            pf.cleanup()


def submit_requiretls(alice, rcpt, tag, sender=E.ALICE, password=E.ALICE_PASSWORD):
    """Alice's mail client submits with MAIL ... REQUIRETLS (Python's smtplib); also used by
    test_dane.py."""
    s = smtplib.SMTP("127.0.0.1", alice.sub_port, local_hostname="laptop.crepes.fr", timeout=30)
    try:
        s.starttls(context=H.unverified_context())
        s.login(sender, password)
        assert s.has_extn("requiretls"), s.esmtp_features
        assert s.sendmail(sender, [rcpt], E.message(rcpt, tag, sender=sender),
                          mail_options=["REQUIRETLS"]) == {}
    finally:
        s.quit()


def swaks(*args):
    r = subprocess.run(["swaks", "--helo", "laptop.crepes.fr", *args], capture_output=True,
                       text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def has(msgs, tag):
    return any(("<%s@crepes.fr>" % tag) in H.header_values(m.data, "Message-ID") for m in msgs)


def bounce_for(alice, tag):
    """The DSN in Alice's INBOX that returns the message tagged tag."""
    return E.wait_for(lambda: next((m.data for m in alice.messages(E.ALICE)
                                    if ("<%s@crepes.fr>" % tag).encode() in m.data
                                    and b"multipart/report" in m.data), None),
                      timeout=60, what="the bounce of " + tag)


def requiretls_bounced(alice, rcpt, tag, why):
    """Alice submits with REQUIRETLS and gets it back: 5.7.30, why in the diagnostic."""
    submit_requiretls(alice, rcpt, tag)
    dsn = bounce_for(alice, tag)
    assert b"Status: 5.7.30" in dsn, dsn
    assert why.encode() in dsn, dsn
    # RFC 8689 §5: the content of a REQUIRETLS message is not returned, its header is
    assert b"text/rfc822-headers" in dsn and b"message/rfc822" not in dsn, dsn
    assert ("Subject: test %s" % tag).encode() in dsn
    assert ("Hello, this is %s." % tag).encode() not in dsn


def test_offered_only_over_tls(env):
    """swaks sees REQUIRETLS only in the EHLO reply after STARTTLS; a MAIL ... REQUIRETLS in
    plaintext is refused."""
    rc, out = swaks("--server", BOB_IP, "--port", "25", "--quit-after", "HELO")
    assert rc == 0 and "250-STARTTLS" in out and "REQUIRETLS" not in out, out
    rc, out = swaks("--server", BOB_IP, "--port", "25", "--tls", "--quit-after", "HELO")
    assert rc == 0 and "REQUIRETLS" in out, out
    s = smtplib.SMTP(BOB_IP, 25, local_hostname="client.test", timeout=30)
    try:
        s.ehlo()
        assert not s.has_extn("requiretls")
        code, text = s.mail("x@client.test", ["REQUIRETLS"])
        assert code == 530 and b"5.7.0" in text, (code, text)
        s.starttls(context=H.unverified_context())
        s.ehlo()
        assert s.has_extn("requiretls")
        assert s.mail("x@client.test", ["REQUIRETLS"])[0] == 250
    finally:
        s.quit()


def test_requiretls_between_pigeons(env):
    alice, bob = env["alice"], env["bob"]
    a0, b0 = alice.log_size(), bob.log_size()
    submit_requiretls(alice, "u@secure.test", "rtls-secure")
    alice.wait_log(r"smtp \S+ mail from=<alice@crepes\.fr> requiretls", a0)
    E.wait_for(lambda: has(bob.messages("u@secure.test"), "rtls-secure"),
               what="the REQUIRETLS message at Bob")
    alice.wait_log(r"queue secure\.test: REQUIRETLS: certificate of mx\.secure\.test verified",
                   a0)
    # Alice's MAIL command carried the tag to Bob
    bob.wait_log(r"smtp \S+ mail from=<alice@crepes\.fr> requiretls", b0)


def test_unauthenticated_mx_bounces(env):
    alice, bob = env["alice"], env["bob"]
    b0 = bob.log_size()
    requiretls_bounced(alice, "u@nopolicy.test", "rtls-nopolicy", "authenticated by neither DNSSEC nor MTA-STS")
    assert "requiretls" not in bob.log_tail(start=b0)  # never sent
    # the control: the same domain takes a message that does not ask for REQUIRETLS
    alice.submit(["u@nopolicy.test"], E.message("u@nopolicy.test", "plain-nopolicy"))
    E.wait_for(lambda: has(bob.messages("u@nopolicy.test"), "plain-nopolicy"),
               what="the plain message at Bob")
    assert not has(bob.messages("u@nopolicy.test"), "rtls-nopolicy")


def test_postfix_without_requiretls_bounces(env):
    alice, pf = env["alice"], env["postfix"]
    requiretls_bounced(alice, "u@postfix.test", "rtls-postfix", "does not offer REQUIRETLS")
    assert "TLS connection established" in pf.log(), pf.log()
    # the control: without REQUIRETLS Postfix gets it (MTA-STS enforce, verified TLS)
    alice.submit(["u@postfix.test"], E.message("u@postfix.test", "plain-postfix"))
    got = E.wait_for(lambda: pf.maildir("u"), timeout=60, what="the message in Postfix's "
                     "Maildir\n" + pf.log())
    assert len(got) == 1 and b"plain-postfix@crepes.fr" in got[0]


def test_bad_certificate(env):
    alice, bob = env["alice"], env["bob"]
    a0 = alice.log_size()
    requiretls_bounced(alice, "u@badcert.test", "rtls-badcert", "TLS handshake with the server failed")
    alice.wait_log(r"queue badcert\.test: TLS with mx\.bad\.test\[.*\] failed: .*certificate "
                   r"verify failed", a0)
    # TLS-Required: No (swaks adds the field): the enforced policy does not stop it
    rc, out = swaks("--server", "127.0.0.1", "--port", str(alice.sub_port), "--tls",
                    "--auth", "PLAIN", "--auth-user", E.ALICE, "--auth-password",
                    E.ALICE_PASSWORD, "--from", E.ALICE, "--to", "u@badcert.test",
                    "--header", "Subject: test tlsno", "--header",
                    "Message-ID: <tlsno-badcert@crepes.fr>", "--add-header", "TLS-Required: No",
                    "--body", "Hello, this may go without verified TLS.")
    assert rc == 0, out
    E.wait_for(lambda: has(bob.messages("u@badcert.test"), "tlsno-badcert"),
               what="the TLS-Required: No message at Bob")
    alice.wait_log(r"queue badcert\.test: TLS-Required: No: the MTA-STS policy \(enforce\) is "
                   r"not enforced", a0)
    got = next(m for m in bob.messages("u@badcert.test") if b"tlsno-badcert" in m.data)
    assert b"TLS-Required: No" in got.data  # kept for the next hops
    # neither: the policy holds the message back, as before
    alice.submit(["u@badcert.test"], E.message("u@badcert.test", "plain-badcert"))
    E.wait_for(lambda: any(r["rcpt"] == "u@badcert.test" and "4.7.5" in r["error"]
                           for r in alice.queue_rows()), what="the deferral under MTA-STS")
    row = next(r for r in alice.queue_rows() if r["rcpt"] == "u@badcert.test")
    assert "tls: -" in alice.queue_show(row["id"])
    assert not has(bob.messages("u@badcert.test"), "plain-badcert")


def test_tag_kept_in_the_queue(env):
    alice = env["alice"]
    submit_requiretls(alice, "u@down.test", "rtls-down")
    row = E.wait_for(lambda: next((r for r in alice.queue_rows()
                                   if r["rcpt"] == "u@down.test" and r["attempts"] >= 1), None),
                     what="the deferred REQUIRETLS message")
    assert "4.4.1" in row["error"], row
    shown = alice.queue_show(row["id"])
    assert "tls: REQUIRETLS" in shown, shown
