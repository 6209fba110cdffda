"""JMAP mail (RFC 8621) on Pigeon's store: mailboxes, Email/query + get with back-references,
body values and header forms, Email/set (keywords, moves, destroy, create), import and
parse, search snippets, and /changes staying exact across SMTP delivery, IMAP STORE, POP3
DELE and JMAP itself; what JMAP changes is seen over IMAP."""

import base64
import imaplib
import poplib

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_mail")

ALICE = "alice@hamburger.edu"


def inbox_query(c, **extra):
    inbox = c.mailbox(role="inbox")
    args = {"filter": {"inMailbox": inbox["id"]}, "sort": [{"property": "receivedAt",
                                                             "isAscending": False}]}
    args.update(extra)
    return c.call("Email/query", args)


def find_subject(c, subject):
    r = c.calls([
        ["Email/query", {"accountId": c.account, "filter": {"subject": subject}}, "q"],
        ["Email/get", {"accountId": c.account, "#ids": {"resultOf": "q", "name": "Email/query",
                                                        "path": "/ids"},
                       "properties": ["subject", "mailboxIds", "keywords"]}, "g"]])
    return r[1][1]["list"]


def imap_login(web, user=ALICE):
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(user, web.d.users[user])
    return m


def test_mailboxes(web):
    c = J.Client(web)
    boxes = c.call("Mailbox/get", {"ids": None})["list"]
    roles = {b["role"] for b in boxes}
    assert {"inbox", "sent", "drafts", "trash", "junk", "archive"} <= roles
    inbox = [b for b in boxes if b["role"] == "inbox"][0]
    assert inbox["name"] == "INBOX" and inbox["parentId"] is None
    assert inbox["myRights"]["mayDelete"] is False
    # create a folder and a child, rename, see it over IMAP, destroy
    old = c.call("Mailbox/get", {"ids": []})["state"]
    r = c.call("Mailbox/set", {"create": {"p": {"name": "Projects"},
                                          "k": {"name": "Kitchen", "parentId": "#p"}}})
    assert set(r["created"]) == {"p", "k"}, r
    pid, kid = r["created"]["p"]["id"], r["created"]["k"]["id"]
    got = c.call("Mailbox/get", {"ids": [kid]})["list"][0]
    assert got["name"] == "Kitchen" and got["parentId"] == pid
    ch = c.call("Mailbox/changes", {"sinceState": old})
    assert set(ch["created"]) == {pid, kid} and ch["destroyed"] == []
    r = c.call("Mailbox/set", {"update": {kid: {"name": "Bakery"}}})
    assert kid in r["updated"], r
    m = imap_login(web)
    typ, data = m.list()
    names = b" ".join(data)
    assert b"Projects/Bakery" in names and b"Kitchen" not in names
    m.logout()
    r = c.call("Mailbox/set", {"destroy": [pid]})
    assert r["notDestroyed"][pid]["type"] == "mailboxHasChild"
    r = c.call("Mailbox/set", {"destroy": [kid, pid]})
    assert set(r["destroyed"]) == {kid, pid}, r
    r = c.call("Mailbox/set", {"destroy": [inbox["id"]], "update": {inbox["id"]: {"name": "X"}}})
    assert inbox["id"] in r["notDestroyed"] and inbox["id"] in r["notUpdated"]
    q = c.call("Mailbox/query", {"filter": {"role": "sent"}})
    assert len(q["ids"]) == 1


def test_query_get_bodies_and_headers(web):
    c = J.Client(web)
    body = ("This is a multi-part message.\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 at noon?\r\n--XYZ\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n<p>Caf\xc3\xa9 at <b>noon</b>?</p>\r\n"
            "--XYZ--\r\n")
    J.smtp_deliver(web.d, ALICE, "Lunch plans", body.encode("latin-1").decode("utf-8"),
                   extra="MIME-Version: 1.0\r\nContent-Type: multipart/alternative; "
                         "boundary=XYZ\r\nCc: \"Dave, D.\" <dave@example.org>, eve@example.org\r\n"
                         "X-Custom: =?utf-8?q?caf=C3=A9?=\r\n")
    H.wait_until(lambda: find_subject(c, "Lunch plans"), what="delivery seen by JMAP")
    # RFC 8621 §4.10's example shape: query, then get through a back-reference.
    r = c.calls([
        ["Email/query", {"accountId": c.account, "filter": {"subject": "Lunch plans"},
                         "sort": [{"property": "receivedAt", "isAscending": False}],
                         "limit": 10, "calculateTotal": True}, "t0"],
        ["Email/get", {"accountId": c.account,
                       "#ids": {"resultOf": "t0", "name": "Email/query", "path": "/ids"},
                       "properties": ["threadId", "subject", "from", "cc", "preview",
                                      "textBody", "htmlBody", "bodyValues", "hasAttachment",
                                      "messageId", "sentAt", "receivedAt", "size",
                                      "header:X-Custom:asText", "header:Cc:asAddresses:all",
                                      "header:Subject"],
                       "fetchAllBodyValues": True}, "t1"],
        ["Thread/get", {"accountId": c.account,
                        "#ids": {"resultOf": "t1", "name": "Email/get", "path": "/list/*/threadId"}},
         "t2"],
    ])
    assert r[0][1]["total"] == 1
    e = r[1][1]["list"][0]
    assert e["subject"] == "Lunch plans"
    assert e["from"] == [{"name": "Carol", "email": "carol@example.org"}]
    assert e["cc"] == [{"name": "Dave, D.", "email": "dave@example.org"},
                       {"name": None, "email": "eve@example.org"}]
    assert e["messageId"] == ["Lunch.plans@example.org"]
    assert e["header:X-Custom:asText"] == "caf\u00e9"
    assert e["header:Subject"] == " Lunch plans"
    assert len(e["header:Cc:asAddresses:all"]) == 1
    assert e["preview"] == "Caf\u00e9 at noon?"
    assert e["hasAttachment"] is False
    text_part = e["textBody"][0]["partId"]
    html_part = e["htmlBody"][0]["partId"]
    # the line break before a boundary belongs to the boundary (RFC 2046 §5.1.1)
    assert e["bodyValues"][text_part]["value"] == "Caf\u00e9 at noon?"
    assert "<b>noon</b>" in e["bodyValues"][html_part]["value"]
    assert r[2][1]["list"][0]["emailIds"] == [e["id"]]
    # maxBodyValueBytes cuts on a character boundary and says so
    g = c.call("Email/get", {"ids": [e["id"]], "properties": ["bodyValues"],
                             "fetchTextBodyValues": True, "maxBodyValueBytes": 4})
    v = g["list"][0]["bodyValues"][text_part]
    assert v["isTruncated"] is True and v["value"] == "Caf"
    # Search snippets mark the term
    s = c.call("SearchSnippet/get", {"emailIds": [e["id"]], "filter": {"text": "noon"}})
    assert "<mark>noon</mark>" in s["list"][0]["preview"]
    # An unknown id is notFound, a thread id is not an email id
    g = c.call("Email/get", {"ids": ["e999-1", e["threadId"]], "properties": ["subject"]})
    assert g["notFound"] == ["e999-1", e["threadId"]]


def test_changes_across_smtp_imap_pop3(web):
    c = J.Client(web, "bob@hamburger.edu")
    J.smtp_deliver(web.d, "bob@hamburger.edu", "first one")
    H.wait_until(lambda: find_subject(c, "first one"), what="first delivery")
    s0 = c.state()
    # SMTP delivery -> created
    J.smtp_deliver(web.d, "bob@hamburger.edu", "second one")
    H.wait_until(lambda: c.state() != s0, what="state moves after delivery")
    ch = c.call("Email/changes", {"sinceState": s0})
    second = find_subject(c, "second one")[0]["id"]
    first = find_subject(c, "first one")[0]["id"]
    assert ch["created"] == [second] and ch["updated"] == [] and ch["destroyed"] == []
    s1 = ch["newState"]
    assert c.call("Email/changes", {"sinceState": s1})["created"] == []
    # IMAP STORE -> updated, and the keyword is there
    m = imap_login(web, "bob@hamburger.edu")
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", '"first one"')
    m.store(data[0].split()[0], "+FLAGS", "(\\Flagged)")
    m.logout()
    ch = c.call("Email/changes", {"sinceState": s1})
    assert ch["updated"] == [first] and ch["created"] == [] and ch["destroyed"] == []
    assert find_subject(c, "first one")[0]["keywords"] == {"$flagged": True}
    s2 = ch["newState"]
    # Mailbox counts changed with it: Mailbox/changes says so
    mc = c.call("Mailbox/changes", {"sinceState": s0})
    assert c.mailbox(role="inbox")["id"] in mc["updated"]
    second_thread = c.call("Email/get", {"ids": [second], "properties": ["threadId"]})[
        "list"][0]["threadId"]
    # POP3 DELE -> destroyed
    p = poplib.POP3("127.0.0.1", web.d.pop3_port)
    p.user("bob@hamburger.edu")
    p.pass_(web.d.users["bob@hamburger.edu"])
    n = len(p.list()[1])
    for i in range(1, n + 1):
        if b"second one" in b"\n".join(p.top(i, 0)[1]):
            p.dele(i)
    p.quit()
    ch = c.call("Email/changes", {"sinceState": s2})
    assert ch["destroyed"] == [second] and ch["created"] == [] and ch["updated"] == []
    # Thread/changes follows the same state
    tc = c.call("Thread/changes", {"sinceState": s2})
    assert tc["destroyed"] == [second_thread]
    # maxChanges below the number of changes (one destroyed, two created since s2)
    J.smtp_deliver(web.d, "bob@hamburger.edu", "third one")
    J.smtp_deliver(web.d, "bob@hamburger.edu", "fourth one")
    H.wait_until(lambda: len(c.call("Email/changes", {"sinceState": s2})["created"]) == 2,
                 what="two more deliveries")
    r = c.calls([["Email/changes", {"accountId": c.account, "sinceState": s2, "maxChanges": 1},
                  "x"]])
    assert r[0][1]["type"] == "cannotCalculateChanges"


def test_set_keywords_move_destroy_seen_over_imap(web):
    c = J.Client(web)
    J.smtp_deliver(web.d, ALICE, "Move me")
    H.wait_until(lambda: find_subject(c, "Move me"), what="delivery")
    e = find_subject(c, "Move me")[0]
    old = c.state()
    r = c.call("Email/set", {"ifInState": old, "update": {e["id"]: {"keywords/$seen": True,
                                                                     "keywords/work": True}}})
    assert e["id"] in r["updated"], r
    assert find_subject(c, "Move me")[0]["keywords"] == {"$seen": True, "work": True}
    m = imap_login(web)
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", '"Move me"')
    typ, fl = m.fetch(data[0].split()[0], "(FLAGS)")
    assert b"\\Seen" in fl[0] and b"work" in fl[0]
    # a stale ifInState is refused
    r = c.calls([["Email/set", {"accountId": c.account, "ifInState": old,
                                "update": {e["id"]: {"keywords": {}}}}, "s"]])
    assert r[0][1]["type"] == "stateMismatch"
    # move to Archive: IMAP sees it there
    archive = c.mailbox(role="archive")
    r = c.call("Email/set", {"update": {e["id"]: {"mailboxIds": {archive["id"]: True}}}})
    assert e["id"] in r["updated"], r
    m.select("Archive")
    typ, data = m.search(None, "SUBJECT", '"Move me"')
    assert data[0]
    moved = find_subject(c, "Move me")[0]
    assert moved["mailboxIds"] == {archive["id"]: True}
    # destroy
    r = c.call("Email/set", {"destroy": [moved["id"], "e999-9"]})
    assert r["destroyed"] == [moved["id"]] and "e999-9" in r["notDestroyed"]
    m.select("Archive")
    typ, data = m.search(None, "SUBJECT", '"Move me"')
    assert data == [b""]
    m.logout()


def test_create_draft_with_attachment_import_parse(web):
    c = J.Client(web)
    up = c.upload(b"%PDF-1.4 fake pdf bytes\n", "application/pdf")
    drafts = c.mailbox(role="drafts")
    r = c.call("Email/set", {"create": {"d1": {
        "mailboxIds": {drafts["id"]: True}, "keywords": {"$draft": True, "$seen": True},
        "from": [{"name": "Alice", "email": ALICE}],
        "to": [{"name": "Bob Böhm", "email": "bob@hamburger.edu"}],
        "subject": "Crêpes recipe",
        "textBody": [{"partId": "t", "type": "text/plain"}],
        "bodyValues": {"t": {"value": "See the attached recipe.\nAlice"}},
        "attachments": [{"blobId": up["blobId"], "type": "application/pdf",
                         "name": "recipe.pdf"}]}}})
    assert "d1" in r["created"], r
    eid = r["created"]["d1"]["id"]
    g = c.call("Email/get", {"ids": [eid], "properties": ["subject", "to", "attachments",
                                                          "keywords", "bodyValues", "textBody"],
                             "fetchTextBodyValues": True})["list"][0]
    assert g["subject"] == "Crêpes recipe"
    assert g["to"] == [{"name": "Bob Böhm", "email": "bob@hamburger.edu"}]
    assert g["keywords"] == {"$draft": True, "$seen": True}
    att = g["attachments"][0]
    assert att["name"] == "recipe.pdf" and att["type"] == "application/pdf"
    tp = g["textBody"][0]["partId"]
    assert g["bodyValues"][tp]["value"] == "See the attached recipe.\r\nAlice"
    status, _, data = c.raw("GET", "/jmap/download/%s/%s/r.pdf" % (c.account, att["blobId"]))
    assert status == 200 and data == b"%PDF-1.4 fake pdf bytes\n"
    # IMAP sees the draft with \Draft
    m = imap_login(web)
    m.select("Drafts")
    typ, data = m.search(None, "DRAFT")
    assert data[0]
    m.logout()
    # import a raw message and parse one
    raw = (b"From: Zed <zed@example.net>\r\nTo: alice@hamburger.edu\r\nSubject: Imported\r\n"
           b"Date: Tue, 01 Dec 2026 10:00:00 +0100\r\n\r\nHi.\r\n")
    blob = c.upload(raw, "message/rfc822")
    inbox = c.mailbox(role="inbox")
    r = c.call("Email/import", {"emails": {"i1": {"blobId": blob["blobId"],
                                                  "mailboxIds": {inbox["id"]: True},
                                                  "keywords": {"$seen": True},
                                                  "receivedAt": "2026-12-01T09:00:00Z"}}})
    assert "i1" in r["created"], r
    g = c.call("Email/get", {"ids": [r["created"]["i1"]["id"]],
                             "properties": ["subject", "receivedAt", "sentAt"]})["list"][0]
    assert g["subject"] == "Imported" and g["receivedAt"] == "2026-12-01T09:00:00Z"
    assert g["sentAt"] == "2026-12-01T10:00:00+01:00"
    p = c.call("Email/parse", {"blobIds": [blob["blobId"], "b" + "0" * 32],
                               "properties": ["subject", "from"]})
    assert p["parsed"][blob["blobId"]]["subject"] == "Imported"
    assert p["notFound"] == ["b" + "0" * 32]


def test_submission_local_and_bcc_removed(web):
    c = J.Client(web)
    drafts = c.mailbox(role="drafts")
    sent = c.mailbox(role="sent")
    r = c.calls([
        ["Email/set", {"accountId": c.account, "create": {"m": {
            "mailboxIds": {drafts["id"]: True}, "keywords": {"$draft": True},
            "from": [{"email": ALICE}], "to": [{"email": "bob@hamburger.edu"}],
            "bcc": [{"email": "alice@hamburger.edu"}],
            "subject": "Dinner tonight",
            "textBody": [{"partId": "1", "type": "text/plain"}],
            "bodyValues": {"1": {"value": "At eight?"}}}}}, "a"],
        ["EmailSubmission/set", {"accountId": c.account, "create": {"s": {
            "identityId": "i1", "emailId": "#m"}},
            "onSuccessUpdateEmail": {"#s": {"mailboxIds/" + drafts["id"]: None,
                                            "mailboxIds/" + sent["id"]: True,
                                            "keywords/$draft": None}}}, "b"],
    ])
    assert "m" in r[0][1]["created"], r
    assert "s" in r[1][1]["created"], r[1]
    assert r[2][0] == "Email/set"
    b = J.Client(web, "bob@hamburger.edu")
    H.wait_until(lambda: find_subject(b, "Dinner tonight"), what="Bob gets the mail")
    got = find_subject(b, "Dinner tonight")[0]
    raw = b.call("Email/get", {"ids": [got["id"]], "properties": ["header:Bcc", "bcc"]})
    assert raw["list"][0]["bcc"] is None and raw["list"][0]["header:Bcc"] is None
    # the sender's copy moved from Drafts to Sent
    mine = find_subject(c, "Dinner tonight")
    assert any(e["mailboxIds"] == {sent["id"]: True} for e in mine), mine
    # Identity/get; a From that is not the account is refused
    ids = c.call("Identity/get", {})
    assert ids["list"][0]["email"] == ALICE
    r = c.calls([
        ["Email/set", {"accountId": c.account, "create": {"f": {
            "mailboxIds": {drafts["id"]: True}, "from": [{"email": "mallory@hamburger.edu"}],
            "to": [{"email": "bob@hamburger.edu"}], "subject": "forged"}}}, "a"],
        ["EmailSubmission/set", {"accountId": c.account, "create": {"s": {
            "identityId": "i1", "emailId": "#f"}}}, "b"]])
    assert r[1][1]["notCreated"]["s"]["type"] == "forbiddenFrom"
