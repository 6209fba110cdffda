#!/usr/bin/env bash
# The lecture notes' Web cache example, measured: an institutional network whose access link
# to the Internet runs at 15 Mbps, browsers asking 15 objects of 1 Mbit per second, with and
# without an institutional cache whose hit rate is 0.4 (Kurose & Ross §2.2.5: the access link
# runs at 100% without the cache, at 60% with it).
#
# Two network namespaces joined by a veth pair: "institution" (the clients, and Pigeon's
# [proxy] as the institutional cache) and "internet" (nginx as the origin servers). The veth
# pair is the access link: tc limits each direction to 15 Mbit/s. Beyond it, the "Internet
# delay" (the lecture's 2 s for a request and its answer): netem's delay where the kernel has
# sch_netem; else a token bucket filter for the rate and a relay in front of the origin
# servers (bench/cache_link.py delay) that holds the data DELAY ms each way (TCP over the
# access link then sees the link's own round trip; the handshake is not delayed).
# The load (bench/cache_link.py, inside the institution) is an open-loop Poisson stream of
# RATE requests/s for DUR seconds, 1 Mbit (125,000 octets) each: with probability HIT for one
# of 20 popular objects the cache already holds (fetched once before the run), else for an
# object asked for only once. Run 1 goes straight to the origin, run 2 through the cache.
# Printed: the hit ratio seen, the access link's utilisation (octets that crossed it towards
# the institution, over DUR × 15 Mbit/s), the median and 90th percentile response time; the
# per-request times go to a JSON file, and bench/cache_link.py --plot draws them (SVG).
#
# usage: bench/cache_link.sh [-d SECONDS] [-D MS] [-o OUT.svg] [-B]
#   -d seconds per run (env BENCH_DUR, default 30); -D the one-way Internet delay in ms
#   (default 1000: 2 s round trip, as in the lecture notes; 0: none); -o the plot (default
#   docs/img/cache_link.svg); -B use build/release as it is. Needs root (namespaces, tc).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${BENCH_DUR:-30}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
OUT=$ROOT/docs/img/cache_link.svg
RATE=15
HIT=0.4
DELAY=1000
while getopts "d:D:o:Bh" opt; do
    case $opt in
        d) DUR=$OPTARG ;;
        D) DELAY=$OPTARG ;;
        o) OUT=$OPTARG ;;
        B) NO_BUILD=1 ;;
        *) sed -n '2,25p' "$0"; exit 2 ;;
    esac
done
source "$ROOT/bench/lib/common.sh"
for tool in ip tc nginx; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, tc)"
build_pigeon
PIGEOND=$ROOT/build/release/pigeond
DIR=$(mktemp -d "$BASE/pigeon-cache-link.XXXXXX")
INST=pgc-inst-$$
NET=pgc-net-$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do stop_pid link "$p"; done
    ip netns del "$INST" 2>/dev/null || true
    ip netns del "$NET" 2>/dev/null || true
    rm -rf "$DIR"
}
trap cleanup EXIT
chmod 755 "$DIR"

# ---- the two networks and the access link ----
ip netns add "$INST"
ip netns add "$NET"
ip -n "$INST" link add "vi$$" type veth peer name "vn$$" netns "$NET"
ip -n "$INST" addr add 10.15.0.1/24 dev "vi$$"
ip -n "$NET" addr add 10.15.0.2/24 dev "vn$$"
for ns in "$INST" "$NET"; do ip -n "$ns" link set lo up; done
ip -n "$INST" link set "vi$$" up
ip -n "$NET" link set "vn$$" up
# 15 Mbit/s each way, with a queue that holds 5 s of traffic (the router's buffer), and the
# Internet delay beyond the access link: netem does both where the kernel has it.
ORIGIN_LISTEN=10.15.0.2:80
if ip netns exec "$NET" tc qdisc add dev "vn$$" root netem rate 15mbit delay "${DELAY}ms" \
    limit 100000 2>/dev/null; then
    ip netns exec "$INST" tc qdisc add dev "vi$$" root netem rate 15mbit delay "${DELAY}ms" \
        limit 100000
    SHAPER="netem rate 15mbit delay ${DELAY}ms each way"
else
    for end in "$NET vn$$" "$INST vi$$"; do
        set -- $end
        ip netns exec "$1" tc qdisc add dev "$2" root tbf rate 15mbit burst 32kbit latency 5s
    done
    SHAPER="tbf rate 15mbit, 5 s queue, each way (no sch_netem in this kernel)"
    if [[ $DELAY != 0 ]]; then # nginx behind a relay that holds the data DELAY ms each way
        ORIGIN_LISTEN=127.0.0.1:8080
        ip netns exec "$NET" nice -n -15 /usr/bin/python3 "$ROOT/bench/cache_link.py" delay \
            --listen 10.15.0.2:80 --to "$ORIGIN_LISTEN" --ms "$DELAY" & PIDS+=($!)
        SHAPER="$SHAPER; Internet delay ${DELAY} ms each way by a relay before the origin"
    fi
fi
log "access link: $SHAPER"

# ---- the origin servers: nginx in the Internet, objects of 1 Mbit, max-age=3600 ----
mkdir -p "$DIR/www/hot" "$DIR/www/cold"
head -c 125000 /dev/urandom >"$DIR/one"
for i in $(seq 0 19); do cp "$DIR/one" "$DIR/www/hot/$i"; done
COLD=$(python3 -c "print(int($RATE * $DUR * 2) + 200)")
for i in $(seq 0 "$COLD"); do ln "$DIR/one" "$DIR/www/cold/$i" 2>/dev/null || cp "$DIR/one" "$DIR/www/cold/$i"; done
chmod -R a+rX "$DIR/www"
cat >"$DIR/nginx.conf" <<NGX
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen $ORIGIN_LISTEN;
        root $DIR/www;
        add_header Cache-Control "max-age=3600";
        default_type application/octet-stream;
    }
}
NGX
ip netns exec "$NET" nginx -c "$DIR/nginx.conf" -g 'daemon off;' & PIDS+=($!)

# ---- the institutional cache: Pigeon's forward proxy ----
mkdir -p "$DIR/pigeon"
cat >"$DIR/pigeon/pigeon.conf" <<CONF
[server]
hostname = cache.institution.example
primary_domain = institution.example
data_dir = $DIR/pigeon/data
workers = 1
log_level = warn
[proxy]
listen = 127.0.0.1:3128
allow_origins = 10.15.0.0/24
cache_disk = 1G
max_connections_per_ip = 4000
CONF
ip netns exec "$INST" nice -n -15 "$PIGEOND" -c "$DIR/pigeon/pigeon.conf" 2>"$DIR/pigeon.log" &
PIDS+=($!)
for _ in $(seq 1 100); do
    ip netns exec "$INST" ss -Htln "sport = :3128" | grep -q . &&
        ip netns exec "$NET" ss -Htln "sport = :80" | grep -q . &&
        ip netns exec "$NET" ss -Htln "sport = :${ORIGIN_LISTEN##*:}" | grep -q . && break
    sleep 0.1
done

log "load before: $(uptime)"
run() { # NAME [--proxy URL]
    local name=$1
    shift
    ip netns exec "$INST" nice -n -15 /usr/bin/python3 "$ROOT/bench/cache_link.py" run \
        --origin http://10.15.0.2 --dev "vi$$" --rate "$RATE" --hit "$HIT" --duration "$DUR" \
        --link-mbps 15 --name "$name" --out "$DIR/$name.json" "$@"
}
run "without cache"
run "with cache" --proxy http://127.0.0.1:3128
log "load after: $(uptime)"
mkdir -p "$(dirname "$OUT")"
/usr/bin/python3 "$ROOT/bench/cache_link.py" plot --out "$OUT" --title \
    "Response time, 15 Mbps access link, ${DELAY} ms each way, 15 requests/s of 1 Mbit" \
    "$DIR/without cache.json" "$DIR/with cache.json"
/usr/bin/python3 "$ROOT/bench/cache_link.py" table "$DIR/without cache.json" "$DIR/with cache.json"
log "plot: $OUT"
