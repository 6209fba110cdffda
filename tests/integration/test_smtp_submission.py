"""The submission listener: STARTTLS, then AUTH (PLAIN, LOGIN), then mail to anywhere.
Failed logins slow later ones down (auth throttle), so the wrong-password tests come last."""

import base64
import smtplib
import subprocess
import time

import pigeon_harness as H

BOB = "bob@hamburger.edu"
ALICE = "alice@hamburger.edu"
REMOTE = "carol@crepes.fr"


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def tls_client(daemon):
    c = daemon.submission()
    c.ehlo()
    c.starttls()
    return c


def smtplib_session(daemon, user=BOB, pw="hungry"):
    s = smtplib.SMTP("127.0.0.1", daemon.sub_port, timeout=30)
    s.ehlo("client.example")
    s.starttls(context=H.unverified_context())
    s.ehlo("client.example")
    if user is not None:
        s.login(user, pw)
    return s


# ------------------------------------------------------------------------------------------
# Capabilities


def test_ehlo_before_tls_has_starttls_not_auth(daemon):
    with daemon.submission() as c:
        assert c.greeting.text == "220 %s ESMTP Pigeon" % H.HOSTNAME
        kw = c.ehlo().keywords()
        assert "STARTTLS" in kw
        assert "AUTH" not in kw, "AUTH offered before TLS"


def test_ehlo_after_tls_has_auth_not_starttls(daemon):
    with tls_client(daemon) as c:
        r = c.ehlo()
        kw = r.keywords()
        assert "STARTTLS" not in kw, r.text
        assert "AUTH" in kw, r.text
        mechs = kw["AUTH"].upper().split()
        assert "PLAIN" in mechs and "LOGIN" in mechs, r.text
        for k in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SIZE"):
            assert k in kw, r.text


def test_mx_starttls_never_offers_auth(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        c.starttls()
        kw = c.ehlo().keywords()
        assert "AUTH" not in kw and "STARTTLS" not in kw, kw


def test_starttls_discards_pipelined_plaintext(daemon):
    # CVE-2011-0411 class: commands sent in clear after STARTTLS must not run inside TLS.
    with daemon.submission() as c:
        c.ehlo()
        c.send(b"STARTTLS\r\nNOOP\r\n")
        assert c.reply().code == 220
        if c.buf:
            raise AssertionError("server answered injected plaintext: %r" % c.buf)
        c.buf = b""
        try:
            c.sock = H.unverified_context().wrap_socket(c.sock)
            r = c.cmd("EHLO client.example")
        except (H.Closed, OSError):
            return  # dropping the connection is acceptable too
        assert r.code == 250 and len(r.raw) > 1, \
            "first reply inside TLS should be EHLO's, got %r" % r.text


def test_starttls_twice(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        r = c.cmd("STARTTLS")
        assert r.code >= 500, r


# ------------------------------------------------------------------------------------------
# Refusals before authentication


def test_auth_before_starttls(daemon):
    with daemon.submission() as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + b64("\0bob@hamburger.edu\0hungry"), "538 5.7.11")


def test_mail_without_auth_after_tls(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        c.expect("MAIL FROM:<bob@hamburger.edu>", "530 5.7.0")


def test_mail_without_auth_plaintext(daemon):
    with daemon.submission() as c:
        c.ehlo()
        c.expect("MAIL FROM:<bob@hamburger.edu>", "530 5.7.0")


# ------------------------------------------------------------------------------------------
# AUTH mechanisms


def test_auth_plain_initial_response(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + b64("\0bob@hamburger.edu\0hungry"), "235 2.7.0")
        c.expect("AUTH PLAIN " + b64("\0bob@hamburger.edu\0hungry"), "503")  # RFC 4954 4


def test_auth_plain_challenge(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        r = c.cmd("AUTH PLAIN")
        assert r.text.startswith("334"), r
        c.expect(b64("\0bob\0hungry"), "235 2.7.0")


def test_auth_login(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        r = c.cmd("AUTH LOGIN")
        assert r.code == 334, r
        r = c.cmd(b64("alice@hamburger.edu"))
        assert r.code == 334, r
        c.expect(b64("crepes"), "235 2.7.0")


def test_auth_cancelled(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        assert c.cmd("AUTH LOGIN").code == 334
        c.expect("*", "501")  # RFC 4954 4: client cancels with "*"
        c.expect("NOOP", "250")


def test_auth_unknown_mechanism(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        r = c.cmd("AUTH CRAM-SHA9")
        assert r.code == 504, r


def test_smtplib_login_full_address_local_and_remote(daemon):
    before = daemon.messages(ALICE)
    s = smtplib_session(daemon, BOB, "hungry")
    try:
        refused = s.sendmail(BOB, [ALICE, REMOTE],
                             b"Subject: submitted\r\nX-Test-Id: sub-1\r\n\r\nlunch?\r\n")
        assert refused == {}
    finally:
        s.quit()
    new = daemon.new_messages(before, ALICE)
    assert len(new) == 1
    assert H.header_values(new[0].data, "X-Test-Id") == ["sub-1"]
    assert REMOTE in daemon.queue()


def test_smtplib_login_bare_local_part(daemon):
    before = daemon.messages(BOB)
    s = smtplib_session(daemon, "bob", "hungry")
    try:
        assert s.sendmail(BOB, [BOB], b"Subject: self\r\nX-Test-Id: sub-2\r\n\r\nme\r\n") == {}
    finally:
        s.quit()
    new = daemon.new_messages(before, BOB)
    assert len(new) == 1 and H.header_values(new[0].data, "X-Test-Id") == ["sub-2"]


def test_smtplib_forced_mechanisms(daemon):
    for mech in ("PLAIN", "LOGIN"):
        s = smtplib_session(daemon, None)
        try:
            s.user, s.password = "alice@hamburger.edu", "crepes"
            code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()))
            assert code == 235, mech
        finally:
            s.quit()


def test_message_id_and_date_added(daemon):
    before = daemon.messages(BOB)
    with tls_client(daemon) as c:
        c.ehlo()
        c.expect("AUTH PLAIN " + b64("\0bob\0hungry"), "235")
        assert c.send_mail(BOB, [BOB], b"Subject: no ids\r\n\r\nplease add them\r\n").code == 250
    new = daemon.new_messages(before, BOB)
    assert len(new) == 1
    blob = new[0].data
    ids = H.header_values(blob, "Message-ID")
    dates = H.header_values(blob, "Date")
    assert len(ids) == 1 and ids[0].startswith("<") and "@" in ids[0], ids
    assert len(dates) == 1, dates
    import email.utils
    assert email.utils.parsedate_to_datetime(dates[0]) is not None
    assert b"\r\n\r\nplease add them\r\n" in blob


def test_existing_message_id_kept(daemon):
    before = daemon.messages(BOB)
    s = smtplib_session(daemon)
    try:
        s.sendmail(BOB, [BOB], b"Subject: has ids\r\nMessage-ID: <mine@hamburger.edu>\r\n"
                   b"Date: Tue, 1 Jul 2025 12:00:00 +0000\r\n\r\nx\r\n")
    finally:
        s.quit()
    blob = daemon.new_messages(before, BOB)[0].data
    assert H.header_values(blob, "Message-ID") == ["<mine@hamburger.edu>"]
    assert H.header_values(blob, "Date") == ["Tue, 1 Jul 2025 12:00:00 +0000"]


def swaks_auth(daemon, mech, test_id):
    p = subprocess.run(
        ["swaks", "--server", "127.0.0.1", "--port", str(daemon.sub_port), "--timeout", "60",
         "--tls", "--auth", mech, "--auth-user", "bob@hamburger.edu", "--auth-password", "hungry",
         "--from", BOB, "--to", BOB, "--header", "X-Test-Id: " + test_id],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, "swaks exit %d:\n%s" % (p.returncode, out[-6000:])
    return out


def test_swaks_auth_plain(daemon):
    before = daemon.messages(BOB)
    swaks_auth(daemon, "PLAIN", "swaks-plain")
    new = daemon.new_messages(before, BOB)
    assert [H.header_values(m.data, "X-Test-Id") for m in new] == [["swaks-plain"]]


def test_swaks_auth_login(daemon):
    before = daemon.messages(BOB)
    swaks_auth(daemon, "LOGIN", "swaks-login")
    new = daemon.new_messages(before, BOB)
    assert [H.header_values(m.data, "X-Test-Id") for m in new] == [["swaks-login"]]


# ------------------------------------------------------------------------------------------
# Wrong passwords (last: they arm the throttle)


def test_wrong_password(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        t0 = time.monotonic()
        c.expect("AUTH PLAIN " + b64("\0bob@hamburger.edu\0ketchup"), "535 5.7.8")
        c.expect("MAIL FROM:<bob@hamburger.edu>", "530 5.7.0")
        # Unknown users get the same answer as a wrong password.
        c.expect("AUTH PLAIN " + b64("\0nobody@hamburger.edu\0ketchup"), "535 5.7.8")
        assert time.monotonic() - t0 < 40



def test_bad_base64(daemon):
    with tls_client(daemon) as c:
        c.ehlo()
        c.expect("AUTH PLAIN !!!not-base64!!!", "501")  # RFC 4954 4
        c.expect("NOOP", "250")


def test_login_after_failures_still_works(daemon):
    # The throttle slows down, it does not lock the real user out.
    t0 = time.monotonic()
    s = smtplib_session(daemon, BOB, "hungry")
    s.quit()
    assert time.monotonic() - t0 < 25
