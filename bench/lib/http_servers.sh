# bench/lib/http_servers.sh — the three web servers that the HTTP benches compare, set up the
# same way: one worker each (pigeond workers = 1, nginx worker_processes 1, h2o num-threads 1)
# pinned to CPU 0 under nice -n -15, access logs off, keep-alive timeouts of 600 s, the same
# document tree (small.html, 1 KiB; big.bin, a sparse 1 GiB file) and the same self-signed
# RSA-2048 certificate. Sourced by bench/http.sh, bench/http_cost.sh and bench/http_callgrind.sh.
#
# Set before use: DIR (a private temporary directory), PORT and TPORT (plain and TLS ports),
# PIGEOND. Then: http_tree; http_configs; http_start NAME; http_stop; http_work_pids NAME.
# bench/http_callgrind.sh uses http_tree and http_pigeon_conf alone.

# The document tree and the certificate.
http_tree() {
    mkdir -p "$DIR/www" "$DIR/data"
    head -c 1024 /dev/urandom | base64 -w 76 | head -c 1024 >"$DIR/www/small.html"
    truncate -s 1G "$DIR/www/big.bin"
    chmod 755 "$DIR" "$DIR/www" && chmod 644 "$DIR/www"/* # nginx's worker runs as www-data
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
}

# http_pigeon_conf FILE DATA_DIR LISTEN [SITE_LINES]: a pigeond configuration (one worker,
# the tree above as the site "bench", LISTEN its listen/listen_tls lines, SITE_LINES more
# of its keys). Also used by bench/http_callgrind.sh.
http_pigeon_conf() {
    local file=$1 data=$2 listen=$3 site=${4:-}
    mkdir -p "$data"
    cat >"$file" <<CONF
[server]
hostname = localhost
primary_domain = bench.test
data_dir = $data
workers = 1
log_level = warn
max_connections = 15000
tls_cert = $DIR/cert.pem
tls_key = $DIR/key.pem

# The HTTP benches send no mail: no DKIM signing and no daily reports, so no DKIM key is
# made at start (a 2048-bit RSA key, ~0.3-0.8 s of CPU on the key thread, which taskset pins
# with the worker to CPU 0: it ran inside the first row) and no report run a minute in.
[dkim]
sign = no

[dmarc_report]
send = no
tlsrpt_send = no

[http]
max_connections_per_ip = 15000
header_timeout = 600
idle_timeout = 600

[http bench]
$listen
root = $DIR/www
$site
CONF
}

http_configs() {
    http_pigeon_conf "$DIR/pigeon.conf" "$DIR/data" "listen = 127.0.0.1:$PORT
listen_tls = 127.0.0.1:$TPORT"
    cat >"$DIR/nginx.conf" <<CONF
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
CONF
    cat >"$DIR/h2o.conf" <<CONF
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
CONF
}

SERVER_PID=
http_start() { # NAME
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
    echo "bench: $1 did not start" >&2
    cat "$DIR"/*.log "$DIR"/*.out "$DIR"/*.err 2>/dev/null | tail -20 >&2
    exit 1
}

http_stop() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# The processes whose work is measured: the server and its children (nginx's worker, h2o's
# neverbleed, which holds the private key and signs the TLS handshakes).
http_work_pids() {
    echo "$SERVER_PID"
    pgrep -P "$SERVER_PID" || true
}
