#!/usr/bin/python3
"""Authoritative DNS benchmark: Pigeon against NSD and Knot (Debian packages), in one run.

Every server gets the same generated zone (bench.test: 100,000 names with an A record, some
with AAAA/MX/TXT) and runs with one worker (pigeond workers = 1; NSD server-count: 1; Knot
udp-workers/tcp-workers: 1), pinned to CPU 1 with taskset (all its threads); dnsperf runs on
CPU 0. The query file mixes 75% existing names (A), 10% NODATA (AAAA of a name without one),
15% NXDOMAIN. For each server and each transport (UDP, then TCP with 20 connections):

  1. flat out for SECONDS: answers/s and the average latency dnsperf reports;
  2. at the same offered rate for all (RATE q/s for UDP, RATE/2 for TCP, below every
     server's maximum): the server's CPU time (user + system of all its processes, from
     /proc/PID/stat) per million answered queries, and the average latency at that rate.

Servers run one after the other, never at once; ROUNDS rounds alternate the order; the
table gives medians and the ratios Pigeon/NSD and Pigeon/Knot (higher q/s, lower CPU is
better for Pigeon).

usage: bench/dns_auth.py [--names N] [--seconds S] [--rate R] [--rounds K] [--only NAME]
Private configs in a temporary directory, loopback ports only; every server is stopped at
the end (also on errors). Needs nsd, knot and dnsperf (installed by bench/dns_auth.sh).
"""
import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("PIGEON_BUILD", str(REPO / "build" / "release"))

import pigeon_harness as H  # noqa: E402

SERVER_CPU = "1"
CLIENT_CPU = "0"
ORIGIN = "bench.test"


# ---- workload ----

def write_zone(path, names):
    rnd = random.Random(42)
    with open(path, "w") as f:
        f.write("$ORIGIN %s.\n$TTL 3600\n" % ORIGIN)
        f.write("@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n@ NS ns2\n"
                "@ MX 10 mail\nns1 A 127.0.0.1\nns2 A 127.0.0.2\nmail A 127.0.0.25\n")
        for i in range(names):
            f.write("h%d A 10.%d.%d.%d\n" % (i, i >> 16 & 255, i >> 8 & 255, i & 255))
            if i % 10 == 0:
                f.write("h%d AAAA 2001:db8::%x:%x\n" % (i, i >> 16, i & 0xffff))
            if i % 50 == 0:
                f.write('h%d TXT "v=spf1 ip4:10.0.0.0/8 -all"\nh%d MX 10 mail\n' % (i, i))
            if rnd.random() < 0.001:
                f.write("c%d CNAME h%d\n" % (i, i))


def write_queries(path, names, count=200000):
    rnd = random.Random(7)
    with open(path, "w") as f:
        for _ in range(count):
            x = rnd.random()
            i = rnd.randrange(names)
            if x < 0.75:
                f.write("h%d.%s A\n" % (i, ORIGIN))
            elif x < 0.85:
                f.write("h%d.%s AAAA\n" % (i | 1, ORIGIN))  # odd: never has AAAA -> NODATA
            else:
                f.write("nx%d.%s A\n" % (rnd.randrange(10 ** 9), ORIGIN))


# ---- measuring ----

def cpu_seconds(pids):
    total = 0.0
    for pid in pids:
        try:
            fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def dnsperf(port, qfile, seconds, tcp=False, rate=None):
    cmd = ["taskset", "-c", CLIENT_CPU, "dnsperf", "-s", "127.0.0.1", "-p", str(port),
           "-d", str(qfile), "-T", "1", "-t", "5", "-l", str(seconds)]
    cmd += ["-m", "tcp", "-c", "20", "-q", "200"] if tcp else ["-c", "4", "-q", "100"]
    cmd += ["-b", "1024"]
    if rate:
        cmd += ["-Q", str(rate)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    m = {k: re.search(p, out) for k, p in (
        ("qps", r"Queries per second:\s+([\d.]+)"),
        ("completed", r"Queries completed:\s+(\d+)"),
        ("lost", r"Queries lost:\s+(\d+)"),
        ("latency", r"Average Latency \(s\):\s+([\d.]+)"))}
    if not m["qps"]:
        raise RuntimeError("dnsperf failed:\n" + out)
    return {k: float(v.group(1)) for k, v in m.items() if v}


def pin(pids):
    for pid in pids:
        subprocess.run(["taskset", "-a", "-cp", SERVER_CPU, str(pid)], check=True,
                       stdout=subprocess.DEVNULL)


def wait_udp(port, timeout=60):
    import socket
    q = (b"\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05bench\x04test\x00"
         b"\x00\x06\x00\x01")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            try:
                s.sendto(q, ("127.0.0.1", port))
                if s.recv(512)[3] & 0x0F == 0:
                    return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError("no answer on port %d" % port)


# ---- servers ----

class Pigeon:
    name = "Pigeon"

    def __init__(self, work, zone):
        d = H.Daemon(work / "pigeon", name="pigeon-bench",
                     server={"workers": 1, "log_level": "info"})  # info: the harness waits for "pigeond ready"
        self.port = H.free_port()
        d.sections["dns"] = {"listen": "127.0.0.1:%d" % self.port, "max_connections_per_ip": 1000}
        d.sections["zone " + ORIGIN] = {"file": str(zone)}
        d.ports.append(self.port)
        d.write_conf()
        d.setup()
        d.start()
        self.d = d
        self.pids = [d.proc.pid]

    def stop(self):
        self.d.stop()


class NSD:
    name = "NSD"

    def __init__(self, work, zone):
        r = work / "nsd"
        r.mkdir()
        self.port = H.free_port()
        (r / "nsd.conf").write_text("""server:
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
    verbosity: 0
    do-ip6: no
    server-count: 1
    tcp-count: 1000
    hide-version: yes
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "%s"
    zonefile: "%s"
""" % (self.port, self.port, r, r, r, r, r, r, ORIGIN, zone))
        self.log = open(r / "stderr.log", "wb")
        self.proc = subprocess.Popen(["nsd", "-d", "-c", str(r / "nsd.conf")], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_udp(self.port)
        self.pids = self._group()

    def _group(self):
        out = subprocess.run(["pgrep", "-g", str(self.proc.pid)], capture_output=True,
                             text=True).stdout
        return [int(p) for p in out.split()] or [self.proc.pid]

    def stop(self):
        stop_proc(self.proc, group=True)
        self.log.close()


class Knot:
    name = "Knot"

    def __init__(self, work, zone):
        r = work / "knot"
        r.mkdir()
        self.port = H.free_port()
        conf = r / "knot.conf"
        conf.write_text("""server:
    rundir: "%s"
    listen: 127.0.0.1@%d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    tcp-max-clients: 1000
database:
    storage: "%s"
log:
  - target: stderr
    any: error
template:
  - id: default
    storage: "%s"
    semantic-checks: off
    journal-content: none
    zonefile-sync: -1
zone:
  - domain: %s
    file: "%s"
""" % (r, self.port, r, r, ORIGIN, zone))
        self.log = open(r / "stderr.log", "wb")
        self.proc = subprocess.Popen(["knotd", "-c", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        wait_udp(self.port)
        self.pids = [self.proc.pid]

    def stop(self):
        stop_proc(self.proc, group=True)
        self.log.close()


def stop_proc(p, group=False):
    if p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM) if group else p.terminate()
        p.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL) if group else p.kill()
        p.wait()


# ---- one server, one round ----

def measure(srv, qfile, args):
    pin(srv.pids)
    dnsperf(srv.port, qfile, 2)  # warm-up: page in the zone, fill caches
    res = {}
    for tcp in (False, True):
        t = "tcp" if tcp else "udp"
        top = dnsperf(srv.port, qfile, args.seconds, tcp=tcp)
        rate = args.rate // 2 if tcp else args.rate
        c0 = cpu_seconds(srv.pids)
        fixed = dnsperf(srv.port, qfile, args.seconds, tcp=tcp, rate=rate)
        c1 = cpu_seconds(srv.pids)
        res[t] = {"qps": top["qps"], "lat_top": top.get("latency", 0) * 1000,
                  "lat_fixed": fixed.get("latency", 0) * 1000,
                  "cpu_per_m": (c1 - c0) / max(fixed["completed"], 1) * 1e6,
                  "lost": top["lost"] + fixed["lost"], "rate": rate}
        print("  %-6s %s: %9.0f q/s (lat %.3f ms, %d lost), at %d q/s: %.2f CPU s per million "
              "(lat %.3f ms, %d lost)" % (srv.name, t.upper(), res[t]["qps"], res[t]["lat_top"],
                                          top["lost"], rate, res[t]["cpu_per_m"],
                                          res[t]["lat_fixed"], fixed["lost"]), flush=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--only", choices=["Pigeon", "NSD", "Knot"])
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pigeon-dns-bench-", dir="/var/tmp"))
    kinds = [Pigeon, NSD, Knot]
    if args.only:
        kinds = [k for k in kinds if k.name == args.only]
    results = {k.name: [] for k in kinds}
    try:
        zone = work / "bench.test.zone"
        qfile = work / "queries.txt"
        write_zone(zone, args.names)
        write_queries(qfile, args.names)
        print("zone: %d names; queries: 75%% A, 10%% NODATA, 15%% NXDOMAIN; server on CPU %s, "
              "dnsperf on CPU %s" % (args.names, SERVER_CPU, CLIENT_CPU), flush=True)
        for rnd in range(args.rounds):
            order = kinds if rnd % 2 == 0 else list(reversed(kinds))
            print("round %d" % (rnd + 1), flush=True)
            for kind in order:
                rw = work / ("r%d" % rnd)
                rw.mkdir(exist_ok=True)
                srv = kind(rw, zone)
                try:
                    results[kind.name].append(measure(srv, qfile, args))
                finally:
                    srv.stop()
        report(results)
    finally:
        H.kill_all()
        shutil.rmtree(work, ignore_errors=True)


def med(rs, t, k):
    return statistics.median(r[t][k] for r in rs)


def report(results):
    print("\n| server | UDP q/s | UDP latency ms (max / at rate) | UDP CPU s per 1M | "
          "TCP q/s | TCP latency ms (max / at rate) | TCP CPU s per 1M |")
    print("|---|---|---|---|---|---|---|")
    for name, rs in results.items():
        if not rs:
            continue
        print("| %s | %.0f | %.3f / %.3f | %.2f | %.0f | %.3f / %.3f | %.2f |" % (
            name, med(rs, "udp", "qps"), med(rs, "udp", "lat_top"), med(rs, "udp", "lat_fixed"),
            med(rs, "udp", "cpu_per_m"), med(rs, "tcp", "qps"), med(rs, "tcp", "lat_top"),
            med(rs, "tcp", "lat_fixed"), med(rs, "tcp", "cpu_per_m")))
    p = results.get("Pigeon")
    for other in ("NSD", "Knot"):
        o = results.get(other)
        if not p or not o:
            continue
        print("Pigeon/%s: UDP q/s x%.2f, TCP q/s x%.2f; CPU per query UDP x%.2f, TCP x%.2f "
              "(below 1: Pigeon cheaper)" % (
                  other, med(p, "udp", "qps") / med(o, "udp", "qps"),
                  med(p, "tcp", "qps") / med(o, "tcp", "qps"),
                  med(p, "udp", "cpu_per_m") / med(o, "udp", "cpu_per_m"),
                  med(p, "tcp", "cpu_per_m") / med(o, "tcp", "cpu_per_m")))


if __name__ == "__main__":
    main()
