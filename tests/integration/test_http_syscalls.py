"""System calls per HTTP request (issue 13's measure: where the time goes). On this project's
machines every system call pays for page-table isolation, so the web server's connections
make as few as they can: net/conn.c reads a direct-mode socket itself (one recv per readable
event; libevent's reader asks ioctl(FIONREAD) before every read), a new connection's socket
is added to epoll once (its bufferevent's read and write events are never added: conn.c
reads, and writes directly), and over TLS conn.c runs OpenSSL on the socket itself (one read
per request's record, one write per answer). strace counts the daemon's calls while requests
run; the limits are counts, not times (strace slows everything down)."""

import http.client
import shutil
import signal
import ssl
import subprocess

import pytest

import http_helpers as X

web = X.web_fixture("http_syscalls")

REQUESTS = 200


class Strace:
    """strace -c on every thread of the daemon; stop() returns {syscall: calls}."""

    def __init__(self, pid, out):
        assert shutil.which("strace"), "strace is missing (scripts/install-deps.sh)"
        self.out = out
        self.p = subprocess.Popen(["strace", "-f", "-c", "-o", str(out), "-p", str(pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # "strace: Process N attached with T threads" once every thread is traced.
        line = self.p.stderr.readline()
        assert b"attached" in line, "strace did not attach (is ptrace allowed?): %r" % line

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        self.p.communicate(timeout=60)
        calls = {}
        for line in self.out.read_text().splitlines():
            f = line.split()
            if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
                calls[f[-1]] = int(f[3])
        return calls


def get(conn):
    conn.request("GET", "/style.css", headers={"Host": "localhost"})
    r = conn.getresponse()
    assert r.status == 200 and r.read() == b"body { font-family: serif; }\n"


def test_keep_alive_requests_ask_nothing_of_the_socket(web, tmp_path):
    """200 requests on one keep-alive connection: no ioctl and no epoll_ctl per request (the
    socket is read with one recv, the answer leaves in one writev)."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    get(conn)  # the file is in the open-file cache, the connection set up
    st = Strace(web.d.proc.pid, tmp_path / "ka.strace")
    for _ in range(REQUESTS):
        get(conn)
    calls = st.stop()
    conn.close()
    assert calls.get("recvfrom", 0) + calls.get("read", 0) >= REQUESTS, calls
    assert calls.get("ioctl", 0) < REQUESTS / 10, calls
    assert calls.get("epoll_ctl", 0) < REQUESTS / 10, calls
    assert calls.get("writev", 0) + calls.get("write", 0) >= REQUESTS, calls


def test_a_new_connection_is_added_to_epoll_once(web, tmp_path):
    """One request per connection: its socket is added to epoll and removed once, nothing in
    between (before: added for reading, for writing, then writing taken off again)."""
    warm = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    get(warm)
    warm.close()
    n = 50
    st = Strace(web.d.proc.pid, tmp_path / "close.strace")
    for _ in range(n):
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
        get(conn)
        conn.close()
    calls = st.stop()
    assert calls.get("accept4", 0) >= n, calls
    # ADD and DEL per connection (the last ones' DEL may come after strace let go).
    assert calls.get("epoll_ctl", 0) <= 2 * n + 10, calls
    assert calls.get("ioctl", 0) < n / 5, calls
    # TCP_NODELAY comes from the listening socket, not a setsockopt per connection.
    assert calls.get("setsockopt", 0) < n / 5, calls


def test_tls_requests_read_once(web, tmp_path):
    """200 requests on one keep-alive TLS connection: conn.c runs TLS on the socket itself
    (net/tls_sock.c, not libevent's OpenSSL filter), so a request is one read of its record
    (read-ahead, no ioctl(FIONREAD) first) and its answer one write: no ioctl and no
    epoll_ctl per request. The reads: the record's, and the open-file cache's look at its
    inotify queue."""
    ctx = ssl._create_unverified_context()
    conn = http.client.HTTPSConnection("127.0.0.1", web.tls_port, timeout=30, context=ctx)
    get(conn)
    st = Strace(web.d.proc.pid, tmp_path / "tls.strace")
    for _ in range(REQUESTS):
        get(conn)
    calls = st.stop()
    conn.close()
    reads = calls.get("recvfrom", 0) + calls.get("read", 0)
    assert REQUESTS <= reads <= REQUESTS * 2.2, calls
    assert calls.get("ioctl", 0) < REQUESTS / 10, calls
    assert calls.get("epoll_ctl", 0) < REQUESTS / 10, calls
    assert calls.get("writev", 0) + calls.get("write", 0) >= REQUESTS, calls


if __name__ == "__main__":
    pytest.main([__file__])
