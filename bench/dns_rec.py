#!/usr/bin/python3
"""Recursive resolver benchmark: Pigeon's resolver against Unbound, in one run, on the
simulated hierarchy of tests/integration/dns_hierarchy.py (127.0.53.x port 53, no wiretaps).

Each resolver runs with one thread (pigeond workers = 1, unbound num-threads: 1), the same
cache size, QNAME minimisation on, no DNSSEC (Unbound: module-config "iterator").

  1. cold cache: a fresh resolver resolves N distinct names (nX.wild.hamburger.edu, a
     wildcard) with 50 queries outstanding (dnsperf); the wall time is reported;
  2. cache hits, flat out: dnsperf for SECONDS against the warmed cache (the same N names):
     answers per second;
  3. cache hits at the same offered rate (RATE q/s, below both maxima): the resolver's CPU
     time (user + system, from /proc) per million answers.

usage: bench/dns_rec.py [--names N] [--seconds S] [--rate R] [--rounds K]
Needs root (port 53 on 127.0.53.x), nsd, unbound and dnsperf (installed by bench/dns_rec.sh).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("PIGEON_BUILD", str(REPO / "build" / "release"))

import dns_hierarchy as DH  # noqa: E402
import pigeon_harness as H  # noqa: E402


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dnsperf(port, names_file, seconds=None, rate=None, outstanding=100, maxruns=1):
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(names_file), "-c", "1",
           "-T", "1", "-q", str(outstanding), "-t", "5"]
    cmd += ["-l", str(seconds)] if seconds else ["-n", str(maxruns)]
    if rate:
        cmd += ["-Q", str(rate)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    return parse_dnsperf(out)


def parse_dnsperf(out):
    """qps, completed, lost and elapsed from dnsperf's report (also for bench/dnssec_rec.py)."""
    m = {k: re.search(p, out) for k, p in (
        ("qps", r"Queries per second:\s+([\d.]+)"),
        ("completed", r"Queries completed:\s+(\d+)"),
        ("lost", r"Queries lost:\s+(\d+)"),
        ("elapsed", r"Run time \(s\):\s+([\d.]+)"))}
    if not m["qps"]:
        raise RuntimeError("dnsperf failed:\n" + out)
    return {k: float(v.group(1)) for k, v in m.items()}


class Pigeon:
    name = "Pigeon"

    def __init__(self, work, hints, cache, extra=None):
        self.d = DH.resolver_daemon(work / "pigeon", hints,
                                    extra=dict({"cache_size": cache}, **(extra or {})))
        self.d.sections["server"]["workers"] = 1
        self.d.sections["server"]["log_level"] = "info"  # the harness waits for "pigeond ready"
        self.d.write_conf()
        self.d.setup()
        self.d.start()
        self.port = self.d.resolver_port
        self.pid = self.d.proc.pid

    def stop(self):
        self.d.stop()


class Unbound:
    name = "Unbound"

    def __init__(self, work, hints, cache, anchor=None):
        """anchor: a trust-anchor file: validating (bench/dnssec_rec.py)."""
        d = work / "unbound"
        d.mkdir(parents=True, exist_ok=True)
        self.port = H.free_port()
        conf = d / "unbound.conf"
        conf.write_text("""server:
    interface: 127.0.0.1@%d
    port: %d
    num-threads: 1
    do-ip6: no
    username: ""
    chroot: ""
    directory: "%s"
    pidfile: "%s/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 0
    root-hints: "%s"
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "%s"
    qname-minimisation: yes
    rrset-cache-size: %s
    msg-cache-size: %s
    minimal-responses: yes
""" % (self.port, self.port, d, d, hints,
       'validator iterator"\n    trust-anchor-file: "%s' % anchor if anchor else "iterator",
       cache, cache))
        self.proc = subprocess.Popen(["unbound", "-d", "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        DH.wait_udp("127.0.0.1", self.port, timeout=30)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def one_round(work, hints, names_file, args, order, perf=None, check=None):
    """One round over the servers of order. perf replaces dnsperf() (bench/dnssec_rec.py
    asks with DO, pinned); check(port) runs after the cold pass."""
    perf = perf or dnsperf
    res = {}
    for cls in order:
        srv = cls(work / ("r%d" % len(res)), hints, "32m")
        try:
            t0 = time.monotonic()
            cold = perf(srv.port, names_file, outstanding=50)
            cold_s = time.monotonic() - t0
            if check:
                check(srv.port)
            perf(srv.port, names_file, outstanding=50)  # everything cached now
            hot = perf(srv.port, names_file, seconds=args.seconds)
            c0 = cpu_seconds(srv.pid)
            fixed = perf(srv.port, names_file, seconds=args.seconds, rate=args.rate)
            cpu = cpu_seconds(srv.pid) - c0
            res[cls.name] = {"cold_s": cold_s, "cold_lost": cold["lost"], "qps": hot["qps"],
                             "cpu_per_m": cpu / max(fixed["completed"], 1) * 1e6,
                             "fixed_qps": fixed["qps"]}
        finally:
            srv.stop()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pigeon-dnsrec-", dir="/var/tmp"))
    h = DH.Hierarchy(work / "hierarchy", tap=False)
    try:
        names_file = work / "names.txt"
        names_file.write_text("".join("n%d.wild.hamburger.edu A\n" % i
                                      for i in range(args.names)))
        rounds = []
        for k in range(args.rounds):
            order = [Pigeon, Unbound] if k % 2 == 0 else [Unbound, Pigeon]
            r = one_round(work / ("round%d" % k), h.hints, names_file, args, order)
            rounds.append(r)
            print("round %d: %s" % (k + 1, r), flush=True)
    finally:
        h.close()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rounds, args, "measure")


def print_table(rounds, args, title):
    """The medians of the rounds as a Markdown table (also for bench/dnssec_rec.py)."""
    med = {s: {k: statistics.median(r[s][k] for r in rounds) for k in rounds[0][s]}
           for s in ("Pigeon", "Unbound")}
    p, u = med["Pigeon"], med["Unbound"]
    print()
    print("| %s (median of %d rounds) | Pigeon | Unbound | Pigeon / Unbound |" % (title,
                                                                                 args.rounds))
    print("|---|---|---|---|")
    print("| cache hits, answers/s (1 thread) | %.0f | %.0f | %.2f |" % (
        p["qps"], u["qps"], p["qps"] / u["qps"]))
    print("| CPU per million answers at %d q/s | %.2f s | %.2f s | %.2f |" % (
        args.rate, p["cpu_per_m"], u["cpu_per_m"], p["cpu_per_m"] / u["cpu_per_m"]))
    print("| cold cache, %d names (50 outstanding) | %.2f s | %.2f s | %.2f |" % (
        args.names, p["cold_s"], u["cold_s"], p["cold_s"] / u["cold_s"]))


if __name__ == "__main__":
    main()
