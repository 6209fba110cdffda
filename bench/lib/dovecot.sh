# bench/lib/dovecot.sh — a private Dovecot fed with the very messages Pigeon stored, for the
# POP3 and IMAP benches. Sourced by bench/pop3.sh and bench/imap.sh; uses their TMP, PG, C,
# DOVECOT, DOVEADM and free_port, and sets DC (its directory), DC_PORT and DC_CONF's path.
# Each bench writes its own dovecot.conf (protocol and limits differ, dovecot_conf_common gives
# the rest) and starts it with start_dovecot.

stop_dovecot() {
    local conf=$DC_CONF
    DC_CONF=
    [[ -n $conf ]] || return 0
    "$DOVEADM" -c "$conf" stop >/dev/null 2>&1 || "$DOVECOT" -c "$conf" stop >/dev/null 2>&1 || true
    local pidf=$DC/run/master.pid pid
    pid=$(cat "$pidf" 2>/dev/null || true)
    for _ in $(seq 1 100); do [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
}


# Makes $DC with run/state/mail, a passwd-file with Pigeon's users and hashes, and one Maildir
# per user holding u1's INBOX.
dovecot_prepare() {
    DC=$TMP/dovecot
    DC_PORT=$(free_port)
    mkdir -p "$DC/run" "$DC/state" "$DC/mail"
    # The same bytes Pigeon stored, one Maildir per user in Maildir's native LF form, with the
    # sizes in the file names (S= on disk, W= with CRLF) as Dovecot itself writes them.
    python3 - "$PG/var/pigeon.db" "$PG/var" "$DC" "$C" <<'PYEOF'
import os, sqlite3, sys
db, data, dc, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
con = sqlite3.connect(db)
with open(os.path.join(dc, "passwd"), "w") as pw:
    for addr, h in con.execute("SELECT address, pw_hash FROM users ORDER BY id"):
        pw.write("%s:{CRYPT}%s::::::\n" % (addr, h))
rows = con.execute(
    "SELECT m.uid, b.path FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id "
    "JOIN users u ON u.id = mb.user_id JOIN blobs b ON b.id = m.blob_id "
    "WHERE u.address = 'u1@bench.test' AND mb.name = 'INBOX' ORDER BY m.uid").fetchall()
for i in range(1, users + 1):
    md = os.path.join(dc, "mail", "u%d" % i, "Maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    for uid, path in rows:
        crlf = open(os.path.join(data, path), "rb").read()
        lf = crlf.replace(b"\r\n", b"\n")
        name = "17000%05d.M%dP1.bench,S=%d,W=%d:2," % (uid, uid, len(lf), len(crlf))
        with open(os.path.join(md, "cur", name), "wb") as f:
            f.write(lf)
PYEOF
    chown -R nobody:nogroup "$DC/mail"
    DC_CONF=$DC/dovecot.conf
}

# The lines both benches' dovecot.conf share: loopback, private directories, plain logins
# against the passwd-file dovecot_prepare writes, a Maildir per user.
dovecot_conf_common() {
    cat <<EOF
listen = 127.0.0.1
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:$DC/mail/%n/Maildir
passdb {
  driver = passwd-file
  args = scheme=CRYPT username_format=%u $DC/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DC/mail/%n
}
EOF
}

start_dovecot() {
    "$DOVECOT" -c "$DC_CONF" || die "dovecot did not start (see $DC/dovecot.log)"
    wait_port "$DC_PORT" 10 || { cat "$DC/dovecot.log" >&2; die "dovecot did not listen on 127.0.0.1:$DC_PORT"; }
}
