# bench/lib/common.sh — what the bench scripts share: their messages, free ports, waiting for
# a port, building Pigeon, stopping a server, installing a comparison package without
# letting its system instance start, and (for the JMAP and webmail benches) a temporary
# directory removed at exit, a pigeond serving JMAP with the bench user, started pinned.
# Sourced right after ROOT is set; uses BASE, NO_BUILD, KEEP and BIN.

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
now() { date +%s.%N; }

# A loopback port no socket uses, TCP or UDP: neither a listener nor a connection's end
# (a connected socket on it makes a bind fail too), taken below the kernel's ephemeral range
# so no outgoing connection picks it between this check and the bind.
free_port() {
    local p lo=20000 hi
    read -r hi _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || hi=32768
    ((hi > lo + 1000)) || hi=60000 # an odd ephemeral range: the check alone
    for _ in $(seq 1 200); do
        p=$((lo + RANDOM % (hi - lo)))
        ss -Htuan "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
    done
    die "no free port found"
}

wait_port() { # PORT SECONDS
    local deadline=$(($(date +%s) + $2))
    while (($(date +%s) < deadline)); do
        ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    return 1
}

# stop_pid NAME PID: SIGTERM, ten seconds to go, then SIGKILL (said in the log).
stop_pid() {
    local name=$1 pid=$2
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop on SIGTERM within 10 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# build_pigeon: `make` in ROOT (release) unless NO_BUILD=1; its errors shown only on failure.
build_pigeon() {
    [[ ${NO_BUILD:-0} == 1 ]] && return 0
    log "building Pigeon (make)"
    local out="${BASE:-/var/tmp}/pigeon-bench-make.$$.log"
    make -C "$ROOT" -s >/dev/null 2>"$out" || { cat "$out" >&2; rm -f "$out"; die "make failed"; }
    rm -f "$out"
}

# apt_install_quiet PKG SERVICE...: installs PKG (Debian's policy-rc.d keeps its system
# instance from starting), then disables the named system services.
apt_install_quiet() {
    local pkg=$1 made_policy=0 svc
    shift
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null ||
        { apt-get update -q >/dev/null &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" >/dev/null; } ||
        { ((made_policy)) && rm -f /usr/sbin/policy-rc.d; die "apt-get install $pkg failed"; }
    ((made_policy)) && rm -f /usr/sbin/policy-rc.d
    for svc in "$@"; do
        if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
            systemctl disable --now "$svc" >/dev/null 2>&1 || true
        fi
        update-rc.d "${svc%%.*}" disable >/dev/null 2>&1 || true
    done
}

# bench_tmpdir NAME: makes TMP under BASE (readable by pigeond's unprivileged user) and traps
# the exit: bench_stop (when the script defines it) stops its servers, then TMP is removed
# unless KEEP=1; the exit status is kept.
bench_tmpdir() {
    TMP=$(mktemp -d "${BASE:-/var/tmp}/$1.XXXXXX")
    chmod 755 "$TMP"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if declare -F bench_stop >/dev/null; then bench_stop || true; fi
    if [[ ${KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}

# pigeon_jmap_conf DIR PORT [SITE_LINES [JMAP_LINES [SERVER_LINES]]]: writes DIR/pigeon.conf,
# a pigeond with its data in DIR/var serving JMAP on 127.0.0.1:PORT (site root DIR/www, Basic
# allowed over plain HTTP from loopback), with extra lines for the site, [jmap] and
# [server]; the caller may append sections of its own. Then adds the domain bench.test and
# its user u1@bench.test (password pw-1) with BIN's pigeon.
pigeon_jmap_conf() {
    local dir=$1 port=$2
    mkdir -p "$dir/www"
    cat >"$dir/pigeon.conf" <<EOF
[server]
hostname = bench.local
primary_domain = bench.test
data_dir = $dir/var
log_level = warn
user = nobody
${5:-}

[http]
[http bench]
listen = 127.0.0.1:$port
root = $dir/www
plaintext_auth = loopback
${3:-}

[jmap]
enabled = yes
${4:-}
EOF
    "$BIN/pigeon" -c "$dir/pigeon.conf" domain add bench.test >/dev/null
    echo "pw-1" | "$BIN/pigeon" -c "$dir/pigeon.conf" user add u1@bench.test >/dev/null
}

# start_pigeond DIR PORT: BIN's pigeond on DIR/pigeon.conf under `nice -n -15` on CPU 0 (its
# log DIR/pigeond.log), PIGEOND_PID set; returns once PORT listens (else shows the log, dies).
start_pigeond() {
    chmod -R a+rwX "$1"
    taskset -c 0 nice -n -15 "$BIN/pigeond" -c "$1/pigeon.conf" >>"$1/pigeond.log" 2>&1 &
    PIGEOND_PID=$!
    wait_port "$2" 30 || { cat "$1/pigeond.log" >&2; die "pigeond did not start"; }
}
