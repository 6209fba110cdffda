#!/usr/bin/env bash
# IMAP benchmark: Pigeon against Dovecot's imapd, in one run, on loopback.
#
# Both servers hold the same mailboxes: for each of CONCURRENCY users an INBOX of MESSAGES
# messages (the very bytes Pigeon stored after receiving them over SMTP). bench/imapload.c
# (built here) runs CONCURRENCY clients, one per user, each repeating a fixed round of 14
# commands for SECONDS seconds: SELECT INBOX, UID FETCH 1:* (FLAGS), 4 x UID FETCH of a random
# message's BODY.PEEK[], FETCH (ENVELOPE) of 20 messages, UID SEARCH UNSEEN, UID SEARCH
# SUBJECT, UID STORE of \Seen, APPEND of a 2 KB message, UID STORE \Deleted and UID EXPUNGE
# of it, NOOP. The figure is commands per second. Then idle connections (LOGIN + SELECT INBOX)
# are opened on each server and the memory they add is measured: the proportional set size
# (Pss) of every process of the server (pigeond; Dovecot's master and all its children).
#
# Pigeon runs with its defaults (2 workers). Dovecot runs a PRIVATE instance (its own config
# file through `dovecot -c`, its own base_dir, a loopback port, a passwd-file passdb with the
# same yescrypt hashes Pigeon has, a static userdb, mail_location = a Maildir per user, its
# index files built in the warm-up run) with login processes in high-performance mode
# (service_count = 0, process_min_avail = cores); the system's Dovecot is never started.
# Both use yescrypt at its lowest cost: logins are not what this measures.
#
# With -L imaptest (or imaptest-logout0) the load is imaptest's stress mix instead (Dovecot's
# imaptest, not packaged: BENCH_IMAPTEST names its binary, built against dovecot-dev; its
# tests/default.mbox feeds APPEND): CONCURRENCY clients over the same users, imaptest's
# default command probabilities — a LOGIN and LOGOUT in every cycle, so password hashing
# weighs in (yescrypt on both sides) — or with logout=0, sessions that stay logged in, so the
# figure is IMAP commands. The figure is imaptest's total commands over the run's seconds.
#
# usage: bench/imap.sh [-m MESSAGES] [-s SIZE] [-c CONCURRENCY] [-t SECONDS] [-r ROUNDS]
#                      [-i IDLE] [-o pigeon|dovecot] [-L imapload|imaptest|imaptest-logout0]
#                      [-k] [-B]
#   -m  messages in each INBOX                     (env BENCH_MSGS,    default 1000)
#   -s  approximate message size in octets         (env BENCH_SIZE,    default 4096)
#   -c  concurrent clients (one user each)         (env BENCH_C,       default 20)
#   -t  seconds per timed run                      (env BENCH_SECS,    default 10)
#   -r  rounds; each runs both servers, Pigeon     (env BENCH_ROUNDS,  default 3)
#       first in odd rounds; the summary gives the median commands/s and the ratio
#   -i  idle connections for the memory figure     (env BENCH_IDLE,    default 1000; 0: skip)
#   -o  run one server only                        (env BENCH_ONLY)
#   -L  the load                                   (env BENCH_LOAD,    default imapload)
#   -k  keep the temporary directory               (env BENCH_KEEP=1)
#   -B  don't run make: use build/release as it is (env BENCH_NO_BUILD=1)
# env BENCH_DIR: where the temporary directory is made (default /var/tmp).
#
# Needs root (Dovecot's master drops privileges per user) and installs the Debian package
# dovecot-imapd if Dovecot's imap is missing, without letting the system instance start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/dovecot.sh
. "$ROOT/bench/lib/dovecot.sh"
# shellcheck source=bench/lib/mailbench.sh
. "$ROOT/bench/lib/mailbench.sh"
MSGS=${BENCH_MSGS:-1000}
SIZE=${BENCH_SIZE:-4096}
C=${BENCH_C:-20}
SECS=${BENCH_SECS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
IDLE=${BENCH_IDLE:-1000}
ONLY=${BENCH_ONLY:-}
KEEP=${BENCH_KEEP:-0}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
LOADKIND=${BENCH_LOAD:-imapload}

while getopts "m:s:c:t:r:i:o:L:kBh" opt; do
    case $opt in
        m) MSGS=$OPTARG ;;
        s) SIZE=$OPTARG ;;
        c) C=$OPTARG ;;
        t) SECS=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        i) IDLE=$OPTARG ;;
        o) ONLY=$OPTARG ;;
        L) LOADKIND=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-m MESSAGES] [-s SIZE] [-c CONCURRENCY] [-t SECONDS] [-r ROUNDS] [-i IDLE] [-o pigeon|dovecot] [-k] [-B]" >&2; exit 2 ;;
    esac
done
for v in MSGS SIZE C SECS ROUNDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || { echo "bench: $v must be a positive number, got '${!v}'" >&2; exit 2; }
done
[[ $IDLE =~ ^[0-9]+$ ]] || { echo "bench: -i takes a number" >&2; exit 2; }
case $ONLY in ""|pigeon|dovecot) ;; *) echo "bench: -o takes pigeon or dovecot" >&2; exit 2 ;; esac
case $LOADKIND in
    imapload) ;;
    imaptest|imaptest-logout0)
        IMAPTEST=${BENCH_IMAPTEST:-}
        [[ -x $IMAPTEST ]] || { echo "bench: -L $LOADKIND needs BENCH_IMAPTEST=/path/to/imaptest" >&2; exit 2; }
        IMAPTEST_MBOX=${BENCH_IMAPTEST_MBOX:-$(dirname "$IMAPTEST")/tests/default.mbox}
        [[ -r $IMAPTEST_MBOX ]] || { echo "bench: no mbox $IMAPTEST_MBOX (BENCH_IMAPTEST_MBOX)" >&2; exit 2; }
        ;;
    *) echo "bench: -L takes imapload, imaptest or imaptest-logout0" >&2; exit 2 ;;
esac
run_pigeon_p() { [[ -z $ONLY || $ONLY == pigeon ]]; }
run_dovecot_p() { [[ -z $ONLY || $ONLY == dovecot ]]; }

# ---------------------------------------------------------------- prerequisites
PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || die "must run as root (Dovecot's master needs it; apt-get may be needed)"
if run_dovecot_p && ! [[ -x /usr/lib/dovecot/imap ]]; then
    log "installing dovecot-imapd (the comparison)"
    apt_install_quiet dovecot-imapd dovecot.service dovecot.socket
fi
if run_dovecot_p; then
    DOVECOT=$(command -v dovecot)
    DOVEADM=$(command -v doveadm)
    DC_VERSION=$("$DOVECOT" --version 2>/dev/null | awk '{print $1}')
fi
command -v python3 >/dev/null || die "python3 is needed"
command -v cc >/dev/null || die "a C compiler is needed (build-essential)"

BIN=${BENCH_BIN:-$ROOT/build/release} # BENCH_BIN: another build to measure (with -B)
build_pigeon
[[ -x $BIN/pigeond && -x $BIN/pigeon ]] || die "no pigeond or pigeon in $BIN"

TMP=$(mktemp -d "$BASE/pigeon-imapbench.XXXXXX")
chmod 755 "$TMP"
mkdir "$TMP/bin"
cp "$BIN/pigeond" "$BIN/pigeon" "$TMP/bin/"
PIGEOND=$TMP/bin/pigeond
PIGEON=$TMP/bin/pigeon
cc -O2 -o "$TMP/bin/imapload" "$ROOT/bench/imapload.c" -lpthread || die "cannot build bench/imapload.c"
LOAD=$TMP/bin/imapload
# 1,000 idle clients and as many Dovecot imap processes need descriptors.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---------------------------------------------------------------- cleanup
PIGEOND_PID=
DC_CONF=
IDLE_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ((rc == 0)) || log "exit $rc: stopping the servers and cleaning up"
    [[ -n $IDLE_PID ]] && kill "$IDLE_PID" 2>/dev/null || true
    stop_pigeond || true
    stop_dovecot || true
    if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- Pigeon (also makes the data)
PG=$TMP/pigeon
PG_CONF=$PG/pigeon.conf
PG_IMAP=$(free_port)
PG_SMTP=$(free_port)
mkdir -p "$PG"
cat >"$PG_CONF" <<EOF
[server]
hostname = bench.local
primary_domain = bench.test
data_dir = $PG/var
log_level = warn
# Started as root, as in production: pigeond binds, then runs as this user (issue 12).
user = ${BENCH_PIGEON_USER:-nobody}
max_connections = 100000

[smtp]
listen = 127.0.0.1:$PG_SMTP
max_connections_per_ip = 1000
max_recipients = 10000

[imap]
listen = 127.0.0.1:$PG_IMAP
plaintext_auth = loopback
max_connections_per_ip = 100000
max_connections_per_user = 100000
EOF
mailbench_users
mailbench_cheap_hashes
PG_PORT=$PG_IMAP
start_pigeond

mailbench_deliver "$PG_SMTP" 3501 imap

# ---------------------------------------------------------------- Dovecot
if run_dovecot_p; then
    dovecot_prepare
    cat >"$DC_CONF" <<EOF
# Private Dovecot instance for bench/imap.sh: IMAP on loopback only, nothing else.
protocols = imap
$(dovecot_conf_common)
default_process_limit = 100000
default_client_limit = 100000
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $DC_PORT
  }
  inet_listener imaps {
    port = 0
  }
  service_count = 0
  process_min_avail = $(nproc)
}
service imap {
  process_limit = 100000
}
protocol imap {
  mail_max_userip_connections = 100000
}
EOF
    start_dovecot
fi

# ---------------------------------------------------------------- runs
declare -A RESULTS
run_imaptest() { # PORT SECONDS LOGFILE -> a load line as imapload prints it (LOGFILE: imaptest's output)
    local out total
    # imaptest's default user template is $USER, checked even when userfile= names the users
    out=$(USER=${USER:-bench} LD_LIBRARY_PATH=/usr/lib/dovecot "$IMAPTEST" host=127.0.0.1 port="$1" \
        userfile="$TMP/users.imaptest" clients="$C" secs="$2" mbox="$IMAPTEST_MBOX" \
        ${IMAPTEST_LOGOUT0:+logout=0} 2>&1 </dev/null) || true
    echo "$out" >"$3" # its per-command totals, kept with -k
    total=$(awk '/^Totals:/ {t = 1; next} t && /^[ 0-9]+$/ {s = 0; for (i = 1; i <= NF; i++) s += $i; sum = s} END {print sum + 0}' <<<"$out")
    ((total > 0)) || { echo "$out" | tail -20 >&2; return 1; }
    awk -v t="$total" -v s="$2" 'BEGIN {printf "commands_per_s=%.1f rounds=%d seconds=%d\n", t / s, t, s}'
}
run_load() { # NAME PORT SECONDS -> prints the load line
    local out
    if [[ $LOADKIND != imapload ]]; then
        out=$(run_imaptest "$2" "$3" "$TMP/$1.imaptest") || die "$1: imaptest failed"
        echo "$out" >>"$TMP/$1.out"
        echo "$out"
        return
    fi
    out=$("$LOAD" 127.0.0.1 "$2" "$TMP/users" "$C" "$3" 2>&1) || { echo "$out" >&2; die "$1: imapload failed"; }
    echo "$out" >>"$TMP/$1.out"
    echo "$out"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

if [[ $LOADKIND != imapload ]]; then
    tr ' ' ':' <"$TMP/users" >"$TMP/users.imaptest" # imaptest's userfile: user:password
    [[ $LOADKIND == imaptest-logout0 ]] && IMAPTEST_LOGOUT0=1
fi
log "warm-up: $C clients for 3 s on each server (Dovecot builds its index files)"
run_pigeon_p && run_load pigeon-warmup "$PG_IMAP" 3 >/dev/null
run_dovecot_p && run_load dovecot-warmup "$DC_PORT" 3 >/dev/null

for r in $(seq 1 "$ROUNDS"); do
    if ((r % 2)); then order="pigeon dovecot"; else order="dovecot pigeon"; fi
    for s in $order; do
        [[ $s == pigeon ]] && ! run_pigeon_p && continue
        [[ $s == dovecot ]] && ! run_dovecot_p && continue
        port=$PG_IMAP
        [[ $s == dovecot ]] && port=$DC_PORT
        out=$(run_load "$s" "$port" "$SECS")
        rate=$(field commands_per_s "$out")
        RESULTS[$s]="${RESULTS[$s]:-} $rate"
        printf 'round %d %-8s %8s commands/s  (%s rounds of 14 commands in %s s)\n' "$r" "$s" \
            "$rate" "$(field rounds "$out")" "$(field seconds "$out")"
        [[ -n ${BENCH_LATENCY:-} ]] && grep '^latency' <<<"$out"
    done
done

# ---------------------------------------------------------------- memory of idle connections
pss_of() { # PID... -> total Pss in kB
    local t=0 p v
    for p in "$@"; do
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        t=$((t + ${v:-0}))
    done
    echo "$t"
}
server_pids() { # NAME
    if [[ $1 == pigeon ]]; then
        echo "$PIGEOND_PID"
    else
        local master
        master=$(cat "$DC/run/master.pid")
        echo "$master" $(pgrep -P "$master" || true)
    fi
}
idle_memory() { # NAME PORT -> "kB-per-connection before after"
    local before after fifo
    before=$(pss_of $(server_pids "$1"))
    fifo=$TMP/idle.$1
    mkfifo "$fifo"
    "$LOAD" 127.0.0.1 "$2" "$TMP/users" "$IDLE" 3600 idle >"$fifo" 2>"$TMP/$1-idle.err" &
    IDLE_PID=$!
    local ready n
    read -r ready n <"$fifo" || { cat "$TMP/$1-idle.err" >&2; die "$1: idle clients failed"; }
    sleep 2
    after=$(pss_of $(server_pids "$1"))
    kill "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" 2>/dev/null || true
    IDLE_PID=
    rm -f "$fifo"
    awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN {printf "%.1f %d %d\n", (a - b) / n, b, a}'
    sleep 2 # let the server settle before the next one
}
declare -A MEM
if ((IDLE > 0)); then
    log "memory: $IDLE idle clients (LOGIN + SELECT INBOX) on each server"
    if run_pigeon_p; then MEM[pigeon]=$(idle_memory pigeon "$PG_IMAP"); fi
    if run_dovecot_p; then MEM[dovecot]=$(idle_memory dovecot "$DC_PORT"); fi
fi

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo
echo "IMAP: $C concurrent clients, $SECS s per run, INBOX of $MSGS messages of ~$SIZE octets each, load $LOADKIND"
echo "      $(nproc) cores, $(uname -r); Pigeon $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)${DC_VERSION:+, Dovecot $DC_VERSION}"
PM= DM=
if run_pigeon_p; then PM=$(median <<<"${RESULTS[pigeon]}"); echo "pigeon   median $PM commands/s"; fi
if run_dovecot_p; then DM=$(median <<<"${RESULTS[dovecot]}"); echo "dovecot  median $DM commands/s"; fi
if [[ -n $PM && -n $DM ]]; then
    awk -v p="$PM" -v d="$DM" 'BEGIN {printf "ratio pigeon/dovecot = %.2f\n", p / d}'
fi
for s in pigeon dovecot; do
    [[ -n ${MEM[$s]:-} ]] || continue
    read -r per before after <<<"${MEM[$s]}"
    printf '%-8s %6s kB per idle connection (Pss %s kB -> %s kB with %s clients)\n' "$s" "$per" \
        "$before" "$after" "$IDLE"
done
if run_pigeon_p && grep -q . "$PG/pigeond.log"; then
    log "pigeond log (warnings and errors):"
    head -20 "$PG/pigeond.log" >&2
fi
