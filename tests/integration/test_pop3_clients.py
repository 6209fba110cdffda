"""POP3 with the clients people use: Python's poplib (STAT/LIST/UIDL/TOP/RETR/DELE/RSET/QUIT,
STLS, POP3S), fetchmail (download-and-keep, download-and-delete), curl and getmail6; a base64
attachment and a large message come back byte for byte."""

import email
import email.policy
import glob
import os
import poplib
import shutil
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest

import pigeon_harness as H
from pop3_helpers import POP3_CONF, clear, deliver, stored, textbook_message

PIGEON_CONF = dict(POP3_CONF, smtp={"max_message_size": 26214400})
PIGEON_USERS = {
    "poplib@hamburger.edu": "pl1b",
    "fetch@hamburger.edu": "f3tch",
    "curl@hamburger.edu": "cu7l",
    "getmail@hamburger.edu": "g3tm",
    "attach@hamburger.edu": "4ttach",
    "big@hamburger.edu": "b1g",
    "tls@hamburger.edu": "tl5",
}


def poplib_login(daemon, user, pw, **kw):
    p = poplib.POP3("127.0.0.1", daemon.pop3_port, timeout=H.IO_TIMEOUT)
    p.user(user)
    p.pass_(pw)
    return p


def crlf_join(lines):
    return b"".join(l + b"\r\n" for l in lines)


def test_poplib_semantics(daemon):
    user, pw = "poplib@hamburger.edu", "pl1b"
    blobs = [deliver(daemon, user, textbook_message(i)) for i in range(3)]
    p = poplib_login(daemon, user, pw)
    assert p.getwelcome() == b"+OK Pigeon POP3 server ready"
    caps = p.capa()
    for k in ("TOP", "UIDL", "USER", "SASL", "STLS", "RESP-CODES", "AUTH-RESP-CODE",
              "PIPELINING", "IMPLEMENTATION"):
        assert k in caps, caps
    assert caps["SASL"] == ["PLAIN"] and caps["IMPLEMENTATION"] == ["Pigeon"]
    assert p.stat() == (3, sum(map(len, blobs)))
    resp, lines, _ = p.list()
    assert lines == [b"%d %d" % (i + 1, len(b)) for i, b in enumerate(blobs)]
    assert p.list(2) == b"+OK 2 %d" % len(blobs[1])
    resp, uidls, _ = p.uidl()
    uid_by_num = dict(l.split() for l in uidls)
    assert p.uidl(3).split()[1:] == [b"3", uid_by_num[b"3"]]
    resp, lines, octets = p.retr(1)
    assert crlf_join(lines) == blobs[0]
    resp, lines, _ = p.top(2, 1)
    head = blobs[1].split(b"\r\n\r\n")[0]
    assert crlf_join(lines) == head + b"\r\n\r\nDo you like ketchup?\r\n"
    p.dele(1)
    assert p.stat() == (2, len(blobs[1]) + len(blobs[2]))
    with pytest.raises(poplib.error_proto, match=r"Message 1 is deleted"):
        p.retr(1)
    p.rset()
    assert p.stat() == (3, sum(map(len, blobs)))
    p.dele(3)
    assert p.noop().startswith(b"+OK")
    assert p.quit().startswith(b"+OK")
    assert stored(daemon, user) == blobs[:2]
    # UIDL is stable across sessions
    p = poplib_login(daemon, user, pw)
    resp, uidls2, _ = p.uidl()
    assert dict(l.split() for l in uidls2) == {b"1": uid_by_num[b"1"], b"2": uid_by_num[b"2"]}
    p.quit()


def test_stls_then_login(new_daemon):
    """plaintext_auth = no: nothing but STLS and CAPA before TLS, even from loopback."""
    d = new_daemon(pop3={"plaintext_auth": "no"},
                   users={"bob@hamburger.edu": "hungry"})
    blob = deliver(d, "bob@hamburger.edu", textbook_message(1))
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=H.IO_TIMEOUT)
    caps = p.capa()
    assert "STLS" in caps and "USER" not in caps and "SASL" not in caps
    with pytest.raises(poplib.error_proto, match=r"Plaintext authentication disallowed"):
        p.user("bob")
    p.stls(H.unverified_context())
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps and caps["SASL"] == ["PLAIN"]
    p.user("bob")
    p.pass_("hungry")
    resp, lines, _ = p.retr(1)
    assert crlf_join(lines) == blob
    p.quit()


def test_stls_large_message(daemon):
    """A large message through the TLS filter (STLS): sent in bursts, byte for byte."""
    user, pw = "tls@hamburger.edu", "tl5"
    body = b"Subject: big over tls\r\n\r\n" + b"".join(
        b".%07d some text to fill the line up to a decent length\r\n" % i for i in range(90000))
    blob = deliver(daemon, user, body)
    p = poplib.POP3("127.0.0.1", daemon.pop3_port, timeout=H.IO_TIMEOUT)
    p.stls(H.unverified_context())
    p.user(user)
    p.pass_(pw)
    resp, lines, octets = p.retr(1)
    assert crlf_join(lines) == blob
    p.quit()


def test_pop3s(daemon):
    user, pw = "poplib@hamburger.edu", "pl1b"
    p = poplib.POP3_SSL("127.0.0.1", daemon.pop3s_port, context=H.unverified_context(),
                        timeout=H.IO_TIMEOUT)
    assert p.getwelcome() == b"+OK Pigeon POP3 server ready"
    caps = p.capa()
    assert "STLS" not in caps and "USER" in caps
    p.user(user)
    p.pass_(pw)
    n, size = p.stat()
    msgs = stored(daemon, user)
    assert n == len(msgs) and size == sum(map(len, msgs))
    if n:
        assert crlf_join(p.retr(1)[1]) == msgs[0]
    p.quit()


def run_fetchmail(daemon, tmp_path, user, pw, keep, tls):
    home = tmp_path / "home"
    out = tmp_path / "out"
    home.mkdir(exist_ok=True)
    out.mkdir(exist_ok=True)
    rc = home / "fetchmailrc"
    rc.write_text('set no bouncemail\npoll 127.0.0.1 with proto POP3 port %d\n'
                  '  user "%s" there with password "%s" is "root" here\n'
                  % (daemon.pop3_port, user, pw))
    rc.chmod(0o600)
    args = ["fetchmail", "-f", str(rc), "--nosyslog", "-v", "--pidfile", str(home / "pid"),
            "--all", "-m", "sh -c 'cat > \"$(mktemp %s/m.XXXXXX)\"'" % out]
    if keep:
        args.append("--keep")
    else:
        args.append("--nokeep")
    if tls:  # STLS with the certificate checked, as a careful user would run it
        args += ["--sslproto", "tls1.2+", "--sslcertck", "--sslcertfile",
                 os.path.join(daemon.data_dir, "tls", "cert.pem"),
                 "--sslcommonname", H.HOSTNAME]
    else:
        args += ["--sslproto", ""]
    env = dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home))
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                       timeout=120)
    log = p.stdout.decode(errors="replace")
    assert p.returncode in (0, 1), log  # 1: "no mail"
    files = sorted(glob.glob(str(out / "m.*")))
    assert (p.returncode == 1) == (not files), log
    got = [Path(f).read_bytes() for f in files]
    for f in files:
        os.unlink(f)
    return got, log


@pytest.mark.skipif(not shutil.which("fetchmail"), reason="fetchmail not installed")
def test_fetchmail_keep_then_delete(daemon, tmp_path):
    user, pw = "fetch@hamburger.edu", "f3tch"
    subjects = [b"Subject: message %d" % i for i in range(3)]
    for i in range(3):
        deliver(daemon, user, textbook_message(i))
    for round_ in range(2):  # download-and-keep, twice: the same messages each time
        got, log = run_fetchmail(daemon, tmp_path, user, pw, keep=True, tls=round_ == 1)
        assert len(got) == 3, log
        for s in subjects:
            assert sum(s in m for m in got) == 1, log
        assert len(daemon.messages(user)) == 3
        assert ("upgrade to TLS succeeded" in log) == (round_ == 1), log
    got, log = run_fetchmail(daemon, tmp_path, user, pw, keep=False, tls=True)
    assert len(got) == 3, log
    assert daemon.messages(user) == []  # download-and-delete empties the maildrop
    got, log = run_fetchmail(daemon, tmp_path, user, pw, keep=False, tls=False)
    assert got == []


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_curl(daemon):
    user, pw = "curl@hamburger.edu", "cu7l"
    blobs = [deliver(daemon, user, textbook_message(i)) for i in range(2)]
    base = "pop3://127.0.0.1:%d/" % daemon.pop3_port
    p = subprocess.run(["curl", "-sS", "--max-time", "60", "-u", "%s:%s" % (user, pw), base],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"1 %d\r\n2 %d\r\n" % (len(blobs[0]), len(blobs[1]))
    p = subprocess.run(["curl", "-sS", "--max-time", "60", "-u", "%s:%s" % (user, pw),
                        base + "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert p.returncode == 0, p.stderr
    assert p.stdout == blobs[1]
    # a wrong password: curl reports the failed login
    p = subprocess.run(["curl", "-sS", "--max-time", "60", "-u", "%s:nope" % user, base],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert p.returncode != 0
    assert len(daemon.messages(user)) == 2


@pytest.mark.skipif(not shutil.which("getmail"), reason="getmail6 not installed")
def test_getmail6(daemon, tmp_path):
    user, pw = "getmail@hamburger.edu", "g3tm"
    blobs = [deliver(daemon, user, textbook_message(i)) for i in range(2)]
    out = tmp_path / "out"
    out.mkdir()
    rc = tmp_path / "getmailrc"
    rc.write_text("[retriever]\ntype = SimplePOP3Retriever\nserver = 127.0.0.1\nport = %d\n"
                  "username = %s\npassword = %s\n\n"
                  "[destination]\ntype = MDA_external\npath = /bin/sh\n"
                  "arguments = (\"-c\", \"cat > $(mktemp %s/m.XXXXXX)\")\n"
                  "allow_root_commands = true\n\n"
                  "[options]\ndelete = true\nread_all = true\nverbose = 1\n"
                  % (daemon.pop3_port, user, pw, out))
    p = subprocess.run(["getmail", "--rcfile", str(rc), "--getmaildir", str(tmp_path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    log = p.stdout.decode(errors="replace")
    assert p.returncode == 0, log
    got = [f.read_bytes() for f in sorted(out.iterdir())]
    assert len(got) == 2, log
    for b in blobs:
        subject = [l for l in b.split(b"\r\n") if l.startswith(b"Subject:")][0]
        assert sum(subject in g for g in got) == 1
    assert daemon.messages(user) == []


def test_base64_attachment_byte_identical(daemon):
    user, pw = "attach@hamburger.edu", "4ttach"
    payload = os.urandom(300000) + bytes(range(256)) * 4
    msg = EmailMessage()
    msg["From"] = "alice@crepes.fr"
    msg["To"] = user
    msg["Subject"] = "the photo"
    msg.set_content("See attached.\n")
    msg.add_attachment(payload, maintype="application", subtype="octet-stream",
                       filename="photo.bin")
    sent = msg.as_bytes(policy=email.policy.SMTP)
    blob = deliver(daemon, user, sent)
    p = poplib_login(daemon, user, pw)
    resp, lines, octets = p.retr(1)
    got = crlf_join(lines)
    p.quit()
    assert got == blob
    assert H.split_trace(got)[1] == sent
    parsed = email.message_from_bytes(got, policy=email.policy.default)
    att = [part for part in parsed.iter_attachments()][0]
    assert att.get_filename() == "photo.bin"
    assert att.get_content() == payload


def test_large_message(daemon):
    """A 20 MB message: LIST size and RETR octets agree, content byte for byte."""
    user, pw = "big@hamburger.edu", "b1g"
    line = b"0123456789" * 9 + b"\r\n"
    body = b"Subject: large\r\n\r\n" + line * (20 * 1024 * 1024 // len(line))
    blob = deliver(daemon, user, body)
    with daemon.pop3() as c:
        c.login(user, pw)
        assert c.cmd("LIST 1") == "+OK 1 %d" % len(blob)
        assert c.retr(1) == blob
        c.expect("QUIT", "+OK")
