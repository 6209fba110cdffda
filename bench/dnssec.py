#!/usr/bin/python3
"""DNSSEC benchmark: Pigeon against Knot and ldns (signing) and against NSD and Knot (serving
signed answers), in one run.

1. Signing: the same generated zone (bench.test, --names names, about 1.1 records each: A,
   some AAAA/MX/TXT) signed with ECDSAP256SHA256 and NSEC by `pigeon dnssec sign`, Knot's
   `kzonesign` and `ldns-signzone`, each with keys made beforehand (key generation is not
   timed); wall-clock seconds of the signing command, the median of ROUNDS runs. Every output
   is checked with `pigeon dnssec verify` (and the ldns one also with ldns-verify-zone).
2. Serving: the ldns-signed zone, as a pre-signed zone file, loaded by pigeond (one worker),
   NSD (server-count 1) and Knot (one UDP worker), each pinned to CPU 1; dnsperf on CPU 0
   sends the query mix of bench/dns_auth.py (75% A, 10% NODATA, 15% NXDOMAIN) with the DO
   bit (-D): every answer carries RRSIGs, every negative answer its NSEC proof. Answers/s
   flat out over UDP for SECONDS, and the average latency.

The ratios are Pigeon's time / the peer's (signing: lower is better for Pigeon) and Pigeon's
q/s / the peer's (serving: higher is better). The machine may be shared: say so with figures.

usage: bench/dnssec.py [--names N] [--seconds S] [--rounds K]
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import dns_auth as A  # noqa: E402  (the zone, queries, dnsperf and the NSD/Knot wrappers)

H = A.H
PIGEON = Path(A.os.environ["PIGEON_BUILD"]) / "pigeon"
ORIGIN = A.ORIGIN


def timed(cmd, out=None, cwd=None):
    f = open(out, "w") if out else subprocess.DEVNULL
    try:
        t0 = time.monotonic()
        p = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.PIPE, cwd=cwd)
        t = time.monotonic() - t0
    finally:
        if out:
            f.close()
    if p.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (cmd[0], p.stderr.decode(errors="replace")))
    return t


def sign_pigeon(work, zone):
    keys = work / "pigeon-keys"
    subprocess.run([PIGEON, "dnssec", "keygen", keys, ORIGIN + "."], check=True,
                   stdout=subprocess.DEVNULL)
    out = work / "pigeon.signed"
    return timed([PIGEON, "dnssec", "sign", ORIGIN + ".", zone, keys], out), out


def sign_ldns(work, zone):
    d = work / "ldns"
    d.mkdir(exist_ok=True)
    key = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ORIGIN], cwd=d,
                         capture_output=True, text=True, check=True).stdout.strip()
    out = d / "zone.signed"
    t = timed(["ldns-signzone", "-f", out, zone, key], cwd=d)
    return t, out


KNOT_CONF = """database:
    storage: {d}
policy:
  - id: p
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
zone:
  - domain: {o}.
    file: {zone}
    storage: {d}
    dnssec-signing: on
    dnssec-policy: p
"""


def sign_knot(work, zone):
    d = work / "knot-sign"
    d.mkdir(exist_ok=True)
    conf = d / "knot.conf"
    conf.write_text(KNOT_CONF.format(d=d, o=ORIGIN, zone=zone))
    subprocess.run(["keymgr", "-c", conf, ORIGIN + ".", "generate", "ksk=yes", "zsk=yes"],
                   check=True, stdout=subprocess.DEVNULL)
    t = timed(["kzonesign", "-c", conf, "-o", d / "out", ORIGIN + "."])
    return t, d / "out" / (ORIGIN + ".zone")


def verify(path):
    p = subprocess.run([PIGEON, "dnssec", "verify", ORIGIN + ".", path], capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise RuntimeError("%s does not verify:\n%s" % (path, p.stdout[-2000:]))



class Pigeon(A.Pigeon):
    """pigeond serving the pre-signed zone, at log level info: the harness waits for its
    "pigeond ready" line (bench/dns_auth.py's server logs at warn)."""

    def __init__(self, work, zone):
        d = H.Daemon(work / "pigeon", name="pigeon-dnssec-bench", server={"workers": 1})
        self.port = H.free_port()
        d.sections["dns"] = {"listen": "127.0.0.1:%d" % self.port}
        d.sections["zone " + ORIGIN] = {"file": str(zone)}
        d.ports.append(self.port)
        d.write_conf()
        d.setup()
        d.start()
        self.d = d
        self.pids = [d.proc.pid]


def serve(kind, work, zone, qfile, seconds):
    srv = kind(work, zone)
    try:
        A.pin(srv.pids)
        A.dnsperf(srv.port, qfile, 2)
        r = dnsperf_do(srv.port, qfile, seconds)
        print("  %-6s UDP DO=1: %9.0f q/s (lat %.3f ms, %d lost)" % (
            srv.name, r["qps"], r.get("latency", 0) * 1000, r.get("lost", 0)), flush=True)
        return r
    finally:
        srv.stop()


def dnsperf_do(port, qfile, seconds):
    cmd = ["taskset", "-c", A.CLIENT_CPU, "dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d",
           str(qfile), "-D", "-T", "1", "-t", "5", "-l", str(seconds), "-c", "4", "-q", "100",
           "-b", "1024"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    m = {k: A.re.search(p, out) for k, p in (
        ("qps", r"Queries per second:\s+([\d.]+)"), ("lost", r"Queries lost:\s+(\d+)"),
        ("latency", r"Average Latency \(s\):\s+([\d.]+)"))}
    if not m["qps"]:
        raise RuntimeError("dnsperf failed:\n" + out)
    return {k: float(v.group(1)) for k, v in m.items() if v}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--names", type=int, default=90000)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pigeon-dnssec-bench-", dir="/var/tmp"))
    try:
        zone = work / "bench.test.zone"
        qfile = work / "queries.txt"
        A.write_zone(zone, args.names)
        A.write_queries(qfile, args.names)
        records = sum(1 for l in zone.read_text().splitlines() if l and not l.startswith("$"))
        print("zone: %d names, %d records; ECDSAP256SHA256, NSEC" % (args.names, records),
              flush=True)
        times = {"Pigeon": [], "Knot": [], "ldns": []}
        outs = {}
        for rnd in range(args.rounds):
            rw = work / ("s%d" % rnd)
            rw.mkdir()
            for name, fn in (("Pigeon", sign_pigeon), ("Knot", sign_knot), ("ldns", sign_ldns)):
                t, out = fn(rw, zone)
                times[name].append(t)
                outs[name] = out
                print("  sign %-6s %.2f s" % (name, t), flush=True)
        for name, out in outs.items():
            verify(out)
        subprocess.run(["ldns-verify-zone", str(outs["Pigeon"])], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        med = {k: statistics.median(v) for k, v in times.items()}
        print("\n| signer | seconds | Pigeon / it |\n|---|---|---|")
        for k, v in med.items():
            print("| %s | %.2f | %.2f |" % (k, v, med["Pigeon"] / v))

        signed = outs["ldns"]
        res = {}
        for kind in (Pigeon, A.NSD, A.Knot):
            sw = work / ("v-" + kind.name)
            sw.mkdir()
            res[kind.name] = serve(kind, sw, signed, qfile, args.seconds)
        print("\n| server (pre-signed zone, DO=1, UDP) | q/s | latency ms | Pigeon / it |")
        print("|---|---|---|---|")
        for k, r in res.items():
            print("| %s | %.0f | %.3f | %.2f |" % (k, r["qps"], r.get("latency", 0) * 1000,
                                                 res["Pigeon"]["qps"] / r["qps"]))
    finally:
        H.kill_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
