"""v2 torrents (BEP 52, issue 21) made by libtorrent 2.0: hybrid v1/v2 ones, with the padding
files (BEP 47) that align each file to a piece, and v2-only ones (pieces checked by SHA-256
merkle roots, the torrent named by its SHA-256 info-hash truncated to 20 bytes). For each,
libtorrent seeds it to Pigeon and Pigeon seeds it back to libtorrent, both meeting at
Pigeon's tracker (sha256 of every file equal, no padding file written to disk). A peer that
names a hybrid by its v2 info-hash is answered with that hash and served, and its hash
requests are rejected with a hash reject (Pigeon serves no merkle hashes); Pigeon announces a
hybrid under both its info-hashes."""

import hashlib
import struct

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, ScriptedPeer, make_file, peer_daemon, sha256_file,
                             wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

PIECE = 1 << 18
FILES = {"a.bin": 3 * PIECE + 1234, "sub/b.bin": PIECE + 77, "c.bin": 5000}


def make_hybrid(src, out, announce, v2_only=False):
    """A hybrid torrent of the directory src (libtorrent 2.0's default: v1 and v2), or a
    v2-only one. Returns (the hex hash Pigeon lists it by, the v2 hash)."""
    import libtorrent as lt
    fs = lt.file_storage()
    lt.add_files(fs, str(src))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v2_only if v2_only else 0)
    ct.add_tracker(announce)
    lt.set_piece_hashes(ct, str(src.parent))
    data = lt.bencode(ct.generate())
    out.write_bytes(data)
    ti = lt.torrent_info(str(out))
    hashes = ti.info_hashes()
    assert hashes.has_v1() != v2_only and hashes.has_v2(), "not the kind of torrent wanted"
    pads = [i for i in range(ti.files().num_files()) if ti.files().file_flags(i) & 1]
    assert pads, "no padding files: the test would not cover BEP 47"
    v2 = hashes.v2.to_bytes()
    return (v2[:20].hex() if v2_only else str(hashes.v1)), v2


@pytest.fixture(scope="module")
def pigeon(tmp_path_factory):
    hd = peer_daemon(tmp_path_factory.mktemp("v2"), "pigeond[torrent-v2]")
    yield hd
    finish(hd.d)


def _seeds(hd, raw):
    """The tracker's seed count for one info-hash (BEP 48 scrape)."""
    import urllib.parse
    import urllib.request
    url = hd.announce.replace("/announce", "/scrape") + "?" + urllib.parse.urlencode(
        {"info_hash": raw})
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read()
    key = b"20:" + raw + b"d8:completei"
    return int(body[body.index(key) + len(key):].split(b"e")[0]) if key in body else 0


def _files(root):
    return {name: sha256_file(root / name) for name in FILES}


@pytest.mark.parametrize("kind", ["hybrid", "v2-only"])
def test_both_ways_with_libtorrent(pigeon, tmp_path, kind):
    src = tmp_path / "lt" / "hy"
    (src / "sub").mkdir(parents=True)
    digests = {name: make_file(src / name, size, seed=(kind + name).encode())
               for name, size in FILES.items()}
    t = tmp_path / "hy.torrent"
    v1, _ = make_hybrid(src, t, pigeon.announce, v2_only=kind == "v2-only")
    seed = LtPeer(t, src.parent, seed=True)
    leech = None
    try:
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "pigeon"
        dest.mkdir()
        pigeon.d.cli("torrent", "add", str(t), "--dir", str(dest))
        wait_state(pigeon, v1, "seeding", "pigeon downloaded the %s torrent from libtorrent" % kind)
        assert _files(dest / "hy") == digests
        assert not (dest / "hy" / ".pad").exists(), "a padding file was written to disk"
        seed.stop()
        seed = None
        out = tmp_path / "lt-leech"
        out.mkdir()
        leech = LtPeer(t, out)
        leech.wait("finished", "libtorrent downloaded the %s torrent from pigeon" % kind)
        assert _files(out / "hy") == digests
    finally:
        for p in (seed, leech):
            if p:
                p.stop()


def test_v2_handshake_and_hash_request(pigeon, tmp_path):
    src = pigeon.downloads / "hy2"
    src.mkdir()
    make_file(src / "only.bin", 2 * PIECE + 99, seed=b"only")
    make_file(src / "second.bin", 1000, seed=b"second")
    t = tmp_path / "hy2.torrent"
    v1, v2 = make_hybrid(src, t, pigeon.announce)
    pigeon.d.cli("torrent", "add", str(t), "--dir", str(pigeon.downloads))
    wait_state(pigeon, v1, "seeding", "pigeon found the hybrid torrent's files on disk")
    # announced under both info-hashes (BEP 52): its own tracker counts it as a seed of each
    for h in (bytes.fromhex(v1), v2[:20]):
        H.wait_until(lambda: _seeds(pigeon, h) == 1, what="pigeon announced %s" % h.hex())
    p = ScriptedPeer.dial(pigeon.peer_port, v2[:20], peer_id=b"-PY0001-v2peer000000")
    try:
        hs = p.read_handshake()  # asserts the same (v2, truncated) hash came back
        assert hs[28:48] == v2[:20]
        # BEP 52 hash request: pieces root, base layer, index, length, proof layers
        req = hashlib.sha256(b"some root").digest() + struct.pack(">IIII", 0, 0, 2, 0)
        p.send(21, req)
        p.send(2)  # interested
        got_reject = got_piece = False
        want = (src / "only.bin").read_bytes()[PIECE:PIECE + 16384]
        while not (got_reject and got_piece):
            mid, payload = p.next_message()
            if mid == 23:
                assert payload == req
                got_reject = True
            elif mid == 1:
                p.send(6, struct.pack(">III", 1, 0, 16384))
            elif mid == 7:
                assert payload[:8] == struct.pack(">II", 1, 0) and payload[8:] == want
                got_piece = True
    finally:
        p.close()
