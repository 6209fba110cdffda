/*
 * tls — OpenSSL server contexts for the mail listeners, and the self-signed certificate
 * pigeond makes on first start when the config names none (DESIGN.md §8).
 */
#ifndef PIGEON_CORE_TLS_H
#define PIGEON_CORE_TLS_H

#include "core/str.h"

#include <openssl/ssl.h>

/*
 * Makes sure DIR/cert.pem and DIR/key.pem exist, creating a self-signed certificate for
 * `hostname` (EC P-256, 10 years) when they do not. Writes the key with mode 0600.
 * Returns 0 or a negative ERR_* with the reason in err.
 */
int tls_selfsigned_ensure(const char *dir, const char *hostname, struct str *err);

/* Server context (TLS 1.2+) from PEM files. Caller frees with SSL_CTX_free. */
SSL_CTX *tls_server_ctx_new(const char *cert_file, const char *key_file, struct str *err);

#endif
