"""JMAP push (RFC 8620 §7.3): the event source sends a StateChange when IMAP, SMTP delivery,
POP3 or JMAP itself changes the account; EmailDelivery only when a message arrived; another
user's changes never reach it; closeafter=state ends the stream after one event; ping events
come at the interval asked for; bad parameters and missing credentials are refused."""

import base64
import imaplib
import json
import poplib
import socket

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_push")

ALICE = "alice@hamburger.edu"
BOB = "bob@hamburger.edu"


class EventStream:
    """An event source read over a raw socket (HTTP/1.1, chunked), one event at a time."""

    def __init__(self, web, query, user=ALICE, password=None):
        password = password or web.d.users[user]
        tok = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        self.sock = socket.create_connection(("127.0.0.1", web.port), timeout=H.WAIT_TIMEOUT)
        self.sock.sendall(("GET /jmap/eventsource/?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Accept: text/event-stream\r\nAuthorization: Basic %s\r\n\r\n"
                           % (query, tok)).encode())
        self.raw = b""
        self.text = b""
        self.ended = False
        while b"\r\n\r\n" not in self.raw:
            self._recv()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])
        self.head = head.decode()

    def _recv(self):
        data = self.sock.recv(65536)
        assert data, "the server closed the event stream"
        self.raw += data

    def _dechunk(self):
        while not self.ended:
            line, sep, rest = self.raw.partition(b"\r\n")
            if not sep:
                return
            size = int(line, 16)
            if len(rest) < size + 2:
                return
            self.text += rest[:size]
            self.raw = rest[size + 2:]
            if size == 0:
                self.ended = True

    def block(self):
        """The next block of the stream (an event or a comment), as text."""
        self._dechunk()
        while b"\n\n" not in self.text:
            assert not self.ended, "the stream ended"
            self._recv()
            self._dechunk()
        block, self.text = self.text.split(b"\n\n", 1)
        return block.decode()

    def event(self):
        """The next event, skipping comments: (name, parsed data)."""
        while True:
            lines = [ln for ln in self.block().split("\n") if not ln.startswith(":")]
            if lines:
                fields = dict(ln.split(": ", 1) for ln in lines)
                return fields["event"], json.loads(fields["data"])

    def wait_end(self):
        self._dechunk()
        while not self.ended:
            self._recv()
            self._dechunk()

    def close(self):
        self.sock.close()


def open_stream(web, query, user=ALICE):
    es = EventStream(web, query, user)
    assert es.status == 200, es.head
    assert "text/event-stream" in es.head
    assert es.block().startswith(":")  # the opening comment: the baseline is taken
    return es


def find_id(c, subject):
    ids = c.call("Email/query", {"filter": {"subject": subject}})["ids"]
    return ids[0] if ids else None


def test_state_changes_from_imap_smtp_pop3(web):
    c = J.Client(web)
    J.smtp_deliver(web.d, ALICE, "push base")
    H.wait_until(lambda: find_id(c, "push base"), what="delivery seen by JMAP")
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(ALICE, web.d.users[ALICE])
    m.select("INBOX")
    before = c.state()
    es = open_stream(web, "types=*&closeafter=no&ping=0")
    try:
        # IMAP STORE: Email, Mailbox and Thread moved, no EmailDelivery
        m.store("1:*", "+FLAGS", "(\\Flagged)")
        name, ev = es.event()
        assert name == "state" and ev["@type"] == "StateChange", ev
        changed = ev["changed"][c.account]
        assert set(changed) == {"Mailbox", "Email", "Thread"}, ev
        ch = c.call("Email/changes", {"sinceState": before})
        assert find_id(c, "push base") in ch["updated"] and ch["newState"] == changed["Email"]
        # SMTP delivery: EmailDelivery too
        J.smtp_deliver(web.d, ALICE, "push second")
        name, ev = es.event()
        assert "EmailDelivery" in ev["changed"][c.account], ev
        m.logout()
        # POP3 DELE of the first message at QUIT
        p = poplib.POP3("127.0.0.1", web.d.pop3_port)
        p.user(ALICE)
        p.pass_(web.d.users[ALICE])
        p.dele(1)
        p.quit()
        name, ev = es.event()
        assert set(ev["changed"][c.account]) == {"Mailbox", "Email", "Thread"}, ev
        # JMAP's own write
        cur = ev["changed"][c.account]["Email"]
        second = find_id(c, "push second")
        c.call("Email/set", {"update": {second: {"keywords/$seen": True}}})
        name, ev = es.event()
        ch = c.call("Email/changes", {"sinceState": cur})
        assert ch["updated"] == [second] and ch["newState"] == ev["changed"][c.account]["Email"]
    finally:
        es.close()


def test_other_users_changes_stay_out(web):
    ca, cb = J.Client(web), J.Client(web, BOB)
    J.smtp_deliver(web.d, ALICE, "alice own")
    H.wait_until(lambda: find_id(ca, "alice own"), what="delivery to alice")
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(ALICE, web.d.users[ALICE])
    m.select("INBOX")
    es = open_stream(web, "types=Email,EmailDelivery&closeafter=no&ping=0")
    try:
        J.smtp_deliver(web.d, BOB, "for bob only")
        H.wait_until(lambda: find_id(cb, "for bob only"), what="delivery to bob")
        m.store("1:*", "+FLAGS", "(\\Answered)")
        m.logout()
        # The first event is alice's flag change: Email only (the types asked), and no
        # EmailDelivery, so bob's delivery did not reach this stream.
        name, ev = es.event()
        assert list(ev["changed"]) == [ca.account]
        assert set(ev["changed"][ca.account]) == {"Email"}, ev
    finally:
        es.close()


def test_closeafter_state_and_ping(web):
    c = J.Client(web)
    es = open_stream(web, "types=Mailbox&closeafter=state&ping=1")
    try:
        name, ev = es.event()
        assert name == "ping" and ev == {"interval": 1}
        r = c.call("Mailbox/set", {"create": {"n": {"name": "Pushed"}}})
        assert "n" in r["created"], r
        while True:
            name, ev = es.event()
            if name == "state":
                break
            assert name == "ping"
        assert set(ev["changed"][c.account]) == {"Mailbox"}
        es.wait_end()  # closeafter=state: the body ends after the state event
    finally:
        es.close()


def test_refusals(web):
    c = J.Client(web)
    session = c.session
    assert session["eventSourceUrl"].endswith(
        "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}")
    es = EventStream(web, "types=*&closeafter=maybe&ping=0")
    assert es.status == 400
    es.close()
    es = EventStream(web, "types=*&closeafter=no&ping=-5")
    assert es.status == 400
    es.close()
    es = EventStream(web, "types=*&closeafter=no&ping=0", password="wrong")
    assert es.status == 401
    es.close()
    status, _, _ = c.raw("POST", "/jmap/eventsource/", b"")
    assert status == 405


LEFT_OPEN = []


def test_stream_left_open_at_shutdown(web):
    """Runs last: a stream stays open when the module's daemon is stopped; the fixture's
    teardown then requires pigeond to exit 0 within its wait, so a waiting event stream
    must end at shutdown instead of holding the worker."""
    es = open_stream(web, "types=*&closeafter=no&ping=0")
    LEFT_OPEN.append(es)
    assert not es.ended
