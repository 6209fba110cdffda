/*
 * dkim_int — what the DKIM signer and verifier share inside src/mailauth/.
 */
#ifndef PIGEON_MAILAUTH_DKIM_INT_H
#define PIGEON_MAILAUTH_DKIM_INT_H

#include "mailauth/dkim.h"

#include <openssl/evp.h>

/* A domain's private key, selector and algorithm (DKIM signing and ARC sealing). */
struct dkim_signer {
    EVP_PKEY *pk;
    enum dkim_alg alg;
    char domain[254];
    char selector[64];
};

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

/* The h= list Pigeon signs for m (§5.4.1's fields that are present; From, To and Subject
 * over-signed) into names[0..DKIM_MAX_H); returns how many. */
size_t dkim_pick_names(const struct mailauth_msg *m, char (*names)[80]);

/* Appends text to the field being built, folding (CRLF TAB) before it when the line would
 * pass 76 columns; *col is the current column. */
void dkim_fold_append(struct str *f, size_t *col, const char *text);

/* Appends the field f with the value of its b= tag deleted (§3.7) to out. 0, or -1 when the
 * field's tag list does not parse or has no b=. */
int dkim_blank_b(const struct mailauth_field *f, struct str *out);

/* Parses the tag list of a DKIM-Signature (arc false) or an ARC-Message-Signature (RFC 8617
 * §4.1.2; arc true: no v=, i= is the instance into *instance, ARC-Seal may not be in h=). */
int dkim_sig_parse_any(const char *value, size_t len, bool arc, struct dkim_sig *out,
                       unsigned *instance, const char **err_out);

/* Tag values shared by DKIM and ARC: base64 with folding white space decoded into
 * out[0..cap); a name without white space, lower-cased into out[0..cap); a= into *alg
 * (rsa-sha1 refused, RFC 8301). 0 or ERR_PARSE. */
int dkim_tag_b64(struct slice v, unsigned char *out, size_t cap, size_t *n);
int dkim_tag_name(struct slice v, char *out, size_t cap);
int dkim_tag_alg(struct slice v, enum dkim_alg *alg, const char **err_out);

#endif
