"""A scriptable SMTP server in plain Python sockets, for the outbound-delivery tests.

It plays a remote MX that misbehaves on purpose: answers 4xx/5xx at a chosen command, drops the
connection right after DATA's 354 (or after the data, before the final reply), offers or hides
STARTTLS. Messages it accepted (250 after the data) are recorded in `messages`.

    srv = FakeSMTPServer("127.0.54.14").start()
    srv.drop_after_354 = 1        # the first connection that reaches DATA is cut after 354
    ...
    srv.stop()
"""
import socket
import threading


class FakeSMTPServer:
    def __init__(self, ip, port=25, name="fake.test", extensions=("PIPELINING", "8BITMIME",
                                                                    "SIZE 10485760")):
        self.ip, self.port, self.name = ip, port, name
        self.extensions = list(extensions)
        # Replies (without CRLF); a reply may be a callable(arg) -> str.
        self.greeting = "220 %s ESMTP fake" % name
        self.mail_reply = "250 2.1.0 ok"
        self.rcpt_reply = "250 2.1.5 ok"
        self.dot_reply = "250 2.0.0 queued"
        # How many connections still get cut: right after 354, or after the data's final dot.
        self.drop_after_354 = 0
        self.drop_after_data = 0
        self.messages = []        # (mail_from, [rcpts], data bytes) accepted with 250
        self.connections = 0
        self.ended = 0            # sessions finished (closed by either side)
        self.commands = []        # every command line received, over all connections
        self.lock = threading.Lock()
        self.sock = None
        self.threads = []
        self.stopping = False

    # -- lifecycle
    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.ip, self.port))
        s.listen(16)
        s.settimeout(0.2)
        self.sock = s
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(5)
        if self.sock:
            self.sock.close()
            self.sock = None

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
            t = threading.Thread(target=self._session, args=(conn,), daemon=True)
            t.start()

    # -- one session
    @staticmethod
    def _reply(r, arg):
        return r(arg) if callable(r) else r

    def _session(self, conn):
        conn.settimeout(30)
        f = conn.makefile("rb")
        try:
            self._converse(conn, f)
        except (OSError, ValueError):
            pass
        finally:
            try:
                f.close()
                conn.close()
            except OSError:
                pass
            with self.lock:
                self.ended += 1

    def _converse(self, conn, f):
        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        send(self.greeting)
        mail_from, rcpts = None, []
        while True:
            raw = f.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.lock:
                self.commands.append(line)
            verb = line.split(" ", 1)[0].upper()
            arg = line[len(verb):].strip()
            if verb == "EHLO":
                lines = [self.name] + self.extensions
                for i, l in enumerate(lines):
                    send("250%s%s" % ("-" if i < len(lines) - 1 else " ", l))
            elif verb == "HELO":
                send("250 " + self.name)
            elif verb == "MAIL":
                r = self._reply(self.mail_reply, arg)
                if r.startswith("2"):
                    mail_from, rcpts = arg, []
                send(r)
            elif verb == "RCPT":
                r = self._reply(self.rcpt_reply, arg)
                if r.startswith("2") and mail_from is not None:
                    rcpts.append(arg)
                send(r)
            elif verb == "DATA":
                if not rcpts:
                    send("554 5.5.1 no valid recipients")
                    continue
                send("354 go ahead")
                with self.lock:
                    cut = self.drop_after_354 > 0
                    self.drop_after_354 -= cut
                if cut:
                    return
                data = self._read_data(f)
                with self.lock:
                    cut = self.drop_after_data > 0
                    self.drop_after_data -= cut
                if cut:
                    return
                r = self._reply(self.dot_reply, data)
                if r.startswith("2"):
                    with self.lock:
                        self.messages.append((mail_from, list(rcpts), data))
                send(r)
                mail_from, rcpts = None, []
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 reset")
            elif verb == "NOOP":
                send("250 2.0.0 ok")
            elif verb == "QUIT":
                send("221 2.0.0 bye")
                return
            else:
                send("502 5.5.1 command not implemented")

    @staticmethod
    def _read_data(f):
        out = []
        while True:
            raw = f.readline()
            if not raw:
                raise ValueError("connection closed in DATA")
            if raw == b".\r\n":
                return b"".join(out)
            out.append(raw[1:] if raw.startswith(b".") else raw)
