#!/usr/bin/env bash
# Recursive resolver benchmark: Pigeon's resolver against Unbound (Debian), one thread each,
# on the same simulated hierarchy (127.0.53.x port 53) in one run: cache-hit answers/s with
# dnsperf, CPU time per million answers at the same offered rate, and cold-cache time for
# 1,000 names. See bench/dns_rec.py for the method and options (passed through).
# Needs root; installs nsd, unbound and dnsperf if missing. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=
for p in nsd unbound dnsperf; do command -v "$p" >/dev/null || missing="$missing $p"; done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends $missing
fi
[ "${BENCH_NO_BUILD:-}" = 1 ] || make --no-print-directory MODE=release all
exec /usr/bin/python3 bench/dns_rec.py "$@"
