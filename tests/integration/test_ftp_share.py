"""FTP trees shared (issue 19): anonymous uploads into a drop box ([ftp] anonymous_upload, as
vsftpd's anon_upload_enable with chown_uploads: new files only, none of them readable by the
anonymous side, a size limit), and a user's tree served read-only by an [http NAME] site whose
root is that tree, fetched with curl after an ftplib upload."""

import ftplib
import io
import os
import socket
import stat

import pytest

import pigeon_harness as H
from ftp_helpers import Control, add_ftp, home
from http_helpers import curl


def anon(d):
    f = ftplib.FTP()
    f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
    f.login()  # anonymous
    return f


def stor(f, name, data):
    return f.storbinary("STOR " + name, io.BytesIO(data))


def test_anonymous_upload_drop_box(new_daemon):
    d = new_daemon(start=False)
    add_ftp(d, anonymous_upload="incoming/", anonymous_upload_max="64K")
    d.start()
    box = d.anon_root / "incoming"
    d.wait_log(r"ftp: made the anonymous upload directory")
    assert box.is_dir()
    f = anon(d)
    try:
        # outside the drop box the tree stays read-only
        with pytest.raises(ftplib.error_perm, match="^550"):
            stor(f, "/rogue.bin", b"x")
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.mkd("/incoming/sub")
        f.cwd("incoming")
        data = os.urandom(40000)
        assert stor(f, "report.bin", data).startswith("226")
        assert (box / "report.bin").read_bytes() == data
        assert stat.S_IMODE((box / "report.bin").stat().st_mode) == 0o600
        # write-only: nothing in it can be read, listed or looked at
        for call in (lambda: f.retrbinary("RETR report.bin", lambda b: None),
                     lambda: f.nlst("/incoming"), lambda: f.size("report.bin"),
                     lambda: f.sendcmd("MDTM report.bin"),
                     lambda: f.sendcmd("MLST /incoming/report.bin"),
                     lambda: f.sendcmd("STAT /incoming"),
                     lambda: f.retrlines("LIST", lambda ln: None)):
            with pytest.raises(ftplib.error_perm, match="^550"):
                call()
        # no overwrite, no append, no resume, no delete, no rename
        with pytest.raises(ftplib.error_perm, match="^55[03]"):
            stor(f, "report.bin", b"evil")
        assert (box / "report.bin").read_bytes() == data
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.storbinary("APPE report.bin", io.BytesIO(b"more"))
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.storbinary("STOR other.bin", io.BytesIO(b"tail"), rest=10)
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.delete("report.bin")
        with pytest.raises(ftplib.error_perm, match="^550"):
            f.rename("report.bin", "x.bin")
        # STOU names a new file
        r = f.storbinary("STOU", io.BytesIO(b"unique"))
        assert r.startswith("226"), r
        made = [p.name for p in box.iterdir() if p.name != "report.bin"]
        assert len(made) == 1 and (box / made[0]).read_bytes() == b"unique", made
        f.quit()
    finally:
        f.close()
    # over anonymous_upload_max: 452 and nothing left behind (the server stops reading, so
    # the client's send may fail: the reply is what counts)
    with Control(d.ftp_port) as c:
        c.expect("USER anonymous", 331)
        c.expect("PASS guest@example.org", 230)
        c.expect("TYPE I", 200)
        host, port = c.pasv()
        with socket.create_connection((host, port), timeout=H.IO_TIMEOUT) as ds:
            c.expect("STOR /incoming/huge.bin", 150)
            try:
                ds.sendall(os.urandom(200 * 1024))
            except OSError:
                pass
        assert c.reply().code == 452
    assert not (box / "huge.bin").exists()
    d.wait_log(r"xfer 127\.0\.0\.1 anonymous STOR \d+ octets .* /incoming/huge\.bin too-large")


def test_anonymous_upload_off_by_default(new_daemon):
    d = new_daemon(start=False)
    add_ftp(d)
    (d.anon_root / "incoming").mkdir()
    d.start()
    with Control(d.ftp_port) as c:
        c.expect("USER anonymous", 331)
        c.expect("PASS guest@example.org", 230)
        c.expect("CWD incoming", 250)
        c.expect("TYPE I", 200)
        c.pasv()
        assert c.cmd("STOR x.bin").code == 550
    assert not (d.anon_root / "incoming" / "x.bin").exists()


def test_user_tree_on_http(new_daemon):
    """A site whose root is bob's FTP tree: what bob stores by FTP is served by HTTP at once,
    byte for byte; the site is read-only (PUT and DELETE 405)."""
    d = new_daemon(start=False)
    add_ftp(d, ftps=False, anonymous=False)
    h = home(d)
    port = H.free_port()
    d.sections["http"] = {"header_timeout": 5}
    d.sections["http share"] = {"name": "share.test localhost",
                                "listen": "127.0.0.1:%d" % port, "root": str(h)}
    d.ports.append(port)
    d.write_conf()
    d.start()
    data = os.urandom(300000)
    with ftplib.FTP() as f:
        f.connect("127.0.0.1", d.ftp_port, timeout=H.IO_TIMEOUT)
        f.login("bob", "hungry")
        f.mkd("photos")
        assert stor(f, "photos/trip.bin", data).startswith("226")
    rc, body, err = curl("http://127.0.0.1:%d/photos/trip.bin" % port)
    assert rc == 0 and body == data, (rc, err, len(body))
    rc, body, err = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data", "x",
                         "http://127.0.0.1:%d/photos/trip.bin" % port)
    assert body == b"405", (rc, body, err)
    rc, body, err = curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE",
                         "http://127.0.0.1:%d/photos/trip.bin" % port)
    assert body == b"405", (rc, body, err)
    assert (h / "photos" / "trip.bin").read_bytes() == data
