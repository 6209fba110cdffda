"""1,000 messages over 10 parallel connections: every one stored exactly once."""

import collections
import smtplib
import threading
import time

import pigeon_harness as H

BOB = "bob@hamburger.edu"
THREADS = 10
PER_THREAD = 100
TIME_LIMIT = 150  # seconds, generous for ASan on 2 cores


def message(t, i):
    return ("Message-ID: <load-%d-%d@test.pigeon>\r\nSubject: load %d/%d\r\n"
            "From: alice@crepes.fr\r\nTo: bob@hamburger.edu\r\n\r\n"
            "message %d of thread %d\r\n%s\r\n" % (t, i, t, i, i, t, "x" * (i % 50))).encode()


def test_thousand_messages(daemon):
    assert daemon.messages(BOB) == []
    errors = []
    sent = collections.Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_LIMIT

    def worker(t):
        try:
            with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=60) as s:
                s.ehlo("load%d.crepes.fr" % t)
                for i in range(PER_THREAD):
                    if time.monotonic() > deadline:
                        raise TimeoutError("out of time at %d" % i)
                    assert s.sendmail("alice@crepes.fr", [BOB], message(t, i)) == {}
                    with lock:
                        sent["load-%d-%d" % (t, i)] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            with lock:
                errors.append("thread %d: %r" % (t, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(TIME_LIMIT + 30)
    elapsed = time.monotonic() - t0
    assert not any(th.is_alive() for th in threads), "senders hung"
    assert not errors, errors[:5]
    assert len(sent) == THREADS * PER_THREAD

    stored = collections.Counter()
    msgs = daemon.messages(BOB)
    uids = [m.uid for m in msgs]
    assert uids == sorted(set(uids)), "uids not unique/ascending"
    for m in msgs:
        ids = H.header_values(m.data, "Message-ID")
        assert len(ids) == 1, (m, ids)
        stored[ids[0].strip("<>").split("@")[0]] += 1
    dups = {k: v for k, v in stored.items() if v != 1}
    missing = set(sent) - set(stored)
    extra = set(stored) - set(sent)
    assert not dups and not missing and not extra, (
        "dups %r, missing %d %r, extra %r" % (list(dups.items())[:5], len(missing),
                                              sorted(missing)[:5], sorted(extra)[:5]))
    assert sum(stored.values()) == THREADS * PER_THREAD
    print("1000 messages in %.1fs (%.0f msg/s)" % (elapsed, 1000 / elapsed))


def test_many_concurrent_sessions(daemon):
    # 40 sessions open at once (under max_connections_per_ip), each sends 5 messages.
    before = daemon.messages(BOB)
    n, per = 40, 5
    errors, barrier = [], threading.Barrier(n)

    def worker(t):
        try:
            with smtplib.SMTP("127.0.0.1", daemon.smtp_port, timeout=60) as s:
                s.ehlo("conc%d.crepes.fr" % t)
                barrier.wait(30)
                for i in range(per):
                    s.sendmail("alice@crepes.fr", [BOB],
                               b"Message-ID: <conc-%d-%d@test.pigeon>\r\n\r\nx\r\n" % (t, i))
        except Exception as e:  # noqa: BLE001
            errors.append("thread %d: %r" % (t, e))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not errors, errors[:5]
    new = daemon.new_messages(before, BOB)
    ids = sorted(H.header_values(m.data, "Message-ID")[0] for m in new)
    assert ids == sorted("<conc-%d-%d@test.pigeon>" % (t, i) for t in range(n)
                         for i in range(per))
