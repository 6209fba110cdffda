#!/usr/bin/env bash
# BitTorrent tracker benchmark: Pigeon's tracker against opentracker (Debian), in one run,
# on loopback, over HTTP and over UDP (BEP 15). wrk sends HTTP announces, bench/udpannounce.c
# UDP ones (8 sockets, 16 in flight each, connection ids renewed), for 64 torrents from ports
# chosen at random (a new peer or a re-announce each time, as a busy tracker sees), compact
# peer lists of 50; each tracker is pinned to CPU 0 under nice -n -15, the load to CPU 1.
# Prints announces/s of each and the ratios. Pigeon runs one worker, [tracker] flood limit off
# (the load comes from one address) and max_peers at its maximum: opentracker keeps every
# peer, and the load makes up to 64,512 per torrent (Pigeon's default 10,000 would leave it
# less to store). udpannounce reports error replies on stderr.
#
# The distribution time of a file to N leechers on tc-shaped links against the lecture's
# bound, Pigeon vs Transmission as the seed, is bench/torrent_dist.sh.
#
# usage: bench/torrent.sh [-d SECONDS] [-c CONNECTIONS] [-B]
#   -d  seconds per run   (env BENCH_D, default 10)
#   -c  wrk connections   (env BENCH_C, default 50)
#   -B  don't run make: use build/release (env BENCH_NO_BUILD=1)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
D=${BENCH_D:-10}
C=${BENCH_C:-50}
NO_BUILD=${BENCH_NO_BUILD:-0}
while getopts "d:c:B" o; do
    case $o in
    d) D=$OPTARG ;;
    c) C=$OPTARG ;;
    B) NO_BUILD=1 ;;
    *) die "usage: bench/torrent.sh [-d SECONDS] [-c CONNECTIONS] [-B]" ;;
    esac
done
command -v wrk >/dev/null || die "wrk is missing (apt-get install wrk)"
command -v opentracker >/dev/null || die "opentracker is missing (apt-get install opentracker)"
build_pigeon
BASE=$(mktemp -d /var/tmp/pigeon-bench-torrent.XXXXXX)
cc -O2 -o "$BASE/udpannounce" "$ROOT/bench/udpannounce.c" || die "cannot build bench/udpannounce.c"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do stop_pid server "$p"; done
    rm -rf "$BASE"
}
trap cleanup EXIT

cat >"$BASE/announce.lua" <<'LUA'
-- a random torrent of 64 and a random port: each request one peer's announce
math.randomseed(os.time())
local function hash(i)
  return string.format("%%%02x", i) .. string.rep("%11", 19)
end
request = function()
  local t = math.random(0, 63)
  local port = math.random(1024, 65535)
  local path = "/announce?info_hash=" .. hash(t) .. "&peer_id=-WR0001-" ..
    string.format("%012d", port) .. "&port=" .. port ..
    "&uploaded=0&downloaded=0&left=" .. (port % 2) .. "&compact=1&numwant=50"
  return wrk.format("GET", path)
end
LUA

run_wrk() { # URL -> announces/s
    nice -n -15 taskset -c 1 wrk -t1 -c"$C" -d"${D}s" -s "$BASE/announce.lua" "$1" |
        awk '/Requests\/sec/ {print $2}'
}

run_udp() { # PORT -> announces/s
    nice -n -15 taskset -c 1 "$BASE/udpannounce" "$1" "$D" 8 16
}

# Pigeon
PP=$(free_port)
UP=$(free_port)
mkdir -p "$BASE/pigeon/data" "$BASE/pigeon/www"
cat >"$BASE/pigeon/pigeon.conf" <<CONF
[server]
hostname = bench.example
primary_domain = bench.example
data_dir = $BASE/pigeon/data
workers = 1
log_level = warn
[http]
[http bench]
name = localhost 127.0.0.1
listen = 127.0.0.1:$PP
root = $BASE/pigeon/www
[tracker]
http = yes
listen = 127.0.0.1:$UP
flood_rate = 0
max_peers = 1000000
CONF
nice -n -15 taskset -c 0 "$ROOT/build/release/pigeond" -c "$BASE/pigeon/pigeon.conf" \
    >"$BASE/pigeon/log" 2>&1 &
PIDS+=($!)
wait_port "$PP" 30 || { cat "$BASE/pigeon/log" >&2; die "pigeond did not start"; }
log "Pigeon: $D s of announces, $C connections"
P_RATE=$(run_wrk "http://127.0.0.1:$PP/announce")
log "Pigeon: $D s of UDP announces"
P_UDP=$(run_udp "$UP")

# opentracker
OP=$(free_port)
mkdir -p "$BASE/ot" # its chroot; it drops root for nobody itself
(cd "$BASE" && exec nice -n -15 taskset -c 0 opentracker -i 127.0.0.1 -p "$OP" -P "$OP" \
    -d "$BASE/ot" >"$BASE/opentracker.log" 2>&1) &
PIDS+=($!)
wait_port "$OP" 30 || { cat "$BASE/opentracker.log" >&2; die "opentracker did not start"; }
log "opentracker: $D s of announces, $C connections"
O_RATE=$(run_wrk "http://127.0.0.1:$OP/announce")
log "opentracker: $D s of UDP announces"
O_UDP=$(run_udp "$OP")

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
printf "%-12s %14s %14s\n" tracker "HTTP ann./s" "UDP ann./s" \
    pigeon "$P_RATE" "$P_UDP" opentracker "$O_RATE" "$O_UDP"
awk -v p="$P_RATE" -v o="$O_RATE" -v pu="$P_UDP" -v ou="$O_UDP" 'BEGIN {
    if (o > 0) printf "ratio pigeon/opentracker, HTTP: %.2f\n", p / o
    if (ou > 0) printf "ratio pigeon/opentracker, UDP: %.2f\n", pu / ou }'
