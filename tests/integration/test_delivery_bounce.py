"""Issue 7, outbound delivery: failures that end in a DSN (RFC 3464) in the sender's INBOX, and
a TLS policy that keeps a message deferred. A remote 550, expiry after a persistent 451, a null
MX (RFC 7505), and [delivery] tls_policy = domain:required towards a server without STARTTLS.

Same test bed as test_delivery_retry.py (delivery_env.py).
"""
import email
import email.policy

import pytest

import delivery_env as E
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

BOB_IP = "127.0.54.10"     # hamburger.edu: a pigeond with one user, bob
SLOW_IP = "127.0.54.13"    # slow.test: a fake server answering 451 to every RCPT
NOTLS_IP = "127.0.54.18"   # notls.test: a fake server without STARTTLS

ZONES = {
    "crepes.fr": E.CREPES_ZONE,
    "hamburger.edu": E.zone("hamburger.edu", f"@ MX 10 mail\nmail A {BOB_IP}"),
    "slow.test": E.zone("slow.test", f"@ MX 10 mx\nmx A {SLOW_IP}"),
    "nullmx.test": E.zone("nullmx.test", "@ MX 0 .\n@ A 127.0.54.19"),
    "notls.test": E.zone("notls.test", f"@ MX 10 mx\nmx A {NOTLS_IP}"),
}


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    env = E.Env(tmp_path_factory.mktemp("delivery-bounce-dns"))
    env.dns(ZONES)
    yield env
    errors = env.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def env(dns, tmp_path):
    e = E.Env(tmp_path)
    yield e
    errors = e.close()
    assert not errors, "\n".join(errors)


def wait_dsn(alice):
    msgs = E.wait_for(lambda: alice.messages(E.ALICE),
                      what="a DSN in Alice's INBOX")
    assert len(msgs) == 1, msgs
    raw = msgs[0].data
    H.assert_crlf_only(raw)
    assert raw.startswith(b"Return-Path: <>\r\n"), raw[:200]
    return raw, email.message_from_bytes(raw, policy=email.policy.compat32)


def check_report(msg, rcpts, status_prefix):
    """The DSN's structure: multipart/report with the three parts of RFC 3464 §2. Returns
    (per-recipient field dicts, the returned message or headers as a Message)."""
    assert msg.get_content_type() == "multipart/report", msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["From"].startswith("Mail Delivery System <MAILER-DAEMON@mail.crepes.fr>")
    assert msg["To"] == "<%s>" % E.ALICE
    assert msg["Auto-Submitted"] == "auto-replied"
    parts = msg.get_payload()
    assert [p.get_content_type() for p in parts][:2] == ["text/plain", "message/delivery-status"]
    assert parts[2].get_content_type() in ("message/rfc822", "text/rfc822-headers")
    # message/delivery-status: the per-message block, then one block per recipient.
    blocks = parts[1].get_payload()
    assert blocks[0]["Reporting-MTA"] == "dns; mail.crepes.fr"
    assert blocks[0]["Arrival-Date"]
    per_rcpt = blocks[1:]
    assert sorted(b["Final-Recipient"] for b in per_rcpt) == sorted("rfc822; " + r for r in rcpts)
    for b in per_rcpt:
        assert b["Action"] == "failed"
        assert b["Status"].startswith(status_prefix), b["Status"]
        assert b["Diagnostic-Code"]
    returned = parts[2].get_payload(0) if parts[2].is_multipart() else \
        email.message_from_string(parts[2].get_payload())
    return per_rcpt, returned


def test_remote_550_bounces_to_alice(env):
    bob = env.mx("bob", BOB_IP, ["hamburger.edu"], ["bob@hamburger.edu"])
    alice = env.alice()
    body = E.message("bob@hamburger.edu", "r550", extra="X-Tag: keep-me\r\n")
    alice.submit(["bob@hamburger.edu", "nobody@hamburger.edu"], body)
    raw, msg = wait_dsn(alice)
    per_rcpt, returned = check_report(msg, ["nobody@hamburger.edu"], "5.1.1")
    assert per_rcpt[0]["Remote-MTA"] == "dns; mail.hamburger.edu"
    assert per_rcpt[0]["Diagnostic-Code"].startswith("smtp; 550 5.1.1"), per_rcpt[0]
    # the original headers (and here the whole message) come back
    assert returned["Message-ID"] == "<r550@crepes.fr>"
    assert returned["Subject"] == "test r550" and returned["X-Tag"] == "keep-me"
    assert b"Hello, this is r550." in raw
    # bob's copy went through; the bounce covers nobody only; the queue is empty
    assert len(bob.messages("bob@hamburger.edu")) == 1
    assert b"bob@hamburger.edu" not in raw.split(b"message/rfc822")[0].split(b"delivery-status")[1]
    E.wait_for(lambda: not alice.queue_entries(), what="the queue to empty")
    assert "bounce" in alice.log()


def test_expiry_bounces_after_persistent_451(env):
    """A recipient answered 451 stays queued and is retried until the message is older than
    [delivery] max_age, then bounces with 4.4.7. max_age is a day while the test waits for two
    deferrals (so no bounce can come before them, however slow the machine), then `pigeon
    reload` lowers it to its minimum (5 s) and a later attempt finds the message expired."""
    fake = env.fake(SLOW_IP, name="mx.slow.test")
    fake.rcpt_reply = "451 4.3.0 try again later"
    alice = env.alice(max_age=86400, retry_initial=1, retry_max=2)
    alice.submit(["gina@slow.test"], E.message("gina@slow.test", "expire"))
    entries = E.wait_for(lambda: [q for q in alice.queue_entries() if q["attempts"] >= 2],
                         what="two deferrals")
    assert entries[0]["error"].startswith("451 4.3.0 try again later"), entries
    assert alice.messages(E.ALICE) == []   # not bounced before max_age
    alice.sections["delivery"]["max_age"] = 5
    alice.write_conf()
    out = alice.cli("reload").stdout.decode()
    assert "applied: [delivery] max_age" in out, out
    raw, msg = wait_dsn(alice)
    per_rcpt, returned = check_report(msg, ["gina@slow.test"], "4.4.7")
    assert "451 4.3.0 try again later" in per_rcpt[0]["Diagnostic-Code"]
    assert returned["Message-ID"] == "<expire@crepes.fr>"
    assert fake.commands.count("RCPT TO:<gina@slow.test>") >= 3, fake.commands
    assert fake.messages == []
    E.wait_for(lambda: not alice.queue_entries(), what="the queue to empty")


def test_null_mx_bounces_at_once(env):
    alice = env.alice(retry_initial=3600)   # a bounce after a retry would come in an hour
    alice.submit(["henry@nullmx.test"], E.message("henry@nullmx.test", "nullmx"))
    raw, msg = wait_dsn(alice)
    per_rcpt, returned = check_report(msg, ["henry@nullmx.test"], "5.1.10")
    assert "null MX" in per_rcpt[0]["Diagnostic-Code"]
    assert returned["Message-ID"] == "<nullmx@crepes.fr>"
    assert not alice.queue_entries()
    assert "queue nullmx.test: connected" not in alice.log()   # the A record is unused


def test_tls_required_without_starttls_stays_deferred(env):
    fake = env.fake(NOTLS_IP, name="mx.notls.test")   # EHLO offers no STARTTLS
    alice = env.alice(retry_initial=1, retry_max=1, tls_policy="notls.test:required")
    alice.submit(["ivan@notls.test"], E.message("ivan@notls.test", "notls"))
    entries = E.wait_for(lambda: [q for q in alice.queue_entries() if q["attempts"] >= 2],
                         what="two failed attempts")
    assert entries[0]["state"] == "queued"
    shown = alice.queue_show(entries[0]["id"])
    assert "TLS is required" in shown and "ivan@notls.test" in shown, shown
    assert "Message-ID: <notls@crepes.fr>" in shown
    assert fake.connections >= 2
    assert not any(c.upper().startswith(("MAIL", "RCPT", "DATA")) for c in fake.commands), \
        fake.commands
    assert fake.messages == []
    assert alice.messages(E.ALICE) == []   # deferred, not bounced


def test_per_recipient_outcomes_in_one_transaction(env):
    """One message, three recipients at one MX: 250, 451 and 550 at RCPT. One copy is
    delivered, one entry stays queued, one DSN names only the refused recipient."""
    fake = env.fake(SLOW_IP, name="mx.slow.test")
    fake.rcpt_reply = lambda arg: ("550 5.1.1 no such user" if "gone@" in arg
                                   else "451-4.2.1 mailbox busy\r\n451 4.2.1 try later"
                                   if "busy@" in arg
                                   else "250 2.1.5 ok")
    alice = env.alice(retry_initial=3600)
    rcpts = ["ok@slow.test", "busy@slow.test", "gone@slow.test"]
    alice.submit(rcpts, E.message("ok@slow.test", "mixed"))
    raw, msg = wait_dsn(alice)
    check_report(msg, ["gone@slow.test"], "5.1.1")
    assert len(fake.messages) == 1 and fake.messages[0][1] == ["TO:<ok@slow.test>"]
    left = alice.queue_entries()
    assert [q["rcpt"] for q in left] == ["busy@slow.test"], left
    # a multi-line reply is one line in `queue list`
    assert left[0]["error"] == "451-4.2.1 mailbox busy 451 4.2.1 try later", left
    assert fake.connections == 1
