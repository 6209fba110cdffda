"""Port 465 (RFC 8314): [submissions] is submission with TLS from the first byte: no STARTTLS
offered, AUTH at once, mail accepted like on 587."""

import smtplib
import socket

import pigeon_harness as H

def test_implicit_tls_submission(new_daemon):
    port = H.free_port()
    d = new_daemon(start=False)
    d.sections["submissions"] = {"listen": "127.0.0.1:%d" % port}
    d.ports.append(port)
    d.write_conf()
    d.start()
    # Plain text on 465 gets no SMTP greeting (the server waits for a TLS ClientHello).
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    raw.settimeout(1.5)
    try:
        assert raw.recv(100) == b""
    except socket.timeout:
        pass
    raw.close()
    before = d.messages("bob@hamburger.edu")
    with smtplib.SMTP_SSL("127.0.0.1", port, context=H.unverified_context(),
                          timeout=H.IO_TIMEOUT) as s:
        code, text = s.ehlo()
        assert code == 250
        assert "STARTTLS" not in s.esmtp_features.keys() and "starttls" not in s.esmtp_features
        assert "auth" in s.esmtp_features
        s.login("alice", "crepes")
        refused = s.sendmail("alice@hamburger.edu", ["bob@hamburger.edu"],
                             b"Subject: over 465\r\n\r\nimplicit TLS\r\n")
        assert refused == {}
    new = d.new_messages(before)
    assert len(new) == 1 and b"implicit TLS" in new[0].data
    assert b"with ESMTPSA id " in new[0].data   # authenticated, over TLS


def test_submissions_requires_auth(new_daemon):
    port = H.free_port()
    d = new_daemon(start=False)
    d.sections["submissions"] = {"listen": "127.0.0.1:%d" % port}
    d.ports.append(port)
    d.write_conf()
    d.start()
    with smtplib.SMTP_SSL("127.0.0.1", port, context=H.unverified_context(),
                          timeout=H.IO_TIMEOUT) as s:
        s.ehlo()
        code, _ = s.mail("alice@hamburger.edu")
        assert code == 530
