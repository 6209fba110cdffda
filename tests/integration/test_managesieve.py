"""ManageSieve (RFC 5804, issue 18) on [managesieve]: sieve-connect uploads (over STARTTLS),
lists, activates, downloads, checks and deletes scripts, and the uploaded script filters the
next delivery; the protocol's errors over a raw connection (authentication before TLS, a
script with an error and its line, NONEXISTENT, ACTIVE, ALREADYEXISTS, a literal over the size
limit, HAVESPACE, unknown commands)."""

import base64
import re
import socket
import ssl
import subprocess

import pytest

import pigeon_harness as H


@pytest.fixture
def ms(new_daemon):
    d = new_daemon(start=False)
    d.ms_port = H.free_port()
    d.sections["managesieve"] = {"listen": "127.0.0.1:%d" % d.ms_port, "plaintext_auth": "no"}
    d.ports.append(d.ms_port)
    d.write_conf()
    d.start()
    return d


def sieve_connect(d, *args, user="bob@hamburger.edu", password="hungry"):
    return subprocess.run(["sieve-connect", "-s", "127.0.0.1", "-p", str(d.ms_port), "-u", user,
                           "--notlsverify", "--passwordfd", "0"] + list(args),
                          input=(password + "\n").encode(), capture_output=True, timeout=60)


def test_sieve_connect_round_trip(ms, tmp_path):
    d = ms
    local = tmp_path / "filter.sieve"
    local.write_text('require ["fileinto"];\n'
                     'if header :contains "subject" "[news]" { fileinto "News"; }\n')
    r = sieve_connect(d, "--upload", "--localsieve", str(local), "--remotesieve", "filter")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(d, "--activate", "--remotesieve", "filter")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(d, "--list")
    assert r.returncode == 0 and r.stdout.decode().split('\n')[0] == '"filter" ACTIVE', r
    out = tmp_path / "back.sieve"
    r = sieve_connect(d, "--download", "--remotesieve", "filter", "--localsieve", str(out))
    assert r.returncode == 0 and out.read_text() == local.read_text(), r.stderr
    # the CLI sees the same script, and delivery runs it
    assert d.cli("sieve", "list", "bob@hamburger.edu").stdout.decode().startswith("filter\t")
    d.cli("mail", "list", "bob@hamburger.edu")  # INBOX exists
    with d.smtp() as c:
        c.send_mail("a@crepes.fr", ["bob@hamburger.edu"],
                    "Subject: [news] today\r\n\r\nnews body\r\n")
    # News does not exist: the fileinto falls back to INBOX (never lost)
    assert any(b"[news] today" in m.data for m in d.messages("bob@hamburger.edu"))
    bad = tmp_path / "bad.sieve"
    bad.write_text('require "fileinto";\n\nfileinto "x"\n')
    r = sieve_connect(d, "--checkscript", "--localsieve", str(bad))
    assert r.returncode != 0 and b"line 4" in r.stdout + r.stderr, r
    r = sieve_connect(d, "--delete", "--remotesieve", "filter")
    assert r.returncode != 0  # the active script cannot be deleted
    r = sieve_connect(d, "--deactivate")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(d, "--delete", "--remotesieve", "filter")
    assert r.returncode == 0, r.stderr
    assert d.cli("sieve", "list", "bob@hamburger.edu").stdout == b""
    r = sieve_connect(d, "--list", password="wrong")
    assert r.returncode != 0


def test_sieve_connect_sasl_login(ms, tmp_path):
    """SASL LOGIN, the other mechanism ManageSieve clients use with servers that keep only
    password hashes: sieve-connect --authmech LOGIN uploads and lists; a wrong password fails."""
    local = tmp_path / "login.sieve"
    local.write_text("keep;\n")
    r = sieve_connect(ms, "--authmech", "LOGIN", "--upload", "--localsieve", str(local),
                      "--remotesieve", "by-login")
    assert r.returncode == 0, r.stderr
    r = sieve_connect(ms, "--authmech", "LOGIN", "--list")
    assert r.returncode == 0 and b'"by-login"' in r.stdout, r
    r = sieve_connect(ms, "--authmech", "LOGIN", "--list", password="wrong")
    assert r.returncode != 0
    r = sieve_connect(ms, "--delete", "--remotesieve", "by-login")
    assert r.returncode == 0, r.stderr


class Raw:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=H.IO_TIMEOUT)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise H.Closed("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode()

    def until_ok(self):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if re.match(r"^(OK|NO|BYE)\b", line):
                return lines

    def cmd(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)
        return self.until_ok()

    def starttls(self):
        assert self.cmd("STARTTLS\r\n")[-1].startswith("OK")
        self.sock = H.unverified_context().wrap_socket(self.sock)
        caps = self.until_ok()
        assert '"SASL" "PLAIN LOGIN"' in caps and caps[-1].startswith("OK")

    def login(self):
        plain = base64.b64encode(b"\0bob@hamburger.edu\0hungry").decode()
        assert self.cmd('AUTHENTICATE "PLAIN" "%s"\r\n' % plain)[-1] == 'OK "Logged in"'


def test_protocol_errors(ms):
    c = Raw(ms.ms_port)
    caps = c.until_ok()
    assert '"STARTTLS"' in caps and '"SASL" ""' in caps and caps[-1].startswith("OK")
    plain = base64.b64encode(b"\0bob@hamburger.edu\0hungry").decode()
    assert c.cmd('AUTHENTICATE "PLAIN" "%s"\r\n' % plain)[-1].startswith("NO (ENCRYPT-NEEDED)")
    assert c.cmd("LISTSCRIPTS\r\n")[-1] == 'NO "Authenticate first"'
    c.starttls()
    c.login()
    assert c.cmd('PUTSCRIPT "s" {18+}\r\nif true {\n  keep;\n\r\n')[-1] == \
        'NO "line 3: \\"}\\" expected"'
    assert c.cmd('PUTSCRIPT "s" "keep;"\r\n')[-1] == 'OK "Completed"'
    assert c.cmd('PUTSCRIPT "t" "discard;"\r\n')[-1] == 'OK "Completed"'
    assert c.cmd('SETACTIVE "s"\r\n')[-1] == 'OK "Completed"'
    assert c.cmd("LISTSCRIPTS\r\n") == ['"s" ACTIVE', '"t"', 'OK "Listscripts completed"']
    assert c.cmd('GETSCRIPT "t"\r\n') == ["{8}", "discard;", 'OK "Getscript completed"']
    assert c.cmd('GETSCRIPT "nope"\r\n')[-1].startswith("NO (NONEXISTENT)")
    assert c.cmd('DELETESCRIPT "s"\r\n')[-1].startswith("NO (ACTIVE)")
    assert c.cmd('RENAMESCRIPT "t" "s"\r\n')[-1].startswith("NO (ALREADYEXISTS)")
    assert c.cmd('RENAMESCRIPT "t" "u"\r\n')[-1] == 'OK "Completed"'
    assert c.cmd('HAVESPACE "v" 1000\r\n')[-1] == 'OK "Putscript would succeed"'
    assert c.cmd('HAVESPACE "v" 10000000\r\n')[-1].startswith("NO (QUOTA/MAXSIZE)")
    # a literal over the limit is refused and skipped; the session goes on
    big = b'PUTSCRIPT "big" {100000+}\r\n' + b"#" * 100000 + b"\r\n"
    assert c.cmd(big)[-1].startswith("NO (QUOTA/MAXSIZE)")
    assert c.cmd('NOOP "x"\r\n')[-1] == 'OK (TAG "x") "Done"'
    assert c.cmd("FROB\r\n")[-1] == 'NO "Unknown command"'
    assert c.cmd("LOGOUT\r\n")[-1].startswith("OK")
    out = ms.cli("sieve", "list", "bob@hamburger.edu").stdout.decode()
    assert out == "s\t5\tactive\nu\t8\n", out
