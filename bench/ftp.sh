#!/usr/bin/env bash
# FTP benchmark: Pigeon against vsftpd and pure-ftpd, in one run, on loopback.
#
# Every server is started at once and stays up; the workloads take turns between them:
#   retr / stor        one RETR and one STOR of a SIZE-MB file with curl, plain FTP, per
#                      round: TROUNDS rounds, the servers taking turns (each does its five
#                      transfers, then the next server), the median of its rounds counts;
#   stor+sync          the STOR again, timed until the file is on disk (curl, then sync(1)
#                      on the file): Pigeon fsyncs before 226, vsftpd and pure-ftpd do not,
#                      so this is the like-for-like figure for durable uploads;
#   retr-tls/stor-tls  the same with explicit FTPS (AUTH TLS, PROT P: curl --ssl-reqd);
#   sessions           SESSIONS sessions, CONCURRENCY at a time, each one curl process doing
#                      login + LIST + RETR of a 4 KB file + QUIT (two URLs on one connection),
#                      with every server started at once and the servers taking turns for
#                      ROUNDS rounds (the median of each one's rounds is its figure);
#                      also the server's CPU time per session (its process, threads and
#                      reaped children: /proc/PID/stat), which a machine loaded by others
#                      distorts far less than the wall-clock rate.
# Throughput is MB/s of the transfer itself: the file's size over curl's time_total less its
# time_pretransfer, so the login, the TLS handshake of the control connection and curl
# 7.88's own stall before the data connection (up to 1 s when the 229 reply comes back
# fast: curl's multi.c moves to DOING_MORE without asking to be called again, fixed in
# curl 8.4.0 by commit 6dd6654f, "multi: set CURLM_CALL_MULTI_PERFORM after switch to
# DOING_MORE"; it strikes every server, the fastest most often) are not counted; what is
# counted ends with the server's 226. Beside each, the server's CPU time per GB moved (its
# process, threads and reaped children), which a machine loaded by others distorts far
# less than the rate. Sessions is sessions per second of wall time.
# Every download is compared with the original (cmp), every upload's size checked.
#
# All servers serve the same directory (Pigeon's ROOT/LOGIN is the bench user's home) and
# check passwords the same way: Pigeon its own yescrypt hash, vsftpd (PAM) and pure-ftpd
# (-l unix) the system account's yescrypt hash in /etc/shadow. Pigeon runs with 1 worker;
# vsftpd and pure-ftpd fork a process per session (their design). Each server is pinned to
# CPU 0 (taskset) and runs under nice -n -15; the clients are pinned to CPU 1, also under
# nice -n -15 (on a machine loaded by others, un-niced clients were the bottleneck).
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
#   -r  rounds of the sessions run         (env BENCH_ROUNDS, default 3: the servers take
#                                           turns, the median of each one's rounds counts)
#   -t  rounds of the transfers            (env BENCH_TROUNDS, default 1; likewise)
#   -S  the sessions workload only         (env BENCH_SESSIONS_ONLY=1)
#   -o  run one server only                (env BENCH_ONLY)
#   -k  keep the temporary directory       (env BENCH_KEEP=1)
#   -B  don't run make: use build/release  (env BENCH_NO_BUILD=1)
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
for v in MB C N ROUNDS TROUNDS; do
    [[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} > 0)) || die "$v must be a positive number"
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
    [[ -n ${CGROUP:-} ]] && rmdir "$CGROUP" 2>/dev/null
    if ((KEEP)); then log "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

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

start_pigeon() {
    nice -n -15 taskset -c 0 "${PIGEOND:-$ROOT/build/release/pigeond}" -c "$CONF" >"$DIR/pigeond.log" 2>&1 &
    PIDS+=($!)
    in_cgroup $!
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
    nice -n -15 taskset -c 0 /usr/sbin/vsftpd "$DIR/vsftpd.conf" >"$DIR/vsftpd.log" 2>&1 &
    PIDS+=($!)
    in_cgroup $!
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
    nice -n -15 taskset -c 0 "$DIR/pure/usr/sbin/pure-ftpd" -S "127.0.0.1,$PORT" -l unix -E \
        -Y 1 -2 "$CERT" -c 500 -C 500 -H >"$DIR/pure-ftpd.log" 2>&1 &
    PIDS+=($!)
    in_cgroup $!
    wait_port "$PORT" 30 || die "pure-ftpd did not start: $(cat "$DIR/pure-ftpd.log")"
}

# Linux's autogroup scheduling (kernel.sched_autogroup_enabled) shares a CPU between sessions
# (setsid), whatever the nice values of the processes within them: vsftpd makes every FTP
# session a session of its own (setsid), so on a CPU shared with other users' processes 20
# vsftpd sessions get 20 shares of it while pigeond (and pure-ftpd), one session, get one.
# So that the servers compete on the same terms, each runs in one cpu cgroup made for the
# bench (default weight, the same as one session's), where autogroups do not apply: every
# process and thread of the server shares that cgroup's part of the CPU, as one. Off with
# BENCH_CGROUP=0 (or when /sys/fs/cgroup/cpu is not writable).
CGROUP=
if [[ ${BENCH_CGROUP:-1} != 0 && -w /sys/fs/cgroup/cpu ]]; then
    CGROUP=/sys/fs/cgroup/cpu/pigeon-ftp-bench-$$
    mkdir -p "$CGROUP"
fi
in_cgroup() { [[ -z $CGROUP ]] || echo "$1" >"$CGROUP/cgroup.procs"; }

# ---------------------------------------------------------------- workloads
url() { echo "ftp://$(printf %s "$FTP_USER" | sed 's/@/%40/'):$PASS@127.0.0.1:$PORT/$1"; }

# throughput retr|stor|stor-sync [TLS options...]: "MB/s CPU-ms-per-GB" (stor-sync: MB/s
# from curl's start to the end of sync(1), login included, and 0)
throughput() {
    local what=$1 out t0 t1 c0 c1 size pid=${SPID[$NAME]}
    shift
    if [[ $what == stor-sync ]]; then
        t0=$(now)
        nice -n -15 taskset -c 1 curl -sS "$@" -T "$DIR/big.bin" -o /dev/null "$(url up.bin)"
        sync "$TREE/up.bin"
        t1=$(now)
        [[ $(stat -c %s "$TREE/up.bin") == $(stat -c %s "$DIR/big.bin") ]] ||
            die "$NAME: STOR stored a file of the wrong size"
        rm -f "$TREE/up.bin"
        awk -v mb="$MB" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f 0", mb / (b - a)}'
        return
    fi
    size=$(stat -c %s "$DIR/big.bin")
    c0=$(cpu_ticks "$pid")
    if [[ $what == retr ]]; then
        out=$(nice -n -15 taskset -c 1 curl -sS "$@" -o "$DIR/down.bin" \
            -w '%{time_total} %{time_pretransfer}' "$(url big.bin)")
        cmp -s "$DIR/down.bin" "$DIR/big.bin" || die "$NAME: RETR returned different bytes"
        rm -f "$DIR/down.bin"
    else
        out=$(nice -n -15 taskset -c 1 curl -sS "$@" -T "$DIR/big.bin" \
            -w '%{time_total} %{time_pretransfer}' "$(url up.bin)")
        [[ $(stat -c %s "$TREE/up.bin") == "$size" ]] ||
            die "$NAME: STOR stored a file of the wrong size"
        rm -f "$TREE/up.bin"
    fi
    sleep 1 # the session's process (vsftpd, pure-ftpd) is reaped
    c1=$(cpu_ticks "$pid")
    awk -v t="$out" -v sz="$size" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(t, f, " ")
        printf "%.1f %.0f", sz / 1048576 / (f[1] - f[2]), c * 1000 / hz / (sz / 1073741824)
    }'
}

# CPU time (clock ticks) of process $1 and of its children it has reaped: vsftpd and
# pure-ftpd spend theirs in a process per session, Pigeon in its threads.
cpu_ticks() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"; }

sessions() { # PID: "SESSIONS/S CPU-MS-PER-SESSION"
    local t0 t1 c0 c1 list small pid=$1
    list=$(url "") small=$(url small.bin)
    c0=$(cpu_ticks "$pid")
    t0=$(now)
    seq 1 "$N" | nice -n -15 taskset -c 1 xargs -P "$C" -I{} curl -sS -o /dev/null -o /dev/null \
        "$list" "$small" || die "$NAME: a session failed"
    t1=$(now)
    sleep 1 # the last sessions' processes are reaped
    c1=$(cpu_ticks "$pid")
    awk -v n="$N" -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
        'BEGIN {printf "%.1f %.1f", n / (b - a), c * 1000 / hz / n}'
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
declare -A SPORT SUSER SPID
for NAME in "${SERVERS[@]}"; do
    "start_$NAME"
    SPORT[$NAME]=$PORT SUSER[$NAME]=$FTP_USER SPID[$NAME]=${PIDS[${#PIDS[@]} - 1]}
    log "$NAME on port $PORT"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Transfers: the servers take turns, TROUNDS times, so that a change in the other agents'
# load falls on all of them alike; each figure is the median of the server's rounds.
XFERS=(retr stor stor-sync retr-tls stor-tls)
((SESSIONS_ONLY)) && TROUNDS=0
for round in $(seq 1 "$TROUNDS"); do
    for NAME in "${SERVERS[@]}"; do
        PORT=${SPORT[$NAME]} FTP_USER=${SUSER[$NAME]}
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
        log "round $round, $NAME: $line($(cut -d' ' -f1-3 /proc/loadavg))"
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
    for NAME in "${SERVERS[@]}"; do
        PORT=${SPORT[$NAME]} FTP_USER=${SUSER[$NAME]}
        read -r rate cpu <<<"$(sessions "${SPID[$NAME]}")"
        R[$NAME,sessions-all]+="$rate " R[$NAME,cpu-all]+="$cpu "
        log "round $round, $NAME: $rate sessions/s, $cpu ms CPU/session ($(cut -d' ' -f1-3 /proc/loadavg))"
    done
done
for NAME in "${SERVERS[@]}"; do
    R[$NAME,sessions]=$(median <<<"${R[$NAME,sessions-all]}")
    R[$NAME,cpu]=$(median <<<"${R[$NAME,cpu-all]}")
done
log "load after: $(uptime)"
HASH_MS=$(hash_ms "$(getent shadow "$USER_NAME" | cut -d: -f2)")
log "one yescrypt check alone (the system account's hash, the same cost as Pigeon's): $HASH_MS ms CPU"

printf '%-10s %10s %10s %10s %10s %10s %12s %12s\n' server "retr MB/s" "stor MB/s" \
    "stor+sync" "retr-tls" "stor-tls" "sessions/s" "ms CPU/sess"
for NAME in "${SERVERS[@]}"; do
    printf '%-10s %10s %10s %10s %10s %10s %12s %12s\n' "$NAME" "${R[$NAME,retr]}" \
        "${R[$NAME,stor]}" "${R[$NAME,stor-sync]}" "${R[$NAME,retr-tls]}" "${R[$NAME,stor-tls]}" \
        "${R[$NAME,sessions]}" "${R[$NAME,cpu]}"
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
        for k in retr stor stor-sync retr-tls stor-tls sessions; do
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
    "servers in one cpu cgroup: ${CGROUP:-no}"
