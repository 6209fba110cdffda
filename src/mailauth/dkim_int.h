/*
 * dkim_int — what the DKIM signer and verifier share inside src/mailauth/.
 */
#ifndef PIGEON_MAILAUTH_DKIM_INT_H
#define PIGEON_MAILAUTH_DKIM_INT_H

#include "mailauth/dkim.h"

/*
 * Appends the §3.7 header hash input: the fields named in names[0..n) picked from the bottom
 * up (a name with no instance left adds nothing), canonicalised with c, then the signature
 * field sig_raw[0..sig_len) itself, canonicalised, without its final CRLF. skip is the index
 * of the signature field in m (never picked for h=), or m->nf.
 */
void dkim_header_input(enum dkim_canon c, const char (*names)[80], size_t n,
                       const struct mailauth_msg *m, size_t skip, const char *sig_raw,
                       size_t sig_len, struct str *out);

/* SHA-256 of the canonical body, cut to limit bytes when has_limit; *canon_len_out gets the
 * full canonical length. */
void dkim_body_hash(enum dkim_canon c, const struct mailauth_msg *m, bool has_limit,
                    uint64_t limit, unsigned char out[32], size_t *canon_len_out);

#endif
