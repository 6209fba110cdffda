"""FTP names side by side with vsftpd (session 12, /work/notes12/diff.md F1-F3, F5): a FIFO in
a user's tree never blocks the worker; LIST/NLST expand *, ? and [...] in their last component
(tnftp's mget sends the pattern in NLST); NLST of a directory names its entries with the
directory as the client wrote it; SITE answers 502, not a 202 that clients read as success."""

import ftplib
import io
import os
import subprocess

import pytest

import pigeon_harness as H
from conftest import _finish, _require_binaries
from ftp_helpers import add_ftp, home


@pytest.fixture(scope="module")
def ftpd(tmp_path_factory):
    _require_binaries()
    d = H.Daemon(tmp_path_factory.mktemp("test_ftp_names"), name="pigeond[test_ftp_names]")
    d.sections["server"]["workers"] = 1  # a blocked worker would block every session
    add_ftp(d)
    try:
        d.setup()
        d.start()
        yield d
    finally:
        rc = _finish(d)
    assert rc in (None, 0), "pigeond exited with %s on SIGTERM" % rc


def client(d):
    f = ftplib.FTP()
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login("bob", "hungry")
    return f


def test_fifo_never_blocks_the_worker(ftpd):
    """RETR, STOR, APPE of a FIFO: 550 at once (vsftpd: 550 too), where the worker used to
    sit in open() waiting for the FIFO's other end, and every session of it with it; LIST
    names it; a new session still gets its greeting and logs in."""
    h = home(ftpd)
    os.mkfifo(h / "fifo")
    f = client(ftpd)
    try:
        for cmd in ("RETR fifo", "STOR fifo", "APPE fifo"):
            with pytest.raises(ftplib.error_perm, match="^550"):
                if cmd.startswith("RETR"):
                    f.retrbinary(cmd, lambda b: None)
                else:
                    f.storbinary(cmd, io.BytesIO(b"into a fifo\n"))
        assert any(line.endswith(" fifo") for line in _lines(f, "LIST fifo"))
        g = client(ftpd)  # the worker still takes sessions
        assert g.voidcmd("NOOP").startswith("200")
        g.quit()
        f.storbinary("STOR after.txt", io.BytesIO(b"still works\n"))
    finally:
        f.quit()
        os.unlink(h / "fifo")
    assert (h / "after.txt").read_bytes() == b"still works\n"


def _lines(f, cmd):
    out = []
    f.retrlines(cmd, out.append)
    return out


def test_wildcards_and_directory_names(ftpd, tmp_path):
    h = home(ftpd)
    sub = h / "glob"
    (sub / "deeper").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "c.dat", ".hidden.txt"):
        (sub / name).write_bytes(name.encode() + b"\n")
    (sub / "deeper" / "x.txt").write_bytes(b"x\n")
    f = client(ftpd)
    try:
        # NLST of a directory: its entries named as the client wrote the directory
        assert sorted(f.nlst("glob")) == ["glob/.hidden.txt", "glob/a.txt", "glob/b.txt",
                                          "glob/c.dat", "glob/deeper"]
        assert sorted(f.nlst("glob/")) == sorted(f.nlst("glob"))
        f.cwd("glob")
        assert sorted(f.nlst()) == [".hidden.txt", "a.txt", "b.txt", "c.dat", "deeper"]
        # patterns in the last component: fnmatch, a leading dot only by a dot, no recursion
        assert sorted(f.nlst("*.txt")) == ["a.txt", "b.txt"]
        assert sorted(f.nlst("[ab].t?t")) == ["a.txt", "b.txt"]
        assert sorted(f.nlst(".*.txt")) == [".hidden.txt"]
        assert f.nlst("*.none") == []
        f.cwd("/")
        assert sorted(f.nlst("glob/*.txt")) == ["glob/a.txt", "glob/b.txt"]
        assert sorted(f.nlst("/glob/*.dat")) == ["/glob/c.dat"]
        long = _lines(f, "LIST glob/*.txt")
        assert len(long) == 2 and long[0].startswith("-rw") and long[0].endswith(".txt")
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.nlst("nodir/*.txt")
        with pytest.raises(ftplib.error_perm, match="^550"):  # MLSD lists directories only
            f.retrlines("MLSD glob/*.txt", lambda line: None)
    finally:
        f.quit()
    # tnftp's mget: NLST with the pattern, then RETR of each name it answers
    script = ("open 127.0.0.1 %d\nuser bob hungry\nbinary\nprompt\nlcd %s\ncd glob\n"
              "mget *.txt\nquit\n" % (ftpd.ftp_port, tmp_path))
    p = subprocess.run(["tnftp", "-n", "-v"], input=script.encode(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    got = sorted(n for n in os.listdir(tmp_path))
    assert got == ["a.txt", "b.txt"], (got, p.stdout.decode())
    assert (tmp_path / "a.txt").read_bytes() == b"a.txt\n"


def test_site_is_refused(ftpd):
    """SITE CHMOD used to answer 202 and change nothing: lftp, FileZilla and curl -Q took
    it for success. 502 now, the mode untouched."""
    h = home(ftpd)
    (h / "mode.txt").write_bytes(b"m\n")
    os.chmod(h / "mode.txt", 0o644)
    f = client(ftpd)
    try:
        with pytest.raises(ftplib.error_perm, match="^502"):
            f.sendcmd("SITE CHMOD 600 mode.txt")
        assert f.voidcmd("NOOP").startswith("200")
    finally:
        f.quit()
    assert os.stat(h / "mode.txt").st_mode & 0o777 == 0o644
