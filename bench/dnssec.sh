#!/usr/bin/env bash
# DNSSEC benchmark: signing a generated zone (Pigeon vs kzonesign vs ldns-signzone) and serving
# it signed with DO=1 (Pigeon vs NSD vs Knot). See bench/dnssec.py for the method; options
# are passed through. Loopback only; every server is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=
for p in nsd:nsd knotd:knot kzonesign:knot-dnssecutils ldns-signzone:ldnsutils dnsperf:dnsperf \
    taskset:util-linux; do
    command -v "${p%%:*}" >/dev/null || missing="$missing ${p#*:}"
done
if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends $missing
fi
[ "${BENCH_NO_BUILD:-}" = 1 ] || make --no-print-directory MODE=release all
exec /usr/bin/python3 bench/dnssec.py "$@"
