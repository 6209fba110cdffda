"""JMAP over WebSocket (RFC 8887) with python3-websocket: the session advertises the URL; the
handshake asks for the "jmap" subprotocol; Requests are answered with their requestId;
WebSocketPushEnable brings StateChange objects with pushState when IMAP changes the account
(and at once for a stale pushState); WebSocketPushDisable stops them; malformed messages get
RequestErrors; protocol violations close the connection with the RFC 6455 codes; refusals
for missing credentials, a wrong subprotocol and a cross-site page."""

import base64
import imaplib
import json
import socket
import struct

import pytest
import websocket

import jmap_helpers as J
import pigeon_harness as H

web = J.jmap_fixture("jmap_ws")

ALICE = "alice@hamburger.edu"


def auth_header(web, user=ALICE):
    tok = base64.b64encode(("%s:%s" % (user, web.d.users[user])).encode()).decode()
    return "Authorization: Basic " + tok


def connect(web, **kw):
    ws = websocket.create_connection(
        "ws://127.0.0.1:%d/jmap/ws/" % web.port, subprotocols=["jmap"],
        header=[auth_header(web)], timeout=H.WAIT_TIMEOUT, **kw)
    assert ws.getsubprotocol() == "jmap"
    return ws


def recv_json(ws):
    return json.loads(ws.recv())


def test_session_and_requests(web):
    c = J.Client(web)
    cap = c.session["capabilities"]["urn:ietf:params:jmap:websocket"]
    assert cap == {"url": "ws://127.0.0.1:%d/jmap/ws/" % web.port, "supportsPush": True}
    ws = connect(web)
    try:
        ws.send(json.dumps({"@type": "Request", "id": "R1", "using": J.USING,
                            "methodCalls": [["Core/echo", {"hello": True}, "c1"],
                                            ["Mailbox/get", {"accountId": c.account,
                                                             "ids": None}, "c2"]]}))
        r = recv_json(ws)
        assert r["@type"] == "Response" and r["requestId"] == "R1", r
        assert r["methodResponses"][0] == ["Core/echo", {"hello": True}, "c1"]
        assert any(b["role"] == "inbox" for b in r["methodResponses"][1][1]["list"])
        # a request that is not one: RequestError with the id
        ws.send(json.dumps({"@type": "Request", "id": "R2", "using": J.USING}))
        r = recv_json(ws)
        assert r["@type"] == "RequestError" and r["requestId"] == "R2", r
        assert r["type"] == "urn:ietf:params:jmap:error:notRequest"
        ws.send("{not json")
        r = recv_json(ws)
        assert r["@type"] == "RequestError" and r["type"].endswith(":notJSON"), r
        ws.send(json.dumps({"@type": "Gossip", "id": "R3"}))
        r = recv_json(ws)
        assert r["@type"] == "RequestError" and r["requestId"] == "R3", r
        # control frames are answered
        ws.ping(b"are you there")
        op, data = ws.recv_data_frame(True)[0], None
        assert op == websocket.ABNF.OPCODE_PONG
    finally:
        ws.close()


def test_push_from_imap(web):
    c = J.Client(web)
    J.smtp_deliver(web.d, ALICE, "ws base")
    H.wait_until(lambda: c.call("Email/query", {"filter": {"subject": "ws base"}})["ids"],
                 what="delivery seen by JMAP")
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(ALICE, web.d.users[ALICE])
    m.select("INBOX")
    ws = connect(web)
    try:
        stale = c.state()
        # a stale pushState: a StateChange at once after the change below is made first
        m.store("1:*", "+FLAGS", "(\\Flagged)")
        H.wait_until(lambda: c.state() != stale, what="state moved")
        ws.send(json.dumps({"@type": "WebSocketPushEnable", "dataTypes": ["Email"],
                            "pushState": stale}))
        ev = recv_json(ws)
        assert ev["@type"] == "StateChange", ev
        assert set(ev["changed"][c.account]) == {"Email"}
        now = ev["pushState"]
        assert ev["changed"][c.account]["Email"] == now == c.state()
        # a change over IMAP while push is on
        m.store("1:*", "-FLAGS", "(\\Flagged)")
        ev = recv_json(ws)
        assert ev["@type"] == "StateChange" and ev["pushState"] != now, ev
        ch = c.call("Email/changes", {"sinceState": now})
        assert ch["updated"] and ch["newState"] == ev["pushState"]
        # requests still work on the same connection
        ws.send(json.dumps({"@type": "Request", "id": "after", "using": J.USING,
                            "methodCalls": [["Core/echo", {}, "e"]]}))
        assert recv_json(ws)["requestId"] == "after"
        # push off: the next thing on the connection is the answer to a request
        ws.send(json.dumps({"@type": "WebSocketPushDisable"}))
        m.store("1:*", "+FLAGS", "(\\Answered)")
        H.wait_until(lambda: c.state() != ev["pushState"], what="state moved again")
        ws.send(json.dumps({"@type": "Request", "id": "last", "using": J.USING,
                            "methodCalls": [["Core/echo", {}, "e"]]}))
        r = recv_json(ws)
        assert r["@type"] == "Response" and r["requestId"] == "last", r
    finally:
        ws.close()
        m.logout()


def raw_handshake(web, extra, origin=None, auth=True):
    s = socket.create_connection(("127.0.0.1", web.port), timeout=H.WAIT_TIMEOUT)
    head = ("GET /jmap/ws/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" % web.port)
    if auth:
        head += auth_header(web) + "\r\n"
    if origin:
        head += "Origin: %s\r\n" % origin
    s.sendall((head + extra + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        assert chunk, data
        data += chunk
    return s, data


def test_handshake_refusals(web):
    s, data = raw_handshake(web, "Sec-WebSocket-Version: 13\r\n")  # no jmap subprotocol
    assert data.startswith(b"HTTP/1.1 400"), data
    s.close()
    s, data = raw_handshake(web, "Sec-WebSocket-Version: 8\r\nSec-WebSocket-Protocol: jmap\r\n")
    assert data.startswith(b"HTTP/1.1 426") and b"Sec-WebSocket-Version: 13" in data, data
    s.close()
    s, data = raw_handshake(web, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jmap\r\n",
                            auth=False)
    assert data.startswith(b"HTTP/1.1 401"), data
    s.close()
    # RFC 6455 §4.2.2's example key gives its example accept value
    s, data = raw_handshake(web, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jmap\r\n")
    assert data.startswith(b"HTTP/1.1 101"), data
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in data
    # an unmasked client frame: close 1002
    s.sendall(b"\x81\x02{}")
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    rest = data.split(b"\r\n\r\n", 1)[1] + got
    assert rest[:1] == b"\x88" and rest[2:4] == b"\x03\xea", rest  # close, 1002
    s.close()


def test_cross_site_cookie_refused(web):
    # The webmail's login cookie, then a WebSocket opened by another site's page with it.
    cookie = J.cookie_login(web)
    extra = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jmap\r\nCookie: %s\r\n" % cookie
    s, data = raw_handshake(web, extra, origin="http://evil.example", auth=False)
    assert data.startswith(b"HTTP/1.1 403"), data
    s.close()
    s, data = raw_handshake(web, extra, auth=False)  # no Origin: not a browser's page either
    assert data.startswith(b"HTTP/1.1 403"), data
    s.close()
    s, data = raw_handshake(web, extra, origin="http://127.0.0.1:%d" % web.port, auth=False)
    assert data.startswith(b"HTTP/1.1 101"), data
    s.close()


# A client's Close with a code an endpoint must never send (RFC 6455 §7.4.1: 1005, 1006, 1015)
# or outside the defined ranges (§7.4.2) is failed with 1002, not echoed back.
def close_exchange(web, code):
    s, data = raw_handshake(web, "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: jmap\r\n")
    assert data.startswith(b"HTTP/1.1 101"), data
    mask = b"\x01\x02\x03\x04"
    payload = struct.pack("!H", code)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    s.sendall(b"\x88" + bytes([0x80 | len(payload)]) + mask + masked)
    got = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()
    rest = data.split(b"\r\n\r\n", 1)[1] + got
    assert rest[:1] == b"\x88", rest
    return struct.unpack("!H", rest[2:4])[0] if rest[1] >= 2 else None


@pytest.mark.parametrize("code", [1006, 1015, 999, 5000])
def test_close_code_not_echoed_when_forbidden(web, code):
    sent = close_exchange(web, code)
    assert sent not in (1005, 1006, 1015) and sent is not None and 1000 <= sent <= 4999, sent


def test_close_code_echoed_when_valid(web):
    assert close_exchange(web, 1000) == 1000
