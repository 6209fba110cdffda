"""Issue 10 item 7: a submitted message whose body holds "\\r.\\r\\n" (a bare CR before a dot
line) must not be relayed byte for byte: a receiver that ends DATA there would take what follows
for new commands (SMTP smuggling). Pigeon stores bare CR and bare LF line ends as CRLF and the
SMTP client sends only CRLF-ended lines, dot-stuffed; with reject_bare_line_ends such a
message is refused with 550 5.6.0.

Everything on free 127.0.0.1 ports: an authoritative pigeond serves far.test (MX → 127.0.0.1),
Alice's pigeond relays to it on [delivery] remote_port, where fake_smtp_server.py records the
DATA it gets."""
import re
import smtplib

import pytest

import delivery_env as E
import pigeon_harness as H
from fake_smtp_server import FakeSMTPServer

SMUGGLE = (b"From: Alice <alice@crepes.fr>\r\nTo: <kim@far.test>\r\nSubject: smuggle\r\n"
           b"Message-ID: <smuggle@crepes.fr>\r\n\r\n"
           b"harmless\r.\r\nMAIL FROM:<ceo@far.test>\r\nRCPT TO:<victim@far.test>\r\n"
           b"DATA\r\nsmuggled\n.\nlast line\r\n")


@pytest.fixture
def bed(tmp_path):
    nodes, fakes = [], []
    dns_port, fake_port = H.free_port(), H.free_port()
    zone = tmp_path / "far.test.zone"
    zone.write_text(E.zone("far.test", "@ MX 10 mx\nmx A 127.0.0.1", ns_ip="127.0.0.1"))

    def node(name, **kw):
        n = E.Node(tmp_path / name, "pigeond[%s]" % name, **kw)
        nodes.append(n)
        n.setup()
        n.start()
        return n

    node("dns", hostname="ns.far.test", primary_domain="dns.test",
         sections={"dns": {"listen": "127.0.0.1:%d" % dns_port},
                   "zone far.test": {"file": str(zone)}},
         waits=[("127.0.0.1", dns_port)])
    fake = FakeSMTPServer("127.0.0.1", port=fake_port, name="mx.far.test").start()
    fakes.append(fake)

    def alice(**submission):
        port = H.free_port()
        sub = {"listen": "127.0.0.1:%d" % port}
        sub.update(submission)
        return node("alice%d" % len(nodes), hostname="mail.crepes.fr", primary_domain="crepes.fr",
                    domains=["crepes.fr"], users={E.ALICE: E.ALICE_PASSWORD},
                    sections={"submission": sub,
                              "delivery": {"resolver": "127.0.0.1:%d" % dns_port,
                                           "remote_port": fake_port, "retry_initial": 1,
                                           "scan_interval": 1, "connect_timeout": 5,
                                           "command_timeout": 10}},
                    waits=[("127.0.0.1", port)])

    yield alice, fake
    for f in fakes:
        f.stop()
    errors = []
    for n in reversed(nodes):
        try:
            n.stop()
        finally:
            n.kill9()
        rep = n.sanitizer_report()
        if rep:
            errors.append("sanitizer report in %s:\n%s" % (n.name, rep))
    assert not errors, "\n".join(errors)


def test_bare_cr_is_not_relayed(bed):
    alice_node, fake = bed
    alice = alice_node()
    alice.submit(["kim@far.test"], SMUGGLE)
    E.wait_for(lambda: fake.messages, what="the message at the remote MX")
    assert len(fake.messages) == 1, fake.messages
    _, rcpts, data = fake.messages[0]
    assert rcpts == ["TO:<kim@far.test>"], rcpts
    # Every line the remote got ends in CRLF: no bare CR, no bare LF.
    assert re.search(rb"\r(?!\n)", data) is None, data
    assert re.search(rb"(?<!\r)\n", data) is None, data
    # The would-be end of data arrived as a dot line of the message, and the rest as text.
    assert b"harmless\r\n.\r\nMAIL FROM:<ceo@far.test>\r\n" in data, data
    assert b"smuggled\r\n.\r\nlast line\r\n" in data, data
    # One transaction only: the "commands" in the body were never seen as commands.
    assert len([c for c in fake.commands if c.startswith("MAIL")]) == 1, fake.commands


def test_bare_cr_rejected_when_configured(bed):
    alice_node, fake = bed
    alice = alice_node(reject_bare_line_ends="yes")
    with pytest.raises(smtplib.SMTPDataError) as e:
        alice.submit(["kim@far.test"], SMUGGLE)
    assert e.value.smtp_code == 550 and e.value.smtp_error.startswith(b"5.6.0"), e.value
    alice.submit(["kim@far.test"], E.message("kim@far.test", "clean"))
    E.wait_for(lambda: fake.messages, what="the clean message at the remote MX")
    assert H.header_values(fake.messages[0][2], "Message-ID") == ["<clean@crepes.fr>"]
