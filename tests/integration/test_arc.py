"""Issue 16: ARC (RFC 8617) on the MX role.

An authoritative pigeond serves the test zones on 127.0.58.1:53. Pigeon's MX for fwd.test
(127.0.58.2:25) forwards fwd@fwd.test to x@fake.test (a fake MX on 127.0.58.30) and delivers
b@fwd.test locally. It seals every forwarded copy with d=fwd.test; python3-dkim (its
arc_verify, and its `arcverify` command resolving through the test's DNS server) verifies the
chains Pigeon makes: a new one (i=1 cv=none), one continued after a mailing list sealed it with
python3-dkim (i=2 cv=pass), one whose incoming chain was broken (cv=fail). Pigeon's own
verification shows in Authentication-Results (arc=pass / arc=fail), and a trusted sealer
(list.test) that saw DMARC pass overrides the author's p=reject; an untrusted one does not.
"""
import os
import re
import subprocess
import tempfile
from pathlib import Path

import dkim
import pytest

import delivery_env as E
import pigeon_harness as H
from test_mailauth import rsa_key, txt

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

DNS_IP = "127.0.58.1"
FWD_IP = "127.0.58.2"
FAKE_IP = "127.0.58.30"
LIST_IP = "127.0.58.10"   # in sender.test's SPF: mail relayed by the list
OTHER_IP = "127.0.58.11"  # not in any SPF
KEYS = {}


def zones():
    def z(origin, body):
        return E.zone(origin, body, ns_ip=DNS_IP)
    return {
        "sender.test": z("sender.test", '@ TXT "v=spf1 ip4:%s -all"\n'
                         '_dmarc TXT "v=DMARC1; p=reject"\nsel._domainkey TXT %s'
                         % (LIST_IP, txt(KEYS["sender"][1]))),
        "fwd.test": z("fwd.test", "s1._domainkey TXT %s" % txt(KEYS["fwd"][1])),
        "list.test": z("list.test", "l1._domainkey TXT %s" % txt(KEYS["list"][1])),
        "other.test": z("other.test", "o1._domainkey TXT %s" % txt(KEYS["other"][1])),
        "fake.test": z("fake.test", "@ MX 10 mx\nmx A %s" % FAKE_IP),
    }


def records():
    return {"sel._domainkey.sender.test": KEYS["sender"][1],
            "s1._domainkey.fwd.test": KEYS["fwd"][1],
            "l1._domainkey.list.test": KEYS["list"][1],
            "o1._domainkey.other.test": KEYS["other"][1]}


def dnsfunc(name, timeout=5):
    return records().get(name.decode().rstrip("."), "").encode()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    for k in ("sender", "fwd", "list", "other"):
        KEYS[k] = rsa_key()
    e = E.Env(tmp_path_factory.mktemp("arc"))
    try:
        e.dns(zones(), ip=DNS_IP)
        fwd = e.mx("fwd", FWD_IP, ["fwd.test"], ["b@fwd.test"], spf="mark", resolver=DNS_IP,
                   start=False,
                   extra={"dkim": {"selector": "s1"},
                          "arc": {"domain": "fwd.test", "trusted": "list.test"},
                          "delivery": {"source_address": FWD_IP, "remote_port": 25,
                                       "retry_initial": 1, "scan_interval": 1}})
        d = Path(fwd.data_dir) / "dkim" / "fwd.test"
        d.mkdir(parents=True, exist_ok=True)
        (d / "s1.pem").write_bytes(KEYS["fwd"][0])
        os.chmod(d / "s1.pem", 0o600)
        fwd.start()
        fwd.cli("alias", "add", "fwd@fwd.test", "x@fake.test")
        fake = e.fake(FAKE_IP)
        yield {"fwd": fwd, "fake": fake}
    finally:
        errors = e.close()
    assert not errors, "\n".join(errors)


def message(tag, subject="hello"):
    body = "".join("line %d of message %s\r\n" % (i, tag) for i in range(20))
    return ("From: Alice <a@sender.test>\r\nTo: <fwd@fwd.test>\r\nSubject: %s\r\n"
            "Message-ID: <%s@arc.test>\r\nDate: Mon, 07 Dec 2026 03:00:00 +0000\r\n\r\n%s"
            % (subject, tag, body)).encode()


def author_signed(tag, subject="hello"):
    msg = message(tag, subject)
    return dkim.sign(msg, b"sel", b"sender.test", KEYS["sender"][0],
                     include_headers=[b"from", b"to", b"subject", b"message-id"]) + msg


def list_sealed(msg, who="list", results=b"dkim=pass header.d=sender.test; "
                                       b"dmarc=pass header.from=sender.test"):
    """What a mailing list does: its own A-R, then python3-dkim's ARC set on top."""
    dom = {"list": b"list.test", "other": b"other.test"}[who]
    sel = {"list": b"l1", "other": b"o1"}[who]
    msg = b"Authentication-Results: " + dom + b"; " + results + b"\r\n" + msg
    arc = dkim.arc_sign(msg, sel, dom, KEYS[who][0], dom, timestamp=1796612400)
    assert len(arc) == 3, arc
    return b"".join(arc) + msg


def send(src, msg, rcpt, sender="a@sender.test"):
    return E.send_from(FWD_IP, src, msg, sender, rcpt, helo="list.example")


def forwarded(env, tag):
    fake = env["fake"]
    return E.wait_for(lambda: next((m[2] for m in list(fake.messages)
                                    if ("<%s@arc.test>" % tag).encode() in m[2]), None),
                      timeout=60, what="the forwarded copy at the fake MX")


def head(data):
    return data.split(b"\r\n\r\n", 1)[0].decode()


def arc_fields(data, name, instance):
    m = re.search(r"^%s: i=%d;.*?\r\n(?=\S)" % (name, instance), head(data) + "\r\nX",
                  re.S | re.M)
    return m.group(0) if m else None


def arcverify_cli(data):
    """python3-dkim's arcverify command, resolving through the test's DNS server (its own
    mount namespace sees a resolv.conf naming it)."""
    work = tempfile.mkdtemp()
    try:
        Path(work, "resolv.conf").write_text("nameserver %s\n" % DNS_IP)
        p = subprocess.run(["unshare", "-m", "sh", "-c",
                            "mount --bind %s/resolv.conf /etc/resolv.conf && exec arcverify"
                            % work], input=data, capture_output=True, timeout=60)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
    finally:
        subprocess.run(["rm", "-rf", work])


def test_new_chain_sealed(env):
    r = send(LIST_IP, author_signed("new"), "fwd@fwd.test")
    assert r.code == 250, r
    data = forwarded(env, "new")
    assert data.startswith(b"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=fwd.test; s=s1;"), data[:200]
    aar = arc_fields(data, "ARC-Authentication-Results", 1)
    assert aar.startswith("ARC-Authentication-Results: i=1; mail.fwd.test;\r\n\tdkim=pass "
                          "header.d=sender.test header.s=sel"), aar
    assert "spf=pass smtp.mailfrom=a@sender.test" in aar and "dmarc=pass" in aar
    cv, results, why = dkim.arc_verify(data, dnsfunc=dnsfunc)
    assert cv == b"pass", (why, results)
    assert results[0]["as-domain"] == b"fwd.test" and results[0]["ams-valid"]
    # the author's DKIM signature survived the forward too
    assert dkim.verify(data, dnsfunc=dnsfunc)
    rc, out = arcverify_cli(data)
    assert rc == 0 and "cv=b'pass' success" in out, out
    rc, out = arcverify_cli(data.replace(b"line 5 of", b"line 6 of"))
    assert "cv=b'fail'" in out, out
    # a byte changed in transit after our seal: python3-dkim says fail
    cv, _, why = dkim.arc_verify(data.replace(b"line 5 of", b"line 6 of"), dnsfunc=dnsfunc)
    assert cv == b"fail", why


def test_chain_continued(env):
    """A list sealed i=1 (python3-dkim); Pigeon verifies it and seals i=2 with cv=pass."""
    sealed = list_sealed(author_signed("cont"))
    assert dkim.arc_verify(sealed, dnsfunc=dnsfunc)[0] == b"pass"
    r = send(LIST_IP, sealed, "fwd@fwd.test")
    assert r.code == 250, r
    data = forwarded(env, "cont")
    assert data.startswith(b"ARC-Seal: i=2; a=rsa-sha256; cv=pass; d=fwd.test;"), data[:200]
    assert "\tarc=pass (i=1 d=list.test);" in arc_fields(data, "ARC-Authentication-Results", 2)
    cv, results, why = dkim.arc_verify(data, dnsfunc=dnsfunc)
    assert cv == b"pass", (why, results)
    assert [x["instance"] for x in results] == [2, 1]
    rc, out = arcverify_cli(data)
    assert rc == 0 and "cv=b'pass' success" in out, out


def test_broken_chain_sealed_fail(env):
    """The list's seal no longer verifies (a body line changed after it): Pigeon says
    arc=fail and seals with cv=fail, which python3-dkim reads as a failed chain."""
    sealed = list_sealed(author_signed("broken"))
    sealed = sealed.replace(b"line 3 of", b"line 3 0f")
    r = send(LIST_IP, sealed, "fwd@fwd.test")
    assert r.code == 250, r
    data = forwarded(env, "broken")
    assert data.startswith(b"ARC-Seal: i=2; a=rsa-sha256; cv=fail; d=fwd.test;"), data[:200]
    assert "\tarc=fail reason=" in arc_fields(data, "ARC-Authentication-Results", 2)
    cv, _, why = dkim.arc_verify(data, dnsfunc=dnsfunc)
    assert cv != b"pass", why


def stored(fwd, tag):
    for m in fwd.messages("b@fwd.test"):
        if ("<%s@arc.test>" % tag) in H.header_values(m.data, "Message-ID"):
            return m.data
    return None


def authres(data):
    m = re.search(r"^Authentication-Results: mail\.fwd\.test;.*?\r\n(?=\S)", head(data),
                  re.S | re.M)
    assert m, head(data)[:400]
    return m.group(0)


def test_verified_on_delivery(env):
    fwd = env["fwd"]
    msg = list_sealed(author_signed("local-ok"))
    assert send(LIST_IP, msg, "b@fwd.test").code == 250
    ar = authres(stored(fwd, "local-ok"))
    assert "\tarc=pass (i=1 d=list.test);\r\n" in ar, ar
    bad = list_sealed(author_signed("local-bad")).replace(b"line 9 of", b"line 9 Of")
    assert send(LIST_IP, bad, "b@fwd.test").code == 250
    ar = authres(stored(fwd, "local-bad"))
    assert re.search(r"\tarc=fail reason=\"[^\"]*body hash[^\"]*\";", ar), ar


def test_trusted_sealer_overrides_dmarc(env):
    """The list rewrote the Subject (the author's DKIM breaks) and relays from an address
    outside sender.test's SPF: DMARC fails. list.test is trusted and saw dmarc=pass, so the
    message is delivered with dis=none; the same through other.test is refused."""
    fwd = env["fwd"]
    msg = author_signed("trusted").replace(b"Subject: hello", b"Subject: [list] hello")
    assert send(OTHER_IP, list_sealed(msg), "b@fwd.test").code == 250
    ar = authres(stored(fwd, "trusted"))
    assert "\tdkim=fail" in ar and "\tarc=pass (i=1 d=list.test);" in ar, ar
    assert "\tdmarc=fail (p=reject dis=none arc-override=list.test) header.from=sender.test" \
        in ar, ar
    msg = author_signed("untrusted").replace(b"Subject: hello", b"Subject: [list] hello")
    r = send(OTHER_IP, list_sealed(msg, who="other"), "b@fwd.test")
    assert r.code == 550 and r.enhanced == "5.7.1", r
    assert stored(fwd, "untrusted") is None
