"""The Web cache stopped while objects are in flight (issue 15): a clean stop (SIGTERM) in the
middle of a 50 MiB miss, with a client reading it and a second one collapsed behind the first,
frees everything (under ASan, LeakSanitizer reports nothing at exit), leaves no temporary file,
and the half-written object never becomes a hit after the restart: the next request goes to
the origin again and gets the whole body."""

import hashlib
import http.client
import os
import threading

import cache_helpers as C
import pigeon_harness as H

SIZE = 50 << 20
FIRST = 8 << 20


def test_stop_during_a_miss(tmp_path):
    origin = C.Origin()
    first, rest = b"1" * FIRST, b"2" * (SIZE - FIRST)
    arrived, gate = threading.Event(), threading.Event()
    origin.routes["/big"] = {"headers": {"Cache-Control": "max-age=600"},
                             "parts": [first, rest], "between": gate, "arrived": arrived}
    p = C.ProxyDaemon(tmp_path, "pigeond[cache_shutdown]")
    conns = []
    try:
        def open_one():
            c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=60)
            c.request("GET", origin.url("/big"))
            conns.append(c)
            return c.getresponse()

        leader = open_one()
        assert arrived.wait(30), "the origin was never asked"
        assert len(leader.read(FIRST // 2)) == FIRST // 2
        follower = open_one()
        assert "collapsed" in follower.getheader("Cache-Status")
        assert len(follower.read(FIRST // 4)) == FIRST // 4
        tmp = tmp_path / "data" / "proxy-cache" / "tmp"
        assert os.listdir(tmp), "the object is not being written"
        C.finish(p.d)  # SIGTERM while the origin holds the rest: exit 0, no sanitizer report
        assert os.listdir(tmp) == [], "a temporary object file was left behind"
        gate.set()
        for c in conns:
            c.close()
        conns = []
        p.d.start()
        r = open_one()
        body = r.read()
        assert r.status == 200 and len(body) == SIZE
        assert hashlib.sha256(body).digest() == hashlib.sha256(first + rest).digest()
        assert "fwd=uri-miss" in r.getheader("Cache-Status")  # not the half from before
        assert origin.count("/big") == 2
    finally:
        gate.set()
        for c in conns:
            c.close()
        C.finish(p.d)
        origin.close()
