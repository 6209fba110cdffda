#!/usr/bin/python3
"""Validating resolver benchmark: Pigeon's resolver against Unbound, both validating with the
same trust anchor over the same signed hierarchy (tests/integration/signed_hierarchy.py:
root, edu. and hamburger.edu. signed by pigeond, 127.0.54.x port 53), in one run.

Each resolver runs with one thread (pigeond workers = 1, unbound num-threads: 1), the same
cache size, QNAME minimisation on; Unbound with module-config "validator iterator" and
trust-anchor-file = the hierarchy's root DS (Pigeon: [resolver] trust_anchor, same file).
The names are nX.wild.hamburger.edu A: every answer is a wildcard expansion, so validating
it takes the RRSIG over the A set and the NSEC proving nX itself absent; dnsperf asks with
DO (-D), so both return the signatures and set AD.

  1. cold cache: a fresh resolver resolves N distinct names with 50 queries outstanding;
     the wall time (the first name also fetches the DNSKEY/DS chain);
  2. cache hits, flat out: dnsperf for SECONDS against the warmed cache: answers/s;
  3. cache hits at the same offered rate (RATE q/s): the resolver's CPU time (user + system,
     from /proc) per million answers.

Both resolvers and dnsperf run under nice -n -15; the resolvers are pinned to CPU 1 and
dnsperf to CPU 0 (taskset), the hierarchy's servers float.

usage: bench/dnssec_rec.py [--names N] [--seconds S] [--rate R] [--rounds K]
Needs root (port 53 on 127.0.54.x, run by bench/dnssec_rec.sh inside `unshare -n`), nsd,
unbound, dnsperf.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("PIGEON_BUILD", str(REPO / "build" / "release"))

import dns_rec as REC  # noqa: E402  (dnsperf and /proc CPU helpers)
import signed_hierarchy as SH  # noqa: E402

CPU_SERVER, CPU_CLIENT = "1", "0"


def pin(pid):
    """The process and all its threads on CPU_SERVER at nice -15."""
    subprocess.run(["taskset", "-a", "-p", "-c", CPU_SERVER, str(pid)], check=True,
                   capture_output=True)
    for tid in os.listdir("/proc/%d/task" % pid):
        os.setpriority(os.PRIO_PROCESS, int(tid), -15)


def dnsperf(port, names_file, seconds=None, rate=None, outstanding=100):
    cmd = ["nice", "-n", "-15", "taskset", "-c", CPU_CLIENT, "dnsperf", "-D", "-s",
           "127.0.0.1", "-p", str(port), "-d", str(names_file), "-c", "1", "-T", "1", "-q",
           str(outstanding), "-t", "5"]
    cmd += ["-l", str(seconds)] if seconds else ["-n", "1"]
    if rate:
        cmd += ["-Q", str(rate)]
    return REC.parse_dnsperf(subprocess.run(cmd, capture_output=True, text=True,
                                            timeout=600).stdout)


class Pigeon(REC.Pigeon):
    def __init__(self, work, h, cache):
        super().__init__(work, h.hints, cache, extra={"trust_anchor": str(h.anchor)})
        pin(self.pid)


class Unbound(REC.Unbound):
    def __init__(self, work, h, cache):
        super().__init__(work, h.hints, cache, anchor=h.anchor)
        pin(self.pid)


def check_secure(port):
    out = subprocess.run(["dig", "+dnssec", "@127.0.0.1", "-p", str(port),
                          "n0.wild.hamburger.edu", "A"], capture_output=True, text=True).stdout
    if " ad;" not in out and " ad " not in out.split("QUERY:")[0]:
        raise RuntimeError("answer not validated (no AD):\n" + out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pigeon-dnssecrec-", dir="/var/tmp"))
    h = SH.SignedHierarchy(work / "hierarchy", ttl=86400, with_nsd=False)
    try:
        names_file = work / "names.txt"
        names_file.write_text("".join("n%d.wild.hamburger.edu A\n" % i
                                      for i in range(args.names)))
        rounds = []
        for k in range(args.rounds):
            order = [Pigeon, Unbound] if k % 2 == 0 else [Unbound, Pigeon]
            r = REC.one_round(work / ("round%d" % k), h, names_file, args, order, dnsperf,
                              check_secure)
            rounds.append(r)
            print("round %d: %s" % (k + 1, r), flush=True)
    finally:
        h.close()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("load average: %s" % open("/proc/loadavg").read().strip())
    REC.print_table(rounds, args, "validating, DO=1")


if __name__ == "__main__":
    main()
