"""Issue 7, interop: Pigeon delivers to a Postfix, and Postfix delivers to Pigeon, both finding
each other through the test's DNS (MX records served by an authoritative pigeond).

    DNS        127.0.54.201:53   crepes.fr, hamburger.edu, pommes.test
    Alice      pigeond, crepes.fr: submission on 127.0.0.1, outbound from 127.0.54.220
    Bob        pigeond, hamburger.edu: MX role on 127.0.54.210:25 (SPF checked at MAIL)
    Postfix    private instance, pommes.test: 127.0.54.230:25, Maildir per user

See postfix_instance.py for how Postfix is pointed at the test's DNS (a private mount
namespace with its own /etc/resolv.conf).
"""
import email
import email.policy
import smtplib
import time

import pytest

import delivery_env as E
import pigeon_harness as H
import postfix_instance as P

_why = P.available()
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")

DNS_IP, BOB_IP, ALICE_IP, POSTFIX_IP = "127.0.54.201", "127.0.54.210", "127.0.54.220", "127.0.54.230"


def z(origin, body):
    return E.zone(origin, body, ns_ip=DNS_IP)


ZONES = {
    "crepes.fr": z("crepes.fr", f'@ MX 10 mail\nmail A {ALICE_IP}\n'
                                f'@ TXT "v=spf1 ip4:{ALICE_IP} -all"'),
    "hamburger.edu": z("hamburger.edu", f'@ MX 10 mail\nmail A {BOB_IP}\n'
                                        f'@ TXT "v=spf1 mx -all"'),
    "pommes.test": z("pommes.test", f'@ MX 10 mail\nmail A {POSTFIX_IP}\n'
                                    f'@ TXT "v=spf1 mx -all"'),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    env = E.Env(tmp_path_factory.mktemp("postfix-interop"))
    pf = None
    try:
        env.dns(ZONES, ip=DNS_IP)
        bob = env.mx("bob", BOB_IP, ["hamburger.edu"], ["bob@hamburger.edu"], resolver=DNS_IP)
        alice = env.alice(resolver="%s:53" % DNS_IP, source_address=ALICE_IP,
                          retry_initial=2)
        pf = P.Postfix(POSTFIX_IP, "mail.pommes.test", "pommes.test", ["pierre@pommes.test"],
                       nameserver=DNS_IP)
        pf.start()
        yield {"alice": alice, "bob": bob, "postfix": pf}
    finally:
        if pf:
            pf.cleanup()
        errors = env.close()
    assert not errors, "\n".join(errors)


def test_pigeon_delivers_to_postfix(world):
    alice, pf = world["alice"], world["postfix"]
    body = E.message("pierre@pommes.test", "to-postfix")
    alice.submit(["pierre@pommes.test"], body)
    got = E.wait_for(lambda: pf.maildir("pierre"), timeout=30,
                     what="the message in Postfix's Maildir\n" + pf.log())
    assert len(got) == 1
    msg = got[0].replace(b"\n", b"\r\n")   # Maildir files use bare LF
    assert msg.endswith(body.split(b"\r\n\r\n", 1)[1]), msg[-300:]
    assert b"Message-ID: <to-postfix@crepes.fr>" in msg
    # Postfix's Received: from Pigeon's EHLO name and address, over STARTTLS
    assert b"from mail.crepes.fr (unknown [%s])" % ALICE_IP.encode() in msg, msg[:600]
    assert b"using TLSv1." in msg, msg[:600]
    log = alice.log()
    assert "queue pommes.test: MX 10 mail.pommes.test" in log
    assert "relay=mail.pommes.test[%s] sent: 250" % POSTFIX_IP in log, log[-2000:]
    E.wait_for(lambda: not alice.queue_entries(), what="Alice's queue to empty")


def test_postfix_delivers_to_pigeon(world):
    bob, pf = world["bob"], world["postfix"]
    before = bob.messages("bob@hamburger.edu")
    body = ("From: Pierre <pierre@pommes.test>\r\nTo: <bob@hamburger.edu>\r\n"
            "Subject: from postfix\r\nMessage-ID: <from-postfix@pommes.test>\r\n"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n\r\nBonjour Bob.\r\n")
    # Handed to Postfix's smtpd from mynetworks; Postfix looks up hamburger.edu's MX itself.
    s = smtplib.SMTP(POSTFIX_IP, 25, local_hostname="laptop.pommes.test", timeout=30)
    s.sendmail("pierre@pommes.test", ["bob@hamburger.edu"], body)
    s.quit()
    new = E.wait_for(lambda: bob.new_messages(before, "bob@hamburger.edu"), timeout=30,
                     what="Postfix's delivery to Bob\n" + pf.log())
    assert len(new) == 1
    data = new[0].data
    H.assert_crlf_only(data)
    spf = H.header_values(data, "Received-SPF")
    assert spf and spf[0].startswith("pass ") and "client-ip=%s;" % POSTFIX_IP in spf[0], spf
    received = H.header_values(data, "Received")
    assert "from mail.pommes.test" in received[0] and POSTFIX_IP in received[0], received
    assert data.endswith(b"\r\n\r\nBonjour Bob.\r\n")
    assert b"Message-ID: <from-postfix@pommes.test>" in data
    log = pf.log()
    assert "relay=mail.hamburger.edu[%s]:25" % BOB_IP in log and "status=sent" in log, log
    assert "TLS connection established to mail.hamburger.edu" in log, log
    assert "tls TLSv1." in bob.log()


def test_postfix_550_bounces_to_alice(world):
    """Postfix refuses an unknown user at RCPT; Alice gets the DSN with Postfix's reply."""
    alice = world["alice"]
    before = alice.messages(E.ALICE)
    alice.submit(["nobody@pommes.test"], E.message("nobody@pommes.test", "pf-550"))
    new = E.wait_for(lambda: alice.new_messages(before, E.ALICE), timeout=30,
                     what="the DSN for nobody@pommes.test")
    msg = email.message_from_bytes(new[0].data, policy=email.policy.compat32)
    assert msg.get_content_type() == "multipart/report"
    status = msg.get_payload()[1].get_payload()[1]
    assert status["Final-Recipient"] == "rfc822; nobody@pommes.test"
    assert status["Action"] == "failed" and status["Status"] == "5.1.1", status.items()
    assert status["Remote-MTA"] == "dns; mail.pommes.test"
    assert "550 5.1.1 <nobody@pommes.test>" in status["Diagnostic-Code"]
    assert b"Message-ID: <pf-550@crepes.fr>" in new[0].data


def test_postfix_retries_while_pigeon_is_down(world):
    """Postfix defers while Bob's pigeond is stopped and delivers once it is back."""
    bob, pf = world["bob"], world["postfix"]
    before = bob.messages("bob@hamburger.edu")
    bob.stop()
    try:
        s = smtplib.SMTP(POSTFIX_IP, 25, timeout=30)
        s.sendmail("pierre@pommes.test", ["bob@hamburger.edu"],
                   "Subject: retry\r\nMessage-ID: <pf-retry@pommes.test>\r\n\r\nagain\r\n")
        s.quit()
        E.wait_for(lambda: "Connection refused" in pf.log(), timeout=20,
                   what="Postfix's failed attempt")
    finally:
        bob.start()
    pf.postfix("flush")
    new = E.wait_for(lambda: bob.new_messages(before, "bob@hamburger.edu"), timeout=30,
                     what="Postfix's retried delivery\n" + pf.log())
    assert len(new) == 1 and b"<pf-retry@pommes.test>" in new[0].data
    assert E.wait_for(pf.queue_empty, timeout=10, what="Postfix's queue to empty")
