#!/bin/sh
# Creates the sample domain hamburger.edu with users alice (password "crepes") and bob
# (password "hungry"), as `make run` expects. Idempotent: silent when all of it exists,
# otherwise prints what it created.  Usage: scripts/sample-setup.sh BUILD_DIR CONF
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR CONF" >&2
    exit 2
fi
pigeon="$1/pigeon"
conf=$2
domain=hamburger.edu

if [ ! -x "$pigeon" ]; then
    echo "sample-setup: $pigeon not built" >&2
    exit 1
fi

# Fail (set -e) if the store cannot be read, rather than trying to create things blindly.
domains=$("$pigeon" -c "$conf" domain list)
if ! printf '%s\n' "$domains" | grep -qxF "$domain"; then
    "$pigeon" -c "$conf" domain add "$domain"
    echo "sample-setup: created domain $domain"
fi

users=$("$pigeon" -c "$conf" user list "$domain")

user_ensure() {
    if ! printf '%s\n' "$users" | grep -qxF "$1@$domain"; then
        printf '%s\n' "$2" | "$pigeon" -c "$conf" user add "$1@$domain"
        echo "sample-setup: created user $1@$domain (password: $2)"
    fi
}

user_ensure alice crepes
user_ensure bob hungry

# The Web site of the sample config: a copy under var/, so uploads never write into the source
# tree (only when CONF serves that root).
www=var/www/hamburger.edu
if grep -q "^root = $www\$" "$conf" && [ ! -d "$www" ]; then
    mkdir -p var/www
    cp -R "$(dirname "$0")/../etc/www/hamburger.edu" "$www"
    echo "sample-setup: copied the hamburger.edu web site to $www"
fi

# DNSSEC: hamburger.edu's key (pigeond would make it on first start; made here so that its DS
# can be the resolver's trust anchor before pigeond runs), and the anchor file the sample's
# [resolver] trust_anchor names (only when CONF uses it).
anchors=var/trust-anchors.key
if grep -q "^trust_anchor = ../$anchors\$" "$conf" && [ ! -s "$anchors" ]; then
    mkdir -p var
    if ! ls var/dnssec/hamburger.edu.+* >/dev/null 2>&1; then
        mkdir -p var/dnssec
        chmod 700 var/dnssec
        "$pigeon" dnssec keygen var/dnssec hamburger.edu. >/dev/null
        echo "sample-setup: made the DNSSEC key of hamburger.edu in var/dnssec/"
    fi
    { echo "; trust anchors of the sample resolver: hamburger.edu's DS (scripts/sample-setup.sh)"
      "$pigeon" -c "$conf" dnssec ds hamburger.edu; } > "$anchors.tmp"
    mv "$anchors.tmp" "$anchors"
    echo "sample-setup: wrote $anchors (the resolver validates hamburger.edu)"
fi

# FTP: each sample user's tree and the anonymous tree of the sample's [ftp] (only when CONF
# uses them).
if grep -q "^root = var/ftp\$" "$conf" && [ ! -d var/ftp-public ]; then
    mkdir -p var/ftp/alice@$domain var/ftp/bob@$domain var/ftp-public
    echo "Welcome to the Hamburger University FTP server." > var/ftp-public/README
    echo "lecture notes" > var/ftp/bob@$domain/notes.txt
    echo "sample-setup: made the FTP trees var/ftp/ (users) and var/ftp-public/ (anonymous)"
fi
