/*
 * schema — the database schema as an ordered list of migrations.
 *
 * migrations[i] brings a database from version i to i + 1. Each runs in its own BEGIN
 * IMMEDIATE transaction together with its row in schema_migrations, so a crash leaves the
 * database at a whole version. Never edit a migration that has shipped: append a new one and
 * bump STORE_SCHEMA_VERSION in store.h.
 *
 * Conventions of the schema: times are unix seconds (INTEGER); names and addresses are stored
 * lower-cased (mailbox names excepted: IMAP names are case-sensitive but INBOX); blob ids are
 * file names under DATA/blobs/xx/ and blob paths are relative to the data directory.
 */
#include "store/db.h"

#include "core/err.h"
#include "core/log.h"

/* Version 1: everything SMTP, POP3, IMAP and the outgoing queue need. */
static const char migration_1[] =
    /* Process-wide counters, e.g. "uidvalidity": the last UIDVALIDITY handed out. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;"

    "CREATE TABLE domains ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE CHECK (name = lower(name)),"
    "  created INTEGER NOT NULL"
    ");"

    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,"
    "  local TEXT NOT NULL,"
    "  address TEXT NOT NULL UNIQUE CHECK (address = lower(address)),"
    "  pw_hash TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (domain_id, local)"
    ");"

    /* An alias may expand to several targets (one row each); unused by version 1 code. */
    "CREATE TABLE aliases ("
    "  id INTEGER PRIMARY KEY,"
    "  address TEXT NOT NULL CHECK (address = lower(address)),"
    "  target TEXT NOT NULL,"
    "  UNIQUE (address, target)"
    ");"

    /* RFC 9051 §2.3.1.1 (UIDVALIDITY, UIDNEXT), RFC 7162 (HIGHESTMODSEQ), RFC 6154 (special
     * use: "\Sent" etc., "" for none). */
    "CREATE TABLE mailboxes ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  uidvalidity INTEGER NOT NULL,"
    "  uidnext INTEGER NOT NULL DEFAULT 1,"
    "  highestmodseq INTEGER NOT NULL DEFAULT 1,"
    "  special_use TEXT NOT NULL DEFAULT '',"
    "  subscribed INTEGER NOT NULL DEFAULT 1,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (user_id, name)"
    ");"

    /* One row per immutable file; referenced by messages and queue rows. A row (and its file)
     * is removed by store_gc once nothing references it. */
    "CREATE TABLE blobs ("
    "  id TEXT PRIMARY KEY,"
    "  path TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  created INTEGER NOT NULL"
    ") WITHOUT ROWID;"

    /* flags: space-separated system flags and keywords, e.g. "\Seen $Forwarded".
     * msg_id: the store_msg id of the delivery (logs, POP3 UIDL). */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL,"
    "  blob_id TEXT NOT NULL REFERENCES blobs(id),"
    "  msg_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  internal_date INTEGER NOT NULL,"
    "  flags TEXT NOT NULL DEFAULT '',"
    "  modseq INTEGER NOT NULL,"
    "  UNIQUE (mailbox_id, uid)"
    ");"
    "CREATE INDEX messages_blob ON messages(blob_id);"
    "CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);"

    /* Expunged uids with the modseq of their expunge, for QRESYNC VANISHED (RFC 7162 §3.2). */
    "CREATE TABLE expunged ("
    "  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,"
    "  uid INTEGER NOT NULL,"
    "  modseq INTEGER NOT NULL,"
    "  PRIMARY KEY (mailbox_id, uid)"
    ") WITHOUT ROWID;"

    /* Outgoing queue: one row per (message, remote recipient).
     * state: 'queued' (waiting for next_attempt), 'sending', 'held', 'bounced', ... */
    "CREATE TABLE queue ("
    "  id INTEGER PRIMARY KEY,"
    "  msg_id TEXT NOT NULL,"
    "  blob_id TEXT NOT NULL REFERENCES blobs(id),"
    "  sender TEXT NOT NULL,"
    "  recipient TEXT NOT NULL,"
    "  arrived INTEGER NOT NULL,"
    "  next_attempt INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL DEFAULT 'queued'"
    ");"
    "CREATE INDEX queue_due ON queue(state, next_attempt);"
    "CREATE INDEX queue_blob ON queue(blob_id);"
    "CREATE INDEX queue_msg ON queue(msg_id);"

    /* Parsed once per blob at delivery (IMAP FETCH ENVELOPE/BODYSTRUCTURE, SEARCH). */
    "CREATE TABLE parse_cache ("
    "  blob_id TEXT PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,"
    "  envelope TEXT,"
    "  bodystructure TEXT,"
    "  body TEXT,"
    "  header_size INTEGER,"
    "  lines INTEGER,"
    "  search_headers TEXT,"
    "  created INTEGER NOT NULL"
    ") WITHOUT ROWID;";

/* Version 2 (IMAP): \Recent ownership (every uid above recent_uid is still unclaimed by a
 * session), subscriptions that outlive their mailbox (RFC 3501 §6.3.6; mailboxes.subscribed
 * now only seeds them for the default mailboxes through the trigger), and an index for the
 * "expunged since modseq" query of concurrent IMAP sessions. */
static const char migration_2[] =
    "ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE subscriptions ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, name)"
    ") WITHOUT ROWID;"
    "INSERT INTO subscriptions(user_id, name) SELECT user_id, name FROM mailboxes "
    "  WHERE subscribed = 1;"
    "CREATE TRIGGER mailboxes_default_subscribed AFTER INSERT ON mailboxes "
    "  WHEN NEW.subscribed = 1 AND (NEW.name = 'INBOX' OR NEW.special_use != '') "
    "  BEGIN INSERT OR IGNORE INTO subscriptions(user_id, name) "
    "  VALUES (NEW.user_id, NEW.name); END;"
    "CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);";

/* Version 3: the parse cache is emptied once, because BODYSTRUCTURE line counts changed (a last
 * line without a line end is no longer counted); rows come back lazily on the next FETCH. */
static const char migration_3[] = "DELETE FROM parse_cache;";

/* Version 4 (quotas): limits per user and per domain (0: none) in bytes and messages, and
 * each user's usage kept by triggers on the messages table (every insert and delete, also
 * the cascades of a deleted mailbox), seeded from the messages already stored. */
static const char migration_4[] =
    "ALTER TABLE users ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE users ADD COLUMN used_messages INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE domains ADD COLUMN quota_bytes INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE domains ADD COLUMN quota_messages INTEGER NOT NULL DEFAULT 0;"
    "UPDATE users SET "
    "  used_bytes = (SELECT coalesce(sum(m.size), 0) FROM messages m "
    "                JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = users.id),"
    "  used_messages = (SELECT count(*) FROM messages m "
    "                   JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.user_id = users.id);"
    "CREATE TRIGGER messages_usage_add AFTER INSERT ON messages BEGIN "
    "  UPDATE users SET used_bytes = used_bytes + NEW.size, used_messages = used_messages + 1 "
    "  WHERE id = (SELECT user_id FROM mailboxes WHERE id = NEW.mailbox_id); END;"
    "CREATE TRIGGER messages_usage_del AFTER DELETE ON messages BEGIN "
    "  UPDATE users SET used_bytes = used_bytes - OLD.size, used_messages = used_messages - 1 "
    "  WHERE id = (SELECT user_id FROM mailboxes WHERE id = OLD.mailbox_id); END;"
    /* A deleted mailbox's messages go by cascade after its row, when the trigger above no
     * longer finds their user: their total is taken off before. */
    "CREATE TRIGGER mailboxes_usage_del BEFORE DELETE ON mailboxes BEGIN "
    "  UPDATE users SET "
    "    used_bytes = used_bytes - (SELECT coalesce(sum(size), 0) FROM messages "
    "                               WHERE mailbox_id = OLD.id),"
    "    used_messages = used_messages - (SELECT count(*) FROM messages "
    "                                     WHERE mailbox_id = OLD.id) "
    "  WHERE id = OLD.user_id; END;";

/* Version 5 (Sieve): each user's scripts (at most one active, RFC 5804 §1.2) and the vacation
 * memory (RFC 5230 §4.2: who was answered with which text, until when). */
static const char migration_5[] =
    "CREATE TABLE sieve_scripts ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  script BLOB NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 0,"
    "  updated INTEGER NOT NULL,"
    "  UNIQUE (user_id, name)"
    ");"
    "CREATE UNIQUE INDEX sieve_one_active ON sieve_scripts(user_id) WHERE active = 1;"
    "CREATE TABLE sieve_vacation ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  handle TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  expires INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, handle, sender)"
    ") WITHOUT ROWID;";

/* Version 6: the parse cache becomes a rowid table. A WITHOUT ROWID row keeps at most about a
 * quarter of a page in its leaf (~1000 bytes on 4 KiB pages); an Authentication-Results field
 * took the typical row past that, so every row read followed an overflow page and 20 IMAP
 * clients ran at half speed (SEARCH SUBJECT 10 -> 38 ms). A rowid table's leaf holds ~4 KiB. */
static const char migration_6[] =
    "CREATE TABLE parse_cache_v6 ("
    "  blob_id TEXT PRIMARY KEY REFERENCES blobs(id) ON DELETE CASCADE,"
    "  envelope TEXT,"
    "  bodystructure TEXT,"
    "  body TEXT,"
    "  header_size INTEGER,"
    "  lines INTEGER,"
    "  search_headers TEXT,"
    "  created INTEGER NOT NULL"
    ");"
    "INSERT INTO parse_cache_v6 SELECT blob_id, envelope, bodystructure, body, header_size, "
    "  lines, search_headers, created FROM parse_cache;"
    "DROP TABLE parse_cache;"
    "ALTER TABLE parse_cache_v6 RENAME TO parse_cache;";

/* Version 7 (JMAP threads, store/jmap_threads.c, and submissions, store/jmap_submissions.c):
 * the conversation of each message a JMAP
 * client has seen, by (mailbox, uid) and kept after an expunge (Thread/changes names the
 * thread of a destroyed Email), with its file so a copy or move stays in its thread; and
 * per user, the message ids of each thread with its base subject, which later messages are
 * matched against. No foreign key to mailboxes: the rows must outlive their messages. */
static const char migration_7[] =
    "CREATE TABLE jmap_threads ("
    "  mailbox_id INTEGER NOT NULL,"
    "  uid INTEGER NOT NULL,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  blob_id TEXT NOT NULL,"
    "  thread_id INTEGER NOT NULL,"
    "  PRIMARY KEY (mailbox_id, uid)"
    ") WITHOUT ROWID;"
    "CREATE INDEX jmap_threads_blob ON jmap_threads(user_id, blob_id);"
    "CREATE INDEX jmap_threads_id ON jmap_threads(thread_id);"
    "CREATE TABLE jmap_thread_refs ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  msgid TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  thread_id INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, msgid, subject)"
    ") WITHOUT ROWID;"
    /* JMAP EmailSubmission objects (RFC 8621 §7) as JSON, seq the user's change counter; a
     * destroyed one keeps its row with object '' under a new seq, so the state (max seq) only
     * grows and EmailSubmission/changes reads the rows above it. */
    "CREATE TABLE jmap_submissions ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  object TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, id)"
    ") WITHOUT ROWID;";

/* Version 8 (RFC 8689): each queue row's delivery requirements (enum store_queue_flag:
 * REQUIRETLS, "TLS-Required: No"), kept with the row so a retry after a restart obeys them. */
static const char migration_8[] = "ALTER TABLE queue ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;";

/* Version 9 (IMAP METADATA, RFC 5464): annotations of the server (mailbox_id 0, kept per
 * user) and of mailboxes, which go with their mailbox. */
static const char migration_9[] =
    "CREATE TABLE imap_metadata ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mailbox_id INTEGER NOT NULL,"
    "  entry TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY (user_id, mailbox_id, entry)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER mailboxes_metadata_del AFTER DELETE ON mailboxes BEGIN "
    "  DELETE FROM imap_metadata WHERE user_id = OLD.user_id AND mailbox_id = OLD.id; END;";

/* Version 10 (store/reports.h): aggregate reports received by mail (DMARC, TLS-RPT), parsed
 * and kept with the message that carried them; one row per (kind, org, report_id). */
static const char migration_10[] =
    "CREATE TABLE received_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  org TEXT NOT NULL,"
    "  report_id TEXT NOT NULL,"
    "  domain TEXT NOT NULL,"
    "  begin_at INTEGER NOT NULL,"
    "  end_at INTEGER NOT NULL,"
    "  data TEXT NOT NULL,"
    "  msg_id TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  UNIQUE (kind, org, report_id)"
    ");"
    "CREATE INDEX received_reports_period ON received_reports(kind, end_at);";

/* Version 11: URLAUTH (RFC 4467) mailbox access keys, which go with their mailbox; and the
 * zone of each message's internal date (minutes east of UTC, as APPEND gave it; RFC 3501
 * §2.3.3), so FETCH INTERNALDATE returns the date-time as written. */
static const char migration_11[] =
    "CREATE TABLE imap_urlauth_keys ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  mailbox_id INTEGER NOT NULL,"
    "  key BLOB NOT NULL,"
    "  PRIMARY KEY (user_id, mailbox_id)"
    ") WITHOUT ROWID;"
    "CREATE TRIGGER mailboxes_urlauth_del AFTER DELETE ON mailboxes BEGIN "
    "  DELETE FROM imap_urlauth_keys WHERE user_id = OLD.user_id AND mailbox_id = OLD.id; END;"
    "ALTER TABLE messages ADD COLUMN date_tz INTEGER NOT NULL DEFAULT 0;";

static const char *const migrations[] = {migration_1, migration_2, migration_3, migration_4,
                                         migration_5, migration_6, migration_7, migration_8,
                                         migration_9, migration_10, migration_11};

_Static_assert(sizeof migrations / sizeof migrations[0] == STORE_SCHEMA_VERSION,
               "one migration per schema version");

/* Reads the current version (0 for an empty database). Creates the bookkeeping table. */
static int current_version(struct store *st, int64_t *v_out)
{
    int rc = db_exec(st, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         "  version INTEGER PRIMARY KEY,"
                         "  applied_at INTEGER NOT NULL)");
    if (rc == 0)
        rc = db_query_int64(st, "SELECT coalesce(max(version), 0) FROM schema_migrations", NULL,
                            v_out);
    return rc;
}

/* Applies migration number v + 1 unless another process did it meanwhile. */
static int apply_one(struct store *st, int64_t v)
{
    int rc = db_begin(st);
    if (rc != 0)
        return rc;
    int64_t now_v = 0;
    rc = current_version(st, &now_v); /* re-read under the write lock */
    if (rc == 0 && now_v == v) {
        rc = db_exec(st, migrations[v]);
        sqlite3_stmt *s = NULL;
        if (rc == 0)
            rc = db_prepare(st, "INSERT INTO schema_migrations(version, applied_at) VALUES(?, ?)",
                            &s);
        if (rc == 0 && (db_bind_int64(s, 1, v + 1) || db_bind_int64(s, 2, db_now()) ||
                        db_step(st, s, "record migration") != SQLITE_DONE))
            rc = ERR_DB;
        sqlite3_finalize(s);
    }
    if (rc != 0) {
        db_rollback(st);
        return rc;
    }
    rc = db_commit(st);
    if (rc == 0 && now_v == v)
        log_info("store: schema migrated to version %lld", (long long)(v + 1));
    return rc;
}

int db_migrate(struct store *st, const char **err_out)
{
    int64_t v = 0;
    int rc = current_version(st, &v);
    if (rc == 0 && v > STORE_SCHEMA_VERSION) {
        *err_out = "database schema is newer than this program";
        return ERR_BUSY_STATE;
    }
    while (rc == 0 && v < STORE_SCHEMA_VERSION) {
        rc = apply_one(st, v);
        if (rc == 0)
            rc = current_version(st, &v);
    }
    if (rc != 0)
        *err_out = "schema migration failed";
    return rc;
}
