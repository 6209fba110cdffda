"""The tracker (issue 21): HTTP announce/scrape on the HTTP service and UDP (BEP 15), served
to libtorrent and aria2c, which find each other through it and complete a download; every
bad request answered with a bencoded failure reason; the daemon stays up."""

import socket
import struct
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import curl, finish
from torrent_helpers import (LtPeer, aria2c, make_file, mktorrent, sha256_file,
                             tracker_daemon)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")

IH = "%11" * 20
PID = "-PG0001-abcdefghijkl"


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    hd = tracker_daemon(tmp_path_factory.mktemp("tracker"), "pigeond[tracker]")
    yield hd
    finish(hd.d)


def get(hd, path):
    rc, body, err = curl(hd.url(path))
    assert rc == 0, err
    return body


@pytest.mark.parametrize("query,reason", [
    ("peer_id=%s&port=1&left=0" % PID, b"missing info_hash"),
    ("info_hash=abc&peer_id=%s&port=1&left=0" % PID, b"invalid info_hash"),
    ("info_hash=%s&port=1&left=0" % IH, b"missing peer_id"),
    ("info_hash=%s&peer_id=%s&left=0" % (IH, PID), b"missing port"),
    ("info_hash=%s&peer_id=%s&port=99999&left=0" % (IH, PID), b"invalid port"),
    ("info_hash=%s&peer_id=%s&port=1&left=0&event=nope" % (IH, PID), b"invalid event"),
])
def test_bad_announce_gets_failure_reason(tracker, query, reason):
    body = get(tracker, "/announce?" + query)
    assert body == b"d14:failure reason%d:%se" % (len(reason), reason)


def test_announce_and_scrape_by_hand(tracker):
    ih = "%22" * 20
    seed = get(tracker, "/announce?info_hash=%s&peer_id=%s&port=7001&left=0&event=started" %
               (ih, PID))
    assert b"8:completei1e" in seed and b"5:peers0:" in seed
    leech = get(tracker, "/announce?info_hash=%s&peer_id=%s&port=7002&left=5&numwant=10" %
                (ih, "-XX0001-abcdefghijkl"))
    # compact: the seed at 127.0.0.1:7001
    assert b"5:peers6:" + socket.inet_aton("127.0.0.1") + struct.pack(">H", 7001) in leech
    assert b"10:incompletei1e" in leech and b"8:intervali30e" in leech
    scrape = get(tracker, "/scrape?info_hash=%s" % ih)
    assert scrape.startswith(b"d5:filesd20:" + b"\x22" * 20)
    assert b"d8:completei1e10:downloadedi0e10:incompletei1ee" in scrape
    stopped = get(tracker, "/announce?info_hash=%s&peer_id=%s&port=7002&left=5&event=stopped" %
                  (ih, "-XX0001-abcdefghijkl"))
    assert b"10:incompletei0e" in stopped
    assert b"failure reason" in get(tracker, "/scrape")
    # a POST is not an announce
    rc, body, err = curl("-X", "POST", "-d", "x", tracker.url("/announce"))
    assert rc == 0 and b"GET" in body


def udp(hd, pkt):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(pkt, ("127.0.0.1", hd.udp_port))
        return s.recv(2048)


def test_udp_protocol_by_hand(tracker):
    r = udp(tracker, struct.pack(">QII", 0x41727101980, 0, 1234))
    action, tid, cid = struct.unpack(">IIQ", r)
    assert (action, tid) == (0, 1234)
    ann = struct.pack(">QII20s20sQQQIIIiH", cid, 1, 99, b"\x33" * 20, PID.encode(), 0, 0, 0,
                      2, 0, 0, -1, 6999)
    r = udp(tracker, ann)
    action, tid, interval, leechers, seeders = struct.unpack(">IIIII", r[:20])
    assert (action, tid, interval, seeders) == (1, 99, 30, 1)
    # a made-up connection id is refused with an error (action 3)
    r = udp(tracker, struct.pack(">QII", cid ^ 1, 1, 5) + ann[16:])
    assert struct.unpack(">II", r[:8]) == (3, 5) and b"connect again" in r
    r = udp(tracker, struct.pack(">QII", cid, 2, 6) + b"\x33" * 20)
    assert struct.unpack(">IIIII", r) == (2, 6, 1, 0, 0)


@pytest.mark.parametrize("kind", ["http", "udp"])
def test_libtorrent_seeds_aria2_downloads_through_tracker(tracker, tmp_path, kind):
    """Neither peer is told about the other: they meet through Pigeon's tracker."""
    src = tmp_path / "seed"
    src.mkdir()
    digest = make_file(src / "lecture.bin", 6 * 1024 * 1024 + 123, seed=kind.encode())
    url = tracker.announce if kind == "http" else tracker.udp_announce
    t = mktorrent(src / "lecture.bin", tmp_path / "lecture.torrent", announce=[url])
    seed = LtPeer(t, src, seed=True)
    try:
        seed.wait("finished", "libtorrent checked its seed copy")
        out = tmp_path / "down"
        out.mkdir()
        # aria2 sends UDP tracker traffic from its DHT socket: DHT on (no other node exists
        # in the test's network namespace), for the UDP case only
        extra = [] if kind == "http" else ["--enable-dht=true",
                                          "--dht-listen-port=%d" % H.free_port()]
        p = aria2c(t, out, extra=extra)
        assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
        assert sha256_file(out / "lecture.bin") == digest
    finally:
        seed.stop()
    if kind == "http":
        import libtorrent as lt  # noqa: F401 (present: the seed ran)
        ih = lt.torrent_info(str(t)).info_hash().to_bytes()
        scrape = get(tracker, "/scrape?info_hash=" + "".join("%%%02x" % b for b in ih))
        assert b"10:downloadedi1e" in scrape, scrape
    assert tracker.d.proc.poll() is None
