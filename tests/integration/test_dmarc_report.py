"""Issue 16: DMARC aggregate reports (RFC 7489 §7.2, DMARCbis aggregate format) and SMTP TLS
reports (RFC 8460).

Bob's pigeond (MX for hamburger.edu, 127.0.59.2) receives mail from sender.test, whose DMARC
record asks for reports at agg@reports.test (another organisation, which consents with
sender.test._report._dmarc.reports.test), and from evil.test, whose record names
victim@victim.test (which never consented). `pigeon dmarc report` prints the day's reports,
checked against tests/data/dmarc/aggregate.xsd with xmllint; `--send` queues the gzipped
report for sender.test, DKIM-signed, and Bob's queue delivers it to the pigeond of
reports.test (127.0.59.3), where the attachment is taken apart and validated again; the one
for evil.test is never sent (RFC 7489 §7.1). Bob's queue records every outbound TLS
attempt: the report mail to reports.test went over TLS, a forward to plain.test (a fake MX
without STARTTLS) in plaintext; `pigeon tlsrpt report` shows both, and `--send` mails each
domain's report to the address of its _smtp._tls record, at reports.test again.
"""
import calendar
import email
import gzip
import json
import re
import shutil
import subprocess
import time
from email import policy
from pathlib import Path

import dkim
import pytest

import delivery_env as E
import pigeon_harness as H
from test_mailauth import record_of_pem

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

DNS_IP = "127.0.59.1"
BOB_IP = "127.0.59.2"
REP_IP = "127.0.59.3"
CAROL_IP = "127.0.59.4"
PLAIN_IP = "127.0.59.30"
SPF_OK, SPF_BAD = "127.0.59.10", "127.0.59.11"
BOB = "bob@hamburger.edu"
XSD = Path(__file__).resolve().parent.parent / "data" / "dmarc" / "aggregate.xsd"


def zones():
    def z(origin, body):
        return E.zone(origin, body, ns_ip=DNS_IP)
    spf = '@ TXT "v=spf1 ip4:%s -all"' % SPF_OK
    return {
        "sender.test": z("sender.test", '%s\n_dmarc TXT "v=DMARC1; p=quarantine; '
                         'rua=mailto:agg@reports.test!10m"' % spf),
        "evil.test": z("evil.test", '%s\n_dmarc TXT "v=DMARC1; p=none; '
                       'rua=mailto:victim@victim.test"' % spf),
        "reports.test": z("reports.test", '@ MX 10 mx\nmx A %s\n'
                          'sender.test._report._dmarc TXT "v=DMARC1"\n'
                          '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@reports.test"' % REP_IP),
        "plain.test": z("plain.test", '@ MX 10 mx\nmx A %s\n'
                        '_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls@reports.test"' % PLAIN_IP),
        "victim.test": z("victim.test", "@ MX 10 mx\nmx A %s" % REP_IP),
        "hamburger.edu": z("hamburger.edu", "@ MX 10 mail\nmail A %s" % BOB_IP),
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = E.Env(tmp_path_factory.mktemp("dmarc_report"))
    try:
        e.dns(zones(), ip=DNS_IP)
        rep = e.mx("rep", REP_IP, ["reports.test", "victim.test"],
                   ["agg@reports.test", "tls@reports.test", "victim@victim.test"], spf="mark",
                   resolver=DNS_IP)
        bob = e.mx("bob", BOB_IP, ["hamburger.edu"], [BOB], spf="mark", resolver=DNS_IP,
                   extra={"delivery": {"source_address": BOB_IP, "remote_port": 25,
                                       "retry_initial": 1, "scan_interval": 1},
                          "dmarc_report": {"org_name": "Hamburger University",
                                           "email": "dmarc@hamburger.edu"}})
        bob.cli("alias", "add", "fwd@hamburger.edu", "x@plain.test")
        plain = e.fake(PLAIN_IP)  # offers no STARTTLS
        yield {"bob": bob, "rep": rep, "plain": plain, "env": e}
    finally:
        errors = e.close()
    assert not errors, "\n".join(errors)


def send(src, sender, tag, rcpt=BOB):
    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: report %s\r\nMessage-ID: <%s@dmarc.test>\r\n"
           "\r\nbody of %s\r\n" % (sender, rcpt, tag, tag, tag)).encode()
    r = E.send_from(BOB_IP, src, msg, sender, rcpt)
    assert r.code == 250, r


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


def xmllint(xml, tmp_path, name):
    p = tmp_path / name
    p.write_bytes(xml)
    r = subprocess.run(["xmllint", "--noout", "--schema", str(XSD), str(p)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + xml.decode()


def split_docs(out):
    return [d for d in re.split(r"(?=<\?xml )", out) if d.strip()]


def rows(xml):
    """(source_ip, count, disposition, dkim, spf) of every record."""
    return sorted(re.findall(r"<source_ip>(.*?)</source_ip>\s*<count>(\d+)</count>\s*"
                             r"<policy_evaluated>\s*<disposition>(\w+)</disposition>\s*"
                             r"<dkim>(\w+)</dkim>\s*<spf>(\w+)</spf>", xml))


@pytest.fixture(scope="module")
def received(env):
    send(SPF_OK, "a@sender.test", "ok1")
    send(SPF_OK, "a@sender.test", "ok2")
    send(SPF_BAD, "a@sender.test", "bad")
    send(SPF_BAD, "x@evil.test", "evil")
    E.wait_for(lambda: len(env["bob"].messages(BOB, "Junk")) >= 1 and
               len(env["bob"].messages(BOB)) >= 3, timeout=60, what="the four messages")
    return env


def test_report_printed_and_valid(received, tmp_path):
    out = received["bob"].cli("dmarc", "report", "--date", today()).stdout.decode()
    docs = split_docs(out)
    assert len(docs) == 2, out
    by = {re.search(r"<policy_published>\s*<domain>(.*?)</domain>", d).group(1): d for d in docs}
    for name, d in by.items():
        xmllint(d.encode(), tmp_path, name + ".xml")
    s = by["sender.test"]
    assert "<org_name>Hamburger University</org_name>" in s
    assert "<email>dmarc@hamburger.edu</email>" in s
    assert "<p>quarantine</p>" in s and "<adkim>r</adkim>" in s
    assert rows(s) == [(SPF_OK, "2", "pass", "fail", "pass"),
                       (SPF_BAD, "1", "quarantine", "fail", "fail")], s
    assert "<header_from>sender.test</header_from>" in s
    assert re.search(r"<spf>\s*<domain>sender.test</domain>\s*<scope>mfrom</scope>\s*"
                     r"<result>fail</result>", s)
    assert rows(by["evil.test"]) == [(SPF_BAD, "1", "none", "fail", "fail")]
    # one domain only, and a day without history
    one = received["bob"].cli("dmarc", "report", "--domain", "evil.test", "--date",
                              today()).stdout.decode()
    assert len(split_docs(one)) == 1 and "<domain>evil.test</domain>" in one
    r = received["bob"].cli("dmarc", "report", "--date", "2001-01-01", check=False)
    assert r.returncode != 0 and b"no dmarc history for 2001-01-01" in r.stderr
    r = received["bob"].cli("dmarc", "report", "--date", "yesterday", check=False)
    assert r.returncode != 0 and b"YYYY-MM-DD" in r.stderr


def test_report_mailed(received, tmp_path):
    bob, rep = received["bob"], received["rep"]
    r = bob.cli("dmarc", "report", "--date", today(), "--send")
    out = r.stdout.decode()
    assert "1 report(s) queued, 1 destination(s) skipped" in out, out + r.stderr.decode()
    assert (Path(bob.data_dir) / "dmarc" / (today() + ".sent")).exists()
    msgs = E.wait_for(lambda: rep.messages("agg@reports.test"), timeout=60,
                      what="the report at reports.test")
    data = msgs[0].data
    m = email.message_from_bytes(data, policy=policy.default)
    subject = " ".join(m["Subject"].split())
    assert re.fullmatch(r"Report Domain: sender\.test Submitter: mail\.hamburger\.edu "
                        r"Report-ID: <\d+\.sender\.test@mail\.hamburger\.edu>", subject), subject
    parts = [p for p in m.walk() if p.get_content_type() == "application/gzip"]
    assert len(parts) == 1
    fname = parts[0].get_filename()
    assert re.fullmatch(r"mail\.hamburger\.edu!sender\.test!\d+!\d+\.xml\.gz", fname), fname
    xml = gzip.decompress(parts[0].get_content())
    xmllint(xml, tmp_path, "mailed.xml")
    assert rows(xml.decode()) == [(SPF_OK, "2", "pass", "fail", "pass"),
                                  (SPF_BAD, "1", "quarantine", "fail", "fail")]
    # DKIM-signed by hamburger.edu's key (made by the CLI on first use)
    pem = (Path(bob.data_dir) / "dkim" / "hamburger.edu" / "pigeon.pem").read_bytes()
    rec = {"pigeon._domainkey.hamburger.edu": record_of_pem(pem)}
    body = data[data.index(b"DKIM-Signature:"):]
    assert dkim.verify(body, dnsfunc=lambda n, timeout=5: rec.get(
        n.decode().rstrip("."), "").encode())
    # victim.test never consented: nothing was sent there
    assert rep.messages("victim@victim.test") == []


def json_docs(text):
    docs, dec, i = [], json.JSONDecoder(), 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        d, i = dec.raw_decode(text, i)
        docs.append(d)
    return docs


def test_tls_reports(received):
    """After test_report_mailed: the report went to reports.test over TLS."""
    bob, rep, plain = received["bob"], received["rep"], received["plain"]
    E.wait_for(lambda: rep.messages("agg@reports.test"), timeout=60, what="the DMARC report")
    send(SPF_OK, "a@sender.test", "fwd-plain", rcpt="fwd@hamburger.edu")
    E.wait_for(lambda: plain.messages, timeout=60, what="the forward at plain.test")
    out = bob.cli("tlsrpt", "report", "--date", today()).stdout.decode()
    by = {d["policies"][0]["policy"]["policy-domain"]: d for d in json_docs(out)}
    assert set(by) == {"reports.test", "plain.test"}, out
    p = by["plain.test"]["policies"][0]
    assert p["policy"]["policy-type"] == "no-policy-found"
    assert p["summary"] == {"total-successful-session-count": 0,
                            "total-failure-session-count": 1}
    fd = p["failure-details"][0]
    assert fd["result-type"] == "starttls-not-supported"
    assert fd["receiving-mx-hostname"] == "mx.plain.test" and fd["receiving-ip"] == PLAIN_IP
    assert fd["sending-mta-ip"] == BOB_IP and fd["failed-session-count"] == 1
    s = by["reports.test"]["policies"][0]["summary"]
    assert s["total-successful-session-count"] >= 1 and s["total-failure-session-count"] == 0
    assert by["reports.test"]["contact-info"] == "mailto:dmarc@hamburger.edu"
    r = bob.cli("tlsrpt", "report", "--date", today(), "--send")
    assert "2 report(s) queued, 0 destination(s) skipped" in r.stdout.decode(), r.stdout
    msgs = E.wait_for(lambda: len(rep.messages("tls@reports.test")) >= 2 and
                      rep.messages("tls@reports.test"), timeout=60, what="the TLS reports")
    seen = set()
    for msg in msgs:
        m = email.message_from_bytes(msg.data, policy=policy.default)
        assert m.get_content_type() == "multipart/report"
        assert m.get_param("report-type") == "tlsrpt"
        dom = m["TLS-Report-Domain"]
        assert m["TLS-Report-Submitter"] == "mail.hamburger.edu"
        part = next(x for x in m.walk() if x.get_content_type() == "application/tlsrpt+gzip")
        assert re.fullmatch(r"mail\.hamburger\.edu!%s!\d+!\d+\.json\.gz" % re.escape(dom),
                            part.get_filename())
        doc = json.loads(gzip.decompress(part.get_content()))
        assert doc["policies"][0]["policy"]["policy-domain"] == dom
        seen.add(dom)
    assert seen == {"reports.test", "plain.test"}


def test_daily_timer(received):
    """pigeond's own daily run: Carol (hamburger.edu too, [dmarc_report] check_interval = 1
    instead of an hour) finds yesterday's history (Bob's day, copied under yesterday's name)
    unsent, mails its report to reports.test by itself and marks the day sent."""
    rep = received["rep"]
    yday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    begin = calendar.timegm(time.strptime(yday, "%Y-%m-%d"))
    carol = received["env"].mx(
        "carol", CAROL_IP, ["hamburger.edu"], [BOB], spf="mark", resolver=DNS_IP, start=False,
        extra={"delivery": {"source_address": CAROL_IP, "remote_port": 25,
                            "retry_initial": 1, "scan_interval": 1},
               "dmarc_report": {"org_name": "Hamburger University",
                                "email": "dmarc@hamburger.edu", "check_interval": 1}})
    hist = Path(carol.data_dir) / "dmarc"
    hist.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(received["bob"].data_dir) / "dmarc" / today(), hist / yday)
    carol.start()
    carol.wait_log(r"dmarc: %s: 1 report\(s\) queued, 1 destination\(s\) skipped" % yday)
    E.wait_for(lambda: (hist / (yday + ".sent")).exists(), what="the day marked sent")

    def carols():  # the reports for yesterday: Bob's were for today
        parts = [next(p for p in email.message_from_bytes(m.data, policy=policy.default).walk()
                      if p.get_content_type() == "application/gzip")
                 for m in rep.messages("agg@reports.test")]
        return [p for p in parts if p.get_filename() ==
                "mail.hamburger.edu!sender.test!%d!%d.xml.gz" % (begin, begin + 86399)]
    part = E.wait_for(carols, timeout=60, what="Carol's report at reports.test")[0]
    # Bob's day as it is by now (the earlier tests' messages from sender.test)
    assert {r[0] for r in rows(gzip.decompress(part.get_content()).decode())} == {SPF_OK,
                                                                               SPF_BAD}
    assert len(carols()) == 1
