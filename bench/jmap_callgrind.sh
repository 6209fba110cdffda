#!/usr/bin/env bash
# Instructions per JMAP round in pigeond, counted by valgrind's callgrind: the round of
# bench/jmap.sh (Email/query of the inbox, newest first, limit 50, and Email/get of those 50
# through a result reference: subject, from, receivedAt, size, keywords, preview) on an
# inbox of M messages. A figure a loaded machine does not move, to find and check the costs
# behind bench/jmap.sh's rounds/s.
#
# pigeond (one worker) runs twice under callgrind, answering N1 and N2 rounds on one
# keep-alive connection; (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up, the first read
# (which places every message in its thread) and shutdown. Every round's answer is checked.
# Printed for the whole process and for the JMAP requests alone (job_run, on the store pool):
# the first moves when background work happens in one run and not the other (pigeond makes a
# DKIM key at start-up, on its own schedule).
#
# usage: bench/jmap_callgrind.sh DIR...   each DIR holds pigeond and pigeon (build/release)
# env: M messages (default 2000), N1 (default 20), N2 (default 120), BENCH_DIR (/var/tmp),
#      BENCH_KEEP=1 keeps the callgrind files (for callgrind_annotate) and says where.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
M=${M:-2000}
N1=${N1:-20}
N2=${N2:-120}
BASE=${BENCH_DIR:-/var/tmp}
(($# > 0)) || die "usage: $0 DIR... (each with pigeond and pigeon)"
((N2 > N1)) || die "N2 must be larger than N1"
command -v valgrind >/dev/null || die "valgrind is not installed"
KEEP=${BENCH_KEEP:-0}
bench_tmpdir pigeon-jmap-callgrind
PID=
bench_stop() { stop_pid pigeond "$PID"; }

python3 "$ROOT/bench/lib/mbox.py" "$TMP/inbox.mbox" "$M" 30

# run BIN N: prints the instructions pigeond executed answering N rounds.
run() {
    local BIN=$1 n=$2 dir port
    dir=$(mktemp -d "$TMP/run.XXXXXX")
    port=$(free_port)
    pigeon_jmap_conf "$dir" "$port" "" "" "workers = 1"
    "$BIN/pigeon" -c "$dir/pigeon.conf" import mbox "$TMP/inbox.mbox" u1@bench.test INBOX \
        >/dev/null
    chmod -R a+rwX "$dir"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$BIN/pigeond" \
        -c "$dir/pigeon.conf" >"$dir/pigeond.log" 2>&1 &
    PID=$!
    wait_port "$port" 120 || { cat "$dir/pigeond.log" >&2; die "pigeond did not listen"; }
    python3 - "$port" "$n" <<'PYEOF' || die "$BIN: a round failed"
import base64, http.client, json, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
auth = {"Authorization": "Basic " + base64.b64encode(b"u1@bench.test:pw-1").decode(),
        "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
def post(calls):
    c.request("POST", "/jmap/api/", json.dumps({"using": ["urn:ietf:params:jmap:core",
              "urn:ietf:params:jmap:mail"], "methodCalls": calls}), auth)
    return json.loads(c.getresponse().read())["methodResponses"]
acc = "u1"
c.request("GET", "/.well-known/jmap", headers=auth)
acc = json.loads(c.getresponse().read())["primaryAccounts"]["urn:ietf:params:jmap:mail"]
inbox = post([["Mailbox/query", {"accountId": acc, "filter": {"role": "inbox"}}, "m"]])[0][1]["ids"][0]
calls = [["Email/query", {"accountId": acc, "filter": {"inMailbox": inbox},
                          "sort": [{"property": "receivedAt", "isAscending": False}],
                          "limit": 50}, "q"],
         ["Email/get", {"accountId": acc, "#ids": {"resultOf": "q", "name": "Email/query",
                                                   "path": "/ids"},
                        "properties": ["subject", "from", "receivedAt", "size", "keywords",
                                       "preview"]}, "g"]]
for _ in range(n):
    r = post(calls)
    assert len(r[1][1]["list"]) == 50, r
PYEOF
    stop_pid pigeond "$PID"
    PID=
    # the whole process, and the JMAP requests alone (job_run on the store pool: the engine
    # and the store), which background work (a DKIM key made at start-up) does not touch
    echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.out")" \
        "$(callgrind_annotate --inclusive=yes "$dir/cg.out" 2>/dev/null |
            awk '/jmap\/service\/http.c:job_run / {gsub(",", "", $1); print $1; exit}')"
}

printf '%-34s %14s %14s %12s %14s\n' build "Ir($N1)" "Ir($N2)" "Ir/round" "job_run/round"
for bin in "$@"; do
    bin=$(cd "$bin" && pwd)
    [[ -x $bin/pigeond ]] || die "no pigeond in $bin"
    read -r a ja <<<"$(run "$bin" "$N1")"
    read -r b jb <<<"$(run "$bin" "$N2")"
    printf '%-34s %14s %14s %12d %14d\n' "$bin" "$a" "$b" $(((b - a) / (N2 - N1))) \
        $(((jb - ja) / (N2 - N1)))
done
