"""[server] log = FILE, reopening on SIGHUP (logrotate), failed logins logged with user and
address, and the shipped fail2ban filter run by fail2ban-regex against those real lines."""

import base64
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import subprocess
import time
from pathlib import Path

import pigeon_harness as H

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
    """One failed login on each of SMTP AUTH, POP3 and IMAP."""
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


def test_failed_logins_logged_and_matched_by_fail2ban(new_daemon, tmp_path):
    logfile = tmp_path / "pigeond.log"
    d = new_daemon(server={"log": str(logfile)}, pop3={}, imap={})
    wait_for(logfile, r"pigeond ready")
    failed_logins(d)
    for proto, user in (("smtp", "mallory@hamburger.edu"), ("pop3", "trudy@hamburger.edu"),
                        ("imap", "bob@hamburger.edu")):
        wait_for(logfile, r"^\S+Z info %s s[0-9a-f]+ auth failed from 127\.0\.0\.1 user=%s$"
                 % (proto, re.escape(user)))
    # fail2ban resolves the filter's "before = common.conf" in its own base directory.
    base = tmp_path / "fail2ban"
    (base / "filter.d").mkdir(parents=True)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", base / "filter.d")
    shutil.copy(FILTER, base / "filter.d" / "pigeon.conf")
    p = subprocess.run(["fail2ban-regex", "--out", "ip", str(logfile),
                        str(base / "filter.d" / "pigeon.conf")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().split() == ["127.0.0.1"] * 3, p.stdout.decode()
    # The successful logins of the same run are not counted.
    p = subprocess.run(["fail2ban-regex", "--out", "msg", str(logfile),
                        str(base / "filter.d" / "pigeon.conf")],
                       stdout=subprocess.PIPE, timeout=120)
    assert b"auth ok" not in p.stdout and p.stdout.count(b"auth failed") == 3


def test_forged_user_name_cannot_name_another_address(tmp_path):
    """A user name holding " from 1.2.3.4" still bans the client's own address."""
    base = tmp_path / "fail2ban"
    (base / "filter.d").mkdir(parents=True)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", base / "filter.d")
    shutil.copy(FILTER, base / "filter.d" / "pigeon.conf")
    log = tmp_path / "forged.log"
    log.write_text("2026-12-06T17:20:01.123Z info imap s2a auth failed from 192.0.2.7 "
                   "user=x from 198.51.100.1\n"
                   "Dec  6 17:20:01 mx pigeond[812]: info smtp s3 auth failed from 2001:db8::7 "
                   "user=bob\n")
    p = subprocess.run(["fail2ban-regex", "--out", "ip", str(log),
                        str(base / "filter.d" / "pigeon.conf")],
                       stdout=subprocess.PIPE, timeout=120)
    assert p.stdout.decode().split() == ["192.0.2.7", "2001:db8::7"]
