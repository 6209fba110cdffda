"""Peer exchange (BEP 11, issue 21): Pigeon dials a libtorrent seed it heard of only through
a peer's ut_pex message (a scripted peer: libtorrent 2.0 sent Pigeon no PEX message on
loopback within three minutes), and a libtorrent peer connects to a seed it heard of only
through Pigeon's ut_pex message (libtorrent marks such peers with its PEX source flag)."""

import re
import socket
import struct

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, ScriptedPeer, info_hash, make_file, mktorrent,
                             peer_daemon, raw_hash, sha256_file, status, wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

LT_PEX = 4  # libtorrent's peer_info.source flag for peers learned through PEX


def npeers(hd, ih):
    for line in status(hd).splitlines():
        if line.startswith(ih):
            return int(line.split()[7])
    return 0


def test_pigeon_learns_a_peer_through_pex(tmp_path):
    """A scripted peer (it has nothing) tells Pigeon of a libtorrent seed in a ut_pex message;
    there is no tracker, so the download can only come from Pigeon dialling that seed."""
    import libtorrent as lt
    hd = peer_daemon(tmp_path / "d", "pigeond[pex-in]")
    seed = None
    try:
        src = tmp_path / "src"
        src.mkdir()
        digest = make_file(src / "pex.bin", 4 << 20, seed=b"pex")
        t = mktorrent(src / "pex.bin", tmp_path / "pex.torrent")  # no tracker at all
        ih = info_hash(t)
        dest = tmp_path / "dest"
        dest.mkdir()
        hd.d.cli("torrent", "add", str(t), "--dir", str(dest))
        wait_state(hd, ih, "downloading", "pigeon waits for peers")
        seed = LtPeer(t, src, seed=True)
        seed.wait("finished", "the seed checked its copy")
        p = ScriptedPeer.dial(hd.peer_port, raw_hash(t), reserved=b"\0\0\0\0\0\x10\0\0")
        p.read_handshake()
        p.send(20, b"\0" + lt.bencode({b"m": {b"ut_pex": 1}}))
        pex_id = None
        while pex_id is None:  # Pigeon's extension handshake names its id for ut_pex
            mid, payload = p.next_message()
            if mid == 20 and payload[0] == 0:
                pex_id = lt.bdecode(payload[1:])[b"m"][b"ut_pex"]
        added = socket.inet_aton("127.0.0.1") + struct.pack(">H", seed.port)
        p.send(20, bytes([pex_id]) + lt.bencode({b"added": added, b"added.f": b"\x10"}))
        hd.d.wait_log(r"torrent %s: peer \d+: PEX: 1 address\(es\) from 127\.0\.0\.1" % ih[:8])
        wait_state(hd, ih, "seeding", "pigeon downloaded from the seed PEX named")
        assert sha256_file(dest / "pex.bin") == digest
        p.close()
    finally:
        if seed:
            seed.stop()
        finish(hd.d)


def test_libtorrent_learns_a_peer_from_pigeon_pex(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[pex-out]")
    s = leech = None
    try:
        src = tmp_path / "src"
        src.mkdir()
        digest = make_file(src / "pex2.bin", 6 << 20, seed=b"pex2")
        # Pigeon's tracker tells Pigeon of the seed S; the leecher L never asks it
        t = mktorrent(src / "pex2.bin", tmp_path / "pex2.torrent", announce=[hd.announce])
        ih = info_hash(t)
        s = LtPeer(t, src, seed=True)
        s.wait("finished", "seed S checked its copy")
        dest = tmp_path / "dest"
        dest.mkdir()
        hd.d.cli("torrent", "add", str(t), "--dir", str(dest))
        H.wait_until(lambda: npeers(hd, ih) >= 1, what="pigeon connected to the seed")
        # L: no tracker (a copy of the torrent without announce), told only of Pigeon
        bare = mktorrent(src / "pex2.bin", tmp_path / "bare.torrent")
        assert info_hash(bare) == ih
        out = tmp_path / "out"
        out.mkdir()
        leech = LtPeer(bare, out, peers=["127.0.0.1:%d" % hd.peer_port],
                       extra=["--show-peers", "--download-limit", "400000"])
        needle = re.compile(r"peer 127\.0\.0\.1:%d source (\d+)" % s.port)
        H.wait_until(lambda: needle.search(leech.text()), what="libtorrent met the seed",
                     on_timeout=lambda: leech.text()[-3000:] + hd.d.log_tail(3000))
        assert int(needle.search(leech.text()).group(1)) & LT_PEX, leech.text()
        leech.wait("finished", "libtorrent completed")
        assert sha256_file(out / "pex2.bin") == digest
    finally:
        for p in (s, leech):
            if p:
                p.stop()
        finish(hd.d)
