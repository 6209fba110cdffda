#!/usr/bin/env bash
# Web server benchmark: Pigeon against nginx and h2o, in one run, on loopback.
#
# Each server runs ONE worker pinned to CPU 0 (under nice -n -15, as are the clients) (pigeond workers = 1, nginx worker_processes 1,
# h2o num-threads 1) with access logs off and the same document tree; the clients (wrk,
# h2load, curl, bench/http_idle.py) run on CPU 1. Figures:
#   ka     small static file (1 KiB), keep-alive, wrk -c 50            requests/s
#   close  the same with a new connection per request                 requests/s
#   tls    the same over TLS (keep-alive, HTTP/1.1)                    requests/s
#   h2     the same over TLS with HTTP/2, h2load -c 50 -m 10           requests/s
#   big    one 1 GiB file over plain HTTP (sendfile), curl             MB/s
#   idle   memory per idle keep-alive connection, 10,000 open          bytes (RSS delta / N)
# The summary prints each figure and Pigeon's ratio to each peer (for idle: lower is better).
#
# usage: bench/http.sh [-d SECONDS] [-n IDLE_CONNS] [-B]
#   -d  seconds per wrk run   (env BENCH_DUR, default 10)
#   -n  idle connections      (env BENCH_IDLE, default 10000)
#   -B  don't run make: use build/release as it is (env BENCH_NO_BUILD=1)
# env BENCH_DIR: where the temporary directory is made (default /var/tmp).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DUR=${BENCH_DUR:-10}
IDLE=${BENCH_IDLE:-10000}
NO_BUILD=${BENCH_NO_BUILD:-0}
BASE=${BENCH_DIR:-/var/tmp}
while getopts "d:n:Bh" opt; do
    case $opt in
        d) DUR=$OPTARG ;;
        n) IDLE=$OPTARG ;;
        B) NO_BUILD=1 ;;
        *) sed -n '2,22p' "$0"; exit 2 ;;
    esac
done

for tool in wrk h2load nginx h2o curl taskset; do
    command -v "$tool" >/dev/null || { echo "http.sh: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[ "$NO_BUILD" = 1 ] || make -C "$ROOT" --no-print-directory -j2 >/dev/null
PIGEOND=$ROOT/build/release/pigeond
PIGEON=$ROOT/build/release/pigeon

ulimit -n "$(ulimit -Hn)" # 10,000 connections need as many descriptors on each side
DIR=$(mktemp -d "$BASE/pigeon-http-bench.XXXXXX")
SERVER_PID=
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
TPORT=$(free_port)

# ---- the document tree and a certificate ----
mkdir -p "$DIR/www" "$DIR/data"
head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 > "$DIR/www/small.html"
truncate -s 1G "$DIR/www/big.bin"
chmod 755 "$DIR" "$DIR/www" && chmod 644 "$DIR/www"/* # nginx's worker runs as www-data
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null

# ---- configurations ----
cat > "$DIR/pigeon.conf" <<EOF
[server]
hostname = localhost
primary_domain = bench.test
data_dir = $DIR/data
workers = 1
log_level = warn
max_connections = 15000
tls_cert = $DIR/cert.pem
tls_key = $DIR/key.pem

[http]
max_connections_per_ip = 15000
header_timeout = 600
idle_timeout = 600

[http bench]
listen = 127.0.0.1:$PORT
listen_tls = 127.0.0.1:$TPORT
root = $DIR/www
EOF
cat > "$DIR/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $DIR/nginx.pid;
error_log $DIR/nginx.err;
events { worker_connections 15000; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    keepalive_timeout 600;
    keepalive_requests 10000000;
    client_body_temp_path $DIR/nginx-tmp;
    server {
        listen 127.0.0.1:$PORT;
        listen 127.0.0.1:$TPORT ssl http2;
        ssl_certificate $DIR/cert.pem;
        ssl_certificate_key $DIR/key.pem;
        root $DIR/www;
    }
}
EOF
cat > "$DIR/h2o.conf" <<EOF
num-threads: 1
user: root
pid-file: $DIR/h2o.pid
error-log: $DIR/h2o.err
http1-request-timeout: 600
http2-idle-timeout: 600
max-connections: 15000
listen:
  host: 127.0.0.1
  port: $PORT
listen:
  host: 127.0.0.1
  port: $TPORT
  ssl:
    certificate-file: $DIR/cert.pem
    key-file: $DIR/key.pem
hosts:
  default:
    paths:
      /:
        file.dir: $DIR/www
EOF

start_server() { # NAME
    case $1 in
        pigeon) nice -n -15 taskset -c 0 "$PIGEOND" -c "$DIR/pigeon.conf" >"$DIR/pigeon.log" 2>&1 & ;;
        nginx) nice -n -15 taskset -c 0 nginx -c "$DIR/nginx.conf" >"$DIR/nginx.out" 2>&1 & ;;
        h2o) nice -n -15 taskset -c 0 h2o -c "$DIR/h2o.conf" >"$DIR/h2o.out" 2>&1 & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 200); do
        curl -sf -o /dev/null "http://127.0.0.1:$PORT/small.html" && return 0
        sleep 0.05
    done
    echo "http.sh: $1 did not start" >&2
    cat "$DIR"/*.log "$DIR"/*.out "$DIR"/*.err 2>/dev/null | tail -20 >&2
    exit 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# The process whose memory holds the connections: nginx's worker, else the server itself.
server_rss_pid() { # NAME
    if [ "$1" = nginx ]; then pgrep -P "$SERVER_PID" | head -1; else echo "$SERVER_PID"; fi
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

wrk_rps() { # wrk args...
    nice -n -15 taskset -c 1 wrk -t1 -c50 -d"${DUR}s" "$@" 2>&1 | awk '/^Requests\/sec/ { printf "%d", $2 }'
}

measure() { # NAME
    local name=$1
    start_server "$name"
    local ka close tls h2 big idle pid before after
    ka=$(wrk_rps "http://127.0.0.1:$PORT/small.html")
    close=$(wrk_rps -H "Connection: close" "http://127.0.0.1:$PORT/small.html")
    tls=$(wrk_rps "https://127.0.0.1:$TPORT/small.html")
    h2=$(nice -n -15 taskset -c 1 h2load -t1 -c50 -m10 -n $((DUR * 20000)) \
        "https://127.0.0.1:$TPORT/small.html" 2>&1 | awk '/^finished in/ { printf "%d", $4 }')
    cat "$DIR/www/big.bin" >/dev/null # the same warm page cache for every server
    big=$(nice -n -15 taskset -c 1 curl -s -o /dev/null -w '%{speed_download}' \
        "http://127.0.0.1:$PORT/big.bin" | awk '{ printf "%d", $1 / 1000000 }')
    pid=$(server_rss_pid "$name")
    before=$(rss_kb "$pid")
    coproc IDLER { nice -n -15 taskset -c 1 /usr/bin/python3 "$ROOT/bench/http_idle.py" "$PORT" "$IDLE" /small.html; }
    read -r _ <&"${IDLER[0]}"
    sleep 1 # every server settles (Pigeon parks connections idle for 100-200 ms)
    after=$(rss_kb "$pid")
    idle=$(( (after - before) * 1024 / IDLE ))
    eval "exec ${IDLER[1]}>&-"
    wait "$IDLER_PID" 2>/dev/null || true
    stop_server
    printf '%-7s ka %7s  close %7s  tls %7s  h2 %7s  big %5s MB/s  idle %6s B/conn\n' \
        "$name" "$ka" "$close" "$tls" "$h2" "$big" "$idle"
    eval "R_${name}=\"$ka $close $tls $h2 $big $idle\""
}

echo "HTTP bench: one worker each on CPU 0, clients on CPU 1, ${DUR}s per run, $IDLE idle" \
     "connections ($(nproc) CPUs; other load on the machine is not controlled)"
echo "load before: $(uptime)"
measure pigeon
measure nginx
measure h2o

echo "load after:  $(uptime)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
read -r -a P <<<"$R_pigeon"
for peer in nginx h2o; do
    eval "read -r -a Q <<<\"\$R_$peer\""
    printf 'pigeon/%-5s ka %s  close %s  tls %s  h2 %s  big %s  idle %s (memory: lower is better)\n' \
        "$peer" "$(ratio "${P[0]}" "${Q[0]}")" "$(ratio "${P[1]}" "${Q[1]}")" \
        "$(ratio "${P[2]}" "${Q[2]}")" "$(ratio "${P[3]}" "${Q[3]}")" \
        "$(ratio "${P[4]}" "${Q[4]}")" "$(ratio "${P[5]}" "${Q[5]}")"
done
