"""`pigeon reload` puts in force what changed in the services' sections without a restart
(issue 12), each observed with a real client, and nothing in flight is dropped: [zone] and
[tsig] sections added, removed and changed (dig, nsupdate, a signed AXFR that started before
the reload and finishes with the old key), [http NAME] sites (a new root, a new site, a
download in flight, a keep-alive connection whose next request sees the new sites),
[managesieve] (the per-address limit, sieve-connect), [dkim] signing, a
reverse-proxied site across a reload of the sites, and [server] log."""

import hashlib
import socket
import subprocess

import dns.message
import dns.query
import dns.rcode
import dns.tsigkeyring
import dns.zone

import pigeon_harness as H
import dns_auth_helpers as A
from http_helpers import HTTPDaemon, curl, make_site
from reload_helpers import finish, reload

ZONE = """$ORIGIN %(o)s.
$TTL 300
@   IN SOA ns1.%(o)s. admin.%(o)s. %(serial)d 3600 600 86400 300
@   IN NS  ns1.%(o)s.
ns1 IN A   192.0.2.1
www IN A   192.0.2.%(last)d
"""


def zone_text(origin, serial=1, last=10, extra=""):
    return ZONE % {"o": origin, "serial": serial, "last": last} + extra


def rcode(port, name, rdtype="SOA"):
    r = A.query(port, name, rdtype)
    return r.rcode(), r


# --------------------------------------------------------------------------------------------
# zones and keys


def test_zone_added_removed_and_changed(tmp_path):
    d = A.auth_daemon(tmp_path / "auth", {"a.test": zone_text("a.test")})
    d.setup()
    d.start()
    try:
        assert rcode(d.dns_port, "b.test")[0] == dns.rcode.REFUSED
        # add b.test (UPDATE allowed with the key), remove a.test
        path = tmp_path / "auth" / "b.test.zone"
        path.write_text(zone_text("b.test", serial=3))
        d.sections["zone b.test"] = {"file": str(path), "allow_update": "key:" + A.KEY_NAME}
        del d.sections["zone a.test"]
        d.write_conf()
        out = reload(d)
        assert "zone b.test added: serial 3" in out, out
        assert "zone a.test removed: no longer served" in out, out
        assert "applied: [zone b.test] file" in out and "needs restart" not in out, out
        # dig sees the new zone with AA, and no longer answers for the old one
        ans = A.dig(d.dns_port, "www.b.test", "A", "+norec")
        assert "192.0.2.10" in ans and " aa" in ans.split("flags:")[1].split(";")[0], ans
        assert "status: REFUSED" in A.dig(d.dns_port, "www.a.test", "A", check=False)
        # the zone added takes an UPDATE (journal, new serial) like one loaded at start
        rc, text = A.nsupdate(d.dns_port, "b.test", ["update add new.b.test. 300 A 192.0.2.77"])
        assert rc == 0, text
        assert "192.0.2.77" in A.dig(d.dns_port, "new.b.test", "A", "+short")
        assert A.serial(d.dns_port, "b.test") == 4
        # a changed [zone] key (allow_update removed) is applied to the zone kept, whose
        # UPDATEd version (serial 4, from its journal) keeps serving
        del d.sections["zone b.test"]["allow_update"]
        d.write_conf()
        out = reload(d)
        assert "applied: [zone b.test] allow_update" in out, out
        assert "added" not in out and "removed" not in out, out
        rc, text = A.nsupdate(d.dns_port, "b.test", ["update add x.b.test. 300 A 192.0.2.78"])
        assert rc != 0 and "REFUSED" in text, text
        assert A.serial(d.dns_port, "b.test") == 4
        # a zone back: read again from its file
        d.sections["zone a.test"] = {"file": str(d.zone_files["a.test"])}
        d.write_conf()
        assert "zone a.test added: serial 1" in reload(d)
        assert A.serial(d.dns_port, "a.test") == 1
    finally:
        finish(d)


def test_zone_added_with_a_bad_file_fails_and_others_serve(tmp_path):
    d = A.auth_daemon(tmp_path / "auth", {"a.test": zone_text("a.test")})
    d.setup()
    d.start()
    try:
        path = tmp_path / "auth" / "bad.test.zone"
        path.write_text("$ORIGIN bad.test.\n@ IN SOA broken\n")
        d.sections["zone bad.test"] = {"file": str(path)}
        d.write_conf()
        out = reload(d, ok=False)
        assert "zone bad.test not loaded: %s:2:" % path in out, out
        assert A.serial(d.dns_port, "a.test") == 1
        assert rcode(d.dns_port, "bad.test")[0] == dns.rcode.SERVFAIL
        # a key the file cannot build (bad secret): nothing of the zones changes
        d.sections["tsig broken"] = {"algorithm": "hmac-sha256", "secret": "!!!"}
        d.sections["zone a.test"]["allow_transfer"] = "key:broken"
        d.write_conf()
        out = reload(d, ok=False)
        assert "[tsig broken]" in out and "zones and keys stay as they were" in out, out
        assert A.serial(d.dns_port, "a.test") == 1
    finally:
        finish(d)


def axfr_messages(port, origin, keyname, secret):
    keyring = dns.tsigkeyring.from_text({keyname: ("hmac-sha256", secret)})
    return dns.query.xfr("127.0.0.1", origin, port=port, keyring=keyring, keyname=keyname,
                         keyalgorithm="hmac-sha256", timeout=A.TIMEOUT, lifetime=120)


def test_key_added_and_transfer_in_flight_finishes(tmp_path):
    hosts = "".join("h%d IN A 10.%d.%d.%d\n" % (i, i >> 16 & 255, i >> 8 & 255, i & 255)
                    for i in range(40000))
    d = A.auth_daemon(tmp_path / "auth", {"big.test": zone_text("big.test", extra=hosts)},
                      zone_opts={"big.test": {"allow_transfer": "key:" + A.KEY_NAME}})
    d.setup()
    d.start()
    try:
        new_secret = "bmV3LWtleS1mb3ItcGlnZW9uLXJlbG9hZC10ZXN0cw=="
        # before: the new key is unknown (dig's transfer fails)
        out = A.dig(d.dns_port, "big.test", "AXFR", "-y", "hmac-sha256:newkey:" + new_secret,
                    check=False)
        assert "Transfer failed" in out or "NOTAUTH" in out or "BADKEY" in out, out[-300:]
        # a transfer signed with the old key starts and is read one message at a time
        stream = axfr_messages(d.dns_port, "big.test", A.KEY_NAME, A.KEY_SECRET)
        first = next(stream)
        got = sum(len(rrset) for rrset in first.answer)
        # the reload replaces the key and the zone's ACL while the transfer is open
        del d.sections["tsig " + A.KEY_NAME]
        d.sections["tsig newkey"] = {"algorithm": "hmac-sha256", "secret": new_secret}
        d.sections["zone big.test"]["allow_transfer"] = "key:newkey"
        d.write_conf()
        out = reload(d)
        assert "applied: [tsig newkey] secret" in out, out
        assert "applied: [zone big.test] allow_transfer" in out, out
        # the transfer in flight finishes, every message still verified with the old key
        for m in stream:
            got += sum(len(rrset) for rrset in m.answer)
        assert got == 40000 + 4 + 1, got  # records, SOA, NS, ns1, www, closing SOA
        # new transfers: the new key works with dig, the old one is refused
        out = A.dig(d.dns_port, "big.test", "AXFR", "-y", "hmac-sha256:newkey:" + new_secret)
        assert out.count("\tA\t") >= 40002, out[-300:]
        out = A.dig(d.dns_port, "big.test", "AXFR", "-y", A.DIG_KEY, check=False)
        assert "Transfer failed" in out or "BADKEY" in out or "NOTAUTH" in out, out[-300:]
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# HTTP sites


def http_get(sock, path, host="hamburger.edu"):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, host)).encode())


def read_response(sock, buf=b""):
    """One HTTP/1.1 response with Content-Length: (head, body, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, buf
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0])
    while len(body) < length:
        chunk = sock.recv(1 << 20)
        assert chunk, len(body)
        body += chunk
    return head, body[:length], body[length:]


def test_http_sites_reload(tmp_path):
    d = H.Daemon(tmp_path / "d", name="web")
    www = make_site(tmp_path)
    big = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(1 << 18))  # 8 MiB
    (www / "large.bin").write_bytes(big)
    web = HTTPDaemon(d, www)
    d.setup()
    d.start()
    try:
        assert b"Hamburger University" in curl(web.url("/"))[1]
        # a download that starts before the reload, read slowly
        dl = socket.create_connection(("127.0.0.1", web.port))
        dl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        http_get(dl, "/large.bin")
        first = dl.recv(65536)
        # a keep-alive connection opened before the reload
        ka = socket.create_connection(("127.0.0.1", web.port))
        http_get(ka, "/")
        head, body, rest = read_response(ka)
        assert b"Hamburger University" in body
        # the site moves to a new root, and a second site appears
        www2 = tmp_path / "www2"
        www2.mkdir()
        (www2 / "index.html").write_bytes(b"<h1>the new root</h1>\n")
        d.sections["http hamburger"]["root"] = str(www2)
        d.sections["http annex"] = {"name": "annex.hamburger.edu", "root": str(www)}
        d.write_conf()
        out = reload(d)
        assert "applied: [http hamburger] root" in out, out
        assert "applied: [http annex] root" in out and "needs restart" not in out, out
        assert curl(web.url("/"))[1] == b"<h1>the new root</h1>\n"
        r = curl("-H", "Host: annex.hamburger.edu", web.url("/"))
        assert b"Hamburger University" in r[1], r
        assert curl("-o", "/dev/null", "-w", "%{http_code}", web.url("/large.bin"))[1] == b"404"
        # the keep-alive connection's next request is answered from the new sites
        http_get(ka, "/")
        head, body, rest = read_response(ka, rest)
        assert body == b"<h1>the new root</h1>\n", head
        ka.close()
        # the download in flight finishes whole, from the file it started with
        head, body, rest = read_response(dl, first)
        assert head.startswith(b"HTTP/1.1 200") and body == big, (head, len(body))
        dl.close()
        # a root that cannot be opened keeps the running sites, and says why
        d.sections["http annex"]["root"] = str(tmp_path / "missing")
        d.write_conf()
        out = reload(d, ok=False)
        assert "missing" in out and "the previous sites stay" in out, out
        r = curl("-H", "Host: annex.hamburger.edu", web.url("/"))
        assert b"Hamburger University" in r[1], r
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# ManageSieve


def sieve_list(d):
    return subprocess.run(["sieve-connect", "-s", "127.0.0.1", "-p", str(d.ms_port), "-u",
                           "bob@hamburger.edu", "--notlsverify", "--passwordfd", "0", "--list"],
                          input=b"hungry\n", capture_output=True, timeout=60)


def test_managesieve_limit_reload(tmp_path):
    d = H.Daemon(tmp_path / "d", name="ms")
    d.ms_port = H.free_port()
    d.sections["managesieve"] = {"listen": "127.0.0.1:%d" % d.ms_port, "plaintext_auth": "no"}
    d.ports.append(d.ms_port)
    d.write_conf()
    d.setup()
    d.start()
    try:
        held = socket.create_connection(("127.0.0.1", d.ms_port))
        held.settimeout(H.IO_TIMEOUT)
        assert b"OK" in held.recv(4096)
        r = sieve_list(d)
        assert r.returncode == 0, r.stderr
        d.sections["managesieve"]["max_connections_per_ip"] = 1
        d.write_conf()
        out = reload(d)
        assert "applied: [managesieve] max_connections_per_ip" in out, out
        r = sieve_list(d)
        assert r.returncode != 0, r
        # the session held across the reload still answers
        held.sendall(b"CAPABILITY\r\n")
        got = b""
        while b"OK" not in got:
            chunk = held.recv(4096)
            assert chunk, got
            got += chunk
        held.sendall(b"LOGOUT\r\n")
        held.close()
        # its place is given back when it closes: sieve-connect gets in again
        H.wait_until(lambda: sieve_list(d).returncode == 0, what="sieve-connect after LOGOUT")
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# DKIM signing ([dkim]) and the MTA-STS policy ([mta_sts])


def submit_and_read(d, tag):
    import smtplib
    msg = ("From: Alice <alice@hamburger.edu>\r\nTo: <bob@hamburger.edu>\r\n"
           "Subject: reload %s\r\nMessage-ID: <%s@reload.test>\r\n\r\nbody %s\r\n" % (tag, tag, tag))
    with smtplib.SMTP("127.0.0.1", d.sub_port, timeout=30) as s:
        s.starttls(context=H.unverified_context())
        s.login("alice@hamburger.edu", "crepes")
        s.sendmail("alice@hamburger.edu", ["bob@hamburger.edu"], msg)
    mark = ("<%s@reload.test>" % tag).encode()
    return H.wait_until(lambda: next((m.data for m in d.messages("bob@hamburger.edu")
                                      if mark in m.data), None), what="message " + tag)


def test_dkim_sign_reload(tmp_path):
    d = H.Daemon(tmp_path / "d", name="dkim")
    d.sections["dkim"] = {"algorithm": "ed25519", "sign": "no"}
    d.write_conf()
    d.setup()
    d.start()
    try:
        assert b"DKIM-Signature:" not in submit_and_read(d, "before")
        d.sections["dkim"]["sign"] = "yes"
        d.write_conf()
        out = reload(d)
        assert "applied: [dkim] sign" in out and "needs restart" not in out, out
        data = submit_and_read(d, "after")
        assert b"DKIM-Signature: v=1; a=ed25519-sha256" in data, data[:400]
        # and off again: the next message goes unsigned
        d.sections["dkim"]["sign"] = "no"
        d.write_conf()
        assert "applied: [dkim] sign" in reload(d)
        assert b"DKIM-Signature:" not in submit_and_read(d, "off")
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# [server] log


def test_server_log_moves_on_reload(tmp_path):
    d = H.Daemon(tmp_path / "d", name="log")
    d.setup()
    d.start()
    try:
        moved = tmp_path / "moved.log"
        d.sections["server"]["log"] = str(moved)
        d.write_conf()
        out = reload(d)
        assert "applied: [server] log" in out and "needs restart" not in out, out
        H.wait_file(str(moved))
        with H.SMTPClient(d.smtp_port) as c:
            c.ehlo()
            c.cmd("QUIT")
        H.wait_until(lambda: "connect from 127.0.0.1" in moved.read_text(),
                     what="the SMTP session's line in the new log file")
        # a file that cannot be opened keeps the current one, and the reload says why
        d.sections["server"]["log"] = str(tmp_path / "no" / "such" / "dir.log")
        d.write_conf()
        out = reload(d, ok=False)
        assert "log not moved to" in out, out
        size = moved.stat().st_size
        with H.SMTPClient(d.smtp_port) as c:
            c.cmd("QUIT")
        H.wait_until(lambda: moved.stat().st_size > size, what="lines still in moved.log")
    finally:
        finish(d)


# --------------------------------------------------------------------------------------------
# a reverse-proxied site ([http NAME] proxy_to) across a reload of the sites


def test_proxy_to_site_survives_sites_reload(tmp_path):
    import cache_helpers as C
    origin = C.Origin()
    origin.routes["/hello"] = {"body": b"from the origin\n"}
    d = H.Daemon(tmp_path / "d", name="revreload")
    port = H.free_port()
    www = make_site(tmp_path)
    d.sections["http files"] = {"listen": "127.0.0.1:%d" % port, "name": "files.test",
                                "root": str(www)}
    d.sections["http rev"] = {"listen": "127.0.0.1:%d" % port, "name": "rev.test",
                              "proxy_to": "http://127.0.0.1:%d" % origin.port}
    d.sections["proxy"] = {"via": "edge"}
    d.ports.append(port)
    d.write_conf()
    d.setup()
    d.start()
    try:
        url = "http://127.0.0.1:%d/hello" % port
        assert curl("-H", "Host: rev.test", url)[1] == b"from the origin\n"
        www2 = tmp_path / "www2"
        www2.mkdir()
        (www2 / "hello").write_bytes(b"a file\n")
        d.sections["http files"]["root"] = str(www2)
        d.write_conf()
        out = reload(d)
        assert "applied: [http files] root" in out, out
        assert curl("-H", "Host: files.test", url)[1] == b"a file\n"
        # the proxied site keeps its origins (found by its name in the new set)
        assert curl("-H", "Host: rev.test", url)[1] == b"from the origin\n"
        assert origin.count("/hello") >= 1
    finally:
        finish(d)
        origin.close()
