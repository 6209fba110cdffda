"""POP3 over a raw socket: the textbook session against messages delivered by SMTP, the shape
of every reply, message numbers and sizes, dot-stuffing, UIDL, TOP, PIPELINING, the exclusive
maildrop lock, what a dropped connection does, and bad input."""

import os
import random
import socket
import time

import pytest

import pigeon_harness as H
from pop3_helpers import POP3_CONF, clear, deliver, stored, textbook_message

BOB = "bob@hamburger.edu"
PIGEON_CONF = dict(POP3_CONF)
PIGEON_USERS = {
    "carol@hamburger.edu": "c4rol",
    "dave@hamburger.edu": "d4ve",
    "erin@hamburger.edu": "3rin",
    "frank@hamburger.edu": "fr4nk",
    "grace@hamburger.edu": "gr4ce",
}


def test_greeting(daemon):
    with daemon.pop3() as c:
        assert c.greeting == "+OK Pigeon POP3 server ready"


def test_capa(daemon):
    with daemon.pop3() as c:
        assert c.cmd("CAPA") == "+OK Capability list follows"
        caps = c.multi().decode().split("\r\n")[:-1]
        # plaintext_auth = loopback: USER and SASL PLAIN are offered on 127.0.0.1
        assert caps == ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER",
                        "SASL PLAIN", "STLS", "IMPLEMENTATION Pigeon"]


def test_textbook_session(daemon):
    """Kurose & Ross §2.3.4: user, pass, list, retr 1, dele 1, retr 2, dele 2, quit."""
    clear(daemon, BOB, "hungry")
    blobs = [deliver(daemon, BOB, textbook_message(i)) for i in (1, 2)]
    with daemon.pop3() as c:
        assert c.greeting.startswith("+OK")
        assert c.cmd("user bob").startswith("+OK")
        assert c.cmd("pass hungry").startswith("+OK")
        assert c.cmd("list") == "+OK 2 messages (%d octets)" % sum(map(len, blobs))
        assert c.multi() == b"1 %d\r\n2 %d\r\n" % (len(blobs[0]), len(blobs[1]))
        assert c.cmd("retr 1") == "+OK %d octets" % len(blobs[0])
        assert c.multi() == blobs[0]
        assert c.cmd("dele 1") == "+OK Message 1 deleted"
        assert c.cmd("retr 2") == "+OK %d octets" % len(blobs[1])
        assert c.multi() == blobs[1]
        assert c.cmd("dele 2") == "+OK Message 2 deleted"
        assert c.cmd("quit") == "+OK Pigeon POP3 server signing off (maildrop empty)"
        assert c.closed()
    assert daemon.messages(BOB) == []


def test_stored_message_is_what_smtp_received(daemon):
    clear(daemon, BOB, "hungry")
    body = textbook_message(3).encode()
    blob = deliver(daemon, BOB, body)
    trace, rest = H.split_trace(blob)
    assert rest == body and trace[0] == b"Return-Path: <alice@crepes.fr>"
    with daemon.pop3() as c:
        c.login()
        assert c.retr(1) == blob
        c.expect("QUIT", "+OK")
    assert len(daemon.messages(BOB)) == 1  # no DELE: nothing removed


def test_sizes_are_octets_retr_sends(daemon):
    """RFC 1939 §5: LIST gives the exact size; dot-stuffing is not counted."""
    user, pw = "carol@hamburger.edu", "c4rol"
    texts = [b"Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\nend\r\n",
             b"Subject: empty body\r\n\r\n",
             b"Subject: long\r\n\r\n" + b"x" * 998 + b"\r\n" + b".y" * 400 + b"\r\n"]
    blobs = [deliver(daemon, user, t) for t in texts]
    with daemon.pop3() as c:
        c.login(user, pw)
        assert c.cmd("STAT") == "+OK 3 %d" % sum(map(len, blobs))
        for i, b in enumerate(blobs, 1):
            assert c.cmd("LIST %d" % i) == "+OK %d %d" % (i, len(b))
            c.send("RETR %d\r\n" % i)
            assert c.line() == "+OK %d octets" % len(b)
            raw = []
            while True:
                line = c.rawline()
                if line == b".\r\n":
                    break
                raw.append(line)
            wire = b"".join(raw)
            assert wire == b"".join(
                (b"." + l if l.startswith(b".") else l) for l in b.splitlines(True))
            unstuffed = b"".join(l[1:] if l.startswith(b".") else l for l in raw)
            assert unstuffed == b and len(unstuffed) == len(b)
        c.expect("QUIT", "+OK")


def test_uidl_stable_and_numbers_fixed(daemon):
    user, pw = "dave@hamburger.edu", "d4ve"
    for i in range(3):
        deliver(daemon, user, textbook_message(i))
    with daemon.pop3() as c:
        c.login(user, pw)
        assert c.cmd("UIDL") == "+OK Unique-ID listing follows"
        first = c.multi().decode().split("\r\n")[:-1]
        assert [l.split()[0] for l in first] == ["1", "2", "3"]
        uids = [l.split()[1] for l in first]
        assert len(set(uids)) == 3
        for u in uids:
            assert 1 <= len(u) <= 70 and all(0x21 <= ord(ch) <= 0x7e for ch in u)
        # a message arriving during the session does not change the numbering
        deliver(daemon, user, textbook_message(9))
        assert c.cmd("STAT").startswith("+OK 3 ")
        assert c.cmd("LIST 4") == "-ERR No such message"
        assert c.cmd("UIDL 2") == "+OK 2 %s" % uids[1]
        c.expect("DELE 1", "+OK")
        c.expect("QUIT", "+OK")
    with daemon.pop3() as c:
        c.login(user, pw)
        c.expect("UIDL", "+OK")
        again = c.multi().decode().split("\r\n")[:-1]
        # message 1 is gone; the others keep their unique ids under new numbers
        assert [l.split()[1] for l in again][:2] == uids[1:]
        assert len(again) == 3 and again[2].split()[1] not in uids
        c.expect("QUIT", "+OK")


def test_top(daemon):
    user, pw = "erin@hamburger.edu", "3rin"
    blob = deliver(daemon, user, b"Subject: top\r\nX-A: 1\r\n\r\nl1\r\n.l2\r\nl3\r\n")
    head, body = blob.split(b"\r\n\r\n", 1)
    with daemon.pop3() as c:
        c.login(user, pw)
        assert c.cmd("TOP 1 0").startswith("+OK")
        assert c.multi() == head + b"\r\n\r\n"
        c.expect("TOP 1 2", "+OK")
        assert c.multi() == head + b"\r\n\r\nl1\r\n.l2\r\n"
        c.expect("TOP 1 99", "+OK")
        assert c.multi() == blob
        assert c.cmd("TOP 2 1") == "-ERR No such message"
        assert c.cmd("TOP 1") == "-ERR Syntax: TOP msg lines"
        c.expect("QUIT", "+OK")


def test_pipelining(daemon):
    """RFC 2449: every command sent in one go, replies in order."""
    user, pw = "frank@hamburger.edu", "fr4nk"
    blobs = [deliver(daemon, user, textbook_message(i)) for i in (1, 2)]
    with daemon.pop3() as c:
        c.send("USER %s\r\nPASS %s\r\nSTAT\r\nRETR 1\r\nRETR 2\r\nDELE 1\r\nLIST\r\nRSET\r\n"
               "NOOP\r\nQUIT\r\n" % (user, pw))
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK Logged in")
        assert c.line() == "+OK 2 %d" % sum(map(len, blobs))
        assert c.line().startswith("+OK")
        assert c.multi() == blobs[0]
        assert c.line().startswith("+OK")
        assert c.multi() == blobs[1]
        assert c.line() == "+OK Message 1 deleted"
        assert c.line() == "+OK 1 message (%d octets)" % len(blobs[1])
        assert c.multi() == b"2 %d\r\n" % len(blobs[1])
        assert c.line().startswith("+OK Maildrop has 2 messages")
        assert c.line() == "+OK"
        assert c.line() == "+OK Pigeon POP3 server signing off (2 messages left)"
        assert c.closed()
    assert len(daemon.messages(user)) == 2


def test_deleted_vanish_at_once_removed_at_quit(daemon):
    user, pw = "grace@hamburger.edu", "gr4ce"
    blobs = [deliver(daemon, user, textbook_message(i)) for i in range(3)]
    with daemon.pop3() as c:
        c.login(user, pw)
        c.expect("DELE 2", "+OK")
        assert c.cmd("STAT") == "+OK 2 %d" % (len(blobs[0]) + len(blobs[2]))
        c.expect("LIST", "+OK 2 messages")
        assert c.multi() == b"1 %d\r\n3 %d\r\n" % (len(blobs[0]), len(blobs[2]))
        assert c.cmd("RETR 2") == "-ERR Message 2 is deleted"
        assert c.cmd("DELE 2") == "-ERR Message 2 is deleted"
        # not removed before QUIT
        assert len(daemon.messages(user)) == 3
        c.expect("QUIT", "+OK Pigeon POP3 server signing off (2 messages left)")
        assert c.closed()
    assert stored(daemon, user) == [blobs[0], blobs[2]]
    # a later session sees the deletion
    with daemon.pop3() as c:
        c.login(user, pw)
        assert c.cmd("STAT") == "+OK 2 %d" % (len(blobs[0]) + len(blobs[2]))
        assert c.retr(2) == blobs[2]
        c.expect("QUIT", "+OK")


def test_dropped_connection_deletes_nothing(daemon):
    """RFC 1939 §6: no QUIT, no UPDATE state."""
    clear(daemon, BOB, "hungry")
    for i in range(2):
        deliver(daemon, BOB, textbook_message(i))
    c = daemon.pop3()
    c.login()
    c.expect("DELE 1", "+OK")
    c.expect("DELE 2", "+OK")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    start = daemon.log_size()
    c.close()  # RST
    # once the server has seen the reset, the maildrop is unlocked and both messages are there
    daemon.wait_log(r"pop3 s[0-9a-f]+ disconnect from", start)
    with daemon.pop3() as c2:
        c2.login()
        r = c2.cmd("STAT")
        c2.cmd("QUIT")
    assert r.startswith("+OK 2 "), r
    assert len(daemon.messages(BOB)) == 2


def test_in_use(daemon):
    """RFC 2449 §8.1.1: a second session of the same user gets -ERR [IN-USE]."""
    with daemon.pop3() as a, daemon.pop3() as b:
        a.login()
        b.expect("USER bob", "+OK")
        assert b.cmd("PASS hungry") == \
            "-ERR [IN-USE] Maildrop already in use by another session"
        assert b.cmd("STAT") == "-ERR Log in first"  # still in AUTHORIZATION
        # the same user under its full address is the same maildrop
        b.expect("USER BOB@hamburger.edu", "+OK")
        assert b.cmd("PASS hungry").startswith("-ERR [IN-USE]")
        a.expect("QUIT", "+OK")
        assert a.closed()
        # released before the QUIT reply: the retry works at once
        b.expect("USER bob", "+OK")
        assert b.cmd("PASS hungry").startswith("+OK Logged in")
        b.expect("QUIT", "+OK")
    # another user is not affected
    with daemon.pop3() as a, daemon.pop3() as b:
        a.login()
        b.login("alice", "crepes")


def test_bad_input_keeps_connection(daemon):
    with daemon.pop3() as c:
        for line, reply in [
            ("HELO x", "-ERR Unknown command"),
            ("", "-ERR Unknown command"),
            ("STAT", "-ERR Log in first"),
            ("PASS hungry", "-ERR Send USER first"),
            ("USER", "-ERR Syntax: USER name"),
        ]:
            assert c.cmd(line) == reply, line
        c.send(b"A" * 300 + b"\r\n")
        assert c.line() == "-ERR Line too long"
        c.send(b"USER " + b"b" * 250 + b"\r\n")  # 257 octets with CRLF
        assert c.line() == "-ERR Line too long"
        assert c.cmd("QUIT").startswith("+OK")
    with daemon.pop3() as c:  # max_errors is 20: a fresh count
        c.login()
        for line, reply in [
            ("RETR", "-ERR Syntax: RETR msg"),
            ("RETR x", "-ERR Invalid message number"),
            ("RETR -1", "-ERR Invalid message number"),
            ("RETR 0", "-ERR No such message"),
            ("RETR 100000", "-ERR No such message"),
            ("RETR 99999999999999999999999", "-ERR No such message"),
            ("DELE", "-ERR Syntax: DELE msg"),
            ("LIST 1 2", "-ERR Syntax: LIST [msg]"),
            ("TOP 1 x", "-ERR Invalid number of lines"),
            ("STAT now", "-ERR Syntax: STAT"),
            ("USER bob", "-ERR Already logged in"),
            ("STLS", "-ERR Already logged in"),
        ]:
            assert c.cmd(line) == reply, line
        c.send(b"NO\x00OP\r\n")
        assert c.line() == "-ERR Invalid characters in command"
        assert c.cmd("NOOP") == "+OK"
        c.expect("QUIT", "+OK")


def test_too_many_errors_closes(daemon):
    with daemon.pop3() as c:
        for _ in range(19):
            assert c.cmd("BOGUS") == "-ERR Unknown command"
        assert c.cmd("BOGUS") == "-ERR Unknown command"
        assert c.line() == "-ERR Too many errors, closing connection"
        assert c.closed()


def test_binary_junk(daemon):
    rnd = random.Random(1939)
    for _ in range(20):
        with daemon.pop3() as c:
            junk = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 4000)))
            try:
                c.send(junk + b"\r\nQUIT\r\n")
                c.closed(timeout=5)
            except H.Closed:
                pass
    with daemon.pop3() as c:
        c.login()
        c.expect("QUIT", "+OK")
    assert daemon.running
