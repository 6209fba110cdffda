#!/usr/bin/python3
"""Opens N keep-alive HTTP/1.1 connections to 127.0.0.1:PORT, makes one request on each (so
every connection holds whatever a served keep-alive connection costs), prints "ready", and
keeps them open until stdin closes. Used by bench/http.sh to measure memory per idle
connection.  usage: http_idle.py PORT N PATH"""

import selectors
import socket
import sys


def main():
    port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    req = ("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode()
    socks = []
    sel = selectors.DefaultSelector()
    pending = {}
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        pending[s] = b""
        socks.append(s)
        # Drain answers as they come so that the kernel buffers stay small.
        for key, _ in sel.select(timeout=0):
            drain(key.fileobj, sel, pending)
    while pending:
        for key, _ in sel.select(timeout=30):
            drain(key.fileobj, sel, pending)
    print("ready", flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


def drain(s, sel, pending):
    try:
        data = s.recv(65536)
    except BlockingIOError:
        return
    if not data:
        raise SystemExit("server closed a connection")
    pending[s] += data
    head, sep, body = pending[s].partition(b"\r\n\r\n")
    if sep:
        length = 0
        for line in head.split(b"\r\n"):
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        if len(body) >= length:
            sel.unregister(s)
            del pending[s]


if __name__ == "__main__":
    main()
