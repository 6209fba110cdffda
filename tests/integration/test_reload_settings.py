"""A reload puts every setting that needs no new socket in force for the sessions that start
after it, and says which changed keys it applied and which need a restart (issue 12): SMTP
limits and policy, POP3/IMAP plaintext policy, the connection layer's per-listener and
process-wide limits and timeouts, the resolver's access list. Sessions opened before the
reload keep the settings they started with. Each behaviour is observed with a client, before
and after."""

import os
import signal
import socket

import dns.flags
import dns.message
import dns.query
import dns.rcode

import pigeon_harness as H
from imap_helpers import RawIMAP

import dns_auth_helpers as A
import delivery_env as E
from reload_helpers import finish


def reload(d):
    """`pigeon reload`, which returns once pigeond answered; its output lines."""
    p = d.cli("reload")
    out = p.stdout.decode()
    assert out.rstrip().endswith("pigeond: reloaded"), out
    return out


def ehlo_keywords(port):
    with H.SMTPClient(port) as c:
        r = c.ehlo()
        c.cmd("QUIT")
    return r.keywords()


def start(tmp_path, **kw):
    d = H.make_daemon(tmp_path / "d", **kw)
    H.wait_file(os.path.join(d.data_dir, "pigeond.ctl"))
    return d


def test_smtp_limits_and_policy(tmp_path):
    d = start(tmp_path)
    try:
        before = H.SMTPClient(d.smtp_port)  # a session that starts before the reload
        assert ehlo_keywords(d.smtp_port)["SIZE"] == "26214400"
        d.sections["smtp"].update(max_message_size="10K", max_recipients=2, starttls="no")
        d.write_conf()
        out = reload(d)
        for key in ("max_message_size", "max_recipients", "starttls"):
            assert "applied: [smtp] %s" % key in out, out
        assert "needs restart" not in out
        kw = ehlo_keywords(d.smtp_port)
        assert kw["SIZE"] == "10240" and "STARTTLS" not in kw, kw
        with H.SMTPClient(d.smtp_port) as c:
            c.ehlo()
            c.expect("MAIL FROM:<x@example.org>", "250")
            c.expect("RCPT TO:<bob@hamburger.edu>", "250")
            c.expect("RCPT TO:<alice@hamburger.edu>", "250")
            c.expect("RCPT TO:<postmaster@hamburger.edu>", "452")
            c.expect("RSET", "250")
            c.expect("MAIL FROM:<x@example.org> SIZE=20000", "552")
        # the session opened before keeps what it started with
        kw = before.ehlo().keywords()
        assert kw["SIZE"] == "26214400" and "STARTTLS" in kw, kw
        before.expect("QUIT", "221")
        before.close()
        # the same file again changes nothing
        assert "applied" not in reload(d)
    finally:
        finish(d)


def test_connection_limits_and_timeouts(tmp_path):
    d = start(tmp_path)
    try:
        held = [H.SMTPClient(d.smtp_port) for _ in range(2)]
        d.sections["smtp"]["max_connections_per_ip"] = 2
        d.sections["smtp"]["idle_timeout"] = 1
        d.write_conf()
        out = reload(d)
        assert "applied: [smtp] max_connections_per_ip" in out
        assert "applied: [smtp] idle_timeout" in out
        # two sessions from this address are open: a third is refused under the new limit
        with H.SMTPClient(d.smtp_port, read_greeting=False) as c:
            assert c.reply().startswith("421"), "third connection accepted"
        for c in held:
            c.close()
        # a new session gets the new idle timeout: the server closes it after one silent
        # second (the sessions opened before had 300 s)
        with H.SMTPClient(d.smtp_port) as c:
            assert c.closed(timeout=30), "idle session not closed"
        # the process-wide [server] limit too
        d.sections["smtp"]["idle_timeout"] = 300
        d.sections["server"]["max_connections"] = 1
        d.write_conf()
        assert "applied: [server] max_connections" in reload(d)
        with H.SMTPClient(d.smtp_port) as first:
            first.ehlo()
            with H.SMTPClient(d.smtp_port, read_greeting=False) as second:
                assert second.reply().startswith("421")
    finally:
        finish(d)


def test_plaintext_policy_pop3_imap(tmp_path):
    d = start(tmp_path, imap={}, pop3={})
    try:
        with RawIMAP(d.imap_port) as c:
            assert b"LOGINDISABLED" not in c.greeting
        d.sections["imap"]["plaintext_auth"] = "no"
        d.sections["pop3"]["plaintext_auth"] = "no"
        d.write_conf()
        out = reload(d)
        assert "applied: [imap] plaintext_auth" in out
        assert "applied: [pop3] plaintext_auth" in out
        with RawIMAP(d.imap_port) as c:
            assert b"LOGINDISABLED" in c.greeting
            tagged, _ = c.cmd("LOGIN bob hungry")
            assert "NO [PRIVACYREQUIRED]" in tagged
        with H.POP3Client(d.pop3_port) as p:
            p.expect("USER bob", "-ERR")
    finally:
        finish(d)


def test_listen_change_needs_restart(tmp_path):
    d = start(tmp_path)
    try:
        old = d.smtp_port
        new = H.free_port()
        d.sections["smtp"]["listen"] = "127.0.0.1:%d" % new
        d.sections["server"]["workers"] = 3
        d.sections["smtp"]["max_recipients"] = 7
        d.write_conf()
        out = reload(d)
        assert "needs restart: [smtp] listen" in out, out
        assert "needs restart: [server] workers" in out, out
        assert "applied: [smtp] max_recipients" in out, out
        # the old socket still serves (with the new settings), nothing listens on the new one
        with H.SMTPClient(old) as c:
            c.ehlo()
            c.expect("MAIL FROM:<x@example.org>", "250")
            for i in range(7):
                c.expect("RCPT TO:<bob@hamburger.edu>", "250")
            c.expect("RCPT TO:<bob@hamburger.edu>", "452")
        assert not H.port_open(new)
    finally:
        finish(d)


def resolver_rcode(port, tcp=False):
    q = dns.message.make_query("example.org", "A")
    q.flags &= ~dns.flags.RD  # answered at once from what the resolver has: no upstream
    fn = dns.query.tcp if tcp else dns.query.udp
    return fn(q, "127.0.0.1", port=port, timeout=10).rcode()


def test_resolver_allow(tmp_path):
    d = H.Daemon(tmp_path / "d")
    d.resolver_port = H.free_port()
    d.sections["resolver"] = {"listen": "127.0.0.1:%d" % d.resolver_port,
                              "allow": "127.0.0.1/32"}
    d.ports.append(d.resolver_port)
    d.write_conf()
    d.setup()
    d.start()
    H.wait_file(os.path.join(d.data_dir, "pigeond.ctl"))
    try:
        assert resolver_rcode(d.resolver_port) != dns.rcode.REFUSED
        assert resolver_rcode(d.resolver_port, tcp=True) != dns.rcode.REFUSED
        d.sections["resolver"]["allow"] = "192.0.2.0/24"
        d.write_conf()
        assert "applied: [resolver] allow" in reload(d)
        assert resolver_rcode(d.resolver_port) == dns.rcode.REFUSED
        assert resolver_rcode(d.resolver_port, tcp=True) == dns.rcode.REFUSED
        # a list that does not parse keeps the one in force, and the answer says so
        d.sections["resolver"]["allow"] = "127.0.0.1/32 not-a-prefix"
        d.write_conf()
        p = d.cli("reload", check=False)
        assert p.returncode == 1
        assert "resolver: allow: bad prefix 'not-a-prefix', the previous list stays" in \
            p.stderr.decode()
        assert resolver_rcode(d.resolver_port) == dns.rcode.REFUSED
    finally:
        finish(d)


def test_sighup_applies_too(tmp_path):
    d = start(tmp_path)
    try:
        d.sections["smtp"]["max_message_size"] = "20K"
        d.write_conf()
        at = d.log_size()
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload: \[smtp\] max_message_size applied", start=at)
        H.wait_until(lambda: ehlo_keywords(d.smtp_port)["SIZE"] == "20480",
                     what="the new SIZE on a new session")
    finally:
        finish(d)


def test_report_has_no_values(tmp_path):
    """Changed keys are named, never their values (a TSIG secret, a password)."""
    d = start(tmp_path)
    try:
        d.sections["tsig k1"] = {"algorithm": "hmac-sha256",
                                 "secret": "c2VjcmV0LXNlY3JldC1zZWNyZXQ="}
        d.write_conf()
        out = reload(d)
        assert "applied: [tsig k1] secret" in out
        assert "c2VjcmV0" not in out and "c2VjcmV0" not in d.log_tail()
    finally:
        finish(d)


def test_bad_file_changes_nothing(tmp_path):
    d = start(tmp_path)
    try:
        conf = open(d.conf).read()
        with open(d.conf, "w") as f:
            f.write(conf.replace("max_message_size = 26214400", "max_message_size = 10K") +
                    "\n[server]\nbogus = 1\n")
        p = d.cli("reload", check=False)
        assert p.returncode == 1
        assert ehlo_keywords(d.smtp_port)["SIZE"] == "26214400"
        with open(d.conf, "w") as f:
            f.write(conf)
        assert "applied" not in reload(d)  # compared with what runs, not the broken file
    finally:
        finish(d)



MX_IP = "127.0.54.31"  # later.test's MX: a pigeond on port 25


def test_delivery_settings(tmp_path):
    """[delivery] reaches the queue runner: a remote_port that nothing listens on defers the
    message; after the reload the flushed retry goes to port 25 and is delivered."""
    if not E.needs_root:
        raise AssertionError("needs root for ports 25 and 53 (the suite runs as root)")
    env = E.Env(tmp_path)
    try:
        env.dns({"crepes.fr": E.CREPES_ZONE,
                 "later.test": E.zone("later.test", f"@ MX 10 mx\nmx A {MX_IP}")})
        mx = env.mx("later", MX_IP, ["later.test"], ["carol@later.test"])
        alice = env.alice(retry_initial=3600, remote_port=H.free_port())
        alice.submit(["carol@later.test"], E.message("carol@later.test", "reload-port"))
        E.wait_for(lambda: [q for q in alice.queue_entries() if q["attempts"] >= 1],
                   what="a failed first attempt")
        alice.sections["delivery"]["remote_port"] = 25
        alice.write_conf()
        assert "applied: [delivery] remote_port" in reload(alice)
        alice.flush()
        E.wait_for(lambda: mx.messages("carol@later.test"), what="delivery after the reload")
    finally:
        errors = env.close()
    assert not errors, "\n".join(errors)


def test_server_routing_keys(tmp_path):
    """[server] postmaster and recipient_delimiter are read by RCPT through the worker's
    configuration: after the reload, postmaster@ reaches the new address and bob-tag the
    user bob."""
    d = start(tmp_path)
    try:
        d.sections["server"]["postmaster"] = "bob@hamburger.edu"
        d.sections["server"]["recipient_delimiter"] = "-"
        d.write_conf()
        out = reload(d)
        assert "applied: [server] postmaster" in out
        assert "applied: [server] recipient_delimiter" in out
        for rcpt in ("postmaster@hamburger.edu", "bob-news@hamburger.edu"):
            with H.SMTPClient(d.smtp_port) as c:
                r = c.send_mail("x@example.org", [rcpt], b"Subject: routed\r\n\r\nhello\r\n")
                assert r.startswith("250"), r
        assert len(d.messages("bob@hamburger.edu")) == 2
        assert d.messages("alice@hamburger.edu") == []
    finally:
        finish(d)


RRL_ZONE = """$ORIGIN rrl.test.
$TTL 3600
@   SOA ns1 hostmaster 1 7200 900 1209600 300
@   NS  ns1
ns1 A   127.0.0.1
www A   192.0.2.1
"""


def rrl_burst(port, n=100):
    """n queries at once from 198.18.0.1 (a non-loopback address on lo in the suite's
    namespace: loopback clients are never limited); (full, truncated) answers. The end of
    the answers is a second of silence, as test_dns_robust's bursts: dropped answers never
    come."""
    q = dns.message.make_query("www.rrl.test", "A")
    full = tc = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
        s.bind(("198.18.0.1", 0))
        s.settimeout(1.0)
        for i in range(n):
            q.id = i
            s.sendto(q.to_wire(), ("127.0.0.1", port))
        try:
            while True:
                r = dns.message.from_wire(s.recv(4096))
                if r.flags & dns.flags.TC:
                    tc += 1
                else:
                    full += 1
        except socket.timeout:
            pass
    return full, tc


def test_dns_rate_limit(tmp_path):
    d = A.auth_daemon(tmp_path / "d", {"rrl.test": RRL_ZONE}, dns={"rrl_rate": 0})
    d.setup()
    d.start()
    try:
        assert rrl_burst(d.dns_port) == (100, 0)
        d.sections["dns"].update(rrl_rate=10, rrl_slip=2)
        d.write_conf()
        out = reload(d)
        assert "applied: [dns] rrl_rate" in out and "applied: [dns] rrl_slip" in out
        full, tc = rrl_burst(d.dns_port)
        assert 10 <= full <= 13 and 35 <= tc <= 50, (full, tc)
        d.sections["dns"]["rrl_rate"] = 0
        d.write_conf()
        reload(d)
        assert rrl_burst(d.dns_port) == (100, 0)
    finally:
        finish(d)
