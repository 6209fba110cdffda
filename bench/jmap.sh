#!/usr/bin/env bash
# bench/jmap.sh — a mail client's "show the newest 50 messages of the inbox" three ways on the
# same store: JMAP Email/query + Email/get (one POST, a result reference) on Pigeon, and IMAP
# UID SEARCH + UID FETCH of the same 50 on Pigeon and on a private Dovecot fed the very same
# messages (bench/lib/dovecot.sh). Each client keeps one connection and repeats the round
# for -t seconds; printed: rounds/s, microseconds per message, and the ratios.
#
# Both servers run under `nice -n -15` pinned to CPU 0 (taskset), the client on CPU 1; the
# load average is printed with the figures (the machine may be shared).
#
#   bench/jmap.sh [-m MESSAGES] [-t SECONDS] [-k] [-B]
#     -m  messages in the inbox (default 2000)   -t  seconds per measurement (default 10)
#     -k  keep the temporary directory           -B  do not run make (use build/release)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${TMPDIR:-/var/tmp}
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/dovecot.sh
. "$ROOT/bench/lib/dovecot.sh"

MSGS=2000 SECS=10 KEEP=0 NO_BUILD=0
while getopts "m:t:kB" o; do
    case $o in
        m) MSGS=$OPTARG ;;
        t) SECS=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        *) echo "usage: $0 [-m MESSAGES] [-t SECONDS] [-k] [-B]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) == 0 ]] || die "run as root (nice -n -15, Dovecot's users)"
if ! [[ -x /usr/lib/dovecot/imap ]]; then
    log "installing dovecot-imapd (the comparison)"
    apt_install_quiet dovecot-imapd dovecot.service dovecot.socket
fi
DOVECOT=$(command -v dovecot)
DOVEADM=$(command -v doveadm)
build_pigeon
BIN=$ROOT/build/release
bench_tmpdir pigeon-bench-jmap
C=1
PIGEOND_PID=
DC_CONF=
bench_stop() {
    stop_pid pigeond "$PIGEOND_PID" || true
    stop_dovecot
}

# ---------------------------------------------------------------- Pigeon
PG=$TMP/pigeon
PG_SMTP=$(free_port) PG_IMAP=$(free_port) PG_HTTP=$(free_port)
pigeon_jmap_conf "$PG" "$PG_HTTP"
cat >>"$PG/pigeon.conf" <<EOF

[smtp]
listen = 127.0.0.1:$PG_SMTP
max_recipients = 100

[imap]
listen = 127.0.0.1:$PG_IMAP
plaintext_auth = loopback
EOF
start_pigeond "$PG" "$PG_HTTP"

log "delivering $MSGS messages over SMTP"
python3 - "$PG_SMTP" "$MSGS" <<'PYEOF'
import random, smtplib, sys
port, msgs = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(8621)
words = "the quick brown fox jumps over lazy dog mail pigeon ketchup pickles".split()
s = smtplib.SMTP("127.0.0.1", port)
for n in range(msgs):
    body = "\r\n".join(" ".join(rnd.choice(words) for _ in range(12)) for _ in range(30))
    s.sendmail("alice@crepes.fr", ["u1@bench.test"], (
        "From: Alice <alice@crepes.fr>\r\nTo: u1@bench.test\r\nSubject: bench %d %s\r\n"
        "Message-ID: <%d.bench@crepes.fr>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n%s\r\n"
        % (n, rnd.choice(words), n, body)).encode())
s.quit()
PYEOF

# ---------------------------------------------------------------- Dovecot (same messages)
# dovecot_prepare reads $PG/var/pigeon.db and writes u1's Maildir.
dovecot_prepare
cat >"$DC_CONF" <<EOF
protocols = imap
$(dovecot_conf_common)
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
EOF
taskset -c 0 nice -n -15 "$DOVECOT" -c "$DC_CONF" || die "dovecot did not start"
wait_port "$DC_PORT" 10 || die "dovecot did not listen"

# ---------------------------------------------------------------- measure
log "measuring, $SECS s per server (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
taskset -c 1 python3 - "$PG_HTTP" "$PG_IMAP" "$DC_PORT" "$SECS" <<'PYEOF'
import base64, http.client, imaplib, json, sys, time
http_port, pg_imap, dc_imap, secs = (int(a) for a in sys.argv[1:])
N = 50
auth = "Basic " + base64.b64encode(b"u1@bench.test:pw-1").decode()

def jmap_setup():
    c = http.client.HTTPConnection("127.0.0.1", http_port)
    c.request("GET", "/.well-known/jmap", headers={"Authorization": auth})
    s = json.loads(c.getresponse().read())
    acc = s["primaryAccounts"]["urn:ietf:params:jmap:mail"]
    body = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        "methodCalls": [["Mailbox/query", {"accountId": acc, "filter": {"role": "inbox"}}, "m"]]})
    c.request("POST", "/jmap/api/", body, {"Authorization": auth,
                                            "Content-Type": "application/json"})
    inbox = json.loads(c.getresponse().read())["methodResponses"][0][1]["ids"][0]
    req = json.dumps({"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        "methodCalls": [
            ["Email/query", {"accountId": acc, "filter": {"inMailbox": inbox},
                             "sort": [{"property": "receivedAt", "isAscending": False}],
                             "limit": N}, "q"],
            ["Email/get", {"accountId": acc, "#ids": {"resultOf": "q", "name": "Email/query",
                                                      "path": "/ids"},
                           "properties": ["subject", "from", "receivedAt", "size", "keywords",
                                          "preview"]}, "g"]]})
    def once():
        c.request("POST", "/jmap/api/", req, {"Authorization": auth,
                                               "Content-Type": "application/json"})
        r = json.loads(c.getresponse().read())
        assert len(r["methodResponses"][1][1]["list"]) == N, r
    return once

def imap_setup(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login("u1@bench.test", "pw-1")
    m.select("INBOX", readonly=True)
    def once():
        typ, data = m.uid("SEARCH", None, "ALL")
        uids = data[0].split()[-N:]
        typ, data = m.uid("FETCH", b",".join(uids).decode(),
                          "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY.PEEK[TEXT]<0.256>)")
        assert sum(1 for d in data if isinstance(d, tuple)) == N, data[:2]
    return once

def run(name, once):
    once()  # warm-up (Dovecot builds its index, Pigeon its parse cache)
    end = time.monotonic() + secs
    n = 0
    t0 = time.monotonic()
    while time.monotonic() < end:
        once()
        n += 1
    dt = time.monotonic() - t0
    rate = n / dt
    print("%-14s %8.1f rounds/s  %8.1f us/message" % (name, rate, 1e6 / (rate * N)))
    return rate

j = run("pigeon-jmap", jmap_setup())
p = run("pigeon-imap", imap_setup(pg_imap))
d = run("dovecot-imap", imap_setup(dc_imap))
print("ratio jmap(pigeon)/imap(dovecot) = %.2f (rounds/s; > 1: JMAP faster per message)" % (j / d))
print("ratio jmap(pigeon)/imap(pigeon)  = %.2f" % (j / p))
PYEOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
