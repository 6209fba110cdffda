"""The DHCP service with real clients: dhclient, busybox udhcpc and dhcpcd in a network
namespace of their own, joined to the server by a veth pair the test makes, plus scripted
messages (tests/integration/dhcp_probe.py, built with scapy) for the cases stock clients do
not produce on demand: INIT-REBOOT on the wrong network, exhaustion, a relay agent. Client
names go into Pigeon's own zones by UPDATE and are checked through Pigeon's resolver.
"""
import itertools
import json
import os
import shutil
import subprocess
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

import dns_auth_helpers as A
import pigeon_harness as H

HERE = Path(__file__).resolve().parent
PROBE = HERE / "dhcp_probe.py"
SERVER = "10.77.0.1"
SRV_IF, CLI_IF = "pgdh0", "pgdhc"
ZONE = "lan.test"
REV = "0.77.10.in-addr.arpa"
ZONE_TEXT = """$ORIGIN lan.test.
$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 10.77.0.1
"""
REV_TEXT = """$ORIGIN 0.77.10.in-addr.arpa.
$TTL 300
@ IN SOA ns1.lan.test. hostmaster.lan.test. 1 3600 600 86400 60
@ IN NS ns1.lan.test.
1 IN PTR ns1.lan.test.
"""
_count = itertools.count()


def sh(*args, check=True, timeout=60):
    p = subprocess.run([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s -> %d: %s" % (" ".join(map(str, args)), p.returncode,
                                               p.stderr.decode(errors="replace")))
    return p


@pytest.fixture
def net():
    """A client namespace joined to this one by a veth pair: SERVER/24 on our side."""
    ns = "pgdhcp%d_%d" % (os.getpid(), next(_count))
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "link", "add", SRV_IF, "type", "veth", "peer", "name", CLI_IF, "netns", ns)
        sh("ip", "addr", "add", SERVER + "/24", "dev", SRV_IF)
        sh("ip", "link", "set", SRV_IF, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", CLI_IF, "up")
        yield ns
    finally:
        sh("ip", "link", "del", SRV_IF, check=False)
        sh("ip", "netns", "del", ns, check=False)


def dhcp_daemon(tmp_path, pool=("10.77.0.100", "10.77.0.103"), subnet=None, dhcp=None,
                remote_ddns=False):
    """A pigeond serving DHCP on SRV_IF, with lan.test and its reverse zone and a resolver.
    Client names go into the zones in-process (no allow_update: an UPDATE from the network
    would be refused); remote_ddns: by RFC 2136 over UDP to Pigeon's own [dns] listener as if
    it were a remote server, signed with a TSIG key the zones allow."""
    opts = {ZONE: {"allow_update": "key:" + A.KEY_NAME},
            REV: {"allow_update": "key:" + A.KEY_NAME}} if remote_ddns else None
    d = A.auth_daemon(tmp_path / "d", {ZONE: ZONE_TEXT, REV: REV_TEXT}, zone_opts=opts)
    d.res_port = H.free_port()
    d.sections["resolver"] = {"listen": "127.0.0.1:%d" % d.res_port}
    d.sections["dhcp"] = {"interfaces": SRV_IF}
    if remote_ddns:
        d.sections["dhcp"].update(ddns_server="127.0.0.1:%d" % d.dns_port, ddns_key=A.KEY_NAME)
    d.sections["dhcp"].update(dhcp or {})
    sub = {"interface": SRV_IF, "pool": "%s - %s" % pool, "router": SERVER, "dns": SERVER,
           "domain": ZONE, "lease_time": 600,
           "reserve": "52:54:00:aa:00:99 10.77.0.50 desk"}
    sub.update(subnet or {})
    d.sections["dhcp-subnet 10.77.0.0/24"] = sub
    d.ports.append(d.res_port)
    d.write_conf()
    d.setup()
    return d


def start(d):
    off = d.log_size()
    d.start()
    d.wait_log(r"dhcp: listening on " + SRV_IF, start=off)


def probe(ns, *steps, iface=CLI_IF):
    p = sh("ip", "netns", "exec", ns, "/usr/bin/python3", PROBE, iface, json.dumps(list(steps)),
           timeout=120)
    return json.loads(p.stdout)


def resolve(d, name, rdtype):
    q = dns.message.make_query(name, rdtype)
    r = dns.query.udp(q, "127.0.0.1", port=d.res_port, timeout=20)
    return r.rcode(), [str(rr) for rrset in r.answer for rr in rrset]


def leases(d):
    return d.cli("dhcp", "leases").stdout.decode()


def dora(ns, mac, **kw):
    """DISCOVER, then REQUEST of the offer: (offer, ack) replies."""
    offer, = probe(ns, dict(op="discover", mac=mac, **kw))
    assert offer and offer["type"] == "offer", offer
    ack, = probe(ns, dict(op="request", mac=mac, requested=offer["yiaddr"],
                          server_id=offer["options"]["server_id"], **kw))
    return offer, ack


def finish(d):
    report = A.finish(d)
    assert report is None, report


# ---- stock clients ----

UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
printf 'ip=%s\\nrouter=%s\\ndns=%s\\ndomain=%s\\nevent=%s\\n' "$ip" "$router" "$dns" "$domain" "$1" >> "$OUT"
ip addr add "$ip/$mask" dev "$interface" 2>/dev/null
exit 0
"""


def udhcpc_files(tmp_path):
    """udhcpc's script (UDHCPC_SCRIPT), the file it appends to, and the environment naming
    it: (script, out, env)."""
    script = tmp_path / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT)
    script.chmod(0o755)
    out = tmp_path / "udhcpc.out"
    return script, out, dict(os.environ, OUT=str(out))


def test_udhcpc_lease_name_in_dns_release(tmp_path, net):
    """busybox udhcpc gets address, router, DNS and domain; its host name resolves through
    Pigeon's resolver (A and PTR) at once; a second run gets the same address; after
    `pigeon dhcp release` the name is gone."""
    d = dhcp_daemon(tmp_path)
    start(d)
    script, out, env = udhcpc_files(tmp_path)
    p = subprocess.run(["ip", "netns", "exec", net, shutil.which("udhcpc"), "-i", CLI_IF, "-f",
                        "-q", "-n", "-t", "10", "-T", "3", "-s", str(script), "-x",
                        "hostname:box1"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode()
    got = dict(line.split("=", 1) for line in out.read_text().split())
    assert got["ip"].startswith("10.77.0.10"), got
    assert got["router"] == SERVER and got["dns"] == SERVER and got["domain"] == ZONE, got
    assert "bound" in leases(d)
    d.wait_log(r"ddns: added box1\.lan\.test\. " + got["ip"].replace(".", r"\."))
    rc, ans = resolve(d, "box1.lan.test", "A")
    assert rc == dns.rcode.NOERROR and got["ip"] in ans, ans
    rev = ".".join(reversed(got["ip"].split("."))) + ".in-addr.arpa"
    H.wait_until(lambda: resolve(d, rev, "PTR")[1] == ["box1.lan.test."], 10, "PTR of box1")
    # the DHCID guards the name (RFC 4701)
    r = dns.query.udp(dns.message.make_query("box1.lan.test", "DHCID"), "127.0.0.1",
                      port=d.dns_port, timeout=20)
    assert r.answer, r
    # a second run asks for the same address again (REQUEST, option 50) and keeps it
    off = d.log_size()
    p = subprocess.run(["ip", "netns", "exec", net, shutil.which("udhcpc"), "-i", CLI_IF, "-f",
                        "-q", "-n", "-t", "10", "-T", "3", "-s", str(script), "-x",
                        "hostname:box1", "-r", got["ip"]], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    assert p.returncode == 0, p.stdout.decode()
    d.wait_log(r"dhcp: ACK " + got["ip"].replace(".", r"\.") + " ", start=off)
    # the administrator ends the lease: the name goes with it
    d.cli("dhcp", "release", got["ip"])
    d.wait_log(r"ddns: removed box1\.lan\.test\.")
    H.wait_until(lambda: resolve(d, "box1.lan.test", "A")[0] == dns.rcode.NXDOMAIN, 10,
                 "box1 gone")
    assert resolve(d, rev, "PTR")[0] == dns.rcode.NXDOMAIN
    assert "released" in leases(d)
    finish(d)


def test_name_in_dns_not_clobbered_by_another_client(tmp_path, net):
    """RFC 4703 §5.3 and §5.5: a second client sending a name another client holds does not
    take it over (the DHCID record says whose it is), and its RELEASE does not remove it; the
    owner's RELEASE does."""
    d = dhcp_daemon(tmp_path)
    start(d)
    _, a = dora(net, "52:54:00:aa:00:11", hostname="twin")
    H.wait_until(lambda: resolve(d, "twin." + ZONE, "A")[1] == [a["yiaddr"]], 10, "twin's A")
    off = d.log_size()
    _, b = dora(net, "52:54:00:aa:00:12", hostname="twin")
    assert b["type"] == "ack" and b["yiaddr"] != a["yiaddr"], b
    d.wait_log(r"ddns: twin\.lan\.test\. %s not added: NXRRSET \(the name belongs to another "
               r"client\)" % b["yiaddr"].replace(".", r"\."), start=off)
    assert resolve(d, "twin." + ZONE, "A")[1] == [a["yiaddr"]]
    off = d.log_size()
    probe(net, dict(op="release", mac="52:54:00:aa:00:12", ciaddr=b["yiaddr"],
                    server_id=SERVER, expect=False))
    d.wait_log(r"ddns: twin\.lan\.test\. %s not removed" % b["yiaddr"].replace(".", r"\."),
               start=off)
    assert resolve(d, "twin." + ZONE, "A")[1] == [a["yiaddr"]]
    probe(net, dict(op="release", mac="52:54:00:aa:00:11", ciaddr=a["yiaddr"],
                    server_id=SERVER, expect=False))
    H.wait_until(lambda: resolve(d, "twin." + ZONE, "A")[0] == dns.rcode.NXDOMAIN, 10,
                 "twin gone after its owner's RELEASE")
    finish(d)


DHCLIENT_SCRIPT = """#!/bin/sh
case "$reason" in BOUND|RENEW|REBIND|REBOOT)
printf 'reason=%s\\nip=%s\\nrouters=%s\\ndns=%s\\ndomain=%s\\n' "$reason" "$new_ip_address" "$new_routers" "$new_domain_name_servers" "$new_domain_name" >> OUTFILE
ip addr add "$new_ip_address/24" dev "$interface" 2>/dev/null ;;
esac
exit 0
"""


def test_dhclient_lease_reboot_release(tmp_path, net):
    """ISC dhclient: a lease with router, DNS and domain, its name in DNS; a second run from
    its lease file (INIT-REBOOT) keeps the address; -r releases it and the name goes. The
    names go by RFC 2136 over UDP with TSIG here (ddns_server), as to a remote server."""
    d = dhcp_daemon(tmp_path, remote_ddns=True)
    start(d)
    script = tmp_path / "dhclient.sh"
    out = tmp_path / "dhclient.out"
    script.write_text(DHCLIENT_SCRIPT.replace("OUTFILE", str(out)))
    script.chmod(0o755)
    conf = tmp_path / "dhclient.conf"
    conf.write_text('send host-name "box2";\nrequest subnet-mask, routers, '
                    'domain-name-servers, domain-name;\n')
    lf, pf = tmp_path / "dhclient.leases", tmp_path / "dhclient.pid"
    env = dict(os.environ, OUT=str(out))
    base = ["ip", "netns", "exec", net, shutil.which("dhclient"), "-sf", str(script), "-lf",
            str(lf), "-pf", str(pf), "-cf", str(conf), "-4"]

    def run(*extra):
        p = subprocess.run(base + list(extra) + [CLI_IF], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=90)
        assert p.returncode == 0, p.stdout.decode()

    run("-1", "-v")
    first = dict(l.split("=", 1) for l in out.read_text().split())
    assert first["reason"] == "BOUND" and first["ip"].startswith("10.77.0.10"), first
    assert first["routers"] == SERVER and first["dns"] == SERVER and first["domain"] == ZONE
    H.wait_until(lambda: first["ip"] in resolve(d, "box2.lan.test", "A")[1], 10, "box2's A")
    sh("ip", "netns", "exec", net, "ip", "addr", "flush", "dev", CLI_IF)
    off = d.log_size()
    run("-1", "-v")  # from the lease file: REQUEST in INIT-REBOOT
    d.wait_log(r"dhcp: ACK " + first["ip"].replace(".", r"\."), start=off)
    second = out.read_text().split("reason=")[-1]
    assert "ip=" + first["ip"] in second, second
    off = d.log_size()
    run("-r", "-v")
    H.wait_until(lambda: "released" in leases(d), 10, "lease released")
    H.wait_until(lambda: resolve(d, "box2.lan.test", "A")[0] == dns.rcode.NXDOMAIN, 10,
                 "box2 gone after RELEASE")
    finish(d)


def test_dhcpcd_gets_lease(tmp_path, net):
    """dhcpcd in test mode (-T): the offer it would take, with address, router, DNS and
    domain, printed by its hook script."""
    d = dhcp_daemon(tmp_path)
    start(d)
    out = tmp_path / "dhcpcd.out"
    with open(out, "wb") as f:  # a file, not a pipe: dhcpcd's helper processes keep theirs
        subprocess.run(["ip", "netns", "exec", net, "timeout", "25", shutil.which("dhcpcd"),
                        "-4", "-B", "-T", "-1", "-t", "20", CLI_IF], stdout=f,
                       stderr=subprocess.STDOUT, timeout=40)
    text = out.read_text()
    assert "new_ip_address='10.77.0.10" in text, text
    assert "new_routers='%s'" % SERVER in text and "new_domain_name='%s'" % ZONE in text, text
    assert "new_domain_name_servers='%s'" % SERVER in text, text
    finish(d)


# ---- scripted clients ----

def test_init_reboot_wrong_subnet_nak_and_not_ours(tmp_path, net):
    """RFC 2131 §4.3.2: INIT-REBOOT for another network's address gets a NAK; a REQUEST for
    another server's offer gets silence, and our offer goes back to the pool."""
    d = dhcp_daemon(tmp_path)
    start(d)
    nak, = probe(net, dict(op="request", mac="52:54:00:aa:00:01", requested="192.168.5.5"))
    assert nak and nak["type"] == "nak", nak
    offer, quiet = probe(net, dict(op="discover", mac="52:54:00:aa:00:02"),
                         dict(op="request", mac="52:54:00:aa:00:02", requested="10.77.0.100",
                              server_id="10.77.0.99", timeout=2))
    assert offer["type"] == "offer" and quiet is None, (offer, quiet)
    finish(d)


def test_reservations_and_persistent_allocation(tmp_path, net):
    """A reservation from the config file (with a name: option 12, and that name in DNS
    rather than the one the client sends) and one made with `pigeon dhcp reserve`; a client
    gets its previous address back after RELEASE while another client took a new one."""
    d = dhcp_daemon(tmp_path)
    start(d)
    offer, ack = dora(net, "52:54:00:aa:00:99", hostname="laptop")
    assert ack["type"] == "ack" and ack["yiaddr"] == "10.77.0.50", ack
    assert offer["options"]["hostname"] == ack["options"]["hostname"] == b"desk".hex(), ack
    H.wait_until(lambda: resolve(d, "desk." + ZONE, "A")[1] == ["10.77.0.50"], 10, "desk's A")
    assert resolve(d, "laptop." + ZONE, "A")[0] == dns.rcode.NXDOMAIN
    off = d.log_size()
    d.cli("dhcp", "reserve", "52:54:00:aa:00:77", "10.77.0.60")
    d.wait_log(r"dhcp: reservations reloaded", start=off)
    _, ack = dora(net, "52:54:00:aa:00:77")
    assert ack["yiaddr"] == "10.77.0.60", ack
    _, a1 = dora(net, "52:54:00:aa:00:01")
    probe(net, dict(op="release", mac="52:54:00:aa:00:01", ciaddr=a1["yiaddr"],
                    server_id=SERVER, expect=False))
    H.wait_until(lambda: "released" in leases(d), 10, "released")
    _, a2 = dora(net, "52:54:00:aa:00:02")
    assert a2["yiaddr"] != a1["yiaddr"]
    _, again = dora(net, "52:54:00:aa:00:01")
    assert again["yiaddr"] == a1["yiaddr"], (a1, again)
    finish(d)


def test_pool_exhaustion_no_offer_no_duplicate(tmp_path, net):
    d = dhcp_daemon(tmp_path)
    start(d)
    got = set()
    for i in range(4):
        _, ack = dora(net, "52:54:00:bb:00:%02x" % i)
        assert ack["type"] == "ack", ack
        got.add(ack["yiaddr"])
    assert got == {"10.77.0.100", "10.77.0.101", "10.77.0.102", "10.77.0.103"}
    off = d.log_size()
    none, = probe(net, dict(op="discover", mac="52:54:00:bb:00:09", timeout=3))
    assert none is None, none
    d.wait_log(r"pool exhausted", start=off)
    finish(d)


def test_relay_giaddr_and_option_82(tmp_path, net):
    """A relay agent (crafted with scapy): giaddr picks the relayed subnet, the reply goes to
    the relay on port 67 with option 82 echoed; a relayed NAK has the broadcast bit."""
    d = dhcp_daemon(tmp_path)
    d.sections["dhcp-subnet 10.88.0.0/24"] = {"pool": "10.88.0.50 - 10.88.0.60",
                                             "router": "10.88.0.1", "domain": ZONE}
    d.write_conf()
    sh("ip", "netns", "exec", net, "ip", "addr", "add", "10.77.0.254/24", "dev", CLI_IF)
    sh("ip", "netns", "exec", net, "ip", "addr", "add", "10.88.0.1/24", "dev", "lo")
    sh("ip", "route", "add", "10.88.0.0/24", "via", "10.77.0.254", "dev", SRV_IF)
    start(d)
    relay = dict(giaddr="10.88.0.1", to=SERVER, relay_info="0104706f7274", broadcast=False)
    offer, = probe(net, dict(op="discover", mac="52:54:00:cc:00:01", **relay))
    assert offer and offer["type"] == "offer", offer
    assert offer["yiaddr"].startswith("10.88.0."), offer
    assert offer["giaddr"] == "10.88.0.1"
    assert offer["options"]["relay_agent_information"] == "0104706f7274", offer
    assert offer["options"]["router"] == "10.88.0.1"
    nak, = probe(net, dict(op="request", mac="52:54:00:cc:00:02", requested="10.77.0.100",
                           **relay))
    assert nak["type"] == "nak" and nak["flags"] & 0x8000, nak
    finish(d)


def test_leases_survive_restart(tmp_path, net):
    d = dhcp_daemon(tmp_path)
    start(d)
    _, ack = dora(net, "52:54:00:dd:00:01")
    addr = ack["yiaddr"]
    d.stop()
    start(d)
    assert addr in leases(d) and "bound" in leases(d)
    # another client asking for it is refused; its owner rebooting keeps it
    nak, = probe(net, dict(op="request", mac="52:54:00:dd:00:02", requested=addr))
    assert nak["type"] == "nak", nak
    ok, = probe(net, dict(op="request", mac="52:54:00:dd:00:01", requested=addr))
    assert ok["type"] == "ack" and ok["yiaddr"] == addr, ok
    finish(d)


def test_malformed_dropped_with_log_line(tmp_path, net):
    d = dhcp_daemon(tmp_path)
    start(d)
    off = d.log_size()
    junk = "01010600" + "00" * 232 + "63825363" + "0cff41"  # an option past the end
    probe(net, dict(op="raw", hex=junk, mac="52:54:00:ee:00:01", expect=False))
    d.wait_log(r"dhcp: dropped \d+ bytes .*option runs past its field", start=off)
    short = "0101"
    probe(net, dict(op="raw", hex=short, mac="52:54:00:ee:00:01", expect=False))
    d.wait_log(r"dhcp: dropped 2 bytes .*shorter than a BOOTP header", start=off)
    _, ack = dora(net, "52:54:00:ee:00:01")
    assert ack["type"] == "ack"
    finish(d)
