"""Pigeon's BitTorrent peer (issue 21) with stock peers, all meeting through Pigeon's own
tracker on loopback: Pigeon seeds to aria2c and downloads from libtorrent (sha256 equal), a
swarm of one seed, Pigeon and three leechers completes, resume after kill -9."""

import os
import time
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, aria2c, make_file, mktorrent, sha256_file,
                             tracker_daemon)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

SIZE = int(os.environ.get("PIGEON_TORRENT_SIZE", 100 * 1024 * 1024))


def peer_daemon(root, name, **kw):
    port = H.free_port()
    torrent = {"listen": "127.0.0.1:%d" % port, "dir": str(Path(root) / "downloads"),
               "watch_dir": str(Path(root) / "watch")}
    torrent.update(kw)
    hd = tracker_daemon(root, name, torrent=torrent)
    hd.peer_port = port
    hd.downloads = Path(torrent["dir"])
    hd.watch = Path(torrent["watch_dir"])
    return hd


def status(hd):
    p = hd.d.cli("torrent", "list", check=False)
    return p.stdout.decode()


def wait_state(hd, hexhash, state, what):
    H.wait_until(lambda: any(line.startswith(hexhash) and (" %s " % state) in line
                             for line in status(hd).splitlines()),
                 what=what, on_timeout=lambda: status(hd) + hd.d.log_tail(3000))


def info_hash(torrent):
    import libtorrent as lt
    return str(lt.torrent_info(str(torrent)).info_hash())


@pytest.fixture(scope="module")
def pigeon(tmp_path_factory):
    hd = peer_daemon(tmp_path_factory.mktemp("peer"), "pigeond[torrent]")
    yield hd
    finish(hd.d)


def test_pigeon_seeds_to_aria2(pigeon, tmp_path):
    src = pigeon.downloads
    digest = make_file(src / "seeded.bin", SIZE, seed=b"seeded")
    t = mktorrent(src / "seeded.bin", tmp_path / "seeded.torrent", announce=[pigeon.announce])
    ih = info_hash(t)
    pigeon.d.cli("torrent", "add", str(t), str(src))
    wait_state(pigeon, ih, "seeding", "pigeon found the whole file on disk and seeds it")
    out = tmp_path / "aria2"
    out.mkdir()
    p = aria2c(t, out, timeout=600)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
    assert sha256_file(out / "seeded.bin") == digest


def test_pigeon_downloads_from_libtorrent(pigeon, tmp_path):
    src = tmp_path / "lt"
    src.mkdir()
    digest = make_file(src / "fetched.bin", SIZE, seed=b"fetched")
    t = mktorrent(src / "fetched.bin", tmp_path / "fetched.torrent", announce=[pigeon.announce])
    seed = LtPeer(t, src, seed=True)
    try:
        seed.wait("finished", "libtorrent checked its copy")
        pigeon.watch.mkdir(exist_ok=True)
        os.replace(t, pigeon.watch / "fetched.torrent")  # through the watch directory
        ih = info_hash(pigeon.watch / "fetched.torrent.added"
                       if (pigeon.watch / "fetched.torrent.added").exists()
                       else pigeon.watch / "fetched.torrent")
        wait_state(pigeon, ih, "seeding", "pigeon downloaded the file from libtorrent")
    finally:
        seed.stop()
    assert sha256_file(pigeon.downloads / "fetched.bin") == digest
