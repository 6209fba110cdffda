"""Issue 7, outbound delivery: retries. The remote MX down at first and up later, a remote that
drops the connection after DATA's 354, an MX list whose first host refuses connections, and a
kill -9 of the sending server with messages in its queue.

Alice's pigeond (crepes.fr) sends; the test zones are served by an authoritative pigeond on
127.0.54.1:53 that Alice's [delivery] resolver points at; remote MX hosts listen on port 25 of
their own 127.0.54.x address (pigeonds, or fake_smtp_server.py when a misbehaving remote is
needed).
"""
import threading

import pytest

import delivery_env as E
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

LATER_IP = "127.0.54.12"   # later.test: a pigeond that is down at first
DROP_IP = "127.0.54.14"    # drop.test: a fake server cutting the connection after 354
DEAD_IP = "127.0.54.15"    # nothing listens here: connections are refused
TWO_IP = "127.0.54.16"     # two.test's second MX
CRASH_IP = "127.0.54.17"   # crash.test: a pigeond that is down while Alice is killed

ZONES = {
    "crepes.fr": E.CREPES_ZONE,
    "later.test": E.zone("later.test", f"@ MX 10 mx\nmx A {LATER_IP}"),
    "drop.test": E.zone("drop.test", f"@ MX 10 mx\nmx A {DROP_IP}"),
    "two.test": E.zone("two.test", f"@ MX 20 mx2\n@ MX 10 mx1\nmx1 A {DEAD_IP}\nmx2 A {TWO_IP}"),
    "crash.test": E.zone("crash.test", f"@ MX 10 mx\nmx A {CRASH_IP}"),
}


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    env = E.Env(tmp_path_factory.mktemp("delivery-retry-dns"))
    env.dns(ZONES)
    yield env
    errors = env.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def env(dns, tmp_path):
    e = E.Env(tmp_path)
    yield e
    errors = e.close()
    assert not errors, "\n".join(errors)


def message_ids(node, address):
    out = []
    for m in node.messages(address):
        out += H.header_values(m.data, "Message-ID")
    return out


def test_mx_down_then_up(env):
    later = env.mx("later", LATER_IP, ["later.test"], ["carol@later.test"], start=False)
    alice = env.alice(retry_initial=3600)   # only the flush below brings the retry forward
    alice.submit(["carol@later.test"], E.message("carol@later.test", "down-then-up"))
    entries = E.wait_for(lambda: [q for q in alice.queue_entries() if q["attempts"] >= 1],
                         what="a failed first attempt in `pigeon queue list`")
    assert len(entries) == 1 and entries[0]["rcpt"] == "carol@later.test", entries
    assert entries[0]["state"] == "queued"
    assert "connect" in entries[0]["error"] and LATER_IP in entries[0]["error"], entries
    assert later.messages("carol@later.test") == []

    later.start()
    alice.flush()
    E.wait_for(lambda: later.messages("carol@later.test"), what="delivery after the flush")
    E.wait_for(lambda: not alice.queue_entries(), what="the queue to empty")
    # The delivery's session has ended at the MX and no row is left (no retry is due for an
    # hour): a resend would have had to be in that session.
    later.wait_sessions_closed("smtp")
    assert message_ids(later, "carol@later.test") == ["<down-then-up@crepes.fr>"]
    stored = later.messages("carol@later.test")[0].data
    assert b"Received-SPF: pass" in stored
    assert stored.endswith(b"Hello, this is down-then-up.\r\n.leading dot line\r\n")


@pytest.mark.parametrize("where", ["after 354", "after the data"])
def test_connection_dropped_in_data_is_retried_once(env, where):
    fake = env.fake(DROP_IP, name="mx.drop.test")
    if where == "after 354":
        fake.drop_after_354 = 1
    else:
        fake.drop_after_data = 1   # the whole message sent, then no reply: must be resent
    alice = env.alice(retry_initial=1)
    alice.submit(["dave@drop.test"], E.message("dave@drop.test", "dropped"))
    E.wait_for(lambda: fake.messages, what="the retried delivery")
    E.wait_for(lambda: not alice.queue_entries(), what="the queue to empty")
    # Both sessions over and no row left: nothing more can be sent.
    E.wait_for(lambda: fake.ended == fake.connections, what="the fake's sessions to end")
    assert len(fake.messages) == 1, fake.messages
    frm, rcpts, data = fake.messages[0]
    assert frm.startswith("FROM:<alice@crepes.fr>") and rcpts == ["TO:<dave@drop.test>"]
    assert b"Message-ID: <dropped@crepes.fr>" in data
    assert data.endswith(b"\r\n.leading dot line\r\n")   # dot-stuffing undone by the fake
    assert fake.connections >= 2
    assert fake.commands.count("DATA") == 2, fake.commands
    log = alice.log()
    assert "deferred" in log or "421" in log, log[-3000:]


def test_second_mx_used_when_first_refuses(env):
    fake = env.fake(TWO_IP, name="mx2.two.test")
    alice = env.alice(retry_initial=3600)   # no retry: the first attempt must reach mx2
    alice.submit(["erin@two.test"], E.message("erin@two.test", "two-mx"))
    E.wait_for(lambda: fake.messages, timeout=15, what="delivery to the second MX")
    E.wait_for(lambda: not alice.queue_entries(), what="the queue to empty")
    log = alice.log()
    first = log.find("connect to mx1.two.test[%s]" % DEAD_IP)
    second = log.find("connected to mx2.two.test[%s]" % TWO_IP)
    assert 0 <= first < second, log[-3000:]
    assert "MX 10 mx1.two.test" in log and "MX 20 mx2.two.test" in log
    assert len(fake.messages) == 1


def test_kill9_with_a_full_queue(env):
    """Remote down while Alice queues messages; kill -9 in the middle of the submissions;
    remote up; Alice restarted: every acknowledged message arrives, none twice."""
    crash = env.mx("crash", CRASH_IP, ["crash.test"], ["frank@crash.test"], start=False)
    alice = env.alice(retry_initial=3600)
    acked, stop = [], threading.Event()

    def submitter():
        import smtplib
        try:
            s = smtplib.SMTP("127.0.0.1", alice.sub_port, timeout=30)
            s.starttls(context=H.unverified_context())
            s.login(E.ALICE, E.ALICE_PASSWORD)
            for i in range(10000):
                if stop.is_set():
                    break
                tag = "crash-%d" % i
                s.sendmail(E.ALICE, ["frank@crash.test"], E.message("frank@crash.test", tag))
                acked.append("<%s@crepes.fr>" % tag)
        except (OSError, smtplib.SMTPException):
            pass   # the server died under us

    t = threading.Thread(target=submitter, daemon=True)
    t.start()
    E.wait_for(lambda: len(acked) >= 40, timeout=60, interval=0.05, what="40 acknowledged")
    alice.kill9()
    stop.set()
    t.join(30)
    acked = list(acked)
    entries = alice.queue_entries()   # the CLI reads the store while the daemon is dead
    assert len(entries) >= len(acked), (len(entries), len(acked))
    assert any(q["attempts"] >= 1 for q in entries), entries[:5]

    crash.start()
    alice.start()
    alice.flush()
    E.wait_for(lambda: not alice.queue_entries(), timeout=60, what="the queue to empty")
    crash.wait_sessions_closed("smtp")   # every delivery session over: none still sending
    got = message_ids(crash, "frank@crash.test")
    dupes = sorted({m for m in got if got.count(m) > 1})
    assert not dupes, "delivered twice: %s" % dupes
    missing = sorted(set(acked) - set(got))
    assert not missing, "acknowledged but never delivered: %s" % missing
    assert len(got) == len(entries), (len(got), len(entries))


def test_one_connection_carries_every_message_for_a_domain(env):
    """Messages queued while the MX was down all go over one connection when it is back,
    with PIPELINING; a 4xx for one of them does not stop the others."""
    alice = env.alice(retry_initial=3600)
    for i in range(5):
        alice.submit(["kim@drop.test"], E.message("kim@drop.test", "batch-%d" % i))
    E.wait_for(lambda: len([q for q in alice.queue_entries() if q["attempts"] >= 1]) == 5,
               what="five deferred entries")
    fake = env.fake(DROP_IP, name="mx.drop.test")
    fake.dot_reply = lambda data: ("451 4.3.0 not this one" if b"<batch-2@crepes.fr>" in data
                                   else "250 2.0.0 queued")
    alice.flush()
    E.wait_for(lambda: len(fake.messages) == 4, what="four messages at the remote")
    left = E.wait_for(lambda: [q for q in alice.queue_entries() if q["attempts"] >= 2],
                      what="the refused message deferred again")
    assert len(left) == 1 and left[0]["error"] == "451 4.3.0 not this one", left
    assert fake.connections == 1, fake.connections
    assert sorted(H.header_values(m[2], "Message-ID")[0] for m in fake.messages) == \
        ["<batch-%d@crepes.fr>" % i for i in (0, 1, 3, 4)]
    assert fake.commands[-1] == "QUIT", fake.commands[-3:]
