#!/usr/bin/env bash
# DKIM signing and verifying, messages/s: Pigeon against Postfix + OpenDKIM (milter), one run.
#
# Two flows, N messages each over C concurrent sessions (bench/mailauth_load.py, several
# messages per session). OpenDKIM reads the signer's key from a TestPublicKeys file and runs
# as root (no UserID: it reads that file per message, and as the opendkim user it found
# nothing): its libunbound resolver answers "key not found in DNS" for every look-up inside
# the bench's private namespace (with or without UserID, at 127.0.0.53 or 127.0.57.53), while
# Pigeon asks the DNS pigeond, so Pigeon's verify figure includes a DNS look-up OpenDKIM's does
# not. Every verified message must say dkim=pass on both sides, or the run fails:
#   verify: a message signed with rsa-sha256 (python3-dkim) for a local user, from outside:
#           Pigeon's MX role checks DKIM (and DMARC, p=none) and writes Authentication-Results;
#           OpenDKIM (Mode sv, AlwaysAddARHeader) verifies it in Postfix's smtpd.
#   sign:   an unsigned message from a local sender over implicit TLS: Pigeon signs
#           authenticated submissions (AUTH PLAIN on [submissions]); OpenDKIM signs mail from
#           its InternalHosts (the client connects from 127.0.0.2 to a Postfix smtps listener).
# Both deliver to a local mailbox and fsync before answering (Pigeon: 250 = stored; Postfix:
# 250 = queued, so its time runs until the last file is in the Maildir). The key look-ups of
# Pigeon go to a pigeond serving the signer's zone on 127.0.0.53:53, inside a private network
# namespace this script makes (unshare -n).
#
# usage: bench/mailauth.sh [-n MESSAGES] [-c SESSIONS] [-B]
#   -n  messages per flow and server (env BENCH_N, default 1000)
#   -c  concurrent sessions          (env BENCH_C, default 10)
#   -B  don't run make (use build/release as it is)
# Needs root, postfix, opendkim, python3-dkim.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib/common.sh
. "$ROOT/bench/lib/common.sh"
N=${BENCH_N:-1000}
C=${BENCH_C:-10}
BASE=${BENCH_DIR:-/var/tmp}
NO_BUILD=${BENCH_NO_BUILD:-0}
while getopts "n:c:Bh" opt; do
    case $opt in
        n) N=$OPTARG ;;
        c) C=$OPTARG ;;
        B) NO_BUILD=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "usage: $0 [-n MESSAGES] [-c SESSIONS] [-B]" >&2; exit 2 ;;
    esac
done
[[ $N =~ ^[0-9]+$ && $C =~ ^[0-9]+$ ]] && ((N > 0 && C > 0)) || die "-n and -c take positive numbers"
[[ $(id -u) == 0 ]] || die "needs root (a network namespace, port 53, Postfix)"
if [[ ${BENCH_NETNS:-} != 1 ]]; then
    build_pigeon
    # both servers and the client at the same priority on the same cores (a shared machine)
    exec nice -n -15 taskset -c 0,1 unshare -n env BENCH_NETNS=1 BENCH_N="$N" BENCH_C="$C" BENCH_NO_BUILD=1 bash "$ROOT/bench/mailauth.sh"
fi
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
# a non-loopback address, so getaddrinfo(AI_ADDRCONFIG) (OpenDKIM's Nameservers) resolves IPv4
ip addr add 198.18.0.1/32 dev lo

BIN=$ROOT/build/release
LOAD=$ROOT/bench/mailauth_load.py
TMP=$(mktemp -d "$BASE/pigeon-bench-mailauth.XXXXXX")
chmod 755 "$TMP" # Postfix's users walk into it
PIGEON_PID= OPENDKIM_PID= PF_CONF= DNS_PID= ODK=
cleanup() {
    stop_pid pigeond "$PIGEON_PID"
    stop_pid "pigeond (dns)" "$DNS_PID"
    stop_pid opendkim "$OPENDKIM_PID"
    [[ -n $PF_CONF ]] && postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
    rm -rf "$TMP"
    [[ -n $ODK ]] && rm -rf "$ODK" || true
}
trap cleanup EXIT

# ---- the messages and the signer's key (python3-dkim signs once)
/usr/bin/python3 - "$TMP" <<'EOF'
import base64, sys
import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
d = sys.argv[1]
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pem = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                      serialization.NoEncryption())
pub = k.public_key().public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
rec = "v=DKIM1; k=rsa; p=" + base64.b64encode(pub).decode()
body = "".join("line %d of a message of the DKIM benchmark, long enough to be typical\r\n" % i
               for i in range(60))
def msg(sender):
    return ("From: <%s>\r\nTo: <bob@bench.test>\r\nSubject: dkim benchmark\r\n"
            "Message-ID: <m@%s>\r\nDate: Mon, 07 Dec 2026 00:00:00 +0000\r\n\r\n%s"
            % (sender, sender.split("@")[1], body)).encode()
m = msg("x@signer.test")
sig = dkim.sign(m, b"s", b"signer.test", pem, include_headers=[b"from", b"to", b"subject",
                                                              b"date", b"message-id"])
open(d + "/signed.eml", "wb").write(sig + m)
open(d + "/testkeys", "w").write("s._domainkey.signer.test " + rec + "\n")
open(d + "/plain.eml", "wb").write(msg("alice@bench.test"))
txt = " ".join('"%s"' % rec[i:i + 250] for i in range(0, len(rec), 250))
open(d + "/signer.test.zone", "w").write(
    "$TTL 3600\n@ SOA ns.signer.test. h.signer.test. 1 3600 600 86400 3600\n@ NS ns\n"
    "ns A 127.0.0.53\ns._domainkey TXT %s\n_dmarc TXT \"v=DMARC1; p=none\"\n" % txt)
EOF

# ---- the DNS both ask (a pigeond, authoritative only)
mkdir -p "$TMP/dns"
cat >"$TMP/dns.conf" <<EOF
[server]
hostname = ns.signer.test
primary_domain = signer.test
data_dir = $TMP/dns
log_level = warn
[dns]
listen = 127.0.0.53:53
[zone signer.test]
file = $TMP/signer.test.zone
EOF
"$BIN/pigeond" -c "$TMP/dns.conf" 2>"$TMP/dns.log" &
DNS_PID=$!
wait_port 53 20 || { cat "$TMP/dns.log" >&2; die "the DNS pigeond did not start"; }

# run NAME PORT EXTRA...: one flow, N messages; prints messages/s
run() {
    local name=$1 port=$2 out
    shift 2
    out=$(/usr/bin/python3 "$LOAD" --port "$port" -n "$N" -c "$C" --rcpt bob@bench.test "$@") ||
        { tail -5 "$TMP/postfix/maillog" >&2 2>/dev/null || true; die "$name: the load client failed"; }
    echo "$out"
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.0f", n / s}'; }

# ---- Pigeon
PG=$TMP/pigeon
mkdir -p "$PG"
SMTP_PORT=$(free_port) SUBS_PORT=$(free_port)
cat >"$PG/pigeon.conf" <<EOF
[server]
hostname = mx.bench.test
primary_domain = bench.test
data_dir = $PG/data
log_level = warn
[smtp]
listen = 127.0.0.1:$SMTP_PORT
spf = off
max_connections_per_ip = 1000
[submissions]
listen = 127.0.0.1:$SUBS_PORT
max_connections_per_ip = 1000
[delivery]
resolver = 127.0.0.53:53
[mail_dns]
publish = no
EOF
PC="$BIN/pigeon -c $PG/pigeon.conf"
$PC domain add bench.test >/dev/null
echo pw | $PC user add bob@bench.test >/dev/null
echo pw | $PC user add alice@bench.test >/dev/null
"$BIN/pigeond" -c "$PG/pigeon.conf" 2>"$PG/log" &
PIGEON_PID=$!
wait_port "$SMTP_PORT" 20 && wait_port "$SUBS_PORT" 20 || { cat "$PG/log" >&2; die "pigeond did not start"; }
read -r _ pv_s < <(run pigeon-verify "$SMTP_PORT" --file "$TMP/signed.eml" --sender x@signer.test)
read -r _ ps_s < <(run pigeon-sign "$SUBS_PORT" --tls --user alice@bench.test --password pw \
    --file "$TMP/plain.eml" --sender alice@bench.test)
stored=$($PC mail list bob@bench.test | wc -l)
((stored == 2 * N)) || die "pigeon stored $stored messages, not $((2 * N))"
first=$($PC mail list bob@bench.test | awk -F'\t' 'NR == 1 {print $1}')
first_msg=$($PC mail cat bob@bench.test "$first")
[[ $first_msg == *"dkim=pass header.d=signer.test"* ]] || die "pigeon: no dkim=pass"
last=$($PC mail list bob@bench.test | awk -F'\t' 'END {print $1}')
last_msg=$($PC mail cat bob@bench.test "$last")
[[ $last_msg == *"DKIM-Signature:"*"d=bench.test"* ]] || die "pigeon: not signed"
stop_pid pigeond "$PIGEON_PID"
PIGEON_PID=

# ---- Postfix + OpenDKIM
PF=$TMP/postfix
MAILDIR=$PF/mail/bob
# OpenDKIM refuses a configuration or key below a directory others may write (/var/tmp)
ODK=$(mktemp -d "$HOME/.pigeon-bench-opendkim.XXXXXX")
mkdir -p "$PF/etc" "$PF/queue" "$PF/data" "$PF/mail" "$ODK/dkim"
chown postfix "$PF/data"
chown nobody:nogroup "$PF/mail"
PF_PORT=$(free_port) PFS_PORT=$(free_port) MILTER_PORT=$(free_port)
opendkim-genkey -D "$ODK/dkim" -d bench.test -s pf -b 2048
cat >"$ODK/opendkim.conf" <<EOF
Syslog no
Mode sv
Socket inet:$MILTER_PORT@127.0.0.1
Nameservers 127.0.0.53
InternalHosts 127.0.0.2
Domain bench.test
Selector pf
KeyFile $ODK/dkim/pf.private
AlwaysAddARHeader yes
TestPublicKeys $ODK/dkim/testkeys
OversignHeaders From,To,Subject
Canonicalization relaxed/relaxed
EOF
cp "$TMP/testkeys" "$ODK/dkim/testkeys"
opendkim -f -x "$ODK/opendkim.conf" 2>"$PF/opendkim.log" &
OPENDKIM_PID=$!
wait_port "$MILTER_PORT" 20 || { cat "$PF/opendkim.log" >&2; die "opendkim did not start"; }
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=postfix.bench.local -days 1 \
    -keyout "$PF/key.pem" -out "$PF/cert.pem" 2>/dev/null
cat >"$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.bench.local
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_milters = inet:127.0.0.1:$MILTER_PORT
milter_default_action = tempfail
smtpd_tls_cert_file = $PF/cert.pem
smtpd_tls_key_file = $PF/key.pem
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $PF/mail
virtual_mailbox_maps = static:bob/
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
maillog_file = $PF/maillog
EOF
{
    echo "127.0.0.1:$PF_PORT inet n - n - - smtpd"
    echo "127.0.0.1:$PFS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"
    # the Debian master.cf's services, without chroot (no copies of /etc needed)
    for svc in "pickup unix n - n 60 1 pickup" "cleanup unix n - n - 0 cleanup" \
        "qmgr unix n - n 300 1 qmgr" "rewrite unix - - n - - trivial-rewrite" \
        "bounce unix - - n - 0 bounce" "defer unix - - n - 0 bounce" \
        "trace unix - - n - 0 bounce" "verify unix - - n - 1 verify" \
        "proxymap unix - - n - - proxymap" "smtp unix - - n - - smtp" \
        "showq unix n - n - - showq" "error unix - - n - - error" \
        "retry unix - - n - - error" "discard unix - - n - - discard" \
        "virtual unix - n n - - virtual" "anvil unix - - n - 1 anvil" \
        "scache unix - - n - 1 scache" "postlog unix-dgram n - n - 1 postlogd" \
        "tlsmgr unix - - n 1000? 1 tlsmgr"; do
        echo "$svc"
    done
} >"$PF/etc/master.cf"
PF_CONF=$PF/etc
postfix -c "$PF_CONF" start >"$PF/start.log" 2>&1 || { cat "$PF/start.log" "$PF/maillog" >&2 2>/dev/null; die "postfix start failed"; }
wait_port "$PF_PORT" 20 || die "postfix did not listen"
count() { find "$MAILDIR/new" -maxdepth 1 -type f 2>/dev/null | wc -l; }
# until(COUNT): seconds from $T0 until the Maildir holds COUNT files
until_count() {
    while (($(count) < $1)); do sleep 0.05; done
    awk -v a="$T0" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}'
}
T0=$(now)
run postfix-verify "$PF_PORT" --file "$TMP/signed.eml" --sender x@signer.test >/dev/null
fv_s=$(until_count "$N")
passed=$( (grep -l "dkim=pass" "$MAILDIR"/new/* 2>/dev/null || true) | wc -l)
((passed == N)) || die "postfix+opendkim: $passed of $N verified messages say dkim=pass: $(
    grep -h -A2 -m1 '^Authentication-Results' "$MAILDIR"/new/* 2>/dev/null | head -3 || true)"
T0=$(now)
run postfix-sign "$PFS_PORT" --tls --source 127.0.0.2 --file "$TMP/plain.eml" \
    --sender alice@bench.test >/dev/null
fs_s=$(until_count $((2 * N)))
grep -qsz "DKIM-Signature: [^:]*d=bench.test" "$MAILDIR"/new/* || die "postfix: nothing signed"

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared with other work)"
echo "messages per flow: $N over $C sessions"
printf "%-24s %8s %8s\n" "" verify sign
printf "%-24s %8s %8s\n" "pigeon (msg/s)" "$(rate "$N" "$pv_s")" "$(rate "$N" "$ps_s")"
printf "%-24s %8s %8s\n" "postfix+opendkim (msg/s)" "$(rate "$N" "$fv_s")" "$(rate "$N" "$fs_s")"
echo "(nice -n -15, taskset -c 0,1 for every process of the run)"
awk -v a="$pv_s" -v b="$fv_s" -v c="$ps_s" -v d="$fs_s" \
    'BEGIN {printf "ratio pigeon/postfix+opendkim: verify %.2f sign %.2f\n", b / a, d / c}'
uptime
