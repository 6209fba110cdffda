#!/bin/sh
# Checks the include rule of DESIGN.md §2 and docs/architecture.md: lower layers never include
# higher ones. A layer is a folder under src/ (sub-folders are layers of their own: dns/xfr,
# smtp/service ...); an include's layer is the folder of the included file.
#
#   core <- net, conf <- msg, auth, store, dns/* <- spf, queue <- host <- X/service <- services
#   <- daemon, cli.  Engines (smtp, pop3, imap) include core, msg and auth only; their glue in
#   src/X/service/ may use everything below services/. cli never includes daemon/.
set -eu
cd "$(dirname "$0")/.."
status=0
check() { # check DIR "allowed folders..."  (an entry ending in /* allows its sub-folders)
    dir=$1; shift
    allowed=$*
    for f in $(find "src/$dir" -maxdepth 1 -name '*.[ch]' 2>/dev/null); do
        for inc in $(sed -n 's/^#include "\(.*\)\/[^/]*"/\1/p' "$f" | sort -u); do
            ok=no
            for a in $dir $allowed; do
                case $a in
                */\*) [ "${inc#"${a%/\*}"/}" != "$inc" ] && ok=yes ;;
                *) [ "$inc" = "$a" ] && ok=yes ;;
                esac
            done
            if [ $ok = no ]; then
                echo "layer violation: $f includes $inc/ (allowed: $dir $allowed)"
                status=1
            fi
        done
    done
}
# Every folder that holds sources must have a rule: a new folder is added here.
for d in $(find src -name '*.[ch]' -exec dirname {} \; | sort -u); do
    d=${d#src/}
    if ! grep -q "^check $d " "$0" && ! grep -q "^check $d\$" "$0"; then
        echo "layers: no rule for src/$d in $0"
        status=1
    fi
done
ENGINE_LIBS="core msg auth"
BELOW_SERVICES="core net conf msg auth store dns dns/* spf queue host"
check core
check net core
check conf core
check msg core
check auth core msg
check store core msg
check dns core
check dns/auth core dns dns/dnssec
check dns/xfr core dns net
check dns/resolver core dns dns/auth dns/dnssec
check dns/server core dns dns/auth dns/xfr
check dns/dnssec core dns
# the DNS services' glue, above their engines, and their one DNS-over-TCP framing
check dns/server/service $BELOW_SERVICES
check dns/resolver/service $BELOW_SERVICES
check dns/service $BELOW_SERVICES
check spf core msg dns dns/resolver
check mailauth core msg dns dns/resolver
check queue core msg store smtp dns dns/resolver mailauth
check host core net conf msg auth store dns dns/resolver
check smtp $ENGINE_LIBS
check pop3 $ENGINE_LIBS
check imap $ENGINE_LIBS
check ftp $ENGINE_LIBS
check http $ENGINE_LIBS
check http/handler $ENGINE_LIBS http
check cache core http
check proxy core http cache
check smtp/service $BELOW_SERVICES smtp mailauth/service sieve/service imap
check torrent $ENGINE_LIBS
check torrent/service $BELOW_SERVICES torrent http http/service
check pop3/service $BELOW_SERVICES pop3
check imap/service $BELOW_SERVICES imap
check ftp/service $BELOW_SERVICES ftp
check mailauth/service $BELOW_SERVICES mailauth http http/service
check http/service $BELOW_SERVICES http http/handler
check proxy/service $BELOW_SERVICES http cache proxy http/service
check jmap core msg
check dhcp core
check sieve core msg
check sieve/service $BELOW_SERVICES sieve imap
check dhcp/service $BELOW_SERVICES dhcp
check managesieve $ENGINE_LIBS sieve
check managesieve/service $BELOW_SERVICES managesieve sieve
check jmap/service $BELOW_SERVICES jmap http http/service sieve
check services $BELOW_SERVICES dns/server/service dns/resolver/service mailauth/service smtp/service pop3/service imap/service http/service proxy/service jmap/service ftp/service dhcp/service managesieve/service torrent/service
check daemon $BELOW_SERVICES services
# cli: import/export name Maildir folders with imap/mutf7 and imap/mailbox_name (pure).
check cli $BELOW_SERVICES imap sieve http/service proxy/service services mailauth mailauth/service dhcp dhcp/service torrent
[ $status = 0 ] && echo "layers: ok"
exit $status
