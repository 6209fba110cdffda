"""JMAP EmailSubmission (RFC 8621 §7) reaching a second test domain: Alice's pigeond
(crepes.fr) serves JMAP; her webmail-style Email/set + EmailSubmission/set goes through
Pigeon's queue, MX look-up in the test zones and SMTP to the pigeond of later.test on
127.0.54.12:25, where Carol's mailbox gets it without the Bcc field. Needs root (ports 25
and 53), as the other outbound-delivery tests."""

import base64
import json
import urllib.request

import pytest

import delivery_env as E
import http_helpers as X
import pigeon_harness as H

pytestmark = pytest.mark.skipif(not E.needs_root, reason="needs root for ports 25 and 53")

MX_IP = "127.0.54.12"
ZONES = {
    "crepes.fr": E.CREPES_ZONE,
    "later.test": E.zone("later.test", f"@ MX 10 mx\nmx A {MX_IP}"),
}
USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail",
         "urn:ietf:params:jmap:submission"]


@pytest.fixture
def env(tmp_path):
    e = E.Env(tmp_path)
    yield e
    errors = e.close()
    assert not errors, "\n".join(errors)


def jmap(port, path, body=None):
    tok = base64.b64encode(("%s:%s" % (E.ALICE, E.ALICE_PASSWORD)).encode()).decode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Basic " + tok,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def test_submission_reaches_second_domain(env, tmp_path):
    env.dns(ZONES)
    carol = env.mx("later", MX_IP, ["later.test"], ["carol@later.test"])
    http_port = H.free_port()
    www = tmp_path / "www"
    www.mkdir()
    d = {"resolver": "%s:53" % E.DNS_IP, "source_address": E.ALICE_IP, "remote_port": 25,
         "retry_initial": 1, "scan_interval": 1, "connect_timeout": 5, "command_timeout": 10}
    alice = env.node("alice", "mail.crepes.fr", "crepes.fr", domains=["crepes.fr"],
                     users={E.ALICE: E.ALICE_PASSWORD},
                     sections={"delivery": d, "http": {},
                               "http site": {"listen": "127.0.0.1:%d" % http_port,
                                             "root": str(www)},
                               "jmap": {"enabled": "yes"}},
                     waits=[("127.0.0.1", http_port)])
    s = jmap(http_port, "/.well-known/jmap")
    acc = s["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    boxes = jmap(http_port, "/jmap/api/", {"using": USING, "methodCalls": [
        ["Mailbox/get", {"accountId": acc, "ids": None}, "0"]]})["methodResponses"][0][1]["list"]
    drafts = [b["id"] for b in boxes if b["role"] == "drafts"][0]
    sent = [b["id"] for b in boxes if b["role"] == "sent"][0]
    r = jmap(http_port, "/jmap/api/", {"using": USING, "methodCalls": [
        ["Email/set", {"accountId": acc, "create": {"m": {
            "mailboxIds": {drafts: True}, "keywords": {"$draft": True, "$seen": True},
            "from": [{"name": "Alice", "email": E.ALICE}],
            "to": [{"name": "Carol", "email": "carol@later.test"}],
            "bcc": [{"email": "carol@later.test"}],
            "subject": "Crêpes on Sunday?",
            "textBody": [{"partId": "1", "type": "text/plain"}],
            "bodyValues": {"1": {"value": "Bring the jam.\n"}}}}}, "a"],
        ["EmailSubmission/set", {"accountId": acc, "create": {"s": {
            "identityId": "i1", "emailId": "#m"}},
            "onSuccessUpdateEmail": {"#s": {"mailboxIds/" + drafts: None,
                                            "mailboxIds/" + sent: True,
                                            "keywords/$draft": None}}}, "b"]]})
    resp = r["methodResponses"]
    assert "s" in resp[1][1]["created"], resp
    got = E.wait_for(lambda: carol.messages("carol@later.test"), timeout=60,
                     what="the submission at later.test")
    data = got[0].data
    assert b"Subject: =?UTF-8?B?" in data and b"Bring the jam." in data
    assert b"\nBcc:" not in data and b"\r\nBcc:" not in data
    assert H.header_values(data, "From") == ["Alice <alice@crepes.fr>"]
    E.wait_for(lambda: not alice.queue_entries(), what="Alice's queue to empty")
    # her own copy is in Sent, no longer a draft
    assert [m for m in alice.messages(E.ALICE, "Sent")]
    assert alice.messages(E.ALICE, "Drafts") == []
    # EmailSubmission/get reads the submission back: its envelope came from To and Bcc
    sid = resp[1][1]["created"]["s"]["id"]
    args = {"accountId": acc, "ids": [sid], "properties": ["emailId", "envelope", "undoStatus"]}
    g = jmap(http_port, "/jmap/api/", {"using": USING, "methodCalls": [
        ["EmailSubmission/get", args, "g"]]})["methodResponses"][0][1]
    assert g["list"] == [{"id": sid, "emailId": resp[0][1]["created"]["m"]["id"],
                          "undoStatus": "final", "envelope": {
                              "mailFrom": {"email": E.ALICE, "parameters": None},
                              "rcptTo": [{"email": "carol@later.test", "parameters": None}]}}]
