"""Internationalised names (IDNA 2008, SMTPUTF8 RFC 6531): a domain typed in Unicode in the
configuration and the CLI is kept as A-labels, a user at an internationalised domain
receives mail sent with SMTPUTF8 whether the client writes the domain as U-labels or
A-labels, and outbound mail to a U-label domain is queued and looked up in DNS as A-labels."""

import smtplib

import pytest

import delivery_env as E
import pigeon_harness as H

JOERG = "jörg@bücher.example"
ACE = "bücher.example".encode("idna").decode()   # xn--bcher-kva.example


def test_cli_stores_a_labels(new_daemon):
    d = new_daemon(start=False, domains=(), users={})
    d.cli("domain", "add", "Bücher.Example")
    assert d.cli("domain", "list").stdout.decode().split() == [ACE]
    p = d.cli("domain", "add", "bad_ü.example", check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == "pigeon: invalid domain name: 'bad_ü.example'\n"
    d.add_user(JOERG, "pw")
    assert "jörg@" + ACE in d.cli("user", "list").stdout.decode().split()


def test_smtputf8_mail_to_an_internationalised_domain(new_daemon):
    d = new_daemon(start=False, domains=("hamburger.edu",))
    d.cli("domain", "add", "bücher.example")
    d.add_user(JOERG, "pw")
    d.start()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=H.IO_TIMEOUT) as s:
        s.ehlo("client.example")
        assert s.has_extn("smtputf8")
        for rcpt in (JOERG, "jörg@" + ACE):
            refused = s.sendmail("anna@crèpes.example", [rcpt],
                                 ("Subject: für %s\r\n\r\nGrüße\r\n" % rcpt).encode(),
                                 mail_options=["SMTPUTF8"])
            assert refused == {}
        # Without SMTPUTF8 a UTF-8 address is refused (RFC 6531 §3.4).
        code, _ = s.mail("anna@crèpes.example".encode().decode("latin-1"))
        assert code == 553
    got = d.messages("jörg@" + ACE)
    assert len(got) == 2
    assert b"Subject: f\xc3\xbcr j\xc3\xb6rg@b\xc3\xbccher.example" in got[0].data
    assert b"Return-Path: <anna@cr\xc3\xa8pes.example>" in got[0].data


def test_unicode_primary_domain_in_config(new_daemon):
    d = new_daemon(start=False, domains=(), users={},
                   server={"primary_domain": "bücher.example", "hostname": "mail.bücher.example"})
    d.cli("domain", "add", ACE)
    d.add_user("jörg", "pw")                      # a bare name is in primary_domain
    assert d.cli("user", "list").stdout.decode().split() == ["jörg@" + ACE]
    d.start()
    with smtplib.SMTP("127.0.0.1", d.smtp_port, timeout=H.IO_TIMEOUT) as s:
        code, msg = s.ehlo()
        assert msg.decode().startswith("mail." + ACE)


MX_IP = "127.0.54.40"  # bücher.example's MX: a fake server on port 25


@pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")
def test_outbound_to_a_u_label_domain_asks_dns_for_a_labels(tmp_path):
    """Submission to jörg@bücher.example: the queue holds the A-label domain, the MX look-up
    asks for xn--bcher-kva.example (the only name DNS knows), and the remote gets RCPT TO with
    the A-labels."""
    env = E.Env(tmp_path)
    try:
        env.dns({"crepes.fr": E.CREPES_ZONE,
                 ACE: E.zone(ACE, "@ MX 10 mx\nmx A %s" % MX_IP)})
        fake = env.fake(MX_IP, extensions=("PIPELINING", "8BITMIME", "SMTPUTF8"))
        alice = env.alice()
        with smtplib.SMTP("127.0.0.1", alice.sub_port, timeout=H.IO_TIMEOUT) as s:
            s.starttls(context=H.unverified_context())
            s.login(E.ALICE, E.ALICE_PASSWORD)
            refused = s.sendmail(E.ALICE, [JOERG], "Subject: Grüße\r\n\r\nHallo\r\n".encode(),
                                 mail_options=["SMTPUTF8"])
            assert refused == {}
        # what was queued: the session logs the recipient as it went into the queue
        assert "rcpt to=<jörg@%s> " % ACE in alice.log()
        E.wait_for(lambda: fake.messages, what="the message at bücher.example's MX")
        mail_from, rcpts, data = fake.messages[0]
        assert rcpts == ["TO:<jörg@%s>" % ACE], rcpts
        assert "queue %s: MX 10 mx.%s" % (ACE, ACE) in alice.log()
        E.wait_for(lambda: alice.queue_rows() == [], what="the queue emptied")
    finally:
        errors = env.close()
    assert not errors, "\n".join(errors)
