/*
 * sieve delivery — Sieve at final delivery: for each local user of a message with an active
 * script, the script is read from the store and run (src/sieve/), and its actions become a
 * plan: deliveries into mailboxes with flags (store_target), users left to the plain INBOX
 * delivery, redirects, a reject, and replies to send once the message is committed (vacation,
 * with the memory of who was answered; reject notices). A script that fails — unreadable,
 * invalid, over a limit, incompatible actions — keeps the message in INBOX and is logged:
 * Sieve never loses a message.
 *
 * Runs on the worker (small indexed reads on the worker's store handle, CPU bounded by the
 * engine's limits); replies are submitted to the committer like any message.
 */
#ifndef PIGEON_SIEVE_SERVICE_DELIVERY_H
#define PIGEON_SIEVE_SERVICE_DELIVERY_H

#include "core/str.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct committer;

struct sieve_delivery_in {
    const char *from;     /* envelope sender ("" for <>) */
    const char *body;     /* the message as stored */
    size_t len;
    const char *data_dir; /* global scripts: DATA/sieve-global/NAME.sieve */
    char delimiter;       /* subaddress separator ('\0' none) */
    bool junk;            /* the default mailbox is Junk (a DMARC quarantine) */
    uint64_t log_id;      /* the session id, for the log */
};

/* A message Sieve sends once the delivery is durable. */
struct sieve_reply {
    struct str text;             /* the whole message */
    char *rcpt;                  /* its envelope recipient */
    int64_t local_user;          /* > 0: that user's INBOX; 0: queued for rcpt */
    char *handle;                /* vacation: its handle (NULL: a reject notice) */
    struct store_msg msg;        /* filled by sieve_reply_msg */
};

struct sieve_redirect {
    int64_t user;
    char *via; /* the user's address (Delivered-To of the forwarded copy) */
    char *to;
};

struct sieve_plan {
    struct store_target *targets; /* mailbox and flags strings owned */
    size_t n_targets;
    int64_t *plain;               /* users without a script, or whose script failed */
    size_t n_plain;
    struct sieve_redirect *redirects;
    size_t n_redirects;
    char *reject;                 /* the first reject's reason, NULL: none */
    size_t n_rejected;            /* users whose script rejected */
    struct sieve_reply **replies;
    size_t n_replies;
    struct store_vacation_mark *marks; /* the vacation memory to commit with the message */
    size_t n_marks;
};

/*
 * Plans the delivery of one message to users[0..n) (rcpt[i]: the address it was sent to for
 * users[i], NULL: the user's own address). Never fails: a store error for one user leaves it
 * in plain, and is logged.
 */
void sieve_plan_make(struct store *st, const struct sieve_delivery_in *in, const int64_t *users,
                     const char *const *rcpt, size_t n, struct sieve_plan *out);
/* Stores into user's INBOX (a redirect that could not be made must not lose the message). */
void sieve_plan_keep(struct sieve_plan *p, int64_t user);
/* Drops the reject notices (the refusal was an SMTP reply instead). */
void sieve_plan_drop_notices(struct sieve_plan *p);
void sieve_plan_clear(struct sieve_plan *p);

/* Fills r->msg for committer_submit (sender <>, the INBOX or the queue). */
void sieve_reply_msg(struct sieve_reply *r);
void sieve_reply_free(struct sieve_reply *r);

#endif
