/*
 * url — the IMAP URLs CATENATE needs (RFC 4469 §5, RFC 5092): a message, or a section or
 * byte range of it, on this server, written as an absolute path:
 *
 *     /mailbox[;UIDVALIDITY=n]/;UID=m[/;SECTION=spec][/;PARTIAL=start[.count]]
 *
 * The mailbox and the section are percent-encoded UTF-8 (RFC 5092 §5); keys are matched
 * without regard to case. URLs naming another server ("imap://host/...") and URLAUTH-ed
 * URLs are not accepted: RFC 4469 §5 lets a server refuse them (NO [BADURL]), and without
 * URLAUTH there is no way to check that another user allowed the access.
 *
 * Pure: no I/O. The mailbox comes out in stored form (imap/mailbox_name.h), the section as
 * the text between BODY's brackets ("1.HEADER", "TEXT", ...: imap_section_parse reads it).
 */
#ifndef PIGEON_IMAP_URL_H
#define PIGEON_IMAP_URL_H

#include "core/str.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_URL_MAX 8192 /* bytes of one URL */

struct imap_url {
    struct str mailbox;   /* stored form */
    uint32_t uidvalidity; /* 0: not given */
    uint32_t uid;
    struct str section; /* decoded; empty: the whole message */
    bool partial;
    uint32_t start, count; /* PARTIAL: count UINT32_MAX when not given */
};

void imap_url_init(struct imap_url *u);
void imap_url_clear(struct imap_url *u);
/*
 * Parses s[0..n) into u (which must be initialised; it is reset first). Returns 0, or
 * ERR_PARSE with a static reason in *err_out.
 */
int imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **err_out);

#endif
