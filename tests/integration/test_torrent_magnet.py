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
    p = pigeon.d.cli("torrent", "add", "magnet:?xt=urn:btmh:1220abcd&dn=x", check=False)
    assert p.returncode != 0 and b"not a usable magnet link: bad btmh hash" in p.stderr
    p = pigeon.d.cli("torrent", "add", "magnet:?dn=x", check=False)
    assert p.returncode != 0 and b"no urn:btih: or urn:btmh: hash" in p.stderr
    # written straight into the inbox, past the CLI's check: refused by the daemon, which
    # stays up
    start = pigeon.d.log_size()
    inbox = state_dir(pigeon) / "inbox"
    (inbox / ("ab" * 20 + ".magnet")).write_text("magnet:?xt=urn:btih:zzzz\n")
    pigeon.d.wait_log(r"\.magnet: not added: bad btih hash", start=start)
    assert pigeon.d.running


def test_metadata_connection_handed_to_swarm(pigeon, tmp_path):
    """A seed that accepts one connection only (it stops listening after the first) gives
    both the info dictionary and the pieces: Pigeon finishes only if the connection it
    fetched the metadata over goes on into the swarm, since a second one is refused. Peers
    meet through Pigeon's tracker; the seed is scripted (BEP 3, 9, 10 by hand)."""
    import re
    import socket
    import struct
    import threading

    import libtorrent as lt
    from torrent_helpers import ScriptedPeer, announce_by_hand

    src = tmp_path / "one"
    src.mkdir()
    digest = make_file(src / "one.bin", 8 * 32768 + 1000, seed=b"handover")
    t = mktorrent(src / "one.bin", tmp_path / "one.torrent", announce=[pigeon.announce],
                  piece_log=15)
    ti = lt.torrent_info(str(t))
    info, ih_raw = ti.metadata(), ti.info_hash().to_bytes()
    data, plen, npieces = (src / "one.bin").read_bytes(), ti.piece_length(), ti.num_pieces()
    bits = bytearray((npieces + 7) // 8)
    for i in range(npieces):
        bits[i // 8] |= 0x80 >> (i % 8)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    lsock.settimeout(120)
    seen = {"accepted": 0, "sent": 0, "error": None}

    def serve():
        try:
            c, _ = lsock.accept()
            seen["accepted"] += 1
            lsock.close()  # a second connection is refused from now on
            c.settimeout(120)
            p = ScriptedPeer(c, ih_raw, reserved=bytes([0, 0, 0, 0, 0, 0x10, 0, 0]))
            p.read_handshake()
            p.send_handshake()
            p.send(20, b"\x00d1:md11:ut_metadatai3ee13:metadata_sizei%dee" % len(info))
            p.send(5, bytes(bits))
            theirs = 0
            while True:
                mid, pl = p.next_message()
                if mid == 20 and pl[:1] == b"\x00":
                    theirs = int(re.search(rb"11:ut_metadatai(\d+)e", pl).group(1))
                elif mid == 20 and pl[:1] == b"\x03":
                    k = int(re.search(rb"5:piecei(\d+)e", pl).group(1))
                    p.send(20, bytes([theirs]) + b"d8:msg_typei1e5:piecei%de10:total_sizei%dee"
                           % (k, len(info)) + info[k * 16384:(k + 1) * 16384])
                elif mid == 2:
                    p.send(1)  # unchoke
                elif mid == 6:
                    idx, begin, n = struct.unpack(">III", pl)
                    off = idx * plen + begin
                    p.send(7, struct.pack(">II", idx, begin) + data[off:off + n])
                    seen["sent"] += n
        except (OSError, ConnectionError) as e:
            seen["error"] = repr(e)

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    announce_by_hand(pigeon, ih_raw, lsock.getsockname()[1], left=0)
    dest = tmp_path / "dest"
    dest.mkdir()
    start = pigeon.d.log_size()
    pigeon.d.cli("torrent", "add", magnet(str(ti.info_hash()), "one.bin", pigeon.announce),
                 "--dir", str(dest))
    ih = str(ti.info_hash())
    pigeon.d.wait_log(r"torrent %s: 1 connection\(s\) of the metadata fetch handed to the swarm"
                      % ih[:8], start=start)
    wait_state(pigeon, ih, "seeding", "pigeon downloaded over the one connection it had")
    assert sha256_file(dest / "one.bin") == digest
    assert seen["accepted"] == 1 and seen["sent"] == len(data), seen
