"""The DHCP service's safety rules with scripted clients (tests/integration/dhcp_probe.py) in a
namespace joined by a veth pair the test makes (issue 20): the rate limits per client MAC and
per relay, answering only on the configured interfaces, the unicast reply at chaddr to a
client that has no address yet and did not ask for broadcast (RFC 2131 §4.1), an ACKed
lease that survives the daemon being killed at once, and a failed COMMIT (a full disk).
"""
import os
import re

import pytest

import pigeon_harness as H

from test_dhcp import (CLI_IF, SERVER, SRV_IF, _count, dhcp_daemon, dora, finish,  # noqa: F401
                       leases, net, probe, sh, start)


def test_rate_limit_per_mac(tmp_path, net):
    """rate_per_mac = 1 (a burst of 2): of 30 DISCOVERs one client sends at once only a few
    are answered, the drop is logged, and another client is served as usual."""
    d = dhcp_daemon(tmp_path, dhcp={"rate_per_mac": 1})
    start(d)
    off = d.log_size()
    answered, = probe(net, dict(op="discover", mac="52:54:00:aa:01:01", count=30, timeout=3))
    d.wait_log(r"dhcp: rate limit of client 52:54:00:aa:01:01: dropped a message", start=off)
    # 2 at once, then 1 a second for however long the server took to read the 30
    assert 1 <= answered <= 10, answered
    _, ack = dora(net, "52:54:00:aa:01:02")
    assert ack["type"] == "ack", ack
    finish(d)


def test_rate_limit_per_relay(tmp_path, net):
    """rate_per_relay = 2: 30 DISCOVERs of 30 different clients through one relay agent at
    once: the relay's budget, not the clients', drops most of them (logged)."""
    d = dhcp_daemon(tmp_path, dhcp={"rate_per_relay": 2})
    d.sections["dhcp-subnet 10.88.0.0/24"] = {"pool": "10.88.0.50 - 10.88.0.99",
                                             "router": "10.88.0.1"}
    d.write_conf()
    sh("ip", "netns", "exec", net, "ip", "addr", "add", "10.77.0.254/24", "dev", CLI_IF)
    sh("ip", "netns", "exec", net, "ip", "addr", "add", "10.88.0.1/24", "dev", "lo")
    sh("ip", "route", "add", "10.88.0.0/24", "via", "10.77.0.254", "dev", SRV_IF)
    start(d)
    off = d.log_size()
    relay = dict(giaddr="10.88.0.1", to=SERVER, relay_info="0104706f7274", broadcast=False)
    answered, = probe(net, dict(op="discover", mac="52:54:00:cc:01:00", count=30,
                                vary_mac=True, timeout=3, **relay))
    d.wait_log(r"dhcp: rate limit of relay 10\.88\.0\.1: dropped a message", start=off)
    assert "rate limit of client" not in d.log()
    assert 1 <= answered <= 10, answered
    # a client on the served link is not held back by the relay's budget
    _, ack = dora(net, "52:54:00:aa:01:03")
    assert ack["type"] == "ack", ack
    finish(d)


@pytest.fixture
def other_link():
    """A second veth pair into a namespace of its own, 10.79.0.1/24 on our side: a link the
    daemon is not configured for."""
    ns = "pgdhcpx%d_%d" % (os.getpid(), next(_count))
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", "pgdhx0", "type", "veth", "peer", "name", "pgdhxc", "netns", ns)
        sh("ip", "addr", "add", "10.79.0.1/24", "dev", "pgdhx0")
        sh("ip", "link", "set", "pgdhx0", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "pgdhxc", "up")
        yield ns
    finally:
        sh("ip", "link", "del", "pgdhx0", check=False)
        sh("ip", "netns", "del", ns, check=False)


def test_answers_only_on_configured_interfaces(tmp_path, net, other_link):
    """[dhcp] interfaces = pgdh0 only: an INIT-REBOOT REQUEST for a free pool address sent on
    another link of the same host gets no reply and binds nothing (a socket not bound to its
    interface would take it as pgdh0's and ACK it); the same request on pgdh0 is ACKed."""
    d = dhcp_daemon(tmp_path)
    start(d)
    stray = dict(op="request", mac="52:54:00:aa:02:01", requested="10.77.0.100", timeout=3)
    got, = probe(other_link, stray, iface="pgdhxc")
    assert got is None, got
    off = d.log_size()
    ok, = probe(net, dict(stray, mac="52:54:00:aa:02:02"))
    assert ok and ok["type"] == "ack" and ok["yiaddr"] == "10.77.0.100", ok
    d.wait_log(r"dhcp: ACK 10\.77\.0\.100 to 52:54:00:aa:02:02 on pgdh0", start=off)
    assert "52:54:00:aa:02:01" not in d.log()
    assert "52:54:00:aa:02:01" not in leases(d)
    finish(d)


def test_unicast_reply_to_client_without_address(tmp_path, net):
    """RFC 2131 §4.1: a DISCOVER without the broadcast bit from a client with no address gets
    its OFFER unicast to yiaddr at its chaddr (the server puts the pair in its ARP table); with
    the bit, the OFFER is broadcast."""
    d = dhcp_daemon(tmp_path)
    start(d)
    mac = "52:54:00:aa:03:01"
    offer, = probe(net, dict(op="discover", mac=mac, broadcast=False, capture=True))
    assert offer and offer["type"] == "offer", offer
    assert offer["ip_dst"] == offer["yiaddr"] and offer["eth_dst"] == mac, offer
    offer, = probe(net, dict(op="discover", mac=mac, capture=True))
    assert offer["ip_dst"] == "255.255.255.255" and offer["eth_dst"] == "ff:ff:ff:ff:ff:ff"
    finish(d)


def test_acked_lease_survives_kill9(tmp_path, net):
    """The daemon is killed (SIGKILL) as soon as the client has its ACK: after a restart the
    lease is there, another client asking for the address gets a NAK, and its owner keeps it."""
    d = dhcp_daemon(tmp_path)
    start(d)
    _, ack = dora(net, "52:54:00:aa:04:01")
    assert ack["type"] == "ack", ack
    d.kill9()
    d.proc.wait()
    start(d)
    addr = ack["yiaddr"]
    assert re.search(re.escape(addr) + r"\s+bound\s", leases(d)), leases(d)
    nak, = probe(net, dict(op="request", mac="52:54:00:aa:04:02", requested=addr))
    assert nak and nak["type"] == "nak", nak
    ok, = probe(net, dict(op="request", mac="52:54:00:aa:04:01", requested=addr))
    assert ok and ok["type"] == "ack" and ok["yiaddr"] == addr, ok
    finish(d)


def fill(directory):
    """Writes a file in directory until its file system is full."""
    with open(directory / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_failed_commit_then_rebuild_still_answers_rebooting_clients(tmp_path, net):
    """A COMMIT that fails (the leases on a full file system) sends no ACK and turns the lease
    cache off for good: after the space is freed and the engine rebuilt (`pigeon dhcp
    reserve`), a client that got a lease since and reboots within cache_threshold gets its
    ACK, written again. (A rebuilt engine once had the cache back on while the commit side
    still dropped cached ACKs: that client got no answer at all for 25 % of its lease.)"""
    mnt = tmp_path / "leases"
    mnt.mkdir()
    sh("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt)
    try:
        d = dhcp_daemon(tmp_path, dhcp={"lease_dir": str(mnt)})
        start(d)
        _, ack = dora(net, "52:54:00:aa:05:01")
        assert ack["type"] == "ack", ack
        fill(mnt)
        off = d.log_size()
        offer, = probe(net, dict(op="discover", mac="52:54:00:aa:05:02"))
        lost, = probe(net, dict(op="request", mac="52:54:00:aa:05:02",
                                requested=offer["yiaddr"],
                                server_id=offer["options"]["server_id"], timeout=3))
        assert lost is None, lost  # not on disk: not ACKed
        d.wait_log(r"dhcp: \d+ lease change\(s\) not committed", start=off)
        assert "cannot rollback" not in d.log()  # the failed COMMIT rolled back by itself
        (mnt / "filler").unlink()
        off = d.log_size()
        d.cli("dhcp", "reserve", "52:54:00:aa:05:09", "10.77.0.60")
        d.wait_log(r"dhcp: reservations reloaded", start=off)
        _, ack = dora(net, "52:54:00:aa:05:03")
        assert ack["type"] == "ack", ack
        again, = probe(net, dict(op="request", mac="52:54:00:aa:05:03",
                                 requested=ack["yiaddr"], timeout=5))
        assert again and again["type"] == "ack" and again["yiaddr"] == ack["yiaddr"], again
        finish(d)
    finally:
        sh("umount", "-l", mnt, check=False)


def test_sample_config_serves_no_dhcp():
    """The shipped sample config has its [dhcp] and [dhcp-subnet] sections commented out, so a
    pigeond started with it never answers DHCP on the machine's real interfaces."""
    text = (H.REPO / "etc" / "pigeon.conf").read_text()
    assert re.search(r"^#\[dhcp\]$", text, re.M) and re.search(r"^#\[dhcp-subnet ", text, re.M)
    live = [l for l in text.splitlines() if re.match(r"\s*\[dhcp", l)]
    assert live == [], live
