"""The conformance points imaptest (Dovecot's compliance suite) found against Pigeon, each
checked over the wire: MOVE into the selected mailbox reports the EXPUNGE before the new EXISTS;
"NIL" in a flag list is the keyword NIL (RFC 3501 §9: an atom); SEARCH FROM matches the parsed
address, not only the raw header text; a text part's line count counts line ends only; a
keyword another session created is announced in FLAGS and PERMANENTFLAGS (RFC 3501 §7.2.6)
before a FETCH or EXISTS can show it."""

import re

import pytest

from imap_helpers import RawIMAP, fresh_mailbox, imap

PIGEON_CONF = {"imap": {}}


@pytest.fixture
def mailbox(daemon):
    return fresh_mailbox(daemon, "Conf")


def test_move_into_selected_mailbox_expunge_before_exists(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + mailbox)
        untagged = a.ok("MOVE 1 " + mailbox)
        lines = [u for u in untagged if b"EXPUNGE" in u or b"EXISTS" in u]
        assert lines == [b"* 1 EXPUNGE\r\n", b"* 3 EXISTS\r\n"], untagged
        untagged = a.ok("UID FETCH 1:* (UID)")
        assert [u for u in untagged if b"FETCH" in u] == [
            b"* 1 FETCH (UID 2)\r\n", b"* 2 FETCH (UID 3)\r\n", b"* 3 FETCH (UID 4)\r\n"]


def test_store_nil_is_a_keyword(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + mailbox)
        untagged = a.ok("STORE 1 +FLAGS NIL")
        assert any(re.match(rb"\* 1 FETCH \(FLAGS \((\\Recent )?NIL\)", u) for u in untagged), \
            untagged
        untagged = a.ok("STORE 2 +FLAGS (\\Seen NIL)")
        assert any(re.match(rb"\* 2 FETCH \(FLAGS \(\\Seen (\\Recent )?NIL\)", u)
                   for u in untagged), untagged
        untagged = a.ok("SEARCH KEYWORD NIL")
        assert b"* SEARCH 1 2\r\n" in untagged, untagged


def test_search_from_matches_parsed_address(daemon, mailbox):
    raw = (b"From: <user-from (comment)@ (comment) domain.org>\r\n"
           b"To: Some One <other@example.net>\r\nSubject: addr\r\n\r\nbody\r\n")
    m = imap(daemon)
    m.append(mailbox, None, None, raw)
    m.logout()
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + mailbox)
        assert b"* SEARCH 4\r\n" in a.ok("SEARCH FROM user-from@domain.org")
        assert b"* SEARCH 4\r\n" in a.ok("SEARCH TO \"One <other@\"")
        # raw text still matches too
        assert b"* SEARCH 4\r\n" in a.ok("SEARCH FROM \"(comment)\"")
        assert b"* SEARCH\r\n" in a.ok("SEARCH FROM nobody@domain.org")


def test_bodystructure_counts_line_ends(daemon, mailbox):
    m = imap(daemon)
    m.append(mailbox, None, None, b"Subject: lines\r\n\r\none\r\ntwo")
    m.append(mailbox, None, None, b"Subject: lines\r\n\r\none\r\ntwo\r\n")
    m.logout()
    with RawIMAP(daemon.imap_port) as a:
        a.login()
        a.ok("SELECT " + mailbox)
        untagged = a.ok("FETCH 4:5 (BODYSTRUCTURE)")
        body = [u for u in untagged if b"BODYSTRUCTURE" in u]
        assert b'"7BIT" 8 1 NIL' in body[0], body
        assert b'"7BIT" 10 2 NIL' in body[1], body


def test_new_keyword_announced_before_fetch(daemon, mailbox):
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        a.ok("SELECT " + mailbox)
        b.ok("SELECT " + mailbox)
        a.ok("STORE 2 +FLAGS (kwFromA)")
        untagged = b.ok("NOOP")
        flags = [i for i, u in enumerate(untagged) if u.startswith(b"* FLAGS (")]
        perm = [i for i, u in enumerate(untagged) if b"[PERMANENTFLAGS (" in u]
        fetch = [i for i, u in enumerate(untagged) if b"kwFromA" in u and b"FETCH" in u]
        assert flags and perm and fetch, untagged
        assert b"kwFromA" in untagged[flags[0]] and b"kwFromA" in untagged[perm[0]], untagged
        assert flags[0] < fetch[0] and perm[0] < fetch[0], untagged
        # A keyword b can only learn from a new message (copied in while it had the keyword,
        # which the original then lost): FLAGS before its EXISTS.
        a.ok("STORE 3 +FLAGS (kwCopied)")
        a.ok("COPY 3 " + mailbox)
        a.ok("STORE 3 -FLAGS (kwCopied)")
        untagged = b.ok("NOOP")
        flags = [i for i, u in enumerate(untagged) if u.startswith(b"* FLAGS (")]
        exists = [i for i, u in enumerate(untagged) if u.endswith(b" EXISTS\r\n")]
        assert flags and exists and flags[0] < exists[0], untagged
        assert b"kwCopied" in untagged[flags[0]], untagged
