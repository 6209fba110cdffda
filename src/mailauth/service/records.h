/*
 * records — a local domain's mail records (mailauth/mailrec.h) under a configuration: the MX,
 * SPF, DMARC and TLS-RPT records of [mail_dns], the published DKIM selectors (keys made
 * when asked), the MTA-STS policy id of [mta_sts], TLSA 3 1 1 of the server's certificate and
 * the SRV records of the mail services this configuration listens on. Shared by `pigeon
 * domain records|check` and the publisher. Blocks on small file I/O (keys, the
 * certificate; a new RSA key takes tens of milliseconds).
 */
#ifndef PIGEON_MAILAUTH_SERVICE_RECORDS_H
#define PIGEON_MAILAUTH_SERVICE_RECORDS_H

#include "core/str.h"

#include <stdbool.h>
#include <stdint.h>

struct config;
struct mailrec_set;

/*
 * Appends domain's records to out. create_keys: make the active DKIM key when missing (as
 * the signer would on first use). tlsa: include the TLSA records. 0, or < 0 with *err_out
 * (static or from the key store).
 */
int mailauth_records(const struct config *cfg, const char *domain, bool create_keys, bool tlsa,
                     struct mailrec_set *out, const char **err_out);

/* The MTA-STS policy file of this configuration (empty with [mta_sts] mode = none). */
void mailauth_sts_policy(const struct config *cfg, struct str *out);

/* SHA-256 of the SubjectPublicKeyInfo of the server's certificate ([server] tls_cert, or the
 * self-signed one, made when missing). 0, or < 0 with *err_out. */
int mailauth_cert_spki_sha256(const struct config *cfg, uint8_t out[32], const char **err_out);

#endif
