"""Magnet links (BEP 9 metadata exchange over the BEP 10 extension protocol, issue 21), with
stock peers meeting through Pigeon's tracker on loopback: Pigeon is given only a magnet link,
fetches the info dictionary from a libtorrent seed, checks it against the info-hash and
downloads (sha256 equal); aria2c and libtorrent, given only a magnet link, fetch the info
dictionary from Pigeon and download; a magnet link survives a restart while its metadata is
still missing; a bad link is refused."""

import os
import urllib.parse
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, aria2c, info_hash, make_file, mktorrent, peer_daemon,
                             sha256_file, status, wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

SIZE = int(os.environ.get("PIGEON_TORRENT_MAGNET_SIZE", 32 * 1024 * 1024))


@pytest.fixture(scope="module")
def pigeon(tmp_path_factory):
    hd = peer_daemon(tmp_path_factory.mktemp("magnet"), "pigeond[magnet]")
    yield hd
    finish(hd.d)


def magnet(ih, name, tracker):
    return "magnet:?xt=urn:btih:%s&dn=%s&tr=%s" % (ih, urllib.parse.quote(name),
                                                   urllib.parse.quote(tracker, safe=""))


def state_dir(hd):
    return Path(hd.d.data_dir) / "torrent"


def test_pigeon_fetches_metadata_from_libtorrent(pigeon, tmp_path):
    src = tmp_path / "lt"
    src.mkdir()
    digest = make_file(src / "magnet.bin", SIZE, seed=b"magnet")
    # 32 KiB pieces: 1024 hashes, an info dictionary of two 16 KiB metadata pieces
    t = mktorrent(src / "magnet.bin", tmp_path / "magnet.torrent", announce=[pigeon.announce],
                  piece_log=15)
    ih = info_hash(t)
    seed = LtPeer(t, src, seed=True)
    try:
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "dest"
        dest.mkdir()
        start = pigeon.d.log_size()
        out = pigeon.d.cli("torrent", "add", magnet(ih, "magnet.bin", pigeon.announce),
                           "--dir", str(dest)).stdout.decode()
        assert out.startswith(ih), out
        pigeon.d.wait_log(r"torrent %s: metadata: metadata complete: \d+ bytes, SHA-1 matches"
                          % ih[:8], start=start)
        wait_state(pigeon, ih, "seeding", "pigeon downloaded what the magnet link names")
    finally:
        seed.stop()
    assert sha256_file(dest / "magnet.bin") == digest
    # the info dictionary came in more than one 16 KiB piece, and was kept as a .torrent
    # that is the same torrent (a restart needs no peer for it)
    import libtorrent as lt
    kept = lt.torrent_info(str(state_dir(pigeon) / (ih + ".torrent")))
    assert str(kept.info_hash()) == ih
    assert kept.metadata_size() > 16384
    assert [tr.url for tr in kept.trackers()] == [pigeon.announce]
    assert not (state_dir(pigeon) / (ih + ".magnet")).exists()


@pytest.mark.parametrize("client", ["aria2", "libtorrent"])
def test_magnet_client_fetches_metadata_from_pigeon(pigeon, tmp_path, client):
    src = pigeon.downloads
    name = "served-%s.bin" % client
    digest = make_file(src / name, SIZE // 2, seed=name.encode())
    t = mktorrent(src / name, tmp_path / "served.torrent", announce=[pigeon.announce],
                  piece_log=16)
    ih = info_hash(t)
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(src))
    wait_state(pigeon, ih, "seeding", "pigeon seeds %s" % name)
    start = pigeon.d.log_size()
    uri = magnet(ih, name, pigeon.announce)
    out = tmp_path / "out"
    out.mkdir()
    if client == "aria2":
        p = aria2c(uri, out, timeout=300)
        assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
    else:
        lt_peer = LtPeer(uri, out)
        try:
            lt_peer.wait("finished", "libtorrent downloaded from the magnet link")
        finally:
            lt_peer.stop()
    assert sha256_file(out / name) == digest
    # the only peer with the info dictionary was Pigeon
    pigeon.d.wait_log(r"torrent %s: peer \d+: sent metadata piece 0 of \d+" % ih[:8],
                      start=start)


def test_magnet_kept_across_restart_and_removed(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[magnet-restart]")
    try:
        ih = "%040x" % 0x1234567890abcdef1234567890abcdef12345678
        hd.d.cli("torrent", "add", magnet(ih, "nobody has it", hd.announce))
        wait_state(hd, ih, "metadata", "the magnet link waits for its metadata")
        assert (state_dir(hd) / (ih + ".magnet")).exists()
        hd.d.stop()
        hd.d.proc = None
        hd.d.start()
        wait_state(hd, ih, "metadata", "the magnet link came back after the restart")
        hd.d.cli("torrent", "pause", ih)
        wait_state(hd, ih, "paused", "the magnet link paused")
        hd.d.cli("torrent", "remove", ih)
        H.wait_until(lambda: ih not in status(hd), what="the magnet link removed")
        assert not (state_dir(hd) / (ih + ".magnet")).exists()
    finally:
        finish(hd.d)


def test_bad_magnet_refused(pigeon):
    p = pigeon.d.cli("torrent", "add", "magnet:?xt=urn:btih:12345&dn=x", check=False)
    assert p.returncode != 0
    assert b"not a usable magnet link: bad btih hash" in p.stderr
    p = pigeon.d.cli("torrent", "add", "magnet:?dn=x", check=False)
    assert p.returncode != 0 and b"no urn:btih: hash" in p.stderr
    # written straight into the inbox, past the CLI's check: refused by the daemon, which
    # stays up
    start = pigeon.d.log_size()
    inbox = state_dir(pigeon) / "inbox"
    (inbox / ("ab" * 20 + ".magnet")).write_text("magnet:?xt=urn:btih:zzzz\n")
    pigeon.d.wait_log(r"\.magnet: not added: bad btih hash", start=start)
    assert pigeon.d.running
