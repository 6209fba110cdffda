#!/usr/bin/env bash
# Instructions per HTTP request in pigeond, counted by valgrind's callgrind, for one or more
# builds: a figure that a loaded machine does not move (unlike bench/http.sh's requests/s).
#
# For each build, pigeond (one worker) runs twice under callgrind, once answering N1 and once
# N2 requests (h2load --h1, C keep-alive connections, or one connection per request with
# CLOSE=1); the marginal cost (Ir(N2) - Ir(N1)) / (N2 - N1) leaves out start-up and
# shutdown. Each run checks that every request got its answer.
#
# The requests go to a site whose answer is a redirect (308): the whole path of a request
# (reading, parsing, the site's dispatch, the response head, writing, keep-alive) without the
# file handler, because valgrind 3.19 (Debian 12) does not know openat2 (syscall 437), with
# which every file is opened: under valgrind every file request would be a 403. The file
# handler's own cost is system calls (openat2, fstat, pread, close), counted with strace -c.
#
# usage: bench/http_callgrind.sh DIR...   each DIR holds pigeond, e.g. build/release and a
#   build of an older commit (git archive REV | tar -x -C /var/tmp/p && make -C /var/tmp/p)
# env: N1 (default 2000), N2 (default 12000), C connections (default 10), CLOSE=1 (a new
#      connection per request), TLS=1 (over TLS: an https listener with a self-signed
#      RSA-2048 certificate, HTTP/1.1, the handshakes counted in the marginal cost only with
#      CLOSE=1), BENCH_DIR (default /var/tmp),
#      BENCH_KEEP=1 keeps the callgrind files (for callgrind_annotate) and says where.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N1=${N1:-2000}
N2=${N2:-12000}
C=${C:-10}
BASE=${BENCH_DIR:-/var/tmp}
(($# > 0)) || die "usage: $0 DIR... (each with pigeond)"
((N2 > N1)) || die "N2 must be larger than N1"
for tool in valgrind h2load; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh)"
done
TMP=$(mktemp -d "$BASE/pigeon-http-callgrind.XXXXXX")
PID=
cleanup() {
    stop_pid pigeond "$PID"
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

mkdir -p "$TMP/www"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 >"$TMP/www/small.html"
chmod 755 "$TMP" "$TMP/www" && chmod 644 "$TMP/www/small.html" # pigeond may drop root
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

# run BIN N: prints the instructions pigeond executed answering N requests.
run() {
    local bin=$1 n=$2 dir port url
    dir=$(mktemp -d "$TMP/run.XXXXXX")
    port=$(free_port)
    local listen="listen = 127.0.0.1:$port" scheme=http
    if [[ ${TLS:-0} == 1 ]]; then
        listen="listen_tls = 127.0.0.1:$port"
        scheme=https
    fi
    cat >"$dir/pigeon.conf" <<EOF
[server]
hostname = localhost
primary_domain = bench.test
data_dir = $dir/data
workers = 1
log_level = warn
tls_cert = $TMP/cert.pem
tls_key = $TMP/key.pem

[http]
max_connections_per_ip = 1000

[http bench]
$listen
root = $TMP/www
redirect = https://localhost:8443
EOF
    mkdir -p "$dir/data"
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.out" "$bin/pigeond" \
        -c "$dir/pigeon.conf" >"$dir/pigeond.log" 2>&1 &
    PID=$!
    wait_port "$port" 120 || { cat "$dir/pigeond.log" >&2; die "pigeond did not listen"; }
    url=$scheme://127.0.0.1:$port/small.html
    local args=(--h1 -n "$n" -c "$C" -m 1)
    [[ ${CLOSE:-0} == 1 ]] && args+=(-H "Connection: close")
    h2load "${args[@]}" "$url" >"$dir/h2load.out" 2>&1 || true
    grep -q "status codes: 0 2xx, $n 3xx" "$dir/h2load.out" ||
        { cat "$dir/h2load.out" >&2; die "$bin: not every request was answered 308"; }
    stop_pid pigeond "$PID"
    PID=
    awk '/^(summary|totals):/ {print $2; exit}' "$dir/cg.out"
}

printf '%-40s %14s %14s %12s\n' build "Ir($N1)" "Ir($N2)" "Ir/request"
for bin in "$@"; do
    bin=$(cd "$bin" && pwd)
    [[ -x $bin/pigeond ]] || die "no pigeond in $bin"
    a=$(run "$bin" "$N1")
    b=$(run "$bin" "$N2")
    printf '%-40s %14s %14s %12d\n' "$bin" "$a" "$b" $(((b - a) / (N2 - N1)))
done
