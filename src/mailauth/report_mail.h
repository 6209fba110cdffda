/*
 * report_mail — the mail that carries an aggregate report (DMARC, RFC 7489 §7.2.1.1 and
 * DMARCbis; TLS-RPT, RFC 8460 §5.3): "Report Domain: D Submitter: S Report-ID: <ID>" as the
 * Subject, a short text part and the gzipped report as a base64 attachment. Pure, no I/O.
 */
#ifndef PIGEON_MAILAUTH_REPORT_MAIL_H
#define PIGEON_MAILAUTH_REPORT_MAIL_H

#include "core/str.h"

#include <stddef.h>
#include <stdint.h>

struct report_mail {
    const char *from, *to;
    const char *domain, *submitter, *report_id;
    const char *extra_headers; /* complete header lines (CRLF-ended), or NULL */
    const char *multipart;     /* "mixed", or e.g. "report; report-type=\"tlsrpt\"" */
    const char *text;          /* the human-readable part, one line */
    const char *attach_type;   /* "application/gzip", "application/tlsrpt+gzip" */
    const char *filename;
    const unsigned char *data; /* the attachment */
    size_t len;
    int64_t now;               /* the Date field */
};

/* Appends the whole message (header and body, CRLF line ends) to out. */
void mailauth_report_mail(const struct report_mail *m, struct str *out);

/* gzip (RFC 1952) of data[0..len) appended to out. 0 or ERR_IO. */
int mailauth_gzip(const void *data, size_t len, struct str *out);

#endif
