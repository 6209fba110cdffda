#!/usr/bin/env bash
# SMTP accept-and-store benchmark: Pigeon against Postfix, in one run, on loopback.
#
# Postfix's smtp-source sends N messages over C concurrent sessions (one message per
# session, its default) to Pigeon and, one after the other, never at once, to a private
# Postfix instance that delivers to a Maildir with virtual(8). Both keep their durable defaults: Pigeon fsyncs the message
# blob and commits SQLite (synchronous=FULL) before it answers 250; Postfix fsyncs the
# queue file before 250 and the Maildir file before it counts a delivery.
#
# Timing is end to end: for Pigeon, from the first connection until smtp-source has had
# every 250 (a 250 means the message is in the mailbox; the count is checked with
# `pigeon mail list`); for Postfix, from the first connection until the N-th file is in
# Maildir/new/ (its ctime), not just until smtp-source returns.
#
# usage: bench/smtp.sh [-n MESSAGES] [-c SESSIONS] [-s SIZE] [-r ROUNDS] [-t TIMEOUT]
#                       [-o pigeon|postfix] [-f loop|dir] [-k] [-B]
#   -n  messages to send to each server, per round (env BENCH_N,       default 2000)
#   -c  concurrent SMTP sessions                   (env BENCH_C,       default 20)
#   -s  message payload bytes (smtp-source -l)     (env BENCH_SIZE,    default 4096)
#   -r  rounds; each runs both servers, from fresh (env BENCH_ROUNDS,  default 3)
#       data, Pigeon first in odd rounds and Postfix first in even ones; the summary
#       gives the median messages/s of each server and the ratio of the medians
#   -t  seconds allowed for each server's run      (env BENCH_TIMEOUT, default 300)
#   -o  run one server only                        (env BENCH_ONLY)
#   -k  keep the temporary directory               (env BENCH_KEEP=1)
#   -f  where the servers keep their data          (env BENCH_FS,      default loop):
#         loop: a fresh ext4 file system (with its journal) made for each server in an image
#               file under BENCH_DIR and mounted through a loop device (direct I/O), so both
#               start from the same state and the host file system's own quirks stay out;
#         dir:  plain directories under BENCH_DIR, on whatever file system that is
#   -B  don't run make: use the build/release binaries as they are (env BENCH_NO_BUILD=1)
# env BENCH_PIGEON_BIN=DIR: use DIR/pigeond and DIR/pigeon, and don't run make (e.g. a build
# of a given commit: mkdir /var/tmp/p && git archive REV | tar -x -C /var/tmp/p && make -C /var/tmp/p).
# env BENCH_SIEVE=FILE: Pigeon's recipient has FILE as its active Sieve script (bench/sieve.sh).
# env BENCH_DIR: where the temporary directory is made (default /var/tmp; must be a real
# disk, not tmpfs, or fsync costs nothing). env BENCH_WARMUP: messages sent to each server
# before the timed run, to start its processes and caches (default: SESSIONS).
#
# Needs root (Postfix's master runs as root and drops to the postfix user) and installs the
# Debian postfix package if smtp-source is missing. Everything listens on 127.0.0.1 only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N=${BENCH_N:-2000}
C=${BENCH_C:-20}
SIZE=${BENCH_SIZE:-4096}
TIMEOUT=${BENCH_TIMEOUT:-300}
ROUNDS=${BENCH_ROUNDS:-3}
ONLY=${BENCH_ONLY:-}
KEEP=${BENCH_KEEP:-0}
BASE=${BENCH_DIR:-/var/tmp}
NO_BUILD=${BENCH_NO_BUILD:-0}
FS=${BENCH_FS:-loop}
BIN=${BENCH_PIGEON_BIN:-}

while getopts "n:c:s:r:t:o:f:kBh" opt; do
    case $opt in
        n) N=$OPTARG ;;
        c) C=$OPTARG ;;
        s) SIZE=$OPTARG ;;
        t) TIMEOUT=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        o) ONLY=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        f) FS=$OPTARG ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-n MESSAGES] [-c SESSIONS] [-s SIZE] [-r ROUNDS] [-t TIMEOUT] [-o pigeon|postfix] [-f loop|dir] [-k] [-B]" >&2; exit 2 ;;
    esac
done
WARMUP=${BENCH_WARMUP:-$C}
for v in N C SIZE ROUNDS TIMEOUT WARMUP; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench: $v must be a number, got '${!v}'" >&2; exit 2; }
done
((N > 0 && C > 0 && ROUNDS > 0)) || { echo "bench: -n, -c and -r must be positive" >&2; exit 2; }
case $ONLY in ""|pigeon|postfix) ;; *) echo "bench: -o takes pigeon or postfix" >&2; exit 2 ;; esac
case $FS in loop|dir) ;; *) echo "bench: -f takes loop or dir" >&2; exit 2 ;; esac
run_pigeon() { [[ -z $ONLY || $ONLY == pigeon ]]; }
run_postfix() { [[ -z $ONLY || $ONLY == postfix ]]; }

# ---------------------------------------------------------------- prerequisites
PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || die "must run as root (Postfix's master needs it; apt-get may be needed)"
if ! command -v smtp-source >/dev/null; then
    log "installing postfix (for smtp-source and the comparison)"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix >/dev/null; } ||
        die "apt-get install postfix failed"
    # The package may enable (and on a systemd host start) the system instance: stop it.
    # Only the Debian system instance is touched, and only right after installing it here.
    if command -v systemctl >/dev/null; then
        systemctl stop postfix >/dev/null 2>&1 || true
        systemctl disable postfix >/dev/null 2>&1 || true
    fi
    if [[ -f /etc/postfix/main.cf ]] && postfix status >/dev/null 2>&1; then postfix stop >/dev/null 2>&1 || true; fi
fi
SMTP_SOURCE=$(command -v smtp-source)
POSTFIX=$(command -v postfix)
PF_VERSION=$(postconf -c /usr/share/postfix -d -h mail_version 2>/dev/null || echo "?")

if [[ -n $BIN ]]; then
    BIN=$(cd "$BIN" && pwd) || die "BENCH_PIGEON_BIN: no directory $BIN"
    NO_BUILD=1
else
    BIN=$ROOT/build/release
fi
if run_pigeon; then build_pigeon; fi
if run_pigeon; then
    [[ -x $BIN/pigeond && -x $BIN/pigeon ]] || die "no pigeond or pigeon in $BIN"
fi

TMP=$(mktemp -d "$BASE/pigeon-bench.XXXXXX")
chmod 755 "$TMP"
BASE_FS=$(findmnt -n -o FSTYPE,SOURCE,OPTIONS -T "$TMP" 2>/dev/null | tr -s ' ' || stat -f -c %T "$TMP")
case $BASE_FS in tmpfs*|ramfs*)
    log "warning: $TMP is on ${BASE_FS%% *}: fsync is free there, the figures mean little" ;;
esac
if run_pigeon; then
    # A copy, so that a rebuild during the run cannot change the binaries under test.
    mkdir "$TMP/bin"
    cp "$BIN/pigeond" "$BIN/pigeon" "$TMP/bin/"
    PIGEOND=$TMP/bin/pigeond
    PIGEON=$TMP/bin/pigeon
fi

# ---------------------------------------------------------------- cleanup
PIGEOND_PID=
PF_CONF=
SRC_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    ((rc == 0)) || log "exit $rc: stopping the servers and cleaning up"
    if [[ -n $SRC_PID ]] && kill -0 "$SRC_PID" 2>/dev/null; then
        pkill -TERM -P "$SRC_PID" 2>/dev/null || true # its timeout, which passes it on to smtp-source
        kill -- "$SRC_PID" 2>/dev/null || true
        wait "$SRC_PID" 2>/dev/null || true
    fi
    if [[ -n $PIGEOND_PID ]]; then stop_pigeond || true; fi
    if [[ -n $PF_CONF ]]; then stop_postfix || true; fi
    unmount_all
    if [[ $KEEP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# data_fs DIR: makes DIR the place a server keeps its data (see -f).
MOUNTS=()
LOOPS=()
data_fs() {
    local dir=$1 img=$1.img dev size_mb
    mkdir -p "$dir"
    [[ $FS == loop ]] || return 0
    # Room for every message several times over (queue file, Maildir file, blob, WAL).
    size_mb=$(((N + WARMUP) * (SIZE + 8192) * 4 / 1048576 + 1024))
    truncate -s "${size_mb}M" "$img"
    # No lazy initialisation: no ext4lazyinit writing in the background during the run.
    mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" >/dev/null 2>&1 ||
        die "mkfs.ext4 $img failed"
    dev=$(losetup --find --show --direct-io=on "$img" 2>/dev/null || losetup --find --show "$img") ||
        die "losetup failed (use -f dir to run on plain directories)"
    LOOPS+=("$dev")
    mount -t ext4 "$dev" "$dir" || die "mount $dev failed (use -f dir to run on plain directories)"
    MOUNTS+=("$dir")
    chmod 755 "$dir"
}
unmount_all() {
    local m d
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    for d in "${LOOPS[@]}"; do losetup -d "$d" 2>/dev/null || true; done
    MOUNTS=() LOOPS=()
}
fs_desc() { # DIR
    if [[ $FS == loop ]]; then
        echo "ext4 (journal, data=ordered) on a loop device over a file on: $BASE_FS"
    else
        echo "$BASE_FS"
    fi
}

# Sum of Rss and Pss (kB) of the given processes: prints "RSS PSS".
mem_sample() {
    local files=() p
    for p in "$@"; do files+=("/proc/$p/smaps_rollup"); done
    # cat, not awk FILES: a process that exits in the meantime must not spoil the sample.
    cat "${files[@]}" 2>/dev/null | awk '/^Rss:/ {r += $2} /^Pss:/ {s += $2} END {print r + 0, s + 0}'
    return 0
}

# ---------------------------------------------------------------- the sender
# send LABEL PORT COUNT: runs smtp-source in the background; writes $TMP/LABEL.{start,end,rc}.
send() {
    local label=$1 port=$2 count=$3
    rm -f "$TMP/$label".{start,end,rc,out,cpu0,cpu1}
    head -1 /proc/stat >"$TMP/$label.cpu0"
    now >"$TMP/$label.start"
    (
        rc=0
        timeout "$TIMEOUT" "$SMTP_SOURCE" -s "$C" -m "$count" -l "$SIZE" \
            -f bench@client.test -t bob@bench.test -M client.test "127.0.0.1:$port" \
            >"$TMP/$label.out" 2>&1 || rc=$?
        now >"$TMP/$label.end"
        head -1 /proc/stat >"$TMP/$label.cpu1"
        echo "$rc" >"$TMP/$label.rc"
    ) &
    SRC_PID=$!
}

# measure NAME PORT COUNTER PIDLISTER: timed run. COUNTER prints how many messages are
# stored so far (used only for Postfix, whose delivery is asynchronous; pass "" for Pigeon).
# PIDLISTER prints the server's process ids for the memory samples.
# Sets M_SECS M_RSS M_PSS.
measure() {
    local name=$1 port=$2 counter=$3 pidlister=$4 target=$5
    local deadline sample r s got=0
    M_RSS=0 M_PSS=0
    send "$name" "$port" "$N"
    deadline=$(($(date +%s) + TIMEOUT))
    while :; do
        # shellcheck disable=SC2046
        sample=$(mem_sample $($pidlister))
        read -r r s <<<"$sample"
        ((r > M_RSS)) && M_RSS=$r
        ((s > M_PSS)) && M_PSS=$s
        if [[ -f $TMP/$name.rc ]]; then
            [[ -z $counter ]] && break
            got=$($counter)
            if ((got >= target)); then head -1 /proc/stat >"$TMP/$name.cpu1"; break; fi
        fi
        (($(date +%s) < deadline)) || break
        sleep 0.1
    done
    wait "$SRC_PID" 2>/dev/null || true
    SRC_PID=
    local src_rc
    src_rc=$(cat "$TMP/$name.rc" 2>/dev/null || echo timeout)
    if [[ $src_rc != 0 ]]; then
        log "$name: smtp-source exited with $src_rc:"
        tail -5 "$TMP/$name.out" >&2
        return 1
    fi
    if [[ -n $counter ]] && ((got < target)); then
        log "$name: only $got of $target messages stored within ${TIMEOUT}s"
        return 1
    fi
    M_START=$(cat "$TMP/$name.start")
    M_END=$(cat "$TMP/$name.end")
    # Whole machine, between the start and the end of the timed run (smtp-source included):
    # busy = user+nice+system+irq+softirq+steal, as a share of all cores' time.
    read -r M_CPU M_IOWAIT < <(awk 'NR == 1 {for (i = 2; i <= 9; i++) a[i] = $i}
        NR == 2 {for (i = 2; i <= 9; i++) {d[i] = $i - a[i]; t += d[i]}
                 b = d[2] + d[3] + d[4] + d[7] + d[8] + d[9]
                 printf "%.0f %.0f\n", t ? 100 * b / t : 0, t ? 100 * d[6] / t : 0}' \
        "$TMP/$name.cpu0" "$TMP/$name.cpu1")
}

# ---------------------------------------------------------------- Pigeon
stop_pigeond() {
    local pid=$PIGEOND_PID
    PIGEOND_PID=
    stop_pid pigeond "$pid"
}
pigeon_pids() { echo "$PIGEOND_PID"; }
pigeon_count() { "$PIGEON" -c "$PIGEON_CONF" mail list bob@bench.test | wc -l; }

bench_pigeon() { # ROUND
    local r=$1 port
    PIGEON_DIR=$TMP/pigeon-$r
    PIGEON_CONF=$PIGEON_DIR/pigeon.conf
    port=$(free_port)
    data_fs "$PIGEON_DIR"
    cat >"$PIGEON_CONF" <<EOF
[server]
hostname = bench.local
primary_domain = bench.test
data_dir = $PIGEON_DIR/var
log_level = warn
workers = 2
# Started as root, as in production: pigeond binds, then runs as this user (issue 12).
user = ${BENCH_PIGEON_USER:-nobody}

[smtp]
listen = 127.0.0.1:$port
max_connections_per_ip = 1000
# Postfix here checks no SPF; without this every MAIL waits on the system resolver, which on
# a machine whose resolv.conf server is unreachable measures DNS time-outs, not SMTP.
spf = off

# Nor does it verify DKIM or look up DMARC policies (each message's From domain: DNS again).
[dkim]
verify = no
EOF
    "$PIGEON" -c "$PIGEON_CONF" domain add bench.test >/dev/null
    echo pw | "$PIGEON" -c "$PIGEON_CONF" user add bob@bench.test >/dev/null
    if [[ -n ${BENCH_SIEVE:-} ]]; then # bench/sieve.sh: every delivery runs this script
        "$PIGEON" -c "$PIGEON_CONF" sieve put bob@bench.test bench "$BENCH_SIEVE" >/dev/null
        "$PIGEON" -c "$PIGEON_CONF" sieve activate bob@bench.test bench >/dev/null
    fi
    "$PIGEOND" -c "$PIGEON_CONF" >"$PIGEON_DIR/pigeond.log" 2>&1 &
    PIGEOND_PID=$!
    wait_port "$port" 10 || { cat "$PIGEON_DIR/pigeond.log" >&2; die "pigeond did not listen on 127.0.0.1:$port"; }

    if ((WARMUP > 0)); then
        send "pigeon-$r-warmup" "$port" "$WARMUP"
        wait "$SRC_PID" || true; SRC_PID=
        [[ $(cat "$TMP/pigeon-$r-warmup.rc") == 0 ]] ||
            { cat "$TMP/pigeon-$r-warmup.out" >&2; die "pigeon warm-up failed"; }
    fi
    measure "pigeon-$r" "$port" "" pigeon_pids 0 || die "pigeon run failed"
    local secs hwm stored msgs
    secs=$(awk -v a="$M_START" -v b="$M_END" 'BEGIN {printf "%.3f", b - a}')
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PIGEOND_PID/status")
    stored=$(pigeon_count)
    msgs=$((stored - WARMUP))
    ((msgs == N)) || die "pigeon: mail list shows $stored messages, expected $((N + WARMUP))"
    stop_pigeond
    if grep -q . "$PIGEON_DIR/pigeond.log"; then
        log "pigeond log (warnings and errors):"
        head -20 "$PIGEON_DIR/pigeond.log" >&2
    fi
    unmount_all
    record "$r" pigeon "$msgs" "$secs" "$M_CPU" "$M_IOWAIT" "$hwm" "$M_PSS" ""
}

# ---------------------------------------------------------------- Postfix
stop_postfix() {
    local conf=$PF_CONF master
    PF_CONF=
    master=$(tr -dc 0-9 <"$PF/queue/pid/master.pid" 2>/dev/null || true)
    "$POSTFIX" -c "$conf" stop >/dev/null 2>&1 || true
    if [[ -n $master ]]; then
        for _ in $(seq 1 100); do kill -0 "$master" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$master" 2>/dev/null; then
            log "postfix master did not stop within 10 s; killing it"
            "$POSTFIX" -c "$conf" abort >/dev/null 2>&1 || kill -KILL "$master" 2>/dev/null || true
        fi
    fi
}
postfix_pids() {
    local master
    master=$(tr -dc 0-9 <"$PF/queue/pid/master.pid" 2>/dev/null) || return 0
    echo "$master"
    pgrep -P "$master" || true
}
postfix_count() { find "$MAILDIR/new" -maxdepth 1 -type f 2>/dev/null | wc -l; }
postfix_last_delivery() { find "$MAILDIR/new" -maxdepth 1 -type f -printf '%C@\n' | sort -n | tail -1; }

bench_postfix() { # ROUND
    local r=$1 port vuid vgid
    PF=$TMP/postfix-$r
    MAILDIR=$PF/mail/bob
    port=$(free_port)
    vuid=$(id -u nobody) vgid=$(id -g nobody)
    data_fs "$PF"
    mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$PF/mail"
    chown postfix "$PF/data"
    chown "$vuid:$vgid" "$PF/mail"
    cat >"$PF/etc/main.cf" <<EOF
# Private Postfix instance for bench/smtp.sh: loopback only, delivers bench.test to a Maildir.
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
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_tls_security_level = none
smtp_tls_security_level = none
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = static:bob/
virtual_uid_maps = static:$vuid
virtual_gid_maps = static:$vgid
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
EOF
    cat >"$PF/etc/master.cf" <<EOF
# service type private unpriv chroot wakeup maxproc command (no chroot: no copies of /etc needed)
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
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
    PF_CONF=$PF/etc
    "$POSTFIX" -c "$PF_CONF" check >"$PF/check.log" 2>&1 || { cat "$PF/check.log" >&2; die "postfix check failed"; }
    "$POSTFIX" -c "$PF_CONF" start >"$PF/start.log" 2>&1 || { cat "$PF/start.log" >&2; die "postfix start failed"; }
    wait_port "$port" 10 || { cat "$PF/start.log" "$PF/maillog" >&2 2>/dev/null; die "postfix did not listen on 127.0.0.1:$port"; }

    if ((WARMUP > 0)); then
        send "postfix-$r-warmup" "$port" "$WARMUP"
        wait "$SRC_PID" || true; SRC_PID=
        [[ $(cat "$TMP/postfix-$r-warmup.rc") == 0 ]] ||
            { cat "$TMP/postfix-$r-warmup.out" >&2; die "postfix warm-up failed"; }
        local deadline=$(($(date +%s) + 60))
        while (($(postfix_count) < WARMUP)); do
            (($(date +%s) < deadline)) || { tail -20 "$PF/maillog" >&2; die "postfix warm-up: not delivered"; }
            sleep 0.1
        done
    fi
    measure "postfix-$r" "$port" postfix_count postfix_pids $((N + WARMUP)) ||
        { tail -20 "$PF/maillog" >&2; die "postfix run failed"; }
    local last src_secs secs msgs
    last=$(postfix_last_delivery)
    src_secs=$(awk -v a="$M_START" -v b="$M_END" 'BEGIN {printf "%.3f", b - a}')
    secs=$(awk -v a="$M_START" -v b="$M_END" -v c="$last" 'BEGIN {e = (c > b ? c : b); printf "%.3f", e - a}')
    msgs=$(($(postfix_count) - WARMUP))
    stop_postfix
    unmount_all
    record "$r" postfix "$msgs" "$secs" "$M_CPU" "$M_IOWAIT" "$M_RSS" "$M_PSS" "$src_secs"
}

# ---------------------------------------------------------------- run
# The figures are only meaningful on an otherwise idle machine: measure the idle share for 1 s.
IDLE=$( { head -1 /proc/stat; sleep 1; head -1 /proc/stat; } | awk '
    NR == 1 {for (i = 2; i <= 9; i++) a[i] = $i}
    NR == 2 {for (i = 2; i <= 9; i++) t += $i - a[i]; printf "%.0f", t ? 100 * ($5 - a[5] + $6 - a[6]) / t : 0}')
((IDLE >= 90)) || log "warning: the machine was only ${IDLE}% idle before the run; other load skews the figures"
log "N=$N messages, C=$C sessions, size=$SIZE bytes, warm-up=$WARMUP, rounds=$ROUNDS, dir=$TMP, fs=$FS"

rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.1f", n / s}'; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR % 2) printf "%.1f", v[(NR + 1) / 2]; else printf "%.1f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

FMT='%-5s %-8s %8s %8s %10s %5s %7s %9s %9s  %s\n'
ROWS=()
PIGEON_RATES=()
POSTFIX_RATES=()
# record ROUND SERVER MESSAGES SECONDS CPU IOWAIT RSS_KB PSS_KB SMTP_SOURCE_SECONDS
record() {
    local row rt
    rt=$(rate "$3" "$4")
    if [[ $2 == pigeon ]]; then PIGEON_RATES+=("$rt"); else POSTFIX_RATES+=("$rt"); fi
    # shellcheck disable=SC2059
    row=$(printf "$FMT" "$1" "$2" "$3" "$4" "$rt" "$5" "$6" "$(mib "$7")" "$(mib "$8")" \
        "${9:+smtp-source done at $9 s}")
    ROWS+=("${row%"${row##*[! ]}"}")
    log "round $1: $2 $rt messages/s"
}

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
echo "smtp-source (Postfix $PF_VERSION): $N messages of $SIZE bytes per run, $C concurrent sessions,"
echo "one message per session, to 127.0.0.1; $WARMUP warm-up messages before each timed run"
# shellcheck disable=SC2059
printf "$FMT" round server messages seconds messages/s "cpu%" iowait% "RSS MiB" "PSS MiB" ""
printf '%s\n' "${ROWS[@]}"
echo
if run_pigeon; then
    if [[ -n ${BENCH_PIGEON_BIN:-} ]]; then
        REV="binaries from $BIN"
    else
        REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
        [[ -z $(git -C "$ROOT" --no-optional-locks status --porcelain -- src Makefile 2>/dev/null) ]] ||
            REV="$REV + uncommitted changes in src/"
        [[ $NO_BUILD == 1 ]] && REV="$REV (-B: binaries not rebuilt, may be older)"
    fi
    echo "pigeon:  $REV; median $(median "${PIGEON_RATES[@]}") messages/s over $ROUNDS round(s)"
fi
if run_postfix; then
    echo "postfix: median $(median "${POSTFIX_RATES[@]}") messages/s over $ROUNDS round(s)"
fi
echo "data: $(fs_desc)"
echo "machine: $(nproc) cores, idle before the run: ${IDLE}%"
echo "cpu%, iowait%: share of all $(nproc) cores' time during the timed run, whole machine (smtp-source included)."
echo "memory: peak during the timed run. pigeon's RSS is pigeond's VmHWM; otherwise the largest sum"
echo "        over the server's processes (postfix: master and all its children), sampled every"
echo "        0.1 s; RSS counts shared pages once per process, PSS divides them among the processes."
echo "postfix seconds: until the last message is in Maildir/new; smtp-source itself may finish earlier."
if run_pigeon && run_postfix; then
    awk -v p="$(median "${PIGEON_RATES[@]}")" -v f="$(median "${POSTFIX_RATES[@]}")" \
        'BEGIN {printf "ratio pigeon/postfix = %.2f (medians)\n", p / f}'
fi
