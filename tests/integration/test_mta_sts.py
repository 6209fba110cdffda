"""Issue 16: MTA-STS (RFC 8461) on the sending side.

The test runs its own certificate authority, an authoritative pigeond for the test zones
(127.0.58.1:53), a policy server of its own (Python, HTTPS on 127.0.58.5:443, certificates
from the test CA, one policy per Host) and Bob's pigeond on 127.0.58.2:25, which offers
STARTTLS with a test-CA certificate for mx.good.test and, chosen by SNI from [server]
tls_dir, a certificate for mx.bad.test from a CA nobody trusts. Alice's pigeond trusts the
test CA (SSL_CERT_FILE) and delivers to domains that publish: enforce with a matching MX and a
good certificate (delivered, TLS verified), enforce with no matching MX (deferred, never
connected), enforce with the untrusted certificate (deferred), testing with the untrusted
certificate (delivered, reported), and no policy at all (delivered: opportunistic TLS takes
any certificate, which is what MTA-STS changes).
"""
import contextlib
import datetime
import http.server
import os
import re
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import delivery_env as E
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25, 53, 443")

DNS_IP = "127.0.58.1"
BOB_IP = "127.0.58.2"
ALICE_IP = "127.0.58.20"
POLICY_IP = "127.0.58.5"
DOMAINS = ["good.test", "nomatch.test", "badcert.test", "testing.test", "plain.test",
           "nofile.test", "invalid.test", "webpki.test", "testmx.test"]
POLICIES = {
    "good.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.good.test\r\nmax_age: 86400\r\n",
    "nomatch.test": "version: STSv1\r\nmode: enforce\r\nmx: *.elsewhere.test\r\n"
                    "max_age: 86400\r\n",
    "badcert.test": "version: STSv1\nmode: enforce\nmx: mx.bad.test\nmax_age: 86400\n",
    "testing.test": "version: STSv1\nmode: testing\nmx: mx.bad.test\nmax_age: 86400\n",
    "testmx.test": "version: STSv1\nmode: testing\nmx: *.elsewhere.test\nmax_age: 86400\n",
    "invalid.test": "version: STSv1\nmode: always\nmx: mx.good.test\nmax_age: 86400\n",
}
# Publish _mta-sts, but: no policy file (404), a policy the parser refuses, and a policy host
# whose certificate does not name it (RFC 8460 §4.3.2.2).
FETCH_FAILURES = {"nofile.test": "sts-policy-fetch-error", "invalid.test": "sts-policy-invalid",
                  "webpki.test": "sts-webpki-invalid"}


# ---- certificates

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def issue(ca, names, directory, stem):
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(names[0]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, key_path = Path(directory) / (stem + ".crt"), Path(directory) / (stem + ".key")
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return crt, key_path


# ---- the policy server

class PolicyServer:
    """HTTPS on ip:443 answering /.well-known/mta-sts.txt with policies[domain of Host]
    (POLICIES by default; test_requiretls.py gives its own)."""

    def __init__(self, ip, cert, key, policies=None):
        self.requests = []
        self.policies = POLICIES if policies is None else policies
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                host = (self.headers.get("Host") or "").split(":")[0]
                server.requests.append((host, self.path))
                dom = host[len("mta-sts."):] if host.startswith("mta-sts.") else ""
                body = server.policies.get(dom)
                if self.path != "/.well-known/mta-sts.txt" or body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer((ip, 443), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert), str(key))
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def fetches(self, domain):
        return sum(1 for h, _ in self.requests if h == "mta-sts." + domain)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def zones():
    def z(origin, body):
        return E.zone(origin, body, ns_ip=DNS_IP)
    sts = '_mta-sts TXT "v=STSv1; id=20261206T000000;"\nmta-sts A %s\n' % POLICY_IP
    return {
        "good.test": z("good.test", "@ MX 10 mx\nmx A %s\n%s" % (BOB_IP, sts)),
        "nomatch.test": z("nomatch.test", "@ MX 10 mx.good.test.\n%s" % sts),
        "badcert.test": z("badcert.test", "@ MX 10 mx.bad.test.\n%s" % sts),
        "testing.test": z("testing.test", "@ MX 10 mx.bad.test.\n%s" % sts),
        "testmx.test": z("testmx.test", "@ MX 10 mx.good.test.\n%s" % sts),
        "plain.test": z("plain.test", "@ MX 10 mx.bad.test."),
        "bad.test": z("bad.test", "mx A %s" % BOB_IP),
        **{d: z(d, "@ MX 10 mx.good.test.\n%s" % sts) for d in FETCH_FAILURES},
    }


@contextlib.contextmanager
def sts_world(root, ip, zone_map, policies, bob_domains, bob_names, policy_names):
    """The bed both MTA-STS and REQUIRETLS tests stand on: a test CA (trusted by Alice through
    SSL_CERT_FILE) and a rogue one, the authoritative DNS pigeond (ip["dns"]), a PolicyServer
    for policies (certificate for mta-sts. + policy_names), Bob's pigeond (ip["bob"]:25,
    local domains bob_domains, a test-CA certificate for bob_names and, by SNI, the rogue CA's
    for mx.bad.test) and Alice's (crepes.fr, submission on 127.0.0.1, out from ip["alice"])."""
    ca, rogue = make_ca("Pigeon test CA"), make_ca("Rogue CA")
    (root / "ca.pem").write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    (root / "tls_dir").mkdir()
    good = issue(ca, bob_names, root, "good")
    issue(rogue, ["mx.bad.test"], root / "tls_dir", "mx.bad.test")
    policy = issue(ca, ["mta-sts." + d for d in policy_names], root, "policy")
    old = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(root / "ca.pem")  # Alice's (and everyone's) trust store
    e = E.Env(root)
    ps = None
    try:
        e.dns(zone_map, ip=ip["dns"])
        ps = PolicyServer(ip["policy"], *policy, policies=policies)
        bob = e.mx("bob", ip["bob"], bob_domains, ["u@" + d for d in bob_domains], spf="off",
                   resolver=ip["dns"],
                   extra={"server": {"tls_cert": str(good[0]), "tls_key": str(good[1]),
                                     "tls_dir": str(root / "tls_dir")}})
        port = H.free_port()
        alice = e.node("alice", "mail.crepes.fr", "crepes.fr", domains=["crepes.fr"],
                       users={E.ALICE: E.ALICE_PASSWORD},
                       sections={"submission": {"listen": "127.0.0.1:%d" % port},
                                 "delivery": {"resolver": "%s:53" % ip["dns"],
                                              "source_address": ip["alice"], "remote_port": 25,
                                              "retry_initial": 60, "scan_interval": 1,
                                              "connect_timeout": 5, "command_timeout": 10}},
                       waits=[("127.0.0.1", port)])
        yield {"bob": bob, "alice": alice, "policy": ps, "ca": ca, "root": root}
    finally:
        if ps:
            ps.stop()
        errors = e.close()
        if old is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = old
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    ip = {"dns": DNS_IP, "bob": BOB_IP, "policy": POLICY_IP, "alice": ALICE_IP}
    with sts_world(tmp_path_factory.mktemp("mtasts"), ip, zones(), POLICIES, DOMAINS,
                   ["mx.good.test"], list(POLICIES) + ["nofile.test"]) as w:
        yield w


def send(env, domain, tag):
    alice = env["alice"]
    start = alice.log_size()
    alice.submit(["u@" + domain], E.message("u@" + domain, tag))
    return start


def delivered(env, domain, tag):
    bob = env["bob"]
    return E.wait_for(lambda: any(("<%s@crepes.fr>" % tag) in H.header_values(m.data, "Message-ID")
                                  for m in bob.messages("u@" + domain)),
                      what="%s delivered to u@%s" % (tag, domain))


def not_delivered(env, domain, tag):
    return not any(("<%s@crepes.fr>" % tag) in H.header_values(m.data, "Message-ID")
                   for m in env["bob"].messages("u@" + domain))


def queued_error(env, domain):
    rows = [r for r in env["alice"].queue_rows() if r["rcpt"] == "u@" + domain]
    assert rows, env["alice"].queue()
    return rows[0]["error"]


def test_enforce_good_certificate(env):
    start = send(env, "good.test", "sts-good")
    env["alice"].wait_log(r"mta-sts good\.test: policy id 20261206T000000, mode enforce, "
                          r"max_age 86400, 1 mx pattern", start)
    delivered(env, "good.test", "sts-good")
    env["alice"].wait_log(r"queue good\.test: MTA-STS enforce: certificate of mx\.good\.test "
                          r"verified", start)
    env["alice"].wait_log(r"to=<u@good\.test> relay=mx\.good\.test\[.*\] sent", start)
    # a second message uses the cached policy: no second fetch while the id is unchanged
    before = env["policy"].fetches("good.test")
    start = send(env, "good.test", "sts-good2")
    delivered(env, "good.test", "sts-good2")
    assert env["policy"].fetches("good.test") == before == 1


def test_enforce_no_matching_mx(env):
    start = send(env, "nomatch.test", "sts-nomatch")
    alice = env["alice"]
    alice.wait_log(r"MTA-STS enforce: MX mx\.good\.test does not match the policy: skipped",
                   start)
    E.wait_for(lambda: "4.7.5 MTA-STS: no MX host matches" in (queued_error(env, "nomatch.test")
                                                                or ""),
               what="the MTA-STS deferral in the queue")
    assert "connected to" not in alice.log_tail(start=start).split("nomatch.test")[-1]
    assert not_delivered(env, "nomatch.test", "sts-nomatch")


def test_enforce_bad_certificate(env):
    start = send(env, "badcert.test", "sts-bad")
    alice = env["alice"]
    alice.wait_log(r"queue badcert\.test: TLS with mx\.bad\.test\[.*\] failed: .*certificate "
                   r"verify failed", start)
    E.wait_for(lambda: "4.7.5" in (queued_error(env, "badcert.test") or ""),
               what="the deferral after the failed certificate check")
    assert not_delivered(env, "badcert.test", "sts-bad")


def test_testing_mode_reports(env):
    start = send(env, "testing.test", "sts-testing")
    delivered(env, "testing.test", "sts-testing")
    env["alice"].wait_log(r"queue testing\.test: MTA-STS testing: certificate of mx\.bad\.test "
                          r"not valid: .*\(delivered anyway\)", start)


def test_no_policy_is_opportunistic(env):
    """The control: the same MX and certificate without a policy takes the message."""
    send(env, "plain.test", "sts-plain")
    delivered(env, "plain.test", "sts-plain")
    assert env["policy"].fetches("plain.test") == 0


def test_policy_fetch_failures_reported(env):
    """A domain that publishes _mta-sts but whose policy cannot be had gets the message as
    without a policy (RFC 8461 §5.1), and the failure goes into its TLS report under the "sts"
    policy type (RFC 8460 §4.3.2.2)."""
    from test_dmarc_report import json_docs
    alice = env["alice"]
    start = alice.log_size()
    for dom in FETCH_FAILURES:
        send(env, dom, "fetch-" + dom.split(".")[0])
    for dom, result in FETCH_FAILURES.items():
        delivered(env, dom, "fetch-" + dom.split(".")[0])
        alice.wait_log(r"mta-sts %s: policy fetch from mta-sts\.%s failed: .*\(%s\)" % (
            re.escape(dom), re.escape(dom), result), start)
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = alice.cli("tlsrpt", "report", "--date", day).stdout.decode()
    by = {d["policies"][0]["policy"]["policy-domain"]: d for d in json_docs(out)}
    for dom, result in FETCH_FAILURES.items():
        sts = [p for p in by[dom]["policies"] if p["policy"]["policy-type"] == "sts"]
        assert len(sts) == 1, by[dom]
        assert sts[0]["summary"]["total-failure-session-count"] >= 1
        assert [f["result-type"] for f in sts[0]["failure-details"]] == [result], sts
        # the delivery itself, without a policy, is a success of its own
        none = [p for p in by[dom]["policies"] if p["policy"]["policy-type"] == "no-policy-found"]
        assert none and none[0]["summary"]["total-successful-session-count"] >= 1, by[dom]


def test_mx_outside_policy_reported(env):
    """RFC 8460 §4.3 / RFC 8461 §5: an MX host outside the policy is a failed session in the
    domain's TLS report, not only a log line: skipped under enforce (nomatch.test, after
    test_enforce_no_matching_mx: no address, it was never contacted), used under testing
    (testmx.test: delivered over verified TLS, still reported); and under testing a
    certificate that does not verify is reported as such, not as a success (testing.test,
    after test_testing_mode_reports)."""
    from test_dmarc_report import json_docs
    alice = env["alice"]
    start = send(env, "testmx.test", "sts-testmx")
    delivered(env, "testmx.test", "sts-testmx")
    alice.wait_log(r"MTA-STS testing: MX mx\.good\.test does not match the policy\n", start)
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    out = alice.cli("tlsrpt", "report", "--date", day).stdout.decode()
    by = {d["policies"][0]["policy"]["policy-domain"]: d for d in json_docs(out)}

    def sts_policy(dom):
        sts = [p for p in by[dom]["policies"] if p["policy"]["policy-type"] == "sts"]
        assert len(sts) == 1, by[dom]
        return sts[0]
    p = sts_policy("nomatch.test")
    assert "mx: *.elsewhere.test" in p["policy"]["policy-string"]
    fails = [f for f in p["failure-details"] if f["result-type"] == "validation-failure"]
    assert fails and fails[0]["receiving-mx-hostname"] == "mx.good.test", p
    assert "receiving-ip" not in fails[0]
    assert p["summary"]["total-successful-session-count"] == 0
    p = sts_policy("testmx.test")
    assert p["summary"] == {"total-successful-session-count": 0,
                            "total-failure-session-count": 1}, p
    f = p["failure-details"][0]
    assert f["result-type"] == "validation-failure" and f["receiving-ip"] == BOB_IP
    assert f["receiving-mx-hostname"] == "mx.good.test"
    p = sts_policy("testing.test")
    assert p["summary"]["total-successful-session-count"] == 0, p
    assert {f["result-type"] for f in p["failure-details"]} == {"certificate-not-trusted"}, p
    # the control: an enforce policy naming the MX, verified, is a success
    assert sts_policy("good.test")["summary"]["total-failure-session-count"] == 0
