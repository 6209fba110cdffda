#!/usr/bin/env bash
# Web cache benchmark: Pigeon's [proxy] / [reverse_proxy] / [http NAME] proxy_to against Varnish (a reverse cache)
# and Squid (a forward proxy), in one run, on loopback, with nginx as the origin.
#
# Each cache runs one worker pinned to CPU 0 (pigeond workers = 1; varnishd -p thread_pools=1;
# squid workers 1), under nice -n -15; nginx and the clients run on CPU 1. Figures:
#   hit/s    1 KiB object, all hits, wrk -c 50 -d DUR       requests/s (Pigeon reverse vs
#            Varnish, Pigeon forward vs Squid: wrk sends absolute-form targets to proxies)
#   miss     median extra milliseconds of a miss over asking nginx directly (sequential)
#   zipf     hit ratio and origin bytes of a Zipf (s = 0.9) replay of REQS requests over
#            OBJS objects of 16 KiB, with a memory budget of BUDGET (a quarter of the set);
#            Pigeon's forward proxy also with policy = lfu
#   site     hit/s of the same object through an [http NAME] proxy_to site (the HTTP service)
#
# usage: bench/cache.sh [-d SECONDS] [-r REQS] [-B]
#   -d seconds per wrk run (env BENCH_DUR, default 10); -r replay requests (default 20000);
#   -B use build/release as it is.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${BENCH_DUR:-10}
REQS=${BENCH_REQS:-20000}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
OBJS=2000
BUDGET_MB=8
while getopts "d:r:Bh" opt; do
    case $opt in
        d) DUR=$OPTARG ;;
        r) REQS=$OPTARG ;;
        B) NO_BUILD=1 ;;
        *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
source "$ROOT/bench/lib/common.sh"
for tool in wrk nginx varnishd squid taskset; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
build_pigeon
PIGEOND=$ROOT/build/release/pigeond
DIR=$(mktemp -d "$BASE/pigeon-cache-bench.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do stop_pid cache "$p"; done
    pkill -F "$DIR/squid.pid" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
chmod 755 "$DIR"

# ---- the origin: nginx on CPU 1, every object max-age=3600 ----
mkdir -p "$DIR/www/obj"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 >"$DIR/www/small.html"
for i in $(seq 1 $OBJS); do head -c 16384 /dev/urandom >"$DIR/www/obj/$i"; done
chmod -R a+rX "$DIR/www"
OPORT=$(free_port)
cat >"$DIR/nginx.conf" <<NGX
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 1024; }
http {
    log_format b '\$body_bytes_sent';
    access_log $DIR/origin.log b;
    server {
        listen 127.0.0.1:$OPORT;
        root $DIR/www;
        add_header Cache-Control "max-age=3600";
        default_type application/octet-stream;
    }
}
NGX
taskset -c 1 nginx -c "$DIR/nginx.conf" -g 'daemon off;' & PIDS+=($!)
wait_port "$OPORT" 10 || die "nginx did not start"

# ---- Pigeon: one worker, [proxy] and [reverse_proxy] sharing one cache ----
PPORT=$(free_port); RPORT=$(free_port); HPORT=$(free_port)
mkdir -p "$DIR/pigeon"
cat >"$DIR/pigeon/pigeon.conf" <<CONF
[server]
hostname = bench.example
primary_domain = bench.example
data_dir = $DIR/pigeon/data
workers = 1
log_level = warn
[proxy]
listen = 127.0.0.1:$PPORT
allow_origins = 127.0.0.0/8
cache_memory = ${BUDGET_MB}M
cache_disk = ${BUDGET_MB}M
max_connections_per_ip = 1000
[reverse_proxy]
listen = 127.0.0.1:$RPORT
origin = http://127.0.0.1:$OPORT
max_connections_per_ip = 1000
[http]
max_connections_per_ip = 1000
[http bench]
listen = 127.0.0.1:$HPORT
proxy_to = http://127.0.0.1:$OPORT
CONF
sed 's/^\[proxy\]$/[proxy]\npolicy = lfu/' "$DIR/pigeon/pigeon.conf" >"$DIR/pigeon/lfu.conf"
start_pigeon() { # [lfu]
    rm -rf "$DIR/pigeon/data/proxy-cache"
    nice -n -15 taskset -c 0 "$PIGEOND" -c "$DIR/pigeon/${1:-pigeon}.conf" 2>"$DIR/pigeon.log" &
    PIGEON_PID=$!
    PIDS+=($PIGEON_PID)
    wait_port "$RPORT" 20 || die "pigeond did not start: $(tail -3 "$DIR/pigeon.log")"
}

# ---- Varnish: reverse cache, one thread pool, malloc storage of the same budget ----
VPORT=$(free_port)
start_varnish() {
    rm -rf "$DIR/varnish"
    mkdir -p "$DIR/varnish"
    nice -n -15 taskset -c 0 varnishd -F -n "$DIR/varnish" -a "127.0.0.1:$VPORT" \
        -b "127.0.0.1:$OPORT" -s "malloc,${BUDGET_MB}M" -p thread_pools=1 \
        >"$DIR/varnish.log" 2>&1 &
    VARNISH_PID=$!
    PIDS+=($VARNISH_PID)
    wait_port "$VPORT" 30 || die "varnishd did not start: $(tail -3 "$DIR/varnish.log")"
}

# ---- Squid: forward proxy, one worker, memory cache of the same budget ----
SPORT=$(free_port)
start_squid() {
    mkdir -p "$DIR/squid"
    chmod 777 "$DIR/squid"
    cat >"$DIR/squid.conf" <<SQ
http_port 127.0.0.1:$SPORT
http_access allow localhost
http_access deny all
workers 1
cache_mem $BUDGET_MB MB
maximum_object_size_in_memory 1 MB
memory_replacement_policy lru
pid_filename $DIR/squid.pid
access_log none
cache_log $DIR/squid/cache.log
coredump_dir $DIR/squid
shutdown_lifetime 0 seconds
SQ
    nice -n -15 taskset -c 0 squid -N -f "$DIR/squid.conf" >"$DIR/squid.out" 2>&1 &
    SQUID_PID=$!
    PIDS+=($SQUID_PID)
    wait_port "$SPORT" 30 || die "squid did not start: $(tail -3 "$DIR/squid/cache.log")"
}

forward_lua() { # the target in absolute form, as a browser sends it to its proxy
    echo "wrk.path = \"http://127.0.0.1:$OPORT$1\"" >"$DIR/fwd.lua"
    echo "-s $DIR/fwd.lua"
}

hits() { # PORT MODE → requests/s
    local port=$1 mode=$2 url="http://127.0.0.1:$1/small.html" extra=""
    [[ $mode == forward ]] && extra=$(forward_lua /small.html)
    curl -s -o /dev/null ${mode/reverse/} ${mode/forward/-x http://127.0.0.1:$port} \
        "http://127.0.0.1:$OPORT/small.html" >/dev/null 2>&1 || true
    if [[ $mode == forward ]]; then
        curl -s -o /dev/null -x "http://127.0.0.1:$port" "http://127.0.0.1:$OPORT/small.html"
    else
        curl -s -o /dev/null "$url"
    fi
    # shellcheck disable=SC2086
    taskset -c 1 wrk -t 1 -c 50 -d "${DUR}s" $extra "$url" | awk '/Requests\/sec/ {print $2}'
}

origin_lines() { wc -l <"$DIR/origin.log"; }
origin_bytes() { awk '{s+=$1} END {print s+0}' "$DIR/origin.log"; }

zipf() { # PORT MODE → "hit_ratio origin_MB"
    local l0 b0 l1 b1
    log "zipf replay through port $1 ($2)"
    l0=$(origin_lines); b0=$(origin_bytes)
    taskset -c 1 /usr/bin/python3 "$ROOT/bench/cache_replay.py" zipf "$1" "$2" "$OPORT" "$OBJS" \
        "$REQS" 42
    l1=$(origin_lines); b1=$(origin_bytes)
    awk -v r="$REQS" -v m=$((l1 - l0)) -v b=$((b1 - b0)) \
        'BEGIN {printf "%.3f %.1f", 1 - m / r, b / 1048576}'
}

latency() { taskset -c 1 /usr/bin/python3 "$ROOT/bench/cache_replay.py" latency "$1" "$2" "$OPORT" 200; }

log "load before: $(uptime)"
DIRECT=$(latency "$OPORT" reverse)

log "Pigeon"
start_pigeon
P_REV_HITS=$(hits "$RPORT" reverse)
P_SITE_HITS=$(hits "$HPORT" reverse)
P_FWD_HITS=$(hits "$PPORT" forward)
P_MISS=$(latency "$PPORT" forward)
stop_pid pigeond "$PIGEON_PID"; start_pigeon
P_ZIPF_F=$(zipf "$PPORT" forward)
stop_pid pigeond "$PIGEON_PID"; start_pigeon
P_ZIPF_R=$(zipf "$RPORT" reverse)
stop_pid pigeond "$PIGEON_PID"; start_pigeon lfu
P_ZIPF_LFU=$(zipf "$PPORT" forward)
stop_pid pigeond "$PIGEON_PID"

log "Varnish"
start_varnish
V_HITS=$(hits "$VPORT" reverse)
V_MISS=$(latency "$VPORT" reverse)
stop_pid varnishd "$VARNISH_PID"; start_varnish
V_ZIPF=$(zipf "$VPORT" reverse)
stop_pid varnishd "$VARNISH_PID"

log "Squid"
start_squid
S_HITS=$(hits "$SPORT" forward)
S_MISS=$(latency "$SPORT" forward)
stop_pid squid "$SQUID_PID"
rm -f "$DIR/squid.pid"; start_squid
S_ZIPF=$(zipf "$SPORT" forward)
stop_pid squid "$SQUID_PID"

LOAD=$(uptime | sed 's/.*load average: //')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
over() { awk -v a="$1" -v d="$DIRECT" 'BEGIN { printf "%.2f", a - d }'; }
echo "Web cache benchmark (load average after: $LOAD; caches on CPU 0, nice -15; ${DUR}s wrk runs)"
printf '%-34s %12s %12s %12s %12s\n' "" "Pigeon rev" "Varnish" "Pigeon fwd" "Squid"
printf '%-34s %12s %12s %12s %12s\n' "hits/s (1 KiB, wrk -c 50)" "$P_REV_HITS" "$V_HITS" \
    "$P_FWD_HITS" "$S_HITS"
printf '%-34s %12s %12s %12s %12s\n' "miss: median ms over the origin's" "-" "$(over "$V_MISS")" \
    "$(over "$P_MISS")" "$(over "$S_MISS")"
printf '%-34s %12s %12s %12s %12s\n' "zipf hit ratio" "${P_ZIPF_R% *}" "${V_ZIPF% *}" \
    "${P_ZIPF_F% *}" "${S_ZIPF% *}"
printf '%-34s %12s %12s %12s %12s\n' "zipf origin MiB" "${P_ZIPF_R#* }" "${V_ZIPF#* }" \
    "${P_ZIPF_F#* }" "${S_ZIPF#* }"
echo "Pigeon [http] proxy_to site: hits/s $P_SITE_HITS; Pigeon fwd policy = lfu: zipf hit ratio ${P_ZIPF_LFU% *}, origin MiB ${P_ZIPF_LFU#* }"
echo "origin direct median: $DIRECT ms; $REQS replay requests over $OBJS x 16 KiB, budget ${BUDGET_MB} MiB"
echo "ratios: hits Pigeon/Varnish $(ratio "$P_REV_HITS" "$V_HITS"), Pigeon/Squid $(ratio "$P_FWD_HITS" "$S_HITS")"
