"""`pigeon backup DIR` while pigeond takes mail over SMTP, then `pigeon restore DIR` into a new
data directory: the restored store serves every message acknowledged before the backup began,
and works (new deliveries, IMAP); the zones' journals and DNSSEC keys come along, and so does
every other state file of the data directory (DKIM keys, the SRS secret, the DHCP leases...),
with its mode."""

import imaplib
import re
import smtplib
import sqlite3
import threading
from pathlib import Path

import dns_auth_helpers as A
import pigeon_harness as H

BOB = "bob@hamburger.edu"
RCVD_ID = re.compile(rb"\(Pigeon\) with E?SMTPS?A? id ([0-9a-f]{32})")


class Load(threading.Thread):
    """Sends messages to bob one after another until stopped; keeps the acknowledged IDs."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.acked, self.stop, self.error = port, [], threading.Event(), None
        self.first = threading.Event()

    def run(self):
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=H.IO_TIMEOUT) as s:
                s.ehlo()
                i = 0
                while not self.stop.is_set():
                    i += 1
                    assert s.mail("carol@example.org")[0] == 250
                    assert s.rcpt(BOB)[0] == 250
                    code, text = s.data(b"Subject: load %d\r\n\r\nmessage %d\r\n" % (i, i))
                    assert code == 250, text
                    self.acked.append(text.split()[-1].decode())
                    if len(self.acked) >= 20:  # the backup starts with mail flowing
                        self.first.set()
        except BaseException as e:  # reported by the test
            self.error = e
            self.first.set()


def stored_ids(d):
    ids = set()
    for m in d.messages(BOB):
        found = RCVD_ID.search(m.data)
        assert found, m.data[:300]
        ids.add(found.group(1).decode())
    return ids


def test_backup_under_load_restores_every_acknowledged_message(new_daemon, tmp_path):
    d = new_daemon(imap={}, server={"workers": 2})
    load = Load(d.smtp_port)
    load.start()
    assert load.first.wait(60) and load.error is None, load.error
    before = list(load.acked)                        # acknowledged before the backup began
    backup = tmp_path / "backup"
    out = d.cli("backup", backup).stdout.decode()
    load.stop.set()
    load.join(60)
    assert load.error is None, load.error
    m = re.fullmatch(r"backup in %s: (\d+) messages, (\d+) queued, (\d+) files \(\d+ bytes\)\n"
                     % re.escape(str(backup)), out)
    assert m, out
    assert int(m.group(1)) >= len(before) and int(m.group(3)) == int(m.group(1))
    assert (backup / "pigeon.db").is_file() and not (backup / "pigeon.db-wal").exists()
    assert (backup / "tls" / "key.pem").is_file()

    # A second pigeond restored from it (data_dir empty: restore refuses anything else).
    d2 = H.Daemon(tmp_path / "restored", name="pigeond[restored]", imap={})
    p = d2.cli("restore", backup)
    assert p.stdout.decode().startswith("restored into %s: %s messages" % (d2.data_dir,
                                                                          m.group(1)))
    p = d2.cli("restore", backup, check=False)
    assert p.returncode == 1 and b"is not empty" in p.stderr
    d2.start()
    try:
        ids = stored_ids(d2)
        assert set(before) <= ids, sorted(set(before) - ids)
        assert ids <= set(load.acked)                 # nothing invented
        # The restored store works: a new delivery, and IMAP sees it all.
        with smtplib.SMTP("127.0.0.1", d2.smtp_port, timeout=H.IO_TIMEOUT) as s:
            s.sendmail("carol@example.org", [BOB], b"Subject: after restore\r\n\r\nnew\r\n")
        im = imaplib.IMAP4("127.0.0.1", d2.imap_port, timeout=H.IO_TIMEOUT)
        im.login("bob", "hungry")
        typ, data = im.select("INBOX")
        assert typ == "OK" and int(data[0]) == len(ids) + 1
        im.logout()
    finally:
        assert d2.stop() == 0


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    d = H.Daemon(tmp_path / "d")
    (tmp_path / "empty").mkdir()
    p = d.cli("restore", tmp_path / "empty", check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == "pigeon: restore failed: %s: not a Pigeon backup (no readable " \
                                "pigeon.db)\n" % (tmp_path / "empty")


def test_backup_refuses_a_non_empty_directory(new_daemon, tmp_path):
    d = new_daemon()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    p = d.cli("backup", tmp_path / "full", check=False)
    assert p.returncode == 1
    assert p.stderr.decode() == "pigeon: backup failed: %s is not empty\n" % (tmp_path / "full")


ZONE = """$ORIGIN bk.test.
$TTL 60
@   SOA ns1 hostmaster 1 3600 900 1209600 60
@   NS  ns1
ns1 A   127.0.0.1
"""


def test_backup_keeps_zone_journals_and_dnssec_keys(tmp_path):
    """The DNS state in the data directory travels too: an UPDATE's journal and the signing
    keys (restored 0600), so the restored server serves the update signed by the same key."""
    zopts = {"bk.test": {"allow_update": "key:" + A.KEY_NAME, "dnssec": "on"}}
    d = A.auth_daemon(tmp_path / "orig", {"bk.test": ZONE}, zone_opts=zopts)
    d.setup()
    d.start()
    try:
        rc, out = A.nsupdate(d.dns_port, "bk.test", ["update add dyn.bk.test 60 A 192.0.2.8"])
        assert rc == 0, out
        keys = A.query(d.dns_port, "bk.test", "DNSKEY").answer[0].to_text()
        backup = tmp_path / "backup"
        d.cli("backup", backup)
    finally:
        assert A.finish(d) is None
    assert (backup / "journal" / "bk.test.jnl").stat().st_size > len("PIGEONJ1\n")
    pems = list((backup / "dnssec").glob("*.pem"))
    assert pems and all(p.stat().st_mode & 0o777 == 0o600 for p in pems)
    # a second server with the same zone file, restored from the backup
    d2 = A.auth_daemon(tmp_path / "restored", {"bk.test": ZONE}, zone_opts=zopts)
    d2.cli("restore", backup)
    assert all((Path(d2.data_dir) / "dnssec" / p.name).stat().st_mode & 0o777 == 0o600
               for p in pems)
    d2.start()
    try:
        assert A.query(d2.dns_port, "dyn.bk.test", "A").answer[0][0].to_text() == "192.0.2.8"
        assert A.query(d2.dns_port, "bk.test", "DNSKEY").answer[0].to_text() == keys
    finally:
        assert A.finish(d2) is None


def test_backup_keeps_every_state_file_with_its_mode(new_daemon, tmp_path):
    """Everything else pigeond keeps in its data directory travels too, nested directories and
    modes included: DKIM keys (dkim/DOMAIN/SELECTOR.pem, 0600), the SRS secret, global Sieve
    scripts, JMAP identities, and the DHCP leases, an SQLite database in WAL mode written
    while the backup runs (copied as one snapshot, without its -wal). Not copied: the pid
    file, the control socket, tmp/, a file being written, the Web cache."""
    d = new_daemon()
    data = Path(d.data_dir)
    (data / "dkim" / "hamburger.edu").mkdir(parents=True, exist_ok=True)  # or made by pigeond's key thread
    (data / "dkim").chmod(0o700)
    key = data / "dkim" / "hamburger.edu" / "pigeon.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n")
    key.chmod(0o600)
    (data / "srs.key").write_bytes(bytes(range(32)))
    (data / "srs.key").chmod(0o600)
    (data / "sieve-global").mkdir()
    (data / "sieve-global" / "spam.sieve").write_text('require "fileinto";\n')
    (data / "jmap-identities-u1.json").write_text('[{"id": "i1"}]\n')
    (data / "jmap-identities-u1.json.tmp").write_text("half")
    (data / "proxy-cache").mkdir()
    (data / "proxy-cache" / "object").write_text("cached")
    (data / "dhcp").mkdir()
    leases = sqlite3.connect(str(data / "dhcp" / "leases.db"))
    leases.execute("PRAGMA journal_mode=WAL")
    leases.execute("CREATE TABLE leases (mac TEXT, ip TEXT)")
    leases.execute("INSERT INTO leases VALUES ('52:54:00:00:00:01', '192.0.2.10')")
    leases.commit()
    try:
        assert (data / "dhcp" / "leases.db-wal").exists()  # rows still in the WAL
        backup = tmp_path / "backup"
        d.cli("backup", backup)
    finally:
        leases.close()
    assert (backup / "dkim").stat().st_mode & 0o777 == 0o700
    assert (backup / "dkim" / "hamburger.edu" / "pigeon.pem").read_text() == key.read_text()
    assert (backup / "dkim" / "hamburger.edu" / "pigeon.pem").stat().st_mode & 0o777 == 0o600
    assert (backup / "srs.key").read_bytes() == bytes(range(32))
    assert (backup / "srs.key").stat().st_mode & 0o777 == 0o600
    assert (backup / "sieve-global" / "spam.sieve").exists()
    assert (backup / "jmap-identities-u1.json").exists()
    for gone in ("jmap-identities-u1.json.tmp", "proxy-cache", "pigeond.pid", "pigeond.ctl",
                 "tmp", "dhcp/leases.db-wal", "dhcp/leases.db-shm"):
        assert not (backup / gone).exists(), gone
    copy = sqlite3.connect(str(backup / "dhcp" / "leases.db"))
    assert copy.execute("SELECT mac, ip FROM leases").fetchall() == [
        ("52:54:00:00:00:01", "192.0.2.10")]
    copy.close()
    # restored into a new data directory, modes kept
    d2 = H.Daemon(tmp_path / "restored")
    d2.cli("restore", backup)
    data2 = Path(d2.data_dir)
    assert (data2 / "dkim" / "hamburger.edu" / "pigeon.pem").stat().st_mode & 0o777 == 0o600
    assert (data2 / "srs.key").read_bytes() == bytes(range(32))
    assert (data2 / "sieve-global" / "spam.sieve").read_text() == 'require "fileinto";\n'
    restored = sqlite3.connect(str(data2 / "dhcp" / "leases.db"))
    assert restored.execute("SELECT count(*) FROM leases").fetchone() == (1,)
    restored.close()
