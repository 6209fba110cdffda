/*
 * reports — aggregate reports received by mail (DMARC RFC 7489 §7.2, SMTP TLS RFC 8460),
 * kept in the received_reports table (schema version 10) in the same transaction as the
 * message that carried them (store_msg.reports), so a report is kept exactly when its
 * message is. A report sent twice (same kind, organisation and report id) is kept once.
 * Blocking SQLite calls on the caller's handle.
 */
#ifndef PIGEON_STORE_REPORTS_H
#define PIGEON_STORE_REPORTS_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct store_report {
    const char *kind;      /* "dmarc" or "tlsrpt" */
    const char *org;       /* the reporting organisation */
    const char *report_id; /* its id for the report */
    const char *domain;    /* the policy domain reported on */
    int64_t begin, end;    /* the period, unix seconds */
    const char *data;      /* the report in mailauth/rua.h's normalised JSON */
    /* Filled by store_report_list: */
    const char *msg_id; /* the message that carried it */
    int64_t received_at;
};

/* Inserts r (carried by message msg_id) unless kept already; caller holds the transaction.
 * 0 or ERR_DB. */
int store_report_insert(struct store *st, const struct store_report *r, const char *msg_id,
                        int64_t now);

/* Calls cb for every kept report of kind (newest period first), only domain's when domain is
 * not NULL, and only those whose period ends after since. The report's strings live for the
 * call. 0 or ERR_DB. */
int store_report_list(struct store *st, const char *kind, const char *domain, int64_t since,
                      void (*cb)(void *ctx, const struct store_report *r), void *ctx);

#endif
