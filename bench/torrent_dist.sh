#!/usr/bin/env bash
# The lecture notes' P2P experiment: the time to give a file of F bytes to N leechers, each
# on its own link shaped with tc (tbf) in its own network namespace, all joined by a bridge,
# set beside the lower bound  max(F/u_s, F/d_min, N*F/(u_s + sum u_i)).  The seed is Pigeon
# (pigeond [torrent]), Transmission (transmission-daemon 3.00) or libtorrent, one after the
# other, on the same links; the leechers are libtorrent peers (tests/integration/lt_peer.py)
# that keep seeding until the last one is done, as the bound assumes. The tracker is Pigeon's
# UDP tracker in the bridge's namespace. Prints one row per (seed, N): the time, the bound,
# and time/bound. Run as root (namespaces, tc).
#
# usage: bench/torrent_dist.sh [-F MB] [-N "2 4 8 16"] [-u SEED_MBIT] [-p PEER_UP_MBIT]
#                              [-d PEER_DOWN_MBIT] [-s "pigeon transmission libtorrent"] [-B]
#                              [-T TIMELINE_DIR] [-c CONGESTION_CONTROL]
#   defaults: F 32 MB, N "2 4 8", u_s 20 Mbit/s, u_i 5 Mbit/s, d_i 40 Mbit/s (the issue's
#   200 MB and N = 16 are `-F 200 -N "2 4 8 16"`: about an hour on a quiet machine)
#   -T DIR keeps each leecher's once-a-second timeline (progress, its upload and download,
#   what it gets from the seed, who unchokes it) as DIR/SEED-nN-I.log; bench/torrent_timeline.py
#   sums one run's timelines up.
#   -c: the TCP congestion control of every namespace (default cubic, Debian's kernel default),
#   so the host's own default (bbr on some machines) does not decide the figures. With bbr a
#   flow's window is about twice its smallest round trip's worth of data, and the leechers'
#   acknowledgements queue behind their saturated 5 Mbit/s uploads, so each flow from the seed
#   is held to a few Mbit/s and the seed's link fills only with many flows at once.
#   env BENCH_PEX=yes: Pigeon's seed with PEX on (default no, as Transmission's arm).
#   env BENCH_SEED_LOG=debug: Pigeon's seed logs each share window (kept with -T);
#   BENCH_SEED_SLOTS=K: its [torrent] seed_slots.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
FMB=${BENCH_F:-32}
NLIST=${BENCH_N:-"2 4 8"}
US=${BENCH_US:-20}
UI=${BENCH_UI:-5}
DI=${BENCH_DI:-40}
SEEDS=${BENCH_SEEDS:-"pigeon transmission libtorrent"}
NO_BUILD=${BENCH_NO_BUILD:-0}
TIMELINE=""
CC=${BENCH_CC:-cubic}
# Pigeon's seed: [torrent] pex. Off by default, as Transmission's arm has always run
# ("pex-enabled": false), so that both seeds are measured alike. In session 11 three N = 2
# runs of each gave one stall of the two libtorrent leechers' connection with PEX on and none
# with it off (docs/benchmarks.md).
PEX=${BENCH_PEX:-no}
# Pigeon's seed: its log level (debug: each share window, torrent/service/peer_sharelog.c)
# and, if set, [torrent] seed_slots (default the daemon's own).
SEED_LOG=${BENCH_SEED_LOG:-info}
SEED_SLOTS=${BENCH_SEED_SLOTS:-}
while getopts "F:N:u:p:d:s:BT:c:" o; do
    case $o in
    F) FMB=$OPTARG ;;
    N) NLIST=$OPTARG ;;
    u) US=$OPTARG ;;
    p) UI=$OPTARG ;;
    d) DI=$OPTARG ;;
    s) SEEDS=$OPTARG ;;
    B) NO_BUILD=1 ;;
    T) TIMELINE=$OPTARG ;;
    c) CC=$OPTARG ;;
    *) die "usage: bench/torrent_dist.sh [-F MB] [-N LIST] [-u MBIT] [-p MBIT] [-d MBIT] [-s SEEDS] [-B] [-T DIR] [-c CC]" ;;
    esac
done
[[ $(id -u) == 0 ]] || die "run as root (network namespaces, tc)"
for c in ip tc mktorrent transmission-daemon transmission-remote; do
    command -v "$c" >/dev/null || die "$c is missing"
done
/usr/bin/python3 -c 'import libtorrent' || die "python3-libtorrent is missing"
build_pigeon
BASE=$(mktemp -d /var/tmp/pigeon-bench-dist.XXXXXX)
P=pgd$$ # namespace prefix
PIDS=()
NODES=()
LT=$ROOT/tests/integration/lt_peer.py
cleanup() {
    local p nd
    for p in "${PIDS[@]}"; do stop_pid peer "$p"; done
    PIDS=()
    for nd in "${NODES[@]}"; do ip netns del "$P$nd" 2>/dev/null || true; done
    ip netns del "${P}hub" 2>/dev/null || true
}
# A namespace may only pick a congestion control the host allows: add CC to the allowed list
# for the run (nobody's default changes), restored at exit.
ALLOWED=$(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control)
grep -qw "$CC" /proc/sys/net/ipv4/tcp_available_congestion_control || modprobe "tcp_$CC" ||
    die "no TCP congestion control $CC"
grep -qw "$CC" <<<"$ALLOWED" || sysctl -qw net.ipv4.tcp_allowed_congestion_control="$ALLOWED $CC"
trap 'cleanup; rm -rf "$BASE"; sysctl -qw net.ipv4.tcp_allowed_congestion_control="$ALLOWED"' EXIT
inns() { local n=$1; shift; ip netns exec "$P$n" "$@"; }
# Background processes are started with `ip netns exec ... &` directly, never through inns:
# $! must be the process itself (ip execs the command), or stop_pid would kill a subshell
# and leave the peer running into the next run.

# node NAME INDEX UP_MBIT DOWN_MBIT: a namespace on the bridge at 10.77.0.INDEX, its upload
# shaped on its side of the veth, its download on the bridge's side.
node() {
    local n=$1 i=$2 up=$3 down=$4
    ip netns add "$P$n"
    NODES+=("$n")
    ip link add "v$P$i" type veth peer name "h$P$i"
    ip link set "v$P$i" netns "$P$n"
    ip link set "h$P$i" netns "${P}hub"
    inns "$n" ip link set lo up
    inns "$n" sysctl -qw net.ipv4.tcp_congestion_control="$CC"
    inns "$n" ip addr add "10.77.0.$i/24" dev "v$P$i"
    inns "$n" ip link set "v$P$i" up
    inns hub ip link set "h$P$i" master br0 up
    inns "$n" tc qdisc add dev "v$P$i" root tbf rate "${up}mbit" burst 64kb latency 100ms
    inns hub tc qdisc add dev "h$P$i" root tbf rate "${down}mbit" burst 64kb latency 100ms
}

network() { # N
    ip netns add "${P}hub"
    inns hub ip link set lo up
    inns hub ip link add br0 type bridge
    inns hub ip addr add 10.77.0.254/24 dev br0
    inns hub ip link set br0 up
    node seed 1 "$US" 1000
    for i in $(seq 1 "$1"); do node "l$i" $((10 + i)) "$UI" "$DI"; done
}

pigeon_conf() { # DIR EXTRA-SECTIONS [LOG_LEVEL]
    mkdir -p "$1/data"
    cat >"$1/pigeon.conf" <<CONF
[server]
hostname = bench.example
primary_domain = bench.example
data_dir = $1/data
workers = 1
log_level = ${3:-info}
$2
CONF
}

start_tracker() {
    rm -rf "$BASE/tracker"
    pigeon_conf "$BASE/tracker" "[tracker]
http = no
listen = 10.77.0.254:6969
interval = 20
min_interval = 5
flood_rate = 0"
    ip netns exec "${P}hub" "$ROOT/build/release/pigeond" -c "$BASE/tracker/pigeon.conf" \
        >"$BASE/tracker/log" 2>&1 &
    PIDS+=($!)
}

start_seed() { # KIND TORRENT
    local kind=$1 t=$2
    case $kind in
    pigeon)
        rm -rf "$BASE/pigeon" # a fresh data directory: the torrent is added anew each run
        pigeon_conf "$BASE/pigeon" "[torrent]
listen = 10.77.0.1:6881
dir = $BASE/src
pex = $PEX${SEED_SLOTS:+
seed_slots = $SEED_SLOTS}" "$SEED_LOG"
        ip netns exec "${P}seed" "$ROOT/build/release/pigeond" -c "$BASE/pigeon/pigeon.conf" \
            >"$BASE/pigeon/log" 2>&1 &
        PIDS+=($!)
        until inns seed "$ROOT/build/release/pigeon" -c "$BASE/pigeon/pigeon.conf" torrent list \
            >/dev/null 2>&1; do sleep 0.2; done
        inns seed "$ROOT/build/release/pigeon" -c "$BASE/pigeon/pigeon.conf" torrent add "$t" \
            --dir "$BASE/src" >/dev/null
        until inns seed "$ROOT/build/release/pigeon" -c "$BASE/pigeon/pigeon.conf" torrent list |
            grep -q ' seeding '; do sleep 0.2; done ;;
    transmission)
        rm -rf "$BASE/tr"
        mkdir -p "$BASE/tr"
        cat >"$BASE/tr/settings.json" <<JSON
{"rpc-port": 9091, "rpc-bind-address": "127.0.0.1", "rpc-authentication-required": false,
 "peer-port": 6881, "peer-port-random-on-start": false, "bind-address-ipv4": "10.77.0.1",
 "dht-enabled": false, "lpd-enabled": false, "utp-enabled": false, "pex-enabled": false,
 "port-forwarding-enabled": false, "encryption": 1, "ratio-limit-enabled": false,
 "speed-limit-up-enabled": false, "upload-slots-per-torrent": 14,
 "download-dir": "$BASE/src"}
JSON
        ip netns exec "${P}seed" transmission-daemon -f -g "$BASE/tr" >"$BASE/tr/log" 2>&1 &
        PIDS+=($!)
        until inns seed transmission-remote 127.0.0.1:9091 -l >/dev/null 2>&1; do sleep 0.2; done
        inns seed transmission-remote 127.0.0.1:9091 -a "$t" -w "$BASE/src" >/dev/null
        # verified and complete (a seed without peers shows as "Idle", not "Seeding")
        until inns seed transmission-remote 127.0.0.1:9091 -t all -i |
            grep -q 'Percent Done: 100%'; do sleep 0.2; done ;;
    libtorrent)
        ip netns exec "${P}seed" /usr/bin/python3 "$LT" "$t" "$BASE/src" 6881 --seed --host 10.77.0.1 \
            >"$BASE/ltseed.log" 2>&1 &
        PIDS+=($!)
        until grep -q finished "$BASE/ltseed.log"; do sleep 0.2; done ;;
    esac
}

run_one() { # KIND N: the distribution time in RESULT
    local kind=$1 n=$2
    network "$n"
    start_tracker
    rm -rf "$BASE/dl" && mkdir -p "$BASE/dl"
    start_seed "$kind" "$BASE/f.torrent"
    local t0 i tl=()
    [[ -z $TIMELINE ]] || tl=(--timeline 10.77.0.1)
    t0=$(now)
    for i in $(seq 1 "$n"); do
        mkdir -p "$BASE/dl/$i"
        ip netns exec "${P}l$i" /usr/bin/python3 "$LT" "$BASE/f.torrent" "$BASE/dl/$i" 6881 --seed \
            --host "10.77.0.$((10 + i))" "${tl[@]}" >"$BASE/dl/$i.log" 2>&1 &
        PIDS+=($!)
    done
    local deadline=$(($(date +%s) + 3600))
    for i in $(seq 1 "$n"); do
        until grep -q finished "$BASE/dl/$i.log"; do
            (($(date +%s) < deadline)) || die "$kind N=$n: leecher $i never finished"
            sleep 0.1
        done
    done
    RESULT=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    cleanup
    if [[ -n $TIMELINE ]]; then
        mkdir -p "$TIMELINE"
        for i in $(seq 1 "$n"); do cp "$BASE/dl/$i.log" "$TIMELINE/$kind-n$n-$i.log"; done
        [[ $kind != pigeon ]] || cp "$BASE/pigeon/log" "$TIMELINE/pigeon-n$n-seed.txt"
    fi
    NODES=()
}

# the file and its torrent (256 KiB pieces, as the notes say)
mkdir -p "$BASE/src"
head -c $((FMB << 20)) /dev/urandom >"$BASE/src/f.bin"
mktorrent -l 18 -a udp://10.77.0.254:6969/announce -o "$BASE/f.torrent" "$BASE/src/f.bin" >/dev/null
log "F = $FMB MiB, u_s = $US Mbit/s, u_i = $UI Mbit/s, d_i = $DI Mbit/s, TCP $CC"
printf "%-13s %4s %10s %10s %10s\n" seed N "time (s)" "bound (s)" "time/bound"
for n in $NLIST; do
    bound=$(awk -v f="$FMB" -v us="$US" -v ui="$UI" -v di="$DI" -v n="$n" 'BEGIN {
        F = f * 8 * 1048576 / 1e6; a = F / us; b = F / di; c = n * F / (us + n * ui)
        m = a; if (b > m) m = b; if (c > m) m = c; printf "%.1f", m }')
    for kind in $SEEDS; do
        run_one "$kind" "$n"
        t=$RESULT
        printf "%-13s %4s %10s %10s %10.2f\n" "$kind" "$n" "$t" "$bound" \
            "$(awk -v t="$t" -v b="$bound" 'BEGIN { print t / b }')"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
