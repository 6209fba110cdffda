"""URLAUTH (RFC 4467, URLAUTH=BINARY of RFC 5524) and IMAP4rev2 (RFC 9051) over the wire
against a real pigeond: bob signs URLs of his messages, alice fetches the "authuser" ones and
builds a message from one with CATENATE, a "user+bob" URL is bob's alone, the keys survive a
restart and RESETKEY revokes them; an ENABLE IMAP4rev2 session sees no \\Recent and gets
ESEARCH; UNAUTHENTICATE lets the connection log in as someone else; APPEND's zone comes back
in INTERNALDATE."""

import re
import time

from imap_helpers import RawIMAP

PIGEON_CONF = {"imap": {}}

MSG = (b"From: bob@hamburger.edu\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
       b"--B\r\nContent-Type: text/plain\r\n\r\nthe text\r\n"
       b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
       b"\r\naGVsbG8gd29ybGQ=\r\n--B--\r\n")


def setup_box(a):
    name = "Url%d" % int(time.monotonic() * 1000000)
    a.ok("CREATE " + name)
    tagged, _ = a.cmd(b"APPEND " + name.encode() + b" {%d+}\r\n" % len(MSG) + MSG)
    assert " OK [APPENDUID " in tagged, tagged
    return name, int(tagged.split()[4].rstrip("]"))


def gen(a, rump):
    u = a.ok('GENURLAUTH "%s" INTERNAL' % rump)
    m = re.match(rb'\* GENURLAUTH "([^"]+)"\r\n', u[0])
    assert m, u
    url = m.group(1).decode()
    assert url.startswith(rump + ":INTERNAL:") and len(url) == len(rump) + 10 + 64, url
    return url


def urlfetch(a, url):
    """The bytes the URL gives, or None for NIL."""
    u = a.ok('URLFETCH "%s"' % url)
    head = b'* URLFETCH "%s" ' % url.encode()
    assert len(u) == 1 and u[0].startswith(head), u
    rest = u[0][len(head):]
    if rest == b"NIL\r\n":
        return None
    return rest.split(b"}\r\n", 1)[1][:-2]


def test_urlauth(new_daemon):
    d = new_daemon(imap={})
    with RawIMAP(d.imap_port) as bob:
        bob.login()
        assert b" URLAUTH URLAUTH=BINARY" in bob.ok("CAPABILITY")[0]
        name, uid = setup_box(bob)
        base = "imap://bob@hamburger.edu/%s/;UID=%d" % (name, uid)
        anyone = gen(bob, base + "/;SECTION=1;URLAUTH=authuser")
        mine = gen(bob, base + ";URLAUTH=user+bob@hamburger.edu")
        assert urlfetch(bob, mine) == MSG
        u = bob.ok('URLFETCH ("%s" BINARY BODYPARTSTRUCTURE)'
                   % gen(bob, base + "/;SECTION=2;URLAUTH=authuser"))
        assert b"(BODYPARTSTRUCTURE (\"application\" \"octet-stream\"" in u[0], u
        assert u[0].endswith(b" BINARY {11}\r\nhello world)\r\n"), u
    with RawIMAP(d.imap_port) as alice:
        alice.login("alice", "crepes")
        assert urlfetch(alice, anyone) == b"the text"
        assert urlfetch(alice, mine) is None
        # a changed byte, or the URL moved to another message: NIL
        assert urlfetch(alice, anyone[:-1] + ("0" if anyone[-1] != "0" else "1")) is None
        assert urlfetch(alice, anyone.replace(";UID=%d" % uid, ";UID=%d" % (uid + 1))) is None
        hdr = b"Subject: forwarded\r\n\r\n"
        tagged, _ = alice.cmd(b"APPEND INBOX CATENATE (TEXT {%d+}\r\n" % len(hdr) + hdr +
                              b' URL "%s")' % anyone.encode())
        assert " OK [APPENDUID " in tagged, tagged
        alice.ok("EXAMINE INBOX")
        body = [x for x in alice.ok("FETCH * BODY.PEEK[]") if b" FETCH " in x][-1]
        assert b"Subject: forwarded\r\n\r\nthe text)" in body, body
        # alice cannot sign bob's messages
        t, _ = alice.cmd('GENURLAUTH "%s/;SECTION=1;URLAUTH=authuser" INTERNAL' % base)
        assert "NO [BADURL" in t, t
    # the keys are in the store: the URLs outlive a restart; RESETKEY revokes them
    d.stop()
    d.start()
    with RawIMAP(d.imap_port) as bob:
        bob.login()
        assert urlfetch(bob, anyone) == b"the text"
        t, _ = bob.cmd("RESETKEY %s" % name)
        assert "OK [URLMECH INTERNAL]" in t, t
        assert urlfetch(bob, anyone) is None
        assert urlfetch(bob, mine) is None


def test_imap4rev2_session(daemon):
    with RawIMAP(daemon.imap_port) as a:
        caps = a.greeting
        assert b"IMAP4rev1 IMAP4rev2 " in caps, caps
        a.login()
        name, uid = setup_box(a)
        assert a.ok("ENABLE IMAP4rev2") == [b"* ENABLED IMAP4rev2\r\n"]
        u = b"".join(a.ok("SELECT " + name))
        assert b"RECENT" not in u and b'* LIST () "/" "%s"\r\n' % name.encode() in u, u
        assert b"\\Recent" not in b"".join(a.ok("FETCH 1:* FLAGS"))
        assert a.ok("UID SEARCH ALL") == [b'* ESEARCH (TAG "t%d") UID ALL %d\r\n' % (a.n, uid)]
        u = b"".join(a.ok("STATUS %s (MESSAGES SIZE DELETED)" % name))
        assert b"(MESSAGES 1 SIZE %d DELETED 0)" % len(MSG) in u, u
        t, _ = a.cmd("STATUS %s (RECENT)" % name)
        assert " BAD " in t, t
        # RFC 8437: back to not authenticated, and in again as another user
        a.ok("UNAUTHENTICATE")
        t, _ = a.cmd("SELECT INBOX")
        assert " BAD " in t, t
        a.login("alice", "crepes")
        t, _ = a.cmd("SELECT " + name)
        assert " NO " in t, t
        # APPEND's zone is kept (RFC 3501 §2.3.3), as Dovecot keeps it
        tagged, _ = a.cmd(b'APPEND INBOX "07-Jul-1996 02:44:25 -0700" {5+}\r\nhello')
        assert " OK " in tagged, tagged
        a.ok("EXAMINE INBOX")
        u = b"".join(a.ok("FETCH * INTERNALDATE"))
        assert b'INTERNALDATE "07-Jul-1996 02:44:25 -0700"' in u, u
