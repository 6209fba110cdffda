"""Several clients of one mailbox: each sees the others' flags, expunges and new mail
(RFC 3501 §5.2, §7.4.1); IDLE (RFC 2177) is told of an SMTP delivery within a second; POP3 and
IMAP agree on what was deleted."""


import pytest

import pigeon_harness as H
from imap_helpers import RawIMAP, fresh_mailbox, imap, make_msg, smtp_deliver, uids

PIGEON_CONF = {"imap": {}, "pop3": {}}


@pytest.fixture
def mailbox(daemon):
    """A fresh mailbox with three messages; returns its name."""
    return fresh_mailbox(daemon, "Shared")


def test_flags_and_expunge_seen_by_other(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        a.ok("SELECT " + mailbox)
        b.ok("SELECT " + mailbox)
        a.ok("STORE 2 +FLAGS (\\Flagged)")
        untagged = b.ok("NOOP")
        assert any(u.startswith(b"* 2 FETCH (FLAGS (\\Flagged") for u in untagged), untagged
        a.ok("STORE 1 +FLAGS (\\Deleted)")
        a.ok("EXPUNGE")
        # RFC 3501 §7.4.1: not during FETCH (numbers stay valid)...
        untagged = b.ok("FETCH 1:3 (UID)")
        assert not any(b"EXPUNGE" in u for u in untagged), untagged
        assert len([u for u in untagged if b" FETCH " in u]) == 3
        # ...but at the next NOOP.
        untagged = b.ok("NOOP")
        assert untagged[:1] == [b"* 1 EXPUNGE\r\n"], untagged
        untagged = b.ok("FETCH 1:* (UID)")
        assert [u for u in untagged if b"FETCH" in u] == [b"* 1 FETCH (UID 2)\r\n",
                                                          b"* 2 FETCH (UID 3)\r\n"]


def test_new_mail_seen_at_command_end(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + mailbox)
        m = imap(daemon)
        m.append(mailbox, None, None, make_msg("late"))
        m.logout()
        # the notice is asynchronous: it lands before some later reply
        H.wait_until(lambda: b"* 4 EXISTS\r\n" in a.ok("CHECK"),
                     what="* 4 EXISTS in a CHECK reply")


def test_idle_gets_smtp_delivery_pushed(daemon):
    """The delivery reaches the idling client unasked: the EXISTS arrives while the client
    sends nothing (no wall-clock limit: a loaded machine may be slow)."""
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("SELECT INBOX")
        c.send("i IDLE\r\n")
        assert c.line() == b"+ idling\r\n"
        smtp_deliver(daemon, "bob@hamburger.edu", make_msg("pushed"))
        line = c.line()
        assert line.endswith(b" EXISTS\r\n"), line
        c.send("DONE\r\n")
        tagged, _ = c.until("i")
        assert tagged == "i OK IDLE terminated"


def test_idle_sees_other_sessions_changes(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("SELECT " + mailbox)
        c.send("i IDLE\r\n")
        assert c.line() == b"+ idling\r\n"
        m = imap(daemon)
        m.select(mailbox)
        m.store("3", "+FLAGS", r"\Seen")
        assert c.line().startswith(b"* 3 FETCH (FLAGS (\\Seen")
        m.store("1", "+FLAGS", r"\Deleted")
        assert c.line().startswith(b"* 1 FETCH (FLAGS (\\Deleted")
        m.expunge()
        assert c.line() == b"* 1 EXPUNGE\r\n"
        m.logout()
        c.send("DONE\r\n")
        assert c.until("i")[0] == "i OK IDLE terminated"


def test_pop3_and_imap_agree(daemon):
    # Fresh messages in bob's INBOX, known by subject.
    for s in ("popimap-1", "popimap-2"):
        smtp_deliver(daemon, "bob@hamburger.edu", make_msg(s))
    m = imap(daemon)
    m.select("INBOX")
    u1 = uids(m, 'SUBJECT "popimap-1"')
    u2 = uids(m, 'SUBJECT "popimap-2"')
    assert len(u1) == 1 and len(u2) == 1
    # Expunged over IMAP: not offered to a new POP3 session.
    m.uid("STORE", str(u1[0]), "+FLAGS", r"\Deleted")
    m.expunge()
    with H.POP3Client(daemon.pop3_port) as p:
        p.login()
        p.expect("UIDL", "+OK")
        listing = p.multi().decode()
        assert ".%d\r\n" % u1[0] not in listing
        assert ".%d\r\n" % u2[0] in listing
        n = [l.split()[0] for l in listing.splitlines() if l.endswith(".%d" % u2[0])][0]
        p.expect("DELE " + n, "+OK")
        p.expect("QUIT", "+OK")
    # Deleted over POP3: the IMAP session sees EXPUNGE at its next NOOP.
    typ, data = m.noop()
    assert uids(m, 'SUBJECT "popimap-2"') == []
    m.logout()
