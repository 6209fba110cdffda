"""[server] log = FILE, reopening on SIGHUP (logrotate), failed logins logged with user and
address, and the shipped fail2ban filter run by fail2ban-regex against those real lines;
[server] log = syslog through a private /dev/log: facility mail, ident pigeond, the
auth-failure lines and the severities."""

import base64
import ftplib
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import time
from pathlib import Path

import pytest

import http_helpers as X
import pigeon_harness as H
from ftp_helpers import add_ftp

REPO = Path(__file__).resolve().parents[2]
FILTER = REPO / "etc" / "fail2ban" / "filter.d" / "pigeon.conf"


def wait_for(path, pattern, timeout=H.START_TIMEOUT):
    """Waits until the file at path has a line matching pattern; returns the match."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            m = re.search(pattern, Path(path).read_text(errors="replace"), re.M)
        except FileNotFoundError:
            m = None
        if m:
            return m
        assert time.monotonic() < deadline, "no %r in %s" % (pattern, path)
        time.sleep(0.05)


def test_log_file_and_reopen_on_sighup(new_daemon, tmp_path):
    logfile = tmp_path / "pigeond.log"
    d = new_daemon(server={"log": str(logfile)})
    wait_for(logfile, r"^\S+Z info pigeond ready: ")
    # Nothing but sanitizer output may still go to stderr.
    assert "pigeond ready" not in d.log()
    rotated = tmp_path / "pigeond.log.1"
    os.rename(logfile, rotated)
    d.signal(signal.SIGHUP)
    wait_for(logfile, r"^\S+Z info SIGHUP: reloading$")
    assert "SIGHUP" not in rotated.read_text()


def test_relative_log_file_is_beside_the_config(new_daemon, tmp_path):
    """Relative paths are relative to the configuration file, not the working directory."""
    d = new_daemon(start=False, server={"log": "pigeond-file.log"})
    p = subprocess.run([str(H.PIGEOND), "-t", "-c", d.conf], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=H.sanitizer_env(), timeout=60, cwd="/")
    assert p.returncode == 0, p.stderr
    d.start()
    wait_for(Path(d.conf).parent / "pigeond-file.log", r"pigeond ready")


def failed_logins(d):
    """One failed login on each of SMTP AUTH, POP3 and IMAP, and FTP, ManageSieve and HTTP
    Basic when d serves them."""
    with smtplib.SMTP("127.0.0.1", d.sub_port, timeout=H.IO_TIMEOUT) as s:
        s.starttls(context=H.unverified_context())
        s.ehlo()
        code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(
            b"\0mallory@hamburger.edu\0guess1").decode())
        assert code == 535
    p = poplib.POP3("127.0.0.1", d.pop3_port, timeout=H.IO_TIMEOUT)
    p.user("trudy")
    try:
        p.pass_("guess2")
        raise AssertionError("POP3 accepted a wrong password")
    except poplib.error_proto:
        pass
    p.quit()
    m = imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=H.IO_TIMEOUT)
    try:
        m.login("bob", "not-hungry")
        raise AssertionError("IMAP accepted a wrong password")
    except imaplib.IMAP4.error:
        pass
    m.logout()
    if getattr(d, "ftp_port", None):
        f = ftplib.FTP()
        f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
        try:
            f.login("eve@hamburger.edu", "guess4")
            raise AssertionError("FTP accepted a wrong password")
        except ftplib.error_perm as e:
            assert str(e).startswith("530"), e
        f.close()
    if getattr(d, "ms_port", None):
        with socket.create_connection(("127.0.0.1", d.ms_port), timeout=H.IO_TIMEOUT) as s:
            f = s.makefile("rb")
            while not f.readline().startswith(b"OK"):
                pass
            cred = base64.b64encode(b"\0carol@hamburger.edu\0guess5").decode()
            s.sendall(b'AUTHENTICATE "PLAIN" "%s"\r\n' % cred.encode())
            assert f.readline().startswith(b"NO"), "ManageSieve accepted a wrong password"
    if getattr(d, "web", None):
        rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-T", "/dev/null", "-u",
                            "dave@hamburger.edu:guess6", d.web.url("/uploads/x.txt"))
        assert out == b"401", out


def fail2ban_filter(tmp_path):
    """The shipped filter in a fail2ban base directory of its own (fail2ban resolves the
    filter's "before = common.conf" there); returns the filter's path."""
    base = tmp_path / "fail2ban"
    (base / "filter.d").mkdir(parents=True)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", base / "filter.d")
    shutil.copy(FILTER, base / "filter.d" / "pigeon.conf")
    return base / "filter.d" / "pigeon.conf"


def test_failed_logins_logged_and_matched_by_fail2ban(new_daemon, tmp_path):
    logfile = tmp_path / "pigeond.log"
    d = new_daemon(start=False, server={"log": str(logfile)}, pop3={}, imap={})
    add_ftp(d, ftps=False)
    d.ms_port = H.free_port()
    d.sections["managesieve"] = {"listen": "127.0.0.1:%d" % d.ms_port,
                                 "plaintext_auth": "loopback"}
    d.ports.append(d.ms_port)
    d.web = X.HTTPDaemon(d, X.make_site(tmp_path), site={"plaintext_auth": "loopback"})
    d.start()
    wait_for(logfile, r"pigeond ready")
    failed_logins(d)
    for proto, user in (("smtp", "mallory@hamburger.edu"), ("pop3", "trudy@hamburger.edu"),
                        ("imap", "bob@hamburger.edu"), ("ftp", "eve@hamburger.edu"),
                        ("managesieve", "carol@hamburger.edu"),
                        ("http", "dave@hamburger.edu")):
        wait_for(logfile, r"^\S+Z info %s s[0-9a-f]+ auth failed from 127\.0\.0\.1 user=%s$"
                 % (proto, re.escape(user)))
    filt = fail2ban_filter(tmp_path)
    p = subprocess.run(["fail2ban-regex", "--out", "ip", str(logfile),
                        str(filt)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().split() == ["127.0.0.1"] * 6, p.stdout.decode()
    # The successful logins of the same run are not counted.
    p = subprocess.run(["fail2ban-regex", "--out", "msg", str(logfile),
                        str(filt)],
                       stdout=subprocess.PIPE, timeout=120)
    assert b"auth ok" not in p.stdout and p.stdout.count(b"auth failed") == 6


def test_forged_user_name_cannot_name_another_address(tmp_path):
    """A user name holding " from 1.2.3.4" still bans the client's own address."""
    filt = fail2ban_filter(tmp_path)
    log = tmp_path / "forged.log"
    log.write_text("2026-12-06T17:20:01.123Z info imap s2a auth failed from 192.0.2.7 "
                   "user=x from 198.51.100.1\n"
                   "Dec  6 17:20:01 mx pigeond[812]: info smtp s3 auth failed from 2001:db8::7 "
                   "user=bob\n")
    p = subprocess.run(["fail2ban-regex", "--out", "ip", str(log),
                        str(filt)],
                       stdout=subprocess.PIPE, timeout=120)
    assert p.stdout.decode().split() == ["192.0.2.7", "2001:db8::7"]


# Runs pigeond in a mount namespace of its own whose /dev is a fresh tmpfs holding the few
# device nodes it uses and, as /dev/log, the test's datagram socket: glibc's syslog() then
# talks to the test exactly as it would to rsyslog or journald.
PRIVATE_DEVLOG = r"""
set -e
mount --bind /dev "$OLDDEV"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero full random urandom; do
    : > /dev/$n
    mount --bind "$OLDDEV/$n" /dev/$n
done
ln -s /proc/self/fd /dev/fd
: > /dev/log
mount --bind "$SOCK" /dev/log
exec "$@"
"""

SYSLOG_LINE = re.compile(r"^<(\d+)>(\w{3} [ \d]\d \d\d:\d\d:\d\d) pigeond\[(\d+)\]: (.*)$", re.S)


class SyslogSink:
    """The test's /dev/log: collects what pigeond sends, parsed as glibc formats it."""

    def __init__(self, path):
        import socket
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.lines = []   # (facility, severity, pid, text, the datagram as received)

    def drain(self):
        import socket
        try:
            while True:
                raw = self.sock.recv(65536).decode(errors="replace").rstrip("\n")
                m = SYSLOG_LINE.match(raw)
                assert m, "not a syslog datagram: %r" % raw
                pri = int(m.group(1))
                self.lines.append((pri >> 3, pri & 7, int(m.group(3)), m.group(4), raw))
        except socket.timeout:
            pass

    def wait(self, pattern, count=1):
        rx = re.compile(pattern)

        def found():
            self.drain()
            hits = [l for l in self.lines if rx.search(l[3])]
            return hits if len(hits) >= count else None
        return H.wait_until(found, what="%r from syslog" % pattern,
                            on_timeout=lambda: "\n".join(l[4] for l in self.lines[-20:]))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a private mount namespace")
def test_syslog_facility_mail_ident_pigeond_with_failed_logins(tmp_path):
    sink = SyslogSink(tmp_path / "devlog.sock")
    (tmp_path / "olddev").mkdir()
    d = H.Daemon(tmp_path / "d", server={"log": "syslog"}, pop3={}, imap={})
    d.setup()
    env = H.sanitizer_env()
    env.update(OLDDEV=str(tmp_path / "olddev"), SOCK=str(tmp_path / "devlog.sock"))
    d.log_file = open(d.log_path, "ab")
    d.proc = subprocess.Popen(["unshare", "-m", "sh", "-c", PRIVATE_DEVLOG, "sh",
                               str(H.PIGEOND), "-c", d.conf],
                              stdin=subprocess.DEVNULL, stdout=d.log_file,
                              stderr=subprocess.STDOUT, env=env, cwd=str(d.root))
    try:
        d.wait_ready()
        ready = sink.wait(r"^info pigeond ready: ")[0]
        mail, info = 2, 6   # LOG_MAIL, LOG_INFO
        assert ready[:3] == (mail, info, d.proc.pid)
        failed_logins(d)
        for proto, user in (("smtp", "mallory@hamburger.edu"), ("pop3", "trudy@hamburger.edu"),
                            ("imap", "bob@hamburger.edu")):
            hit = sink.wait(r"^info %s s[0-9a-f]+ auth failed from 127\.0\.0\.1 user=%s$"
                            % (proto, re.escape(user)))[0]
            assert hit[:3] == (mail, info, d.proc.pid)
        # every line of this run came through syslog: facility mail, ident pigeond, our pid
        assert {(l[0], l[2]) for l in sink.lines} == {(mail, d.proc.pid)}
        assert "pigeond ready" not in d.log()  # nothing went to stderr
        # As rsyslog writes them to /var/log/mail.log, the shipped fail2ban filter bans them.
        maillog = tmp_path / "mail.log"
        maillog.write_text("".join("%s mx pigeond[%d]: %s\n" % (
            SYSLOG_LINE.match(l[4]).group(2), l[2], l[3]) for l in sink.lines))
        filt = fail2ban_filter(tmp_path)
        p = subprocess.run(["fail2ban-regex", "--out", "ip", str(maillog),
                            str(filt)],
                           stdout=subprocess.PIPE, timeout=120)
        assert p.stdout.decode().split() == ["127.0.0.1"] * 3, p.stdout.decode()
        # warnings and errors keep their severity (a broken zone-less reload is an error)
        with open(d.conf, "a") as f:
            f.write("\n[server]\nbogus_key = 1\n")
        d.signal(signal.SIGHUP)
        err = sink.wait(r"^error reload: configuration not valid, nothing reloaded: ")[0]
        assert err[:2] == (mail, 3)   # LOG_ERR
    finally:
        d.stop()
        d.kill9()
    assert d.sanitizer_report() is None
