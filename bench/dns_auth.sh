#!/usr/bin/env bash
# Authoritative DNS benchmark: Pigeon against NSD and Knot (Debian), one worker each pinned to
# CPU 1, dnsperf on CPU 0, a generated 100,000-name zone and a query mix with NXDOMAINs; q/s
# and latency over UDP and TCP, and CPU time per million answers at a fixed offered rate.
# See bench/dns_auth.py for the method and options (passed through).
# Installs nsd, knot and dnsperf if missing (needs root then). Loopback only; every server
# is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=
for p in nsd:nsd knotd:knot dnsperf:dnsperf taskset:util-linux; do
    command -v "${p%%:*}" >/dev/null || missing="$missing ${p#*:}"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends $missing
fi
[ "${BENCH_NO_BUILD:-}" = 1 ] || make --no-print-directory MODE=release all
exec /usr/bin/python3 bench/dns_auth.py "$@"
