#!/usr/bin/env bash
# bench/webmail.sh — the webmail (www/mail/) on an inbox of many messages, in headless
# Chromium (selenium): time from the login click until the first page of 50 is drawn with
# the total ("1–50 of N"), then for each of a few "Older" clicks until the next page is
# drawn, then the first page again after logging in anew. Timed inside the page
# (performance.now, a MutationObserver), so WebDriver's round trips are not counted. The first login is also the
# account's first JMAP read, which places every message in its thread (once; kept in the
# store); the second login shows the steady state.
#
# The messages are not sent over SMTP (10,000 deliveries took more than 7 minutes on the
# loaded machine last session): an mbox is written and imported with `pigeon import mbox`
# (each message file written durably, rows committed in batches of 100), timed and printed.
# pigeond runs under `nice -n -15` on CPU 0, Chromium and the driver on CPU 1; the load
# average is printed beside the figures (the machine may be shared). There is no peer to
# compare with: the issue asks for the time.
#
#   bench/webmail.sh [-m MESSAGES] [-p PAGES] [-k] [-B]
#     -m  messages in the inbox (default 10000)   -p  "Older" clicks timed (default 5)
#     -k  keep the temporary directory            -B  do not run make (use build/release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${TMPDIR:-/var/tmp}
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"

MSGS=10000 PAGES=5 KEEP=0 NO_BUILD=0
while getopts "m:p:kB" o; do
    case $o in
        m) MSGS=$OPTARG ;;
        p) PAGES=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        *) echo "usage: $0 [-m MESSAGES] [-p PAGES] [-k] [-B]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || die "run as root (nice -n -15)"
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] || die "needs chromium and chromium-driver"
build_pigeon
BIN=$ROOT/build/release
bench_tmpdir pigeon-bench-webmail
PIGEOND_PID=
bench_stop() { stop_pid pigeond "$PIGEOND_PID"; }

PG=$TMP/pigeon
PG_HTTP=$(free_port)
pigeon_jmap_conf "$PG" "$PG_HTTP" "login = yes" "webmail = $ROOT/www/mail"

log "writing an mbox of $MSGS messages"
python3 "$ROOT/bench/lib/mbox.py" "$PG/inbox.mbox" "$MSGS" 8
t0=$(now)
"$BIN/pigeon" -c "$PG/pigeon.conf" import mbox "$PG/inbox.mbox" u1@bench.test INBOX >&2
t1=$(now)
IMPORT_S=$(python3 -c "print('%.1f' % ($t1 - $t0))")
start_pigeond "$PG" "$PG_HTTP"

log "measuring in headless Chromium (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "import of $MSGS messages (pigeon import mbox): $IMPORT_S s"
taskset -c 1 /usr/bin/python3 - "$PG_HTTP" "$MSGS" "$PAGES" "$TMP" <<'PYEOF'
import sys, time
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

port, msgs, pages, tmp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
opts = Options()
opts.binary_location = "/usr/bin/chromium"
for a in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--window-size=1280,900", "--user-data-dir=%s/chromium" % tmp):
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_script_timeout(600)
wait = WebDriverWait(drv, 600, poll_frequency=0.05)

# Clicks sel and resolves with the milliseconds until the page shows `want` in #page-info
# and `rows` rows in the list, timed in the page (performance.now) from a MutationObserver:
# WebDriver's own polling neither adds to nor delays the figure.
CLICK_UNTIL = """
const [sel, want, rows, done] = arguments;
const ok = () => document.getElementById('page-info').textContent === want &&
                 document.querySelectorAll('#message-list li').length === rows;
const t0 = performance.now();
const obs = new MutationObserver(() => {
  if (ok()) { obs.disconnect(); done(performance.now() - t0); }
});
obs.observe(document.body, {subtree: true, childList: true, characterData: true});
document.querySelector(sel).click();
"""


def login():
    drv.get("http://127.0.0.1:%d/mail/" % port)
    drv.delete_all_cookies()
    drv.get("http://127.0.0.1:%d/mail/" % port)
    wait.until(lambda d: d.find_element(By.ID, "login").is_displayed())
    drv.find_element(By.ID, "login-user").send_keys("u1@bench.test")
    drv.find_element(By.ID, "login-pass").send_keys("pw-1")
    return drv.execute_async_script(CLICK_UNTIL, "#login-form button",
                                    "1\u201350 of %d" % msgs, 50)


try:
    first = login()
    times = []
    for p in range(1, pages + 1):
        want = "%d\u2013%d of %d" % (50 * p + 1, min(50 * p + 50, msgs), msgs)
        times.append(drv.execute_async_script(CLICK_UNTIL, "#next-page", want,
                                              min(50, msgs - 50 * p)))
    rows = drv.execute_script("return document.querySelectorAll('#message-list li').length")
    again = login()
    print("webmail, %d messages: login to first page of 50 (first JMAP read: threads "
          "placed) %.0f ms" % (msgs, first))
    print("webmail, %d messages: login to first page of 50 again %.0f ms" % (msgs, again))
    print("webmail, next page of 50: median %.0f ms, max %.0f ms (%d pages; %d rows in the "
          "list's DOM)" % (sorted(times)[len(times) // 2], max(times), len(times), rows))
finally:
    drv.quit()
PYEOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
