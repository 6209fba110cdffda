"""Every TCP listener of the sample instance (`make run`: every service) has TCP_NODELAY, which
the connections it accepts inherit (net/conn.h: proto_ops.nodelay; no service sets it per
connection). Without it a reply written in more than one piece (an IMAP FETCH of 50 envelopes
and previews, a POP3 RETR, FTP's 150 then 226, a DNS answer after its length) waits for the
client's delayed ACK: about 40 ms per reply on Linux, where the reply itself takes ~1 ms.

The test takes a copy of each listening socket out of pigeond (pidfd_getfd(2), root only) and
asks the socket itself: nothing to wait for."""

import ctypes
import os
import socket

import pytest

import sample_instance as S

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438  # x86-64 and arm64 alike (the generic numbers)
TCP_LISTEN = "0A"
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


def listening_fds(pid):
    """(fd number in pid, port) of the process's listening TCP sockets."""
    ports = {inode: lport for (lport, _), inode in tcp_sockets(pid, TCP_LISTEN).items()}
    out = []
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, name))
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in ports:
            out.append((int(name), ports[int(target[8:-1])]))
    return out


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


def test_every_tcp_listener_has_nodelay(sample):
    pid = sample.proc.pid
    fds = [(fd, port) for fd, port in listening_fds(pid) if port not in NOT_REQUEST_REPLY]
    assert len(fds) >= 8, fds  # smtp, submission, pop3, imap, dns, http, ftp, managesieve...
    without = []
    for fd, port in fds:
        s = socket.socket(fileno=copy_fd(pid, fd))
        try:
            if not s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                without.append(str(port))
        finally:
            s.close()
    assert not without, "listeners without TCP_NODELAY on ports " + ", ".join(without)
