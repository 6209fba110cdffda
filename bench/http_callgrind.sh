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
# which every file is opened: under valgrind every file request would be a 403. With FILE=1
# the 1 KiB file is served instead (bench/http.sh's request): pigeond then runs with
# bench/lib/openat2_shim.c preloaded, which turns openat2 into openat for this bench only
# (the open-file cache keeps the file open, so the shim is not on the measured path).
#
# usage: bench/http_callgrind.sh DIR|nginx|h2o...   each DIR holds pigeond, e.g. build/release
#   and a build of an older commit (git archive REV | tar -x -C /var/tmp/p && make -C /var/tmp/p);
#   "nginx" and "h2o" count those servers the same way (one worker, the same redirect answered
#   by `return 308` and h2o's `redirect:`; nginx with master_process off, so the one process
#   counted is the one that works; under TLS h2o signs handshakes in its neverbleed process,
#   which is not counted).
# env: N1 (default 2000), N2 (default 12000), C connections (default 10), CLOSE=1 (a new
#      connection per request), TLS=1 (over TLS: an https listener with a self-signed
#      RSA-2048 certificate, HTTP/1.1, the handshakes counted in the marginal cost only with
#      CLOSE=1), H2=1 (over TLS with HTTP/2, 10 streams per connection: h2load -m10), FILE=1
#      (the file, not the redirect), BENCH_DIR (default /var/tmp),
#      BENCH_KEEP=1 keeps the callgrind files (for callgrind_annotate) and says where.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
# shellcheck source=bench/lib/http_servers.sh
. "$ROOT/bench/lib/http_servers.sh"
N1=${N1:-2000}
N2=${N2:-12000}
C=${C:-10}
BASE=${BENCH_DIR:-/var/tmp}
(($# > 0)) || die "usage: $0 DIR|nginx|h2o... (each DIR with pigeond)"
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

DIR=$TMP
http_tree # small.html, the certificate (and a sparse big.bin, not used here)
[[ ${H2:-0} == 1 ]] && TLS=1
SHIM=
if [[ ${FILE:-0} == 1 ]]; then
    SHIM=$TMP/openat2_shim.so
    cc -O2 -shared -fPIC -o "$SHIM" "$ROOT/bench/lib/openat2_shim.c" -ldl ||
        die "cannot build bench/lib/openat2_shim.c"
fi

# config KIND DIR PORT: the server's configuration answering every request with a 308 (FILE=1:
# with the file).
config() {
    local kind=$1 dir=$2 port=$3 tls=${TLS:-0} file=${FILE:-0}
    case $kind in
        nginx)
            local ssl="" certs=""
            ((tls)) && ssl=" ssl" certs="ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;"
            [[ ${H2:-0} == 1 ]] && ssl=" ssl http2"
            local answer="location / { return 308 https://localhost:8443; }"
            ((file)) && answer="root $TMP/www;"
            cat >"$dir/server.conf" <<EOF
master_process off;
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    server {
        listen 127.0.0.1:$port$ssl;
        $certs
        $answer
    }
}
EOF
            ;;
        h2o)
            local ssl=""
            ((tls)) && ssl="
  ssl:
    certificate-file: $TMP/cert.pem
    key-file: $TMP/key.pem"
            local answer="        redirect:
          url: https://localhost:8443
          status: 308"
            ((file)) && answer="        file.dir: $TMP/www"
            cat >"$dir/server.conf" <<EOF
num-threads: 1
user: root
pid-file: $dir/h2o.pid
error-log: $dir/h2o.err
listen:
  host: 127.0.0.1
  port: $port$ssl
hosts:
  default:
    paths:
      /:
$answer
EOF
            ;;
        *)
            local listen="listen = 127.0.0.1:$port" site="redirect = https://localhost:8443"
            ((tls)) && listen="listen_tls = 127.0.0.1:$port"
            ((file)) && site=""
            http_pigeon_conf "$dir/server.conf" "$dir/data" "$listen" "$site"
            ;;
    esac
}

# run KIND N: prints the instructions the server (pigeond in the directory KIND, nginx or h2o)
# executed answering N requests.
run() {
    local kind=$1 n=$2 dir port url scheme=http
    dir=$(mktemp -d "$TMP/run.XXXXXX")
    port=$(free_port)
    [[ ${TLS:-0} == 1 ]] && scheme=https
    config "$kind" "$dir" "$port"
    local cmd=("$kind/pigeond" -c "$dir/server.conf")
    [[ $kind == nginx ]] && cmd=(nginx -c "$dir/server.conf")
    [[ $kind == h2o ]] && cmd=(h2o -c "$dir/server.conf")
    local preload=
    [[ $kind != nginx && $kind != h2o ]] && preload=$SHIM
    LD_PRELOAD=$preload valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "${cmd[@]}" \
        >"$dir/server.log" 2>&1 &
    PID=$!
    wait_port "$port" 120 || { cat "$dir/server.log" >&2; die "$kind did not listen"; }
    url=$scheme://127.0.0.1:$port/small.html
    local args=(--h1 -n "$n" -c "$C" -m 1) want="0 2xx, $n 3xx"
    [[ ${H2:-0} == 1 ]] && args=(-n "$n" -c "$C" -m 10)
    [[ ${CLOSE:-0} == 1 ]] && args+=(-H "Connection: close")
    [[ ${FILE:-0} == 1 ]] && want="$n 2xx, 0 3xx"
    h2load "${args[@]}" "$url" >"$dir/h2load.out" 2>&1 || true
    grep -q "status codes: $want" "$dir/h2load.out" ||
        { cat "$dir/h2load.out" >&2; die "$kind: not every request was answered ($want)"; }
    stop_pid "$kind" "$PID"
    PID=
    # One file per process: h2o forks helpers (OCSP fetcher, neverbleed) that are traced too and
    # would overwrite a shared file. The process that served the requests counts the most.
    local f best=0 ir
    for f in "$dir"/cg.*; do
        ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$f")
        ((ir > best)) && best=$ir
    done
    echo "$best"
}

printf '%-40s %14s %14s %12s\n' build "Ir($N1)" "Ir($N2)" "Ir/request"
for bin in "$@"; do
    if [[ $bin != nginx && $bin != h2o ]]; then
        bin=$(cd "$bin" && pwd)
        [[ -x $bin/pigeond ]] || die "no pigeond in $bin"
    fi
    a=$(run "$bin" "$N1")
    b=$(run "$bin" "$N2")
    printf '%-40s %14s %14s %12d\n' "$bin" "$a" "$b" $(((b - a) / (N2 - N1)))
done
