"""Quotas (issue 18): per-user and per-domain limits in octets and messages set with `pigeon
quota`; usage kept by the store (deliveries, APPEND, COPY, EXPUNGE, a deleted mailbox) and shown
by `pigeon user usage`; over a limit SMTP RCPT gets 452 4.2.2 (RFC 3463) and IMAP APPEND
and COPY NO [OVERQUOTA] (MOVE changes no usage and is allowed); IMAP clients read the limits with GETQUOTAROOT/GETQUOTA (RFC 9208)."""

import pigeon_harness as H
from imap_helpers import RawIMAP, imap, make_msg

PIGEON_CONF = {"imap": {}}
PIGEON_USERS = {"dave@hamburger.edu": "dough", "erin@hamburger.edu": "eggs",
                "frank@hamburger.edu": "fries"}


def usage(daemon, address):
    for line in daemon.cli("user", "usage").stdout.decode().splitlines():
        f = line.split("\t")
        if f[0] == address:
            return f[1], f[2]
    raise AssertionError("%s not listed" % address)


def rcpt(daemon, address):
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        return c.cmd("RCPT TO:<%s>" % address)


def deliver(daemon, address, subject, size=0):
    body = ("x" * 70 + "\r\n") * (size // 72)
    with daemon.smtp() as c:
        reply = c.send_mail("alice@crepes.fr", [address], make_msg(subject, body=body,
                                                                   to=address).decode())
    assert reply.startswith("250"), reply


def test_usage_follows_the_mailbox(daemon):
    assert usage(daemon, "dave@hamburger.edu") == ("0/-", "0/-")
    deliver(daemon, "dave@hamburger.edu", "one")
    deliver(daemon, "dave@hamburger.edu", "two")
    used, msgs = usage(daemon, "dave@hamburger.edu")
    assert msgs == "2/-" and int(used.split("/")[0]) > 200, (used, msgs)
    m = imap(daemon, "dave", "dough")
    m.create("Keep")
    m.select("INBOX")
    m.copy("1:2", "Keep")
    assert usage(daemon, "dave@hamburger.edu")[1] == "4/-"
    m.store("1", "+FLAGS", "\\Deleted")
    m.expunge()
    assert usage(daemon, "dave@hamburger.edu")[1] == "3/-"
    m.delete("Keep")
    assert usage(daemon, "dave@hamburger.edu")[1] == "1/-"
    m.logout()


def test_user_limits_smtp_and_imap(daemon):
    d = daemon
    d.cli("quota", "erin@hamburger.edu", "3K", "2")
    assert usage(d, "erin@hamburger.edu") == ("0/3072", "0/2")
    deliver(d, "erin@hamburger.edu", "first")
    m = imap(d, "erin", "eggs")
    typ, data = m.getquotaroot("INBOX")
    assert typ == "OK", data
    flat = b" ".join(x for part in data for x in part)
    assert b'"INBOX" ""' in flat and b'"" (STORAGE 1 3 MESSAGE 1 2)' in flat, data
    # the second message fits; then the message count is reached
    typ, data = m.append("INBOX", None, None, make_msg("second"))
    assert typ == "OK", data
    reply = rcpt(d, "erin@hamburger.edu")
    assert reply.startswith("452 4.2.2"), reply
    with RawIMAP(d.imap_port) as c:
        c.login("erin", "eggs")
        tagged, _ = c.cmd(b"APPEND INBOX {5+}\r\nhello")
        assert "NO [OVERQUOTA]" in tagged, tagged
        tagged, _ = c.cmd('SETQUOTA "" (STORAGE 100000)')
        assert "NO" in tagged
    # a larger limit lets mail in again; a big message still does not fit the octet limit
    d.cli("quota", "erin@hamburger.edu", "3K", "100")
    assert rcpt(d, "erin@hamburger.edu").startswith("250")
    typ, data = m.append("INBOX", None, None, make_msg("big", body=("y" * 70 + "\r\n") * 60))
    assert typ == "NO" and b"OVERQUOTA" in data[0], (typ, data)
    d.cli("quota", "erin@hamburger.edu", "0")
    typ, data = m.append("INBOX", None, None, make_msg("big", body=("y" * 70 + "\r\n") * 60))
    assert typ == "OK", data
    m.logout()


def test_copy_over_quota_refused_move_allowed(daemon):
    d = daemon
    for i in range(3):
        deliver(d, "dave@hamburger.edu", "copy me %d" % i)
    used = int(usage(d, "dave@hamburger.edu")[0].split("/")[0])
    msgs = int(usage(d, "dave@hamburger.edu")[1].split("/")[0])
    d.cli("quota", "dave@hamburger.edu", "0", str(msgs + 1))
    try:
        with RawIMAP(d.imap_port) as c:
            c.login("dave", "dough")
            c.ok("SELECT INBOX")
            # two more messages would pass the limit: refused, nothing copied
            tagged, _ = c.cmd("COPY 1:2 Archive")
            assert "NO [OVERQUOTA]" in tagged, tagged
            assert usage(d, "dave@hamburger.edu")[1] == "%d/%d" % (msgs, msgs + 1)
            tagged, _ = c.cmd("COPY 1 Archive")  # one fits exactly
            assert tagged.split()[1] == "OK", tagged
            tagged, _ = c.cmd("COPY 1 Archive")
            assert "NO [OVERQUOTA]" in tagged, tagged
            # MOVE changes no usage: allowed even at the limit
            tagged, _ = c.cmd("MOVE 2 Archive")
            assert tagged.split()[1] == "OK", tagged
        assert usage(d, "dave@hamburger.edu")[1] == "%d/%d" % (msgs + 1, msgs + 1)
        assert int(usage(d, "dave@hamburger.edu")[0].split("/")[0]) > used
    finally:
        d.cli("quota", "dave@hamburger.edu", "0", "0")


def test_warning_at_ninety_percent(daemon):
    d = daemon
    d.cli("quota", "frank@hamburger.edu", "0", "20")

    def warnings():
        return [m for m in d.messages("frank@hamburger.edu")
                if b"Subject: Your mailbox is 90% full" in m.data]
    for i in range(17):
        deliver(d, "frank@hamburger.edu", "fill %d" % i)
    assert warnings() == []
    deliver(d, "frank@hamburger.edu", "the 18th")  # 18 of 20: crosses 90%
    H.wait_until(lambda: len(warnings()) == 1, what="one quota warning in frank's INBOX")
    w = warnings()[0].data
    assert b"Auto-Submitted: auto-generated" in w and b"Messages: 18 of 20." in w, w
    deliver(d, "frank@hamburger.edu", "the 19th")  # no second warning for the same step
    assert len(warnings()) == 1
    d.cli("quota", "frank@hamburger.edu", "0", "0")


def test_domain_limit(new_daemon):
    d = new_daemon()
    deliver(d, "bob@hamburger.edu", "fills", size=2000)
    d.cli("quota", "@hamburger.edu", "1K")
    for who in ("bob@hamburger.edu", "alice@hamburger.edu"):
        reply = rcpt(d, who)
        assert reply.startswith("452 4.2.2"), reply
    out = d.cli("quota", "alice@hamburger.edu").stdout.decode()
    assert "domain\t" in out and "/1024 bytes" in out, out
    d.cli("quota", "@hamburger.edu", "0")
    assert rcpt(d, "alice@hamburger.edu").startswith("250")


def test_quota_cli_errors(daemon):
    p = daemon.cli("quota", "nobody@hamburger.edu", "1M", check=False)
    assert p.returncode == 1 and b"no such user" in p.stderr
    p = daemon.cli("quota", "dave@hamburger.edu", "lots", check=False)
    assert p.returncode == 1 and b"not a size" in p.stderr
    p = daemon.cli("quota", "@nowhere.example", "1M", check=False)
    assert p.returncode == 1 and b"no such domain" in p.stderr
