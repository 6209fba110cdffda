"""IMAP over a real pigeond with Python imaplib and a raw client: login rules, folders,
APPEND/FETCH byte-identical, flags across sessions and restarts, COPY/MOVE, EXPUNGE, UID
stability, bad input, literal limit, connections per user."""

import imaplib
import os
import re
import socket

import pytest

import pigeon_harness as H
from imap_helpers import RawIMAP, fetch_flags, imap, make_msg, uids

PIGEON_CONF = {"imap": {}, "imaps": {}}


def test_greeting_capability_login(daemon):
    with RawIMAP(daemon.imap_port) as c:
        assert c.greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 ")
        caps = c.greeting.decode().split("[CAPABILITY ", 1)[1].split("]", 1)[0]
        for cap in ("IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "ID", "ENABLE", "LITERAL+",
                    "SPECIAL-USE", "CHILDREN", "UNSELECT", "CONDSTORE", "STARTTLS",
                    "AUTH=PLAIN", "IMAP4rev2", "UNAUTHENTICATE", "URLAUTH"):
            assert cap in caps.split(), cap
        assert "LOGINDISABLED" not in caps
        tagged, _ = c.cmd("LOGIN bob wrong")
        assert "NO [AUTHENTICATIONFAILED]" in tagged
        tagged, _ = c.cmd("LOGIN bob hungry")
        assert "OK [CAPABILITY" in tagged and "STARTTLS" not in tagged
    m = imap(daemon)
    assert m.namespace()[0] == "OK"
    m.logout()


def test_logindisabled_until_starttls(new_daemon):
    d = new_daemon(imap={"plaintext_auth": "no"})
    with RawIMAP(d.imap_port) as c:
        assert b"LOGINDISABLED" in c.greeting and b"AUTH=PLAIN" not in c.greeting
        tagged, _ = c.cmd("LOGIN bob hungry")
        assert "NO [PRIVACYREQUIRED]" in tagged
    m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=H.IO_TIMEOUT)
    m.starttls(ssl_context=H.unverified_context())
    assert "AUTH=PLAIN" in m.capabilities and "LOGINDISABLED" not in m.capabilities
    assert m.login("bob", "hungry")[0] == "OK"
    m.logout()


def test_imaps_and_authenticate_plain(daemon):
    m = imap(daemon, user=None, tls=True)
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0bob\0hungry")
    assert typ == "OK"
    assert m.select("INBOX")[0] == "OK"
    m.logout()


def test_folders(daemon):
    m = imap(daemon, "alice", "crepes")
    typ, data = m.list()
    names = [d.decode() for d in data]
    assert any(n.endswith('"INBOX"') for n in names)
    for special in ("Sent", "Drafts", "Trash", "Junk", "Archive"):
        assert any(("\\" + special) in n and n.endswith('"%s"' % special) for n in names)
    assert m.create("Projects/2026")[0] == "OK"
    assert m.create("Projects")[0] == "NO"
    typ, data = m.list('""', "Projects*")
    assert data == [b'(\\HasChildren) "/" "Projects"', b'(\\HasNoChildren) "/" "Projects/2026"']
    assert m.delete("Projects")[0] == "NO"          # has children
    assert m.rename("Projects", "Work")[0] == "OK"
    typ, data = m.list('""', "Work/%")
    assert data == [b'(\\HasNoChildren) "/" "Work/2026"']
    # Modified UTF-7 names round-trip (RFC 3501 §5.1.3).
    assert m.create('"Entw&APw-rfe"')[0] == "OK"
    typ, data = m.list('""', "Entw*")
    assert data == [b'(\\HasNoChildren) "/" "Entw&APw-rfe"']
    # No escape from the user's own tree.
    for bad in ('"../bob/INBOX"', '"a//b"', '"/etc"', '"x/./y"'):
        assert m.create(bad)[0] == "NO", bad
    assert m.subscribe("Work/2026")[0] == "OK"
    typ, data = m.lsub('""', "Work/*")
    assert data == [b'() "/" "Work/2026"']
    assert m.delete("Work/2026")[0] == "OK"
    assert m.delete("Work")[0] == "OK"
    assert m.delete("Work")[0] == "NO"
    assert m.delete("INBOX")[0] == "NO"
    typ, data = m.lsub('""', "Work/*")                # subscriptions outlive mailboxes
    assert data == [b'(\\Noselect) "/" "Work/2026"']
    m.logout()


def test_rename_inbox(new_daemon):
    d = new_daemon(imap={})
    m = imap(d)
    for i in range(3):
        m.append("INBOX", None, None, make_msg("m%d" % i))
    assert m.rename("INBOX", "Old")[0] == "OK"
    assert m.select("INBOX")[1] == [b"0"]
    assert m.select("Old")[1] == [b"3"]
    assert uids(m) == [1, 2, 3]
    m.logout()


def test_append_fetch_byte_identical(daemon):
    m = imap(daemon)
    bodies = [
        make_msg("plain"),
        b"Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9 \x00\x01\r\n",
        b"Subject: no final newline\r\n\r\nlast line",
        make_msg("big", body="".join("line %06d %s\r\n" % (i, "x" * 60) for i in range(20000))),
    ]
    for b in bodies:
        typ, data = m.append("Drafts", r"(\Draft)", None, b)
        assert typ == "OK"
        uidv, uid = re.search(rb"APPENDUID (\d+) (\d+)", data[0]).groups()
        m.select("Drafts")
        typ, data = m.uid("FETCH", uid.decode(), "(RFC822.SIZE BODY.PEEK[])")
        assert typ == "OK"
        # a literal cannot carry a NUL (RFC 3501 §4.3): BODY[] sends it as 0x80, as Dovecot
        # does, keeping the size; every other byte comes back as appended
        assert data[0][1] == b.replace(b"\x00", b"\x80"), "FETCH BODY[] differs from the APPEND"
        assert int(re.search(rb"RFC822.SIZE (\d+)", data[0][0]).group(1)) == len(b)
    # APPEND with an internal date keeps it.
    typ, data = m.append("Drafts", None, '"07-Jul-1996 02:44:25 -0700"', make_msg("dated"))
    uid = re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1).decode()
    m.select("Drafts")
    typ, data = m.uid("FETCH", uid, "(INTERNALDATE)")
    assert b'INTERNALDATE "07-Jul-1996 02:44:25 -0700"' in data[0]
    assert m.append("Nowhere", None, None, make_msg("x"))[0] == "NO"
    m.logout()


def test_flags_persist_across_sessions_and_restart(new_daemon):
    d = new_daemon(imap={})
    m = imap(d)
    m.append("INBOX", None, None, make_msg("flags"))
    m.select("INBOX")
    u = uids(m)[-1]
    assert m.uid("STORE", str(u), "+FLAGS", r"(\Flagged \Answered $Label1 NonJunk)")[0] == "OK"
    m.logout()
    m = imap(d)
    m.select("INBOX")
    want = {"\\Flagged", "\\Answered", "$Label1", "NonJunk"}
    assert want <= fetch_flags(m, u)
    m.logout()
    d.stop()
    d.start()
    m = imap(d)
    m.select("INBOX")
    assert want <= fetch_flags(m, u)
    assert "\\Recent" not in fetch_flags(m, u)      # recent in one session only
    assert m.uid("STORE", str(u), "-FLAGS", r"($Label1)")[0] == "OK"
    assert "$Label1" not in fetch_flags(m, u)
    m.logout()


def test_copy_move(daemon):
    m = imap(daemon)
    m.create("Keep")
    for i in range(3):
        m.append("INBOX", r"(\Seen)", None, make_msg("copy %d" % i))
    m.select("INBOX")
    src = uids(m, 'SUBJECT "copy"')[-3:]
    typ, data = m.uid("COPY", "%d:%d" % (src[0], src[-1]), "Keep")
    assert typ == "OK"
    code = m.response("COPYUID")[1][0]
    assert re.match(rb"\d+ %d:%d 1:3$" % (src[0], src[-1]), code), code
    typ, data = m.uid("MOVE", str(src[0]), "Trash")
    assert typ == "OK"
    assert src[0] not in uids(m)
    typ, data = m.uid("COPY", str(src[1]), "Nowhere")
    assert typ == "NO" and b"[TRYCREATE]" in data[0]
    m.select("Keep")
    assert len(uids(m)) >= 3
    m.select("Trash")
    typ, data = m.search(None, 'SUBJECT "copy 0"')
    assert data[0]
    m.logout()


def test_expunge_and_uid_stability(new_daemon):
    d = new_daemon(imap={})
    m = imap(d)
    for i in range(5):
        m.append("INBOX", None, None, make_msg("u%d" % i))
    typ, data = m.select("INBOX")
    uidvalidity = m.response("UIDVALIDITY")[1][0]
    before = uids(m)
    assert before == [1, 2, 3, 4, 5]
    m.store("2,5", "+FLAGS", r"\Deleted")
    typ, data = m.expunge()
    assert data == [b"5", b"2"]                     # highest first: each number still valid
    assert uids(m) == [1, 3, 4]
    m.logout()
    m = imap(d)
    m.select("INBOX")
    assert m.response("UIDVALIDITY")[1][0] == uidvalidity
    assert uids(m) == [1, 3, 4]
    m.append("INBOX", None, None, make_msg("u5"))
    assert uids(m) == [1, 3, 4, 6]                   # uid 5 is never reused
    typ, data = m.uid("FETCH", "3", "(UID)")
    assert data == [b"2 (UID 3)"]
    m.uid("STORE", "1", "+FLAGS", r"\Deleted")
    assert m.uid("EXPUNGE", "3")[0] == "OK"          # UIDPLUS: only uid 3 if \Deleted
    assert uids(m) == [1, 3, 4, 6]
    assert m.uid("EXPUNGE", "1")[0] == "OK"
    assert uids(m) == [3, 4, 6]
    m.close()
    m.logout()


def test_bad_input_survives(daemon):
    with RawIMAP(daemon.imap_port) as c:
        for junk in ["", "x", "a FROB", "b LOGIN", 'c LOGIN "unterminated', "d SELECT INBOX",
                     "e (((", "f FETCH 1 FLAGS"]:
            c.send(junk + "\r\n")
            if junk == "":
                continue
            ln = c.line().decode()
            assert " BAD " in ln, (junk, ln)
        c.login()
        c.ok("SELECT INBOX")
        for cmd, want in [("FETCH x:y FLAGS", "BAD"), ("FETCH 1 (FLAGS", "BAD"),
                          ("STORE 1 +FLAGS (\\Bogus)", "BAD"), ("SEARCH BOGUS", "BAD"),
                          ("UID BOGUS 1", "BAD"), ("COPY", "BAD"),
                          ("SEARCH CHARSET X-NONE ALL", "NO [BADCHARSET")]:
            tagged, _ = c.cmd(cmd)
            assert want in tagged, (cmd, tagged)
        c.send(b"g APPEND INBOX {3}\r\n")
        assert c.line() == b"+ Ready for literal data\r\n"
        c.send(b"abc\r\n")
        tagged, untagged = c.until("g")
        assert tagged.startswith("g OK [APPENDUID")
        assert any(re.match(rb"\* \d+ EXISTS\r\n$", u) for u in untagged), untagged
        c.ok("NOOP")


def test_oversized_literal_refused(new_daemon):
    d = new_daemon(imap={"max_literal_size": 2048})
    with RawIMAP(d.imap_port) as c:
        c.login()
        c.send(b"a APPEND INBOX {100000}\r\n")
        ln = c.line()
        assert ln.startswith(b"a NO [TOOBIG]"), ln    # no "+": the literal is never read
        c.send(b"b APPEND INBOX {5000+}\r\n" + b"x" * 5000 + b"\r\n")
        assert c.line().startswith(b"b NO [TOOBIG]")
        c.ok("NOOP")
        msg = make_msg("fits", "y" * 800)
        c.send(b"c APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        assert c.until("c")[0].startswith("c OK")


def test_huge_nonsync_literal_closes(daemon):
    """Issue 10 item 9: {2^63-1+} gets BAD [TOOBIG] and the connection closes (RFC 7888 §4);
    the server used to swallow everything after it. The daemon goes on serving."""
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.send(b"z APPEND INBOX {9223372036854775807+}\r\nq NOOP\r\n")
        assert c.line().startswith(b"z BAD [TOOBIG]")
        assert c.line().startswith(b"* BYE")
        with pytest.raises(H.Closed):
            c.line()
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("NOOP")


def test_connections_per_user(new_daemon):
    d = new_daemon(imap={"max_connections_per_user": 2})
    a, b = imap(d), imap(d)
    with pytest.raises(imaplib.IMAP4.error, match="LIMIT"):
        imap(d)
    a.logout()

    def login_again():
        # the slot is released when the server has closed a's connection, which may come
        # after the client read the LOGOUT reply: wait for that, not for a fixed time
        try:
            return imap(d)
        except imaplib.IMAP4.error as e:
            assert "LIMIT" in str(e), e
            return None
    c = H.wait_until(login_again, what="a's slot to be released after LOGOUT")
    c.logout()
    b.logout()


def test_idle_timeout_and_logout(new_daemon):
    d = new_daemon(imap={"idle_timeout": 1})
    with RawIMAP(d.imap_port) as c:
        # A loaded machine may let the second run out before LOGIN is even sent: either way
        # the session ends with "* BYE" (after LOGIN's OK, or instead of it) and is closed.
        c.send("t1 LOGIN bob hungry\r\n")
        lines = []
        while not (lines and lines[-1].startswith(b"* BYE")):
            lines.append(c.line())
        assert all(l.startswith(b"t1 OK") for l in lines[:-1]), lines
        assert c.closed()
