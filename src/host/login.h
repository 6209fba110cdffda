/*
 * login — the password check every service shares: the hash is verified on the auth pool
 * (yescrypt takes tens of milliseconds), unknown users are verified against a dummy hash so
 * timing does not reveal them; the throttle (auth/throttle.h) counts failures per address and
 * account, and its delay is waited before hashing, so a guess costs its delay however many
 * connections carry guesses at once.
 */
#ifndef PIGEON_HOST_LOGIN_H
#define PIGEON_HOST_LOGIN_H

#include <stdbool.h>

struct conn;
struct config_access;

/* cb(arg, ok, canonical_user) runs on the connection's worker; conn_resume(c) follows it. */
typedef void (*host_login_cb)(void *arg, bool ok, const char *canonical_user);
void host_login(struct conn *c, const char *user, const char *pass, host_login_cb cb, void *arg);

/* Whether a session of a [pop3]/[imap]-style section may send a password before TLS, by its
 * plaintext_auth (no, loopback, yes) and the peer's address (text). */
bool host_plaintext_ok(const struct config_access *cfg, const char *peer);

#endif
