"""Pigeon's BitTorrent peer with IPv6 peers and with Transmission (issue 21): over ::1 only,
libtorrent seeds to Pigeon and Pigeon seeds to libtorrent, each finding the other through
Pigeon's UDP tracker on [::1] (BEP 15 over IPv6: 18-byte peer entries); Transmission 3.00
(transmission-daemon) seeds to Pigeon through Pigeon's HTTP tracker on loopback (Pigeon dials
it: Transmission accepts loopback peers, it only never dials the ones a tracker names)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import pigeon_harness as H
from http_helpers import finish
from torrent_helpers import (LtPeer, info_hash, make_file, mktorrent, peer_daemon, sha256_file,
                             wait_state)

pytestmark = pytest.mark.skipif(H.binaries_missing(), reason="build pigeond first")


def test_ipv6_peers_through_udp_tracker(tmp_path):
    port6, udp6 = H.free_port(), H.free_port()
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-v6]", tracker={"listen": "[::1]:%d" % udp6},
                     listen="[::1]:%d" % port6)
    tracker = "udp://[::1]:%d/announce" % udp6
    seed = leech = None
    try:
        src = tmp_path / "lt"
        src.mkdir()
        digest = make_file(src / "v6.bin", 8 << 20, seed=b"v6")
        t = mktorrent(src / "v6.bin", tmp_path / "v6.torrent", announce=[tracker])
        ih = info_hash(t)
        seed = LtPeer(t, src, seed=True, host="::1")
        seed.wait("finished", "libtorrent checked its copy")
        dest = tmp_path / "pigeon"
        dest.mkdir()
        hd.d.cli("torrent", "add", str(t), "--dir", str(dest))
        wait_state(hd, ih, "seeding", "pigeon downloaded from libtorrent over ::1")
        assert sha256_file(dest / "v6.bin") == digest
        seed.stop()
        seed = None
        out = tmp_path / "lt-leech"
        out.mkdir()
        leech = LtPeer(t, out, host="::1")
        leech.wait("finished", "libtorrent downloaded from pigeon over ::1")
        assert sha256_file(out / "v6.bin") == digest
    finally:
        for p in (seed, leech):
            if p:
                p.stop()
        finish(hd.d)


class Transmission:
    """A transmission-daemon of its own (config dir, RPC and peer ports), no DHT/LPD/uTP."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir()
        self.rpc, self.peer_port = H.free_port(), H.free_port()
        (self.root / "settings.json").write_text(json.dumps({
            "rpc-port": self.rpc, "rpc-bind-address": "127.0.0.1", "rpc-whitelist": "127.0.0.1",
            "rpc-authentication-required": False, "peer-port": self.peer_port,
            "peer-port-random-on-start": False, "dht-enabled": False, "lpd-enabled": False,
            "utp-enabled": False, "pex-enabled": False, "port-forwarding-enabled": False,
            "encryption": 1, "download-dir": str(self.root / "dl"),
            "ratio-limit-enabled": False, "message-level": 2}))
        self.log = self.root / "transmission.log"
        self.proc = subprocess.Popen(["transmission-daemon", "-f", "-g", str(self.root),
                                      "-e", str(self.log)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        H.wait_until(lambda: self.remote("-l").returncode == 0, what="transmission's RPC")

    def remote(self, *args):
        return subprocess.run(["transmission-remote", "127.0.0.1:%d" % self.rpc] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)

    def listing(self):
        return self.remote("-l").stdout.decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.mark.skipif(shutil.which("transmission-daemon") is None,
                    reason="transmission-daemon is in scripts/install-deps.sh")
def test_transmission_seeds_to_pigeon(tmp_path):
    hd = peer_daemon(tmp_path / "d", "pigeond[torrent-transmission]")
    tr = None
    try:
        src = tmp_path / "src"
        src.mkdir()
        digest = make_file(src / "tr.bin", 16 << 20, seed=b"transmission")
        t = mktorrent(src / "tr.bin", tmp_path / "tr.torrent", announce=[hd.announce])
        ih = info_hash(t)
        tr = Transmission(tmp_path / "transmission")
        p = tr.remote("-a", str(t), "-w", str(src))
        assert p.returncode == 0, p.stdout
        # 100% verified; "Idle" is how Transmission 3.00 shows a seed nobody downloads from
        H.wait_until(lambda: re.search(r"100%.*(Idle|Seeding)", tr.listing()),
                     what="transmission verified its copy and seeds",
                     on_timeout=lambda: tr.listing())
        dest = tmp_path / "pigeon"
        dest.mkdir()
        hd.d.cli("torrent", "add", str(t), "--dir", str(dest))
        wait_state(hd, ih, "seeding", "pigeon downloaded from transmission")
        assert sha256_file(dest / "tr.bin") == digest
        # Transmission was the only other peer: it uploaded the whole file (16 MiB = 16.78 MB)
        def uploaded():
            info = tr.remote("-t", "1", "-i").stdout.decode(errors="replace")
            m = re.search(r"Uploaded: ([\d.]+) MB", info)
            return m and float(m.group(1)) >= 16.7
        H.wait_until(uploaded, what="transmission counts the upload",
                     on_timeout=lambda: tr.remote("-t", "1", "-i").stdout.decode())
    finally:
        if tr:
            tr.stop()
        finish(hd.d)
