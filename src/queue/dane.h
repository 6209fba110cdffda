/*
 * dane — DANE for SMTP (RFC 7672), the sending side's decisions and its TLS set-up.
 *
 * When the MX answer was validated (AD), each MX host's TLSA records are looked up at
 * _PORT._tcp.HOST (delivery.c). A validated answer with records makes TLS mandatory for that
 * host (§2.2: no plaintext fallback, whatever the STARTTLS offer says). Of its records only
 * DANE-TA(2) and DANE-EE(3) are used (§3.1.3: PKIX-TA/EE are not for SMTP), with selector
 * 0/1 and matching type 0/1/2 of the right length; when none is usable the connection is
 * still encrypted but not authenticated (§2.2). The certificate is matched by OpenSSL's DANE
 * code (SSL_dane_enable / SSL_dane_tlsa_add): DANE-EE ignores the names and dates of the
 * certificate (§3.1.1), DANE-TA checks the MX host name (§3.2.3).
 */
#ifndef PIGEON_QUEUE_DANE_H
#define PIGEON_QUEUE_DANE_H

#include "dns/resolver/stub.h"

#include <openssl/ssl.h>
#include <stddef.h>
#include <stdint.h>

#define DANE_MAX 8 /* usable TLSA records kept per host */

enum dane_state {
    DANE_NONE,     /* no validated TLSA records: opportunistic TLS as configured */
    DANE_TLS_ONLY, /* validated records, none usable: TLS required, not authenticated */
    DANE_VERIFY,   /* validated usable records: TLS required and the certificate matched */
};

struct dane_tlsa {
    uint8_t usage, selector, mtype;
    uint16_t len;
    uint8_t *data; /* owned */
};

/* The usable records of a validated TLSA answer into out (at most DANE_MAX; *nout set).
 * Returns DANE_VERIFY when any, else DANE_TLS_ONLY. Malformed rdata is skipped. */
enum dane_state dane_usable(const struct dns_stub_rdata *rr, size_t n, struct dane_tlsa *out,
                            size_t *nout);

void dane_tlsa_clear(struct dane_tlsa *t, size_t n);

/* A client context with DANE enabled (SSL_CTX_dane_enable), TLS 1.2 or later. NULL on
 * failure. */
SSL_CTX *dane_ctx_new(void);

/* Makes ssl (from dane_ctx_new's context) authenticate host with the records: peer
 * verification on, the handshake fails unless one matches. 0, or -1. */
int dane_ssl_setup(SSL *ssl, const char *host, const struct dane_tlsa *t, size_t n);

/* After the handshake: the usage of the record that matched, or -1. */
int dane_matched_usage(SSL *ssl);

#endif
