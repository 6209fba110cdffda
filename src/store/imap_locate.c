/*
 * imap_locate — one message of a user's mailbox by uid (store/imap.h): what CATENATE's URLs
 * (RFC 4469) name. One indexed read.
 */
#include "store/imap.h"

#include "store/db.h"

#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>

int store_imap_locate(struct store *st, const char *user, const char *name, int64_t uid,
                      int64_t *uidvalidity_out, char blob_out[40])
{
    char *addr = db_address_norm(user, NULL);
    if (!addr)
        return ERR_NOTFOUND;
    sqlite3_stmt *s;
    int rc = db_prepare_cached(st,
                               "SELECT mb.uidvalidity, m.blob_id FROM users u "
                               "JOIN mailboxes mb ON mb.user_id = u.id AND mb.name = ?2 "
                               "LEFT JOIN messages m ON m.mailbox_id = mb.id AND m.uid = ?3 "
                               "WHERE u.address = ?1",
                               &s);
    if (rc == 0) {
        int src = SQLITE_ERROR;
        if (!db_bind_text(s, 1, addr) && !db_bind_text(s, 2, name) && !db_bind_int64(s, 3, uid))
            src = db_step(st, s, "locate message");
        const char *blob = src == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 1) : NULL;
        if (src == SQLITE_ROW)
            *uidvalidity_out = sqlite3_column_int64(s, 0);
        if (blob)
            snprintf(blob_out, 40, "%s", blob);
        rc = blob                 ? 0
             : src == SQLITE_ROW  ? ERR_PARSE /* the mailbox is there, the message is not */
             : src == SQLITE_DONE ? ERR_NOTFOUND
                                  : db_err(src);
        db_done(st, s);
    }
    free(addr);
    return rc;
}
