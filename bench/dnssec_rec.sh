#!/usr/bin/env bash
# Validating resolver benchmark: Pigeon's resolver against Unbound, both validating with the
# same trust anchor over the same signed hierarchy, in one run: cache-hit answers/s with
# dnsperf (DO=1), CPU time per million answers at the same offered rate, and cold-cache time
# for 1,000 wildcard names. See bench/dnssec_rec.py for the method and options (passed
# through). Needs root; runs in a private network namespace (unshare -n); installs nsd,
# unbound and dnsperf if missing (their system services left stopped).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
command -v nsd >/dev/null || apt_install_quiet nsd nsd
command -v unbound >/dev/null || apt_install_quiet unbound unbound
command -v dnsperf >/dev/null || apt_install_quiet dnsperf
[ "${BENCH_NO_BUILD:-}" = 1 ] || make --no-print-directory MODE=release all
exec unshare -n sh -c 'ip link set lo up && exec /usr/bin/python3 bench/dnssec_rec.py "$@"' \
    dnssec_rec "$@"
