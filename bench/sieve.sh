#!/usr/bin/env bash
# Sieve at delivery: Pigeon's SMTP accept-and-store rate with a 10-rule Sieve script on the
# recipient against the same run without one, in one go (bench/smtp.sh -o pigeon twice, the
# second with BENCH_SIEVE). The script tests headers, addresses, the envelope, the size and
# the body's absence of a word, as users' filters do; no rule matches the benchmark's
# messages but the last, so every test runs and the message is filed into INBOX by fileinto.
# The issue's goal: no more than 10% below the run without Sieve.
#
# usage: bench/sieve.sh [bench/smtp.sh options, e.g. -n 2000 -r 3 -B]
# Needs what bench/smtp.sh needs (root, postfix's smtp-source).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d /var/tmp/pigeon-sieve-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP" # pigeon run as root reads the script as [server] user
cat >"$TMP/rules.sieve" <<'SIEVE'
require ["fileinto", "envelope", "imap4flags", "relational", "comparator-i;ascii-numeric",
         "subaddress", "body", "copy"];
if header :contains "List-Id" "announce" { fileinto "Lists"; stop; }
if address :domain :is "from" "spam.example" { discard; stop; }
if header :matches "Subject" "*[SPAM]*" { fileinto "Junk"; stop; }
if envelope :detail "to" "lists" { fileinto "Lists"; stop; }
if size :over 5M { fileinto "Large"; stop; }
if header :value "gt" :comparator "i;ascii-numeric" "X-Spam-Score" "5" { fileinto "Junk"; stop; }
if exists "X-Mailing-List" { fileinto "Lists"; stop; }
if address :is "to" "boss@bench.test" { addflag "\\Flagged"; }
if body :contains "unsubscribe-now-please" { fileinto "Lists"; stop; }
if true { fileinto :copy "INBOX"; }
SIEVE
chmod 644 "$TMP/rules.sieve"
"$ROOT/build/release/pigeon" sieve check "$TMP/rules.sieve" >/dev/null
run() { # LABEL [BENCH_SIEVE]
    BENCH_SIEVE=${2:-} "$ROOT/bench/smtp.sh" -o pigeon "${ARGS[@]}" | tee "$TMP/$1.out" >&2
    awk '/^pigeon:/ { for (i = 1; i < NF; i++) if ($i == "median") v = $(i + 1) } END {print v}' "$TMP/$1.out"
}
ARGS=("$@")
plain=$(run plain)
sieve=$(run sieve "$TMP/rules.sieve")
echo "messages/s without Sieve: $plain; with a 10-rule script: $sieve"
awk -v a="$sieve" -v b="$plain" 'BEGIN { if (b > 0) printf "ratio (with/without): %.3f\n", a / b }'
