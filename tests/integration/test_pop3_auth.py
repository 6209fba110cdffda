"""POP3 logins: -ERR [AUTH] on bad credentials, checked later after each failure on the same
account from an address; AUTH PLAIN (RFC 5034); the maildrop is the INBOX the store (and IMAP) sees; shutdown."""

import base64
import signal
import sqlite3

import pigeon_harness as H
from pop3_helpers import POP3_CONF, deliver, textbook_message


def plain(user, pw, authzid=""):
    return base64.b64encode(("%s\0%s\0%s" % (authzid, user, pw)).encode()).decode()


def test_failed_logins_slowed_down(new_daemon):
    """Failed logins on an account from an address are answered -ERR [AUTH] and slowed down
    (the growing delay itself is unit-tested with a fake clock in tests/unit/test_auth.c,
    test_throttle_*: wall-clock time is not asserted here); an unknown user looks the same,
    and the connection stays usable: the right password still logs in."""
    d = new_daemon(pop3={})
    with d.pop3() as c:
        c.expect("USER bob", "+OK")
        assert c.cmd("PASS wrong") == "-ERR [AUTH] Authentication failed"
        c.expect("USER bob", "+OK")
        assert c.cmd("PASS wrong again") == "-ERR [AUTH] Authentication failed"
        assert c.cmd("AUTH PLAIN " + plain("bob", "wrong")) == \
            "-ERR [AUTH] Authentication failed"
        c.expect("USER nosuchuser", "+OK")  # an unknown user looks the same
        assert c.cmd("PASS whatever") == "-ERR [AUTH] Authentication failed"
        c.expect("USER bob", "+OK")
        assert c.cmd("PASS hungry").startswith("+OK Logged in")
        c.expect("QUIT", "+OK")


def test_auth_plain(new_daemon):
    d = new_daemon(pop3={})
    blob = deliver(d, "bob@hamburger.edu", textbook_message(1))
    with d.pop3() as c:  # initial response
        assert c.cmd("AUTH PLAIN " + plain("bob@hamburger.edu", "hungry")).startswith(
            "+OK Logged in, maildrop has 1 message")
        assert c.retr(1) == blob
        c.expect("QUIT", "+OK")
    with d.pop3() as c:  # continuation
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd(plain("bob", "hungry", authzid="bob")).startswith("+OK Logged in")
        c.expect("QUIT", "+OK")
    with d.pop3() as c:
        assert c.cmd("AUTH") == "+OK"
        assert c.multi() == b"PLAIN\r\n"
        assert c.cmd("AUTH CRAM-MD5") == "-ERR Unsupported authentication mechanism"
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd("*") == "-ERR Authentication cancelled"
        assert c.cmd("AUTH PLAIN ###") == "-ERR Invalid SASL PLAIN response"
        # someone else's authorization identity: refused
        assert c.cmd("AUTH PLAIN " + plain("bob", "hungry", authzid="alice")) == \
            "-ERR [AUTH] Authentication failed"


def test_plaintext_refused_off_loopback_rule(new_daemon):
    """plaintext_auth = no: USER, PASS and AUTH PLAIN need TLS; POP3S is TLS already."""
    d = new_daemon(pop3={"plaintext_auth": "no"}, pop3s={})
    with d.pop3() as c:
        assert c.cmd("USER bob").startswith("-ERR Plaintext authentication disallowed")
        assert c.cmd("AUTH PLAIN " + plain("bob", "hungry")).startswith(
            "-ERR Plaintext authentication disallowed")
        assert c.cmd("AUTH") == "+OK"
        assert c.multi() == b""
    with d.pop3s() as c:
        c.login()
        assert c.cmd("STLS") == "-ERR Already logged in"
        c.expect("QUIT", "+OK")


def test_same_inbox_as_the_store(new_daemon):
    """POP3's maildrop is the INBOX: a deletion is an expunge (with a modseq) that IMAP will
    see, and a message expunged elsewhere is not offered to a new session."""
    d = new_daemon(pop3={})
    user = "bob@hamburger.edu"
    for i in range(3):
        deliver(d, user, textbook_message(i))
    with d.pop3() as c:
        c.login()
        c.expect("DELE 1", "+OK")
        c.expect("QUIT", "+OK")
    db = sqlite3.connect(d.data_dir + "/pigeon.db", timeout=10)
    try:
        (mbox, hms), = db.execute(
            "SELECT mb.id, mb.highestmodseq FROM mailboxes mb JOIN users u ON u.id = mb.user_id"
            " WHERE u.address = ? AND mb.name = 'INBOX'", (user,)).fetchall()
        assert db.execute("SELECT uid, modseq FROM expunged WHERE mailbox_id = ?",
                          (mbox,)).fetchall() == [(1, hms)]
        # what an IMAP EXPUNGE of uid 3 does to the tables
        with db:
            db.execute("DELETE FROM messages WHERE mailbox_id = ? AND uid = 3", (mbox,))
            db.execute("INSERT INTO expunged(mailbox_id, uid, modseq) VALUES(?, 3, ?)",
                       (mbox, hms + 1))
            db.execute("UPDATE mailboxes SET highestmodseq = ? WHERE id = ?", (hms + 1, mbox))
    finally:
        db.close()
    assert [m.uid for m in d.messages(user)] == [2]
    with d.pop3() as c:
        c.login()
        assert c.cmd("STAT").startswith("+OK 1 ")
        c.expect("UIDL", "+OK")
        assert c.multi().split()[1].endswith(b".2")
        c.expect("QUIT", "+OK")


def test_shutdown_idle_session(new_daemon):
    d = new_daemon(pop3={})
    deliver(d, "bob@hamburger.edu", textbook_message(1))
    c = d.pop3()
    c.login()
    c.expect("DELE 1", "+OK")
    d.signal(signal.SIGTERM)
    assert c.line() == "-ERR [SYS/TEMP] Server shutting down"
    assert c.closed()
    c.close()
    assert d.wait_exit(20) == 0
    d.start()
    assert len(d.messages("bob@hamburger.edu")) == 1  # no QUIT: nothing removed


def test_connection_limit_per_ip(new_daemon):
    d = new_daemon(pop3={"max_connections_per_ip": 2})
    a, b = d.pop3(), d.pop3()
    c = H.POP3Client(d.pop3_port)
    assert c.greeting == "-ERR [SYS/TEMP] Too many connections from your address"
    assert c.closed()
    for x in (a, b, c):
        x.close()
