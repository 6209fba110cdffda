"""The DHCP service over a lease's life and its safety checks (issue 20), in namespaces with
veth pairs made by each test: udhcpc, dhclient and dhcpcd each RENEWING, REBINDING and
releasing its lease itself, ISC dhclient REBINDING when the server it renews with cannot be
reached, the ICMP conflict check before an
OFFER ([dhcp] ping_check), BOOTP clients (RFC 951/1542), and the pool alarm with
`pigeon dhcp pools` and the /metrics pool gauges.
"""
import os
import re
import shutil
import signal
import subprocess
import urllib.request

import dns.rcode
import pytest

import pigeon_harness as H
from test_dhcp import (CLI_IF, SERVER, ZONE, _count, dhcp_daemon, dora, finish,  # noqa: F401
                       leases, net, probe, resolve, sh, start)


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


# ---- every stock client through renew, rebind and release ----
#
# udhcpc, dhclient and dhcpcd at once, each in a network namespace of its own on one bridge
# where the server listens. A 120 s lease with T1 60 s and T2 70 s (the least [dhcp] allows;
# busybox udhcpc renews at half the lease and rebinds after three unanswered unicast tries):
# each client binds (address, router, DNS, domain from its hook script) and renews by unicast
# (RENEWING); then a wrong MAC address for the server's address in each client's ARP table
# makes its next unicast renewals go nowhere (a route would not do: udhcpc's socket is bound
# to its interface), so it broadcasts (REBINDING, RFC 2131 §4.4.5); the entries go and each
# client releases its lease itself. The server's log says which state
# each ACK answered.

BRIDGE = "pgdhbr"

CLIENT_SCRIPT = """#!/bin/sh
echo "reason=$1$reason ip=$ip$new_ip_address router=$router$new_routers" \\
     "dns=$dns$new_domain_name_servers domain=$domain$new_domain_name" >> OUTFILE
case "$1$reason" in bound|renew|BOUND|RENEW|REBIND|REBOOT)
    ip addr add "$ip$new_ip_address/24" dev "$interface" 2>/dev/null ;;
esac
exit 0
"""


def client_udhcpc(ns, script, tmp, name):
    cmd = [shutil.which("udhcpc"), "-i", CLI_IF, "-f", "-R", "-t", "5", "-T", "2", "-s", script,
           "-x", "hostname:" + name]
    return cmd, lambda p: (p.send_signal(signal.SIGTERM), p.wait(timeout=30))  # -R: RELEASE


def client_dhclient(ns, script, tmp, name):
    conf = tmp / "dhclient.conf"
    conf.write_text('send host-name "%s";\nrequest subnet-mask, routers, domain-name-servers, '
                    'domain-name, dhcp-renewal-time, dhcp-rebinding-time;\n' % name)
    base = [shutil.which("dhclient"), "-4", "-sf", script, "-cf", str(conf),
            "-lf", str(tmp / "dhclient.leases"), "-pf", str(tmp / "dhclient.pid")]

    def release(p):  # dhclient -r stops the running one (its pid file) and sends RELEASE
        sh("ip", "netns", "exec", ns, *base, "-r", CLI_IF, timeout=60)
        p.wait(timeout=30)
    return base + ["-d", CLI_IF], release


def client_dhcpcd(ns, script, tmp, name):
    base = [shutil.which("dhcpcd"), "-4", "--noarp", "-c", script]

    def release(p):  # -k: the running dhcpcd releases its lease and exits
        sh("ip", "netns", "exec", ns, *base, "-k", CLI_IF, timeout=60)
        p.wait(timeout=30)
    return base + ["-B", "-h", name, CLI_IF], release


@pytest.fixture
def bridged():
    """Three client namespaces, each joined by a veth pair to BRIDGE (SERVER/24) here."""
    tag = "%d_%d" % (os.getpid(), next(_count))
    spaces = ["pgdhb%s_%d" % (tag, i) for i in range(3)]
    try:
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", SERVER + "/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for i, ns in enumerate(spaces):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", "pgdhv%d" % i, "type", "veth", "peer", "name", CLI_IF,
               "netns", ns)
            sh("ip", "link", "set", "pgdhv%d" % i, "master", BRIDGE, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", CLI_IF, "up")
        yield spaces
    finally:
        for i, ns in enumerate(spaces):
            sh("ip", "link", "del", "pgdhv%d" % i, check=False)
            sh("ip", "netns", "del", ns, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


def test_clients_renew_rebind_release(tmp_path, bridged):
    """udhcpc, dhclient and dhcpcd each: bound with router, DNS and domain and its name in
    DNS; an ACK to its unicast renewal (renewing); with its unicast to the server sent to a
    MAC nobody has, an ACK to its broadcast REQUEST (rebinding) for the same address; then
    its own RELEASE frees the lease and the name."""
    d = dhcp_daemon(tmp_path, pool=("10.77.0.100", "10.77.0.110"), dhcp={"interfaces": BRIDGE},
                    subnet={"interface": BRIDGE, "lease_time": 120, "renew_time": 60,
                            "rebind_time": 70})
    off = d.log_size()
    d.start()
    d.wait_log(r"dhcp: listening on " + BRIDGE, start=off)
    clients = []
    try:
        for kind, ns in zip(("udhcpc", "dhclient", "dhcpcd"), bridged):
            tmp = tmp_path / kind
            tmp.mkdir()
            out, script = tmp / "out", tmp / "script.sh"
            script.write_text(CLIENT_SCRIPT.replace("OUTFILE", str(out)))
            script.chmod(0o755)
            cmd, release = globals()["client_" + kind](ns, str(script), tmp, "box-" + kind)
            log = open(tmp / "log", "wb")
            p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log,
                                 stderr=subprocess.STDOUT)
            clients.append(dict(kind=kind, ns=ns, out=out, p=p, release=release, log=log))
        bound = r"reason=(?:bound|BOUND|REBOOT) .*"
        for c in clients:
            H.wait_until(lambda: c["out"].exists() and re.search(bound, c["out"].read_text()),
                         60, c["kind"] + " bound")
            got = dict(kv.split("=", 1)
                       for kv in re.search(bound, c["out"].read_text()).group(0).split())
            assert got["ip"].startswith("10.77.0.1"), (c["kind"], got)
            assert (got["router"], got["dns"], got["domain"]) == (SERVER, SERVER, ZONE), got
            c["ip"] = got["ip"]
            name = "box-%s.lan.test" % c["kind"]
            H.wait_until(lambda: c["ip"] in resolve(d, name, "A")[1], 10, name)
        assert len({c["ip"] for c in clients}) == 3

        def acked(c, state, start):
            pat = r"dhcp: ACK %s to \S+ on %s \(%s\)" % (re.escape(c["ip"]), BRIDGE, state)
            return re.search(pat, d.log()[start:])
        for c in clients:
            H.wait_until(lambda: acked(c, "renewing", 0), 90, c["kind"] + "'s renewal")
            sh("ip", "netns", "exec", c["ns"], "ip", "neigh", "replace", SERVER, "lladdr",
               "02:00:00:00:00:01", "dev", CLI_IF, "nud", "permanent")
            c["off"] = d.log_size()
        for c in clients:
            H.wait_until(lambda: acked(c, "rebinding", c["off"]), 120, c["kind"] + " rebinding")
            sh("ip", "netns", "exec", c["ns"], "ip", "neigh", "del", SERVER, "dev", CLI_IF)
        for c in clients:
            assert re.search(re.escape(c["ip"]) + r"\s+bound", leases(d)), leases(d)
            c["release"](c["p"])
        for c in clients:
            H.wait_until(lambda: re.search(re.escape(c["ip"]) + r"\s+released", leases(d)), 10,
                         "the lease released by " + c["kind"])
            H.wait_until(lambda: resolve(d, "box-%s.lan.test" % c["kind"], "A")[0] ==
                         dns.rcode.NXDOMAIN, 10, c["kind"] + "'s name gone")
    finally:
        for c in clients:
            if c["p"].poll() is None:
                c["p"].kill()
                c["p"].wait(timeout=30)
            c["log"].close()
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
