"""A signed DNS hierarchy in the suite's network namespace (port 53 on 127.0.54.x), shared by
tests/integration/test_dnssec_resolver.py and bench/dnssec_rec.py:

    127.0.54.1  "."                       pigeond, signed (dnssec = on)
    127.0.54.2  edu., fr., hamburger.edu.  pigeond, signed; edu. takes hamburger.edu.'s CDS as DS
    127.0.54.3  crepes.fr. (NSEC3), expired.fr., plain.fr., bigkeys.fr.   NSD, signed by
                ldns-signzone (expired.fr.'s signatures ran out in 2020; plain.fr. is unsigned,
                no DS; bigkeys.fr.'s DNSKEY set, four RSA keys and three signatures, is too big
                for 1232 octets of UDP: NSD truncates it)

`anchor` is the root's DS from `pigeon dnssec ds`, in the file form Unbound reads; `hints`
the root hints. TTL is the TTL of the pigeond zones (short for rollover tests).
"""

import subprocess
from pathlib import Path

import dns_auth_helpers as DA
import dns_hierarchy as DH
import pigeon_harness as H

ROOT, TLD, NSD = "127.0.54.1", "127.0.54.2", "127.0.54.3"

ROOT_ZONE = """$TTL {ttl}
@ SOA a.root.test. hostmaster.root.test. 1 3600 600 86400 {ttl}
@ NS a.root.test.
a.root.test. A 127.0.54.1
edu. NS a.edu-servers.test.
a.edu-servers.test. A 127.0.54.2
fr. NS ns1.nic.fr.
ns1.nic.fr. A 127.0.54.2
"""

EDU = """$ORIGIN edu.
$TTL {ttl}
@ SOA a.edu-servers.test. hostmaster.edu. 1 3600 600 86400 {ttl}
@ NS a.edu-servers.test.
hamburger NS dns.hamburger
dns.hamburger A 127.0.54.2
"""

HAMBURGER = """$ORIGIN hamburger.edu.
$TTL {ttl}
@ SOA dns hostmaster 1 3600 600 86400 {ttl}
@ NS dns
@ MX 10 mail
dns A 127.0.54.2
mail A 127.0.0.25
www A 127.0.0.80
*.wild A 127.0.0.91
"""

FR = """$ORIGIN fr.
$TTL {ttl}
@ SOA ns1.nic hostmaster 1 3600 600 86400 {ttl}
@ NS ns1.nic
ns1.nic A 127.0.54.2
crepes NS ns.crepes
ns.crepes A 127.0.54.3
expired NS ns.expired
ns.expired A 127.0.54.3
bigkeys NS ns.bigkeys
ns.bigkeys A 127.0.54.3
plain NS ns.plain
ns.plain A 127.0.54.3
"""

LEAF = """$ORIGIN {o}.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.54.3
www A 127.0.0.90
@ MX 10 www
"""


def run(*cmd, cwd=None):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    assert p.returncode == 0, "%s -> %d\n%s%s" % (cmd, p.returncode, p.stdout, p.stderr)
    return p.stdout


def ldns_sign(d, origin, nsec3=False, expired=False, big_keys=False):
    """origin's zone signed by ldns-signzone with a fresh ECDSA key (big_keys: three RSA-2048
    KSKs and an RSA ZSK); returns its DS lines."""
    (d / (origin + ".zone")).write_text(LEAF.format(o=origin))
    if big_keys:
        ksks = [run("ldns-keygen", "-a", "RSASHA256", "-b", "2048", "-k", origin + ".",
                    cwd=d).strip() for _ in range(3)]
        keys = ksks + [run("ldns-keygen", "-a", "RSASHA256", "-b", "1024", origin + ".",
                           cwd=d).strip()]
    else:
        keys = ksks = [run("ldns-keygen", "-a", "ECDSAP256SHA256", "-k", origin + ".",
                           cwd=d).strip()]
    args = ["ldns-signzone"]
    if expired:
        args += ["-i", "20200101000000", "-e", "20200201000000"]
    if nsec3:
        args += ["-n"]
    run(*args, origin + ".zone", *keys, cwd=d)
    return "".join(run("ldns-key2ds", "-n", "-2", k + ".key", cwd=d) for k in ksks)


def pigeon_ds(daemon, zone):
    return run(H.PIGEON, "dnssec", "ds", zone, Path(daemon.data_dir) / "dnssec")


def auth(root, name, addr, zones):
    d = H.Daemon(root / name, name=name)
    d.sections["dns"] = {"listen": "%s:53" % addr}
    for origin, text in zones.items():
        path = root / name / ((origin.strip(".") or "root") + ".zone")
        path.write_text(text)
        d.sections["zone " + origin] = {"file": str(path), "dnssec": "on"}
    d.write_conf()
    d.setup()
    d.start()
    DH.wait_udp(addr, 53)
    return d


def start_nsd(d, zones):
    conf = d / "nsd.conf"
    text = DH._nsd_conf(d, NSD, 53, zones[0][0], zones[0][1])  # noqa: SLF001 (suite helper)
    for origin, path in zones[1:]:
        text += 'zone:\n    name: "%s"\n    zonefile: "%s"\n' % (origin, path)
    conf.write_text(text)
    p = subprocess.Popen(["nsd", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    DH.wait_udp(NSD, 53)
    return p



class SignedHierarchy:
    """Starts every server (NSD only when with_nsd); close() stops them and returns the
    pigeond sanitizer reports."""

    def __init__(self, root, ttl=2, with_nsd=True):
        self.root = Path(root)
        self.daemons, self.procs = [], []
        try:
            self._start(ttl, with_nsd)
        except BaseException:
            self.close()
            raise

    def _start(self, ttl, with_nsd):
        fr = FR.format(ttl=ttl)
        if with_nsd:
            nsd_dir = self.root / "nsd"
            nsd_dir.mkdir(parents=True)
            fr += ldns_sign(nsd_dir, "crepes.fr", nsec3=True)
            fr += ldns_sign(nsd_dir, "expired.fr", expired=True)
            fr += ldns_sign(nsd_dir, "bigkeys.fr", big_keys=True)
            (nsd_dir / "plain.fr.zone").write_text(LEAF.format(o="plain.fr"))
            self.procs.append(start_nsd(nsd_dir, [
                ("crepes.fr", nsd_dir / "crepes.fr.zone.signed"),
                ("expired.fr", nsd_dir / "expired.fr.zone.signed"),
                ("bigkeys.fr", nsd_dir / "bigkeys.fr.zone.signed"),
                ("plain.fr", nsd_dir / "plain.fr.zone")]))
        self.tld = auth(self.root, "tld", TLD, {"edu": EDU.format(ttl=ttl), "fr": fr,
                                                "hamburger.edu": HAMBURGER.format(ttl=ttl)})
        self.daemons.append(self.tld)
        rz = ROOT_ZONE.format(ttl=ttl) + pigeon_ds(self.tld, "edu.") + pigeon_ds(self.tld, "fr.")
        self.rootd = auth(self.root, "root", ROOT, {".": rz})
        self.daemons.append(self.rootd)
        self.anchor = self.root / "root.key"
        self.anchor.write_text("; the simulated root's KSK, as `pigeon dnssec ds` prints it\n" +
                               pigeon_ds(self.rootd, "."))
        self.hints = self.root / "root.hints"
        self.hints.write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A %s\n" % ROOT)

    def close(self):
        for p in self.procs:
            p.terminate()
            p.wait(10)
        return [r for r in (DA.finish(d) for d in reversed(self.daemons)) if r]
