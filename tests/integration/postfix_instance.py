"""A private Postfix instance for the interop tests: its own config_directory, queue_directory
and data_directory under a temp dir, listening on one loopback address, delivering one virtual
domain to Maildirs, and resolving names through the test's DNS server.

Why a mount namespace and not a network namespace: Postfix's resolver reads /etc/resolv.conf.
The instance is started under `unshare --mount` with the test's own resolv.conf bind-mounted on
/etc/resolv.conf (what `ip netns exec` does with /etc/netns/NAME/resolv.conf), so every Postfix
process asks the test's DNS server and nothing else, while it stays in the host's network
namespace. A separate network namespace would not work with loopback addresses: 127.0.0.0/8 is
local in every namespace, so 127.0.54.x inside it could never reach the pigeonds outside (it
would need non-loopback addresses, a veth pair and routes instead). The host's resolv.conf is
untouched (the bind mount exists only in the instance's private mount namespace).

Needs root (the master runs as root and drops to the postfix user), the Debian postfix package
and unshare(1).
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"


def available():
    """None when a private Postfix can run here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root"
    if not os.access(POSTFIX, os.X_OK):
        return "postfix is not installed (scripts/install-deps.sh installs it)"
    if not shutil.which("unshare"):
        return "unshare(1) is missing"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "no postfix user"
    return None


MASTER_CF = """\
# service type private unpriv chroot wakeup maxproc command (no chroot: no copies of /etc)
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class Postfix:
    def __init__(self, ip, hostname, domain, users, nameserver, port=25):
        self.ip, self.port, self.hostname, self.domain = ip, port, hostname, domain
        # Not under pytest's tmp_path: that is 0700 root, and Postfix's daemons run as the
        # postfix user (and virtual(8) as nobody) and must get in.
        self.dir = Path(tempfile.mkdtemp(prefix="pigeon-postfix-"))
        os.chmod(self.dir, 0o755)
        self.etc = self.dir / "etc"
        self.queue = self.dir / "queue"
        self.data = self.dir / "data"
        self.mail = self.dir / "mail"
        self.maillog = self.dir / "maillog"
        for d in (self.etc, self.queue, self.data, self.mail):
            d.mkdir()
        nobody = pwd.getpwnam("nobody")
        os.chown(self.data, pwd.getpwnam("postfix").pw_uid, -1)
        os.chown(self.mail, nobody.pw_uid, nobody.pw_gid)
        self.resolv = self.dir / "resolv.conf"
        self.resolv.write_text("nameserver %s\noptions timeout:2 attempts:2\n" % nameserver)
        (self.etc / "vmailbox").write_text("".join("%s %s/\n" % (u, u.split("@")[0])
                                                   for u in users))
        self._cert()
        self.etc.joinpath("main.cf").write_text(f"""\
# Private Postfix for tests/integration/test_postfix_interop.py
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {hostname}
mydomain = {domain}
myorigin = {domain}
mydestination =
relayhost =
# all: Postfix insists that inet_interfaces be addresses of interfaces, and 127.0.54.x
# is not one (only 127.0.0.1/8 on lo); master.cf binds smtpd to {ip} alone anyway.
inet_interfaces = all
inet_protocols = ipv4
smtp_bind_address = {ip}
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = may
smtpd_tls_cert_file = {self.dir}/cert.pem
smtpd_tls_key_file = {self.dir}/key.pem
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_loglevel = 1
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {self.mail}
virtual_mailbox_maps = texthash:{self.etc}/vmailbox
virtual_uid_maps = static:{nobody.pw_uid}
virtual_gid_maps = static:{nobody.pw_gid}
maillog_file = {self.maillog}
maillog_file_prefixes = {self.dir}
# quick retries: the tests never wait on Postfix's back-off
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
""")
        self.etc.joinpath("master.cf").write_text(MASTER_CF.format(listen="%s:%d" % (ip, port)))
        self.started = False

    def _cert(self):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=" + self.hostname, "-keyout", str(self.dir / "key.pem"),
                        "-out", str(self.dir / "cert.pem")], check=True, capture_output=True)

    def postfix(self, *args, check=True):
        return subprocess.run([POSTFIX, "-c", str(self.etc), *args], capture_output=True,
                              text=True, check=check, timeout=60)

    def start(self, timeout=30):
        self.postfix("check")
        # The bind mount lives only in the new mount namespace, which the master and all its
        # children inherit; the private propagation keeps it out of the host's.
        script = 'mount --bind "$1" /etc/resolv.conf && exec "$2" -c "$3" start'
        subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                        "sh", str(self.resolv), POSTFIX, str(self.etc)],
                       check=True, capture_output=True, timeout=60)
        self.started = True
        end = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((self.ip, self.port), timeout=1).close()
                return self
            except OSError:
                if time.monotonic() > end:
                    raise AssertionError("postfix not listening on %s:%d\n%s" % (
                        self.ip, self.port, self.log()))
                time.sleep(0.1)

    def master_pid(self):
        try:
            return int((self.queue / "pid" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        self.postfix("stop", check=False)
        end = time.monotonic() + 10
        while pid and time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid:
                self.postfix("abort", check=False)
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            return self.maillog.read_text(errors="replace")
        except OSError:
            return "(no maillog)"

    def maildir(self, user):
        """The messages delivered to user's Maildir/new, as bytes, oldest first."""
        new = self.mail / user / "new"
        if not new.is_dir():
            return []
        files = sorted(new.iterdir(), key=lambda p: p.stat().st_mtime)
        return [p.read_bytes() for p in files]

    def queue_empty(self):
        r = subprocess.run(["postqueue", "-c", str(self.etc), "-p"], capture_output=True,
                           text=True, timeout=30)
        return "Mail queue is empty" in r.stdout
