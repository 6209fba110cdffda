"""v2 torrents (BEP 52, issue 21) made by libtorrent 2.0: hybrid v1/v2 ones, with the padding
files (BEP 47) that align each file to a piece, and v2-only ones (pieces checked by SHA-256
merkle roots, the torrent named by its SHA-256 info-hash truncated to 20 bytes). For each,
libtorrent seeds it to Pigeon and Pigeon seeds it back to libtorrent, both meeting at
Pigeon's tracker (sha256 of every file equal, no padding file written to disk). A peer that
names a hybrid by its v2 info-hash is answered with that hash and served; one that names it
by its v1 hash with the upgrade bit set gets the v2 hash back (the connection upgraded);
hash requests for a file's piece layer are answered with the hashes and the uncles that prove
them against the file's pieces root, others with a hash reject; Pigeon announces a hybrid
under both its info-hashes. A v2-only torrent comes from a btmh magnet link both ways: Pigeon
fetches the info dictionary and then the piece layers from libtorrent (hash requests), and
libtorrent fetches both from Pigeon."""

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


@pytest.mark.parametrize("kind", ["hybrid", "v2-only", "v2-only magnet"])
def test_both_ways_with_libtorrent(pigeon, tmp_path, kind):
    src = tmp_path / "lt" / "hy"
    (src / "sub").mkdir(parents=True)
    digests = {name: make_file(src / name, size, seed=(kind + name).encode())
               for name, size in FILES.items()}
    t = tmp_path / "hy.torrent"
    v1, v2 = make_hybrid(src, t, pigeon.announce, v2_only=kind != "hybrid")
    what, near = str(t), ()
    if kind.endswith("magnet"):
        # a btmh link (BEP 52): the info dictionary comes from the peer (BEP 9), then the
        # files' piece layers (hash requests, proved against each file's pieces root)
        import urllib.parse
        what = "magnet:?xt=urn:btmh:1220%s&dn=hy&tr=%s" % (
            v2.hex(), urllib.parse.quote(pigeon.announce, ""))
        near = ("127.0.0.1:%d" % pigeon.peer_port,)
    seed = LtPeer(t, src.parent, seed=True)
    leech = None
    try:
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "pigeon"
        dest.mkdir()
        pigeon.d.cli("torrent", "add", what, "--dir", str(dest))
        wait_state(pigeon, v1, "seeding", "pigeon downloaded the %s torrent from libtorrent" % kind)
        assert _files(dest / "hy") == digests
        assert not (dest / "hy" / ".pad").exists(), "a padding file was written to disk"
        seed.stop()
        seed = None
        out = tmp_path / "lt-leech"
        out.mkdir()
        leech = LtPeer(what, out, peers=near)
        leech.wait("finished", "libtorrent downloaded the %s torrent from pigeon" % kind)
        assert _files(out / "hy") == digests
    finally:
        for p in (seed, leech):
            if p:
                p.stop()


def _merkle(hashes, width, pad):
    """The root over hashes padded with pad to width (a power of two)."""
    level = list(hashes) + [pad] * (width - len(hashes))
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest()
                 for i in range(0, len(level), 2)]
    return level[0]


def _piece_layer(path):
    """A file's piece layer and pieces root (BEP 52), computed here from its bytes."""
    data = path.read_bytes()
    blocks = [hashlib.sha256(data[i:i + 16384]).digest() for i in range(0, len(data), 16384)]
    per = PIECE // 16384
    zero = bytes(32)
    pad = _merkle([], per, zero)
    layer = [_merkle(blocks[i:i + per], per, zero) for i in range(0, len(blocks), per)]
    width = 1
    while width < len(layer):
        width *= 2
    return layer, _merkle(layer, width, pad), pad


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
    # the v1 hash with the upgrade bit (reserved[7] & 0x10): the v2 hash comes back
    p = ScriptedPeer.dial(pigeon.peer_port, bytes.fromhex(v1), peer_id=b"-PY0001-v2upgrade000",
                          reserved=bytes(7) + b"\x10")
    try:
        p.info_hash = v2[:20]
        p.read_handshake()
        layer, root, pad = _piece_layer(src / "only.bin")  # 3 pieces: a layer of width 4
        # the whole layer (4 hashes, the last the padding's); then hashes 2-3 with the uncle
        # that ties them to the root; a request reaching past the root is refused
        asks = [(0, 4, 1), (2, 2, 1), (0, 2, 2)]
        for index, count, proof in asks:
            p.send(21, root + struct.pack(">IIII", 4, index, count, proof))
        answers = []
        while len(answers) < len(asks):
            mid, payload = p.next_message()
            if mid in (22, 23):
                answers.append((mid, payload))
        head = lambda i, c, pr: root + struct.pack(">IIII", 4, i, c, pr)
        assert answers[0] == (22, head(0, 4, 1) + b"".join(layer + [pad]))
        mid, payload = answers[1]
        assert mid == 22 and payload[:48] == head(2, 2, 1)
        got = [payload[48 + 32 * k:80 + 32 * k] for k in range(3)]
        assert got[:2] == [layer[2], pad]
        node = hashlib.sha256(got[2] + hashlib.sha256(got[0] + got[1]).digest()).digest()
        assert node == root, "the uncle does not tie the hashes to the pieces root"
        assert answers[2] == (23, head(0, 2, 2))
    finally:
        p.close()

