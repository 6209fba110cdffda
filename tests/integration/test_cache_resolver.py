"""The Web cache resolves origin names with Pigeon's own resolver (issue 15): `[proxy]
resolver = pigeon` asks the workers' DNS stub, here the in-process recursive resolver
(`[delivery] resolver = internal`) walking the simulated hierarchy of dns_hierarchy.py
(root and edu on NSD/pigeond at 127.0.53.x). www.hamburger.edu is 127.0.0.80 there and
nowhere else: the system's resolver cannot find it, so an answer from the origin on that
address, and the queries the wiretaps saw, show whose resolver was asked."""

import subprocess

import pytest

import cache_helpers as C
import dns_hierarchy as DH
import pigeon_harness as H


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("cache_resolver")
    h = DH.Hierarchy(root)
    origin = C.Origin("127.0.0.80")
    d = DH.resolver_daemon(root / "pigeond", h.hints, internal=True)
    port = H.free_port()
    d.sections["http www"] = {"listen": "127.0.0.1:%d" % port,
                              "proxy_to": "http://www.hamburger.edu:%d" % origin.port}
    d.sections["proxy"] = {"resolver": "pigeon", "resolver_fallback": "no"}
    d.ports.append(port)
    d.write_conf()
    try:
        d.setup()
        d.start()
        d.http_port = port
        yield h, d, origin
    finally:
        try:
            C.finish(d)
        finally:
            origin.close()
            h.close()


def test_origin_found_through_pigeons_resolver(world):
    h, d, origin = world
    origin.routes["/"] = {"headers": {"Cache-Control": "max-age=60"}, "body": b"found by name"}
    h.reset_counts()
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "60", "-o", "-", "-w", " %{http_code}",
                          "http://127.0.0.1:%d/" % d.http_port],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=90)
    assert out.stdout == b"found by name 200", out.stderr
    assert origin.count("/") == 1
    # The in-process resolver walked root -> edu -> hamburger.edu for the name.
    asked = [n for t in h.taps.values() for n in t.names()]
    assert any(n.lower().rstrip(".") == "www.hamburger.edu" for n in asked), asked
    _, _, headers, _ = origin.last("/")
    assert headers["Host"] == "www.hamburger.edu:%d" % origin.port
