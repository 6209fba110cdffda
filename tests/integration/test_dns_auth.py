"""Authoritative answers from a running pigeond, checked with dnspython, dig and kdig: every
record type, the AA bit, NXDOMAIN/NODATA with the SOA, referrals with glue, wildcards, CNAME
chains, TC=1 then TCP, EDNS0 sizes and BADVERS, REFUSED outside our zones."""

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import pytest

import dns_auth_helpers as A

ZONE = """$ORIGIN example.test.
$TTL 3600
@       SOA ns1 hostmaster 2024010101 7200 900 1209600 300
@       NS  ns1
@       NS  ns2
@       MX  10 mail
@       TXT "v=spf1 mx -all"
@       CAA 0 issue "letsencrypt.org"
ns1     A   192.0.2.1
ns2     A   192.0.2.2
mail    A   192.0.2.25
mail    AAAA 2001:db8::25
www     A   192.0.2.80
_imap._tcp SRV 10 5 143 mail
weird   TYPE65534 \\# 3 010203
alias   CNAME chain1
chain1  CNAME chain2
chain2  CNAME www
*.wild  A   192.0.2.99
sub     NS  ns.sub
ns.sub  A   192.0.2.53
empty.nonterm.deep A 192.0.2.7
"""
# A big RRset for truncation: 40 TXT strings of 60 bytes (~2.5 KB).
ZONE += "".join('big TXT "%02d%s"\n' % (i, "x" * 58) for i in range(40))
# Medium: about 900 bytes, over 512 but under the 1232-byte EDNS default.
ZONE += "".join('medium TXT "%02d%s"\n' % (i, "y" * 58) for i in range(13))

REVERSE = """$ORIGIN 2.0.192.in-addr.arpa.
$TTL 3600
@  SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300
@  NS  ns1.example.test.
25 PTR mail.example.test.
"""


@pytest.fixture(scope="module")
def auth(tmp_path_factory):
    d = A.auth_daemon(tmp_path_factory.mktemp("dns_auth"),
                      {"example.test": ZONE, "2.0.192.in-addr.arpa": REVERSE})
    d.setup()
    d.start()
    yield d
    report = A.finish(d)
    assert report is None, report


def texts(rrset):
    return sorted(r.to_text() for r in rrset)


@pytest.mark.parametrize("name,rtype,expect", [
    ("example.test", "SOA", ["ns1.example.test. hostmaster.example.test. 2024010101 7200 900 "
                             "1209600 300"]),
    ("example.test", "NS", ["ns1.example.test.", "ns2.example.test."]),
    ("example.test", "MX", ["10 mail.example.test."]),
    ("example.test", "TXT", ['"v=spf1 mx -all"']),
    ("example.test", "CAA", ['0 issue "letsencrypt.org"']),
    ("mail.example.test", "A", ["192.0.2.25"]),
    ("mail.example.test", "AAAA", ["2001:db8::25"]),
    ("_imap._tcp.example.test", "SRV", ["10 5 143 mail.example.test."]),
    ("weird.example.test", "TYPE65534", ["\\# 3 010203"]),
    ("25.2.0.192.in-addr.arpa", "PTR", ["mail.example.test."]),
])
def test_each_type(auth, name, rtype, expect):
    r = A.query(auth.dns_port, name, rtype)
    assert r.rcode() == dns.rcode.NOERROR
    assert r.flags & dns.flags.AA
    assert len(r.answer) == 1
    assert texts(r.answer[0]) == expect


def test_additional_for_mx_and_srv(auth):
    r = A.query(auth.dns_port, "example.test", "MX")
    addl = {(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.additional}
    assert ("mail.example.test.", "A") in addl and ("mail.example.test.", "AAAA") in addl


def test_nxdomain_and_nodata_with_soa(auth):
    r = A.query(auth.dns_port, "nope.example.test", "A")
    assert r.rcode() == dns.rcode.NXDOMAIN and r.flags & dns.flags.AA
    assert not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    assert r.authority[0].ttl == 300  # RFC 2308: min(SOA TTL, minimum)
    r = A.query(auth.dns_port, "www.example.test", "MX")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer and r.flags & dns.flags.AA
    assert r.authority[0].rdtype == dns.rdatatype.SOA
    # an empty non-terminal exists: NODATA, not NXDOMAIN
    r = A.query(auth.dns_port, "deep.example.test", "A")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_referral_with_glue(auth):
    r = A.query(auth.dns_port, "host.sub.example.test", "A")
    assert r.rcode() == dns.rcode.NOERROR
    assert not (r.flags & dns.flags.AA)
    assert not r.answer
    assert r.authority[0].rdtype == dns.rdatatype.NS
    assert texts(r.authority[0]) == ["ns.sub.example.test."]
    assert [(x.name.to_text(), texts(x)) for x in r.additional] == [
        ("ns.sub.example.test.", ["192.0.2.53"])]


def test_wildcard(auth):
    r = A.query(auth.dns_port, "anything.wild.example.test", "A")
    assert r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA
    assert r.answer[0].name.to_text() == "anything.wild.example.test."
    assert texts(r.answer[0]) == ["192.0.2.99"]
    r = A.query(auth.dns_port, "a.b.wild.example.test", "A")
    assert texts(r.answer[0]) == ["192.0.2.99"]
    r = A.query(auth.dns_port, "anything.wild.example.test", "MX")
    assert r.rcode() == dns.rcode.NOERROR and not r.answer


def test_cname_chain(auth):
    r = A.query(auth.dns_port, "alias.example.test", "A")
    assert r.rcode() == dns.rcode.NOERROR
    chain = [(x.name.to_text(), dns.rdatatype.to_text(x.rdtype), texts(x)) for x in r.answer]
    assert chain == [
        ("alias.example.test.", "CNAME", ["chain1.example.test."]),
        ("chain1.example.test.", "CNAME", ["chain2.example.test."]),
        ("chain2.example.test.", "CNAME", ["www.example.test."]),
        ("www.example.test.", "A", ["192.0.2.80"]),
    ]


def test_tc_then_tcp(auth):
    r = A.query(auth.dns_port, "big.example.test", "TXT", use_edns=False)
    assert r.flags & dns.flags.TC
    assert not r.answer
    r = A.query(auth.dns_port, "big.example.test", "TXT", tcp=True)
    assert not (r.flags & dns.flags.TC)
    assert len(r.answer[0]) == 40
    # dig retries over TCP by itself
    out = A.dig(auth.dns_port, "+noedns", "big.example.test", "TXT")
    assert "Truncated, retrying in TCP mode" in out
    assert out.count('"39xxxx') == 1


def test_edns_sizes(auth):
    # 900 bytes: truncated without EDNS, whole with a 4096-byte buffer
    r = A.query(auth.dns_port, "medium.example.test", "TXT", use_edns=False)
    assert r.flags & dns.flags.TC
    r = A.query(auth.dns_port, "medium.example.test", "TXT", use_edns=0, payload=4096)
    assert not (r.flags & dns.flags.TC) and len(r.answer[0]) == 13
    assert r.edns == 0 and r.payload == 1232  # our udp_max
    # a client buffer smaller than the answer: TC
    r = A.query(auth.dns_port, "medium.example.test", "TXT", use_edns=0, payload=600)
    assert r.flags & dns.flags.TC
    # 2.5 KB exceeds our udp_max (1232) whatever the client says
    r = A.query(auth.dns_port, "big.example.test", "TXT", use_edns=0, payload=65000)
    assert r.flags & dns.flags.TC
    # RFC 6891 §6.1.3: version 1 -> BADVERS
    out = A.dig(auth.dns_port, "+edns=1", "+noednsnegotiation", "www.example.test", "A")
    assert "status: BADVERS" in out


def test_refused_outside_our_zones(auth):
    r = A.query(auth.dns_port, "www.example.org", "A")
    assert r.rcode() == dns.rcode.REFUSED
    assert not (r.flags & dns.flags.AA)


def test_dig_and_kdig(auth):
    out = A.dig(auth.dns_port, "+norec", "www.example.test", "A")
    assert "status: NOERROR" in out and " aa" in out.split("flags:")[1].split(";")[0]
    assert "192.0.2.80" in out
    out = A.kdig(auth.dns_port, "+tcp", "mail.example.test", "AAAA")
    assert "NOERROR" in out and "2001:db8::25" in out


def test_case_preserved(auth):
    r = A.query(auth.dns_port, "WwW.ExAmPlE.TeSt", "A")
    assert r.question[0].name.to_text() == "WwW.ExAmPlE.TeSt."
    assert texts(r.answer[0]) == ["192.0.2.80"]
