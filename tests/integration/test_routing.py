"""Routing of local addresses over SMTP (issue 18): aliases to several local users and remote
addresses, a domain's catch-all, the RFC 2142 role addresses, per-user forwarding with and
without a kept copy, SRS senders on forwarded copies and the SRS bounce path back, and mail
loops (a forward meeting its own Delivered-To:, too many Received: fields) refused with 554
5.4.6. Administered with `pigeon alias` and `pigeon forward`."""

import re

import pytest

import pigeon_harness as H

PIGEON_USERS = {"carol@hamburger.edu": "crumbs"}


def msg(subject, extra=""):
    return ("From: alice@crepes.fr\r\nTo: someone\r\nSubject: %s\r\n%s\r\nbody of %s\r\n"
            % (subject, extra, subject))


def subjects(daemon, address):
    return [re.search(rb"Subject: (.*)\r\n", m.data).group(1).decode()
            for m in daemon.messages(address)]


def send(daemon, rcpts, subject, sender="alice@crepes.fr", extra=""):
    with daemon.smtp() as c:
        reply = c.send_mail(sender, rcpts, msg(subject, extra))
    assert reply.startswith("250"), reply
    return reply


def queued_for(daemon, rcpt):
    return [r for r in daemon.queue_rows() if r["rcpt"] == rcpt]


@pytest.fixture(scope="module")
def routed(daemon):
    daemon.cli("alias", "add", "team@hamburger.edu", "bob@hamburger.edu", "carol@hamburger.edu")
    daemon.cli("alias", "add", "sales@hamburger.edu", "team@hamburger.edu",
               "partner@example.net")
    return daemon


def test_alias_to_local_users_and_remote(routed):
    d = routed
    send(d, ["team@hamburger.edu"], "to the team")
    assert "to the team" in subjects(d, "bob@hamburger.edu")
    assert "to the team" in subjects(d, "carol@hamburger.edu")
    send(d, ["Sales+q3@Hamburger.edu"], "to sales")
    assert "to sales" in subjects(d, "bob@hamburger.edu")
    assert "to sales" in subjects(d, "carol@hamburger.edu")
    rows = queued_for(d, "partner@example.net")
    assert len(rows) == 1, d.queue()
    # the forwarded copy's sender is rewritten into our domain (SRS)
    assert re.match(r"SRS0=[^=]{4}=[A-Z2-7]{2}=crepes\.fr=alice@hamburger\.edu$",
                    rows[0]["sender"]), rows
    out = d.cli("alias", "list").stdout.decode()
    assert "sales@hamburger.edu\tpartner@example.net\n" in out
    assert "team@hamburger.edu\tcarol@hamburger.edu\n" in out


def test_unknown_and_catch_all(daemon):
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<nobody@hamburger.edu>", "550 5.1.1")
    daemon.cli("alias", "add", "@hamburger.edu", "carol@hamburger.edu")
    try:
        send(daemon, ["nobody@hamburger.edu"], "caught")
        assert "caught" in subjects(daemon, "carol@hamburger.edu")
        assert "caught" not in subjects(daemon, "bob@hamburger.edu")
    finally:
        daemon.cli("alias", "del", "@hamburger.edu")
    with daemon.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<alice@crepes.fr>", "250")
        c.expect("RCPT TO:<nobody@hamburger.edu>", "550 5.1.1")


def test_rfc2142_roles_reach_postmaster(daemon):
    # the harness makes alice@hamburger.edu the [server] postmaster
    for role in ("abuse", "hostmaster", "webmaster", "security", "postmaster"):
        send(daemon, ["%s@hamburger.edu" % role], "role " + role)
        assert "role " + role in subjects(daemon, "alice@hamburger.edu")


def test_forward_without_and_with_copy(daemon):
    d = daemon
    d.cli("forward", "carol@hamburger.edu", "carol@example.org")
    assert d.cli("forward", "carol").stdout.decode() == \
        "carol@hamburger.edu\tcarol@example.org\n"
    send(d, ["carol@hamburger.edu"], "forwarded only")
    assert "forwarded only" not in subjects(d, "carol@hamburger.edu")
    rows = queued_for(d, "carol@example.org")
    assert len(rows) == 1 and rows[0]["sender"].startswith("SRS0="), d.queue()
    shown = d.cli("queue", "show", rows[0]["id"]).stdout.decode()
    assert "Delivered-To: carol@hamburger.edu" in shown, shown
    d.cli("forward", "carol@hamburger.edu", "carol@example.org", "+keep")
    send(d, ["carol@hamburger.edu"], "forwarded and kept")
    assert "forwarded and kept" in subjects(d, "carol@hamburger.edu")
    assert len(queued_for(d, "carol@example.org")) == 2
    # the null sender stays null on a forwarded bounce
    send(d, ["carol@hamburger.edu"], "a bounce", sender="")
    assert [r for r in queued_for(d, "carol@example.org") if r["sender"] == ""], d.queue()
    d.cli("forward", "carol@hamburger.edu", "off")
    assert d.cli("forward", "carol").stdout == b""
    send(d, ["carol@hamburger.edu"], "not forwarded")
    assert "not forwarded" in subjects(d, "carol@hamburger.edu")
    assert len(queued_for(d, "carol@example.org")) == 3


def test_forwarding_loop_refused(daemon):
    d = daemon
    d.cli("forward", "bob@hamburger.edu", "bob@example.org", "+keep")
    try:
        with d.smtp() as c:
            reply = c.send_mail("x@example.org", ["bob@hamburger.edu"],
                                msg("came back", "Delivered-To: bob@hamburger.edu\r\n"))
        assert reply.startswith("554 5.4.6"), reply
        assert "came back" not in subjects(d, "bob@hamburger.edu")
    finally:
        d.cli("forward", "bob@hamburger.edu", "off")
    hops = "".join("Received: from h%d by h%d; Mon, 7 Jul 2025 10:00:00 +0000\r\n" % (i, i + 1)
                   for i in range(51))
    with d.smtp() as c:
        reply = c.send_mail("x@example.org", ["bob@hamburger.edu"], msg("too many hops", hops))
    assert reply.startswith("554 5.4.6"), reply
    hops = hops.split("\r\n", 2)[2]  # 49 + our own Received: = 50 is still fine
    send(d, ["bob@hamburger.edu"], "enough hops", extra=hops)
    assert "enough hops" in subjects(d, "bob@hamburger.edu")


def test_srs_bounce_returns_to_original_sender(routed):
    d = routed
    send(d, ["sales@hamburger.edu"], "for the bounce", sender="orig@sender.example")
    srs = [r["sender"] for r in queued_for(d, "partner@example.net")
           if "sender.example" in r["sender"]]
    assert srs, d.queue()
    # the partner's MTA bounces to the SRS address: it is relayed to the original sender
    send(d, [srs[0]], "the bounce", sender="")
    assert queued_for(d, "orig@sender.example"), d.queue()
    # forged or unknown SRS addresses are refused (no open relay through SRS)
    local, dom = srs[0].split("@")
    forged = "SRS0=####" + local[9:] + "@" + dom
    with d.smtp() as c:
        c.ehlo()
        c.expect("MAIL FROM:<>", "250")
        c.expect("RCPT TO:<%s>" % forged, "550 5.1.1")
        c.expect("RCPT TO:<SRS0=abcd=AB=x.y=z@hamburger.edu>", "550 5.1.1")


def test_alias_cli_errors(daemon):
    p = daemon.cli("alias", "add", "x@not-local.example", "bob@hamburger.edu", check=False)
    assert p.returncode == 1 and b"not in a local domain" in p.stderr
    p = daemon.cli("alias", "del", "never@hamburger.edu", check=False)
    assert p.returncode == 1 and b"no such alias" in p.stderr
    p = daemon.cli("forward", "nosuchuser@hamburger.edu", "a@b.c", check=False)
    assert p.returncode == 1 and b"no such user" in p.stderr
    p = daemon.cli("alias", "add", "team@hamburger.edu", check=False)
    assert p.returncode == 2
