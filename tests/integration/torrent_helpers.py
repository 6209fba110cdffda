"""Helpers for the BitTorrent tests: a pigeond with an HTTP site and the tracker, files and
.torrent files made with mktorrent, libtorrent peers (lt_peer.py) and aria2c runs."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pigeon_harness as H
from http_helpers import HTTPDaemon, make_site

HERE = Path(__file__).resolve().parent


def tracker_daemon(root, name, tracker=None, torrent=None):
    """A started pigeond with the test site, [tracker] on HTTP and on a UDP port, and
    optionally a [torrent] peer section."""
    d = H.Daemon(root, name=name)
    www = make_site(root)
    hd = HTTPDaemon(d, www)
    hd.udp_port = H.free_port()
    d.sections["tracker"] = {"http": "yes", "listen": "127.0.0.1:%d" % hd.udp_port,
                             "interval": 30, "min_interval": 10, "flood_rate": 1000,
                             "flood_burst": 5000}
    d.sections["tracker"].update(tracker or {})
    if torrent is not None:
        d.sections["torrent"] = torrent
    d.write_conf()
    d.setup()
    d.start()
    hd.announce = hd.url("/announce")
    hd.udp_announce = "udp://127.0.0.1:%d/announce" % hd.udp_port
    return hd


def make_file(path, size, seed=b"pigeon"):
    """A file of `size` bytes of reproducible content; returns its sha256 hex."""
    h = hashlib.sha256()
    block = hashlib.sha512(seed).digest() * 2048  # 128 KiB
    with open(path, "wb") as f:
        left, i = size, 0
        while left:
            chunk = (block + i.to_bytes(8, "big"))[:min(left, len(block) + 8)]
            f.write(chunk)
            h.update(chunk)
            left -= len(chunk)
            i += 1
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mktorrent(src, out, announce=(), piece_log=18, private=False, webseeds=()):
    args = ["mktorrent", "-l", str(piece_log), "-o", str(out)]
    for a in announce:
        args += ["-a", a]
    for w in webseeds:
        args += ["-w", w]
    if private:
        args.append("-p")
    args.append(str(src))
    if os.path.exists(out):
        os.unlink(out)
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return out


class LtPeer:
    """A libtorrent peer process; lines of its output are kept for waiting on."""

    def __init__(self, torrent, save, seed=False, peers=()):
        self.port = H.free_port()
        args = [sys.executable if "python3" in sys.executable else "/usr/bin/python3",
                str(HERE / "lt_peer.py"), str(torrent), str(save), str(self.port)]
        if seed:
            args.append("--seed")
        for p in peers:
            args += ["--peer", p]
        self.log = Path(save) / (".lt_peer_%d.log" % self.port)
        self.proc = subprocess.Popen(["/usr/bin/python3"] + args[1:], stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT)

    def text(self):
        return self.log.read_text(errors="replace")

    def wait(self, needle, what):
        H.wait_until(lambda: needle in self.text() or self.proc.poll() is not None, what=what)
        assert needle in self.text(), "%s: libtorrent peer exited:\n%s" % (what, self.text()[-3000:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def aria2c(torrent, out_dir, timeout=300, extra=()):
    """Downloads with aria2c (no DHT, LSD or PEX; no seeding after completion)."""
    dht = [] if any(e.startswith("--enable-dht=") for e in extra) else ["--enable-dht=false"]
    args = ["aria2c", "--dir", str(out_dir), "--seed-time=0"] + dht + [
            "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
            "--bt-tracker-connect-timeout=10", "--bt-stop-timeout=%d" % (timeout - 20),
            "--summary-interval=0", "--console-log-level=warn", "--check-certificate=false",
            "--allow-overwrite=true", "--auto-file-renaming=false"] + list(extra) + [str(torrent)]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)
