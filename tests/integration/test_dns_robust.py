"""Robustness of the running name server: malformed packets (random bytes, short headers,
compression loops, impossible counts) get FORMERR or silence and the next query is answered;
SIGHUP and `pigeon dns reload` swap zones without dropping queries, and a bad zone file keeps
the old zone serving; response rate limiting drops or truncates over the limit (UDP only)."""

import os
import random
import signal
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import pytest

import dns_auth_helpers as A
import pigeon_harness as H

ZONE = """$ORIGIN robust.test.
$TTL 3600
@   SOA ns1 hostmaster %d 7200 900 1209600 300
@   NS  ns1
ns1 A   127.0.0.1
www A   192.0.2.%d
"""


@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    d = A.auth_daemon(tmp_path_factory.mktemp("dns_robust"), {"robust.test": ZONE % (1, 1)},
                      zone_opts={"robust.test": {"allow_transfer": "127.0.0.0/8"}})
    d.setup()
    d.start()
    yield d
    report = A.finish(d)
    assert report is None, report


def still_answers(port):
    r = A.query(port, "www.robust.test", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.answer


def header(qid=0x4242, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


QUESTION = b"\x03www\x06robust\x04test\x00\x00\x01\x00\x01"


def rcode_of(resp):
    return resp[3] & 0x0F


def test_random_bytes(auth):
    rnd = random.Random(1234)
    for _ in range(300):
        pkt = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 600)))
        resp = A.raw_udp(auth.dns_port, pkt, timeout=0.05)
        if resp is not None:  # only ever an answer to a query (QR clear) with a header
            assert len(resp) >= 12 and resp[2] & 0x80 and not pkt[2] & 0x80
    still_answers(auth.dns_port)


def test_truncated_header_is_silent(auth):
    for n in (0, 1, 5, 11):
        assert A.raw_udp(auth.dns_port, header()[:n], timeout=0.3) is None
    still_answers(auth.dns_port)


def test_compression_loop_formerr(auth):
    # the question name is a pointer to itself (offset 12)
    pkt = header() + b"\xc0\x0c\x00\x01\x00\x01"
    resp = A.raw_udp(auth.dns_port, pkt)
    assert resp is not None and rcode_of(resp) == dns.rcode.FORMERR
    assert resp[0:2] == pkt[0:2]
    # a forward pointer
    pkt = header() + b"\x03www\xc0\x20\x00\x01\x00\x01" + b"\x00" * 20
    resp = A.raw_udp(auth.dns_port, pkt)
    assert resp is not None and rcode_of(resp) == dns.rcode.FORMERR
    still_answers(auth.dns_port)


def test_huge_counts_formerr(auth):
    for counts in ((65535, 0, 0, 0), (1, 65535, 0, 0), (1, 0, 0, 65535), (1, 3000, 3000, 3000)):
        pkt = header(qd=counts[0], an=counts[1], ns=counts[2], ar=counts[3]) + QUESTION
        resp = A.raw_udp(auth.dns_port, pkt)
        assert resp is not None and rcode_of(resp) == dns.rcode.FORMERR
    # a label longer than 63 bytes
    pkt = header() + b"\x50" + b"a" * 80 + b"\x00\x00\x01\x00\x01"
    resp = A.raw_udp(auth.dns_port, pkt)
    assert resp is not None and rcode_of(resp) == dns.rcode.FORMERR
    # a response (QR set) is never answered
    assert A.raw_udp(auth.dns_port, header(flags=0x8000) + QUESTION, timeout=0.3) is None
    still_answers(auth.dns_port)


def test_malformed_over_tcp(auth):
    with socket.create_connection(("127.0.0.1", auth.dns_port), timeout=5) as s:
        pkt = header() + b"\xc0\x0c\x00\x01\x00\x01"
        s.sendall(struct.pack("!H", len(pkt)) + pkt)
        n = struct.unpack("!H", s.recv(2))[0]
        resp = s.recv(n)
        assert rcode_of(resp) == dns.rcode.FORMERR
        # the same connection still answers a good query
        q = dns.message.make_query("www.robust.test", "A").to_wire()
        s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2))[0]
        data = b""
        while len(data) < n:
            data += s.recv(n - len(data))
        assert dns.message.from_wire(data).answer
    still_answers(auth.dns_port)


def test_unknown_opcode_and_update_garbage(auth):
    resp = A.raw_udp(auth.dns_port, header(flags=0x1100) + QUESTION)  # opcode 2 (STATUS)
    assert rcode_of(resp) == dns.rcode.NOTIMP
    # an UPDATE (opcode 5) whose update section runs past the end
    resp = A.raw_udp(auth.dns_port, header(flags=0x2800, qd=1, ns=2) + QUESTION)
    assert resp is None or rcode_of(resp) == dns.rcode.FORMERR
    still_answers(auth.dns_port)


class Hammer(threading.Thread):
    """Queries www.robust.test in a loop; counts answers that did not come."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = False
        self.ok = self.failed = 0
        self.seen = set()

    def run(self):
        while not self.stop:
            try:
                r = A.query(self.port, "www.robust.test", "A")
                if r.rcode() == dns.rcode.NOERROR and r.answer:
                    self.ok += 1
                    self.seen.add(r.answer[0][0].to_text())
                else:
                    self.failed += 1
            except Exception:
                self.failed += 1


def test_reload_without_dropping_queries(auth):
    port = auth.dns_port
    zfile = auth.zone_files["robust.test"]
    h = Hammer(port)
    h.start()
    try:
        H.wait_until(lambda: h.ok >= 10, what="the hammer's first answers")
        zfile.write_text(ZONE % (2, 2))
        auth.signal(signal.SIGHUP)
        A.wait_for(lambda: A.serial(port, "robust.test") == 2, 10, "serial 2 after SIGHUP")
        # a broken file: the old version keeps serving, the log says where
        zfile.write_text(ZONE % (3, 3) + "bad line here\n")
        auth.signal(signal.SIGHUP)
        A.wait_for(lambda: "not reloaded" in auth.log(), 10, "the reload error in the log")
        assert "robust.test.zone:7:" in auth.log()
        assert A.serial(port, "robust.test") == 2
        n = h.ok  # queries keep being answered after the failed reload
        H.wait_until(lambda: h.ok >= n + 11, what="answers after the failed reload")
    finally:
        h.stop = True
        h.join(10)
    assert h.failed == 0 and h.ok > 20
    assert h.seen == {"192.0.2.1", "192.0.2.2"}
    # the reload with a new serial left a difference for IXFR
    out = A.dig(port, "+tcp", "robust.test", "IXFR=1")
    assert "192.0.2.1" in out and "192.0.2.2" in out


def test_pigeon_dns_reload(auth):
    port = auth.dns_port
    pidfile = os.path.join(auth.data_dir, "pigeond.pid")
    H.wait_file(pidfile)
    assert int(open(pidfile).read()) == auth.proc.pid
    auth.zone_files["robust.test"].write_text(ZONE % (10, 10))
    out = auth.cli("dns", "reload").stdout.decode()
    assert "zone robust.test: serial 10" in out  # the answer comes once the zone is swapped in
    assert A.serial(port, "robust.test") == 10
    assert A.query(port, "www.robust.test", "A").answer[0][0].to_text() == "192.0.2.10"


def test_pidfile_removed_and_cli_reports(tmp_path):
    d = A.auth_daemon(tmp_path / "d", {"robust.test": ZONE % (1, 1)})
    d.setup()
    d.start()
    pidfile = os.path.join(d.data_dir, "pigeond.pid")
    # written once the listeners are up, which is all start() waits for
    H.wait_file(pidfile)
    assert A.finish(d) is None
    assert not os.path.exists(pidfile)
    p = d.cli("dns", "reload", check=False)
    assert p.returncode == 1 and b"not running" in p.stderr


def _burst(sock, dest, n):
    """Sends n queries at once from sock to dest; returns (full answers, truncated answers)."""
    q = dns.message.make_query("www.robust.test", "A")
    full = tc = 0
    for i in range(n):
        q.id = i
        sock.sendto(q.to_wire(), dest)
    try:
        while True:
            r = dns.message.from_wire(sock.recv(4096))
            if r.flags & dns.flags.TC:
                assert not r.answer
                tc += 1
            else:
                full += 1
    except socket.timeout:
        pass
    return full, tc


def test_rrl_loopback_exempt(tmp_path):
    """Loopback clients are never limited, however low the rate."""
    d = A.auth_daemon(tmp_path / "rrl", {"robust.test": ZONE % (1, 1)},
                      dns={"rrl_rate": 10, "rrl_slip": 2})
    d.setup()
    d.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(1.0)
            for _ in range(10):  # in tens, so no socket buffer ever overflows
                assert _burst(s, ("127.0.0.1", d.dns_port), 10) == (10, 0)
    finally:
        report = A.finish(d)
    assert report is None, report


SERVER_IP, CLIENT_IP = "192.0.2.53", "198.51.100.7"


def _in_netns(fn):
    """Runs fn() in a forked child inside a network namespace of its own (lo up, SERVER_IP and
    CLIENT_IP on lo, so traffic between them is not loopback-sourced); returns what fn
    returned (JSON-able), or raises with the child's traceback."""
    import ctypes
    import json
    import subprocess
    import traceback
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(0x40000000) != 0:  # CLONE_NEWNET
                raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
            for a in (SERVER_IP, CLIENT_IP):
                subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"], check=True)
            out = {"ok": fn()}
        except BaseException:
            out = {"error": traceback.format_exc()}
        os.write(wfd, json.dumps(out).encode())
        os._exit(0)
    os.close(wfd)
    data = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(rfd)
    os.waitpid(pid, 0)
    out = json.loads(data)
    assert "error" not in out, out.get("error")
    return out["ok"]


def _rrl_from_far(tmp_path, dns_keys, n):
    """Starts a pigeond listening on SERVER_IP:53 (and loopback for readiness) in its own
    network namespace, sends n queries at once from CLIENT_IP; (full, truncated, report)."""
    def run():
        d = A.auth_daemon(tmp_path / "rrl", {"robust.test": ZONE % (1, 1)}, dns=dns_keys)
        d.sections["dns"]["listen"] = ["127.0.0.1:%d" % d.dns_port, SERVER_IP + ":53"]
        d.write_conf()
        d.setup()
        d.start()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
                s.bind((CLIENT_IP, 0))
                s.settimeout(1.0)
                full, tc = _burst(s, (SERVER_IP, 53), n)
                # TCP is never limited
                tcp = [bool(A.query(53, "www.robust.test", "A", tcp=True, host=SERVER_IP).answer)
                       for _ in range(20)]
        finally:
            report = A.finish(d)
        return full, tc, all(tcp), report
    return _in_netns(run)


def test_rrl_on_by_default_for_remote_clients(tmp_path):
    """No rrl_* keys: a burst from a non-loopback address meets the default limit (200/s per
    /24, a burst of one second's worth; every 2nd limited answer truncated, TC=1)."""
    # 250 queries at once: fewer than the server's default socket buffer holds, so none is
    # lost before the limit sees it
    full, tc, tcp_ok, report = _rrl_from_far(tmp_path, {}, 250)
    assert report is None, report
    # 200, plus what refills while the burst is sent (more on a slow machine); of the rest,
    # every 2nd is truncated
    assert 190 <= full < 250, (full, tc)
    assert abs(tc - (250 - full) // 2) <= 1, (full, tc)
    assert tcp_ok


def test_rrl_off_by_configuration(tmp_path):
    full, tc, tcp_ok, report = _rrl_from_far(tmp_path, {"rrl_rate": 0}, 150)
    assert report is None, report
    assert (full, tc) == (150, 0)


def test_rrl_low_rate(tmp_path):
    full, tc, tcp_ok, report = _rrl_from_far(tmp_path, {"rrl_rate": 10, "rrl_slip": 2}, 100)
    assert report is None, report
    # a burst of one second's worth (10), then every 2nd limited answer truncated
    assert 10 <= full <= 13, (full, tc)
    assert 35 <= tc <= 50, (full, tc)
    assert tcp_ok


def test_tcp_pipelined_and_split(auth):
    """RFC 7766: several queries in one segment are answered in order; a query arriving
    byte by byte is answered once complete."""
    msgs = []
    for i, name in enumerate(("www.robust.test", "nope.robust.test", "robust.test")):
        q = dns.message.make_query(name, "A")
        q.id = 100 + i
        w = q.to_wire()
        msgs.append(struct.pack("!H", len(w)) + w)
    with socket.create_connection(("127.0.0.1", auth.dns_port), timeout=5) as s:
        s.sendall(b"".join(msgs))
        for i in range(3):
            n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
            r = dns.message.from_wire(s.recv(n, socket.MSG_WAITALL))
            assert r.id == 100 + i
        for b in msgs[0]:
            s.send(bytes([b]))
            time.sleep(0.002)
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        assert dns.message.from_wire(s.recv(n, socket.MSG_WAITALL)).answer
