/*
 * tlsrpt_report — SMTP TLS reports from Pigeon's queue (RFC 8460): the outcome of every
 * outbound TLS attempt is kept in DATA/tlsrpt/YYYY-MM-DD (queue/tlsrpt_note.c); a day's file
 * becomes one JSON report per recipient (policy) domain, printed (`pigeon tlsrpt report`) or
 * mailed, gzipped as application/tlsrpt+gzip and DKIM-signed, to the mailto: addresses of the
 * domain's "_smtp._tls" record (looked up over the DNS stub; domains without one get none).
 * pigeond sends yesterday's once a day with the DMARC reports (dmarc_daily.c).
 */
#ifndef PIGEON_MAILAUTH_SERVICE_TLSRPT_REPORT_H
#define PIGEON_MAILAUTH_SERVICE_TLSRPT_REPORT_H

#include "mailauth/service/dmarc_report.h"

/* The day's reports as JSON documents appended to out (print mode): how many, or
 * ERR_NOTFOUND when the day has no history. p->email is the contact-info. */
int mailauth_tlsrpt_print(const struct dmarc_run_params *p, struct str *out);

/* Mails them (p's stub, signer, queue and done as for DMARC). 0, or ERR_NOTFOUND. */
int mailauth_tlsrpt_send(const struct dmarc_run_params *p);

#endif
