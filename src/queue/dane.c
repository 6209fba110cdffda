/*
 * dane — DANE for SMTP (RFC 7672): see dane.h.
 */
#include "queue/dane.h"

#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

/* §3.1.3: only DANE-TA(2) and DANE-EE(3); RFC 6698 §2.1.2-2.1.3: selector and matching type,
 * a digest of its own length. */
static bool usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len)
{
    if ((usage != 2 && usage != 3) || selector > 1 || len == 0)
        return false;
    return mtype == 0 || (mtype == 1 && len == 32) || (mtype == 2 && len == 64);
}

enum dane_state dane_usable(const struct dns_stub_rdata *rr, size_t n, struct dane_tlsa *out,
                            size_t *nout)
{
    *nout = 0;
    for (size_t i = 0; i < n && *nout < DANE_MAX; i++) {
        const uint8_t *d = rr[i].data;
        if (rr[i].len < 4 || !usable(d[0], d[1], d[2], rr[i].len - 3u))
            continue;
        struct dane_tlsa *t = &out[(*nout)++];
        *t = (struct dane_tlsa){d[0], d[1], d[2], (uint16_t)(rr[i].len - 3u),
                                xmemdup(d + 3, rr[i].len - 3u)};
    }
    return *nout ? DANE_VERIFY : DANE_TLS_ONLY;
}

void dane_tlsa_clear(struct dane_tlsa *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].data);
        t[i].data = NULL;
    }
}

SSL_CTX *dane_ctx_new(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_dane_enable(ctx) <= 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int dane_ssl_setup(SSL *ssl, const char *host, const struct dane_tlsa *t, size_t n)
{
    if (SSL_dane_enable(ssl, host) <= 0)
        return -1;
    /* §3.2.3: a DANE-TA chain must name the MX host; DANE-EE names are not checked */
    SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    size_t added = 0;
    for (size_t i = 0; i < n; i++)
        added += SSL_dane_tlsa_add(ssl, t[i].usage, t[i].selector, t[i].mtype, t[i].data,
                                   t[i].len) > 0;
    if (!added)
        return -1;
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    return 0;
}

int dane_matched_usage(SSL *ssl)
{
    uint8_t usage, selector, mtype;
    const unsigned char *data;
    size_t len;
    return SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &len) >= 0 ? usage : -1;
}
