/*
 * addr — RFC 5321 mailbox and path parsing (with RFC 6531 UTF-8 when allowed).
 *
 * Pure functions over bytes: no I/O, no allocation, no globals. Output lives in the caller's
 * struct mail_addr (fixed-size buffers sized by the RFC limits).
 */
#ifndef PIGEON_MSG_ADDR_H
#define PIGEON_MSG_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define MAIL_LOCAL_MAX 64   /* RFC 5321 §4.5.3.1.1 */
#define MAIL_DOMAIN_MAX 255 /* RFC 5321 §4.5.3.1.2 */
#define MAIL_PATH_MAX 256   /* RFC 5321 §4.5.3.1.3, including the angle brackets */

struct mail_addr {
    char local[MAIL_LOCAL_MAX + 1];   /* local part with quoting and escapes removed */
    char domain[MAIL_DOMAIN_MAX + 1]; /* domain, or address literal with its brackets; "" if none */
    bool is_null;                     /* the null reverse-path "<>" */
    bool quoted;                      /* local part was a Quoted-string (needs quotes on output) */
    bool utf8;                        /* contains octets >= 0x80 */
};

enum mail_addr_flags {
    MAIL_ADDR_ALLOW_NULL = 1 << 0,       /* "<>" is accepted (MAIL FROM) */
    MAIL_ADDR_ALLOW_UTF8 = 1 << 1,       /* SMTPUTF8 was given: UTF-8 in local part and domain */
    MAIL_ADDR_ALLOW_POSTMASTER = 1 << 2, /* "<Postmaster>" without a domain (RCPT TO) */
    MAIL_ADDR_ALLOW_NO_BRACKETS = 1 << 3 /* accept "a@b" without <> as many MTAs do */
};

/*
 * Parses an RFC 5321 Path ("<" [A-d-l ":"] Mailbox ">") at the start of p[0..len).
 * Source routes (A-d-l) are accepted and ignored (RFC 5321 §4.1.2). *consumed_out gets the
 * number of bytes used (parameters may follow). Returns 0, or ERR_PARSE with a static
 * reason in *err_out; a non-ASCII address without MAIL_ADDR_ALLOW_UTF8 gives ERR_RANGE.
 */
int mail_addr_parse_path(const char *p, size_t len, unsigned flags, struct mail_addr *out,
                         size_t *consumed_out, const char **err_out);

/* Parses a whole bare "local@domain" (no brackets); the entire input must be consumed.
 * Empty input is the null address only with MAIL_ADDR_ALLOW_NULL. Same returns as above. */
int mail_addr_parse(const char *p, size_t len, unsigned flags, struct mail_addr *out,
                    const char **err_out);

/*
 * Writes "local@domain" (re-quoting the local part when it needs it; "" for the null path)
 * into buf, NUL-terminated. Returns the length, or the length needed if cap is too small.
 */
size_t mail_addr_format(const struct mail_addr *a, char *buf, size_t cap);

#endif
