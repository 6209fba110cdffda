"""VacationResponse (RFC 8621 §8) on the user's Sieve scripts: enabled over JMAP it is the
active script "jmap-vacation" (seen by `pigeon sieve list`), delivery answers with it and
still runs the user's own script it includes; its date window holds; disabling gives the
active mark back; a script activated outside JMAP turns isEnabled off and on."""

import datetime
import re

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_vacation")

ALICE = "alice@hamburger.edu"
BOB = "bob@hamburger.edu"
USING = J.USING + ["urn:ietf:params:jmap:vacationresponse"]


def utc(days):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def vac_call(c, name, args):
    args = dict(args, accountId=c.account)
    r = c.calls([[name, args, "v"]], using=USING)
    assert r[0][0] == name, r
    return r[0][1]


def vac_set(c, patch):
    r = vac_call(c, "VacationResponse/set", {"update": {"singleton": patch}})
    assert "singleton" in r["updated"], r
    return r


def vac_get(c):
    return vac_call(c, "VacationResponse/get", {"ids": None})["list"][0]


def sieve_list(d, user=ALICE):
    out = d.cli("sieve", "list", user).stdout.decode()
    return {f[0]: len(f) > 2 and f[2] == "active" for f in
            (line.split("\t") for line in out.splitlines() if line)}


def subjects(d, user, mailbox="INBOX"):
    return [re.search(rb"Subject: (.*)\r\n", m.data).group(1).decode()
            for m in d.messages(user, mailbox)]


def send(d, rcpt, subject, sender):
    with d.smtp() as s:
        s.send_mail(sender, [rcpt], ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: "
                                     "<%s@example.org>\r\n\r\nHello.\r\n" %
                                     (sender, rcpt, subject, subject.replace(" ", "."))).encode())


def test_session_capability(web):
    c = J.Client(web)
    assert "urn:ietf:params:jmap:vacationresponse" in c.session["capabilities"]
    assert c.session["primaryAccounts"]["urn:ietf:params:jmap:vacationresponse"] == c.account
    v = vac_get(c)
    assert v["id"] == "singleton" and v["isEnabled"] is False and v["subject"] is None


def test_vacation_through_sieve(web):
    d = web.d
    c = J.Client(web)
    d.cli("sieve", "put", ALICE, "mine", input=b'require "imap4flags";\n'
          b'if header :contains "subject" "urgent" { addflag "\\\\Flagged"; }\n')
    d.cli("sieve", "activate", ALICE, "mine")
    vac_set(c, {"isEnabled": True, "subject": "Gone fishing", "textBody": "Back soon.",
                "fromDate": utc(-1), "toDate": utc(1)})
    assert sieve_list(d) == {"mine": False, "jmap-vacation": True}
    v = vac_get(c)
    assert v["isEnabled"] is True and v["subject"] == "Gone fishing"
    # delivery answers, and the user's own script still runs (included)
    send(d, ALICE, "urgent question", BOB)
    H.wait_until(lambda: "Gone fishing" in subjects(d, BOB), what="vacation reply to bob")
    got = c.call("Email/query", {"filter": {"subject": "urgent question"}})["ids"]
    e = c.call("Email/get", {"ids": got, "properties": ["keywords"]})["list"][0]
    assert e["keywords"].get("$flagged") is True
    # outside the date window: no answer (a remote sender's answer would be queued)
    vac_set(c, {"fromDate": utc(3)})
    send(d, ALICE, "too early", "pal@example.org")
    assert not [r for r in d.queue_rows() if r["rcpt"] == "pal@example.org"]
    vac_set(c, {"fromDate": None})
    send(d, ALICE, "now then", "pal@example.org")
    rows = [r for r in d.queue_rows() if r["rcpt"] == "pal@example.org"]
    assert len(rows) == 1, d.queue()
    assert "Subject: Gone fishing" in d.cli("queue", "show", rows[0]["id"]).stdout.decode()
    # disabled over JMAP: the user's own script is active again
    vac_set(c, {"isEnabled": False})
    assert sieve_list(d) == {"mine": True, "jmap-vacation": False}
    # ManageSieve's side (the CLI here) moves the mark: JMAP sees it
    d.cli("sieve", "activate", ALICE, "jmap-vacation")
    assert vac_get(c)["isEnabled"] is True
    d.cli("sieve", "activate", ALICE, "mine")
    assert vac_get(c)["isEnabled"] is False


def test_refusals(web):
    c = J.Client(web)
    r = vac_call(c, "VacationResponse/set", {
        "create": {"n": {"isEnabled": True}}, "destroy": ["singleton"],
        "update": {"singleton": {"toDate": "next week"}, "other": {"isEnabled": True}}})
    assert r["notCreated"]["n"]["type"] == "singleton"
    assert r["notDestroyed"]["singleton"]["type"] == "singleton"
    assert r["notUpdated"]["singleton"]["type"] == "invalidProperties"
    assert r["notUpdated"]["other"]["type"] == "notFound"
    r = c.calls([["VacationResponse/set", {"accountId": c.account, "ifInState": "nope",
                                           "update": {}}, "s"]], using=USING)
    assert r[0][0] == "error" and r[0][1]["type"] == "stateMismatch", r
    # without the capability in "using": unknownMethod
    r = c.calls([["VacationResponse/get", {"accountId": c.account}, "x"]])
    assert r[0][0] == "error" and r[0][1]["type"] == "unknownMethod"
