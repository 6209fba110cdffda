"""Web seeds (BEP 19, issue 21) with Pigeon's own HTTP server as the web seed: Pigeon's peer
downloads a single-file and a multi-file torrent from nothing but the url-list (byte ranges
of the files on the HTTP site, sha256 equal); libtorrent downloads from the same web seed; a
web seed serving other bytes than the torrent's is banned and nothing it sent is kept."""

from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, info_hash, make_file, mktorrent, peer_daemon, sha256_file,
                             status, wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")


@pytest.fixture(scope="module")
def pigeon(tmp_path_factory):
    hd = peer_daemon(tmp_path_factory.mktemp("webseed"), "pigeond[webseed]")
    (hd.www / "files").mkdir()
    yield hd
    finish(hd.d)


def test_pigeon_downloads_from_its_own_http_server(pigeon, tmp_path):
    files = pigeon.www / "files"
    digest = make_file(files / "ws one.bin", (5 << 20) + 12345, seed=b"webseed")
    # no tracker: the web seed is the only source (BEP 19: a URL ending in '/' is a
    # directory, the name follows, percent-encoded)
    t = mktorrent(files / "ws one.bin", tmp_path / "ws.torrent",
                  webseeds=[pigeon.url("/files/")])
    ih = info_hash(t)
    dest = tmp_path / "dest"
    dest.mkdir()
    start = pigeon.d.log_size()
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(dest))
    wait_state(pigeon, ih, "seeding", "pigeon downloaded from the web seed")
    assert sha256_file(dest / "ws one.bin") == digest
    pigeon.d.wait_log(r"torrent %s: web seed http://127\.0\.0\.1:\d+/files/ joined" % ih[:8],
                      start=start)
    # the bytes came as ranges of the file from the HTTP site
    log = pigeon.access_log.read_text(errors="replace")
    assert "/files/ws%20one.bin" in log and " 206 " in log


def test_multi_file_torrent_from_web_seed(pigeon, tmp_path):
    tree = pigeon.www / "files" / "album"
    (tree / "disc 1").mkdir(parents=True)
    digests = {
        "disc 1/a.bin": make_file(tree / "disc 1" / "a.bin", 300000, seed=b"a"),
        "disc 1/b.bin": make_file(tree / "disc 1" / "b.bin", 1 << 20, seed=b"b"),
        "c.bin": make_file(tree / "c.bin", 77777, seed=b"c"),
    }
    t = mktorrent(tree, tmp_path / "album.torrent", piece_log=16,
                  webseeds=[pigeon.url("/files")])  # no slash: the name is appended after one
    ih = info_hash(t)
    dest = tmp_path / "dest"
    dest.mkdir()
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(dest))
    wait_state(pigeon, ih, "seeding", "pigeon downloaded the multi-file torrent")
    for name, digest in digests.items():
        assert sha256_file(dest / "album" / name) == digest


def test_libtorrent_uses_pigeon_http_as_web_seed(pigeon, tmp_path):
    files = pigeon.www / "files"
    digest = make_file(files / "lt.bin", 3 << 20, seed=b"lt-webseed")
    t = mktorrent(files / "lt.bin", tmp_path / "lt.torrent", webseeds=[pigeon.url("/files/")])
    out = tmp_path / "out"
    out.mkdir()
    lt = LtPeer(t, out)
    try:
        lt.wait("finished", "libtorrent downloaded from pigeon's HTTP server")
    finally:
        lt.stop()
    assert sha256_file(out / "lt.bin") == digest


def test_lying_web_seed_banned(pigeon, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    make_file(src / "liar.bin", 2 << 20, seed=b"truth")
    make_file(pigeon.www / "files" / "liar.bin", 2 << 20, seed=b"lies")  # same size, other bytes
    t = mktorrent(src / "liar.bin", tmp_path / "liar.torrent", piece_log=16,
                  webseeds=[pigeon.url("/files/")])
    ih = info_hash(t)
    dest = tmp_path / "dest"
    dest.mkdir()
    start = pigeon.d.log_size()
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(dest))
    pigeon.d.wait_log(r"torrent %s: peer \d+: closing web seed 0: banned: sent bad data"
                      % ih[:8], start=start)
    pigeon.d.wait_log(r"torrent %s: web seed \S+ dropped" % ih[:8], start=start)
    line = [l for l in status(pigeon).splitlines() if l.startswith(ih)][0]
    assert line.split()[1:3] == ["downloading", "0.0%"], line
    assert pigeon.d.running
