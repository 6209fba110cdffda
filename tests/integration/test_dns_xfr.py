"""Zone transfers, TSIG, dynamic UPDATE and NOTIFY against running pigeonds (and NSD):
AXFR with kdig, access control by address and key, IXFR after an UPDATE (TCP, and the SOA
alone over UDP), nsupdate with TSIG (prerequisites, BADKEY/BADSIG/BADTIME, journal surviving
a restart), NOTIFY received by an NSD secondary, and a pigeond secondary (AXFR at start,
IXFR on NOTIFY, signed transfers, its copy on disk, SERVFAIL after expiry)."""

import time

import dns.flags
import dns.message
import dns.opcode
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset
import dns.tsig
import dns.tsigkeyring
import dns.zone
import pytest
from pathlib import Path

import dns_auth_helpers as A

ZONE = """$ORIGIN xfr.test.
$TTL 3600
@    SOA ns1 hostmaster 100 7200 900 1209600 300
@    NS  ns1
ns1  A   127.0.0.1
www  A   192.0.2.80
mail A   192.0.2.25
"""
ZONE += "".join("host%d A 10.1.%d.%d\n" % (i, i // 200, i % 200) for i in range(1500))

LOCKED = """$ORIGIN locked.test.
$TTL 3600
@   SOA ns1 hostmaster 7 7200 900 1209600 300
@   NS  ns1
ns1 A   127.0.0.1
"""


@pytest.fixture(scope="module")
def primary(tmp_path_factory):
    d = A.auth_daemon(tmp_path_factory.mktemp("dns_primary"),
                      {"xfr.test": ZONE, "locked.test": LOCKED},
                      zone_opts={
                          "xfr.test": {"allow_transfer": "127.0.0.0/8 ::1",
                                       "allow_update": "key:" + A.KEY_NAME},
                          # 127.0.0.2 as a source, or the key
                          "locked.test": {"allow_transfer": "127.0.0.2/32 key:" + A.KEY_NAME,
                                          "allow_update": "127.0.0.1/32"},
                      })
    d.setup()
    d.start()
    yield d
    report = A.finish(d)
    assert report is None, report


def axfr_names(port, zone, **kw):
    z = dns.zone.from_xfr(dns.query.xfr("127.0.0.1", zone, port=port, timeout=10, **kw))
    return z


def test_axfr_with_kdig(primary):
    out = A.kdig(primary.dns_port, "xfr.test", "AXFR")
    lines = [l for l in out.splitlines() if l and not l.startswith(";")]
    assert len(lines) == 1506  # SOA + NS + 3 A + 1500 hosts + closing SOA
    assert lines[0].split()[3] == "SOA" and lines[-1].split()[3] == "SOA"
    assert "host1499.xfr.test." in out
    assert ";; Received" in out and "messages" in out


def test_axfr_dnspython_matches_zone(primary):
    z = axfr_names(primary.dns_port, "xfr.test")
    assert z.get_rdataset("host777", "A")[0].to_text() == "10.1.3.177"
    assert len(list(z.iterate_rdatas())) == 1505


def test_transfer_acl(primary):
    # from 127.0.0.1 without a key: REFUSED
    out = A.dig(primary.dns_port, "locked.test", "AXFR")
    assert "Transfer failed" in out or "REFUSED" in out
    # from an allowed source address
    out = A.dig(primary.dns_port, "-b", "127.0.0.2", "locked.test", "AXFR")
    assert out.count("SOA") >= 2 and "Transfer failed" not in out
    # with the key: signed answer, verified by kdig
    out = A.kdig(primary.dns_port, "-y", A.DIG_KEY, "locked.test", "AXFR")
    assert "TSIG" in out and "NOERROR" in out and out.count("\tSOA\t") == 2
    # a zone we do not have
    r = A.query(primary.dns_port, "nothere.test", "AXFR", tcp=True)
    assert r.rcode() == dns.rcode.NOTAUTH


def test_axfr_over_udp_refused(primary):
    r = A.query(primary.dns_port, "xfr.test", "AXFR")
    assert r.rcode() == dns.rcode.FORMERR


def test_tsig_errors(primary):
    bad = dns.tsigkeyring.from_text({A.KEY_NAME: ("hmac-sha256", "AAAAAAAAAAAAAAAAAAAAAA==")})
    q = dns.message.make_query("xfr.test", "SOA")
    q.use_tsig(bad, keyname=A.KEY_NAME)
    with pytest.raises(dns.tsig.PeerBadSignature):
        dns.query.udp(q, "127.0.0.1", port=primary.dns_port, timeout=5)
    unknown = dns.tsigkeyring.from_text({"nokey": ("hmac-sha256", A.KEY_SECRET)})
    q = dns.message.make_query("xfr.test", "SOA")
    q.use_tsig(unknown, keyname="nokey")
    with pytest.raises(dns.tsig.PeerBadKey):
        dns.query.udp(q, "127.0.0.1", port=primary.dns_port, timeout=5)
    # a good key: the answer is signed and dnspython verifies it
    q = dns.message.make_query("xfr.test", "SOA")
    q.use_tsig(A.KEYRING, keyname=A.KEY_NAME)
    r = dns.query.udp(q, "127.0.0.1", port=primary.dns_port, timeout=5)
    assert r.rcode() == dns.rcode.NOERROR and r.had_tsig


def test_tsig_badtime(primary, monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)
    q = dns.message.make_query("xfr.test", "SOA")
    q.use_tsig(A.KEYRING, keyname=A.KEY_NAME)
    wire = q.to_wire()
    monkeypatch.setattr(time, "time", real)
    resp = A.raw_udp(primary.dns_port, wire)
    assert resp is not None
    # rcode NOTAUTH in the header; the TSIG error (BADTIME = 18) in the TSIG record
    assert resp[3] & 0x0F == dns.rcode.NOTAUTH
    assert b"\x00\x12\x00\x06" in resp  # error 18, other len 6 (our time)


def test_update_then_ixfr(primary):
    port = primary.dns_port
    before = A.serial(port, "xfr.test")
    rc, out = A.nsupdate(port, "xfr.test", [
        "prereq nxdomain added.xfr.test",
        "update add added.xfr.test 300 A 192.0.2.200",
        "update delete host5.xfr.test A",
    ])
    assert rc == 0, out
    after = A.serial(port, "xfr.test")
    assert after == before + 1
    r = A.query(port, "added.xfr.test", "A")
    assert r.answer[0][0].to_text() == "192.0.2.200"
    assert A.query(port, "host5.xfr.test", "A").rcode() == dns.rcode.NXDOMAIN
    # IXFR over TCP: the difference only
    out = A.dig(port, "+tcp", "xfr.test", "IXFR=%d" % before)
    recs = [l.split() for l in out.splitlines() if l and not l.startswith(";")]
    assert [r[3] for r in recs] == ["SOA", "SOA", "A", "SOA", "A", "SOA"]
    assert recs[2][0] == "host5.xfr.test." and recs[4][0] == "added.xfr.test."
    # with dnspython's IXFR reader, applied to the old zone
    q = dns.message.make_query("xfr.test", "IXFR")
    q.authority.append(dns.rrset.from_text("xfr.test.", 0, "IN", "SOA",
                                           "ns1.xfr.test. hostmaster.xfr.test. %d 1 1 1 1"
                                           % before))
    r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=5, one_rr_per_rrset=True)
    assert [x.rdtype for x in r.answer] == [dns.rdatatype.SOA, dns.rdatatype.SOA,
                                            dns.rdatatype.A, dns.rdatatype.SOA, dns.rdatatype.A,
                                            dns.rdatatype.SOA]
    # IXFR over UDP: the SOA alone (RFC 1995 §2)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=5)
    assert len(r.answer) == 1 and r.answer[0][0].serial == after
    # an unknown old serial: the whole zone in AXFR form
    out = A.dig(port, "+tcp", "xfr.test", "IXFR=5")
    assert len([l for l in out.splitlines() if l and not l.startswith(";")]) == 1506


def test_update_rules(primary):
    port = primary.dns_port
    # a failing prerequisite: YXDOMAIN, nothing changes
    before = A.serial(port, "xfr.test")
    rc, out = A.nsupdate(port, "xfr.test", ["prereq nxdomain www.xfr.test",
                                            "update add x1.xfr.test 60 A 192.0.2.1"])
    assert rc != 0 and "YXDOMAIN" in out
    assert A.serial(port, "xfr.test") == before
    rc, out = A.nsupdate(port, "xfr.test", ["prereq yxrrset www.xfr.test A 192.0.2.80",
                                            "update add x2.xfr.test 60 A 192.0.2.2"])
    assert rc == 0, out
    rc, out = A.nsupdate(port, "xfr.test", ["prereq yxrrset www.xfr.test A 192.0.2.81",
                                            "update add x3.xfr.test 60 A 192.0.2.3"])
    assert rc != 0 and "NXRRSET" in out
    # unsigned: REFUSED; a wrong secret: BADSIG
    rc, out = A.nsupdate(port, "xfr.test", ["update add x4.xfr.test 60 A 192.0.2.4"], key=None)
    assert rc != 0 and "REFUSED" in out
    rc, out = A.nsupdate(port, "xfr.test", ["update add x4.xfr.test 60 A 192.0.2.4"],
                         key="hmac-sha256:%s:AAAAAAAAAAAAAAAAAAAAAA==" % A.KEY_NAME)
    assert rc != 0 and "BADSIG" in out
    # by address (locked.test allows 127.0.0.1 without a key)
    rc, out = A.nsupdate(port, "locked.test", ["update add a.locked.test 60 TXT hello"],
                         key=None)
    assert rc == 0, out
    assert A.query(port, "a.locked.test", "TXT").answer[0][0].to_text() == '"hello"'


def test_update_survives_restart(primary):
    port = primary.dns_port
    rc, out = A.nsupdate(port, "xfr.test", ["update add durable.xfr.test 60 A 192.0.2.77"])
    assert rc == 0, out
    s = A.serial(port, "xfr.test")
    journal = Path(primary.data_dir) / "journal" / "xfr.test.jnl"  # in the data directory
    assert journal.exists() and journal.stat().st_size > 0
    primary.kill9()  # no clean shutdown: the journal alone must carry it
    primary.start()
    assert A.serial(port, "xfr.test") == s
    assert A.query(port, "durable.xfr.test", "A").answer[0][0].to_text() == "192.0.2.77"
    assert "journal entries replayed" in primary.log()
    # IXFR history survives too
    out = A.dig(port, "+tcp", "xfr.test", "IXFR=%d" % (s - 1))
    assert "durable.xfr.test." in out
    assert len([l for l in out.splitlines() if l and not l.startswith(";")]) < 20


@pytest.mark.skipif(not A.tool("nsd"), reason="NSD (Debian nsd) not installed")
def test_notify_to_nsd_secondary(tmp_path):
    """A pigeond primary notifies an NSD secondary, which transfers and serves the new serial."""
    zone = ZONE.replace("100 7200", "500 7200")
    nsd_root = tmp_path / "nsd"
    prim = A.auth_daemon(tmp_path / "prim", {"xfr.test": zone}, name="nsd-primary")
    nsd = A.NSDSecondary(nsd_root, "xfr.test", prim.dns_port)
    prim.sections["zone xfr.test"].update({
        "allow_transfer": "127.0.0.0/8",
        "allow_update": "key:" + A.KEY_NAME,
        "notify": "127.0.0.1:%d" % nsd.port,
    })
    prim.write_conf()
    prim.setup()
    prim.start()
    nsd.start()
    try:
        A.wait_for(lambda: A.serial(nsd.port, "xfr.test") == 500, 30,
                   "NSD to load serial 500\n" + nsd.logs())
        rc, out = A.nsupdate(prim.dns_port, "xfr.test",
                             ["update add fromnotify.xfr.test 60 A 192.0.2.123"])
        assert rc == 0, out
        A.wait_for(lambda: A.serial(nsd.port, "xfr.test") == 501, 30,
                   "NSD to serve serial 501 after NOTIFY\n" + nsd.logs() + prim.log())
        r = A.query(nsd.port, "fromnotify.xfr.test", "A")
        assert r.answer[0][0].to_text() == "192.0.2.123"
        assert "NOTIFY for xfr.test (serial 501)" in prim.log()
        assert "acknowledged" in prim.log()
        # NSD asked for the difference, and got it as one (RFC 1995)
        assert "IXFR of xfr.test. (serial 501, incremental)" in prim.log()
    finally:
        nsd.close()
        report = A.finish(prim)
    assert report is None, report


def test_pigeon_secondary(tmp_path):
    """pigeond as a secondary of pigeond: signed AXFR at start, IXFR on NOTIFY, its copy on
    disk, served after a restart without the primary, SERVFAIL once expired."""
    # Refresh and retry every second, expire after 20 s without a refresh. With the old
    # refresh of an hour and expiry of 6 s, a loaded machine that took over 6 s between the
    # first AXFR and the UPDATE saw the copy expire, and the NOTIFY then fetched the whole zone
    # again by AXFR (no copy left to ask an IXFR for): the test's "AXFR where IXFR expected".
    zone = ZONE.replace("100 7200 900 1209600", "100 1 1 20")
    prim, sec = A.pigeon_pair(tmp_path, "xfr.test", zone)
    for d in (prim, sec):
        d.setup()
    prim.start()
    sec.start()
    try:
        A.wait_for(lambda: A.serial(sec.dns_port, "xfr.test") == 100, 20, "first AXFR")
        assert "AXFR from 127.0.0.1" in sec.log()
        r = A.query(sec.dns_port, "host42.xfr.test", "A")
        assert r.flags & dns.flags.AA and r.answer[0][0].to_text() == "10.1.0.42"
        rc, out = A.nsupdate(prim.dns_port, "xfr.test",
                             ["update add pushed.xfr.test 60 A 192.0.2.9"])
        assert rc == 0, out
        A.wait_for(lambda: A.serial(sec.dns_port, "xfr.test") == 101, 20, "IXFR after NOTIFY")
        assert "IXFR from 127.0.0.1" in sec.log()
        assert A.query(sec.dns_port, "pushed.xfr.test", "A").answer[0][0].to_text() == \
            "192.0.2.9"
        # UPDATE on a secondary is not forwarded
        rc, out = A.nsupdate(sec.dns_port, "xfr.test", ["update add no.xfr.test 60 A 1.2.3.4"])
        assert rc != 0 and "NOTIMP" in out
        # NOTIFY from someone else is refused
        q = dns.message.make_query("xfr.test", "SOA")
        q.set_opcode(dns.opcode.NOTIFY)
        r = dns.query.udp(q, "127.0.0.1", port=sec.dns_port, timeout=5)
        assert r.rcode() == dns.rcode.REFUSED
        # the copy on disk serves after a restart while the primary is down
        assert A.finish(prim) is None
        assert A.finish(sec) is None
        sec.start()
        assert A.serial(sec.dns_port, "xfr.test") == 101
        # ... until the expire interval passes without a refresh
        A.wait_for(lambda: A.query(sec.dns_port, "www.xfr.test", "A").rcode() ==
                   dns.rcode.SERVFAIL, 20, "SERVFAIL after expiry")
        assert "expired" in sec.log()
    finally:
        r1, r2 = A.finish(prim), A.finish(sec)
    assert r1 is None and r2 is None
