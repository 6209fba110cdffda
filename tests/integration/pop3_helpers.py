"""Shared helpers of the POP3 integration tests: deliver over SMTP, empty a maildrop, compare
what POP3 hands out with what the store holds."""

import pigeon_harness as H


def deliver(daemon, rcpt, data, sender="alice@crepes.fr"):
    """Sends data (bytes or str, CRLF line ends, ending in CRLF) to rcpt over SMTP; returns
    the stored copy's bytes (Return-Path + Received + data)."""
    before = daemon.messages(rcpt)
    with daemon.smtp() as c:
        r = c.send_mail(sender, [rcpt], data)
        assert r.code == 250, r.text
        c.cmd("QUIT")
    new = daemon.new_messages(before, rcpt)
    assert len(new) == 1, new
    return new[0].data


def textbook_message(i):
    return ("From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\nSubject: message %d\r\n\r\n"
            "Do you like ketchup?\r\nHow about pickles?\r\n" % i)


def clear(daemon, user, password):
    """Deletes every message of user's maildrop over POP3."""
    with daemon.pop3() as c:
        c.login(user, password)
        n = int(c.cmd("STAT").split()[1])
        for i in range(1, n + 1):
            c.expect("DELE %d" % i, "+OK")
        c.expect("QUIT", "+OK")
        assert c.closed()
    assert daemon.messages(user) == []


def stored(daemon, user):
    """The maildrop as the store lists it: bytes of each message in uid order."""
    return [m.data for m in daemon.messages(user)]


POP3_CONF = {"pop3": {}, "pop3s": {}}
