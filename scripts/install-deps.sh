#!/bin/sh
# Installs the Debian packages Pigeon needs, but only those missing.
#   scripts/install-deps.sh run    what building and running need (`make run`, `make install`)
#   scripts/install-deps.sh test   that plus the test toolchain and interop peers (`make check`)
# Fast no-op (one dpkg-query) when everything is present; apt-get update runs only when
# something has to be installed. Without root it lists what is missing and exits 1.
set -eu

# Libraries pigeond links with, the tools `make` and `make install` use, and what pigeond reads
# at run time (the trust store, the Public Suffix List). A new library dependency of the daemon
# goes here (its -dev package); tests/integration/test_deps.py checks the list against the build.
RUN_PACKAGES="build-essential pkg-config libevent-dev libssl-dev libsqlite3-dev libcrypt-dev libidn2-dev
libnghttp2-dev zlib1g-dev libbrotli-dev libjansson-dev libcurl4-openssl-dev libxml2-dev libarchive-dev
python3 openssl ca-certificates publicsuffix"

# Test toolchain, clients and interop peers: only `make check`, the benches and `make demo`
# need them. Append new test-only packages here. pure-ftpd (bench/ftp.sh) conflicts with
# vsftpd (both are ftp-server), so the bench fetches its .deb with apt-get download and runs
# it unpacked: its libraries (libsodium23, libcap2) are listed instead.
PACKAGES="clang iproute2 libclang-rt-14-dev libcmocka-dev python3-pytest python3-pytest-xdist python3-dnspython
swaks libnet-ssleay-perl fetchmail curl getmail6 bind9-utils postfix nsd unbound
bind9-dnsutils knot-dnsutils knot knot-dnssecutils ldnsutils python3-cryptography dnsperf
isync mutt dovecot-imapd sieve-connect
fail2ban systemd publicsuffix python3-dkim python3-nacl opendkim opendkim-tools
python3-authres libxml2-utils
nghttp2-client wget chromium chromium-driver python3-selenium python3-websocket nginx h2o wrk strace checksec
debhelper dpkg-dev fakeroot lintian
varnish squid
lftp tnftp vsftpd libsodium23 libcap2
isc-dhcp-client udhcpc dhcpcd5 python3-scapy kea-admin kea-dhcp4-server dnsmasq-base
aria2 python3-libtorrent mktorrent transmission-cli transmission-daemon opentracker"

case "${1:-test}" in
run) PACKAGES=$RUN_PACKAGES ;;
test) PACKAGES="$RUN_PACKAGES $PACKAGES" ;;
*)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac

# dpkg-query prints nothing for packages it has never heard of, so compare against the list.
# shellcheck disable=SC2086 # word splitting of the package list is intended
installed=" $(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $PACKAGES 2>/dev/null |
    awk '$2 == "installed" { printf "%s ", $1 }') " || true

missing=
for p in $PACKAGES; do
    case "$installed" in
    *" $p "*) ;;
    *) missing="$missing $p" ;;
    esac
done
missing=${missing# }

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing Debian packages: $missing" >&2
    echo "install-deps: run as root, or: sudo apt-get install $missing" >&2
    exit 1
fi

echo "install-deps: installing $missing"
export DEBIAN_FRONTEND=noninteractive
# postfix is for the interop tests and the outbound bench (private instances, smtp-sink):
# answer its debconf question up front, with no system mail configuration.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -q --no-install-recommends $missing
# No system NSD, Unbound, Dovecot, nginx or h2o left running: they would hold ports (53, 143,
# 110, 80) that the tests use on 127.0.53.x (the tests and benches start private instances).
for svc in nsd unbound dovecot fail2ban nginx h2o opendkim vsftpd; do
    case " $missing " in
    *" $svc "* | *" $svc-"*)
        if command -v systemctl >/dev/null; then
            systemctl stop "$svc" >/dev/null 2>&1 || true
            systemctl disable "$svc" >/dev/null 2>&1 || true
        fi
        ;;
    esac
done
# No system Postfix left running (the tests start their own instances).
case " $missing " in
*" postfix "*)
    if command -v systemctl >/dev/null; then
        systemctl stop postfix >/dev/null 2>&1 || true
        systemctl disable postfix >/dev/null 2>&1 || true
    fi
    if [ -f /etc/postfix/main.cf ] && postfix status >/dev/null 2>&1; then
        postfix stop >/dev/null 2>&1 || true
    fi
    ;;
esac
