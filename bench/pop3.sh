#!/usr/bin/env bash
# POP3 download benchmark: Pigeon against Dovecot's pop3d, in one run, on loopback.
#
# Both servers hold the same maildrop: MESSAGES messages (the very bytes Pigeon stored after
# receiving them over SMTP) for each of SESSIONS-concurrency users. bench/pop3load.c (built
# here) runs SESSIONS POP3 sessions over CONCURRENCY connections at a time, each session being
# what a download-and-keep client does: USER, PASS, LIST, RETR of every message one after the
# other, QUIT. Every RETR is checked against its LIST size. The figure is messages retrieved
# per second, end to end (logins and their password hashing included).
#
# Pigeon runs with its defaults (2 workers). Dovecot runs a PRIVATE instance (its own config
# file through `dovecot -c`, its own base_dir, a loopback port, a passwd-file passdb with the
# same yescrypt hashes Pigeon has, a static userdb, mail_location = a Maildir per user) in
# Dovecot's documented high-performance mode for logins (service_count = 0,
# process_min_avail = cores); the system's Dovecot service is never started.
#
# usage: bench/pop3.sh [-m MESSAGES] [-s SIZE] [-c CONCURRENCY] [-n SESSIONS] [-r ROUNDS]
#                      [-H default|cheap] [-o pigeon|dovecot] [-k] [-B]
#   -m  messages in each maildrop                  (env BENCH_MSGS,    default 100)
#   -s  approximate message size in octets         (env BENCH_SIZE,    default 4096)
#   -c  concurrent sessions (one user each)        (env BENCH_C,       default 20)
#   -n  sessions per timed run                     (env BENCH_N,       default 400)
#   -r  rounds; each runs both servers, Pigeon     (env BENCH_ROUNDS,  default 3)
#       first in odd rounds; the summary gives the median messages/s and the ratio
#   -H  password hashes of the bench users         (env BENCH_HASH,    default default)
#         default: what `pigeon user add` makes (yescrypt, ~20 ms per check): logins weigh
#                  as much as they do in real life, and dominate with 100 small messages;
#         cheap:   yescrypt at its lowest cost (~1 ms), so the POP3 serving itself shows
#   -o  run one server only                        (env BENCH_ONLY)
#   -k  keep the temporary directory               (env BENCH_KEEP=1)
#   -B  don't run make: use build/release as it is (env BENCH_NO_BUILD=1)
# env BENCH_DIR: where the temporary directory is made (default /var/tmp).
#
# Needs root (Dovecot's master drops privileges per user) and installs the Debian package
# dovecot-pop3d if `dovecot` is missing, without letting the system instance start.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/dovecot.sh
. "$ROOT/bench/lib/dovecot.sh"
# shellcheck source=bench/lib/mailbench.sh
. "$ROOT/bench/lib/mailbench.sh"
MSGS=${BENCH_MSGS:-100}
SIZE=${BENCH_SIZE:-4096}
C=${BENCH_C:-20}
N=${BENCH_N:-400}
ROUNDS=${BENCH_ROUNDS:-3}
ONLY=${BENCH_ONLY:-}
KEEP=${BENCH_KEEP:-0}
NO_BUILD=${BENCH_NO_BUILD:-0}
HASH=${BENCH_HASH:-default}
BASE=${BENCH_DIR:-/var/tmp}

while getopts "m:s:c:n:r:H:o:kBh" opt; do
    case $opt in
        m) MSGS=$OPTARG ;;
        s) SIZE=$OPTARG ;;
        c) C=$OPTARG ;;
        n) N=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        H) HASH=$OPTARG ;;
        o) ONLY=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-m MESSAGES] [-s SIZE] [-c CONCURRENCY] [-n SESSIONS] [-r ROUNDS] [-H default|cheap] [-o pigeon|dovecot] [-k] [-B]" >&2; exit 2 ;;
    esac
done
for v in MSGS SIZE C N ROUNDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || { echo "bench: $v must be a positive number, got '${!v}'" >&2; exit 2; }
done
case $ONLY in ""|pigeon|dovecot) ;; *) echo "bench: -o takes pigeon or dovecot" >&2; exit 2 ;; esac
case $HASH in default|cheap) ;; *) echo "bench: -H takes default or cheap" >&2; exit 2 ;; esac
run_pigeon_p() { [[ -z $ONLY || $ONLY == pigeon ]]; }
run_dovecot_p() { [[ -z $ONLY || $ONLY == dovecot ]]; }

# ---------------------------------------------------------------- prerequisites
PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || die "must run as root (Dovecot's master needs it; apt-get may be needed)"
if run_dovecot_p && ! [[ -x /usr/lib/dovecot/pop3 ]]; then
    log "installing dovecot-pop3d (the comparison)"
    apt_install_quiet dovecot-pop3d dovecot.service dovecot.socket
fi
if run_dovecot_p; then
    DOVECOT=$(command -v dovecot)
    DOVEADM=$(command -v doveadm)
    DC_VERSION=$("$DOVECOT" --version 2>/dev/null | awk '{print $1}')
fi
command -v python3 >/dev/null || die "python3 is needed"
command -v cc >/dev/null || die "a C compiler is needed (build-essential)"

BIN=$ROOT/build/release
build_pigeon
[[ -x $BIN/pigeond && -x $BIN/pigeon ]] || die "no pigeond or pigeon in $BIN"

TMP=$(mktemp -d "$BASE/pigeon-pop3bench.XXXXXX")
chmod 755 "$TMP"
mkdir "$TMP/bin"
cp "$BIN/pigeond" "$BIN/pigeon" "$TMP/bin/"
PIGEOND=$TMP/bin/pigeond
PIGEON=$TMP/bin/pigeon
cc -O2 -o "$TMP/bin/pop3load" "$ROOT/bench/pop3load.c" -lpthread || die "cannot build bench/pop3load.c"
LOAD=$TMP/bin/pop3load

# ---------------------------------------------------------------- cleanup
PIGEOND_PID=
DC_CONF=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ((rc == 0)) || log "exit $rc: stopping the servers and cleaning up"
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
PG_POP3=$(free_port)
PG_SMTP=$(free_port)
mkdir -p "$PG"
cat >"$PG_CONF" <<EOF
[server]
hostname = bench.local
primary_domain = bench.test
data_dir = $PG/var
log_level = warn

[smtp]
listen = 127.0.0.1:$PG_SMTP
max_connections_per_ip = 1000
max_recipients = 10000

[pop3]
listen = 127.0.0.1:$PG_POP3
plaintext_auth = loopback
max_connections_per_ip = 10000
EOF
mailbench_users
if [[ $HASH == cheap ]]; then mailbench_cheap_hashes; fi
PG_PORT=$PG_POP3
start_pigeond

mailbench_deliver "$PG_SMTP" 1939 pop3

# ---------------------------------------------------------------- Dovecot
if run_dovecot_p; then
    dovecot_prepare
    cat >"$DC_CONF" <<EOF
# Private Dovecot instance for bench/pop3.sh: POP3 on loopback only, nothing else.
protocols = pop3
$(dovecot_conf_common)
pop3_uidl_format = %08Xu%08Xv
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DC_PORT
  }
  inet_listener pop3s {
    port = 0
  }
  service_count = 0
  process_min_avail = $(nproc)
}
EOF
    start_dovecot
fi

# ---------------------------------------------------------------- runs
declare -A RESULTS
run_load() { # NAME PORT SESSIONS -> prints msgs/s
    local out
    out=$("$LOAD" 127.0.0.1 "$2" "$TMP/users" "$3" "$C" 2>&1) || { echo "$out" >&2; die "$1: pop3load failed"; }
    echo "$out" >>"$TMP/$1.out"
    echo "$out"
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

log "warm-up: $C sessions on each server"
run_pigeon_p && run_load pigeon-warmup "$PG_POP3" "$C" >/dev/null
run_dovecot_p && run_load dovecot-warmup "$DC_PORT" "$C" >/dev/null

for r in $(seq 1 "$ROUNDS"); do
    if ((r % 2)); then order="pigeon dovecot"; else order="dovecot pigeon"; fi
    for s in $order; do
        [[ $s == pigeon ]] && ! run_pigeon_p && continue
        [[ $s == dovecot ]] && ! run_dovecot_p && continue
        port=$PG_POP3
        [[ $s == dovecot ]] && port=$DC_PORT
        out=$(run_load "$s" "$port" "$N")
        rate=$(field msgs_per_s "$out")
        secs=$(field seconds "$out")
        octets=$(field octets "$out")
        RESULTS[$s]="${RESULTS[$s]:-} $rate"
        printf 'round %d %-8s %6s msg/s  %6.1f MB/s  (%s sessions, %s messages in %s s)\n' "$r" "$s" \
            "$rate" "$(awk -v o="$octets" -v t="$secs" 'BEGIN {print o / t / 1e6}')" \
            "$N" "$(field messages "$out")" "$secs"
    done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
echo
echo "POP3: $C concurrent sessions, $N sessions per run, maildrop of $MSGS messages of ~$SIZE octets, $HASH hashes"
echo "      $(nproc) cores, $(uname -r); Pigeon $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)${DC_VERSION:+, Dovecot $DC_VERSION}"
PM= DM=
if run_pigeon_p; then PM=$(median <<<"${RESULTS[pigeon]}"); echo "pigeon   median $PM msg/s"; fi
if run_dovecot_p; then DM=$(median <<<"${RESULTS[dovecot]}"); echo "dovecot  median $DM msg/s"; fi
if [[ -n $PM && -n $DM ]]; then
    awk -v p="$PM" -v d="$DM" 'BEGIN {printf "ratio pigeon/dovecot = %.2f\n", p / d}'
fi
if run_pigeon_p && grep -q . "$PG/pigeond.log"; then
    log "pigeond log (warnings and errors):"
    head -20 "$PG/pigeond.log" >&2
fi
