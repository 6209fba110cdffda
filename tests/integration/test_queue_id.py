"""One message ID from end to end: the SMTP 250 reply, the Received: field, the daemon's log,
the stored message and `pigeon queue list` / `queue show` all name the same queue ID."""

import re
import smtplib

import pigeon_harness as H


def submit(d, rcpts):
    with smtplib.SMTP("127.0.0.1", d.sub_port, timeout=H.IO_TIMEOUT) as s:
        s.starttls(context=H.unverified_context())
        s.login("alice", "crepes")
        s.mail("alice@hamburger.edu")
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, text = s.data(b"Subject: id\r\n\r\nwhich id?\r\n")
    assert code == 250
    m = re.fullmatch(rb"2\.0\.0 Ok: queued as ([0-9a-f]{32})", text)
    assert m, text
    return m.group(1).decode()


def test_same_id_in_reply_received_log_and_queue(daemon):
    qid = submit(daemon, ["far@example.org", "bob@hamburger.edu"])
    assert re.search(r"info smtp s[0-9a-f]+ accepted id=%s from=<alice@hamburger.edu>" % qid,
                     daemon.log())
    # The local copy's Received: field.
    mine = [m for m in daemon.messages("bob@hamburger.edu") if b"which id?" in m.data]
    assert len(mine) == 1
    assert re.search(rb"\r\n\tby mail\.hamburger\.edu \(Pigeon\) with ESMTPSA id " +
                     qid.encode() + rb"\r\n", mine[0].data)
    # The queued copy: `queue list` prints the ID, `queue show` takes it.
    rows = [r for r in daemon.queue_rows() if r["id"] == qid]
    assert [r["rcpt"] for r in rows] == ["far@example.org"]
    shown = daemon.cli("queue", "show", qid).stdout.decode()
    assert shown.startswith("queue id: %s\n" % qid)
    assert "with ESMTPSA id %s" % qid in shown
    # Every message gets its own ID.
    assert submit(daemon, ["far@example.org"]) != qid
