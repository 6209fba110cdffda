"""Sieve at delivery (issue 18): a user's active script sorts mail into mailboxes with flags,
discards, redirects (SRS to remote domains), rejects (an SMTP 550 when it is the only
recipient, a notice to the sender otherwise), answers with vacation once per sender and
:days, and a failing script keeps the message in INBOX. Scripts are managed with
`pigeon sieve` (errors with line numbers)."""

import imaplib
import re

import pytest

import pigeon_harness as H

PIGEON_CONF = {"imap": {}}
PIGEON_USERS = {"carol@hamburger.edu": "crumbs"}


def msg(subject, to="bob@hamburger.edu", extra=""):
    return ("From: someone@crepes.fr\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@crepes.fr>\r\n"
            "%s\r\nbody of %s\r\n" % (to, subject, re.sub(r"\W", "", subject), extra, subject))


def send(d, rcpts, subject, sender="someone@crepes.fr", extra="", expect="250"):
    with d.smtp() as c:
        reply = c.send_mail(sender, rcpts, msg(subject, rcpts[0], extra))
    assert reply.startswith(expect), reply
    return reply


def subjects(d, address, mailbox="INBOX"):
    return [re.search(rb"Subject: (.*)\r\n", m.data).group(1).decode()
            for m in d.messages(address, mailbox)]


def put(d, user, script, name="main", activate=True):
    d.cli("sieve", "put", user, name, input=script.encode())
    if activate:
        d.cli("sieve", "activate", user, name)


def imap_flags(d, user, password, mailbox, subject):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    try:
        m.login(user, password)
        typ, _ = m.select('"%s"' % mailbox)
        assert typ == "OK"
        typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
        assert typ == "OK" and data[0], (mailbox, subject)
        n = data[0].split()[0]
        typ, data = m.fetch(n, "(FLAGS)")
        flags = re.search(rb"FLAGS \(([^)]*)\)", data[0]).group(1).decode().split()
        return [f for f in flags if f != "\\Recent"]
    finally:
        m.logout()


def create_mailbox(d, user, password, name):
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    try:
        m.login(user, password)
        typ, _ = m.create(name)
        assert typ == "OK"
    finally:
        m.logout()


@pytest.fixture
def bob(daemon):
    yield daemon
    daemon.cli("sieve", "activate", "bob@hamburger.edu")


def test_fileinto_with_flags_and_discard(bob):
    d = bob
    create_mailbox(d, "bob@hamburger.edu", "hungry", "Lists")
    put(d, "bob@hamburger.edu", 'require ["fileinto", "imap4flags"];\n'
        'if header :contains "subject" "[list]" {\n'
        '  fileinto :flags ["\\\\Seen", "$List"] "Lists";\n'
        '} elsif header :contains "subject" "spam" { discard; stop; }\n'
        'addflag "$Sorted";\n')
    send(d, ["bob@hamburger.edu"], "[list] weekly")
    send(d, ["bob@hamburger.edu"], "cheap spam")
    send(d, ["bob@hamburger.edu"], "hello bob")
    assert "[list] weekly" in subjects(d, "bob@hamburger.edu", "Lists")
    inbox = subjects(d, "bob@hamburger.edu")
    assert "[list] weekly" not in inbox and "cheap spam" not in inbox
    assert "hello bob" in inbox
    assert sorted(imap_flags(d, "bob@hamburger.edu", "hungry", "Lists", "weekly")) == \
        ["$List", "\\Seen"]
    assert imap_flags(d, "bob@hamburger.edu", "hungry", "INBOX", "hello bob") == ["$Sorted"]


def test_mailbox_create_and_exists(bob):
    """RFC 5490: fileinto :create makes a missing mailbox (and its parent) in the delivery's
    transaction; without :create a missing one means INBOX; mailboxexists asks the store."""
    d = bob
    put(d, "bob@hamburger.edu", 'require ["fileinto", "mailbox"];\n'
        'if mailboxexists "Auto/made" { fileinto "Auto/made"; stop; }\n'
        'if header :contains "subject" "[new]" { fileinto :create "Auto/made"; stop; }\n'
        'if header :contains "subject" "[nocreate]" { fileinto "Auto/never"; stop; }\n'
        'if header :contains "subject" "[bad]" { fileinto :create "../escape"; }\n')
    send(d, ["bob@hamburger.edu"], "[nocreate] one")
    assert "[nocreate] one" in subjects(d, "bob@hamburger.edu")
    send(d, ["bob@hamburger.edu"], "[bad] two")
    assert "[bad] two" in subjects(d, "bob@hamburger.edu")
    send(d, ["bob@hamburger.edu"], "[new] three")
    assert subjects(d, "bob@hamburger.edu", "Auto/made") == ["[new] three"]
    m = imaplib.IMAP4("127.0.0.1", d.imap_port)
    try:
        m.login("bob@hamburger.edu", "hungry")
        typ, data = m.list('""', "Auto*")
        names = sorted(x.decode().split(' "/" ')[1].strip('"') for x in data)
        assert names == ["Auto", "Auto/made"], data
        assert m.list('""', "Auto/never")[1] == [None]
        assert m.list('""', "*escape*")[1] == [None]
    finally:
        m.logout()
    # now it exists: mailboxexists is true
    send(d, ["bob@hamburger.edu"], "four")
    assert subjects(d, "bob@hamburger.edu", "Auto/made") == ["[new] three", "four"]
    assert "four" not in subjects(d, "bob@hamburger.edu")


def test_other_recipients_unaffected(bob):
    d = bob
    put(d, "bob@hamburger.edu", "discard;")
    send(d, ["bob@hamburger.edu", "alice@hamburger.edu"], "to both")
    assert "to both" in subjects(d, "alice@hamburger.edu")
    assert "to both" not in subjects(d, "bob@hamburger.edu")


def test_failing_script_keeps_in_inbox(bob):
    d = bob
    # valid, but fails at run time: more redirects than the limit
    put(d, "bob@hamburger.edu", "".join('redirect "r%d@example.net";\n' % i for i in range(6)))
    start = d.log_size()
    send(d, ["bob@hamburger.edu"], "still delivered")
    assert "still delivered" in subjects(d, "bob@hamburger.edu")
    d.wait_log(r"sieve .*bob@hamburger\.edu: script \"main\": line 5: too many redirects.*"
               r"kept in INBOX", start=start)
    assert not [r for r in d.queue_rows() if r["rcpt"].startswith("r0@")]
    # fileinto a mailbox that does not exist: INBOX
    put(d, "bob@hamburger.edu", 'require "fileinto"; fileinto "No/Such";')
    send(d, ["bob@hamburger.edu"], "no such mailbox")
    assert "no such mailbox" in subjects(d, "bob@hamburger.edu")


def test_reject(bob):
    d = bob
    put(d, "bob@hamburger.edu", 'require "reject";\n'
        'if header :contains "subject" "offer" { reject "I do not want offers."; }')
    before = len(d.messages("bob@hamburger.edu"))
    # only recipient: the refusal is the SMTP reply, nothing stored
    send(d, ["bob@hamburger.edu"], "great offer", expect="550 5.7.1 I do not want offers.")
    assert len(d.messages("bob@hamburger.edu")) == before
    # with another recipient: accepted, bob gets nothing, the sender gets a notice
    send(d, ["bob@hamburger.edu", "carol@hamburger.edu"], "another offer",
         sender="seller@example.net")
    assert "another offer" in subjects(d, "carol@hamburger.edu")
    assert "another offer" not in subjects(d, "bob@hamburger.edu")
    rows = [r for r in d.queue_rows() if r["rcpt"] == "seller@example.net"]
    assert len(rows) == 1 and rows[0]["sender"] == "", d.queue()
    shown = d.cli("queue", "show", rows[0]["id"]).stdout.decode()
    assert "Message rejected" in shown and "multipart/report" in shown
    # a message that passes the test is delivered
    send(d, ["bob@hamburger.edu"], "nothing to sell")
    assert "nothing to sell" in subjects(d, "bob@hamburger.edu")


def test_redirect_remote_gets_srs(bob):
    d = bob
    put(d, "bob@hamburger.edu", 'redirect "friend@example.net";')
    send(d, ["bob@hamburger.edu"], "pass it on", sender="alice@crepes.fr")
    rows = [r for r in d.queue_rows() if r["rcpt"] == "friend@example.net"]
    assert len(rows) == 1, d.queue()
    assert re.match(r"SRS0=[^=]{4}=[A-Z2-7]{2}=crepes\.fr=alice@hamburger\.edu$",
                    rows[0]["sender"]), rows
    assert "pass it on" not in subjects(d, "bob@hamburger.edu")
    # a redirect to a local user delivers there
    put(d, "bob@hamburger.edu", 'require "copy"; redirect :copy "carol@hamburger.edu";')
    send(d, ["bob@hamburger.edu"], "copy to carol")
    assert "copy to carol" in subjects(d, "carol@hamburger.edu")
    assert "copy to carol" in subjects(d, "bob@hamburger.edu")


def test_vacation_once_per_sender(bob):
    d = bob
    put(d, "bob@hamburger.edu", 'require "vacation";\n'
        'vacation :days 2 :subject "Away until Monday" "I am away.";')
    send(d, ["bob@hamburger.edu"], "first", sender="pal@example.org")
    send(d, ["bob@hamburger.edu"], "second", sender="pal@example.org")
    assert {"first", "second"} <= set(subjects(d, "bob@hamburger.edu"))  # vacation keeps
    rows = [r for r in d.queue_rows() if r["rcpt"] == "pal@example.org"]
    assert len(rows) == 1, d.queue()
    shown = d.cli("queue", "show", rows[0]["id"]).stdout.decode()
    assert "Subject: Away until Monday" in shown and "Auto-Submitted: auto-replied" in shown
    assert "In-Reply-To: <first@crepes.fr>" in shown
    # a local sender gets the reply in its INBOX
    send(d, ["bob@hamburger.edu"], "from alice", sender="alice@hamburger.edu")
    H.wait_until(lambda: "Away until Monday" in subjects(d, "alice@hamburger.edu"),
                 what="vacation reply in alice's INBOX")
    # never to lists or automatic mail
    send(d, ["bob@hamburger.edu"], "list mail", sender="list@example.com",
         extra="List-Id: <l.example.com>\r\n")
    send(d, ["bob@hamburger.edu"], "bounce", sender="")
    assert not [r for r in d.queue_rows() if r["rcpt"] == "list@example.com"]


def test_cli(daemon):
    d = daemon
    r = d.cli("sieve", "check", "-", input=b'require "fileinto";\n\nfileinto "x"\n',
              check=False)
    assert r.returncode != 0
    assert b"line 4: \";\" expected" in r.stderr, r.stderr
    r = d.cli("sieve", "put", "carol@hamburger.edu", "bad", input=b"if true {\nkeep;\n",
              check=False)
    assert r.returncode != 0 and b"line 3" in r.stderr, r.stderr
    d.cli("sieve", "put", "carol@hamburger.edu", "one", input=b"keep;\n")
    d.cli("sieve", "put", "carol@hamburger.edu", "two", input=b"discard;\n")
    d.cli("sieve", "activate", "carol@hamburger.edu", "two")
    out = d.cli("sieve", "list", "carol@hamburger.edu").stdout.decode()
    assert out == "one\t6\ntwo\t9\tactive\n", out
    assert d.cli("sieve", "get", "carol@hamburger.edu", "two").stdout == b"discard;\n"
    r = d.cli("sieve", "delete", "carol@hamburger.edu", "two", check=False)
    assert r.returncode != 0 and b"active" in r.stderr
    d.cli("sieve", "activate", "carol@hamburger.edu")
    d.cli("sieve", "delete", "carol@hamburger.edu", "two")
    out = d.cli("sieve", "list", "carol@hamburger.edu").stdout.decode()
    assert out == "one\t6\n", out
