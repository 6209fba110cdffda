"""Zone journals live in the data directory (DATA/journal/ZONE.jnl), so dynamic UPDATE works
when the zone files' directory is read-only for pigeond's user; a journal left beside a zone
file by an older pigeond is moved there at start. A zone file whose serial is newer than the
journal's last one (the administrator edited it) wins, at start and on `pigeon reload`: the
journal starts again from the file and a secondary gets the file's contents; a journal newer
than the file is replayed on top of it."""

import os
import pwd
import shutil
import tempfile
from pathlib import Path

import dns.rcode

import dns_auth_helpers as A
import pigeon_harness as H

ZONE = """$ORIGIN jz.test.
$TTL 60
@       SOA ns1 hostmaster %d 3600 2 1209600 60
@       NS  ns1
ns1     A   127.0.0.1
www     A   192.0.2.%d
"""


def answer(port, name):
    r = A.query(port, name, "A")
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].to_text()


def update(d, *lines):
    rc, out = A.nsupdate(d.dns_port, "jz.test", list(lines))
    assert rc == 0, out


def journal(d):
    return Path(d.data_dir) / "journal" / "jz.test.jnl"


def pair(tmp_path):
    prim, sec = A.pigeon_pair(tmp_path, "jz.test", ZONE % (1, 1))
    for d in (prim, sec):
        d.setup()
    return prim, sec


def test_file_newer_than_journal_wins_and_the_secondary_follows(tmp_path):
    prim, sec = pair(tmp_path)
    zfile = prim.zone_files["jz.test"]
    prim.start()
    sec.start()
    try:
        A.wait_for(lambda: A.serial(sec.dns_port, "jz.test") == 1, 20, "first AXFR")
        update(prim, "update add pushed.jz.test 60 A 192.0.2.50")
        A.wait_for(lambda: A.serial(sec.dns_port, "jz.test") == 2, 20, "IXFR of the UPDATE")
        assert journal(prim).stat().st_size > len("PIGEONJ1\n")
        assert not Path(str(zfile) + ".jnl").exists()  # nothing beside the zone file

        # The journal is newer than the file: a restart replays it.
        assert A.finish(prim) is None
        prim.start()
        assert A.serial(prim.dns_port, "jz.test") == 2
        assert answer(prim.dns_port, "pushed.jz.test") == "192.0.2.50"
        assert "1 journal entries replayed, serial 1 -> 2" in prim.log()

        # Start order: the administrator edits the file (serial 10) while pigeond is stopped.
        assert A.finish(prim) is None
        zfile.write_text(ZONE % (10, 10) + "edited  A   192.0.2.10\n")
        prim.start()
        prim.wait_log(r"zone jz\.test: the zone file's serial 10 is newer than the "
                         r"journal's 2: the file wins, the journal starts again from it")
        assert A.serial(prim.dns_port, "jz.test") == 10
        assert answer(prim.dns_port, "pushed.jz.test") is None
        assert answer(prim.dns_port, "edited.jz.test") == "192.0.2.10"
        assert journal(prim).read_bytes() == b"PIGEONJ1\n"
        # the secondary is told at start and transfers the file's contents (whole: no
        # history leads from serial 2 to the edited file)
        A.wait_for(lambda: A.serial(sec.dns_port, "jz.test") == 10, 20, "secondary at 10")
        assert answer(sec.dns_port, "edited.jz.test") == "192.0.2.10"
        assert "of jz.test. (serial 10, full)" in prim.log()
        assert answer(sec.dns_port, "pushed.jz.test") is None

        # Reload order: an UPDATE (10 -> 11), then the file edited to 20 while running.
        update(prim, "update add late.jz.test 60 A 192.0.2.11")
        A.wait_for(lambda: A.serial(sec.dns_port, "jz.test") == 11, 20, "secondary at 11")
        zfile.write_text(ZONE % (20, 20))
        start = sec.log_size()
        out = prim.cli("reload").stdout.decode()
        assert "zone jz.test: the zone file's serial 20 is newer than the journal's 11: the " \
               "journal starts again from the file" in out, out
        assert "zone jz.test: serial 20" in out
        assert answer(prim.dns_port, "late.jz.test") is None
        assert answer(prim.dns_port, "www.jz.test") == "192.0.2.20"
        # the running primary knows 11 -> 20: the secondary gets it as an IXFR
        A.wait_for(lambda: A.serial(sec.dns_port, "jz.test") == 20, 20, "secondary at 20")
        assert "IXFR from 127.0.0.1" in sec.log_tail(start=start)
        assert "IXFR of jz.test. (serial 20, incremental)" in prim.log()
        assert answer(sec.dns_port, "late.jz.test") is None
        assert answer(sec.dns_port, "www.jz.test") == "192.0.2.20"
        # and that difference is the journal's first entry: a restart keeps serial 20
        assert A.finish(prim) is None
        prim.start()
        assert A.serial(prim.dns_port, "jz.test") == 20
        assert answer(prim.dns_port, "late.jz.test") is None
    finally:
        r1, r2 = A.finish(prim), A.finish(sec)
    assert r1 is None and r2 is None


def test_old_journal_beside_the_zone_file_is_moved(tmp_path):
    d = A.auth_daemon(tmp_path / "d", {"jz.test": ZONE % (1, 1)},
                      zone_opts={"jz.test": {"allow_update": "key:" + A.KEY_NAME}})
    d.setup()
    d.start()
    try:
        update(d, "update add kept.jz.test 60 A 192.0.2.77")
        assert A.finish(d) is None
        # the layout an older pigeond left: FILE.jnl beside the zone file
        old = Path(str(d.zone_files["jz.test"]) + ".jnl")
        shutil.move(str(journal(d)), str(old))
        d.start()
        d.wait_log(r"zone jz\.test: journal moved from %s to %s" %
                   (str(old).replace(".", r"\."), str(journal(d)).replace(".", r"\.")))
        assert not old.exists() and journal(d).exists()
        assert answer(d.dns_port, "kept.jz.test") == "192.0.2.77"
        assert A.serial(d.dns_port, "jz.test") == 2
    finally:
        report = A.finish(d)
    assert report is None, report


def test_update_with_a_read_only_zone_directory(tmp_path):
    """Started as root with [server] user = nobody: the zone files' directory belongs to root
    (mode 0755), so only the data directory is writable for the daemon's user."""
    nobody = pwd.getpwnam("nobody")
    top = Path(tempfile.mkdtemp(prefix="pigeon-jnl-"))  # nobody must reach the data dir
    try:
        top.chmod(0o755)
        zones = top / "zones"
        zones.mkdir(mode=0o755)
        d = A.auth_daemon(top / "d", {}, name="ro")
        zfile = zones / "jz.test.zone"
        zfile.write_text(ZONE % (1, 1))
        d.zone_files["jz.test"] = zfile
        d.sections["zone jz.test"] = {"file": str(zfile),
                                      "allow_update": "key:" + A.KEY_NAME}
        d.sections["server"]["user"] = "nobody"
        d.write_conf()
        (top / "d").chmod(0o755)
        d.setup()
        d.start()
        assert "running as user nobody (uid %d)" % nobody.pw_uid in d.log()
        update(d, "update add dyn.jz.test 60 A 192.0.2.60")
        assert answer(d.dns_port, "dyn.jz.test") == "192.0.2.60"
        st = journal(d).stat()
        assert st.st_uid == nobody.pw_uid and st.st_size > len("PIGEONJ1\n")
        assert sorted(os.listdir(zones)) == ["jz.test.zone"]
        # the reload reads the file as nobody and finds the journal still continuing it
        out = d.cli("reload").stdout.decode()
        assert "zone jz.test: serial 2, unchanged" in out, out
        d.kill9()
        d.start()
        assert answer(d.dns_port, "dyn.jz.test") == "192.0.2.60"
        assert A.finish(d) is None
    finally:
        for dd in list(H.DAEMONS):
            if str(dd.root).startswith(str(top)):
                dd.kill9()
        shutil.rmtree(top, ignore_errors=True)
