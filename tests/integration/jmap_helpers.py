"""Helpers for the JMAP tests: a pigeond with an HTTP site, [jmap] (and the webmail), IMAP and
POP3; a small JMAP client over urllib (Basic or the login cookie)."""

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import http_helpers as X
import pigeon_harness as H

MAIL = "urn:ietf:params:jmap:mail"
CORE = "urn:ietf:params:jmap:core"
SUBMISSION = "urn:ietf:params:jmap:submission"
USING = [CORE, MAIL, SUBMISSION]
WEBMAIL = H.REPO / "www" / "mail"


def start_jmap(root, name, jmap=None, users=None, domains=(H.DOMAIN,)):
    d = H.Daemon(root, name=name, imap={}, pop3={}, users=users, domains=domains)
    www = X.make_site(root)
    d.sections["jmap"] = {"enabled": "yes"}
    if WEBMAIL.is_dir():
        d.sections["jmap"]["webmail"] = str(WEBMAIL)
    d.sections["jmap"].update(jmap or {})
    hd = X.HTTPDaemon(d, www)
    d.setup()
    d.start()
    return hd


def jmap_fixture(name, **kw):
    @pytest.fixture(scope="module")
    def web(tmp_path_factory):
        hd = start_jmap(tmp_path_factory.mktemp(name), "pigeond[%s]" % name, **kw)
        yield hd
        X.finish(hd.d)
    return web


class Client:
    """A JMAP client for one user over HTTP Basic."""

    def __init__(self, web, user="alice@hamburger.edu", password=None):
        self.web = web
        self.user = user
        self.password = password or web.d.users[user]
        self.session = self.get_json("/.well-known/jmap")
        self.account = self.session["primaryAccounts"][MAIL]

    def headers(self, extra=None):
        tok = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
        h = {"Authorization": "Basic " + tok}
        h.update(extra or {})
        return h

    def raw(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.web.url(path), data=body, method=method,
                                     headers=self.headers(headers))
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def get_json(self, path):
        status, _, body = self.raw("GET", path)
        assert status == 200, (status, body)
        return json.loads(body)

    def post(self, body, headers=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        status, _, out = self.raw("POST", "/jmap/api/", body, h)
        return status, json.loads(out) if out else None

    def calls(self, calls, using=USING):
        status, resp = self.post({"using": using, "methodCalls": calls})
        assert status == 200, resp
        return resp["methodResponses"]

    def call(self, name, args, cid="c0"):
        args = dict(args)
        args.setdefault("accountId", self.account)
        r = self.calls([[name, args, cid]])
        assert r[0][0] == name, r
        return r[0][1]

    def mailbox(self, role=None, name=None):
        for m in self.call("Mailbox/get", {"ids": None})["list"]:
            if (role and m["role"] == role) or (name and m["name"] == name):
                return m
        raise AssertionError("no mailbox %s" % (role or name))

    def state(self):
        return self.call("Email/get", {"ids": []})["state"]

    def upload(self, data, ctype="application/octet-stream"):
        status, _, out = self.raw("POST", "/jmap/upload/%s/" % self.account, data,
                                  {"Content-Type": ctype})
        assert status == 201, out
        return json.loads(out)


def smtp_deliver(d, rcpt, subject, body="Hello.\r\n", sender="carol@example.org", extra=""):
    msg = ("From: Carol <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n%s"
           "\r\n%s" % (sender, rcpt, subject, subject.replace(" ", "."), extra, body))
    with H.SMTPClient(d.smtp_port) as s:
        s.send_mail(sender, [rcpt], msg.encode())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **kw):
        return None


def cookie_login(web, user="alice", password="crepes"):
    """Logs in through the site's /login form: the session cookie ("name=value")."""
    req = urllib.request.Request(web.url("/login"), data=("username=%s&password=%s" % (
        user, password)).encode(), method="POST")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(req, timeout=30)
    except urllib.error.HTTPError as e:
        assert e.code == 303
        return e.headers["Set-Cookie"].split(";")[0]
    raise AssertionError("no 303 from /login")
