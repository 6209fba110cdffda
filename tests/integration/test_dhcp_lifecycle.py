"""The DHCP service over a lease's life and its safety checks (issue 20), in a namespace with
a veth pair made by each test: busybox udhcpc RENEWING and its own RELEASE, ISC dhclient
REBINDING when the server it renews with cannot be reached, the ICMP conflict check before an
OFFER ([dhcp] ping_check), BOOTP clients (RFC 951/1542), and the pool alarm with
`pigeon dhcp pools` and the /metrics pool gauges.
"""
import re
import shutil
import signal
import subprocess
import urllib.request

import dns.rcode

import pigeon_harness as H
from test_dhcp import (CLI_IF, SERVER, dhcp_daemon, dora, finish, leases, net,  # noqa: F401
                       probe, resolve, sh, start, udhcpc_files)


def test_udhcpc_renews_then_releases(tmp_path, net):
    """udhcpc with a 60 s lease renews at T1 (30 s) (unicast REQUEST, RENEWING) and keeps its
    address; stopped with -R it sends RELEASE itself: the lease is released and its name
    leaves DNS."""
    d = dhcp_daemon(tmp_path, subnet={"lease_time": 60})
    start(d)
    script, out, env = udhcpc_files(tmp_path)
    p = subprocess.Popen(["ip", "netns", "exec", net, shutil.which("udhcpc"), "-i", CLI_IF, "-f",
                          "-R", "-t", "5", "-T", "2", "-s", str(script), "-x", "hostname:box3"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        H.wait_until(lambda: out.exists() and "event=bound" in out.read_text(), 30, "bound")
        ip = re.search(r"ip=(\S+)", out.read_text()).group(1)
        H.wait_until(lambda: ip in resolve(d, "box3.lan.test", "A")[1], 10, "box3's A")
        off = d.log_size()
        H.wait_until(lambda: "event=renew" in out.read_text(), 60, "udhcpc's renewal")
        d.wait_log(r"dhcp: ACK " + re.escape(ip) + r" to \S+ on pgdh0 \(renewing\)", start=off)
        renewed = out.read_text().split("event=bound")[-1]
        assert "ip=" + ip in renewed, renewed
        assert "bound" in leases(d)
    finally:
        p.send_signal(signal.SIGTERM)  # -R: RELEASE on the way out
        p.wait(timeout=30)
    H.wait_until(lambda: re.search(re.escape(ip) + r"\s+released", leases(d)), 10,
                 "the lease released by udhcpc")
    d.wait_log(r"ddns: removed box3\.lan\.test\.")
    H.wait_until(lambda: resolve(d, "box3.lan.test", "A")[0] == dns.rcode.NXDOMAIN, 10,
                 "box3 gone")
    finish(d)


DHCLIENT_SCRIPT = """#!/bin/sh
case "$reason" in BOUND|RENEW|REBIND|REBOOT)
echo "reason=$reason ip=$new_ip_address" >> OUTFILE
ip addr add "$new_ip_address/24" dev "$interface" 2>/dev/null ;;
esac
exit 0
"""


def test_dhclient_rebinds_when_its_server_is_unreachable(tmp_path, net):
    """The subnet's server_id is an address nobody answers at: dhclient's unicast renewals
    (RENEWING) go nowhere, and at T2 it broadcasts its REQUEST (REBINDING, RFC 2131 §4.4.5),
    which the server answers: the ACK is logged as rebinding, and dhclient keeps its address
    (ISC dhclient calls its script with RENEW for both states). T1 = 60 s and T2 = 70 s of a
    120 s lease: the rebinding REQUEST has 50 s before the lease would expire
    (with T2 at 7/8 of a 60 s lease it had 7.5 s, and a late answer on a loaded machine sent
    dhclient back to DISCOVER)."""
    d = dhcp_daemon(tmp_path, subnet={"lease_time": 120, "renew_time": 60, "rebind_time": 70,
                                      "server_id": "10.77.0.9"})
    start(d)
    script = tmp_path / "dhclient.sh"
    out = tmp_path / "dhclient.out"
    script.write_text(DHCLIENT_SCRIPT.replace("OUTFILE", str(out)))
    script.chmod(0o755)
    lf, pf = tmp_path / "dhclient.leases", tmp_path / "dhclient.pid"
    p = subprocess.Popen(["ip", "netns", "exec", net, shutil.which("dhclient"), "-d", "-4",
                          "-sf", str(script), "-lf", str(lf), "-pf", str(pf), CLI_IF],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        H.wait_until(lambda: out.exists() and "reason=BOUND" in out.read_text(), 60, "bound")
        ip = re.search(r"reason=BOUND ip=(\S+)", out.read_text()).group(1)
        off = d.log_size()
        d.wait_log(r"dhcp: ACK " + re.escape(ip) + r" to \S+ on pgdh0 \(rebinding\)", start=off,
                   timeout=110)
        H.wait_until(lambda: "reason=RENEW ip=" + ip in out.read_text(), 60, "dhclient's script")
        assert "(renewing)" not in d.log()  # no unicast renewal got through
        assert re.search(re.escape(ip) + r"\s+bound", leases(d)), leases(d)
    finally:
        p.terminate()
        p.wait(timeout=30)
    finish(d)


def test_ping_check_skips_an_address_in_use(tmp_path, net):
    """ping_check = yes: a host on the link already uses 10.77.0.100 without a lease; it
    answers the server's ICMP echo, so the address is quarantined and 10.77.0.101 offered."""
    sh("ip", "netns", "exec", net, "ip", "addr", "add", "10.77.0.100/24", "dev", CLI_IF)
    d = dhcp_daemon(tmp_path, dhcp={"ping_check": "yes", "ping_timeout": 300})
    start(d)
    offer, ack = dora(net, "52:54:00:aa:00:21")
    assert offer["yiaddr"] == "10.77.0.101", offer
    assert ack["type"] == "ack" and ack["yiaddr"] == "10.77.0.101", ack
    d.wait_log(r"dhcp: 10\.77\.0\.100 answers ping: in use by a host without a lease")
    assert re.search(r"10\.77\.0\.100\s+declined", leases(d)), leases(d)
    # nobody answers at .102: offered after the check's timeout
    offer, _ = dora(net, "52:54:00:aa:00:22")
    assert offer["yiaddr"] == "10.77.0.102", offer
    finish(d)


def test_bootp_reserved_and_dynamic(tmp_path, net):
    """RFC 951 clients (no DHCP message type): the reserved one gets its address, another a
    pool address (bootp = dynamic); both replies carry no DHCP options of their own (no
    message type, no lease time), and both leases are bound for ever."""
    d = dhcp_daemon(tmp_path, subnet={"bootp": "dynamic"})
    start(d)
    r, = probe(net, dict(op="bootp", mac="52:54:00:aa:00:99"))
    assert r and r["type"] == "bootreply" and r["yiaddr"] == "10.77.0.50", r
    assert r["options"].get("router") == SERVER and r["options"].get("subnet_mask"), r
    assert "lease_time" not in r["options"] and r["siaddr"] == SERVER, r
    r, = probe(net, dict(op="bootp", mac="52:54:00:aa:00:31"))
    assert r and r["type"] == "bootreply" and r["yiaddr"] == "10.77.0.100", r
    text = leases(d)
    for addr in ("10.77.0.50", "10.77.0.100"):
        assert re.search(re.escape(addr) + r"\s+bound\s+-\s", text), text  # until: never
    d.wait_log(r"dhcp: BOOTREPLY 10\.77\.0\.100 to 52:54:00:aa:00:31")
    finish(d)


def pool_gauges(d):
    """The two /metrics gauges of 10.77.0.0/24: (addresses, used), None when absent."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % d.metrics_port, timeout=10) as r:
        text = r.read().decode()
    got = []
    for name in ("pigeon_dhcp_pool_addresses", "pigeon_dhcp_pool_used"):
        m = re.search(r'^%s\{subnet="10\.77\.0\.0/24"\} (\d+)$' % name, text, re.M)
        got.append(int(m.group(1)) if m else None)
    assert text.count('pigeon_dhcp_pool_used{subnet="10.77.0.0/24"}') <= 1, text
    return tuple(got)


def test_pool_alarm_and_pigeon_dhcp_pools(tmp_path, net):
    """pool_alarm = 50: the third lease of a 5-address subnet (4 in the pool, 1 reserved)
    takes it to 60 %: one warning; `pigeon dhcp pools` shows the same counts and marks it,
    and the [metrics] listener's two gauges of the subnet follow (5 addresses; 0, then 3
    used), each subnet's sample once."""
    d = dhcp_daemon(tmp_path, dhcp={"pool_alarm": 50})
    d.metrics_port = H.free_port()
    d.sections["metrics"] = {"listen": "127.0.0.1:%d" % d.metrics_port}
    d.ports.append(d.metrics_port)
    d.write_conf()
    start(d)
    out = d.cli("dhcp", "pools").stdout.decode()
    assert re.search(r"10\.77\.0\.0/24\s+5\s+0\s+0\s+0%\n", out), out
    H.wait_until(lambda: pool_gauges(d) == (5, 0), 10, "the gauges at 5 and 0")
    acks = [dora(net, mac)[1] for mac in ("52:54:00:aa:00:41", "52:54:00:aa:00:42",
                                          "52:54:00:aa:00:43")]
    d.wait_log(r"dhcp: pool alarm: subnet 10\.77\.0\.0/24 is 60% used \(3 of 5 addresses bound")
    out = d.cli("dhcp", "pools").stdout.decode()
    assert re.search(r"10\.77\.0\.0/24\s+5\s+3\s+0\s+60% alarm", out), out
    assert len(re.findall(r"pool alarm: subnet", d.log())) == 1
    H.wait_until(lambda: pool_gauges(d) == (5, 3), 10, "the used gauge at 3")
    # an administrator's release frees one: the gauge follows at the next tick
    d.cli("dhcp", "release", acks[0]["yiaddr"])
    H.wait_until(lambda: pool_gauges(d) == (5, 2), 10, "the used gauge at 2")
    finish(d)
