"""Helpers for Pigeon's integration tests: start pigeond in a temp dir, talk SMTP over a raw
socket, look into mailboxes and the queue through the `pigeon` CLI.

Only the standard library is used (the suite runs with the system python3 + python3-pytest).
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("PIGEON_BUILD") or REPO / "build" / "asan").resolve()
PIGEOND = BUILD / "pigeond"
PIGEON = BUILD / "pigeon"

HOSTNAME = "mail.hamburger.edu"
DOMAIN = "hamburger.edu"
USERS = {"bob@hamburger.edu": "hungry", "alice@hamburger.edu": "crepes"}

START_TIMEOUT = float(os.environ.get("PIGEON_START_TIMEOUT", "60"))
IO_TIMEOUT = 30.0

# Every Daemon ever created, so conftest can print logs on failure and kill leftovers.
DAEMONS = []
_DAEMONS_LOCK = threading.Lock()

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: UndefinedBehaviorSanitizer", "ThreadSanitizer")


def binaries_missing():
    return [str(p) for p in (PIGEOND, PIGEON) if not os.access(p, os.X_OK)]


_ports_given = set()


def free_port():
    """A loopback port free for both TCP and UDP that this test process has not handed out
    before: the kernel may return the same ephemeral port to two calls in a row once the
    probing socket is closed, and one daemon's UDP listener and another's TCP listener then
    collide at start-up."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port in _ports_given:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
        except OSError:
            continue
        _ports_given.add(port)
        return port


def sanitizer_env():
    env = dict(os.environ)
    # Keep whatever the caller set; make reports land in the log and fail the process.
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


def _loopback_up():
    """ip link set lo up, without iproute2: SIOCGIFFLAGS/SIOCSIFFLAGS on "lo"."""
    import fcntl
    import struct
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifr = fcntl.ioctl(s, siocgifflags, struct.pack("16sH22x", b"lo", 0))
        flags = struct.unpack("16sH22x", ifr)[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def enter_private_network():
    """Moves this process (and so every daemon, server and client it starts later) into a
    new network namespace with loopback up, as `unshare -n` does. Call it before any thread
    is started. As root only (other users stay where they are: the tests that need fixed
    addresses skip without root anyway); PIGEON_NETNS=0 turns it off. Returns a word for
    the report header."""
    if os.environ.get("PIGEON_NETNS", "1") == "0":
        return "host (PIGEON_NETNS=0)"
    if os.geteuid() != 0:
        return "host (not root)"
    import ctypes
    clone_newnet = 0x40000000
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(clone_newnet) != 0:
        err = ctypes.get_errno()
        raise RuntimeError("unshare(CLONE_NEWNET) failed: %s (set PIGEON_NETNS=0 to run in "
                           "the host's namespace)" % os.strerror(err))
    _loopback_up()
    _address_for_addrconfig()
    return "private (unshare CLONE_NEWNET, lo up, %s on lo)" % ADDRCONFIG_ADDRESS


# glibc's getaddrinfo(AI_ADDRCONFIG) returns no IPv4 answer, not even for "127.0.0.1", when
# the only IPv4 address is 127.0.0.1 (it does not count loopback); fetchmail, mbsync and
# nghttp ask with that flag, and fail with "Address family for hostname not supported" in a
# namespace that holds lo alone. One more address on lo, from the benchmarking range
# (RFC 2544), and inside this private namespace only, makes IPv4 count as configured. No
# IPv6 one: "localhost" must keep resolving to 127.0.0.1, where the daemons listen.
ADDRCONFIG_ADDRESS = "198.18.0.1"


def _address_for_addrconfig():
    subprocess.run(["ip", "addr", "add", ADDRCONFIG_ADDRESS + "/32", "dev", "lo"], check=True)


def unverified_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# --------------------------------------------------------------------------------------------
# Waiting for events (never for a fixed time)

# Generous: a loaded CI machine (ASan, 2 cores, other suites) can be slow, and a wait only
# lasts this long when the event never comes, which fails the test.
WAIT_TIMEOUT = float(os.environ.get("PIGEON_WAIT_TIMEOUT", "60"))


def wait_until(fn, timeout=None, what="condition", interval=0.05, on_timeout=None):
    """Polls fn() until it returns something true, and returns that. Fails with a clear
    message (plus on_timeout()'s text, e.g. a log tail) when the deadline passes: a wait
    never passes by timing out. A smaller timeout than WAIT_TIMEOUT is raised to it: the
    deadline only matters when the test is failing anyway, and load must not fail it."""
    limit = max(WAIT_TIMEOUT, timeout or 0)
    deadline = time.monotonic() + limit
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            extra = ""
            if on_timeout is not None:
                try:
                    extra = "\n" + str(on_timeout())
                except Exception as e:  # the message matters more than the extra text
                    extra = "\n(on_timeout failed: %s)" % e
            raise AssertionError("timed out after %.0fs waiting for %s%s" % (limit, what, extra))
        time.sleep(interval)


def wait_file(path, timeout=None, what=None, exists=True):
    """Waits until path exists (or, exists=False, is gone)."""
    p = Path(path)
    return wait_until(lambda: p.exists() == exists, timeout,
                      what or ("%s to %s" % (p, "appear" if exists else "disappear")))


def port_open(port, host="127.0.0.1"):
    """True when a TCP connection to host:port succeeds now."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_port(port, host="127.0.0.1", timeout=None, proc=None):
    """Waits until a TCP connection to host:port succeeds; fails early when proc (a Popen)
    has exited."""
    def up():
        if proc is not None and proc.poll() is not None:
            raise AssertionError("process exited with %s before %s:%d was up" % (
                proc.returncode, host, port))
        return port_open(port, host)
    return wait_until(up, timeout, "%s:%d to accept connections" % (host, port))


def wait_port_closed(port, host="127.0.0.1", timeout=None):
    """Waits until nothing accepts connections on host:port any more."""
    return wait_until(lambda: not port_open(port, host), timeout,
                      "%s:%d to stop accepting connections" % (host, port))


# --------------------------------------------------------------------------------------------
# SMTP over a raw socket


class Reply:
    """One (possibly multi-line) SMTP reply."""

    def __init__(self, lines):
        self.raw = lines                        # full lines without CRLF, as str
        self.code = int(lines[-1][:3])
        self.lines = [l[4:] for l in lines]     # text after "250-" / "250 "
        m = re.match(r"^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b", lines[-1])
        self.enhanced = m.group(1) if m else None

    @property
    def text(self):
        return "\n".join(self.raw)

    def startswith(self, prefix):
        return self.raw[-1].startswith(prefix)

    def keywords(self):
        """EHLO keywords (upper case) -> rest of the line, from the 2nd line on."""
        out = {}
        for l in self.lines[1:]:
            parts = l.split(None, 1)
            if parts:
                out[parts[0].upper()] = parts[1] if len(parts) > 1 else ""
        return out

    def __repr__(self):
        return "Reply(%r)" % (self.text,)


class Closed(Exception):
    pass


class SMTPClient:
    """A deliberately dumb SMTP client: sends exactly the bytes it is told to."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT, read_greeting=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.greeting = self.reply() if read_greeting else None

    # -- low level
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError) as e:
            raise Closed(str(e))

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError) as e:
            raise Closed(str(e))
        if not chunk:
            raise Closed("connection closed by server")
        self.buf += chunk

    def readline(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        lines = []
        while True:
            line = self.readline()
            if not re.match(r"^\d{3}([ -]|$)", line):
                raise AssertionError("malformed reply line %r (after %r)" % (line, lines))
            lines.append(line)
            if len(line) < 4 or line[3] == " ":
                return Reply(lines)

    def cmd(self, line):
        self.send(line + ("\r\n" if isinstance(line, str) else b"\r\n"))
        return self.reply()

    def expect(self, line, prefix):
        r = self.cmd(line)
        assert r.startswith(prefix), "%r: expected %r, got %r" % (line, prefix, r.text)
        return r

    def ehlo(self, name="client.example"):
        return self.expect("EHLO " + name, "250")

    def starttls(self, context=None):
        self.expect("STARTTLS", "220")
        assert self.buf == b"", "server sent data after 220 to STARTTLS: %r" % self.buf
        self.sock = (context or unverified_context()).wrap_socket(self.sock)
        return self.sock

    def closed(self, timeout=30.0):
        """True when the server closes the connection within timeout (buffered data is dropped)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            return True

    def quiet(self, timeout=0.5):
        """True when the server sends nothing within timeout."""
        if self.buf:
            return False
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(IO_TIMEOUT)
        self.buf += data
        return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- a whole transaction
    def send_mail(self, sender, rcpts, data, ehlo=True, params=""):
        """MAIL/RCPT/DATA with dot-stuffing done here; data must end with CRLF. Returns the
        end-of-data reply."""
        if ehlo:
            self.ehlo()
        self.expect("MAIL FROM:<%s>%s" % (sender, params), "250")
        for r in rcpts:
            self.expect("RCPT TO:<%s>" % r, "250")
        self.expect("DATA", "354")
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.send(dot_stuff(data) + b".\r\n")
        return self.reply()


class LineClient:
    """A raw client of a line protocol (POP3, FTP's control connection): sends exactly the
    bytes it is told to, reads lines; optionally TLS from the first byte, optionally from a
    given source address. The protocols' clients add their replies."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT, tls=False, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        if tls:
            self.sock = unverified_context().wrap_socket(self.sock)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError) as e:
            raise Closed(str(e))

    def rawline(self):
        """One line as bytes, with its CRLF."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(1 << 20)
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError) as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("connection closed by server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def line(self):
        return self.rawline().rstrip(b"\r\n").decode("utf-8", "replace")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class POP3Client(LineClient):
    """A raw POP3 client: sends exactly the bytes it is told to, reads replies line by line."""

    def __init__(self, port, host="127.0.0.1", timeout=IO_TIMEOUT, tls=False,
                 read_greeting=True):
        super().__init__(port, host, timeout, tls)
        self.greeting = self.line() if read_greeting else None

    def cmd(self, line):
        """Sends one command, returns its first reply line (str, no CRLF)."""
        self.send(line + "\r\n")
        return self.line()

    def expect(self, line, prefix):
        r = self.cmd(line)
        assert r.startswith(prefix), "%r: expected %r, got %r" % (line, prefix, r)
        return r

    def multi(self):
        """The body of a multi-line reply, dot-unstuffed, as raw bytes (CRLFs kept)."""
        out = []
        while True:
            raw = self.rawline()
            assert raw.endswith(b"\r\n"), "line without CRLF: %r" % raw
            if raw == b".\r\n":
                return b"".join(out)
            out.append(raw[1:] if raw.startswith(b".") else raw)

    def login(self, user="bob", password="hungry"):
        self.expect("USER " + user, "+OK")
        return self.expect("PASS " + password, "+OK")

    def retr(self, n):
        self.expect("RETR %d" % n, "+OK")
        return self.multi()

    def closed(self, timeout=30.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            return True


def dot_stuff(data):
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data


# --------------------------------------------------------------------------------------------
# Stored messages


class StoredMessage:
    def __init__(self, daemon, uid, size, date, path):
        self.daemon = daemon
        self.uid = int(uid)
        self.size = int(size)
        self.date = date
        p = Path(path)
        self.path = p if p.is_absolute() else Path(daemon.data_dir) / p
        self._data = None

    @property
    def data(self):
        if self._data is None:
            self._data = self.path.read_bytes()
        return self._data

    def __repr__(self):
        return "StoredMessage(uid=%d, size=%d, path=%s)" % (self.uid, self.size, self.path)


def split_trace(blob):
    """Splits a stored MX message into (trace lines, rest): the leading Return-Path line and
    the Authentication-Results: / DKIM-Signature: / Received-SPF: / Received: header fields
    (with their continuation lines) the server prepended (Received-SPF sits above Received,
    RFC 7208 §9.1; Authentication-Results and a submission's DKIM-Signature above both)."""
    pos = 0
    trace = []
    while True:
        end = blob.find(b"\r\n", pos)
        if end < 0:
            break
        line = blob[pos:end]
        if not trace:
            if not line.startswith(b"Return-Path:"):
                break
            trace.append(line)
        elif line[:1] in (b" ", b"\t"):
            trace[-1] += b"\r\n" + line
        elif line.lower().startswith((b"received:", b"received-spf:",
                                      b"authentication-results:", b"dkim-signature:")):
            trace.append(line)
        else:
            break
        pos = end + 2
    return trace, blob[pos:]


def header_values(blob, name):
    """Values of every header field `name` in the header section of blob (unfolded)."""
    head = blob.split(b"\r\n\r\n", 1)[0]
    head = re.sub(rb"\r\n[ \t]", b" ", head)
    out = []
    for line in head.split(b"\r\n"):
        k, sep, v = line.partition(b":")
        if sep and k.strip().lower() == name.lower().encode():
            out.append(v.strip().decode("utf-8", "replace"))
    return out


def assert_crlf_only(blob):
    assert blob.count(b"\n") == blob.count(b"\r\n"), "stored message has bare LF"
    assert blob.count(b"\r") == blob.count(b"\r\n"), "stored message has bare CR"


# --------------------------------------------------------------------------------------------
# The daemon


def _render_conf(sections):
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        for k, v in keys.items():
            if v is None:
                continue
            for one in v if isinstance(v, (list, tuple)) else [v]:
                out.append("%s = %s" % (k, one))
        out.append("")
    return "\n".join(out)


class Daemon:
    """One pigeond with its own config, data dir and ports under `root`."""

    def __init__(self, root, name="pigeond", server=None, smtp=None, submission=None,
                 users=None, domains=(DOMAIN,), pop3=None, pop3s=None, imap=None,
                 imaps=None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.data_dir = str(self.root / "data")
        self.conf = str(self.root / "pigeon.conf")
        self.log_path = str(self.root / "pigeond.log")
        self.smtp_port = free_port()
        self.sub_port = free_port()
        self.proc = None
        self.exit_codes = []
        self.sections = {
            "server": {
                "hostname": HOSTNAME,
                "primary_domain": DOMAIN,
                "data_dir": self.data_dir,
                "log_level": "info",
                "workers": 2,
                "postmaster": "alice@hamburger.edu",
                "shutdown_timeout": 10,
            },
            "smtp": {
                "listen": "127.0.0.1:%d" % self.smtp_port,
                "max_message_size": 26214400,
                "max_recipients": 100,
                "max_connections_per_ip": 50,
                "idle_timeout": 300,
                "session_timeout": 3600,
                "max_errors": 20,
                "starttls": "yes",
                "auth": "no",
            },
            "submission": {
                "listen": "127.0.0.1:%d" % self.sub_port,
                "max_message_size": 26214400,
                "max_recipients": 100,
                "max_connections_per_ip": 50,
                "idle_timeout": 300,
                "session_timeout": 3600,
                "max_errors": 20,
                "starttls": "yes",
                "auth": "yes",
            },
            # Outbound mail must never leave loopback: the mail side's DNS is a dead local
            # port, so remote recipients stay queued (deferred) unless a test sets up DNS.
            "delivery": {
                "resolver": "127.0.0.1:%d" % free_port(),
                "remote_port": free_port(),
            },
            # Tests write their zones by hand: pigeond adds the mail records of its local
            # domains to the zones it serves only where a test asks (test_mail_dns.py).
            "mail_dns": {"publish": "no"},
        }
        for sec, over in (("server", server), ("smtp", smtp), ("submission", submission)):
            self.sections[sec].update(over or {})
        self.users = dict(USERS if users is None else users)
        self.domains = list(domains)
        self.ports = [self.smtp_port, self.sub_port]
        # Mail-access services are on only when asked for (pop3={} enables [pop3]).
        self.pop3_port = self.pop3s_port = self.imap_port = self.imaps_port = None
        for sec, over in (("pop3", pop3), ("pop3s", pop3s), ("imap", imap), ("imaps", imaps)):
            if over is None:
                continue
            port = free_port()
            setattr(self, sec + "_port", port)
            self.sections[sec] = {
                "listen": "127.0.0.1:%d" % port,
                "plaintext_auth": "loopback" if sec in ("pop3", "imap") else None,
                "max_connections_per_ip": 50,
                "idle_timeout": 300,
                "max_errors": 20,
            }
            self.sections[sec].update(over)
            self.ports.append(port)
        with _DAEMONS_LOCK:
            DAEMONS.append(self)
        self.write_conf()

    # -- config and setup
    def write_conf(self):
        Path(self.conf).write_text(_render_conf(self.sections))

    def cli(self, *args, input=None, check=True, timeout=60):
        cmd = [str(PIGEON), "-c", self.conf] + [str(a) for a in args]
        p = subprocess.run(cmd, input=input.encode() if isinstance(input, str) else input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                           env=sanitizer_env(), cwd=str(self.root))
        if check and p.returncode != 0:
            raise AssertionError("%s -> exit %d\nstdout: %s\nstderr: %s" % (
                " ".join(cmd), p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")))
        return p

    def setup(self):
        for d in self.domains:
            self.cli("domain", "add", d)
        for addr, pw in self.users.items():
            self.add_user(addr, pw)

    def add_user(self, addr, pw):
        self.cli("user", "add", addr, input=pw + "\n")
        self.users[addr] = pw

    # -- process
    def start(self, wait=True):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.log_file = open(self.log_path, "ab")
        self.start_offset = self.log_size()
        self.proc = subprocess.Popen([str(PIGEOND), "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT,
                                     env=sanitizer_env(), cwd=str(self.root))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        for port in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise AssertionError("pigeond exited with %s during start-up\n%s" % (
                        self.proc.returncode, self.log_tail()))
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError("pigeond not listening on %d after %.0fs\n%s" % (
                            port, timeout, self.log_tail()))
                    time.sleep(0.1)
        self.wait_ready_line(max(1.0, deadline - time.monotonic()))

    def wait_ready_line(self, timeout=None):
        """Waits for "pigeond ready" from this start: the listeners are bound before the
        signal handlers are installed and the workers run, so a SIGTERM or SIGHUP sent as
        soon as a port answers would kill the daemon, and start-up log lines may be missing.
        Skipped when the daemon logs elsewhere than stderr ([server] log)."""
        if self.sections.get("server", {}).get("log", "stderr") != "stderr":
            return
        self.wait_log(r"pigeond ready", start=getattr(self, "start_offset", 0), timeout=timeout)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit code (kills with SIGKILL after timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._closed()
                raise AssertionError("pigeond did not exit within %ss of SIGTERM\n%s" % (
                    timeout, self.log_tail()))
        return self._closed()

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return self._closed()

    def wait_exit(self, timeout):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        return self._closed()

    def _closed(self):
        if self.proc is None:   # made but never started (new_daemon(start=False))
            return None
        rc = self.proc.returncode
        if getattr(self, "log_file", None):
            self.log_file.close()
            self.log_file = None
        if getattr(self, "_recorded", None) is not self.proc:
            self._recorded = self.proc
            self.exit_codes.append(rc)
        return rc

    # -- logs
    def log(self):
        try:
            return Path(self.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_tail(self, n=20000, start=0):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                data = f.read()
        except OSError:
            return "(no log)"
        data = data.decode(errors="replace")
        if len(data) > n:
            data = "...\n" + data[-n:]
        return data

    def open_sessions(self, proto):
        """Ids of the `proto` ("smtp", "pop3", "imap") sessions this daemon's log shows opened
        (any line of the session) and not yet closed ("disconnect from", written when
        net/conn.c frees the connection and its per-address places are released)."""
        text = self.log()
        seen = set(re.findall(r"\b%s (s[0-9a-f]+) " % proto, text))
        gone = set(re.findall(r"\b%s (s[0-9a-f]+) disconnect from " % proto, text))
        return seen - gone

    def wait_sessions_closed(self, proto, what=None):
        """Waits until every `proto` session the log shows has ended."""
        wait_until(lambda: not self.open_sessions(proto),
                   what=what or "every %s session to end in %s's log" % (proto, self.log_path),
                   on_timeout=lambda: "open: %s" % sorted(self.open_sessions(proto)))

    def wait_log(self, pattern, start=0, timeout=None, count=1):
        """Waits until the log, from byte offset start (e.g. a log_size() taken before the
        action), holds `count` matches of the regular expression pattern; returns the last
        match. Fails early, with the log tail, if the daemon exits meanwhile."""
        rx = re.compile(pattern)

        def found():
            text = self.log_tail(1 << 30, start)
            ms = list(rx.finditer(text))
            if len(ms) >= count:
                return ms[count - 1]
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("%s exited (%s) before logging %r\n%s" % (
                    self.name, self.proc.returncode, pattern, self.log_tail(8000, start)))
            return None
        return wait_until(found, timeout, "%r in %s's log" % (pattern, self.name),
                          on_timeout=lambda: self.log_tail(8000, start))

    def sanitizer_report(self):
        text = self.log()
        for m in SANITIZER_MARKERS:
            i = text.find(m)
            if i >= 0:
                return text[max(0, i - 200): i + 6000]
        return None

    # -- mail
    def messages(self, address="bob@hamburger.edu", mailbox="INBOX"):
        out = self.cli("mail", "list", address, mailbox).stdout.decode("utf-8", "replace")
        msgs = []
        for line in out.splitlines():
            if not line.strip():
                continue
            f = line.split("\t")
            assert len(f) >= 4, "bad `mail list` line %r" % line
            msgs.append(StoredMessage(self, f[0], f[1], f[2], "\t".join(f[3:])))
        return msgs

    def new_messages(self, before, address="bob@hamburger.edu", mailbox="INBOX"):
        """Messages with a uid above every uid in `before` (a list from messages())."""
        top = max((m.uid for m in before), default=0)
        return [m for m in self.messages(address, mailbox) if m.uid > top]

    def cat(self, address, uid):
        return self.cli("mail", "cat", address, uid).stdout

    def queue(self):
        return self.cli("queue", "list").stdout.decode("utf-8", "replace")

    def queue_rows(self):
        """`pigeon queue list` as dicts: id, arrived, state, attempts, sender, rcpt, error
        (sender and rcpt without the <>)."""
        return parse_queue_list(self.queue())

    # -- clients
    def smtp(self, **kw):
        return SMTPClient(self.smtp_port, **kw)

    def submission(self, **kw):
        return SMTPClient(self.sub_port, **kw)

    def pop3(self, **kw):
        return POP3Client(self.pop3_port, **kw)

    def pop3s(self, **kw):
        return POP3Client(self.pop3s_port, tls=True, **kw)


QUEUE_HEADER = re.compile(r"^QUEUE ID +ARRIVED \(UTC\) +STATE +TRIES +SENDER +RECIPIENT +LAST ERROR$")
QUEUE_ROW = re.compile(r"^([0-9a-f]{32})  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  (\S+) +(\d+)  <(\S*)> +"
                       r"<(\S*)> +(.*)$")


def parse_queue_list(text):
    """Rows of `pigeon queue list` output (header and footer checked)."""
    lines = text.splitlines()
    if lines == ["queue is empty"]:
        return []
    assert QUEUE_HEADER.match(lines[0]), "bad queue list header %r" % lines[0]
    assert re.match(r"^\d+ messages?, \d+ recipients?$", lines[-1]), lines[-1]
    rows = []
    for line in lines[1:-1]:
        m = QUEUE_ROW.match(line)
        assert m, "bad queue list line %r" % line
        rows.append({"id": m.group(1), "arrived": m.group(2), "state": m.group(3),
                     "attempts": int(m.group(4)), "sender": m.group(5), "rcpt": m.group(6),
                     "error": m.group(7)})
    return rows


def kill_all():
    with _DAEMONS_LOCK:
        ds = list(DAEMONS)
    for d in ds:
        try:
            d.kill9()
        except Exception:
            pass


def make_daemon(root, start=True, **kw):
    d = Daemon(root, **kw)
    d.setup()
    if start:
        d.start()
    return d
