/*
 * glue — the engines behind listeners whose services have not moved to their own folders
 * yet (smtp_glue.c, imap_glue.c), and IMAP's listener for mailbox changes.
 */
#ifndef PIGEON_DAEMON_GLUE_H
#define PIGEON_DAEMON_GLUE_H

#include "host/host.h"

extern const struct proto_ops smtp_proto;
extern const struct proto_ops imap_proto;

/* host_change_fn for IMAP's sessions: posts the notice to every worker (imap_glue.c). */
void imap_notify(void *ctx, struct worker *from, const int64_t *users, size_t n,
                 int64_t mailbox_id, uint64_t origin);

#endif
