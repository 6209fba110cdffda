"""Every way an SMTP client can be refused, on the MX listener, plus the per-IP connection
limit, idle timeout and error limit (those in dedicated daemons)."""

import time

import pytest

import pigeon_harness as H

BOB = "bob@hamburger.edu"
MAX_SIZE = 65536
MAX_RCPT = 5
MAX_ERRORS = 8
PIGEON_CONF = {"smtp": {"max_message_size": MAX_SIZE, "max_recipients": MAX_RCPT,
                        "max_errors": MAX_ERRORS}}
PIGEON_USERS = {"r%d@hamburger.edu" % i: "pw%d" % i for i in range(1, MAX_RCPT + 2)}


@pytest.fixture
def c(daemon):
    with daemon.smtp() as cl:
        cl.ehlo()
        yield cl


def in_data(c, sender="alice@crepes.fr", rcpt=BOB):
    c.expect("MAIL FROM:<%s>" % sender, "250")
    c.expect("RCPT TO:<%s>" % rcpt, "250")
    c.expect("DATA", "354")


# ------------------------------------------------------------------------------------------
# Recipients


def test_relay_denied(c):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<carol@crepes.fr>", "554 5.7.1")
    c.expect("RCPT TO:<bob@hamburger.edu>", "250")  # the transaction goes on


def test_relay_denied_tricks(c):
    # Source routes and %-hacks must not open a relay (RFC 5321 3.6.1, 4.1.1.3).
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    for rcpt in ("<@hamburger.edu:carol@crepes.fr>", "<carol%crepes.fr@hamburger.edu>",
                 "<carol@crepes.fr@hamburger.edu>", '<"carol@crepes.fr"@hamburger.edu>'):
        r = c.cmd("RCPT TO:" + rcpt)
        assert r.code >= 500, "RCPT TO:%s -> %r" % (rcpt, r.text)


def test_unknown_local_user(c):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<nobody@hamburger.edu>", "550 5.1.1")


def test_too_many_recipients(daemon, c):
    users = sorted(PIGEON_USERS)
    before = {u: daemon.messages(u) for u in users}
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    for u in users[:MAX_RCPT]:
        c.expect("RCPT TO:<%s>" % u, "250")
    c.expect("RCPT TO:<%s>" % users[MAX_RCPT], "452 4.5.3")
    c.expect("RCPT TO:<%s>" % users[MAX_RCPT], "452 4.5.3")
    c.expect("DATA", "354")
    assert c.cmd("Subject: many\r\n\r\nx\r\n.").code == 250
    for u in users[:MAX_RCPT]:
        assert len(daemon.new_messages(before[u], u)) == 1, u
    assert daemon.new_messages(before[users[MAX_RCPT]], users[MAX_RCPT]) == []


# ------------------------------------------------------------------------------------------
# Sequence errors


def test_rcpt_before_mail(c):
    c.expect("RCPT TO:<bob@hamburger.edu>", "503 5.5.1")


def test_data_before_rcpt(c):
    c.expect("DATA", "503 5.5.1")
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("DATA", "503 5.5.1")


def test_data_after_only_refused_rcpts(c):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<nobody@hamburger.edu>", "550")
    r = c.cmd("DATA")
    assert r.code in (503, 554), r  # RFC 5321 3.3: no valid recipients


def test_mail_twice(c):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("MAIL FROM:<alice@crepes.fr>", "503 5.5.1")


def test_helo_without_domain(daemon):
    with daemon.smtp() as cl:
        r = cl.cmd("HELO")
        assert r.code == 501, r
        r = cl.cmd("EHLO")
        assert r.code == 501, r


# ------------------------------------------------------------------------------------------
# Syntax


def test_unknown_command(c):
    c.expect("FROBNICATE now", "500 5.5.2")
    c.expect("NOOP", "250")


def test_command_line_too_long(c):
    c.expect("NOOP " + "x" * 600, "500 5.5.2")
    c.expect("NOOP", "250")
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")


def test_command_line_limit_boundary(c):
    # 512 octets including CRLF is the RFC 5321 4.5.3.1.4 limit: allowed; 513 is not.
    line = "NOOP " + "y" * (510 - 5)
    assert len(line) + 2 == 512
    c.expect(line, "250")
    c.expect(line + "y", "500 5.5.2")
    c.expect("NOOP", "250")


def test_huge_command_line(c):
    # 200 KB without CRLF, then CRLF: one 500, no buffering blow-up, connection usable.
    c.send(b"MAIL FROM:<" + b"a" * 200000 + b"@crepes.fr>\r\n")
    assert c.reply().startswith("500 5.5.2")
    c.expect("NOOP", "250")


def test_unknown_mail_parameter(c):
    c.expect("MAIL FROM:<alice@crepes.fr> FOO=BAR", "555 5.5.4")
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")


def test_unknown_rcpt_parameter(c):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<bob@hamburger.edu> FOO=BAR", "555 5.5.4")
    c.expect("RCPT TO:<bob@hamburger.edu>", "250")


def test_size_advertised_from_config(c):
    assert c.ehlo().keywords().get("SIZE") == str(MAX_SIZE)


def test_nul_in_command(c):
    r = c.cmd(b"NOOP\0x")
    assert r.code // 100 == 5, r
    c.expect("NOOP", "250")


@pytest.mark.parametrize("cmd", ["MAIL FROM:<alice@@crepes.fr>", "MAIL FROM:<alice@crepes.fr",
                                 "MAIL FROM:<alice crepes.fr>", "MAIL FROM:<a@b@c>"])
def test_bad_sender_syntax(c, cmd):
    c.expect(cmd, "501")


@pytest.mark.parametrize("cmd", ["RCPT TO:<bob@@hamburger.edu>", "RCPT TO:<bob@hamburger.edu",
                                 "RCPT TO:<>", "RCPT TO:bob@hamburger.edu x"])
def test_bad_rcpt_syntax(c, cmd):
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    r = c.cmd(cmd)
    strict = cmd in ("RCPT TO:<bob@@hamburger.edu>", "RCPT TO:<bob@hamburger.edu")
    assert r.startswith("501") if strict else r.code // 100 == 5, r


def test_non_ascii_without_smtputf8(c):
    c.expect("MAIL FROM:<jörg@crêpes.fr>", "553 5.6.7")
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<bjørn@hamburger.edu>", "553 5.6.7")


def test_non_ascii_with_smtputf8(c):
    c.expect("MAIL FROM:<jörg@crêpes.fr> SMTPUTF8", "250")
    r = c.cmd("RCPT TO:<bjørn@hamburger.edu>")
    assert r.startswith("550 5.1.1"), r  # syntax fine, but no such user


# ------------------------------------------------------------------------------------------
# Sizes and line lengths


def test_size_parameter_over_limit(c):
    c.expect("MAIL FROM:<alice@crepes.fr> SIZE=%d" % (MAX_SIZE + 1), "552 5.3.4")
    c.expect("MAIL FROM:<alice@crepes.fr> SIZE=%d" % (MAX_SIZE // 2), "250")


def test_size_parameter_huge(c):
    # Must not wrap around to a small number and be accepted.
    r = c.cmd("MAIL FROM:<alice@crepes.fr> SIZE=99999999999999999999999")
    assert r.code in (501, 552, 555), r


def test_message_over_limit(daemon, c):
    before = daemon.messages(BOB)
    in_data(c)
    line = b"z" * 98 + b"\r\n"
    c.send(b"Subject: too big\r\n\r\n" + line * (2 * MAX_SIZE // len(line)) + b".\r\n")
    assert c.reply().startswith("552 5.3.4")
    assert daemon.new_messages(before, BOB) == []
    # The session goes on.
    assert c.send_mail("alice@crepes.fr", [BOB], b"Subject: small\r\n\r\nok\r\n",
                       ehlo=False).code == 250
    assert len(daemon.new_messages(before, BOB)) == 1


def test_bdat_over_limit(daemon, c):
    before = daemon.messages(BOB)
    c.expect("MAIL FROM:<alice@crepes.fr>", "250")
    c.expect("RCPT TO:<bob@hamburger.edu>", "250")
    chunk = b"Subject: big\r\n\r\n" + b"q" * 60 * 1024 + b"\r\n"
    c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
    r1 = c.reply()
    c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
    r2 = c.reply()
    assert r1.code == 250 or r1.startswith("552"), r1
    assert r2.startswith("552") or r2.startswith("503"), r2  # 503 after an earlier 552
    assert r1.startswith("552") or r2.startswith("552 5.3.4"), (r1, r2)
    c.expect("RSET", "250")
    assert daemon.new_messages(before, BOB) == []


def test_text_line_too_long(daemon, c):
    before = daemon.messages(BOB)
    in_data(c)
    c.send(b"Subject: long\r\n\r\n" + b"w" * 999 + b"\r\nafter\r\n.\r\n")  # 1001 with CRLF
    assert c.reply().startswith("554 5.6.0")
    assert daemon.new_messages(before, BOB) == []
    c.expect("RSET", "250")


def test_text_line_limit_boundary(daemon, c):
    before = daemon.messages(BOB)
    in_data(c)
    body = b"Subject: long\r\n\r\n" + b"w" * 998 + b"\r\n"  # exactly 1000 with CRLF
    c.send(body + b".\r\n")
    assert c.reply().code == 250
    new = daemon.new_messages(before, BOB)
    assert len(new) == 1 and new[0].data.endswith(body)


def test_text_line_too_long_bare_lf(daemon, c):
    before = daemon.messages(BOB)
    in_data(c)
    c.send(b"Subject: long\n\n" + b"v" * 1500 + b"\n.\r\n")
    c.send(b"\r\n.\r\n")
    assert c.reply().startswith("554 5.6.0")
    assert daemon.new_messages(before, BOB) == []


# ------------------------------------------------------------------------------------------
# Limits that need their own daemon


def test_max_errors(new_daemon):
    d = new_daemon(smtp={"max_errors": 3})
    with d.smtp() as cl:
        replies = []
        try:
            for i in range(6):
                replies.append(cl.cmd("BOGUS%d" % i))
                if replies[-1].code == 421:
                    break
        except H.Closed:
            pass
        codes = [r.code for r in replies]
        assert codes[:2] == [500, 500], codes
        assert 421 in codes and codes.index(421) <= 3, codes
        assert cl.closed()


def test_max_connections_per_ip(new_daemon):
    d = new_daemon(smtp={"max_connections_per_ip": 3})
    # The harness's readiness probes are counted until the server has seen them close.
    d.wait_sessions_closed("smtp")
    held = [d.smtp() for _ in range(3)]
    try:
        for h in held:
            assert h.greeting.code == 220
        extra = H.SMTPClient(d.smtp_port)
        assert extra.greeting.startswith("421 4.7.0"), extra.greeting
        assert extra.closed()
        extra.close()
        # The submission listener counts separately.
        with d.submission() as s:
            assert s.greeting.code == 220
        start = d.log_size()
        held.pop().cmd("QUIT")
        d.wait_log(r"smtp s[0-9a-f]+ disconnect from", start)   # its place is free now
        again = H.SMTPClient(d.smtp_port)
        assert again.greeting.code == 220, again.greeting
        again.cmd("QUIT")
        again.close()
    finally:
        for h in held:
            h.close()


def test_idle_timeout(new_daemon):
    d = new_daemon(smtp={"idle_timeout": 2})
    with d.smtp() as cl:
        t0 = time.monotonic()   # before EHLO: the server's idle timer starts after it
        cl.ehlo()
        cl.sock.settimeout(60)
        r = cl.reply()
        waited = time.monotonic() - t0
        assert r.startswith("421 4.4.2"), r
        assert waited >= 1.9, waited   # not before idle_timeout (no upper bound: load)
        assert cl.closed()
    # Mid-DATA idling is cut too.
    with d.smtp() as cl:
        cl.ehlo()
        in_data(cl)
        cl.send(b"Subject: slow\r\n\r\npartial")
        cl.sock.settimeout(15)
        try:
            r = cl.reply()
            assert r.startswith("421"), r
        except H.Closed:
            pass
        assert cl.closed()
    assert d.messages(BOB) == []


def test_session_timeout(new_daemon):
    # A busy but endless session is cut after session_timeout seconds.
    d = new_daemon(smtp={"session_timeout": 3})
    t0 = time.monotonic()   # before connecting: the session timer starts at accept
    with d.smtp() as cl:
        cl.ehlo()
        r = None
        try:
            while time.monotonic() - t0 < 120:
                r = cl.cmd("NOOP")
                if r.code != 250:
                    break
                time.sleep(0.3)   # pacing: a busy client, never idle for idle_timeout
        except H.Closed:
            r = None
        waited = time.monotonic() - t0
        assert r is None or r.code == 421, r
        assert waited >= 2.9, waited   # not before session_timeout (no upper bound: load)
        assert cl.closed()
