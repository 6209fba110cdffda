"""The textbook scenario across two mail domains, on loopback addresses 127.0.53.x port 53/25.

A root name server, TLD servers for edu. and fr., a recursive resolver, Alice's server for
crepes.fr and Bob's server for hamburger.edu -- each a pigeond. Every zone is signed with
DNSSEC (each zone's key is made before start, its DS put in the parent zone), and the
resolver validates from the simulated root's DS as trust anchor. Alice submits a message with
AUTH and STARTTLS; her server queues it, looks up hamburger.edu's MX through DNS, delivers it
over SMTP to Bob's server, which stores it; Bob reads it with POP3 and IMAP.

Used by tests/integration/test_textbook_scenario.py and by `make demo` (scripts/demo.py).
Needs root (port 53 and 25 on 127.0.53.x).
"""
import imaplib
import os
import poplib
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

ROOT_IP, EDU_IP, FR_IP = "127.0.53.1", "127.0.53.2", "127.0.53.3"
BOB_IP, ALICE_IP, RESOLVER_IP = "127.0.53.10", "127.0.53.20", "127.0.53.53"
BOB_PASSWORD, ALICE_PASSWORD = "hungry", "crepes"

ZONES = {
    ".": f"""$TTL 86400
@ SOA a.root-servers.test. hostmaster.root-servers.test. 1 1800 900 604800 86400
@ NS a.root-servers.test.
a.root-servers.test. A {ROOT_IP}
edu. NS ns.edu.
ns.edu. A {EDU_IP}
fr. NS ns.fr.
ns.fr. A {FR_IP}
""",
    "edu": f"""$ORIGIN edu.
$TTL 86400
@ SOA ns.edu. hostmaster.edu. 1 1800 900 604800 86400
@ NS ns
ns A {EDU_IP}
hamburger NS ns1.hamburger
ns1.hamburger A {BOB_IP}
""",
    "fr": f"""$ORIGIN fr.
$TTL 86400
@ SOA ns.fr. hostmaster.fr. 1 1800 900 604800 86400
@ NS ns
ns A {FR_IP}
crepes NS ns1.crepes
ns1.crepes A {ALICE_IP}
""",
    "hamburger.edu": f"""$ORIGIN hamburger.edu.
$TTL 300
@ SOA ns1 hostmaster 1 1800 900 604800 300
@ NS ns1
@ MX 10 mail
@ TXT "v=spf1 mx -all"
ns1 A {BOB_IP}
mail A {BOB_IP}
""",
    "crepes.fr": f"""$ORIGIN crepes.fr.
$TTL 300
@ SOA ns1 hostmaster 1 1800 900 604800 300
@ NS ns1
@ MX 10 mail
@ TXT "v=spf1 mx -all"
ns1 A {ALICE_IP}
mail A {ALICE_IP}
""",
}


# The zones below each zone (whose DS it holds), and the node that keeps each zone's keys.
CHILDREN = {".": ("edu", "fr"), "edu": ("hamburger.edu",), "fr": ("crepes.fr",),
            "hamburger.edu": (), "crepes.fr": ()}
KEY_HOMES = {".": "root", "edu": "tld-edu", "fr": "tld-fr", "hamburger.edu": "hamburger.edu",
             "crepes.fr": "crepes.fr"}


def _unverified():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Node:
    """One pigeond with its own config, data directory and log."""

    def __init__(self, scenario, name, sections):
        self.s = scenario
        self.name = name
        self.dir = scenario.root / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "pigeon.conf"
        self.log = self.dir / "pigeond.log"
        base = {"server": {"hostname": f"{name}.test" if "." not in name else name,
                           "primary_domain": name if "." in name else f"{name}.test",
                           "data_dir": str(self.dir / "data"), "log_level": "info",
                           "workers": 1, "shutdown_timeout": 5}}
        base.update(sections)
        text = []
        for sec, keys in base.items():
            text.append(f"[{sec}]")
            for k, v in keys.items():
                for one in (v if isinstance(v, list) else [v]):
                    text.append(f"{k} = {one}")
            text.append("")
        self.conf.write_text("\n".join(text))
        self.proc = None

    def cli(self, *args, input=None):
        return subprocess.run([str(self.s.pigeon), "-c", str(self.conf), *args],
                              input=input, capture_output=True, text=True, check=True).stdout

    def start(self):
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([str(self.s.pigeond), "-c", str(self.conf)],
                                     stdout=self.logf, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _wait_port(ip, port, udp=False, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if udp:
                return True
            with socket.create_connection((ip, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{ip}:{port} did not come up")


class Scenario:
    def __init__(self, build, say=print, keep=False):
        self.build = Path(build)
        self.pigeond = self.build / "pigeond"
        self.pigeon = self.build / "pigeon"
        self.say = say
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="pigeon-textbook-"))
        self.nodes = []
        self.with_resolver = self._resolver_supported()

    def _resolver_supported(self):
        probe = self.root / "probe.conf"
        probe.write_text("[server]\nhostname=a\nprimary_domain=a\ndata_dir=/tmp/x\n"
                         f"[resolver]\nlisten = {RESOLVER_IP}:53\n")
        r = subprocess.run([str(self.pigeond), "-t", "-c", str(probe)], capture_output=True)
        return r.returncode == 0

    def _zone_file(self, name):
        path = self.root / "zones" / ((name if name != "." else "root") + ".zone")
        path.parent.mkdir(exist_ok=True)
        path.write_text(ZONES[name] + "".join(self.ds.get(c, "") for c in CHILDREN[name]))
        return str(path)

    def _zone(self, zone):
        return {"file": self._zone_file(zone), "dnssec": "on"}

    def _dns_node(self, name, ip, zone):
        return Node(self, name, {"dns": {"listen": f"{ip}:53"}, f"zone {zone}": self._zone(zone)})

    def _make_keys(self):
        """Each zone's CSK made where its server keeps keys (DATA/dnssec), before any server
        starts; the DS of each goes into its parent's zone file, the root's into the anchor."""
        self.ds = {}
        for zone, node in KEY_HOMES.items():
            keydir = self.root / node / "data" / "dnssec"
            keydir.mkdir(parents=True, mode=0o700, exist_ok=True)
            origin = zone if zone.endswith(".") else zone + "."
            subprocess.run([str(self.pigeon), "dnssec", "keygen", str(keydir), origin],
                           capture_output=True, check=True)
            self.ds[zone] = subprocess.run([str(self.pigeon), "dnssec", "ds", origin, str(keydir)],
                                           capture_output=True, text=True, check=True).stdout
        self.anchor = self.root / "root.key"
        self.anchor.write_text("; the simulated root's key (as Unbound's root.key)\n" +
                               self.ds["."])

    def setup(self):
        say = self.say
        say(f"Starting the DNS hierarchy: root {ROOT_IP}, edu. {EDU_IP}, fr. {FR_IP}, all "
            "signed (DNSSEC), DS records in the parents")
        self._make_keys()
        self.nodes += [self._dns_node("root", ROOT_IP, "."), self._dns_node("tld-edu", EDU_IP, "edu"),
                       self._dns_node("tld-fr", FR_IP, "fr")]
        if self.with_resolver:
            hints = self.root / "root.hints"
            hints.write_text(f". 3600000 NS a.root-servers.test.\n"
                             f"a.root-servers.test. 3600000 A {ROOT_IP}\n")
            say(f"Starting the local recursive resolver on {RESOLVER_IP}:53")
            self.nodes.append(Node(self, "resolver", {"resolver": {
                "listen": f"{RESOLVER_IP}:53", "root_hints": str(hints),
                "allow": "127.0.0.0/8", "trust_anchor": str(self.anchor)}}))
        bob_dns = f"{RESOLVER_IP}:53" if self.with_resolver else f"{ALICE_IP}:53"
        alice_dns = f"{RESOLVER_IP}:53" if self.with_resolver else f"{BOB_IP}:53"
        self.bob = Node(self, "hamburger.edu", {
            "smtp": {"listen": f"{BOB_IP}:25"},
            "pop3": {"listen": f"{BOB_IP}:110", "plaintext_auth": "loopback"},
            "imap": {"listen": f"{BOB_IP}:143", "plaintext_auth": "loopback"},
            "dns": {"listen": f"{BOB_IP}:53"},
            "zone hamburger.edu": self._zone("hamburger.edu"),
            "delivery": {"resolver": bob_dns, "source_address": BOB_IP}})
        self.alice = Node(self, "crepes.fr", {
            "smtp": {"listen": f"{ALICE_IP}:25"},
            "submission": {"listen": f"{ALICE_IP}:587"},
            "dns": {"listen": f"{ALICE_IP}:53"},
            "zone crepes.fr": self._zone("crepes.fr"),
            "delivery": {"resolver": alice_dns, "source_address": ALICE_IP,
                         "retry_initial": 2, "scan_interval": 2}})
        self.nodes += [self.bob, self.alice]
        say("Creating users: bob@hamburger.edu and alice@crepes.fr")
        self.bob.cli("domain", "add", "hamburger.edu")
        self.bob.cli("user", "add", "bob@hamburger.edu", input=BOB_PASSWORD + "\n")
        self.alice.cli("domain", "add", "crepes.fr")
        self.alice.cli("user", "add", "alice@crepes.fr", input=ALICE_PASSWORD + "\n")
        say("Publishing crepes.fr's DKIM key and DMARC policy (pigeon domain records crepes.fr)")
        records = self.alice.cli("domain", "records", "crepes.fr")
        with open(self.root / "zones" / "crepes.fr.zone", "a") as z:
            for line in records.splitlines():
                if "._domainkey." in line or line.startswith("_dmarc."):
                    z.write(line + "\n")
        for n in self.nodes:
            n.start()
        for ip, port in ((BOB_IP, 25), (BOB_IP, 110), (ALICE_IP, 587), (ALICE_IP, 25),
                         (ROOT_IP, 53), (EDU_IP, 53), (FR_IP, 53), (BOB_IP, 53), (ALICE_IP, 53)):
            _wait_port(ip, port)
        if self.with_resolver:
            _wait_port(RESOLVER_IP, 53)

    def teardown(self):
        for n in reversed(self.nodes):
            n.stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- the scenario
    def send(self, message):
        self.say(f"1. Alice's user agent submits to {ALICE_IP}:587 with STARTTLS and AUTH")
        s = smtplib.SMTP(ALICE_IP, 587, local_hostname="alice-laptop.crepes.fr", timeout=30)
        s.starttls(context=_unverified())
        s.login("alice@crepes.fr", ALICE_PASSWORD)
        refused = s.sendmail("alice@crepes.fr", ["bob@hamburger.edu"], message)
        s.quit()
        assert refused == {}, refused

    def wait_delivered(self, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if "store" in self.bob.log_text() and re.search(r"store s\w+ stored \w+ local=1",
                                                            self.bob.log_text()):
                return True
            time.sleep(0.2)
        return False

    def narrate(self):
        a, b = self.alice.log_text(), self.bob.log_text()
        steps = [
            ("2. Alice's server queued the message", r"store s\w+ stored (\w+) local=0 queued=1", a),
            ("3. It looked up hamburger.edu's MX through DNS", r"queue hamburger\.edu: MX .*", a),
            ("4. It connected to Bob's server", r"queue hamburger\.edu: connected to .*", a),
            ("5. Bob's server said 250", r"to=<bob@hamburger\.edu> relay=.* sent: .*", a),
            ("6. Bob's server checked SPF and stored the message", r"smtp s\w+ spf \w+ .*", b),
            ("   ... and DKIM and DMARC", r"dkim: \d+ signature.*dmarc \w+ for crepes\.fr.*", b),
        ]
        ok = True
        for title, pattern, text in steps:
            m = re.search(pattern, text)
            self.say(f"{title}: {m.group(0).strip() if m else 'NOT SEEN'}")
            ok = ok and m is not None
        return ok

    def read_pop3(self):
        self.say(f"7. Bob reads his mail with POP3 at {BOB_IP}:110 (user bob, pass hungry)")
        p = poplib.POP3(BOB_IP, 110, timeout=30)
        p.user("bob")
        p.pass_(BOB_PASSWORD)
        count, _ = p.stat()
        resp, lines, _ = p.retr(count)
        p.quit()
        return b"\r\n".join(lines) + b"\r\n"

    def read_imap(self):
        self.say(f"8. Bob reads it again with IMAP at {BOB_IP}:143")
        m = imaplib.IMAP4(BOB_IP, 143)
        m.login("bob", BOB_PASSWORD)
        m.select("INBOX", readonly=True)
        typ, data = m.fetch(b"*", "(BODY.PEEK[])")
        m.logout()
        return data[0][1]


def _ask(name, rtype):
    import dns.message
    import dns.query
    q = dns.message.make_query(name, rtype, want_dnssec=True)
    return dns.query.tcp(q, RESOLVER_IP, port=53, timeout=10)


def chain_of_trust(name="hamburger.edu.", rtype="MX"):
    """The chain from the trust anchor to name's rtype, as the resolver sees it: one line per
    level (DS -> DNSKEY), then the RRSIG over the data; and whether the answer had AD."""
    import dns.dnssec
    import dns.flags
    import dns.rdatatype
    lines = []
    zones = [".", "edu.", "hamburger.edu."]
    for z in zones:
        if z == ".":
            ds = "the trust anchor (root.key)"
        else:
            r = _ask(z, "DS")
            tags = sorted({d.key_tag for s in r.answer if s.rdtype == dns.rdatatype.DS for d in s})
            sig = [g for s in r.answer if s.rdtype == dns.rdatatype.RRSIG for g in s]
            ds = "DS %s (signed by %s key %s)" % (",".join(map(str, tags)),
                                                  sig[0].signer if sig else "?",
                                                  sig[0].key_tag if sig else "?")
        r = _ask(z, "DNSKEY")
        keys = [k for s in r.answer if s.rdtype == dns.rdatatype.DNSKEY for k in s]
        desc = ", ".join("%d (%s, %s)" % (dns.dnssec.key_id(k), "KSK" if k.flags & 1 else "ZSK",
                                          dns.dnssec.algorithm_to_text(k.algorithm))
                         for k in keys)
        lines.append("%-15s %s -> DNSKEY %s" % (z, ds, desc))
    r = _ask(name, rtype)
    data = [s for s in r.answer if s.rdtype == dns.rdatatype.from_text(rtype)]
    sigs = [g for s in r.answer if s.rdtype == dns.rdatatype.RRSIG for g in s]
    lines.append("%-15s %s %s, RRSIG by %s key %s; resolver says %s" % (
        name, rtype, " ".join(x.to_text() for s in data for x in s),
        sigs[0].signer if sigs else "?", sigs[0].key_tag if sigs else "?",
        "AD (secure)" if r.flags & dns.flags.AD else "NOT secure"))
    return lines, bool(r.flags & dns.flags.AD)


def strip_trace(stored):
    """The message as the sender wrote it: drop the Return-Path, Received, Received-SPF,
    Authentication-Results and DKIM-Signature fields the servers prepended (with their
    continuation lines)."""
    lines = stored.split(b"\r\n")
    i = 0
    while i < len(lines) and re.match(
            rb"(?i)(return-path|received|received-spf|authentication-results|dkim-signature):",
            lines[i]):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return b"\r\n".join(lines[i:])
