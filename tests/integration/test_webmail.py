"""The webmail (www/mail/) in headless Chromium: log in with the site's cookie, read a message
sent over SMTP, reply with an attachment and see the reply arrive over IMAP, make a folder
and move a message into it, search, log out; a hostile HTML message shows no script
execution and makes no request to the remote host; screenshots of the inbox and a message.
Without a browser: a forged cross-site POST is refused, a stale session goes back to login."""

import base64
import email
import http.server
import imaplib
import json
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import jmap_helpers as J
import pigeon_harness as H

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

# the "remote" image server of these tests is on 127.0.0.1: the image proxy may fetch there
web = J.jmap_fixture("webmail", jmap={"image_proxy_allow": "127.0.0.1/32"})
PNG_1X1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4"
                           "z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
SHOTS = Path(os.environ.get("PIGEON_SCREENSHOTS", H.REPO / "build" / "screenshots"))


class Spy:
    """A "remote" web server that records every request it gets."""

    def __init__(self):
        self.hits = []
        self.headers = []
        spy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                spy.hits.append(self.path)
                spy.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG_1X1)))
                self.end_headers()
                self.wfile.write(PNG_1X1)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def spy():
    s = Spy()
    yield s
    s.server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-webmail")
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--window-size=1280,900", "--user-data-dir=%s" % profile):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def wait(drv, fn, what, timeout=60):
    try:
        return WebDriverWait(drv, timeout).until(lambda d: fn(d))
    except Exception:
        raise AssertionError("browser: %s did not happen; page text:\n%s" % (
            what, drv.find_element(By.TAG_NAME, "body").text[:2000]))


def click_until_login(drv):
    """True once the login form shows; until then clicks the first mailbox again, as a user
    would when a click lands while the list is being drawn again (seen at load 15)."""
    if visible(drv, "login"):
        return True
    try:
        drv.find_element(By.CSS_SELECTOR, "#mailbox-list li").click()
    except Exception:  # noqa: BLE001 - the list is being replaced: the next poll clicks again
        pass
    return False


def visible(drv, el_id):
    return drv.find_element(By.ID, el_id).is_displayed()


def login(drv, web, user="alice", password="crepes"):
    drv.get(web.url("/mail/"))
    drv.delete_all_cookies()  # a fresh session whatever an earlier test left
    drv.get(web.url("/mail/"))
    wait(drv, lambda d: visible(d, "login"), "the login form")
    drv.find_element(By.ID, "login-user").send_keys(user)
    drv.find_element(By.ID, "login-pass").send_keys(password)
    drv.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait(drv, lambda d: visible(d, "app"), "the app after login")


def list_subjects(drv):
    # read in one script: the list may be redrawn between two WebDriver calls
    return drv.execute_script("return Array.from(document.querySelectorAll("
                              "'#message-list .subject')).map(e => e.textContent);")


def open_message(drv, subject):
    wait(drv, lambda d: subject in list_subjects(d), "%r in the list" % subject)
    drv.execute_script("for (const li of document.querySelectorAll('#message-list li'))"
                       "  if (li.querySelector('.subject').textContent === arguments[0])"
                       "    { li.click(); break; }", subject)
    wait(drv, lambda d: d.find_element(By.ID, "r-subject").text == subject, "the message open")


def imap_find(web, user, mailbox, subject):
    m = imaplib.IMAP4("127.0.0.1", web.d.imap_port)
    m.login(user, web.d.users[user])
    m.select(mailbox)
    typ, data = m.search(None, "SUBJECT", '"%s"' % subject)
    out = []
    for n in data[0].split():
        typ, d = m.fetch(n, "(RFC822)")
        out.append(email.message_from_bytes(d[0][1]))
    m.logout()
    return out


def test_read_reply_move_search_logout(web, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Exam schedule",
                   "The exam is on Friday.\r\nBob\r\n", sender="bob@hamburger.edu")
    for i in range(3):
        J.smtp_deliver(web.d, "alice@hamburger.edu", "Filler %d" % i, "x\r\n")
    login(browser, web)
    wait(browser, lambda d: "Exam schedule" in list_subjects(d), "the SMTP message listed")
    inbox_label = browser.find_element(By.CSS_SELECTOR, "#mailbox-list li.current").text
    assert inbox_label.startswith("Inbox") and inbox_label.rstrip().endswith("4")  # unread count
    browser.save_screenshot(str(SHOTS / "webmail-inbox.png"))
    open_message(browser, "Exam schedule")
    assert "The exam is on Friday." in browser.find_element(By.ID, "r-text").text
    browser.save_screenshot(str(SHOTS / "webmail-message.png"))
    assert (SHOTS / "webmail-inbox.png").stat().st_size > 1000
    # reply with an attachment
    att = tmp_path / "notes.txt"
    att.write_text("my notes\n")
    browser.find_element(By.ID, "reply-btn").click()
    wait(browser, lambda d: visible(d, "compose"), "the compose dialog")
    assert browser.find_element(By.ID, "c-to").get_attribute("value").endswith("<bob@hamburger.edu>")
    browser.find_element(By.ID, "c-body").send_keys("Thanks, see the notes.")
    browser.find_element(By.ID, "c-files").send_keys(str(att))
    wait(browser, lambda d: "notes.txt" in d.find_element(By.ID, "c-attached").text, "upload")
    browser.find_element(By.ID, "c-send").click()
    wait(browser, lambda d: not visible(d, "compose"), "the dialog closed after sending")
    got = H.wait_until(lambda: imap_find(web, "bob@hamburger.edu", "INBOX", "Re: Exam schedule"),
                       what="the reply over IMAP")
    msg = got[0]
    parts = {p.get_filename(): p.get_payload(decode=True) for p in msg.walk()
             if p.get_filename()}
    assert parts == {"notes.txt": b"my notes\n"}
    assert msg["In-Reply-To"] == "<Exam.schedule@example.org>"
    assert imap_find(web, "alice@hamburger.edu", "Sent", "Re: Exam schedule")
    # a new folder, and a move into it
    browser.find_element(By.ID, "new-folder").send_keys("Courses")
    browser.find_element(By.CSS_SELECTOR, "#new-folder-form button").click()
    wait(browser, lambda d: "Courses" in d.find_element(By.ID, "mailbox-list").text, "folder")
    open_message(browser, "Exam schedule")
    sel = Select(browser.find_element(By.ID, "move-to"))
    sel.select_by_visible_text("Courses")
    wait(browser, lambda d: "Exam schedule" not in list_subjects(d), "moved out of the inbox")
    H.wait_until(lambda: imap_find(web, "alice@hamburger.edu", "Courses", "Exam schedule"),
                 what="the move seen over IMAP")
    # search finds it in its new folder
    box = browser.find_element(By.ID, "search")
    box.send_keys("Friday\n")
    # the message in its new folder, and the sent reply that quotes it
    wait(browser, lambda d: sorted(list_subjects(d)) == ["Exam schedule", "Re: Exam schedule"],
         "the search result")
    # log out: back to the login form; the session is gone server-side
    browser.find_element(By.ID, "logout-btn").click()
    wait(browser, lambda d: visible(d, "login"), "the login form after logout")
    browser.get(web.url("/mail/"))
    wait(browser, lambda d: visible(d, "login"), "the login form on reload")


HOSTILE = """<html><head><style>body {{ background: url(http://127.0.0.1:{p}/css-bg.png) }}
</style><script>window.parent.pwned = 1; fetch('http://127.0.0.1:{p}/script');</script></head>
<body onload="window.parent.pwned = 2">
<p>Hello <b>student</b>.</p>
<img src="http://127.0.0.1:{p}/track.png" alt="tracker">
<img src="x" onerror="window.parent.pwned = 3; new Image().src='http://127.0.0.1:{p}/onerror'">
<div style="background-image: url('http://127.0.0.1:{p}/inline.png')">styled</div>
<a href="javascript:window.parent.pwned=4">click</a>
<iframe src="http://127.0.0.1:{p}/frame"></iframe>
</body></html>"""


def test_hostile_html(web, browser, spy):
    html = HOSTILE.format(p=spy.port).replace("\n", "\r\n") + "\r\n"
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Hostile page", html,
                   extra="MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n")
    login(browser, web)
    open_message(browser, "Hostile page")
    frame = browser.find_element(By.ID, "r-html")
    wait(browser, lambda d: frame.is_displayed(), "the HTML view")
    doc = frame.get_attribute("srcdoc")
    assert "Hello <b>student</b>" in doc
    for bad in ("<script", "onerror", "onload", "javascript:", "url(", "<iframe",
                "127.0.0.1:%d" % spy.port):
        assert bad not in doc, bad
    assert visible(browser, "r-images")  # the reader says images were blocked
    browser.switch_to.frame(frame)
    assert "styled" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    # give a script every chance to have run: one more round trip through the app
    browser.execute_script("return 1")
    assert browser.execute_script("return window.pwned === undefined")
    assert spy.hits == []
    # the stored message itself is never served as a page of this site
    c = J.Client(web)
    e = c.call("Email/query", {"filter": {"subject": "Hostile page"}})["ids"][0]
    blob = c.call("Email/get", {"ids": [e], "properties": ["blobId"]})["list"][0]["blobId"]
    status, headers, _ = c.raw("GET", "/jmap/download/%s/%s/x.html?accept=text/html" %
                               (c.account, blob))
    assert status == 200 and headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in headers["Content-Security-Policy"]


def test_remote_images_on_request(web, browser, spy):
    """Remote images stay blocked until the reader asks; then Pigeon fetches them (the
    sender's server sees no cookie and no referrer) and they show inline as data: URLs."""
    html = '<p>Look at this</p><img src="http://127.0.0.1:%d/shown.png" alt="pic">\r\n' % (
        spy.port)
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Pictures inside", html,
                   extra="MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n")
    login(browser, web)
    open_message(browser, "Pictures inside")
    wait(browser, lambda d: visible(d, "r-images-btn"), "the show-images button")
    assert "/shown.png" not in spy.hits
    browser.find_element(By.ID, "r-images-btn").click()
    frame = browser.find_element(By.ID, "r-html")
    wait(browser, lambda d: "data:image/png;base64," in frame.get_attribute("srcdoc"),
         "the image shown inline")
    assert spy.hits.count("/shown.png") == 1
    sent = spy.headers[spy.hits.index("/shown.png")]
    assert "cookie" not in sent and "referer" not in sent, sent
    assert sent["user-agent"] == "Pigeon image proxy"


def post_api(web, cookie, headers):
    body = json.dumps({"using": [J.CORE], "methodCalls": [["Core/echo", {"x": 1}, "0"]]})
    h = {"Cookie": cookie, "Content-Type": "application/json"}
    h.update(headers)
    req = urllib.request.Request(web.url("/jmap/api/"), data=body.encode(), headers=h,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_csrf_and_stale_session(web, browser):
    cookie = J.cookie_login(web)
    req = urllib.request.Request(web.url("/.well-known/jmap"), headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=30) as r:
        token = json.loads(r.read())["csrfToken"]
    assert len(token) == 64
    # forged: no token, a wrong token, the right token from another origin
    assert post_api(web, cookie, {}) == 403
    assert post_api(web, cookie, {"X-CSRF-Token": "0" * 64}) == 403
    assert post_api(web, cookie, {"X-CSRF-Token": token,
                                  "Origin": "http://evil.example"}) == 403
    assert post_api(web, cookie, {"X-CSRF-Token": token}) == 200
    host = web.url("/")[len("http://"):-1]
    assert post_api(web, cookie, {"X-CSRF-Token": token, "Origin": "http://" + host}) == 200
    # A plain HTML form cannot set the header: the browser's forged POST is refused too.
    login(browser, web)
    browser.execute_script("""
        const f = document.createElement('form');
        f.method = 'POST'; f.action = '/jmap/api/'; f.enctype = 'text/plain';
        const i = document.createElement('input');
        i.name = '{"using":[],"methodCalls":[],"x":"'; i.value = '"}';
        f.append(i); document.body.append(f); f.submit();""")
    wait(browser, lambda d: "CSRF" in d.find_element(By.TAG_NAME, "body").text,
         "the refusal page")
    # An expired (here: forged) session sends the app back to the login form.
    browser.get(web.url("/mail/"))
    browser.delete_all_cookies()
    browser.add_cookie({"name": "pigeon_session", "value": "0" * 32, "path": "/"})
    browser.get(web.url("/mail/"))
    wait(browser, lambda d: visible(d, "login"), "the login form for a stale session")
    # ... and a session ended while the app is open shows the login on the next action
    login(browser, web)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/logout', {method: 'POST', credentials: 'same-origin'}).then(() => done(1));")
    assert visible(browser, "app")  # the app does not know yet
    H.wait_until(lambda: post_api(web, cookie, {"X-CSRF-Token": token}) == 200,
                 what="the first cookie still valid")
    wait(browser, click_until_login, "the login form after the session ended")
    assert "session has ended" in browser.find_element(By.ID, "login-error").text


def test_live_update_by_push(web, browser):
    """A message delivered over SMTP while the inbox is open shows up without any click:
    the event source pushes the state change (the page's fallback poll is two minutes)."""
    login(browser, web)
    wait(browser, lambda d: d.execute_script(
        "return S.events !== null && S.events.readyState === EventSource.OPEN"),
        "the event source open")
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Pushed to the page", "Fresh.\r\n")
    wait(browser, lambda d: "Pushed to the page" in list_subjects(d), "the pushed message",
         timeout=60)


def test_conversation_grouped(web, browser):
    """A message and its reply are one line of the list (with the conversation's size); the
    reader lists the conversation, and a click opens its other message."""
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Picnic on Sunday", "Who comes?\r\n")
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Re: Picnic on Sunday", "Me!\r\n",
                   extra="In-Reply-To: <Picnic.on.Sunday@example.org>\r\n")
    login(browser, web)
    wait(browser, lambda d: "Re: Picnic on Sunday" in list_subjects(d), "the reply listed")
    assert "Picnic on Sunday" not in list_subjects(browser)
    size = browser.execute_script(
        "for (const li of document.querySelectorAll('#message-list li'))"
        "  if (li.querySelector('.subject').textContent === arguments[0])"
        "    return li.querySelector('.thread-size').textContent;", "Re: Picnic on Sunday")
    assert size == "2"
    open_message(browser, "Re: Picnic on Sunday")
    conv = "return Array.from(document.querySelectorAll('#r-thread li')).map(e => e.textContent)"
    wait(browser, lambda d: len(d.execute_script(conv)) == 2, "the conversation listed")
    assert "Picnic on Sunday" in browser.execute_script(conv)[0]
    browser.find_element(By.CSS_SELECTOR, "#r-thread li:not(.current)").click()
    wait(browser, lambda d: d.find_element(By.ID, "r-subject").text == "Picnic on Sunday",
         "the first message open from the conversation")


def test_drafts_identities_vacation(web, browser):
    login(browser, web)
    # a second identity with a signature, made in the settings dialog
    browser.find_element(By.ID, "settings-btn").click()
    wait(browser, lambda d: visible(d, "settings"), "the settings dialog")
    browser.find_element(By.ID, "id-name").clear()
    browser.find_element(By.ID, "id-name").send_keys("Alice (office)")
    browser.find_element(By.ID, "id-signature").send_keys("-- Alice, room 12")
    browser.find_element(By.ID, "id-add").click()
    wait(browser, lambda d: "Alice (office)" in d.find_element(By.ID, "identity-list").text,
         "the new identity listed")
    # the vacation reply, seen by delivery (Sieve) and by JMAP
    browser.find_element(By.ID, "vac-enabled").click()
    browser.find_element(By.ID, "vac-subject").send_keys("Out of office")
    browser.find_element(By.ID, "vac-text").send_keys("Back next week.")
    browser.find_element(By.ID, "vac-save").click()
    wait(browser, lambda d: "Vacation reply on" in d.find_element(By.ID, "settings-status").text,
         "the vacation saved")
    browser.find_element(By.ID, "settings-close").click()
    assert "jmap-vacation\t" in web.d.cli("sieve", "list", "alice@hamburger.edu").stdout.decode()
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Are you in?", sender="bob@hamburger.edu")
    H.wait_until(lambda: imap_find(web, "bob@hamburger.edu", "INBOX", "Out of office"),
                 what="the vacation reply to bob")
    # a draft written with the new identity, saved, opened again, changed and sent
    browser.find_element(By.ID, "compose-btn").click()
    wait(browser, lambda d: visible(d, "compose"), "the compose dialog")
    Select(browser.find_element(By.ID, "c-from")).select_by_visible_text(
        "Alice (office) <alice@hamburger.edu>")
    browser.find_element(By.ID, "c-to").send_keys("bob@hamburger.edu")
    browser.find_element(By.ID, "c-subject").send_keys("Lab report")
    browser.find_element(By.ID, "c-body").send_keys("First version.")
    browser.find_element(By.ID, "c-draft").click()
    wait(browser, lambda d: not visible(d, "compose"), "the draft saved")
    H.wait_until(lambda: imap_find(web, "alice@hamburger.edu", "Drafts", "Lab report"),
                 what="the draft over IMAP")
    drafts = [li for li in browser.find_elements(By.CSS_SELECTOR, "#mailbox-list li")
              if li.text.startswith("Drafts")][0]
    drafts.click()
    open_message(browser, "Lab report")
    browser.find_element(By.ID, "edit-draft-btn").click()
    wait(browser, lambda d: visible(d, "compose"), "the draft in the compose dialog")
    body = browser.find_element(By.ID, "c-body")
    assert "First version." in body.get_attribute("value")
    body.clear()
    body.send_keys("Second version.")
    browser.find_element(By.ID, "c-send").click()
    wait(browser, lambda d: not visible(d, "compose"), "the dialog closed after sending")
    got = H.wait_until(lambda: imap_find(web, "bob@hamburger.edu", "INBOX", "Lab report"),
                       what="the edited draft sent")
    assert "Second version." in got[0].get_payload()
    assert got[0]["From"] == '"Alice (office)" <alice@hamburger.edu>' or \
        got[0]["From"] == "Alice (office) <alice@hamburger.edu>"
    # the old draft is gone, no draft is left behind
    assert imap_find(web, "alice@hamburger.edu", "Drafts", "Lab report") == []
    # the vacation off again from the dialog
    browser.find_element(By.ID, "settings-btn").click()
    wait(browser, lambda d: visible(d, "settings"), "the settings dialog")
    browser.find_element(By.ID, "vac-enabled").click()
    browser.find_element(By.ID, "vac-save").click()
    wait(browser, lambda d: "Vacation reply off" in d.find_element(By.ID, "settings-status").text,
         "the vacation off")
    browser.find_element(By.ID, "settings-close").click()


def no_horizontal_overflow(drv):
    return drv.execute_script(
        "const w = window.innerWidth;"
        "if (document.documentElement.scrollWidth > w) return 'page ' + "
        "  document.documentElement.scrollWidth;"
        "for (const el of document.querySelectorAll('body *')) {"
        "  const r = el.getBoundingClientRect();"
        "  if (r.width && r.height && el.offsetParent !== null && r.right > w + 1)"
        "    return el.id || el.className || el.tagName; }"
        "return null;")


def in_view(drv, el_id):
    """The element is shown and lies inside the viewport (reachable without zooming)."""
    return drv.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "const r = el.getBoundingClientRect();"
        "return el.offsetParent !== null && r.width > 0 && r.left >= 0 &&"
        "  r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;", el_id)


def test_phone_layout(web, browser):
    """A 390x844 phone screen: nothing wider than the screen, the main actions on screen,
    one pane at a time (list, then message, then back)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    J.smtp_deliver(web.d, "alice@hamburger.edu", "Phone check",
                   "A long line " + "without breaks " * 30 + "\r\n")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2,
                             "mobile": True})
    try:
        login(browser, web)
        wait(browser, lambda d: "Phone check" in list_subjects(d), "the message listed")
        assert browser.execute_script("return window.innerWidth") == 390
        assert no_horizontal_overflow(browser) is None, no_horizontal_overflow(browser)
        for el in ("compose-btn", "menu-toggle", "search", "logout-btn"):
            assert in_view(browser, el), el
        assert not visible(browser, "folders")
        browser.save_screenshot(str(SHOTS / "webmail-phone-inbox.png"))
        browser.find_element(By.ID, "menu-toggle").click()
        wait(browser, lambda d: visible(d, "folders"), "the folder list")
        browser.find_element(By.ID, "menu-toggle").click()
        open_message(browser, "Phone check")
        assert not visible(browser, "list-pane")
        for el in ("back-btn", "reply-btn", "delete-btn"):
            assert in_view(browser, el), el
        assert no_horizontal_overflow(browser) is None, no_horizontal_overflow(browser)
        browser.save_screenshot(str(SHOTS / "webmail-phone-message.png"))
        browser.find_element(By.ID, "reply-btn").click()
        wait(browser, lambda d: visible(d, "compose"), "the compose dialog")
        for el in ("c-to", "c-send"):
            assert in_view(browser, el), el
        browser.find_element(By.ID, "c-cancel").click()
        browser.find_element(By.ID, "back-btn").click()
        wait(browser, lambda d: visible(d, "list-pane"), "back to the list")
        assert (SHOTS / "webmail-phone-inbox.png").stat().st_size > 1000
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_paging_a_large_mailbox(web, browser, tmp_path):
    """An inbox larger than a page: the list draws one page of 50 rows (Email/query with a
    position and a limit, never every message), "Older" the next 50, then the last 30, and
    "Newer" goes back; the newest message comes first."""
    web.d.add_user("carol@hamburger.edu", "pages")
    mbox = tmp_path / "carol.mbox"
    with open(mbox, "w") as f:
        for n in range(130):
            f.write("From dave@example.org Thu Jan  1 10:%02d:%02d 2026\n"
                    "From: Dave <dave@example.org>\nTo: carol@hamburger.edu\n"
                    "Subject: page test %d\nMessage-ID: <%d.page@example.org>\n"
                    "Date: 1 Jan 2026 10:%02d:%02d +0000\n\nMessage %d.\n\n"
                    % (n // 60, n % 60, n, n, n // 60, n % 60, n))
    web.d.cli("import", "mbox", str(mbox), "carol@hamburger.edu", "INBOX")
    login(browser, web, "carol@hamburger.edu", "pages")

    def page(d):
        return d.execute_script(
            "return [document.getElementById('page-info').textContent,"
            " document.querySelectorAll('#message-list li').length,"
            " document.querySelector('#message-list .subject')?.textContent,"
            " document.getElementById('prev-page').disabled,"
            " document.getElementById('next-page').disabled];")

    want = ["1\u201350 of 130", 50, "page test 129", True, False]
    wait(browser, lambda d: page(d) == want, "the first page (%r)" % (want,))
    browser.find_element(By.ID, "next-page").click()
    want = ["51\u2013100 of 130", 50, "page test 79", False, False]
    wait(browser, lambda d: page(d) == want, "the second page (%r)" % (want,))
    browser.find_element(By.ID, "next-page").click()
    want = ["101\u2013130 of 130", 30, "page test 29", False, True]
    wait(browser, lambda d: page(d) == want, "the last page (%r)" % (want,))
    browser.find_element(By.ID, "prev-page").click()
    want = ["51\u2013100 of 130", 50, "page test 79", False, False]
    wait(browser, lambda d: page(d) == want, "back to the second page (%r)" % (want,))
