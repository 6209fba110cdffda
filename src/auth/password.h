/*
 * password — crypt(3) password hashes (yescrypt, "$y$"), as stored in the users table.
 * Hashing is deliberately slow (tens of milliseconds): call it from a worker pool, never from
 * an event-loop thread. Thread-safe (crypt_r / crypt_ra).
 */
#ifndef PIGEON_AUTH_PASSWORD_H
#define PIGEON_AUTH_PASSWORD_H

/* *hash_out is malloc'd (caller frees). Returns 0 or ERR_IO when libcrypt fails. */
int password_hash(const char *password, char **hash_out);
/* 0 when password matches hash, ERR_AUTH when not (also for an unusable hash). */
int password_verify(const char *password, const char *hash);

#endif
