"""The proxy cache's tests: an origin server written here (counting the requests it gets,
serving the Cache-Control, ETag, Last-Modified and Vary each test chooses) and a pigeond with
a [proxy] section in front of it."""

import email.utils
import hashlib
import http.client
import http.server
import socket
import threading
import time

import pytest

import pigeon_harness as H


BLOCK = 65536


def pattern_block(i):
    """Block i of a large generated body: different per block, cheap to make."""
    return (b"%016x" % i) * (BLOCK // 16)


def pattern_sha256(size):
    h = hashlib.sha256()
    for off in range(0, size, BLOCK):
        h.update(pattern_block(off // BLOCK)[:size - off])
    return h.hexdigest()


class Origin:
    """A threaded HTTP/1.1 origin on 127.0.0.1. routes: path -> dict(status, headers, body,
    and optionally etag/lm for conditional answers, delay_event to hold the answer)."""

    def __init__(self, addr="127.0.0.1"):
        self.addr = addr
        self.routes = {}
        self.hits = {}
        self.requests = []
        self.lock = threading.Lock()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                path = self.path
                n = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(n) if n else b""
                with origin.lock:
                    origin.hits[path] = origin.hits.get(path, 0) + 1
                    origin.requests.append((self.command, path, dict(self.headers.items()),
                                            body_in))
                    route = origin.routes.get(path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if callable(route):
                    route = route(self)
                if route.get("arrived"):
                    route["arrived"].set()
                if route.get("gate"):
                    route["gate"].wait(30)
                if route.get("parts") or route.get("size"):
                    return self.send_parts(route)
                status = route.get("status", 200)
                headers = dict(route.get("headers", {}))
                body = route.get("body", b"")
                if callable(body):
                    body = body(self)
                etag = headers.get("ETag")
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if status == 200 and ((etag and inm == etag) or
                                      (ims and not inm and headers.get("Last-Modified") == ims)):
                    status, body = 304, b""
                self.send_response(status)
                for k, v in headers.items():
                    for one in v if isinstance(v, list) else [v]:
                        self.send_header(k, one)
                if "Date" not in headers:
                    self.send_header("Date", email.utils.formatdate(usegmt=True))
                if route.get("chunked"):
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if self.command != "HEAD":
                        for i in range(0, len(body), 1000):
                            part = body[i:i + 1000]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.write(b"0\r\n\r\n")
                    return
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD" and status != 304:
                    self.wfile.write(body)

            def send_parts(self, route):
                """parts: pieces sent one by one, waiting for the event `between` after the
                first; size: that many octets of pattern_block() blocks, made as they go."""
                parts = route.get("parts")
                size = sum(map(len, parts)) if parts else route["size"]
                self.send_response(200)
                for k, v in route.get("headers", {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if parts:
                    for i, part in enumerate(parts):
                        if i == 1 and route.get("between"):
                            self.wfile.flush()
                            route["between"].wait(60)
                        self.wfile.write(part)
                    return
                for off in range(0, size, BLOCK):
                    self.wfile.write(pattern_block(off // BLOCK)[:size - off])

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = handle_any

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server((addr, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (self.addr, self.port, path)

    def count(self, path):
        with self.lock:
            return self.hits.get(path, 0)

    def last(self, path):
        with self.lock:
            for r in reversed(self.requests):
                if r[1] == path:
                    return r
        return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ProxyDaemon:
    def __init__(self, root, name, proxy=None, extra=None):
        self.d = H.Daemon(root, name=name)
        self.port = H.free_port()
        self.d.sections["proxy"] = {
            "listen": "127.0.0.1:%d" % self.port,
            "allow_origins": "127.0.0.0/8",
            "read_timeout": 20,
        }
        self.d.sections["proxy"].update(proxy or {})
        self.d.ports.append(self.port)
        for sec, keys in (extra or {}).items():
            self.d.sections[sec] = keys
            if "listen" in keys:
                self.d.ports.append(int(keys["listen"].rsplit(":", 1)[1]))
        self.d.write_conf()
        self.d.setup()
        self.d.start()

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, url, headers=None, method="GET", body=None):
        c = self.conn()
        c.request(method, url, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def stats(self):
        r, body = self.get("/.pigeon/cache-stats")
        assert r.status == 200
        return dict(l.split() for l in body.decode().splitlines())


def finish(d):
    try:
        rc = d.stop()
    finally:
        d.kill9()
    report = d.sanitizer_report()
    if report:
        pytest.fail("sanitizer report in %s log:\n%s" % (d.name, report), pytrace=False)
    assert rc == 0, "pigeond exited with %s on SIGTERM\n%s" % (rc, d.log_tail(8000))
