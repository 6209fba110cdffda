"""JMAP threads on Pigeon's store (RFC 8621 §3): conversations from Message-ID, In-Reply-To,
References and the base subject, whoever wrote the messages (SMTP, IMAP APPEND); a thread id
that stays with a message moved over IMAP and across a restart; Thread/get, Thread/changes,
collapseThreads and Email/queryChanges exact across SMTP delivery and IMAP EXPUNGE."""

import imaplib

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_threads")

BOB = "bob@hamburger.edu"


def imap_login(web, user=BOB):
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(user, web.d.users[user])
    return m


def by_subject(c):
    r = c.calls([
        ["Email/query", {"accountId": c.account, "sort": [{"property": "receivedAt"}]}, "q"],
        ["Email/get", {"accountId": c.account, "#ids": {"resultOf": "q", "name": "Email/query",
                                                        "path": "/ids"},
                       "properties": ["subject", "threadId", "mailboxIds"]}, "g"]])
    return {e["subject"]: e for e in r[1][1]["list"]}


def deliver(web, subject, extra=""):
    J.smtp_deliver(web.d, BOB, subject, extra=extra)


def newest_first(c, **extra):
    args = {"sort": [{"property": "receivedAt", "isAscending": False}], "collapseThreads": True}
    args.update(extra)
    return c.call("Email/query", args)


def apply_changes(ids, ch):
    out = [i for i in ids if i not in ch["removed"]]
    for a in sorted(ch["added"], key=lambda a: a["index"]):
        out.insert(a["index"], a["id"])
    return out


def test_conversations(web):
    c = J.Client(web, BOB)
    deliver(web, "Dinner")                                           # Dinner@example.org
    H.wait_until(lambda: "Dinner" in by_subject(c), what="first delivery")
    deliver(web, "Re: Dinner", "In-Reply-To: <Dinner@example.org>\r\n"
                          "References: <Dinner@example.org>\r\n")
    # quotes Dinner's id under a new subject: a conversation of its own
    deliver(web, "Totally different", "In-Reply-To: <Dinner@example.org>\r\n")
    H.wait_until(lambda: len(by_subject(c)) == 3, what="three deliveries")
    # a reply APPENDed over IMAP (a client's Sent copy) joins through References only; the
    # same base subject without a shared id is a conversation of its own
    m = imap_login(web)
    m.append("INBOX", None, None, (
        "From: Bob <bob@hamburger.edu>\r\nTo: carol@example.org\r\nSubject: Fwd: Dinner\r\n"
        "Message-ID: <fwd@hamburger.edu>\r\n\r\nLook.\r\n").encode())
    m.append("INBOX", None, None, (
        "From: Bob <bob@hamburger.edu>\r\nTo: carol@example.org\r\nSubject: RE: Re: Dinner\r\n"
        "Message-ID: <bob-reply@hamburger.edu>\r\n"
        "References: <Dinner@example.org> <Re:.Dinner@example.org>\r\n\r\nYes!\r\n").encode())
    m.logout()
    H.wait_until(lambda: len(by_subject(c)) == 5, what="the IMAP append")
    e = by_subject(c)
    t = e["Dinner"]["threadId"]
    assert e["Re: Dinner"]["threadId"] == t and e["RE: Re: Dinner"]["threadId"] == t
    assert e["Fwd: Dinner"]["threadId"] != t
    assert e["Totally different"]["threadId"] not in (t, e["Fwd: Dinner"]["threadId"])
    th = c.call("Thread/get", {"ids": [t, e["Dinner"]["id"]]})
    assert th["list"] == [{"id": t, "emailIds": [e["Dinner"]["id"], e["Re: Dinner"]["id"],
                                                e["RE: Re: Dinner"]["id"]]}]
    assert th["notFound"] == [e["Dinner"]["id"]]
    # collapseThreads: one entry per conversation, the newest first
    q = newest_first(c, calculateTotal=True)
    assert q["total"] == 3 and q["ids"][0] == e["RE: Re: Dinner"]["id"]
    inbox = c.mailbox(role="inbox")
    assert inbox["totalEmails"] == 5 and inbox["totalThreads"] == 3
    assert inbox["unreadThreads"] == 3


def test_thread_id_stays_with_moves_and_restarts(web):
    c = J.Client(web, BOB)
    e = by_subject(c)
    t = e["Re: Dinner"]["threadId"]
    c.call("Mailbox/set", {"create": {"f": {"name": "Food"}}})
    m = imap_login(web)
    m.select("INBOX")
    typ, data = m.search(None, "HEADER", "Message-ID", "<Re:.Dinner@example.org>")
    assert typ == "OK" and data[0], data
    typ, _ = m.copy(data[0].split()[0], "Food")        # a copy is the same conversation
    assert typ == "OK"
    m.store(data[0].split()[0], "+FLAGS", "(\\Deleted)")
    m.expunge()                                          # ... and so the moved message is
    m.logout()
    moved = [x for x in c.call("Email/get", {"ids": None, "properties": ["subject", "threadId",
                                                                         "mailboxIds"]})["list"]
             if x["subject"] == "Re: Dinner"]
    assert len(moved) == 1 and moved[0]["id"] != e["Re: Dinner"]["id"]
    assert moved[0]["threadId"] == t
    before = {x["id"]: x["threadId"] for x in c.call("Email/get", {"ids": None,
                                                                   "properties": ["threadId"]})["list"]}
    assert web.d.stop() == 0
    web.d.start()
    c = J.Client(web, BOB)
    after = {x["id"]: x["threadId"] for x in c.call("Email/get", {"ids": None,
                                                                  "properties": ["threadId"]})["list"]}
    assert after == before


def test_thread_and_query_changes(web):
    c = J.Client(web, BOB)
    e = by_subject(c)
    q0 = newest_first(c)
    s0 = q0["queryState"]
    assert q0["canCalculateChanges"] is True
    # an SMTP delivery into the Dinner conversation and an IMAP EXPUNGE of "Fwd: Dinner"
    deliver(web, "Re: Re: Dinner", "In-Reply-To: <bob-reply@hamburger.edu>\r\n")
    H.wait_until(lambda: "Re: Re: Dinner" in by_subject(c), what="the reply")
    m = imap_login(web)
    m.select("INBOX")
    typ, data = m.search(None, "HEADER", "Message-ID", "<fwd@hamburger.edu>")
    m.store(data[0].split()[0], "+FLAGS", "(\\Deleted)")
    m.expunge()
    m.logout()
    now = by_subject(c)
    assert now["Re: Re: Dinner"]["threadId"] == e["Dinner"]["threadId"]
    tc = c.call("Thread/changes", {"sinceState": s0})
    assert tc["updated"] == [e["Dinner"]["threadId"]]
    assert tc["destroyed"] == [e["Fwd: Dinner"]["threadId"]] and tc["created"] == []
    # queryChanges brings the old collapsed list to the new one
    ch = c.call("Email/queryChanges", {"sinceQueryState": s0, "collapseThreads": True,
                                       "sort": [{"property": "receivedAt",
                                                 "isAscending": False}]})
    assert ch["oldQueryState"] == s0
    assert apply_changes(q0["ids"], ch) == newest_first(c)["ids"]
    # a state from before a deleted mailbox cannot be compared: the client queries again
    c.call("Mailbox/set", {"destroy": [c.mailbox(name="Food")["id"]],
                           "onDestroyRemoveEmails": True})
    r = c.calls([["Email/queryChanges", {"accountId": c.account, "sinceQueryState": s0}, "x"]])
    assert r[0] == ["error", {"type": "cannotCalculateChanges",
                              "description": r[0][1].get("description")}, "x"]


def test_first_read_of_many_unplaced_messages(web, tmp_path):
    """The first JMAP read of 100 messages imported newest first (uid order is not date
    order): each is placed in its thread and each Email still reads its own file. The rows
    waiting to be placed are sorted oldest first and grow their array past its first size;
    a row that kept a pointer into that array named another row's file, or freed memory."""
    user = "dora@hamburger.edu"
    web.d.add_user(user, "many")
    mbox = tmp_path / "dora.mbox"
    with open(mbox, "w") as f:
        for n in range(100):
            m = 59 - n * 59 // 99  # newest first
            f.write("From x@example.org Fri Jan  2 09:%02d:%02d 2026\n"
                    "From: x@example.org\nTo: %s\nSubject: unplaced %d\n"
                    "Message-ID: <%d.unplaced@example.org>\n\nBody %d.\n\n"
                    % (m, n % 60, user, n, n, n))
    web.d.cli("import", "mbox", str(mbox), user, "INBOX")
    c = J.Client(web, user, "many")
    r = c.calls([
        ["Email/query", {"accountId": c.account, "sort": [{"property": "receivedAt"}]}, "q"],
        ["Email/get", {"accountId": c.account, "#ids": {"resultOf": "q", "name": "Email/query",
                                                        "path": "/ids"},
                       "properties": ["subject", "threadId", "blobId"]}, "g"]])
    got = r[1][1]["list"]
    assert len(got) == 100 and len({e["threadId"] for e in got}) == 100
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(user, "many")
    m.select("INBOX", readonly=True)
    typ, data = m.uid("FETCH", "1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    m.logout()
    imap = {}
    for item in data:
        if isinstance(item, tuple):
            uid = int(item[0].split(b"UID ")[1].split()[0])
            imap[uid] = item[1].decode().split(":", 1)[1].strip()
    for e in got:
        uid = int(e["id"].split("-")[1])
        assert e["subject"] == imap[uid], (e, imap[uid])
