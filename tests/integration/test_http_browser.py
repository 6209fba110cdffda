"""One page load in headless Chromium (Debian's chromium + chromium-driver, python3-selenium):
the base HTML file and every object it references arrive (each image decoded: naturalWidth >
0), over HTTP/1.1 and over TLS with HTTP/2; then the login form sets the session cookie and the
page behind it shows who is logged in."""

import pytest

import http_helpers as X

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


web = X.web_fixture("http_browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--ignore-certificate-errors", "--user-data-dir=%s" % profile):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def images_loaded(drv):
    return drv.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")


@pytest.mark.parametrize("tls", [False, True])
def test_page_with_images(web, browser, tls):
    browser.get(web.url("/", tls=tls))
    WebDriverWait(browser, 30).until(lambda d: d.execute_script(
        "return document.readyState") == "complete")
    assert browser.title == "Hamburger University"
    imgs = images_loaded(browser)
    assert len(imgs) == 3
    assert all(done and width > 0 for done, width in imgs), imgs
    widths = sorted(w for _, w in imgs)
    assert widths == [16, 40, 64]
    # The stylesheet arrived and applied.
    family = browser.execute_script(
        "return getComputedStyle(document.body).fontFamily;")
    assert "serif" in family
    if tls:
        proto = browser.execute_script(
            "return performance.getEntriesByType('navigation')[0].nextHopProtocol;")
        assert proto == "h2"


def test_login_form(web, browser):
    browser.get(web.url("/login"))
    browser.find_element(By.NAME, "username").send_keys("alice")
    browser.find_element(By.NAME, "password").send_keys("crepes")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "/whoami" in d.current_url)
    assert "Logged in as alice@hamburger.edu" in browser.find_element(By.TAG_NAME, "body").text
    # The cookie is HttpOnly: page scripts cannot read it.
    assert "pigeon_session" not in browser.execute_script("return document.cookie;")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # log out
    WebDriverWait(browser, 30).until(lambda d: "/login" in d.current_url)
    browser.get(web.url("/whoami"))
    assert "not logged in" in browser.find_element(By.TAG_NAME, "body").text
