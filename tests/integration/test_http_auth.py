"""Cookies and the login session (RFC 6265) with curl's cookie jar, and the upload area: PUT
(201/204, parents created, durable) and DELETE for Pigeon users with HTTP Basic; plaintext
passwords refused where the site says so; TLS."""

import base64
import http.client
import re
import time

import pytest

import http_helpers as X
import pigeon_harness as H


web = X.web_fixture("http_auth", extra_sites={
    "strict": {"name": "strict.example", "root": "www", "upload": "/uploads/",
               "login": "yes", "plaintext_auth": "no"},
    "brief": {"name": "brief.example", "root": "www", "login": "yes", "session_ttl": 5},
})


def test_login_cookie_jar(web, tmp_path):
    jar = tmp_path / "jar.txt"
    rc, out, _ = X.curl("-c", jar, "-o", "/dev/null", "-w", "%{http_code}",
                        "--data", "username=alice&password=crepes", web.url("/login"))
    assert out == b"303"
    text = jar.read_text()
    assert "#HttpOnly_127.0.0.1" in text and "pigeon_session" in text
    rc, out, _ = X.curl("-b", jar, web.url("/whoami"))
    assert b"Logged in as <strong>alice@hamburger.edu</strong>" in out
    # The Set-Cookie attributes themselves.
    rc, out, _ = X.curl("-i", "--data", "username=bob&password=hungry", web.url("/login"))
    cookie = [l for l in out.decode().splitlines() if l.lower().startswith("set-cookie:")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP
    # Logout ends the session server-side: the old cookie is refused afterwards.
    rc, out, _ = X.curl("-b", jar, "-c", jar, "-X", "POST", "-o", "/dev/null", "-w",
                        "%{http_code}", web.url("/logout"))
    assert out == b"303"
    old = re.search(r"pigeon_session\t(\w+)", text).group(1)
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-b", "pigeon_session=" + old,
                        web.url("/whoami"))
    assert out == b"403"


def test_login_refusals(web):
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "--data",
                        "username=alice&password=wrong", web.url("/login"))
    assert out == b"403"
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "--data", "username=alice",
                        web.url("/login"))
    assert out == b"400"
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-b",
                        "pigeon_session=" + "0" * 32, web.url("/whoami"))
    assert out == b"403"  # forged
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", web.url("/whoami"))
    assert out == b"403"
    rc, out, _ = X.curl(web.url("/login"))
    assert b'<form method="post" action="/login">' in out


def test_login_over_tls_secure_cookie_and_plaintext_refused(web):
    # The strict site takes passwords over TLS only.
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: strict.example",
                        "--data", "username=alice&password=crepes", web.url("/login"))
    assert out == b"403"
    rc, out, err = X.curl("-k", "-i", "-H", "Host: strict.example", "--data",
                          "username=alice&password=crepes", web.url("/login", tls=True))
    assert rc == 0, err
    assert out.startswith(b"HTTP/1.1 303") or out.startswith(b"HTTP/2 303")
    cookie = [l for l in out.decode().splitlines() if l.lower().startswith("set-cookie:")][0]
    assert "; Secure" in cookie
    sid = re.search(r"pigeon_session=(\w+)", cookie).group(1)
    rc, out, _ = X.curl("-k", "-H", "Host: strict.example", "-b", "pigeon_session=" + sid,
                        web.url("/whoami", tls=True))
    assert b"alice@hamburger.edu" in out
    # A session of one site is not one of another.
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-b",
                        "pigeon_session=" + sid, web.url("/whoami"))
    assert out == b"403"


def test_stale_session_refused(web):
    # session_ttl = 5 on this site: valid at once, refused once it has gone stale.
    rc, out, _ = X.curl("-i", "-H", "Host: brief.example", "--data",
                        "username=alice&password=crepes", web.url("/login"))
    sid = re.search(rb"pigeon_session=(\w+)", out).group(1).decode()
    args = ["-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: brief.example", "-b",
            "pigeon_session=" + sid, web.url("/whoami")]
    rc, code, _ = X.curl(*args)
    assert code == b"200"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rc, code, _ = X.curl(*args)
        if code == b"403":
            break
        time.sleep(0.2)
    assert code == b"403"


def test_put_delete(web, tmp_path):
    src = tmp_path / "report.txt"
    src.write_bytes(b"quarterly burger report\n" * 50)
    target = web.www / "uploads" / "deep" / "er" / "report.txt"
    rc, out, _ = X.curl("-T", src, "-u", "bob@hamburger.edu:hungry", "-o", "/dev/null", "-w",
                        "%{http_code}", web.url("/uploads/deep/er/report.txt"))
    assert out == b"201"
    assert target.read_bytes() == src.read_bytes()
    src.write_bytes(b"revised\n")
    rc, out, _ = X.curl("-T", src, "-u", "bob:hungry", "-o", "/dev/null", "-w", "%{http_code}",
                        web.url("/uploads/deep/er/report.txt"))
    assert out == b"204"
    assert target.read_bytes() == b"revised\n"
    # GET stays public.
    rc, out, _ = X.curl(web.url("/uploads/deep/er/report.txt"))
    assert out == b"revised\n"
    rc, out, _ = X.curl("-X", "DELETE", "-u", "bob:hungry", "-o", "/dev/null", "-w",
                        "%{http_code}", web.url("/uploads/deep/er/report.txt"))
    assert out == b"204"
    assert not target.exists()
    rc, out, _ = X.curl("-X", "DELETE", "-u", "bob:hungry", "-o", "/dev/null", "-w",
                        "%{http_code}", web.url("/uploads/deep/er/report.txt"))
    assert out == b"404"
    assert not list((web.www / "uploads").rglob(".pigeon-put-*"))


def test_put_refusals(web, tmp_path):
    src = tmp_path / "f.txt"
    src.write_bytes(b"x\n")
    # No credentials, wrong password: 401 with a Basic challenge.
    rc, out, _ = X.curl("-i", "-T", src, web.url("/uploads/f.txt"))
    out = out.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"")  # curl asked for it
    assert out.startswith(b"HTTP/1.1 401") and b'WWW-Authenticate: Basic realm="hamburger"' in out
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-T", src, "-u", "bob:nope",
                        web.url("/uploads/f.txt"))
    assert out == b"401"
    # Outside the upload area: 405 with Allow.
    rc, out, _ = X.curl("-i", "-T", src, "-u", "bob:hungry", web.url("/f.txt"))
    out = out.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b"")
    assert out.startswith(b"HTTP/1.1 405") and b"Allow: GET, HEAD, OPTIONS" in out
    # Plain text passwords where the site refuses them; fine over TLS.
    rc, out, _ = X.curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: strict.example",
                        "-T", src, "-u", "bob:hungry", web.url("/uploads/f.txt"))
    assert out == b"403"
    rc, out, err = X.curl("-k", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                          "Host: strict.example", "-T", src, "-u", "bob:hungry",
                          web.url("/uploads/tls.txt", tls=True))
    assert out == b"201", err
    assert (web.www / "uploads" / "tls.txt").read_bytes() == b"x\n"
    # A path that tries to leave the area.
    data, _ = X.raw(web.port, b"PUT /uploads/../index.html HTTP/1.1\r\nHost: localhost\r\n"
                    b"Authorization: Basic " + base64.b64encode(b"bob:hungry") +
                    b"\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx")
    assert X.status_of(data) == 400
    assert (web.www / "index.html").read_bytes() == X.INDEX


def test_expect_continue_upload(web):
    c = http.client.HTTPConnection("127.0.0.1", web.port, timeout=20)
    c.putrequest("PUT", "/uploads/cont.bin", skip_host=True)
    c.putheader("Host", "localhost")
    c.putheader("Expect", "100-continue")
    c.putheader("Content-Length", "5")
    c.putheader("Authorization", "Basic " + base64.b64encode(b"bob:hungry").decode())
    c.endheaders()
    line = c.sock.recv(64)
    assert line.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    c.sock.sendall(b"hello")
    r = c.getresponse()
    assert r.status == 201
    assert (web.www / "uploads" / "cont.bin").read_bytes() == b"hello"
