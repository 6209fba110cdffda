"""The MX listener doing ordinary SMTP: the textbook dialogue, replies to each command, how the
message is stored (trace headers, CRLF, dot-stuffing, smuggling), BDAT, 8BITMIME, SMTPUTF8,
PIPELINING, and real clients (smtplib, swaks)."""

import email
import email.policy
import os
import re
import smtplib
import subprocess
import time

import pytest

import pigeon_harness as H

BOB = "bob@hamburger.edu"
ALICE = "alice@hamburger.edu"
SIZE = 26214400
PIGEON_CONF = {"smtp": {"max_message_size": SIZE}}


def one_new(daemon, before, address=BOB):
    new = daemon.new_messages(before, address)
    assert len(new) == 1, "expected exactly one new message for %s, got %r" % (address, new)
    return new[0]


def assert_stored_as(blob, sent, sender):
    """blob is `sent` with only Return-Path + Received prepended."""
    trace, rest = H.split_trace(blob)
    assert trace, "stored message does not start with Return-Path: %r" % blob[:200]
    assert trace[0] == b"Return-Path: <" + sender.encode() + b">", trace[0]
    assert any(t.lower().startswith(b"received:") for t in trace[1:]), trace
    assert rest == sent, "stored body differs from what was sent:\nsent   %r\nstored %r" % (
        sent[:300], rest[:300])


# ------------------------------------------------------------------------------------------
# Greeting and the textbook


def test_greeting(daemon):
    with daemon.smtp() as c:
        assert c.greeting.text == "220 %s ESMTP Pigeon" % H.HOSTNAME


def test_helo(daemon):
    with daemon.smtp() as c:
        r = c.cmd("HELO crepes.fr")
        assert r.text == "250 %s" % H.HOSTNAME


def test_ehlo_mx_keywords(daemon):
    with daemon.smtp() as c:
        r = c.cmd("EHLO crepes.fr")
        assert r.code == 250 and len(r.raw) > 1
        assert r.raw[0].startswith("250-" + H.HOSTNAME)
        kw = r.keywords()
        for k in ("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING",
                  "STARTTLS"):
            assert k in kw, "%s not advertised in %r" % (k, r.text)
        assert kw.get("SIZE") == str(SIZE), r.text
        assert "AUTH" not in kw, "MX listener must not offer AUTH: %r" % r.text


def test_textbook_dialogue(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.greeting.code == 220
        assert c.cmd("HELO crepes.fr").code == 250
        assert c.cmd("MAIL FROM: <alice@crepes.fr>").code == 250
        assert c.cmd("RCPT TO: <bob@hamburger.edu>").code == 250
        assert c.cmd("DATA").code == 354
        c.send("Do you like ketchup?\r\n")
        c.send("How about pickles?\r\n")
        r = c.cmd(".")
        assert r.code == 250, r
        assert c.cmd("QUIT").code == 221
        assert c.closed()
    m = one_new(daemon, before)
    blob = m.data
    H.assert_crlf_only(blob)
    lines = blob.split(b"\r\n")
    assert lines[0] == b"Return-Path: <alice@crepes.fr>"
    i = 1
    # the MX role's verdicts come first: Authentication-Results (DKIM, SPF, DMARC), Received-SPF
    for field in (b"Authentication-Results: ", b"Received-SPF: "):
        if lines[i].startswith(field):
            i += 1
            while lines[i][:1] in (b" ", b"\t"):
                i += 1
    assert lines[i].startswith(b"Received: ")
    i += 1
    while lines[i][:1] in (b" ", b"\t"):
        i += 1
    assert lines[i:] == [b"Do you like ketchup?", b"How about pickles?", b""], lines
    assert m.size == len(blob)
    assert daemon.cat(BOB, m.uid) == blob


def test_received_header_content(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.send_mail("alice@crepes.fr", [BOB], b"Subject: r\r\n\r\nhi\r\n").code == 250
    trace, _ = H.split_trace(one_new(daemon, before).data)
    received = b" ".join(next(t for t in trace if t.startswith(b"Received: ")).split())
    assert b"client.example" in received, received      # the EHLO name
    assert b"127.0.0.1" in received, received           # the peer address
    assert H.HOSTNAME.encode() in received, received
    assert b";" in received, received                    # "; date" as RFC 5321 4.4 wants


# ------------------------------------------------------------------------------------------
# Replies to each command


def test_command_replies(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        assert c.cmd("NOOP").startswith("250 2.0.0")
        assert c.cmd("MAIL FROM:<alice@crepes.fr>").startswith("250 2.1.0")
        assert c.cmd("RCPT TO:<bob@hamburger.edu>").startswith("250 2.1.5")
        assert c.cmd("RSET").startswith("250 2.0.0")
        assert c.cmd("VRFY bob").startswith("252 2.5.2")
        assert c.cmd("HELP").code == 214
        assert c.cmd("MAIL FROM:<alice@crepes.fr>").startswith("250 2.1.0")
        assert c.cmd("RCPT TO:<bob@hamburger.edu>").startswith("250 2.1.5")
        assert c.cmd("DATA").code == 354
        c.send("Subject: x\r\n\r\nbody\r\n")
        r = c.cmd(".")
        assert re.match(r"^250 2\.0\.0 Ok: queued as \S+$", r.text), r.text
        assert c.cmd("QUIT").startswith("221 2.0.0")
        assert c.closed()


def test_commands_case_insensitive(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.cmd("ehlo crepes.fr").code == 250
        assert c.cmd("mail from:<alice@crepes.fr>").code == 250
        assert c.cmd("rcpt to:<bob@HAMBURGER.EDU>").code == 250
        assert c.cmd("data").code == 354
        assert c.cmd("Subject: case\r\n\r\nx\r\n.").code == 250
    one_new(daemon, before)


def test_rset_clears_transaction(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RSET", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "503 5.5.1")


def test_ehlo_resets_transaction(daemon):
    # RFC 5321 4.1.4: EHLO in a transaction clears it, as RSET does.
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.ehlo()
        c.expect("RCPT TO:<bob@hamburger.edu>", "503")


def test_two_transactions_one_session(daemon):
    before_b, before_a = daemon.messages(BOB), daemon.messages(ALICE)
    with daemon.smtp() as c:
        assert c.send_mail("x@crepes.fr", [BOB], b"Subject: 1\r\n\r\none\r\n").code == 250
        assert c.send_mail("x@crepes.fr", [ALICE, BOB], b"Subject: 2\r\n\r\ntwo\r\n",
                           ehlo=False).code == 250
    assert len(daemon.new_messages(before_b, BOB)) == 2
    assert b"two" in one_new(daemon, before_a, ALICE).data


def test_null_sender_accepted(daemon):
    # Bounces use MAIL FROM:<> (RFC 5321 4.5.5); an MX must take them.
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.send_mail("", [BOB], b"Subject: bounce\r\n\r\nx\r\n").code == 250
    assert one_new(daemon, before).data.startswith(b"Return-Path: <>\r\n")


def test_postmaster(daemon):
    # RFC 5321 4.5.1: postmaster@domain and the bare <postmaster> must be accepted.
    before = daemon.messages(ALICE)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<x@crepes.fr>", "250")
        c.expect("RCPT TO:<postmaster@hamburger.edu>", "250")
        c.expect("RCPT TO:<Postmaster>", "250")
        c.expect("DATA", "354")
        assert c.cmd("Subject: pm\r\n\r\nhello postmaster\r\n.").code == 250
    new = daemon.new_messages(before, ALICE)
    assert new and all(b"hello postmaster" in m.data for m in new), new


# ------------------------------------------------------------------------------------------
# Message text handling


def test_dot_stuffing(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(b"Subject: dots\r\n\r\n..hello\r\n...\r\n..\r\nend\r\n.\r\n")
        assert c.reply().code == 250
    _, rest = H.split_trace(one_new(daemon, before).data)
    assert rest == b"Subject: dots\r\n\r\n.hello\r\n..\r\n.\r\nend\r\n"


def test_bare_lf_normalised(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(b"Subject: lf\n\nline one\nline two\r\nline three\n\r\n.\r\n")
        assert c.reply().code == 250
    blob = one_new(daemon, before).data
    H.assert_crlf_only(blob)
    _, rest = H.split_trace(blob)
    assert rest == b"Subject: lf\r\n\r\nline one\r\nline two\r\nline three\r\n\r\n"


@pytest.mark.parametrize("fake_end", [b"\n.\r\n", b"\r\n.\n", b"\n.\n"],
                         ids=["LF.CRLF", "CRLF.LF", "LF.LF"])
def test_smtp_smuggling(daemon, fake_end):
    """Only CRLF.CRLF ends DATA: the smuggled transaction must stay message text."""
    before_b, before_a = daemon.messages(BOB), daemon.messages(ALICE)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(b"Subject: smuggle\r\n\r\nfirst part" + fake_end +
               b"MAIL FROM:<admin@hamburger.edu>\r\n"
               b"RCPT TO:<alice@hamburger.edu>\r\n"
               b"DATA\r\n"
               b"Subject: smuggled\r\n\r\nevil\r\n"
               b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        # Nothing else may be answered: the next reply is HELP's.
        assert c.cmd("HELP").code == 214
    new = daemon.new_messages(before_b, BOB)
    assert len(new) == 1, new
    blob = new[0].data
    assert b"MAIL FROM:<admin@hamburger.edu>\r\n" in blob
    assert b"evil" in blob
    H.assert_crlf_only(blob)
    assert daemon.new_messages(before_a, ALICE) == []


def test_8bitmime_byte_identical(daemon):
    before = daemon.messages(BOB)
    body = ("Subject: =?UTF-8?Q?cr=C3=AApes?=\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n"
            "Crêpes, Spätzle, 寿司, émoji 🐦\r\nbytes: ").encode() + bytes(range(0x80, 0x100)) + \
        b"\r\n"
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr> BODY=8BITMIME", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(body + b".\r\n")
        assert c.reply().code == 250
    assert_stored_as(one_new(daemon, before).data, body, "alice@crepes.fr")


def test_smtputf8_accepted(daemon):
    before = daemon.messages(BOB)
    sender = "jörg@crêpes.fr"
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s> SMTPUTF8" % sender, "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send("Subject: ünïcödé\r\n\r\nhallo\r\n.\r\n")
        assert c.reply().code == 250
    blob = one_new(daemon, before).data
    assert blob.startswith(("Return-Path: <%s>\r\n" % sender).encode())


# ------------------------------------------------------------------------------------------
# PIPELINING and CHUNKING


def test_pipelined_transaction(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.send(b"EHLO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\n"
               b"RCPT TO:<nobody-here@hamburger.edu>\r\nDATA\r\n")
        assert c.reply().code == 250
        assert c.reply().startswith("250 2.1.0")
        assert c.reply().startswith("250 2.1.5")
        assert c.reply().startswith("550 5.1.1")
        assert c.reply().code == 354
        c.send(b"Subject: pipe\r\n\r\npipelined\r\n.\r\nQUIT\r\n")
        assert c.reply().code == 250
        assert c.reply().code == 221
    assert b"pipelined" in one_new(daemon, before).data


def test_bdat_chunks_byte_identical(daemon):
    before = daemon.messages(BOB)
    chunks = [b"Subject: chunky\r\nX-Note: no dot handling in BDAT\r\n\r\n",
              b"..two dots stay\r\n.\r\nnot the end\r\n",
              b"8bit: \xc3\xa9\xe2\x82\xac\r\nlast line\r\n"]
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        for ch in chunks[:-1]:
            c.send(b"BDAT %d\r\n" % len(ch) + ch)
            r = c.reply()
            assert r.code == 250, r
        c.send(b"BDAT %d LAST\r\n" % len(chunks[-1]) + chunks[-1])
        r = c.reply()
        assert r.code == 250, r
        c.expect("QUIT", "221")
    assert_stored_as(one_new(daemon, before).data, b"".join(chunks), "alice@crepes.fr")


def test_bdat_pipelined_and_empty_last(daemon):
    before = daemon.messages(BOB)
    a, b = b"Subject: piped chunks\r\n\r\n", b"body\r\n" * 1000
    with daemon.smtp() as c:
        c.send(b"EHLO crepes.fr\r\nMAIL FROM:<alice@crepes.fr>\r\nRCPT TO:<bob@hamburger.edu>\r\n"
               + b"BDAT %d\r\n" % len(a) + a + b"BDAT %d\r\n" % len(b) + b + b"BDAT 0 LAST\r\n"
               + b"QUIT\r\n")
        codes = [c.reply().code for _ in range(7)]
        assert codes == [250, 250, 250, 250, 250, 250, 221], codes
    assert_stored_as(one_new(daemon, before).data, a + b, "alice@crepes.fr")


def test_bdat_without_rcpt(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.send(b"BDAT 5 LAST\r\nhello")
        assert c.reply().startswith("503 5.5.1")
        # The 5 octets were consumed as chunk data, not read as a command.
        c.expect("NOOP", "250")


def test_bdat_without_mail(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        c.send(b"BDAT 4 LAST\r\nQUIT")
        assert c.reply().startswith("503 5.5.1")
        c.expect("NOOP", "250")


# ------------------------------------------------------------------------------------------
# Real clients


def test_smtplib(daemon):
    before = daemon.messages(BOB)
    with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=30) as s:
        s.ehlo("crepes.fr")
        assert s.has_extn("pipelining") and s.has_extn("size")
        refused = s.sendmail("alice@crepes.fr", [BOB],
                             b"Subject: smtplib\r\nMessage-ID: <smtplib-1@crepes.fr>\r\n\r\nhi\r\n")
        assert refused == {}
    blob = one_new(daemon, before).data
    assert H.header_values(blob, "Message-ID") == ["<smtplib-1@crepes.fr>"]


def test_mx_does_not_add_message_id_or_date(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.send_mail("alice@crepes.fr", [BOB], b"Subject: bare\r\n\r\nno ids\r\n").code == 250
    blob = one_new(daemon, before).data
    assert H.header_values(blob, "Message-ID") == []
    assert H.header_values(blob, "Date") == []


def swaks(*args, timeout=120):
    p = subprocess.run(["swaks", "--server", "127.0.0.1", "--timeout", "60"] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, "swaks exit %d:\n%s" % (p.returncode, out[-6000:])
    return out


def test_swaks_pipelining(daemon):
    before = daemon.messages(BOB)
    out = swaks("--port", str(daemon.smtp_port), "--to", BOB, "--from", "alice@crepes.fr",
                "--pipeline", "--header", "X-Test-Id: swaks-pipeline")
    assert "PIPELINING" in out
    blob = one_new(daemon, before).data
    assert H.header_values(blob, "X-Test-Id") == ["swaks-pipeline"]


def test_swaks_binary_attachment(daemon, tmp_path):
    payload = os.urandom(200 * 1024)
    f = tmp_path / "random.bin"
    f.write_bytes(payload)
    before = daemon.messages(BOB)
    swaks("--port", str(daemon.smtp_port), "--to", BOB, "--from", "alice@crepes.fr",
          "--attach", "@" + str(f), "--suppress-data", "--header", "X-Test-Id: swaks-attach")
    blob = one_new(daemon, before).data
    H.assert_crlf_only(blob)
    msg = email.message_from_bytes(blob, policy=email.policy.default)
    parts = [p for p in msg.walk() if p.get_content_type() == "application/octet-stream"]
    assert len(parts) == 1, [p.get_content_type() for p in msg.walk()]
    assert parts[0].get_payload(decode=True) == payload


def test_large_message(daemon):
    # 5 MB of base64-like lines: stored complete and byte-identical.
    before = daemon.messages(BOB)
    line = (b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" * 1)[:76] + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (5 * 1024 * 1024 // len(line))
    t0 = time.monotonic()
    with daemon.smtp() as c:
        assert c.send_mail("alice@crepes.fr", [BOB], body).code == 250
    assert time.monotonic() - t0 < 60
    assert_stored_as(one_new(daemon, before).data, body, "alice@crepes.fr")


# ------------------------------------------------------------------------------------------
# Packet boundaries: the parser must not care where TCP splits the stream


def _nodelay(c):
    import socket
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def test_command_and_data_split_bytewise(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        _nodelay(c)
        for line in (b"EHLO crepes.fr\r\n", b"MAIL FROM:<alice@crepes.fr>\r\n",
                     b"RCPT TO:<bob@hamburger.edu>\r\n", b"DATA\r\n"):
            for i in range(len(line)):
                c.send(line[i:i + 1])
                time.sleep(0.001)   # pacing, so each byte tends to leave alone; no wait
            assert c.reply().code in (250, 354)
        body = b"Subject: split\r\n\r\n..stuffed\r\nx\r\n.\r\n"
        for i in range(len(body)):
            c.send(body[i:i + 1])
            time.sleep(0.002)
        assert c.reply().code == 250
    _, rest = H.split_trace(one_new(daemon, before).data)
    assert rest == b"Subject: split\r\n\r\n.stuffed\r\nx\r\n"


@pytest.mark.parametrize("cut", [1, 2, 3, 4])
def test_end_of_data_split(daemon, cut):
    # "\r\n.\r\n" cut in two packets at every position: still exactly one end.
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        _nodelay(c)
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        end = b"\r\n.\r\n"
        c.send(b"Subject: cut\r\n\r\nbody" + end[:cut])
        assert c.quiet(0.3), "reply before the end of data arrived: %r" % c.buf
        c.send(end[cut:])
        assert c.reply().code == 250
        assert c.cmd("HELP").code == 214
    _, rest = H.split_trace(one_new(daemon, before).data)
    assert rest == b"Subject: cut\r\n\r\nbody\r\n"


def test_empty_message(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        assert c.cmd(".").code == 250
    trace, rest = H.split_trace(one_new(daemon, before).data)
    assert rest == b"" and len(trace) >= 2


def test_disconnect_mid_data_stores_nothing(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(b"Subject: cut off\r\n\r\nno end in sight\r\n")
        start = daemon.log_size()
    daemon.wait_log(r"smtp s[0-9a-f]+ disconnect from", start)   # the session is gone
    assert daemon.new_messages(before, BOB) == []


def test_disconnect_mid_bdat_stores_nothing(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.send(b"BDAT 20\r\nSubject: chunk 1\r\n\r\n")
        assert c.reply().code == 250
        c.send(b"BDAT 100 LAST\r\nonly part of it")
        start = daemon.log_size()
    daemon.wait_log(r"smtp s[0-9a-f]+ disconnect from", start)   # the session is gone
    assert daemon.new_messages(before, BOB) == []


def test_rset_between_bdat_chunks(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.send(b"BDAT 6\r\nfirst\n")
        assert c.reply().code == 250
        c.expect("RSET", "250")
        c.send(b"BDAT 6 LAST\r\nagain\n")
        assert c.reply().startswith("503")
    assert daemon.new_messages(before, BOB) == []


def test_data_after_bdat_refused(daemon):
    # RFC 3030 2: DATA inside a BDAT transaction is a 503.
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.send(b"BDAT 4\r\nabcd")
        assert c.reply().code == 250
        c.expect("DATA", "503")


def test_bdat_last_without_final_crlf(daemon):
    before = daemon.messages(BOB)
    body = b"Subject: no final newline\r\n\r\nends here"
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.send(b"BDAT %d LAST\r\n" % len(body) + body)
        assert c.reply().code == 250
    assert_stored_as(one_new(daemon, before).data, body, "alice@crepes.fr")


def test_all_mail_parameters_together(daemon):
    before = daemon.messages(BOB)
    with daemon.smtp() as c:
        assert c.send_mail("alice@crepes.fr", [BOB], b"Subject: params\r\n\r\nx\r\n",
                           params=" SIZE=100 BODY=8BITMIME SMTPUTF8").code == 250
        assert c.send_mail("", [BOB], b"Subject: null\r\n\r\nx\r\n", ehlo=False,
                           params=" SIZE=50 BODY=7BIT").code == 250
    assert len(daemon.new_messages(before, BOB)) == 2


def test_starttls_forgets_ehlo(daemon):
    # RFC 3207 4.2: after TLS the server discards what it knew, EHLO is needed again.
    with daemon.smtp() as c:
        c.ehlo()
        c.starttls()
        c.expect("MAIL FROM:<alice@crepes.fr>", "503")
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")


def test_pipelining_flood(daemon):
    # 20,000 pipelined commands without reading: replies come back complete and in order.
    import threading
    n = 20000
    with daemon.smtp() as c:
        c.ehlo()
        payload = b"".join(b"NOOP %d\r\n" % i if i % 2 else b"RSET\r\n" for i in range(n))
        t = threading.Thread(target=c.send, args=(payload,), daemon=True)
        t.start()
        for i in range(n):
            r = c.reply()
            assert r.startswith("250 2.0.0"), (i, r)
        t.join(30)
        c.expect("QUIT", "221")
