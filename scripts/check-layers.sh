#!/bin/sh
# Checks the include rule of DESIGN.md §2: lower layers never include higher ones.
#   core  <- msg, auth, store  <- queue <- daemon ; engines (smtp) include core, msg (and auth's
#   pure SASL decoder) only; cli and daemon are the top.
set -eu
cd "$(dirname "$0")/.."
status=0
check() { # check DIR "allowed dirs..."
    dir=$1; shift
    allowed=$*
    for f in $(find "src/$dir" -name '*.[ch]' 2>/dev/null); do
        for inc in $(sed -n 's/^#include "\([a-z_]*\)\/.*"/\1/p' "$f" | sort -u); do
            ok=no
            for a in $dir $allowed; do [ "$inc" = "$a" ] && ok=yes; done
            if [ $ok = no ]; then
                echo "layer violation: $f includes $inc/ (allowed: $dir $allowed)"
                status=1
            fi
        done
    done
}
check core
check msg core
check auth core msg
check store core msg
check queue core msg store smtp dns
check spf core msg dns
check dns core net
check net core
check imap core msg auth
check smtp core msg auth
check pop3 core msg auth
# http: the engine and handlers use core, msg; its service glue (http/service/) still reaches
# the daemon's conn layer and wiring until they move below the services.
check http core msg auth store daemon net
check daemon core msg auth store queue smtp pop3 imap dns spf net http
# cli: import/export name Maildir folders with imap/mutf7 and imap/mailbox_name (pure).
check cli core msg auth store daemon dns imap http
[ $status = 0 ] && echo "layers: ok"
exit $status
