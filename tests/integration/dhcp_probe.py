"""A scripted DHCP client for the DHCP tests, run inside the client's network namespace
(`ip netns exec NS python3 dhcp_probe.py JSON`): messages built with scapy's BOOTP/DHCP
layers, sent over a UDP socket bound to the client's interface, replies parsed back with
scapy. Prints one JSON list: the outcome of each step.

Steps: {"op": "discover"|"request"|"release"|"decline"|"inform"|"bootp"|"raw",
"mac": "52:54:..", "requested": ip, "server_id": ip, "ciaddr": ip, "giaddr": ip, "relay_info": hex,
"hostname": name, "client_id": hex, "expect": true|false, "timeout": s, "hex": bytes}.
A relayed step (giaddr) is sent from port 67 to the server address given as "to", as a
relay agent does, and its reply is awaited on port 67.
"count": N sends N such messages at once (each with its own xid; "vary_mac": true gives each
its own MAC, the last byte counting up) and the outcome is how many were answered within
"timeout". "capture": true reads the reply off the link with a packet socket instead, and
adds its Ethernet and IP destinations ("eth_dst", "ip_dst"): a reply unicast to an address
the client does not have yet never reaches a UDP socket.
"""
import json
import random
import socket
import sys

from scapy.layers.dhcp import BOOTP, DHCP

IFACE = sys.argv[1]
STEPS = json.loads(sys.argv[2])


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def build_bootp(step, xid):
    """RFC 951 BOOTREQUEST with the RFC 1048 cookie and no DHCP message type, 300 octets."""
    p = BOOTP(op=1, htype=1, hlen=6, xid=xid, flags=0x8000,
              chaddr=mac_bytes(step["mac"]) + b"\0" * 10, options=b"c\x82Sc\xff")
    data = bytes(p)
    return data + b"\0" * (300 - len(data))


def build(step, xid):
    if step["op"] == "bootp":
        return build_bootp(step, xid)
    opts = [("message-type", step["op"])]
    for key, name in (("requested", "requested_addr"), ("server_id", "server_id")):
        if step.get(key):
            opts.append((name, step[key]))
    if step.get("hostname"):
        opts.append(("hostname", step["hostname"].encode()))
    if step.get("client_id"):
        opts.append(("client_id", bytes.fromhex(step["client_id"])))
    opts.append(("param_req_list", [1, 3, 6, 15, 51, 54]))
    if step.get("relay_info"):
        opts.append(("relay_agent_information", bytes.fromhex(step["relay_info"])))
    opts.append("end")
    p = BOOTP(op=1, htype=1, hlen=6, xid=xid, flags=0x8000 if step.get("broadcast", True) else 0,
              ciaddr=step.get("ciaddr", "0.0.0.0"), giaddr=step.get("giaddr", "0.0.0.0"),
              chaddr=mac_bytes(step["mac"]) + b"\0" * 10) / DHCP(options=opts)
    return bytes(p)


def decode(data):
    b = BOOTP(data)
    out = {"yiaddr": b.yiaddr, "ciaddr": b.ciaddr, "giaddr": b.giaddr, "flags": int(b.flags),
           "xid": b.xid, "options": {}}
    names = {1: "nak"}
    types = {2: "offer", 5: "ack", 6: "nak"}
    if DHCP in b:
        for o in b[DHCP].options:
            if isinstance(o, tuple) and len(o) >= 2:
                k, v = o[0], o[1:] if len(o) > 2 else o[1]
                if k == "message-type":
                    out["type"] = types.get(v, str(v))
                elif isinstance(v, bytes):
                    out["options"][str(k)] = v.hex()
                elif isinstance(v, (list, tuple)):
                    out["options"][str(k)] = [str(x) for x in v]
                else:
                    out["options"][str(k)] = str(v)
    del names
    if "type" not in out and b.op == 2:
        out["type"] = "bootreply"  # no DHCP message type: a BOOTP reply
    out["siaddr"] = b.siaddr
    return out


def sock_for(relayed):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, IFACE.encode())
    s.bind(("0.0.0.0", 67 if relayed else 68))
    return s


def with_mac(step, i):
    b = mac_bytes(step["mac"])
    return dict(step, mac=":".join("%02x" % x for x in b[:5] + bytes([(b[5] + i) & 255])))


def run_count(step):
    """N messages at once; how many replies (by xid) came within the timeout."""
    s = sock_for(bool(step.get("giaddr")))
    dest = (step["to"], 67) if step.get("to") else ("255.255.255.255", 67)
    xids = set()
    for i in range(step["count"]):
        xid = random.getrandbits(32)
        xids.add(xid)
        s.sendto(build(with_mac(step, i) if step.get("vary_mac") else step, xid), dest)
    got = set()
    s.settimeout(step.get("timeout", 3))
    try:
        while got != xids:
            r = decode(s.recv(4096))
            if r["xid"] in xids:
                got.add(r["xid"])
    except socket.timeout:
        pass
    s.close()
    return len(got)


def run_capture(step):
    """One message; its reply as seen on the link (AF_PACKET), with where it was sent."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    raw.bind((IFACE, 0))
    s = sock_for(False)
    xid = random.getrandbits(32)
    s.sendto(build(step, xid), ("255.255.255.255", 67))
    raw.settimeout(step.get("timeout", 5))
    try:
        while True:
            frame = Ether(raw.recv(65535))
            if UDP in frame and frame[UDP].sport == 67 and frame[UDP].dport == 68:
                r = decode(bytes(frame[UDP].payload))
                if r["xid"] == xid:
                    r["eth_dst"] = frame.dst
                    r["ip_dst"] = frame[IP].dst
                    return r
    except socket.timeout:
        return None
    finally:
        raw.close()
        s.close()


def run(step):
    if step.get("count"):
        return run_count(step)
    if step.get("capture"):
        return run_capture(step)
    relayed = bool(step.get("giaddr"))
    s = sock_for(relayed)
    xid = random.getrandbits(32)
    if step["op"] == "raw":
        data = bytes.fromhex(step["hex"])
    else:
        data = build(step, xid)
    dest = (step["to"], 67) if step.get("to") else ("255.255.255.255", 67)
    s.sendto(data, dest)
    if not step.get("expect", True):
        s.close()
        return None
    s.settimeout(step.get("timeout", 5))
    try:
        while True:
            reply, _ = s.recvfrom(4096)
            r = decode(reply)
            if r["xid"] == xid or step["op"] == "raw":
                return r
    except socket.timeout:
        return None
    finally:
        s.close()


print(json.dumps([run(st) for st in STEPS]))
