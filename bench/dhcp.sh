#!/bin/sh
# bench/dhcp.sh — DHCPv4 throughput: Kea's perfdhcp against pigeond, kea-dhcp4 (memfile lease
# file) and dnsmasq, one after the other, on the same veth pair (server side here, perfdhcp in
# a network namespace of its own). For each server a rate sweep: perfdhcp offers RATES in
# turn (rising), PERIOD seconds each, and the sweep stops at the first rate where the server
# itself lost MAXDROP % or more of the requests. A run counts when under MAXDROP % of its
# exchanges were lost; the figure is the most exchanges per second completed in a run that
# counts (perfdhcp cannot always send what is offered: then fewer complete, none lost).
# Two sweeps per server:
#   dora   4-way exchanges (DISCOVER, OFFER, REQUEST, ACK); lost = DISCOVERs sent that did
#          not end in an ACK (an OFFER or an ACK missing, or later than perfdhcp's 1 s);
#   renew  the same DORA rate plus renewals at that rate (perfdhcp -f RATE: unicast-style
#          REQUESTs for leases it holds); lost = renewal REQUESTs without their ACK.
# perfdhcp waits EXIT_WAIT (0.5 s) after the period for the last replies (-W). Its sockets
# get an 8 MiB receive buffer (bench/dhcp_rcvbuf.c, preloaded; CLIENT_RCVBUF=0: the default),
# and every run says how many replies its socket still dropped.
# Prints every run, then per server its best runs (all losses counted, and the server's
# own only), and Pigeon's ratios.
# Run as root from the source tree after `make`: sh bench/dhcp.sh
# RATES (default "500 1000 1250 1500 1750 2000 2500 3000 4000 6000 8000"), PERIOD (5 s), MAXDROP (1),
# CLIENTS (20000 simulated MACs), SERVERS (default "pigeon kea dnsmasq"), PIGEON_LEASE_DIR
# (where leases.db goes: e.g. /dev/shm/x to see what the fsync of each batch's COMMIT
# costs), KEEP=1 keeps the outputs.
# Every server and perfdhcp run under nice -n -15; the server on core 0, perfdhcp on core 1.
# With the kernel's autogroups (kernel.sched_autogroup_enabled=1) nice counts only within a
# session: against the other sessions on a shared machine (builds, test runs) the server and
# perfdhcp would each get one session's share of their core, and stall for tens of ms at a
# time. So each runs in a cpu cgroup made for the run (autogroups do not apply there) with
# the weight nice -15 stands for (cpu.shares 29154): the server's threads share it as one.
# BENCH_CGROUP=0 (or an unwritable /sys/fs/cgroup/cpu) turns that off.
set -eu
BUILD=${PIGEON_BUILD:-build/release}
RATES=${RATES:-500 1000 1250 1500 1750 2000 2500 3000 4000 6000 8000}
PERIOD=${PERIOD:-5}
MAXDROP=${MAXDROP:-1}
EXIT_WAIT=${EXIT_WAIT:-500000}
CLIENTS=${CLIENTS:-20000}
# Lease caching (a client asking again for its lease early gets it as it stands, nothing
# written): CACHE=25 gives Pigeon its default cache_threshold and Kea the same cache-threshold
# (0.25; Kea's default is off), so both run alike; CACHE=0 turns it off on both.
CACHE=${CACHE:-25}
NS=pgdhcpbench$$
SIF=pgb0
CIF=pgb1
tmp=$(mktemp -d /tmp/pigeon-dhcp-bench.XXXXXX)
srv_pid=

CG=
if [ "${BENCH_CGROUP:-1}" != 0 ] && [ -w /sys/fs/cgroup/cpu ]; then
    CG=/sys/fs/cgroup/cpu/pigeon-dhcp-bench-$$
    mkdir -p "$CG/server" "$CG/client"
    echo 29154 >"$CG/server/cpu.shares"
    echo 29154 >"$CG/client/cpu.shares"
fi
# in_cgroup server|client PID
in_cgroup() { [ -z "$CG" ] || echo "$2" >"$CG/$1/cgroup.procs"; }

cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    ip link del $SIF 2>/dev/null || true
    ip netns del $NS 2>/dev/null || true
    if [ -n "$CG" ]; then
        rmdir "$CG/server" "$CG/client" "$CG" 2>/dev/null || true
    fi
    [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# perfdhcp's UDP sockets get an 8 MiB receive buffer (bench/dhcp_rcvbuf.c says why) unless
# CLIENT_RCVBUF=0
preload=
if [ "${CLIENT_RCVBUF:-1}" != 0 ]; then
    here=$(cd "$(dirname "$0")" && pwd)
    cc -O2 -shared -fPIC -o "$tmp/dhcp_rcvbuf.so" "$here/dhcp_rcvbuf.c" -ldl ||
        { echo "dhcp bench: cannot build bench/dhcp_rcvbuf.c" >&2; exit 1; }
    preload="LD_PRELOAD=$tmp/dhcp_rcvbuf.so"
fi

ip netns add $NS
ip link add $SIF type veth peer name $CIF netns $NS
ip addr add 10.78.0.1/16 dev $SIF
ip link set $SIF up
ip netns exec $NS ip link set lo up
ip netns exec $NS ip addr add 10.78.0.2/16 dev $CIF
ip netns exec $NS ip link set $CIF up

wait_udp67() { # the server listens on port 67
    i=0
    until ss -Hlun 'sport = :67' | grep -q .; do
        i=$((i + 1))
        [ $i -gt 300 ] && { echo "dhcp bench: $1 did not start" >&2; exit 1; }
        sleep 0.1
    done
}

stop_server() {
    kill "$srv_pid" 2>/dev/null || true
    wait "$srv_pid" 2>/dev/null || true
    srv_pid=
    i=0
    while ss -Hlun 'sport = :67' | grep -q . && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
}

# pstat FILE EXCHANGE: "sent received" of perfdhcp's statistics block for EXCHANGE
pstat() {
    awk -v x="$2" 'index($0, "Statistics for: " x "***") {f=1}
        f && /^sent packets/ {s=$3} f && /^received packets/ {print s, $3; exit}' "$1"
}

# Datagrams the kernel dropped for a full per-CPU input backlog (net.core.netdev_max_backlog):
# a burst queued on the veth faster than the softirq delivers it, lost before any socket.
# Machine-wide (the second column of /proc/net/softnet_stat, summed over the CPUs).
backlog_drops() {
    n=0
    while read -r _ d _; do n=$((n + 0x$d)); done </proc/net/softnet_stat
    echo $n
}

# perf NAME MODE RATE: prints "NAME MODE RATE exchanges/s lost% client-rcvbuf-drops
# server-lost% backlog-drops" (MODE dora or renew)
perf() {
    extra=
    [ "$2" = renew ] && extra="-f $3"
    out=$tmp/$1.$2.$3.out
    ip netns exec $NS nstat -n 2>/dev/null || true
    backlog0=$(backlog_drops)
    # shellcheck disable=SC2086
    sh -c '[ -z "$1" ] || echo $$ >"$1"; shift; exec "$@"' in_cg "${CG:+$CG/client/cgroup.procs}" \
        ip netns exec $NS env $preload nice -n -15 taskset -c 1 perfdhcp -4 -l $CIF -r "$3" \
        -R $CLIENTS -p $PERIOD -W $EXIT_WAIT $extra >"$out" 2>&1 || true
    if [ "$2" = renew ]; then
        set -- "$1" "$2" "$3" $(pstat "$out" "REQUEST-ACK (renewal)")
        sent=${4:-0} got=${5:-0}
    else
        set -- "$1" "$2" "$3" $(pstat "$out" "DISCOVER-OFFER") $(pstat "$out" "REQUEST-ACK")
        sent=${4:-0} got=${7:-0}
    fi
    # datagrams the client's kernel dropped for a full socket buffer (perfdhcp not reading fast
    # enough): a loss that is not the server's
    rcvbuf=$(ip netns exec $NS nstat -z 2>/dev/null | awk '$1 == "UdpRcvbufErrors" {print $2}')
    backlog=$(($(backlog_drops) - backlog0))
    per_s=$(awk -v r="$got" -v p="$PERIOD" 'BEGIN{printf "%.0f", r / p}')
    lost=$(awk -v s="$sent" -v r="$got" 'BEGIN{if (s > 0) printf "%.2f", 100 * (s - r) / s; else print "100"}')
    # the server's own losses, per datagram: requests of every kind sent, less the replies
    # received and the replies the client's socket dropped
    srv=$(awk -v c="${rcvbuf:-0}" '/^sent packets/ {s += $3} /^received packets/ {r += $3}
        END {l = s - r - c; if (l < 0) l = 0; if (s > 0) printf "%.2f", 100 * l / s; else print "100"}' "$out")
    echo "$1 $2 $3 $per_s $lost ${rcvbuf:-0} $srv $backlog"
}

# sweep NAME MODE: offers RATES in turn, and goes on while the server's own losses (requests
# of every kind without a reply, less the replies the client's socket had no room for, per
# request sent) stay under MAXDROP %. Appends
# every run to $tmp/runs, and to $tmp/best the run with the most exchanges/s among those where
# perfdhcp lost under MAXDROP % in all ("all"), and among those where the server did
# ("server"): "NAME MODE all|server rate exchanges/s lost%" (rate 0 when none passed).
sweep() {
    best_all="$1 $2 all 0 0 -" best_srv="$1 $2 server 0 0 -"
    for r in $RATES; do
        line=$(perf "$1" "$2" "$r")
        echo "$line" >>"$tmp/runs"
        echo "  $line" >&2
        set -- $line
        b=$(echo "$best_all" | cut -d' ' -f5)
        awk -v l="$5" -v m="$MAXDROP" -v x="$4" -v b="$b" 'BEGIN{exit !(l < m && x > b)}' &&
            best_all="$1 $2 all $3 $4 $5"
        awk -v l="$7" -v m="$MAXDROP" 'BEGIN{exit !(l < m)}' || break
        b=$(echo "$best_srv" | cut -d' ' -f5)
        awk -v x="$4" -v b="$b" 'BEGIN{exit !(x > b)}' && best_srv="$1 $2 server $3 $4 $7"
        set -- "$1" "$2"
    done
    echo "$best_all" >>"$tmp/best"
    echo "$best_srv" >>"$tmp/best"
}

run_pigeon() {
    mkdir -p "$tmp/pigeon"
    cat >"$tmp/pigeon/pigeon.conf" <<CONF
[server]
hostname = bench.example
primary_domain = example.org
data_dir = $tmp/pigeon/data
log_level = warn
workers = 2

[dhcp]
interfaces = $SIF
lease_dir = ${PIGEON_LEASE_DIR:-$tmp/pigeon/leases}
ddns = no
rate_per_mac = 0
rate_per_relay = 0
cache_threshold = $CACHE

[dhcp-subnet 10.78.0.0/16]
interface = $SIF
pool = 10.78.1.0 - 10.78.255.254
router = 10.78.0.1
dns = 10.78.0.1
lease_time = 3600
CONF
    nice -n -15 taskset -c 0 "$BUILD/pigeond" -c "$tmp/pigeon/pigeon.conf" \
        >"$tmp/pigeon/log" 2>&1 &
    srv_pid=$!
    in_cgroup server $srv_pid
    wait_udp67 pigeond
}

run_kea() {
    mkdir -p "$tmp/kea"
    cat >"$tmp/kea/kea.json" <<CONF
{ "Dhcp4": {
    "interfaces-config": { "interfaces": [ "$SIF" ] },
    "lease-database": { "type": "memfile", "persist": true, "name": "$tmp/kea/leases.csv",
                        "lfc-interval": 0 },
    "valid-lifetime": 3600,
    "cache-threshold": $(awk -v c="$CACHE" 'BEGIN{printf "%.2f", c / 100}'),
    "subnet4": [ { "id": 1, "subnet": "10.78.0.0/16",
                   "pools": [ { "pool": "10.78.1.0 - 10.78.255.254" } ],
                   "option-data": [ { "name": "routers", "data": "10.78.0.1" },
                                    { "name": "domain-name-servers", "data": "10.78.0.1" } ] } ],
    "loggers": [ { "name": "kea-dhcp4", "severity": "WARN",
                   "output_options": [ { "output": "$tmp/kea/log" } ] } ]
} }
CONF
    KEA_PIDFILE_DIR=$tmp/kea KEA_LOCKFILE_DIR=$tmp/kea nice -n -15 taskset -c 0 \
        kea-dhcp4 -c "$tmp/kea/kea.json" >"$tmp/kea/out" 2>&1 &
    srv_pid=$!
    in_cgroup server $srv_pid
    wait_udp67 kea-dhcp4
}

run_dnsmasq() {
    mkdir -p "$tmp/dnsmasq"
    nice -n -15 taskset -c 0 dnsmasq -d --conf-file=/dev/null --port=0 --interface=$SIF \
        --bind-interfaces --dhcp-range=10.78.1.0,10.78.255.254,255.255.0.0,1h \
        --dhcp-authoritative --no-ping \
        --dhcp-option=option:router,10.78.0.1 --dhcp-option=option:dns-server,10.78.0.1 \
        --dhcp-lease-max=70000 --dhcp-leasefile="$tmp/dnsmasq/leases" --quiet-dhcp \
        --pid-file="$tmp/dnsmasq/pid" --user=root ${DNSMASQ_EXTRA:-} >"$tmp/dnsmasq/log" 2>&1 &
    srv_pid=$!
    in_cgroup server $srv_pid
    wait_udp67 dnsmasq
}

echo "load before: $(uptime)"
echo "lease cache: ${CACHE} % (Pigeon cache_threshold, Kea cache-threshold)"
for s in ${SERVERS:-pigeon kea dnsmasq}; do
    echo "$s: $(uptime)" >&2
    run_$s
    sweep $s dora
    sweep $s renew
    stop_server
done
echo "load after: $(uptime)"
echo "every run: server mode offered/s exchanges/s lost% client-rcvbuf-drops server-lost% backlog-drops"
echo "($CLIENTS clients, ${PERIOD}s each; client-rcvbuf-drops: replies perfdhcp's socket had no"
echo "room for, counted by the client namespace's UdpRcvbufErrors; server-lost: requests without"
echo "a reply less those; backlog-drops: datagrams the kernel dropped machine-wide for a full"
echo "input backlog, part of server-lost when they were the server's replies)"
cat "$tmp/runs"
echo "most exchanges/s in a run with under $MAXDROP % lost (all losses / the server's own):"
echo "server mode which offered/s exchanges/s lost%"
cat "$tmp/best"
awk '{v[$1" "$2" "$3]=$5} END {
    split("dora renew", ms, " ");
    split("all server", ws, " ");
    for (i = 1; i <= 2; i++) for (j = 1; j <= 2; j++) {
        k = ms[i] " " ws[j];
        if (v["kea " k] > 0) printf "pigeon/kea %s: %.2fx\n", k, v["pigeon " k] / v["kea " k];
        if (v["dnsmasq " k] > 0) printf "pigeon/dnsmasq %s: %.2fx\n", k, v["pigeon " k] / v["dnsmasq " k];
    }
}' "$tmp/best"
