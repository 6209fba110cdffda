#!/usr/bin/env bash
# Instructions per DKIM-signed submission in pigeond, counted by valgrind's callgrind: the
# signing flow of bench/mailauth.sh (AUTH PLAIN over implicit TLS, an unsigned message from a
# local sender to a local user, signed and stored durably) at a fixed count, so a change to
# the signing path can be judged on a loaded machine, and where the instructions go can be
# read (BENCH_KEEP=1, then callgrind_annotate --inclusive=yes on the kept file).
#
# pigeond runs twice under callgrind (all threads counted together), receiving N1 and then N2
# messages; the marginal cost (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up, the TLS
# handshakes and the password checks of the C sessions (the same in both runs). Every run
# checks that each stored message carries Pigeon's DKIM-Signature.
#
# usage: bench/mailauth_callgrind.sh DIR...   each DIR holds pigeond and pigeon (build/release)
# env: N1 (default 50), N2 (default 250), C sessions (5), ALG rsa|ed25519 ([dkim] algorithm,
#      default rsa), BENCH_DIR (default /var/tmp), BENCH_KEEP=1 keeps the callgrind files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N1=${N1:-50}
N2=${N2:-250}
C=${C:-5}
ALG=${ALG:-rsa}
BASE=${BENCH_DIR:-/var/tmp}
(($# > 0)) || die "usage: $0 DIR... (each with pigeond and pigeon)"
((N2 > N1)) || die "N2 must be larger than N1"
command -v valgrind >/dev/null || die "valgrind is not installed"
TMP=$(mktemp -d "$BASE/pigeon-mailauth-cg.XXXXXX")
PID=
cleanup() {
    stop_pid pigeond "$PID"
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# the unsigned message of bench/mailauth.sh
{
    printf 'From: <alice@bench.test>\r\nTo: <bob@bench.test>\r\nSubject: dkim benchmark\r\n'
    printf 'Message-ID: <m@bench.test>\r\nDate: Mon, 07 Dec 2026 00:00:00 +0000\r\n\r\n'
    for i in $(seq 0 59); do
        printf 'line %d of a message of the DKIM benchmark, long enough to be typical\r\n' "$i"
    done
} >"$TMP/plain.eml"

# run BIN N: prints the instructions pigeond executed signing and storing N messages.
run() {
    local bin=$1 n=$2 dir port conf
    dir=$(mktemp -d "$TMP/run.XXXXXX")
    port=$(free_port)
    conf=$dir/pigeon.conf
    cat >"$conf" <<EOF
[server]
hostname = mx.bench.test
primary_domain = bench.test
data_dir = $dir/var
log_level = warn
workers = 2
[submissions]
listen = 127.0.0.1:$port
max_connections_per_ip = 1000
[dkim]
algorithm = $ALG
[mail_dns]
publish = no
EOF
    "$bin/pigeon" -c "$conf" domain add bench.test >/dev/null
    echo pw | "$bin/pigeon" -c "$conf" user add bob@bench.test >/dev/null
    echo pw | "$bin/pigeon" -c "$conf" user add alice@bench.test >/dev/null
    # the domain's key made now (as `pigeon domain records` does), not by the first message:
    # an RSA key generation costs a varying billion instructions
    "$bin/pigeon" -c "$conf" domain records bench.test >/dev/null
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin/pigeond" -c "$conf" \
        >"$dir/pigeond.log" 2>&1 &
    PID=$!
    wait_port "$port" 120 || { cat "$dir/pigeond.log" >&2; die "pigeond did not listen"; }
    /usr/bin/python3 "$ROOT/bench/mailauth_load.py" --port "$port" -n "$n" -c "$C" \
        --rcpt bob@bench.test --tls --user alice@bench.test --password pw \
        --file "$TMP/plain.eml" --sender alice@bench.test >"$dir/load.out" 2>&1 ||
        { cat "$dir/load.out" >&2; die "the load client failed"; }
    local stored last text
    stored=$("$bin/pigeon" -c "$conf" mail list bob@bench.test | wc -l)
    ((stored == n)) || die "$bin: $stored messages stored, $n sent"
    last=$("$bin/pigeon" -c "$conf" mail list bob@bench.test | awk -F'\t' 'END {print $1}')
    text=$("$bin/pigeon" -c "$conf" mail cat bob@bench.test "$last")
    [[ $text == *"DKIM-Signature:"*"d=bench.test"* ]] || die "$bin: the stored message is not signed"
    stop_pid pigeond "$PID"
    PID=
    awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.out"
}

printf '%-40s %14s %14s %12s\n' "build ($ALG)" "Ir($N1)" "Ir($N2)" "Ir/message"
for bin in "$@"; do
    bin=$(cd "$bin" && pwd)
    [[ -x $bin/pigeond && -x $bin/pigeon ]] || die "no pigeond or pigeon in $bin"
    a=$(run "$bin" "$N1")
    b=$(run "$bin" "$N2")
    printf '%-40s %14s %14s %12d\n' "$bin" "$a" "$b" $(((b - a) / (N2 - N1)))
done
