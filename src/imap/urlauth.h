/*
 * urlauth — the INTERNAL mechanism of URLAUTH (RFC 4467 §6): a URL's token is HMAC-SHA256 of
 * its rump (the URL up to the end of its access identifier, byte for byte as written) under
 * the named mailbox's 256-bit access key (store/imap_urlauth.h), as 64 lower-case hex digits.
 * The key never leaves the server, so a token cannot be made without GENURLAUTH and RESETKEY
 * revokes every URL of the mailbox. Shared by the IMAP engine (GENURLAUTH, URLFETCH,
 * CATENATE) and the submission server's BURL (RFC 4468). Pure: no I/O.
 */
#ifndef PIGEON_IMAP_URLAUTH_H
#define PIGEON_IMAP_URLAUTH_H

#include "imap/url.h"

#include <stdbool.h>
#include <stddef.h>

#define IMAP_URLAUTH_KEY_LEN 32   /* bytes of a mailbox access key */
#define IMAP_URLAUTH_TOKEN_HEX 64 /* hex digits of an INTERNAL token */

/* The INTERNAL token of rump[0..n) under key into out (NUL-terminated). */
void imap_urlauth_token(const unsigned char key[IMAP_URLAUTH_KEY_LEN], const char *rump, size_t n,
                        char out[IMAP_URLAUTH_TOKEN_HEX + 1]);

/*
 * True when u (parsed from raw) carries the INTERNAL mechanism and the token key makes for its
 * rump (hex digits in either case; compared in constant time).
 */
bool imap_urlauth_token_ok(const struct imap_url *u, const char *raw,
                           const unsigned char key[IMAP_URLAUTH_KEY_LEN]);

#endif
