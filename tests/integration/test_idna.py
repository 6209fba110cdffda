"""Internationalised names (IDNA 2008, SMTPUTF8 RFC 6531): a domain typed in Unicode in the
configuration and the CLI is kept as A-labels, and a user at an internationalised domain
receives mail sent with SMTPUTF8 whether the client writes the domain as U-labels or
A-labels."""

import smtplib

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
