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


def peer_daemon(root, name, tracker=None, **kw):
    port = H.free_port()
    torrent = {"listen": "127.0.0.1:%d" % port, "dir": str(Path(root) / "downloads"),
               "watch_dir": str(Path(root) / "watch")}
    torrent.update(kw)
    hd = tracker_daemon(root, name, tracker=tracker, torrent=torrent)
    hd.peer_port = port
    hd.downloads = Path(torrent["dir"])
    hd.watch = Path(torrent["watch_dir"])
    return hd


def status(hd):
    p = hd.d.cli("torrent", "list", check=False)
    return p.stdout.decode()


def wait_state(hd, hexhash, state, what):
    H.wait_until(lambda: any(line.startswith(hexhash) and (" %s " % state) in line
                             for line in status(hd).splitlines()),
                 what=what, on_timeout=lambda: status(hd) + hd.d.log_tail(3000))


def info_hash(torrent):
    import libtorrent as lt
    return str(lt.torrent_info(str(torrent)).info_hash())


def raw_hash(torrent):
    import libtorrent as lt
    return lt.torrent_info(str(torrent)).info_hash().to_bytes()


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

    def __init__(self, torrent, save, seed=False, peers=(), host=None, extra=()):
        self.port = H.free_port()
        args = [sys.executable if "python3" in sys.executable else "/usr/bin/python3",
                str(HERE / "lt_peer.py"), str(torrent), str(save), str(self.port)]
        if seed:
            args.append("--seed")
        if host:
            args += ["--host", host]
        args += list(extra)
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


# ---- a scripted peer: raw BitTorrent messages over a socket, for what stock clients hide ----

import socket as _socket
import struct as _struct


class ScriptedPeer:
    """One connection speaking the wire protocol by hand (BEP 3)."""

    def __init__(self, sock, info_hash, peer_id=b"-PY0001-scriptedpeer", reserved=bytes(8)):
        self.s = sock
        self.reserved = reserved
        self.buf = b""
        self.info_hash = info_hash
        self.peer_id = peer_id
        self.choked = True
        self.bitfield = None

    @classmethod
    def dial(cls, port, info_hash, **kw):
        s = _socket.create_connection(("127.0.0.1", port), timeout=30)
        p = cls(s, info_hash, **kw)
        p.send_handshake()
        return p

    def send_handshake(self):
        self.s.sendall(b"\x13BitTorrent protocol" + self.reserved + self.info_hash + self.peer_id)

    def read_handshake(self):
        while len(self.buf) < 68:
            self._fill()
        hs, self.buf = self.buf[:68], self.buf[68:]
        assert hs[:20] == b"\x13BitTorrent protocol" and hs[28:48] == self.info_hash, hs
        return hs

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("peer closed the connection")
        self.buf += d

    def send(self, msg_id, payload=b""):
        self.s.sendall(_struct.pack(">IB", len(payload) + 1, msg_id) + payload)

    def next_message(self):
        """(id, payload), or (None, b'') for a keep-alive; tracks choke state."""
        while len(self.buf) < 4:
            self._fill()
        n = _struct.unpack(">I", self.buf[:4])[0]
        while len(self.buf) < 4 + n:
            self._fill()
        body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        if n == 0:
            return None, b""
        mid, payload = body[0], body[1:]
        if mid in (0, 1):
            self.choked = mid == 0
        if mid == 5:
            self.bitfield = payload
        return mid, payload

    def close(self):
        self.s.close()


def announce_by_hand(hd, info_hash, port, left, event="started"):
    """Announces a scripted peer to Pigeon's tracker (HTTP)."""
    import urllib.parse
    import urllib.request
    q = urllib.parse.urlencode({"info_hash": info_hash, "peer_id": b"-PY0001-scriptedpeer",
                                "port": port, "uploaded": 0, "downloaded": 0, "left": left,
                                "event": event, "compact": 1})
    with urllib.request.urlopen(hd.announce + "?" + q, timeout=30) as r:
        return r.read()
