#!/usr/bin/env python3
"""Load client of bench/mailauth.sh: N messages over C concurrent SMTP sessions (several
messages per session: MAIL, RCPT, DATA repeated), each message's 250 awaited. Without --user it
sends the DKIM-signed message file as it is, unauthenticated; for signing, --tls --user
log in with AUTH PLAIN over implicit TLS first (Pigeon signs authenticated mail; OpenDKIM signs
mail from its internal hosts, chosen with --source) and the unsigned file is sent. Prints "MESSAGES SECONDS" (first
connection to the last 250)."""
import argparse
import asyncio
import base64
import ssl
import time


async def session(args, count, body, t0):
    ctx = None
    if args.tls:  # implicit TLS (RFC 8314), certificate not checked: a benchmark on loopback
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    r, w = await asyncio.open_connection(args.host, args.port, ssl=ctx,
                                         local_addr=(args.source, 0) if args.source else None)

    async def reply():
        while True:
            line = await r.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return line

    async def cmd(text, want):
        w.write(text)
        line = await reply()
        if not line.startswith(want):
            raise RuntimeError("%r -> %r" % (text[:40], line))

    await reply()
    await cmd(b"EHLO bench.client\r\n", b"250")
    if args.user:
        token = base64.b64encode(b"\0" + args.user.encode() + b"\0" + args.password.encode())
        await cmd(b"AUTH PLAIN " + token + b"\r\n", b"235")
    for _ in range(count):
        await cmd(b"MAIL FROM:<%s>\r\n" % args.sender.encode(), b"250")
        await cmd(b"RCPT TO:<%s>\r\n" % args.rcpt.encode(), b"250")
        await cmd(b"DATA\r\n", b"354")
        await cmd(body + b".\r\n", b"250")
    w.write(b"QUIT\r\n")
    await w.drain()
    w.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--source")
    p.add_argument("-n", type=int, required=True)
    p.add_argument("-c", type=int, required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--sender", required=True)
    p.add_argument("--rcpt", required=True)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--user")
    p.add_argument("--password")
    args = p.parse_args()
    with open(args.file, "rb") as f:
        body = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    body = b"".join((b"." + l if l.startswith(b".") else l) for l in body.splitlines(True))
    per = [args.n // args.c + (1 if i < args.n % args.c else 0) for i in range(args.c)]
    t0 = time.monotonic()
    await asyncio.gather(*(session(args, k, body, t0) for k in per if k))
    print(args.n, "%.3f" % (time.monotonic() - t0))


asyncio.run(main())
