/*
 * tls_reload — the server certificate as a value that can change while pigeond runs: a
 * certificate callback on the server SSL_CTX hands every new handshake the pair loaded last,
 * so `kill -HUP` (after certbot renewed the files) gives new connections the new certificate
 * while sessions already established keep theirs. With a directory of pairs, the
 * certificate is chosen per handshake by the name the client sends (SNI, RFC 6066). The pair is swapped under a mutex;
 * handshakes take their own references (X509/EVP_PKEY up-refs), so the old pair lives as long
 * as a handshake still uses it.
 */
#ifndef PIGEON_CORE_TLS_RELOAD_H
#define PIGEON_CORE_TLS_RELOAD_H

#include "core/str.h"

#include <openssl/ssl.h>

struct tls_reload;

/* Loads cert_file (leaf then chain, PEM) and key_file, checks they match, plus, when dir is
 * not NULL, every NAME.crt/NAME.key pair in dir, offered by SNI to clients asking for a name
 * its certificate covers; installs the callback on ctx. Paths are copied. NULL with err
 * filled on failure. */
struct tls_reload *tls_reload_new(SSL_CTX *ctx, const char *cert_file, const char *key_file,
                                  const char *dir, struct str *err);
/* Adds a service's own pair (an HTTP site's tls_cert/tls_key), offered by SNI like dir's
 * (and before them) and re-read with them. 0, or < 0 with err filled (nothing added). Main
 * thread, before the workers start. */
int tls_reload_add(struct tls_reload *r, const char *cert_file, const char *key_file,
                   struct str *err);
/* Reads the files again; on success new handshakes use the new pair. On failure the old pair
 * stays and err says why. Blocks on file reads; any thread. 0 or < 0. */
int tls_reload_files(struct tls_reload *r, struct str *err);
/* SHA-256 fingerprint of the current leaf, "AB:CD:..." (for the log). */
void tls_reload_fingerprint(struct tls_reload *r, char *out, size_t cap);
void tls_reload_free(struct tls_reload *r);

#endif
