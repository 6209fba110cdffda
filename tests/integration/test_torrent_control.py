"""Controlling Pigeon's BitTorrent peer (issue 21): pause stops a torrent's transfers and
tells the tracker (event=stopped: the scrape no longer counts it), resume re-checks the files
and seeds again, remove forgets the torrent (also across a restart) but keeps its files; the
seeding limits stop a torrent once its upload ratio is reached and once its seeding time is
over; `--dir D` names the download directory."""

import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (ScriptedPeer, aria2c, info_hash, make_file, mktorrent,
                             peer_daemon, raw_hash, sha256_file, status, wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")


def seeders(hd, raw):
    """The tracker's count of seeds for the torrent (BEP 48 scrape)."""
    import libtorrent as lt
    url = hd.url("/scrape?info_hash=" + urllib.parse.quote_from_bytes(raw))
    with urllib.request.urlopen(url, timeout=30) as r:
        files = lt.bdecode(r.read())[b"files"]
    return files[raw][b"complete"] if raw in files else 0


def refused(hd, raw):
    """Whether Pigeon's peer port closes a handshake for this torrent."""
    p = ScriptedPeer.dial(hd.peer_port, raw, peer_id=b"-PY0001-controlpeer0")
    try:
        p.read_handshake()
        return False
    except OSError:
        return True
    finally:
        p.close()


def seeding_torrent(hd, tmp_path, name, size):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    digest = make_file(src / name, size, seed=name.encode())
    t = mktorrent(src / name, tmp_path / (name + ".torrent"), announce=[hd.announce])
    hd.d.cli("torrent", "add", str(t), "--dir", str(src))
    ih = info_hash(t)
    wait_state(hd, ih, "seeding", "pigeon seeds %s" % name)
    return t, ih, raw_hash(t), src / name, digest


def test_pause_resume_remove(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-control]")
    try:
        t, ih, raw, path, digest = seeding_torrent(hd, tmp_path, "ctl.bin", 3 << 20)
        H.wait_until(lambda: seeders(hd, raw) == 1, what="the tracker counts pigeon's seed")
        assert not refused(hd, raw)
        hd.d.cli("torrent", "pause", ih[:10])  # a prefix of the hash will do
        wait_state(hd, ih, "paused", "the torrent paused")
        H.wait_until(lambda: seeders(hd, raw) == 0, what="pigeon told the tracker it stopped")
        assert refused(hd, raw)
        hd.d.cli("torrent", "resume", ih)
        wait_state(hd, ih, "seeding", "the torrent re-checked and seeding again")
        H.wait_until(lambda: seeders(hd, raw) == 1, what="pigeon announced itself again")
        assert not refused(hd, raw)
        hd.d.cli("torrent", "remove", ih)
        H.wait_until(lambda: ih not in status(hd), what="the torrent removed")
        H.wait_until(lambda: seeders(hd, raw) == 0, what="the tracker told of the removal")
        assert refused(hd, raw)
        assert sha256_file(path) == digest  # its files stay
        assert not (Path(hd.d.data_dir) / "torrent" / (ih + ".torrent")).exists()
        hd.d.stop()
        hd.d.proc = None
        hd.d.start()
        assert ih not in status(hd)
        assert refused(hd, raw)
    finally:
        finish(hd.d)


def test_seed_ratio_limit(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-ratio]", seed_ratio=100)
    try:
        t, ih, raw, path, digest = seeding_torrent(hd, tmp_path, "ratio.bin", 4 << 20)
        out = tmp_path / "aria2"
        out.mkdir()
        p = aria2c(t, out)
        assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
        assert sha256_file(out / "ratio.bin") == digest
        # the whole size uploaded once: ratio 1.0 (seed_ratio = 100 percent)
        wait_state(hd, ih, "done", "seeding stopped at ratio 1")
        hd.d.wait_log(r"torrent %s: seeding limit reached: stopped" % ih[:8])
        H.wait_until(lambda: seeders(hd, raw) == 0, what="the tracker told it stopped")
        assert refused(hd, raw)
    finally:
        finish(hd.d)


def test_seed_time_limit(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-time]", seed_time=3)
    try:
        src = tmp_path / "src"
        src.mkdir()
        make_file(src / "time.bin", 1 << 20, seed=b"time")
        t = mktorrent(src / "time.bin", tmp_path / "time.torrent", announce=[hd.announce])
        ih = info_hash(t)
        start = hd.d.log_size()
        hd.d.cli("torrent", "add", str(t), "--dir=%s" % src)
        m = hd.d.wait_log(r"torrent %s time\.bin: 4 of 4 pieces on disk" % ih[:8], start=start)
        wait_state(hd, ih, "done", "seeding stopped after seed_time")
        hd.d.wait_log(r"torrent %s: seeding limit reached: stopped" % ih[:8], start=m.end())
        assert refused(hd, raw_hash(t))
    finally:
        finish(hd.d)


def test_add_usage_errors(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-usage]")
    try:
        p = hd.d.cli("torrent", "add", "--dir", check=False)
        assert p.returncode != 0
        p = hd.d.cli("torrent", "add", str(tmp_path / "missing.torrent"), "--dir", str(tmp_path),
                     check=False)
        assert p.returncode != 0 and b"cannot read it" in p.stderr
        src = tmp_path / "src"
        src.mkdir()
        make_file(src / "u.bin", 100000)
        t = mktorrent(src / "u.bin", tmp_path / "u.torrent", announce=[hd.announce])
        p = hd.d.cli("torrent", "add", str(t), "--dir=%s" % src, "--dir=%s" % src, check=False)
        assert p.returncode != 0 and b"give one download directory" in p.stderr
        p = hd.d.cli("torrent", "add", str(t), "--dir", str(tmp_path / "nope"), check=False)
        assert p.returncode != 0
    finally:
        finish(hd.d)
