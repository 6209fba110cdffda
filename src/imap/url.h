/*
 * url — IMAP URLs (RFC 5092) of messages on this server, or of a section or byte range of
 * one, as CATENATE (RFC 4469 §5) and URLAUTH (RFC 4467) use them. Two forms:
 *
 *     /mailbox[;UIDVALIDITY=n]/;UID=m[/;SECTION=spec][/;PARTIAL=start[.count]]
 *     imap://user@host/mailbox[;UIDVALIDITY=n]/;UID=m[/;SECTION=..][/;PARTIAL=..]
 *            [;EXPIRE=date-time][;URLAUTH=access[:mechanism:token]]
 *
 * The first names a message of the session's own user; the second names its owner (the
 * user, with "@host" appended when the user part holds no "@", this server's users being
 * addresses) and may carry URLAUTH: the part up to the access identifier is the "rump" the
 * token signs (RFC 4467 §3). Mailbox, section and user are percent-encoded UTF-8 (RFC 5092
 * §5); keys are matched without regard to case; the host is not checked here (a token only
 * verifies with the owner's key, and a URL without one must name the session's own user).
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

/* RFC 4467 §3: who may use a URLAUTH-authorized URL. */
enum imap_url_access {
    IMAP_URL_ACCESS_NONE,      /* no ;URLAUTH= */
    IMAP_URL_ACCESS_USER,      /* "user+name": that user */
    IMAP_URL_ACCESS_SUBMIT,    /* "submit+name": a submission server acting for name */
    IMAP_URL_ACCESS_AUTHUSER,  /* any authenticated user of this server */
    IMAP_URL_ACCESS_ANONYMOUS, /* anyone */
};

struct imap_url {
    struct str mailbox;   /* stored form */
    uint32_t uidvalidity; /* 0: not given */
    uint32_t uid;
    struct str section; /* decoded; empty: the whole message */
    bool partial;
    uint32_t start, count; /* PARTIAL: count UINT32_MAX when not given */
    /* the imap:// form */
    bool absolute;
    struct str owner; /* decoded "user@host" (or the user when it has an "@") */
    /* URLAUTH (RFC 4467) */
    int64_t expire; /* ;EXPIRE= as Unix time; 0: none */
    enum imap_url_access access;
    struct str access_user; /* decoded, for USER and SUBMIT */
    size_t rump_len;        /* bytes of the URL up to the end of the access identifier */
    struct str mech;        /* "INTERNAL", ...; empty: a rump URL (no token) */
    struct str token;       /* the hex token after the mechanism */
};

void imap_url_init(struct imap_url *u);
void imap_url_clear(struct imap_url *u);
/*
 * Parses s[0..n) into u (which must be initialised; it is reset first). Returns 0, or
 * ERR_PARSE with a static reason in *err_out.
 */
int imap_url_parse(const char *s, size_t n, struct imap_url *u, const char **err_out);
/*
 * Appends to out what u's section and partial range name of the message msg[0..len) (the
 * whole message when u has neither). False when the section does not parse or names no part
 * of this message.
 */
bool imap_url_content(const struct imap_url *u, const char *msg, size_t len, struct str *out);

#endif
