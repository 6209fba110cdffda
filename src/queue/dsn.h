/*
 * dsn — builds the delivery status notification (RFC 3464, multipart/report of RFC 6522)
 * sent back to a sender when a message cannot be delivered. Pure: bytes in, bytes out.
 */
#ifndef PIGEON_QUEUE_DSN_H
#define PIGEON_QUEUE_DSN_H

#include "core/str.h"

#include <stddef.h>
#include <time.h>

struct dsn_rcpt {
    const char *recipient;   /* final recipient address */
    const char *status;      /* "5.1.1" (from the reply, or derived from the code) */
    const char *remote_mta;  /* host that answered, or NULL */
    const char *diagnostic;  /* the remote reply, possibly several CRLF lines, or our reason */
    const char *action;      /* "failed" or "delayed" */
};

struct dsn_info {
    const char *reporting_mta;  /* our hostname */
    const char *sender;         /* the original envelope sender: the DSN goes to them */
    time_t arrival;             /* when the original message arrived */
    time_t now;
    const struct dsn_rcpt *rcpts;
    size_t n;
    const char *original;       /* the original message (returned in full up to max_return) */
    size_t original_len;
    size_t max_return;          /* beyond this, only the original's headers are returned */
    const char *boundary_seed;  /* unique text for the MIME boundary and Message-ID */
};

/* Appends the whole DSN message (headers, CRLF line ends) to out. */
void dsn_build(struct str *out, const struct dsn_info *info);

/* RFC 3463 status for a reply: its enhanced code if it has one, else from the basic code. */
void dsn_status_from_reply(int code, const char *reply_text, char *out, size_t cap);

#endif
