"""Issue 7: SPF (RFC 7208) on the MX role, against records in the test zones.

An authoritative pigeond serves the senders' zones on 127.0.54.101:53; two receiving pigeonds
ask it: one with [smtp] spf = reject (127.0.54.102:25), one with spf = mark (127.0.54.103:25).
Each case connects from its own client address (the socket is bound to 127.0.54.11x) and sends
MAIL FROM a sender in one of the zones; the check runs at MAIL, and the stored message carries
the Received-SPF field.
"""
import socket

import pytest

import delivery_env as E
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

DNS_IP = "127.0.54.101"
REJECT_IP = "127.0.54.102"
MARK_IP = "127.0.54.103"
GOOD, BAD, A_HOST, MX_HOST = "127.0.54.110", "127.0.54.111", "127.0.54.112", "127.0.54.113"
RCPT = "bob@hamburger.edu"


def z(origin, body):
    return E.zone(origin, body, ns_ip=DNS_IP)


ZONES = {
    "pass.test": z("pass.test", f'@ TXT "v=spf1 ip4:{GOOD} -all"'),
    "soft.test": z("soft.test", f'@ TXT "v=spf1 ip4:{GOOD} ~all"'),
    "neutral.test": z("neutral.test", f'@ TXT "v=spf1 ip4:{GOOD} ?all"'),
    "none.test": z("none.test", f'@ A {GOOD}\n@ TXT "not an spf record"'),
    # a and mx mechanisms, an include, a redirect, a CIDR range
    "amx.test": z("amx.test", f'@ TXT "v=spf1 a mx -all"\n@ A {A_HOST}\n@ MX 10 mail\n'
                              f'mail A {MX_HOST}'),
    "inc.test": z("inc.test", '@ TXT "v=spf1 include:pass.test -all"'),
    "redir.test": z("redir.test", '@ TXT "v=spf1 redirect=soft.test"'),
    "cidr.test": z("cidr.test", '@ TXT "v=spf1 ip4:127.0.54.112/30 -all"'),
    # a syntax error: permerror
    "perm.test": z("perm.test", '@ TXT "v=spf1 ip4:not-an-address -all"'),
    # an include of a name the server is not authoritative for: REFUSED, i.e. temperror
    "tempinc.test": z("tempinc.test", '@ TXT "v=spf1 include:spf.elsewhere.example -all"'),
}

# sender, client address, expected result; `reject` refuses only fail.
CASES = [
    ("a@pass.test", GOOD, "pass"),
    ("a@pass.test", BAD, "fail"),
    ("a@soft.test", BAD, "softfail"),
    ("a@soft.test", GOOD, "pass"),
    ("a@neutral.test", BAD, "neutral"),
    ("a@none.test", BAD, "none"),
    ("a@nonexistent.pass.test", BAD, "none"),   # NXDOMAIN: no record, none
    ("a@elsewhere.example", BAD, "temperror"),  # the server refuses: a temporary error
    ("a@tempinc.test", BAD, "temperror"),
    ("a@perm.test", BAD, "permerror"),
    ("a@amx.test", A_HOST, "pass"),
    ("a@amx.test", MX_HOST, "pass"),
    ("a@amx.test", GOOD, "fail"),
    ("a@inc.test", GOOD, "pass"),
    ("a@inc.test", BAD, "fail"),
    ("a@redir.test", BAD, "softfail"),
    ("a@cidr.test", MX_HOST, "pass"),
    ("a@cidr.test", "127.0.54.116", "fail"),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    env = E.Env(tmp_path_factory.mktemp("spf"))
    try:
        env.dns(ZONES, ip=DNS_IP)
        reject = env.mx("mx-reject", REJECT_IP, ["hamburger.edu"], [RCPT], spf="reject",
                        resolver=DNS_IP)
        mark = env.mx("mx-mark", MARK_IP, ["hamburger.edu"], [RCPT], spf="mark",
                      resolver=DNS_IP)
        yield {"reject": reject, "mark": mark}
    finally:
        errors = env.close()
    assert not errors, "\n".join(errors)


def client(src, dst):
    c = H.SMTPClient.__new__(H.SMTPClient)
    c.sock = socket.create_connection((dst, 25), timeout=30, source_address=(src, 0))
    c.buf = b""
    c.greeting = c.reply()
    return c


def body(tag):
    return ("From: <x@example>\r\nTo: <%s>\r\nSubject: spf %s\r\nMessage-ID: <%s@spf.test>\r\n"
            "\r\nspf case %s\r\n" % (RCPT, tag, tag, tag))


def stored_with(node, tag):
    for m in node.messages(RCPT):
        if ("<%s@spf.test>" % tag) in H.header_values(m.data, "Message-ID"):
            return m.data
    return None


def received_spf(data):
    return H.header_values(data, "Received-SPF")


@pytest.mark.parametrize("mode", ["reject", "mark"])
@pytest.mark.parametrize("sender,ip,result", CASES)
def test_spf(servers, mode, sender, ip, result):
    node = servers[mode]
    tag = "%s-%s-%s" % (mode, sender.split("@")[1], ip.rsplit(".", 1)[1])
    with client(ip, REJECT_IP if mode == "reject" else MARK_IP) as c:
        c.ehlo("client.example")
        r = c.cmd("MAIL FROM:<%s>" % sender)
        if mode == "reject" and result == "fail":
            assert r.code == 550 and r.enhanced == "5.7.23", r
            assert sender.split("@")[1] in r.text
            c.cmd("QUIT")
            assert stored_with(node, tag) is None
            return
        assert r.code == 250, r
        c.expect("RCPT TO:<%s>" % RCPT, "250")
        c.expect("DATA", "354")
        c.send(body(tag) + ".\r\n")
        assert c.reply().code == 250
        c.cmd("QUIT")
    data = stored_with(node, tag)
    assert data is not None
    fields = received_spf(data)
    assert len(fields) == 1, fields
    f = fields[0]
    assert f.split(" ", 1)[0] == result, f
    assert "client-ip=%s;" % ip in f and 'envelope-from="%s";' % sender in f, f
    assert "helo=client.example;" in f, f
    # RFC 7208 §9.1: above this hop's Received field
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.index(b"Received-SPF:") < head.index(b"\r\nReceived:"), head[:400]
