"""Pigeon's recursive resolver against a simulated hierarchy (dns_hierarchy.py): the walk
root -> TLD -> authoritative, the cache (no new upstream query, TTL countdown, expiry,
negative caching), CNAME across zones, NS without glue, the poisoning attempt, REFUSED for
clients outside `allow`, RD=0, TC -> TCP, a dead server skipped, QNAME minimisation, spoofed
replies, and dig + Unbound as cross-checks."""

import os
import shutil
import socket
import subprocess
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

import dns_hierarchy as DH
import pigeon_harness as H

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not DH.have_nsd(),
                                reason="needs root (port 53 on 127.0.53.x) and nsd")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("hierarchy")
    h = DH.Hierarchy(root)
    r = DH.resolver_daemon(root / "resolver", h.hints)
    try:
        r.setup()
        r.start()
        yield h, r
    finally:
        try:
            r.stop()
            report = r.sanitizer_report()
            assert not report, report
        finally:
            h.close()


def ask(r, name, rtype="A", rd=True, tcp=False, source=None, timeout=8, **kw):
    q = dns.message.make_query(name, rtype, use_edns=0, **kw)
    if not rd:
        q.flags &= ~dns.flags.RD
    fn = dns.query.tcp if tcp else dns.query.udp
    # A stub resolver retries a UDP question it got no answer to (glibc and dig: 3 tries):
    # on a loaded machine a deep iteration through the simulated servers can outlast one try.
    for attempt in range(3 if not tcp else 1):
        try:
            return fn(q, "127.0.0.1", port=r.resolver_port, timeout=timeout,
                      **({"source": source} if source else {}))
        except dns.exception.Timeout:
            if attempt == 2 or tcp:
                raise


def addrs(resp, rtype="A"):
    return sorted(rd.to_text() for rrset in resp.answer for rd in rrset
                  if rrset.rdtype == dns.rdatatype.from_text(rtype))


def ttl_of(resp, rtype="A"):
    return [rrset.ttl for rrset in resp.answer
            if rrset.rdtype == dns.rdatatype.from_text(rtype)][0]


def test_walk_root_tld_auth_then_cache(world):
    h, r = world
    h.reset_counts()
    resp = ask(r, "mail.hamburger.edu")
    assert resp.rcode() == dns.rcode.NOERROR
    assert resp.flags & dns.flags.RA and not resp.flags & dns.flags.AA
    assert addrs(resp) == ["127.0.0.25"]
    assert h.taps[DH.ROOT].count() >= 1, "the root was not asked"
    assert h.taps[DH.EDU].count() >= 1, "edu. was not asked"
    assert h.taps[DH.HAMBURGER].count("mail.hamburger.edu.", "A") == 1
    before = h.total()
    again = ask(r, "mail.hamburger.edu")
    assert addrs(again) == ["127.0.0.25"]
    assert h.total() == before, "a cached answer went upstream again"
    # a sibling name goes straight to hamburger.edu's server: no root, no TLD
    root_n, edu_n = h.taps[DH.ROOT].count(), h.taps[DH.EDU].count()
    assert ask(r, "hamburger.edu", "MX").rcode() == dns.rcode.NOERROR
    assert (h.taps[DH.ROOT].count(), h.taps[DH.EDU].count()) == (root_n, edu_n)


def test_ttl_counts_down_and_expires(world):
    """www.hamburger.edu has a TTL of 12 s: the second question, 2.1 s after the first, is
    answered from the cache with a TTL two seconds lower (12 s leave room for a loaded
    machine between the two questions), and once the TTL has run out the name is fetched
    again. The sleeps are the scenario: time passing for the cache."""
    h, r = world
    first = ask(r, "www.hamburger.edu")
    assert addrs(first) == ["127.0.0.80"]
    time.sleep(2.1)
    n = h.taps[DH.HAMBURGER].count("www.hamburger.edu.")
    second = ask(r, "www.hamburger.edu")
    assert ttl_of(second) <= ttl_of(first) - 2
    assert h.taps[DH.HAMBURGER].count("www.hamburger.edu.") == n
    time.sleep(ttl_of(second) + 1.1)
    third = ask(r, "www.hamburger.edu")  # expired: fetched again
    assert addrs(third) == ["127.0.0.80"]
    assert h.taps[DH.HAMBURGER].count("www.hamburger.edu.") == n + 1


def test_negative_caching(world):
    h, r = world
    resp = ask(r, "nothere.hamburger.edu")
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert resp.authority and resp.authority[0].rdtype == dns.rdatatype.SOA
    assert resp.authority[0].ttl <= 300
    n = h.taps[DH.HAMBURGER].count()
    again = ask(r, "nothere.hamburger.edu", "MX")  # NXDOMAIN covers every type
    assert again.rcode() == dns.rcode.NXDOMAIN
    nodata = ask(r, "mail.hamburger.edu", "TXT")
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    ask(r, "mail.hamburger.edu", "TXT")
    assert h.taps[DH.HAMBURGER].count() == n + 1  # only the first NODATA went upstream


def test_cname_across_zones(world):
    h, r = world
    resp = ask(r, "alias.hamburger.edu")
    assert resp.rcode() == dns.rcode.NOERROR
    types = [dns.rdatatype.to_text(rr.rdtype) for rr in resp.answer]
    assert types == ["CNAME", "CNAME", "A"], resp
    assert addrs(resp) == ["127.0.0.90"]
    assert h.taps[DH.CREPES].count("www.crepes.fr.", "A") >= 1


def test_crepes_mx_through_nsd(world):
    h, r = world
    resp = ask(r, "crepes.fr", "MX")
    prefs = sorted(rd.preference for rrset in resp.answer for rd in rrset)
    assert prefs == [10, 20, 30]
    assert h.taps[DH.FR].count() >= 1


def test_ns_without_glue(world):
    h, r = world
    resp = ask(r, "www.glueless.fr")
    assert addrs(resp) == ["127.0.0.83"]


def test_poisoning_attempt_fails(world):
    h, r = world
    resp = ask(r, "www.drevil.fr")
    assert addrs(resp) == ["127.0.0.66"]
    assert h.forger.asked >= 1
    # the forger's NS for hamburger.edu and its addresses were not believed
    for name in ("www.hamburger.edu", "dns.hamburger.edu"):
        got = ask(r, name)
        assert DH.Forger.EVIL not in addrs(got), "cache poisoned: %s" % got
        assert got.rcode() == dns.rcode.NOERROR and addrs(got)
    cached = ask(r, "www.hamburger.edu", rd=False)
    assert DH.Forger.EVIL not in addrs(cached)


def test_refused_for_other_clients(world):
    h, r = world
    resp = ask(r, "mail.hamburger.edu", source="127.0.0.99")
    assert resp.rcode() == dns.rcode.REFUSED
    assert not resp.answer
    resp = ask(r, "mail.hamburger.edu", source="127.0.0.99", tcp=True)
    assert resp.rcode() == dns.rcode.REFUSED


def test_rd0_is_cache_only(world):
    h, r = world
    ask(r, "mail.hamburger.edu")
    hit = ask(r, "mail.hamburger.edu", rd=False)
    assert addrs(hit) == ["127.0.0.25"] and hit.flags & dns.flags.RA
    n = h.total()
    miss = ask(r, "never-asked.hamburger.edu", rd=False)
    assert miss.rcode() == dns.rcode.NOERROR and not miss.answer
    assert any(rr.rdtype == dns.rdatatype.NS for rr in miss.authority)
    assert h.total() == n, "RD=0 went upstream"


def test_truncated_answer_retried_over_tcp(world):
    h, r = world
    resp = ask(r, "big.hamburger.edu", "TXT", tcp=True)
    assert resp.rcode() == dns.rcode.NOERROR
    assert len(resp.answer[0]) == 6
    assert any(t == "tcp" for n, _, t in h.taps[DH.HAMBURGER].asked
               if n.lower() == "big.hamburger.edu.")
    udp = ask(r, "big.hamburger.edu", "TXT")  # too big for the client's UDP: TC=1
    assert udp.flags & dns.flags.TC


def test_dead_server_skipped(world):
    h, r = world
    # hamburger.edu has two servers; dns2 (127.0.53.5) never answers
    for i in range(8):
        resp = ask(r, "n%d.deep.hamburger.edu" % i)
        assert resp.rcode() == dns.rcode.NXDOMAIN
    assert h.dead.received <= 2, "the dead server kept being asked"


def test_qname_minimisation(world):
    h, r = world
    resp = ask(r, "a.b.c.d.deep.hamburger.edu")
    assert addrs(resp) == ["127.0.0.82"]
    # the TLD servers only ever saw one label more than their zone
    for n in h.taps[DH.EDU].names():
        assert n.count(".") <= 2, "edu. was asked %s" % n
    for n in h.taps[DH.FR].names():
        assert n.count(".") <= 2, "fr. was asked %s" % n
    assert "hamburger.edu." in h.taps[DH.EDU].names()


def test_spoofed_replies_ignored(world):
    """A reply with the wrong ID, and one from the wrong address, are not accepted."""
    h, r = world
    # Race the real server: blast forged replies at every port of the resolver's host for
    # a name not yet cached; the resolver must still give the true answer.
    stop = threading.Event()

    def forge():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.53.77", 0))  # the wrong address
        q = dns.message.make_query("spoof.crepes.fr", "A")
        resp = dns.message.make_response(q)
        resp.answer.append(dns.rrset.from_text("spoof.crepes.fr.", 300, "IN", "A", "6.6.6.6"))
        wire = bytearray(resp.to_wire())
        while not stop.is_set():
            for port in range(32768, 61000, 7):
                wire[0:2] = os.urandom(2)
                try:
                    s.sendto(bytes(wire), ("127.0.0.1", port))
                except OSError:
                    pass
        s.close()

    t = threading.Thread(target=forge, daemon=True)
    t.start()
    try:
        resp = ask(r, "spoof.crepes.fr")
    finally:
        stop.set()
        t.join(5)
    assert resp.rcode() == dns.rcode.NXDOMAIN
    assert "6.6.6.6" not in addrs(resp)


def test_special_names_answered_here(world):
    """localhost, the loopback reverse names, .invalid and .onion are answered here and never
    asked of the root (RFC 6761 §6.3-6.4, RFC 7686 §2, RFC 6303), as Unbound does; the
    negative answers carry the local zone's SOA, not the root's. ANY gets RFC 8482's HINFO."""
    h, r = world
    assert addrs(ask(r, "localhost", "A")) == ["127.0.0.1"]
    assert addrs(ask(r, "db.localhost", "AAAA"), "AAAA") == ["::1"]
    assert addrs(ask(r, "1.0.0.127.in-addr.arpa", "PTR"), "PTR") == ["localhost."]
    for name, zone in (("x.onion", "onion."), ("host.invalid", "invalid."),
                       ("2.0.0.127.in-addr.arpa", "127.in-addr.arpa.")):
        resp = ask(r, name)
        assert resp.rcode() == dns.rcode.NXDOMAIN, resp
        assert [rr.name.to_text() for rr in resp.authority] == [zone], resp
    resp = ask(r, "crepes.fr", "ANY")
    assert resp.rcode() == dns.rcode.NOERROR
    assert [(rr.rdtype, rd.to_text()) for rr in resp.answer for rd in rr] == [
        (dns.rdatatype.HINFO, '"RFC8482" ""')], resp


def test_dig_client(world):
    h, r = world
    if not shutil.which("dig"):
        pytest.skip("dig not installed")
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(r.resolver_port), "crepes.fr", "MX",
                          "+norecurse"], capture_output=True, text=True, timeout=20).stdout
    assert "status: NOERROR" in out and " ra" in out
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(r.resolver_port), "www.crepes.fr"],
                         capture_output=True, text=True, timeout=20).stdout
    assert "127.0.0.90" in out


def test_lookup_trace(world):
    h, r = world
    p = r.cli("lookup", "www.glueless.fr", "A", "+trace", "+hints=%s" % h.hints)
    out = p.stdout.decode()
    assert "zone .: asking 127.0.53.1" in out
    assert "zone fr.: asking 127.0.53.3" in out
    assert "referral" in out
    assert "127.0.0.83" in out


UNBOUND_NAMES = [("mail.hamburger.edu", "A"), ("hamburger.edu", "MX"), ("crepes.fr", "MX"),
                 ("alias.hamburger.edu", "A"), ("www.glueless.fr", "A"),
                 ("nothere.crepes.fr", "A"), ("a.b.c.d.deep.hamburger.edu", "A")]


def test_same_answers_as_unbound(world, tmp_path):
    h, r = world
    if not shutil.which("unbound"):
        pytest.skip("unbound not installed")
    port = H.free_port()
    conf = tmp_path / "unbound.conf"
    conf.write_text("""server:
    interface: 127.0.0.1@%d
    port: %d
    do-ip6: no
    username: ""
    chroot: ""
    directory: "%s"
    pidfile: "%s/unbound.pid"
    use-syslog: no
    logfile: ""
    root-hints: "%s"
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    harden-referral-path: no
    target-fetch-policy: "0 0 0 0 0"
""" % (port, port, tmp_path, tmp_path, h.hints))
    u = subprocess.Popen(["unbound", "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        DH.wait_udp("127.0.0.1", port)

        def unbound(name, rtype):  # its first walk (priming, the dead server) may be slow
            for attempt in range(3):
                try:
                    return dns.query.udp(dns.message.make_query(name, rtype), "127.0.0.1",
                                         port=port, timeout=10)
                except dns.exception.Timeout:
                    if attempt == 2:
                        raise
        for name, rtype in UNBOUND_NAMES:
            theirs = unbound(name, rtype)
            ours = ask(r, name, rtype)
            assert ours.rcode() == theirs.rcode(), name

            def rdatas(m):
                return sorted((rr.name.to_text().lower(), rr.rdtype, rd.to_text())
                              for rr in m.answer for rd in rr)
            assert rdatas(ours) == rdatas(theirs), name
    finally:
        u.terminate()
        u.wait(10)


def mail_hosts(r, h, domain):
    p = r.cli("lookup", domain, "+mail", "+hints=%s" % h.hints)
    return p.stdout.decode().strip().splitlines()


def test_stub_mx_sorted(world):
    h, r = world
    assert mail_hosts(r, h, "crepes.fr") == ["MX 10 mx1.crepes.fr", "MX 20 mx2.crepes.fr",
                                             "MX 30 mx3.crepes.fr"]


def test_stub_mx_fallback_and_null(world):
    h, r = world
    out = mail_hosts(r, h, "nomx.crepes.fr")
    assert len(out) == 1 and out[0].startswith("MX 0 nomx.crepes.fr (no MX")
    assert mail_hosts(r, h, "nullmx.crepes.fr")[0].startswith("MX: null MX")
    assert mail_hosts(r, h, "nothere.crepes.fr") == ["MX: NXDOMAIN"]


def test_daemon_stub_uses_internal_resolver(tmp_path, world):
    h, _ = world
    d = DH.resolver_daemon(tmp_path / "internal", h.hints, internal=True)
    d.setup()
    d.start()
    try:
        # logged while the workers start, after the listeners are up: wait for the line
        d.wait_log(r"mail DNS: the in-process resolver")
        assert "mail DNS: asking" not in d.log()
    finally:
        d.stop()
    assert not d.sanitizer_report()


def test_case_randomization(tmp_path, world):
    h, _ = world
    d = DH.resolver_daemon(tmp_path / "x20", h.hints, extra={"case_randomization": "yes"})
    d.setup()
    d.start()
    try:
        h.reset_counts()
        resp = ask(d, "mail.hamburger.edu")
        assert addrs(resp) == ["127.0.0.25"]
        sent = [n for tap in h.taps.values() for n, _, _ in tap.asked]
        assert any(n != n.lower() for n in sent), sent  # 0x20: mixed case went upstream
        assert str(resp.question[0].name) == "mail.hamburger.edu."  # the client's case back
    finally:
        d.stop()
    assert not d.sanitizer_report()


# --- One pigeond with its own zones and a [resolver] (issue 11, issue 10 item 8) ---

LOCAL_ZONE = """$ORIGIN local.test.
$TTL 300
@ SOA ns hostmaster 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
mail A 127.0.0.1
@ MX 10 mail
out CNAME www.crepes.fr.
inside CNAME mail
"""


def local_daemon(root, hints, delivery=None, **kw):
    """A resolver daemon that also serves local.test with its [dns] service (started)."""
    d = DH.resolver_daemon(root, hints, **kw)
    d.sections["delivery"].update(delivery or {})
    root.mkdir(parents=True, exist_ok=True)
    zfile = root / "local.test.zone"
    zfile.write_text(LOCAL_ZONE)
    d.dns_port = H.free_port()
    d.sections["dns"] = {"listen": "127.0.0.1:%d" % d.dns_port}
    d.sections["zone local.test"] = {"file": str(zfile)}
    d.ports.append(d.dns_port)
    d.write_conf()
    d.setup()
    d.start()
    return d


def test_own_zone_recursive_answer_has_no_aa(tmp_path, world):
    h, _ = world
    d = local_daemon(tmp_path / "own", h.hints)
    try:
        resp = ask(d, "mail.local.test")
        assert addrs(resp) == ["127.0.0.1"]
        assert resp.flags & dns.flags.RA
        assert not resp.flags & dns.flags.AA, "a recursive answer carries AA"
        inside = ask(d, "inside.local.test")  # a CNAME inside the zone: answered locally
        assert addrs(inside) == ["127.0.0.1"] and not inside.flags & dns.flags.AA
        nx = ask(d, "nothere.local.test")
        assert nx.rcode() == dns.rcode.NXDOMAIN and not nx.flags & dns.flags.AA
        # the authoritative listener still answers with AA
        auth = dns.query.udp(dns.message.make_query("mail.local.test", "A"), "127.0.0.1",
                             port=d.dns_port, timeout=8)
        assert auth.flags & dns.flags.AA
    finally:
        d.stop()
    assert not d.sanitizer_report()


def test_own_zone_cname_to_outside_is_followed(tmp_path, world):
    """RFC 1034 §4.3.2 step 3a: a CNAME from our zone to a name outside it restarts the
    look-up at the target (www.crepes.fr, on the simulated Internet)."""
    h, _ = world
    d = local_daemon(tmp_path / "cname", h.hints)
    try:
        resp = ask(d, "out.local.test")
        assert resp.rcode() == dns.rcode.NOERROR
        types = [dns.rdatatype.to_text(rr.rdtype) for rr in resp.answer]
        assert types == ["CNAME", "A"], resp
        assert addrs(resp) == ["127.0.0.90"]
        assert not resp.flags & dns.flags.AA
        again = ask(d, "out.local.test")  # the target now comes from the cache
        assert addrs(again) == ["127.0.0.90"]
        assert [rr.rdtype for rr in again.answer] == [dns.rdatatype.CNAME, dns.rdatatype.A]
    finally:
        d.stop()
    assert not d.sanitizer_report()


def test_internal_resolver_mx_in_own_zone(tmp_path, world):
    """[delivery] resolver = internal: mail to a domain of our own zones is delivered to its
    MX (a fake SMTP server on 127.0.0.1), not deferred with 451 4.4.3."""
    from fake_smtp_server import FakeSMTPServer
    h, _ = world
    port = H.free_port()
    fake = FakeSMTPServer("127.0.0.1", port=port).start()
    d = None
    try:
        d = local_daemon(tmp_path / "mx", h.hints, internal=True,
                         delivery={"remote_port": port, "retry_initial": 1,
                                   "scan_interval": 1})
        with d.submission() as c:
            c.ehlo()
            c.starttls()
            c.ehlo()
            c.expect("AUTH PLAIN AGJvYgBodW5ncnk=", "235")
            r = c.send_mail("bob@hamburger.edu", ["someone@local.test"],
                            "Subject: mx\r\n\r\nto our own zone\r\n", ehlo=False)
            assert r.code == 250, r
        H.wait_until(lambda: fake.messages, what="delivery to local.test's MX",
                     on_timeout=lambda: d.queue() + "\n" + d.log_tail(4000))
        assert "someone@local.test" in fake.messages[0][1][0]
    finally:
        fake.stop()
        if d:
            d.stop()
    assert not d.sanitizer_report()
