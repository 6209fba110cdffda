/*
 * sasl — decoding of SASL PLAIN (RFC 4616) and LOGIN exchanges carried in base64.
 * Pure functions over bytes; no I/O. Credentials never go to the log.
 */
#ifndef PIGEON_AUTH_SASL_H
#define PIGEON_AUTH_SASL_H

#include <stddef.h>

#define SASL_FIELD_MAX 255

struct sasl_creds {
    char authzid[SASL_FIELD_MAX + 1]; /* "" when absent */
    char user[SASL_FIELD_MAX + 1];
    char pass[SASL_FIELD_MAX + 1];
};

/*
 * Decodes a base64 PLAIN response "[authzid] NUL authcid NUL passwd". Returns 0, or
 * ERR_PARSE (bad base64, wrong number of NULs, empty user or password — RFC 4616 §2 makes
 * both 1*SAFE) or ERR_RANGE (field or input too long). On error *out is wiped.
 */
int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out);

/* Decodes one base64 LOGIN step into a NUL-terminated field (no NULs inside allowed; may be
 * empty). Returns 0, ERR_PARSE, or ERR_RANGE when it does not fit in cap. */
int sasl_field_decode(const char *b64, size_t len, char *out, size_t cap);

/* Wipes a credentials struct (explicit_bzero). */
void sasl_creds_wipe(struct sasl_creds *c);

#endif
