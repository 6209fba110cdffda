"""The DHT (BEP 5, issue 21), with libtorrent as the other nodes, on loopback addresses of the
test's namespace (127.0.0.1 Pigeon, the others on 127.0.0.2-4) and no tracker at all:
libtorrent, given only a magnet link, finds Pigeon's seed through a libtorrent DHT node that
Pigeon announced to; Pigeon, given only a magnet link, finds a libtorrent seed that announced
to Pigeon's own DHT node; a private torrent (BEP 27) is never looked up or announced."""

import os
import urllib.parse

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, info_hash, make_file, mktorrent, peer_daemon, sha256_file,
                             wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

SIZE = int(os.environ.get("PIGEON_TORRENT_DHT_SIZE", 4 * 1024 * 1024))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """A libtorrent session that is only a DHT node, on 127.0.0.2."""
    d = tmp_path_factory.mktemp("dhtnode")
    a = LtPeer("-", d, host="127.0.0.2", extra=["--dht", "none"])
    a.wait("dht nodes", "a libtorrent DHT node started")
    yield a
    a.stop()


@pytest.fixture(scope="module")
def pigeon(tmp_path_factory, node):
    hd = peer_daemon(tmp_path_factory.mktemp("dht"), "pigeond[dht]", dht="yes",
                     dht_bootstrap="127.0.0.2:%d" % node.port)
    hd.d.wait_log(r"torrent: joined the DHT")
    yield hd
    finish(hd.d)


def magnet(ih, name):
    return "magnet:?xt=urn:btih:%s&dn=%s" % (ih, urllib.parse.quote(name))


def lookup_line(ih, announced=r"[1-9]\d*"):
    return r"torrent: dht: lookup of %s done: \d+ node\(s\) answered, announced to %s" % (
        ih[:8], announced)


def test_libtorrent_finds_pigeon_by_dht(pigeon, node, tmp_path):
    src = pigeon.downloads
    digest = make_file(src / "dht-seed.bin", SIZE, seed=b"dht-seed")
    t = mktorrent(src / "dht-seed.bin", tmp_path / "dht-seed.torrent", piece_log=16)
    ih = info_hash(t)
    start = pigeon.d.log_size()
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(src))
    wait_state(pigeon, ih, "seeding", "pigeon seeds a torrent that names no tracker")
    pigeon.d.wait_log(lookup_line(ih), start=start)
    out = tmp_path / "out"
    out.mkdir()
    leech = LtPeer(magnet(ih, "dht-seed.bin"), out, host="127.0.0.3",
                   extra=["--dht", "127.0.0.2:%d" % node.port])
    try:
        leech.wait("finished", "libtorrent found Pigeon through the DHT and downloaded")
    finally:
        leech.stop()
    assert sha256_file(out / "dht-seed.bin") == digest


def test_pigeon_finds_libtorrent_by_dht(pigeon, tmp_path):
    src = tmp_path / "lt"
    src.mkdir()
    digest = make_file(src / "dht-lt.bin", SIZE, seed=b"dht-lt")
    t = mktorrent(src / "dht-lt.bin", tmp_path / "dht-lt.torrent", piece_log=16)
    ih = info_hash(t)
    # the seed knows only Pigeon's DHT node (the UDP port of Pigeon's peer listener)
    seed = LtPeer(t, src, seed=True, host="127.0.0.4",
                  extra=["--dht", "127.0.0.1:%d" % pigeon.peer_port])
    try:
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "dest"
        dest.mkdir()
        start = pigeon.d.log_size()
        pigeon.d.cli("torrent", "add", magnet(ih, "dht-lt.bin"), "--dir", str(dest))
        pigeon.d.wait_log(r"torrent %s: the DHT gave \d+ peer address" % ih[:8], start=start)
        wait_state(pigeon, ih, "seeding", "pigeon found the libtorrent seed through the DHT")
    finally:
        seed.stop()
    assert sha256_file(dest / "dht-lt.bin") == digest


def test_private_torrent_stays_off_the_dht(pigeon, tmp_path):
    src = pigeon.downloads
    make_file(src / "dht-private.bin", 65536, seed=b"dht-private")
    make_file(src / "dht-public.bin", 65536, seed=b"dht-public")
    tp = mktorrent(src / "dht-private.bin", tmp_path / "p.torrent", private=True, piece_log=15)
    tq = mktorrent(src / "dht-public.bin", tmp_path / "q.torrent", piece_log=15)
    ihp, ihq = info_hash(tp), info_hash(tq)
    start = pigeon.d.log_size()
    pigeon.d.cli("torrent", "add", str(tp), "--dir", str(src))
    wait_state(pigeon, ihp, "seeding", "the private torrent runs")
    pigeon.d.cli("torrent", "add", str(tq), "--dir", str(src))
    # the public one, added after it, is looked up: the private one's turn came and went
    pigeon.d.wait_log(lookup_line(ihq, announced=r"\d+"), start=start)
    assert "lookup of %s" % ihp[:8] not in pigeon.d.log_tail(1 << 30, start)
