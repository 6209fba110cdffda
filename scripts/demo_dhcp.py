#!/usr/bin/python3
"""`make demo`, the DHCP step: a new host in a network namespace of its own (joined to
pigeond by a veth pair, inside a private network namespace so the machine's own network is
untouched) broadcasts DISCOVER with busybox udhcpc, gets its address, router, DNS server and
domain from Pigeon, and its name then resolves through Pigeon's resolver (A and PTR).
Exit 0 only if all of that held."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import pigeon_harness as H  # noqa: E402
import test_dhcp as T  # noqa: E402  (the DHCP tests' daemon and client helpers)


def main():
    if os.geteuid() != 0:
        print("DHCP step: not run (it needs root for its network namespaces)")
        return 0
    H.enter_private_network()
    ns = "pgdemo%d" % os.getpid()
    tmp = Path(tempfile.mkdtemp(prefix="pigeon-dhcp-demo."))
    T.sh("ip", "netns", "add", ns)
    d = None
    ok = False
    try:
        T.sh("ip", "link", "add", T.SRV_IF, "type", "veth", "peer", "name", T.CLI_IF, "netns", ns)
        T.sh("ip", "addr", "add", T.SERVER + "/24", "dev", T.SRV_IF)
        T.sh("ip", "link", "set", T.SRV_IF, "up")
        T.sh("ip", "netns", "exec", ns, "ip", "link", "set", T.CLI_IF, "up")
        d = T.dhcp_daemon(tmp)
        T.start(d)
        print("1. pigeond serves DHCP on %s (10.77.0.0/24) and the zone %s" % (T.SRV_IF, T.ZONE))
        script = tmp / "udhcpc.sh"
        script.write_text(T.UDHCPC_SCRIPT)
        script.chmod(0o755)
        out = tmp / "udhcpc.out"
        p = subprocess.run(["ip", "netns", "exec", ns, shutil.which("udhcpc"), "-i", T.CLI_IF,
                            "-f", "-q", "-n", "-t", "5", "-T", "2", "-s", str(script), "-x",
                            "hostname:newhost"], env=dict(os.environ, OUT=str(out)),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        print("2. the new host runs udhcpc: DISCOVER, OFFER, REQUEST, ACK")
        got = dict(l.split("=", 1) for l in out.read_text().split()) if out.exists() else {}
        if p.returncode != 0 or "ip" not in got:
            print("   no lease:\n" + p.stdout.decode(errors="replace"))
            return 1
        print("   address %s, router %s, DNS server %s, domain %s" % (
            got["ip"], got["router"], got["dns"], got["domain"]))
        d.wait_log(r"ddns: added newhost\.lan\.test\.")
        rc, ans = T.resolve(d, "newhost.lan.test", "A")
        rev = ".".join(reversed(got["ip"].split("."))) + ".in-addr.arpa"
        H.wait_until(lambda: T.resolve(d, rev, "PTR")[1], 10, "the PTR")
        ptr = T.resolve(d, rev, "PTR")[1]
        print("3. Pigeon's resolver: newhost.lan.test A -> %s; %s PTR -> %s" % (
            ", ".join(a.split()[-1] for a in ans) or "(none)", rev, ", ".join(ptr)))
        ok = got["ip"] in ans and ptr == ["newhost.lan.test."]
    finally:
        if d is not None:
            T.A.finish(d)
        T.sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    print("DHCP step: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
