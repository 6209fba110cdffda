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

reports.test's pigeond publishes agg@reports.test as its DMARC rua= and tls@reports.test as its
TLS-RPT rua= ([mail_dns]), so it parses and keeps the reports that arrive there: Bob's, and
ones in the forms large providers send (a zip as the whole message, a gzip beside a text part,
a TLS report from another provider); `pigeon dmarc report --received` and `pigeon tlsrpt
report --received` show them.
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
        "provider.test": z("provider.test", spf),
        "hamburger.edu": z("hamburger.edu", "@ MX 10 mail\nmail A %s" % BOB_IP),
    }


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = E.Env(tmp_path_factory.mktemp("dmarc_report"))
    try:
        e.dns(zones(), ip=DNS_IP)
        rep = e.mx("rep", REP_IP, ["reports.test", "victim.test"],
                   ["agg@reports.test", "tls@reports.test", "victim@victim.test"], spf="mark",
                   resolver=DNS_IP,
                   extra={"mail_dns": {"dmarc": "v=DMARC1; p=none; rua=mailto:agg@reports.test",
                                       "tlsrpt_rua": "mailto:tls@reports.test"}})
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


# ---- reports received at reports.test (its rua= addresses) ----

def received_text(node, kind, *args):
    r = node.cli(kind, "report", "--received", *args, check=False)
    return r.stdout.decode() if r.returncode == 0 else ""


def test_received_from_pigeon(received):
    """Bob's DMARC report (test_report_mailed) and TLS reports (test_tls_reports), mailed by
    Pigeon's own reporter over SMTP, were parsed and kept by reports.test's pigeond."""
    rep = received["rep"]
    E.wait_for(lambda: len(rep.messages("tls@reports.test")) >= 2, timeout=60,
               what="Bob's TLS reports")
    out = received_text(rep, "dmarc", "--domain", "sender.test", "--date", today())
    assert re.search(r"DMARC report from Hamburger University <dmarc@hamburger.edu>, id "
                     r"\d+\.sender\.test@mail\.hamburger\.edu", out), out
    assert "domain sender.test: p=quarantine" in out
    assert re.search(r"127\.0\.59\.10\s+2\s+pass\s+dkim=fail spf=pass from=sender\.test\n"
                     r"\s+spf sender\.test \(mfrom\) pass", out), out
    assert re.search(r"127\.0\.59\.11\s+1\s+quarantine\s+dkim=fail spf=fail "
                     r"from=sender\.test", out), out
    assert "3 message(s): 2 passed DMARC, 1 failed" in out
    tls = received_text(rep, "tlsrpt", "--date", today())
    assert tls.count("TLS report from Hamburger University <mailto:dmarc@hamburger.edu>") == 2
    assert re.search(r"policy no-policy-found for plain\.test: 0 successful, 1 failed "
                     r"\(mx mx\.plain\.test\)\n\s+starttls-not-supported: 1 mx=mx\.plain\.test "
                     r"ip=127\.0\.59\.30 from=127\.0\.59\.2\n", tls), tls
    assert re.search(r"policy no-policy-found for reports\.test: \d+ successful, 0 failed", tls)
    # nothing kept for a domain no report was about
    r = rep.cli("dmarc", "report", "--received", "--domain", "nobody.test", check=False)
    assert r.returncode != 0 and b"no dmarc report received for nobody.test" in r.stderr


PROVIDER_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>
    <report_id>%(id)s</report_id>
    <date_range><begin>%(begin)d</begin><end>%(end)d</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>reports.test</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>
    <pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.55</source_ip><count>7</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf>
      </policy_evaluated>
    </row>
    <identifiers><header_from>reports.test</header_from></identifiers>
    <auth_results>
      <dkim><domain>reports.test</domain><result>pass</result><selector>pigeon</selector></dkim>
      <spf><domain>reports.test</domain><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
"""

MICROSOFT_XML = """<?xml version="1.0"?>
<feedback xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <version>1.0</version>
  <report_metadata>
    <org_name>Enterprise Outlook</org_name>
    <email>dmarcreport@microsoft.com</email>
    <report_id>a1c2e3f4b5d6478899aabbccddeeff00</report_id>
    <date_range><begin>%(begin)d</begin><end>%(end)d</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>reports.test</domain><adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>
    <pct>100</pct><fo>0</fo>
  </policy_published>
  <record>
    <row>
      <source_ip>203.0.113.99</source_ip><count>1</count>
      <policy_evaluated><disposition>none</disposition><dkim>fail</dkim><spf>fail</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_to>outlook.test</envelope_to><envelope_from>forged.test</envelope_from>
      <header_from>reports.test</header_from>
    </identifiers>
    <auth_results>
      <spf><domain>forged.test</domain><scope>mfrom</scope><result>softfail</result></spf>
    </auth_results>
  </record>
</feedback>
"""

TLS_JSON = {
    "organization-name": "Mail Provider Inc.",
    "date-range": {"start-datetime": "%sT00:00:00Z", "end-datetime": "%sT23:59:59Z"},
    "contact-info": "smtp-tls-reporting@provider.test",
    "report-id": "%sT00:00:00Z_reports.test",
    "policies": [{
        "policy": {"policy-type": "sts",
                   "policy-string": ["version: STSv1", "mode: enforce", "mx: mx.reports.test",
                                     "max_age: 86400"],
                   "policy-domain": "reports.test", "mx-host": ["mx.reports.test"]},
        "summary": {"total-successful-session-count": 15, "total-failure-session-count": 2},
        "failure-details": [{"result-type": "certificate-host-mismatch",
                             "sending-mta-ip": "198.51.100.20",
                             "receiving-mx-hostname": "mx.reports.test",
                             "receiving-ip": REP_IP, "failed-session-count": 2}]}]}


def b64_lines(data):
    import base64
    t = base64.b64encode(data).decode()
    return "".join(t[i:i + 76] + "\r\n" for i in range(0, len(t), 76))


def zip_of(name, text):
    import io
    import zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, text)
    return b.getvalue()


def provider_mails():
    day = today()
    begin = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
    v = {"id": "4137268502839150263", "begin": begin, "end": begin + 86399}
    name = "google.com!reports.test!%d!%d" % (begin, begin + 86399)
    google = ("From: noreply-dmarc-support@provider.test\r\nTo: agg@reports.test\r\n"
              "Subject: Report domain: reports.test Submitter: google.com Report-ID: %s\r\n"
              "MIME-Version: 1.0\r\nContent-Type: application/zip; name=\"%s.zip\"\r\n"
              "Content-Disposition: attachment; filename=\"%s.zip\"\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n%s"
              % (v["id"], name, name, b64_lines(zip_of(name + ".xml", PROVIDER_XML % v))))
    ms = ("From: dmarcreport@provider.test\r\nTo: agg@reports.test\r\n"
          "Subject: Report Domain: reports.test Submitter: enterprise.protection.outlook.com "
          "Report-ID: <a1c2e3f4b5d6478899aabbccddeeff00>\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=\"_ms_\"\r\n\r\n"
          "--_ms_\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n\r\n"
          "This is a DMARC aggregate report from Microsoft Corporation.\r\n"
          "--_ms_\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename=\"enterprise.protection.outlook.com!"
          "reports.test!%d!%d.xml.gz\"\r\n\r\n%s--_ms_--\r\n"
          % (begin, begin + 86399, b64_lines(gzip.compress((MICROSOFT_XML % v).encode()))))
    doc = json.dumps(TLS_JSON) % (day, day, day)
    tls = ("From: tls-reports@provider.test\r\nTo: tls@reports.test\r\n"
           "Subject: Report Domain: reports.test Submitter: provider.test Report-ID: <x>\r\n"
           "TLS-Report-Domain: reports.test\r\nTLS-Report-Submitter: provider.test\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/report; report-type=\"tlsrpt\"; boundary=\"t\"\r\n\r\n"
           "--t\r\nContent-Type: text/plain\r\n\r\nTLS report.\r\n"
           "--t\r\nContent-Type: application/tlsrpt+gzip\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n%s--t--\r\n"
           % b64_lines(gzip.compress(doc.encode())))
    return google.encode(), ms.encode(), tls.encode()


def test_received_from_providers(received):
    rep = received["rep"]
    google, ms, tls = provider_mails()
    for msg, rcpt in ((google, "agg@reports.test"), (ms, "agg@reports.test"),
                      (tls, "tls@reports.test"), (google, "agg@reports.test")):
        r = E.send_from(REP_IP, SPF_OK, msg, "reports@provider.test", rcpt)
        assert r.code == 250, r
    # a report cut short is refused with a log line; its message is still delivered
    start = rep.log_size()
    cut = ms.replace(b"Enterprise Outlook", b"Cut Short Inc.")
    i = cut.index(b"filename=\"enterprise")
    cut = cut[:cut.index(b"\r\n\r\n", i) + 4] + b"H4sIAAAAAAAA/w==\r\n--_ms_--\r\n"
    assert E.send_from(REP_IP, SPF_OK, cut, "reports@provider.test", "agg@reports.test").code == 250
    rep.wait_log(r"a report to agg@reports.test could not be read: the gzip data is damaged",
                 start=start)
    E.wait_for(lambda: len(rep.messages("agg@reports.test")) >= 5, timeout=60,
               what="the reports in agg's mailbox")
    out = received_text(rep, "dmarc", "--domain", "reports.test")
    assert out.count("DMARC report from google.com <noreply-dmarc-support@google.com>, "
                     "id 4137268502839150263") == 1, out  # the copy sent twice kept once
    assert "domain reports.test: p=none sp=none adkim=r aspf=r pct=100" in out
    assert re.search(r"192\.0\.2\.55\s+7\s+none\s+dkim=pass spf=pass from=reports\.test\n"
                     r"\s+dkim reports\.test/pigeon pass, spf reports\.test pass", out), out
    assert re.search(r"DMARC report from Enterprise Outlook <dmarcreport@microsoft\.com>, id "
                     r"a1c2e3f4b5d6478899aabbccddeeff00", out), out
    assert re.search(r"203\.0\.113\.99\s+1\s+none\s+dkim=fail spf=fail from=reports\.test\n"
                     r"\s+spf forged\.test \(mfrom\) softfail", out), out
    assert "1 message(s): 0 passed DMARC, 1 failed" in out
    assert "Cut Short" not in out
    t = received_text(rep, "tlsrpt", "--domain", "reports.test")
    assert re.search(r"TLS report from Mail Provider Inc\. <smtp-tls-reporting@provider\.test>, "
                     r"id \d{4}-\d\d-\d\dT00:00:00Z_reports\.test\n", t), t
    assert re.search(r"policy sts for reports\.test: 15 successful, 2 failed "
                     r"\(mx mx\.reports\.test\)\n\s+certificate-host-mismatch: 2 "
                     r"mx=mx\.reports\.test ip=127\.0\.59\.3 from=198\.51\.100\.20\n", t), t
