/*
 * sts — MTA-STS (RFC 8461) for the outbound queue: a domain's policy discovered through its
 * `_mta-sts` TXT record, fetched from https://mta-sts.DOMAIN/.well-known/mta-sts.txt with
 * the certificate verified (system trust store: OpenSSL's default paths, SSL_CERT_FILE), kept
 * in memory for max_age and fetched again when the record's id changes (§5.1). The parsing
 * and MX matching are mailauth/mtasts.c; delivery.c applies the policy.
 *
 * Lives on the runner's loop (one thread). sts_free abandons what is pending (callbacks never
 * called); it runs at shutdown, after which the loop does not run again.
 */
#ifndef PIGEON_QUEUE_STS_H
#define PIGEON_QUEUE_STS_H

#include "mailauth/mtasts.h"
#include "mailauth/tlsrpt.h"

#include <openssl/ssl.h>
#include <stdint.h>

struct event_base;
struct dns_stub;
struct sts;

struct sts *sts_new(struct event_base *base, struct dns_stub *stub);
void sts_free(struct sts *s);

/* The verifying client context (default trust store), for STARTTLS under a policy. */
SSL_CTX *sts_tls(struct sts *s);

/* p: the domain's policy, or NULL when it has none (or none could be had: §5.1 then sends
 * as without a policy). Valid during the call only. fail: TLSRPT_SUCCESS, or why a domain
 * that publishes an _mta-sts record gave no fresh policy (RFC 8460 §4.3.2.2:
 * sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid); p is then the cached
 * policy while it lasts, or NULL. */
typedef void (*sts_cb)(void *arg, const struct mtasts_policy *p, enum tlsrpt_result fail);

/* Finds domain's policy; cb runs on the loop, later or inside this call. now: unix seconds. */
void sts_get(struct sts *s, const char *domain, int64_t now, sts_cb cb, void *arg);

#endif
