"""Helpers for the authoritative DNS tests: a pigeond with [dns], [zone] and [tsig] sections,
dnspython queries over UDP/TCP, the stock clients (dig, kdig, nsupdate), and an NSD secondary.

Everything listens on loopback ports chosen at random; NSD runs with a private config, pid,
database and xfrd files in the test's directory.
"""

import base64
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.tsigkeyring

import pigeon_harness as H

KEY_NAME = "xfer-key"
KEY_SECRET = base64.b64encode(b"pigeon-test-secret-0123456789abc").decode()
KEYRING = dns.tsigkeyring.from_text({KEY_NAME: ("hmac-sha256", KEY_SECRET)})
DIG_KEY = "hmac-sha256:%s:%s" % (KEY_NAME, KEY_SECRET)

TIMEOUT = 5.0


def tool(name):
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    return path


def auth_daemon(root, zones, zone_opts=None, dns=None, keys=True, name="auth", workers=2):
    """An unstarted pigeond serving `zones` ({origin: master-file text}) on a free port.
    zone_opts: {origin: {key: value}} extra [zone] keys; dns: extra [dns] keys."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    d = H.Daemon(root, name=name, server={"workers": workers})
    d.dns_port = H.free_port()
    d.sections["dns"] = {"listen": "127.0.0.1:%d" % d.dns_port}
    d.sections["dns"].update(dns or {})
    if keys:
        d.sections["tsig " + KEY_NAME] = {"algorithm": "hmac-sha256", "secret": KEY_SECRET}
    d.zone_files = {}
    for origin, text in zones.items():
        path = root / (origin + ".zone")
        if text is not None:
            path.write_text(text)
        d.zone_files[origin] = path
        sec = {"file": str(path)}
        sec.update((zone_opts or {}).get(origin, {}))
        d.sections["zone " + origin] = sec
    d.ports.append(d.dns_port)
    d.write_conf()
    return d


def pigeon_pair(root, origin, text):
    """An unstarted pigeond primary of `origin` (transfers and UPDATE with the TSIG key, NOTIFY
    to the secondary) and a pigeond secondary of it, both written out but not set up."""
    root = Path(root)
    prim = auth_daemon(root / "prim", {origin: text}, name="primary")
    sec = auth_daemon(root / "sec", {origin: None}, name="secondary")
    prim.sections["zone " + origin].update({
        "allow_transfer": "key:" + KEY_NAME,
        "allow_update": "key:" + KEY_NAME,
        "notify": "127.0.0.1:%d key:%s" % (sec.dns_port, KEY_NAME),
    })
    sec.sections["zone " + origin]["primary"] = "127.0.0.1:%d key:%s" % (prim.dns_port,
                                                                         KEY_NAME)
    prim.write_conf()
    sec.write_conf()
    return prim, sec


def finish(d):
    """Stops d; returns a sanitizer report or None."""
    try:
        d.stop()
    finally:
        d.kill9()
    return d.sanitizer_report()


def query(port, qname, rdtype="A", tcp=False, host="127.0.0.1", **kw):
    """One query with dnspython; kw goes to make_query (use_edns, payload, want_dnssec...)."""
    q = dns.message.make_query(qname, rdtype, **kw)
    if tcp:
        return dns.query.tcp(q, host, port=port, timeout=TIMEOUT)
    return dns.query.udp(q, host, port=port, timeout=TIMEOUT)


def raw_udp(port, data, timeout=1.0, host="127.0.0.1"):
    """Sends bytes, returns the answer bytes or None (silence)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(data, (host, port))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def run(cmd, input=None, timeout=30, check=True):
    p = subprocess.run(cmd, input=input.encode() if isinstance(input, str) else input,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    err = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError("%s -> %d\n%s\n%s" % (" ".join(cmd), p.returncode, out, err))
    return p.returncode, out, err


def dig(port, *args, check=True):
    return run([tool("dig"), "@127.0.0.1", "-p", str(port), "+time=3", "+tries=1"] +
               list(args), check=check)[1]


def kdig(port, *args, check=True):
    return run([tool("kdig"), "@127.0.0.1", "-p", str(port), "+time=3", "+retry=0"] +
               list(args), check=check)[1]


def nsupdate(port, zone, lines, key=True, check=False):
    """Runs nsupdate with the commands `lines` (server/zone/send added). Returns
    (exit status, stdout+stderr)."""
    script = "server 127.0.0.1 %d\nzone %s\n%s\nsend\n" % (port, zone, "\n".join(lines))
    cmd = [tool("nsupdate")]
    if key is True:
        cmd += ["-y", DIG_KEY]
    elif key:
        cmd += ["-y", key]
    rc, out, err = run(cmd, input=script, check=check)
    return rc, out + err


def serial(port, zone, host="127.0.0.1"):
    r = query(port, zone, "SOA", host=host)
    if r.rcode() != dns.rcode.NOERROR or not r.answer:
        return None
    return r.answer[0][0].serial


def wait_for(pred, timeout=None, what="condition"):
    """pigeon_harness.wait_until, where a DNS error while asking counts as "not yet"."""
    def attempt():
        try:
            return pred()
        except (OSError, dns.exception.DNSException):
            return None
    return H.wait_until(attempt, timeout, what, 0.2)


# --------------------------------------------------------------------------------------------
# NSD as a secondary


class NSDSecondary:
    """Debian's NSD as a secondary of `origin` from a primary on 127.0.0.1:primary_port, with
    its own config, pid, zone list and xfrd state under root; NOTIFY accepted from 127.0.0.1."""

    def __init__(self, root, origin, primary_port, key=False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = H.free_port()
        self.origin = origin
        keyref = KEY_NAME if key else "NOKEY"
        keysec = ""
        if key:
            keysec = 'key:\n    name: "%s"\n    algorithm: hmac-sha256\n    secret: "%s"\n' % (
                KEY_NAME, KEY_SECRET)
        r = self.root
        conf = """server:
    ip-address: 127.0.0.1@%d
    port: %d
    zonesdir: "%s"
    pidfile: "%s/nsd.pid"
    database: ""
    username: ""
    chroot: ""
    logfile: "%s/nsd.log"
    xfrdfile: "%s/xfrd.state"
    xfrdir: "%s"
    zonelistfile: "%s/zone.list"
    verbosity: 2
    do-ip6: no
    server-count: 1
    xfrd-reload-timeout: 0
remote-control:
    control-enable: no
%szone:
    name: "%s"
    zonefile: "%s/%s.zone"
    request-xfr: 127.0.0.1@%d %s
    allow-notify: 127.0.0.1 %s
""" % (self.port, self.port, r, r, r, r, r, r, keysec, origin, r, origin, primary_port,
       keyref, keyref)
        self.conf = r / "nsd.conf"
        self.conf.write_text(conf)
        self.log = None
        self.proc = None

    def start(self):
        self.log = open(self.root / "stderr.log", "wb")
        self.proc = subprocess.Popen([tool("nsd"), "-d", "-c", str(self.conf)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def logs(self):
        text = ""
        for f in ("nsd.log", "stderr.log"):
            p = self.root / f
            if p.exists():
                text += p.read_text(errors="replace")
        return text

    def close(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
