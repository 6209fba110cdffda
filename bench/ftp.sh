#!/usr/bin/env bash
# FTP benchmark: Pigeon against vsftpd and pure-ftpd, in one run, on loopback.
#
# Every server is started at once and stays up; the workloads take turns between them, in
# an order rotated by one each round (P V U, V U P, U P V: over three rounds each server
# goes first, second and last once), the median of each server's rounds counting:
#   retr / stor        one RETR and one STOR of a SIZE-MB file with curl, plain FTP, per
#                      round: TROUNDS rounds, the servers taking turns (each does its five
#                      transfers, then the next server). Before each server's turn the files
#                      read are in the page cache (read once: the server's big.bin, curl's
#                      upload source) and what earlier turns wrote is on disk (sync), so no
#                      server reads from disk or runs beside writeback where another did
#                      not; curl's download goes to tmpfs (/dev/shm), not the disk;
#   stor+sync          the STOR again, timed until the file is on disk (the transfer's
#                      time as for STOR, plus the time sync(1) of the stored file takes
#                      after it, run on the servers' CPU 0 under their nice -n -15):
#                      Pigeon fsyncs before 226, vsftpd and pure-ftpd do not, so this is
#                      the like-for-like figure for durable uploads;
#   retr-tls/stor-tls  the same with explicit FTPS (AUTH TLS, PROT P: curl --ssl-reqd);
#   stor-sync-tls      and the STOR+sync under TLS, the like-for-like figure of TLS uploads;
#   sessions           SESSIONS sessions, CONCURRENCY at a time, each one curl process doing
#                      login + LIST + RETR of a 4 KB file + QUIT (two URLs on one connection),
#                      with every server started at once and the servers taking turns for
#                      ROUNDS rounds (the median of each one's rounds is its figure);
#                      also the server's CPU time per session (all its processes and
#                      threads: its cgroup, see below), which a machine loaded by others
#                      distorts far less than the wall-clock rate.
# Throughput is MB/s of the transfer itself: the file's size over curl's time_total less its
# time_pretransfer, so the login, the TLS handshake of the control connection and curl
# 7.88's own stall before the data connection (up to 1 s when the 229 reply comes back
# fast: curl's multi.c moves to DOING_MORE without asking to be called again, fixed in
# curl 8.4.0 by commit 6dd6654f, "multi: set CURLM_CALL_MULTI_PERFORM after switch to
# DOING_MORE"; it strikes every server, the fastest most often) are not counted; what is
# counted ends with the server's 226. Beside each, the server's CPU time per GB moved (all
# its processes and threads, vsftpd's per-session ones included), which a machine loaded
# by others distorts far less than the rate. Sessions is sessions per second of wall time.
# Every download is compared with the original (cmp), every upload's size checked.
#
# All servers serve the same directory (Pigeon's ROOT/LOGIN is the bench user's home) and
# check passwords the same way: Pigeon its own yescrypt hash, vsftpd (PAM) and pure-ftpd
# (-l unix) the system account's yescrypt hash in /etc/shadow. Pigeon runs with 1 worker;
# vsftpd and pure-ftpd fork a process per session (their design). Each server runs in a cpu
# cgroup of its own, pinned to CPU 0 (taskset) under nice -n -15; the clients are pinned to
# CPU 1, also under nice -n -15 (on a machine loaded by others, un-niced clients were the
# bottleneck); the bench and its clients share a cpu cgroup too, of the servers' weight (see
# BENCH_WEIGHT below).
#
# vsftpd comes from its Debian package (installed when missing); pure-ftpd conflicts with it
# (both provide ftp-server), so its .deb is fetched with apt-get download and unpacked into
# the temporary directory, and run from there. A system user BENCH_USER is made (and kept)
# for the two of them.
#
# usage: bench/ftp.sh [-s MB] [-c CONCURRENCY] [-n SESSIONS] [-r ROUNDS] [-t TROUNDS] [-S] [-o pigeon|vsftpd|pureftpd] [-k] [-B]
#   -s  size of the large file in MB       (env BENCH_MB: default 2048 when BENCH_DIR has
#                                           room for 2.5 x that, else 512)
#   -c  concurrent sessions                (env BENCH_C, default 20)
#   -n  sessions per timed run             (env BENCH_N, default 400)
#   -r  rounds of the sessions run         (env BENCH_ROUNDS, default 3, 0 for none: the servers take
#                                           turns, the median of each one's rounds counts)
#   -t  rounds of the transfers            (env BENCH_TROUNDS, default 1, 0 for none; likewise)
#   -S  the sessions workload only         (env BENCH_SESSIONS_ONLY=1)
#   -o  run one server only                (env BENCH_ONLY)
#   -k  keep the temporary directory       (env BENCH_KEEP=1)
#   -B  don't run make: use build/release  (env BENCH_NO_BUILD=1)
# env BENCH_ROUND0: rounds already run by earlier calls (default 0): the order of the servers
# goes on rotating from there, so a run split into calls of one round each (-t 1 -r 1, then
# BENCH_ROUND0=1, then 2) still puts each server first, second and last once.
# env BENCH_DIR: where the temporary directory is made (default /var/tmp); PIGEOND: the
# pigeond to run (default build/release/pigeond; to compare two builds).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
MB=${BENCH_MB:-}
C=${BENCH_C:-20}
N=${BENCH_N:-400}
ROUNDS=${BENCH_ROUNDS:-3}
TROUNDS=${BENCH_TROUNDS:-1}
ROUND0=${BENCH_ROUND0:-0} # rounds already run: a run split over several calls goes on with the rotation
SESSIONS_ONLY=${BENCH_SESSIONS_ONLY:-0}
ONLY=${BENCH_ONLY:-}
KEEP=${BENCH_KEEP:-0}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
USER_NAME=${BENCH_USER:-pigeonftpbench}
PASS=bench-Passw0rd

while getopts "s:c:n:r:t:So:kBh" opt; do
    case $opt in
        s) MB=$OPTARG ;;
        c) C=$OPTARG ;;
        n) N=$OPTARG ;;
        r) ROUNDS=$OPTARG ;;
        t) TROUNDS=$OPTARG ;;
        S) SESSIONS_ONLY=1 ;;
        o) ONLY=$OPTARG ;;
        k) KEEP=1 ;;
        B) NO_BUILD=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-s MB] [-c CONCURRENCY] [-n SESSIONS] [-r ROUNDS] [-S] [-o SERVER] [-k] [-B]" >&2; exit 2 ;;
    esac
done
PATH=$PATH:/usr/sbin:/sbin
[[ $(id -u) == 0 ]] || die "must run as root (system user, vsftpd, pure-ftpd)"
if [[ -z $MB ]]; then
    avail=$(df -Pm "$BASE" | awk 'NR == 2 {print $4}')
    MB=512
    ((avail > 2048 * 5 / 2 + 1024)) && MB=2048
fi
for v in MB C N; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || die "$v must be a positive number"
done
for v in ROUNDS TROUNDS ROUND0; do # ROUNDS or TROUNDS 0: no sessions, or no transfers
    [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number"
done
run_p() { [[ -z $ONLY || $ONLY == "$1" ]]; }

if run_p vsftpd && ! [[ -x /usr/sbin/vsftpd ]]; then
    log "installing vsftpd"
    apt_install_quiet vsftpd vsftpd
fi
build_pigeon
DIR=$(mktemp -d "$BASE/pigeon-ftp-bench.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do stop_pid server "$p"; done
    cg_remove
    rm -f "${DOWN:-}"
    if ((KEEP)); then log "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT
# killed (timeout's SIGTERM, ^C): bash runs no EXIT trap on a deadly signal it does not trap,
# so the servers, the temporary directory and the cgroups would stay behind
trap 'exit 143' TERM
trap 'exit 130' INT

# ---------------------------------------------------------------- the tree and the accounts
LOGIN=bench@hamburger.edu
TREE=$DIR/ftproot/$LOGIN
mkdir -p "$TREE"
chmod 755 "$DIR" "$DIR/ftproot"  # the system user walks to its home
if ((!SESSIONS_ONLY)); then
    log "making a $MB MB file"
    head -c $((MB * 1024 * 1024)) /dev/urandom >"$DIR/big.bin"
    cp "$DIR/big.bin" "$TREE/big.bin"
fi
# RETR's download goes to tmpfs when it has room: no writeback of the client's copy runs
# into the next transfer (BENCH_DOWN_DIR to choose)
DOWN=$DIR/down.bin
DOWN_DIR=${BENCH_DOWN_DIR:-/dev/shm}
if ((!SESSIONS_ONLY)) && [[ -d $DOWN_DIR && -w $DOWN_DIR ]] &&
    (($(df -Pm "$DOWN_DIR" | awk 'NR == 2 {print $4}') > MB + 512)); then
    DOWN=$DOWN_DIR/pigeon-ftp-bench-$$.down.bin
fi
head -c 4096 /dev/urandom >"$TREE/small.bin"
if ! id "$USER_NAME" >/dev/null 2>&1; then
    useradd -M -s /bin/sh -d "$TREE" "$USER_NAME"
fi
usermod -d "$TREE" "$USER_NAME"
echo "$USER_NAME:$PASS" | chpasswd -c YESCRYPT  # the hash Pigeon makes ($y$, default cost)
chown -R "$USER_NAME" "$TREE"

CONF=$DIR/pigeon.conf
P_PORT=$(free_port)
cat >"$CONF" <<CONFEOF
[server]
hostname = bench.hamburger.edu
primary_domain = hamburger.edu
data_dir = $DIR/data
workers = 1
log_level = warn

[ftp]
listen = 127.0.0.1:$P_PORT
root = $DIR/ftproot
plaintext_auth = loopback
max_connections_per_ip = 200
max_connections_per_user = 200
CONFEOF
"$ROOT/build/release/pigeon" -c "$CONF" domain add hamburger.edu >/dev/null
echo "$PASS" | "$ROOT/build/release/pigeon" -c "$CONF" user add "$LOGIN" >/dev/null

CERT=$DIR/cert.pem
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/key.pem" -out "$DIR/cert-only.pem" \
    -days 2 -subj /CN=127.0.0.1 2>/dev/null
cat "$DIR/key.pem" "$DIR/cert-only.pem" >"$CERT"

# server NAME COMMAND...: runs the server in the background, in its cgroup from its first
# instruction, pinned to CPU 0 under nice -n -15; its pid added to PIDS.
server() {
    local name=$1
    shift
    cg_make "$name"
    (in_cgroup "$name" "$BASHPID" && exec nice -n -15 taskset -c 0 "$@") &
    PIDS+=($!)
}

start_pigeon() {
    server pigeon "${PIGEOND:-$ROOT/build/release/pigeond}" -c "$CONF" >"$DIR/pigeond.log" 2>&1
    wait_port "$P_PORT" 30 || die "pigeond did not start: $(tail -5 "$DIR/pigeond.log")"
    PORT=$P_PORT FTP_USER=$LOGIN
}

start_vsftpd() {
    PORT=$(free_port) FTP_USER=$USER_NAME
    mkdir -p "$DIR/vsftpd-empty"
    cat >"$DIR/vsftpd.conf" <<VEOF
listen=YES
listen_address=127.0.0.1
listen_port=$PORT
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
pam_service_name=vsftpd
secure_chroot_dir=$DIR/vsftpd-empty
max_clients=500
max_per_ip=500
xferlog_enable=NO
ssl_enable=YES
rsa_cert_file=$CERT
allow_anon_ssl=NO
force_local_data_ssl=NO
force_local_logins_ssl=NO
require_ssl_reuse=NO
seccomp_sandbox=NO
VEOF
    server vsftpd /usr/sbin/vsftpd "$DIR/vsftpd.conf" >"$DIR/vsftpd.log" 2>&1
    wait_port "$PORT" 30 || die "vsftpd did not start: $(cat "$DIR/vsftpd.log")"
}

start_pureftpd() {
    if ! [[ -x $DIR/pure/usr/sbin/pure-ftpd ]]; then
        (cd "$DIR" && apt-get download pure-ftpd >/dev/null 2>&1) || die "apt-get download pure-ftpd failed"
        dpkg-deb -x "$DIR"/pure-ftpd_*.deb "$DIR/pure"
    fi
    PORT=$(free_port) FTP_USER=$USER_NAME
    # -l unix: /etc/shadow; -Y 1: TLS allowed; -2: certificate; -c/-C: session limits;
    # -A not set: no chroot (vsftpd and Pigeon serve the same tree without one either)
    server pureftpd "$DIR/pure/usr/sbin/pure-ftpd" -S "127.0.0.1,$PORT" -l unix -E \
        -Y 1 -2 "$CERT" -c 500 -C 500 -H >"$DIR/pure-ftpd.log" 2>&1
    wait_port "$PORT" 30 || die "pure-ftpd did not start: $(cat "$DIR/pure-ftpd.log")"
}

# Linux's autogroup scheduling (kernel.sched_autogroup_enabled) shares a CPU between sessions
# (setsid), whatever the nice values of the processes within them: vsftpd makes every FTP
# session a session of its own (setsid), so on a CPU shared with other users' processes 20
# vsftpd sessions get 20 shares of it while pigeond (and pure-ftpd), one session, get one.
# So that the servers compete on the same terms, each runs in a cpu cgroup of its own made
# for the bench (default weight, the same as one session's), where autogroups do not apply:
# every process and thread of the server shares that cgroup's part of the CPU, as one.
# The same cgroup (cpuacct on cgroup v1, cpu.stat on v2) counts the server's CPU time: all
# its processes, threads and children, reaped or not (vsftpd's session processes fork a
# privileged and an unprivileged half, which /proc/PID/stat of the listener never sees
# whole). Off with BENCH_CGROUP=0 (or when no cgroup can be made): then /proc/PID/stat of
# the server's first process and its reaped children.
# BENCH_WEIGHT=W (default 8): every server's cgroup, and one holding the bench itself and its
# clients (curl, sync), weighs W sessions instead of one, the same for all: processes others
# run beside the bench outside /work/bin/quiet (each session one share) then take less of
# the transfers' time, whichever server has its turn. 1: the default weight.
declare -A CG_CPU CG_ACCT
cg_make() { # NAME: the server's cgroups (none when BENCH_CGROUP=0 or not writable)
    ((${BENCH_CGROUP:-1})) || return 0
    local n=pigeon-ftp-bench-$$-$1 w=${BENCH_WEIGHT:-8}
    if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then # cgroup v2
        mkdir -p "/sys/fs/cgroup/$n" 2>/dev/null || return 0
        CG_CPU[$1]=/sys/fs/cgroup/$n CG_ACCT[$1]=/sys/fs/cgroup/$n
        echo $((100 * w)) >"/sys/fs/cgroup/$n/cpu.weight" 2>/dev/null || true
    elif [[ -w /sys/fs/cgroup/cpu && -w /sys/fs/cgroup/cpuacct ]]; then
        mkdir -p "/sys/fs/cgroup/cpu/$n" "/sys/fs/cgroup/cpuacct/$n" || return 0
        CG_CPU[$1]=/sys/fs/cgroup/cpu/$n CG_ACCT[$1]=/sys/fs/cgroup/cpuacct/$n
        echo $((1024 * w)) >"/sys/fs/cgroup/cpu/$n/cpu.shares"
    fi
}
in_cgroup() { # NAME PID
    [[ -z ${CG_CPU[$1]:-} ]] && return 0
    echo "$2" >"${CG_CPU[$1]}/cgroup.procs"
    [[ ${CG_ACCT[$1]} == "${CG_CPU[$1]}" ]] || echo "$2" >"${CG_ACCT[$1]}/cgroup.procs"
}
cg_remove() {
    local d
    if [[ -n ${CG_CPU[client]:-} ]]; then # the bench leaves its cgroup, so that it can go
        echo $$ >"${CG_CPU[client]%/*}/cgroup.procs" 2>/dev/null || true
        echo $$ >"${CG_ACCT[client]%/*}/cgroup.procs" 2>/dev/null || true
    fi
    for d in "${CG_CPU[@]}" "${CG_ACCT[@]}"; do rmdir "$d" 2>/dev/null || true; done
}
cg_make client # the bench and its clients (curl, sync): the servers' weight
in_cgroup client $$

# server_cpu_ns NAME: the CPU time the server has used so far, in nanoseconds
server_cpu_ns() {
    local a=${CG_ACCT[$1]:-}
    if [[ -n $a && -f $a/cpuacct.usage ]]; then
        cat "$a/cpuacct.usage"
    elif [[ -n $a && -f $a/cpu.stat ]]; then
        awk '$1 == "usage_usec" {print $2 * 1000}' "$a/cpu.stat"
    else
        awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f\n", ($14 + $15 + $16 + $17) * 1e9 / hz}' \
            "/proc/${SPID[$1]}/stat"
    fi
}
# server_quiet NAME: waits (at most 10 s) until the server is back to the processes it had
# idle, so that a session's process has ended and counted before the CPU time is read
server_quiet() {
    local c=${CG_ACCT[$1]:-} i
    [[ -z $c ]] && { sleep 1; return 0; } # /proc/PID/stat: its children must be reaped
    for i in $(seq 1 200); do
        (($(wc -l <"$c/cgroup.procs") <= ${IDLE_PROCS[$1]})) && return 0
        sleep 0.05
    done
    log "$1: still $(wc -l <"$c/cgroup.procs") processes 10 s after the transfer"
}

# ---------------------------------------------------------------- workloads
url() { echo "ftp://$(printf %s "$FTP_USER" | sed 's/@/%40/'):$PASS@127.0.0.1:$PORT/$1"; }

# throughput retr|stor|stor-sync [TLS options...]: "MB/s CPU-ms-per-GB". stor-sync: the
# upload's transfer time (as for stor) plus the time sync(1) of the stored file then takes.
throughput() {
    local what=$1 out t0 t1 c0 c1 size synced=0
    shift
    size=$(stat -c %s "$DIR/big.bin")
    c0=$(server_cpu_ns "$NAME")
    if [[ $what == retr ]]; then
        out=$(nice -n -15 taskset -c 1 curl -sS "$@" -o "$DOWN" \
            -w '%{time_total} %{time_pretransfer}' "$(url big.bin)")
        cmp -s "$DOWN" "$DIR/big.bin" || die "$NAME: RETR returned different bytes"
        rm -f "$DOWN"
    else
        out=$(nice -n -15 taskset -c 1 curl -sS "$@" -T "$DIR/big.bin" \
            -w '%{time_total} %{time_pretransfer}' "$(url up.bin)")
        if [[ $what == stor-sync ]]; then
            # on the server's CPU and terms: the disk writes a peer leaves to the kernel are
            # started here, as Pigeon starts them (sync_file_range, fsync) on its pinned CPU
            t0=$(now)
            nice -n -15 taskset -c 0 sync "$TREE/up.bin"
            t1=$(now)
            synced=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')
        fi
        [[ $(stat -c %s "$TREE/up.bin") == "$size" ]] ||
            die "$NAME: STOR stored a file of the wrong size"
        rm -f "$TREE/up.bin"
    fi
    server_quiet "$NAME" # the session's process (vsftpd, pure-ftpd) has ended
    c1=$(server_cpu_ns "$NAME")
    awk -v t="$out" -v s="$synced" -v sz="$size" -v c="$((c1 - c0))" 'BEGIN {
        split(t, f, " ")
        printf "%.1f %.0f", sz / 1048576 / (f[1] - f[2] + s), c / 1e6 / (sz / 1073741824)
    }'
}

sessions() { # "SESSIONS/S CPU-MS-PER-SESSION" of server NAME
    local t0 t1 c0 c1 list small
    list=$(url "") small=$(url small.bin)
    c0=$(server_cpu_ns "$NAME")
    t0=$(now)
    seq 1 "$N" | nice -n -15 taskset -c 1 xargs -P "$C" -I{} curl -sS -o /dev/null -o /dev/null \
        "$list" "$small" || die "$NAME: a session failed"
    t1=$(now)
    server_quiet "$NAME" # the last sessions' processes have ended
    c1=$(server_cpu_ns "$NAME")
    awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" \
        'BEGIN {printf "%.1f %.1f", n / (b - a), c / 1e6 / n}'
}

# hash_ms HASH: CPU milliseconds of one check of PASS against HASH by libxcrypt's crypt(3),
# the call all three servers make (Pigeon directly, vsftpd through PAM's pam_unix, pure-ftpd
# with -l unix), measured alone: 20 checks in one process on CPU 0 under nice -n -15.
hash_ms() {
    nice -n -15 taskset -c 0 /usr/bin/python3 -W ignore -c '
import crypt, resource, sys
h, pw, n = sys.argv[1], sys.argv[2], 20
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t = cpu()
for _ in range(n):
    assert crypt.crypt(pw, h) == h
print("%.1f" % ((cpu() - t) * 1000 / n))' "$1" "$PASS"
}

declare -A R CPU
SERVERS=()
for s in pigeon vsftpd pureftpd; do run_p "$s" && SERVERS+=("$s"); done
log "load before: $(uptime)"
declare -A SPORT SUSER SPID IDLE_PROCS
for NAME in "${SERVERS[@]}"; do
    "start_$NAME"
    SPORT[$NAME]=$PORT SUSER[$NAME]=$FTP_USER SPID[$NAME]=${PIDS[${#PIDS[@]} - 1]}
    IDLE_PROCS[$NAME]=1
    [[ -n ${CG_ACCT[$NAME]:-} ]] && IDLE_PROCS[$NAME]=$(wc -l <"${CG_ACCT[$NAME]}/cgroup.procs")
    log "$NAME on port $PORT (${IDLE_PROCS[$NAME]} process(es) idle)"
done
# order ROUND: the servers in the order of that round, rotated by one each round, so that
# over as many rounds as servers each one goes first, second and last once (whoever runs
# first after a change in the machine's state, or after another server, is not always the
# same one)
order() {
    local n=${#SERVERS[@]} i
    for ((i = 0; i < n; i++)); do printf '%s ' "${SERVERS[(i + $1 + ROUND0 - 1) % n]}"; done
}
# warm: the files every transfer reads (the server: the tree's big.bin; curl: the upload's
# source, cmp: the original) are in the page cache before each server's turn, so that none
# reads them from the disk while another found them cached; the previous turn's writes
# are on disk (sync) and no writeback runs during the next turn.
warm() {
    sync
    cat "$TREE/big.bin" "$DIR/big.bin" >/dev/null
    command -v fincore >/dev/null &&
        log "cached before $NAME's turn: $(fincore -b -n -o RES "$TREE/big.bin" | numfmt --to=iec) of $TREE/big.bin"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Transfers: the servers take turns, TROUNDS times, so that a change in the other agents'
# load falls on all of them alike; each figure is the median of the server's rounds.
XFERS=(retr stor stor-sync retr-tls stor-tls stor-sync-tls)
((SESSIONS_ONLY)) && TROUNDS=0
for round in $(seq 1 "$TROUNDS"); do
    for NAME in $(order "$round"); do
        PORT=${SPORT[$NAME]} FTP_USER=${SUSER[$NAME]}
        warm
        # one untimed RETR first: the first transfer after a pause (the file just made, or
        # another call's gap) ran at about half speed whichever server had it (session 10:
        # 335-348 MB/s against 580-910), the client's fresh tmpfs pages for the download
        # being the likely cause; so no server's timed RETR is that first transfer
        throughput retr >/dev/null
        for k in "${XFERS[@]}"; do
            case $k in
                *-tls) set -- "${k%-tls}" --ssl-reqd -k ;;
                *) set -- "$k" ;;
            esac
            read -r rate cpu <<<"$(throughput "$@")"
            R[$NAME,$k-all]+="$rate " CPU[$NAME,$k-all]+="$cpu "
            sync # what a STOR left dirty is not written during the next transfer
        done
        line=
        for k in "${XFERS[@]}"; do
            line+="$k $(awk '{print $NF}' <<<"${R[$NAME,$k-all]}") MB/s"
            line+=" $(awk '{print $NF}' <<<"${CPU[$NAME,$k-all]}") ms/GB; "
        done
        log "round $((round + ROUND0)) ($(order "$round")), $NAME: $line($(cut -d' ' -f1-3 /proc/loadavg))"
    done
done
for NAME in "${SERVERS[@]}"; do
    for k in "${XFERS[@]}"; do
        R[$NAME,$k]=$(median <<<"${R[$NAME,$k-all]:-0}")
        CPU[$NAME,$k]=$(median <<<"${CPU[$NAME,$k-all]:-0}")
    done
done
# Sessions: likewise, ROUNDS times.
for round in $(seq 1 "$ROUNDS"); do
    for NAME in $(order "$round"); do
        PORT=${SPORT[$NAME]} FTP_USER=${SUSER[$NAME]}
        read -r rate cpu <<<"$(sessions)"
        R[$NAME,sessions-all]+="$rate " R[$NAME,cpu-all]+="$cpu "
        log "round $((round + ROUND0)) ($(order "$round")), $NAME: $rate sessions/s, $cpu ms CPU/session ($(cut -d' ' -f1-3 /proc/loadavg))"
    done
done
for NAME in "${SERVERS[@]}"; do
    R[$NAME,sessions]=$(median <<<"${R[$NAME,sessions-all]:-0}")
    R[$NAME,cpu]=$(median <<<"${R[$NAME,cpu-all]:-0}")
done
log "load after: $(uptime)"
HASH_MS=$(hash_ms "$(getent shadow "$USER_NAME" | cut -d: -f2)")
log "one yescrypt check alone (the system account's hash, the same cost as Pigeon's): $HASH_MS ms CPU"

printf '%-10s %10s %10s %10s %10s %10s %13s %12s %12s\n' server "retr MB/s" "stor MB/s" \
    "stor+sync" "retr-tls" "stor-tls" "stor-tls+sync" "sessions/s" "ms CPU/sess"
for NAME in "${SERVERS[@]}"; do
    printf '%-10s %10s %10s %10s %10s %10s %13s %12s %12s\n' "$NAME" "${R[$NAME,retr]}" \
        "${R[$NAME,stor]}" "${R[$NAME,stor-sync]}" "${R[$NAME,retr-tls]}" "${R[$NAME,stor-tls]}" \
        "${R[$NAME,stor-sync-tls]}" "${R[$NAME,sessions]}" "${R[$NAME,cpu]}"
done
printf '%-10s %10s %10s %10s %10s   (server CPU ms per GB moved)\n' server retr stor retr-tls stor-tls
for NAME in "${SERVERS[@]}"; do
    printf '%-10s %10s %10s %10s %10s\n' "$NAME" "${CPU[$NAME,retr]}" "${CPU[$NAME,stor]}" \
        "${CPU[$NAME,retr-tls]}" "${CPU[$NAME,stor-tls]}"
done
if run_p pigeon; then
    for peer in vsftpd pureftpd; do
        run_p "$peer" || continue
        printf 'pigeon/%s:' "$peer"
        for k in retr stor stor-sync retr-tls stor-tls stor-sync-tls sessions; do
            awk -v a="${R[pigeon,$k]}" -v b="${R[$peer,$k]}" -v k="$k" \
                'BEGIN {printf " %s %.2fx", k, (b > 0 ? a / b : 0)}'
        done
        # CPU per session and per GB: the peer's over Pigeon's, so > 1 means Pigeon spends less
        awk -v a="${R[pigeon,cpu]}" -v b="${R[$peer,cpu]}" \
            'BEGIN {printf " cpu/session %.2fx", (a > 0 ? b / a : 0)}'
        for k in retr stor retr-tls stor-tls; do
            awk -v a="${CPU[pigeon,$k]}" -v b="${CPU[$peer,$k]}" -v k="$k" \
                'BEGIN {printf " cpu/GB-%s %.2fx", k, (a > 0 ? b / a : 0)}'
        done
        echo
    done
fi
for NAME in "${SERVERS[@]}"; do
    awk -v n="$NAME" -v c="${R[$NAME,cpu]}" -v h="$HASH_MS" \
        'BEGIN {printf "%s: %.1f ms CPU per session beyond its yescrypt check (%.1f ms)\n", n, c - h, h}'
done
echo "file: $MB MB; sessions: $N, $C at a time; loadavg: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "each server in a cpu cgroup of its own (its CPU time from it): $( ((${#CG_CPU[@]})) && echo "yes, weight ${BENCH_WEIGHT:-8} sessions, as the bench and its clients" || echo no)"
