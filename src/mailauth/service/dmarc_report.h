/*
 * dmarc_report — DMARC aggregate reports from Pigeon's MX role (RFC 7489 §7.2, DMARCbis
 * aggregate reporting): each checked message whose author domain publishes a DMARC record
 * is appended to DATA/dmarc/YYYY-MM-DD (its UTC day; mailauth/dmarc_agg.h's line); a day's
 * file becomes one report per policy domain, printed (`pigeon dmarc report`) or mailed to the
 * domain's rua= addresses (after the §7.1 external-destination check over the DNS stub),
 * gzipped, DKIM-signed by the From domain's key. pigeond sends yesterday's reports once a
 * day from worker 0; DATA/dmarc/YYYY-MM-DD.sent records that they went.
 *
 * Blocks on small file I/O (the history append, the day's file read).
 */
#ifndef PIGEON_MAILAUTH_SERVICE_DMARC_REPORT_H
#define PIGEON_MAILAUTH_SERVICE_DMARC_REPORT_H

#include "core/str.h"
#include "mailauth/check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dns_stub;
struct psl;
struct dkim_signer;

/* [dmarc_report] */
struct config_dmarc_report {
    bool record;    /* keep the per-message history */
    bool send;      /* pigeond mails yesterday's reports once a day */
    bool tlsrpt_send; /* ... and yesterday's TLS-RPT reports (tlsrpt_report.h) */
    char *org_name; /* default [server] hostname */
    char *email;    /* contact and From address; default postmaster@[server] primary_domain */
    unsigned check_interval; /* seconds between pigeond's looks for yesterday's unsent reports */
};

/* Appends what r says about one message (from ip, SPF as spf says) to data_dir's history of
 * now's UTC day, when its author domain has a DMARC record. Errors are logged. */
void mailauth_dmarc_record(const char *data_dir, const struct mailauth_report *r,
                           const struct mailauth_spf *spf, const char *ip, int64_t now);

struct dmarc_run_params {
    const char *data_dir;
    const char *day;         /* "YYYY-MM-DD" */
    const char *only_domain; /* NULL: every policy domain of the day */
    const struct psl *psl;
    const char *org_name, *email, *submitter;
    int64_t now;
    /* mail mode: */
    struct dns_stub *stub;
    const struct dkim_signer *signer; /* the email's domain key, NULL: unsigned */
    /* Takes one report mail (the message text is the callee's to keep or copy). */
    void (*queue)(void *ctx, const char *from, const char *to, struct str *msg);
    /* Runs once when every report was queued or skipped (queued: mails handed to queue). */
    void (*done)(void *ctx, size_t queued, size_t skipped);
    void *ctx;
};

/* The [dmarc_report] of a configuration (service.c; always present: defaults). */
struct config;
const struct config_dmarc_report *mailauth_dmarc_config(const struct config *cfg);

/* DATA/dmarc/DAY.sent: the day's reports went (written by whoever sent them). */
void mailauth_dmarc_mark_sent(const char *data_dir, const char *day);
bool mailauth_dmarc_was_sent(const char *data_dir, const char *day);

/* The day's reports as XML documents appended to out, one after the other (print mode).
 * Returns how many; ERR_NOTFOUND when the day has no history. */
int mailauth_dmarc_print(const struct dmarc_run_params *p, struct str *out);

/* Mails the day's reports (mail mode). 0 (done runs later, or already ran), or ERR_NOTFOUND
 * when the day has no history (done does not run). */
int mailauth_dmarc_send(const struct dmarc_run_params *p);

#endif
