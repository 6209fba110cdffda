#!/usr/bin/env bash
# Outbound delivery benchmark: Pigeon against Postfix, in one run, on loopback.
#
# N messages for one remote domain, sink.test, are put in each server's queue while the
# remote is down; then Postfix's smtp-sink is started as the remote and the queue is flushed;
# the time runs until the sink has received all N. Pigeon and Postfix deliver to the same sink
# program on the same address, one after the other, never at once.
#
#   Pigeon:  release pigeond (workers = 2, log_level = warn, [delivery] defaults: 20
#            connections, 4 per domain, opportunistic TLS, which smtp-sink does not offer).
#            Messages are submitted over [submission] with STARTTLS + AUTH by a small Python
#            client (smtp-source cannot AUTH). sink.test's MX is looked up in DNS: the same
#            pigeond serves the sink.test zone on 127.0.0.1 and its [delivery] resolver is that
#            listener. Every 250 from the sink deletes the queue row at once (durable: no
#            resend after a crash).
#   Postfix: a private instance (own main.cf/master.cf, queue and data directory, no chroot),
#            messages injected with smtp-source into its smtpd; sink.test is routed by
#            transport_maps to smtp:[127.0.0.1]:PORT (no DNS), Postfix's default concurrency
#            (20 per destination, starting at 5), connection cache on demand, no TLS.
#
# The sink's running counter (smtp-sink -c) is read with timestamps: "messages/s" is
# N / (time of the N-th message at the sink - time of the flush command). Also printed: the
# time from the flush to the first message (the scheduler's reaction: Pigeon scans the queue
# every scan_interval = 1 s; Postfix's qmgr is woken by postqueue -f).
#
# usage: bench/outbound.sh [-n MESSAGES] [-s SIZE] [-c SUBMITTERS] [-r ROUNDS] [-t TIMEOUT]
#                          [-o pigeon|postfix] [-k] [-B]
#   -n  messages per server and round          (env BENCH_N,       default 10000)
#   -s  message body bytes                     (env BENCH_SIZE,    default 4096)
#   -c  concurrent sessions used to fill each queue (env BENCH_C,  default 8)
#   -r  rounds (Pigeon first in odd rounds)    (env BENCH_ROUNDS,  default 1)
#   -t  seconds allowed per phase              (env BENCH_TIMEOUT, default 600)
#   -o  one server only                        (env BENCH_ONLY)
#   -k  keep the temporary directory           (env BENCH_KEEP=1)
#   -B  don't run make; use build/release as is (env BENCH_NO_BUILD=1)
# env BENCH_DIR: where the temporary directory goes (default /var/tmp, a real disk).
#
# Needs root (Postfix's master; smtp-sink drops to nobody) and the Debian postfix package
# (scripts/install-deps.sh). Listens on 127.0.0.1 only; stops everything it started on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N=${BENCH_N:-10000}
SIZE=${BENCH_SIZE:-4096}
C=${BENCH_C:-8}
ROUNDS=${BENCH_ROUNDS:-1}
TIMEOUT=${BENCH_TIMEOUT:-600}
ONLY=${BENCH_ONLY:-}
KEEP=${BENCH_KEEP:-0}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}

while getopts "n:s:c:r:t:o:kBh" opt; do
    case $opt in
        n) N=$OPTARG ;;
        s) SIZE=$OPTARG ;;
        c) C=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        t) TIMEOUT=$OPTARG ;;
        o) ONLY=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-n MESSAGES] [-s SIZE] [-c SUBMITTERS] [-r ROUNDS] [-t TIMEOUT] [-o pigeon|postfix] [-k] [-B]" >&2; exit 2 ;;
    esac
done
for v in N SIZE C ROUNDS TIMEOUT; do
    if ! [[ ${!v} =~ ^[0-9]+$ ]] || ((${!v} == 0)); then echo "bench: $v must be a positive number" >&2; exit 2; fi
done
case $ONLY in ""|pigeon|postfix) ;; *) echo "bench: -o takes pigeon or postfix" >&2; exit 2 ;; esac
run_pigeon() { [[ -z $ONLY || $ONLY == pigeon ]]; }
run_postfix() { [[ -z $ONLY || $ONLY == postfix ]]; }

PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || die "must run as root (Postfix's master, smtp-sink)"
for p in smtp-sink smtp-source postfix postqueue python3; do
    command -v $p >/dev/null || die "$p is missing (scripts/install-deps.sh installs postfix)"
done
POSTFIX=$(command -v postfix)
PF_VERSION=$(postconf -c /usr/share/postfix -d -h mail_version 2>/dev/null || echo "?")

BIN=$ROOT/build/release
if run_pigeon; then build_pigeon; fi
if run_pigeon; then [[ -x $BIN/pigeond && -x $BIN/pigeon ]] || die "no pigeond or pigeon in $BIN"; fi

TMP=$(mktemp -d "$BASE/pigeon-outbound.XXXXXX")
chmod 755 "$TMP"
if run_pigeon; then
    mkdir "$TMP/bin"
    cp "$BIN/pigeond" "$BIN/pigeon" "$TMP/bin/" # a rebuild during the run cannot change them
fi
PIGEOND=$TMP/bin/pigeond
PIGEON=$TMP/bin/pigeon

# The sink's port must lie below the kernel's ephemeral range: while the sink is down, a
# connection to 127.0.0.1:PORT from an ephemeral port that happens to equal PORT connects to
# itself (TCP simultaneous open) and then waits for a greeting until command_timeout.
free_low_port() {
    local low p
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    for _ in $(seq 1 200); do
        p=$((10000 + RANDOM % (low - 10000)))
        ss -Htuln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
    done
    die "no free port found"
}
SINK_PORT=$(free_low_port)

# ---------------------------------------------------------------- cleanup
PIGEOND_PID=
PF_CONF=
SINK_PID=
COUNT_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ((rc == 0)) || log "exit $rc: stopping the servers and cleaning up"
    stop_sink || true
    if [[ -n $PIGEOND_PID ]]; then stop_pigeond || true; fi
    if [[ -n $PF_CONF ]]; then stop_postfix || true; fi
    if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- the sink
# smtp-sink -c prints "sess=S quit=Q mesg=M\r" after each message; this reader writes
# "time_of_first_message time_of_Nth_message messages sessions" into LABEL.sink.
cat >"$TMP/count.py" <<'EOF'
import sys, time
out, target = sys.argv[1], int(sys.argv[2])
first = last = None
count, sess, written = 0, 0, 0.0
def save():
    with open(out + ".tmp", "w") as f:
        f.write("%s %s %d %d\n" % (first or 0, last or 0, count, sess))
    import os; os.replace(out + ".tmp", out)
save()
buf = b""
while True:
    chunk = sys.stdin.buffer.read1(65536)
    if not chunk:
        break
    t = time.time()
    buf += chunk
    *recs, buf = buf.replace(b"\n", b"\r").split(b"\r")
    for r in recs:
        for f in r.split():
            if f.startswith(b"mesg="):
                count = int(f[5:])
            elif f.startswith(b"sess="):
                sess = int(f[5:])
    if count and first is None:
        first = t
    if count >= target and last is None:
        last = t
    if first == t or last == t or t - written > 0.2:
        save(); written = t
save()
EOF
start_sink() { # LABEL
    rm -f "$TMP/$1.sink" "$TMP/sink.fifo"
    mkfifo "$TMP/sink.fifo"
    python3 "$TMP/count.py" "$TMP/$1.sink" "$N" <"$TMP/sink.fifo" &
    COUNT_PID=$!
    smtp-sink -c -u nobody "127.0.0.1:$SINK_PORT" 1024 >"$TMP/sink.fifo" 2>"$TMP/$1.sink-err" &
    SINK_PID=$!
    wait_port "$SINK_PORT" 10 || { cat "$TMP/$1.sink-err" >&2; die "smtp-sink did not listen"; }
}
stop_sink() {
    if [[ -n $SINK_PID ]]; then
        kill -TERM "$SINK_PID" 2>/dev/null || true
        wait "$SINK_PID" 2>/dev/null || true
        SINK_PID=
    fi
    if [[ -n $COUNT_PID ]]; then # ends at EOF on the fifo
        wait "$COUNT_PID" 2>/dev/null || true
        COUNT_PID=
    fi
}
sink_count() { awk '{print $3}' "$TMP/$1.sink" 2>/dev/null || echo 0; }

# wait_sink LABEL T0: waits until the sink has N messages; sets D_SECS D_FIRST.
wait_sink() {
    local label=$1 t0=$2 deadline=$(($(date +%s) + TIMEOUT))
    while (($(sink_count "$label") < N)); do
        (($(date +%s) < deadline)) || { log "$label: sink has $(sink_count "$label") of $N after ${TIMEOUT}s"; return 1; }
        sleep 0.1
    done
    local first last
    read -r first last _ <"$TMP/$label.sink"
    D_SECS=$(awk -v a="$t0" -v b="$last" 'BEGIN {printf "%.3f", b - a}')
    D_FIRST=$(awk -v a="$t0" -v b="$first" 'BEGIN {printf "%.3f", b - a}')
}

cpu_mark() { head -1 /proc/stat >"$TMP/$1"; }
cpu_busy() { # FILE0 FILE1: busy share of all cores between the two marks
    awk 'NR == 1 {for (i = 2; i <= 9; i++) a[i] = $i}
         NR == 2 {for (i = 2; i <= 9; i++) {d[i] = $i - a[i]; t += d[i]}
                  printf "%.0f", t ? 100 * (d[2] + d[3] + d[4] + d[7] + d[8] + d[9]) / t : 0}' "$1" "$2"
}

# ---------------------------------------------------------------- Pigeon
stop_pigeond() {
    local pid=$PIGEOND_PID
    PIGEOND_PID=
    stop_pid pigeond "$pid"
}

# submit PORT: N messages over C sessions with STARTTLS + AUTH.
submit_pigeon() {
    python3 - "$1" "$N" "$C" "$SIZE" <<'EOF'
import smtplib, ssl, sys, threading
port, n, c, size = map(int, sys.argv[1:5])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
body = ("x" * 75 + "\r\n") * (size // 77 + 1)
errors = []
def worker(k):
    try:
        s = smtplib.SMTP("127.0.0.1", port, timeout=60)
        s.starttls(context=ctx)
        s.login("sender@bench.test", "pw")
        for i in range(k, n, c):
            msg = ("From: <sender@bench.test>\r\nTo: <rcpt@sink.test>\r\nSubject: out %d\r\n"
                   "Message-ID: <out-%d@bench.test>\r\n\r\n%s" % (i, i, body[:size]))
            s.sendmail("sender@bench.test", ["rcpt@sink.test"], msg)
        s.quit()
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=worker, args=(k,)) for k in range(c)]
[t.start() for t in ts]; [t.join() for t in ts]
if errors:
    sys.exit("submission failed: %s" % errors[:3])
EOF
}
queue_rows() { # DB [WHERE]: rows in Pigeon's queue
    python3 -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=30)
print(db.execute("SELECT count(*) FROM queue " + sys.argv[2]).fetchone()[0])' "$1" "${2:-}"
}

bench_pigeon() { # ROUND
    local r=$1 dir sub dns conf
    dir=$TMP/pigeon-$r
    mkdir -p "$dir"
    sub=$(free_port) dns=$(free_port)
    conf=$dir/pigeon.conf
    cat >"$dir/sink.test.zone" <<EOF
\$ORIGIN sink.test.
\$TTL 300
@ SOA ns hostmaster 1 1800 900 604800 300
@ NS ns
ns A 127.0.0.1
@ MX 10 mx
mx A 127.0.0.1
EOF
    cat >"$conf" <<EOF
[server]
hostname = pigeon.bench.local
primary_domain = bench.test
data_dir = $dir/var
log_level = warn
workers = 2

[submission]
listen = 127.0.0.1:$sub
max_connections_per_ip = 1000

[dns]
listen = 127.0.0.1:$dns

[zone sink.test]
file = $dir/sink.test.zone

[delivery]
resolver = 127.0.0.1:$dns
remote_port = $SINK_PORT
retry_initial = 3600
scan_interval = 1
EOF
    "$PIGEON" -c "$conf" domain add bench.test >/dev/null
    echo pw | "$PIGEON" -c "$conf" user add sender@bench.test >/dev/null
    "$PIGEOND" -c "$conf" >"$dir/pigeond.log" 2>&1 &
    PIGEOND_PID=$!
    wait_port "$sub" 10 || { cat "$dir/pigeond.log" >&2; die "pigeond did not start"; }

    log "round $r: pigeon: queueing $N messages (the sink is down)"
    local q0 q1
    q0=$(now)
    submit_pigeon "$sub" || die "pigeon: submission failed"
    q1=$(now)
    local deadline=$(($(date +%s) + TIMEOUT))
    # every entry tried once and deferred, so no first attempt is running when the sink starts
    until (($(queue_rows "$dir/var/pigeon.db" "WHERE attempts >= 1") >= N)); do
        (($(date +%s) < deadline)) || die "pigeon: entries not deferred in time"
        sleep 0.2
    done
    (($(queue_rows "$dir/var/pigeon.db") == N)) || die "pigeon: queue does not hold $N entries"

    start_sink "pigeon-$r"
    cpu_mark "pigeon-$r.cpu0"
    local t0
    t0=$(now)
    "$PIGEON" -c "$conf" queue flush >/dev/null
    wait_sink "pigeon-$r" "$t0" || { tail -20 "$dir/pigeond.log" >&2; die "pigeon run failed"; }
    cpu_mark "pigeon-$r.cpu1"
    sleep 0.5
    local left
    left=$(queue_rows "$dir/var/pigeon.db")
    ((left == 0)) || die "pigeon: $left entries still queued after the sink got $N messages"
    stop_sink
    D_SESS=$(awk '{print $4}' "$TMP/pigeon-$r.sink")
    stop_pigeond
    if grep -q . "$dir/pigeond.log"; then
        log "pigeond log (warnings and errors):"; head -10 "$dir/pigeond.log" >&2
    fi
    record "$r" pigeon "$D_SECS" "$D_FIRST" "$(cpu_busy "$TMP/pigeon-$r.cpu0" "$TMP/pigeon-$r.cpu1")" \
        "$(awk -v a="$q0" -v b="$q1" 'BEGIN {printf "%.1f", b - a}')"
}

# ---------------------------------------------------------------- Postfix
PF=
stop_postfix() {
    local conf=$PF_CONF master
    PF_CONF=
    master=$(tr -dc 0-9 <"$PF/queue/pid/master.pid" 2>/dev/null || true)
    "$POSTFIX" -c "$conf" stop >/dev/null 2>&1 || true
    if [[ -n $master ]]; then
        for _ in $(seq 1 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$master" 2>/dev/null; then
            "$POSTFIX" -c "$conf" abort >/dev/null 2>&1 || kill -KILL "$master" 2>/dev/null || true
        fi
    fi
}
pf_files() { find "$PF/queue/$1" -type f 2>/dev/null | wc -l; }

bench_postfix() { # ROUND
    local r=$1 port
    PF=$TMP/postfix-$r
    port=$(free_port)
    mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
    chown postfix "$PF/data"
    cat >"$PF/etc/main.cf" <<EOF
# Private Postfix instance for bench/outbound.sh: loopback only, relays sink.test to smtp-sink.
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.local
mydomain = bench.local
myorigin = \$myhostname
mydestination =
relayhost =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_tls_security_level = none
smtp_tls_security_level = none
transport_maps = inline:{ sink.test=smtp:[127.0.0.1]:$SINK_PORT }
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
EOF
    cat >"$PF/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    PF_CONF=$PF/etc
    "$POSTFIX" -c "$PF_CONF" check >"$PF/check.log" 2>&1 || { cat "$PF/check.log" >&2; die "postfix check failed"; }
    "$POSTFIX" -c "$PF_CONF" start >"$PF/start.log" 2>&1 || { cat "$PF/start.log" >&2; die "postfix start failed"; }
    wait_port "$port" 10 || die "postfix did not listen on 127.0.0.1:$port"

    log "round $r: postfix: queueing $N messages (the sink is down)"
    local q0 q1
    q0=$(now)
    timeout "$TIMEOUT" smtp-source -s "$C" -m "$N" -l "$SIZE" -f sender@bench.test \
        -t rcpt@sink.test -M client.test "127.0.0.1:$port" >"$PF/source.out" 2>&1 ||
        { cat "$PF/source.out" >&2; die "postfix: smtp-source failed"; }
    q1=$(now)
    local deadline=$(($(date +%s) + TIMEOUT))
    until (($(pf_files deferred) >= N)); do
        (($(date +%s) < deadline)) || { tail "$PF/maillog" >&2; die "postfix: messages not deferred in time"; }
        sleep 0.2
    done

    start_sink "postfix-$r"
    cpu_mark "postfix-$r.cpu0"
    local t0
    t0=$(now)
    postqueue -c "$PF_CONF" -f
    wait_sink "postfix-$r" "$t0" || { tail -20 "$PF/maillog" >&2; die "postfix run failed"; }
    cpu_mark "postfix-$r.cpu1"
    local left deadline2=$(($(date +%s) + 30))
    until left=$(($(pf_files deferred) + $(pf_files active) + $(pf_files incoming))); ((left == 0)); do
        (($(date +%s) < deadline2)) || die "postfix: $left messages still queued"
        sleep 0.1
    done
    stop_sink
    D_SESS=$(awk '{print $4}' "$TMP/postfix-$r.sink")
    stop_postfix
    record "$r" postfix "$D_SECS" "$D_FIRST" "$(cpu_busy "$TMP/postfix-$r.cpu0" "$TMP/postfix-$r.cpu1")" \
        "$(awk -v a="$q0" -v b="$q1" 'BEGIN {printf "%.1f", b - a}')"
}

# ---------------------------------------------------------------- run
IDLE=$( { head -1 /proc/stat; sleep 1; head -1 /proc/stat; } | awk '
    NR == 1 {for (i = 2; i <= 9; i++) a[i] = $i}
    NR == 2 {for (i = 2; i <= 9; i++) t += $i - a[i]; printf "%.0f", t ? 100 * ($5 - a[5] + $6 - a[6]) / t : 0}')
((IDLE >= 90)) || log "warning: the machine was only ${IDLE}% idle before the run; other load skews the figures"
log "N=$N messages of $SIZE bytes, rounds=$ROUNDS, dir=$TMP"

FMT='%-5s %-8s %8s %8s %10s %12s %9s %5s %10s\n'
ROWS=()
PIGEON_RATES=()
POSTFIX_RATES=()
record() { # ROUND SERVER SECONDS FIRST CPU QUEUE_SECONDS (and D_SESS)
    local rt row
    rt=$(awk -v n="$N" -v s="$3" 'BEGIN {printf "%.1f", n / s}')
    if [[ $2 == pigeon ]]; then PIGEON_RATES+=("$rt"); else POSTFIX_RATES+=("$rt"); fi
    # shellcheck disable=SC2059
    row=$(printf "$FMT" "$1" "$2" "$N" "$3" "$rt" "$4" "$D_SESS" "$5" "$6")
    ROWS+=("$row")
    log "round $1: $2 $rt messages/s"
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

for ((round = 1; round <= ROUNDS; round++)); do
    if ((round % 2)); then
        if run_pigeon; then bench_pigeon "$round"; fi
        if run_postfix; then bench_postfix "$round"; fi
    else
        if run_postfix; then bench_postfix "$round"; fi
        if run_pigeon; then bench_pigeon "$round"; fi
    fi
done

echo
echo "outbound: $N messages of $SIZE bytes to one domain, from each server's queue to smtp-sink"
echo "(Postfix $PF_VERSION) on 127.0.0.1, after a flush"
# shellcheck disable=SC2059
printf "$FMT" round server messages seconds messages/s "first msg s" sessions "cpu%" "queueing s"
printf '%s\n' "${ROWS[@]}"
echo
if run_pigeon; then
    REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    [[ -z $(git -C "$ROOT" --no-optional-locks status --porcelain -- src Makefile 2>/dev/null) ]] ||
        REV="$REV + uncommitted changes in src/"
    echo "pigeon:  $REV; median $(median "${PIGEON_RATES[@]}") messages/s over $ROUNDS round(s)"
fi
if run_postfix; then echo "postfix: median $(median "${POSTFIX_RATES[@]}") messages/s over $ROUNDS round(s)"; fi
echo "seconds: from the flush command to the N-th message at the sink; first msg: to the first."
echo "sessions: SMTP connections the sink saw (Pigeon may send many messages per connection)."
echo "cpu%: whole machine ($(nproc) cores) between the flush and the N-th message, sink included."
echo "queueing: time to put the N messages in the queue (not part of the rate)."
echo "data: $(findmnt -n -o FSTYPE -T "$TMP" 2>/dev/null || echo '?') under $BASE; machine idle before the run: ${IDLE}%"
if run_pigeon && run_postfix; then
    awk -v p="$(median "${PIGEON_RATES[@]}")" -v f="$(median "${POSTFIX_RATES[@]}")" \
        'BEGIN {printf "ratio pigeon/postfix = %.2f (medians)\n", p / f}'
fi
