#!/bin/sh
# bench/dhcp.sh — DHCPv4 throughput: Kea's perfdhcp against pigeond, kea-dhcp4 (memfile lease
# file) and dnsmasq, one after the other, on the same veth pair (server side here, perfdhcp in
# a network namespace of its own). For each server: DORA exchanges/s at RATE offered (and the
# drop ratio), then renewals/s (perfdhcp -f). Prints the figures and Pigeon's ratios.
# Run as root from the source tree after `make`: sh bench/dhcp.sh
# RATE (default 2000/s), PERIOD (10 s), CLIENTS (20000 simulated MACs), SERVERS (default
# "pigeon kea dnsmasq"), PIGEON_LEASE_DIR (where leases.db goes: e.g. /dev/shm/x to see what
# the fsync of each batch's COMMIT costs), KEEP=1 keeps the outputs.
# Every server and perfdhcp run under nice -n -15; the server on core 0, perfdhcp on core 1.
set -eu
BUILD=${PIGEON_BUILD:-build/release}
RATE=${RATE:-2000}
PERIOD=${PERIOD:-10}
CLIENTS=${CLIENTS:-20000}
NS=pgdhcpbench$$
SIF=pgb0
CIF=pgb1
tmp=$(mktemp -d /tmp/pigeon-dhcp-bench.XXXXXX)
srv_pid=

cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    ip link del $SIF 2>/dev/null || true
    ip netns del $NS 2>/dev/null || true
    [ -n "${KEEP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

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

# perf NAME MODE: MODE dora or renew; prints "NAME MODE rate drops%"
perf() {
    extra=
    [ "$2" = renew ] && extra="-f $RATE"
    out=$tmp/$1.$2.out
    # shellcheck disable=SC2086
    ip netns exec $NS nice -n -15 taskset -c 1 perfdhcp -4 -l $CIF -r $RATE -R $CLIENTS \
        -p $PERIOD $extra >"$out" 2>&1 || true
    rate=$(sed -n 's/^Rate: \([0-9.]*\) .*/\1/p' "$out" | head -1)
    if [ "$2" = renew ]; then
        stats=$(awk '/Statistics for: REQUEST-ACK \(renewal\)|Statistics for: RENEW/{f=1} f&&/sent packets/{s=$3} f&&/received packets/{r=$3; print s, r; exit}' "$out")
    else
        stats=$(awk '/Statistics for: REQUEST-ACK/{f=1} f&&/sent packets/{s=$3} f&&/received packets/{r=$3; print s, r; exit}' "$out")
    fi
    set -- "$1" "$2" $stats
    sent=${3:-0}
    recv=${4:-0}
    per_s=$(awk -v r="$recv" -v p="$PERIOD" 'BEGIN{printf "%.0f", r / p}')
    drop=$(awk -v s="$sent" -v r="$recv" 'BEGIN{if (s > 0) printf "%.2f", 100 * (s - r) / s; else print "100"}')
    echo "$1 $2 ${per_s} ${drop} ${rate:-?}"
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
    wait_udp67 dnsmasq
}

echo "load before: $(uptime)"
results=$tmp/results
for s in ${SERVERS:-pigeon kea dnsmasq}; do
    run_$s
    perf $s dora >>"$results"
    perf $s renew >>"$results"
    stop_server
done
echo "load after: $(uptime)"
echo "server mode exchanges/s drop% perfdhcp-rate (offered $RATE/s, $CLIENTS clients, ${PERIOD}s)"
cat "$results"
awk '{v[$1" "$2]=$3} END {
    for (m in a) ;
    split("dora renew", ms, " ");
    for (i = 1; i <= 2; i++) {
        mo = ms[i];
        if (v["kea " mo] > 0) printf "pigeon/kea %s: %.2fx\n", mo, v["pigeon " mo] / v["kea " mo];
        if (v["dnsmasq " mo] > 0) printf "pigeon/dnsmasq %s: %.2fx\n", mo, v["pigeon " mo] / v["dnsmasq " mo];
    }
}' "$results"
