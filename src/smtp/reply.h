/*
 * reply — parse SMTP server replies (RFC 5321 §4.2), single- and multi-line, incrementally.
 * Pure: no I/O, no clock. The outbound client feeds it whatever bytes arrive.
 */
#ifndef PIGEON_SMTP_REPLY_H
#define PIGEON_SMTP_REPLY_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>

#define SMTP_REPLY_LINE_MAX 2048 /* longer lines are cut, not refused: a reply is still a reply */
#define SMTP_REPLY_LINES_MAX 100

struct smtp_reply {
    int code;           /* 200..599 */
    char enh[16];       /* enhanced status code "5.1.1" from the first line, "" if none */
    struct str text;    /* text of all lines joined by '\n', without codes */
    struct str lines;   /* the raw lines as received (for the DSN), CRLF-terminated */
    unsigned nlines;
    /* parser state */
    struct str partial;
};

void smtp_reply_init(struct smtp_reply *r);
void smtp_reply_clear(struct smtp_reply *r);
/*
 * Consumes p[0..n). Returns 1 when a complete reply is in r (*used_out says how many bytes
 * it took; call smtp_reply_reset before feeding the rest), 0 when it used everything and
 * needs more, -1 when the peer sent something that is not an SMTP reply.
 */
int smtp_reply_feed(struct smtp_reply *r, const char *p, size_t n, size_t *used_out);
/* Forgets the last reply (keeps allocations). */
void smtp_reply_reset(struct smtp_reply *r);
/* True when the text of any line starts with keyword (EHLO keyword lookup), e.g. "STARTTLS". */
bool smtp_reply_has_keyword(const struct smtp_reply *r, const char *keyword);

#endif
