#!/usr/bin/env bash
# What one request costs each web server: CPU time (user and system) and system calls per
# request, for Pigeon, nginx and h2o set up as in bench/http.sh (one worker pinned to CPU 0,
# the client on CPU 1, both under nice -n -15). Unlike requests/s, these figures are of a
# fixed amount of work, so a machine loaded by others moves them much less.
#
# Workloads (h2load, N requests of the 1 KiB file, 50 connections):
#   ka     HTTP/1.1 keep-alive                 h2load --h1 -c50
#   close  a new connection per request        h2load --h1 -c50 -H 'Connection: close'
#   tls    HTTP/1.1 keep-alive over TLS        h2load --h1 -c50 https://
#   h2     HTTP/2 over TLS, 10 streams each    h2load -c50 -m10 https://
#   big    the 1 GiB file over plain HTTP      curl, N/20000 times (page cache warm)
# CPU: the server's processes' utime + stime (/proc/PID/stat; nginx's worker, h2o's
# neverbleed key process included) across the run, per request, in microseconds.
# Syscalls: strace -c -f attached for a run of N/10 requests (strace slows the server; only
# the counts are used), per request, with the most frequent calls named.
#
# usage: bench/http_cost.sh [-n REQUESTS] [-w "WORKLOADS"] [-B] [SERVER...]
#        (default: every workload; pigeon nginx h2o)
#   -n  requests per CPU run (env BENCH_N, default 100000; syscall runs use a tenth)
#   -w  the workloads to run, e.g. -w "tls h2" (env BENCH_MODES)
#   -B  don't run make: use build/release as it is (env BENCH_NO_BUILD=1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/http_servers.sh
. "$ROOT/bench/lib/http_servers.sh"
N=${BENCH_N:-100000}
NO_BUILD=${BENCH_NO_BUILD:-0}
MODES=${BENCH_MODES:-ka close tls h2 big}
BASE=${BENCH_DIR:-/var/tmp}
while getopts "n:w:Bh" opt; do
    case $opt in
        n) N=$OPTARG ;;
        w) MODES=$OPTARG ;;
        B) NO_BUILD=1 ;;
        *) sed -n '2,20p' "$0"; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
SERVERS=("$@")
((${#SERVERS[@]})) || SERVERS=(pigeon nginx h2o)
for tool in h2load nginx h2o curl taskset strace; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
[[ -n ${PIGEOND:-} ]] || build_pigeon
PIGEOND=${PIGEOND:-$ROOT/build/release/pigeond} # env PIGEOND: another build's, to compare
DIR=$(mktemp -d "$BASE/pigeon-http-cost.XXXXXX")
cleanup() {
    http_stop
    rm -rf "$DIR"
}
trap cleanup EXIT
PORT=$(free_port)
TPORT=$(free_port)
http_tree
http_configs
HZ=$(getconf CLK_TCK)

cpu_ticks() { # utime + stime of the measured processes
    local t=0 pid
    for pid in $(http_work_pids); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
user_ticks() {
    local t=0 pid
    for pid in $(http_work_pids); do
        t=$((t + $(awk '{ print $14 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}

load() { # MODE COUNT: runs h2load (curl for big); fails unless every request got a 2xx
    local mode=$1 n=$2 args=(-n "$2" -c 50) url="http://127.0.0.1:$PORT/small.html" out i
    if [[ $mode == big ]]; then
        for ((i = 0; i < n; i++)); do
            out=$(nice -n -15 taskset -c 1 curl -s -o /dev/null -w '%{http_code} %{size_download}' \
                "http://127.0.0.1:$PORT/big.bin")
            [[ $out == "200 1073741824" ]] || die "big: $out"
        done
        return 0
    fi
    case $mode in
        ka) args+=(--h1) ;;
        close) args+=(--h1 -H "Connection: close") ;;
        tls) args+=(--h1); url="https://127.0.0.1:$TPORT/small.html" ;;
        h2) args+=(-m 10); url="https://127.0.0.1:$TPORT/small.html" ;;
    esac
    out=$(nice -n -15 taskset -c 1 h2load "${args[@]}" "$url" 2>&1)
    grep -q "status codes: $n 2xx" <<<"$out" || { echo "$out" >&2; die "$mode: not every request got 200"; }
}

# syscalls FILE N: "total per request|name count, ..." from strace -c's table (calls: $4).
syscalls() {
    awk -v n="$2" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { print $4, $NF }' "$1" |
        sort -rn | awk -v n="$2" '{ tot += $1; if ($1 / n >= 0.05) s = s sprintf("%s %.2f, ", $2, $1 / n) }
                                  END { printf "%.2f|%s", tot / n, s }'
}

printf '%-7s %-6s %9s %9s %9s  %s\n' server mode "cpu_us" "user_us" "sys/req" "most frequent calls per request"
for name in "${SERVERS[@]}"; do
    http_start "$name"
    for mode in $MODES; do
        n=$N sn=$((N / 10))
        if [[ $mode == big ]]; then
            n=$(((N + 19999) / 20000)) sn=1
            cat "$DIR/www/big.bin" >/dev/null # the same warm page cache for every server
        else
            load "$mode" 2000 # warm: TLS session caches, the file caches
        fi
        t0=$(cpu_ticks) u0=$(user_ticks)
        load "$mode" "$n"
        t1=$(cpu_ticks) u1=$(user_ticks)
        cpu=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
        usr=$(awk -v t=$((u1 - u0)) -v hz="$HZ" -v n="$n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
        # System calls: strace attached to every thread of the measured processes.
        pids=$(http_work_pids | sed 's/^/-p /' | tr '\n' ' ')
        # shellcheck disable=SC2086
        strace -f -c -o "$DIR/strace.$name.$mode" $pids 2>/dev/null &
        spid=$!
        sleep 1 # strace attaches
        load "$mode" "$sn"
        kill -INT "$spid"
        wait "$spid" 2>/dev/null || true
        calls=$(syscalls "$DIR/strace.$name.$mode" "$sn")
        printf '%-7s %-6s %9s %9s %9s  %s\n' "$name" "$mode" "$cpu" "$usr" "${calls%%|*}" "${calls#*|}"
    done
    http_stop
done
echo "load: $(uptime)"
