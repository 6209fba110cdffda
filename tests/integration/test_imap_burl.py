"""BURL (RFC 4468) against a real pigeond: bob signs a "submit+" URL of a message in his IMAP
store with GENURLAUTH, then submits it over SMTP submission (STARTTLS, AUTH) with BURL — alone,
and mixed with BDAT chunks around a section of it — and the message alice receives is
checked. URLs that are not bob's to submit, changed, revoked or naming nothing are refused
with 554 5.6.6 and end the transaction; the MX port does not take BURL."""

import re
import smtplib

import pigeon_harness as H
from imap_helpers import RawIMAP

PIGEON_CONF = {"imap": {}}
PIGEON_USERS = {"carol@hamburger.edu": "secret"}

BOB = "bob@hamburger.edu"
ALICE = "alice@hamburger.edu"

DRAFT = (b"From: Bob <bob@hamburger.edu>\r\nTo: alice@hamburger.edu\r\nSubject: %s\r\n"
         b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
         b"--B\r\nContent-Type: text/plain\r\n\r\nthe draft's text\r\n"
         b"--B\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
         b"\r\naGVsbG8gd29ybGQ=\r\n--B--\r\n")


def store_draft(imap, subject):
    """APPENDs a draft to bob's Drafts; its uid."""
    imap.cmd("CREATE Drafts")
    msg = DRAFT % subject.encode()
    tagged, _ = imap.cmd(b"APPEND Drafts {%d+}\r\n" % len(msg) + msg)
    assert " OK [APPENDUID " in tagged, tagged
    return int(tagged.split()[4].rstrip("]")), msg


def genurlauth(imap, rump):
    u = imap.ok('GENURLAUTH "%s" INTERNAL' % rump)
    m = re.match(rb'\* GENURLAUTH "([^"]+)"\r\n', u[0])
    assert m, u
    return m.group(1).decode()


def submission(daemon, user=BOB, password="hungry"):
    s = smtplib.SMTP("127.0.0.1", daemon.sub_port, timeout=H.IO_TIMEOUT)
    code, text = s.ehlo("client.example")
    assert code == 250 and b"BURL" not in text, text  # no AUTH, no BURL before TLS
    s.starttls(context=H.unverified_context())
    code, text = s.ehlo("client.example")
    assert b"\nBURL\n" in text, text  # RFC 4468 §3.1: offered, no scheme before AUTH
    s.login(user, password)
    code, text = s.ehlo("client.example")
    assert b"\nBURL imap\n" in text, text
    return s


def received(daemon, subject):
    """The body of the message with this subject in alice's INBOX (waits for it)."""
    with RawIMAP(daemon.imap_port) as a:
        a.login("alice", "crepes")

        def find():
            a.ok("EXAMINE INBOX")
            r = a.ok('UID SEARCH SUBJECT "%s"' % subject)
            got = r[0].split()[2:]
            return got[-1].decode() if got else None

        uid = H.wait_until(find, what="the BURL message in alice's INBOX")
        r = a.ok("UID FETCH %s BODY.PEEK[]" % uid)
        return r[0].split(b"}\r\n", 1)[1]


def test_burl_whole_message(daemon):
    with RawIMAP(daemon.imap_port) as bob:
        bob.login()
        uid, msg = store_draft(bob, "whole by burl")
        url = genurlauth(bob, "imap://bob@hamburger.edu/Drafts/;UID=%d;URLAUTH=submit+%s"
                         % (uid, BOB))
    s = submission(daemon)
    assert s.mail(BOB)[0] == 250
    assert s.rcpt(ALICE)[0] == 250
    code, text = s.docmd("BURL", url + " LAST")
    assert code == 250 and text.startswith(b"2.0.0 Ok: queued as "), (code, text)
    s.quit()
    body = received(daemon, "whole by burl")
    # the message as stored, below the headers the submission server adds
    assert body.endswith(msg + b")\r\n"), body
    assert b"\r\nReceived: from client.example" in body, body


def test_burl_with_bdat_chunks(daemon):
    """RFC 4468 §3.2 with CHUNKING: BDAT header, BURL of a section, BDAT trailer LAST."""
    with RawIMAP(daemon.imap_port) as bob:
        bob.login()
        uid, _ = store_draft(bob, "draft for parts")
        part = genurlauth(bob, "imap://bob@hamburger.edu/Drafts/;UID=%d/;SECTION=1;"
                          "URLAUTH=submit+%s" % (uid, BOB))
    s = submission(daemon)
    assert s.mail(BOB)[0] == 250
    assert s.rcpt(ALICE)[0] == 250
    head = b"From: bob@hamburger.edu\r\nTo: alice@hamburger.edu\r\nSubject: assembled\r\n\r\n"
    s.send(b"BDAT %d\r\n" % len(head) + head)
    assert s.getreply() == (250, b"2.0.0 %d octets received" % len(head))
    code, text = s.docmd("BURL", part)
    assert code == 250, (code, text)
    assert s.docmd("DATA")[0] == 503  # no DATA inside a chunked message
    tail = b"\r\n-- \r\nBob\r\n"
    s.send(b"BDAT %d LAST\r\n" % len(tail) + tail)
    code, text = s.getreply()
    assert code == 250 and b"queued as" in text, (code, text)
    s.quit()
    body = received(daemon, "assembled")
    assert body.endswith(b"Subject: assembled\r\n\r\nthe draft's text\r\n-- \r\nBob\r\n)\r\n"), body


def test_burl_refusals(daemon):
    with RawIMAP(daemon.imap_port) as bob:
        bob.login()
        uid, _ = store_draft(bob, "never sent")
        base = "imap://bob@hamburger.edu/Drafts/;UID=%d" % uid
        good = genurlauth(bob, base + ";URLAUTH=submit+" + BOB)
        mine = genurlauth(bob, base + ";URLAUTH=user+" + BOB)
        anyone = genurlauth(bob, base + ";URLAUTH=authuser")
        gone = genurlauth(bob, "imap://bob@hamburger.edu/Drafts/;UID=%d;URLAUTH=submit+%s"
                          % (uid + 100, BOB))
        wrong_uidvalidity = genurlauth(bob, "imap://bob@hamburger.edu/Drafts;UIDVALIDITY=1/"
                                       ";UID=%d;URLAUTH=submit+%s" % (uid, BOB))
        revoked_box = "Old%d" % uid
        bob.ok("CREATE " + revoked_box)
        tagged, _ = bob.cmd(b"APPEND %s {7+}\r\nx: y\r\n\r\n" % revoked_box.encode())
        assert " OK " in tagged, tagged
        revoked = genurlauth(bob, "imap://bob@hamburger.edu/%s/;UID=1;URLAUTH=submit+%s"
                             % (revoked_box, BOB))
        bob.ok("RESETKEY " + revoked_box)
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    not_imap = "https://example.org/x"
    s = submission(daemon)
    assert s.docmd("BURL", good + " LAST")[0] == 503  # before MAIL
    for url in (mine, anyone, tampered, gone, revoked, not_imap, wrong_uidvalidity):
        assert s.mail(BOB)[0] == 250
        assert s.rcpt(ALICE)[0] == 250
        code, text = s.docmd("BURL", url + " LAST")
        assert code == 554 and text.startswith(b"5.6.6 "), (url, code, text)
        # the transaction is over: a chunk now has no MAIL
        assert s.docmd("BURL", good + " LAST")[0] == 503
    s.quit()
    # the URL names bob's message for bob's submissions only: carol cannot send it
    c = submission(daemon, "carol@hamburger.edu", "secret")
    assert c.mail("carol@hamburger.edu")[0] == 250
    assert c.rcpt(ALICE)[0] == 250
    code, text = c.docmd("BURL", good + " LAST")
    assert code == 554 and b"submit+user" in text, (code, text)
    c.quit()


def test_mx_port_does_not_take_burl(daemon):
    with RawIMAP(daemon.imap_port) as bob:
        bob.login()
        uid, _ = store_draft(bob, "not over mx")
        url = genurlauth(bob, "imap://bob@hamburger.edu/Drafts/;UID=%d;URLAUTH=submit+%s"
                         % (uid, BOB))
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=H.IO_TIMEOUT) as m:
        code, text = m.ehlo("client.example")
        assert b"BURL" not in text, text
        assert m.mail("alice@crepes.fr")[0] == 250
        assert m.rcpt(ALICE)[0] == 250
        code, text = m.docmd("BURL", url + " LAST")
        assert code == 502, (code, text)
