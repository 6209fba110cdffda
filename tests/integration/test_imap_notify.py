"""NOTIFY (RFC 5465) and CONTEXT=SEARCH/SORT (RFC 5267) over the wire against a real pigeond,
with the changes made by a second IMAP session and by SMTP delivery: STATUS of other
mailboxes and the selected mailbox's EXISTS arrive without a command (and in IDLE); updating
searches are told ADDTO/REMOVEFROM; PARTIAL results."""

import time

from imap_helpers import RawIMAP, smtp_deliver

PIGEON_CONF = {"imap": {}}


def unasked(conn, want, timeout=10.0):
    """Lines that arrive with no command until one holds want (bytes); fails after timeout."""
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn.sock.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            ln = conn.line()
        except OSError:
            break
        got.append(ln)
        if want in ln:
            return got
    raise AssertionError("no %r among %r" % (want, got))


def append(conn, box, subject):
    data = b"From: a@x\r\nSubject: %s\r\n\r\nbody\r\n" % subject.encode()
    tagged, _ = conn.cmd(b"APPEND " + box.encode() + b" {%d+}\r\n" % len(data) + data)
    assert " OK " in tagged, tagged


def test_notify_status_and_selected(daemon):
    box = "Nt%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        assert b" NOTIFY " in a.ok("CAPABILITY")[0]
        b.ok("CREATE " + box)
        append(b, box, "one")
        u = a.ok("NOTIFY SET STATUS (SELECTED (MessageNew MessageExpunge FlagChange)) "
                 "(MAILBOXES %s (MessageNew MessageExpunge))" % box)
        st = [x for x in u if b"STATUS" in x]
        assert len(st) == 1 and st[0].startswith(
            b'* STATUS "%s" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ' % box.encode()), u
        # another session's APPEND: STATUS with no command
        append(b, box, "two")
        got = unasked(a, b"* STATUS")
        assert b'* STATUS "%s" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY' % box.encode() in got[-1], got
        # the selected mailbox: EXISTS as SMTP delivers
        a.ok("SELECT INBOX")
        smtp_deliver(daemon, "bob@hamburger.edu",
                     "From: c@x\r\nTo: bob@hamburger.edu\r\nSubject: notified\r\n\r\nhi\r\n")
        got = unasked(a, b" RECENT")
        assert got[-2].endswith(b" EXISTS\r\n"), got
        # an expunge in the other mailbox, told while idling
        b.ok("SELECT " + box)
        b.ok("STORE 1 +FLAGS (\\Deleted)")
        a.send("idle IDLE\r\n")
        assert a.line().startswith(b"+ ")
        b.ok("EXPUNGE")
        got = unasked(a, b"* STATUS")
        assert b"(MESSAGES 1)" in got[-1], got
        a.send("DONE\r\n")
        a.until("idle")
        a.ok("NOTIFY NONE")
        append(b, box, "three")
        assert a.quiet(1.0)


def test_notify_message_new_fetch_and_filter(daemon):
    """MessageNew with fetch attributes (RFC 5465 §5.2): an SMTP delivery to the selected
    mailbox comes as EXISTS then FETCH with the attributes asked for, no command sent; without
    FlagChange another session's flag change is not pushed, and the next command reports it."""
    box = "Nf%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        a.ok("CREATE " + box)
        append(a, box, "first")
        a.ok("SELECT " + box)
        # RFC 5465 §5: the attributes only for the selected mailbox; New and Expunge together
        assert " BAD " in a.cmd("NOTIFY SET (PERSONAL (MessageNew (UID) MessageExpunge))")[0]
        assert " BAD " in a.cmd("NOTIFY SET (SELECTED (MessageNew))")[0]
        tagged, _ = a.cmd("NOTIFY SET (SELECTED (MessageExpunge MessageNew (UID FLAGS "
                          "BODY.PEEK[HEADER.FIELDS (Subject)])))")
        assert " OK " in tagged, tagged
        append(b, box, "second")
        got = unasked(a, b"Subject: second")
        i = next(k for k, ln in enumerate(got) if ln.endswith(b" EXISTS\r\n"))
        fetch = got[-1]
        assert i < len(got) - 1 and fetch.startswith(b"* 2 FETCH (UID 2 "), got
        assert b"BODY[HEADER.FIELDS (Subject)] {19}\r\nSubject: second\r\n\r\n)" in fetch, got
        assert not any(b"first" in ln for ln in got), got
        # a flag change by the other session: not pushed (FlagChange not asked) ...
        b.ok("SELECT " + box)
        b.ok("STORE 1 +FLAGS (\\Flagged)")
        append(b, box, "third")   # ... while new mail still is
        got = unasked(a, b"Subject: third")
        assert not any(b"Flagged" in ln for ln in got), got
        # ... and the next command's end reports it, as without NOTIFY
        assert any(b"* 1 FETCH (FLAGS (\\Flagged" in ln for ln in a.ok("NOOP"))
        a.ok("NOTIFY NONE")


def test_notify_mailbox_name_and_subscription(daemon):
    """MailboxName and SubscriptionChange when another session creates, subscribes and deletes
    a mailbox: LIST responses with no command (CREATE and SUBSCRIBE notice the other sessions)."""
    box = "Nn%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        a.ok("NOTIFY SET (PERSONAL (MailboxName SubscriptionChange))")
        b.ok("CREATE " + box)
        got = unasked(a, box.encode())
        assert got[-1].startswith(b"* LIST (") and got[-1].endswith(b' "%s"\r\n' % box.encode()), got
        b.ok("SUBSCRIBE " + box)
        got = unasked(a, b"\\Subscribed")
        assert got[-1] == b'* LIST (\\Subscribed) "/" "%s"\r\n' % box.encode(), got
        b.ok("DELETE " + box)
        got = unasked(a, b"\\NonExistent")
        assert box.encode() in got[-1], got
        a.ok("NOTIFY NONE")


def test_notify_metadata_change(daemon):
    """MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.8-5.9, required with
    METADATA): another session's SETMETADATA comes as an unsolicited METADATA naming the entry."""
    box = "Nm%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        a.ok("CREATE " + box)
        a.ok("NOTIFY SET (MAILBOXES %s (MailboxMetadataChange)) "
             "(PERSONAL (ServerMetadataChange))" % box)
        b.ok('SETMETADATA %s (/private/comment "seen by a")' % box)
        got = unasked(a, b"* METADATA")
        assert got[-1] == b'* METADATA "%s" (/private/comment)\r\n' % box.encode(), got
        b.ok('SETMETADATA "" (/private/vendor/pigeon/test "1")')
        got = unasked(a, b"* METADATA")
        assert got[-1] == b'* METADATA "" (/private/vendor/pigeon/test)\r\n', got
        b.ok('SETMETADATA "" (/private/vendor/pigeon/test NIL)')
        assert unasked(a, b"* METADATA")[-1] == b'* METADATA "" (/private/vendor/pigeon/test)\r\n'
        a.ok("NOTIFY NONE")


def test_context_update(daemon):
    box = "Cx%d" % int(time.monotonic() * 1000000)
    with RawIMAP(daemon.imap_port) as a, RawIMAP(daemon.imap_port) as b:
        a.login()
        b.login()
        assert b" CONTEXT=SEARCH CONTEXT=SORT " in a.ok("CAPABILITY")[0]
        a.ok("CREATE " + box)
        for i in range(5):
            append(a, box, "m%d" % i)
        a.ok("SELECT " + box)
        _, u = a.cmd("SEARCH RETURN (PARTIAL 2:3) ALL", tag="p1")
        assert u == [b'* ESEARCH (TAG "p1") PARTIAL (2:3 2:3)\r\n'], u
        _, u = a.cmd("SORT RETURN (PARTIAL 1:2) (REVERSE SUBJECT) UTF-8 ALL", tag="p2")
        assert u == [b'* ESEARCH (TAG "p2") PARTIAL (1:2 5,4)\r\n'], u
        _, u = a.cmd("UID SEARCH RETURN (UPDATE ALL) SEEN", tag="ctx")
        assert u == [b'* ESEARCH (TAG "ctx") UID\r\n'], u
        # another session flags two messages: told at the next command
        b.ok("SELECT " + box)
        b.ok("UID STORE 2,4 +FLAGS (\\Seen)")
        u = a.ok("NOOP")
        assert b'* ESEARCH (TAG "ctx") UID ADDTO (0 2,4)\r\n' in u, u
        # this session's own STORE
        u = a.ok("UID STORE 2 -FLAGS (\\Seen)")
        assert b'* ESEARCH (TAG "ctx") UID REMOVEFROM (0 2)\r\n' in u, u
        # an expunge: REMOVEFROM before the EXPUNGE
        b.ok("UID STORE 4 +FLAGS (\\Deleted)")
        b.ok("EXPUNGE")
        u = a.ok("NOOP")
        i = u.index(b'* ESEARCH (TAG "ctx") UID REMOVEFROM (0 4)\r\n')
        assert u[i + 1] == b"* 4 EXPUNGE\r\n", u
        a.ok('CANCELUPDATE "ctx"')
        b.ok("UID STORE 1 +FLAGS (\\Seen)")
        assert not any(b"ESEARCH" in x for x in a.ok("NOOP"))
