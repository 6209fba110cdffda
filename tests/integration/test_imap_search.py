"""SEARCH on the server (RFC 3501 §6.4.4) over a fixed corpus: every key against the set it
must give, worked out by hand from the corpus below."""

import re

import pytest

from imap_helpers import RawIMAP, imap

PIGEON_CONF = {"imap": {}}

# (internal date, flags, message). Sequence numbers and uids are 1..6 in this order.
CORPUS = [
    ("01-Jan-2025 12:00:00 +0000", r"(\Seen)",
     b"From: Alice <alice@crepes.fr>\r\nTo: Bob <bob@hamburger.edu>\r\n"
     b"Subject: Ketchup recipe\r\nDate: Wed, 1 Jan 2025 10:00:00 +0000\r\n\r\n"
     b"Mix tomatoes and sugar.\r\n"),
    ("02-Jan-2025 12:00:00 +0000", r"(\Answered \Seen)",
     b"From: Bob <bob@hamburger.edu>\r\nTo: alice@crepes.fr\r\nCc: Carol <carol@example.org>\r\n"
     b"Subject: Re: Ketchup recipe\r\nDate: Thu, 2 Jan 2025 09:00:00 +0000\r\n\r\nThanks!\r\n"),
    ("10-Feb-2025 12:00:00 +0000", r"(\Flagged)",
     b"From: Carol <carol@example.org>\r\nTo: bob@hamburger.edu\r\n"
     b"Subject: =?utf-8?q?Cr=C3=AApes?= party\r\nDate: Mon, 10 Feb 2025 18:00:00 +0100\r\n"
     b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=zz\r\n\r\n"
     b"--zz\r\nContent-Type: text/plain; charset=utf-8\r\n"
     b"Content-Transfer-Encoding: quoted-printable\r\n\r\nBring your own cr=C3=AApes\r\n"
     b"--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Bring them</p>\r\n--zz--\r\n"),
    ("15-Mar-2025 12:00:00 +0000", r"(\Draft $Work)",
     b"From: Dave <dave@example.org>\r\nTo: accounts@example.org\r\nBcc: bob@hamburger.edu\r\n"
     b"Subject: Invoice 42\r\nDate: Sat, 15 Mar 2025 08:00:00 +0000\r\n"
     b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     b"UGF5bWVudCBkdWUgaW4gMzAgZGF5cy4=\r\n" + b"X-Padding: " + b"p" * 5000 + b"\r\n"),
    ("01-Jan-2020 12:00:00 +0000", r"(\Deleted \Seen)",
     b"From: Alice <alice@crepes.fr>\r\nTo: bob@hamburger.edu\r\nSubject: Old message\r\n"
     b"Date: Wed, 1 Jan 2020 10:00:00 +0000\r\n\r\nArchive me.\r\n"),
    ("01-Apr-2025 12:00:00 +0000", None,
     b"From: eve@example.net\r\nTo: bob@hamburger.edu\r\nSubject: Hello World\r\n"
     b"Date: Tue, 1 Apr 2025 07:00:00 +0000\r\nX-Spam: yes\r\n\r\nHELLO there\r\n"),
]

CASES = [
    ("ALL", "1 2 3 4 5 6"),
    ("ANSWERED", "2"), ("UNANSWERED", "1 3 4 5 6"),
    ("DELETED", "5"), ("UNDELETED", "1 2 3 4 6"),
    ("FLAGGED", "3"), ("UNFLAGGED", "1 2 4 5 6"),
    ("SEEN", "1 2 5"), ("UNSEEN", "3 4 6"),
    ("DRAFT", "4"), ("UNDRAFT", "1 2 3 5 6"),
    ("KEYWORD $Work", "4"), ("UNKEYWORD $work", "1 2 3 5 6"),
    ("FROM alice", "1 5"), ("FROM CREPES.FR", "1 5"), ("TO alice", "2"),
    ("CC carol", "2"), ("BCC bob", "4"),
    ("SUBJECT ketchup", "1 2"), ("SUBJECT \"re: KETCHUP\"", "2"),
    ("BODY tomatoes", "1"), ("BODY \"payment due\"", "4"), ("BODY hello", "6"),
    ("TEXT x-spam", "6"), ("TEXT invoice", "4"), ("TEXT thanks", "2"),
    ("HEADER X-Spam yes", "6"), ("HEADER X-Spam \"\"", "6"), ("HEADER Content-Type multipart", "3"),
    ("LARGER 4000", "4"), ("SMALLER 4000", "1 2 3 5 6"),
    ("BEFORE 1-Jan-2025", "5"), ("ON 2-Jan-2025", "2"), ("SINCE 10-Feb-2025", "3 4 6"),
    ("SENTBEFORE 1-Jan-2025", "5"), ("SENTON 10-Feb-2025", "3"),
    ("SENTSINCE 15-Mar-2025", "4 6"),
    ("NOT SEEN", "3 4 6"), ("OR FLAGGED DRAFT", "3 4"), ("SEEN NOT DELETED", "1 2"),
    ("(OR ANSWERED FLAGGED) SINCE 1-Feb-2025", "3"),
    ("2:4", "2 3 4"), ("5:*", "5 6"), ("UID 2:4", "2 3 4"), ("UID 6:*", "6"),
    ("NOT OR FROM alice FROM bob", "3 4 6"),
]


@pytest.fixture(scope="module")
def corpus(daemon):
    m = imap(daemon)
    assert m.create("Search")[0] == "OK"
    for date, flags, msg in CORPUS:
        assert m.append("Search", flags, '"%s"' % date, msg)[0] == "OK"
    m.logout()
    return daemon


def search(m, criteria, uid=False):
    typ, data = (m.uid("SEARCH", None, criteria) if uid else m.search(None, criteria))
    assert typ == "OK", (criteria, data)
    return data[0].decode()


@pytest.mark.parametrize("criteria,want", CASES)
def test_search_key(corpus, criteria, want):
    m = imap(corpus)
    m.select("Search", readonly=True)
    assert search(m, criteria) == want, criteria
    assert search(m, criteria, uid=True) == want, criteria  # uids equal the numbers here
    m.logout()


def test_utf8_search(corpus):
    with RawIMAP(corpus.imap_port) as c:
        c.login()
        c.ok("EXAMINE Search")
        word = "CRÊPES".encode()
        for key in (b"SUBJECT", b"BODY", b"TEXT"):
            tagged, untagged = c.cmd(b"SEARCH CHARSET UTF-8 " + key + b" {%d+}\r\n" % len(word)
                                     + word)
            assert "OK" in tagged and untagged == [b"* SEARCH 3\r\n"], (key, untagged)
        tagged, _ = c.cmd("SEARCH CHARSET X-NO-SUCH-CHARSET ALL")
        assert "NO [BADCHARSET" in tagged


def test_recent_new_old(corpus):
    a = imap(corpus)
    a.select("Search")                   # the first session claims every message as recent
    assert search(a, "RECENT") == "1 2 3 4 5 6"
    assert search(a, "NEW") == "3 4 6"
    assert search(a, "OLD") == ""
    b = imap(corpus)
    b.select("Search")
    assert search(b, "RECENT") == ""
    assert search(b, "OLD") == "1 2 3 4 5 6"
    a.logout()
    b.logout()


def test_search_after_store_and_modseq(corpus):
    m = imap(corpus)
    m.select("Search")
    m.store("6", "+FLAGS", r"(\Seen $Later)")
    assert search(m, "KEYWORD $Later SEEN") == "6"
    typ, data = m.search(None, "MODSEQ 1")
    assert re.match(rb"^[\d ]+ \(MODSEQ \d+\)$", data[0]), data
    m.store("6", "-FLAGS", r"(\Seen $Later)")
    m.logout()
