"""Issue 7's acid test: Alice (crepes.fr) submits, her server finds hamburger.edu's MX through
the test's DNS hierarchy, delivers over SMTP to Bob's server, Bob reads it byte-identical."""
import os
import re
import time

import pytest

import pigeon_harness as H
import textbook

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for ports 25 and 53")


@pytest.fixture(scope="module")
def scenario():
    lines = []
    sc = textbook.Scenario(H.BUILD, say=lines.append)
    sc.lines = lines
    try:
        sc.setup()
        yield sc
    finally:
        logs = {n.name: n.log_text() for n in sc.nodes}
        sc.teardown()
        for name, text in logs.items():
            assert "ERROR: AddressSanitizer" not in text, name
            assert "runtime error:" not in text, name


def message(tag):
    return ("From: Alice <alice@crepes.fr>\r\nTo: Bob <bob@hamburger.edu>\r\n"
            "Subject: Lunch? %s\r\nMessage-ID: <%s@crepes.fr>\r\n"
            "Date: Sun, 22 Nov 2026 12:00:00 +0000\r\n\r\n"
            "Do you like ketchup?\r\nHow about pickles?\r\n" % (tag, tag)).encode()


def test_alice_to_bob_end_to_end(scenario):
    body = message("t%d" % int(time.time() * 1000))
    scenario.send(body)
    assert scenario.wait_delivered(), scenario.alice.log_text()[-3000:]
    assert scenario.narrate(), "\n".join(scenario.lines)
    assert textbook.strip_trace(scenario.read_pop3()) == body
    stored = scenario.read_pop3()
    assert b"Received-SPF: pass" in stored
    # Alice's server signed (DKIM); Bob's server verified it and applied crepes.fr's DMARC policy
    ar = re.search(rb"Authentication-Results: hamburger\.edu;(\r\n\t[^\r]*)+", stored)
    assert ar, stored[:600]
    assert re.search(rb"dkim=pass header\.d=crepes\.fr header\.s=pigeon", ar.group(0)), ar.group(0)
    assert b"spf=pass smtp.mailfrom=alice@crepes.fr" in ar.group(0), ar.group(0)
    assert b"dmarc=pass (p=reject dis=none) header.from=crepes.fr" in ar.group(0), ar.group(0)
    assert stored.count(b"\r\nReceived: ") + stored.startswith(b"Received: ") >= 2


def test_imap_reads_the_same_message(scenario):
    got = scenario.read_imap()  # IMAP is served: a connection error fails the test
    assert textbook.strip_trace(got).endswith(b"How about pickles?\r\n")


def test_resolver_validates_the_signed_hierarchy(scenario):
    """Every zone is signed and the resolver, anchored at the simulated root, calls
    hamburger.edu's MX secure; the chain runs root -> edu -> hamburger.edu."""
    lines, secure = textbook.chain_of_trust()
    assert secure, "\n".join(lines)
    assert "edu." in lines[1] and "DS" in lines[1], lines
