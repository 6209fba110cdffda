"""ENVELOPE, BODY and BODYSTRUCTURE of a fixed corpus of multipart messages, fetched over IMAP
and compared byte for byte with the expected values in tests/data/mime (written by reading
RFC 3501 §7.4.2 and RFC 2045-2231), plus BODY[section] of nested parts."""

from pathlib import Path

import pytest

from imap_helpers import RawIMAP

PIGEON_CONF = {"imap": {}}

DATA = Path(__file__).resolve().parents[1] / "data" / "mime"
NAMES = sorted(p.stem for p in DATA.glob("*.eml"))


def load(path, raw=False, strip_final_lf=False):
    """As tests/unit/test_mime.c loads them: LF made CRLF unless raw."""
    data = path.read_bytes()
    if strip_final_lf and data.endswith(b"\n"):
        data = data[:-1]
    if not raw:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


@pytest.fixture(scope="module")
def appended(daemon):
    """Appends every corpus message to mailbox Corpus; returns {name: uid}."""
    uids = {}
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("CREATE Corpus")
        for name in NAMES:
            msg = load(DATA / (name + ".eml"), raw=name.startswith("lf_"))
            tagged, _ = c.cmd(b"APPEND Corpus {%d+}\r\n" % len(msg) + msg)
            assert "OK [APPENDUID" in tagged, (name, tagged)
            uids[name] = int(tagged.split("]")[0].split()[-1])
    return uids


@pytest.mark.parametrize("name", NAMES)
def test_structure(daemon, appended, name):
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("EXAMINE Corpus")
        uid = appended[name]
        for item, ext in (("ENVELOPE", "envelope"), ("BODY", "body"),
                          ("BODYSTRUCTURE", "bodystructure")):
            want = load(DATA / ("%s.%s" % (name, ext)), strip_final_lf=True)
            tagged, untagged = c.cmd("UID FETCH %d (%s)" % (uid, item))
            assert "OK" in tagged
            got = b"".join(untagged)
            prefix = b"UID %d %s " % (uid, item.encode())
            assert got.startswith(b"* ") and prefix in got, got
            value = got.split(prefix, 1)[1]
            assert value.endswith(b")\r\n")
            assert value[:-3] == want, "%s %s:\n got %r\nwant %r" % (name, item, value[:-3], want)


def test_sections_of_nested(daemon, appended):
    msg = load(DATA / "nested.eml")
    with RawIMAP(daemon.imap_port) as c:
        c.login()
        c.ok("EXAMINE Corpus")
        uid = appended["nested"]
        tagged, untagged = c.cmd("UID FETCH %d (BODY.PEEK[] BODY.PEEK[1.1] BODY.PEEK[1.2.MIME] "
                                 "BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[2]<0.4>)" % uid)
        got = b"".join(untagged)
        assert b"BODY[] {%d}\r\n" % len(msg) + msg in got
        assert b"BODY[1.1] {14}\r\n" in got
        assert b"BODY[1.2.MIME] {" in got
        assert b"BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: Photos\r\n\r\n" in got
        assert b"BODY[2]<0> {4}\r\n" in got
