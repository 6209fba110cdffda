"""Pigeon's BitTorrent peer (issue 21) with stock peers, all meeting through Pigeon's own
tracker on loopback: Pigeon seeds to aria2c and downloads from libtorrent (sha256 equal), a
swarm of one seed, Pigeon and three leechers completes, resume after kill -9."""

import os
import time
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
import select
import subprocess
import threading

from torrent_helpers import (LtPeer, ScriptedPeer, announce_by_hand, aria2c, info_hash,
                             make_file, mktorrent, peer_daemon, raw_hash, sha256_file, status,
                             wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

SIZE = int(os.environ.get("PIGEON_TORRENT_SIZE", 100 * 1024 * 1024))


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


def _scripted_swarm(pigeon, t, n, tag):
    peers = []
    for k in range(n):
        p = ScriptedPeer.dial(pigeon.peer_port, raw_hash(t),
                              peer_id=b"-PY0001-%s%07d" % (tag, k))
        p.read_handshake()
        p.send(2)  # interested
        peers.append(p)
    return peers


def _watch_unchokes(peers, until, most_allowed, seconds):
    """Reads the peers' messages until until(now, ever) holds: now is the set of peers
    unchoked at this moment, ever the set of peers ever unchoked; at most most_allowed
    unchoked at once. Returns the most seen at once."""
    ever, most = set(), 0
    deadline = time.monotonic() + seconds + 2 * H.WAIT_TIMEOUT
    while True:
        now = {p.peer_id for p in peers if not p.choked}
        ever |= now
        most = max(most, len(now))
        assert most <= most_allowed, "more than %d peers unchoked" % most_allowed
        if until(now, ever):
            return most
        assert time.monotonic() < deadline, \
            "the unchoked peers never rotated: %d peers ever unchoked" % len(ever)
        ready, _, _ = select.select([p.s for p in peers], [], [], 5)
        for p in peers:
            if p.s in ready:
                p._fill()
                while len(p.buf) >= 4 and len(p.buf) >= 4 + int.from_bytes(p.buf[:4], "big"):
                    p.next_message()


def test_choking_seen_from_scripted_peers(pigeon, tmp_path):
    """The lecture's tit-for-tat while Pigeon downloads (one piece of its copy is bad): seven
    interested peers that never upload, at most 4 + 1 unchoked at any moment, and the
    optimistic slot rotates (a sixth peer gets its turn after 30 s)."""
    src = tmp_path / "choke"
    src.mkdir()
    make_file(src / "choke.bin", 4 * 1024 * 1024, seed=b"choke")
    t = mktorrent(src / "choke.bin", tmp_path / "choke.torrent", announce=[pigeon.announce])
    ih = info_hash(t)
    with open(src / "choke.bin", "r+b") as f:  # the last piece does not verify
        f.seek(-1, os.SEEK_END)
        last = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([last[0] ^ 0xFF]))
    pigeon.d.cli("torrent", "add", str(t), str(src))
    wait_state(pigeon, ih, "downloading", "pigeon verified choke.bin and misses one piece")
    peers = _scripted_swarm(pigeon, t, 7, b"choke")
    most = _watch_unchokes(peers, lambda now, ever: len(ever) >= 6, 5, 60)
    assert most == 5
    for p in peers:
        p.close()


def test_seeding_slots_open_for_idle_peers(pigeon, tmp_path):
    """Seeding to eleven interested peers that ask for nothing (choker.h): the seed has nothing
    to send any of them, so beyond its 8 + 1 it opens one more slot per choke run (10 s) while
    a peer waits, until all eleven are unchoked at once. With fixed slots at most 9 would be
    (the 30-second rotation of the regular slots is test_torrent_picker's
    test_seed_rotation)."""
    src = pigeon.downloads
    make_file(src / "rotate.bin", 4 * 1024 * 1024, seed=b"rotate")
    t = mktorrent(src / "rotate.bin", tmp_path / "rotate.torrent", announce=[pigeon.announce])
    ih = info_hash(t)
    pigeon.d.cli("torrent", "add", str(t), str(src))
    wait_state(pigeon, ih, "seeding", "pigeon seeds rotate.bin")
    peers = _scripted_swarm(pigeon, t, 11, b"rotat")
    assert _watch_unchokes(peers, lambda now, ever: len(now) == 11, 11, 30) == 11
    for p in peers:
        p.close()


def test_corrupting_peer_is_banned_and_result_intact(pigeon, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    size = 3 * 1024 * 1024 + 77
    digest = make_file(src / "bad.bin", size, seed=b"bad")
    t = mktorrent(src / "bad.bin", tmp_path / "bad.torrent", announce=[pigeon.announce],
                  piece_log=16)
    ih, raw = info_hash(t), raw_hash(t)
    data = (src / "bad.bin").read_bytes()
    lsock = __import__("socket").socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    port = lsock.getsockname()[1]
    announce_by_hand(pigeon, raw, port, 0)
    served = {"blocks": 0}

    def corrupt_seed():
        conn, _ = lsock.accept()
        p = ScriptedPeer(conn, raw, peer_id=b"-PY0001-corruptseed0")
        p.read_handshake()
        p.send_handshake()
        npieces = (size + 65535) // 65536
        bits = bytearray((npieces + 7) // 8)
        for i in range(npieces):
            bits[i // 8] |= 0x80 >> (i % 8)
        p.send(5, bytes(bits))
        p.send(1)  # unchoke
        try:
            while True:
                mid, payload = p.next_message()
                if mid == 6:
                    idx, begin, length = __import__("struct").unpack(">III", payload)
                    off = idx * 65536 + begin
                    block = bytes(b ^ 0x55 for b in data[off:off + length])
                    p.send(7, payload[:8] + block)
                    served["blocks"] += 1
        except (ConnectionError, OSError):
            pass
        p.close()

    th = threading.Thread(target=corrupt_seed, daemon=True)
    th.start()
    dest = tmp_path / "dest"
    dest.mkdir()
    pigeon.d.cli("torrent", "add", str(t), str(dest))
    pigeon.d.wait_log("banned: sent bad data")
    th.join(60)
    assert served["blocks"] > 0
    # an honest seed appears; Pigeon finds it at its next announce
    seed = LtPeer(t, src, seed=True)
    try:
        seed.wait("finished", "libtorrent checked its copy")
        wait_state(pigeon, ih, "seeding", "pigeon completed from the honest seed")
    finally:
        seed.stop()
        lsock.close()
    assert sha256_file(dest / "bad.bin") == digest


def test_swarm_of_seed_pigeon_and_three_leechers(pigeon, tmp_path):
    src = tmp_path / "seed"
    src.mkdir()
    digest = make_file(src / "swarm.bin", SIZE // 2, seed=b"swarm")
    t = mktorrent(src / "swarm.bin", tmp_path / "swarm.torrent", announce=[pigeon.announce])
    ih = info_hash(t)
    seed = LtPeer(t, src, seed=True)
    leechers = []
    try:
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "pigeon"
        dest.mkdir()
        pigeon.d.cli("torrent", "add", str(t), str(dest))
        for k in range(3):
            out = tmp_path / ("leech%d" % k)
            out.mkdir()
            leechers.append((out, subprocess.Popen(
                ["aria2c", "--dir", str(out), "--seed-time=0", "--enable-dht=false",
                 "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                 "--summary-interval=0", "--console-log-level=warn", "--bt-stop-timeout=500",
                 str(t)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        for out, proc in leechers:
            text = proc.communicate(timeout=600)[0].decode(errors="replace")
            assert proc.returncode == 0, text[-3000:]
            assert sha256_file(out / "swarm.bin") == digest
        wait_state(pigeon, ih, "seeding", "pigeon completed in the swarm")
        assert sha256_file(dest / "swarm.bin") == digest
    finally:
        seed.stop()
        for _, proc in leechers:
            if proc.poll() is None:
                proc.kill()


def test_resume_after_kill9(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-resume]", download_rate="1M")
    try:
        src = tmp_path / "src"
        src.mkdir()
        digest = make_file(src / "resume.bin", 12 * 1024 * 1024, seed=b"resume")
        t = mktorrent(src / "resume.bin", tmp_path / "resume.torrent", announce=[hd.announce])
        ih = info_hash(t)
        seed = LtPeer(t, src, seed=True)
        try:
            seed.wait("finished", "libtorrent checked its copy")
            hd.d.cli("torrent", "add", str(t))

            def progress():
                """Download progress (0 while the files are being checked)."""
                for line in status(hd).splitlines():
                    f = line.split()
                    if line.startswith(ih) and f[1] in ("downloading", "seeding"):
                        return float(f[2].rstrip("%"))
                return 0.0
            H.wait_until(lambda: progress() >= 30.0, what="a third downloaded")
            hd.d.kill9()
            hd.d.proc = None
            hd.d.start()
            # the pieces on disk are found again by re-verifying them
            H.wait_until(lambda: progress() > 0, what="the torrent came back after the restart")
            assert progress() >= 25.0, status(hd)  # the pieces on disk were kept
            # the restarted tracker forgot the seed, which backs off after the refused
            # announces: tell the tracker about it (address and port are what it keys on)
            announce_by_hand(hd, raw_hash(t), seed.port, 0)
            wait_state(hd, ih, "seeding", "the download finished after the restart")
        finally:
            seed.stop()
        assert sha256_file(hd.downloads / "resume.bin") == digest
    finally:
        finish(hd.d)
