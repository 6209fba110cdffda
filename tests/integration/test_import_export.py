"""`pigeon import maildir|mbox` of mail that Dovecot wrote (Maildir++ with keywords, and an
mbox with Status:/X-Status:/X-Keywords:/Content-Length:), seen over IMAP with the same
flags, internal dates and folders; `pigeon export` read back by Dovecot the same way."""

import imaplib
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import pigeon_harness as H

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

MSG = "From: Alice <alice@crepes.fr>\nSubject: %s\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\n%s\n"


class Dovecot:
    """A private Dovecot master (no protocols: only auth for doveadm) in root."""

    def __init__(self, root):
        self.root = root
        for d in ("run", "home"):
            (root / d).mkdir(parents=True)
        shutil.chown(root / "home", "nobody", "nogroup")
        self.conf = root / "dovecot.conf"
        self.conf.write_text("\n".join([
            "base_dir = %s/run" % root, "state_dir = %s/run" % root,
            "log_path = %s/dovecot.log" % root, "ssl = no", "protocols =",
            "first_valid_uid = 1", "default_internal_user = nobody",
            "default_login_user = nobody", "mail_location = maildir:~/Maildir",
            "mbox_lazy_writes = no",
            "namespace inbox {\n  inbox = yes\n  separator = /\n}",
            "userdb {\n  driver = static\n  args = uid=nobody gid=nogroup home=%s/home/%%u\n}"
            % root, "passdb {\n  driver = static\n  args = nopassword=y\n}", ""]))
        subprocess.run([DOVECOT, "-c", str(self.conf)], check=True, timeout=60)

    def adm(self, *args, location=None, input=None):
        cmd = [DOVEADM, "-c", str(self.conf)]
        if location:
            cmd += ["-o", "mail_location=" + location]
        p = subprocess.run(cmd + list(args), input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        assert p.returncode == 0, (args, p.stderr.decode())
        return p.stdout.decode()

    def stop(self):
        subprocess.run([DOVEADM, "-c", str(self.conf), "stop"], timeout=60)


@pytest.fixture
def dovecot():
    # Dovecot works as user nobody, which cannot enter pytest's 0700 temporary directories.
    top = Path(tempfile.mkdtemp(prefix="pigeon-dovecot-"))
    top.chmod(0o755)
    d = Dovecot(top / "dovecot")
    yield d
    d.stop()
    shutil.rmtree(top, ignore_errors=True)


def imap_view(daemon, user, password):
    """{mailbox: [(flags without \\Recent, INTERNALDATE as unix time, subject)]} over IMAP."""
    m = imaplib.IMAP4("127.0.0.1", daemon.imap_port, timeout=H.IO_TIMEOUT)
    m.login(user, password)
    out = {}
    for line in m.list()[1]:
        name = line.decode().rsplit(' "/" ', 1)[1].strip('"')
        m.select('"%s"' % name, readonly=True)
        typ, data = m.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        rows = []
        for item in data:
            if not isinstance(item, tuple):
                continue
            meta = item[0].decode()
            flags = sorted(f for f in re.search(r"FLAGS \(([^)]*)\)", meta).group(1).split()
                           if f != "\\Recent")
            when = imaplib.Internaldate2tuple(item[0])
            subject = item[1].decode().strip().split(": ", 1)[1]
            rows.append((flags, int(time.mktime(when)), subject))
        out[name] = sorted(rows, key=lambda r: r[2])
    m.logout()
    return out


def test_import_dovecot_maildir_and_export_back(new_daemon, dovecot, tmp_path):
    d = new_daemon(imap={})
    home = dovecot.root / "home" / "bob"
    dovecot.adm("mailbox", "create", "-u", "bob", "Sent", "Work/Projects", "Café")
    for box, subject in (("INBOX", "inbox one"), ("INBOX", "inbox two"), ("Sent", "sent one"),
                         ("Work/Projects", "project one"), ("Café", "café one")):
        dovecot.adm("save", "-u", "bob", "-m", box, input=(MSG % (subject, subject)).encode())
    dovecot.adm("flags", "add", "-u", "bob", "\\Seen \\Flagged $Label1", "mailbox", "INBOX",
                "uid", "1")
    dovecot.adm("flags", "add", "-u", "bob", "\\Answered \\Draft", "mailbox", "Sent", "uid", "1")
    # Dovecot keeps a Maildir file's received date as its mtime: give each a distinct one.
    dates = {}
    for i, (root, _, files) in enumerate(sorted(os.walk(home / "Maildir"))):
        for f in files:
            if "," in f and os.path.basename(root) in ("cur", "new"):
                t = 1700000000 + 86400 * len(dates)
                os.utime(os.path.join(root, f), (t, t))
                dates[f] = t
    assert len(dates) == 5
    out = d.cli("import", "maildir", home / "Maildir", "bob").stdout.decode()
    assert out == "imported 5 messages from %s for bob@hamburger.edu (2 new mailboxes)\n" \
        % (home / "Maildir")   # Sent existed already; Work/Projects (with Work) and Café
    view = imap_view(d, "bob", "hungry")
    by_subject = {r[2]: (box, r[0], r[1]) for box, rows in view.items() for r in rows}
    assert by_subject["inbox one"][:2] == ("INBOX", ["$Label1", "\\Flagged", "\\Seen"])
    assert by_subject["inbox two"][:2] == ("INBOX", [])
    assert by_subject["sent one"][:2] == ("Sent", ["\\Answered", "\\Draft"])
    assert by_subject["project one"][:2] == ("Work/Projects", [])
    assert by_subject["café one"][0] == "Caf&AOk-"   # IMAP's modified UTF-7 for Café
    assert sorted(v[2] for v in by_subject.values()) == sorted(dates.values())

    # Export, and let Dovecot read Pigeon's Maildir: the same flags and dates.
    dest = dovecot.root / "export"
    out = d.cli("export", "maildir", "bob", dest).stdout.decode()
    assert out.startswith("exported 5 messages in ")
    subprocess.run(["chown", "-R", "nobody:nogroup", str(dest)], check=True)
    fetched = dovecot.adm("fetch", "-u", "bob", "mailbox flags date.received hdr.subject",
                          "all", location="maildir:%s" % dest)
    seen = {}
    for block in fetched.split("\f\n"):   # doveadm's pager format: a form feed per message
        f = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if not f:
            continue
        seen[f["hdr.subject"]] = (f["mailbox"], sorted(x for x in f.get("flags", "").split()
                                                        if x != "\\Recent"))
    assert seen["inbox one"] == ("INBOX", ["$Label1", "\\Flagged", "\\Seen"]), fetched
    assert seen["sent one"] == ("Sent", ["\\Answered", "\\Draft"])
    assert seen["project one"] == ("Work/Projects", [])
    assert seen["café one"] == ("Café", [])


def test_import_dovecot_mbox(new_daemon, dovecot):
    d = new_daemon(imap={})
    loc = "mbox:~/mail:INBOX=~/mail/inbox"
    dovecot.adm("save", "-u", "carol", "-m", "INBOX", input=(MSG % ("m one", "one")).encode(),
                location=loc)
    body = "From the first line (no separator: Dovecot counts the length)\n>From quoted"
    dovecot.adm("save", "-u", "carol", "-m", "INBOX", input=(MSG % ("m two", body)).encode(),
                location=loc)
    dovecot.adm("flags", "add", "-u", "carol", "\\Seen \\Answered $Work", "mailbox", "INBOX",
                "uid", "2", location=loc)
    mbox = dovecot.root / "home" / "carol" / "mail" / "inbox"
    text = mbox.read_text()
    assert "X-Status: A" in text and "Content-Length:" in text   # what Dovecot wrote
    from_dates = [int(time.mktime(time.strptime(m, "%a %b %d %H:%M:%S %Y")) - time.timezone)
                  for m in re.findall(r"^From \S+ +(\w{3} \w{3} +\d+ [\d:]{8} \d{4})$", text, re.M)]
    d.add_user("carol@hamburger.edu", "pw")
    out = d.cli("import", "mbox", mbox, "carol", "Old").stdout.decode()
    assert out == "imported 2 messages from %s for carol@hamburger.edu (1 new mailboxes)\n" % mbox
    view = imap_view(d, "carol", "pw")
    assert [(r[0], r[2]) for r in view["Old"]] == [([], "m one"),
                                                   (["$Work", "\\Answered", "\\Seen"], "m two")]
    assert [r[1] for r in view["Old"]] == from_dates
    # The body came through byte for byte (no header of mbox's own left in it).
    stored = [m for m in d.messages("carol@hamburger.edu", "Old")][1].data
    assert stored.endswith(b"\r\n\r\n" + body.replace("\n", "\r\n").encode() + b"\r\n")
    assert b"X-UID" not in stored and b"Content-Length" not in stored


def test_export_mbox_read_by_mutt_format(new_daemon, tmp_path):
    """export mbox quotes body "From " lines and writes mutt's flag headers."""
    d = new_daemon(imap={})
    with imaplib.IMAP4("127.0.0.1", d.imap_port, timeout=H.IO_TIMEOUT) as m:
        m.login("bob", "hungry")
        m.append("INBOX", "(\\Seen \\Flagged)", imaplib.Time2Internaldate(1700000000),
                 b"Subject: q\r\n\r\nFrom here\r\n>From there\r\n")
    out = tmp_path / "bob.mbox"
    d.cli("export", "mbox", "bob", out)
    text = out.read_text()
    assert text.startswith("From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n")
    assert "\nStatus: RO\nX-Status: F\n\n>From here\n>>From there\n\n" in text
    # And back in: the same message.
    d.add_user("dave@hamburger.edu", "pw")
    d.cli("import", "mbox", out, "dave")
    back = d.messages("dave@hamburger.edu")[0]
    assert back.data == b"Subject: q\r\n\r\nFrom here\r\n>From there\r\n"
