/*
 * sasl — PLAIN (RFC 4616) and LOGIN field decoding. Decoded secrets sit in a stack buffer
 * that is wiped before returning.
 */
#include "auth/sasl.h"

#include "core/err.h"
#include "msg/base64.h"

#include <string.h>

/* Three fields of SASL_FIELD_MAX plus two NULs, base64-encoded, is the longest sane input. */
#define SASL_DECODED_MAX (3u * SASL_FIELD_MAX + 2u)
#define SASL_B64_MAX ((SASL_DECODED_MAX + 2u) / 3u * 4u)

static int field_copy(const unsigned char *s, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return ERR_RANGE;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* Splits "authzid NUL authcid NUL passwd" (RFC 4616 §2) into out. */
static int plain_split(const unsigned char *buf, size_t n, struct sasl_creds *out)
{
    const unsigned char *nul1 = memchr(buf, '\0', n);
    if (!nul1)
        return ERR_PARSE;
    size_t a = (size_t)(nul1 - buf);
    const unsigned char *nul2 = memchr(nul1 + 1, '\0', n - a - 1);
    if (!nul2)
        return ERR_PARSE;
    size_t u = (size_t)(nul2 - nul1 - 1);
    size_t p = n - a - u - 2;
    /* authcid = 1*SAFE, passwd = 1*SAFE: empty ones and a third NUL are malformed. */
    if (u == 0 || p == 0 || memchr(nul2 + 1, '\0', p) != NULL)
        return ERR_PARSE;
    int rc = field_copy(buf, a, out->authzid, sizeof out->authzid);
    if (rc == 0)
        rc = field_copy(nul1 + 1, u, out->user, sizeof out->user);
    if (rc == 0)
        rc = field_copy(nul2 + 1, p, out->pass, sizeof out->pass);
    return rc;
}

int sasl_plain_decode(const char *b64, size_t len, struct sasl_creds *out)
{
    unsigned char buf[SASL_B64_MAX / 4 * 3 + 3];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (len > SASL_B64_MAX)
        return ERR_RANGE;
    int rc = base64_decode(b64, len, buf, &n);
    if (rc == 0)
        rc = plain_split(buf, n, out);
    explicit_bzero(buf, sizeof buf);
    if (rc < 0)
        sasl_creds_wipe(out);
    return rc;
}

int sasl_field_decode(const char *b64, size_t len, char *out, size_t cap)
{
    unsigned char buf[SASL_B64_MAX / 4 * 3 + 3];
    size_t n = 0;
    if (cap > 0)
        out[0] = '\0';
    if (len > SASL_B64_MAX)
        return ERR_RANGE;
    int rc = base64_decode(b64, len, buf, &n);
    if (rc == 0 && memchr(buf, '\0', n) != NULL)
        rc = ERR_PARSE;
    if (rc == 0)
        rc = field_copy(buf, n, out, cap);
    explicit_bzero(buf, sizeof buf);
    return rc;
}

void sasl_creds_wipe(struct sasl_creds *c)
{
    explicit_bzero(c, sizeof *c);
}
