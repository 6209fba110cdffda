"""kill -9 right after a STORE or an EXPUNGE got its tagged OK, under a load of APPENDs, flag
changes and expunges from several sessions (issue 18, the relaxed commit of 37ef185).

Flag changes, expunges and \\Recent claims commit without a WAL fsync of their own
(store/imap_writer.h): they must survive a crash of the process like everything else, and
only a power failure may undo the last of them (docs/config.md, [imap]). After each crash and
restart: every acknowledged APPEND is there once, under the UID its APPENDUID gave, with its
text; every acknowledged flag change is there; every acknowledged expunge is gone; the
mailbox's HIGHESTMODSEQ and UIDNEXT never go back (no UID is given twice); the database passes
SQLite's integrity check. Only the one command in flight per session when the daemon died may
have landed or not. (tests/unit/test_imap_writer.c checks that APPEND's batches keep their
fsync: the part a kill -9 cannot show.)"""

import re
import sqlite3
import threading
from pathlib import Path

import pigeon_harness as H
from imap_helpers import RawIMAP, imap, make_msg

PIGEON_CONF = {"imap": {}}
BOX = "Crash"
SEEDS = 80
FLAG_SETS = ["()", "(\\Seen)", "(\\Flagged $Crash1)", "(\\Seen \\Answered $Crash2)"]
APPENDUID = re.compile(r"\[APPENDUID (\d+) (\d+)\]")
MODSEQ = re.compile(rb"MODSEQ \((\d+)\)")


class Load:
    """The shared record of what was sent and what was acknowledged."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.errors = []
        self.appended = {}        # key -> uid, acknowledged
        self.append_inflight = set()
        self.flags = {}           # uid -> flag set acknowledged
        self.flag_inflight = {}   # uid -> flag set sent, not yet acknowledged
        self.stores = 0
        self.expunged = set()     # uids, acknowledged
        self.expunge_inflight = set()
        self.expunges = 0
        self.max_modseq = 0
        self.kill_after = None    # "STORE" or "EXPUNGE": the next such OK kills the daemon
        self.killed = threading.Event()

    def maybe_kill(self, what):
        """Called right after an OK was read: kill -9 now if this is the command asked for."""
        with self.lock:
            if self.kill_after != what or self.killed.is_set():
                return
            self.killed.set()
        self.daemon.kill9()

    def fail(self, text):
        with self.lock:
            self.errors.append(text)


def session(load):
    c = RawIMAP(load.daemon.imap_port)
    c.login()
    c.ok("ENABLE CONDSTORE")
    c.ok("SELECT %s" % BOX)
    return c


def flagger(load, uids, t):
    try:
        c = session(load)
        i = t
        while not load.stop.is_set():
            uid = uids[i % len(uids)]
            flags = FLAG_SETS[i % len(FLAG_SETS)]
            i += 1
            with load.lock:
                load.flag_inflight[uid] = flags
            tagged, untagged = c.cmd("UID STORE %d FLAGS %s" % (uid, flags))
            if " OK" not in tagged:
                return load.fail("STORE %d: %s" % (uid, tagged))
            with load.lock:
                load.flags[uid] = flags
                del load.flag_inflight[uid]
                load.stores += 1
                for ln in untagged:
                    m = MODSEQ.search(ln)
                    if m:
                        load.max_modseq = max(load.max_modseq, int(m.group(1)))
            load.maybe_kill("STORE")
    except (OSError, H.Closed):
        pass  # the daemon died under us


def expunger(load, uids):
    try:
        c = session(load)
        for uid in uids:
            if load.stop.is_set():
                return
            with load.lock:
                load.expunge_inflight.add(uid)
            tagged, _ = c.cmd("UID STORE %d +FLAGS.SILENT (\\Deleted)" % uid)
            if " OK" in tagged:
                tagged, _ = c.cmd("UID EXPUNGE %d" % uid)
            if " OK" not in tagged:
                return load.fail("expunge %d: %s" % (uid, tagged))
            with load.lock:
                load.expunged.add(uid)
                load.expunge_inflight.discard(uid)
                load.expunges += 1
            load.maybe_kill("EXPUNGE")
    except (OSError, H.Closed):
        pass


def appender(load, round_, t):
    try:
        c = RawIMAP(load.daemon.imap_port)
        c.login()
        i = 0
        while not load.stop.is_set():
            key = "crash-%d-%d-%d" % (round_, t, i)
            i += 1
            data = make_msg(key, body=("%s\r\n" % key) * (1 + i % 30))
            with load.lock:
                load.append_inflight.add(key)
            tagged, _ = c.cmd(b"APPEND %s {%d+}\r\n" % (BOX.encode(), len(data)) + data)
            m = APPENDUID.search(tagged)
            if not m:
                return load.fail("APPEND %s: %s" % (key, tagged))
            with load.lock:
                load.appended[key] = int(m.group(2))
                load.append_inflight.discard(key)
    except (OSError, H.Closed):
        pass


def mailbox_state(daemon):
    """{uid: (subject, flags without \\Recent)}, HIGHESTMODSEQ, UIDNEXT."""
    c = RawIMAP(daemon.imap_port)
    c.login()
    c.ok("ENABLE CONDSTORE")
    untagged = c.ok("SELECT %s" % BOX)
    text = b"".join(untagged)
    highest = int(re.search(rb"HIGHESTMODSEQ (\d+)", text).group(1))
    uidnext = int(re.search(rb"UIDNEXT (\d+)", text).group(1))
    state = {}
    for ln in c.ok("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])"):
        if b" FETCH " not in ln:
            continue
        uid = int(re.search(rb"UID (\d+)", ln).group(1))
        flags = set(re.search(rb"FLAGS \(([^)]*)\)", ln).group(1).decode().split())
        subject = re.search(rb"Subject: ([^\r\n]*)", ln).group(1).decode()
        state[uid] = (subject, flags - {"\\Recent"})
    c.ok("LOGOUT")
    c.close()
    return state, highest, uidnext


def flag_set(text):
    return set(text.strip("()").split())


def check(load, state, highest, uidnext, seeds):
    by_subject = {}
    for uid, (subject, _) in state.items():
        by_subject.setdefault(subject, []).append(uid)
    for key, uid in load.appended.items():
        assert by_subject.get(key) == [uid], "APPEND %s acknowledged as UID %d, now %r" % (
            key, uid, by_subject.get(key))
    known = set(load.appended) | load.append_inflight | set(seeds)
    unknown = set(by_subject) - known
    assert not unknown, "messages nobody appended: %r" % sorted(unknown)[:5]
    for uid, flags in load.flags.items():
        if uid in load.flag_inflight:
            assert state[uid][1] in (flag_set(flags), flag_set(load.flag_inflight[uid])), (
                uid, state[uid], flags, load.flag_inflight[uid])
        else:
            assert state[uid][1] == flag_set(flags), "UID %d acknowledged %s, now %r" % (
                uid, flags, state[uid][1])
    back = load.expunged & set(state)
    assert not back, "acknowledged expunges undone: %r" % sorted(back)
    for subject, uid in seeds.items():  # the seeds nobody expunged are all there
        if uid not in load.expunged and uid not in load.expunge_inflight:
            assert uid in state and state[uid][0] == subject, (uid, subject)
    assert highest >= load.max_modseq, "HIGHESTMODSEQ %d went back below %d" % (
        highest, load.max_modseq)
    top = max(list(load.appended.values()) + list(seeds.values()))
    assert uidnext > top, "UIDNEXT %d, but UID %d was given" % (uidnext, top)


def integrity(daemon):
    db = sqlite3.connect("file:%s?mode=ro" % (Path(daemon.data_dir) / "pigeon.db"), uri=True)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def run_round(daemon, load, round_, seeds, kill_after):
    flag_uids = sorted(seeds.values())[:20]
    expunge_uids = sorted(seeds.values())[20:]
    if round_:
        expunge_uids = [u for u in expunge_uids if u not in load.expunged]
    threads = [threading.Thread(target=flagger, args=(load, flag_uids[t::2], t), daemon=True)
               for t in range(2)]
    threads.append(threading.Thread(target=expunger, args=(load, expunge_uids), daemon=True))
    threads += [threading.Thread(target=appender, args=(load, round_, t), daemon=True)
                for t in range(2)]
    stores, expunges, appends = load.stores + 40, load.expunges + 5, len(load.appended) + 8
    for th in threads:
        th.start()
    H.wait_until(lambda: load.errors or (load.stores >= stores and load.expunges >= expunges
                                         and len(load.appended) >= appends),
                 what="STOREs, EXPUNGEs and APPENDs acknowledged under load",
                 on_timeout=lambda: "%d stores, %d expunges, %d appends" % (
                     load.stores, load.expunges, len(load.appended)))
    assert not load.errors, load.errors[:5]
    with load.lock:
        load.kill_after = kill_after
    H.wait_until(load.killed.is_set, what="kill -9 right after a %s's OK" % kill_after)
    load.stop.set()
    for th in threads:
        th.join(H.IO_TIMEOUT + 10)
    assert not any(th.is_alive() for th in threads)
    assert not daemon.running
    assert not load.errors, load.errors[:5]
    daemon.start()


def test_kill9_after_store_and_expunge(daemon):
    m = imap(daemon)
    m.create(BOX)
    seeds = {}
    for i in range(SEEDS):
        typ, data = m.append(BOX, None, None, make_msg("seed-%d" % i))
        seeds["seed-%d" % i] = int(APPENDUID.search(data[0].decode()).group(2))
    m.logout()

    load = Load(daemon)
    for round_, what in enumerate(["STORE", "EXPUNGE"]):
        load.stop.clear()
        load.killed.clear()
        load.kill_after = None
        run_round(daemon, load, round_, seeds, what)
        state, highest, uidnext = mailbox_state(daemon)
        check(load, state, highest, uidnext, seeds)
        assert integrity(daemon) == "ok"
        # What was in flight is settled now: the next round starts from what is stored.
        for uid, flags in list(load.flag_inflight.items()):
            load.flags[uid] = "(%s)" % " ".join(sorted(state[uid][1]))
        load.flag_inflight.clear()
        load.expunged |= {u for u in load.expunge_inflight if u not in state}
        load.expunge_inflight.clear()
        print("round %d (kill after %s): %d stores, %d expunges, %d appends acknowledged" % (
            round_, what, load.stores, load.expunges, len(load.appended)))

    # Still a working server: a new APPEND gets a UID above every one given before.
    m = imap(daemon)
    typ, data = m.append(BOX, None, None, make_msg("after"))
    new = int(APPENDUID.search(data[0].decode()).group(2))
    assert new > max(list(load.appended.values()) + list(seeds.values()))
    m.logout()
