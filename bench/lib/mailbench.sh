# bench/lib/mailbench.sh — the Pigeon half of the POP3 and IMAP benches: users, their hashes,
# the maildrop delivered over SMTP, and pigeond's start and stop. Sourced by bench/pop3.sh and
# bench/imap.sh after bench/lib/common.sh; uses their TMP, PG, PG_CONF, C, MSGS, SIZE, PIGEON
# and PIGEOND, and PG_PORT (the port pigeond is waited on).

stop_pigeond() {
    local pid=$PIGEOND_PID
    PIGEOND_PID=
    stop_pid pigeond "$pid"
}

start_pigeond() {
    "$PIGEOND" -c "$PG_CONF" >>"$PG/pigeond.log" 2>&1 &
    PIGEOND_PID=$!
    wait_port "$PG_PORT" 10 || { cat "$PG/pigeond.log" >&2; die "pigeond did not listen on 127.0.0.1:$PG_PORT"; }
}

# The domain bench.test and users u1..uC with passwords pw-1..pw-C; $TMP/users lists them.
mailbench_users() {
    "$PIGEON" -c "$PG_CONF" domain add bench.test >/dev/null
    : >"$TMP/users"
    local i
    for i in $(seq 1 "$C"); do
        echo "pw-$i" | "$PIGEON" -c "$PG_CONF" user add "u$i@bench.test" >/dev/null
        echo "u$i@bench.test pw-$i" >>"$TMP/users"
    done
}

# Same algorithm, lowest cost; written before pigeond starts. Dovecot gets the same hashes.
mailbench_cheap_hashes() {
    python3 - "$PG/var/pigeon.db" <<'PYEOF'
import ctypes, sqlite3, sys
lc = ctypes.CDLL("libcrypt.so.1")
lc.crypt_gensalt.restype = lc.crypt.restype = ctypes.c_char_p
lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
con = sqlite3.connect(sys.argv[1])
with con:
    for uid, addr in con.execute("SELECT id, address FROM users").fetchall():
        pw = ("pw-" + addr.split("@")[0][1:]).encode()
        h = lc.crypt(pw, lc.crypt_gensalt(b"$y$", 1, None, 0)).decode()
        con.execute("UPDATE users SET pw_hash = ? WHERE id = ?", (h, uid))
PYEOF
}

# mailbench_deliver SMTP_PORT SEED STYLE: MSGS messages of ~SIZE octets to every user, in one
# SMTP session, then checks u1's and uC's counts. STYLE imap: a display name and a random word
# in the subject; pop3: 2 % of the body lines start with a dot (dot-stuffing).
mailbench_deliver() {
    log "delivering $MSGS messages of ~$SIZE octets to $C users over SMTP"
    python3 - "$1" "$MSGS" "$SIZE" "$C" "$2" "$3" <<'PYEOF'
import random, smtplib, sys
port, msgs, size, users, seed = (int(a) for a in sys.argv[1:6])
style = sys.argv[6]
rnd = random.Random(seed)
words = "the quick brown fox jumps over lazy dog mail pigeon ketchup pickles".split()
rcpts = ["u%d@bench.test" % i for i in range(1, users + 1)]
s = smtplib.SMTP("127.0.0.1", port)
for n in range(msgs):
    if style == "imap":
        head = ("From: Alice <alice@crepes.fr>\r\nTo: bench@bench.test\r\n"
                "Subject: bench message %d %s\r\nMessage-ID: <%d.bench@crepes.fr>\r\n"
                "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n" % (n, rnd.choice(words), n))
    else:
        head = ("From: alice@crepes.fr\r\nTo: bench@bench.test\r\nSubject: bench message %d\r\n"
                "Message-ID: <%d.bench@crepes.fr>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n"
                % (n, n))
    body = []
    total = len(head)
    while total < size:
        line = " ".join(rnd.choice(words) for _ in range(12))[:72]
        if style == "pop3" and rnd.random() < 0.02:
            line = "." + line  # exercises dot-stuffing
        body.append(line)
        total += len(line) + 2
    s.sendmail("alice@crepes.fr", rcpts, (head + "\r\n".join(body) + "\r\n").encode())
s.quit()
PYEOF
    local i got
    for i in 1 "$C"; do
        got=$("$PIGEON" -c "$PG_CONF" mail list "u$i@bench.test" | wc -l)
        ((got == MSGS)) || die "pigeon: u$i has $got messages, expected $MSGS"
    done
}
