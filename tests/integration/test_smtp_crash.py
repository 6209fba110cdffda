"""kill -9 in the middle of a load: after a restart every message that got its 250 is in the
mailbox exactly once; the others may or may not be there, never twice."""

import collections
import smtplib
import threading

import pigeon_harness as H

BOB = "bob@hamburger.edu"
THREADS = 6


def message(key, i):
    return ("Message-ID: <%s@test.pigeon>\r\nSubject: %s\r\n\r\n%s\r\n%s" % (
        key, key, key, ("y" * 76 + "\r\n") * (i % 40))).encode()


def run_load(port, round_, acked, attempted, errors, stop, lock):
    def worker(t):
        i = 0
        while not stop.is_set():
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
                    s.ehlo("crash%d.crepes.fr" % t)
                    while not stop.is_set():
                        key = "crash-%d-%d-%d" % (round_, t, i)
                        with lock:
                            attempted.add(key)
                        msg = message(key, i)
                        i += 1
                        s.sendmail("alice@crepes.fr", [BOB], msg)
                        with lock:
                            acked.append(key)
            except (OSError, smtplib.SMTPException) as e:
                if not stop.is_set() and not isinstance(e, (OSError,
                                                            smtplib.SMTPServerDisconnected)):
                    with lock:
                        errors.append("thread %d: %r" % (t, e))
                return  # the daemon died under us
    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
    for th in threads:
        th.start()
    return threads


def stored_ids(daemon):
    c = collections.Counter()
    for m in daemon.messages(BOB):
        ids = H.header_values(m.data, "Message-ID")
        assert len(ids) == 1, (m, m.data[:300])
        c[ids[0].strip("<>").split("@")[0]] += 1
    return c


def check(daemon, acked, attempted):
    stored = stored_ids(daemon)
    twice = {k: v for k, v in stored.items() if v > 1}
    lost = [k for k in acked if stored[k] != 1]
    unknown = set(stored) - attempted
    assert not twice, "stored more than once: %r" % sorted(twice.items())[:10]
    assert not lost, "acknowledged with 250 but missing after kill -9: %d, e.g. %r" % (
        len(lost), lost[:10])
    assert not unknown, unknown
    return stored


def test_kill9_mid_load(daemon):
    acked, attempted, errors, lock = [], set(), [], threading.Lock()
    for round_ in range(2):
        stop = threading.Event()
        threads = run_load(daemon.smtp_port, round_, acked, attempted, errors, stop, lock)
        target = len(acked) + 150
        H.wait_until(lambda: len(acked) >= target or errors,
                     what="150 more messages accepted under load",
                     on_timeout=lambda: "%d accepted" % len(acked))
        assert not errors, errors[:5]
        daemon.kill9()
        stop.set()
        for th in threads:
            th.join(40)
        assert not any(th.is_alive() for th in threads)
        with lock:
            snapshot = list(acked)
        daemon.start()
        stored = check(daemon, snapshot, attempted)
        print("round %d: %d acked, %d stored, %d attempted" % (
            round_, len(snapshot), sum(stored.values()), len(attempted)))

    # Still healthy after the crashes.
    with daemon.smtp() as c:
        assert c.send_mail("alice@crepes.fr", [BOB],
                           b"Message-ID: <after@test.pigeon>\r\n\r\nalive\r\n").code == 250
    assert stored_ids(daemon)["after"] == 1


def test_restart_keeps_mail(daemon):
    before = stored_ids(daemon)
    assert daemon.stop() == 0
    daemon.start()
    assert stored_ids(daemon) == before
