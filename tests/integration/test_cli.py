"""Integration tests of the `pigeon` admin CLI: the real binary against a temporary config and
data directory. Messages and queue entries are seeded straight into the SQLite store (schema
version 1, src/store/schema.c) so `mail` and `queue` are tested without a running pigeond.

Run: PIGEON_BUILD=$PWD/build/asan /usr/bin/python3 -m pytest -q tests/integration/test_cli.py
"""

import ctypes
import ctypes.util
import os
import pty
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

import pigeon_harness as H

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PIGEON_BUILD", REPO / "build" / "asan"))
PIGEON = BUILD / "pigeon"

# A sanitizer report must never hide behind an expected exit status of 1.
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:exitcode=86",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
}


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "PIGEON_CONF"}
    env.update(SAN_ENV)
    env.update(extra)
    return env


def check_sanitizers(stderr):
    assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr


class Pigeon:
    """Runs the binary with -c CONF; returns CompletedProcess with text output."""

    def __init__(self, conf, data):
        self.conf = conf
        self.data = data

    def raw(self, *args, stdin="", env=None):
        if not PIGEON.exists():
            pytest.fail(f"{PIGEON} is not built (set PIGEON_BUILD)")
        p = subprocess.run([str(PIGEON), *args], input=stdin.encode(), capture_output=True,
                           env=env or base_env(), timeout=60)
        p.stdout_b = p.stdout
        p.stdout = p.stdout.decode(errors="replace")
        p.stderr = p.stderr.decode(errors="replace")
        check_sanitizers(p.stderr)
        return p

    def __call__(self, *args, stdin=""):
        return self.raw("-c", str(self.conf), *args, stdin=stdin)

    def ok(self, *args, stdin=""):
        p = self(*args, stdin=stdin)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    def fail(self, *args, stdin="", contains=""):
        """A runtime error: exit 1, one "pigeon: ..." message, nothing on stdout."""
        p = self(*args, stdin=stdin)
        assert p.returncode == 1, (args, p.returncode, p.stdout, p.stderr)
        assert p.stderr.startswith("pigeon: "), p.stderr
        assert contains.lower() in p.stderr.lower(), p.stderr
        assert p.stdout == ""
        return p.stderr

    def usage(self, *args):
        """A usage error: exit 2, a usage text on stderr, nothing on stdout."""
        p = self(*args)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        assert "usage: pigeon" in p.stderr
        assert p.stdout == ""
        return p.stderr

    def db(self):
        return sqlite3.connect(self.data / "pigeon.db", timeout=10)


def write_conf(path, data_dir, extra=""):
    path.write_text(
        "[server]\n"
        "hostname = mail.hamburger.edu\n"
        "primary_domain = Hamburger.EDU\n"
        f"data_dir = {data_dir}\n"
        f"{extra}"
    )


@pytest.fixture
def pg(tmp_path):
    data = tmp_path / "data"
    conf = tmp_path / "pigeon.conf"
    write_conf(conf, data)
    return Pigeon(conf, data)


@pytest.fixture
def pg_users(pg):
    pg.ok("domain", "add", "hamburger.edu")
    pg.ok("user", "add", "alice@hamburger.edu", stdin="crepes\n")
    pg.ok("user", "add", "bob", stdin="hungry\n")
    return pg


def libcrypt_verify(password, hash_):
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    out = lib.crypt(password.encode(), hash_.encode())
    return out is not None and out.decode() == hash_


def stored_hash(pg, address):
    with pg.db() as db:
        row = db.execute("SELECT pw_hash FROM users WHERE address = ?", (address,)).fetchone()
    assert row, address
    return row[0]


# ---- seeding the store as the daemon would (schema version 1) ----

def seed_blob(pg, db, blob_id, body):
    rel = f"blobs/{blob_id[:2]}/{blob_id}"
    path = pg.data / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    db.execute("INSERT INTO blobs (id, path, size, created) VALUES (?, ?, ?, ?)",
               (blob_id, rel, len(body), int(time.time())))


def seed_message(pg, address, body, mailbox="INBOX", when=1700000000):
    """Appends body to the mailbox; returns its uid."""
    with pg.db() as db:
        mbox_id, uid, modseq = db.execute(
            "SELECT m.id, m.uidnext, m.highestmodseq + 1 FROM mailboxes m "
            "JOIN users u ON u.id = m.user_id WHERE u.address = ? AND m.name = ?",
            (address, mailbox)).fetchone()
        blob_id = os.urandom(16).hex()
        seed_blob(pg, db, blob_id, body)
        db.execute("INSERT INTO messages (mailbox_id, uid, blob_id, msg_id, size, internal_date,"
                   " modseq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (mbox_id, uid, blob_id, blob_id, len(body), when, modseq))
        db.execute("UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?",
                   (uid + 1, modseq, mbox_id))
    return uid


def seed_queue(pg, sender, recipients, arrived, attempts=0, last_error="", state="queued"):
    with pg.db() as db:
        blob_id = os.urandom(16).hex()
        seed_blob(pg, db, blob_id, b"Subject: out\r\n\r\nhi\r\n")
        for rcpt in recipients:
            db.execute("INSERT INTO queue (msg_id, blob_id, sender, recipient, arrived,"
                       " next_attempt, attempts, last_error, state)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (blob_id, blob_id, sender, rcpt, arrived, arrived, attempts,
                        last_error, state))


# ---- help and usage ----

COMMANDS = ["domain add", "domain del", "domain list", "user add", "user del", "user list",
            "user passwd", "queue list", "mail list", "mail cat", "check-config", "alias add",
            "alias del", "alias list", "forward", "quota", "user usage", "sieve list",
            "sieve put", "sieve activate", "sieve check"]


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_top_help(pg, flag):
    p = pg.raw(flag)
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.startswith("usage: pigeon [-c FILE] COMMAND")
    for cmd in COMMANDS:
        assert f"  {cmd}" in p.stdout, cmd


def test_group_help(pg):
    out = pg.ok("user", "--help")
    assert "usage: pigeon [-c FILE] user COMMAND" in out
    assert "user add ADDRESS" in out and "user passwd ADDRESS" in out
    assert "domain add" not in out
    assert "mail cat ADDRESS UID [MAILBOX]" in pg.ok("mail", "-h")


@pytest.mark.parametrize("cmd", COMMANDS)
def test_command_help(pg, cmd):
    out = pg.ok(*cmd.split(), "--help")
    assert out.startswith(f"usage: pigeon [-c FILE] {cmd}")
    assert not pg.data.exists(), "help must not open the store"


def test_help_needs_no_config(tmp_path):
    p = Pigeon(tmp_path / "missing.conf", tmp_path / "data")
    assert p("user", "add", "--help").returncode == 0
    assert p("--help").returncode == 0


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["user"],
    ["user", "frobnicate"],
    ["domain", "add"],
    ["domain", "add", "a.example", "b.example"],
    ["domain", "list", "extra"],
    ["user", "list", "a.example", "b.example"],
    ["mail", "list"],
    ["mail", "cat", "alice"],
    ["mail", "cat", "alice", "1", "INBOX", "extra"],
    ["queue", "list", "-x"],
    ["check-config", "extra"],
    ["--bogus", "domain", "list"],
])
def test_usage_errors(pg, args):
    pg.usage(*args)


def test_usage_error_messages(pg):
    assert "unknown command: frobnicate" in pg.usage("frobnicate")
    assert "unknown user command: frobnicate" in pg.usage("user", "frobnicate")
    err = pg.usage("domain", "add")
    assert "missing argument" in err and "usage: pigeon [-c FILE] domain add NAME" in err


def test_config_option_forms(pg, tmp_path):
    assert pg.raw("-c").returncode == 2
    assert pg.raw("--config=", "domain", "list").returncode == 2
    for args in (["-c", str(pg.conf)], [f"-c{pg.conf}"], ["--config", str(pg.conf)],
                 [f"--config={pg.conf}"]):
        p = pg.raw(*args, "check-config")
        assert p.returncode == 0 and p.stdout == f"{pg.conf}: ok\n", (args, p.stderr)


# ---- check-config and where the config comes from ----

def test_check_config_ok(pg):
    assert pg.ok("check-config") == f"{pg.conf}: ok\n"
    assert not pg.data.exists(), "check-config must not create the store"


def test_check_config_errors(pg, tmp_path):
    bad = tmp_path / "bad.conf"
    write_conf(bad, tmp_path / "d", extra="frobnicate = 1\n")
    p = pg.raw("-c", str(bad), "check-config")
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith(f"pigeon: {bad}:5: "), p.stderr

    nodir = tmp_path / "nodir.conf"
    nodir.write_text("[server]\nhostname = h\nprimary_domain = d\n")
    p = pg.raw("-c", str(nodir), "check-config")
    assert p.returncode == 1 and "data_dir" in p.stderr

    p = pg.raw("-c", str(tmp_path / "missing.conf"), "check-config")
    assert p.returncode == 1 and "missing.conf" in p.stderr
    # Other commands report the same configuration error.
    p = pg.raw("-c", str(bad), "domain", "list")
    assert p.returncode == 1 and f"{bad}:5: " in p.stderr


def test_conf_from_environment(pg, tmp_path):
    p = pg.raw("check-config", env=base_env(PIGEON_CONF=str(pg.conf)))
    assert p.returncode == 0 and p.stdout == f"{pg.conf}: ok\n"
    if not Path("/etc/pigeon/pigeon.conf").exists():
        p = pg.raw("check-config", env=base_env())
        assert p.returncode == 1 and "/etc/pigeon/pigeon.conf" in p.stderr


# ---- domains ----

def test_domains(pg):
    assert pg.ok("domain", "list") == ""
    assert pg.ok("domain", "add", "Hamburger.EDU") == ""
    pg.ok("domain", "add", "example.org")
    assert sorted(pg.ok("domain", "list").split()) == ["example.org", "hamburger.edu"]
    pg.fail("domain", "add", "hamburger.edu", contains="exists")
    pg.ok("domain", "del", "EXAMPLE.org")
    assert pg.ok("domain", "list") == "hamburger.edu\n"
    pg.fail("domain", "del", "example.org", contains="no such domain: example.org")


@pytest.mark.parametrize("name", ["", "a..b", ".a", "a.", "a b", "a@b", "x/y", "-", "-a.b", "a-.b", "a." + "b" * 64])
def test_domain_invalid(pg, name):
    pg.fail("domain", "add", "--", name, contains="invalid domain")


def test_domain_del_with_users(pg_users):
    pg_users.fail("domain", "del", "hamburger.edu", contains="has users")
    pg_users.ok("user", "del", "alice")
    pg_users.ok("user", "del", "bob")
    pg_users.ok("domain", "del", "hamburger.edu")
    assert pg_users.ok("domain", "list") == ""


# ---- users ----

def test_user_add_and_list(pg_users):
    pg = pg_users
    assert pg.ok("user", "list") == "alice@hamburger.edu\nbob@hamburger.edu\n"
    pg.ok("domain", "add", "example.org")
    pg.ok("user", "add", "Carol@Example.ORG", stdin="pw\n")
    assert pg.ok("user", "list", "example.org") == "carol@example.org\n"
    assert pg.ok("user", "list", "HAMBURGER.edu").split() == \
        ["alice@hamburger.edu", "bob@hamburger.edu"]
    assert len(pg.ok("user", "list").split()) == 3
    pg.fail("user", "list", "nowhere.example", contains="no such domain")


def test_user_password_hash(pg_users):
    h = stored_hash(pg_users, "alice@hamburger.edu")
    assert h.startswith("$y$"), h
    assert libcrypt_verify("crepes", h)
    assert not libcrypt_verify("hungry", h)
    assert libcrypt_verify("hungry", stored_hash(pg_users, "bob@hamburger.edu"))


def test_user_password_crlf_and_spaces(pg_users):
    pg_users.ok("user", "add", "dave", stdin="  two words \r\n")
    h = stored_hash(pg_users, "dave@hamburger.edu")
    assert libcrypt_verify("  two words ", h)
    pg_users.ok("user", "add", "erin", stdin="no-newline")
    assert libcrypt_verify("no-newline", stored_hash(pg_users, "erin@hamburger.edu"))


@pytest.mark.parametrize("stdin,msg", [("\n", "empty"), ("\r\n", "empty"), ("", "no password")])
def test_user_add_refuses_empty_password(pg_users, stdin, msg):
    pg_users.fail("user", "add", "carol", stdin=stdin, contains=msg)
    assert "carol@hamburger.edu" not in pg_users.ok("user", "list")


def test_user_add_errors(pg_users):
    pg = pg_users
    pg.fail("user", "add", "alice", stdin="x\n", contains="user alice@hamburger.edu exists")
    pg.fail("user", "add", "ALICE@hamburger.edu", stdin="x\n", contains="exists")
    pg.fail("user", "add", "zed@nowhere.example", stdin="x\n",
            contains="no such domain: nowhere.example")
    for bad in ("a@b@c", "@hamburger.edu", "bob@", "with space", "bob@bad..domain"):
        pg.fail("user", "add", "--", bad, stdin="x\n", contains="invalid address")
    pg.fail("user", "add", "x" * 600, stdin="x\n", contains="address")


def test_user_passwd(pg_users):
    pg = pg_users
    old = stored_hash(pg, "bob@hamburger.edu")
    pg.ok("user", "passwd", "BOB", stdin="burgers\n")
    new = stored_hash(pg, "bob@hamburger.edu")
    assert new != old and new.startswith("$y$")
    assert libcrypt_verify("burgers", new) and not libcrypt_verify("hungry", new)
    pg.fail("user", "passwd", "bob", stdin="\n", contains="empty")
    assert stored_hash(pg, "bob@hamburger.edu") == new
    pg.fail("user", "passwd", "nobody", stdin="x\n", contains="no such user: nobody@hamburger.edu")


def test_user_del(pg_users):
    pg = pg_users
    seed_message(pg, "alice@hamburger.edu", b"Subject: x\r\n\r\nx\r\n")
    pg.ok("user", "del", "Alice@Hamburger.edu")
    assert pg.ok("user", "list") == "bob@hamburger.edu\n"
    pg.fail("user", "del", "alice", contains="no such user: alice@hamburger.edu")
    pg.fail("mail", "list", "alice", contains="no such user")
    # Re-creating the user gives a fresh, empty mailbox.
    pg.ok("user", "add", "alice", stdin="new\n")
    assert pg.ok("mail", "list", "alice") == ""


def read_until(fd, needle, timeout=30.0):
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf:
        left = end - time.monotonic()
        assert left > 0, f"timed out waiting for {needle!r}; got {buf!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            assert chunk, f"EOF waiting for {needle!r}; got {buf!r}"
            buf += chunk
    return buf


def run_on_tty(pg, args, answers):
    """Runs pigeon with a terminal as stdin, answering each prompt (read from stderr)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(PIGEON), "-c", str(pg.conf), *args], stdin=slave,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
    os.close(slave)
    echoed = b""
    try:
        err = b""
        for prompt, answer in answers:
            err += read_until(proc.stderr.fileno(), prompt)
            # pigeon turns echo off (flushing pending input) before it prompts.
            os.write(master, answer)
        out, rest = proc.communicate(timeout=60)
        err += rest
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    check_sanitizers(err.decode(errors="replace"))
    return proc.returncode, out.decode(), err.decode(), echoed


def test_user_add_on_terminal(pg_users):
    rc, out, err, echoed = run_on_tty(pg_users, ["user", "add", "tina"], [
        (b"New password for tina@hamburger.edu: ", b"s3cret\n"),
        (b"Retype the new password: ", b"s3cret\n")])
    assert rc == 0, err
    assert b"s3cret" not in echoed, "echo must be off"
    assert libcrypt_verify("s3cret", stored_hash(pg_users, "tina@hamburger.edu"))


def test_user_passwd_on_terminal_mismatch(pg_users):
    rc, out, err, _ = run_on_tty(pg_users, ["user", "passwd", "bob"], [
        (b"New password for bob@hamburger.edu: ", b"one\n"),
        (b"Retype the new password: ", b"two\n")])
    assert rc == 1 and "do not match" in err
    assert libcrypt_verify("hungry", stored_hash(pg_users, "bob@hamburger.edu"))


# ---- mail ----

def test_mail_list_and_cat(pg_users):
    pg = pg_users
    assert pg.ok("mail", "list", "alice") == ""
    body1 = b"Return-Path: <x@example.org>\r\nSubject: one\r\n\r\nhello\r\n"
    body2 = bytes(range(256)) * 300  # binary-safe, larger than one read buffer
    uid1 = seed_message(pg, "alice@hamburger.edu", body1, when=1700000000)
    uid2 = seed_message(pg, "alice@hamburger.edu", body2, when=1700000100)
    lines = pg.ok("mail", "list", "ALICE@hamburger.edu").splitlines()
    assert len(lines) == 2
    fields = [line.split("\t") for line in lines]
    assert [f[:3] for f in fields] == [[str(uid1), str(len(body1)), "1700000000"],
                                       [str(uid2), str(len(body2)), "1700000100"]]
    for f in fields:
        p = Path(f[3]) if f[3].startswith("/") else pg.data / f[3]
        assert p.is_file(), f
    assert pg("mail", "cat", "alice", str(uid1)).stdout_b == body1
    assert pg("mail", "cat", "alice@hamburger.edu", str(uid2), "INBOX").stdout_b == body2
    assert pg.ok("mail", "list", "bob") == ""


def test_mail_other_mailbox(pg_users):
    pg = pg_users
    uid = seed_message(pg, "bob@hamburger.edu", b"Subject: sent\r\n\r\nx\r\n", mailbox="Sent")
    assert pg.ok("mail", "list", "bob") == ""
    assert pg.ok("mail", "list", "bob", "Sent").startswith(f"{uid}\t")
    assert pg("mail", "cat", "bob", str(uid), "Sent").stdout_b.startswith(b"Subject: sent")
    pg.fail("mail", "cat", "bob", str(uid), contains=f"no message with UID {uid}")


def test_mail_errors(pg_users):
    pg = pg_users
    seed_message(pg, "alice@hamburger.edu", b"x\r\n")
    pg.fail("mail", "list", "nobody", contains="no such user: nobody@hamburger.edu")
    pg.fail("mail", "cat", "nobody", "1", contains="no such user")
    pg.fail("mail", "list", "alice", "NoSuchBox", contains="no such mailbox")
    pg.fail("mail", "cat", "alice", "99", contains="no message with UID 99")
    for bad in ("0", "abc", "-1", "1x", "99999999999999999999"):
        pg.fail("mail", "cat", "alice", "--", bad, contains="invalid UID")


# ---- queue ----

def test_queue_list(pg_users):
    pg = pg_users
    assert pg.ok("queue", "list") == "queue is empty\n"
    seed_queue(pg, "alice@hamburger.edu", ["x@example.org", "y@example.net"], 1700000000)
    seed_queue(pg, "", ["postmaster@example.com"], 1700003600, attempts=3,
               last_error="451 4.7.1 try again later", state="held")
    out = pg.ok("queue", "list")
    assert out.splitlines()[-1] == "2 messages, 3 recipients"
    rows = sorted(H.parse_queue_list(out), key=lambda r: r["rcpt"])
    assert [(r["arrived"], r["sender"], r["rcpt"], r["attempts"], r["state"], r["error"])
            for r in rows] == [
        ("2023-11-14 23:13:20", "", "postmaster@example.com", 3, "held",
         "451 4.7.1 try again later"),
        ("2023-11-14 22:13:20", "alice@hamburger.edu", "x@example.org", 0, "queued", "-"),
        ("2023-11-14 22:13:20", "alice@hamburger.edu", "y@example.net", 0, "queued", "-"),
    ]
    assert rows[1]["id"] == rows[2]["id"] != rows[0]["id"]
    # The IDs it prints are the IDs the other commands take, per message or per recipient.
    assert "recipient: <y@example.net>" in pg.ok("queue", "show", rows[1]["id"])
    assert pg.ok("queue", "hold", rows[1]["id"]) == "held: 2 recipients\n"
    assert pg.ok("queue", "release", rows[1]["id"], "<x@example.org>") == \
        "released: 1 recipient\n"
    assert pg.ok("queue", "delete", rows[0]["id"]) == "deleted (no bounce is sent): 1 recipient\n"
    left = H.parse_queue_list(pg.ok("queue", "list"))
    assert sorted((r["rcpt"], r["state"]) for r in left) == [
        ("x@example.org", "queued"), ("y@example.net", "held")]
    pg.fail("queue", "show", "0" * 32, contains="no queue ID " + "0" * 32)
    pg.fail("queue", "delete", rows[1]["id"], "z@example.org",
            contains="no recipient z@example.org of queue ID")


# ---- runtime errors of the store itself ----

def test_unusable_data_dir(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    conf = tmp_path / "p.conf"
    write_conf(conf, blocker / "data")
    pg = Pigeon(conf, blocker / "data")
    pg.fail("domain", "list", contains="store")


def test_sample_setup_script(tmp_path):
    data = tmp_path / "data"
    conf = tmp_path / "p.conf"
    write_conf(conf, data)
    script = REPO / "scripts" / "sample-setup.sh"
    run = lambda: subprocess.run([str(script), str(BUILD), str(conf)], capture_output=True,
                                 text=True, env=base_env(), timeout=120)
    p = run()
    assert p.returncode == 0, p.stderr
    assert "created domain hamburger.edu" in p.stdout
    assert "created user alice@hamburger.edu" in p.stdout
    assert "created user bob@hamburger.edu" in p.stdout
    p = run()
    assert p.returncode == 0 and p.stdout == "" and p.stderr == ""
    pg = Pigeon(conf, data)
    assert libcrypt_verify("crepes", stored_hash(pg, "alice@hamburger.edu"))
    assert libcrypt_verify("hungry", stored_hash(pg, "bob@hamburger.edu"))
    pg.ok("user", "del", "bob")
    p = run()
    assert p.stdout == "sample-setup: created user bob@hamburger.edu (password: hungry)\n"
