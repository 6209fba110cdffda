"""README.md tells the truth (issue 12): every transcript it shows is what the sample instance
of `make run` really prints, and every client command it gives works as written.

The sample instance runs as `make run` runs it (sample_instance.py: scripts/sample-setup.sh,
then pigeond -c etc/pigeon.conf on the sample's own loopback ports, inside the suite's private
network namespace). The README's dialogues are replayed from the README itself: its client
lines are sent, and each server line must equal the README's line but for the values that
change from run to run (TOKENS: a queue ID, a date, UIDVALIDITY, a certificate fingerprint),
and one value of the README stands for one value of the run (the queue ID of the 250 reply is
the one in Received:, in the file name and in the log). The programs it names are run with
the arguments it shows: swaks --tls (Net::SSLeay), fetchmail against the self-signed
certificate (the README's shell block, run by sh), curl, dig, pigeon lookup.

The tests share the one instance, in file order: SMTP puts the message in, IMAP reads it (the
README says its session comes before POP3's), fetchmail and curl read it and keep it, POP3
deletes it, swaks sends to alice, and the reload is last."""

import os
import pwd
import re
import shlex
import socket
import subprocess
import types

import pytest

import dns_auth_helpers as A
import pigeon_harness as H
import sample_instance as S

README = (H.REPO / "README.md").read_text()
BLOCKS = re.findall(r"^```[a-z]*\n(.*?)^```$", README, re.M | re.S)
README_ROOT = "/root/pigeon"  # the checkout the README's transcripts were taken in

DATE = (r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
        r"Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000")
TOKENS = [
    r"[0-9a-f]{32}",                     # a queue ID
    r"(?<=blobs/)[0-9a-f]{2}(?=/)",      # the directory of its file
    DATE,                                # a Received: date
    r"(?<=UIDVALIDITY )\d+",
    r"(?<=\t)\d{10}(?=\t)",              # an internal date (Unix time) in `pigeon mail list`
    r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}",  # a certificate's SHA-256
]
TOKEN_RX = re.compile("|".join("(%s)" % t for t in TOKENS))
LOG_TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "


def block(first):
    """The README's code block whose first line starts with `first`, as lines."""
    for b in BLOCKS:
        if b.startswith(first):
            return b.splitlines()
    raise AssertionError("README.md has no code block starting with %r" % first)


def inline(rx):
    """The README's inline code matching rx (group 1), whitespace made single."""
    m = re.search(rx, README, re.S)
    assert m, "README.md has no %r" % rx
    return " ".join(m.group(1).split())


class Transcript:
    """Compares what a program printed with the README's lines (see the module's comment)."""

    def __init__(self, root):
        self.root = str(root)
        self.seen = {}  # README value -> the run's value

    def check(self, shown, got):
        shown = shown.replace(README_ROOT, self.root)
        rx, values, i = "", [], 0
        for m in TOKEN_RX.finditer(shown):
            rx += re.escape(shown[i:m.start()]) + "(%s)" % TOKENS[m.lastindex - 1]
            values.append(m.group(0))
            i = m.end()
        m = re.fullmatch(rx + re.escape(shown[i:]), got)
        assert m, "the README shows\n  %r\nthe sample printed\n  %r" % (shown, got)
        for value, now in zip(values, m.groups()):
            assert self.seen.setdefault(value, now) == now, \
                "README value %s stands for %s and %s" % (value, self.seen[value], now)

    def lines(self, shown, got):
        both = "the README shows\n%s\nthe sample printed\n%s" % ("\n".join(shown),
                                                                  "\n".join(got))
        assert len(got) == len(shown), both
        for s, g in zip(shown, got):
            try:
                self.check(s, g)
            except AssertionError as e:
                raise AssertionError("%s\n%s" % (e, both)) from None


class Dialogue:
    """A telnet-like client: lines out with CRLF, lines in without it."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=H.IO_TIMEOUT)
        self.buf = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def line(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            assert data, "the server closed the connection; unread: %r" % self.buf
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode()


def replay(t, lines, is_client):
    """Replays a README dialogue: '$ telnet HOST PORT', then client and server lines."""
    host, port = re.fullmatch(r"\$ telnet (\S+) (\d+)", lines[0]).groups()
    c = Dialogue(host, int(port))
    try:
        for line in lines[1:]:
            if is_client(line):
                c.send(line)
            else:
                t.check(line, c.line())
    finally:
        c.sock.close()


def run(argv, root, **kw):
    p = subprocess.run(argv, cwd=str(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, **kw)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    assert p.returncode == 0, "%s -> exit %d\n%s\n%s" % (argv, p.returncode, out, err)
    return out


def pigeon_shown(root, command):
    """Runs a README command line `build/release/pigeon ARGS` with the build under test."""
    argv = shlex.split(command)
    assert argv[0] == "build/release/pigeon", command
    return run([str(H.PIGEON)] + argv[1:], root, env=H.sanitizer_env())


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    d, setup = S.start(root)
    yield types.SimpleNamespace(d=d, root=root, setup=setup, t=Transcript(root))
    report = A.finish(d)
    assert report is None, report


def first_nameserver():
    for line in open("/etc/resolv.conf"):
        f = line.split()
        if len(f) >= 2 and f[0] == "nameserver":
            return f[1]
    return None


def test_make_run_prints_what_the_readme_shows(sample):
    lines = block("sample-setup: ")
    assert [l for l in lines if l.startswith("sample-setup: ")] == sample.setup.splitlines()
    makefile = (H.REPO / "Makefile").read_text()
    echoed = re.findall(r'^\t@echo "(pigeon: .*)"$', makefile, re.M)
    assert echoed and [l for l in lines if l.startswith("pigeon: ")] == echoed
    assert "exec build/release/pigeond -c etc/pigeon.conf" in lines
    assert re.search(r"^\texec \$\(BUILD\)/pigeond -c \$\(CONF\)$", makefile, re.M)
    assert re.search(r"^BUILD +\?= build/release$", makefile, re.M)
    assert re.search(r"^CONF +\?= etc/pigeon.conf$", makefile, re.M)
    log = sample.d.log()
    shown = [l for l in lines if re.match(LOG_TIME, l)]
    assert len(shown) >= 6, lines
    try:
        pwd.getpwnam("pigeon")
        has_user = True
    except KeyError:
        has_user = False
    for line in shown:
        if "running as root: user pigeon does not exist" in line and has_user:
            continue  # this machine has the user: pigeond drops root instead
        text = re.sub(LOG_TIME, "", line, count=1)
        m = re.search(r"mail DNS: asking (\S+) port 53", text)
        if m:  # the README's resolv.conf is not this machine's
            text = text.replace(m.group(1), first_nameserver() or "?")
        text = text.replace(README_ROOT, str(sample.root))
        assert re.search("^%s%s$" % (LOG_TIME, re.escape(text)), log, re.M), \
            "the README shows the log line\n  %s\nthe sample's log:\n%s" % (line, log)


def port_in_use(port):
    """A TCP listener answers, or a UDP socket holds the port."""
    if H.port_open(port):
        return True
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def test_services_table_is_the_sample_config(sample):
    table = re.search(r"Services of the sample config[^\n]*\n\n((?:\|[^\n]*\n)+)", README)
    assert table
    ports = set()
    for row in table.group(1).splitlines()[2:]:
        ports |= {int(p) for p in re.findall(r"\b\d{2,5}\b", row.split("|")[2])}
    conf = (H.REPO / "etc" / "pigeon.conf").read_text()
    assert ports == {int(p) for p in re.findall(r"^listen(?:_tls)? = 127\.0\.0\.1:(\d+)$", conf,
                                                re.M)}
    for port in sorted(ports):
        assert port_in_use(port), "nothing on port %d" % port


def smtp_client(line):
    return not re.match(r"\d{3}[ -]", line)


def test_smtp_dialogue_and_mail_list(sample):
    lines = block("$ telnet 127.0.0.1 2525")
    i = next(k for k in range(1, len(lines)) if lines[k].startswith("$ "))
    replay(sample.t, lines[:i], smtp_client)
    out = pigeon_shown(sample.root, lines[i][2:])
    sample.t.lines(lines[i + 1:], out.splitlines())
    # the queue ID of the 250 reply is the one the README says the log line carries
    readme_id = re.search(r"queued as ([0-9a-f]{32})", "\n".join(lines)).group(1)
    logged = inline(r"`(smtp s\w+ accepted id=)\.\.\.`").replace("s1", r"s[0-9a-f]+")
    sample.d.wait_log(logged + sample.t.seen[readme_id])


def test_imap_dialogue(sample):
    replay(sample.t, block("$ telnet 127.0.0.1 2143"), lambda l: re.match(r"[a-z] [a-z]", l))
    folder = inline(r"`pigeon (mail list bob@hamburger\.edu Archive)`")
    run([str(H.PIGEON), "-c", S.CONF] + folder.split(), sample.root, env=H.sanitizer_env())


def test_fetchmail_block_with_the_self_signed_certificate(sample):
    script = next(b for b in BLOCKS if ".fetchmailrc" in b)
    home = sample.root / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    out = run(["sh", "-euc", script], sample.root, env=env)
    assert "Subject: Do you like ketchup?" in out, out
    assert len(sample.d.messages("bob@hamburger.edu")) == 1  # keep


def test_curl_reads_pop3_and_imap(sample):
    for cmd in re.findall(r"`(curl (?:pop3|imap)://[^`]+)`", README):
        out = run(shlex.split(cmd), sample.root)
        assert "Subject: Do you like ketchup?" in out, (cmd, out)


def test_pop3_dialogue(sample):
    replay(sample.t, block("$ telnet 127.0.0.1 2110"),
           lambda l: re.fullmatch(r"(user|pass|list|retr|dele|quit)( .*)?", l))
    assert sample.d.messages("bob@hamburger.edu") == []


def test_swaks_tls_submission_is_dkim_signed(sample):
    cmd = inline(r"`(swaks --server [^`]+)`")
    run(shlex.split(cmd), sample.root)
    field = inline(r"`(DKIM-Signature: [^`]+?) \.\.\.`")
    msgs = sample.d.messages("alice@hamburger.edu")
    assert len(msgs) == 1, msgs
    head = msgs[0].data.split(b"\r\n\r\n", 1)[0].decode()
    unfolded = re.sub(r"\r\n[ \t]+", " ", head).split("\r\n")
    assert any(" ".join(l.split()).startswith(field) for l in unfolded), head


def test_dns_commands(sample):
    dig = inline(r"`(dig @127\.0\.0\.1 -p 2053 [^`]+)`")
    answer = inline(r"it answers `([^`]+)`")
    assert run(shlex.split(dig), sample.root).split() == answer.split()
    lookup = inline(r"`build/release/pigeon (lookup hamburger\.edu MX @127\.0\.0\.1:2054)`")
    out = run([str(H.PIGEON)] + lookup.split(), sample.root, env=H.sanitizer_env())
    assert re.search(r"\bMX\s+10 mail\.hamburger\.edu\.", out), out


def test_reload_transcript(sample):
    lines = block("$ pigeon reload")
    assert "after changing [smtp] listen, and max_message_size in two sections" in lines[0]
    conf = sample.root / S.CONF
    text = conf.read_text()
    changed = text.replace("listen = 127.0.0.1:2525", "listen = 127.0.0.1:2526")
    changed = changed.replace("max_message_size = 25M", "max_message_size = 20M")
    assert changed.count("20M") == 2 and "2526" in changed
    conf.write_text(changed)
    try:
        out = run([str(H.PIGEON), "-c", S.CONF, "reload"], sample.root, env=H.sanitizer_env())
    finally:
        conf.write_text(text)
    sample.t.lines(lines[1:], out.splitlines())
