#!/usr/bin/env bash
# Web server benchmark: Pigeon against nginx and h2o, in one run, on loopback.
#
# Each server runs ONE worker pinned to CPU 0 (under nice -n -15, as are the clients) (pigeond workers = 1, nginx worker_processes 1,
# h2o num-threads 1) with access logs off and the same document tree; the clients (wrk,
# h2load, curl, bench/http_idle.py) run on CPU 1. Figures:
#   ka     small static file (1 KiB), keep-alive, wrk -c 50            requests/s
#   close  the same with a new connection per request                 requests/s
#   tls    the same over TLS (keep-alive, HTTP/1.1)                    requests/s
#   h2     the same over TLS with HTTP/2, h2load -c 50 -m 10           requests/s
#          (after 20,000 requests of warm-up; DUR * 60,000 requests, ~1-3 s)
#   big    one 1 GiB file over plain HTTP (sendfile), curl, the median  MB/s
#          of five downloads (one download's rate moves by +-20 % run to run)
#   idle   memory per idle keep-alive connection, 10,000 open          bytes (RSS delta / N)
#          (on the server started again: after the rows before, it counted reused heap)
# The summary prints each figure and Pigeon's ratio to each peer (for idle: lower is better).
#
# usage: bench/http.sh [-d SECONDS] [-n IDLE_CONNS] [-r ROWS] [-B]
#   -d  seconds per wrk run   (env BENCH_DUR, default 10)
#   -r  the rows to run, e.g. "ka h2 idle" (env BENCH_ROWS, default all; others print -)
#   -n  idle connections      (env BENCH_IDLE, default 10000)
#   -B  don't run make: use build/release as it is (env BENCH_NO_BUILD=1)
# env BENCH_DIR: where the temporary directory is made (default /var/tmp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/http_servers.sh
. "$ROOT/bench/lib/http_servers.sh"
DUR=${BENCH_DUR:-10}
IDLE=${BENCH_IDLE:-10000}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
ROWS=${BENCH_ROWS:-ka close tls h2 big idle}
while getopts "d:n:r:Bh" opt; do
    case $opt in
        d) DUR=$OPTARG ;;
        n) IDLE=$OPTARG ;;
        r) ROWS=$OPTARG ;;
        B) NO_BUILD=1 ;;
        *) sed -n '2,23p' "$0"; exit 2 ;;
    esac
done

for tool in wrk h2load nginx h2o curl taskset; do
    command -v "$tool" >/dev/null || { echo "http.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ "$NO_BUILD" = 1 ] || make -C "$ROOT" --no-print-directory -j2 >/dev/null
PIGEOND=${PIGEOND:-$ROOT/build/release/pigeond} # env PIGEOND: another build of pigeond
PIGEON=$ROOT/build/release/pigeon

ulimit -n "$(ulimit -Hn)" # 10,000 connections need as many descriptors on each side
DIR=$(mktemp -d "$BASE/pigeon-http-bench.XXXXXX")
cleanup() {
    http_stop
    rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
TPORT=$(free_port)

http_tree
http_configs

# The process whose memory holds the connections: nginx's worker, else the server itself.
server_rss_pid() { # NAME
    if [ "$1" = nginx ]; then pgrep -P "$SERVER_PID" | head -1; else echo "$SERVER_PID"; fi
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

wrk_rps() { # wrk args...
    nice -n -15 taskset -c 1 wrk -t1 -c50 -d"${DUR}s" "$@" 2>&1 | awk '/^Requests\/sec/ { printf "%d", $2 }'
}

row() { [[ " $ROWS " == *" $1 "* ]]; } # ROW: is it one of the rows to run?

measure() { # NAME
    local name=$1
    local ka=- close=- tls=- h2=- big=- idle=- pid before after
    http_start "$name"
    row ka && ka=$(wrk_rps "http://127.0.0.1:$PORT/small.html")
    row close && close=$(wrk_rps -H "Connection: close" "http://127.0.0.1:$PORT/small.html")
    row tls && tls=$(wrk_rps "https://127.0.0.1:$TPORT/small.html")
    if row h2; then
        nice -n -15 taskset -c 1 h2load -t1 -c50 -m10 -n 20000 "https://127.0.0.1:$TPORT/small.html" \
            >/dev/null 2>&1 # warm-up (caches, heap), not measured
        h2=$(nice -n -15 taskset -c 1 h2load -t1 -c50 -m10 -n $((DUR * 60000)) \
            "https://127.0.0.1:$TPORT/small.html" 2>&1 | awk '/^finished in/ { printf "%d", $4 }')
    fi
    if row big; then
        cat "$DIR/www/big.bin" >/dev/null # the same warm page cache for every server
        big=$(for _ in 1 2 3 4 5; do
            nice -n -15 taskset -c 1 curl -s -o /dev/null -w '%{speed_download}\n' \
                "http://127.0.0.1:$PORT/big.bin"
        done | sort -n | awk '{ v[NR] = $1 } END { printf "%d", v[3] / 1000000 }')
    fi
    http_stop # idle memory on a fresh server: the rows before leave freed heap to reuse
    if row idle; then
        http_start "$name"
        pid=$(server_rss_pid "$name")
        before=$(rss_kb "$pid")
        coproc IDLER { nice -n -15 taskset -c 1 /usr/bin/python3 "$ROOT/bench/http_idle.py" "$PORT" "$IDLE" /small.html; }
        read -r _ <&"${IDLER[0]}"
        sleep 1 # every server settles (Pigeon parks connections idle for 100-200 ms)
        after=$(rss_kb "$pid")
        idle=$(( (after - before) * 1024 / IDLE ))
        eval "exec ${IDLER[1]}>&-"
        wait "$IDLER_PID" 2>/dev/null || true
        http_stop
    fi
    printf '%-7s ka %7s  close %7s  tls %7s  h2 %7s  big %5s MB/s  idle %6s B/conn\n' \
        "$name" "$ka" "$close" "$tls" "$h2" "$big" "$idle"
    eval "R_${name}=\"$ka $close $tls $h2 $big $idle\""
}

echo "HTTP bench: one worker each on CPU 0, clients on CPU 1, ${DUR}s per run, $IDLE idle" \
     "connections, rows: $ROWS ($(nproc) CPUs; other load on the machine is not controlled)"
echo "load before: $(uptime)"
measure pigeon
measure nginx
measure h2o

echo "load after:  $(uptime)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
read -r -a P <<<"$R_pigeon"
for peer in nginx h2o; do
    eval "read -r -a Q <<<\"\$R_$peer\""
    printf 'pigeon/%-5s ka %s  close %s  tls %s  h2 %s  big %s  idle %s (memory: lower is better)\n' \
        "$peer" "$(ratio "${P[0]}" "${Q[0]}")" "$(ratio "${P[1]}" "${Q[1]}")" \
        "$(ratio "${P[2]}" "${Q[2]}")" "$(ratio "${P[3]}" "${Q[3]}")" \
        "$(ratio "${P[4]}" "${Q[4]}")" "$(ratio "${P[5]}" "${Q[5]}")"
done
