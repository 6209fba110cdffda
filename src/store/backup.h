/*
 * backup — a consistent copy of a data directory while pigeond runs, and its restore.
 *
 * store_backup: SQLite's online backup API copies pigeon.db as one snapshot (other
 * connections keep writing; the copy restarts if they change pages under it), then every
 * message file that snapshot references is copied, fsynced, into the backup directory. Files
 * are immutable and written before their rows are committed, so each file the snapshot names
 * exists; one removed since (store_gc after a later deletion) takes its rows out of the copy,
 * as a deletion just after the snapshot would. The rest of the data directory is the
 * services' state and is copied whole, modes kept: the generated certificate, the zones'
 * journals and DNSSEC keys, the DKIM keys, the SRS secret, the DHCP leases (SQLite's online
 * backup again), JMAP identities, resolver anchors...; not the running daemon's pid and
 * control socket, temporary files or the Web cache (backup.c: not_state). store_restore: the
 * reverse, into an empty data directory, database last, after checking the backup
 * (integrity_check, every file present).
 *
 * Both block on disk I/O for as long as the copy takes. Not used by the daemon.
 */
#ifndef PIGEON_STORE_BACKUP_H
#define PIGEON_STORE_BACKUP_H

#include <stdint.h>

struct store;

struct store_backup_stats {
    int64_t files;    /* message files copied */
    int64_t bytes;    /* their bytes */
    int64_t messages; /* mailbox messages in the copy */
    int64_t queued;   /* outgoing queue entries in the copy */
    int64_t dropped;  /* message files gone since the snapshot (their rows left out) */
};

/* Backs st up into dir, which must not exist or be empty (created 0750). 0, or < 0 with a
 * reason in *why (static or owned by st's error text; valid until the next call). */
int store_backup(struct store *st, const char *dir, struct store_backup_stats *stats,
                 const char **why);

/* Restores the backup in dir into data_dir, which must not exist or be empty. 0, or < 0 with
 * *why. */
int store_restore(const char *dir, const char *data_dir, struct store_backup_stats *stats,
                  const char **why);

#endif
