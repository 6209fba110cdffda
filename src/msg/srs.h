/*
 * srs — the Sender Rewriting Scheme for forwarded mail (the SRS0 form of Shevek's scheme, as
 * libsrs2 and postsrsd write it): a message forwarded from our domain to a remote one gets the
 * envelope sender "SRS0=HHHH=TT=orig-domain=orig-local@our-domain", so SPF at the next hop
 * checks our domain, and a bounce sent to that address comes back to us and can be returned to
 * the original sender. TT is the day (base32, modulo 1024), HHHH the first four base64
 * characters of HMAC-SHA1(secret, lower(TT orig-domain orig-local)): a forged or stale
 * address is refused, so the reverse path is no open relay. Pure: the time and the secret are
 * arguments; no I/O.
 */
#ifndef PIGEON_MSG_SRS_H
#define PIGEON_MSG_SRS_H

#include <stddef.h>
#include <stdint.h>

#define SRS_MAX_AGE_DAYS 21 /* how long a rewritten address is accepted back */

/* Rewrites sender ("local@domain") for forwarding through srs_domain into out.
 * 0, ERR_PARSE (not an address) or ERR_RANGE (out too small). */
int srs_forward(const void *secret, size_t secret_len, int64_t now, const char *sender,
                const char *srs_domain, char *out, size_t cap);

/* The original sender of an SRS0 local part (the part before "@our-domain") into out.
 * 0; ERR_NOTFOUND when local is not an SRS0 address; ERR_AUTH when its hash is wrong or it
 * is older than SRS_MAX_AGE_DAYS; ERR_RANGE when out is too small. */
int srs_reverse(const void *secret, size_t secret_len, int64_t now, const char *local, char *out,
                size_t cap);

#endif
