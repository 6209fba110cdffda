#!/usr/bin/env bash
# Instructions per accepted SMTP message in pigeond, counted by valgrind's callgrind, for one
# or more builds: a figure that a loaded machine does not move (unlike bench/smtp.sh's
# messages/s), to tell a slower ratio caused by load from a slower Pigeon.
#
# For each build, pigeond runs twice under callgrind (all threads counted together), once
# receiving N1 and once N2 messages from smtp-source; the marginal cost
# (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up and shutdown. The configuration is
# bench/smtp.sh's (SPF off, DKIM verification off where the build has it, durable commits),
# and every run checks that the mailbox holds what was sent.
#
# usage: bench/smtp_callgrind.sh DIR...   each DIR holds pigeond and pigeon, e.g. build/release
#   and a build of an older commit: mkdir /var/tmp/p && git archive REV | tar -x -C /var/tmp/p
#   && make -C /var/tmp/p  (then /var/tmp/p/build/release)
# env: N1 (default 100), N2 (default 400), SIZE payload bytes (4096), C sessions (10),
#      BENCH_DIR (default /var/tmp), BENCH_KEEP=1 keeps the callgrind files (for
#      callgrind_annotate) and says where.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N1=${N1:-100}
N2=${N2:-400}
SIZE=${SIZE:-4096}
C=${C:-10}
BASE=${BENCH_DIR:-/var/tmp}
(($# > 0)) || die "usage: $0 DIR... (each with pigeond and pigeon)"
((N2 > N1)) || die "N2 must be larger than N1"
command -v valgrind >/dev/null || die "valgrind is not installed"
command -v smtp-source >/dev/null || die "smtp-source (postfix) is not installed"
TMP=$(mktemp -d "$BASE/pigeon-callgrind.XXXXXX")
PID=
cleanup() {
    stop_pid pigeond "$PID"
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# config DIR PORT WITH_DKIM
config() {
    cat <<EOF
[server]
hostname = bench.local
primary_domain = bench.test
data_dir = $1/var
log_level = warn
workers = 2

[smtp]
listen = 127.0.0.1:$2
max_connections_per_ip = 1000
spf = off
EOF
    (($3)) && printf '\n[dkim]\nverify = no\n'
    return 0
}

# run BIN N: prints the instructions pigeond executed receiving N messages.
run() {
    local bin=$1 n=$2 dir port conf
    dir=$(mktemp -d "$TMP/run.XXXXXX")
    port=$(free_port)
    conf=$dir/pigeon.conf
    config "$dir" "$port" 1 >"$conf"
    if ! "$bin/pigeon" -c "$conf" check-config >/dev/null 2>&1; then
        config "$dir" "$port" 0 >"$conf" # an older build without [dkim] verify
    fi
    "$bin/pigeon" -c "$conf" domain add bench.test >/dev/null
    echo pw | "$bin/pigeon" -c "$conf" user add bob@bench.test >/dev/null
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin/pigeond" -c "$conf" \
        >"$dir/pigeond.log" 2>&1 &
    PID=$!
    wait_port "$port" 120 || { cat "$dir/pigeond.log" >&2; die "pigeond did not listen"; }
    smtp-source -s "$C" -m "$n" -l "$SIZE" -f bench@client.test -t bob@bench.test \
        -M client.test "127.0.0.1:$port" >"$dir/source.out" 2>&1 ||
        { cat "$dir/source.out" >&2; die "smtp-source failed"; }
    local stored
    stored=$("$bin/pigeon" -c "$conf" mail list bob@bench.test | wc -l)
    ((stored == n)) || die "$bin: $stored messages stored, $n sent"
    stop_pid pigeond "$PID"
    PID=
    awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.out"
}

printf '%-40s %14s %14s %12s\n' build "Ir($N1)" "Ir($N2)" "Ir/message"
for bin in "$@"; do
    bin=$(cd "$bin" && pwd)
    [[ -x $bin/pigeond && -x $bin/pigeon ]] || die "no pigeond or pigeon in $bin"
    a=$(run "$bin" "$N1")
    b=$(run "$bin" "$N2")
    printf '%-40s %14s %14s %12d\n' "$bin" "$a" "$b" $(((b - a) / (N2 - N1)))
done
