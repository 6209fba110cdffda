/*
 * smtp service, route — recipients in local domains: RCPT's routing decision and, at end of
 * data, the expansion of routed recipients (aliases, forwards) with SRS senders and
 * Delivered-To lines for forwarded copies. See route.c. Blocks on SQLite reads.
 */
#ifndef PIGEON_SMTP_SERVICE_ROUTE_H
#define PIGEON_SMTP_SERVICE_ROUTE_H

#include "conf/config.h"
#include "core/str.h"
#include "smtp/session.h"

#include <stddef.h>
#include <stdint.h>

struct store;

/* Routes local@domain (lower-cased, domain local) into out: LOCAL (one INBOX), ROUTED (to be
 * expanded at end of data), REMOTE (an SRS bounce relayed to its original sender). */
enum smtp_rcpt_verdict smtp_route_rcpt(struct store *st, const struct config *cfg,
                                       const char *local, const char *domain,
                                       struct smtp_rcpt *out);

/* Where one message goes, all strings owned (smtp_route_out_clear). */
struct smtp_route_out {
    int64_t *users;
    size_t n_users;
    char **remotes; /* remote recipients */
    char **senders; /* per remote: the SRS sender of a forwarded copy, NULL: the envelope's */
    size_t n_remotes;
    struct str prefix; /* "Delivered-To: ..." lines for the queued copy ("" when none) */
};

/* Expands txn's recipients. 0; ERR_LOOP (too many hops, or a forward finds its own
 * Delivered-To:); or a store error (temporary). */
int smtp_route_expand(struct store *st, const struct config *cfg, const struct smtp_txn *txn,
                      struct smtp_route_out *out);
/* A Sieve redirect by the user at `via` to `to`: local users and aliases resolved into o,
 * remote targets queued with an SRS sender in via's domain and "Delivered-To: via". ERR_LOOP
 * when the message already passed through via; else 0 or a store error. */
int smtp_route_redirect(struct store *st, const struct config *cfg, const struct smtp_txn *txn,
                        const char *via, const char *to, struct smtp_route_out *o);
void smtp_route_out_clear(struct smtp_route_out *o);

#endif
