"""Composing with JMAP on Pigeon's store: Email/set create with a bodyStructure (nested
multiparts, an uploaded attachment) read back over IMAP; replacing a draft in one Email/set
(create the new version, destroy the old) as clients do; Identity/set kept by the server and
used by EmailSubmission; invalidRecipients (RFC 8621 §7.5) for an unknown local address,
while an alias of a local user is delivered; Identity/changes and EmailSubmission/changes,
/query and /queryChanges on the store."""

import email
import imaplib

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_compose")

ALICE = "alice@hamburger.edu"
BOB = "bob@hamburger.edu"


def imap_fetch(web, user, mailbox, subject):
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(user, web.d.users[user])
    m.select('"%s"' % mailbox)
    typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
    msgs = []
    for n in data[0].split():
        typ, d = m.fetch(n, "(RFC822)")
        msgs.append(email.message_from_bytes(d[0][1]))
    m.logout()
    return msgs


def test_body_structure(web):
    c = J.Client(web)
    drafts = c.mailbox(role="drafts")["id"]
    blob = c.upload(b"%PDF-1.4 plan", "application/pdf")["blobId"]
    r = c.call("Email/set", {"create": {"m": {
        "mailboxIds": {drafts: True}, "from": [{"email": ALICE}], "to": [{"email": BOB}],
        "subject": "structured plan",
        "bodyStructure": {"type": "multipart/mixed", "subParts": [
            {"type": "multipart/alternative", "subParts": [
                {"partId": "t", "type": "text/plain"},
                {"partId": "h", "type": "text/html"}]},
            {"blobId": blob, "type": "application/pdf", "name": "plan.pdf"}]},
        "bodyValues": {"t": {"value": "See the plan."}, "h": {"value": "<p>See the plan.</p>"}}}}})
    assert "m" in r["created"], r
    msg = imap_fetch(web, ALICE, "Drafts", "structured plan")[0]
    assert msg.get_content_type() == "multipart/mixed"
    alt, pdf = msg.get_payload()
    assert alt.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alt.get_payload()] == ["text/plain", "text/html"]
    assert pdf.get_filename() == "plan.pdf" and pdf.get_payload(decode=True) == b"%PDF-1.4 plan"
    # mixing bodyStructure with textBody is refused
    r = c.call("Email/set", {"create": {"x": {
        "mailboxIds": {drafts: True}, "bodyStructure": {"partId": "t"},
        "textBody": [{"partId": "t"}], "bodyValues": {"t": {"value": "x"}}}}})
    assert r["notCreated"]["x"]["type"] == "invalidProperties", r


def test_replace_draft(web):
    c = J.Client(web)
    drafts = c.mailbox(role="drafts")["id"]

    def draft(subject, text):
        return {"mailboxIds": {drafts: True}, "keywords": {"$draft": True, "$seen": True},
                "from": [{"email": ALICE}], "to": [{"email": BOB}], "subject": subject,
                "textBody": [{"partId": "1", "type": "text/plain"}],
                "bodyValues": {"1": {"value": text}}}
    first = c.call("Email/set", {"create": {"d": draft("draft v1", "first words")}})
    old = first["created"]["d"]["id"]
    r = c.call("Email/set", {"create": {"d": draft("draft v2", "better words")},
                             "destroy": [old]})
    assert r["destroyed"] == [old] and "d" in r["created"], r
    assert imap_fetch(web, ALICE, "Drafts", "draft v1") == []
    [v2] = imap_fetch(web, ALICE, "Drafts", "draft v2")
    assert "better words" in v2.get_payload()


def test_identities_and_submission(web):
    c = J.Client(web)
    r = c.call("Identity/set", {"create": {"w": {
        "email": ALICE, "name": "Alice at work", "textSignature": "-- \nAlice"}}})
    wid = r["created"]["w"]["id"]
    ids = {i["id"]: i for i in c.call("Identity/get", {})["list"]}
    assert ids[wid]["name"] == "Alice at work" and ids["i1"]["mayDelete"] is False
    r = c.call("Identity/set", {"create": {"x": {"email": "mallory@example.org"}}})
    assert r["notCreated"]["x"]["type"] == "forbiddenFrom"
    # an alias of bob is delivered to bob; a submission with the new identity
    web.d.cli("alias", "add", "team@hamburger.edu", BOB)
    drafts, sent = c.mailbox(role="drafts")["id"], c.mailbox(role="sent")["id"]

    def send(to, subject):
        return c.calls([
            ["Email/set", {"accountId": c.account, "create": {"m": {
                "mailboxIds": {drafts: True}, "keywords": {"$draft": True},
                "from": [{"name": "Alice at work", "email": ALICE}], "to": to,
                "subject": subject, "textBody": [{"partId": "1", "type": "text/plain"}],
                "bodyValues": {"1": {"value": "Hello team."}}}}}, "a"],
            ["EmailSubmission/set", {"accountId": c.account, "create": {"s": {
                "identityId": wid, "emailId": "#m"}},
                "onSuccessUpdateEmail": {"#s": {"mailboxIds/" + drafts: None,
                                                "mailboxIds/" + sent: True,
                                                "keywords/$draft": None}}}, "b"]])
    r = send([{"email": "team@hamburger.edu"}], "to the team")
    assert "s" in r[1][1]["created"], r
    H.wait_until(lambda: imap_fetch(web, BOB, "INBOX", "to the team"), what="alias delivery")
    # an unknown user of a local domain: invalidRecipients, nothing sent, the draft stays
    r = send([{"email": BOB}, {"email": "nobody@hamburger.edu"}], "to nobody")
    err = r[1][1]["notCreated"]["s"]
    assert err["type"] == "invalidRecipients", r
    assert err["invalidRecipients"] == ["nobody@hamburger.edu"]
    assert imap_fetch(web, ALICE, "Drafts", "to nobody")
    assert imap_fetch(web, BOB, "INBOX", "to nobody") == []


def test_changes_of_identities_and_submissions(web):
    """Identity/changes, EmailSubmission/changes, /query and /queryChanges on the store:
    exact across creates, updates and destroys, and states the server cannot compare are
    cannotCalculateChanges (RFC 8620 §5.2, RFC 8621 §6-7)."""
    c = J.Client(web)
    i0 = c.call("Identity/get", {})["state"]
    r = c.call("Identity/set", {"create": {"n": {"email": ALICE, "name": "Night shift"}},
                                "update": {"i1": {"textSignature": "-- \nA."}}})
    nid, i1 = r["created"]["n"]["id"], r["newState"]
    ch = c.call("Identity/changes", {"sinceState": i0})
    assert (ch["created"], ch["updated"], ch["destroyed"]) == ([nid], ["i1"], [])
    assert ch["newState"] == i1 and ch["hasMoreChanges"] is False
    c.call("Identity/set", {"destroy": [nid]})
    assert c.call("Identity/changes", {"sinceState": i1})["destroyed"] == [nid]
    ch = c.call("Identity/changes", {"sinceState": i0})  # made and destroyed since: not told
    assert (ch["created"], ch["updated"], ch["destroyed"]) == ([], ["i1"], [])
    r = c.calls([["Identity/changes", {"accountId": c.account, "sinceState": "d0a1b2c3"}, "0"]])
    assert r[0][0] == "error" and r[0][1]["type"] == "cannotCalculateChanges", r

    drafts = c.mailbox(role="drafts")["id"]
    s0 = c.call("EmailSubmission/get", {"ids": None})["state"]

    def submit(subject):
        r = c.calls([
            ["Email/set", {"accountId": c.account, "create": {"m": {
                "mailboxIds": {drafts: True}, "from": [{"email": ALICE}],
                "to": [{"email": BOB}], "subject": subject,
                "textBody": [{"partId": "1", "type": "text/plain"}],
                "bodyValues": {"1": {"value": "Hello."}}}}}, "a"],
            ["EmailSubmission/set", {"accountId": c.account, "create": {"s": {
                "identityId": "i1", "emailId": "#m"}}}, "b"]])
        return r[0][1]["created"]["m"]["id"], r[1][1]["created"]["s"]["id"]

    e1, a = submit("changes one")
    e2, b = submit("changes two")
    ch = c.call("EmailSubmission/changes", {"sinceState": s0})
    assert ch["created"] == [a, b] and ch["destroyed"] == [] and ch["updated"] == []
    s1 = ch["newState"]
    half = c.call("EmailSubmission/changes", {"sinceState": s0, "maxChanges": 1})
    assert half["created"] == [a] and half["hasMoreChanges"] is True
    rest = c.call("EmailSubmission/changes", {"sinceState": half["newState"]})
    assert rest["created"] == [b] and rest["newState"] == s1
    q = c.call("EmailSubmission/query", {"filter": {"emailIds": [e1, e2]},
                                         "sort": [{"property": "emailId",
                                                   "isAscending": False}],
                                         "calculateTotal": True})
    assert q["ids"] == [b, a] and q["total"] == 2 and q["canCalculateChanges"] is True
    c.call("EmailSubmission/set", {"destroy": [a]})
    ch = c.call("EmailSubmission/changes", {"sinceState": s1})
    assert ch["destroyed"] == [a] and ch["created"] == []
    qc = c.call("EmailSubmission/queryChanges", {
        "filter": {"emailIds": [e1, e2]}, "sort": [{"property": "emailId", "isAscending": False}],
        "sinceQueryState": q["queryState"], "calculateTotal": True})
    assert qc["removed"] == [a] and qc["added"] == [] and qc["total"] == 1
    assert c.call("EmailSubmission/get", {"ids": [a, b]})["notFound"] == [a]
