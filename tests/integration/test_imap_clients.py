"""Real IMAP clients from Debian against pigeond: mbsync (isync) syncs a mailbox with folders
to a local Maildir and back, and a second run changes nothing; curl reads a message over
imap:// and imaps://."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pigeon_harness as H
from imap_helpers import imap, make_msg, uids

PIGEON_CONF = {"imap": {}, "imaps": {}}


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, **kw)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.skipif(not shutil.which("mbsync"), reason="isync (mbsync) not installed")
def test_mbsync_round_trip(daemon, tmp_path):
    m = imap(daemon, "alice", "crepes")
    m.create("Work/Notes")
    for i in range(3):
        m.append("INBOX", r"(\Seen)" if i == 0 else None, None, make_msg("mbsync inbox %d" % i))
    m.append("Work/Notes", r"(\Flagged)", None, make_msg("mbsync note"))
    m.logout()
    maildir = tmp_path / "maildir"
    maildir.mkdir()
    conf = tmp_path / "mbsyncrc"
    conf.write_text("""IMAPAccount pigeon
Host 127.0.0.1
Port %d
User alice@hamburger.edu
Pass crepes
SSLType IMAPS
CertificateFile %s/tls/cert.pem

IMAPStore remote
Account pigeon

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""" % (daemon.imaps_port, daemon.data_dir, maildir, maildir))

    def sync():
        rc, out, err = run(["mbsync", "-c", str(conf), "-a"])
        assert rc == 0, (out, err, daemon.log_tail(4000))
        return out + err

    def local_state():
        files = {}
        for p in sorted(maildir.rglob("*")):
            if p.is_file() and p.parent.name in ("cur", "new"):
                files[str(p.relative_to(maildir)).split(",U=")[0]] = p.read_bytes()
        return files

    sync()
    state = local_state()
    inbox = [k for k in state if k.startswith("INBOX/")]
    notes = [k for k in state if k.startswith("Work/Notes/")]
    assert len(inbox) >= 3 and len(notes) == 1, sorted(state)
    assert any(b"Subject: mbsync note" in state[k] for k in notes)
    notes_dir = maildir / "Work" / "Notes"
    assert any(f.endswith(":2,F") for d in ("cur", "new") for f in os.listdir(notes_dir / d))
    # A second run changes nothing, here or there.
    m = imap(daemon, "alice", "crepes")
    m.select("INBOX")
    before = [(u, sorted(m.uid("FETCH", str(u), "(FLAGS)")[1][0].split(b"FLAGS")[1:]))
              for u in uids(m)]
    m.logout()
    sync()
    assert {k: v for k, v in local_state().items()} == state
    m = imap(daemon, "alice", "crepes")
    m.select("INBOX")
    after = [(u, sorted(m.uid("FETCH", str(u), "(FLAGS)")[1][0].split(b"FLAGS")[1:]))
             for u in uids(m)]
    assert after == before
    m.logout()
    # And back: a message written locally and a local flag reach the server.
    new = maildir / "Work" / "Notes" / "new" / "1700000000.1.local"
    new.write_bytes(make_msg("written locally"))
    cur = maildir / "INBOX" / "cur"
    first = sorted(cur.iterdir())[0]
    flags = first.name.split(":2,")[1] if ":2," in first.name else ""
    first.rename(cur / (first.name.split(":2,")[0] + ":2," + "".join(sorted(set(flags + "FS")))))
    sync()
    m = imap(daemon, "alice", "crepes")
    m.select("Work/Notes")
    typ, data = m.search(None, 'SUBJECT "written locally"')
    assert data[0], "locally written message not uploaded"
    m.select("INBOX")
    typ, data = m.search(None, "FLAGGED")
    assert data[0], "local flag not synced"
    m.logout()
    state = local_state()
    sync()
    assert local_state() == state


@pytest.mark.skipif(not shutil.which("curl"), reason="curl not installed")
def test_curl_reads_a_message(daemon):
    msg = make_msg("for curl", body="Hello from Pigeon\r\n")
    m = imap(daemon)
    m.create("Curl")
    typ, data = m.append("Curl", None, None, msg)
    uid = int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))
    m.logout()
    rc, out, err = run(["curl", "-s", "-S", "--user", "bob:hungry",
                        "imap://127.0.0.1:%d/Curl;UID=%d" % (daemon.imap_port, uid)])
    assert rc == 0, err
    assert out == msg
    rc, out, err = run(["curl", "-s", "-S", "-k", "--user", "bob:hungry",
                        "imaps://127.0.0.1:%d/Curl;UID=%d" % (daemon.imaps_port, uid)])
    assert rc == 0, err
    assert out == msg
    rc, out, err = run(["curl", "-s", "-S", "--user", "bob:hungry",
                        "imap://127.0.0.1:%d/" % daemon.imap_port])
    assert rc == 0 and b'"Curl"' in out, (out, err)
