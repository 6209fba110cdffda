"""Every TCP connection the sample instance (`make run`: every service) accepts has
TCP_NODELAY (set on the listener, which accepted sockets inherit, or per connection). Without it a reply written in more than one piece (an IMAP FETCH
of 50 envelopes and previews, a POP3 RETR, a DNS answer after its length) waits for the
client's delayed ACK: about 40 ms per reply on Linux, where the reply itself takes ~1 ms.

The test connects to each listening port, takes a copy of pigeond's end of that connection
(pidfd_getfd(2), root only) and asks the socket itself."""

import ctypes
import os
import socket
import time

import pytest

import sample_instance as S

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # x86-64 and arm64 alike (the generic numbers)
TCP_LISTEN, TCP_ESTABLISHED = "0A", "01"
# Ports left out, with why: the BitTorrent peer port of the sample ([torrent] listen) carries a
# bulk stream of 16 KiB blocks, where Nagle holds back nothing a peer waits for (the owner of
# src/torrent decides whether its peers want TCP_NODELAY; remove the port here if so).
NOT_REQUEST_REPLY = {6881}


def tcp_sockets(pid, state):
    """(local port, remote port) -> inode of the process's TCP sockets in state (v4 and v6)."""
    out = {}
    for table in ("tcp", "tcp6"):
        with open("/proc/%d/net/%s" % (pid, table)) as f:
            next(f)
            for line in f:
                cols = line.split()
                if cols[3] == state:
                    lport = int(cols[1].rsplit(":", 1)[1], 16)
                    rport = int(cols[2].rsplit(":", 1)[1], 16)
                    out[(lport, rport)] = int(cols[9])
    return out


def fd_of(pid, inode):
    """pid's descriptor number for the socket inode, or None."""
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, name)) == "socket:[%d]" % inode:
                return int(name)
        except OSError:
            continue
    return None


def accepted_fd(pid, port, client):
    """pigeond's descriptor for the connection client made to port, once it has accepted it."""
    cport = client.getsockname()[1]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        inode = tcp_sockets(pid, TCP_ESTABLISHED).get((port, cport))
        fd = fd_of(pid, inode) if inode else None
        if fd is not None:
            return fd
        time.sleep(0.02)  # polling for the accept (an event), not a fixed wait
    raise AssertionError("pigeond did not accept the connection to port %d" % port)


def copy_fd(pid, fd):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
    if pidfd < 0:
        pytest.skip("pidfd_open: %s" % os.strerror(ctypes.get_errno()))
    try:
        mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if mine < 0:
            pytest.skip("pidfd_getfd: %s" % os.strerror(ctypes.get_errno()))
        return mine
    finally:
        os.close(pidfd)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d, _ = S.start(tmp_path_factory.mktemp("nodelay"))
    yield d
    d.stop()


def test_every_accepted_tcp_connection_has_nodelay(sample):
    pid = sample.proc.pid
    ports = sorted({lport for (lport, _) in tcp_sockets(pid, TCP_LISTEN)} - NOT_REQUEST_REPLY)
    assert len(ports) >= 8, ports  # smtp, submission, pop3, imap, dns, http, ftp, managesieve...
    without = []
    for port in ports:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            s = socket.socket(fileno=copy_fd(pid, accepted_fd(pid, port, client)))
            try:
                if not s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                    without.append(str(port))
            finally:
                s.close()
    assert not without, "connections accepted without TCP_NODELAY on ports " + ", ".join(without)
