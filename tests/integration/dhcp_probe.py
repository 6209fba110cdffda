"""A scripted DHCP client for the DHCP tests, run inside the client's network namespace
(`ip netns exec NS python3 dhcp_probe.py JSON`): messages built with scapy's BOOTP/DHCP
layers, sent over a UDP socket bound to the client's interface, replies parsed back with
scapy. Prints one JSON list: the outcome of each step.

Steps: {"op": "discover"|"request"|"release"|"decline"|"inform"|"bootp"|"raw",
"mac": "52:54:..", "requested": ip, "server_id": ip, "ciaddr": ip, "giaddr": ip, "relay_info": hex,
"hostname": name, "client_id": hex, "expect": true|false, "timeout": s, "hex": bytes}.
A relayed step (giaddr) is sent from port 67 to the server address given as "to", as a
relay agent does, and its reply is awaited on port 67.
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


def run(step):
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
