"""pigeond as a process: TLS material, logs, bad config, SIGTERM (also mid-DATA)."""

import os
import re
import signal
import ssl
import subprocess
import socket
from pathlib import Path

import pytest

import pigeon_harness as H

BOB = "bob@hamburger.edu"


# ------------------------------------------------------------------------------------------
# With the module daemon


def test_self_signed_cert_created(daemon):
    tls = Path(daemon.data_dir) / "tls"
    cert, key = tls / "cert.pem", tls / "key.pem"
    assert cert.is_file() and key.is_file(), sorted(os.listdir(daemon.data_dir))
    assert b"-----BEGIN CERTIFICATE-----" in cert.read_bytes()
    assert b"PRIVATE KEY-----" in key.read_bytes()
    assert (key.stat().st_mode & 0o077) == 0, "private key readable by group/others: %o" % (
        key.stat().st_mode & 0o777)


def test_starttls_unverified(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        sock = c.starttls()
        assert sock.version() in ("TLSv1.2", "TLSv1.3"), sock.version()
        der = sock.getpeercert(binary_form=True)
        assert der, "no certificate presented"
        pem = ssl.DER_cert_to_PEM_cert(der).encode()
        on_disk = (Path(daemon.data_dir) / "tls" / "cert.pem").read_bytes()
        assert b"".join(pem.split()) in b"".join(on_disk.split()), \
            "presented certificate is not DATA/tls/cert.pem"
        assert c.send_mail("alice@crepes.fr", [BOB], b"Subject: tls\r\n\r\nsecret\r\n").code == 250


def test_log_session_ids(daemon):
    start = daemon.log_size()
    with daemon.smtp() as c:
        port = c.sock.getsockname()[1]
        c.ehlo()
        c.expect("QUIT", "221")
        assert c.closed()
    daemon.wait_log(r"(?i)disconnect|close", start=start)
    lines = daemon.log_tail(10 ** 6, start).splitlines()
    connects = [l for l in lines if re.search(r"(?<!dis)connect", l, re.I)]
    assert connects, "no connect line in:\n%s" % "\n".join(lines)
    mine = [l for l in connects if str(port) in l] or connects
    ids = re.findall(r"\b(s[0-9a-f]+)\b", mine[0])
    assert ids, "no session id (s<hex>) in %r" % mine[0]
    sid = ids[-1]
    disc = [l for l in lines if re.search(r"disconnect|closed", l, re.I)
            and re.search(r"\b%s\b" % sid, l)]
    assert disc, "no disconnect line for %s in:\n%s" % (sid, "\n".join(lines))
    # Every line of this session carries the id; the first one is the connect.
    own = [l for l in lines if re.search(r"\b%s\b" % sid, l)]
    assert own[0] == mine[0] and own[-1] == disc[-1], own


def test_no_credentials_in_log(daemon):
    import base64
    with daemon.submission() as c:
        c.ehlo()
        c.starttls()
        c.ehlo()
        c.expect("AUTH PLAIN " + base64.b64encode(b"\0bob\0hungry").decode(), "235")
    log = daemon.log()
    assert "hungry" not in log
    assert base64.b64encode(b"\0bob\0hungry").decode() not in log


def test_cert_kept_across_restart(daemon):
    cert = Path(daemon.data_dir) / "tls" / "cert.pem"
    before = cert.read_bytes()
    assert daemon.stop() == 0
    daemon.start()
    assert cert.read_bytes() == before


# ------------------------------------------------------------------------------------------
# Dedicated daemons


def test_sigterm_clean_exit(new_daemon):
    d = new_daemon()
    with d.smtp() as c:
        c.ehlo()
        c.expect("QUIT", "221")
    d.signal(signal.SIGTERM)
    rc = d.wait_exit(H.WAIT_TIMEOUT)
    assert rc == 0, "exit %r after SIGTERM" % rc


def test_sigterm_idle_session(new_daemon):
    # An idle session does not hold the shutdown up: the server says 421 and closes it
    # while the client keeps its end open, and exits cleanly.
    d = new_daemon(server={"shutdown_timeout": 3})
    c = d.smtp()
    try:
        c.ehlo()
        d.signal(signal.SIGTERM)
        r = c.reply()
        assert r.code == 421, r
        assert c.closed(H.WAIT_TIMEOUT), "the idle session was not closed"
        rc = d.wait_exit(H.WAIT_TIMEOUT)
        assert rc == 0, rc
    finally:
        c.close()


def test_sigterm_mid_data_finishes(new_daemon):
    d = new_daemon(server={"shutdown_timeout": 15})
    c = d.smtp()
    try:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<bob@hamburger.edu>", "250")
        c.expect("DATA", "354")
        c.send(b"Message-ID: <inflight@test.pigeon>\r\nSubject: in flight\r\n\r\nfirst half\r\n")
        start = d.log_size()
        d.signal(signal.SIGTERM)
        d.wait_log(r"SIGTERM: shutting down", start=start)
        # No new sessions once shutting down: the listening socket is closed (refused at
        # once, not left hanging in the backlog), while this transaction goes on.
        H.wait_port_closed(d.smtp_port)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", d.smtp_port), timeout=5)
        assert d.running, "pigeond exited with a transaction in DATA"
        c.send(b"second half\r\n.\r\n")
        r = c.reply()
        assert r.code == 250, r
        # After the transaction the server may say goodbye with 421 (shutting down).
        try:
            r = c.cmd("QUIT")
            assert r.code in (221, 421), r
        except H.Closed:
            pass
    except H.Closed as e:
        raise AssertionError("connection dropped mid-DATA on SIGTERM: %s" % e)
    finally:
        c.close()
    rc = d.wait_exit(15)
    assert rc == 0, rc
    msgs = d.messages(BOB)
    assert len(msgs) == 1
    assert msgs[0].data.endswith(b"first half\r\nsecond half\r\n")


def _run_with_conf(tmp_path, text):
    conf = tmp_path / "bad.conf"
    conf.write_text(text)
    p = subprocess.run([str(H.PIGEOND), "-c", str(conf)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, env=H.sanitizer_env(),
                       cwd=str(tmp_path))
    return conf, p.returncode, p.stderr.decode(errors="replace")


BASE = """[server]
hostname = mail.hamburger.edu
primary_domain = hamburger.edu
data_dir = %s
[smtp]
listen = 127.0.0.1:%d
"""


def test_bad_config_unknown_key(tmp_path):
    text = BASE % (tmp_path / "data", H.free_port()) + "max_recipients = 10\nfrobnicate = yes\n"
    line = text.splitlines().index("frobnicate = yes") + 1
    conf, rc, err = _run_with_conf(tmp_path, text)
    assert rc != 0
    assert "%s:%d:" % (conf, line) in err, err
    assert "ERROR: AddressSanitizer" not in err and "LeakSanitizer" not in err, err


def test_bad_config_bad_value(tmp_path):
    text = BASE % (tmp_path / "data", H.free_port()) + "max_message_size = lots\n"
    conf, rc, err = _run_with_conf(tmp_path, text)
    assert rc != 0
    assert "%s:%d:" % (conf, len(text.splitlines())) in err, err


def test_bad_config_missing_file(tmp_path):
    p = subprocess.run([str(H.PIGEOND), "-c", str(tmp_path / "nope.conf")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       env=H.sanitizer_env())
    assert p.returncode != 0
    assert "nope.conf" in p.stderr.decode(errors="replace")


def test_port_in_use(new_daemon):
    d = new_daemon()
    # A second daemon on the same ports must fail to start, not hang.
    other = Path(d.root) / "second.conf"
    text = Path(d.conf).read_text().replace(d.data_dir, d.data_dir + "2")
    other.write_text(text)
    p = subprocess.run([str(H.PIGEOND), "-c", str(other)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30, env=H.sanitizer_env())
    assert p.returncode != 0
    assert str(d.smtp_port) in p.stderr.decode(errors="replace")
    assert d.running
