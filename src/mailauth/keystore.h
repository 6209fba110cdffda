/*
 * keystore — DKIM private keys of the local domains, one PEM file per domain and selector:
 * DIR/DOMAIN/SELECTOR.pem, mode 0600. A missing key is generated when asked (Ed25519 or
 * 2048-bit RSA), written to a temporary file of its own (mkostemp), fsynced and linked into
 * place, so two threads or processes creating the same key at once both end up with the one
 * that won.
 *
 * Blocks on small file I/O (and, for a new RSA key, on key generation: a fraction of a
 * second); pigeond makes keys ahead on its key thread (service/keyprep.c) and keeps signers.
 */
#ifndef PIGEON_MAILAUTH_KEYSTORE_H
#define PIGEON_MAILAUTH_KEYSTORE_H

#include "mailauth/dkim.h"

#include <stdbool.h>

/*
 * The signer of domain/selector. create: generate the key with alg when the file is missing.
 * 0; ERR_NOTFOUND (missing, !create); ERR_IO / ERR_PARSE with *err_out.
 */
int dkim_keystore_load(const char *dir, const char *domain, const char *selector,
                       enum dkim_alg alg, bool create, struct dkim_signer **out,
                       const char **err_out);

/* Generates the key of domain/selector with alg when its file is missing (*made true then);
 * never reads an existing one. 0, or ERR_PARSE / ERR_IO with *err_out. For a thread that
 * may block for a key generation, ahead of the loads on event loops. */
int dkim_keystore_make(const char *dir, const char *domain, const char *selector,
                       enum dkim_alg alg, bool *made, const char **err_out);

struct dkim_sels;

/* The selector list of domain (DIR/DOMAIN/selectors, mailauth/dkim_rotate.h); a domain with
 * no file has dflt active. 0, or ERR_PARSE / ERR_IO with *err_out. */
int dkim_keystore_sels_load(const char *dir, const char *domain, const char *dflt,
                            struct dkim_sels *out, const char **err_out);

/* Writes the list (temporary file, fsync, rename). 0 or ERR_IO. */
int dkim_keystore_sels_save(const char *dir, const char *domain, const struct dkim_sels *sels);

/* "rsa" or "ed25519" into *out; 0 or ERR_PARSE. */
int dkim_alg_parse(const char *name, enum dkim_alg *out);

#endif
