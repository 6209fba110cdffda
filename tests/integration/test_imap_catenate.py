"""CATENATE (RFC 4469) and METADATA (RFC 5464) over the wire against a real pigeond: messages
built from stored messages' sections (looked up in the store, cut from their files, written
durably as APPEND writes), BADURL and TRYCREATE, MULTIAPPEND all-or-none; annotations of the
server and of mailboxes kept in the store across a restart, following a RENAME, gone with a
DELETE, and the size and count limits."""

import time

import pytest

from imap_helpers import RawIMAP

PIGEON_CONF = {"imap": {}}

M1 = b"From: foo@example.com\r\nSubject: one\r\n\r\nHello world body\r\n"
M2 = (b"From: bar@example.com\r\nMIME-Version: 1.0\r\n"
      b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
      b"--XX\r\nContent-Type: text/plain\r\n\r\npart one\r\n"
      b"--XX\r\nContent-Type: text/plain\r\n\r\npart two\r\n--XX--\r\n")


def append(a, box, data):
    tagged, _ = a.cmd(b"APPEND " + box.encode() + b" {%d+}\r\n" % len(data) + data)
    assert " OK [APPENDUID " in tagged, tagged
    return int(tagged.split()[4].rstrip("]"))


def last_body(a, box):
    a.ok("EXAMINE " + box)
    u = a.ok("FETCH * BODY.PEEK[]")
    line = [x for x in u if b" FETCH " in x][-1]
    return line.split(b"}\r\n", 1)[1].rsplit(b")", 1)[0]


@pytest.fixture
def src(daemon):
    name = "Cat%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("CREATE " + name)
        a.ok("CREATE %s/out" % name)
        uid1 = append(a, name, M1)
        uid2 = append(a, name, M2)
        uidv = int([x for x in a.ok("STATUS %s (UIDVALIDITY)" % name)
                    if b"STATUS" in x][0].split(b"UIDVALIDITY ")[1].split(b")")[0])
    return name, uidv, uid1, uid2


def test_catenate(daemon, src):
    name, uidv, uid1, uid2 = src
    out = name + "/out"
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        assert b" CATENATE " in a.ok("CAPABILITY")[0]
        hdr = b"Subject: new\r\n"
        tagged, _ = a.cmd(b"APPEND " + out.encode() + b" (\\Seen) CATENATE (TEXT {%d+}\r\n" %
                          len(hdr) + hdr + b' URL "/%s;UIDVALIDITY=%d/;UID=%d/;SECTION=TEXT"'
                          % (name.encode(), uidv, uid1) + b" TEXT {8+}\r\n-- bye\r\n)")
        assert " OK [APPENDUID " in tagged, tagged
        assert last_body(a, out) == b"Subject: new\r\nHello world body\r\n-- bye\r\n"
        a.ok('APPEND %s CATENATE (URL "/%s/;uid=%d/;section=2")' % (out, name, uid2))
        assert last_body(a, out) == b"part two"
        a.ok('APPEND %s CATENATE (URL "/%s/;UID=%d/;SECTION=HEADER.FIELDS%%20(Subject)")'
             % (out, name, uid1))
        assert last_body(a, out) == b"Subject: one\r\n\r\n"
        a.ok('APPEND %s CATENATE (URL "/%s/;UID=%d/;PARTIAL=6.15")' % (out, name, uid1))
        assert last_body(a, out) == b"foo@example.com"
        # the whole message, then a MULTIAPPEND with a built and a plain message
        tagged, _ = a.cmd('APPEND %s CATENATE (URL "/%s/;UID=%d") (\\Answered) {4+}\r\ntwo\n'
                          % (out, name, uid1))
        assert " OK [APPENDUID " in tagged and ":" in tagged.split()[4], tagged
        a.ok("EXAMINE " + out)
        bodies = [x for x in a.ok("FETCH 1:* BODY.PEEK[]") if b" FETCH " in x]
        assert M1 in bodies[-2] and bodies[-1].endswith(b"two\n)\r\n"), bodies[-2:]


def test_catenate_failures(daemon, src):
    name, uidv, uid1, uid2 = src
    out = name + "/out"
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        before = a.ok("STATUS %s (MESSAGES)" % out)
        for url, what in (("/%s;UIDVALIDITY=%d/;UID=%d" % (name, uidv + 1, uid1), "uidvalidity"),
                          ("/%s/;UID=%d" % (name, uid2 + 100), "no message"),
                          ("/%sX/;UID=%d" % (name, uid1), "no mailbox"),
                          ("/%s/;UID=%d/;SECTION=BOGUS" % (name, uid1), "bad section"),
                          ("imap://bob@127.0.0.1/%s/;UID=%d" % (name, uid1), "other server")):
            tagged, _ = a.cmd('APPEND %s CATENATE (TEXT {2+}\r\nx\n URL "%s")' % (out, url))
            assert tagged.split()[1:3] == ["NO", "[BADURL"], (what, tagged)
        # one bad URL in a MULTIAPPEND: nothing of it is stored
        tagged, _ = a.cmd('APPEND %s CATENATE (URL "/%s/;UID=%d") CATENATE (URL "/%s/;UID=%d")'
                          % (out, name, uid1, name, uid2 + 100))
        assert "NO [BADURL" in tagged, tagged
        # the destination's absence is told first
        tagged, _ = a.cmd('APPEND %s/none CATENATE (URL "/%s;UIDVALIDITY=1/;UID=%d")'
                          % (name, name, uid1))
        assert "NO [TRYCREATE]" in tagged, tagged
        assert a.ok("STATUS %s (MESSAGES)" % out) == before
    # a URL names the user's own mailboxes only: bob's mailbox does not exist for alice
    with RawIMAP(daemon.imap_port) as b:
        b.login("alice", "crepes")
        tagged, _ = b.cmd('APPEND INBOX CATENATE (URL "/%s/;UID=%d")' % (name, uid1))
        assert "NO [BADURL" in tagged, tagged


def meta(a, cmd):
    tagged, u = a.cmd(cmd)
    return tagged, b"".join(u)


def test_metadata(daemon):
    name = "Meta%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        assert b" METADATA " in a.ok("CAPABILITY")[0]
        a.ok("CREATE " + name)
        a.ok('SETMETADATA %s (/private/comment "box note" /shared/vendor/x/y {3+}\r\na\nb)' % name)
        a.ok('SETMETADATA "" (/private/vendor/pigeon/motd "hello")')
        t, u = meta(a, "GETMETADATA %s (/private/comment /shared/vendor/x/y)" % name)
        assert u == (b'* METADATA "%s" (/private/comment "box note" /shared/vendor/x/y {3}\r\n'
                     b'a\nb)\r\n' % name.encode()), u
        t, u = meta(a, 'GETMETADATA (DEPTH infinity) "" /private')
        assert b'/private/vendor/pigeon/motd "hello"' in u and b"box note" not in u, u
        # RENAME keeps them, DELETE takes them
        a.ok("RENAME %s %s2" % (name, name))
        t, u = meta(a, "GETMETADATA %s2 /private/comment" % name)
        assert b'"box note"' in u, u
        a.ok("DELETE %s2" % name)
        a.ok("CREATE %s2" % name)
        t, u = meta(a, "GETMETADATA %s2 /private/comment" % name)
        assert b"/private/comment NIL" in u, u
        # limits
        big = b"v" * (64 * 1024 + 1)
        t, _ = a.cmd(b'SETMETADATA "" (/private/big {%d+}\r\n' % len(big) + big + b")")
        assert "NO [METADATA MAXSIZE 65536]" in t, t
        t, _ = a.cmd('SETMETADATA "" (/private/a*b "x")')
        assert " BAD " in t, t
    # alice sees none of bob's
    with RawIMAP(daemon.imap_port) as b:
        b.login("alice", "crepes")
        t, u = meta(b, 'GETMETADATA "" /private/vendor/pigeon/motd')
        assert b"/private/vendor/pigeon/motd NIL" in u, u


def test_metadata_durable_and_counted(new_daemon):
    d = new_daemon(imap={})
    with RawIMAP(d.imap_port) as a:
        a.login()
        a.ok('SETMETADATA INBOX (/private/comment "kept")')
    d.stop()
    d.start()
    with RawIMAP(d.imap_port) as a:
        a.login()
        t, u = meta(a, "GETMETADATA INBOX /private/comment")
        assert u == b'* METADATA "INBOX" (/private/comment "kept")\r\n', u
        # 1,000 annotations per user: the 1,001st is refused, and the command that would pass
        # the limit stores none of its entries
        for i in range(0, 999, 50):
            entries = " ".join('/private/n%d "v"' % k for k in range(i, min(i + 50, 999)))
            a.ok('SETMETADATA "" (%s)' % entries)
        t, _ = a.cmd('SETMETADATA "" (/private/extra1 "v" /private/extra2 "v")')
        assert "NO [METADATA TOOMANY]" in t, t
        t, u = meta(a, 'GETMETADATA "" /private/extra1')
        assert b"/private/extra1 NIL" in u, u
        a.ok('SETMETADATA "" (/private/n0 NIL /private/extra1 "v")')
