"""IMAP extensions over the wire against a real pigeond (store, parse cache, writer): ESEARCH
and SEARCHRES (RFC 4731, 5182), SORT, SORT=DISPLAY and ESORT (RFC 5256, 5957, 5267), THREAD
ORDEREDSUBJECT and REFERENCES (RFC 5256), LIST-EXTENDED and LIST-STATUS (RFC 5258, 5819) and
QRESYNC (RFC 7162: SELECT with QRESYNC, VANISHED, UID FETCH ... VANISHED) with a second
session making the changes."""

import re
import sqlite3
from pathlib import Path

import pytest

import pigeon_harness as H
from imap_helpers import RawIMAP, imap

PIGEON_CONF = {"imap": {}}

MSGS = [
    # From, Subject, Date, Message-ID, References
    ("Carol <carol@x.org>", "lunch", "Thu, 3 Jul 2025 12:00:00 +0000", "<1@x>", None),
    ("alice <alice@x.org>", "Re: lunch", "Tue, 1 Jul 2025 12:00:00 +0000", "<2@x>", "<1@x>"),
    ("Bob <bob@x.org>", "beer", "Wed, 2 Jul 2025 12:00:00 +0000", "<3@x>", None),
    ("=?utf-8?q?Zed?= <alice@y.org>", "Re: [list] Re: lunch", "Mon, 30 Jun 2025 09:00:00 +0000",
     "<4@x>", "<1@x> <2@x>"),
]


@pytest.fixture
def box(daemon):
    import time
    name = "Ext%d" % int(time.monotonic() * 1000000)
    m = imap(daemon)
    m.create(name)
    for frm, subj, date, mid, refs in MSGS:
        raw = "From: %s\r\nTo: bob@hamburger.edu\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: %s\r\n" % (
            frm, subj, date, mid)
        if refs:
            raw += "References: %s\r\n" % refs
        m.append(name, None, None, (raw + "\r\nbody of %s\r\n" % mid).encode())
    m.logout()
    return name


def test_capabilities(daemon):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        line = a.ok("CAPABILITY")[0].decode()
        for cap in ("ESEARCH", "SEARCHRES", "SORT", "SORT=DISPLAY", "ESORT",
                    "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "LIST-EXTENDED",
                    "LIST-STATUS", "QRESYNC"):
            assert " %s " % cap in line.rstrip() + " ", (cap, line)


def test_esearch_and_searchres(daemon, box):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + box)
        tagged, u = a.cmd("SEARCH RETURN (MIN MAX COUNT ALL) FROM alice", tag="e1")
        assert u == [b'* ESEARCH (TAG "e1") MIN 2 MAX 4 ALL 2,4 COUNT 2\r\n'], u
        tagged, u = a.cmd("UID SEARCH RETURN () SUBJECT lunch", tag="e2")
        assert u == [b'* ESEARCH (TAG "e2") UID ALL 1:2,4\r\n'], u
        assert not any(b"ESEARCH" in x for x in a.ok("SEARCH RETURN (SAVE) FROM alice"))
        u = a.ok("FETCH $ (UID)")
        assert [x for x in u if b"FETCH" in x] == [b"* 2 FETCH (UID 2)\r\n",
                                                   b"* 4 FETCH (UID 4)\r\n"], u
        assert b"* SEARCH 3\r\n" in a.ok("SEARCH NOT $ NOT FROM carol")
        a.ok("STORE $ +FLAGS (\\Flagged)")
        assert b"* SEARCH 2 4\r\n" in a.ok("SEARCH FLAGGED")
        a.ok("UNSELECT")
        a.ok("SELECT " + box)
        assert b"* SEARCH\r\n" in a.ok("SEARCH $")


def test_sort(daemon, box):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("EXAMINE " + box)
        assert b"* SORT 3 1 2 4\r\n" in a.ok("SORT (SUBJECT) UTF-8 ALL")
        assert b"* SORT 4 2 3 1\r\n" in a.ok("SORT (DATE) UTF-8 ALL")
        assert b"* SORT 1 3 2 4\r\n" in a.ok("SORT (REVERSE DATE) US-ASCII ALL")
        assert b"* SORT 2 4 3 1\r\n" in a.ok("SORT (FROM) UTF-8 ALL")
        assert b"* SORT 2 3 1 4\r\n" in a.ok("SORT (DISPLAYFROM) UTF-8 ALL")
        assert b"* SORT 1 4\r\n" in a.ok("UID SORT (ARRIVAL) UTF-8 OR UID 4 FROM carol")
        tagged, u = a.cmd("SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", tag="s1")
        assert u == [b'* ESEARCH (TAG "s1") MIN 4 MAX 1 COUNT 4\r\n'], u
        assert "BAD" in a.cmd("SORT (DATE) ALL")[0]
        assert "NO [BADCHARSET" in a.cmd("SORT (DATE) X-NOPE ALL")[0]


def test_thread(daemon, box):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("EXAMINE " + box)
        # 4 names 1 and 2 as its ancestors: 1 - 2 - 4; 3 stands alone and is older than 1
        assert b"* THREAD (3)(1 2 4)\r\n" in a.ok("THREAD REFERENCES UTF-8 ALL")
        assert b"* THREAD (4 (2)(1))(3)\r\n" in a.ok("THREAD ORDEREDSUBJECT UTF-8 ALL")
        assert b"* THREAD (2 4)(3)\r\n" in a.ok("UID THREAD REFERENCES UTF-8 NOT FROM carol")
        assert "BAD" in a.cmd("THREAD NESTED UTF-8 ALL")[0]


def test_list_extended_and_status(daemon, box):
    m = imap(daemon)
    m.create(box + "/deep/er")
    m.subscribe(box + "/deep/er")
    m.logout()
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        u = a.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%s/%%"' % box)
        assert u == [('* LIST (\\HasChildren) "/" "%s/deep" ("CHILDINFO" ("SUBSCRIBED"))\r\n'
                      % box).encode()], u
        u = a.ok('LIST "" %s RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))' % box)
        assert u == [('* LIST (\\HasChildren) "/" "%s"\r\n' % box).encode(),
                     ('* STATUS "%s" (MESSAGES 4 UNSEEN 4 UIDNEXT 5)\r\n' % box).encode()], u
        assert "BAD" in a.cmd('LIST (RECURSIVEMATCH) "" *')[0]
        assert "BAD" in a.cmd('LIST "" * RETURN (STATUS (NOPE))')[0]


def test_qresync(daemon, box):
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        assert b"* ENABLED QRESYNC\r\n" in a.ok("ENABLE QRESYNC")
        u = a.ok("SELECT " + box)
        uidvalidity = int(re.search(rb"UIDVALIDITY (\d+)", b"".join(u)).group(1))
        modseq = int(re.search(rb"HIGHESTMODSEQ (\d+)", b"".join(u)).group(1))
        a.ok("UNSELECT")
        # another session changes the mailbox while a is away
        b.ok("SELECT " + box)
        b.ok("STORE 1 +FLAGS (\\Deleted)")
        b.ok("STORE 3 +FLAGS (\\Answered)")
        b.ok("EXPUNGE")
        u = a.ok("SELECT %s (QRESYNC (%d %d 1:4))" % (box, uidvalidity, modseq))
        assert b"* VANISHED (EARLIER) 1\r\n" in u, u
        assert any(re.match(rb"\* 2 FETCH \(FLAGS \(\\Answered\) UID 3 MODSEQ \(\d+\)\)", x)
                   for x in u), u
        # a's own changes are told with VANISHED, not EXPUNGE
        a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        u = a.ok("EXPUNGE")
        assert u == [b"* VANISHED 2\r\n"], u
        u = a.ok("UID FETCH 1:* (FLAGS) (CHANGEDSINCE %d VANISHED)" % modseq)
        assert u[0] == b"* VANISHED (EARLIER) 1:2\r\n", u
        b.ok("UID STORE 3 +FLAGS (\\Deleted)")
        b.ok("EXPUNGE")
        assert a.ok("NOOP") == [b"* VANISHED 3\r\n"]


def test_binary(daemon, box):
    raw = (b"From: a@x.org\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n"
           b"--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"caf=C3=A9 =3D ok\r\n"
           b"--z\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--z--\r\n")
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.send(b"b1 APPEND %s ~{%d+}\r\n%s\r\n" % (box.encode(), len(raw), raw))
        assert "OK [APPENDUID" in a.until("b1")[0]
        # a message holding a NUL byte, sent as literal8 (RFC 3516 §4.4), comes back whole
        nul = b"Subject: nul\r\n\r\nA\x00B\r\n"
        a.send(b"b2 APPEND %s ~{%d}\r\n" % (box.encode(), len(nul)))
        assert a.line().startswith(b"+ ")
        a.send(nul + b"\r\n")
        assert "OK [APPENDUID" in a.until("b2")[0]
        a.ok("SELECT " + box)
        u = a.ok("FETCH 5 (BINARY.PEEK[1] BINARY.PEEK[2] BINARY.SIZE[2])")
        assert u == [b"* 5 FETCH (UID 5 BINARY[1] {10}\r\ncaf\xc3\xa9 = ok BINARY[2] ~{4}\r\n"
                     b"\x00\x01\x02\x03 BINARY.SIZE[2] 4)\r\n"], u
        u = a.ok("FETCH 6 (BINARY.PEEK[] RFC822.SIZE)")
        assert u == [b"* 6 FETCH (UID 6 RFC822.SIZE %d BINARY[] ~{%d}\r\n%s)\r\n" % (
            len(nul), len(nul), nul)], u
        # a literal cannot carry a NUL (RFC 3501 §4.3): the content of a leaf part goes out
        # in base64 (imaptest's append-binary), the whole message with each NUL as 0x80
        import base64
        enc = base64.b64encode(b"A\x00B\r\n")
        u = a.ok("FETCH 6 (BODY.PEEK[1])")
        assert u == [b"* 6 FETCH (UID 6 BODY[1] {%d}\r\n%s)\r\n" % (len(enc), enc)], u
        u = a.ok("FETCH 6 (BODY.PEEK[])")
        assert u == [b"* 6 FETCH (UID 6 BODY[] {%d}\r\n%s)\r\n" % (
            len(nul), nul.replace(b"\x00", b"\x80"))], u


def test_multiappend(daemon, box):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        msgs = [b"Subject: m%d\r\n\r\nbody %d\r\n" % (i, i) for i in range(3)]
        cmd = b"m1 APPEND " + box.encode()
        for i, m in enumerate(msgs):
            cmd += b" (\\Flagged)" if i == 1 else b""
            cmd += b" {%d+}\r\n%s" % (len(m), m)
        a.send(cmd + b"\r\n")
        tagged = a.until("m1")[0]
        assert re.match(r"m1 OK \[APPENDUID \d+ 5:7\] APPEND completed", tagged), tagged
        a.ok("EXAMINE " + box)
        assert b"* SEARCH 6\r\n" in a.ok("UID SEARCH FLAGGED")
        u = a.ok("UID FETCH 5:7 (BODY.PEEK[TEXT])")
        assert [x for x in u if b"FETCH" in x] == [
            b"* %d FETCH (UID %d BODY[TEXT] {8}\r\nbody %d\r\n)\r\n" % (i + 5, i + 5, i)
            for i in range(3)], u
        # a missing mailbox stores none of them
        assert "NO [TRYCREATE]" in a.cmd("APPEND NoSuchBox {3+}\r\none {3+}\r\ntwo")[0]


def test_compress_deflate(daemon, box):
    import zlib
    with RawIMAP(daemon.imap_port) as a:
        tagged, _ = a.cmd("LOGIN bob hungry")
        assert "COMPRESS=DEFLATE" in tagged, tagged
        # the OK comes in clear; a command pipelined behind COMPRESS is already compressed
        comp = zlib.compressobj(wbits=-15)
        dec = zlib.decompressobj(wbits=-15)
        a.send(b"z1 COMPRESS DEFLATE\r\n" + comp.compress(b"z2 SELECT " + box.encode() + b"\r\n")
               + comp.flush(zlib.Z_SYNC_FLUSH))
        assert a.line() == b"z1 OK DEFLATE active\r\n"
        plain = dec.decompress(a.buf)
        a.buf = b""

        def reply(tag):
            nonlocal plain
            while not re.search(rb"(^|\n)" + tag + rb" [A-Z]+ [^\r]*\r\n", plain):
                plain += dec.decompress(a.sock.recv(65536))
            return plain

        out = reply(b"z2")
        assert b"* 4 EXISTS\r\n" in out and b"z2 OK [READ-WRITE]" in out, out
        a.send(comp.compress(b"z3 UID FETCH 1:4 (BODY.PEEK[])\r\nz4 COMPRESS DEFLATE\r\n")
               + comp.flush(zlib.Z_SYNC_FLUSH))
        out = reply(b"z4")
        assert out.count(b"body of <") == 4 and b"z3 OK" in out, out
        assert b"z4 NO [COMPRESSIONACTIVE]" in out, out


def cached_envelopes(daemon, needle):
    db = sqlite3.connect("file:%s?mode=ro" % (Path(daemon.data_dir) / "pigeon.db"), uri=True)
    try:
        return db.execute("SELECT blob_id, envelope FROM parse_cache WHERE envelope LIKE ?",
                          ("%" + needle + "%",)).fetchall()
    finally:
        db.close()


def test_parse_cache_filled_by_append_and_by_fetch(daemon):
    """APPEND stores the message's parse-cache entry with its rows (the bytes are at hand), so
    its first FETCH needs no file; an entry that is missing is computed by a FETCH and stored
    by the writer thread after the reply."""
    subject = "cache-%d" % id(daemon)
    raw = "From: Carol <carol@x.org>\r\nSubject: %s\r\n\r\nbody\r\n" % subject
    m = imap(daemon)
    typ, data = m.append("INBOX", None, None, raw.encode())
    uid = re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1).decode()
    rows = cached_envelopes(daemon, subject)
    assert len(rows) == 1, rows  # there before any FETCH
    db = sqlite3.connect(str(Path(daemon.data_dir) / "pigeon.db"), timeout=30)
    try:
        with db:
            db.execute("DELETE FROM parse_cache WHERE blob_id = ?", (rows[0][0],))
    finally:
        db.close()
    assert cached_envelopes(daemon, subject) == []
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT INBOX")
        fetched = b"".join(a.ok("UID FETCH %s (ENVELOPE)" % uid))
        assert subject.encode() in fetched, fetched
    again = H.wait_until(lambda: cached_envelopes(daemon, subject), what="parse cache row")
    assert again[0][1] == rows[0][1]
    m.logout()
