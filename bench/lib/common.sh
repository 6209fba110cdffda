# bench/lib/common.sh — what the bench scripts share: their messages, free ports, waiting for
# a port, building Pigeon, stopping a server, and installing a comparison package without
# letting its system instance start. Sourced right after ROOT is set; uses BASE and NO_BUILD.

die() { echo "bench: $*" >&2; exit 1; }
log() { echo "bench: $*" >&2; }
now() { date +%s.%N; }

# A loopback port nothing listens on, TCP or UDP.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        ss -Htuln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
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
